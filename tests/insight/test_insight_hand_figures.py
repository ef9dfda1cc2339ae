"""Hand-checked figures of explain's helpers: the sensitivity cases (which input each end moves, by which
factor, from which base), their collection (each end's cost, decision, status and interval kept on its
own side), the re-solve helpers (auxiliary settings, decisions, the worker job, :class:`Batch`), the
service-level lines, the estimator's preview (peak demand, replicas, prices, the cheapest row, why a
pair is infeasible) and the executors.  The solver is stubbed wherever the logic is around the solve."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any, Self

import numpy as np
import pytest

import planner
from planner.errors import InputError
from planner.insight import pools, resolve, sensitivity
from planner.insight.preview import _why_not, preview
from planner.insight.resolve import (
    AUX_GAP_REL,
    AUX_NODE_LIMIT,
    AUX_TIME_LIMIT_S,
    aux_scenario,
    baseline_scenario,
    decision,
)
from planner.insight.sensitivity import (
    change_from,
    collect_sensitivity,
    efficiency_band,
    sensitivity_cases,
    submit_sensitivity,
)
from planner.insight.service_levels import (
    collect_service_levels,
    service_level_cases,
    submit_service_levels,
)
from planner.optimize.candidates import build_candidates
from tests.insight.test_explain import scenario

# scenario(): llama-3.1-70b, one class "chat", h100-sxm on-demand, 3 months (test_explain)
TECHNIQUES = ("quantization", "kv_quantization", "distillation", "caching", "moe")


# --- shared fakes ----------------------------------------------------------------------------------

def fake_plan(cost: float | None = 1000.0, status: str = "optimal", variants: tuple[str, ...] = (),
              lines: tuple[tuple[str, str], ...] = (("h100-sxm", "on-demand"),), gap: float | None = None) -> Any:
    """A plan's fields the insight helpers read: cost, status, variants, fleet lines, solver gap."""
    return SimpleNamespace(lifetime_cost_usd=cost, status=status, variant_names=list(variants),
                           fleet=[SimpleNamespace(hardware=h, mode=m) for h, m in lines],
                           solver=SimpleNamespace(gap=gap))


class ResultBatch:
    """A batch whose results are given in advance."""

    def __init__(self, results: list[Any]) -> None:
        self.results = results

    def result(self, i: int) -> Any:
        return self.results[i]


class RecordingBatch:
    """A batch that records what is submitted and numbers it from 0."""

    def __init__(self) -> None:
        self.jobs: list[tuple[planner.Scenario, Any, str]] = []
        self.hints: list[Any] = []

    def submit(self, sc: planner.Scenario, cat: Any, label: str, hint: Any = None) -> int:
        self.jobs.append((sc, cat, label))
        self.hints.append(hint)
        return len(self.jobs) - 1


def by_label(sc: planner.Scenario, catalog: Any, delta: float = 0.2) -> dict[str, Any]:
    return {label: (factors, make) for label, factors, make in sensitivity_cases(sc, catalog, delta)}


def ends(case: Any) -> tuple[planner.Scenario, planner.Scenario]:
    (low, high), make = case
    return make(low)[0], make(high)[0]


# --- resolve: the auxiliary settings, the decision string, the baseline --------------------------------

@pytest.mark.parametrize(("own", "expected"), [
    ({}, (AUX_GAP_REL, AUX_TIME_LIMIT_S, AUX_NODE_LIMIT)),
    # tighter gap raised to the auxiliary one; longer time and more nodes cut to the auxiliary ones
    ({"gap_rel": 1e-4, "time_limit_s": 1000.0, "node_limit": 5000}, (AUX_GAP_REL, AUX_TIME_LIMIT_S, AUX_NODE_LIMIT)),
    # a looser gap, a shorter time and fewer nodes are the scenario's own and kept
    ({"gap_rel": 0.05, "time_limit_s": 10.0, "node_limit": 50}, (0.05, 10.0, 50)),
    ({"gap_rel": 0.05}, (0.05, AUX_TIME_LIMIT_S, AUX_NODE_LIMIT)),
    ({"time_limit_s": 10.0}, (AUX_GAP_REL, 10.0, AUX_NODE_LIMIT)),
    ({"node_limit": 50}, (AUX_GAP_REL, AUX_TIME_LIMIT_S, 50)),
])
def test_aux_settings_take_the_looser_gap_and_the_lower_limits(own: dict[str, Any],
                                                                expected: tuple[float, float, int]) -> None:
    """RS1: gap = max(own, AUX_GAP_REL); time = min(own, AUX_TIME_LIMIT_S); nodes = min(own, AUX_NODE_LIMIT);
    None counts as "no setting" (the auxiliary value applies)."""
    sc = scenario(solver=own)
    aux = aux_scenario(sc).solver
    assert (aux.gap_rel, aux.time_limit_s, aux.node_limit) == expected
    assert aux.threads == sc.solver.threads and aux_scenario(sc).workload == sc.workload


def test_aux_scenario_of_a_scenario_already_within_the_settings_is_unchanged() -> None:
    sc = scenario(solver={"gap_rel": 0.05, "time_limit_s": 10.0, "node_limit": 50})
    assert aux_scenario(sc) is sc


def test_the_decision_names_the_variants_and_each_hardware_mode_once() -> None:
    """RS2: variants joined by "; " in the plan's order (none: "baseline"), then the sorted, distinct
    "hardware mode" lines (a line repeated over periods counts once); no cost: the status."""
    plan = fake_plan(variants=("quantization:fp8", "caching:response"),
                     lines=(("h200", "buy"), ("h100-sxm", "reserved-1y"), ("h200", "buy"), ("h100-sxm", "on-demand")))
    assert decision(plan) == ("quantization:fp8; caching:response on "
                              "h100-sxm on-demand, h100-sxm reserved-1y, h200 buy")
    assert decision(fake_plan()) == "baseline on h100-sxm on-demand"
    assert decision(fake_plan(cost=None, status="infeasible", lines=())) == "infeasible"
    # a stopped plan has a cost: it is named by its decision, not its status
    assert decision(fake_plan(status="feasible", gap=0.1)) == "baseline on h100-sxm on-demand"


def test_the_baseline_turns_every_technique_off_and_keeps_the_rest(catalog) -> None:  # type: ignore[no-untyped-def]
    from techniques.registry import default_registry

    sc = scenario(techniques={"quantization": ["none", "fp8"], "caching": ["none", "response"]},
                  workload={"repeat_rate": 0.3})
    base = baseline_scenario(sc)
    names = {t.name for t in default_registry().ordered()}
    assert set(base.techniques) == names and all(v == ["none"] for v in base.techniques.values())
    assert base.workload == sc.workload and base.market == sc.market and base.horizon == sc.horizon


def test_the_worker_job_solves_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """RS3: the worker's job forces solver.threads = 1 (the scenario's 4 and an absent solver table
    alike), and otherwise solves the scenario it was sent with the catalog it was sent, and the hint plan
    it was sent (as JSON: the same plan back)."""
    seen: list[tuple[planner.Scenario, Any]] = []
    hints: list[Any] = []

    def plan_scenario(sc: planner.Scenario, cat: Any, hint: Any = None) -> str:
        seen.append((sc, cat))
        hints.append(hint)
        return "plan"

    monkeypatch.setattr(resolve, "plan_scenario", plan_scenario)
    sc = scenario(solver={"threads": 4, "node_limit": 77}, workload={"queries_per_day": 123456.0})
    marker = object()
    assert resolve._plan_job(sc.model_dump_json(), marker) == "plan"  # type: ignore[arg-type]
    data = sc.model_dump(mode="json")
    data.pop("solver")
    resolve._plan_job(json.dumps(data), marker)  # type: ignore[arg-type]
    assert [(s.solver.threads, c) for s, c in seen] == [(1, marker), (1, marker)]
    assert seen[0][0].solver.node_limit == 77 and seen[0][0].workload[0].queries_per_day == 123456.0
    hint = planner.plan(scenario(), catalog=planner.load_catalogs(use_env=False))
    resolve._plan_job(sc.model_dump_json(), marker, hint.model_dump_json())  # type: ignore[arg-type]
    assert hints == [None, None, hint]


# --- resolve: Batch on an inline pool ----------------------------------------------------------------

class RecordingPool(pools._InlineExecutor):
    def __init__(self) -> None:
        self.shutdowns: list[dict[str, Any]] = []

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shutdowns.append({"wait": wait, "cancel_futures": cancel_futures})


@pytest.fixture
def inline_batch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Batch's pool replaced by an inline one, its solve by a recorder (the job's plumbing stays)."""
    state: dict[str, Any] = {"pools": [], "solved": [], "stopped": []}

    def local_pool(workers: int) -> RecordingPool:
        pool = RecordingPool()
        state["pools"].append((workers, pool))
        return pool

    def plan_scenario(sc: planner.Scenario, cat: Any, hint: Any = None) -> Any:
        state["solved"].append(sc)
        return fake_plan(cost=sc.workload[0].queries_per_day)

    monkeypatch.setattr(pools, "local_pool", local_pool)
    monkeypatch.setattr(pools, "stop_pool", lambda pool: state["stopped"].append(pool))
    monkeypatch.setattr(resolve, "plan_scenario", plan_scenario)
    return state


def test_a_batch_numbers_its_jobs_and_reports_each_once(catalog, inline_batch) -> None:  # type: ignore[no-untyped-def]
    """RS4: submit returns 0, 1, …; result(i) is job i's plan; the progress callback gets a job's label
    once, when it is first collected, in the order collected; every job solves on one thread."""
    labels: list[str] = []
    with resolve.Batch(3, labels.append) as batch:
        a = batch.submit(scenario(workload={"queries_per_day": 1e6}, solver={"threads": 4}), catalog, "first")
        b = batch.submit(scenario(workload={"queries_per_day": 2e6}), catalog, "second")
        assert (a, b) == (0, 1)
        assert batch.result(b).lifetime_cost_usd == 2e6
        assert batch.result(b).lifetime_cost_usd == 2e6
        assert batch.result(a).lifetime_cost_usd == 1e6
    assert labels == ["second", "first"]
    assert [s.solver.threads for s in inline_batch["solved"]] == [1, 1]
    [(workers, pool)] = inline_batch["pools"]
    assert workers == 3 and pool.shutdowns == [{"wait": True, "cancel_futures": True}]
    assert inline_batch["stopped"] == []


def test_a_batch_refuses_work_outside_its_block_and_stops_its_pool_on_an_error(catalog, inline_batch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="outside its with-block"):
        resolve.Batch(1).submit(scenario(), catalog, "x")
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(ValueError, match="boom"), resolve.Batch(2) as batch:
        assert signal.getsignal(signal.SIGTERM) is not previous  # SIGTERM stops like Ctrl-C inside
        raise ValueError("boom")
    [(_, pool)] = inline_batch["pools"]
    assert inline_batch["stopped"] == [pool] and pool.shutdowns == []  # stopped at once, not waited for
    assert signal.getsignal(signal.SIGTERM) is previous
    assert batch.pool is pool


# --- sensitivity: each case's two ends -----------------------------------------------------------------

def test_the_price_case_scales_the_scenarios_own_price_scale(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE10: price_scale 1.5 at ±20 % → 1.2 and 1.8 (its own scale × factor, not the factor alone);
    the catalog is passed through untouched."""
    case = by_label(scenario(market={"price_scale": 1.5}), catalog)["hardware prices"]
    assert case[0] == (0.8, 1.2)
    low, high = ends(case)
    assert low.market.price_scale == pytest.approx(1.2) and high.market.price_scale == pytest.approx(1.8)
    assert case[1](0.8)[1] is catalog


def test_the_demand_case_scales_every_class(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    data = sc.model_dump(mode="json")
    data["workload"].append({**data["workload"][0], "name": "batch", "queries_per_day": 5e5})
    two = planner.scenario_from_dict(data)
    low, high = ends(by_label(two, catalog, 0.25)["demand (queries/day, every class)"])
    assert [w.queries_per_day for w in low.workload] == pytest.approx([1.5e6, 3.75e5])
    assert [w.queries_per_day for w in high.workload] == pytest.approx([2.5e6, 6.25e5])
    assert [w.output_tokens for w in high.workload] == [w.output_tokens for w in two.workload]


def test_the_electricity_case_scales_the_scenarios_price_or_the_catalogs(catalog) -> None:  # type: ignore[no-untyped-def]
    low, high = ends(by_label(scenario(market={"electricity_usd_per_kwh": 0.12}), catalog)["electricity price"])
    assert (low.market.electricity_usd_per_kwh, high.market.electricity_usd_per_kwh) == pytest.approx((0.096, 0.144))
    default = catalog.defaults.electricity_usd_per_kwh
    low, high = ends(by_label(scenario(), catalog, 0.1)["electricity price"])
    assert (low.market.electricity_usd_per_kwh, high.market.electricity_usd_per_kwh) == pytest.approx(
        (default * 0.9, default * 1.1))


def test_free_electricity_stays_free_at_both_ends(catalog) -> None:  # type: ignore[no-untyped-def]
    """A scenario's own 0 USD/kWh (allowed: ge=0) is its price, not a missing one: 0 × 0.9 and 0 × 1.1 are 0.
    (``electricity_usd_per_kwh or default`` once replaced it by the catalog's 0.0806, so the row moved
    0.0645 … 0.0967 USD/kWh.)"""
    low, high = ends(by_label(scenario(market={"electricity_usd_per_kwh": 0.0}), catalog)["electricity price"])
    assert (low.market.electricity_usd_per_kwh, high.market.electricity_usd_per_kwh) == (0.0, 0.0)


@pytest.mark.parametrize(("modes", "terminal", "inputs"), [
    (["on-demand"], "salvage", set()),
    (["on-demand", "buy"], "annuity", {"useful life of owned hardware"}),
    (["on-demand", "buy"], "salvage", {"useful life of owned hardware", "resale fraction at the horizon's end"}),
])
def test_owned_hardware_cases_only_where_hardware_can_be_owned(catalog, modes, terminal, inputs) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"modes": modes}, horizon={"months": 12, "period_months": 6, "terminal_value": terminal})
    owned = {"useful life of owned hardware", "resale fraction at the horizon's end"}
    assert set(by_label(sc, catalog)) & owned == inputs


@pytest.mark.parametrize(("resale", "expected"), [
    (0.5, (0.4, 0.6)),
    (0.9, (0.72, 1.0)),  # clamped at 1
    (0.0, (0.0, 0.0)),  # the scenario's own 0, not the catalog's default
    (None, "default"),
])
def test_the_resale_case(catalog, resale, expected) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"modes": ["on-demand", "buy"], "resale_fraction": resale},
                  horizon={"months": 12, "period_months": 6, "terminal_value": "salvage"})
    low, high = ends(by_label(sc, catalog)["resale fraction at the horizon's end"])
    if expected == "default":
        expected = (catalog.defaults.resale_fraction * 0.8, catalog.defaults.resale_fraction * 1.2)
    assert (low.market.resale_fraction, high.market.resale_fraction) == pytest.approx(expected)


@pytest.mark.parametrize(("growth", "expected"), [(0.5, (0.35, 0.65)), (0.0, None), (-0.2, None)])
def test_the_growth_case_only_for_growing_demand(catalog, growth, expected) -> None:  # type: ignore[no-untyped-def]
    cases = by_label(scenario(horizon={"months": 12, "period_months": 3, "growth_per_year": growth}), catalog, 0.3)
    if expected is None:
        assert "growth per year" not in cases
        return
    low, high = ends(cases["growth per year"])
    assert (low.horizon.growth_per_year, high.horizon.growth_per_year) == pytest.approx(expected)


def test_each_repeat_rate_case_moves_its_own_class_only(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE11: one case per class that repeats (none for a class at 0); each moves that class's rate."""
    data = scenario(workload={"repeat_rate": 0.3}).model_dump(mode="json")
    data["workload"] += [{**data["workload"][0], "name": "api", "repeat_rate": 0.6},
                         {**data["workload"][0], "name": "fresh", "repeat_rate": 0.0}]
    cases = by_label(planner.scenario_from_dict(data), catalog)
    assert [k for k in cases if k.startswith("repeat rate")] == ["repeat rate (chat)", "repeat rate (api)"]
    low, high = ends(cases["repeat rate (chat)"])
    assert [w.repeat_rate for w in low.workload] == pytest.approx([0.24, 0.6, 0.0])
    assert [w.repeat_rate for w in high.workload] == pytest.approx([0.36, 0.6, 0.0])
    low, high = ends(cases["repeat rate (api)"])
    assert [w.repeat_rate for w in low.workload] == pytest.approx([0.3, 0.48, 0.0])
    assert [w.repeat_rate for w in high.workload] == pytest.approx([0.3, 0.72, 0.0])


def test_the_cases_in_order_with_the_band_replacing_the_flat_efficiency_factors(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE12: the H100's held-out band −21.5 %..+17.1 % gives the efficiency ends 1/1.171 (low: slower)
    and 1/0.785 (high), labelled in percent; every other input moves by 1 ∓ δ."""
    sc = scenario(market={"modes": ["on-demand", "buy"]}, workload={"repeat_rate": 0.2},
                  horizon={"months": 12, "period_months": 6, "growth_per_year": 0.4, "terminal_value": "salvage"})
    row = catalog.efficiency_for("h100-sxm", "*")
    assert (row.error_p10, row.error_p90) == (-0.215, 0.171)
    cases = sensitivity_cases(sc, catalog, 0.3)
    eff = "efficiency factors (held-out P10..P90 speed error -22%..+17%)"
    assert [label for label, _, _ in cases] == [
        "hardware prices", "demand (queries/day, every class)", eff, "electricity price",
        "useful life of owned hardware", "resale fraction at the horizon's end", "failure rate of owned GPUs",
        "growth per year", "repeat rate (chat)"]
    factors = {label: f for label, f, _ in cases}
    assert factors[eff] == pytest.approx((1 / 1.171, 1 / 0.785))
    assert all(f == pytest.approx((0.7, 1.3)) for label, f in factors.items() if label != eff)
    make = next(m for label, _, m in cases if label == eff)
    same, scaled = make(0.5)
    assert same is sc
    assert scaled.efficiency[("h100-sxm", "*")].compute == pytest.approx(row.compute * 0.5)
    assert scaled.efficiency[("h100-sxm", "*")].memory == pytest.approx(row.memory * 0.5)


def test_without_a_band_the_efficiency_case_moves_by_the_flat_delta(catalog) -> None:  # type: ignore[no-untyped-def]
    unbanded = dataclasses.replace(catalog, efficiency={
        k: v.model_copy(update={"error_p10": None, "error_p90": None}) for k, v in catalog.efficiency.items()})
    assert efficiency_band(scenario(), unbanded) is None
    cases = by_label(scenario(), unbanded, 0.15)
    assert cases["efficiency factors (compute and memory)"][0] == pytest.approx((0.85, 1.15))
    assert not any("held-out" in label for label in cases)


def test_the_band_of_an_open_hardware_list_spans_the_whole_catalog(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE13: a market without a hardware list may use any catalog hardware: the band spans all rows."""
    sc = scenario()
    data = sc.model_dump(mode="json")
    data["market"].pop("hardware")
    open_market = planner.scenario_from_dict(data)
    assert open_market.market.hardware is None
    rows = [catalog.efficiency_for(s, "*") for s in catalog.hardware]
    p10, p90 = min(r.error_p10 for r in rows), max(r.error_p90 for r in rows)
    assert (p10, p90) != (-0.215, 0.171)  # wider than the H100's own band
    low, high, got10, got90 = efficiency_band(open_market, catalog)  # type: ignore[misc]
    assert (got10, got90) == (p10, p90)
    assert (low, high) == pytest.approx((1 / (1 + p90), 1 / (1 + p10)))


def test_a_row_with_half_a_band_is_left_out() -> None:
    """A row needs both P10 and P90 to count (one of the two is no band)."""
    rows = {"a": SimpleNamespace(error_p10=-0.1, error_p90=0.2), "b": SimpleNamespace(error_p10=-0.5, error_p90=None),
            "c": SimpleNamespace(error_p10=None, error_p90=0.6)}
    cat = SimpleNamespace(hardware=dict.fromkeys(rows), efficiency_for=lambda slug, _p: rows[slug], precisions={})
    sc = SimpleNamespace(market=SimpleNamespace(hardware=["a", "b", "c"]), techniques={})
    assert efficiency_band(sc, cat)[2:] == (-0.1, 0.2)  # type: ignore[arg-type, index]


# --- sensitivity: submitting and collecting ------------------------------------------------------------

def test_both_ends_of_every_case_are_queued_low_then_high_on_the_aux_settings(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"price_scale": 2.0})
    cases = sensitivity_cases(sc, catalog, 0.25)
    batch = RecordingBatch()
    handles = submit_sensitivity(batch, cases)  # type: ignore[arg-type]
    assert handles == [(2 * i, 2 * i + 1) for i in range(len(cases))]
    (low, _, low_label), (high, _, high_label) = batch.jobs[:2]
    assert (low_label, high_label) == ("sensitivity: hardware prices x0.75", "sensitivity: hardware prices x1.25")
    assert (low.market.price_scale, high.market.price_scale) == pytest.approx((1.5, 2.5))
    assert all(s.solver.node_limit == AUX_NODE_LIMIT and s.solver.gap_rel == AUX_GAP_REL for s, _, _ in batch.jobs)
    k = next(i for i, (label, _, _) in enumerate(cases) if label.startswith("efficiency"))
    low_cat, high_cat = batch.jobs[2 * k][1], batch.jobs[2 * k + 1][1]
    key = ("h100-sxm", "*")
    base = catalog.efficiency[key].compute
    assert low_cat.efficiency[key].compute < base < high_cat.efficiency[key].compute


def collected(pairs: list[tuple[Any, Any]], plan: Any, factors: tuple[float, float] = (0.8, 1.2)) -> list[Any]:
    cases = [(f"input {i}", factors, None) for i in range(len(pairs))]
    handles = [(2 * i, 2 * i + 1) for i in range(len(pairs))]
    return collect_sensitivity(ResultBatch([p for pair in pairs for p in pair]), cases, handles, plan)  # type: ignore[arg-type]


def test_each_end_keeps_its_own_cost_decision_status_and_interval() -> None:
    """SE14: the low end's figures under *_low, the high end's under *_high; a stopped end keeps its
    status ("feasible", never "optimal") and its interval cost × (1 − gap); an end with no plan keeps
    its status as decision and change, and no cost or bound."""
    plan = fake_plan(cost=1000.0, variants=("quantization:fp8",))
    low = fake_plan(cost=900.0, status="feasible", gap=0.1, variants=("quantization:fp8",),
                    lines=(("h200", "on-demand"),))
    high = fake_plan(cost=None, status="no_solution", lines=())
    [row] = collected([(low, high)], plan)
    assert (row.cost_low_usd, row.cost_high_usd) == (900.0, None)
    assert (row.status_low, row.status_high) == ("feasible", "no_solution")
    assert row.bound_low_usd == pytest.approx(810.0) and row.bound_high_usd is None
    assert (row.decision_low, row.decision_high) == ("quantization:fp8 on h200 on-demand", "no_solution")
    assert (row.change_low, row.change_high) == ("fleet", "no_solution") and row.decision_changes
    swapped = collected([(high, low)], plan)[0]
    assert (swapped.status_low, swapped.status_high) == ("no_solution", "feasible")
    assert swapped.bound_low_usd is None and swapped.bound_high_usd == pytest.approx(810.0)


def test_a_stopped_end_without_a_gap_has_no_interval_and_stays_unproven() -> None:
    [row] = collected([(fake_plan(cost=700.0, status="feasible", gap=None), fake_plan(cost=1300.0))], fake_plan())
    assert (row.status_low, row.status_high) == ("feasible", "optimal")
    assert row.bound_low_usd is None and row.bound_high_usd is None
    assert (row.change_low, row.change_high) == ("same", "same") and not row.decision_changes
    # only the low end changes the decision: the row still says the decision changes
    [low_only] = collected([(fake_plan(lines=(("h200", "on-demand"),)), fake_plan())], fake_plan())
    assert (low_only.change_low, low_only.change_high) == ("fleet", "same") and low_only.decision_changes


@pytest.mark.parametrize(("factors", "delta"), [((0.7, 1.1), 0.3), ((0.9, 1.25), 0.25), ((0.8, 1.2), 0.2)])
def test_the_rows_delta_is_the_larger_move_of_either_end(factors: tuple[float, float], delta: float) -> None:
    [row] = collected([(fake_plan(), fake_plan())], fake_plan(), factors)
    assert row.delta == pytest.approx(delta)


def test_change_from_a_plan_without_a_decision() -> None:
    """A reference with no plan (infeasible) makes any planned end "same"; an end with no plan names
    its own status either way; a variant more or fewer is "variant", another mode of the same
    hardware "fleet"."""
    failed = fake_plan(cost=None, status="infeasible", lines=())
    assert change_from(failed, fake_plan(variants=("a",))) == "same"
    assert change_from(failed, fake_plan(cost=None, status="error")) == "error"
    assert change_from(fake_plan(), fake_plan(cost=None, status="no_solution")) == "no_solution"
    assert change_from(fake_plan(variants=("a", "b")), fake_plan(variants=("a",))) == "variant"
    assert change_from(fake_plan(variants=("a",)), fake_plan(variants=("a",), lines=(("h100-sxm", "spot"),))) == "fleet"


def test_change_from_reads_variants_and_fleet_lines_as_sets() -> None:
    """The same variants and fleet lines listed in another order are the same decision: ``decision``
    prints the variants in the plan's own order, so comparing its strings read "fleet" here."""
    lines = (("h100-sxm", "on-demand"), ("h200", "buy"))
    chosen = fake_plan(variants=("a", "b"), lines=lines)
    assert change_from(chosen, fake_plan(variants=("b", "a"), lines=lines[::-1])) == "same"
    assert change_from(chosen, fake_plan(variants=("b", "a"), lines=lines[:1])) == "fleet"


def test_sensitivity_alone_compares_each_high_end_with_its_low_end(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SE15: ``sensitivity`` runs every case on a Batch of ``workers`` with the progress callback and,
    with no plan to compare with, reads each high end against its low end."""
    made: list[tuple[int, Any]] = []

    class StubBatch(RecordingBatch):
        def __init__(self, workers: int, progress: Any) -> None:
            super().__init__()
            made.append((workers, progress))

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def result(self, i: int) -> Any:
            sc = self.jobs[i][0]
            # the plan switches hardware when prices rise by 30 %, and is infeasible at 70 % of today's demand
            if sc.workload[0].queries_per_day < 1.5e6:
                return fake_plan(cost=None, status="infeasible", lines=())
            lines = (("h200", "on-demand"),) if sc.market.price_scale > 1.2 else (("h100-sxm", "on-demand"),)
            return fake_plan(cost=1000.0 * sc.market.price_scale, lines=lines)

    monkeypatch.setattr(sensitivity, "Batch", StubBatch)
    progress = print
    rows = {r.input: r for r in sensitivity.sensitivity(scenario(), catalog, 0.3, progress, workers=3)}
    assert made == [(3, progress)]
    prices = rows["hardware prices"]
    assert (prices.cost_low_usd, prices.cost_high_usd) == pytest.approx((700.0, 1300.0))
    assert (prices.change_low, prices.change_high) == ("same", "fleet") and prices.decision_changes
    demand = rows["demand (queries/day, every class)"]
    assert (demand.status_low, demand.cost_low_usd, demand.status_high) == ("infeasible", None, "optimal")
    # the low end has no plan: nothing to compare the high end with
    assert (demand.change_low, demand.change_high) == ("same", "same") and not demand.decision_changes


# --- service levels ----------------------------------------------------------------------------------

def two_classes(chat: dict[str, Any], api: dict[str, Any], **over: Any) -> planner.Scenario:
    data = scenario(**over).model_dump(mode="json")
    data["workload"][0].update(chat)
    data["workload"].append({**data["workload"][0], "name": "api", "ttft_p99_ms": None, "tpot_p99_ms": None,
                             "min_replicas": 0, "deadline_hours": None, "allow_spot": None, "profile": None, **api})
    return planner.scenario_from_dict(data)


def workload(sc: planner.Scenario, name: str) -> Any:
    return next(w for w in sc.workload if w.name == name)


def test_a_class_line_removes_its_level_from_that_class_only(catalog) -> None:  # type: ignore[no-untyped-def]
    """SL8: the chat class's P99 line and replica line leave the api class's P99 targets and floor."""
    sc = two_classes({"ttft_p99_ms": 3000, "min_replicas": 2}, {"tpot_p99_ms": 150, "min_replicas": 3})
    by = dict(service_level_cases(sc, catalog))
    assert list(by) == ["chat: TTFT P99 3000 ms (vs the mean targets only)", "chat: at least 2 replicas (vs no floor)",
                        "api: TPOT P99 150 ms (vs the mean targets only)", "api: at least 3 replicas (vs no floor)"]
    chat_p99 = by["chat: TTFT P99 3000 ms (vs the mean targets only)"]
    assert workload(chat_p99, "chat").ttft_p99_ms is None and workload(chat_p99, "api").tpot_p99_ms == 150
    chat_floor = by["chat: at least 2 replicas (vs no floor)"]
    assert workload(chat_floor, "chat").min_replicas == 0 and workload(chat_floor, "api").min_replicas == 3
    api_floor = by["api: at least 3 replicas (vs no floor)"]
    assert workload(api_floor, "api").min_replicas == 0 and workload(api_floor, "chat").min_replicas == 2


def test_line_labels_print_fractional_targets_and_deadlines(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = two_classes({"ttft_p99_ms": 2500.5, "tpot_p99_ms": 95.25}, {"deadline_hours": 1.5})
    labels = [label for label, _ in service_level_cases(sc, catalog)]
    assert labels == ["chat: TTFT P99 2500.5 ms, TPOT P99 95.25 ms (vs the mean targets only)",
                      "api: deferrable within 1 h, 1.5 h counted in whole hours (vs served as it arrives)"]


@pytest.mark.parametrize(("profile", "slices", "line"), [
    ("chat-regional", 4, True), ("chat-regional", 1, False), (None, 4, False)])
def test_the_load_following_line_needs_a_profile_and_several_slices(catalog, profile, slices, line) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"profile": profile}, plan={"time_slices": slices, "max_variants": 2})
    found = [(label, changed) for label, changed in service_level_cases(sc, catalog) if label.startswith("following")]
    assert bool(found) is line
    if line:
        [(label, changed)] = found
        assert label == "following the daily load in up to 4 slices (vs the peak provisioned all day)"
        # only the slice count changes: the plan table's other settings are kept
        assert changed.plan.time_slices == 1 and changed.plan.max_variants == 2
        assert changed.workload == sc.workload


def test_the_one_slice_label_names_every_class_served_as_it_arrives(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = two_classes({"profile": "chat-regional", "deadline_hours": 4}, {"profile": "chat-regional", "deadline_hours": 6},
                     plan={"time_slices": 4})
    label, one = next((label, c) for label, c in service_level_cases(sc, catalog) if label.startswith("following"))
    assert label == ("following the daily load in up to 4 slices (vs the peak provisioned all day; "
                     "chat served as it arrives; api served as it arrives)")
    assert [w.deadline_hours for w in one.workload] == [None, None]


def test_the_spot_and_disaggregation_lines_remove_only_their_choice(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"modes": ["spot", "on-demand", "buy"]}, plan={"disaggregation": True, "max_variants": 2})
    by = dict(service_level_cases(sc, catalog))
    assert list(by) == ["spot capacity (vs none)", "disaggregated serving (vs co-located only)"]
    no_spot = by["spot capacity (vs none)"]
    assert no_spot.market.modes == ["on-demand", "buy"] and no_spot.plan.disaggregation
    colocated = by["disaggregated serving (vs co-located only)"]
    assert not colocated.plan.disaggregation and colocated.plan.max_variants == 2
    assert colocated.market.modes == ["spot", "on-demand", "buy"]
    assert service_level_cases(scenario(), catalog) == []
    # spot alone: without it no mode would be left, so no line
    assert service_level_cases(scenario(market={"modes": ["spot"]}), catalog) == []


def test_service_levels_are_queued_on_the_aux_settings_in_order(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"min_replicas": 2}, market={"modes": ["on-demand", "spot"]})
    batch = RecordingBatch()
    jobs = submit_service_levels(batch, sc, catalog)  # type: ignore[arg-type]
    assert jobs == [("chat: at least 2 replicas (vs no floor)", 0), ("spot capacity (vs none)", 1)]
    assert [label for _, _, label in batch.jobs] == ["service level: chat: at least 2 replicas (vs no floor)",
                                                      "service level: spot capacity (vs none)"]
    assert all(s.solver.node_limit == AUX_NODE_LIMIT and c is catalog for s, c, _ in batch.jobs)
    assert batch.jobs[0][0].workload[0].min_replicas == 0 and batch.jobs[1][0].market.modes == ["on-demand"]


def test_a_line_keeps_the_resolves_status_and_no_saving_without_a_planned_cost() -> None:
    """SL9: usd = plan − without only when both have a cost; the re-solve's status is carried as is (a
    stopped re-solve without a gap is "feasible" with no interval, never shown as proven)."""
    results = [fake_plan(cost=1200.0, status="feasible", gap=None), fake_plan(cost=None, status="no_solution"),
               fake_plan(cost=900.0, status="feasible", gap=0.2)]
    jobs = [("a", 0), ("b", 1), ("c", 2)]
    lines = collect_service_levels(ResultBatch(results), fake_plan(cost=1000.0), jobs)  # type: ignore[arg-type]
    assert [(x.status, x.cost_without_usd, x.bound_without_usd) for x in lines] == [
        ("feasible", 1200.0, None), ("no_solution", None, None), ("feasible", 900.0, pytest.approx(720.0))]
    assert [x.usd for x in lines] == [pytest.approx(-200.0), None, pytest.approx(100.0)]
    unplanned = collect_service_levels(ResultBatch(results), fake_plan(cost=None, status="infeasible"), jobs)  # type: ignore[arg-type]
    assert [x.usd for x in unplanned] == [None, None, None]
    assert [x.cost_without_usd for x in unplanned] == [1200.0, None, 900.0]


# --- preview: the estimator's view -----------------------------------------------------------------------

def small(techniques: dict[str, list[str]] | None = None, chat: dict[str, Any] | None = None,
          hardware: tuple[str, ...] = ("h100-sxm",), model: str = "llama-3.1-8b", **over: Any) -> planner.Scenario:
    """llama-3.1-8b at 8.64 M queries/day (100/s on average), 800 in / 200 out tokens, 1 month."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "preview", "model": {"base": model},
        "workload": [{"name": "chat", "queries_per_day": 8.64e6, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80, **(chat or {})}],
        "horizon": {"months": 1, "period_months": 1, **over.pop("horizon", {})},
        "market": {"hardware": list(hardware), "modes": ["on-demand"]},
        "quality": {"max_drop": 20.0},
        "techniques": {**{t: ["none"] for t in TECHNIQUES}, **(techniques or {})}, **over})


def row_of(view: Any, hardware: str) -> Any:
    return next(r for r in view.rows if r.hardware == hardware)


def test_a_preview_rows_figures_by_hand(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV1: peak 100/s × 2 = 200/s; replicas ⌈200 / R⌉; GPUs replicas × TP; USD/h GPUs × the on-demand
    price; USD per million output tokens = USD/h ÷ (200/s × 200 tokens × 3600 s) × 10⁶."""
    view = preview(small(horizon={"peak_to_average": 2.0}), catalog)
    row = row_of(view, "h100-sxm")
    price = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour
    assert row.peak_requests_per_s == pytest.approx(200.0)
    assert row.replicas == math.ceil(200.0 / row.requests_per_s_per_replica)
    assert row.replicas > math.ceil(100.0 / row.requests_per_s_per_replica)  # the peak, not the mean, is served
    assert row.gpus == row.replicas * row.tp
    assert row.usd_per_hour == pytest.approx(row.gpus * price, rel=1e-12)
    assert row.usd_per_million_output_tokens == pytest.approx(row.usd_per_hour / (200.0 * 200 * 3600) * 1e6, rel=1e-12)
    assert row.ttft_ms <= 2000 and row.tpot_ms <= 80 and not row.measured and row.bound in ("compute", "memory")
    assert (view.scenario, view.model, view.variants) == ("preview", "llama-3.1-8b", 1)
    cs = build_candidates(small(horizon={"peak_to_average": 2.0}), catalog)
    assert view.deployments_evaluated == len(cs.deployments) and view.infeasible == []


def test_a_preview_sizes_the_first_periods_end_as_the_plan_provisions_it(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV1b: 50 %/year growth in quarters: the first period ends at month 3, where 100/s × 2 has grown
    by 1.5^0.25 — the plan's own ``peak_requests_per_s_first_period``."""
    sc = small(horizon={"peak_to_average": 2.0, "growth_per_year": 0.5, "months": 12, "period_months": 3})
    row = row_of(preview(sc, catalog), "h100-sxm")
    assert row.peak_requests_per_s == pytest.approx(200.0 * 1.5 ** 0.25, rel=1e-12)
    assert row.replicas == math.ceil(200.0 * 1.5 ** 0.25 / row.requests_per_s_per_replica)
    [chat] = planner.plan(sc, catalog=catalog).classes
    assert chat.peak_requests_per_s_first_period == pytest.approx(row.peak_requests_per_s, rel=1e-12)


def test_a_daily_profiles_peak_is_its_busiest_hour_over_its_mean(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV2: weights 1 (12 h) and 3 (12 h): mean 2, so the busiest hour is 1.5 × the mean: 150/s."""
    row = row_of(preview(small(chat={"profile": [1.0] * 12 + [3.0] * 12}), catalog), "h100-sxm")
    assert row.peak_requests_per_s == pytest.approx(150.0)
    assert row.replicas == math.ceil(150.0 / row.requests_per_s_per_replica)


def test_a_cache_halves_the_replicas_but_not_the_tokens_priced(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV3: a response cache answers half the queries (repeat rate 0.5): replicas ⌈100 × 0.5 / R⌉, while
    every query's output tokens count in the price per token."""
    view = preview(small({"caching": ["none", "response"]}, {"repeat_rate": 0.5}), catalog)
    row = row_of(view, "h100-sxm")
    assert row.variant == "caching:response" and view.variants == 2
    assert row.replicas == math.ceil(50.0 / row.requests_per_s_per_replica)
    assert row.replicas < math.ceil(100.0 / row.requests_per_s_per_replica)
    assert row.usd_per_million_output_tokens == pytest.approx(row.usd_per_hour / (100.0 * 200 * 3600) * 1e6, rel=1e-12)


def test_the_class_floor_overrides_the_scenarios_even_at_zero(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV4: max_quality_drop 0 on the class keeps the unquantized model although the scenario allows 20
    points (FP8, 0.35 points lower, is cheaper); 0.5 lets FP8 in."""
    quant = {"quantization": ["none", "fp8"]}
    assert row_of(preview(small(quant), catalog), "h100-sxm").variant == "quantization:fp8"
    strict = row_of(preview(small(quant, {"max_quality_drop": 0.0}), catalog), "h100-sxm")
    assert strict.variant == "baseline" and strict.quality_score == pytest.approx(69.4)
    assert row_of(preview(small(quant, {"max_quality_drop": 0.5}), catalog), "h100-sxm").variant == "quantization:fp8"


def eligible(sc: planner.Scenario, catalog: Any, slug: str) -> list[tuple[float, float, str]]:
    """(USD/h, TPOT ms, variant) of every deployment of ``slug`` that fits, meets the latency targets and
    keeps the quality floor, priced by hand: ⌈mean rate × served / R⌉ × TP × price."""
    cs = build_candidates(sc, catalog)
    t, res = cs.deployments, cs.deployments.result
    h = next(i for i, hw in enumerate(cs.hardware) if hw.slug == slug)
    price = catalog.price(slug, "on-demand").usd_per_gpu_hour
    floor = cs.base_score - sc.quality.max_drop
    out = []
    for i in np.flatnonzero((t.hardware == h) & res.fits & t.latency_ok):
        v = cs.variants[int(t.variant[i])]
        if v.profiles["chat"].quality_score < floor:
            continue
        n = math.ceil(100.0 * v.profiles["chat"].served_query_fraction / float(res.requests_per_s[i]))
        out.append((n * int(t.tp[i]) * price, float(res.tpot_s[i]) * 1000, v.name))
    return out


def test_the_cheapest_deployment_wins_and_a_tie_goes_to_the_lower_tpot(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV5: on the L4, INT8 and FP8 both need 26 GPUs (a tie in cost); the row is the one with the lower TPOT."""
    sc = small({"quantization": ["none", "fp8", "int8"]}, hardware=("l4",))
    row = row_of(preview(sc, catalog), "l4")
    rows = eligible(sc, catalog, "l4")
    cheapest = min(cost for cost, _, _ in rows)
    tied = [(tpot, name) for cost, tpot, name in rows if cost == pytest.approx(cheapest, rel=1e-12)]
    assert len({name for _, name in tied}) > 1  # the case needs a tie between variants
    assert row.usd_per_hour == pytest.approx(cheapest, rel=1e-12)
    best_tpot, best_name = min(tied)
    assert row.tpot_ms == pytest.approx(best_tpot, rel=1e-12) and row.variant == best_name


def test_rows_are_sorted_by_class_then_cost(catalog) -> None:  # type: ignore[no-untyped-def]
    data = small(hardware=("l4", "h100-sxm")).model_dump(mode="json")
    data["workload"].insert(0, {**data["workload"][0], "name": "zeta"})
    data["workload"].append({**data["workload"][0], "name": "alpha", "queries_per_day": 8.64e5})
    view = preview(planner.scenario_from_dict(data), catalog)
    keys = [(r.workload, r.usd_per_hour) for r in view.rows]
    assert [w for w, _ in keys] == ["alpha", "alpha", "chat", "chat", "zeta", "zeta"]
    assert keys == sorted(keys)
    assert [r.hardware for r in view.rows if r.workload == "chat"] == ["h100-sxm", "l4"]  # the market lists L4 first


def test_why_a_pair_has_no_row(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV6: no on-demand price; nothing fits; the latency targets (quoting the best of that hardware's
    fitting rows); the quality floor (base score − the class's drop)."""
    view = preview(small(hardware=("h100-sxm", "gaudi3")), catalog)
    assert [(m.hardware, m.reason) for m in view.infeasible] == [("gaudi3", "no on-demand price in the catalog")]
    big = preview(small(model="llama-3.1-405b", hardware=("l4",)), catalog)
    assert [m.reason for m in big.infeasible] == ["no variant fits in memory at any TP degree"] and big.rows == []
    tight = small(chat={"tpot_ms": 1.0}, hardware=("l4",))
    cs = build_candidates(tight, catalog)
    t, res = cs.deployments, cs.deployments.result
    fits = res.fits & (t.hardware == 0)
    best_ttft, best_tpot = float(np.min(res.ttft_s[fits])) * 1000, float(np.min(res.tpot_s[fits])) * 1000
    [miss] = preview(tight, catalog, cs).infeasible
    assert miss.reason == (f"misses the latency targets: best TTFT {best_ttft:.1f} ms (target 2000), "
                           f"best TPOT {best_tpot:.1f} ms (target 1)")
    floor = preview(small({"quantization": ["fp8"]}, {"max_quality_drop": 0.0}), catalog)
    assert [m.reason for m in floor.infeasible] == ["no variant keeps quality >= 69.40"]


def test_a_price_without_an_hourly_rate_is_no_price(catalog) -> None:  # type: ignore[no-untyped-def]
    """A price entry with no USD per GPU-hour (a purchase price only, say) prices no preview row."""
    sc = small(hardware=("h100-sxm", "l4"))
    cs = build_candidates(sc, catalog)

    class NoHourlyL4:
        def __getattr__(self, name: str) -> Any:
            return getattr(catalog, name)

        def price(self, slug: str, mode: str) -> Any:
            real = catalog.price(slug, mode)
            return real.model_copy(update={"usd_per_gpu_hour": None}) if slug == "l4" else real

    view = preview(sc, NoHourlyL4(), cs)  # type: ignore[arg-type]
    assert [r.hardware for r in view.rows] == ["h100-sxm"]
    assert [(m.hardware, m.reason) for m in view.infeasible] == [("l4", "no on-demand price in the catalog")]


def test_a_given_candidate_set_is_used_as_is(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from planner.insight import preview as module

    sc = small()
    cs = build_candidates(sc, catalog)

    def rebuilt(*_args: object) -> None:
        raise AssertionError("the candidates were built again")

    monkeypatch.setattr(module, "build_candidates", rebuilt)
    assert preview(sc, catalog, cs).deployments_evaluated == len(cs.deployments)


def why(rows: list[bool], latency_ok: list[bool], q_ok: list[bool], floor: float | None = 60.0) -> str:
    table = SimpleNamespace(latency_ok=np.array(latency_ok))
    res = SimpleNamespace(ttft_s=np.array([0.5, 0.3, 0.001]), tpot_s=np.array([0.09, 0.12, 0.0001]))
    return _why_not(np.array(rows), table, res, np.array(q_ok), 200.0, 50.0, floor)


def test_why_not_names_each_missed_requirement_over_the_pairs_rows_only() -> None:
    """PV7: the best TTFT and TPOT are the minimum over the pair's rows (the third row, another
    hardware's, is faster and left out), in ms; the quality part only with a floor; neither alone
    missed: the two together."""
    latency = "misses the latency targets: best TTFT 300.0 ms (target 200), best TPOT 90.0 ms (target 50)"
    assert why([True, True, False], [False, False, True], [True, True, True]) == latency
    assert why([True, True, False], [True, False, True], [False, False, True]) == "no variant keeps quality >= 60.00"
    assert why([True, True, False], [False, False, True], [False, False, True]) == \
        f"{latency}; no variant keeps quality >= 60.00"
    assert why([True, True, False], [False, False, True], [False, False, True], floor=None) == latency
    assert why([True, True, False], [True, False, False], [False, True, False]) == \
        "no variant meets the latency targets and the quality floor together"


# --- pools: local pools, workers, interrupts -------------------------------------------------------------

def test_a_local_pool_spawns_workers_that_know_their_parent() -> None:
    pool = pools.local_pool(3)
    try:
        assert pool._max_workers == 3  # type: ignore[attr-defined]
        assert pool._mp_context.get_start_method() == "spawn"  # type: ignore[attr-defined]
        assert pool._initializer is pools.worker_init and pool._initargs == (os.getpid(),)  # type: ignore[attr-defined]
    finally:
        pool.shutdown(wait=True)


class Exited(Exception):
    pass


def test_a_worker_ignores_ctrl_c_and_exits_when_its_parent_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """PO1: SIGINT ignored; a daemon watchdog checks the parent every WATCHDOG_PERIOD_S and exits with
    code 1 as soon as the parent is another process."""
    handlers: list[tuple[int, Any]] = []
    threads: list[dict[str, Any]] = []
    sleeps: list[float] = []
    parents = iter([41, 41, 7])
    exits: list[int] = []

    class FakeThread:
        def __init__(self, target: Any, name: str, daemon: bool) -> None:
            threads.append({"target": target, "name": name, "daemon": daemon, "started": False})

        def start(self) -> None:
            threads[-1]["started"] = True

    def exit_(code: int) -> None:
        exits.append(code)
        raise Exited

    monkeypatch.setattr(pools.signal, "signal", lambda sig, handler: handlers.append((sig, handler)))
    monkeypatch.setattr(pools.threading, "Thread", FakeThread)
    monkeypatch.setattr(pools.time, "sleep", sleeps.append)
    monkeypatch.setattr(pools.os, "getppid", lambda: next(parents))
    monkeypatch.setattr(pools.os, "_exit", exit_)
    pools.worker_init(41)
    assert handlers == [(signal.SIGINT, signal.SIG_IGN)]
    [thread] = threads
    assert thread["daemon"] is True and thread["started"] is True
    with pytest.raises(Exited):
        thread["target"]()
    assert exits == [1] and sleeps == [pools.WATCHDOG_PERIOD_S] * 3  # two checks passed, the third exits


def test_sigterm_becomes_a_keyboard_interrupt_inside_and_only_inside() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), pools.interruptible():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(200):  # the handler runs in this thread at the next check, well within 2 s
            time.sleep(0.01)
        raise AssertionError("SIGTERM did not interrupt")
    assert signal.getsignal(signal.SIGTERM) is previous
    seen: list[Any] = []

    def in_a_thread() -> None:
        with pools.interruptible():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen == [previous]  # signals belong to the main thread: left alone


class FakeProcess:
    def __init__(self, fails: bool = False) -> None:
        self.fails, self.terminated = fails, False

    def terminate(self) -> None:
        self.terminated = True
        if self.fails:
            raise ProcessLookupError


class FakeExecutor(cf.Executor):
    def __init__(self, processes: dict[int, FakeProcess] | None = None, cancel: bool = True) -> None:
        self._processes = processes
        self.cancel, self.calls = cancel, []  # type: ignore[var-annotated]
        self.submitted: list[tuple[Any, tuple[Any, ...]]] = []

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:  # type: ignore[override]
        if kwargs and not self.cancel:
            raise TypeError("unexpected keyword argument 'cancel_futures'")
        self.calls.append({"wait": wait, **kwargs})

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        self.submitted.append((fn, args))
        return cf.Future()


def test_stopping_a_pool_ends_every_worker_and_does_not_wait() -> None:
    """PO2: every process terminated (one that is already gone does not stop the rest), then shut down
    without waiting and with queued work dropped; an executor without processes is just shut down."""
    procs = {1: FakeProcess(), 2: FakeProcess(fails=True), 3: FakeProcess()}
    pool = FakeExecutor(procs)
    pools.stop_pool(pool)
    assert all(p.terminated for p in procs.values())
    assert pool.calls == [{"wait": False, "cancel_futures": True}]
    bare = FakeExecutor(None)
    pools.stop_pool(bare)
    assert bare.calls == [{"wait": False, "cancel_futures": True}]


def test_shutdown_falls_back_for_executors_that_cannot_cancel() -> None:
    dask_like = FakeExecutor(cancel=False)
    pools.shutdown_executor(dask_like, wait=True)
    pools.shutdown_executor(dask_like, wait=False)
    assert dask_like.calls == [{"wait": True}, {"wait": False}]
    local = FakeExecutor()
    pools.shutdown_executor(local, wait=False)
    assert local.calls == [{"wait": False, "cancel_futures": True}]


def test_the_executors_by_name() -> None:
    """PO3: at least one worker; "inline" runs here and keeps a job's error in its future; None and
    "local" are spawned pools of ``workers``; anything else is refused, naming the option."""
    with pytest.raises(InputError) as refused, pools.make_executor("inline", 0):
        pass
    assert refused.value.field == "--workers" and "at least 1, got 0" in refused.value.reason
    with pools.make_executor("inline", 1) as inline:
        assert inline.submit(pow, 2, 10).result() == 1024
        failed = inline.submit(int, "x")
        assert isinstance(failed.exception(), ValueError)
    for spec in (None, "local"):
        with pools.make_executor(spec, 2) as pool:
            assert isinstance(pool, cf.ProcessPoolExecutor) and pool._max_workers == 2  # type: ignore[attr-defined]
    for spec in ("threads", "dask:/127.0.0.1:1", "localhost"):
        with pytest.raises(InputError) as unknown, pools.make_executor(spec, 1):
            pass
        assert unknown.value.field == "--executor" and f"unknown executor '{spec}'" in unknown.value.reason


def test_checking_an_executor_connects_only_to_a_named_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    class Client:
        def close(self, timeout: float) -> None:
            calls.append(("close", timeout))

    def connect(client_type: Any, address: str) -> Client:
        calls.append(("connect", address))
        return Client()

    monkeypatch.setattr(pools, "_connect", connect)
    monkeypatch.setattr(pools, "_require_dask", lambda: calls.append("dask needed"))
    for spec in (None, "local", "inline"):
        pools.check_executor(spec)
    assert calls == []
    pools.check_executor("dask")
    assert calls == ["dask needed"]
    pools.check_executor("dask://10.0.0.5:8786")
    assert calls[1:] == ["dask needed", ("connect", "tcp://10.0.0.5:8786"), ("close", pools.DASK_CONNECT_TIMEOUT_S)]
    with pytest.raises(InputError, match="unknown executor 'ray'"):
        pools.check_executor("ray")


def test_connecting_to_a_scheduler_returns_refuses_or_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """PO4: the client is built with the connect timeout; its error is named (type and message, cut at
    300 characters); a client that never answers is given up after twice the timeout."""
    made: list[tuple[str, str]] = []

    def client(address: str, timeout: str) -> str:
        made.append((address, timeout))
        return "client"

    assert pools._connect(client, "tcp://h:1") == "client" and made == [("tcp://h:1", "5s")]

    def refused(address: str, timeout: str) -> None:
        raise ConnectionRefusedError("x" * 500)

    with pytest.raises(InputError) as error:
        pools._connect(refused, "tcp://h:2")
    assert error.value.field == "--executor"
    why = error.value.reason.removeprefix("cannot reach the Dask scheduler at tcp://h:2: ")
    assert why.startswith("ConnectionRefusedError: xxx") and len(why) == 300
    release = threading.Event()
    monkeypatch.setattr(pools, "DASK_CONNECT_TIMEOUT_S", 0.05)
    try:
        start = time.monotonic()
        with pytest.raises(InputError, match=r"at tcp://h:3: no answer within 0\.1 s"):
            pools._connect(lambda address, timeout: release.wait(10), "tcp://h:3")
        assert time.monotonic() - start < 0.8  # given up after 2 × 0.05 s, not when the client would answer
    finally:
        release.set()


class FakeClient:
    def __init__(self, status: str = "running", workers: dict[str, Any] | None = None,
                 error: Exception | None = None) -> None:
        self.status, self.workers, self.error = status, workers, error

    def scheduler_info(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"workers": self.workers or {}}


@pytest.mark.parametrize(("client", "answer"), [
    (None, None),  # a local pool has no scheduler to lose
    (FakeClient(workers={"w1": {}}), None),
    (FakeClient(status="connecting", workers={"w1": {}}), None),
    (FakeClient(status="newly-created", workers={"w1": {}}), None),
    (FakeClient(status="closed"), "the Dask scheduler is unreachable (client closed)"),
    (FakeClient(error=OSError("gone")), "the Dask scheduler is unreachable (OSError)"),
    (FakeClient(workers={}), "the Dask cluster has no workers left"),
])
def test_what_a_dask_cluster_can_still_run(client: Any, answer: str | None) -> None:
    executor = FakeExecutor()
    if client is not None:
        executor._client = client  # type: ignore[attr-defined]
    assert pools.RestartablePool(executor, "dask", 2).unreachable() == answer


def test_a_broken_pool_is_replaced_and_its_replacements_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """PO5: restart does nothing while the pool works; once broken, the old pool is shut without
    waiting and a fresh local pool of the same size takes its place; stop ends them all, and
    close_replacements waits for the replacements only (the first belongs to make_executor)."""
    made: list[tuple[int, FakeExecutor]] = []

    def local_pool(workers: int) -> FakeExecutor:
        made.append((workers, FakeExecutor({})))
        return made[-1][1]

    monkeypatch.setattr(pools, "local_pool", local_pool)
    first = FakeExecutor({})
    pool = pools.RestartablePool(first, None, 3)
    assert not pool.broken
    pool.restart()
    assert made == [] and pool.executor is first and first.calls == []
    first._broken = "a worker died"  # type: ignore[attr-defined]
    assert pool.broken
    pool.restart()
    [(workers, second)] = made
    assert workers == 3 and pool.executor is second and pool.extra == [second]
    assert first.calls == [{"wait": False, "cancel_futures": True}]
    pool.submit(pow, 2, 3)
    assert second.submitted == [(pow, (2, 3))] and first.submitted == []
    second._broken = "another worker died"  # type: ignore[attr-defined]
    pool.restart()
    third = made[-1][1]
    assert pool.executor is third and pool.extra == [second, third]
    pool.close_replacements()
    assert second.calls[-1] == third.calls[-1] == {"wait": True, "cancel_futures": True} and len(first.calls) == 1
    pool.stop()  # every replacement, not only the current one; the first is no longer its executor
    assert second.calls[-1] == third.calls[-1] == {"wait": False, "cancel_futures": True} and len(first.calls) == 1
