"""``plan.max_variants = 2`` with time slices (:mod:`planner.optimize.sliced_pairs`).

* the fluid split (a fractional knapsack) equals the LP it solves, on random rows with forced
  items, zero volumes and empty quality intervals;
* the pair bound never exceeds a pair's LP relaxation with both variants in use, on fixed and
  random inputs with quality floors some variants miss;
* the screening's plan costs what the one model over every variant proves optimal;
* the demo in 4 slices with two variants per plan is no longer refused, and three per plan is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pulp
import pytest

import planner
from planner.optimize import sliced_pairs, sliced_path
from planner.optimize import solver as solvers
from planner.optimize.sliced_bounds import sliced_class_costs
from planner.optimize.pruning import quality_interval
from planner.optimize.sliced_pairs import best_pair_bounds, fluid_split_cost
from tests.optimize.test_sliced_bounds import captured_args, random_scenario, scenario


def split_lp(a: np.ndarray, b: np.ndarray, volume: np.ndarray, lo: float, hi: float) -> float:
    """The fluid split of one row as an LP (``inf`` entries force the other side), by HiGHS."""
    prob = pulp.LpProblem("split", pulp.LpMinimize)
    w = [pulp.LpVariable(f"w{k}", 0, 1) for k in range(len(volume))]
    for k in range(len(volume)):
        if not np.isfinite(a[k]):
            prob += w[k] == 0
        if not np.isfinite(b[k]):
            prob += w[k] == 1
    shared = pulp.lpSum(float(volume[k]) * w[k] for k in range(len(volume)))
    prob += shared >= lo
    prob += shared <= hi
    prob += pulp.lpSum((float(a[k]) if np.isfinite(a[k]) else 0.0) * w[k]
                       + (float(b[k]) if np.isfinite(b[k]) else 0.0) * (1 - w[k]) for k in range(len(volume)))
    prob.solve(pulp.HiGHS(msg=False))
    return float(pulp.value(prob.objective)) if prob.status == pulp.LpStatusOptimal else np.inf


def test_the_fluid_split_is_the_lp_it_stands_for() -> None:
    rng = np.random.default_rng(11)
    infeasible = 0
    for _ in range(150):
        K = int(rng.integers(1, 6))
        volume = rng.dirichlet(np.ones(K)) * (rng.random(K) > 0.15)
        a, b = rng.uniform(0, 10, K), rng.uniform(0, 10, K)
        a[rng.random(K) < 0.15] = np.inf
        b[rng.random(K) < 0.15] = np.inf
        lo, hi = sorted(rng.uniform(-0.2, 1.2, 2)) if rng.random() < 0.8 else (0.7, 0.3)
        got = fluid_split_cost(a[None, :], b[None, :], volume, np.array([lo]), np.array([hi]))[0]
        want = split_lp(a, b, volume, lo, hi)
        infeasible += not np.isfinite(want)
        if np.isfinite(want):
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (a, b, volume, lo, hi)
        else:
            assert not np.isfinite(got), (a, b, volume, lo, hi, got)
    assert infeasible >= 5  # the infeasible branch was exercised


def test_the_quality_interval_is_where_the_blend_meets_the_floor() -> None:
    q1, q2 = np.array([70.0, 60.0, 65.0, 60.0, 66.0]), np.array([60.0, 70.0, 65.0, 60.0, 70.0])
    below = np.array([True, True, False, True, True])
    lo, hi = quality_interval(q1, q2, below, 64.0)
    assert lo.tolist()[:2] == [0.4, 0.0] and hi.tolist()[:2] == [1.0, pytest.approx(0.6)]
    assert (lo[2], hi[2]) == (0.0, 1.0)  # no row: neither variant below the floor
    assert lo[3] > hi[3]  # both below: nothing meets it
    assert (lo[4], hi[4]) == (0.0, 1.0)  # q₁ = 66 and q₂ = 70 both meet 64: any blend does
    for w in np.linspace(0, 1, 21):
        blend = q2 + (q1 - q2) * w
        inside = (lo - 1e-12 <= w) & (w <= hi + 1e-12)
        assert ((blend >= 64.0 - 1e-9) | ~below == inside)[[0, 1, 3, 4]].all(), w


def with_floors(sc: planner.Scenario, max_drop: float) -> planner.Scenario:
    """``sc`` with two variants per plan and a quality floor ``max_drop`` points below the base."""
    data = sc.model_dump(mode="json", exclude_none=True)
    data["plan"]["max_variants"] = 2
    data["quality"] = {**data.get("quality", {}), "max_drop": max_drop}
    return planner.scenario_from_dict(data)


def pair_inputs(sc: planner.Scenario, catalog, monkeypatch, solve: bool = True) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    """The plan of ``sc`` (None with ``solve=False``: stopped before the pairs are screened) and the
    arguments the planner hands to ``sliced_pairs.screen_pairs``."""
    plan, args = captured_args(sliced_path, "screen_pairs", sc, catalog, monkeypatch, solve)
    return plan, args[:11]


def pair_relaxations(args: tuple[Any, ...]) -> dict[tuple[int, int], float]:
    scenario_, cs, columns, offers, periods, demand, one_time, floors, slices, _deadline, gap = args
    variants = sorted({c.variant for c in columns})
    out: dict[tuple[int, int], float] = {}
    for i, v in enumerate(variants):
        for w in variants[i + 1:]:
            problem = sliced_pairs._pair_model(scenario_, cs, columns, (v, w), offers, periods, demand, one_time,
                                               floors, slices)
            relaxed = solvers.run(problem.prob, "highs", 60, gap, mip=False)
            if relaxed.status != solvers.SolveStatus.INFEASIBLE:
                assert relaxed.status == solvers.SolveStatus.OPTIMAL
                out[(v, w)] = float(pulp.value(problem.prob.objective))
    return out


def pair_bounds(args: tuple[Any, ...]) -> dict[tuple[int, int], float]:
    scenario_, cs, columns, offers, periods, demand, one_time, floors, slices, _deadline, _gap = args
    variants = sorted({c.variant for c in columns})
    pricings = sliced_class_costs(scenario_.workload, cs, columns, offers, periods, demand, one_time, slices,
                                  scenario_.horizon.peak_to_average)
    quality = {v: [cs.variants[v].profiles[w].quality_score for w in cs.workloads] for v in variants}
    return best_pair_bounds(pricings, quality, floors, variants, periods.count)


def assert_bounded(args: tuple[Any, ...], label: object) -> tuple[int, int]:
    """Every pair's bound is at most its relaxation; returns (pairs checked, pairs a floor constrains)."""
    bounds, lp = pair_bounds(args), pair_relaxations(args)
    cs, floors = args[1], args[7]
    constrained = 0
    for (v, w), relaxation in lp.items():
        assert bounds[(v, w)] <= relaxation * (1 + 1e-9), (label, v, w, bounds[(v, w)], relaxation)
        scores = [cs.variants[u].profiles[cs.workloads[0]].quality_score for u in (v, w)]
        constrained += floors[0] is not None and any(s is not None and s < floors[0] for s in scores)
    for pair, bound in bounds.items():  # a pair the bound calls impossible has no relaxation either
        if not np.isfinite(bound):
            assert pair not in lp, (label, pair)
    return len(lp), constrained


@pytest.mark.parametrize("case", ["rented", "owned", "deferrable-spot"])
def test_the_pair_bound_never_exceeds_the_pair_relaxation(case, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _plan, args = pair_inputs(with_floors(scenario(case), 0.6), catalog, monkeypatch, solve=False)
    checked, constrained = assert_bounded(args, case)
    assert checked >= 10 and constrained >= 1  # some pair blends a variant below the floor


@pytest.mark.parametrize("seed", range(6))
def test_the_pair_bound_never_exceeds_the_pair_relaxation_on_random_inputs(seed, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _plan, args = pair_inputs(with_floors(random_scenario(seed), 0.6), catalog, monkeypatch, solve=False)
    checked, _constrained = assert_bounded(args, seed)
    assert checked >= 1


def blended(period_months: int, slices: int, hardware: list[str]) -> planner.Scenario:
    """A scenario whose optimum over two variants blends them: with a floor 0.3 points below the base,
    only the unquantised variants meet it alone, and FP8 (0.35 below) pays for part of the traffic."""
    data = scenario("rented").model_dump(mode="json", exclude_none=True)
    data["market"]["hardware"] = hardware
    data["horizon"]["period_months"] = period_months
    data["plan"]["time_slices"] = slices
    return with_floors(planner.scenario_from_dict(data), 0.3)


CASES = {"rented": lambda: with_floors(scenario("rented"), 0.6), "owned": lambda: with_floors(scenario("owned"), 0.6),
         "deferrable-spot": lambda: with_floors(scenario("deferrable-spot"), 0.6),
         "random-2": lambda: with_floors(random_scenario(2), 0.6),
         "blend-a100-l40s": lambda: blended(12, 2, ["a100-80gb", "l40s"]),
         "blend-a100": lambda: blended(12, 4, ["a100-80gb"]), "blend-l40s": lambda: blended(12, 3, ["l40s"])}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_pair_screening_finds_what_one_model_over_every_variant_proves(case, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same optimum (to the gap) as the model over every variant with ``Σ y ≤ 2`` — what the
    planner built before pairs were screened — where a single variant wins and where a pair does."""
    plan, args = pair_inputs(CASES[case](), catalog, monkeypatch)
    assert plan.status == "optimal", plan.solver
    problem, outcome = sliced_path._screen(*args[:9], solvers.Deadline(120.0), args[10], {})
    assert outcome.status == solvers.SolveStatus.OPTIMAL and len(problem.variants) > 2
    whole = float(pulp.value(problem.prob.objective)) * 1e3
    gap = args[10]
    assert plan.lifetime_cost_usd == pytest.approx(whole, rel=2 * gap), (case, plan.lifetime_cost_usd, whole)
    pruning = plan.solver.pruning
    assert pruning["pairs_screened"] == 15 and 1 <= pruning["pairs_lp_bounded"] < 15
    assert len({line.variant for line in plan.serving}) == (2 if case.startswith("blend") else 1), plan.serving


def test_three_variants_per_plan_with_time_slices_are_still_refused_beyond_the_limit(whatif, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Pairs are screened; three variants per plan are still one model over every variant: the demo in
    4 slices would be 137,280 variables (140,352 before batches were kept within the engines' cap, 194,880
    before variants were kept off the classes their model's
    context cannot hold; that model took 160 s and 7.2 GB to build, measured): exit 2 naming the field,
    before any sliced model is built — also the single-variant plan's, which was solved first (30 s on a
    loaded machine, which failed this test's old bound of 30 s on the run)."""
    from planner.optimize import sliced_path

    monkeypatch.setattr(sliced_path, "build_sliced", lambda *a, **k: pytest.fail("a sliced model was built"))
    demo = str(planner.demo_scenario_path())
    shaped = ["--set", "horizon.peak_to_average=1", "--set", 'workload.chat.profile="chat-regional"',
              "--set", 'workload.summarise.profile="business-hours"', "--set", "plan.time_slices=4"]
    result = whatif("plan", demo, *shaped, "--set", "plan.max_variants=3")
    assert result.code == 2, result.err
    assert result.err.startswith("whatif: error: plan.max_variants:") and "137,280 variables" in result.err
    assert "plan.max_variants = 1 or 2" in result.err
    assert "Traceback" not in result.err and result.out == ""


def test_a_pulp_search_stopped_by_the_node_limit_keeps_its_plan(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """HiGHS reports a search stopped by ``mip_max_nodes`` as a solution limit, which PuLP 3.3's
    status table lacks: every PuLP-built search stopped so (the time-sliced path under
    ``solver.node_limit``) came back as a solver error with its plan lost.  Now it is ``feasible``
    with the plan and the node-limit message.  The model is a blended pair's, which no few nodes prove."""
    import highspy

    _plan, args = pair_inputs(blended(12, 4, ["a100-80gb", "l40s"]), catalog, monkeypatch, solve=False)
    scenario_, cs, columns, offers, periods, demand, one_time, floors, slices, _deadline, gap = args
    names = {v.name: v.index for v in cs.variants}
    pair = (names["caching:prefix"], names["quantization:fp8 + caching:prefix"])
    problem = sliced_pairs._pair_model(scenario_, cs, columns, pair, offers, periods, demand, one_time, floors, slices)
    outcome = solvers.run(problem.prob, "highs", 60.0, gap, options={"mip_max_nodes": 3})
    assert problem.prob.solverModel.getModelStatus() == highspy.HighsModelStatus.kSolutionLimit
    assert outcome.status == solvers.SolveStatus.FEASIBLE, outcome.message
    assert outcome.message == solvers.NODE_LIMIT_MESSAGE
    assert outcome.bound is not None and 0 < outcome.bound <= pulp.value(problem.prob.objective)


def test_under_a_node_limit_only_the_first_pair_is_searched(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``explain``'s re-solves run under a node limit: there the screening searches only the pair of
    lowest bound (``NODE_LIMITED_PAIRS``) and leaves the others' bounds as the plan's, so a re-solve
    of the demo in 4 slices takes about a minute, not a quarter of an hour, and is the same every run."""
    assert sliced_pairs.NODE_LIMITED_PAIRS == 1
    sc = planner.scenario_from_dict({**blended(12, 2, ["a100-80gb", "l40s"]).model_dump(mode="json", exclude_none=True),
                                     "solver": {"node_limit": 1}})
    plans = [pair_inputs(sc, catalog, monkeypatch)[0] for _ in range(2)]
    for plan in plans:
        assert plan.solver.pruning["pairs_solved"] == 1, plan.solver.pruning
        assert plan.lifetime_cost_usd is not None and plan.status in ("optimal", "feasible")
    assert plans[0].lifetime_cost_usd == plans[1].lifetime_cost_usd
    assert plans[0].bound_usd == plans[1].bound_usd
    unlimited = pair_inputs(blended(12, 2, ["a100-80gb", "l40s"]), catalog, monkeypatch)[0]
    assert unlimited.solver.pruning["pairs_solved"] > 1


def test_the_demo_in_4_slices_with_two_variants_per_plan_is_answered_with_its_interval(whatif) -> None:  # type: ignore[no-untyped-def]
    """It was refused (exit 2: one model of 194,880 variables).  Now the pairs are screened: whatever
    the time limit stops, the plan comes back with its status and, unless proven, its interval."""
    import json

    demo = str(planner.demo_scenario_path())
    shaped = ["--set", "horizon.peak_to_average=1", "--set", 'workload.chat.profile="chat-regional"',
              "--set", 'workload.summarise.profile="business-hours"', "--set", "plan.time_slices=4"]
    result = whatif("plan", demo, *shaped, "--set", "plan.max_variants=2", "--set", "solver.time_limit_s=15",
                    "--format", "json")
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert plan["status"] in ("optimal", "feasible") and plan["lifetime_cost_usd"] is not None
    assert plan["solver"]["pruning"]["pairs_screened"] == 7140
    if plan["status"] == "feasible":
        assert plan["bound_usd"] is not None and 0 < plan["bound_usd"] <= plan["lifetime_cost_usd"]
