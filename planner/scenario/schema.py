"""The scenario: everything about one serving decision, as a validated pydantic model.

A scenario is a TOML (or JSON) file.  Every model forbids unknown keys, refuses NaN/inf and
strings for numbers, and bounds every number; field names carry their unit.  ``whatif schema``
prints the JSON Schema generated from these models.  ``schema_version`` is 1.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from planner.scenario.shapes import Buckets, Distribution, Measured, SweepTable
from planner.scenario.types import (
    MAX_CLASSES,
    MAX_QUERIES_PER_DAY,
    NAME_PATTERN,
    SCENARIO_SCHEMA_VERSION,
    AcquisitionMode,
    Name,
    OptionRef,
    ProviderRef,
    SlugRef,
    Strict,
    TechniqueName,
    TerminalValue,
)

__all__ = ["NAME_PATTERN", "SCENARIO_SCHEMA_VERSION", "AcquisitionMode", "Buckets", "Distribution", "Measured",
           "Name", "OptionRef", "ProviderRef", "Scenario", "SlugRef", "Strict", "SweepTable", "TechniqueName",
           "TerminalValue"]


#: Largest relative weight of one hour in a daily profile (weights are relative: any scale works).
MAX_PROFILE_WEIGHT = 1e6
#: Longest shape name (as every other name in a scenario).
MAX_NAME_LENGTH = 64
#: Most hardware slugs a market may list, as many as the providers it may list (duplicates and slugs the
#: catalog does not hold are refused anyway; the bound keeps a generated file from being read item by item).
MAX_MARKET_HARDWARE = 100


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
    metric: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=MAX_NAME_LENGTH,
                                  description="benchmark the quality scale is on")] = "mmlu"
    max_drop: Annotated[float, Field(ge=0, le=100, description="points below the base model allowed, every class")] = 1.0
    base_score: Annotated[
        float | None, Field(ge=0, le=100, description="the base model's score on the metric (default: catalog)")
    ] = None


class Workload(Strict):
    """One request class."""

    name: Name
    queries_per_day: Annotated[float, Field(gt=0, le=MAX_QUERIES_PER_DAY)]
    input_tokens: Annotated[int, Field(ge=1, le=10_000_000)]
    output_tokens: Annotated[int, Field(ge=1, le=1_000_000)]
    ttft_ms: Annotated[float, Field(ge=1, le=3_600_000, description="time-to-first-token target, ms")]
    tpot_ms: Annotated[float, Field(ge=0.1, le=60_000, description="time-per-output-token target, ms")]
    shared_prefix_tokens: Annotated[int, Field(ge=0, le=10_000_000, description="prompt tokens shared across requests")] = 0
    repeat_rate: Annotated[float, Field(ge=0, lt=1, description="share of queries repeating an earlier one")] = 0.0
    max_quality_drop: Annotated[float | None, Field(ge=0, le=100, description="overrides quality.max_drop")] = None
    min_replicas: Annotated[int, Field(ge=0, le=10_000, description=(
        "fewest replicas serving this class in every period (2 = N+1 for a class one replica can carry; "
        "with plan.disaggregation in each phase, prefill pools and decode pools each with the co-located "
        "replicas); 0 = no floor"))] = 0
    ttft_p99_ms: Annotated[float | None, Field(ge=1, le=3_600_000, description=(
        "99th-percentile time-to-first-token target, ms (a queueing model caps each replica's utilisation)"))] = None
    tpot_p99_ms: Annotated[float | None, Field(ge=0.1, le=60_000, description=(
        "99th-percentile time-per-output-token target, ms"))] = None
    profile: Annotated[list[float] | str | None, Field(description=(
        "daily load shape: 24 hourly weights (or 168 for a week, Monday 00:00 first), relative, each in "
        "[0, 1e6]; or the name of a catalog shape (whatif catalog list load_shapes); queries_per_day stays the "
        "daily total"))] = None
    allow_spot: Annotated[bool | None, Field(description=(
        "may run on spot GPUs (reclaimed with little notice, in-flight requests lost); default: deferrable "
        "classes yes, interactive classes no"))] = None
    deadline_hours: Annotated[float | None, Field(ge=1, le=168, description=(
        "deferrable (batch) class: each request may be served up to this many hours after it arrives, in "
        "any time slice within the deadline, at this class's latency targets"))] = None

    @field_validator("profile", mode="before")
    @classmethod
    def _profile_kind(cls, value: object) -> object:
        """Neither a list nor a name, or a list with an item that is no finite number, is refused here
        with one reason (pydantic tried both kinds and named each: ``profile.list[float].0: Input
        should be a valid number`` per item, then ``profile.str: Input should be a valid string``)."""
        kinds = "must be a list of 24 (or 168) hourly weights or a shape name"
        if value is not None and not isinstance(value, (list, str)):
            raise ValueError(f"{kinds}, got {value!r}")
        if isinstance(value, list):
            for hour, v in enumerate(value):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise ValueError(f"{kinds}; the weight of hour {hour} is {v!r}, not a finite number")
        return value

    @field_validator("profile")
    @classmethod
    def _profile_shape(cls, value: list[float] | str | None) -> list[float] | str | None:
        if isinstance(value, str):
            if not re.fullmatch(NAME_PATTERN, value) or len(value) > MAX_NAME_LENGTH:
                raise ValueError(f"'{value}' is not a shape name (lower-case letters, digits, '-' and '_')")
        elif isinstance(value, list):
            if len(value) not in (24, 168):
                raise ValueError(f"needs 24 hourly weights (or 168 for a week), got {len(value)}")
            bad = [(h, v) for h, v in enumerate(value) if not 0 <= v <= MAX_PROFILE_WEIGHT]
            if bad:
                h, v = bad[0]
                raise ValueError(f"weight of hour {h} is {v:g}: weights are relative loads in [0, {MAX_PROFILE_WEIGHT:g}]")
            if not any(v > 0 for v in value):
                raise ValueError("every weight is 0: the class would have no load")
        return value

    @field_validator("ttft_p99_ms", "tpot_p99_ms")
    @classmethod
    def _tail_not_below_mean(cls, value: float | None, info: ValidationInfo) -> float | None:
        mean = info.data.get(info.field_name.replace("_p99", "")) if info.field_name else None
        if value is not None and mean is not None and value < mean:
            raise ValueError(f"{value:.10g} ms is below the mean target {info.field_name.replace('_p99', '') if info.field_name else ''} "
                             f"({mean:.10g} ms): a 99th percentile cannot be under the mean")
        return value

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
    terminal_value: Annotated[TerminalValue, Field(description=(
        "how owned hardware and reservations are charged at the horizon's end: 'annuity' = each period "
        "inside the horizon pays its capital-recovery annuity (no end-of-horizon credit or cliff); "
        "'salvage' = cash as paid, owned hardware credited market.resale_fraction x book value at the end, "
        "reservation months past the horizon charged in full"))] = "annuity"

    @model_validator(mode="after")
    def _periods_divide(self) -> Horizon:
        if self.months % self.period_months:
            raise ValueError(f"period_months ({self.period_months}) must divide months ({self.months})")
        return self


class Market(Strict):
    hardware: Annotated[list[SlugRef] | None, Field(max_length=MAX_MARKET_HARDWARE, description=(
        "hardware slugs; omitted = every catalog entry"))] = None
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
    gpus_per_unit: Annotated[
        dict[AcquisitionMode, Annotated[int, Field(ge=1, le=1024)]],
        Field(description="GPUs acquired together per mode, e.g. {buy = 8} for 8-GPU servers; default: buy = the "
                          "platform's GPUs per server, other modes 1"),
    ] = {}
    providers: Annotated[list[ProviderRef] | None, Field(min_length=1, max_length=100, description=(
        "rent (on-demand, reserved) only from these catalog providers; omitted = every provider"))] = None
    useful_life_years: Annotated[float | None, Field(gt=0, le=30, description="owned hardware; default: catalog")] = None
    resale_fraction: Annotated[float | None, Field(ge=0, le=1, description=(
        "share of book value an owned GPU sells for at the horizon's end (terminal_value = 'salvage'); "
        "default: catalog"))] = None
    lead_time_months: Annotated[
        dict[AcquisitionMode, Annotated[int, Field(ge=0, le=240)]],
        Field(description="months from order to service per mode, e.g. {buy = 3}; default: catalog (buy), else 0"),
    ] = {}
    operations_fraction_per_year: Annotated[float | None, Field(ge=0, le=1, description=(
        "staff, support and software of owned hardware per year, as a share of its all-in capex; default: catalog"))] = None
    annual_failure_rate: Annotated[float | None, Field(ge=0, le=1, description=(
        "owned GPUs failing per GPU-year (spares are carried for them); default: catalog"))] = None
    repair_days: Annotated[float | None, Field(ge=0, le=365, description=(
        "days a failed owned GPU is out of service; default: catalog"))] = None
    spot_reclaims: Literal["whole", "expected"] = Field(default="expected", description=(
        "how a time slice's spot GPUs cover the chance kappa = (1 - spot_preemption_per_hour)^hours that each is "
        "kept through the slice: 'whole' counts kappa of a GPU each, so whole GPUs cover the expected reclaims "
        "(10 replicas through a 5-hour slice hold 11 spot GPUs); 'expected' counts each as one GPU and charges "
        "1/kappa of its price; reclaimed GPUs' restarts are charged either way; default: expected (a finance "
        "review prices the expected reclaims, not a whole GPU for a hundredth of one)"))
    spares: Literal["whole", "expected"] = Field(default="expected", description=(
        "how owned fleets cover the share u = annual_failure_rate x repair_days / 365.25 out for repair: "
        "'whole' holds whole spare GPUs of the type (owned or rented) so that the GPUs in service cover "
        "the replicas (8 owned GPUs serve 7 replicas when u > 0); 'expected' counts every owned GPU and "
        "charges each 1/(1 - u) of itself, the spare share as a pool shared with other fleets would price "
        "it (power caps and quotas count the GPUs held, not the pool's); default: expected ('whole' is "
        "the conservative posture: no capacity lost while a GPU is out)"))
    elastic_min_billed_hours: Annotated[float | None, Field(ge=0, le=24, description=(
        "hours an on-demand or spot GPU is billed at least each time it is started (a slice holds it for "
        "max(slice hours, this) a day); default: catalog (one minute)"))] = None
    reserved_discount: Annotated[
        dict[Literal["reserved-1y", "reserved-3y"], Annotated[float, Field(ge=0, lt=1)]],
        Field(description=(
            "reserved price = on-demand price x (1 - this) per term, e.g. {reserved-1y = 0.41}, for every provider "
            "that publishes no reserved row (your negotiated discount; sources disagree: AWS's p4d list 36.6 % / "
            "57.3 %, Epoch's DEFAULT_CUD 41 % / 64 %); default: catalog, by provider kind")),
    ] = {}
    spot_discount: Annotated[float | None, Field(ge=0, lt=1, description=(
        "spot price = on-demand price x (1 - this), where a provider publishes no spot row; default: catalog"))] = None
    spot_preemption_per_hour: Annotated[float | None, Field(ge=0, le=1, description=(
        "probability that a spot GPU is reclaimed within any hour: a slice of H hours keeps it with probability "
        "(1 - this)^H, and its capacity counts that much; default: catalog"))] = None
    spot_restart_hours: Annotated[float | None, Field(ge=0, le=24, description=(
        "GPU-hours at the on-demand price to replace a reclaimed spot GPU (new instance, model load); "
        "default: catalog"))] = None

    @model_validator(mode="after")
    def _unique(self) -> Market:
        lists: tuple[tuple[str, list[str]], ...] = (("hardware", list(self.hardware or [])), ("modes", list(self.modes)),
                                                    ("providers", list(self.providers or [])))
        for label, items in lists:
            dupes = sorted(x for x, n in Counter(items).items() if n > 1)  # linear: lists may be long
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
    split_granularity: Annotated[int | None, Field(ge=1, le=1000, description=(
        "k: a class's traffic may be split across deployments only in multiples of 1/k (k = 1: whole); "
        "default: any split"))] = None
    time_slices: Annotated[int, Field(ge=1, le=24, description=(
        "blocks each period's day is cut into when a workload gives a daily profile (its load-duration "
        "curve, quantised): fixed capacity covers every block, on-demand and spot are chosen per block"))] = 4
    max_batch: Annotated[int | None, Field(ge=1, le=100_000, description=(
        "the serving engine's cap on concurrent sequences per replica (per attention group with "
        "expert_parallel; vLLM max_num_seqs, TensorRT-LLM max_batch_size): the plan's batches, co-located and "
        "in decode pools, stay at or below it; default: the catalog's max_batch (256, both engines' default)"))] = None
    engine: SlugRef | None = Field(default=None, description=(
        "serving engine of every deployment (tensorrt-llm, vllm, sglang; catalogs/engines.toml): each hardware type "
        "in the market needs its speed factor; default: the engine each efficiency row was fitted on"))
    pooled_capacity: bool = Field(default=False, description=(
        "replicas may be fractional: load from every class pools per hardware type and only whole GPUs "
        "are counted (the fluid model of Melange); refused beside a class's min_replicas (whole replicas); "
        "default: whole replicas per deployment"))
    disaggregation: bool = Field(default=False, description=(
        "also consider disaggregated deployments: a prefill pool and a decode pool (possibly different GPU "
        "types, replica counts chosen by the optimiser) joined by a catalogued link (catalogs/links.toml); "
        "default off: their replica counts make the search much longer (the demo stops at its time limit; "
        "README: Disaggregated deployments)"))
    kv_links: Annotated[list[SlugRef] | None, Field(min_length=1, max_length=100, description=(
        "links (catalogs/links.toml slugs) the KV cache may cross between a prefill and a decode pool (read only "
        "with plan.disaggregation = true); each must join a pair of the market's hardware types — an unknown slug, "
        "a slug listed twice or a link joining none of the pairs is refused (exit 2); default: every catalogued "
        "link that joins the pair"))] = None
    expert_parallel: Annotated[int | None, Field(ge=1, le=1024, description=(
        "expert-parallel degree E_p of MoE deployments: a replica is TP x E_p GPUs in one scale-up domain, each "
        "holding 1/E_p of the routed experts, tokens exchanged all-to-all over the hardware's NVLink row; plans "
        "show it as TP<t>×EP<E_p>; a variant without those experts (a dense student) or with a draft model stays "
        "tensor-parallel; refused (exit 2): a dense base model, a degree that does not divide its experts, hardware "
        "without a catalogued scale-up link; in disaggregated pairs the decode pool gets E_p, the prefill pool stays "
        "tensor-parallel; default: none (experts "
        "tensor-parallel like the rest)"))] = None


class SolverOptions(Strict):
    name: Literal["highs", "cbc"] = "highs"
    threads: Annotated[int | None, Field(ge=1, le=256, description="solver threads (sweeps use 1 per process); 1 also proves the variants one at a time, otherwise two run side by side")] = None
    time_limit_s: Annotated[float | None, Field(gt=0, le=86_400, description=(
        "solve time of the whole plan, shared by all its solves; default: catalog"))] = None
    gap_rel: Annotated[float | None, Field(ge=0, le=0.5, description="relative MIP gap; default: catalog")] = None
    node_limit: Annotated[int | None, Field(ge=1, le=10_000_000, description=(
        "branch-and-bound nodes per MILP (HiGHS): a deterministic work limit — a plan stopped by it is the "
        "same under any machine load; default: none"))] = None


#: Stands in for the classes of a [buckets] table that does not validate, so that only the table's own
#: errors show (not also "workload: required field missing"); never planned: the table's error fails it.
BUCKETS_PENDING: dict[str, object] = {"name": "buckets", "queries_per_day": 1.0, "input_tokens": 1,
                                      "output_tokens": 1, "ttft_ms": 1_000.0, "tpot_ms": 100.0}


class Scenario(Strict):
    """One serving decision."""

    schema_version: Literal[1] = 1
    name: Name
    model: ModelChoice
    quality: Quality = Quality()
    workload: Annotated[list[Workload], Field(min_length=1, max_length=MAX_CLASSES)]
    buckets: Buckets | None = None
    horizon: Horizon = Horizon()
    market: Market = Market()
    training: Training = Training()
    plan: PlanOptions = PlanOptions()
    solver: SolverOptions = SolverOptions()
    measured: Annotated[list[Measured], Field(max_length=100_000, description="measured capacities")] = []
    measured_file: Annotated[
        str | None, Field(description="CSV of more [[measured]] rows (a header of its field names), relative to the "
                                      "scenario file; read and merged into measured when the scenario is loaded")
    ] = None
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

    @model_validator(mode="before")
    @classmethod
    def _expand_buckets(cls, data: Any) -> Any:
        """A [buckets] table becomes the workload classes (when it validates; else its own errors show)."""
        if isinstance(data, dict) and isinstance(data.get("buckets"), dict):
            try:
                buckets = Buckets.model_validate(data["buckets"])
            except ValidationError:  # its own errors show; no workload is missing beside them
                return data if data.get("workload") else {**data, "workload": [BUCKETS_PENDING]}
            classes = buckets.classes()
            if data.get("workload"):  # a validated scenario dumped and read back holds both: they must agree
                given = [w.get("name") if isinstance(w, dict) else None for w in data["workload"]]
                if given != [c["name"] for c in classes]:
                    raise ValueError("give [[workload]] classes or a [buckets] table, not both")
                # the table is the source of what it defines (volume, tokens, targets): a sweep over
                # buckets.total_rate_rps once kept the dumped classes' volume at every point
                return {**data, "workload": [{**w, **c} for w, c in zip(data["workload"], classes, strict=True)]}
            return {**data, "workload": classes}
        return data

    @field_validator("measured_file")
    @classmethod
    def _file_is_read_by_the_loader(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("is read when a scenario is loaded (planner.load_scenario / scenario_from_dict), "
                             "not by Scenario.model_validate")
        return value

    @field_validator("measured")
    @classmethod
    def _measured_rows(cls, rows: list[Measured], info: ValidationInfo) -> list[Measured]:
        workload = {w.name: w for w in info.data.get("workload", [])}
        market = info.data.get("market")
        listed = market.hardware if market is not None else None
        seen: dict[tuple[str, str, str, int], float] = {}
        for i, m in enumerate(rows):
            key = (m.hardware, m.workload, m.precision, m.tp)
            label = f"row {i} ({m.hardware}/{m.workload}/{m.precision}/TP{m.tp})"
            if workload and m.workload not in workload:
                raise ValueError(f"{label}: unknown workload class '{m.workload}'")
            if listed is not None and m.hardware not in listed:
                raise ValueError(f"{label}: hardware '{m.hardware}' is not in market.hardware")
            if m.workload not in workload:
                continue  # the workload's own errors are reported
            rps = m.capacity_rps(workload[m.workload].output_tokens)
            if key in seen and seen[key] != rps:
                def said(value: float) -> str:
                    return f"{value:g} requests/s" if value else "cannot meet the SLO"
                raise ValueError(f"{label} disagrees with an earlier row: {said(seen[key])} vs {said(rps)}")
            seen[key] = rps
        return rows

    @field_validator("market")
    @classmethod
    def _lead_times_within_horizon(cls, market: Market, info: ValidationInfo) -> Market:
        horizon = info.data.get("horizon")
        if horizon is None:
            return market
        for mode, months in market.lead_time_months.items():
            if months >= horizon.months:
                raise ValueError(f"lead_time_months.{mode} = {months} is not shorter than the horizon "
                                 f"({horizon.months} months): nothing ordered could ever serve")
        return market

    @field_validator("plan")
    @classmethod
    def _whole_replicas_for_a_floor(cls, plan: PlanOptions, info: ValidationInfo) -> PlanOptions:
        """``min_replicas`` counts whole replicas; ``pooled_capacity`` makes replicas fractional (a class's
        load pooled per hardware type), where a floor on them has no meaning: the pooled model read it as
        a floor on load and refused plans that exist (a mutation review found it, 2026-12-07)."""
        floored = [w.name for w in info.data.get("workload") or [] if w.min_replicas > 0]
        if plan.pooled_capacity and floored:
            raise ValueError(f"pooled_capacity makes replicas fractional, and workload {floored[0]!r} asks for "
                             "min_replicas (whole replicas): give one or the other")
        return plan

    @model_validator(mode="after")
    def _one_load_shape(self) -> Scenario:
        shaped = [w.name for w in self.workload if w.profile is not None]
        if shaped and self.horizon.peak_to_average != 1.0:
            raise ValueError(f"workload {shaped[0]!r} gives a profile and horizon.peak_to_average is "
                             f"{self.horizon.peak_to_average:g}: give one load shape, not both")
        return self

    @field_validator("workload")
    @classmethod
    def _unique_classes(cls, workload: list[Workload]) -> list[Workload]:
        names = [w.name for w in workload]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate workload names: {dupes}")
        return workload


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (``whatif schema``): pydantic's, with every table of free keys
    closed — a key that does not match its pattern (``market.quota_gpus = {"H100" = "lots"}``) is refused
    by the schema as by the loader (pydantic leaves ``additionalProperties`` open beside
    ``patternProperties``)."""
    schema = Scenario.model_json_schema()

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "patternProperties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    _state_single_field_rules(schema)
    return schema


def _state_single_field_rules(schema: dict[str, Any]) -> None:
    """Rules the loader checks in validators, written into the schema so that it refuses what the
    loader refuses field by field: a profile of 24 or 168 weights in [0, MAX_PROFILE_WEIGHT] (not all
    0) or a shape name; no duplicate modes, hardware or providers; a hardware list not empty; and a
    scenario whose classes come from ``[buckets]`` alone needs no ``workload``."""
    defs = schema.get("$defs", {})
    weights = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": MAX_PROFILE_WEIGHT},
               "anyOf": [{"minItems": 24, "maxItems": 24}, {"minItems": 168, "maxItems": 168}],
               "contains": {"type": "number", "exclusiveMinimum": 0}}
    name = {"type": "string", "pattern": NAME_PATTERN, "maxLength": MAX_NAME_LENGTH}
    profile = defs["Workload"]["properties"]["profile"]
    profile["anyOf"] = [weights, name, {"type": "null"}]
    market = defs["Market"]["properties"]
    for key in ("hardware", "modes", "providers"):
        if key in market:
            market[key]["uniqueItems"] = True  # applies to the array form only
    market["hardware"]["minItems"] = 1
    required = schema.get("required", [])
    if "workload" in required:
        schema["required"] = [k for k in required if k != "workload"]
        schema["anyOf"] = [{"required": ["workload"]}, {"required": ["buckets"]}]
