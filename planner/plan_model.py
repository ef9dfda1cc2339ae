"""The Plan: the JSON contract of ``whatif plan`` (``schema_version`` 2).

Keys (all money in USD, present value at the scenario's discount rate, ``discount_rate_per_year``, unless
named ``nominal``):

* ``status`` — ``optimal`` | ``feasible`` (time limit: best found, ``solver.gap`` says how far from
  proven) | ``infeasible`` (``infeasibility`` says which requirement and the closest achievable
  value) | ``no_solution`` | ``error``;
* ``lifetime_cost_usd`` = ``one_time_cost_usd`` + ``recurring_cost_usd`` (everything after the
  one-time work, the horizon-end settlement included: under ``salvage`` it is net of the resale
  credit; the report prints the two apart); ``cost_breakdown``;
* ``training_cost_usd`` (the base model's, not optimised: given in the scenario, priced from its
  ``model.training_tokens``, or estimated from the catalog model's training tokens —
  ``training_cost_source`` says which) and ``inference_overtakes_training_month``;
* ``variant`` (technique → option of the chosen variant; ``variants`` when several serve);
* ``fleet`` (per period, hardware and mode: GPUs in service and acquired), ``serving`` (per period
  and class: deployment, replicas, traffic share; ``utilisation`` of the replicas' saturated throughput at
  the class's provisioned rate and the queueing model's ``ttft_p99_ms`` / ``tpot_p99_ms`` there:
  :mod:`planner.optimize.line_load`), ``classes`` (latency, quality vs targets);
* ``cost_per_million_queries_usd`` and ``cost_per_million_tokens_usd`` — **levelized**: the lifetime
  present value over the discounted volume (``discounted_queries``, ``discounted_tokens``: input +
  output), so each multiplies back to ``lifetime_cost_usd`` exactly; ``spend_by_period_usd`` is the
  nominal (undiscounted) charge per period under ``terminal_value`` (annuity charges, or cash),
  ``discounted_spend_by_period_usd`` each charge discounted from the date it is paid (capex at its
  period's start, the rest mid-period), ``horizon_end_settlement_usd`` what is settled at the horizon's
  end (under ``salvage`` the resale credit and reservation months past the horizon; 0 under
  ``annuity``): ``one_time_cost_usd + Σ discounted_spend_by_period_usd + horizon_end_settlement_usd
  = lifetime_cost_usd``;
* ``training_share_of_total`` and ``inference_overtakes_training_month`` compare present values (a month
  past the horizon is extrapolated at the last period's spend rate, ``inference_overtakes_training_extrapolated``);
* ``terminal_value``, ``discount_rate_per_year``, ``spares`` and ``spot_reclaims`` — the conventions the
  figures were priced under (``horizon.*``, ``market.*``); ``fleet[].spare_gpus`` is the GPUs of a line
  expected out for repair under either ``spares`` convention;
* ``solver`` (name, status, gap, model size before/after pruning);
* ``timings`` — wall seconds of the solve: the **only** key that differs between two runs of the same
  scenario (the rest of the JSON is byte-identical, whatever the order of hardware, modes or
  techniques in the file);
* ``trace`` — per chosen variant and class, which option changed which quantity, with its source.
"""

from __future__ import annotations

from typing import Any, Literal, cast, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
)

from planner.physics.profile import TraceEntry

#: 2: levelized $/M (was nominal), cost_per_million_tokens_usd, owned-cost parts, fleet providers.
PLAN_SCHEMA_VERSION = 2


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FleetEntry(_Frozen):
    period: int
    month_start: int
    hardware: str
    mode: str
    gpus_in_service: int  # paid for and installed (spares included)
    gpus_acquired: int  # entering service this period
    #: expected out of service for repair (owned GPUs, either ``market.spares`` convention; see economics.ownership)
    spare_gpus: float = 0.0
    provider: str = ""
    price_source: str = ""  # the price row (or derivation) this line is priced by
    slice: int | None = None  # elastic (on-demand, spot) GPUs held in this time slice only; None = all day


class PoolUse(_Frozen):
    """One pool of a disaggregated deployment: ``replicas`` of ``tp`` GPUs of ``hardware``, batch ``batch``
    (prompts per prefill pass, or sequences in flight per decode replica: with expert parallelism its
    ``E_p`` groups' together, as a co-located line's ``batch``)."""

    hardware: str
    tp: int
    batch: int
    replicas: int
    expert_parallel: int | None = None  # E_p > 1 (a decode pool with experts spread): ``tp`` is its t·E_p GPUs

    @model_serializer(mode="wrap")
    def _drop_unset_expert_parallel(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.expert_parallel is None:  # pools without expert parallelism keep their JSON
            data.pop("expert_parallel", None)
        return data

    @property
    def parallelism(self) -> str:
        """``TP4``, or ``TP2×EP4`` (:func:`tp_label`)."""
        return tp_label(self.tp, self.expert_parallel)


#: ServedBy keys written only for a disaggregated line (a co-located line's JSON is unchanged).
DISAGGREGATED_KEYS = ("prefill", "decode", "link", "link_utilisation")


def tp_label(gpus_per_replica: int, expert_parallel: int | None) -> str:
    """A replica's parallelism as shown in plans and reports: ``TP<t>``, or ``TP<t>×EP<E_p>`` when its
    ``t·E_p`` GPUs hold the routed experts spread ``E_p`` ways (:mod:`planner.physics.ep_deployment`)."""
    if expert_parallel is None or expert_parallel <= 1:
        return f"TP{gpus_per_replica}"
    return f"TP{gpus_per_replica // expert_parallel}×EP{expert_parallel}"


class ServedBy(_Frozen):
    """A class served by one deployment in one period.  A disaggregated line (``prefill`` and ``decode``
    set) has ``hardware`` = ``"<prefill>+<decode>"`` slugs, ``tp``/``batch`` of its decode pool, and
    ``replicas``/``gpus`` summed over both pools; ``link`` is the KV link and ``link_utilisation`` its
    share of the link's bandwidth at the pools' capacities.  Over an intra-node link the pools fill
    ``unit_blocks`` blocks alike (each the same prefill + decode replicas, within one server; a block
    is a power of two of GPUs dividing the server: :func:`planner.optimize.disagg_domains.unit_block`),
    ``gpus`` counts the whole blocks, idle GPUs included, and ``scale_up_domains`` the servers they take
    (``⌈gpus / server GPUs⌉``; equal to ``unit_blocks`` when a block is a whole server)."""

    period: int
    workload: str
    variant: str
    hardware: str
    tp: int
    batch: int
    replicas: int
    gpus: int
    traffic_share: float
    ttft_ms: float
    tpot_ms: float
    quality_score: float | None
    measured: bool = False  # capacity from a [[measured]] row, not the roofline
    slice: int | None = None  # time slice (plans with time slices): traffic_share is then the share of the
    # class's queries served by this deployment in this slice (over a class's rows of a period they sum to 1)
    prefill: PoolUse | None = None
    decode: PoolUse | None = None
    link: str | None = None
    link_utilisation: float | None = None
    expert_parallel: int | None = None  # E_p > 1 (plan.expert_parallel): ``tp`` is the replica's t·E_p GPUs
    # an intra-node KV link: the servers (scale-up domains) the pools take, and their blocks of replicas
    scale_up_domains: int | None = None
    unit_blocks: int | None = None
    # load (planner.optimize.line_load): the share of the replicas' saturated throughput the line's traffic
    # uses at the class's provisioned rate (the period's end, its busiest hour), and the queueing model's
    # P99 TTFT / TPOT there (None: a saturated queue, a measured column or a disaggregated line)
    utilisation: float | None = None
    ttft_p99_ms: float | None = None
    tpot_p99_ms: float | None = None

    @model_serializer(mode="wrap")
    def _drop_unused_pools(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.prefill is None:
            for key in DISAGGREGATED_KEYS:
                data.pop(key, None)
        if self.expert_parallel is None:  # a plan without expert parallelism keeps its JSON
            data.pop("expert_parallel", None)
        if self.scale_up_domains is None:  # free pools (an inter-node link) keep their JSON
            data.pop("scale_up_domains", None)
            data.pop("unit_blocks", None)
        return data

    @property
    def parallelism(self) -> str:
        """``TP4``, or ``TP2×EP4`` for a replica of ``E_p = 4`` attention groups of TP 2 (8 GPUs)."""
        return tp_label(self.tp, self.expert_parallel)

    @property
    def disaggregated(self) -> bool:
        return self.prefill is not None and self.decode is not None


class TimeSlice(_Frozen):
    """One block of the daily (weekly) load-duration curve (:mod:`planner.economics.slices`)."""

    index: int
    hours_per_cycle: float  # hours of the day (week) in this slice
    cycle_hours: int  # 24 or 168
    clock: str  # its clock hours, e.g. "09-12, 14-16"
    hours: list[int]  # the hours of the cycle (0 = 00:00, Monday 00:00 for a weekly cycle) in this slice
    peak_by_class: dict[str, float]  # busiest hour's load / the class's mean (what an interactive class is sized for)
    arrivals_by_class: dict[str, float]  # share of the class's queries arriving in the slice
    served_by_class: dict[str, float]  # share of the class's queries served in the slice (first period)
    served_by_period: list[dict[str, float]] = []  # the same for each period (a deferrable class's split moves)


class ClassSummary(_Frozen):
    workload: str
    ttft_target_ms: float
    tpot_target_ms: float
    quality_floor: float | None
    worst_ttft_ms: float
    worst_tpot_ms: float
    quality_score: float | None  # lowest traffic-weighted score over the periods
    served_query_fraction: float  # lowest over the serving variants
    #: arrivals in the first period's busiest hour (at its end): a profile's peak hour, else peak_to_average × mean
    peak_requests_per_s_first_period: float


class CostBreakdown(_Frozen):
    one_time_usd: float
    rent_usd: float
    reserved_usd: float
    capex_usd: float  # owned GPUs' cards (annuity or upfront, by horizon.terminal_value)
    server_usd: float  # their servers' share
    network_usd: float  # their cluster network's share
    energy_usd: float
    hosting_usd: float  # colocation on the servers' contracted kW
    operations_usd: float
    #: resale, a positive credit: at the horizon's end (salvage), and at a retirement a useful life ending
    #: inside a period forces (both conventions); lifetime = the other parts − this
    residual_credit_usd: float
    technique_recurring_usd: float
    spot_restart_usd: float = 0.0  # replacing reclaimed spot GPUs (time slices only)


class SolverInfo(_Frozen):
    name: str
    status: str
    gap: float | None
    message: str
    variables: int
    constraints: int
    integer_variables: int
    pruning: dict[str, int]
    coefficient_min: float
    coefficient_max: float


class Infeasibility(_Frozen):
    family: str  # latency | quality | price | lead time | quota | power | budget | solver
    workload: str | None
    requirement: str
    best_achievable: str
    message: str


#: A plan's status (the solver's outcome, typed): ``optimal`` within the gap; ``feasible`` stopped at a
#: limit with its bound; ``infeasible`` with the reasons; ``no_solution`` stopped before any plan;
#: ``error`` a solver failure or a solution that failed verification.
PlanStatus = Literal["optimal", "feasible", "infeasible", "no_solution", "error"]
#: Where a plan's ``training_cost_usd`` comes from (:func:`planner.optimize.planning.base_training_cost`).
TrainingSource = Literal["model.training_cost_usd", "model.training_tokens", "catalog"]


def plan_status(status: str) -> PlanStatus:
    """``status`` (a solver outcome) as a plan's status; a ValueError for any other value (a
    screening-only ``cutoff`` never heads a plan)."""
    if status not in get_args(PlanStatus):
        raise ValueError(f"not a plan status: {status!r}")
    return cast(PlanStatus, str(status))


class Plan(_Frozen):
    """The answer of ``whatif plan`` / :func:`planner.plan`: every key, its unit and its convention is in
    this module's docstring (money in USD, present value at ``discount_rate_per_year`` unless named
    ``nominal``; shares and rates are fractions, 0.25 = 25 %)."""

    schema_version: int = PLAN_SCHEMA_VERSION
    kind: str = "plan"
    scenario: str
    model: str
    status: PlanStatus
    message: str
    lifetime_cost_usd: float | None
    one_time_cost_usd: float | None
    recurring_cost_usd: float | None
    cost_breakdown: CostBreakdown | None
    training_cost_usd: float | None
    training_share_of_total: float | None
    inference_overtakes_training_month: float | None
    # the month lies past the horizon, extrapolated at the last period's present-value spend rate
    inference_overtakes_training_extrapolated: bool = False
    # where training_cost_usd comes from: given ("model.training_cost_usd"), priced from the scenario's
    # tokens ("model.training_tokens") or from the catalog model's ("catalog", an estimate); None: no bill
    training_cost_source: TrainingSource | None = None
    variant: dict[str, str] | None
    variants: list[dict[str, str]]
    variant_names: list[str]
    fleet: list[FleetEntry]
    serving: list[ServedBy]
    classes: list[ClassSummary]
    cost_per_million_queries_usd: float | None  # levelized: lifetime PV / discounted queries
    cost_per_million_tokens_usd: float | None = None  # levelized: lifetime PV / discounted input+output tokens
    discounted_queries: float | None = None  # Σ queries·δ_p: the levelized cost's denominator
    discounted_tokens: float | None = None
    terminal_value: str = "annuity"  # horizon.terminal_value: how time past the horizon was priced
    discount_rate_per_year: float = 0.0  # horizon.discount_rate_per_year: every present value's rate
    spares: str = "expected"  # market.spares: owned GPUs' repair share charged ("expected") or held whole ("whole")
    spot_reclaims: str = "expected"  # market.spot_reclaims: spot reclaims charged at 1/κ ("expected") or held whole
    catalog_overlays: list[str] = []  # overlay files applied over the shipped catalog (they may change any figure)
    time_slices: list[TimeSlice] = []  # the day's blocks when capacity may differ by slice (else empty)
    spend_by_period_usd: list[float] = []  # nominal serving charges per period (annuity or cash, by terminal_value)
    discounted_spend_by_period_usd: list[float] = []  # the same, each discounted from its date (the crossover's basis)
    horizon_end_settlement_usd: float = 0.0  # PV settled at the horizon's end (salvage: resale, commitments past it)
    total_queries: float
    periods: int
    period_months: int
    solver: SolverInfo | None
    infeasibility: list[Infeasibility]
    exclusions: dict[str, int]
    warnings: list[str]
    timings: dict[str, float] = {}
    trace: dict[str, dict[str, list[TraceEntry]]] = {}  # chosen variant -> class -> steps

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bound_usd(self) -> float | None:
        """A plan stopped at a limit: its proven lower bound (:func:`open_bound`), so the optimum lies in
        ``[bound_usd, lifetime_cost_usd]``; None for a proven optimum (JSON: ``null``)."""
        return open_bound(self)


def open_bound(plan: Plan) -> float | None:
    """A plan's proven lower bound, USD, when it is not proven optimal: ``lifetime × (1 − gap)`` with
    ``gap`` the solver's relative gap, so the optimum lies in ``[bound, lifetime_cost_usd]``.  None when
    the plan is optimal, has no cost, or its solver reported no gap."""
    return proven_bound(plan.lifetime_cost_usd, plan.status, plan.solver.gap if plan.solver is not None else None)


def proven_bound(cost_usd: float | None, status: str, gap: float | None) -> float | None:
    """``cost × (1 − gap)`` for a cost that is not proven optimal and has a gap; None otherwise."""
    if status == "optimal" or cost_usd is None or gap is None:
        return None
    return cost_usd * (1.0 - gap)
