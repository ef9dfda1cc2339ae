"""The scenario: everything about one serving decision, as a validated pydantic model.

A scenario is a TOML (or JSON) file.  Every model forbids unknown keys, refuses NaN/inf and
strings for numbers, and bounds every number; field names carry their unit.  ``whatif schema``
prints the JSON Schema generated from these models.  ``schema_version`` is 1.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.catalog_schema import AcquisitionMode

SCENARIO_SCHEMA_VERSION = 1
NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
SlugRef = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9.\-]*$")]
#: A technique option: a slug, or slugs joined by '+' for a combined option (e.g. prefix+response).
OptionRef = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9.\-]*(\+[a-z0-9][a-z0-9.\-]*)*$")]
TechniqueName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class ModelChoice(Strict):
    """The base model: a catalog slug, or a path to a Hugging Face ``config.json``."""

    base: Annotated[str, Field(min_length=1, max_length=4096, description="catalog slug or path to config.json")]
    training_cost_usd: Annotated[
        float | None, Field(ge=0, le=1e12, description="what the base model cost to train (reported, not optimised)")
    ] = None
    training_tokens: Annotated[
        float | None, Field(gt=0, le=1e16, description="or: tokens it was trained on, priced as 6*N_active*D on "
                                                       "[training] hardware at its MFU")
    ] = None

    @model_validator(mode="after")
    def _one_training_figure(self) -> ModelChoice:
        if self.training_cost_usd is not None and self.training_tokens is not None:
            raise ValueError("give training_cost_usd or training_tokens, not both")
        return self


class Quality(Strict):
    metric: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", description="benchmark the quality scale is on")] = "mmlu"
    max_drop: Annotated[float, Field(ge=0, le=100, description="points below the base model allowed, every class")] = 1.0
    base_score: Annotated[
        float | None, Field(ge=0, le=100, description="the base model's score on the metric (default: catalog)")
    ] = None


class Workload(Strict):
    """One request class."""

    name: Name
    queries_per_day: Annotated[float, Field(gt=0, le=1e13)]
    input_tokens: Annotated[int, Field(ge=1, le=10_000_000)]
    output_tokens: Annotated[int, Field(ge=1, le=1_000_000)]
    ttft_ms: Annotated[float, Field(ge=1, le=3_600_000, description="time-to-first-token target, ms")]
    tpot_ms: Annotated[float, Field(ge=0.1, le=60_000, description="time-per-output-token target, ms")]
    shared_prefix_tokens: Annotated[int, Field(ge=0, le=10_000_000, description="prompt tokens shared across requests")] = 0
    repeat_rate: Annotated[float, Field(ge=0, lt=1, description="share of queries repeating an earlier one")] = 0.0
    max_quality_drop: Annotated[float | None, Field(ge=0, le=100, description="overrides quality.max_drop")] = None

    @model_validator(mode="after")
    def _prefix_within_prompt(self) -> Workload:
        if self.shared_prefix_tokens > self.input_tokens:
            raise ValueError(
                f"shared_prefix_tokens ({self.shared_prefix_tokens}) exceeds input_tokens ({self.input_tokens})"
            )
        return self


class Horizon(Strict):
    months: Annotated[int, Field(ge=1, le=240)] = 36
    period_months: Annotated[int, Field(ge=1, le=60)] = 3
    growth_per_year: Annotated[float, Field(ge=-0.99, le=100, description="+1.0 = doubles each year")] = 0.0
    peak_to_average: Annotated[float, Field(ge=1, le=100)] = 1.0
    discount_rate_per_year: Annotated[float, Field(ge=0, le=1)] = 0.0

    @model_validator(mode="after")
    def _periods_divide(self) -> Horizon:
        if self.months % self.period_months:
            raise ValueError(f"period_months ({self.period_months}) must divide months ({self.months})")
        return self


class Market(Strict):
    hardware: Annotated[list[SlugRef] | None, Field(description="hardware slugs; omitted = every catalog entry")] = None
    modes: Annotated[list[AcquisitionMode], Field(min_length=1)] = ["on-demand"]
    quota_gpus: Annotated[
        dict[SlugRef, Annotated[int, Field(ge=0, le=10_000_000)]],
        Field(description="most GPUs of a type usable in any period (all modes together)"),
    ] = {}
    power_cap_kw: Annotated[float | None, Field(gt=0, le=1e7, description="cap on owned GPUs' facility power, kW")] = None
    budget_usd: Annotated[float | None, Field(gt=0, le=1e13, description="cap on the lifetime cost (present value)")] = None
    electricity_usd_per_kwh: Annotated[float | None, Field(ge=0, le=10, description="default: catalog")] = None
    pue: Annotated[float | None, Field(ge=1, le=5, description="power usage effectiveness; default: catalog")] = None
    hosting_usd_per_kw_month: Annotated[float | None, Field(ge=0, le=10_000, description="default: catalog")] = None
    price_scale: Annotated[float, Field(gt=0, le=1000, description="multiplies every hardware price (what-ifs)")] = 1.0

    @model_validator(mode="after")
    def _unique(self) -> Market:
        for label, items in (("hardware", self.hardware or []), ("modes", self.modes)):
            dupes = sorted({x for x in items if items.count(x) > 1})
            if dupes:
                raise ValueError(f"duplicate {label}: {dupes}")
        if self.hardware is not None and not self.hardware:
            raise ValueError("hardware list is empty; omit it to allow every catalog entry")
        return self


class Training(Strict):
    """Where one-time work (distillation, conversion) is priced."""

    hardware: SlugRef = "h100-sxm"
    mfu: Annotated[float | None, Field(gt=0, le=1, description="model FLOPs utilisation; default from the catalog")] = None


class PlanOptions(Strict):
    max_variants: Annotated[int, Field(ge=1, le=100, description="variants that may serve traffic together")] = 1


class SolverOptions(Strict):
    name: Literal["highs", "cbc"] = "highs"
    threads: Annotated[int | None, Field(ge=1, le=256, description="solver threads (sweeps use 1 per process)")] = None
    time_limit_s: Annotated[float | None, Field(gt=0, le=86_400, description="default: catalog")] = None
    gap_rel: Annotated[float | None, Field(ge=0, le=0.5, description="relative MIP gap; default: catalog")] = None


class SweepTable(Strict):
    """A sweep kept in the scenario file (``whatif sweep`` uses it when no --vary is given)."""

    vary: dict[Annotated[str, Field(min_length=1, max_length=256)], Annotated[str, Field(min_length=1, max_length=4096)]] = {}
    zip: bool = False


class Distribution(Strict):
    """An input's uncertainty for Monte Carlo: uniform(low, high), triangular(low, mode, high),
    lognormal(median, sigma), normal(mean, sd) truncated to [low, high]."""

    dist: Literal["uniform", "triangular", "lognormal", "normal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    median: Annotated[float | None, Field(gt=0)] = None
    sigma: Annotated[float | None, Field(gt=0, le=10)] = None
    mean: float | None = None
    sd: Annotated[float | None, Field(gt=0)] = None

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        need = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "lognormal": ("median", "sigma"),
                "normal": ("mean", "sd", "low", "high")}[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError("mode must lie between low and high")
        if self.dist == "normal" and not (self.low <= self.mean <= self.high):  # type: ignore[operator]
            raise ValueError("mean must lie between low and high")
        return self


class Scenario(Strict):
    """One serving decision."""

    schema_version: Literal[1] = 1
    name: Name
    model: ModelChoice
    quality: Quality = Quality()
    workload: Annotated[list[Workload], Field(min_length=1, max_length=100)]
    horizon: Horizon = Horizon()
    market: Market = Market()
    training: Training = Training()
    plan: PlanOptions = PlanOptions()
    solver: SolverOptions = SolverOptions()
    sweep: SweepTable = SweepTable()
    uncertainty: Annotated[dict[Annotated[str, Field(min_length=1, max_length=256)], Distribution],
                           Field(description="Monte Carlo distributions per numeric field path")] = {}
    techniques: Annotated[
        dict[TechniqueName, Annotated[list[OptionRef], Field(min_length=1)]],
        Field(description="allowed options per technique; omitted = all its options"),
    ] = {}
    technique_settings: Annotated[
        dict[TechniqueName, dict[str, Any]],
        Field(description="per technique, the settings its plug-in accepts (validated by the plug-in)"),
    ] = {}

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be the integer {SCENARIO_SCHEMA_VERSION}, got {value!r}")
        return value

    @field_validator("workload")
    @classmethod
    def _unique_classes(cls, workload: list[Workload]) -> list[Workload]:
        names = [w.name for w in workload]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate workload names: {dupes}")
        return workload
