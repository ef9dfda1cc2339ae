"""The time-sliced model's remaining unguarded figures, checked by hand (a mutation-testing review).

Each test pins a formula of :mod:`planner.optimize.milp_slices`, :mod:`planner.optimize.sliced_solve`,
:mod:`planner.optimize.sliced_path`, :mod:`planner.economics.slices` or :mod:`planner.economics.periods`
that the existing tests (``test_milp_hand_figures``, ``test_slice_hand_figures``, ``test_slices``, the
economics tests) left open.  The models are the hand-made 4-hour cycles of ``test_milp_hand_figures``
(slice 0 = hour 0, ``H = 1``; slice 1 = hours 1-3, ``H = 3``; ``L = 4``): one or two columns, one or two
periods, solved only when a handful of variables.  Figures in the models are k$.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import numpy as np
import pulp
import pytest

from planner.optimize.milp import MIN_LOAD_PER_REPLICA
from planner.optimize.milp_slices import SlicedProblem, build_sliced
from tests.optimize.test_milp_hand_figures import (
    CHAT_WEIGHTS,
    GE,
    LE,
    approx,
    candidates,
    column,
    demand,
    four_hours,
    interactive_on,
    names,
    objective,
    offer,
    periods,
    profile,
    row,
    scen,
    sliced_optimum,
    two_class_sliced,
    var,
)

# --------------------------------------------------------------------------------------------------
# milp_slices.py: the model's size, as printed in the plan's solver line


def test_the_model_counts_its_variables_rows_and_integers() -> None:
    """chat at λ̄ = 4 on one column of μ = 8 (CHAT weights: peak 2.5 and 0.5): a = 1.25 and 0.25.  Offers:
    on demand (elastic, k = 0) and single-GPU reservations (fixed, k = 1), one period.

    Variables: y, x × 2 slices, r × 2, e × 2 (on demand per slice), n × 1 (the reservation) = 8; integer:
    r, e, n and the binary y = 6.  Rows: demand × 2, cover × 2, cg × 2 (⌈1.25⌉ and ⌈0.25⌉), capacity × 2,
    rounding (a = 1.25: 0.25/1.25 = 0.2 > 1e-3) and minreplica (a = 0.25 < 1), link × 2, variants, supply
    × 2 = 15 (no nospot row: no spot offer).
    The compact model: no x, y fixed at 1 (not counted integer): 6 variables, 5 integer; rows: cover × 2,
    cg × 2, variants, supply × 2 = 7."""
    offers = [offer("on-demand", (1000.0,)), offer("reserved-1y", (800.0,))]
    cs = candidates([{"chat": profile()}])

    def build(compact: bool) -> SlicedProblem:
        return build_sliced(scen(), cs, [column(0, 8.0)], offers, periods([1.0]), demand([[4.0]]), {}, [None],
                            four_hours([CHAT_WEIGHTS]), compact=compact)

    full = build(False)
    assert full.stats == {"variables": 8, "constraints": 15, "integer_variables": 6}
    assert not [n for n in names(full.prob) if n.startswith("nospot")]
    compact = build(True)
    assert compact.stats == {"variables": 6, "constraints": 7, "integer_variables": 5}


def test_a_whole_load_needs_neither_the_x_le_r_cut_nor_a_rounding_facet() -> None:
    """Flat weights, λ̄ = μ = 1: a = 1 exactly in both slices.  The capacity row a x − r ≤ 0 is already
    x − r ≤ 0 (the ``a < 1`` cut would repeat it), and a whole load has no rounding facet or cg cut."""
    problem = interactive_on([offer("on-demand", (1000.0,))], [1.0] * 4, mean=1.0)
    assert problem.coef["capacity"] == {(0, 0, 0): 1.0, (0, 0, 1): 1.0}
    assert row(problem.prob, "capacity_0_0_0") == ({"x_00000_0_0": 1.0, "r_00000_0_0": -1.0}, LE, 0.0)
    assert not [n for n in names(problem.prob) if n.startswith(("minreplica", "rounding", "cg"))]


def test_no_quality_row_where_every_variant_scores_exactly_the_floor() -> None:
    """Scores 85 and 90 against a floor of 85: every mix meets it (Σ q V x ≥ 85 Σ V x = 85), so no row."""
    cs = candidates([{"chat": profile(quality=85.0)}, {"chat": profile(quality=90.0)}])
    problem = build_sliced(scen(max_variants=2), cs, [column(0, 10.0, variant=0), column(1, 5.0, variant=1)],
                           [offer("on-demand", (1000.0,))], periods([1.0]), demand([[8.0]]), {}, [85.0],
                           four_hours([CHAT_WEIGHTS]))
    assert not [n for n in names(problem.prob) if n.startswith("quality")]
    # a floor of 86 leaves variant 0 below it: the row appears
    problem = build_sliced(scen(max_variants=2), cs, [column(0, 10.0, variant=0), column(1, 5.0, variant=1)],
                           [offer("on-demand", (1000.0,))], periods([1.0]), demand([[8.0]]), {}, [86.0],
                           four_hours([CHAT_WEIGHTS]))
    assert "quality_0_0" in names(problem.prob)


# --------------------------------------------------------------------------------------------------
# milp_slices.py: loads, replicas and who may run on spot


def test_a_tiny_sliced_load_is_raised_to_the_smallest_load_the_model_holds() -> None:
    """λ̄ = 4 on μ = 1e9: a = 4 × 2.5 / 1e9 = 1e-8 and 4 × 0.5 / 1e9 = 2e-9, both below MIN_LOAD_PER_REPLICA
    (1e-6): raised to it (any traffic needs a whole replica; 1/a would be 1e8 in the cover row).  A slice
    without load (weights (4, 0, 0, 0)) keeps a = 0."""
    problem = interactive_on([offer("on-demand", (1000.0,))], CHAT_WEIGHTS, mu=1e9)
    assert problem.coef["capacity"] == {(0, 0, 0): MIN_LOAD_PER_REPLICA, (0, 0, 1): MIN_LOAD_PER_REPLICA}
    assert row(problem.prob, "cover_0_0_1") == (approx({"r_00000_0_1": 1e6}), GE, 1.0)
    idle = interactive_on([offer("on-demand", (1000.0,))], [4.0, 0.0, 0.0, 0.0], mu=1e9)
    assert idle.coef["capacity"] == {(0, 0, 0): MIN_LOAD_PER_REPLICA, (0, 0, 1): 0.0}


def test_min_replicas_of_one_is_kept_in_a_slice_without_load() -> None:
    """w = (4, 0, 0, 0), λ̄ = μ = 1: a = 4 in the 1-hour slice, 0 in the 3-hour one (no cover row there).
    min_replicas = 1 keeps one replica through the idle slice: 4 × 1,000 × 1/4 + 1 × 1,000 × 3/4 = $1,750
    (without it, $1,000)."""
    problem = interactive_on([offer("on-demand", (1000.0,))], [4.0, 0.0, 0.0, 0.0], mean=1.0, min_replicas=1)
    assert row(problem.prob, "min_replicas_0_0_1") == ({"r_00000_0_1": 1.0}, GE, 1.0)
    assert sliced_optimum(problem) == pytest.approx(1750.0, rel=1e-9)


def deferrable_on(offers: list[Any], allow_spot: bool | None) -> SlicedProblem:
    """One deferrable class (D = 2 h), weights (2, 2, 0, 0) in slices {0, 1} and {2, 3}; λ̄ = μ = 10: a = 1."""
    cs = candidates([{"batch": profile()}], classes=("batch",))
    return build_sliced(scen(1, deadlines=[2.0], allow_spot=[allow_spot]), cs, [column(0, 10.0)], offers,
                        periods([1.0]), demand([[10.0]]), {}, [None], four_hours([[2.0, 2.0, 0.0, 0.0]], (0, 0, 1, 1)))


def test_a_deferrable_class_that_refuses_spot_gets_its_nospot_rows() -> None:
    """A deferrable class runs on spot by default; ``allow_spot: false`` keeps it off: its nospot row
    counts its replicas against fixed and on-demand GPUs only (e_000 on demand, e_001 spot, κ = 1)."""
    offers = [offer("on-demand", (1000.0,)), offer("spot", (500.0,))]
    refused = deferrable_on(offers, False)
    assert row(refused.prob, "nospot_0_0_0") == ({"r_00000_0_0": 1.0, "e_000_0_0": -1.0}, LE, 0.0)
    assert row(refused.prob, "supply_0_0_0") == ({"r_00000_0_0": 1.0, "e_000_0_0": -1.0, "e_001_0_0": -1.0},
                                                 LE, 0.0)
    assert not [n for n in names(deferrable_on(offers, None).prob) if n.startswith("nospot")]


# --------------------------------------------------------------------------------------------------
# milp_slices.py: GPU variables, their bounds, and what a unit of several GPUs counts


def test_an_elastic_offer_holds_nothing_before_it_may_start() -> None:
    """Flat chat, λ̄ = 4, μ = 1 (a = 4 in both slices, 4 GPUs); on demand available from p = 1 only,
    single reservations ($1,000 per period) from p = 0: e in period 0 is bounded at 0, in period 1 by
    the 4 GPUs the column could use."""
    cs = candidates([{"chat": profile()}])
    offers = [offer("on-demand", (1000.0, 1000.0), available=(False, True)), offer("reserved-1y", (1000.0, 1000.0))]
    problem = build_sliced(scen(), cs, [column(0, 1.0)], offers, periods([1.0, 1.0]), demand([[4.0, 4.0]]), {},
                           [None], four_hours([[1.0] * 4]))
    assert {k: v.upBound for k, v in problem.e.items()} == {(0, 0, 0): 0, (0, 0, 1): 0, (0, 1, 0): 4, (0, 1, 1): 4}


def test_owned_single_gpus_are_bounded_by_what_covers_the_load_with_its_spares() -> None:
    """9 replicas in both slices (flat, λ̄ = 9, μ = 1) on bought GPUs with σ = 0.8: n ≤ ⌈9 / 0.8⌉ =
    ⌈11.25⌉ = 12.  The plan needs all 12: n = 11 keeps z ≥ 0.2 × 11 = 2.2 → 3 spares, 9 + 3 > 11; n = 12,
    z = 3 (≥ 2.4): 12 ≤ 12.  $12,000 (⌊11.25⌋ = 11 would leave no plan)."""
    problem = interactive_on([offer("buy", (1000.0,), supply=0.8)], [1.0] * 4, mean=9.0)
    assert var(problem.prob, "n_000_0").upBound == 12
    assert sliced_optimum(problem) == pytest.approx(12_000.0, rel=1e-9)


def test_owned_servers_count_spares_power_and_bounds_per_gpu() -> None:
    """18 replicas (flat, λ̄ = 18, μ = 1) on bought 2-GPU servers, σ = 0.8, 1.5 kW per GPU, $1,000 per GPU.
    Servers S ≤ ⌈18 / (2 × 0.8)⌉ = ⌈11.25⌉ = 12; spares z ≥ (1 − 0.8) × 2 S = 0.4 S; power 1.5 × 2 = 3 kW
    per server.  2S ≥ 18 + z: S = 10 → z ≥ 4, 22 > 20; S = 11 → z ≥ 4.4 → 5, 23 > 22; S = 12 → z = 5 (≥ 4.8),
    23 ≤ 24.  12 servers × 2 GPUs × $1,000 = $24,000."""
    problem = interactive_on([offer("buy", (1000.0,), unit=2, supply=0.8, power_kw=1.5)], [1.0] * 4, mean=18.0,
                             power_kw=100.0)
    assert var(problem.prob, "srv_000_000").upBound == 12
    assert row(problem.prob, "started_hi_000_000")[2] == 12
    assert row(problem.prob, "spares_0_0") == (approx({"srv_000_000": 0.4, "spares_0_0": -1.0}), LE, 0.0)
    assert row(problem.prob, "power_0") == ({"srv_000_000": 3.0}, LE, 100.0)
    assert objective(problem.prob) == {"srv_000_000": 2.0}
    assert sliced_optimum(problem) == pytest.approx(24_000.0, rel=1e-9)


def test_spares_are_kept_when_any_fixed_offer_in_service_is_owned() -> None:
    """Reservations (σ = 1, k = 0) and purchases (σ = 0.9, k = 1) together: the owned GPUs' expected
    repairs still need whole spares, (1 − 0.9) × n_1 ≤ z, and z counts in every slice's supply row."""
    problem = interactive_on([offer("reserved-1y", (1000.0,)), offer("buy", (900.0,), supply=0.9)], [1.0] * 4,
                             mean=18.0)
    assert row(problem.prob, "spares_0_0") == (approx({"n_001_0": 0.1, "spares_0_0": -1.0}), LE, 0.0)
    for s in range(2):
        assert row(problem.prob, f"supply_0_0_{s}") == (
            {f"r_00000_0_{s}": 1.0, "spares_0_0": 1.0, "n_000_0": -1.0, "n_001_0": -1.0}, LE, 0.0)


def test_an_elastic_unit_of_two_gpus_is_paid_and_capped_per_gpu() -> None:
    """On-demand units of 2 GPUs at $1,000 per GPU-period (CHAT weights, λ̄ = 4, μ = 8: a = 1.25 and 0.25).
    Cost per unit and slice: 1,000 × H/L × 2 = 500 (H = 1) and 1,500 (H = 3) → 0.5 and 1.5 k$; supply 2 GPUs
    per unit; quota 10 GPUs: 2 per unit held."""
    problem = interactive_on([offer("on-demand", (1000.0,), unit=2)], CHAT_WEIGHTS, mu=8.0, quota={"gpu-a": 10})
    coefs = objective(problem.prob)
    assert {k: coefs[k] for k in ("e_000_0_0", "e_000_0_1")} == approx({"e_000_0_0": 0.5, "e_000_0_1": 1.5})
    assert row(problem.prob, "quota_0_0_0") == ({"e_000_0_0": 2.0}, LE, 10.0)
    assert row(problem.prob, "supply_0_0_1") == ({"r_00000_0_1": 1.0, "e_000_0_1": -2.0}, LE, 0.0)
    # the elastic cost kept per GPU (USD), before the unit's GPUs: 250 and 750
    assert problem.coef["elastic_usd"] == approx({(0, 0, 0): 250.0, (0, 0, 1): 750.0})


def test_the_elastic_cost_is_kept_per_offer_period_and_slice() -> None:
    """``coef["elastic_usd"]`` of the two-class instance (USD per GPU, test_milp_hand_figures' figures):
    on demand cost × H/L: 250, 750 | 200, 600; spot with its restarts: 2,864.375, 5,168.90625 | 1,469.6875,
    2,696.953125."""
    problem = two_class_sliced()
    assert problem.coef["elastic_usd"] == approx({
        (0, 0, 0): 250.0, (0, 0, 1): 750.0, (0, 1, 0): 200.0, (0, 1, 1): 600.0,
        (1, 0, 0): 2864.375, (1, 0, 1): 5168.90625, (1, 1, 0): 1469.6875, (1, 1, 1): 2696.953125})


# --------------------------------------------------------------------------------------------------
# milp_slices.py: the objective's small terms and discounting


def test_the_fee_is_discounted_mid_period_and_a_cent_sized_traffic_cost_counts() -> None:
    """One 3-month period discounted δ_mid = 0.9 (start 1.0, so the two differ).  Fee $100 a month:
    100 × 3 × 0.9 = $270 (at the start's factor it would be $300); F = $1,000 → y: 1.27 k$.
    $0.50 per million queries, 1e6 queries: ρ = 0.5 × 1 × 0.9 = $0.45, × volume (0.625, 0.375) →
    x: 0.00028125 and 0.00016875 k$."""
    per = dataclasses.replace(periods([0.9]), discount_start=np.array([1.0]))
    cs = candidates([{"chat": profile(per_million=0.5, per_month=100.0)}])
    problem = build_sliced(scen(), cs, [column(0, 8.0)], [offer("on-demand", (1000.0,))], per,
                           demand([[4.0]], [[1e6]]), {0: 1000.0}, [None], four_hours([CHAT_WEIGHTS]))
    coefs = objective(problem.prob)
    assert coefs["y_00000"] == pytest.approx(1.27, rel=1e-12)
    assert {k: coefs[k] for k in ("x_00000_0_0", "x_00000_0_1")} == approx(
        {"x_00000_0_0": 0.00028125, "x_00000_0_1": 0.00016875})
    assert problem.coef["traffic_cost"] == approx({(0, 0): 0.45})


# --------------------------------------------------------------------------------------------------
# milp_slices.py: the compact model's shares in a slice without load


def test_compact_shares_in_a_slice_without_load_follow_the_replicas() -> None:
    """w = (4, 0, 0, 0): a = 4 and 0.  In the idle slice r/a is not defined: a column with no replica
    serves nothing (share 0), one with a replica takes what is left (1)."""
    cs = candidates([{"chat": profile()}])
    problem = build_sliced(scen(), cs, [column(0, 1.0)], [offer("on-demand", (1000.0,))], periods([1.0]),
                           demand([[1.0]]), {}, [None], four_hours([[4.0, 0.0, 0.0, 0.0]]), compact=True)
    problem.r[0, 0, 0].varValue, problem.r[0, 0, 1].varValue = 4, 0
    assert problem.x_values() == {(0, 0, 0): 1.0, (0, 0, 1): 0.0}
    problem.r[0, 0, 1].varValue = 1
    assert problem.x_values() == {(0, 0, 0): 1.0, (0, 0, 1): 1.0}


# --------------------------------------------------------------------------------------------------
# sliced_solve.py: the solve's options, the start's whole servers, the answers' bounds and gaps


def highs(name: str = "highs") -> Any:
    return SimpleNamespace(solver=SimpleNamespace(name=name, threads=None))


def tiny(values: dict[str, float]) -> Any:
    """min 20 a + 5 b (k$) subject to a + b ≥ 1, the variables holding ``values``: a problem of two variables."""
    prob = pulp.LpProblem("tiny", pulp.LpMinimize)
    a, b = prob.add_variable("a", 0, 10), prob.add_variable("b", 0, 10)
    prob += 20 * a + 5 * b
    prob += a + b >= 1, "one"
    a.varValue, b.varValue = values.get("a"), values.get("b")
    return SimpleNamespace(prob=prob)


def test_a_badly_scaled_model_is_refused_without_a_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Row coefficients 1e-5 and 1e5 span 1e10 > MAX_COEFFICIENT_RANGE (1e9): an error, no solver run."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers

    prob = pulp.LpProblem("scaled", pulp.LpMinimize)
    a, b = prob.add_variable("a", 0, 1), prob.add_variable("b", 0, 1)
    prob += a
    prob += 1e-5 * a + 1e5 * b >= 1, "wide"
    monkeypatch.setattr(solvers, "run", lambda *args, **kw: pytest.fail("solved"))
    outcome = sliced_solve.solve_once(cast(SlicedProblem, SimpleNamespace(prob=prob)), highs(),
                                      solvers.Deadline(10.0), 1e-4, None)
    assert outcome.status == solvers.SolveStatus.ERROR
    assert outcome.message.startswith("coefficients span 1e-05 to 1e+05")


def test_solve_once_passes_the_node_limit_and_the_cutoff_in_kusd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutoff $12,345 → objective_bound 12.345 k$; node limit 50 → mip_max_nodes.  HiGHS returns "optimal"
    at a = 1 (20 k$ = $20,000 ≥ $12,345): nothing cheaper than the cutoff, labelled CUTOFF.  CBC gets neither."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers

    seen: list[dict[str, float]] = []

    def run(prob: pulp.LpProblem, name: str, seconds: float, gap: float, **kw: Any) -> solvers.SolveOutcome:
        seen.append(dict(kw["options"]))
        return solvers.SolveOutcome(solvers.SolveStatus.OPTIMAL, name, 0.1, 0.0, "optimal")

    monkeypatch.setattr(solvers, "run", run)
    problem = cast(SlicedProblem, tiny({"a": 1.0, "b": 0.0}))
    outcome = sliced_solve.solve_once(problem, highs(), solvers.Deadline(10.0, node_limit=50), 1e-4, 12_345.0)
    assert seen == [{"mip_max_nodes": 50, "objective_bound": pytest.approx(12.345, rel=1e-12)}]
    assert outcome.status == solvers.SolveStatus.CUTOFF
    cbc = sliced_solve.solve_once(problem, highs("cbc"), solvers.Deadline(10.0, node_limit=50), 1e-4, 12_345.0)
    assert seen[1] == {} and cbc.status == solvers.SolveStatus.OPTIMAL


def test_the_starts_servers_are_rounded_non_decreasing_and_within_their_bounds() -> None:
    """Offer 0's servers in service S_p with upper bounds Σ_{q≤p} n̄_q = 3, 3, 8 (n̄ = 3, 0, 5) and LP values
    1.6, 0.4, 7.6: p = 0: round(1.6) = 2 (≤ 3); p = 1: round(0.4) = 0, raised to 2 (S never falls), at most
    2 + (3 − 3) = 2; p = 2: round(7.6) = 8, at most 2 + (8 − 3) = 7 → 7.  Offer 1, one period, bound 4,
    LP 2.5: round half to even, 2."""
    from planner.optimize.sliced_solve import rounded_servers

    servers = {}
    for (o, p), (upper, value) in {(0, 0): (3, 1.6), (0, 1): (3, 0.4), (0, 2): (8, 7.6), (1, 0): (4, 2.5)}.items():
        servers[o, p] = pulp.LpVariable(f"srv_{o}_{p}", 0, upper, cat=pulp.LpInteger)
        servers[o, p].varValue = value
    problem = cast(SlicedProblem, SimpleNamespace(servers=servers))
    assert rounded_servers(problem) == {(0, 0): 2, (0, 1): 2, (0, 2): 7, (1, 0): 2}


def outcome(status: str, gap: float | None = None, bound: float | None = None) -> Any:
    from planner.optimize import solver as solvers

    return solvers.SolveOutcome(solvers.SolveStatus(status), "highs", 9.0, gap, "as solved", bound)


def test_a_screening_is_optimal_when_every_bound_left_is_within_the_gap() -> None:
    """Best plan 4 k$.  Nothing left open, solved optimal: optimal, the screening's message and seconds.
    An open bound 3: gap 1 − 3/4 = 0.25, exactly the requested 0.25 → optimal within the gap, bound 3;
    asked for 0.2 → feasible, naming the time limit.  The plan's own gap counts: stopped at 0.5 (floor
    4 × 0.5 = 2), nothing open, asked 0.01 → feasible with gap 0.5 and bound 2."""
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import screened_status

    deadline = solvers.Deadline(60.0)
    done = screened_status(outcome("optimal", 0.0), 4.0, [], "3 variants", 2.5, 0.25, deadline)
    assert (done.status, done.seconds, done.message) == (
        solvers.SolveStatus.OPTIMAL, 2.5, "optimal: 3 variants solved or closed by their bound or the cutoff")
    within = screened_status(outcome("optimal", 0.0), 4.0, [3.0], "3 variants", 2.5, 0.25, deadline)
    assert (within.status, within.gap, within.bound) == (solvers.SolveStatus.OPTIMAL, 0.25, 3.0)
    assert within.message == solvers.within_gap_message(0.25)
    beyond = screened_status(outcome("optimal", 0.0), 4.0, [3.0], "3 variants", 2.5, 0.2, deadline)
    assert (beyond.status, beyond.gap, beyond.bound) == (solvers.SolveStatus.FEASIBLE, 0.25, 3.0)
    assert beyond.message.startswith("feasible: some solve of 3 variants stopped, time limit reached")
    stopped = screened_status(outcome("feasible", 0.5), 4.0, [], "2 pairs", 2.5, 0.01, deadline)
    assert (stopped.status, stopped.gap, stopped.bound) == (solvers.SolveStatus.FEASIBLE, 0.5, 2.0)


def test_a_stopped_search_carries_the_highest_lower_bound_known() -> None:
    """A plan of 4 k$ from a search stopped with its own bound 2 and the model's relaxation 3: the bound
    is 3 (the higher), the gap 1 − 3/4 = 0.25.  Without either, no bound and no gap; an optimal outcome
    is returned as it is."""
    from planner.optimize.sliced_solve import _stopped_with

    got = _stopped_with(outcome("feasible", 0.9, 2.0), 2.0, 3.0, 4.0)
    assert (got.bound, got.gap) == (3.0, 0.25)
    assert (_stopped_with(outcome("feasible", 0.9), None, 3.0, 4.0).bound,
            _stopped_with(outcome("feasible", 0.9), 3.5, None, 4.0).bound) == (3.0, 3.5)
    none = _stopped_with(outcome("feasible", 0.9), None, None, 4.0)
    assert (none.bound, none.gap) == (None, None)
    done = outcome("optimal", 0.0, 4.0)
    assert _stopped_with(done, 2.0, 3.0, 4.0) is done


# --------------------------------------------------------------------------------------------------
# sliced_path.py: which model is built, the refusals, and the solver line of an infeasible plan


class Copyable(SimpleNamespace):
    """A scenario stand-in with pydantic's ``model_copy(update=...)``."""

    def model_copy(self, update: dict[str, Any]) -> Copyable:
        return Copyable(**{**vars(self), **update})


def path_scenario(max_variants: int = 1, **plan: Any) -> Any:
    options = {"split_granularity": None, "pooled_capacity": False, **plan}
    return Copyable(
        workload=[SimpleNamespace(name="chat", profile=None, deadline_hours=None)],
        horizon=SimpleNamespace(peak_to_average=2.0),
        plan=Copyable(max_variants=max_variants, time_slices=2, **options),
        solver=SimpleNamespace(name="highs", threads=None))


def path_catalog(limit: int = 1_000_000) -> Any:
    return SimpleNamespace(load_shapes={}, defaults=SimpleNamespace(max_sliced_mixed_variables=limit))


def test_the_model_over_every_variant_is_refused_beyond_the_size_limit() -> None:
    """3 variants per plan, 3 columns of 2 variants × 2 periods × 2 slices × 2 variables (x, r) = 24
    variables: accepted at a limit of 24, refused at 23.  Never counted with at most 2 variants per plan
    (pairs are screened) or one variant."""
    from planner.errors import ScenarioError
    from planner.optimize.sliced_path import _check_mixed_size

    columns = [SimpleNamespace(variant=v) for v in (0, 0, 1)]
    size = SimpleNamespace(count=2)
    _check_mixed_size(path_scenario(3), path_catalog(24), columns, size, size)
    with pytest.raises(ScenarioError, match="about 24 variables, beyond the planner's limit of 23"):
        _check_mixed_size(path_scenario(3), path_catalog(23), columns, size, size)
    _check_mixed_size(path_scenario(2), path_catalog(1), columns, size, size)
    _check_mixed_size(path_scenario(3), path_catalog(1), [SimpleNamespace(variant=0)] * 3, size, size)


@pytest.mark.parametrize("option", ["split_granularity", "pooled_capacity"])
def test_traffic_split_options_are_refused_with_time_slices(option: str) -> None:
    from planner.errors import ScenarioError
    from planner.optimize.sliced_path import plan_sliced

    sc = path_scenario(**{option: 2 if option == "split_granularity" else True})
    with pytest.raises(ScenarioError) as raised:
        plan_sliced({}, sc, path_catalog(), *([None] * 10))
    assert f"plan.{option}" in str(raised.value)


def test_an_infeasible_sliced_plan_reports_the_models_size_and_coefficient_range(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The model of ``test_the_model_counts_its_variables_rows_and_integers`` without the reservation
    (on demand only): 7 variables (y, x × 2, r × 2, e × 2), 15 rows, 5 integer.  Its row coefficients run
    from 0.25 (a = 0.25 in capacity_0_0_1) to 5 (the rounding facet's 1/(1 − f), f = 1/1.25 = 0.8).  An
    infeasible screening gives one finding of the solver family."""
    from planner.optimize import sliced_path
    from planner.optimize import solver as solvers

    problem = interactive_on([offer("on-demand", (1000.0,))], CHAT_WEIGHTS, mu=8.0)
    infeasible = solvers.SolveOutcome(solvers.SolveStatus.INFEASIBLE, "highs", 0.5, None, "no plan")
    monkeypatch.setattr(sliced_path, "_screen", lambda *args: (problem, infeasible))
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(sliced_path, "infeasible_plan", lambda *args, **kw: seen.append(args) or "plan")
    columns = [SimpleNamespace(variant=0)]
    monkeypatch.setattr(sliced_path, "serving_every_class", lambda cols, _scenario: cols)  # one variant
    got = sliced_path.plan_sliced({"name": "x"}, path_scenario(), path_catalog(), None, columns, [],
                                  SimpleNamespace(count=1), None, {}, [None], solvers.Deadline(10.0), 1e-4, {})
    assert got == "plan"
    ((base, findings, info),) = seen
    assert [f.family for f in findings] == ["solver"]
    assert (info.variables, info.constraints, info.integer_variables) == (7, 15, 5)
    assert (info.coefficient_min, info.coefficient_max) == (pytest.approx(0.25), pytest.approx(5.0))
    assert info.status == solvers.SolveStatus.INFEASIBLE and "timings" in base


def test_which_screening_a_plan_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two variants: two per plan → the pairs' screening; three per plan → one model over every variant
    (not compact: it holds x); one variant → its compact model, solved without a cutoff."""
    from planner.optimize import sliced_path
    from planner.optimize import solver as solvers

    calls: list[str] = []
    result = (SimpleNamespace(prob=pulp.LpProblem("p"), stats={"variables": 0, "constraints": 0,
                                                                "integer_variables": 0}),
              solvers.SolveOutcome(solvers.SolveStatus.INFEASIBLE, "highs", 0.0, None, "no plan"))
    monkeypatch.setattr(sliced_path, "_screen_with_pairs", lambda *args: calls.append("pairs") or result)
    monkeypatch.setattr(sliced_path, "_screen", lambda *args: calls.append("screen") or result)
    monkeypatch.setattr(sliced_path, "infeasible_plan", lambda *args, **kw: "plan")
    two = [SimpleNamespace(variant=0), SimpleNamespace(variant=1)]
    for max_variants in (2, 3):
        sliced_path.plan_sliced({}, path_scenario(max_variants), path_catalog(), None, two, [],
                                SimpleNamespace(count=1), None, {}, [None], solvers.Deadline(10.0), 1e-4, {})
    assert calls == ["pairs", "screen"]

    monkeypatch.undo()
    built: list[bool] = []
    monkeypatch.setattr(sliced_path, "build_sliced", lambda *args, compact: built.append(compact) or "model")
    cutoffs: list[Any] = []
    monkeypatch.setattr(sliced_path, "solve_staged", lambda problem, sc, deadline, gap, cutoff: cutoffs.append(cutoff)
                        or "outcome")
    for max_variants, columns in ((3, two), (1, two[:1])):
        got = sliced_path._screen(path_scenario(max_variants), None, columns, [], None, None, {}, [None], None,
                                  solvers.Deadline(10.0), 1e-4, {})
        assert got == ("model", "outcome")
    assert (built, cutoffs) == ([False, True], [None, None])


def test_the_pairs_screening_first_screens_the_variants_meeting_every_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant 0 meets the floors alone, variant 1 does not: the singles' screening (one variant per plan)
    sees only variant 0's columns; the pairs' screening all of them, with the singles' answer."""
    from planner.optimize import sliced_path

    columns = [SimpleNamespace(variant=0, name="a"), SimpleNamespace(variant=1, name="b"),
               SimpleNamespace(variant=0, name="c")]
    monkeypatch.setattr(sliced_path, "meets_floors", lambda cs, v, floors: v == 0)
    seen: dict[str, Any] = {}

    def screen(sc: Any, cs: Any, cols: list[Any], *rest: Any) -> str:
        seen["single"] = ([c.name for c in cols], sc.plan.max_variants)
        return "single answer"

    def pairs(sc: Any, cs: Any, cols: list[Any], *rest: Any) -> str:
        seen["pairs"] = ([c.name for c in cols], sc.plan.max_variants, rest[-1])
        return "answer"

    monkeypatch.setattr(sliced_path, "_screen", screen)
    monkeypatch.setattr(sliced_path, "screen_pairs", pairs)
    got = sliced_path._screen_with_pairs(path_scenario(2), None, columns, [], None, None, {}, [None], None, None,
                                         1e-4, {})
    assert got == "answer"
    assert seen == {"single": (["a", "c"], 1), "pairs": (["a", "b", "c"], 2, "single answer")}


def test_a_proof_finding_nothing_below_the_cutoff_proves_the_start_within_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The start costs $10,000 (b = 2 in ``tiny``: 5 × 2 = 10 k$), gap 0.1: the proof searches below
    $10,000 itself (or the caller's $8,000, the lower).  Nothing found (CUTOFF) proves nothing below
    10,000 × 0.9 = $9,000: the start is optimal within the gap, its bound 9 k$, and its values are put back."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import StagedStart, staged_proof

    cutoffs: list[float | None] = []

    def solve_once(problem: Any, sc: Any, deadline: Any, gap: float, cutoff: float | None) -> solvers.SolveOutcome:
        cutoffs.append(cutoff)
        problem.prob.variablesDict()["a"].varValue = 1.0  # HiGHS's last point, not a plan
        return solvers.SolveOutcome(solvers.SolveStatus.CUTOFF, "highs", 2.0, None, "cut off")

    monkeypatch.setattr(sliced_solve, "solve_once", solve_once)
    problem = cast(SlicedProblem, tiny({"a": 0.0, "b": 2.0}))
    begun = StagedStart(1.0, found_usd=10_000.0, values={"a": 0.0, "b": 2.0}, relaxation=7.5)
    got = staged_proof(problem, highs(), solvers.Deadline(10.0), 0.1, None, begun)
    assert cutoffs == [10_000.0]
    assert (got.status, got.gap, got.bound, got.seconds) == (solvers.SolveStatus.OPTIMAL, 0.1,
                                                             pytest.approx(9.0, rel=1e-12), 3.0)
    assert pulp.value(problem.prob.objective) == pytest.approx(10.0)
    below = staged_proof(problem, highs(), solvers.Deadline(10.0), 0.1, 8_000.0, begun)
    assert cutoffs[1] == 8_000.0
    # the caller's cutoff below the start (a start stopped at its limit above it): nothing below 8,000·0.9
    # proves the variant out, not the $10,000 start optimal (it was returned optimal until 2026-12-07)
    assert (below.status, below.bound) == (solvers.SolveStatus.CUTOFF, pytest.approx(7.2, rel=1e-12))


def test_a_proof_stopped_at_a_limit_keeps_the_start_with_the_best_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proof, searching below the cutoff 10 × (1 − 0.1) = 9 k$, stops (feasible) holding a worse plan
    (a = 1: 20 k$) and a bound of 6 k$: the search's proven bound is min(6, 9 × (1 − 0.1)) = 6; the
    relaxation 7.5 is higher: the start ($10,000) stands with bound 7.5 and gap (10 − 7.5) / 10 = 0.25."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import StagedStart, staged_proof

    def solve_once(problem: Any, sc: Any, deadline: Any, gap: float, cutoff: float | None) -> solvers.SolveOutcome:
        problem.prob.variablesDict()["a"].varValue = 1.0
        return solvers.SolveOutcome(solvers.SolveStatus.FEASIBLE, "highs", 2.0, 0.7, "node limit", 6.0)

    monkeypatch.setattr(sliced_solve, "solve_once", solve_once)
    problem = cast(SlicedProblem, tiny({"a": 0.0, "b": 2.0}))
    begun = StagedStart(1.0, found_usd=10_000.0, values={"a": 0.0, "b": 2.0}, relaxation=7.5)
    got = staged_proof(problem, highs(), solvers.Deadline(10.0), 0.1, None, begun)
    assert (got.status, got.bound, got.gap) == (solvers.SolveStatus.FEASIBLE, 7.5, pytest.approx(0.25, rel=1e-12))
    assert got.message == "feasible: the proof stopped (node limit)"
    assert pulp.value(problem.prob.objective) == pytest.approx(10.0)


def two_columns(offers: list[Any]) -> SlicedProblem:
    """chat at λ̄ = 4 (CHAT weights) on two columns of one variant: μ = 8 on gpu-a (a = 1.25, 0.25) and μ = 1
    on gpu-b (a = 10, 2); replica bounds ⌈a⌉: 2, 1 and 10, 2.  gpu-b, if offered at all, is on demand at
    $10,000 a GPU-period (2,500 and 7,500 per slice against gpu-a's 250 and 750 on demand)."""
    cs = candidates([{"chat": profile()}], hardware=("gpu-a", "gpu-b"))
    return build_sliced(scen(), cs, [column(0, 8.0), column(1, 1.0, hardware=1)],
                        [*offers, offer("on-demand", (10_000.0,), hardware=1)], periods([1.0]), demand([[4.0]]), {},
                        [None], four_hours([CHAT_WEIGHTS]), compact=True)


def test_the_start_searches_the_lp_support_then_gives_every_column_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LP relaxation serves chat on column 0 alone (slice 0: the cover r_0/1.25 + r_1/10 ≥ 1 and its
    rounding r_0 + r_1 ≥ 2 at $250 against $2,500 a replica: r_0 = 2; slice 1: r_0 + r_1 ≥ 1, r_0 = 1), so
    the start's MILP has column 1's replicas fixed at 0; afterwards their bounds are 10 and 2 again.  A cutoff below the LP bound ($1)
    settles the model without a start; CBC gets one plain solve, no relaxation."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import staged_start

    problem = two_columns([offer("on-demand", (1000.0,))])
    seen: list[dict[tuple[int, int, int], Any]] = []

    def solve_once(p: Any, sc: Any, deadline: Any, gap: float, cutoff: float | None) -> solvers.SolveOutcome:
        seen.append({k: v.upBound for k, v in p.r.items()})
        return solvers.SolveOutcome(solvers.SolveStatus.OPTIMAL, "highs", 0.5, 0.0, "optimal")

    monkeypatch.setattr(sliced_solve, "solve_once", solve_once)
    begun = staged_start(problem, highs(), solvers.Deadline(30.0), 1e-6, None)
    assert seen == [{(0, 0, 0): 2, (0, 0, 1): 1, (1, 0, 0): 0, (1, 0, 1): 0}]
    assert {k: v.upBound for k, v in problem.r.items()} == {(0, 0, 0): 2, (0, 0, 1): 1, (1, 0, 0): 10, (1, 0, 1): 2}
    assert begun.done is None and begun.found_usd is not None and begun.relaxation is not None

    cut = staged_start(problem, highs(), solvers.Deadline(30.0), 1e-6, 1.0)
    assert cut.done is not None and cut.done.status == solvers.SolveStatus.CUTOFF and len(seen) == 1
    monkeypatch.setattr(solvers, "run", lambda *args, **kw: pytest.fail("relaxed"))
    cbc = staged_start(problem, highs("cbc"), solvers.Deadline(30.0), 1e-6, None)
    assert cbc.done is not None and cbc.done.status == solvers.SolveStatus.OPTIMAL and len(seen) == 2


def test_a_relaxation_that_is_not_optimal_hands_over_to_one_milp_with_its_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The LP stopped (time limit, 1.25 s): the MILP answers alone (0.5 s), and the time reported is both:
    1.75 s, not the MILP's 0.5 s."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import staged_start

    problem = two_columns([offer("on-demand", (1000.0,))])
    monkeypatch.setattr(solvers, "run", lambda *args, **kw: solvers.SolveOutcome(
        solvers.SolveStatus.NO_SOLUTION, "highs", 1.25, None, "time limit"))
    monkeypatch.setattr(sliced_solve, "solve_once", lambda *args: solvers.SolveOutcome(
        solvers.SolveStatus.OPTIMAL, "highs", 0.5, 0.0, "optimal"))
    begun = staged_start(problem, highs(), solvers.Deadline(30.0), 1e-6, None)
    assert begun.done is not None and begun.done.status == solvers.SolveStatus.OPTIMAL
    assert begun.done.seconds == pytest.approx(1.75)


def test_a_start_whose_rounded_servers_leave_no_plan_retries_on_the_support(monkeypatch: pytest.MonkeyPatch) -> None:
    """2-GPU reservations (servers S_0): the start first fixes S_0 at its rounding (here forced to 0);
    infeasible, it retries with S_0 free again (0 ≤ S_0 ≤ its bound), and afterwards S_0's bounds are back."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import staged_start

    problem = two_columns([offer("reserved-1y", (1000.0,), unit=2)])
    srv = problem.servers[0, 0]
    upper = srv.upBound
    monkeypatch.setattr(sliced_solve, "rounded_servers", lambda p: {(0, 0): 0})
    seen: list[tuple[Any, Any]] = []

    def solve_once(p: Any, sc: Any, deadline: Any, gap: float, cutoff: float | None) -> solvers.SolveOutcome:
        seen.append((srv.lowBound, srv.upBound))
        status = solvers.SolveStatus.INFEASIBLE if len(seen) == 1 else solvers.SolveStatus.OPTIMAL
        return solvers.SolveOutcome(status, "highs", 0.5, 0.0, status.value)

    monkeypatch.setattr(sliced_solve, "solve_once", solve_once)
    begun = staged_start(problem, highs(), solvers.Deadline(30.0), 1e-6, None)
    assert seen == [(0, 0), (0, upper)]
    assert (srv.lowBound, srv.upBound) == (0, upper) and begun.found_usd is not None


class FakeOrder:
    """``_BoundOrder`` over given items ``(LP bound k$, variant, problem)``, in that order."""

    items: ClassVar[list[tuple[float, int, Any]]] = []

    def __init__(self, *args: Any) -> None:
        self.built = 7  # models built and relaxed (not the variants' count)

    def item(self, i: int, ceiling: float = float("inf")) -> tuple[float, int, Any] | None:
        return self.items[i] if i < len(self.items) else None


def screen_variants(monkeypatch: pytest.MonkeyPatch, items: list[tuple[float, int, Any]],
                    outcomes: dict[int, Any]) -> tuple[Any, Any, dict[str, int], list[tuple[int, Any]]]:
    """``sliced_path._screen`` with one variant per plan over ``items``, each search answering
    ``outcomes[v]``: (problem, outcome, stats, the searches as (variant, cutoff USD))."""
    from planner.optimize import sliced_path
    from planner.optimize import solver as solvers

    monkeypatch.setattr(FakeOrder, "items", items)
    monkeypatch.setattr(sliced_path, "_BoundOrder", FakeOrder)
    variant_of = {id(problem): v for _, v, problem in items}
    searched: list[tuple[int, Any]] = []

    def solve_staged(problem: Any, sc: Any, deadline: Any, gap: float, cutoff: Any) -> Any:
        searched.append((variant_of[id(problem)], cutoff))
        return outcomes[variant_of[id(problem)]]

    monkeypatch.setattr(sliced_path, "solve_staged", solve_staged)
    sc = path_scenario(1)
    sc.solver = SimpleNamespace(name="cbc", threads=None)  # no proofs side by side
    stats: dict[str, int] = {}
    columns = [SimpleNamespace(variant=v) for _, v, _ in items]
    problem, result = sliced_path._screen(sc, None, columns, [], None, None, {}, [None], None,
                                          solvers.Deadline(60.0), 0.01, stats)
    return problem, result, stats, searched


def test_the_screening_keeps_the_first_cheapest_plan_and_stops_at_its_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """LP bounds 5, 6, 9 k$.  Variant 0's plan costs 9 k$ (b = 1.8); variant 1, searched below $9,000,
    answers a plan of the same 9 k$: not cheaper, variant 0's stays.  Variant 2's bound 9 reaches it:
    not searched.  Optimal; 3 variants screened, 7 models bounded (the order's count), 2 searched."""
    from planner.optimize import solver as solvers

    p0, p1, p2 = tiny({"a": 0.0, "b": 1.8}), tiny({"a": 0.0, "b": 1.8}), tiny({"a": 0.5, "b": 0.0})
    optimal = solvers.SolveOutcome(solvers.SolveStatus.OPTIMAL, "cbc", 1.0, 0.0, "optimal")
    problem, result, stats, searched = screen_variants(monkeypatch, [(5.0, 0, p0), (6.0, 1, p1), (9.0, 2, p2)],
                                                       {0: optimal, 1: optimal, 2: optimal})
    assert problem is p0
    assert searched == [(0, None), (1, pytest.approx(9_000.0))]
    assert stats == {"variants_screened": 3, "variants_lp_bounded": 7, "variants_searched": 2}
    assert result.status == solvers.SolveStatus.OPTIMAL and result.seconds == 2.0


def test_the_screening_keeps_the_bounds_of_searches_that_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant 0 (LP bound 5) has no plan (infeasible); variant 1 (LP bound 6) stops with a 10 k$ plan
    (b = 2) and its own bound 7: the plan's bound is the higher, 7, its gap 1 − 7/10 = 0.3 (feasible).
    When variant 1 is infeasible too and variant 0 stopped without a plan, the screening has no plan and
    no proof either: no solution, with variant 0's bound 5 — not infeasible."""
    from planner.optimize import solver as solvers

    p0, p1 = tiny({"a": 0.0, "b": 0.0}), tiny({"a": 0.0, "b": 2.0})
    stopped = solvers.SolveOutcome(solvers.SolveStatus.FEASIBLE, "cbc", 1.0, 0.3, "time limit", 7.0)
    none = solvers.SolveOutcome(solvers.SolveStatus.INFEASIBLE, "cbc", 1.0, None, "infeasible")
    problem, result, _, _ = screen_variants(monkeypatch, [(5.0, 0, p0), (6.0, 1, p1)], {0: none, 1: stopped})
    assert problem is p1
    assert (result.status, result.bound, result.gap) == (solvers.SolveStatus.FEASIBLE, 7.0, pytest.approx(0.3))

    no_plan = solvers.SolveOutcome(solvers.SolveStatus.NO_SOLUTION, "cbc", 1.0, None, "time limit")
    problem, result, _, _ = screen_variants(monkeypatch, [(5.0, 0, p0), (6.0, 1, p1)], {0: no_plan, 1: none})
    assert problem is p0
    assert (result.status, result.bound) == (solvers.SolveStatus.NO_SOLUTION, 5.0)


def test_a_relaxation_that_fails_leaves_one_plain_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LP relaxation not solved to optimality (here: reported infeasible): no start, one plain solve of
    the full model with the caller's cutoff settles the model."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import staged_start

    plain = solvers.SolveOutcome(solvers.SolveStatus.INFEASIBLE, "highs", 0.5, None, "infeasible")
    monkeypatch.setattr(solvers, "run", lambda *args, **kw: dataclasses.replace(plain, message="LP"))
    cutoffs: list[Any] = []
    monkeypatch.setattr(sliced_solve, "solve_once", lambda p, sc, d, gap, cutoff: cutoffs.append(cutoff) or plain)
    begun = staged_start(two_columns([offer("on-demand", (1000.0,))]), highs(), solvers.Deadline(30.0), 1e-6,
                         5_000.0)
    assert begun.done == dataclasses.replace(plain, seconds=1.0) and cutoffs == [5_000.0]  # 0.5 s LP + 0.5 s MILP


def test_proofs_side_by_side_get_the_cheapest_earlier_start_as_their_cutoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variants in bound order with starts costing $8,000, $9,000 and $7,000 (a wave of three, to see the
    rule ``min(s_0, …, s_{i−1})``): cutoffs None, 8,000, min(8,000, 9,000) = 8,000.  A variant whose bound
    reaches the cheapest start × (1 − gap) — 7.95 k$ ≥ 8,000 × 0.99 = 7,920 — is not started; with one
    variant (or none) there is nothing to run side by side."""
    from planner.optimize import sliced_path
    from planner.optimize import solver as solvers
    from planner.optimize.sliced_solve import StagedStart

    found = {0: 8_000.0, 1: 9_000.0, 2: 7_000.0, 3: 1.0}
    starts: list[tuple[int, Any]] = []
    proofs: list[tuple[int, Any]] = []
    monkeypatch.setattr(sliced_path, "staged_start", lambda problem, sc, d, gap, cutoff: starts.append(
        (problem, cutoff)) or StagedStart(1.0, found_usd=found[problem]))
    monkeypatch.setattr(sliced_path, "staged_proof", lambda problem, sc, d, gap, cutoff, begun: proofs.append(
        (problem, cutoff)) or f"proof {problem}")
    monkeypatch.setattr(solvers, "PROOF_WAVE", 3)
    sc = path_scenario()
    wave = sliced_path._first_proofs([(5.0, 0, 0), (6.0, 1, 1), (6.5, 2, 2)], sc, solvers.Deadline(60.0), 0.01)
    assert wave == {0: "proof 0", 1: "proof 1", 2: "proof 2"}
    assert sorted(proofs) == [(0, None), (1, 8_000.0), (2, 8_000.0)]

    starts.clear()
    closed = sliced_path._first_proofs([(5.0, 0, 0), (7.95, 1, 1)], sc, solvers.Deadline(60.0), 0.01)
    assert closed == {0: "proof 0"} and starts == [(0, None)]
    starts.clear()
    assert sliced_path._first_proofs([(5.0, 3, 3)], sc, solvers.Deadline(60.0), 0.01) == {} and starts == []


def test_variants_are_built_lazily_in_the_order_of_their_relaxations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap bounds 1, 3, 4, 4.5, 10 (variants 0, 1, 2, 4, 3); relaxations 5, 3.5, infeasible, stopped at a
    limit (no bound: −∞), 12.  item(0): build 0 (5), then 1 (3 ≤ 5; LP 3.5), not 2 (4 > 3.5) → variant 1,
    2 models built.  item(1): 2 (4 ≤ 5, infeasible: left out) and 4 (4.5 ≤ 5, −∞) → variant 4 at −∞.
    item(2): variant 0.  item(3) below a plan of 9 k$: variant 3's cheap bound 10 reaches it, not built →
    None (4 built); without a ceiling it is built → (12, 3)."""
    from planner.optimize import sliced_path
    from planner.optimize import solver as solvers

    cheap = {0: 1.0, 1: 3.0, 2: 4.0, 4: 4.5, 3: 10.0}
    lp = {0: 5.0, 1: 3.5, 2: 0.0, 4: 6.0, 3: 12.0}
    status = {2: solvers.SolveStatus.INFEASIBLE, 4: solvers.SolveStatus.NO_SOLUTION}
    problems = {v: tiny({"a": value / 20, "b": 0.0}) for v, value in lp.items()}
    variant_of = {id(p.prob): v for v, p in problems.items()}
    monkeypatch.setattr(sliced_path, "sliced_lower_bounds", lambda *args: cheap)
    monkeypatch.setattr(sliced_path, "build_sliced", lambda sc, cs, columns, *rest, compact: problems[columns[0].variant])
    monkeypatch.setattr(solvers, "run", lambda prob, *args, **kw: solvers.SolveOutcome(
        status.get(variant_of[id(prob)], solvers.SolveStatus.OPTIMAL), "highs", 0.1, None, "relaxed"))
    columns = [SimpleNamespace(variant=v) for v in cheap]
    order = sliced_path._BoundOrder(path_scenario(), None, columns, [], None, None, {}, [None], None,
                                    solvers.Deadline(60.0), 1e-4)

    def at(i: int, ceiling: float = float("inf")) -> tuple[float, int] | None:
        item = order.item(i, ceiling)
        return None if item is None else (item[0], item[1])

    assert at(0) == (pytest.approx(3.5), 1) and order.built == 2
    assert at(1) == (-float("inf"), 4) and order.built == 4
    assert at(2) == (pytest.approx(5.0), 0)
    assert at(3, 9.0) is None and order.built == 4
    assert at(3) == (pytest.approx(12.0), 3) and order.built == 5


def test_a_variant_without_a_column_for_a_class_never_drops_the_class(catalog) -> None:  # type: ignore[no-untyped-def]
    """The daily-load example with chat's TTFT at 30 ms: only FP8 on TP8 meets it, the baseline serves the
    batch class alone.  The plan serves both classes (it returned the baseline at $192,110 with chat dropped
    and "optimal"); with one variant per plan the others are not built, and a model lacking a class's
    column is infeasible by construction (a pair of variants neither of which serves it)."""
    from pathlib import Path

    from planner.economics.periods import demand_of, periods_of
    from planner.economics.slices import time_slices
    from planner.optimize.candidates import build_candidates
    from planner.optimize.milp_slices import build_sliced
    from planner.optimize.pruning import priced_columns, quality_floors
    from planner.optimize.sliced_path import serving_every_class
    import planner
    from planner.optimize.solver import SolveStatus, run

    sc = planner.load_scenario(Path(__file__).resolve().parents[2] / "examples" / "daily-load.toml",
                               ["workload.chat.ttft_ms=30"])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal" and {s.workload for s in plan.serving} == {"chat", "batch"}
    assert plan.variant_names == ["quantization:fp8"]
    cs = build_candidates(sc, catalog)
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    columns, _ = priced_columns(cs, sc, floors, frozenset(), set(range(len(cs.hardware))))
    whole = serving_every_class(columns, sc)
    assert {c.variant for c in whole} < {c.variant for c in columns}  # some variants serve batch only
    assert all({c.workload for c in whole if c.variant == v} == {0, 1} for v in {c.variant for c in whole})
    batch_only = next(v for v in {c.variant for c in columns} - {c.variant for c in whole})
    periods = periods_of(sc.horizon)
    from planner.economics.offers import mode_offers

    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods)
    slices = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    model = build_sliced(sc, cs, [c for c in columns if c.variant == batch_only], offers, periods,
                         demand_of(sc.workload, sc.horizon, periods), {v.index: 0.0 for v in cs.variants}, floors,
                         slices, compact=True)
    assert run(model.prob, "highs", 30.0, 0.0, mip=False).status == SolveStatus.INFEASIBLE
