"""The PuLP-built lifetime MILPs checked against hand calculations: :mod:`planner.optimize.milp` (one
slice per period) and :mod:`planner.optimize.milp_slices` (time slices).

Each model is built directly from a tiny hand-made input — a few columns with round capacities, offers
with round prices, periods with discount factors chosen by hand — so that every objective coefficient,
every row's coefficients, sense and right-hand side, and every optimum can be worked out on paper.  The
arithmetic is in each test's docstring or comments; nothing expected is computed by the code under test.

Figures in the models are k$ (``USD_PER_KUSD`` = 1,000); a period of ``m = 3`` months has
``H = 3 × 730.5 = 2,191.5`` hours.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pulp
import pytest

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.economics.slices import TimeSlices
from planner.optimize import milp
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.direct import build as build_direct
from planner.optimize.direct import model_data
from planner.optimize.direct_solve import run_highs
from planner.optimize.milp import (
    Problem,
    build_problem,
    coefficient_range,
    cover_roundings,
    label_cutoff,
)
from planner.optimize.milp_slices import (
    SlicedProblem,
    build_sliced,
    deadline_windows,
    elastic_cost_usd,
)
from planner.optimize.pruning import Column
from planner.optimize.solver import SolveOutcome, SolveStatus
from planner.optimize.variants import Variant
from planner.scenario.schema import Scenario

GE, LE, EQ = pulp.LpConstraintGE, pulp.LpConstraintLE, pulp.LpConstraintEQ

# --------------------------------------------------------------------------------------------------
# hand-made inputs


def profile(served: float = 1.0, quality: float | None = None, per_million: float = 0.0,
            per_month: float = 0.0) -> Any:
    """What the builders read of a serving profile."""
    return SimpleNamespace(served_query_fraction=served, quality_score=quality,
                           recurring_usd_per_million_queries=per_million, recurring_usd_per_month=per_month)


def candidates(variants: list[dict[str, Any]], classes: tuple[str, ...] = ("chat",),
               hardware: tuple[str, ...] = ("gpu-a",)) -> CandidateSet:
    """A candidate set of ``variants`` (class name -> profile each) on ``hardware`` (slugs)."""
    return cast(CandidateSet, SimpleNamespace(
        workloads=list(classes), hardware=[SimpleNamespace(slug=s) for s in hardware],
        variants=[Variant(index=i, options={}, profiles=p) for i, p in enumerate(variants)]))


def scen(classes: int = 1, *, min_replicas: int | list[int] = 0, max_variants: int = 1,
         quota: dict[str, int] | None = None, power_kw: float | None = None, budget_usd: float | None = None,
         split: int | None = None, pooled: bool = False, deadlines: list[float | None] | None = None,
         allow_spot: list[bool | None] | None = None, peak_to_average: float = 1.0) -> Scenario:
    """What the builders read of a scenario."""
    floors = min_replicas if isinstance(min_replicas, list) else [min_replicas] * classes
    deadlines = deadlines or [None] * classes
    allow_spot = allow_spot or [None] * classes
    workload = [SimpleNamespace(min_replicas=floors[c], deadline_hours=deadlines[c], allow_spot=allow_spot[c])
                for c in range(classes)]
    return cast(Scenario, SimpleNamespace(
        workload=workload,
        plan=SimpleNamespace(pooled_capacity=pooled, split_granularity=split, max_variants=max_variants),
        market=SimpleNamespace(budget_usd=budget_usd, quota_gpus=quota or {}, power_cap_kw=power_kw),
        horizon=SimpleNamespace(peak_to_average=peak_to_average)))


def periods(discount: list[float], months: int = 3) -> Periods:
    """Periods of ``months`` months with the mid-period discount factors ``δ_p`` given by hand."""
    n = len(discount)
    start = np.arange(n) * months / 12
    return Periods(count=n, months=months, start_years=start, mid_years=start + months / 24,
                   end_years=start + months / 12, discount_mid=np.array(discount, dtype=float),
                   discount_start=np.array(discount, dtype=float), rate_per_year=0.0)


def offer(mode: str = "on-demand", cost: tuple[float, ...] = (1000.0,), *, hardware: int = 0, term: int = 1,
          unit: int = 1, available: tuple[bool, ...] | None = None, supply: float = 1.0, power_kw: float = 0.0,
          preemption: float = 0.0, restart_usd: float = 0.0, min_billed: float = 0.0) -> ModeOffer:
    """An offer costing ``cost[p]`` (PV, USD) per GPU entering service in ``p``, serving ``term`` periods."""
    n = len(cost)
    covers = np.zeros((n, n), dtype=bool)
    for p in range(n):
        covers[p, p:p + term] = True
    return ModeOffer(hardware=hardware, mode=mode, cost_usd=np.array(cost, dtype=float),  # type: ignore[arg-type]
                     covers=covers, power_kw=power_kw, breakdown={}, source="hand", gpus_per_unit=unit,
                     available=np.array(available if available is not None else [], dtype=bool),
                     supply_factor=supply, preemption_per_hour=preemption, restart_usd=restart_usd,
                     min_billed_hours=min_billed)


def column(j: int, mu: float, *, variant: int = 0, workload: int = 0, hardware: int = 0, tp: int = 1) -> Column:
    return Column(row=j, variant=variant, workload=workload, hardware=hardware, tp=tp, batch=1, capacity_rps=mu,
                  ttft_ms=1.0, tpot_ms=1.0)


def demand(peak: list[list[float]], queries: list[list[float]] | None = None) -> Demand:
    peak_a = np.array(peak, dtype=float)
    return Demand(peak_rps=peak_a, queries=np.array(queries, dtype=float) if queries is not None
                  else np.zeros_like(peak_a))


def row(prob: pulp.LpProblem, name: str) -> tuple[dict[str, float], int, float]:
    """A row as ({variable name: coefficient ≠ 0}, sense, right-hand side)."""
    c = prob.get_constraint_by_name(name)
    assert c is not None, f"no row {name}"
    return {v.name: a for v, a in c.items() if a != 0}, c.sense, -c.constant


def names(prob: pulp.LpProblem) -> set[str]:
    """The rows' names."""
    return {c.name for c in prob.constraints()}


def objective(prob: pulp.LpProblem) -> dict[str, float]:
    return {v.name: a for v, a in prob.objective.items() if a != 0}


def var(prob: pulp.LpProblem, name: str) -> pulp.LpVariable:
    return prob.variablesDict()[name]


def optimum(problem: Problem) -> float:
    """The proven optimum of a one-slice model, USD."""
    outcome = milp.solve(problem, "highs", 30, 1e-9)
    assert outcome.status == SolveStatus.OPTIMAL, outcome.message
    return float(pulp.value(problem.prob.objective)) * 1e3


def sliced_optimum(problem: SlicedProblem) -> float:
    """The proven optimum of a time-sliced model, USD."""
    outcome = solvers.run(problem.prob, "highs", 30, 1e-9)
    assert outcome.status == SolveStatus.OPTIMAL, outcome.message
    return float(pulp.value(problem.prob.objective)) * 1e3


def approx(values: dict[Any, float]) -> Any:
    return pytest.approx(values, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# milp.py: one class on one GPU type, three columns, two periods (the "three-column" instance)
#
# δ = (1.0, 0.5); peak λ = (10, 25) requests/s; served share s = 0.5, so 5 and 12.5 requests/s reach the
# model.  Columns (all on gpu-a): j0 μ = 4, TP 1; j1 μ = 10, TP 2; j2 μ = 2.5, TP 1.  Loads a = λ s / μ:
#   j0: 5/4 = 1.25,  12.5/4 = 3.125;   j1: 5/10 = 0.5, 12.5/10 = 1.25;   j2: 5/2.5 = 2.0, 12.5/2.5 = 5.0.
# The variant: one-time F = $5,000, fixed fee M = $100 a month, $500 per million queries; queries
# (1e6, 3e6): ρ_0 = 500 × 1 × 1.0 = $500, ρ_1 = 500 × 3 × 0.5 = $750.


def three_columns() -> tuple[Scenario, CandidateSet, list[Column], Periods, Demand]:
    cs = candidates([{"chat": profile(served=0.5, per_million=500.0, per_month=100.0)}])
    columns = [column(0, 4.0), column(1, 10.0, tp=2), column(2, 2.5)]
    return scen(), cs, columns, periods([1.0, 0.5]), demand([[10.0, 25.0]], [[1e6, 3e6]])


def build_three(offers: list[ModeOffer], *, compact: bool = False, **over: Any) -> Problem:
    sc, cs, columns, per, dem = three_columns()
    if over:
        sc = scen(**over)
    return build_problem(sc, cs, columns, offers, per, dem, {0: 5000.0}, [None], compact=compact)


def test_the_objective_charges_each_term_once_in_kusd() -> None:
    """y: F + M × m Σ_p δ_p = 5,000 + 100 × 3 × (1.0 + 0.5) = 5,000 + 450 = $5,450 → 5.45.
    n of on-demand (u = 1, $900 then $800): 0.9, 0.8.
    A whole-server offer (u = 8 GPUs, $2,000 then $1,500 per GPU) is held as S_p = Σ_{q≤p} n_q, so
    n_0 = S_0 and n_1 = S_1 − S_0: S_0 costs (2,000 − 1,500) × 8 = $4,000 → 4.0 and S_1 1,500 × 8 = 12.0.
    x_{j,p}: ρ_p for every column: 0.5 (p = 0), 0.75 (p = 1)."""
    problem = build_three([offer(cost=(900.0, 800.0)), offer("buy", (2000.0, 1500.0), term=2, unit=8)])
    expected = {"y_00000": 5.45, "n_000_000": 0.9, "n_000_001": 0.8, "srv_001_000": 4.0, "srv_001_001": 12.0}
    expected |= {f"x_{j:05d}_{p:03d}": (0.5, 0.75)[p] for j in range(3) for p in range(2)}
    assert objective(problem.prob) == approx(expected)
    assert problem.coef["traffic_cost"] == approx({(j, p): (500.0, 750.0)[p] for j in range(3) for p in range(2)})


def test_the_compact_objective_counts_a_class_traffic_once_on_y() -> None:
    """The compact model has no x: the class's traffic cost, the same for every column, is a constant on
    y counted once per period however many columns the class has: 5.45 + 0.5 + 0.75 = 6.7 (with three
    columns, counting it per column would give 5.45 + 3 × 1.25 = 9.2)."""
    problem = build_three([offer(cost=(900.0, 800.0))], compact=True)
    assert objective(problem.prob) == approx({"y_00000": 6.7, "n_000_000": 0.9, "n_000_001": 0.8})
    assert not problem.x
    # link r ≤ r̄ y: the bounds max(1, ⌈a⌉) of the docstring's loads: j0 (2, 4), j1 (1, 2), j2 (2, 5)
    for (j, p), bound in {(0, 0): 2, (0, 1): 4, (1, 0): 1, (1, 1): 2, (2, 0): 2, (2, 1): 5}.items():
        name = f"r_{j:05d}_{p:03d}"
        assert row(problem.prob, f"link_{j}_{p}") == ({name: 1.0, "y_00000": -float(bound)}, LE, 0.0)


def test_the_capacity_rows_carry_each_columns_load_and_its_cuts() -> None:
    """Loads of the docstring; per column and period:

    * capacity a x − r ≤ 0;
    * a < 1 (j1, p = 0: a = 0.5): x − r ≤ 0 — any traffic needs a replica;
    * fractional a ≥ 1: the rounding facet r − x/(1 − f) ≥ ⌊a⌋ − f/(1 − f), f = ⌊a⌋/a:
      a = 1.25: f = 0.8, 1/(1 − f) = 5, ⌊a⌋ − 4 = −3  →  r − 5x ≥ −3  (x = 1: r ≥ 2; x = 0.8: r ≥ 1);
      a = 3.125: f = 0.96, 1/(1 − f) = 25, 3 − 24 = −21  →  r − 25x ≥ −21  (x = 1: r ≥ 4);
    * whole a (j2: 2.0, 5.0): neither cut;
    * cover Σ_j r/a ≥ 1: 1/1.25 = 0.8, 1/0.5 = 2, 1/2 = 0.5 (p = 0); 0.32, 0.8, 0.2 (p = 1);
    * demand Σ x = 1; link x − y ≤ 0; at most K = 1 variant."""
    problem = build_three([offer(cost=(900.0, 800.0))])
    prob = problem.prob
    loads = {(0, 0): 1.25, (0, 1): 3.125, (1, 0): 0.5, (1, 1): 1.25, (2, 0): 2.0, (2, 1): 5.0}
    assert problem.coef["capacity"] == approx(loads)
    for (j, p), a in loads.items():
        x, r = f"x_{j:05d}_{p:03d}", f"r_{j:05d}_{p:03d}"
        assert row(prob, f"capacity_{j}_{p}") == ({x: a, r: -1.0}, LE, 0.0)
        assert row(prob, f"link_{j}_{p}") == ({x: 1.0, "y_00000": -1.0}, LE, 0.0)
    assert row(prob, "minreplica_1_0") == ({"x_00001_000": 1.0, "r_00001_000": -1.0}, LE, 0.0)
    facets = {n: row(prob, n) for n in names(prob) if n.startswith("rounding_")}
    assert set(facets) == {"rounding_0_0", "rounding_0_1", "rounding_1_1"}
    coefs, sense, rhs = facets["rounding_0_0"]
    assert (sense, coefs["r_00000_000"], coefs["x_00000_000"], rhs) == (GE, 1.0, pytest.approx(-5.0),
                                                                        pytest.approx(-3.0))
    coefs, sense, rhs = facets["rounding_0_1"]
    assert (sense, coefs["r_00000_001"], coefs["x_00000_001"], rhs) == (GE, 1.0, pytest.approx(-25.0),
                                                                        pytest.approx(-21.0))
    assert facets["rounding_1_1"][2] == pytest.approx(-3.0)
    assert not any(n.startswith("minreplica_") and n != "minreplica_1_0" for n in names(prob))
    coefs, sense, rhs = row(prob, "cover_0_0")
    assert (coefs, sense, rhs) == (approx({"r_00000_000": 0.8, "r_00001_000": 2.0, "r_00002_000": 0.5}), GE, 1.0)
    coefs, sense, rhs = row(prob, "cover_0_1")
    assert (coefs, sense, rhs) == (approx({"r_00000_001": 0.32, "r_00001_001": 0.8, "r_00002_001": 0.2}), GE, 1.0)
    assert row(prob, "demand_0_1") == ({f"x_{j:05d}_001": 1.0 for j in range(3)}, EQ, 1.0)
    assert row(prob, "variants") == ({"y_00000": 1.0}, LE, 1.0)
    # ⌈a⌉ replicas carry the class: bounds 2, 4 | 1, 2 | 2, 5 (a whole a is its own bound, not ⌈a⌉ + 1)
    uppers = {(j, p): var(prob, f"r_{j:05d}_{p:03d}").upBound for j in range(3) for p in range(2)}
    assert uppers == {(0, 0): 2, (0, 1): 4, (1, 0): 1, (1, 1): 2, (2, 0): 2, (2, 1): 5}


def test_the_supply_row_counts_gpus_per_replica_and_per_unit() -> None:
    """supply_0_p: Σ_j t_j r_{j,p} − Σ u n ≤ 0 — TP 1, 2, 1 per replica; an on-demand GPU counts 1.
    n is bounded by the GPUs every column would need at its busiest period, in every period:
    1 × ⌈3.125⌉ + 2 × ⌈1.25⌉ + 1 × ⌈5⌉ = 4 + 4 + 5 = 13 (period 0's loads alone would give 2 + 2 + 2 = 6)."""
    problem = build_three([offer(cost=(900.0, 800.0))])
    assert row(problem.prob, "supply_0_1") == (
        {"r_00000_001": 1.0, "r_00001_001": 2.0, "r_00002_001": 1.0, "n_000_001": -1.0}, LE, 0.0)
    assert [var(problem.prob, f"n_000_{p:03d}").upBound for p in range(2)] == [13, 13]


def test_the_three_column_optimum() -> None:
    """Period 0 (5 req/s): j0 alone needs ⌈1.25⌉ = 2 replicas = 2 GPUs; j1 one replica = 2 GPUs; j2 2 GPUs;
    mixes need more (j0 1 + j2 1 carry 0.8 + 0.5 ≥ 1 with 2 GPUs too): 2 GPUs × $900 = $1,800.
    Period 1 (12.5 req/s): j0 4 GPUs, j1 2 replicas = 4 GPUs, j2 5; j0 1 (0.32) + j1 1 (0.8) carry 1.12
    with 3 GPUs (nothing with 2 GPUs carries it: 2 × 0.32, 0.8, 0.32 + 0.2, 2 × 0.2 < 1): 3 × $800 = $2,400.
    Total 1,800 + 2,400 + F 5,000 + fees 450 + traffic 500 + 750 = $10,900; the compact model, which
    drops x, proves the same figure."""
    assert optimum(build_three([offer(cost=(900.0, 800.0))])) == pytest.approx(10_900.0, rel=1e-9)
    assert optimum(build_three([offer(cost=(900.0, 800.0))], compact=True)) == pytest.approx(10_900.0, rel=1e-9)


def test_the_numpy_built_model_proves_the_same_three_column_optimum() -> None:
    """The direct (numpy/highspy) model of the same inputs: the same $10,900 (k$ 10.9)."""
    sc, cs, columns, per, dem = three_columns()
    data = model_data(sc, cs, columns, [offer(cost=(900.0, 800.0))], per, dem, {0: 5000.0}, [None])
    outcome = run_highs(build_direct(data, [0]), 30.0, 1e-9)
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(10.9, rel=1e-9)


def test_a_tiny_load_is_raised_to_the_smallest_load_the_model_holds() -> None:
    """a = 1e-9 (1e-8 req/s on μ = 10) is raised to MIN_LOAD_PER_REPLICA = 1e-6: the cover row's
    coefficient is 1/1e-6 = 1e6, not 1e9, and one replica (one $1,000 GPU) carries it."""
    cs = candidates([{"chat": profile()}])
    problem = build_problem(scen(), cs, [column(0, 10.0)], [offer()], periods([1.0]), demand([[1e-8]]), {}, [None])
    assert problem.coef["capacity"] == {(0, 0): 1e-6}
    assert row(problem.prob, "cover_0_0")[0] == {"r_00000_000": pytest.approx(1e6)}
    assert optimum(problem) == pytest.approx(1000.0, rel=1e-9)
    assert problem.coef["traffic_cost"] == {}  # no per-query cost: no traffic term at all


# --------------------------------------------------------------------------------------------------
# milp.py: GPUs over periods — carry-over, lead time, units, spares


def one_column_inputs(peak: list[float], offers: list[ModeOffer], *, tp: int = 1, mu: float = 1.0,
                      **over: Any) -> tuple[Any, ...]:
    """One class served by one column (μ = 1 req/s per replica unless given): a = λ/μ replicas; δ = 1."""
    cs = candidates([{"chat": profile()}])
    return (scen(**over), cs, [column(0, mu, tp=tp)], offers, periods([1.0] * len(peak)), demand([peak]), {},
            [None])


def one_column(peak: list[float], offers: list[ModeOffer], *, tp: int = 1, mu: float = 1.0, **over: Any) -> Problem:
    return build_problem(*one_column_inputs(peak, offers, tp=tp, mu=mu, **over))


def test_a_reservation_serves_the_periods_from_its_start() -> None:
    """P = 3, needs of 2, 2, 1 GPUs.  On demand $1,000 a GPU-period; a reservation serves its start and
    the next period, $1,500 from p = 0, $1,400 from p = 1, $750 from p = 2 (one period left).
    Supply at p counts reservations started at q ≤ p < q + 2: p = 0 {n_0}, p = 1 {n_0, n_1}, p = 2
    {n_1, n_2}.  Best: 2 from p = 0 ($3,000, periods 0-1) + 1 from p = 2 ($750) = $3,750 (1 + 1 from
    p = 1 instead: 1,500 + 1,000 + 1,400 = $3,900; all on demand $5,000).  Read backwards (a reservation
    serving the periods *before* its start) 2 from p = 1 would cover periods 0-1 for $2,800: $3,550."""
    problem = one_column([2.0, 2.0, 1.0], [offer(cost=(1000.0,) * 3), offer("reserved-1y", (1500.0, 1400.0, 750.0),
                                                                             term=2)])
    supply = {p: set(row(problem.prob, f"supply_0_{p}")[0]) - {f"r_00000_{p:03d}"} for p in range(3)}
    assert supply == {0: {"n_000_000", "n_001_000"}, 1: {"n_000_001", "n_001_000", "n_001_001"},
                      2: {"n_000_002", "n_001_001", "n_001_002"}}
    assert optimum(problem) == pytest.approx(3750.0, rel=1e-9)
    assert [var(problem.prob, f"n_001_{p:03d}").value() for p in range(3)] == [2, 0, 1]


def test_an_offer_cannot_start_before_its_lead_time() -> None:
    """A purchase ($300 a GPU-period, two periods of life) available from p = 1 only: n_0 ≤ 0, so period 0's
    3 GPUs are rented ($1,000 each) and the purchase serves period 1's 3 from p = 1: 3,000 + 3 × 300
    = $3,900 (bought at p = 0 it would be 3 × 600 = $1,800)."""
    problem = one_column([3.0, 3.0], [offer(cost=(1000.0, 1000.0)),
                                      offer("buy", (600.0, 300.0), term=2, available=(False, True))])
    assert var(problem.prob, "n_001_000").upBound == 0
    assert var(problem.prob, "n_001_001").upBound == 3  # the GPUs every column could use: 1 × ⌈3⌉
    assert optimum(problem) == pytest.approx(3900.0, rel=1e-9)


def test_whole_servers_are_paid_for_every_gpu_of_the_unit() -> None:
    """3 GPUs needed: a 4-GPU server at $700 a GPU costs 4 × 700 = $2,800, against 3 on-demand GPUs
    at $1,000 = $3,000; at $800 a GPU the server costs $3,200 and renting wins ($3,000)."""
    for price, expected in ((700.0, 2800.0), (800.0, 3000.0)):
        problem = one_column([3.0], [offer(cost=(1000.0,)), offer("reserved-1y", (price,), unit=4)])
        assert optimum(problem) == pytest.approx(expected, rel=1e-9)


def test_tp_multiplies_the_gpus_of_a_replica() -> None:
    """a = 2.5 replicas of TP 2: ⌈2.5⌉ × 2 = 6 GPUs × $1,000 = $6,000."""
    assert optimum(one_column([2.5], [offer()], tp=2)) == pytest.approx(6000.0, rel=1e-9)


def test_owned_gpus_keep_whole_spares_for_their_expected_repairs() -> None:
    """18 replicas on bought GPUs with availability σ = 0.9: spares z ≥ 0.1 n, whole, and 18 + z ≤ n.
    n = 19: z ≥ 1.9 → 2, 20 > 19; n = 20: z = 2, 20 ≤ 20.  20 × $1,000 = $20,000.  The purchase is bounded
    by the GPUs the columns could use over σ: ⌈18/0.9⌉ = 20 (without σ, 18: no plan)."""
    problem = one_column([18.0], [offer("buy", (1000.0,), supply=0.9)])
    coefs, sense, rhs = row(problem.prob, "spares_0_0")
    assert (coefs, sense, rhs) == (approx({"n_000_000": 0.1, "spares_0_0": -1.0}), LE, 0.0)
    assert row(problem.prob, "supply_0_0") == ({"r_00000_000": 1.0, "spares_0_0": 1.0, "n_000_000": -1.0}, LE, 0.0)
    assert var(problem.prob, "n_000_000").upBound == 20
    assert optimum(problem) == pytest.approx(20_000.0, rel=1e-9)


def test_whole_servers_keep_spares_for_every_gpu_of_the_server() -> None:
    """19 replicas on bought 4-GPU servers with σ = 0.9: spares z ≥ 0.1 × 4 S (S servers), whole, and
    19 + z ≤ 4 S.  S = 5 (20 GPUs): z ≥ 2, 21 > 20; S = 6 (24 GPUs): z ≥ 2.4 → 3, 22 ≤ 24.  6 × 4 × $1,000
    = $24,000 (spares counted per server, 0.1 × 5 → 1, would allow S = 5: $20,000).  The bound on S:
    ⌈19/(4 × 0.9)⌉ = ⌈5.28⌉ = 6."""
    problem = one_column([19.0], [offer("buy", (1000.0,), supply=0.9, unit=4)])
    coefs, sense, rhs = row(problem.prob, "spares_0_0")
    assert (coefs, sense, rhs) == (approx({"srv_000_000": 0.4, "spares_0_0": -1.0}), LE, 0.0)
    assert row(problem.prob, "started_hi_000_000")[2] == 6
    assert optimum(problem) == pytest.approx(24_000.0, rel=1e-9)


def test_min_replicas_keeps_that_many_replicas_whatever_the_load() -> None:
    """a = 0.3 would need 1 replica; min_replicas = 2 asks 2 (the replica bound is max(1, R, ⌈a⌉) = 2):
    2 × $1,000 = $2,000 each period."""
    problem = one_column([0.3, 0.3], [offer(cost=(1000.0, 1000.0))], min_replicas=2)
    assert row(problem.prob, "min_replicas_0_1") == ({"r_00000_001": 1.0}, GE, 2.0)
    assert var(problem.prob, "r_00000_000").upBound == 2
    assert optimum(problem) == pytest.approx(4000.0, rel=1e-9)
    assert "min_replicas_0_0" not in names(one_column([0.3], [offer()]).prob)


@pytest.mark.parametrize(("inputs", "usd"), [
    (lambda: one_column_inputs([2.0, 2.0, 1.0], [offer(cost=(1000.0,) * 3),
                                                 offer("reserved-1y", (1500.0, 1400.0, 750.0), term=2)]), 3750.0),
    (lambda: one_column_inputs([3.0, 3.0], [offer(cost=(1000.0, 1000.0)),
                                            offer("buy", (600.0, 300.0), term=2, available=(False, True))]), 3900.0),
    (lambda: one_column_inputs([19.0], [offer("buy", (1000.0,), supply=0.9, unit=4)]), 24_000.0),
    (lambda: one_column_inputs([4.0, 6.0], [offer(cost=(1000.0, 1000.0)),
                                            offer("buy", (1000.0, 500.0), term=2, power_kw=1.5)], power_kw=7.5),
     5500.0),
    (lambda: one_column_inputs([0.3, 0.3], [offer(cost=(1000.0, 1000.0))], min_replicas=2), 4000.0),
], ids=["carry-over", "lead-time", "server-spares", "power-cap", "min-replicas"])
def test_the_numpy_built_model_proves_the_same_hand_figures(inputs: Any, usd: float) -> None:
    """The direct (numpy/highspy) model of the tests above, from the same inputs: the same optima
    ($3,750, $3,900, $24,000, $5,500, $4,000) as the PuLP model."""
    args = inputs()
    assert optimum(build_problem(*args)) == pytest.approx(usd, rel=1e-9)
    outcome = run_highs(build_direct(model_data(*args), [0]), 30.0, 1e-9)
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(usd / 1e3, rel=1e-9)


# --------------------------------------------------------------------------------------------------
# milp.py: caps — quota, power, budget


def two_gpu_types(peak: float, **over: Any) -> Problem:
    """One class, columns of μ = 1 on gpu-a ($1,000 on demand) and gpu-b ($1,500)."""
    cs = candidates([{"chat": profile()}], hardware=("gpu-a", "gpu-b"))
    columns = [column(0, 1.0, hardware=0), column(1, 1.0, hardware=1)]
    offers = [offer(cost=(1000.0,), hardware=0), offer(cost=(1500.0,), hardware=1)]
    return build_problem(scen(**over), cs, columns, offers, periods([1.0]), demand([[peak]]), {}, [None])


def test_a_quota_moves_the_rest_to_another_gpu_type() -> None:
    """5 replicas: all on gpu-a $5,000; gpu-a capped at 3 GPUs: 3 × 1,000 + 2 × 1,500 = $6,000."""
    assert optimum(two_gpu_types(5.0)) == pytest.approx(5000.0, rel=1e-9)
    capped = two_gpu_types(5.0, quota={"gpu-a": 3})
    assert row(capped.prob, "quota_0_0") == ({"n_000_000": 1.0}, LE, 3.0)
    assert "quota_1_0" not in names(capped.prob)
    assert optimum(capped) == pytest.approx(6000.0, rel=1e-9)


def test_a_quota_counts_every_gpu_in_service_reservations_carried_over_and_whole_units() -> None:
    """Reservations of 2-GPU units serving two periods: quota_0_1 counts the units started at p = 0 and 1,
    2 GPUs each."""
    problem = one_column([2.0, 2.0], [offer("reserved-1y", (1000.0, 500.0), term=2, unit=2)], quota={"gpu-a": 4})
    coefs, sense, rhs = row(problem.prob, "quota_0_1")
    # whole servers: n_0 + n_1 = S_0 + (S_1 − S_0) = S_1, two GPUs each
    assert (coefs, sense, rhs) == ({"srv_000_001": 2.0}, LE, 4.0)
    assert row(problem.prob, "quota_0_0")[0] == {"srv_000_000": 2.0}


def test_the_power_cap_counts_owned_gpus_still_in_service() -> None:
    """Bought GPUs at 1.5 kW each, serving two periods ($1,000 bought at p = 0, $500 at p = 1); renting
    $1,000 a GPU-period; needs 4 then 6 GPUs.  Uncapped: buy 4 at p = 0 and 2 at p = 1: 4,000 + 1,000
    = $5,000.  Capped at 7.5 kW (5 × 1.5 = 7.5; 6 × 1.5 = 9 > 7.5): 5 owned at most in period 1, GPUs bought
    at p = 0 included: buy 4 + 1, rent 1: 4,000 + 500 + 1,000 = $5,500 (counting only the GPUs bought in
    period 1 would allow 4 + 2 again)."""
    offers = [offer(cost=(1000.0, 1000.0)), offer("buy", (1000.0, 500.0), term=2, power_kw=1.5)]
    assert optimum(one_column([4.0, 6.0], offers)) == pytest.approx(5000.0, rel=1e-9)
    capped = one_column([4.0, 6.0], offers, power_kw=7.5)
    assert row(capped.prob, "power_1") == ({"n_001_000": 1.5, "n_001_001": 1.5}, LE, 7.5)
    assert row(capped.prob, "power_0") == ({"n_001_000": 1.5}, LE, 7.5)
    assert optimum(capped) == pytest.approx(5500.0, rel=1e-9)
    # 8-GPU servers draw 8 × 1.5 = 12 kW each
    servers = one_column([4.0, 6.0], [offers[0], offer("buy", (1000.0, 500.0), term=2, power_kw=1.5, unit=8)],
                         power_kw=30.0)
    assert row(servers.prob, "power_0") == ({"srv_001_000": 12.0}, LE, 30.0)


def test_the_budget_caps_the_objective_in_kusd() -> None:
    """The three-column optimum is $10,900: a budget of $10,900 admits it (budget ≤ 10.9 k$), one of
    $10,899 does not."""
    at = build_three([offer(cost=(900.0, 800.0))], budget_usd=10_900.0)
    coefs, sense, rhs = row(at.prob, "budget")
    assert (sense, rhs) == (LE, pytest.approx(10.9)) and coefs == objective(at.prob)
    assert optimum(at) == pytest.approx(10_900.0, rel=1e-9)
    below = build_three([offer(cost=(900.0, 800.0))], budget_usd=10_899.0)
    assert milp.solve(below, "highs", 30, 1e-9).status == SolveStatus.INFEASIBLE


def test_without_caps_there_is_no_quota_power_or_budget_row() -> None:
    """``with_caps=False`` (the infeasibility diagnosis' relaxed model) drops the three families, and
    with them the quota's $1,000 extra: $5,000."""
    cs = candidates([{"chat": profile()}], hardware=("gpu-a", "gpu-b"))
    columns = [column(0, 1.0, hardware=0), column(1, 1.0, hardware=1)]
    offers = [offer(cost=(1000.0,), hardware=0), offer("buy", (1500.0,), hardware=1, power_kw=1.0)]
    sc = scen(quota={"gpu-a": 3}, power_kw=10.0, budget_usd=1e6)
    problem = build_problem(sc, cs, columns, offers, periods([1.0]), demand([[5.0]]), {}, [None], with_caps=False)
    assert not [n for n in names(problem.prob) if n.split("_")[0] in ("quota", "power", "budget")]
    assert optimum(problem) == pytest.approx(5000.0, rel=1e-9)
    capped = build_problem(sc, cs, columns, offers, periods([1.0]), demand([[5.0]]), {}, [None])
    assert {"quota_0_0", "power_0", "budget"} <= names(capped.prob)
    assert optimum(capped) == pytest.approx(6000.0, rel=1e-9)  # 3 × 1,000 + 2 × 1,500


# --------------------------------------------------------------------------------------------------
# milp.py: quality, variants, split granularity, pooled capacity


def two_quality_variants(max_variants: int, floor: float | None = 85.0) -> Problem:
    """λ = 20 req/s; variant 0 scores 80 with μ = 10, variant 1 scores 90 with μ = 5; $1,000 a GPU."""
    cs = candidates([{"chat": profile(quality=80.0)}, {"chat": profile(quality=90.0)}])
    columns = [column(0, 10.0, variant=0), column(1, 5.0, variant=1)]
    return build_problem(scen(max_variants=max_variants), cs, columns, [offer()], periods([1.0]), demand([[20.0]]),
                         {}, [floor])


def test_the_quality_row_mixes_variants_to_meet_the_floor() -> None:
    """Floor 85: with W on variant 0, 80 W + 90 (1 − W) ≥ 85 → W ≤ 1/2.  Two variants: W = 1/2 takes
    ⌈20 × 0.5/10⌉ = 1 + ⌈20 × 0.5/5⌉ = 2 GPUs = $3,000.  One variant: variant 1 alone, ⌈20/5⌉ = 4 GPUs
    = $4,000.  (Without the row, variant 0 alone: 2 GPUs, $2,000.)"""
    mixed = two_quality_variants(2)
    assert row(mixed.prob, "quality_0_0") == ({"x_00000_000": 80.0, "x_00001_000": 90.0}, GE, 85.0)
    assert row(mixed.prob, "variants") == ({"y_00000": 1.0, "y_00001": 1.0}, LE, 2.0)
    assert optimum(mixed) == pytest.approx(3000.0, rel=1e-9)
    assert optimum(two_quality_variants(1)) == pytest.approx(4000.0, rel=1e-9)


def test_no_quality_row_where_every_variant_meets_the_floor() -> None:
    """Floor 80 (variant 0 exactly at it) or no floor: no row; the cheaper variant alone, $2,000."""
    for floor in (80.0, None):
        problem = two_quality_variants(2, floor)
        assert not [n for n in names(problem.prob) if n.startswith("quality")]
        assert optimum(problem) == pytest.approx(2000.0, rel=1e-9)


def split(k: int | None) -> Problem:
    """λ = 14 req/s on column A (gpu-a, μ = 6, $1,200 a GPU) or B (gpu-b, μ = 10, $2,000)."""
    cs = candidates([{"chat": profile()}], hardware=("gpu-a", "gpu-b"))
    columns = [column(0, 6.0, hardware=0), column(1, 10.0, hardware=1)]
    offers = [offer(cost=(1200.0,), hardware=0), offer(cost=(2000.0,), hardware=1)]
    return build_problem(scen(split=k), cs, columns, offers, periods([1.0]), demand([[14.0]]), {}, [None])


def test_split_granularity_splits_a_class_in_multiples_of_one_kth() -> None:
    """Continuous: 3/7 on A (6 req/s, 1 replica) and 4/7 on B (8 req/s, 1 replica): $3,200 (A alone
    ⌈14/6⌉ = 3 × 1,200 = $3,600, B alone 2 × 2,000 = $4,000).  k = 7 allows 3/7: $3,200.  k = 4: the shares
    0, 1/4 … 1 on A give 14 s/4 /6 and 14 (4 − s)/4 /10 replicas: s = 4: 3 A = $3,600; s = 3: 2 A + 1 B
    = $4,400; s = 2: 2 + 1 = $4,400; s = 1: 1 A + 2 B = $5,200; s = 0: $4,000 — so $3,600."""
    assert optimum(split(None)) == pytest.approx(3200.0, rel=1e-9)
    seven = split(7)
    assert {(v.name, v.upBound, v.cat) for v in seven.slices.values()} == {
        ("s_00000_000", 7, pulp.LpInteger), ("s_00001_000", 7, pulp.LpInteger)}
    assert optimum(seven) == pytest.approx(3200.0, rel=1e-9)
    assert optimum(split(4)) == pytest.approx(3600.0, rel=1e-9)
    assert seven.stats["integer_variables"] == 2 + 2 + 2 + 1  # r, n, s, y


def test_pooled_capacity_sums_fluid_loads_per_gpu_type() -> None:
    """Two classes on gpu-a (μ = 1, TP 1), 1.5 and 1.25 replicas of load.  Whole replicas: 2 + 2 = 4 GPUs,
    $4,000; pooled (a x per column, whole GPUs only): ⌈1.5 + 1.25⌉ = 3 GPUs, $3,000.  Pooled replicas are
    no variables: the integers are n and y (2), against r, n, y (4)."""
    cs = candidates([{"a": profile(), "b": profile()}], classes=("a", "b"))
    columns = [column(0, 1.0, workload=0), column(1, 1.0, workload=1)]

    def build(pooled: bool) -> Problem:
        return build_problem(scen(2, pooled=pooled), cs, columns, [offer()], periods([1.0]),
                             demand([[1.5], [1.25]]), {}, [None, None])

    whole, pooled = build(False), build(True)
    assert optimum(whole) == pytest.approx(4000.0, rel=1e-9)
    assert optimum(pooled) == pytest.approx(3000.0, rel=1e-9)
    coefs, _, _ = row(pooled.prob, "supply_0_0")
    assert coefs == approx({"x_00000_000": 1.5, "x_00001_000": 1.25, "n_000_000": -1.0})
    assert not [n for n in names(pooled.prob) if n.split("_")[0] in ("capacity", "cover")]
    assert (whole.stats["integer_variables"], pooled.stats["integer_variables"]) == (4, 2)


def test_the_compact_model_refuses_what_needs_traffic_shares() -> None:
    sc, cs, columns, per, dem = three_columns()
    two = candidates([{"chat": profile()}, {"chat": profile()}])
    with pytest.raises(ValueError, match="exactly one variant"):
        build_problem(sc, two, [column(0, 4.0, variant=0), column(1, 4.0, variant=1)], [offer()], periods([1.0]),
                      demand([[1.0]]), {}, [None], compact=True)
    for over in ({"split": 4}, {"pooled": True}):
        with pytest.raises(ValueError, match="traffic shares"):
            build_problem(scen(**over), cs, columns, [offer(cost=(1.0, 1.0))], per, dem, {}, [None], compact=True)
    low = candidates([{"chat": profile(quality=70.0)}])
    with pytest.raises(ValueError, match="quality row"):
        build_problem(sc, low, columns, [offer(cost=(1.0, 1.0))], per, dem, {}, [80.0], compact=True)


# --------------------------------------------------------------------------------------------------
# milp.py: what is read back and how a solve is called


def test_compact_shares_fill_the_columns_in_order() -> None:
    """Compact model of the three-column instance, replicas set by hand in period 1 (a = 3.125, 1.25, 5):
    r = (1, 1, 1): j0 carries min(1, 1/3.125) = 0.32, j1 min(0.68, 1/1.25 = 0.8) = 0.68, j2 nothing left.
    Period 0 (a = 1.25, 0.5, 2): r = (0, 0, 2): j2 carries min(1, 2/2) = 1."""
    problem = build_three([offer(cost=(900.0, 800.0))], compact=True)
    for (j, p), value in {(0, 1): 1, (1, 1): 1, (2, 1): 1, (0, 0): 0, (1, 0): 0, (2, 0): 2}.items():
        problem.r[j, p].varValue = value
    assert problem.shares() == approx({(0, 1): 0.32, (1, 1): 0.68, (2, 1): 0.0, (0, 0): 0.0, (1, 0): 0.0,
                                       (2, 0): 1.0})


def test_cover_roundings_scale_by_each_fractional_load_and_round_up() -> None:
    """Loads (2.5, 1.25, 3.0, 0): for a_0 = 2.5, ⌈2.5/2.5⌉ = 1, ⌈2.5/1.25⌉ = 2, ⌈2.5/3⌉ = 1, 0 for no load,
    ≥ ⌈2.5⌉ = 3; for a_1 = 1.25: ⌈0.5⌉ = 1, 1, ⌈0.417⌉ = 1, 0, ≥ 2; a whole load (3.0) or none gives no cut.
    A load whose fractional part is below 1e-3 (3.0005) gives none; 3.002 gives one (≥ 4)."""
    assert cover_roundings([2.5, 1.25, 3.0, 0.0]) == [(0, [1, 2, 1, 0], 3), (1, [1, 1, 1, 0], 2)]
    assert cover_roundings([3.0005]) == []
    assert cover_roundings([3.002]) == [(0, [1], 4)]
    # a ratio a whisker above a whole number (2.5 / 1.2499999999 = 2.00000000016) is that number
    assert cover_roundings([2.5, 1.2499999999])[0] == (0, [1, 2], 3)


def test_solve_passes_the_cutoff_in_kusd_and_the_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cutoff of $12,345 is HiGHS's objective_bound 12.345 (k$); a node limit of 7 its mip_max_nodes;
    CBC gets neither."""
    seen: list[dict[str, float] | None] = []

    def run(prob: pulp.LpProblem, name: str, *args: Any, options: dict[str, float] | None = None,
            **kwargs: Any) -> SolveOutcome:
        seen.append(options)
        return SolveOutcome(SolveStatus.OPTIMAL, name, 0.0, 0.0, "")

    monkeypatch.setattr(solvers, "run", run)
    problem = build_three([offer(cost=(900.0, 800.0))])
    milp.solve(problem, "highs", 5, 1e-4, cutoff_usd=1e9, node_limit=7)
    milp.solve(problem, "highs", 5, 1e-4)
    milp.solve(problem, "cbc", 5, 1e-4, cutoff_usd=12_345.0, node_limit=7)
    assert seen == [{"objective_bound": 1e6, "mip_max_nodes": 7}, {}, {}]
    seen.clear()
    milp.solve(problem, "highs", 5, 1e-4, cutoff_usd=12_345.0)
    assert seen == [{"objective_bound": pytest.approx(12.345)}]


def test_a_cutoff_outcome_is_labelled_by_the_objective_against_the_cutoff() -> None:
    """objective 12.345 k$ = $12,345: with a cutoff of $12,345 (not below it) an 'optimal' is CUTOFF; with
    a cutoff of $12,346 it stays optimal; an 'infeasible' below a cutoff is CUTOFF; no cutoff, unchanged."""
    prob = pulp.LpProblem("label", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 100)
    prob += 12.345 * x
    x.varValue = 1.0
    optimal = SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "")
    assert label_cutoff(optimal, prob, 12_345.0).status == SolveStatus.CUTOFF
    assert label_cutoff(optimal, prob, 12_346.0).status == SolveStatus.OPTIMAL
    assert label_cutoff(optimal, prob, None) is optimal
    infeasible = dataclasses.replace(optimal, status=SolveStatus.INFEASIBLE)
    assert label_cutoff(infeasible, prob, 1e9).status == SolveStatus.CUTOFF
    feasible = dataclasses.replace(optimal, status=SolveStatus.FEASIBLE)
    assert label_cutoff(feasible, prob, 1.0).status == SolveStatus.FEASIBLE


def test_coefficient_range_reads_the_rows_not_the_objective() -> None:
    """Rows 2x + 0.5y ≤ 3 and −40x ≥ 1 (objective 1e6 x): |coefficients| from 0.5 to 40."""
    prob = pulp.LpProblem("range", pulp.LpMinimize)
    x, y = prob.add_variable("x", 0, 1), prob.add_variable("y", 0, 1)
    prob += 1e6 * x
    prob += 2 * x + 0.5 * y <= 3, "a"
    prob += -40 * x >= 1, "b"
    assert coefficient_range(cast(Problem, SimpleNamespace(prob=prob))) == (0.5, 40.0)


# --------------------------------------------------------------------------------------------------
# milp_slices.py: a 4-hour cycle in two slices
#
# Hours 0 | 1 2 3: slice 0 has H = 1 hour, slice 1 H = 3 (L = 4).  "chat" (interactive) weights
# (2.5, 0.5, 0.5, 0.5), mean 1: peak (2.5, 0.5), volume (2.5/4, 1.5/4) = (0.625, 0.375).


def four_hours(weights: list[list[float]], hour_slice: tuple[int, ...] = (0, 1, 1, 1)) -> TimeSlices:
    """The slices of ``hour_slice`` over a 4-hour cycle; peak = max and volume = Σ/L of each class's weights."""
    w = np.array(weights, dtype=float)
    hs = np.array(hour_slice, dtype=np.int64)
    count = int(hs.max()) + 1
    return TimeSlices(cycle_hours=4, hours=np.bincount(hs, minlength=count).astype(float), hour_slice=hs, weights=w,
                      peak=np.array([[w[c, hs == s].max() for s in range(count)] for c in range(len(w))]),
                      volume=np.array([[w[c, hs == s].sum() / 4 for s in range(count)] for c in range(len(w))]),
                      shaped=True, labels=tuple(str(s) for s in range(count)))


CHAT_WEIGHTS = [2.5, 0.5, 0.5, 0.5]
BATCH_WEIGHTS = [0.4, 1.2, 1.2, 1.2]


def test_elastic_cost_bills_the_slice_hours_and_the_restarts() -> None:
    """$2 a GPU-hour over a 3-month period: cost_usd = 2 × 2,191.5 = $4,383 (PV), δ = 0.9.  Slices of 1 and 3
    hours, at least 2 hours billed per start: shares max(1, 2)/4 = 0.5 and 3/4 = 0.75 → $2,191.5, $3,287.25.
    Spot, π = 0.1/hour: κ = (0.9, 0.729); a restart costs $5 per reclaimed GPU, 2,191.5/4 = 547.875
    cycles: (1 − κ) × 5 × 547.875 = 273.9375 and 742.370625, × δ 0.9 = 246.54375 and 668.1335625.
    Totals: $2,438.04375 and $3,955.3835625; on demand (no preemption) the shares alone."""
    per = periods([0.9])
    sl = four_hours([CHAT_WEIGHTS])
    spot = offer("spot", (4383.0,), preemption=0.1, restart_usd=5.0, min_billed=2.0)
    np.testing.assert_allclose(elastic_cost_usd(spot, sl, per), [[2438.04375, 3955.3835625]], rtol=1e-12)
    on_demand = offer("on-demand", (4383.0,), restart_usd=5.0, min_billed=2.0)
    np.testing.assert_allclose(elastic_cost_usd(on_demand, sl, per), [[2191.5, 3287.25]], rtol=1e-12)


def two_class_sliced(with_caps: bool = True, **over: Any) -> SlicedProblem:
    """chat (interactive, μ = 4, TP 1, served 0.5, $400 per million queries, fee $100 a month) and batch
    (deferrable, 4-hour deadline, weights (0.4, 1.2, 1.2, 1.2): volume (0.1, 0.9), μ = 4, TP 2, served 1,
    $200 per million, fee $60), both on gpu-a; P = 2 with δ = (1.0, 0.5); peak-to-average 2.
    Offers: on demand $1,000 then $800 (k = 0);
    spot $500 then $400, π = 0.5, restarts $10 (k = 1); 2-GPU reservations over both periods, $3,000 from
    p = 0 and $1,500 from p = 1 per GPU (k = 2); bought single GPUs at 1.5 kW, available from p = 1, $1,000
    (k = 3).  F = $2,000."""
    cs = candidates([{"chat": profile(served=0.5, per_million=400.0, per_month=100.0),
                      "batch": profile(served=1.0, per_million=200.0, per_month=60.0)}], classes=("chat", "batch"))
    columns = [column(0, 4.0, workload=0), column(1, 4.0, workload=1, tp=2)]
    offers = [offer("on-demand", (1000.0, 800.0)), offer("spot", (500.0, 400.0), preemption=0.5, restart_usd=10.0),
              offer("reserved-1y", (3000.0, 1500.0), term=2, unit=2),
              offer("buy", (2000.0, 1000.0), term=2, power_kw=1.5, available=(False, True))]
    sc = scen(2, deadlines=[None, 4.0], peak_to_average=2.0, **over)
    return build_sliced(sc, cs, columns, offers, periods([1.0, 0.5]), demand([[8.0, 16.0], [4.0, 4.0]],
                        [[1e6, 3e6], [2e6, 2e6]]), {0: 2000.0}, [None, None],
                        four_hours([CHAT_WEIGHTS, BATCH_WEIGHTS]), with_caps=with_caps)


def test_the_sliced_objective_weights_each_term_by_its_slice() -> None:
    """Traffic: ρ (chat) = 400 × 1 × 1.0 = $400, 400 × 3 × 0.5 = $600; (batch) 200 × 2 × 1.0 = $400,
    200 × 2 × 0.5 = $200; × V per slice: chat's volume (0.625, 0.375), batch's hours H/L (0.25, 0.75) — a
    deferrable class runs at a constant rate through a slice, whatever its arrivals (0.1, 0.9):
    chat 0.25, 0.15 | 0.375, 0.225; batch 0.1, 0.3 | 0.05, 0.15 (k$).
    On demand per slice: cost × H/L: 0.25, 0.75 | 0.2, 0.6.  Spot: κ = 0.5^H = (0.5, 0.125), 547.875
    cycles, restarts (1 − κ) × 10 × 547.875 × δ: 2,739.375, 4,793.90625 | 1,369.6875, 2,396.953125, plus
    cost × H/L 125, 375 | 100, 300: 2.864375, 5.16890625 | 1.4696875, 2.696953125.
    Reservations, 2-GPU units as S_p: S_0 (3,000 − 1,500) × 2 = 3.0, S_1 1,500 × 2 = 3.0.  Purchases 2.0,
    1.0.  y: 2,000 + max fee 100 × 3 × 1.5 = $2,450."""
    problem = two_class_sliced()
    expected = {"y_00000": 2.45, "srv_002_000": 3.0, "srv_002_001": 3.0, "n_003_0": 2.0, "n_003_1": 1.0,
                "e_000_0_0": 0.25, "e_000_0_1": 0.75, "e_000_1_0": 0.2, "e_000_1_1": 0.6,
                "e_001_0_0": 2.864375, "e_001_0_1": 5.16890625, "e_001_1_0": 1.4696875, "e_001_1_1": 2.696953125,
                "x_00000_0_0": 0.25, "x_00000_0_1": 0.15, "x_00000_1_0": 0.375, "x_00000_1_1": 0.225,
                "x_00001_0_0": 0.1, "x_00001_0_1": 0.3, "x_00001_1_0": 0.05, "x_00001_1_1": 0.15}
    assert objective(problem.prob) == approx(expected)
    assert problem.coef["traffic_cost"] == approx({(0, 0): 400.0, (0, 1): 600.0, (1, 0): 400.0, (1, 1): 200.0})


def test_sliced_loads_use_the_mean_rate_times_the_slices_peak() -> None:
    """Mean rate λ̄ = peak_rps / 2: chat (4, 8), batch (2, 2).  chat: a = λ̄ × peak × 0.5 / 4: p = 0:
    4 × 2.5 × 0.125 = 1.25, 4 × 0.5 × 0.125 = 0.25; p = 1: 2.5, 0.5.  batch (deferrable: no peak): 2 × 1 / 4
    = 0.5.  Replica bounds max(1, ⌈a X̄⌉): chat 2, 1 | 3, 1; batch: a 4-hour deadline holds the whole cycle,
    W_t = 4, and X̄ = max_t (W_{t−1} + w_t) = 4 + 1.2 = 5.2, so ⌈0.5 × 5.2⌉ = 3.  x ≤ X̄: 1 for chat, 5.2 for
    batch."""
    problem = two_class_sliced()
    chat = {(0, 0, 0): 1.25, (0, 0, 1): 0.25, (0, 1, 0): 2.5, (0, 1, 1): 0.5}
    batch = {(1, p, s): 0.5 for p in range(2) for s in range(2)}
    assert problem.coef["capacity"] == approx(chat | batch)
    bounds = {k: v.upBound for k, v in problem.r.items()}
    assert bounds == {(0, 0, 0): 2, (0, 0, 1): 1, (0, 1, 0): 3, (0, 1, 1): 1} | {k: 3 for k in batch}
    assert {k: v.upBound for k, v in problem.x.items()} == approx({k: 1.0 for k in chat} | {k: 5.2 for k in batch})


def test_sliced_traffic_rows_per_class_kind() -> None:
    """chat: demand Σ x = 1 per slice; cover r/a: 0.8 (a = 1.25), 4 (0.25), 0.4 (2.5), 2 (0.5); the cover
    rounding ⌈a⌉: r ≥ 2, 1, 3, 1; rounding facets for a = 1.25 (r − 5x ≥ −3) and 2.5 (f = 0.8: r − 5x ≥ 2 − 4
    = −2); x ≤ r where a < 1.  batch (a = 0.5): no demand, cover or cut rows — x is a rate up to X̄ = 5.2
    times the mean, not a share — and a backlog row per hour instead; capacity a x − r ≤ 0 for both; link
    x − X̄ y ≤ 0 (X̄ = 1, 5.2)."""
    prob = two_class_sliced().prob
    assert row(prob, "demand_0_1_1") == ({"x_00000_1_1": 1.0}, EQ, 1.0)
    for (p, s), inverse in {(0, 0): 0.8, (0, 1): 4.0, (1, 0): 0.4, (1, 1): 2.0}.items():
        coefs, sense, rhs = row(prob, f"cover_0_{p}_{s}")
        assert (coefs, sense, rhs) == (approx({f"r_00000_{p}_{s}": inverse}), GE, 1.0)
    cuts = {n: row(prob, n) for n in names(prob) if n.startswith("cg_")}
    assert cuts == {f"cg_0_{p}_{s}_00000": ({f"r_00000_{p}_{s}": 1.0}, GE, float(rhs))
                    for (p, s), rhs in {(0, 0): 2, (0, 1): 1, (1, 0): 3, (1, 1): 1}.items()}
    facets = {n: row(prob, n) for n in names(prob) if n.startswith("rounding_")}
    assert set(facets) == {"rounding_0_0_0", "rounding_0_1_0"}
    assert facets["rounding_0_1_0"] == (approx({"r_00000_1_0": 1.0, "x_00000_1_0": -5.0}), GE, pytest.approx(-2.0))
    assert facets["rounding_0_0_0"][2] == pytest.approx(-3.0)
    assert {n for n in names(prob) if n.startswith("minreplica_")} == {"minreplica_0_0_1", "minreplica_0_1_1"}
    assert row(prob, "capacity_0_1_0") == ({"x_00000_1_0": 2.5, "r_00000_1_0": -1.0}, LE, 0.0)
    assert row(prob, "capacity_1_0_1") == ({"x_00001_0_1": 0.5, "r_00001_0_1": -1.0}, LE, 0.0)
    assert row(prob, "link_0_0_0") == ({"x_00000_0_0": 1.0, "y_00000": -1.0}, LE, 0.0)
    assert row(prob, "link_1_1_1") == (approx({"x_00001_1_1": 1.0, "y_00000": -5.2}), LE, 0.0)
    assert not [n for n in names(prob) if n.startswith(("demand_1", "cover_1"))]
    # backlog of batch, hour 0 (slice 0): B_0 − B_3 + x_{·,0} = w_0 = 0.4; hour 2 (slice 1): B_2 − B_1 + x_{·,1}
    # = w_2 = 1.2
    assert row(prob, "backlog_1_0_0") == ({"B_1_0_0": 1.0, "B_1_0_3": -1.0, "x_00001_0_0": 1.0}, EQ,
                                          pytest.approx(0.4))
    assert row(prob, "backlog_1_1_2") == ({"B_1_1_2": 1.0, "B_1_1_1": -1.0, "x_00001_1_1": 1.0}, EQ,
                                          pytest.approx(1.2))
    assert var(prob, "B_1_0_2").upBound == pytest.approx(4.0)  # a 4-hour deadline: W = 4 hours of arrivals


def test_sliced_supply_rows_count_fixed_elastic_and_spot_gpus() -> None:
    """Period 1, slice 0: replicas TP 1 (chat) and 2 (batch); the 2-GPU reservations in service
    (S_1, both starts), the purchases of p = 0 and 1 (one GPU each), on demand 1 GPU each, spot κ = 0.5
    GPUs each.  chat may not run on spot (interactive): nospot_0_1_0 is the same without batch and spot.
    Slice 1: spot counts κ = 0.5³ = 0.125."""
    prob = two_class_sliced().prob
    fixed = {"srv_002_001": -2.0, "n_003_0": -1.0, "n_003_1": -1.0}
    assert row(prob, "supply_0_1_0") == (
        {"r_00000_1_0": 1.0, "r_00001_1_0": 2.0, "e_000_1_0": -1.0, "e_001_1_0": -0.5} | fixed, LE, 0.0)
    assert row(prob, "nospot_0_1_0") == ({"r_00000_1_0": 1.0, "e_000_1_0": -1.0} | fixed, LE, 0.0)
    assert row(prob, "supply_0_0_1")[0] == {"r_00000_0_1": 1.0, "r_00001_0_1": 2.0, "e_000_0_1": -1.0,
                                            "e_001_0_1": -0.125, "srv_002_000": -2.0, "n_003_0": -1.0}
    assert var(prob, "n_003_0").upBound == 0  # the purchase's lead time
    # the GPUs the columns could use: chat max bound 3 × TP 1 + batch 3 × TP 2 = 9: on demand 9,
    # spot ⌈9/κ⌉ = 18 and 72, purchases 9, 2-GPU reservations ⌈9/2⌉ = 5 per start
    uppers = {n: var(prob, n).upBound for n in ("e_000_1_0", "e_001_1_0", "e_001_1_1", "n_003_1")}
    assert uppers == {"e_000_1_0": 9, "e_001_1_0": 18, "e_001_1_1": 72, "n_003_1": 9}
    assert row(prob, "started_hi_002_001")[2] == 5


def test_sliced_caps_count_every_gpu_held_in_each_slice() -> None:
    """quota 12 GPUs: fixed in service (2 per reservation unit, 1 per purchase) + on-demand and spot held
    (1 each, not κ) in the slice; power (1.5 kW per bought GPU in service) per period; budget in k$."""
    prob = two_class_sliced(quota={"gpu-a": 12}, power_kw=30.0, budget_usd=50_000.0).prob
    assert row(prob, "quota_0_1_1") == ({"srv_002_001": 2.0, "n_003_0": 1.0, "n_003_1": 1.0, "e_000_1_1": 1.0,
                                         "e_001_1_1": 1.0}, LE, 12.0)
    assert row(prob, "power_1") == ({"n_003_0": 1.5, "n_003_1": 1.5}, LE, 30.0)
    assert row(prob, "power_0") == ({"n_003_0": 1.5}, LE, 30.0)
    coefs, sense, rhs = row(prob, "budget")
    assert (sense, rhs) == (LE, pytest.approx(50.0)) and coefs == objective(prob)
    uncapped = two_class_sliced(quota={"gpu-a": 12}, power_kw=30.0, budget_usd=50_000.0, with_caps=False)
    assert not [n for n in names(uncapped.prob) if n.split("_")[0] in ("quota", "power", "budget")]


def deferrable(deadline: float, *, compact: bool = False) -> SlicedProblem:
    """One deferrable class, weights (2, 2, 0, 0) (mean 1) in slices {0, 1} and {2, 3} (2 hours each);
    λ̄ = 10 req/s, μ = 10: a = 1 replica per unit of the mean rate; 1-GPU reservations at $1,000."""
    cs = candidates([{"batch": profile()}], classes=("batch",))
    return build_sliced(scen(1, deadlines=[deadline]), cs, [column(0, 10.0)], [offer("reserved-1y", (1000.0,))],
                        periods([1.0]), demand([[10.0]]), {}, [None], four_hours([[2.0, 2.0, 0.0, 0.0]], (0, 0, 1, 1)),
                        compact=compact)


@pytest.mark.parametrize("compact", [False, True])
def test_a_deadline_lets_deferrable_work_wait_for_the_quiet_slice(compact: bool) -> None:
    """B_t = B_{t−1} + w_t − X_{s(t)}, 0 ≤ B_t ≤ W_t (what arrived in the last ⌊D⌋ hours), cyclic.

    D = 2 h: W = (w_0 + w_3, w_1 + w_0, w_2 + w_1, w_3 + w_2) = (2, 4, 2, 0).  X = 1 in both slices:
    B_3 = 0, B_0 = 0 + 2 − 1 = 1 ≤ 2, B_1 = 1 + 2 − 1 = 2 ≤ 4, B_2 = 2 − 1 = 1 ≤ 2, B_3 = 1 − 1 = 0 ≤ 0: one
    replica all day, one $1,000 GPU.
    D = 1 h: W = w, so B_2 ≤ 0 and B_3 ≤ 0: B_2 = B_1 − X_1 = 0 and B_3 = −X_1 ≥ 0 → X_1 = 0, B_1 = 0,
    B_0 = X_0 − 2 and B_0 = 2 − X_0 → X_0 = 2: two replicas in slice 0, two GPUs, $2,000."""
    for deadline, gpus in ((2.0, 1), (1.0, 2)):
        problem = deferrable(deadline, compact=compact)
        window, _ = deadline_windows(problem.slices, 0, deadline)
        assert [problem.backlog[0, 0, t].upBound for t in range(4)] == window.tolist()
        assert sliced_optimum(problem) == pytest.approx(1000.0 * gpus, rel=1e-9)
    assert deadline_windows(deferrable(2.0).slices, 0, 2.0)[0].tolist() == [2.0, 4.0, 2.0, 0.0]


def test_the_most_a_deferrable_class_runs_in_an_hour_is_what_waited_plus_what_arrives() -> None:
    """X̄ = max_t (W_{t−1} + w_t).  All the work in hour 0: w = (4, 0, 0, 0).  D = 2: W = (4, 4, 0, 0), X̄ =
    max(W_3 + w_0, W_0 + w_1, W_1 + w_2, W_2 + w_3) = max(4, 4, 4, 0) = 4 — a day's work (never 8: an
    hour's arrivals are counted once).  D = 1: W = w, X̄ = 4."""
    sl = four_hours([[4.0, 0.0, 0.0, 0.0]])
    window, most = deadline_windows(sl, 0, 2.0)
    assert (window.tolist(), most) == ([4.0, 4.0, 0.0, 0.0], 4.0)
    window, most = deadline_windows(sl, 0, 1.0)
    assert (window.tolist(), most) == ([4.0, 0.0, 0.0, 0.0], 4.0)
    # a fractional deadline holds whole hours, rounded down: 1.5 h is 1 h (2 h would hold (4, 4, 0, 0))
    assert deadline_windows(sl, 0, 1.5)[0].tolist() == [4.0, 0.0, 0.0, 0.0]


def test_compact_sliced_shares_fill_the_columns_in_order_up_to_what_the_class_runs() -> None:
    """Compact model (no x): the columns are filled in order, each up to r/a, until the class is served —
    a deferrable class's X_{c,p,s} (here 1.5 times the mean rate, set by hand, with 2 replicas of a = 1):
    min(1.5, 2/1) = 1.5, not 1 as for an interactive class."""
    problem = deferrable(2.0, compact=True)
    problem.served[0, 0, 0].varValue, problem.served[0, 0, 1].varValue = 1.5, 0.5
    problem.r[0, 0, 0].varValue, problem.r[0, 0, 1].varValue = 2, 1
    assert problem.x_values() == {(0, 0, 0): 1.5, (0, 0, 1): 0.5}
    # interactive, as in the one-slice model: period 1 of the three-column instance, r = (1, 1, 1) on
    # a = (3.125, 1.25, 5): 0.32, then min(0.68, 0.8) = 0.68, then nothing left
    interactive = one_slice_three_columns(compact=True)
    for j in range(3):
        interactive.r[j, 0, 0].varValue, interactive.r[j, 1, 0].varValue = 0, 1
    assert {k: v for k, v in interactive.x_values().items() if k[1] == 1} == approx(
        {(0, 1, 0): 0.32, (1, 1, 0): 0.68, (2, 1, 0): 0.0})


def interactive_on(offers: list[ModeOffer], weights: list[float], mu: float = 1.0, mean: float = 4.0,
                   **over: Any) -> SlicedProblem:
    """chat at a mean λ̄ = ``mean`` req/s (4 unless given) in the 1 + 3-hour slices, one column of μ = ``mu``."""
    cs = candidates([{"chat": profile()}])
    return build_sliced(scen(**over), cs, [column(0, mu)], offers, periods([1.0]), demand([[mean]]), {}, [None],
                        four_hours([weights]))


def test_an_interactive_class_runs_on_spot_only_when_allowed() -> None:
    """Flat weights: a = 4 replicas in both slices (1 and 3 hours).  On demand $1,000 per GPU-period:
    4 × 1,000 × (1/4 + 3/4) = $4,000.  Spot at $500 (no preemption, no restarts): 4 × 500 = $2,000, only
    with allow_spot."""
    offers = [offer("on-demand", (1000.0,)), offer("spot", (500.0,))]
    assert sliced_optimum(interactive_on(offers, [1.0] * 4)) == pytest.approx(4000.0, rel=1e-9)
    allowed = interactive_on(offers, [1.0] * 4, allow_spot=[True])
    assert not [n for n in names(allowed.prob) if n.startswith("nospot")]
    assert sliced_optimum(allowed) == pytest.approx(2000.0, rel=1e-9)


def test_a_slice_without_load_needs_no_replica() -> None:
    """w = (4, 0, 0, 0): a = 4 replicas (λ̄ = 1, μ = 1) in the 1-hour slice and none in the 3-hour one — no
    cover row, no x ≤ r there: 4 × $1,000 × 1/4 = $1,000 on demand (a replica kept in the idle slice would
    add 750)."""
    problem = interactive_on([offer("on-demand", (1000.0,))], [4.0, 0.0, 0.0, 0.0], mean=1.0)
    assert problem.coef["capacity"] == {(0, 0, 0): 4.0, (0, 0, 1): 0.0}
    assert "cover_0_0_1" not in names(problem.prob) and "minreplica_0_0_1" not in names(problem.prob)
    assert sliced_optimum(problem) == pytest.approx(1000.0, rel=1e-9)


def test_sliced_owned_gpus_keep_whole_spares_in_every_slice() -> None:
    """18 replicas in both slices (flat, λ̄ = 18) on bought GPUs with σ = 0.9: as in the one-slice model,
    n = 20 with z = 2 spares (19: z ≥ 1.9 → 2, 20 > 19): $20,000.  The spares, held for the period, are in
    every slice's supply row."""
    problem = interactive_on([offer("buy", (1000.0,), supply=0.9)], [1.0] * 4, mean=18.0)
    coefs, sense, rhs = row(problem.prob, "spares_0_0")
    assert (coefs, sense, rhs) == (approx({"n_000_0": 0.1, "spares_0_0": -1.0}), LE, 0.0)
    for s in range(2):
        assert row(problem.prob, f"supply_0_0_{s}") == ({f"r_00000_0_{s}": 1.0, "spares_0_0": 1.0, "n_000_0": -1.0},
                                                        LE, 0.0)
    assert var(problem.prob, "n_000_0").upBound == 20
    assert sliced_optimum(problem) == pytest.approx(20_000.0, rel=1e-9)


def test_min_replicas_holds_in_every_slice() -> None:
    """CHAT weights: a = 4 × 2.5 = 10 and 4 × 0.5 = 2 replicas of μ = 1; with μ = 8: 1.25 → 2 and 0.25 → 1.
    On demand $1,000: 2 × 250 + 1 × 750 = $1,250; with min_replicas 2 the quiet slice keeps 2: $2,000."""
    offers = [offer("on-demand", (1000.0,))]
    assert sliced_optimum(interactive_on(offers, CHAT_WEIGHTS, mu=8.0)) == pytest.approx(1250.0, rel=1e-9)
    held = interactive_on(offers, CHAT_WEIGHTS, mu=8.0, min_replicas=2)
    assert row(held.prob, "min_replicas_0_0_1") == ({"r_00000_0_1": 1.0}, GE, 2.0)
    assert sliced_optimum(held) == pytest.approx(2000.0, rel=1e-9)


def test_sliced_quality_weights_each_slice_by_its_volume() -> None:
    """λ̄ = 8: 20 req/s in the 1-hour slice (×2.5), 4 in the 3-hour one (×0.5); variant 0 scores 80 with
    μ = 10, variant 1 90 with μ = 5; floor 85; on demand $1,000 (250 and 750 per GPU per slice).  With W_s
    on variant 0: 0.625 (80 W_0 + 90 (1 − W_0)) + 0.375 (80 W_1 + 90 (1 − W_1)) ≥ 85 ⇔ 0.625 W_0 + 0.375 W_1
    ≤ 0.5.  Quiet slice: one GPU either way (⌈0.4 W_1⌉ or ⌈0.8 (1 − W_1)⌉; mixed: 2).  W_1 = 1 leaves
    W_0 ≤ 0.2: 1 + ⌈3.2⌉ = 5 GPUs in slice 0 (4 with W_0 = 0) → 1,000 + 750; W_1 = 0 allows W_0 ≤ 0.8: 3 GPUs
    (W_0 = 0.5: 1 + 2) → 750 + 750 = $1,500.  Weighting by hours (0.25, 0.75) would allow W_0 = 1: $1,250."""
    cs = candidates([{"chat": profile(quality=80.0)}, {"chat": profile(quality=90.0)}])
    columns = [column(0, 10.0, variant=0), column(1, 5.0, variant=1)]
    problem = build_sliced(scen(max_variants=2), cs, columns, [offer("on-demand", (1000.0,))], periods([1.0]),
                           demand([[8.0]]), {}, [85.0], four_hours([CHAT_WEIGHTS]))
    coefs, sense, rhs = row(problem.prob, "quality_0_0")
    assert (coefs, sense, rhs) == (approx({"x_00000_0_0": 50.0, "x_00000_0_1": 30.0, "x_00001_0_0": 56.25,
                                           "x_00001_0_1": 33.75}), GE, 85.0)
    assert sliced_optimum(problem) == pytest.approx(1500.0, rel=1e-9)


def one_slice_three_columns(compact: bool = False) -> SlicedProblem:
    """The three-column instance on the time-sliced model: one 4-hour slice at peak = peak-to-average (2)
    and volume 1 (a scenario without profiles)."""
    _, cs, columns, per, dem = three_columns()
    sl = dataclasses.replace(four_hours([[1.0] * 4], (0, 0, 0, 0)), peak=np.array([[2.0]]))
    return build_sliced(scen(peak_to_average=2.0), cs, columns, [offer(cost=(900.0, 800.0))], per, dem,
                        {0: 5000.0}, [None], sl, compact=compact)


def test_one_slice_is_the_one_slice_model() -> None:
    """One slice at the peak, no deferrable class, no spot: the three-column instance (λ = 10, 25 at peak)
    has the same loads (λ̄ × 2 = λ) and proves the same $10,900, in full and compact form (the compact
    model's y is fixed at 1: its one-time and fixed costs are paid)."""
    problem = one_slice_three_columns()
    assert problem.coef["capacity"] == approx({(0, 0, 0): 1.25, (0, 1, 0): 3.125, (1, 0, 0): 0.5, (1, 1, 0): 1.25,
                                               (2, 0, 0): 2.0, (2, 1, 0): 5.0})
    assert sliced_optimum(problem) == pytest.approx(10_900.0, rel=1e-9)
    assert sliced_optimum(one_slice_three_columns(compact=True)) == pytest.approx(10_900.0, rel=1e-9)


def test_the_compact_sliced_model_refuses_two_variants() -> None:
    cs = candidates([{"chat": profile()}, {"chat": profile()}])
    with pytest.raises(ValueError, match="exactly one variant"):
        build_sliced(scen(max_variants=2), cs, [column(0, 1.0, variant=0), column(1, 1.0, variant=1)], [offer()],
                     periods([1.0]), demand([[1.0]]), {}, [None], four_hours([CHAT_WEIGHTS]), compact=True)
