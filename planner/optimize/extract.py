"""From a solved model to a :class:`planner.plan_model.Plan`: who serves what, the fleet per period,
the cost by part (present value), the spend per period (nominal and present value), the per-class summaries and the
month in which serving spend overtakes the training cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pulp

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize.candidates import CandidateSet
from planner.optimize.disagg_milp import PairVariables, pair_serving
from planner.optimize.line_load import tail_warnings, with_loads
from planner.optimize.milp import USD_PER_KUSD, Problem
from planner.optimize.pruning import Column
from planner.optimize.solver import SolveOutcome, SolveStatus
from planner.physics.ep_deployment import shown_degree
from planner.plan_model import (
    ClassSummary,
    CostBreakdown,
    FleetEntry,
    Infeasibility,
    Plan,
    ServedBy,
    SolverInfo,
    plan_status,
)
from planner.scenario.schema import Scenario
from planner.units import TOKENS_PER_MILLION

QUERIES_PER_MILLION = TOKENS_PER_MILLION
#: Parts of the hardware cost (each offer's breakdown keys): their sum is the hardware PV.
HARDWARE_PARTS = ("rent", "reserved", "capex", "server", "network", "energy", "hosting", "operations", "residual",
                  "spot_restart")
#: A traffic share at or below this is solver noise, not traffic (the plan does not list it).
MIN_SHARE = 1e-9


@dataclass
class Spend:
    """Serving spend per period: ``nominal`` USD (``spend_by_period_usd``), the same in present value,
    each charge discounted from the date it is paid (``discounted``: capex at its period's start,
    running charges mid-period — :class:`~planner.economics.offers.ModeOffer`'s ``flow_pv``), and the PV
    settled at the horizon's end (``settlement_usd``: under ``salvage`` the resale credit and the
    reservation months past the horizon; 0 under ``annuity``).  One-time costs + ``Σ discounted`` +
    ``settlement_usd`` = the lifetime cost, exactly."""

    discount_mid: np.ndarray  # δ_p
    nominal: np.ndarray = field(init=False)
    discounted: np.ndarray = field(init=False)
    settlement_usd: float = 0.0

    def __post_init__(self) -> None:
        self.nominal = np.zeros(len(self.discount_mid))
        self.discounted = np.zeros(len(self.discount_mid))

    def add_mid(self, p: int, usd: float) -> None:
        """A nominal charge paid mid-period ``p``."""
        self.nominal[p] += usd
        self.discounted[p] += usd * self.discount_mid[p]

    def add_offer(self, offer: ModeOffer, acquired: np.ndarray) -> None:
        """``acquired[p]`` GPUs of ``offer`` entering service in each period ``p``."""
        if offer.flow is not None:
            self.nominal += acquired @ offer.flow
        if offer.flow_pv is not None:
            self.discounted += acquired @ offer.flow_pv
        if offer.settlement_pv is not None:
            self.settlement_usd += float(acquired @ offer.settlement_pv)


def infeasible_plan(base: dict, findings: list[Infeasibility], info: SolverInfo | None,  # type: ignore[type-arg]
                    status: str = SolveStatus.INFEASIBLE, message: str | None = None) -> Plan:
    """A plan with no fleet: the findings (or the solver's message) say why."""
    msg = message or ("; ".join(f.message for f in findings) if findings else "no plan")
    return Plan(**base, status=plan_status(status), message=msg, lifetime_cost_usd=None, one_time_cost_usd=None,
                recurring_cost_usd=None, cost_breakdown=None, training_share_of_total=None,
                inference_overtakes_training_month=None, variant=None, variants=[], variant_names=[], fleet=[],
                serving=[], classes=[], cost_per_million_queries_usd=None, solver=info, infeasibility=findings)


def unsolved_plan(base: dict, info: SolverInfo, outcome: SolveOutcome,  # type: ignore[type-arg]
                  verify: Callable[[], str | None]) -> Plan | None:
    """The plan to return instead of reading the model back: the solver's own failure when it has no
    solution, or an error when the solution fails ``verify`` (its message); None when it is sound."""
    if outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return infeasible_plan(base, [], info, status=outcome.status, message=outcome.message)
    problem_error = verify()
    if problem_error:
        info = info.model_copy(update={"status": SolveStatus.ERROR, "message": f"solution failed verification: {problem_error}"})
        return infeasible_plan(base, [], info, status=SolveStatus.ERROR, message=info.message)
    return None


def extract_plan(base, scenario, cs, problem, periods, demand, one_time, floors, info, outcome) -> Plan:  # type: ignore[no-untyped-def]
    """The solved model read back into a :class:`Plan`, its cost recomputed in dollars and checked
    against the objective (a mismatch is an error, never a plan)."""
    chosen = [v for v, var in problem.y.items() if (var.value() or 0) > 0.5]
    shares = problem.shares()
    pairs = problem.extra.state if problem.extra is not None else None
    pair_shares = pairs.shares() if isinstance(pairs, PairVariables) else {}
    used_variants = sorted({problem.columns[j].variant for (j, p), share in shares.items() if share > MIN_SHARE}
                           | ({pairs.pairs[k].variant for (k, p), share in pair_shares.items() if share > MIN_SHARE}
                              if isinstance(pairs, PairVariables) else set()))
    serving = with_loads(cs, [(line, col, problem.coef["capacity"][key])
                              for line, col, key in _serving_lines(scenario, cs, problem, shares)])
    if isinstance(pairs, PairVariables):
        serving = sorted([*serving, *pair_serving(cs, pairs)], key=lambda s: s.period)
    fleet, breakdown, spend = _fleet(cs, problem, periods)
    technique_pv = sum(problem.coef["traffic_cost"].get((j, p), 0.0) * share for (j, p), share in shares.items())
    if isinstance(pairs, PairVariables):
        technique_pv += sum(pairs.traffic_cost.get(key, 0.0) * share for key, share in pair_shares.items())
        add_technique_spend(spend, cs, demand, ((pairs.pairs[k].variant, pairs.pairs[k].workload, p, share)
                                                for (k, p), share in pair_shares.items()))
    add_technique_spend(spend, cs, demand, ((problem.columns[j].variant, problem.columns[j].workload, p, share)
                                            for (j, p), share in shares.items()))
    return assemble_plan(base, scenario, cs, info=info, outcome=outcome,
                         objective_usd=pulp.value(problem.prob.objective) * USD_PER_KUSD, chosen=chosen,
                         used_variants=used_variants, serving=serving, classes_from=serving, fleet=fleet,
                         breakdown=breakdown, technique_pv=technique_pv, spend=spend, one_time=one_time,
                         demand=demand, periods=periods, floors=floors)


def assemble_plan(base, scenario, cs, *, info, outcome, objective_usd, chosen, used_variants, serving,  # type: ignore[no-untyped-def]
                  classes_from, fleet, breakdown, technique_pv, spend, one_time, demand, periods, floors,
                  peak_factor=None, **extra) -> Plan:
    """The :class:`Plan` from a solution's pieces (both models' extraction ends here): the lifetime
    cost recomputed in dollars from the fleet's cost parts, the technique costs and the one-time
    costs, checked against the solver's objective (a mismatch is an error, never a plan); class
    summaries from ``classes_from`` (``peak_factor[c]``: a shaped class's busiest hour over the
    demand's provisioning rate, so its summary reports the peak it arrives at, not its mean); levelized
    figures; the training crossover; a warning per class whose busiest line queues past its mean targets
    (:func:`planner.optimize.line_load.tail_warnings`).  The chosen variants'
    fixed monthly technique costs are added here (to ``technique_pv`` and ``spend``)."""
    fixed = sum(cs.variants[v].monthly_fee_usd() for v in chosen)
    technique_pv += fixed * float((periods.months * periods.discount_mid).sum())
    for p in range(periods.count):
        spend.add_mid(p, fixed * periods.months)
    one_time_total = sum(one_time[v] for v in chosen)
    recurring = sum(breakdown[part] for part in HARDWARE_PARTS) + technique_pv
    lifetime = one_time_total + recurring
    if abs(objective_usd - lifetime) > 1e-6 * max(1.0, abs(lifetime)) + 1e-3:
        msg = f"solution failed verification: objective {objective_usd:.2f} differs from recomputed cost {lifetime:.2f}"
        return infeasible_plan(base, [], info.model_copy(update={"status": "error", "message": msg}),
                               status=SolveStatus.ERROR, message=msg)
    classes = _class_summaries(scenario, cs, classes_from, floors, demand, peak_factor)
    training = base["training_cost_usd"]
    overtakes, extrapolated = overtake(spend.discounted, periods.months, training) if training else (None, False)
    volume = levelized_volume(scenario, demand, periods)
    variants_opts = [dict(cs.variants[v].options) for v in used_variants]
    trace = {cs.variants[v].name: {w: list(cs.variants[v].profiles[w].trace)
                                   for w in cs.workloads} for v in used_variants}
    return Plan(
        **(base | {"warnings": [*base["warnings"], *tail_warnings(scenario, serving)]}),
        status=plan_status(outcome.status), message=outcome.message,
        lifetime_cost_usd=lifetime, one_time_cost_usd=one_time_total, recurring_cost_usd=recurring,
        cost_breakdown=CostBreakdown(one_time_usd=one_time_total, rent_usd=breakdown["rent"],
                                     reserved_usd=breakdown["reserved"], capex_usd=breakdown["capex"],
                                     server_usd=breakdown["server"], network_usd=breakdown["network"],
                                     energy_usd=breakdown["energy"], hosting_usd=breakdown["hosting"],
                                     operations_usd=breakdown["operations"],
                                     residual_credit_usd=0.0 - breakdown["residual"],
                                     technique_recurring_usd=technique_pv,
                                     spot_restart_usd=breakdown["spot_restart"]),
        training_share_of_total=(training / (training + lifetime)) if training else None,
        inference_overtakes_training_month=overtakes, inference_overtakes_training_extrapolated=extrapolated,
        variant=variants_opts[0] if len(variants_opts) == 1 else None, variants=variants_opts,
        variant_names=[cs.variants[v].name for v in used_variants], fleet=fleet, serving=serving, classes=classes,
        cost_per_million_queries_usd=lifetime / volume["queries"] * QUERIES_PER_MILLION,
        cost_per_million_tokens_usd=lifetime / volume["tokens"] * TOKENS_PER_MILLION,
        discounted_queries=volume["queries"], discounted_tokens=volume["tokens"],
        spend_by_period_usd=[float(v) for v in spend.nominal],
        discounted_spend_by_period_usd=[float(v) for v in spend.discounted],
        horizon_end_settlement_usd=spend.settlement_usd,
        solver=info, infeasibility=[], trace=trace, **extra)


def add_technique_spend(spend: Spend, cs: CandidateSet, demand: Demand,
                        lines: Iterable[tuple[int, int, int, float]]) -> None:
    """Per-query technique spend per period (paid mid-period): for each (variant, class, period, share
    of the class's queries), ``share × recurring $/M queries × Q_{c,p} / 1e6``, added into ``spend``."""
    for v, c, p, share in lines:
        prof = cs.variants[v].profiles[cs.workloads[c]]
        spend.add_mid(p, share * prof.recurring_usd_per_million_queries * demand.queries[c, p] / 1e6)


def levelized_volume(scenario: Scenario, demand: Demand, periods: Periods) -> dict[str, float]:
    r"""The denominators of levelized cost: ``Σ_{c,p} Q_{c,p} δ_p`` queries and
    ``Σ_{c,p} Q_{c,p} (in_c + out_c) δ_p`` tokens — discounted like the costs, so that
    ``$/M × volume / 1e6`` is the lifetime PV exactly (as levelized cost of energy is defined)."""
    tokens = np.array([w.input_tokens + w.output_tokens for w in scenario.workload], dtype=float)
    discounted = demand.queries * periods.discount_mid[None, :]
    return {"queries": float(discounted.sum()), "tokens": float((discounted * tokens[:, None]).sum())}


def _serving(scenario: Scenario, cs: CandidateSet, problem: Problem,
             shares: dict[tuple[int, int], float]) -> list[ServedBy]:
    """Who serves what, per period: each column carrying traffic, with its whole replicas, and each
    column holding replicas without traffic (standing by, e.g. for ``min_replicas``)."""
    return [line for line, _col, _key in _serving_lines(scenario, cs, problem, shares)]


def _serving_lines(scenario: Scenario, cs: CandidateSet, problem: Problem,
                   shares: dict[tuple[int, int], float]) -> list[tuple[ServedBy, Column, tuple[int, int]]]:
    """:func:`_serving`'s lines, each with its column and its capacity coefficient's key ``(j, p)``
    (for its load, :func:`planner.optimize.line_load.with_loads`)."""
    serving: list[tuple[ServedBy, Column, tuple[int, int]]] = []
    for (j, p), share in sorted(shares.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        col: Column = problem.columns[j]
        variant = cs.variants[col.variant]
        load = problem.r[j, p].value() or 0.0
        if share <= MIN_SHARE and (scenario.plan.pooled_capacity or load < 0.5):
            continue
        replicas = math.ceil(load - 1e-9) if scenario.plan.pooled_capacity else round(load)
        serving.append((ServedBy(period=p, workload=cs.workloads[col.workload], variant=variant.name,
                                 hardware=cs.hardware[col.hardware].slug, tp=col.tp, batch=col.batch, replicas=replicas,
                                 gpus=replicas * col.tp, traffic_share=share, ttft_ms=col.ttft_ms, tpot_ms=col.tpot_ms,
                                 quality_score=variant.profiles[cs.workloads[col.workload]].quality_score,
                                 measured=col.measured,
                                 expert_parallel=shown_degree(variant.profiles[cs.workloads[col.workload]],
                                                              scenario.plan.expert_parallel)),
                        col, (j, p)))
    return serving


def _fleet(cs: CandidateSet, problem: Problem, periods: Periods) -> tuple[list[FleetEntry], dict[str, float], Spend]:
    """GPUs acquired and in service per offer and period, the hardware cost by part (PV), and the
    hardware spend per period."""
    P = periods.count
    fleet: list[FleetEntry] = []
    breakdown: dict[str, float] = defaultdict(float)
    spend = Spend(periods.discount_mid)
    for k, offer in enumerate(problem.offers):
        units = [problem.n[k, p].value() for p in range(P)]
        add_offer_lines(fleet, breakdown, spend, cs, offer, units, periods)
    return fleet, breakdown, spend


def add_offer_lines(fleet: list[FleetEntry], breakdown: dict[str, float], spend: Spend, cs: CandidateSet,
                    offer: ModeOffer, units: list[float | None], periods: Periods) -> None:
    """One offer's units acquired per period (solver values, rounded): its fleet lines (GPUs in service
    and acquired per period) appended to ``fleet``, its cost parts (PV) added to ``breakdown``, its
    spend to ``spend``."""
    acquired = np.array([round(u or 0) * offer.gpus_per_unit for u in units], dtype=float)
    if not acquired.any():
        return
    in_service = acquired @ offer.covers.astype(float)
    for p in range(periods.count):
        if in_service[p] > 0 or acquired[p] > 0:
            fleet.append(FleetEntry(period=p, month_start=p * periods.months, hardware=cs.hardware[offer.hardware].slug,
                                    mode=offer.mode, gpus_in_service=int(in_service[p]), gpus_acquired=int(acquired[p]),
                                    spare_gpus=float(in_service[p] * offer.repair_share),
                                    provider=offer.provider, price_source=offer.source))
    for part, per_gpu in offer.breakdown.items():
        breakdown[part] += float(per_gpu @ acquired)
    spend.add_offer(offer, acquired)


def _class_summaries(scenario, cs, serving, floors, demand,  # type: ignore[no-untyped-def]
                     peak_factor=None) -> list[ClassSummary]:
    """Per class, the worst TTFT and TPOT over its serving lines, its lowest traffic-weighted quality
    per period and the smallest served share of its variants.  Lines standing by (replicas kept for
    ``min_replicas`` without traffic) count: they take the traffic when a replica fails, and every
    column meets the class's targets, so they never move a figure past its target."""
    out = []
    for c, w in enumerate(scenario.workload):
        rows = [s for s in serving if s.workload == w.name]
        per_period: dict[int, float] = defaultdict(float)
        for s in rows:
            per_period[s.period] += s.traffic_share * (s.quality_score or 0.0)
        qualities = [q for q in per_period.values()] if all(s.quality_score is not None for s in rows) else []
        names = {s.variant for s in rows}
        served = min((v.profiles[w.name].served_query_fraction for v in cs.variants if v.name in names), default=1.0)
        out.append(ClassSummary(workload=w.name, ttft_target_ms=w.ttft_ms, tpot_target_ms=w.tpot_ms,
                                quality_floor=floors[c], worst_ttft_ms=max((s.ttft_ms for s in rows), default=math.nan),
                                worst_tpot_ms=max((s.tpot_ms for s in rows), default=math.nan),
                                quality_score=min(qualities) if qualities else None, served_query_fraction=served,
                                peak_requests_per_s_first_period=float(demand.peak_rps[c, 0] * (
                                    1.0 if peak_factor is None else peak_factor[c]))))
    return out


def _overtake_month(pv_per_period: np.ndarray, months: int, training_usd: float) -> float | None:
    """Month in which the cumulative serving cost (present value, like the training cost it is
    compared with) reaches the training cost; spend is spread evenly within a period."""
    cumulative = 0.0
    for p, spend in enumerate(pv_per_period):
        if spend > 0 and cumulative + spend >= training_usd:
            return p * months + (training_usd - cumulative) / spend * months
        cumulative += spend
    return None


def overtake(pv_per_period: np.ndarray, months: int, training_usd: float) -> tuple[float | None, bool]:
    """:func:`_overtake_month`, or past the horizon extrapolated at the last period's present-value spend
    rate (serving on means the hardware is not sold), with whether it was extrapolated; none without
    spend in the last period.  The report draws the same (:func:`planner.report.build._training`); until
    the twenty-first session the plan's JSON had ``null`` where the report printed the extrapolated month."""
    inside = _overtake_month(pv_per_period, months, training_usd)
    if inside is not None or len(pv_per_period) == 0 or pv_per_period[-1] <= 0:
        return inside, False
    rate = float(pv_per_period[-1]) / months  # present value per month
    return len(pv_per_period) * months + (training_usd - float(np.sum(pv_per_period))) / rate, True
