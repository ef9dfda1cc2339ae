"""The lifetime-cost MILP: equals brute force, behaves monotonically, says why when it cannot plan."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pulp
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import planner
from planner.economics.periods import demand_of, periods_of
from planner.optimize.candidates import build_candidates
from planner.optimize.planning import one_time_costs
from planner.optimize.pruning import quality_floors
from tests.conftest import merged_scenario

GAP = 1e-4


def scenario(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "opt", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 3e6, "input_tokens": 600, "output_tokens": 200,
                      "ttft_ms": 1500, "tpot_ms": 60}],
        "horizon": {"months": 12, "period_months": 3, "growth_per_year": 0.5, "peak_to_average": 2.0},
        "market": {"hardware": ["l40s", "h100-sxm"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": {"quantization": ["none", "fp8", "w4a16"], "kv_quantization": ["none"],
                       "distillation": ["none"], "caching": ["none"], "moe": ["none"]},
        "quality": {"max_drop": 3.0},
    }
    return merged_scenario(data, **over)


def cost(sc: planner.Scenario, catalog) -> float:  # type: ignore[no-untyped-def]
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal", plan.message
    assert plan.lifetime_cost_usd is not None
    return plan.lifetime_cost_usd


# ------------------------------------------------------------------------------------ brute force

def brute_force_on_demand(sc: planner.Scenario, catalog) -> float:  # type: ignore[no-untyped-def]
    """Enumerate every variant and every replica count of every latency-feasible deployment
    (best batch per hardware and TP), per period, renting on demand; no MILP involved."""
    cs = build_candidates(sc, catalog)
    periods, demand = periods_of(sc.horizon), demand_of(sc.workload, sc.horizon, periods_of(sc.horizon))
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    one_time = one_time_costs(sc, cs, catalog)
    t, res = cs.deployments, cs.deployments.result
    best_total = math.inf
    for v in cs.variants:
        profile = v.profiles["chat"]
        if floors[0] is not None and profile.quality_score < floors[0] - 1e-9:
            continue
        items: dict[tuple[int, int], tuple[float, float]] = {}  # (h, tp) -> (capacity, price per replica-hour)
        for i in np.flatnonzero((t.variant == v.index) & t.latency_ok):
            h, tp = int(t.hardware[i]), int(t.tp[i])
            price = catalog.price(cs.hardware[h].slug, "on-demand").usd_per_gpu_hour
            if (h, tp) not in items or res.requests_per_s[i] > items[(h, tp)][0]:
                items[(h, tp)] = (float(res.requests_per_s[i]), tp * price)
        if not items:
            continue
        total = one_time[v.index]
        for p in range(periods.count):
            need = demand.peak_rps[0, p] * profile.served_query_fraction
            caps = list(items.values())
            ranges = [range(math.ceil(need / mu - 1e-9) + 1) for mu, _ in caps]
            assume(math.prod(len(r) for r in ranges) <= 60_000)
            best = min(sum(r * c for r, (_, c) in zip(combo, caps, strict=True))
                       for combo in itertools.product(*ranges)
                       if sum(r * mu for r, (mu, _) in zip(combo, caps, strict=True)) >= need * (1 - 1e-12))
            total += best * periods.hours * periods.discount_mid[p]
        best_total = min(best_total, total)
    return best_total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(qpd=st.floats(5e4, 1.5e6), inp=st.integers(100, 3000), out=st.integers(20, 600),
       ttft=st.floats(300, 5000), tpot=st.floats(20, 200), periods=st.sampled_from([1, 2]),
       hw=st.lists(st.sampled_from(["l4", "a10g", "l40s", "h100-sxm", "a100-80gb"]), min_size=1, max_size=2,
                   unique=True), growth=st.floats(0, 2), rate=st.floats(0, 0.2))
def test_milp_equals_brute_force(catalog, qpd, inp, out, ttft, tpot, periods, hw, growth, rate) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"queries_per_day": qpd, "input_tokens": inp, "output_tokens": out, "ttft_ms": ttft,
                            "tpot_ms": tpot},
                  horizon={"months": 3 * periods, "period_months": 3, "growth_per_year": growth,
                           "discount_rate_per_year": rate, "peak_to_average": 1.5},
                  market={"hardware": hw, "modes": ["on-demand"]},
                  techniques={"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                              "caching": ["none"], "moe": ["none"]})
    expected = brute_force_on_demand(sc, catalog)
    plan = planner.plan(sc, catalog=catalog)
    if not math.isfinite(expected):
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal", plan.message
    assert plan.lifetime_cost_usd == pytest.approx(expected, rel=GAP, abs=1e-2)


def test_optimum_over_all_variants_is_the_best_single_variant_run(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"hardware": ["l40s", "h100-sxm", "a100-80gb"], "modes": ["on-demand", "reserved-1y"]},
                  workload={"shared_prefix_tokens": 300, "repeat_rate": 0.2},
                  techniques={"quantization": ["none", "fp8", "w4a16"], "caching": ["none", "prefix", "response"]})
    full = cost(sc, catalog)
    singles = []
    for q, c in itertools.product(["none", "fp8", "w4a16"], ["none", "prefix", "response", "prefix+response"]):
        restricted = scenario(**{**{k: v for k, v in sc.model_dump(mode="json").items()
                                    if k in ("market", "horizon", "quality")},
                                 "workload": {"shared_prefix_tokens": 300, "repeat_rate": 0.2},
                                 "techniques": {"quantization": [q], "caching": [c]}})
        plan = planner.plan(restricted, catalog=catalog)
        if plan.lifetime_cost_usd is not None:
            singles.append(plan.lifetime_cost_usd)
    assert full == pytest.approx(min(singles), rel=GAP)


# -------------------------------------------------------------------------------- metamorphic

@pytest.fixture(scope="module")
def base_cost(catalog) -> float:  # type: ignore[no-untyped-def]
    return cost(scenario(), catalog)


def test_more_demand_never_costs_less(catalog, base_cost) -> None:  # type: ignore[no-untyped-def]
    assert cost(scenario(workload={"queries_per_day": 6e6}), catalog) >= base_cost * (1 - GAP)


@pytest.mark.parametrize("relaxed", [{"workload": {"ttft_ms": 5000}}, {"workload": {"tpot_ms": 120}},
                                     {"quality": {"max_drop": 10.0}}])
def test_relaxing_a_target_never_costs_more(catalog, base_cost, relaxed) -> None:  # type: ignore[no-untyped-def]
    assert cost(scenario(**relaxed), catalog) <= base_cost * (1 + GAP)


@pytest.mark.parametrize("removed", [{"market": {"hardware": ["h100-sxm"]}},
                                     {"market": {"modes": ["on-demand"]}},
                                     {"techniques": {"quantization": ["none"]}}])
def test_removing_a_choice_never_costs_less(catalog, base_cost, removed) -> None:  # type: ignore[no-untyped-def]
    assert cost(scenario(**removed), catalog) >= base_cost * (1 - GAP)


def test_scaling_every_price_scales_the_cost(catalog, base_cost) -> None:  # type: ignore[no-untyped-def]
    assert cost(scenario(market={"price_scale": 2.5}), catalog) == pytest.approx(2.5 * base_cost, rel=2 * GAP)


@pytest.mark.parametrize("unit", [2, 8])
def test_gpus_come_in_whole_units(catalog, base_cost, unit) -> None:  # type: ignore[no-untyped-def]
    """GPUs acquired together (servers, instances): every acquisition is a multiple of the unit,
    and coarser units never cost less."""
    units = {"on-demand": unit, "reserved-1y": unit}
    plan = planner.plan(scenario(market={"gpus_per_unit": units}), catalog=catalog)
    assert plan.status == "optimal", plan.message
    assert plan.fleet and all(f.gpus_acquired % unit == 0 and f.gpus_in_service % unit == 0 for f in plan.fleet)
    assert plan.lifetime_cost_usd >= base_cost * (1 - GAP)


def test_a_unit_of_one_is_the_default(catalog, base_cost) -> None:  # type: ignore[no-untyped-def]
    ones = {"on-demand": 1, "reserved-1y": 1}
    assert cost(scenario(market={"gpus_per_unit": ones}), catalog) == pytest.approx(base_cost, rel=1e-9)


def test_allowing_two_variants_never_costs_more(catalog, base_cost) -> None:  # type: ignore[no-untyped-def]
    assert cost(scenario(plan={"max_variants": 2}), catalog) <= base_cost * (1 + GAP)


def two_floors(**plan: Any) -> planner.Scenario:
    """A strict class (no quality drop) and a lenient one: one variant cannot be cheapest for both."""
    lenient = {"name": "bulk", "queries_per_day": 6e6, "input_tokens": 600, "output_tokens": 200,
               "ttft_ms": 5000, "tpot_ms": 100, "max_quality_drop": 10.0}
    sc = scenario(quality={"max_drop": 0.0}, plan=plan)
    data = sc.model_dump(mode="json")
    data["workload"].append(lenient)
    data.pop("measured_file")
    return planner.scenario_from_dict(data)


def test_two_variants_serve_classes_with_different_quality_floors(catalog) -> None:  # type: ignore[no-untyped-def]
    single = planner.plan(two_floors(), catalog=catalog)
    mixed = planner.plan(two_floors(max_variants=2), catalog=catalog)
    assert single.status == mixed.status == "optimal"
    assert len(mixed.variant_names) == 2 and len(single.variant_names) == 1
    assert mixed.lifetime_cost_usd < single.lifetime_cost_usd * (1 - GAP)


def test_a_stopped_mixed_search_falls_back_to_the_single_variant_optimum(catalog) -> None:  # type: ignore[no-untyped-def]
    """A mixed search cut short (here: a 1 ms limit) never answers worse than the single-variant optimum."""
    from planner.optimize.planning import better_of

    single = planner.plan(two_floors(), catalog=catalog)
    data = two_floors(max_variants=2).model_dump(mode="json")
    data["solver"]["time_limit_s"] = 0.001
    data.pop("measured_file")
    stopped = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    answer = better_of(stopped, single)
    assert answer.lifetime_cost_usd is not None and answer.lifetime_cost_usd <= single.lifetime_cost_usd
    if stopped.status != "optimal":
        assert answer.status == "feasible" and answer.solver is not None and answer.solver.status == "feasible"


def test_highs_and_cbc_agree(catalog, base_cost) -> None:  # type: ignore[no-untyped-def]
    cbc = planner.plan(scenario(solver={"name": "cbc"}), catalog=catalog)
    assert cbc.status in ("optimal", "feasible")
    assert cbc.lifetime_cost_usd == pytest.approx(base_cost, rel=5 * GAP)


# ------------------------------------------------------------------------------ what a plan says

def test_plan_contract(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "llama-3.1-8b", "training_cost_usd": 2e4})
    plan = planner.plan(sc, catalog=catalog)
    data = plan.model_dump(mode="json")
    for key in ("schema_version", "status", "lifetime_cost_usd", "one_time_cost_usd", "recurring_cost_usd",
                "training_cost_usd", "variant", "fleet", "serving", "classes", "cost_per_million_queries_usd",
                "inference_overtakes_training_month", "solver"):
        assert key in data
    assert plan.lifetime_cost_usd == pytest.approx(plan.one_time_cost_usd + plan.recurring_cost_usd)
    assert plan.variant is not None and set(plan.variant) >= {"quantization", "caching"}
    for s in plan.serving:  # every deployment meets its class's targets
        assert s.ttft_ms <= 1500 and s.tpot_ms <= 60
    for period in range(plan.periods):  # traffic shares of a class sum to one
        assert sum(s.traffic_share for s in plan.serving if s.period == period) == pytest.approx(1.0)
    for f in plan.fleet:
        used = sum(s.gpus for s in plan.serving if s.period == f.period and s.hardware == f.hardware)
        in_service = sum(g.gpus_in_service for g in plan.fleet if g.period == f.period and g.hardware == f.hardware)
        assert used <= in_service
    assert plan.solver is not None and plan.solver.name == "highs" and plan.solver.gap is not None
    assert 0 < (plan.inference_overtakes_training_month or 0) <= 12


def test_impossible_latency_is_an_answer_not_a_crash(catalog, whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(workload={"ttft_ms": 1}), catalog=catalog)
    assert plan.status == "infeasible" and plan.lifetime_cost_usd is None
    [finding] = plan.infeasibility
    assert finding.family == "latency" and finding.workload == "chat"
    assert "TTFT 1 ms is unreachable: best achievable" in finding.message
    path = tmp_path / "s.json"
    path.write_text(scenario(workload={"ttft_ms": 1}).model_dump_json())
    r = whatif("plan", str(path))
    assert r.code == 3 and "unreachable" in r.out


def test_unreachable_quality_floor_names_the_best_quality(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(techniques={"quantization": ["w4a16"]}, quality={"max_drop": 0.0}), catalog=catalog)
    assert plan.status == "infeasible"
    assert plan.infeasibility[0].family == "quality"
    assert "best mmlu" in plan.infeasibility[0].message


def test_quota_and_budget_infeasibility_say_how_much_is_needed(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(market={"hardware": ["h100-sxm"], "quota_gpus": {"h100-sxm": 1}}), catalog=catalog)
    assert plan.status == "infeasible" and plan.infeasibility[0].family == "quota"
    assert "in service" in plan.infeasibility[0].message
    plan = planner.plan(scenario(market={"budget_usd": 1000.0}), catalog=catalog)
    assert plan.status == "infeasible" and plan.infeasibility[0].family == "budget"


def test_a_quota_the_uncapped_plan_does_not_use_is_not_named(catalog) -> None:  # type: ignore[no-untyped-def]
    """Solver noise in the uncapped plan's replica values once named a 0-GPU quota as too small
    ("the cheapest plan without caps uses 0")."""
    sc = planner.load_scenario(planner.demo_scenario_path(), [
        "market.quota_gpus={h200=1, h100-sxm=1, l40s=0, a100-80gb=0}", "horizon.months=12"])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "infeasible"
    named = {f.requirement.split(" <=")[0] for f in plan.infeasibility if f.family == "quota"}
    assert named == {"h200", "h100-sxm"}, [f.message for f in plan.infeasibility]
    assert all("uses 0" not in f.message for f in plan.infeasibility)


def test_a_time_limit_is_never_reported_optimal(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["solver.time_limit_s=0.05"]),
                        catalog=catalog)
    assert plan.status in ("feasible", "no_solution")
    if plan.status == "feasible":
        assert plan.lifetime_cost_usd is not None and plan.solver is not None


def test_a_plan_stopped_at_a_limit_names_which_limit_and_whether_another_load_could_change_it(catalog) -> None:  # type: ignore[no-untyped-def]
    """A node limit is a work limit (the same stop on any machine load); a time limit is wall-clock
    (another load may stop elsewhere).  The plan's message says which one stopped it, and a node-limited
    plan is the same plan every run."""
    by_nodes = [planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["solver.node_limit=5"]),
                             catalog=catalog) for _ in range(2)]
    assert by_nodes[0].status == "feasible" and "node limit reached" in by_nodes[0].message
    assert "solver.node_limit = 5" in by_nodes[0].message and "time limit" not in by_nodes[0].message
    assert by_nodes[0].lifetime_cost_usd == by_nodes[1].lifetime_cost_usd
    assert [s.model_dump() for s in by_nodes[0].serving] == [s.model_dump() for s in by_nodes[1].serving]
    by_time = planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["solver.time_limit_s=1.5"]),
                           catalog=catalog)
    if by_time.status == "feasible":  # an idle, fast machine might prove it in 1.5 s; then there is nothing to name
        assert "time limit reached" in by_time.message and "solver.node_limit gives a reproducible stop" in by_time.message
    sliced = planner.plan(planner.load_scenario(planner.demo_scenario_path(), [
        "plan.time_slices=4", 'workload.chat.profile="chat-regional"', "horizon.peak_to_average=1",
        "solver.node_limit=3"]), catalog=catalog)  # the time-sliced path words it too
    assert sliced.status == "feasible" and "node limit reached (solver.node_limit = 3" in sliced.message


def test_a_missing_solver_is_a_typed_error_naming_the_fix(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pulp

    monkeypatch.setattr(pulp.HiGHS, "available", lambda self: False)
    plan = planner.plan(scenario(), catalog=catalog)
    assert plan.status == "error" and "install highspy" in plan.message


def test_training_cost_from_tokens_is_priced_on_the_training_hardware(catalog) -> None:  # type: ignore[no-untyped-def]
    from planner.physics.training import gpu_hours, training_flops

    plan = planner.plan(scenario(model={"base": "llama-3.1-8b", "training_tokens": 15e12}), catalog=catalog)
    spec = catalog.models["llama-3.1-8b"]
    hours = gpu_hours(training_flops(spec.params_active, 15e12), catalog.hardware["h100-sxm"].peak_bf16_dense_tflops,
                      catalog.defaults.training_mfu)
    expected = hours * catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour
    assert plan.training_cost_usd == pytest.approx(expected)
    assert plan.training_share_of_total == pytest.approx(expected / (expected + plan.lifetime_cost_usd))
    with pytest.raises(planner.ScenarioError, match="not both"):
        scenario(model={"base": "llama-3.1-8b", "training_tokens": 1e12, "training_cost_usd": 1e6})


def test_min_replicas_keeps_a_spare_replica_of_every_class(catalog) -> None:  # type: ignore[no-untyped-def]
    base = {"schema_version": 1, "name": "n1", "model": {"base": "llama-3.1-8b"},
            "workload": [{"name": "chat", "queries_per_day": 50_000, "input_tokens": 500, "output_tokens": 200,
                          "ttft_ms": 2000, "tpot_ms": 100}],
            "horizon": {"months": 6, "period_months": 3}, "market": {"hardware": ["h100-sxm"]},
            "techniques": {"quantization": ["none"], "caching": ["none"]}}
    one = planner.plan(planner.scenario_from_dict(base), catalog=catalog)
    two = planner.plan(planner.scenario_from_dict({**base, "workload": [{**base["workload"][0], "min_replicas": 2}]}),
                       catalog=catalog)
    assert one.status == two.status == "optimal"
    replicas = {p: sum(s.replicas for s in two.serving if s.period == p) for p in range(2)}
    assert min(replicas.values()) >= 2
    assert sum(s.replicas for s in one.serving if s.period == 0) == 1  # one replica carries the load
    assert two.lifetime_cost_usd > one.lifetime_cost_usd


def test_an_incumbent_cutoff_never_labels_a_worse_plan_optimal(catalog) -> None:  # type: ignore[no-untyped-def]
    """HiGHS's objective_bound below a variant's optimum returns 'optimal' with a worse plan (1.16):
    the planner reads that as CUTOFF (nothing cheaper), and a cutoff above the optimum changes nothing."""
    from planner.economics.offers import mode_offers
    from planner.optimize.milp import build_problem, solve
    from planner.optimize.planning import one_time_costs
    from planner.optimize.pruning import prune
    from planner.optimize.solver import SolveStatus

    sc = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12"])
    cs = build_candidates(sc, catalog)
    periods = periods_of(sc.horizon)
    demand = demand_of(sc.workload, sc.horizon, periods)
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    columns, _ = prune(cs, 1, floors)
    variant = columns[0].variant
    columns = [c for c in columns if c.variant == variant]
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods)
    one_time = one_time_costs(sc, cs, catalog)

    def run(cutoff: float | None):  # type: ignore[no-untyped-def]
        problem = build_problem(sc, cs, columns, offers, periods, demand, one_time, floors, compact=True)
        outcome = solve(problem, "highs", 60, 1e-6, cutoff_usd=cutoff)
        return outcome.status, pulp.value(problem.prob.objective) * 1e3

    status, optimum = run(None)
    assert status == SolveStatus.OPTIMAL
    assert run(optimum * 0.97)[0] == SolveStatus.CUTOFF
    status, again = run(optimum * 1.03)
    assert status == SolveStatus.OPTIMAL and again == pytest.approx(optimum, rel=1e-6)


def test_the_time_limit_bounds_all_the_solves_of_one_plan(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """max_variants = 2 solves the single-variant screening and then the pairs: together they
    may spend the limit (plus a 1 % floor per solve started after it ran out), not once each.  Every
    solve is given at most what is left of the plan's wall-clock budget when it starts (two proofs
    of the screening's wave run at once, so their durations overlap and are not summed)."""
    import time

    from planner.optimize import solver as solvers

    calls: list[tuple[float, float]] = []  # (limit given, when the solve started)
    real_run = solvers.run

    def run(prob, name, time_limit_s, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((time_limit_s, time.perf_counter()))
        return real_run(prob, name, time_limit_s, *args, **kwargs)

    from planner.optimize import direct_solve

    real_direct = direct_solve._run_once

    def run_direct(model, time_limit_s, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((time_limit_s, time.perf_counter()))
        return real_direct(model, time_limit_s, *args, **kwargs)

    monkeypatch.setattr(solvers, "run", run)
    monkeypatch.setattr(direct_solve, "_run_once", run_direct)  # the numpy-built models' solves
    limit = 4.0
    sc = planner.load_scenario(planner.demo_scenario_path(), ["plan.max_variants=2", f"solver.time_limit_s={limit}"])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status in ("optimal", "feasible")
    assert len(calls) >= 3
    floor = limit * solvers.FALLBACK_MIN_SHARE
    assert all(allowed <= limit + 1e-9 for allowed, _ in calls)
    # each solve was given only what was left: the limits never add up past the budget (+ floors).
    # The budget started before the first solve (loading, candidates), so what was left when a solve
    # started is at most the limit less the time since the first solve began — a bound that holds
    # under any machine load (a fixed allowance for the loading failed on a loaded machine)
    first = calls[0][1]
    for allowed, started in calls:
        assert allowed <= max(limit - (started - first), floor) + 1e-3


def test_tiny_demand_is_planned_with_one_replica_not_refused_as_badly_scaled(catalog) -> None:  # type: ignore[no-untyped-def]
    base = {"schema_version": 1, "name": "tiny", "model": {"base": "llama-3.1-8b"},
            "workload": [{"name": "chat", "queries_per_day": 1e-10, "input_tokens": 500, "output_tokens": 200,
                          "ttft_ms": 2000, "tpot_ms": 100}],
            "horizon": {"months": 6, "period_months": 3}, "market": {"hardware": ["h100-sxm", "l40s"]},
            "techniques": {"quantization": ["none"], "caching": ["none"]}}
    plan = planner.plan(planner.scenario_from_dict(base), catalog=catalog)
    assert plan.status == "optimal", plan.message
    assert [s.replicas for s in plan.serving if s.period == 0] == [1]
    assert plan.solver is not None and plan.solver.coefficient_max / plan.solver.coefficient_min < 1e9


def test_a_plan_cut_short_in_screening_is_the_best_variant_found_with_an_honest_gap(catalog) -> None:  # type: ignore[no-untyped-def]
    optimum = planner.plan(planner.demo_scenario_path(), catalog=catalog)
    assert optimum.status == "optimal" and optimum.lifetime_cost_usd is not None
    short = planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["solver.time_limit_s=1.5"]),
                         catalog=catalog)
    assert short.status in ("optimal", "feasible")
    if short.status == "feasible" and short.lifetime_cost_usd is not None:
        assert short.solver is not None and short.solver.gap is not None
        # the reported gap is a true bound: the optimum is not below cost x (1 - gap)
        assert optimum.lifetime_cost_usd >= short.lifetime_cost_usd * (1 - short.solver.gap) - 1e-6
        assert short.lifetime_cost_usd < 2 * optimum.lifetime_cost_usd  # a screened plan, not a stray incumbent
