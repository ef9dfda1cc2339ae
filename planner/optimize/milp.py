r"""The lifetime-cost MILP: which variant(s), which deployments, how many GPUs, bought how.

Notation (all precomputed in numpy; PuLP sees constants × variables only):

* ``v`` variants, ``c`` request classes, ``p`` periods, ``h`` hardware types, ``o`` offers
  (a hardware type in one acquisition mode), ``j`` columns: pruned deployments, each serving one
  class ``c(j)`` with variant ``v(j)`` on ``h(j)`` with ``t_j`` GPUs per replica and capacity
  ``μ_j`` requests/s per replica (roofline, at a batch meeting the class's TTFT/TPOT).
* ``λ_{c,p}`` peak requests/s, ``s_{v,c}`` share of queries reaching the model (caches),
  ``q_{v,c}`` quality, ``Q_c = base − max_drop_c`` the floor, ``K`` = ``plan.max_variants``.
* ``F_v`` one-time cost (PV), ``k_{o,p}`` PV cost of one GPU of offer ``o`` acquired in ``p``,
  ``A_{o,p,p'}`` = 1 when that GPU serves period ``p'``, ``ρ_{j,p}`` technique cost per unit
  of traffic share (e.g. a response store), ``M_v`` fixed technique cost per month.

Variables: ``y_v ∈ {0,1}``; ``x_{j,p} ∈ [0,1]`` traffic share; ``r_{j,p} ∈ ℤ≥0`` replicas;
``n_{o,p} ∈ ℤ≥0`` units acquired (rented for ``p``, reserved or bought from ``p``), each of ``u_o``
GPUs (``market.gpus_per_unit``, e.g. 8-GPU servers; 1 by default): ``k_{o,p}``, the supply and the
power rows count ``u_o·n_{o,p}`` GPUs. For an offer with ``u_o > 1`` (whole servers) the model's variables are
``S_{o,p} = Σ_{q≤p} n_{o,q}`` and ``n_{o,p}`` is ``S_{o,p} − S_{o,p−1}`` (:func:`planner.optimize.servers.cumulative_servers`).

Minimise (in k$)  ``Σ_v F_v y_v + Σ_{o,p} k_{o,p} n_{o,p} + Σ_{j,p} ρ_{j,p} x_{j,p} + Σ_v M_v·Σ_p m·δ_p·y_v``

subject to (each family a function below, each row named ``<family>_<index…>``):

1. ``demand_c_p``:    ``Σ_{j∈c} x_{j,p} = 1``
2. ``capacity_j_p``:  ``a_{j,p} x_{j,p} ≤ r_{j,p}`` with ``a_{j,p} = λ_{c,p} s_{v,c} / μ_j``, plus two
   families of valid inequalities that tighten the LP relaxation without removing any integer
   point: ``x_{j,p} ≤ r_{j,p}`` when ``a < 1`` (any traffic needs a replica), and the rounding
   facet ``r ≥ ⌊a⌋ + (x − φ)/(1 − φ)`` with ``φ = ⌊a⌋/a`` otherwise; and per class
   ``cover_c_p``: ``Σ_j r_{j,p}/a_{j,p} ≥ 1`` (the capacity rows summed, on the integers)
3. ``link_j_p``:      ``x_{j,p} ≤ y_{v(j)}``;  ``variants``: ``Σ_v y_v ≤ K``
4. latency: columns that miss TTFT/TPOT do not exist (filtered before the model is built)
5. ``quality_c_p``:   ``Σ_{j∈c} q_{v(j),c} x_{j,p} ≥ Q_c`` (traffic-weighted; an unscored variant counts ``Q_c``);
   ``min_replicas_c_p``: ``Σ_{j∈c} r_{j,p} ≥ R_c`` where ``workload.min_replicas`` asks (N+1); with
   disaggregated pairs each phase keeps ``R_c``: a co-located replica counts for both, a prefill
   pool's replica in ``min_replicas_c_p`` (``+ Σ_k P_{k,p}``), a decode pool's in
   ``min_replicas_decode_c_p`` (``Σ_j r_{j,p} + Σ_k D_{k,p} ≥ R_c``)
6. ``supply_h_p``:    ``Σ_{j∈h} t_j r_{j,p} + z_{h,p} ≤ Σ_{o∈h} Σ_{p'} u_o A_{o,p',p} n_{o,p'}`` and
   ``spares_h_p``: ``z_{h,p} ≥ Σ_{o∈h owned} (1 − σ_o) u_o A_{o,p',p} n_{o,p'}`` with ``z`` whole spare GPUs
   and ``1 − σ_o = φ·d/365`` the owned fleet's expected share out for repair (rented GPUs carry no
   spares; the rows exist only where some owned offer has ``σ_o < 1``); ``n_{o,p} = 0`` before the
   offer's lead time lets it serve;
   ``quota_h_p`` (GPUs paid for, all modes) ``≤ quota_h``; ``power_p``: owned facility kW ``≤`` cap;
   ``budget``: the objective ``≤`` budget.

Ties: the model is always built in one canonical order — variants in registry order, hardware by
on-demand price then slug, acquisition modes in ``MODE_ORDER``, periods in time order — and HiGHS is deterministic for a
given model and seed, so among equal-cost plans the same one is returned whatever the order of
hardware, modes or techniques in the scenario file.

Pruning before the model (exact — it cannot remove an optimum):

* per (variant, class, hardware, TP) only the latency-feasible batch with the highest ``μ`` is
  kept (same GPUs per replica, more capacity);
* across TP, a column is kept only if its capacity per GPU ``μ/t`` beats every smaller-TP
  column's: with power-of-two TP, ``⌈λ/μ₁⌉·t₁ ≤ ⌈λ/μ₂⌉·t₂`` whenever ``μ₁/t₁ ≥ μ₂/t₂``, ``t₁ < t₂``;
* with ``K = 1`` a variant below the quality floor of any class cannot be chosen and is removed.

Split granularity (``plan.split_granularity = k``) replaces ``x`` by ``s/k`` with integer slice
counts ``s ∈ {0..k}``.  :func:`solve` then solves the continuous split first (``s`` continuous, the
default model): its proven bound ``L`` is a lower bound on the k-split optimum, and the k-split
search stops as soon as it finds a plan within the gap of ``L`` (HiGHS ``objective_target``),
instead of proving a bound the relaxation already proved (see :func:`planner.optimize.solver.relax_and_target`).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulp

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.pruning import Column, row_score
from planner.optimize.servers import Units, cumulative_servers
from planner.optimize.solver import SolveStatus
from planner.scenario.schema import Scenario

USD_PER_KUSD = 1e3
#: Coefficients beyond this dynamic range are refused before solving (solver-and-sweeps §1.3).
MAX_COEFFICIENT_RANGE = 1e9
#: The rounding facet's slope is a / (a − ⌊a⌋); it is added only while that stays below
#: 1 / MIN_ROUNDING_FRACTION, so that no cut brings a badly scaled coefficient into the model.
MIN_ROUNDING_FRACTION = 1e-3
#: Smallest load per replica ``a`` the model holds: a tinier one (1e-10 queries/day) would put
#: 1/a ~ 1e15 into the cover rows.  Raising it changes no integer plan — for ``a <= 1`` any traffic
#: needs one replica and one replica carries all of it (``x <= r`` and ``r >= a·x`` alike).
MIN_LOAD_PER_REPLICA = 1e-6
#: Constraint violations larger than this (in the row's own units) make a solution untrustworthy.
VERIFY_TOLERANCE = 1e-5


@dataclass
class Problem:
    prob: pulp.LpProblem
    columns: list[Column]
    variants: list[int]
    offers: list[ModeOffer]
    y: dict[int, pulp.LpVariable]
    x: dict[tuple[int, int], pulp.LpVariable]
    r: dict[tuple[int, int], pulp.LpVariable]
    n: dict[tuple[int, int], pulp.LpVariable | pulp.LpAffineExpression]  # whole servers: S_{o,p} − S_{o,p−1}
    coef: dict[str, dict[tuple[int, ...], float]] = field(default_factory=dict)
    slices: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)  # s (split granularity only)
    servers: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)  # S_{o,p} of whole-server offers
    stats: dict[str, int] = field(default_factory=dict)
    compact: bool = False
    periods: int = 0
    extra: ExtraColumns | None = None  # columns built by another module (disaggregated pairs)

    def shares(self) -> dict[tuple[int, int], float]:
        """Traffic share of every (column, period) in the solution.

        The full model reads ``x``.  The compact model has no ``x``: its cover rows guarantee
        ``Σ_j r_j / a_j ≥ 1`` per class and period, so a valid split exists; it is built by
        filling columns in order, each up to its capacity share ``min(1, r_j / a_j)``.
        """
        if not self.compact:
            return {k: float(v.value() or 0.0) for k, v in self.x.items()}
        out: dict[tuple[int, int], float] = {}
        by_class: dict[int, list[int]] = defaultdict(list)
        for j, col in enumerate(self.columns):
            by_class[col.workload].append(j)
        for js in by_class.values():
            for p in range(self.periods):
                left = 1.0
                for j in js:
                    a = self.coef["capacity"][(j, p)]
                    replicas = self.r[j, p].value() or 0.0
                    share = min(left, replicas / a if a > 0 else (1.0 if replicas else 0.0))
                    out[(j, p)] = share
                    left -= share
        return out


@dataclass
class ExtraColumns:
    """Columns another module adds through :func:`build_problem`'s ``extra`` hook (disaggregated pairs,
    :mod:`planner.optimize.disagg_milp`): their own variables and rows are theirs; these are their
    terms in this module's rows — shares in ``demand``/``quality``, implied terms in ``cover``, GPUs in
    ``supply`` (and the bound on ``n``), and their cost in the objective."""

    share: dict[tuple[int, int], list[pulp.LpVariable]] = field(default_factory=lambda: defaultdict(list))
    quality: dict[tuple[int, int], list[tuple[float, pulp.LpVariable]]] = field(
        default_factory=lambda: defaultdict(list))
    cover: dict[tuple[int, int], list[pulp.LpAffineExpression]] = field(default_factory=lambda: defaultdict(list))
    gpus: dict[tuple[int, int], list[pulp.LpAffineExpression]] = field(default_factory=lambda: defaultdict(list))
    # per (class, period) the replicas of each phase's pools: terms of the ``min_replicas`` rows
    prefill_replicas: dict[tuple[int, int], list[pulp.LpVariable]] = field(default_factory=lambda: defaultdict(list))
    decode_replicas: dict[tuple[int, int], list[pulp.LpVariable]] = field(default_factory=lambda: defaultdict(list))
    gpu_upper: dict[int, int] = field(default_factory=dict)
    cost: list[pulp.LpAffineExpression] = field(default_factory=list)
    integers: int = 0
    state: object = None  # the adding module's own record (its variables, for verification and extraction)


def _name(*parts: object) -> str:
    return "_".join(str(p) for p in parts)


@dataclass
class _Traffic:
    """The traffic-side variables and their coefficients, keyed by (column, period)."""

    x: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    r: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    slices: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    capacity_coef: dict[tuple[int, ...], float] = field(default_factory=dict)
    by_class: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_hw: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def build_problem(
    scenario: Scenario,
    cs: CandidateSet,
    columns: list[Column],
    offers: list[ModeOffer],
    periods: Periods,
    demand: Demand,
    one_time_usd: dict[int, float],
    floors: list[float | None],
    *,
    with_caps: bool = True,
    compact: bool = False,
    extra: Callable[[pulp.LpProblem, dict[int, pulp.LpVariable]], ExtraColumns] | None = None,
) -> Problem:
    """The MILP of the module docstring (``with_caps=False`` drops quota, power and budget rows).

    ``compact=True`` (one variant, no quality row needed) builds the same problem projected onto
    the integers: without ``x`` the demand, capacity and link rows reduce to the cover rows
    ``Σ_j r_{j,p}/a_{j,p} ≥ 1``, and a class's traffic cost ``Σ_j ρ_{j,p} x_{j,p}`` is the same for
    every column of the variant, so it becomes the constant ``ρ_{c,p} · y``.  The optimum is the
    same; the model is half the size and solves faster.

    Variables and rows are added in one fixed order (the solver's path, hence tie-breaking, depends on it).

    ``extra`` (a hook: called with the problem and ``y`` after the traffic variables) adds columns
    built elsewhere and returns their terms in this module's rows (:class:`ExtraColumns`); it needs
    the full (not compact) model.
    """
    prob = pulp.LpProblem("whatif_plan", pulp.LpMinimize)
    variants = sorted({col.variant for col in columns})
    _check_compact(scenario, variants, compact, extra is not None)
    y = {v: prob.add_variable(_name("y", f"{v:05d}"), cat=pulp.LpBinary) for v in variants}
    traffic = _traffic_variables(prob, scenario, cs, columns, periods.count, demand, compact)
    more = extra(prob, y) if extra is not None else ExtraColumns()
    usable_offers = [o for o in offers if o.hardware in traffic.by_hw or o.hardware in more.gpu_upper]
    n, servers = _gpu_variables(prob, columns, usable_offers, traffic, periods.count,
                                [w.min_replicas for w in scenario.workload], more.gpu_upper)
    objective, traffic_cost = _objective(scenario, cs, columns, usable_offers, periods, demand, one_time_usd,
                                         variants, y, traffic, n, compact)
    objective += pulp.lpSum(more.cost)
    prob += objective
    _demand_and_capacity_rows(prob, scenario, cs, columns, periods.count, y, traffic, compact, more)
    prob += pulp.lpSum(y.values()) <= scenario.plan.max_variants, "variants"
    _quality_rows(prob, cs, columns, periods.count, floors, traffic, compact, more)
    _min_replica_rows(prob, scenario, periods.count, traffic, more)
    _supply_rows(prob, scenario, cs, columns, usable_offers, periods.count, traffic, n, with_caps, more)
    if with_caps and scenario.market.budget_usd is not None:
        prob += objective <= scenario.market.budget_usd / USD_PER_KUSD, "budget"
    integer_count = ((0 if scenario.plan.pooled_capacity else len(traffic.r)) + len(n) + len(y) + len(traffic.slices)
                     + more.integers)
    return Problem(prob=prob, columns=columns, variants=variants, offers=usable_offers, y=y, x=traffic.x, r=traffic.r,
                   n=n, coef={"capacity": traffic.capacity_coef, "traffic_cost": traffic_cost}, slices=traffic.slices,
                   compact=compact, servers=servers,
                   periods=periods.count, extra=more if extra is not None else None,
                   stats={"variables": prob.numVariables(), "constraints": prob.numConstraints(),
                          "integer_variables": integer_count})


def _check_compact(scenario: Scenario, variants: list[int], compact: bool, extra: bool) -> None:
    """The compact model holds one variant and no traffic share: refuse what needs the shares."""
    if not compact:
        return
    if len(variants) != 1:
        raise ValueError("the compact model holds exactly one variant")
    if scenario.plan.split_granularity is not None or scenario.plan.pooled_capacity:
        raise ValueError("split granularity and pooled capacity need the traffic shares: not the compact model")
    if extra:
        raise ValueError("extra columns need the traffic shares: not the compact model")


def _traffic_variables(prob: pulp.LpProblem, scenario: Scenario, cs: CandidateSet, columns: list[Column], P: int,
                       demand: Demand, compact: bool) -> _Traffic:
    """``x`` (or ``s/k`` with integer slice counts), ``r`` (or the pooled load ``a·x``), and ``a_{j,p}``."""
    t = _Traffic()
    served = {(v.index, c): v.profiles[w].served_query_fraction for v in cs.variants for c, w in enumerate(cs.workloads)}
    pooled, k = scenario.plan.pooled_capacity, scenario.plan.split_granularity
    for j, col in enumerate(columns):
        t.by_class[col.workload].append(j)
        t.by_hw[col.hardware].append(j)
        for p in range(P):
            a = demand.peak_rps[col.workload, p] * served[(col.variant, col.workload)] / col.capacity_rps
            if 0 < a < MIN_LOAD_PER_REPLICA:  # exact: below one replica, any traffic needs exactly one
                a = MIN_LOAD_PER_REPLICA
            t.capacity_coef[(j, p)] = a
            if k is not None:  # x = s/k with s integer in [0, k]: a class splits only in multiples of 1/k
                t.slices[j, p] = prob.add_variable(_name("s", f"{j:05d}", f"{p:03d}"), 0, k, cat=pulp.LpInteger)
                t.x[j, p] = t.slices[j, p] * (1.0 / k)  # type: ignore[assignment]
            elif not compact:
                t.x[j, p] = prob.add_variable(_name("x", f"{j:05d}", f"{p:03d}"), 0, 1)
            if pooled:  # fluid load a·x, pooled per hardware type: only the GPUs are whole (no variable)
                t.r[j, p] = a * t.x[j, p]  # type: ignore[assignment]
            else:
                # ⌈a⌉ replicas carry the whole class; min_replicas must stay reachable with one column
                upper = max(1, scenario.workload[col.workload].min_replicas, math.ceil(a - 1e-9))
                t.r[j, p] = prob.add_variable(_name("r", f"{j:05d}", f"{p:03d}"), 0, upper, cat=pulp.LpInteger)
    return t


def _gpu_variables(prob: pulp.LpProblem, columns: list[Column], offers: list[ModeOffer], traffic: _Traffic,
                   P: int, min_replicas: list[int],
                   extra_upper: dict[int, int]) -> tuple[Units, dict[tuple[int, int], pulp.LpVariable]]:
    """``n_{o,p}`` in units of ``u_o`` GPUs, bounded by the GPUs every column of that hardware would need at
    its peak; whole-server offers as cumulative counts (:func:`cumulative_servers`, their ``S`` returned too)."""
    gpu_ub = {h: extra_upper.get(h, 0) + max(1, sum(columns[j].tp * max(1, min_replicas[columns[j].workload],
                                                math.ceil(max(traffic.capacity_coef[(j, p)] for p in range(P)) - 1e-9))
                            for j in js))
              for h, js in traffic.by_hw.items()}
    gpu_ub.update({h: max(1, ub) for h, ub in extra_upper.items() if h not in gpu_ub})
    n: Units = {}
    servers: dict[tuple[int, int], pulp.LpVariable] = {}
    for o, offer in enumerate(offers):
        bounds = [math.ceil(gpu_ub[offer.hardware] / (offer.gpus_per_unit * offer.supply_factor))
                  if offer.may_start(p) else 0 for p in range(P)]
        if offer.gpus_per_unit > 1:
            cumulative_servers(prob, o, bounds, n, servers)
            continue
        for p in range(P):
            n[o, p] = prob.add_variable(_name("n", f"{o:03d}", f"{p:03d}"), 0, bounds[p], cat=pulp.LpInteger)
    return n, servers


def _objective(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
               periods: Periods, demand: Demand, one_time_usd: dict[int, float], variants: list[int],
               y: dict[int, pulp.LpVariable], traffic: _Traffic, n: dict[tuple[int, int], pulp.LpVariable],
               compact: bool) -> tuple[pulp.LpAffineExpression, dict[tuple[int, ...], float]]:
    """Lifetime cost in k$, and ``ρ_{j,p}`` (for the explanation's cost breakdown)."""
    P = periods.count
    cost_terms = [one_time_usd.get(v, 0.0) / USD_PER_KUSD * y[v] for v in variants]
    cost_terms += [offer.cost_usd[p] * offer.gpus_per_unit / USD_PER_KUSD * n[o, p]
                   for o, offer in enumerate(offers) for p in range(P)]
    traffic_cost: dict[tuple[int, ...], float] = {}
    class_traffic: dict[tuple[int, int], float] = {}
    for j, col in enumerate(columns):
        profile = cs.variants[col.variant].profiles[cs.workloads[col.workload]]
        for p in range(P):
            rho = (profile.recurring_usd_per_million_queries * demand.queries[col.workload, p] / 1e6
                   * periods.discount_mid[p])
            if rho > 0:
                traffic_cost[(j, p)] = rho
                if compact:
                    class_traffic[(col.workload, p)] = rho
                else:
                    cost_terms.append(rho / USD_PER_KUSD * traffic.x[j, p])
    if compact and class_traffic:
        cost_terms.append(sum(class_traffic.values()) / USD_PER_KUSD * y[variants[0]])
    month_pv = float((periods.months * periods.discount_mid).sum())
    fees = {v: cs.variants[v].monthly_fee_usd() for v in variants}  # every variant, pair columns' too
    cost_terms += [fees[v] * month_pv / USD_PER_KUSD * y[v] for v in variants if fees[v] > 0]
    return pulp.lpSum(cost_terms), traffic_cost


def _demand_and_capacity_rows(prob: pulp.LpProblem, scenario: Scenario, cs: CandidateSet, columns: list[Column],
                              P: int, y: dict[int, pulp.LpVariable], traffic: _Traffic, compact: bool,
                              more: ExtraColumns) -> None:
    """Families 1–3 of the module docstring: demand, cover, capacity with its cuts, and link rows."""
    x, r, coef = traffic.x, traffic.r, traffic.capacity_coef
    pooled = scenario.plan.pooled_capacity
    for c in range(len(cs.workloads)):
        for p in range(P):
            if not compact:
                prob += (pulp.lpSum(x[j, p] for j in traffic.by_class[c]) + pulp.lpSum(more.share.get((c, p), []))
                         == 1), _name("demand", c, p)
            # the capacity rows summed over the class, written on the integers alone: a knapsack
            # cover row the solver can strengthen with cuts (implied, so the optimum is unchanged)
            if not pooled:
                prob += (pulp.lpSum(r[j, p] / coef[(j, p)] for j in traffic.by_class[c] if coef[(j, p)] > 0)
                         + pulp.lpSum(more.cover.get((c, p), [])) >= 1), _name("cover", c, p)
    for j, col in enumerate(columns):
        for p in range(P):
            if compact:
                prob += r[j, p] - (r[j, p].upBound or 0.0) * y[col.variant] <= 0, _name("link", j, p)
                continue
            a = coef[(j, p)]
            if pooled:  # r is a·x itself: no capacity row, and the cuts below hold for whole replicas only
                prob += x[j, p] - y[col.variant] <= 0, _name("link", j, p)
                continue
            prob += a * x[j, p] - r[j, p] <= 0, _name("capacity", j, p)
            if a < 1:
                prob += x[j, p] - r[j, p] <= 0, _name("minreplica", j, p)
            elif (a - math.floor(a)) / a > MIN_ROUNDING_FRACTION:
                # rounding facet of {(x, r): r >= a·x, r integer, 0 <= x <= 1}: the line through
                # (⌊a⌋/a, ⌊a⌋) and (1, ⌈a⌉); valid for every integer point, it cuts fractional replicas
                f = math.floor(a) / a
                prob += r[j, p] - x[j, p] / (1 - f) >= math.floor(a) - f / (1 - f), _name("rounding", j, p)
            prob += x[j, p] - y[col.variant] <= 0, _name("link", j, p)


def _quality_rows(prob: pulp.LpProblem, cs: CandidateSet, columns: list[Column], P: int,
                  floors: list[float | None], traffic: _Traffic, compact: bool, more: ExtraColumns) -> None:
    """Family 5: traffic-weighted quality per class, only where some column sits below the floor."""
    for c, floor in enumerate(floors):
        if floor is None:
            continue
        q = {j: cs.variants[columns[j].variant].profiles[cs.workloads[c]].quality_score for j in traffic.by_class[c]}
        if all(qj is None or qj >= floor for qj in q.values()) and all(
                qk >= floor for p in range(P) for qk, _ in more.quality.get((c, p), [])):
            continue
        if compact:
            raise ValueError("the compact model cannot hold a quality row (a variant below the floor)")
        for p in range(P):
            prob += (pulp.lpSum(row_score(q[j], floor) * traffic.x[j, p] for j in traffic.by_class[c])
                     + pulp.lpSum(qk * xk for qk, xk in more.quality.get((c, p), [])) >= floor), _name("quality", c, p)


def _min_replica_rows(prob: pulp.LpProblem, scenario: Scenario, P: int, traffic: _Traffic,
                      more: ExtraColumns) -> None:
    """Family 5b: ``Σ_{j ∈ c} r_{j,p} ≥ workload.min_replicas`` (N+1 and the like), where asked; with
    disaggregated pools, once per phase (module docstring).  Whole replicas only: the scenario refuses
    ``min_replicas`` with ``plan.pooled_capacity``, whose ``r`` is a fluid load ``a·x``."""
    for c, w in enumerate(scenario.workload):
        if w.min_replicas > 0:
            for p in range(P):
                colocated = [traffic.r[j, p] for j in traffic.by_class[c]]
                prob += pulp.lpSum(colocated + more.prefill_replicas.get((c, p), [])) >= w.min_replicas, \
                    _name("min_replicas", c, p)
                if more.decode_replicas.get((c, p)):
                    prob += pulp.lpSum(colocated + more.decode_replicas[(c, p)]) >= w.min_replicas, \
                        _name("min_replicas_decode", c, p)


def _supply_rows(prob: pulp.LpProblem, scenario: Scenario, cs: CandidateSet, columns: list[Column],
                 offers: list[ModeOffer], P: int, traffic: _Traffic, n: dict[tuple[int, int], pulp.LpVariable],
                 with_caps: bool, more: ExtraColumns) -> None:
    """Family 6: GPUs in service cover the replicas; quota per hardware and power cap on owned GPUs."""
    offers_by_hw: dict[int, list[int]] = defaultdict(list)
    for o, offer in enumerate(offers):
        offers_by_hw[offer.hardware].append(o)
    hardware = [*traffic.by_hw, *(h for h in more.gpu_upper if h not in traffic.by_hw)]
    for h in hardware:
        js = traffic.by_hw.get(h, [])
        for p in range(P):
            paid = [(offers[o], n[o, q]) for o in offers_by_hw[h] for q in range(P) if offers[o].covers[q, p]]
            in_service = pulp.lpSum(o.gpus_per_unit * var for o, var in paid)
            spare_share = max((1.0 - o.supply_factor for o, _ in paid), default=0.0)
            used = pulp.lpSum(columns[j].tp * traffic.r[j, p] for j in js) + pulp.lpSum(more.gpus.get((h, p), []))
            if spare_share > 0:  # whole spare GPUs for the owned fleet's expected failures (module docstring)
                spares = prob.add_variable(_name("spares", h, p), 0, None, cat=pulp.LpInteger)
                owned = pulp.lpSum((1.0 - o.supply_factor) * o.gpus_per_unit * var for o, var in paid
                                   if o.supply_factor < 1.0)
                prob += owned - spares <= 0, _name("spares", h, p)
                used = used + spares
            prob += used - in_service <= 0, _name("supply", h, p)
            quota = scenario.market.quota_gpus.get(cs.hardware[h].slug)
            if with_caps and quota is not None:
                prob += in_service <= quota, _name("quota", h, p)
    if with_caps and scenario.market.power_cap_kw is not None:
        for p in range(P):
            owned = pulp.lpSum(offer.power_kw * offer.gpus_per_unit * n[o, q] for o, offer in enumerate(offers)
                               if offer.mode == "buy" for q in range(P) if offer.covers[q, p])
            prob += owned <= scenario.market.power_cap_kw, _name("power", p)


def solve(problem: Problem, name: str, time_limit_s: float, gap_rel: float,
          threads: int | None = None, cutoff_usd: float | None = None,
          node_limit: int | None = None) -> solvers.SolveOutcome:
    """Solve the MILP: directly, or with split granularity through :func:`planner.optimize.solver.relax_and_target`.

    With slices, the continuous split (``s`` continuous) is solved first; its bound is where the
    k-split search may stop, proven optimal, as soon as it finds a plan that cheap.

    ``cutoff_usd`` (HiGHS, no slices): only plans cheaper than it are searched for (HiGHS
    ``objective_bound``: nodes whose bound reaches it are pruned).  A plan found below the cutoff
    and proven ``optimal`` is optimal as without it.  HiGHS 1.16 labels a search that found nothing
    below the cutoff ``optimal`` *with a worse plan* (or ``infeasible``); both are returned as
    :attr:`SolveStatus.CUTOFF` — "nothing cheaper than the cutoff" — never as an optimum.
    """
    if not problem.slices:
        use_cutoff = cutoff_usd is not None and name == "highs"
        options: dict[str, float] = {"objective_bound": cutoff_usd / USD_PER_KUSD} if use_cutoff else {}  # type: ignore[operator]
        if node_limit is not None and name == "highs":
            options["mip_max_nodes"] = node_limit
        outcome = solvers.run(problem.prob, name, time_limit_s, gap_rel, threads=threads, options=options)
        return label_cutoff(outcome, problem.prob, cutoff_usd) if use_cutoff else outcome
    return solvers.relax_and_target(problem.prob, list(problem.slices.values()), name, time_limit_s, gap_rel,
                                    threads=threads)


#: A ratio within this of a whole number is rounded as that number in a Chvátal–Gomory coefficient
#: (valid while it times the replicas stays below the load's fractional part, ``MIN_ROUNDING_FRACTION``).
CG_TOLERANCE = 1e-9


def cover_roundings(loads: Sequence[float]) -> list[tuple[int, list[int], int]]:
    """Chvátal–Gomory roundings of a cover row ``Σ_j r_j / a_j ≥ 1`` over whole replicas ``r ≥ 0``.

    Scaled by ``a_k`` and rounded up, ``Σ_j ⌈a_k / a_j⌉ r_j ≥ ⌈a_k⌉`` holds for every integer point
    (``Σ_j (a_k/a_j) r_j ≥ a_k``; rounding the coefficients up keeps it; the left side is whole), so it
    removes no plan; for column ``k`` it reads "``⌈a_k⌉`` replicas of ``k``, or their equivalent in the
    others", which the LP relaxation's ``r_k = a_k`` violates.  One per column whose load is not whole:
    ``(k, weights, right-hand side)``.
    """
    out = []
    for k, a_k in enumerate(loads):
        if a_k <= 0 or a_k - math.floor(a_k) < MIN_ROUNDING_FRACTION:
            continue
        out.append((k, [math.ceil(a_k / a_j - CG_TOLERANCE) if a_j > 0 else 0 for a_j in loads], math.ceil(a_k)))
    return out


def label_cutoff(outcome: solvers.SolveOutcome, prob: pulp.LpProblem, cutoff_usd: float | None) -> solvers.SolveOutcome:
    """A HiGHS solve given ``objective_bound = cutoff``: "nothing found below the cutoff" comes back
    ``infeasible`` or ``optimal`` *with a worse plan* (HiGHS 1.16); both become
    :attr:`SolveStatus.CUTOFF`, never an optimum."""
    if cutoff_usd is None:
        return outcome
    value = pulp.value(prob.objective)
    above = value is None or value * USD_PER_KUSD >= cutoff_usd
    if outcome.status == SolveStatus.INFEASIBLE or (outcome.status == SolveStatus.OPTIMAL and above):
        return dataclasses.replace(outcome, status=SolveStatus.CUTOFF,
                                   message=f"no plan cheaper than the cutoff ${cutoff_usd:,.0f}")
    return outcome


def coefficient_range(problem: Problem) -> tuple[float, float]:
    """Smallest and largest non-zero |coefficient| of the constraint matrix (what solvers scale)."""
    values = [abs(a) for c in problem.prob.constraints.values() for a in c.values() if a != 0]
    return (min(values), max(values)) if values else (1.0, 1.0)
