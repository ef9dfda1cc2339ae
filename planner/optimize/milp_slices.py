r"""The lifetime MILP with time slices: fixed capacity for the period, elastic capacity per slice.

Notation of :mod:`planner.optimize.milp`, plus the slices ``s`` of :mod:`planner.economics.slices`
(``H_s`` hours of an ``L``-hour cycle, ``peak_{c,s}``, ``volume_{c,s}``, hourly weights ``w_{c,t}``)
and ``λ̄_{c,p} = q_c (1+g)^{t_end} / 86400`` the class's **mean** rate at the period's end.

Offers split by mode: **fixed** (reserved, bought: ``n_{o,p}``, in service in every slice of the
periods they cover) and **elastic** (on-demand, spot: ``e_{o,p,s}`` units per slice, billed for the
slice's hours only).  A spot GPU held through a slice is kept with probability
``κ_{o,s} = (1 − π_o)^{H_s}`` and counts ``κ`` GPUs of capacity (``market.spot_reclaims =
"expected"``: 1, its price ``1/κ`` higher, :func:`price_factor`); each reclaimed one costs its
replacement, ``(1 − κ) · restart_usd`` per slice occurrence.

Variables: ``y_v``; ``x_{j,p,s} ≥ 0``; ``r_{j,p,s} ∈ ℤ≥0`` replicas per slice; ``n_{o,p}``,
``e_{o,p,s} ∈ ℤ≥0``; spares ``z_{h,p} ∈ ℤ≥0``; backlog ``B_{c,p,t} ≥ 0`` of a deferrable class.

``x`` means, for an **interactive** class, the share of the slice's traffic column ``j`` serves
(``Σ_{j∈c} x_{j,p,s} = 1``), provisioned for the slice's busiest hour: ``a_{j,p,s} = λ̄ peak_{c,s}
s_{v,c} / μ_j``.  For a **deferrable** class (deadline ``D`` hours), ``x_{j,p,s}`` is the rate served
through ``j`` in slice ``s`` relative to ``λ̄`` (``a = λ̄ s_{v,c} / μ_j``), the same in every hour of the
slice, and the backlog rows decide when work may run (FIFO, cyclic steady state)::

    B_{c,p,t} = B_{c,p,t−1} + w_{c,t} − Σ_{j∈c} x_{j,p,s(t)}          (t − 1 of t = 0 is L − 1)
    0 ≤ B_{c,p,t} ≤ W_{c,t} = Σ_{k<⌊D⌋} w_{c,t−k}                     (what arrived in the last D hours)

— under FIFO the backlog is the newest work, so it holds nothing older than ``D`` hours exactly when
it is at most what arrived in the last ``⌊D⌋`` hours (whole hours: a fractional deadline is rounded
down, never granting more time than given).  Serving at a constant rate within a slice is a
restriction (the slice's hours may lie apart): it can only over-state the cost.

Minimise (k$) ``Σ F_v y_v + Σ k_{o,p} u_o n_{o,p} + Σ (k_{o,p} H_s/L + (1−κ_{o,s}) R_{o,p}) u_o e_{o,p,s}
+ Σ ρ_{j,p} V_{c,s} x_{j,p,s} + Σ_v M_v Σ_p m δ_p y_v`` with ``V_{c,s}`` = ``volume_{c,s}``
(interactive) or ``H_s / L`` (deferrable) — the share of the period's queries served through ``j``
in ``s`` per unit of ``x`` — and ``R_{o,p}`` the restart cost of a slice's reclaimed GPUs over the
period's cycles, discounted.

Rows (per family, as in :mod:`planner.optimize.milp`):

1. ``demand_c_p_s`` (interactive) ``Σ_j x = 1``; ``backlog_c_p_t`` (deferrable) above;
2. ``capacity_j_p_s``: ``a x ≤ r``, and for interactive classes the cuts of the one-slice model
   (``x ≤ r`` when ``a < 1``, the rounding facet) and ``cover_c_p_s``: ``Σ_j r/a ≥ 1``;
3. ``link_j_p_s``: ``x ≤ X̄_c y_v`` (``X̄`` = 1, or the most a deferrable class can run in an hour:
   ``max_t (W_{c,t−1} + w_{c,t})``); ``variants``;
4. ``quality_c_p``: ``Σ_j q_j Σ_s V_{c,s} x_{j,p,s} ≥ Q_c`` (volume-weighted over the cycle);
   ``min_replicas_c_p_s``;
5. ``supply_h_p_s``: ``Σ_j t_j r_{j,p,s} + z_{h,p} ≤ Σ_fixed u A n + Σ_elastic κ u e``; where a class may not
   run on spot, also ``nospot_h_p_s``: the same over those classes' replicas without the spot term;
   ``spares_h_p`` as in the one-slice model; ``quota_h_p_s``; ``power_p`` (owned); ``budget``.

With one slice, no deferrable class and no spot offer this is the one-slice model exactly
(``x_{j,p,0} = x_{j,p}``, ``e_{o,p,0} = n_{o,p}``).

**Whole servers as cumulative counts** (as in :mod:`planner.optimize.direct`, exact): a fixed offer
selling ``u_o > 1`` GPUs per unit has variables ``S_{o,p} = Σ_{q≤p} n_{o,q}`` (``srv_o_p``), and
``n_{o,p}`` is the expression ``S_{o,p} − S_{o,p−1}`` wherever it appears, with the rows
``0 ≤ S_{o,p} − S_{o,p−1} ≤ n̄_{o,p}`` (``started_o_p``) keeping its bounds.  The feasible set and
the costs are unchanged; branching on ``S`` fixes the servers in service.  On the 4-slice demo's
first model, searched below its start: 33.6 s CPU and 6,374 nodes against 59.8 s and 14,315.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.economics.slices import TimeSlices, runs_on_spot, slice_keep_probability
from planner.optimize.candidates import CandidateSet
from planner.optimize.direct import _dominance_bounds
from planner.optimize.milp import (
    MIN_LOAD_PER_REPLICA,
    MIN_ROUNDING_FRACTION,
    USD_PER_KUSD,
    cover_roundings,
)
from planner.optimize.pruning import Column, row_score
from planner.optimize.servers import Units, cumulative_servers
from planner.scenario.schema import Scenario, Workload
from planner.scenario.types import ELASTIC_MODES

Key3 = tuple[int, int, int]


@dataclass
class SlicedProblem:
    prob: pulp.LpProblem
    columns: list[Column]
    variants: list[int]
    offers: list[ModeOffer]
    slices: TimeSlices
    deferrable: list[bool]
    y: dict[int, pulp.LpVariable]
    x: dict[Key3, pulp.LpVariable]
    r: dict[Key3, pulp.LpVariable]
    n: dict[tuple[int, int], pulp.LpVariable | pulp.LpAffineExpression]  # fixed offers, units entering service in p
    e: dict[Key3, pulp.LpVariable]  # elastic offers, units held in slice s of period p
    servers: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)  # S_{o,p} of whole-server offers
    backlog: dict[Key3, pulp.LpVariable] = field(default_factory=dict)
    coef: dict[str, dict[tuple[int, ...], float]] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    periods: int = 0
    compact: bool = False
    served: dict[Key3, pulp.LpVariable] = field(default_factory=dict)  # compact: X_{c,p,s} of a deferrable class

    def x_values(self) -> dict[Key3, float]:
        """``x_{j,p,s}`` of the solution.  The compact model has no ``x``: its cover rows guarantee
        ``Σ_j r/a ≥ 1`` (interactive) or ``≥ X_{c,p,s}`` (deferrable), so a split exists; it is built by
        filling the class's columns in order, each up to ``r/a``."""
        if not self.compact:
            return {k: float(v.value() or 0.0) for k, v in self.x.items()}
        by_class: dict[int, list[int]] = defaultdict(list)
        for j, col in enumerate(self.columns):
            by_class[col.workload].append(j)
        out: dict[Key3, float] = {}
        for c, js in by_class.items():
            for p in range(self.periods):
                for s in range(self.slices.count):
                    left = float(self.served[c, p, s].value() or 0.0) if self.deferrable[c] else 1.0
                    for j in js:
                        a = self.coef["capacity"][(j, p, s)]
                        replicas = float(self.r[j, p, s].value() or 0.0)
                        share = min(left, replicas / a if a > 0 else (left if replicas else 0.0))
                        out[(j, p, s)] = share
                        left -= share
        return out

    def volume_share(self, j: int, s: int) -> float:
        """``V_{c,s}``: the share of the period's queries served through column ``j`` in ``s`` per unit of ``x``."""
        c = self.columns[j].workload
        return (float(self.slices.hours[s] / self.slices.cycle_hours) if self.deferrable[c]
                else float(self.slices.volume[c, s]))

    def elastic(self, o: int) -> bool:
        return self.offers[o].mode in ELASTIC_MODES


def _terms(pairs: Iterable[tuple[pulp.LpVariable, float]]) -> pulp.LpAffineExpression:
    """``Σ coefficient·variable`` built in one step from (variable, coefficient) pairs, each variable
    once: the same expression as ``pulp.lpSum(c * v ...)``, without PuLP's intermediate expression per
    term (building the 40 variant models of the 4-slice demo spent most of its time there)."""
    return pulp.LpAffineExpression([(v, float(c)) for v, c in pairs])


def _name(*parts: object) -> str:
    return "_".join(str(p) for p in parts)


def keep_probability(offer: ModeOffer, slices: TimeSlices) -> np.ndarray:
    """``κ_{o,s}``: 1 for on-demand, ``(1 − π)^{H_s}`` for spot."""
    return slice_keep_probability(offer.preemption_per_hour, slices.hours)


def supply_keep(offer: ModeOffer, slices: TimeSlices) -> np.ndarray:
    """What one elastic GPU of ``offer`` counts in slice ``s``'s supply rows: ``κ_{o,s}``, so whole GPUs
    cover the expected reclaims (``market.spot_reclaims = "whole"``), or 1 where the reclaims are priced
    instead (``"expected"``, the default: :func:`price_factor`; 0 still where ``κ = 0``, a GPU always
    reclaimed)."""
    kappa = keep_probability(offer, slices)
    return np.where(kappa > 0, 1.0, 0.0) if offer.expected_reclaims else kappa


def price_factor(offer: ModeOffer, slices: TimeSlices) -> np.ndarray:
    """``[s]`` multiplier of an elastic GPU's price, ``supply_keep / κ``: 1 where its supply counts ``κ``,
    ``1/κ`` where it counts 1, so a unit of capacity costs the same in the two conventions' relaxations
    and only the rounding to whole GPUs differs."""
    kappa = keep_probability(offer, slices)
    if not offer.expected_reclaims:
        return np.ones(slices.count)
    with np.errstate(divide="ignore"):
        return np.where(kappa > 0, 1.0 / kappa, 1.0)  # κ = 0: no capacity to price (supply_keep is 0)


def elastic_cost_usd(offer: ModeOffer, slices: TimeSlices, periods: Periods) -> np.ndarray:
    """``[p, s]`` PV of one elastic GPU held in slice ``s`` of every cycle of period ``p``: billed for
    ``max(H_s, m)`` hours per cycle (``m`` = the offer's minimum billed hours per start) × its
    :func:`price_factor`, and its restart when reclaimed, ``(1 − κ) · restart_usd``, per cycle."""
    share = np.maximum(slices.hours, offer.min_billed_hours) / slices.cycle_hours * price_factor(offer, slices)
    cycles = periods.hours / slices.cycle_hours
    restart = (1.0 - keep_probability(offer, slices)) * offer.restart_usd * cycles
    return offer.cost_usd[:, None] * share[None, :] + periods.discount_mid[:, None] * restart[None, :]


def deadline_windows(slices: TimeSlices, c: int, deadline_hours: float) -> tuple[np.ndarray, float]:
    """``W_{c,t}`` (relative to the mean hourly arrival) and ``X̄_c`` of the module docstring."""
    w = slices.weights[c]
    L = slices.cycle_hours
    k = math.floor(deadline_hours)
    window = np.array([sum(w[(t - i) % L] for i in range(k)) for t in range(L)])
    most = float(max(window[(t - 1) % L] + w[t] for t in range(L)))
    return window, most


def build_sliced(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
                 periods: Periods, demand: Demand, one_time_usd: dict[int, float], floors: list[float | None],
                 slices: TimeSlices, *, with_caps: bool = True, compact: bool = False) -> SlicedProblem:
    """The model of the module docstring (``with_caps=False`` drops quota, power and budget rows).

    ``compact=True`` (one variant; every variant left meets the quality floors) is the same problem
    projected onto the integers, as the one-slice compact model: no ``x``, ``y ≡ 1``; interactive
    classes keep ``cover_c_p_s: Σ_j r/a ≥ 1``, a deferrable class's columns are summed into
    ``X_{c,p,s} = Σ_j x_{j,p,s}`` with ``Σ_j r/a ≥ X`` in its backlog rows; the traffic cost, the
    same for every column of the variant and summing to the period's volume, is a constant.
    Replicas also get the exact dominance bounds of :mod:`planner.optimize.direct` (per slice)."""
    prob = pulp.LpProblem("whatif_plan_sliced", pulp.LpMinimize)
    P, S = periods.count, slices.count
    variants = sorted({col.variant for col in columns})
    workloads = scenario.workload
    deferrable = [w.deadline_hours is not None for w in workloads]
    spot_ok = [runs_on_spot(w) for w in workloads]
    windows = {c: deadline_windows(slices, c, w.deadline_hours) for c, w in enumerate(workloads)
               if w.deadline_hours is not None}
    most = [windows[c][1] if deferrable[c] else 1.0 for c in range(len(workloads))]
    mean_rps = demand.peak_rps / scenario.horizon.peak_to_average
    by_class: dict[int, list[int]] = defaultdict(list)
    by_hw: dict[int, list[int]] = defaultdict(list)
    for j, col in enumerate(columns):
        by_class[col.workload].append(j)
        by_hw[col.hardware].append(j)

    if compact and len(variants) != 1:
        raise ValueError("the compact model holds exactly one variant")
    # compact: y ≡ 1 (PuLP's binary category would reset the bounds to [0, 1], so an integer fixed at 1)
    y = {v: prob.add_variable(_name("y", f"{v:05d}"), 1, 1, cat=pulp.LpInteger) if compact
         else prob.add_variable(_name("y", f"{v:05d}"), cat=pulp.LpBinary) for v in variants}
    capacity, bounds = _loads(scenario, cs, columns, slices, mean_rps, most)
    x, r = _traffic_variables(prob, columns, bounds, most, P, S, compact)
    usable = [o for o in offers if o.hardware in by_hw]
    gpu_ub = {h: max(1, sum(columns[j].tp * int(bounds[j].max()) for j in js)) for h, js in by_hw.items()}
    n, e, keep, servers = _gpu_variables(prob, usable, slices, P, gpu_ub)

    problem = SlicedProblem(prob=prob, columns=columns, variants=variants, offers=usable, slices=slices,
                            deferrable=deferrable, y=y, x=x, r=r, n=n, e=e, periods=P, compact=compact,
                            servers=servers)
    problem.coef["capacity"] = capacity
    objective = _objective(problem, cs, periods, demand, one_time_usd)
    prob += objective
    _traffic_rows(problem, by_class, most, windows)
    for c in set(range(len(workloads))) - set(by_class):  # every class has queries: a model without a column
        # for one cannot plan (until the twenty-first session its rows were skipped and the class dropped)
        prob += prob.add_variable(_name("unserved", c), 0, 0) >= 1, _name("unserved", c)
    prob += pulp.lpSum(y.values()) <= scenario.plan.max_variants, "variants"
    _quality_rows(problem, cs, floors, by_class)
    _min_replica_rows(problem, workloads, by_class)
    _supply_rows(problem, scenario, cs, by_hw, spot_ok, keep, with_caps)
    if with_caps and scenario.market.budget_usd is not None:
        prob += objective <= scenario.market.budget_usd / USD_PER_KUSD, "budget"
    integers = len(r) + len(n) + len(e) + (0 if compact else len(y))
    problem.stats = {"variables": prob.numVariables(), "constraints": prob.numConstraints(),
                     "integer_variables": integers}
    return problem


def _traffic_variables(prob: pulp.LpProblem, columns: list[Column], bounds: np.ndarray, most: list[float], P: int,
                       S: int, compact: bool) -> tuple[dict[Key3, pulp.LpVariable], dict[Key3, pulp.LpVariable]]:
    """``x_{j,p,s} ∈ [0, X̄_c]`` (not in the compact model) and whole replicas ``r_{j,p,s}`` within their bounds."""
    x: dict[Key3, pulp.LpVariable] = {}
    r: dict[Key3, pulp.LpVariable] = {}
    for j, col in enumerate(columns):
        for p in range(P):
            for s in range(S):
                if not compact:
                    x[j, p, s] = prob.add_variable(_name("x", f"{j:05d}", p, s), 0, most[col.workload])
                r[j, p, s] = prob.add_variable(_name("r", f"{j:05d}", p, s), 0, int(bounds[j, p * S + s]),
                                               cat=pulp.LpInteger)
    return x, r


def _min_replica_rows(problem: SlicedProblem, workloads: Sequence[Workload], by_class: dict[int, list[int]]) -> None:
    """``min_replicas_c_p_s``: a class with ``min_replicas`` keeps that many replicas in every slice."""
    for c, w in enumerate(workloads):
        if w.min_replicas > 0:
            for p in range(problem.periods):
                for s in range(problem.slices.count):
                    problem.prob += (pulp.lpSum(problem.r[j, p, s] for j in by_class[c]) >= w.min_replicas,
                                     _name("min_replicas", c, p, s))


def column_loads(col: Column, w: Workload, slices: TimeSlices, mean_rps: np.ndarray, served: float) -> np.ndarray:
    """``a_{j,p,s}`` ``[p, s]`` of column ``col`` of class ``w`` (module docstring): replicas per unit of
    ``x``, from the class's mean rate at each period's end ``mean_rps[p]``, its busiest hour in the
    slice (1 for a deferrable class), the variant's served share and the column's capacity; a positive
    load below :data:`MIN_LOAD_PER_REPLICA` is raised to it (any traffic needs a whole replica)."""
    multiplier = np.ones(slices.count) if w.deadline_hours is not None else slices.peak[col.workload]
    a = mean_rps[:, None] * multiplier[None, :] * served / col.capacity_rps
    return np.where((a > 0) & (a < MIN_LOAD_PER_REPLICA), MIN_LOAD_PER_REPLICA, a)


def _loads(scenario: Scenario, cs: CandidateSet, columns: list[Column], slices: TimeSlices, mean_rps: np.ndarray,
           most: list[float]) -> tuple[dict[tuple[int, ...], float], np.ndarray]:
    """``a_{j,p,s}`` (replicas per unit of ``x``) and each replica count's upper bound ``[j, p·S + s]``:
    ``max(1, min_replicas, ⌈a·X̄⌉)`` tightened by the dominance bounds of :mod:`planner.optimize.direct`."""
    workloads = scenario.workload
    P, S = mean_rps.shape[1], slices.count
    served = {(v.index, c): v.profiles[w].served_query_fraction for v in cs.variants for c, w in enumerate(cs.workloads)}
    capacity: dict[tuple[int, ...], float] = {}
    loads = np.zeros((len(columns), P * S))
    for j, col in enumerate(columns):
        c = col.workload
        a = column_loads(col, workloads[c], slices, mean_rps[c], served[(col.variant, c)])
        for p in range(P):
            for s in range(S):
                capacity[(j, p, s)] = float(a[p, s])
        loads[j] = a.reshape(-1) * most[c]
    tp = np.array([col.tp for col in columns], dtype=float)
    floor = np.array([[workloads[col.workload].min_replicas] for col in columns], dtype=float).reshape(-1, 1)
    bounds = _dominance_bounds(columns, tp, np.maximum(np.maximum(1.0, floor), np.ceil(loads - 1e-9)),
                               [w.min_replicas for w in workloads])
    return capacity, bounds


def _gpu_variables(prob: pulp.LpProblem, offers: list[ModeOffer], slices: TimeSlices, P: int, gpu_ub: dict[int, int]
                   ) -> tuple[Units, dict[Key3, pulp.LpVariable], dict[int, np.ndarray],
                              dict[tuple[int, int], pulp.LpVariable]]:
    """``n_{o,p}`` for fixed offers (whole-server ones as ``S_{o,p} − S_{o,p−1}``, their ``S`` returned
    too) and ``e_{o,p,s}`` for elastic ones, bounded by the GPUs every column of the hardware could use;
    and ``κ_{o,s}`` per offer."""
    S = slices.count
    n: Units = {}
    e: dict[Key3, pulp.LpVariable] = {}
    servers: dict[tuple[int, int], pulp.LpVariable] = {}
    keep = {k: supply_keep(o, slices) for k, o in enumerate(offers)}
    for k, offer in enumerate(offers):
        if offer.mode in ELASTIC_MODES:
            for p in range(P):
                for s in range(S):
                    per_unit = offer.gpus_per_unit * keep[k][s]
                    ub = math.ceil(gpu_ub[offer.hardware] / per_unit) if per_unit > 0 and offer.may_start(p) else 0
                    e[k, p, s] = prob.add_variable(_name("e", f"{k:03d}", p, s), 0, ub, cat=pulp.LpInteger)
        elif offer.gpus_per_unit > 1:  # whole servers: cumulative counts (module docstring)
            ub = math.ceil(gpu_ub[offer.hardware] / (offer.gpus_per_unit * offer.supply_factor))
            cumulative_servers(prob, k, [ub if offer.may_start(p) else 0 for p in range(P)], n, servers)
        else:
            for p in range(P):
                ub = math.ceil(gpu_ub[offer.hardware] / (offer.gpus_per_unit * offer.supply_factor))
                n[k, p] = prob.add_variable(_name("n", f"{k:03d}", p), 0, ub if offer.may_start(p) else 0,
                                            cat=pulp.LpInteger)
    return n, e, keep, servers


def _objective(problem: SlicedProblem, cs: CandidateSet, periods: Periods, demand: Demand,
               one_time_usd: dict[int, float]) -> pulp.LpAffineExpression:
    P, S = periods.count, problem.slices.count
    terms = [one_time_usd.get(v, 0.0) / USD_PER_KUSD * problem.y[v] for v in problem.variants]
    terms += [problem.offers[k].cost_usd[p] * problem.offers[k].gpus_per_unit / USD_PER_KUSD * var
              for (k, p), var in problem.n.items()]
    elastic = {k: elastic_cost_usd(o, problem.slices, periods) for k, o in enumerate(problem.offers)
               if o.mode in ELASTIC_MODES}
    problem.coef["elastic_usd"] = {(k, p, s): float(elastic[k][p, s]) for (k, p, s) in problem.e}
    terms += [elastic[k][p, s] * problem.offers[k].gpus_per_unit / USD_PER_KUSD * var
              for (k, p, s), var in problem.e.items()]
    traffic_cost: dict[tuple[int, ...], float] = {}
    class_traffic: dict[tuple[int, int], float] = {}
    for j, col in enumerate(problem.columns):
        profile = cs.variants[col.variant].profiles[cs.workloads[col.workload]]
        for p in range(P):
            rho = profile.recurring_usd_per_million_queries * demand.queries[col.workload, p] / 1e6 * periods.discount_mid[p]
            if rho > 0:
                traffic_cost[(j, p)] = rho
                if problem.compact:
                    class_traffic[(col.workload, p)] = rho
                else:
                    terms += [rho * problem.volume_share(j, s) / USD_PER_KUSD * problem.x[j, p, s] for s in range(S)]
    problem.coef["traffic_cost"] = traffic_cost
    if class_traffic:  # compact: every column of the one variant costs the same per query
        terms.append(sum(class_traffic.values()) / USD_PER_KUSD * problem.y[problem.variants[0]])
    month_pv = float((periods.months * periods.discount_mid).sum())
    fees = {v: cs.variants[v].monthly_fee_usd() for v in problem.variants}
    terms += [fees[v] * month_pv / USD_PER_KUSD * problem.y[v] for v in problem.variants if fees[v] > 0]
    return pulp.lpSum(terms)


def _traffic_rows(problem: SlicedProblem, by_class: dict[int, list[int]], most: list[float],
                  windows: dict[int, tuple[np.ndarray, float]]) -> None:
    """Families 1–3: demand or backlog, capacity with its cuts, cover and link rows."""
    prob, x, r, coef, sl = problem.prob, problem.x, problem.r, problem.coef["capacity"], problem.slices
    P, S, L = problem.periods, sl.count, sl.cycle_hours
    for c, js in sorted(by_class.items()):
        for p in range(P):
            if problem.deferrable[c]:
                window = windows[c][0]
                if problem.compact:
                    for s in range(S):
                        problem.served[c, p, s] = prob.add_variable(_name("X", c, p, s), 0, most[c])
                        prob += (_terms((r[j, p, s], 1 / coef[(j, p, s)]) for j in js if coef[(j, p, s)] > 0)
                                 - problem.served[c, p, s] >= 0), _name("cover", c, p, s)

                def run(s: int, p: int = p, js: list[int] = js, c: int = c) -> pulp.LpAffineExpression:
                    return problem.served[c, p, s] if problem.compact else _terms((x[j, p, s], 1.0) for j in js)

                backlog = [prob.add_variable(_name("B", c, p, t), 0, float(window[t])) for t in range(L)]
                for t in range(L):
                    problem.backlog[c, p, t] = backlog[t]
                    prob += (backlog[t] - backlog[t - 1] + run(int(sl.hour_slice[t]))
                             == float(sl.weights[c, t])), _name("backlog", c, p, t)
                continue
            for s in range(S):
                if not problem.compact:
                    prob += _terms((x[j, p, s], 1.0) for j in js) == 1, _name("demand", c, p, s)
                if not any(coef[(j, p, s)] > 0 for j in js):
                    continue  # no load in the slice's busiest hour (a profile's zero hours): nothing to cover
                prob += _terms((r[j, p, s], 1 / coef[(j, p, s)]) for j in js if coef[(j, p, s)] > 0) >= 1, \
                    _name("cover", c, p, s)
                _rounding_cuts(problem, c, p, s, js)
    if problem.compact:
        return
    for j, col in enumerate(problem.columns):
        interactive = not problem.deferrable[col.workload]
        for p in range(P):
            for s in range(S):
                a = coef[(j, p, s)]
                prob += a * x[j, p, s] - r[j, p, s] <= 0, _name("capacity", j, p, s)
                if not interactive or a <= 0:  # a = 0: no load in the slice, no replica needed
                    pass
                elif a < 1:
                    prob += x[j, p, s] - r[j, p, s] <= 0, _name("minreplica", j, p, s)
                elif (a - math.floor(a)) / a > MIN_ROUNDING_FRACTION:
                    f = math.floor(a) / a  # rounding facet, as in the one-slice model
                    prob += r[j, p, s] - x[j, p, s] / (1 - f) >= math.floor(a) - f / (1 - f), _name("rounding", j, p, s)
                prob += x[j, p, s] - most[col.workload] * problem.y[col.variant] <= 0, _name("link", j, p, s)


def _rounding_cuts(problem: SlicedProblem, c: int, p: int, s: int, js: list[int]) -> None:
    """:func:`planner.optimize.milp.cover_roundings` of the class's cover row in slice ``s``."""
    coef, r = problem.coef["capacity"], problem.r
    live = [j for j in js if coef[(j, p, s)] > 0]
    for k, weights, rhs in cover_roundings([coef[(j, p, s)] for j in live]):
        problem.prob += (_terms((r[j, p, s], w) for w, j in zip(weights, live, strict=True)) >= rhs,
                         _name("cg", c, p, s, f"{live[k]:05d}"))


def _quality_rows(problem: SlicedProblem, cs: CandidateSet, floors: list[float | None],
                  by_class: dict[int, list[int]]) -> None:
    if problem.compact:
        return  # one variant meeting every floor (pruning removed the others)
    for c, floor in enumerate(floors):
        if floor is None:
            continue
        q = {j: cs.variants[problem.columns[j].variant].profiles[cs.workloads[c]].quality_score for j in by_class[c]}
        if all(qj is None or qj >= floor for qj in q.values()):
            continue
        for p in range(problem.periods):
            problem.prob += pulp.lpSum(row_score(q[j], floor) * problem.volume_share(j, s) * problem.x[j, p, s]
                                       for j in by_class[c] for s in range(problem.slices.count)) >= floor, \
                _name("quality", c, p)


def _supply_rows(problem: SlicedProblem, scenario: Scenario, cs: CandidateSet,
                 by_hw: dict[int, list[int]], spot_ok: list[bool], keep: dict[int, np.ndarray],
                 with_caps: bool) -> None:
    """Family 5: per hardware, period and slice, GPUs in service cover the replicas (and spares)."""
    prob, offers, P, S = problem.prob, problem.offers, problem.periods, problem.slices.count
    by_offer_hw: dict[int, list[int]] = defaultdict(list)
    for k, offer in enumerate(offers):
        by_offer_hw[offer.hardware].append(k)
    for h, js in sorted(by_hw.items()):
        fixed = [k for k in by_offer_hw[h] if not problem.elastic(k)]
        elastic = [k for k in by_offer_hw[h] if problem.elastic(k)]
        strict = [j for j in js if not spot_ok[problem.columns[j].workload]]
        has_spot = any(offers[k].mode == "spot" for k in elastic)
        for p in range(P):
            paid = [(offers[k], problem.n[k, q]) for k in fixed for q in range(P) if offers[k].covers[q, p]]
            in_service = pulp.lpSum(o.gpus_per_unit * var for o, var in paid)  # n may be an expression (servers)
            spare_share = max((1.0 - o.supply_factor for o, _ in paid), default=0.0)
            spares = None
            if spare_share > 0:
                spares = prob.add_variable(_name("spares", h, p), 0, None, cat=pulp.LpInteger)
                owned = pulp.lpSum((1.0 - o.supply_factor) * o.gpus_per_unit * var for o, var in paid
                                   if o.supply_factor < 1.0)
                prob += owned - spares <= 0, _name("spares", h, p)
            for s in range(S):
                def elastic_gpus(kinds: list[int], s: int = s, p: int = p) -> pulp.LpAffineExpression:
                    return _terms((problem.e[k, p, s], float(keep[k][s]) * offers[k].gpus_per_unit) for k in kinds)

                def used(cols: list[int], s: int = s, p: int = p,
                         spares: pulp.LpVariable | None = spares) -> pulp.LpAffineExpression:
                    load = _terms((problem.r[j, p, s], problem.columns[j].tp) for j in cols)
                    return load + spares if spares is not None else load

                prob += used(js) - in_service - elastic_gpus(elastic) <= 0, _name("supply", h, p, s)
                if has_spot and strict:
                    firm = [k for k in elastic if offers[k].mode != "spot"]
                    prob += used(strict) - in_service - elastic_gpus(firm) <= 0, _name("nospot", h, p, s)
                quota = scenario.market.quota_gpus.get(cs.hardware[h].slug)
                if with_caps and quota is not None:
                    held = pulp.lpSum(offers[k].gpus_per_unit * problem.e[k, p, s] for k in elastic)
                    prob += in_service + held <= quota, _name("quota", h, p, s)
    if with_caps and scenario.market.power_cap_kw is not None:
        for p in range(P):
            owned_kw = pulp.lpSum(offer.power_kw * offer.gpus_per_unit * problem.n[k, q]
                                  for k, offer in enumerate(offers) if offer.mode == "buy"
                                  for q in range(P) if offer.covers[q, p])
            prob += owned_kw <= scenario.market.power_cap_kw, _name("power", p)
