"""The figures the report build and the break-even search compute, checked against hand values or the
plan's own (separately tested) fields.  The report snapshot tests read a stored report JSON, so they
never run this code; these do, on small scenarios or hand-made inputs."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.insight import break_even
from planner.insight.break_even import MAX_FACTOR, RELATIVE_TOLERANCE, breakeven
from planner.plan_model import FleetEntry, Infeasibility
from planner.report.build import (
    _explanation,
    _saving_figure,
    _shown_prices,
    build_report,
    figure,
)
from planner.report.plan_view import cost_rows, fleet_matrix, headline
from planner.report.provenance import prices_used
from planner.units import DAYS_PER_MONTH
from tests.conftest import merged_scenario

DEMO_SMALL = ["horizon.months=12", "horizon.period_months=3", 'market.hardware=["h100-sxm"]']


# --- plan view -------------------------------------------------------------------------------------------


def test_the_resale_credit_is_a_negative_cost_row(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV1: a salvage plan that owns hardware lists its resale at the end as a credit (negative)."""
    sc = planner.load_scenario(planner.demo_scenario_path(), [
        *DEMO_SMALL, "horizon.terminal_value=salvage", 'market.modes=["buy"]',
        "market.lead_time_months.buy=0", "market.resale_fraction=0.9"])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.cost_breakdown is not None and plan.cost_breakdown.residual_credit_usd > 1.0
    rows = dict(cost_rows(plan))
    assert rows["owned: resale at the end"] == -plan.cost_breakdown.residual_credit_usd
    assert rows["owned: resale at the end"] < 0
    # the rows add up to the lifetime cost (the credit taken off)
    assert sum(rows.values()) == pytest.approx(plan.lifetime_cost_usd, abs=1.0)


def _entry(period: int, mode: str, gpus: int, slice_: int | None = None, hardware: str = "h100-sxm") -> FleetEntry:
    return FleetEntry(period=period, month_start=3 * period, hardware=hardware, mode=mode, gpus_in_service=gpus,
                      gpus_acquired=0, slice=slice_)


def test_an_elastic_line_shows_its_busiest_slice_and_same_lines_add_up() -> None:
    """PV2/PV3: an elastic (per-slice) line's cell is its busiest slice, not the sum over slices; two
    lines with the same hardware and mode (same slice) add up; all-day lines add up too."""
    fleet = [
        # on-demand, period 0: slice 0 holds 3 + 2 (two lines), slice 1 holds 4 -> busiest slice 5
        _entry(0, "on-demand", 3, 0), _entry(0, "on-demand", 2, 0), _entry(0, "on-demand", 4, 1),
        # period 1: slice 0 holds 6, slice 1 holds 1 + 1 -> 6
        _entry(1, "on-demand", 6, 0), _entry(1, "on-demand", 1, 1), _entry(1, "on-demand", 1, 1),
        # all-day reserved lines: 8 + 8 in period 0, 8 in period 1
        _entry(0, "reserved-1y", 8), _entry(0, "reserved-1y", 8), _entry(1, "reserved-1y", 8),
    ]
    keys, periods, cell = fleet_matrix(SimpleNamespace(fleet=fleet))  # type: ignore[arg-type]
    elastic, reserved = "h100-sxm on-demand, busiest slice", "h100-sxm reserved-1y"
    assert keys == [elastic, reserved] and periods == [0, 1]
    assert cell[(elastic, 0)] == 5 and cell[(elastic, 1)] == 6
    assert cell[(reserved, 0)] == 16 and cell[(reserved, 1)] == 8


def test_elastic_lines_stand_at_the_slice_holding_the_most_of_them_together() -> None:
    """On-demand peaks in slice 0 (6), spot in slice 1 (8); slice 0 holds 6 + 2 = 8 elastic GPUs, slice 1
    1 + 8 = 9: both lines are shown as held in slice 1 (1 and 8), the GPUs held at once, not 6 + 8 = 14
    from two different hours.  Of two slices holding as many, the first."""
    fleet = [_entry(0, "on-demand", 6, 0), _entry(0, "spot", 2, 0), _entry(0, "on-demand", 1, 1),
             _entry(0, "spot", 8, 1), _entry(1, "on-demand", 3, 0), _entry(1, "on-demand", 3, 1)]
    keys, _periods, cell = fleet_matrix(SimpleNamespace(fleet=fleet))  # type: ignore[arg-type]
    od, spot = "h100-sxm on-demand, busiest slice", "h100-sxm spot, busiest slice"
    assert keys == [od, spot]
    assert (cell[(od, 0)], cell[(spot, 0)]) == (1, 8) and cell[(od, 1)] == 3 and cell[(spot, 1)] == 0


def test_a_time_sliced_plan_shows_its_busiest_slice(catalog) -> None:  # type: ignore[no-untyped-def]
    """PV2 on a real plan: two time slices, on-demand only; each period's cell is the larger slice."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "daily-load.toml"
    sc = planner.load_scenario(example, [
        "plan.time_slices=2", 'market.modes=["on-demand"]', 'market.hardware=["h100-sxm"]',
        'techniques.quantization=["none"]', 'techniques.caching=["none"]'])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal"
    keys, periods, cell = fleet_matrix(plan)
    [key] = keys
    assert key.endswith(", busiest slice")
    for p in periods:
        by_slice = [f.gpus_in_service for f in plan.fleet if f.period == p]
        assert len(by_slice) == 2 and min(by_slice) > 0  # both slices hold GPUs: busiest < sum
        assert cell[(key, p)] == max(by_slice) < sum(by_slice)


@pytest.fixture(scope="module")
def trained() -> tuple[planner.Scenario, Any]:
    """The demo for 12 months in 3-month periods with a training bill the serving spend overtakes
    inside the horizon."""
    cat = planner.load_catalogs(use_env=False)
    sc = planner.load_scenario(planner.demo_scenario_path(), [*DEMO_SMALL, "model.training_cost_usd=2e5"])
    plan = planner.plan(sc, catalog=cat)
    assert plan.status == "optimal" and plan.periods == 4 and plan.period_months == 3
    return sc, plan


def test_the_headline_counts_months_not_periods(trained) -> None:  # type: ignore[no-untyped-def]
    """PV4: 4 periods of 3 months read as 12 months, at the demo's 8 % discount rate (a rate of 0 would
    read 0.0 %: the present value is then the nominal sum)."""
    _, plan = trained
    line = next(x for x in headline(plan, timings=False) if x.startswith("lifetime cost"))
    assert "(present value at 8.0% per year, 12 months, terminal value:" in line
    assert plan.discount_rate_per_year == 0.08


def test_the_headline_training_share_is_the_plans(trained) -> None:  # type: ignore[no-untyped-def]
    """PV5: the training line prints the plan's training share (training / (training + serving))."""
    _, plan = trained
    share = plan.training_share_of_total
    assert share is not None and share == pytest.approx(2e5 / (2e5 + plan.lifetime_cost_usd), rel=1e-6)
    assert f"{share:.0%}" != f"{1 - share:.0%}"
    line = next(x for x in headline(plan, timings=False) if x.startswith("base model training"))
    assert f"$200,000 = {share:.0%} of training + serving" in line


def test_the_training_crossover_is_the_plans_in_months(trained, catalog) -> None:  # type: ignore[no-untyped-def]
    """BU1/BU2: the report's crossover month is the plan's ``inference_overtakes_training_month``
    (in months, inside the horizon, not extrapolated)."""
    sc, plan = trained
    month = plan.inference_overtakes_training_month
    assert month is not None and 3.0 < month < 12.0  # past the first period: the period length matters
    training = build_report(plan, sc, catalog).training
    assert training is not None and not training.crossover_extrapolated
    assert training.crossover_month == pytest.approx(month, rel=1e-9)
    assert f"month {month:.1f} of 12" in training.note


def test_a_plan_without_a_bill_carries_the_catalog_estimate_its_report_shows(  # type: ignore[no-untyped-def]
        catalog) -> None:
    """The demo gives no training bill: the plan's JSON carries the catalog estimate with its source and the
    share and crossover figures from it, the report's training section shows the same dollars, and the
    headline names it an estimate (the JSON had null where the text printed the estimate)."""
    sc = planner.load_scenario(planner.demo_scenario_path(), DEMO_SMALL)
    assert sc.model.training_cost_usd is None and sc.model.training_tokens is None
    plan = planner.plan(sc, catalog=catalog)
    assert plan.training_cost_source == "catalog" and plan.training_cost_usd is not None
    assert plan.lifetime_cost_usd is not None and plan.training_share_of_total == pytest.approx(
        plan.training_cost_usd / (plan.training_cost_usd + plan.lifetime_cost_usd), rel=1e-12)
    training = build_report(plan, sc, catalog).training
    assert training is not None and training.training_usd == plan.training_cost_usd
    assert training.training_source.startswith("estimated: ")
    # past the 12-month horizon: the JSON's month is the report's, extrapolated alike (it was null)
    assert plan.inference_overtakes_training_extrapolated and training.crossover_extrapolated
    assert plan.inference_overtakes_training_month == pytest.approx(training.crossover_month, rel=1e-12)
    assert plan.inference_overtakes_training_month > 12
    line = next(x for x in headline(plan, timings=False) if x.startswith("base model training"))
    assert "(estimated from the catalog's training tokens)" in line
    given = planner.plan(planner.load_scenario(planner.demo_scenario_path(), [*DEMO_SMALL,
                                                                            "model.training_cost_usd=2e5"]),
                         catalog=catalog)
    assert (given.training_cost_usd, given.training_cost_source) == (2e5, "model.training_cost_usd")


# --- explanation figures ---------------------------------------------------------------------------------


def test_the_saving_is_an_interval_when_the_plan_is_unproven() -> None:
    """BU4: plan stopped at a limit (bound B_plan), baseline proven: [C_base − C_plan, C_base − B_plan]."""
    plan = SimpleNamespace(lifetime_cost_usd=289_630.0, status="feasible", bound_usd=280_000.0)
    e = SimpleNamespace(plan=plan, baseline_cost_usd=588_883.0, baseline_status="optimal", baseline_bound_usd=None,
                        saving_usd=299_253.0, saving_pct=299_253 / 588_883)
    # low 588,883 − 289,630 = 299,253 (50.8%); high 588,883 − 280,000 = 308,883 (52.5%)
    assert _saving_figure(e) == "[$299,253, $308,883] (50.8%–52.5%; the costs are intervals)"


def _price(what: str, usd: float, period: int | None, workload: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(what=what, usd=usd, period=period, workload=workload, unit="$/GPU", method="dual",
                           status="optimal", bound_usd=None)


def test_the_shown_prices_are_period_zero_demand_and_each_quota_at_its_dearest() -> None:
    """BU5/BU6: demand's price for period 0 only; of a quota's prices the period where it is worth most."""
    resolved = _price("budget", 0.3, None)
    demand = [_price("demand", 5.0, 0, "chat"), _price("demand", 9.0, 1, "chat"), _price("demand", 2.0, 2, "chat")]
    quota = [_price("quota h100-sxm", 1.0, 0), _price("quota h100-sxm", 7.0, 1), _price("quota h100-sxm", 3.0, 2)]
    power = [_price("power cap", 4.0, 2), _price("power cap", 0.5, 3)]
    shown = _shown_prices([*demand, *quota, resolved, *power])
    assert shown == [demand[0], resolved, quota[1], power[0]]


def test_an_alternatives_difference_carries_its_sign() -> None:
    """BU7: a dearer alternative reads +4.0%, a cheaper one −2.5%."""
    def alt(delta: float | None, names: list[str]) -> SimpleNamespace:
        return SimpleNamespace(variant_names=names, status="optimal", lifetime_cost_usd=1.04e6, bound_usd=None,
                               delta_pct=delta, quality_change={})

    e = SimpleNamespace(saving_usd=None, shadow_prices=[], binding=[], sensitivity=[], resolve_gap_rel=0.01,
                        alternatives=[alt(0.04, ["quantization:fp8"]), alt(-0.025, []), alt(None, ["caching:prefix"])])
    part = _explanation(e)
    assert [a.difference for a in part.alternatives] == ["+4.0%", "-2.5%", "-"]


def test_an_unproven_cost_prints_bound_first() -> None:
    """BU8: ``[bound, best found] (status)``."""
    assert figure(300_000.0, "feasible", 290_000.0) == "[$290,000, $300,000] (feasible)"
    assert figure(300_000.0, "optimal", None) == "$300,000"
    assert figure(300_000.0, "feasible", None) == "$300,000 (feasible, unproven)"


# --- break-even search (plans faked: each side's cost is a hand function of the demand factor) -----------

QPD = 2e6


def _scenario() -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "breakeven", "model": {"base": "llama-3.1-70b"},
        "workload": [{"name": "chat", "queries_per_day": QPD, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80}],
        "horizon": {"months": 12, "period_months": 3, "growth_per_year": 0.0},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
        "techniques": {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]},
    }
    return merged_scenario(data)


QUOTA = Infeasibility(family="quota", workload=None, requirement="h100-sxm <= 8 GPUs", best_achievable="16 GPUs",
                      message="quota: h100-sxm needs 16 GPUs, quota 8")


def _fake(monkeypatch: pytest.MonkeyPatch, side: Any) -> list[tuple[float, bool]]:
    """``side(factor, with_option) -> (status, cost, findings)`` replaces the solves; returns the calls."""
    calls: list[tuple[float, bool]] = []

    def plan_scenario(scenario: planner.Scenario, catalog: Any) -> Any:
        factor = scenario.workload[0].queries_per_day / QPD
        with_option = scenario.techniques["quantization"] == ["fp8"]
        calls.append((factor, with_option))
        status, cost, findings = side(factor, with_option)
        return SimpleNamespace(status=status, lifetime_cost_usd=cost, infeasibility=findings, message="",
                               solver=SimpleNamespace(gap=None if status == "optimal" else 0.05))

    monkeypatch.setattr(break_even, "plan_scenario", plan_scenario)
    return calls


def _pays_from_1000(factor: float, with_option: bool) -> tuple[str, float | None, list[Infeasibility]]:
    """One-time 1000 with the option; 1 per unit of demand without it: pays from factor 1000."""
    return "optimal", (1000.0 if with_option else factor), []


def test_the_breakeven_is_the_paying_end_of_the_bracket(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """BE6 (the doubling reaches MAX_FACTOR = 1024), BE11 (all optimal: proven), the break-even value is
    the paying end of the final bracket, and the lifetime queries there by hand."""
    calls = _fake(monkeypatch, _pays_from_1000)
    result = breakeven(_scenario(), catalog, "quantization:fp8")
    assert result.verdict == "pays_from" and not result.pays_at_current and result.proven
    value = result.breakeven_value
    assert value is not None and 1000.0 <= value <= 1000.0 * (1 + RELATIVE_TOLERANCE)
    assert max(f for f, _ in calls) == pytest.approx(MAX_FACTOR)
    # the paying end was evaluated and pays there
    [at] = [e for e in result.evaluations if e.value == value]
    assert at.cost_with_usd is not None and at.cost_without_usd is not None and at.cost_with_usd <= at.cost_without_usd
    # growth 0: 2e6 queries/day × 365.25/12 days/month × 12 months × the factor
    assert result.lifetime_queries_at_breakeven == pytest.approx(QPD * 365.25 * value, rel=1e-9)
    assert DAYS_PER_MONTH == 365.25 / 12


def test_the_upward_search_stops_at_max_factor(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """BE6: an option that never pays is evaluated at 1, 2, 4, … up to MAX_FACTOR × the current value."""
    calls = _fake(monkeypatch, lambda f, w: ("optimal", 2.0 if w else 1.0, []))
    result = breakeven(_scenario(), catalog, "quantization:fp8")
    assert result.verdict == "never_pays" and result.breakeven_value is None
    values = sorted({f for f, _ in calls})
    assert values == pytest.approx([2.0 ** k for k in range(11)])
    assert values[-1] == pytest.approx(MAX_FACTOR) and f"{MAX_FACTOR:g}x the current value" in result.message


def test_an_option_infeasible_at_some_values_only_is_a_cost_answer(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """BE8: infeasible (quota, a demand-dependent finding) at factors 1 and 2 only, dearer elsewhere:
    "does not pay", naming where it was infeasible — not "infeasible at every value"."""
    def side(f: float, w: bool) -> tuple[str, float | None, list[Infeasibility]]:
        if w and f < 3:
            return "infeasible", None, [QUOTA]
        return "optimal", 2.0 if w else 1.0, []

    _fake(monkeypatch, side)
    result = breakeven(_scenario(), catalog, "quantization:fp8")
    assert result.verdict == "never_pays"
    assert "infeasible at every value" not in result.message and "does not pay" in result.message
    assert "with it the plan is infeasible at demand = 1, 2:" in result.message
    assert result.infeasibility == [QUOTA]


def test_the_option_that_makes_the_plan_feasible_pays(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """BE10: without the option the plan is infeasible from factor 0.5 (with it, feasible everywhere):
    the option pays now, its break-even where the plan without it stops being possible."""
    def side(f: float, w: bool) -> tuple[str, float | None, list[Infeasibility]]:
        if not w and f >= 0.5:
            return "infeasible", None, [QUOTA]
        return "optimal", 2.0 if w else 1.0, []

    _fake(monkeypatch, side)
    result = breakeven(_scenario(), catalog, "quantization:fp8")
    assert result.verdict == "pays_now" and result.pays_at_current
    assert result.breakeven_value is not None and 0.5 <= result.breakeven_value <= 0.5 * (1 + RELATIVE_TOLERANCE)
    assert "does not pay" not in result.message and result.infeasibility == []


def test_one_unproven_evaluation_makes_the_answer_unproven(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """BE11: proven only when every evaluation is; one time-limited solve (at factor 2) makes it unproven."""
    def side(f: float, w: bool) -> tuple[str, float | None, list[Infeasibility]]:
        status, cost, found = _pays_from_1000(f, w)
        return ("feasible" if w and math.isclose(f, 2.0) else status), cost, found

    _fake(monkeypatch, side)
    result = breakeven(_scenario(), catalog, "quantization:fp8")
    assert sum(not e.proven for e in result.evaluations) == 1 and len(result.evaluations) > 2
    assert not result.proven and "not proven: 1 evaluation(s)" in result.message


@pytest.mark.parametrize(("mode", "setting", "usd_per_hour"), [
    ("reserved-1y", "market.reserved_discount.reserved-1y=0.5", "$1.495"),
    ("spot", "market.spot_discount=0.8", "$0.598"),
])
def test_the_prices_used_are_the_ones_the_plan_was_charged(catalog, mode: str, setting: str,  # type: ignore[no-untyped-def]
                                                           usd_per_hour: str) -> None:
    """Lambda publishes only an on-demand H100-SXM price ($2.99 per GPU-hour); its reserved and spot prices
    are derived with the scenario's discount when it sets one: 2.99 × (1 − 0.5) = $1.495 and
    2.99 × (1 − 0.8) = $0.598.  The report's "Prices used" must show those, not the catalog's default
    discount (which gave $2.392 = 2.99 × 0.8 and $1.495 = 2.99 × 0.5)."""
    assert catalog.prices[("h100-sxm", "on-demand", "lambda")].usd_per_gpu_hour == 2.99
    assert ("h100-sxm", mode, "lambda") not in catalog.prices
    sc = planner.load_scenario(planner.demo_scenario_path(), [*DEMO_SMALL, f'market.modes=["{mode}"]', setting])
    fleet = [SimpleNamespace(hardware="h100-sxm", mode=mode, provider="lambda")]
    [used] = prices_used(SimpleNamespace(fleet=fleet), sc, catalog)  # type: ignore[arg-type]
    assert used.price == f"{usd_per_hour} per GPU-hour" and used.derived


def test_a_derived_price_is_labelled_derived_not_a_providers_product(catalog) -> None:  # type: ignore[no-untyped-def]
    """Lambda publishes an on-demand H100 price and no spot or reserved one: the plan's spot and
    reserved lines are priced from its on-demand row, and their labels say so; the on-demand line's
    does not."""
    sc = planner.load_scenario(Path(__file__).resolve().parents[2] / "examples" / "daily-load.toml",
                               ['market.hardware=["h100-sxm"]'])
    plan = planner.plan(sc, catalog=catalog)
    keys, _, _ = fleet_matrix(plan)
    derived = {f.mode for f in plan.fleet if f.price_source.startswith("derived: ")}
    assert derived == {"spot", "reserved-1y"} and {f.provider for f in plan.fleet} == {"lambda"}
    assert keys == ["h100-sxm on-demand (lambda), busiest slice", "h100-sxm reserved-1y (lambda, derived)",
                    "h100-sxm spot (lambda, derived), busiest slice"]
    rows = build_report(plan, sc, catalog).fleet  # the chart hatches the lines held per slice
    assert [(row.hardware_mode, row.busiest_slice) for row in rows] == [(key, key != keys[1]) for key in keys]
