"""The report model: everything a review document shows, built once (:mod:`planner.report.build`)
and rendered to a terminal table, Markdown and HTML (:mod:`planner.report.report_text`,
:mod:`planner.report.report_markdown`, :mod:`planner.report.report_html`) — so the three cannot
drift: a renderer only lays out these fields, it computes nothing.

Decisions:

* Money stays numeric (USD, present value unless a field says otherwise); the renderers format it.
* Every input carries where it came from (``Assumption.source``): the scenario file, the schema's
  default, or the catalog row (with that row's source and date).
* ``generated_at`` is a field, not a clock read inside a renderer: the builder takes it as an
  argument (``SOURCE_DATE_EPOCH`` in the CLI), so snapshot tests and reproducible documents are stable.
* No template engine: the three renderers are plain Python over this model.  A company that wants
  its own layout renders ``Report.model_dump()`` (or the model itself) with its own template;
  Jinja2 would add a runtime dependency for what three short functions do.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Assumption(_Frozen):
    group: str  # demand | horizon | economics | quality | training
    name: str
    value: str
    source: str  # "scenario", "default (scenario schema)", or "catalog default <key>: <source> (<date>)"


class PriceUsed(_Frozen):
    """One price the plan's fleet is charged at."""

    hardware: str
    mode: str
    provider: str
    price: str  # "$2.99 per GPU-hour" or "$64,790 per GPU (card 32,000 + server 20,480 + network 12,310)"
    source_date: str  # YYYY-MM-DD of the catalog row (for a derived reserved price: its on-demand row's)
    derived: bool  # reserved price = on-demand x a published commitment discount
    source: str


class ClassResult(_Frozen):
    workload: str
    worst_ttft_ms: float
    ttft_target_ms: float
    worst_tpot_ms: float
    tpot_target_ms: float
    quality_score: float | None
    quality_floor: float | None


class Deployment(_Frozen):
    """One class served by one deployment (variant, hardware, TP, batch) over consecutive periods;
    replicas, GPUs and traffic share are given as their range over those periods."""

    workload: str
    months: str  # "0-12": first month of the first period to the end of the last
    variant: str
    slice: str = ""  # time slice index (plans with time slices), else empty
    hardware: str
    tp: int
    batch: str  # "b256", or "measured" when capacity comes from a [[measured]] row
    replicas: str  # "2" or "2-14" over the run of periods
    gpus: str
    traffic_share: str  # "79%" or "47-100%"
    # share of the replicas' saturated throughput in use at the class's provisioned rate ("96-100%"; "-": not
    # modelled, a measured or disaggregated deployment) — planner.optimize.line_load
    load: str = "-"
    ttft_ms: float
    tpot_ms: float
    quality_score: float | None
    expert_parallel: int | None = None  # E_p > 1: ``tp`` is the replica's t·E_p GPUs, shown as TP<t>×EP<E_p>
    # a disaggregated deployment's TP column as "prefill+decode" ("2+8"); its batch and replicas read the same
    pools_tp: str | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_expert_parallel(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.expert_parallel is None:  # a report without expert parallelism keeps its JSON
            data.pop("expert_parallel", None)
        if self.pools_tp is None:  # nor one without disaggregated pools
            data.pop("pools_tp", None)
        return data


class SliceRow(_Frozen):
    """One time slice of the day (week): its hours, each class's load in it, and the fleet holding it
    in ``Report.slice_month``'s period (fixed GPUs serve every slice; elastic ones only this one)."""

    index: int
    clock: str
    hours: list[int]
    hours_per_cycle: float
    classes: list[str]  # "chat: peak 1.50x, 38% arrive, 20% served"
    fixed_gpus: int
    elastic_gpus: dict[str, int]  # mode -> GPUs held in this slice


class FleetRow(_Frozen):
    hardware_mode: str  # "h100-sxm on-demand (lambda)"
    gpus: list[int]  # in service, per period (aligned with Report.fleet_months)
    busiest_slice: bool = False  # elastic capacity held per time slice: its busiest slice's GPUs, not all day


class CostLine(_Frozen):
    label: str
    usd: float


class TrainingComparison(_Frozen):
    """Cumulative serving cost against the base model's training bill, both present value (the
    headline's basis), with the month the first overtakes the second."""

    basis: str  # "present value"
    training_usd: float | None
    training_source: str  # how the training bill was set (scenario, or estimated: 6·N·D on ...)
    months: list[float]  # 0, end of period 1, ...
    cumulative_serving_usd: list[float]  # aligned with months
    crossover_month: float | None
    crossover_extrapolated: bool  # past the horizon, at the last period's spend rate
    note: str  # one sentence a renderer prints beside the figure
    #: PV settled at the horizon's end (salvage: resale credit, reservation months past it), after the
    #: last month: the cumulative figures are the spend inside the horizon.
    settlement_usd: float = 0.0


class SensitivityLine(_Frozen):
    input: str
    delta: float
    cost_low_usd: float | None  # best found (the tornado's bar end; labelled with its status when not proven)
    cost_high_usd: float | None
    low: str  # "$1,519,925", or "[$1,480,000, $1,519,925] (feasible)" when not proven
    high: str
    status_low: str
    status_high: str
    change_low: str  # against the plan: "same", "fleet", "variant", or the end's status
    change_high: str
    decision_changes: bool


class AlternativeLine(_Frozen):
    variant: str
    status: str
    cost: str
    difference: str
    quality: str


class ExplanationPart(_Frozen):
    saving: str | None
    resolve_gap_rel: float  # every re-solve is optimal within this gap, or shows its interval
    binding: list[str]
    shadow_prices: list[str]
    alternatives: list[AlternativeLine]
    sensitivity: list[SensitivityLine]
    service_levels: list[str] = []  # "chat: TTFT P99 900 ms (vs the mean targets only): costs $12,345 (...)"


class Report(_Frozen):
    schema_version: int = 1
    kind: str = "report"
    title: str  # "support-assistant: llama-3.1-70b"
    status: str
    headline: list[str]  # summary sentences (no solve timings: stable text)
    generated_at: str  # ISO 8601, UTC
    tool_version: str
    catalog_version: str  # content fingerprint of the catalog files used, with the newest price date
    catalog_overlays: list[str]
    inputs: list[Assumption]
    prices: list[PriceUsed]
    classes: list[ClassResult]
    deployments: list[Deployment]
    fleet_months: list[int]
    fleet: list[FleetRow]
    costs: list[CostLine]
    lifetime_cost_usd: float | None
    cost_basis: str
    training: TrainingComparison | None
    infeasibility: list[str]
    warnings: list[str]
    exclusions: list[str]  # "unavailable: 14 (e.g. ...)"
    solver: str
    explanation: ExplanationPart | None = None
    reserve: list[str] = []  # what the plan keeps in reserve: spares for owned GPUs' repairs, replica floors
    slices: list[SliceRow] = []  # plans with time slices: the day's blocks and the fleet in each
    slice_month: int | None = None  # first month of the period the slice fleet is shown for (the last)
    cycle_hours: int = 24
