"""The time-sliced model (issue 16): hand-checkable answers.

* a two-slice day where reserving the base and renting the peak is optimal, and the MILP finds it at
  the hand-computed cost;
* a flat profile reproduces the one-slice plan exactly;
* a deferrable class with a 24 h deadline never costs more than the same class served interactively,
  and with a valley costs less;
* spot that is always reclaimed is never used (and spot that never is, is);
* bad input: a deadline shorter than a slice, spot without a price — exit 2 with the field.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import planner
from planner.optimize.candidates import build_candidates
from planner.optimize.pruning import prune, quality_floors
from planner.units import HOURS_PER_MONTH, SECONDS_PER_DAY
from tests.conftest import merged_scenario

#: 12 hours at 1.5 × the mean, 12 hours at 0.5 ×.
TWO_LEVEL = [0.5] * 6 + [1.5] * 12 + [0.5] * 6
#: A day with a night valley (mean 1).
VALLEY = [0.3] * 6 + [1.2] * 6 + [1.5] * 6 + [1.0] * 6


def base(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "slices", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 3e7, "input_tokens": 600, "output_tokens": 200,
                      "ttft_ms": 1500, "tpot_ms": 60}],
        "horizon": {"months": 12, "period_months": 12, "growth_per_year": 0.0, "discount_rate_per_year": 0.0},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": {"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"], "speculative": ["none"]},
        "plan": {"time_slices": 2},
    }
    return merged_scenario(data, **over)


def solved(sc: planner.Scenario, catalog) -> planner.Plan:  # type: ignore[no-untyped-def]
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal", plan.message
    return plan


def test_two_slice_day_reserves_the_base_and_rents_the_peak(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = base(workload={"profile": TWO_LEVEL})
    plan = solved(sc, catalog)
    assert len(plan.time_slices) == 2
    lines = {(s.hardware, s.tp, s.batch) for s in plan.serving}
    assert len(lines) == 1, plan.serving  # one deployment shape serves every slice
    (hw, tp, batch), = lines
    cs = build_candidates(sc, catalog)
    columns, _ = prune(cs, 1, quality_floors(sc.workload, sc.quality, cs.base_score))
    mu = next(c.capacity_rps for c in columns if (cs.hardware[c.hardware].slug, c.tp, c.batch) == (hw, tp, batch))
    mean_rps = 3e7 / SECONDS_PER_DAY
    need = {round(m, 6): math.ceil(mean_rps * m / mu - 1e-9) for m in (0.5, 1.5)}
    base_gpus, peak_gpus = need[0.5] * tp, need[1.5] * tp
    assert peak_gpus > base_gpus  # the peak needs more than the base: otherwise nothing to show
    reserved = [f for f in plan.fleet if f.mode == "reserved-1y"]
    rented = [f for f in plan.fleet if f.mode == "on-demand"]
    assert sum(f.gpus_in_service for f in reserved) == base_gpus
    assert all(f.slice is None for f in reserved)
    peak_slice = next(t.index for t in plan.time_slices if t.peak_by_class["chat"] == pytest.approx(1.5))
    assert [(f.slice, f.gpus_in_service) for f in rented] == [(peak_slice, peak_gpus - base_gpus)]
    hours = 12 * HOURS_PER_MONTH
    od = planner.load_catalogs(use_env=False).price("h100-sxm", "on-demand")
    reserved_rate = next(iter(reserved)).price_source
    assert reserved_rate  # the price line says where it came from
    cost_reserved = plan.cost_breakdown.reserved_usd  # type: ignore[union-attr]
    cost_rent = plan.cost_breakdown.rent_usd  # type: ignore[union-attr]
    assert cost_rent == pytest.approx((peak_gpus - base_gpus) * od.usd_per_gpu_hour * hours * 12 / 24, rel=1e-9)
    per_gpu_reserved = cost_reserved / base_gpus
    # renting the peak beats reserving it: half a day on demand < a whole day reserved
    assert od.usd_per_gpu_hour * hours / 2 < per_gpu_reserved
    assert plan.lifetime_cost_usd == pytest.approx(cost_reserved + cost_rent, rel=1e-9)
    # and it beats both pure strategies, priced by hand
    all_reserved = peak_gpus * per_gpu_reserved
    all_rented = (base_gpus * 24 + (peak_gpus - base_gpus) * 12) / 24 * od.usd_per_gpu_hour * hours
    assert plan.lifetime_cost_usd < min(all_reserved, all_rented)


def test_flat_profile_reproduces_the_one_slice_plan(catalog) -> None:  # type: ignore[no-untyped-def]
    over = {"horizon": {"months": 12, "period_months": 3, "growth_per_year": 0.5, "discount_rate_per_year": 0.08}}
    one = solved(base(**over), catalog)
    flat = solved(base(workload={"profile": [2.0] * 24}, **over), catalog)
    assert flat.lifetime_cost_usd == pytest.approx(one.lifetime_cost_usd, rel=1e-9)
    assert len(flat.time_slices) == 1

    def fleet(plan: planner.Plan) -> list[tuple[int, str, str, int]]:
        return sorted((f.period, f.hardware, f.mode, f.gpus_in_service) for f in plan.fleet)

    def serving(plan: planner.Plan) -> list[tuple[int, str, int, int, float]]:
        return sorted((s.period, s.hardware, s.tp, s.replicas, round(s.traffic_share, 9)) for s in plan.serving)

    assert fleet(flat) == fleet(one)
    assert serving(flat) == serving(one)


@pytest.mark.parametrize("profile", [None, VALLEY])
def test_deferrable_never_costs_more_and_less_with_a_valley(catalog, profile) -> None:  # type: ignore[no-untyped-def]
    shape = {} if profile is None else {"profile": profile}
    interactive = solved(base(workload=shape), catalog).lifetime_cost_usd
    batch = solved(base(workload={**shape, "deadline_hours": 24}), catalog)
    assert batch.lifetime_cost_usd is not None and interactive is not None
    assert batch.lifetime_cost_usd <= interactive * (1 + 1e-9)
    if profile is not None:
        assert batch.lifetime_cost_usd < interactive * 0.97
        served = [t.served_by_class["chat"] for t in batch.time_slices]
        arrived = [t.arrivals_by_class["chat"] for t in batch.time_slices]
        assert sum(served) == pytest.approx(1.0) and served != pytest.approx(arrived)
        assert all(t.served_by_period == [t.served_by_class] for t in batch.time_slices)  # one period


def test_the_slice_table_reads_one_period_for_gpus_and_shares(catalog) -> None:  # type: ignore[no-untyped-def]
    """The report's slice table (titled with a month) once showed the last period's GPUs beside the
    first period's served shares; every period's shares are in the plan and the table reads the last."""
    from planner.report.build import build_report

    sc = base(workload={"profile": VALLEY, "deadline_hours": 24}, horizon={"period_months": 6, "growth_per_year": 1.0})
    plan = solved(sc, catalog)
    assert all(len(t.served_by_period) == 2 and t.served_by_period[0] == t.served_by_class for t in plan.time_slices)
    assert all(sum(t.served_by_period[p]["chat"] for t in plan.time_slices) == pytest.approx(1.0) for p in (0, 1))
    r = build_report(plan, sc, catalog)
    assert r.slice_month == 6
    for row, t in zip(r.slices, plan.time_slices, strict=True):
        assert f"{t.served_by_period[1]['chat']:.0%} served" in row.classes[0]


def test_deadline_rows_hold_work_no_longer_than_the_deadline(catalog) -> None:  # type: ignore[no-untyped-def]
    short = solved(base(workload={"profile": VALLEY, "deadline_hours": 6}), catalog).lifetime_cost_usd
    day = solved(base(workload={"profile": VALLEY, "deadline_hours": 24}), catalog).lifetime_cost_usd
    interactive = solved(base(workload={"profile": VALLEY}), catalog).lifetime_cost_usd
    assert day <= short * (1 + 1e-9) <= interactive * (1 + 1e-9)  # type: ignore[operator]


@pytest.mark.parametrize("quantization", [["none"], ["none", "fp8"]])  # the compact model, and the one with x
def test_hours_without_load_need_no_replica(catalog, quantization: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A profile that is zero for half the day: its slice has nothing to cover. Its cover row once read
    ``0 ≥ 1`` and the plan was infeasible; now the slice holds no replica and no on-demand GPU, and
    the day costs what its busy half does."""
    night = [0.0] * 12 + [2.0] * 12
    sc = base(workload={"profile": night}, market={"modes": ["on-demand"]},
              techniques={"quantization": quantization})
    plan = solved(sc, catalog)
    [quiet] = [x for x in plan.time_slices if max(x.peak_by_class.values()) == 0.0]
    assert quiet.hours_per_cycle == 12
    assert not [s for s in plan.serving if s.slice == quiet.index]
    assert not [f for f in plan.fleet if f.slice == quiet.index]
    busy = solved(base(workload={"profile": night}, market={"modes": ["on-demand"]}, plan={"time_slices": 1},
                       techniques={"quantization": quantization}), catalog)
    assert plan.lifetime_cost_usd == pytest.approx(busy.lifetime_cost_usd / 2, rel=1e-6)  # half the day rented


def test_spot_always_reclaimed_is_never_used(catalog) -> None:  # type: ignore[no-untyped-def]
    market = {"modes": ["on-demand", "spot"], "spot_preemption_per_hour": 1.0}
    plan = solved(base(workload={"profile": TWO_LEVEL, "allow_spot": True}, market=market), catalog)
    assert not [f for f in plan.fleet if f.mode == "spot"]
    cheap = solved(base(workload={"profile": TWO_LEVEL, "allow_spot": True},
                        market={**market, "spot_preemption_per_hour": 0.0}), catalog)
    assert [f for f in cheap.fleet if f.mode == "spot"]
    assert cheap.lifetime_cost_usd < plan.lifetime_cost_usd  # type: ignore[operator]


def test_interactive_classes_stay_off_spot_unless_allowed(catalog) -> None:  # type: ignore[no-untyped-def]
    market = {"modes": ["on-demand", "spot"], "spot_preemption_per_hour": 0.0}
    plan = solved(base(workload={"profile": TWO_LEVEL}, market=market), catalog)
    assert not [f for f in plan.fleet if f.mode == "spot"]


def test_deadline_shorter_than_a_slice_exits_2(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--set", "horizon.peak_to_average=1", "--set", f"workload.chat.profile={VALLEY}",
               "--set", "workload.chat.deadline_hours=1", "--set", "plan.time_slices=2")
    assert r.code == 2, r.err
    assert "workload[chat].deadline_hours" in r.err and "shortest time slice" in r.err


def test_a_short_deadline_over_flat_slices_is_served_as_it_arrives(catalog) -> None:  # type: ignore[no-untyped-def]
    """Load flat within each slice (TWO_LEVEL in 2 slices) can be served at its arrival rate whatever the
    deadline, so a 1-hour deadline is planned (it was refused as shorter than a slice).  It costs no
    more than the class served as it arrives, and here less: an hour's work may cross each slice
    boundary, which lets the whole replicas of each slice be used more fully."""
    interactive = solved(base(workload={"profile": TWO_LEVEL}), catalog)
    batch = solved(base(workload={"profile": TWO_LEVEL, "deadline_hours": 1}), catalog)
    assert batch.lifetime_cost_usd is not None and interactive.lifetime_cost_usd is not None
    assert batch.lifetime_cost_usd < interactive.lifetime_cost_usd
    busy = next(t for t in batch.time_slices if t.peak_by_class["chat"] == 1.5)
    assert busy.served_by_class["chat"] != pytest.approx(busy.arrivals_by_class["chat"])  # work moved


def test_spot_without_a_price_exits_2(whatif) -> None:  # type: ignore[no-untyped-def]
    # gaudi3 has a purchase price and no rental row to derive a spot price from
    r = whatif("plan", "--set", 'market.modes=["spot", "buy"]', "--set", 'market.hardware=["gaudi3"]')
    assert r.code == 2, r.err
    assert "market.modes" in r.err and "spot price" in r.err


@pytest.mark.parametrize(("field", "value", "message"), [
    ("workload.chat.profile", "[1.0, 2.0]", "24 hourly weights"),
    ("workload.chat.profile", "[" + ", ".join(["0"] * 24) + "]", "every weight is 0"),
    ("workload.chat.profile", "[" + ", ".join(["-1"] + ["1"] * 23) + "]", "weight of hour 0 is -1"),
    ("workload.chat.profile", "5", "a list of 24 (or 168) hourly weights or a shape name"),
    ("workload.chat.ttft_p99_ms", "100", "workload[chat].ttft_p99_ms: 100 ms is below the mean target"),
])
def test_bad_profile_and_tail_inputs_exit_2(whatif, field, value, message) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--set", "horizon.peak_to_average=1", "--set", f"{field}={value}")
    assert r.code == 2, r.err
    assert message in r.err


def test_profile_and_peak_to_average_together_exit_2(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--set", f"workload.chat.profile={TWO_LEVEL}")
    assert r.code == 2 and "peak_to_average" in r.err


def test_one_time_costs_count_in_the_sliced_model(catalog) -> None:  # type: ignore[no-untyped-def]
    """A variant with a one-time cost (a distillation run) pays it in the time-sliced model too."""
    over = {"techniques": {"distillation": ["gpt-j-6b"]}, "model": {"base": "llama-3.1-8b"},
            "market": {"hardware": ["l40s"], "modes": ["on-demand"]}}
    one = solved(base(**over), catalog)
    sliced = solved(base(workload={"profile": TWO_LEVEL}, **over), catalog)
    assert one.one_time_cost_usd and one.one_time_cost_usd > 0
    assert sliced.one_time_cost_usd == pytest.approx(one.one_time_cost_usd, rel=1e-12)


@pytest.mark.parametrize("profile", [None, [1.0] * 24])
def test_min_replicas_on_one_column(catalog, profile) -> None:  # type: ignore[no-untyped-def]
    """A replica floor above a column's load is met by that one column (its replica bound is
    max(⌈a⌉, min_replicas)), not by adding a dearer second deployment."""
    shape = {} if profile is None else {"profile": profile}
    plan = solved(base(workload={"queries_per_day": 1e4, "min_replicas": 3, **shape},
                       market={"hardware": ["l40s"], "modes": ["on-demand"]}), catalog)
    lines = {(s.hardware, s.tp) for s in plan.serving}
    assert len(lines) == 1 and all(s.replicas == 3 for s in plan.serving), plan.serving


def test_rounding_cuts_remove_no_integer_point() -> None:
    """Every whole-replica point meeting a cover row ``Σ r_j / a_j ≥ 1`` meets its Chvátal–Gomory
    roundings ``Σ ⌈a_k / a_j⌉ r_j ≥ ⌈a_k⌉`` (enumerated on random loads), and the LP point
    ``r_k = a_k`` of a fractional load violates its own."""
    import itertools

    import numpy as np

    rng = np.random.default_rng(3)
    for _ in range(200):
        loads = rng.uniform(0.2, 4.5, size=3)
        cuts = [([math.ceil(a_k / a_j - 1e-9) for a_j in loads], math.ceil(a_k)) for a_k in loads
                if a_k - math.floor(a_k) >= 1e-3]
        for point in itertools.product(range(6), repeat=3):
            if sum(r / a for r, a in zip(point, loads, strict=True)) >= 1 - 1e-12:
                for weights, rhs in cuts:
                    assert sum(w * r for w, r in zip(weights, point, strict=True)) >= rhs, (loads, point)
        for k, a_k in enumerate(loads):
            if a_k - math.floor(a_k) >= 1e-3:
                lp = [a_k if j == k else 0.0 for j in range(3)]
                weights, rhs = [math.ceil(a_k / a_j - 1e-9) for a_j in loads], math.ceil(a_k)
                assert sum(w * r for w, r in zip(weights, lp, strict=True)) < rhs


def test_minimum_billing_makes_a_short_rental_cost_a_whole_day(catalog) -> None:  # type: ignore[no-untyped-def]
    """An elastic GPU is billed max(slice hours, market.elastic_min_billed_hours) a day: with a 24-hour
    minimum, renting the 12-hour peak costs as much as renting all day, so reserving wins."""
    plan = solved(base(workload={"profile": TWO_LEVEL}, market={"elastic_min_billed_hours": 24.0}), catalog)
    assert not [f for f in plan.fleet if f.mode == "on-demand"]
    default = solved(base(workload={"profile": TWO_LEVEL}), catalog)
    assert [f for f in default.fleet if f.mode == "on-demand"]
    assert plan.lifetime_cost_usd > default.lifetime_cost_usd  # type: ignore[operator]


def test_a_stopped_proof_never_trades_the_start_for_a_worse_plan(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """HiGHS keeps plans it finds above ``objective_bound`` as its incumbent, so a proof stopped at a
    limit can hand back a plan costlier than the restricted-support start (the 4-slice demo at the
    60 s limit returned $2,074,334 against its start's $1,995,616).  The proof is made to stop holding
    such a plan (one more elastic unit than the start, with the start's other values): the start must
    stand, labelled ``feasible``, with a proven bound no higher than its cost."""
    import pulp

    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers

    sc = base(workload={"profile": VALLEY}, plan={"time_slices": 4})
    reference = solved(sc, catalog)
    real, calls = sliced_solve.solve_once, []

    def stopped_proof(problem, scenario, deadline, gap, cutoff_usd):  # type: ignore[no-untyped-def]
        calls.append(cutoff_usd)
        if len(calls) < 2:  # the restricted-support start: solved for real
            return real(problem, scenario, deadline, gap, cutoff_usd)
        unit = next(var for var in problem.e.values() if var.upBound is None or (var.varValue or 0) < var.upBound)
        unit.varValue = (unit.varValue or 0) + 1  # a worse, still feasible plan as the incumbent
        return solvers.SolveOutcome(solvers.SolveStatus.FEASIBLE, "highs", 0.0, 0.5, "stopped (test)",
                                    0.5 * pulp.value(problem.prob.objective))

    monkeypatch.setattr(sliced_solve, "solve_once", stopped_proof)
    plan = planner.plan(sc, catalog=catalog)
    assert len(calls) == 2, calls
    assert plan.status == "feasible"
    assert plan.lifetime_cost_usd == pytest.approx(reference.lifetime_cost_usd, rel=1e-9)
    assert plan.solver.gap is not None and 0.0 <= plan.solver.gap <= 0.5 + 1e-9


def test_a_small_model_over_every_variant_is_still_solved(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = base(workload={"profile": VALLEY}, plan={"time_slices": 4, "max_variants": 3},
              techniques={"quantization": ["none", "fp8"]})
    plan = solved(sc, catalog)
    assert plan.solver is not None and 0 < plan.solver.variables <= 25_000


def test_a_proof_stopped_without_a_bound_keeps_the_relaxation_as_the_plans_bound(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The 4-slice demo with two variants per plan once ran its start search for 58.7 of its 60 s;
    the proof, left 0.6 s, stopped with no plan and no bound, and the plan was printed `feasible` with
    no gap at all.  The start now gets at most ``START_TIME_SHARE`` of the time left, and a proof that
    stops without a bound leaves the model's LP relaxation as the plan's proven bound."""
    from planner.optimize import sliced_solve
    from planner.optimize import solver as solvers
    from planner.optimize.direct_solve import START_TIME_SHARE

    sc = base(workload={"profile": VALLEY}, plan={"time_slices": 4})
    reference = solved(sc, catalog)
    real, shares = sliced_solve.solve_once, []

    def stopped_proof(problem, scenario, deadline, gap, cutoff_usd):  # type: ignore[no-untyped-def]
        shares.append(deadline.total_s)
        if len(shares) < 2:  # the restricted-support start: solved for real
            return real(problem, scenario, deadline, gap, cutoff_usd)
        return solvers.SolveOutcome(solvers.SolveStatus.NO_SOLUTION, "highs", 0.0, None, "stopped (test)")

    monkeypatch.setattr(sliced_solve, "solve_once", stopped_proof)
    plan = planner.plan(sc, catalog=catalog)
    limit = sc.solver.time_limit_s or planner.load_catalogs(use_env=False).defaults.solver_time_limit_s
    assert shares[0] <= START_TIME_SHARE * limit + 1e-9  # the start's share of the time
    assert plan.status == "feasible" and plan.solver is not None and plan.solver.gap is not None
    assert plan.lifetime_cost_usd == pytest.approx(reference.lifetime_cost_usd, rel=1e-9)
    assert plan.bound_usd is not None and 0 < plan.bound_usd <= reference.lifetime_cost_usd * (1 + 1e-9)


def test_the_start_is_node_limited_so_the_plan_does_not_depend_on_load(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The restricted-support start was stopped by its time share alone, so the incumbent it handed the
    proof (and the plan printed within the gap) depended on load; it now stops at START_NODES."""
    import planner.optimize.sliced_solve as sliced_solve
    from planner.optimize.direct_solve import START_NODES

    seen: list[int | None] = []
    original = sliced_solve.solve_once

    def spy(problem, scenario, deadline, gap, cutoff):  # type: ignore[no-untyped-def]
        seen.append(deadline.node_limit)
        return original(problem, scenario, deadline, gap, cutoff)

    monkeypatch.setattr(sliced_solve, "solve_once", spy)
    solved(base(workload={"profile": VALLEY}), catalog)
    assert seen[0] == START_NODES and seen[-1] is None  # the start is limited, the proof is not
    seen.clear()
    solved(base(workload={"profile": VALLEY}, solver={"node_limit": 50}), catalog)
    assert seen[0] == 50 and seen[-1] == 50  # a scenario's own limit, when smaller, holds for both
