r"""The pricing LP of a time-sliced plan: what one more request/s costs in each slice of the day.

The one-slice pricing LP of :mod:`planner.insight.explanation` holds every class's peak all day.  A
plan with time slices (a load profile, a deferrable class or spot offers) holds fixed capacity
(reserved, bought) all day and elastic capacity (on-demand, spot) per slice, so the cost of demand
depends on *when* it arrives.  This LP is that plan's model (:mod:`planner.optimize.milp_slices`)
with the chosen variant(s) fixed, the integers relaxed and, as in the one-slice LP, only the GPUs
priced (one-time work, fees and per-query charges do not move with capacity)::

    min  Σ_{o fixed} k_{o,p} n_{o,p}  +  Σ_{o elastic} e^$_{o,p,s} e_{o,p,s}                (k$)

    demand_c_p      L_{c,p} = λ̄_{c,p}                       (the class's mean rate at the period's end)
    capacity_c_p_s  Σ_{j∈c} (μ_j / s_{v,c}) r_{j,p,s} − peak_{c,s} L_{c,p} ≥ 0          (interactive)
                    Σ_{j∈c} (μ_j / s_{v,c}) r_{j,p,s} − X_{c,p,s} ≥ 0                  (deferrable)
    backlog_c_p_t   B_{c,p,t} − B_{c,p,t−1} + X_{c,p,s(t)} − w_{c,t} L_{c,p} = 0       (deferrable, cyclic)
    window_c_p_t    B_{c,p,t} − W_{c,t} L_{c,p} ≤ 0
    supply_h_p_s    Σ_j t_j r_{j,p,s} − Σ_{fixed} A_o n_{o,q} − Σ_{elastic} κ_{o,s} e_{o,p,s} ≤ 0
    nospot_h_p_s    the same over the classes that may not run on spot, without the spot offers
    quota_h_p_s     Σ_{fixed} n_{o,q} + Σ_{elastic} e_{o,p,s} ≤ quota_h

with every variable ≥ 0 and continuous; ``n_{o,p}`` GPUs entering service in ``p`` (0 before the
offer's lead time), counted in every period ``q`` they cover; ``e^$_{o,p,s}`` the present value of one
elastic GPU held in slice ``s`` of every cycle of period ``p`` (:func:`milp_slices.elastic_cost_usd`:
billed for the slice's hours, a reclaimed spot GPU's restart included); ``κ`` a spot GPU's chance to be
kept through the slice; ``A_o`` an owned GPU's share left after spares; ``w``, ``W`` the hourly
arrivals and deadline windows of :func:`milp_slices.deadline_windows`.

Duals read (USD present value, × 1000 from k$):

* ``demand_c_p`` — one more request/s of the class's **mean** rate, its daily shape kept (every
  hour's load up by the hour's weight): ``Σ_s peak_{c,s} π^{capacity}_{c,p,s}`` for an interactive
  class; for a deferrable class, what the cheapest hours within its deadline cost.
* ``capacity_c_p_s`` (interactive) — one more request/s at the **busiest hour of slice** ``s``: one
  replica's share of the GPUs that hold that slice (an elastic GPU's slice hours, or a fixed GPU's
  whole period where fixed capacity is what is marginal).
* not a dual: what one more GPU of type ``h`` allowed in period ``p`` saves is this LP re-solved with
  every slice's ``quota_h_p_s`` a little higher (:mod:`planner.insight.step_prices`; the quota duals
  summed over the slices were one of many where the optimum is degenerate: a quota of 0 with spot
  offered read $3,544 where one more H100 saves $319).

As in the one-slice LP, a dual is one valid price where the LP is degenerate (with flat demand a GPU
that covers several periods may be priced in one of them), so every price is measured by a re-solve
with the right-hand side a step higher: per class its mean rate in each period (``demand_c_p``) and
in every period (every ``demand_c_p``), and for an interactive class each slice's busiest hour in
each period (``capacity_c_p_s``); the report prints the first period's, the JSON all (a dual only
where a re-solve was not optimal; until the nineteenth session the later periods' were duals).  The
rounding and cover cuts of the MILP are left out: their right-hand sides do
not move with demand, so their duals would take part of its price that is not a price of capacity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pulp

from planner.catalog.store import Catalog
from planner.economics.offers import ModeOffer, mode_offers
from planner.economics.periods import Periods, demand_of, periods_of
from planner.economics.slices import TimeSlices, time_slices
from planner.insight.pricing_columns import chosen_columns
from planner.insight.step_prices import DEMAND_STEP_RPS, demand_groups, quota_savings, step_costs
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.milp_slices import (
    deadline_windows,
    elastic_cost_usd,
    runs_on_spot,
    supply_keep,
)
from planner.optimize.pruning import Column
from planner.plan_model import Plan
from planner.scenario.schema import Scenario
from planner.scenario.types import ELASTIC_MODES


@dataclass(frozen=True)
class SlicedDuals:
    """The duals of the module docstring, in USD (present value)."""

    labels: tuple[str, ...]  # per slice, its clock hours
    mean_demand: dict[tuple[int, int], float]  # (class, period) -> per request/s of mean rate
    slice_peak: dict[tuple[int, int, int], float]  # (interactive class, period, slice) -> per request/s
    quota: dict[tuple[int, int], float]  # (hardware, period) -> saved per GPU allowed (step_prices: a re-solve)
    #: (class, period | "every") -> one more request/s of mean rate in that period / every period (re-solves)
    mean_measured: dict[tuple[int, int | str], float]
    #: (interactive class, period, slice) -> one more request/s at the slice's busiest hour (re-solves)
    peak_measured: dict[tuple[int, int, int], float]


@dataclass
class _Model:
    prob: pulp.LpProblem
    columns: list[Column]
    offers: list[ModeOffer]
    slices: TimeSlices
    periods: Periods
    r: dict[tuple[int, int, int], pulp.LpVariable]
    n: dict[tuple[int, int], pulp.LpVariable]
    e: dict[tuple[int, int, int], pulp.LpVariable]
    load: dict[tuple[int, int], pulp.LpVariable]
    deferrable: list[bool]


def sliced_shadow_prices(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan) -> SlicedDuals | None:
    """Solve the module's LP for the plan's variant(s); None when the LP is not solved to optimality."""
    periods = periods_of(scenario.horizon)
    slices = time_slices(scenario.workload, scenario.horizon, scenario.plan.time_slices, catalog.load_shapes)
    columns = chosen_columns(scenario, cs, plan)
    offers, _ = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware), periods)
    hw_used = {c.hardware for c in columns}
    model = _variables(columns, [o for o in offers if o.hardware in hw_used], slices, periods,
                       [w.deadline_hours is not None for w in scenario.workload])
    _demand_rows(model, scenario, cs, demand_of(scenario.workload, scenario.horizon, periods).peak_rps
                 / scenario.horizon.peak_to_average)
    _supply_rows(model, scenario, cs)

    def solve() -> bool:
        return solvers.run(model.prob, "highs", catalog.defaults.solver_time_limit_s, 0.0, mip=False,
                           threads=scenario.solver.threads).status == solvers.SolveStatus.OPTIMAL

    if not solve():
        return None
    mean, peak, quota_rows = _read_duals(model)  # before the re-solves overwrite them
    base = float(pulp.value(model.prob.objective))
    quota = quota_savings(model.prob, quota_rows, solve, base)  # reads the optimum's row values: first
    mean_measured = step_costs(model.prob, demand_groups(mean, lambda c, p: [f"demand_{c}_{p}"]), solve, base,
                               DEMAND_STEP_RPS)
    peak_measured = step_costs(model.prob, {(c, p, s): [f"capacity_{c}_{p}_{s}"] for c, p, s in sorted(peak)},
                               solve, base, DEMAND_STEP_RPS)
    return SlicedDuals(labels=slices.labels, mean_demand=mean, slice_peak=peak, quota=quota,
                       mean_measured=mean_measured, peak_measured=peak_measured)


def _variables(columns: list[Column], offers: list[ModeOffer], slices: TimeSlices, periods: Periods,
               deferrable: list[bool]) -> _Model:
    """``r``, ``n``, ``e``, ``L`` and the objective (GPU costs, k$)."""
    prob = pulp.LpProblem("shadow_prices_sliced", pulp.LpMinimize)
    P, S = periods.count, slices.count
    r = {(j, p, s): prob.add_variable(f"r_{j:05d}_{p:03d}_{s:03d}", 0)
         for j in range(len(columns)) for p in range(P) for s in range(S)}
    n: dict[tuple[int, int], pulp.LpVariable] = {}
    e: dict[tuple[int, int, int], pulp.LpVariable] = {}
    terms: list[tuple[pulp.LpVariable, float]] = []
    for k, o in enumerate(offers):
        if o.mode in ELASTIC_MODES:
            price = elastic_cost_usd(o, slices, periods)
            for p in range(P):
                for s in range(S):
                    e[k, p, s] = prob.add_variable(f"e_{k:03d}_{p:03d}_{s:03d}", 0, None if o.may_start(p) else 0)
                    terms.append((e[k, p, s], float(price[p, s]) / USD_PER_KUSD))
        else:
            for p in range(P):
                n[k, p] = prob.add_variable(f"n_{k:03d}_{p:03d}", 0, None if o.may_start(p) else 0)
                terms.append((n[k, p], float(o.cost_usd[p]) / USD_PER_KUSD))
    prob += pulp.LpAffineExpression(terms)
    load = {(c, p): prob.add_variable(f"L_{c:03d}_{p:03d}", 0) for c in range(len(deferrable)) for p in range(P)}
    return _Model(prob=prob, columns=columns, offers=offers, slices=slices, periods=periods, r=r, n=n, e=e, load=load,
                  deferrable=deferrable)


def _capacity(m: _Model, js: list[int], served: dict[int, float], p: int, s: int) -> pulp.LpAffineExpression:
    """``Σ_{j∈c} (μ_j / s_{v,c}) r_{j,p,s}``: the requests/s the class's replicas serve in slice ``s``."""
    return pulp.LpAffineExpression([(m.r[j, p, s], m.columns[j].capacity_rps / served[j]) for j in js])


def _demand_rows(m: _Model, scenario: Scenario, cs: CandidateSet, mean_rps: np.ndarray) -> None:
    """``demand``, ``capacity`` and, for deferrable classes, ``backlog`` and ``window`` rows."""
    prob, P, S, L = m.prob, m.periods.count, m.slices.count, m.slices.cycle_hours
    by_class: dict[int, list[int]] = defaultdict(list)
    for j, col in enumerate(m.columns):
        by_class[col.workload].append(j)
    for c, w in enumerate(scenario.workload):
        js = by_class[c]
        served = {j: cs.variants[m.columns[j].variant].profiles[cs.workloads[c]].served_query_fraction for j in js}
        window = deadline_windows(m.slices, c, w.deadline_hours)[0] if w.deadline_hours is not None else None
        for p in range(P):
            prob += m.load[c, p] == float(mean_rps[c, p]), f"demand_{c}_{p}"
            if window is None:
                for s in range(S):
                    prob += (_capacity(m, js, served, p, s) - float(m.slices.peak[c, s]) * m.load[c, p] >= 0,
                             f"capacity_{c}_{p}_{s}")
                continue
            rate = [prob.add_variable(f"X_{c:03d}_{p:03d}_{s:03d}", 0) for s in range(S)]
            for s in range(S):
                prob += _capacity(m, js, served, p, s) - rate[s] >= 0, f"capacity_{c}_{p}_{s}"
            backlog = [prob.add_variable(f"B_{c:03d}_{p:03d}_{t:03d}", 0) for t in range(L)]
            for t in range(L):
                prob += (backlog[t] - backlog[t - 1] + rate[int(m.slices.hour_slice[t])]
                         - float(m.slices.weights[c, t]) * m.load[c, p] == 0), f"backlog_{c}_{p}_{t}"
                prob += backlog[t] - float(window[t]) * m.load[c, p] <= 0, f"window_{c}_{p}_{t}"


def _short(m: _Model, cols: list[int], paid: list[tuple[ModeOffer, pulp.LpVariable]], elastic: list[int],
           keep: dict[int, np.ndarray], p: int, s: int) -> pulp.LpAffineExpression:
    """GPUs the replicas of ``cols`` use in slice ``s`` of ``p`` less those ``paid`` and ``elastic`` supply."""
    return pulp.LpAffineExpression([(m.r[j, p, s], float(m.columns[j].tp)) for j in cols]
                                   + [(var, -o.supply_factor) for o, var in paid]
                                   + [(m.e[k, p, s], -float(keep[k][s])) for k in elastic])


def _supply_rows(m: _Model, scenario: Scenario, cs: CandidateSet) -> None:
    """``supply``, ``nospot`` and ``quota`` rows per hardware, period and slice."""
    prob, P, S = m.prob, m.periods.count, m.slices.count
    spot_ok = [runs_on_spot(w) for w in scenario.workload]
    for h in sorted({col.hardware for col in m.columns}):
        js = [j for j, col in enumerate(m.columns) if col.hardware == h]
        strict = [j for j in js if not spot_ok[m.columns[j].workload]]
        kinds = [k for k, o in enumerate(m.offers) if o.hardware == h]
        elastic = [k for k in kinds if m.offers[k].mode in ELASTIC_MODES]
        firm = [k for k in elastic if m.offers[k].mode != "spot"]
        keep = {k: supply_keep(m.offers[k], m.slices) for k in elastic}
        quota = scenario.market.quota_gpus.get(cs.hardware[h].slug)
        for p in range(P):
            paid = [(m.offers[k], m.n[k, q]) for k in kinds if k not in elastic for q in range(P)
                    if m.offers[k].covers[q, p]]
            for s in range(S):
                prob += _short(m, js, paid, elastic, keep, p, s) <= 0, f"supply_{h}_{p}_{s}"
                if strict and len(firm) < len(elastic):
                    prob += _short(m, strict, paid, firm, keep, p, s) <= 0, f"nospot_{h}_{p}_{s}"
                if quota is not None:
                    held = pulp.LpAffineExpression([(var, 1.0) for _, var in paid]
                                                   + [(m.e[k, p, s], 1.0) for k in elastic])
                    prob += held <= quota, f"quota_{h}_{p}_{s}"


def _read_duals(m: _Model) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int, int], float],
                                     dict[tuple[int, int], list[str]]]:
    """The demand duals (mean rate per class and period; busiest hour per interactive class, period
    and slice), USD, and the quota rows of each (hardware, period)."""
    mean: dict[tuple[int, int], float] = {}
    peak: dict[tuple[int, int, int], float] = {}
    quota_rows: dict[tuple[int, int], list[str]] = defaultdict(list)
    for name, row in m.prob.constraints.items():
        family, *idx = name.split("_")
        pi = (row.pi or 0.0) * USD_PER_KUSD
        if family == "demand":
            mean[int(idx[0]), int(idx[1])] = pi
        elif family == "capacity" and not m.deferrable[int(idx[0])]:
            peak[int(idx[0]), int(idx[1]), int(idx[2])] = pi
        elif family == "quota":
            quota_rows[int(idx[0]), int(idx[1])].append(name)
    return mean, peak, quota_rows
