"""The time-sliced screening's cheap bound (:mod:`planner.optimize.sliced_bounds`) and the lazy order
it drives (``sliced_path._BoundOrder``).

* the bound never exceeds a variant's LP relaxation, on inputs that exercise each of its terms
  (elastic prices per slice, spot's keep probability, minimum billing, bought servers with spares and
  a lead time, a deferrable class, one-time and traffic costs);
* the lazy order hands out exactly the variants and relaxations the full sort gives;
* the screening's plan is the same with the bound as without it, from fewer models built.
"""

from __future__ import annotations

from typing import Any

import pulp
import pytest

import planner
from planner.optimize import sliced_path
from planner.optimize import solver as solvers
from planner.optimize.milp_slices import build_sliced
from tests.conftest import merged_scenario

VALLEY = [0.3] * 6 + [1.2] * 6 + [1.5] * 6 + [1.0] * 6
TECHNIQUES = {"quantization": ["none", "fp8", "int8"], "kv_quantization": ["none"], "distillation": ["none"],
              "caching": ["none", "prefix"], "moe": ["none"], "speculative": ["none"]}


def scenario(case: str) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "bounds", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 3e7, "input_tokens": 600, "output_tokens": 200,
                      "ttft_ms": 1500, "tpot_ms": 60, "profile": VALLEY, "shared_prefix_tokens": 300},
                     {"name": "batch", "queries_per_day": 1e7, "input_tokens": 2000, "output_tokens": 300,
                      "ttft_ms": 5000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3, "growth_per_year": 0.4, "discount_rate_per_year": 0.08},
        "market": {"hardware": ["h100-sxm", "l40s"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": TECHNIQUES,
        "plan": {"time_slices": 4},
    }
    over: dict[str, Any] = {
        "rented": {},
        "owned": {"market": {"hardware": ["h100-sxm", "l40s"], "modes": ["on-demand", "buy"],
                             "lead_time_months": {"buy": 3}}},
        "deferrable-spot": {"market": {"hardware": ["h100-sxm", "l40s"], "modes": ["on-demand", "spot", "reserved-1y"]},
                            "horizon": {"period_months": 12}},  # one period: its proof takes about a second
    }[case]
    if case == "deferrable-spot":
        data["workload"][1].update({"deadline_hours": 12, "profile": VALLEY})
    return merged_scenario(data, **over)


CASES = ["rented", "owned", "deferrable-spot"]


class Captured(Exception):
    """Stops a plan once the arguments it hands to a captured function are in hand."""


def captured_args(module: Any, name: str, sc: planner.Scenario, catalog, monkeypatch,  # type: ignore[no-untyped-def]
                  solve: bool = True) -> tuple[planner.Plan | None, tuple[Any, ...]]:
    """The plan of ``sc`` (None with ``solve=False``: stopped at the call) and the arguments the
    planner hands to ``module.name`` (called once)."""
    seen: list[tuple[Any, ...]] = []
    real = getattr(module, name)

    def capture(*args: Any) -> Any:
        seen.append(args)
        if not solve:
            raise Captured
        return real(*args)

    monkeypatch.setattr(module, name, capture)
    try:
        plan = planner.plan(sc, catalog=catalog)
    except Captured:
        plan = None
    monkeypatch.setattr(module, name, real)
    (args,) = seen
    return plan, args


def screen_inputs(sc: planner.Scenario, catalog, monkeypatch) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    """The arguments the planner hands to ``sliced_path._screen`` for ``sc`` (the plan is made too)."""
    return captured_args(sliced_path, "_screen", sc, catalog, monkeypatch)[1][:11]  # without the pruning counters


def relaxations(args: tuple[Any, ...]) -> dict[int, float]:
    """Every variant's compact model built and relaxed: its LP bound in k$ (infeasible ones left out)."""
    scenario, cs, columns, offers, periods, demand, one_time, floors, slices, _deadline, gap = args
    out: dict[int, float] = {}
    for v in sorted({c.variant for c in columns}):
        problem = build_sliced(scenario, cs, [c for c in columns if c.variant == v], offers, periods, demand,
                               one_time, floors, slices, compact=True)
        relaxed = solvers.run(problem.prob, "highs", 60, gap, mip=False)
        if relaxed.status != solvers.SolveStatus.INFEASIBLE:
            assert relaxed.status == solvers.SolveStatus.OPTIMAL
            out[v] = float(pulp.value(problem.prob.objective))
    return out


@pytest.mark.parametrize("case", CASES)
def test_the_cheap_bound_never_exceeds_the_relaxation(case, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    args = screen_inputs(scenario(case), catalog, monkeypatch)
    scenario_, cs, columns, offers, periods, demand, one_time, _floors, slices, _deadline, _gap = args
    cheap = sliced_path.sliced_lower_bounds(scenario_.workload, cs, columns, offers, periods, demand, one_time,
                                            slices, scenario_.horizon.peak_to_average)
    lp = relaxations(args)
    assert len(lp) >= 4
    for v, bound in lp.items():
        assert cheap[v] <= bound * (1 + 1e-9), (v, cheap[v], bound)
    # and it is a bound worth having: more than half of the relaxation for every variant
    assert all(cheap[v] > 0.5 * bound for v, bound in lp.items())


@pytest.mark.parametrize("case", CASES)
def test_the_lazy_order_is_the_full_sort(case, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    args = screen_inputs(scenario(case), catalog, monkeypatch)
    lp = relaxations(args)
    order = sliced_path._BoundOrder(*args)
    handed: list[tuple[float, int]] = []
    while (item := order.item(len(handed))) is not None:
        handed.append((item[0], item[1]))
    assert handed == sorted((bound, v) for v, bound in lp.items())


@pytest.mark.parametrize("case", CASES)
def test_the_plan_is_the_same_with_the_bound_and_from_fewer_models(case, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(case)
    built: list[int] = []
    real_build = sliced_path.build_sliced

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(sliced_path, "build_sliced", counting)
    with_bound = planner.plan(sc, catalog=catalog)
    n_with = len(built)
    built.clear()
    monkeypatch.setattr(sliced_path, "sliced_lower_bounds",
                        lambda *a, **k: dict.fromkeys({c.variant for c in a[2]}, -float("inf")))
    without = planner.plan(sc, catalog=catalog)
    assert with_bound.status == without.status == "optimal"
    assert with_bound.lifetime_cost_usd == pytest.approx(without.lifetime_cost_usd, rel=1e-9)
    assert with_bound.solver.message == without.solver.message
    assert n_with < len(built)
    # the plan says so: every variant screened, only the built ones bounded by their relaxation
    pruning, pruning_all = with_bound.solver.pruning, without.solver.pruning
    assert pruning["variants_screened"] == pruning_all["variants_screened"] == pruning_all["variants_lp_bounded"]
    assert pruning["variants_lp_bounded"] == n_with < pruning["variants_screened"]
    assert pruning["variants_searched"] == pruning_all["variants_searched"] >= 1


def random_scenario(seed: int) -> planner.Scenario:
    """A small random time-sliced scenario: random daily shapes, modes (spot and bought servers
    among them), deadline, growth, discounting and period length.  The deadline is a whole day, so
    that no random shape makes a slice longer than it (refused with exit 2; tested elsewhere)."""
    import random

    rng = random.Random(seed)
    modes = rng.choice([["on-demand"], ["on-demand", "reserved-1y"], ["on-demand", "spot"],
                        ["on-demand", "spot", "buy"], ["reserved-1y", "buy", "on-demand"]])
    chat = {"profile": [round(rng.uniform(0.2, 2.0), 3) for _ in range(24)],
            "queries_per_day": rng.choice([3e6, 1e7, 3e7])}
    batch: dict[str, Any] = {"profile": [round(rng.uniform(0.2, 2.0), 3) for _ in range(24)],
                             "deadline_hours": rng.choice([None, 24]), "allow_spot": rng.choice([None, True])}
    data = scenario("rented").model_dump(mode="json", exclude_none=True)
    data["workload"][0].update(chat)
    data["workload"][1].update({k: v for k, v in batch.items() if v is not None})
    data["horizon"].update({"months": 12, "period_months": rng.choice([3, 6, 12]),
                            "growth_per_year": rng.uniform(0.0, 1.0), "discount_rate_per_year": rng.uniform(0.0, 0.1)})
    data["market"].update({"modes": modes, "hardware": rng.choice([["h100-sxm"], ["h100-sxm", "l40s"],
                                                                   ["a100-80gb", "l40s"]])})
    data["plan"]["time_slices"] = rng.choice([2, 3, 4])
    return planner.scenario_from_dict(data)


@pytest.mark.parametrize("seed", range(10))
def test_the_cheap_bound_never_exceeds_the_relaxation_on_random_inputs(seed, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    args = screen_inputs(random_scenario(seed), catalog, monkeypatch)
    scenario_, cs, columns, offers, periods, demand, one_time, _floors, slices, _deadline, _gap = args
    cheap = sliced_path.sliced_lower_bounds(scenario_.workload, cs, columns, offers, periods, demand, one_time,
                                            slices, scenario_.horizon.peak_to_average)
    for v, bound in relaxations(args).items():
        assert cheap[v] <= bound * (1 + 1e-9), (seed, v, cheap[v], bound)


def test_peak_weighted_prices_never_exceed_the_peak_shaving_cost() -> None:
    """For any GPU profile ``u`` over the slices, ``Σ_s π_s u_s`` is at most the least cost of
    serving it with ``F`` fixed GPUs (``κ`` each) and elastic ones per slice (``ε_s`` each):
    ``g(u) = min_F κF + Σ_s ε_s (u_s − F)⁺``, whose minimum lies at ``F = 0`` or some ``u_s``.  And
    for a profile shaped like the load the prices were made for, the bound is exactly ``g``."""
    import numpy as np

    from planner.optimize.sliced_bounds import _peak_weighted

    rng = np.random.default_rng(5)
    for _ in range(300):
        S = int(rng.integers(1, 7))
        kappa = np.array([rng.uniform(0.5, 3.0) if rng.random() < 0.9 else np.inf])
        elastic = rng.uniform(0.1, 2.0, (1, S))
        elastic[rng.random((1, S)) < 0.1] = np.inf
        load = rng.uniform(0.0, 5.0, (1, S))
        prices = _peak_weighted(kappa, elastic, load)[0]
        assert (prices >= 0).all() and (prices <= elastic[0]).all() and prices.sum() <= kappa[0] * (1 + 1e-12)

        def g(u):  # type: ignore[no-untyped-def]
            with np.errstate(invalid="ignore"):
                fixed = [0.0, *u] if np.isfinite(kappa[0]) else [0.0]
                return min((kappa[0] * f if f > 0 else 0.0) + np.where(u > f, elastic[0] * (u - f), 0.0).sum()
                           for f in fixed)

        for u in (rng.uniform(0.0, 5.0, S), load[0], rng.uniform(0.0, 5.0, S) * (rng.random(S) < 0.5)):
            with np.errstate(invalid="ignore"):
                bound = float(np.where(u > 0, prices * u, 0.0).sum())
            assert bound <= g(u) * (1 + 1e-9) + 1e-12, (kappa, elastic, load, u, bound, g(u))
        if np.isfinite(elastic).all():
            assert float((prices * load[0]).sum()) == pytest.approx(g(load[0]), rel=1e-9)


def test_a_screening_whose_searches_all_stopped_without_a_plan_is_not_called_infeasible(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every variant's search stopped at a limit before finding a plan proves nothing about
    feasibility: the plan says ``no_solution`` (it said ``infeasible`` before), with the lowest
    relaxation left as what is known."""
    from planner.optimize import sliced_solve

    def stopped(problem, scenario, deadline, gap, cutoff_usd):  # type: ignore[no-untyped-def]
        return solvers.SolveOutcome(solvers.SolveStatus.NO_SOLUTION, "highs", 0.0, None, "stopped (test)")

    monkeypatch.setattr(sliced_solve, "solve_once", stopped)
    plan = planner.plan(scenario("rented"), catalog=catalog)
    assert plan.status == "no_solution", (plan.status, plan.message)
    assert plan.lifetime_cost_usd is None and "infeasible" not in plan.message
