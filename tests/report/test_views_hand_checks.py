"""Hand checks of the report views a mutation review found unchecked: the report sections (training rows,
time-slice title, reserve notes, the alternatives' interval note), the plan headline and cost rows, the
break-even and sweep listings, the sweep chart's data, the technique and catalog listings, and the
provenance rows (inputs, catalog version, prices used).

Every input is built by hand (a Report read from the stored snapshot and updated field by field, a plan
as a namespace of figures, break-even points, sweep rows) or read from a shipped catalog row; every
expected figure is written out with its arithmetic — nothing is copied from running the code.  No test
solves a plan."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.catalog.schema import LoadShapeRow
from planner.catalog.store import Catalog
from planner.insight.break_even import BreakEven, BreakEvenPoint
from planner.insight.sweeps import MonteCarloSummary, SweepResult
from planner.plan_model import CostBreakdown, FleetEntry, Infeasibility
from planner.report import sweep_view
from planner.report.breakeven_view import breakeven_markdown, breakeven_text
from planner.report.catalog_view import _fmt, catalog_rows, owned_cost_components, render_rows
from planner.report.model import AlternativeLine, FleetRow, Report, SliceRow, TrainingComparison
from planner.report.plan_view import cost_basis, cost_rows, headline
from planner.report.provenance import catalog_version, inputs, prices_used
from planner.report.sections import Section, sections
from planner.report.techniques_view import technique_dict, technique_text
from techniques.base import Effect, OptionInfo, TechniqueSettings

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.json"


# ------------------------------------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def stored() -> Report:
    """A complete report (the renderers' stored snapshot input); each test replaces the fields it checks."""
    return Report.model_validate_json(SNAPSHOT.read_text(encoding="utf-8"))


def section_of(report: Report, key: str) -> Section | None:
    return next((s for s in sections(report) if s.key == key), None)


def plan_figures(**over: Any) -> SimpleNamespace:
    """A plan as the headline reads it: 4 quarters, $100,000 one-time + $900,000 recurring = $1,000,000."""
    data: dict[str, Any] = {
        "scenario": "hand", "model": "llama-3.1-8b", "status": "optimal", "message": "",
        "solver": SimpleNamespace(name="highs", gap=None), "timings": {"solve_s": 1.5}, "catalog_overlays": [],
        "lifetime_cost_usd": 1_000_000.0, "infeasibility": [], "periods": 4, "period_months": 3,
        "horizon_end_settlement_usd": 0.0, "recurring_cost_usd": 900_000.0, "terminal_value": "annuity",
        "discount_rate_per_year": 0.085,
        "one_time_cost_usd": 100_000.0, "cost_per_million_queries_usd": 12.3456,
        "cost_per_million_tokens_usd": 0.0123456, "variant_names": [], "training_cost_usd": None,
        "inference_overtakes_training_month": None, "training_share_of_total": None,
    }
    return SimpleNamespace(**{**data, **over})


def lifetime_line(plan: SimpleNamespace, timings: bool = False) -> str:
    return next(x for x in headline(plan, timings=timings) if x.startswith("lifetime cost"))  # type: ignore[arg-type]


def breakdown(**parts: float) -> CostBreakdown:
    zero = dict.fromkeys(CostBreakdown.model_fields, 0.0)
    return CostBreakdown(**{**zero, **parts})


def entry(mode: str, provider: str = "", hardware: str = "h100-sxm", gpus: int = 4) -> FleetEntry:
    return FleetEntry(period=0, month_start=0, hardware=hardware, mode=mode, gpus_in_service=gpus,
                      gpus_acquired=gpus, provider=provider)


def scenario(market: dict[str, Any] | None = None, horizon: dict[str, Any] | None = None,
             workload: dict[str, Any] | None = None, training: dict[str, Any] | None = None) -> planner.Scenario:
    """One class of 86,400 queries a day (100 + 100 tokens) on Llama-3.1-8B, 12 months in quarters."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "hand", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100, **(workload or {})}],
        "horizon": {"months": 12, "period_months": 3, **(horizon or {})},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"], **(market or {})},
        "training": training or {},
    })


def rows_named(sc: planner.Scenario, catalog: Catalog, name: str) -> list[Any]:
    return [a for a in inputs(sc, catalog) if a.name == name]


def point(value: float = 1.0, **over: Any) -> BreakEvenPoint:
    return BreakEvenPoint(value=value, **{"cost_with_usd": 1e6, "cost_without_usd": 2e6, **over})


def breakeven_of(points: list[BreakEvenPoint], **over: Any) -> BreakEven:
    data: dict[str, Any] = {
        "option": "quantization:fp8", "over": "demand", "current_value": 1.0, "verdict": "never_pays",
        "pays_at_current": False, "breakeven_value": None, "lifetime_queries_at_breakeven": None, "proven": False,
        "infeasibility": [], "evaluations": points, "message": "hand",
    }
    return BreakEven(**{**data, **over})


def monte_carlo(**over: Any) -> MonteCarloSummary:
    data: dict[str, Any] = {
        "samples": 10, "nominal_variant": "quantization:fp8", "failed": 0,
        "nominal_variant_cost_percentiles_usd": {"p10": 1_000_000.0, "p50": 1_200_000.0, "p90": 1_500_000.0},
        "decision_stability": {"quantization:fp8": 0.75, "baseline": 0.25},
    }
    return MonteCarloSummary(**{**data, **over})


def chart_rows(points: list[tuple[float, float, float | None]]) -> SweepResult:
    """Sweep rows (x, cost, bound) over market.price_scale, all of one variant."""
    return SweepResult(rows=[{"index": i, "inputs": {"market.price_scale": x}, "status": "optimal" if b is None
                              else "feasible", "lifetime_cost_usd": c, "bound_usd": b, "variant": "quantization:fp8"}
                             for i, (x, c, b) in enumerate(points)])


# ------------------------------------------------------------------------------------------------ sections

def test_the_horizon_end_row_is_the_spend_plus_the_settlement(stored: Report) -> None:
    """Spend inside the horizon $250,000 by month 6; the resale credit settles −$40,000 at its end:
    the 'horizon end' row reads 250,000 − 40,000 = $210,000 (a credit lowers it), after the month-6 row."""
    t = TrainingComparison(basis="present value", training_usd=1_000_000.0, training_source="scenario",
                           months=[0.0, 3.0, 6.0], cumulative_serving_usd=[0.0, 100_000.0, 250_000.0],
                           crossover_month=None, crossover_extrapolated=False, note="hand",
                           settlement_usd=-40_000.0)
    training = section_of(stored.model_copy(update={"training": t}), "training")
    assert training is not None
    assert training.rows[-2] == ["", "6", "$250,000", "25% of training"]  # 250,000 / 1,000,000
    assert training.rows[-1][:3] == ["horizon end", "6", "$210,000"]


def test_the_alternatives_note_is_shown_when_any_alternative_is_unproven(stored: Report) -> None:
    """The note explaining interval rows is there as soon as one alternative is not proven (here one of
    two), and absent when every one is optimal."""
    assert stored.explanation is not None
    proven = AlternativeLine(variant="quantization:int8", status="optimal", cost="$157,036", difference="+4.0%",
                             quality="-")
    open_ = AlternativeLine(variant="caching:prefix", status="feasible", cost="[$150,000, $158,000] (feasible)",
                            difference="+4.6%", quality="-")

    def note(alternatives: list[AlternativeLine]) -> list[str]:
        e = stored.explanation.model_copy(update={"alternatives": alternatives})  # type: ignore[union-attr]
        s = section_of(stored.model_copy(update={"explanation": e}), "alternatives")
        assert s is not None
        return s.notes

    assert len(note([proven, open_])) == 1 and "An interval here bounds" in note([proven, open_])[0]
    assert note([proven, proven]) == []


@pytest.mark.parametrize(("cycle", "word"), [(168, "week"), (24, "day")])
def test_the_slices_title_names_the_cycle_and_each_mode_per_slice(stored: Report, cycle: int, word: str) -> None:
    """168 hours is a week, 24 a day; a slice without GPUs of a mode offered in another slice shows 0."""
    rows = [SliceRow(index=0, clock="00-12", hours=list(range(12)), hours_per_cycle=12.0 * cycle / 24,
                     classes=["a: peak 1.50x"], fixed_gpus=4, elastic_gpus={"on-demand": 2}),
            SliceRow(index=1, clock="12-24", hours=list(range(12, 24)), hours_per_cycle=12.0 * cycle / 24,
                     classes=["a: peak 0.50x"], fixed_gpus=4, elastic_gpus={})]
    s = section_of(stored.model_copy(update={"slices": rows, "slice_month": 9, "cycle_hours": cycle}), "slices")
    assert s is not None and s.title.endswith(f"over the {word} (month 9)")
    assert s.headers == ["slice", "clock", "hours", "fixed GPUs", "on-demand", "load per class"]
    assert [r[3:5] for r in s.rows] == [["4", "2"], ["4", "0"]]


def test_the_fleet_notes_what_is_kept_in_reserve_and_leaves_an_empty_period_blank(stored: Report) -> None:
    """Each reserve line is a note of the fleet table; a period the line holds no GPUs in is blank."""
    report = stored.model_copy(update={"fleet_months": [0, 3, 6],
                                       "fleet": [FleetRow(hardware_mode="h100-sxm buy", gpus=[4, 0, 2])],
                                       "reserve": ["h100-sxm buy: 0.1 GPUs in repair"]})
    fleet = section_of(report, "fleet")
    assert fleet is not None
    assert fleet.rows == [["h100-sxm buy", "4", "", "2"]]
    assert fleet.notes == ["In reserve: h100-sxm buy: 0.1 GPUs in repair"]


# ------------------------------------------------------------------------------------------------ plan view

def test_a_resale_credit_is_printed_negative_apart_from_the_recurring_spend() -> None:
    """Salvage: spend $900,000, a −$40,000 credit at the horizon's end; ``recurring_cost_usd`` holds both
    (860,000), so recurring prints 860,000 − (−40,000) = $900,000 and the credit −$40,000."""
    plan = plan_figures(terminal_value="salvage", horizon_end_settlement_usd=-40_000.0,
                        recurring_cost_usd=860_000.0, lifetime_cost_usd=960_000.0)
    assert "one-time $100,000, recurring $900,000, horizon end −$40,000;" in lifetime_line(plan)


def test_the_headline_names_the_discount_rate_of_its_present_values() -> None:
    """8.5 % a year reads '8.5% per year'; a rate of 0 reads '0.0% per year' (present value = nominal)."""
    assert "(present value at 8.5% per year, 12 months, terminal value: annuity)" in lifetime_line(plan_figures())
    assert "(present value at 0.0% per year," in lifetime_line(plan_figures(discount_rate_per_year=0.0))


def test_the_levelized_figures_keep_their_decimals() -> None:
    """$12.3456 per million queries to cents: $12.35; $0.0123456 per million tokens to 4 places: $0.0123."""
    line = lifetime_line(plan_figures())
    assert "levelized $12.35 per million queries, $0.0123 per million tokens" in line


def test_the_solve_time_is_in_seconds_and_only_with_timings() -> None:
    """1.5 s of solve reads '1.50 s'; a document (timings=False) leaves it out."""
    plan = plan_figures()
    assert headline(plan, timings=True)[0] == "hand: llama-3.1-8b — optimal (highs, 1.50 s)"  # type: ignore[arg-type]
    assert headline(plan, timings=False)[0] == "hand: llama-3.1-8b — optimal (highs)"  # type: ignore[arg-type]


def test_cost_rows_name_the_rented_modes_and_leave_out_zero_parts() -> None:
    """Rent of $500 paid for on-demand and spot GPUs is one row 'rent (on-demand, spot)'; the other
    (zero) parts are not rows. Reserved GPUs alone: the rent row is absent and reserved is its own row."""
    plan = SimpleNamespace(cost_breakdown=breakdown(rent_usd=500.0),
                           fleet=[entry("spot", "lambda"), entry("on-demand", "lambda"), entry("reserved-1y")])
    assert cost_rows(plan) == [("rent (on-demand, spot)", 500.0)]  # type: ignore[arg-type]
    reserved = SimpleNamespace(cost_breakdown=breakdown(reserved_usd=700.0), fleet=[entry("reserved-1y")])
    assert cost_rows(reserved) == [("reserved", 700.0)]  # type: ignore[arg-type]


def test_the_cost_basis_follows_the_terminal_value() -> None:
    annuity = cost_basis(plan_figures(terminal_value="annuity"))  # type: ignore[arg-type]
    salvage = cost_basis(plan_figures(terminal_value="salvage"))  # type: ignore[arg-type]
    assert "per-period annuity" in annuity and "no end-of-horizon credit" in annuity and "resale" not in annuity
    assert "credited its resale value at the end" in salvage and "annuity" not in salvage


# ------------------------------------------------------------------------------------------------ break-even

def test_each_side_shows_its_own_interval_and_gap() -> None:
    """With: $1,000,000 at gap 1 %: [1,000,000 × 0.99, 1,000,000] = [$990,000, $1,000,000].
    Without: $2,000,000 at gap 5 %: [2,000,000 × 0.95, 2,000,000] = [$1,900,000, $2,000,000]."""
    b = breakeven_of([point(status_with="feasible", gap_with=0.01, status_without="feasible", gap_without=0.05)])
    assert ("with [$990,000, $1,000,000] (feasible, gap 1.0%), without [$1,900,000, $2,000,000] "
            "(feasible, gap 5.0%)") in breakeven_text(b)
    assert ("| [$990,000, $1,000,000] | feasible (gap 1.0%) | [$1,900,000, $2,000,000] | feasible (gap 5.0%) |"
            in breakeven_markdown(b))


def test_an_optimal_side_is_a_figure_without_a_gap() -> None:
    """A proven side with the solver's residual gap (0.01 %) is a plain figure: no interval, no gap."""
    b = breakeven_of([point(status_with="optimal", gap_with=1e-4, status_without="optimal", gap_without=1e-4)])
    assert "| 1 | $1,000,000 | optimal | $2,000,000 | optimal |" in breakeven_markdown(b)
    assert "with $1,000,000, without $2,000,000" in breakeven_text(b)


def test_the_value_and_the_lifetime_queries_are_printed_in_full() -> None:
    """A demand factor of 1536 reads '1536' (4 significant digits), not 1.5e+03; 1.5e9 lifetime queries
    read 1,500,000,000."""
    b = breakeven_of([point(1536.0)], lifetime_queries_at_breakeven=1.5e9)
    assert "  demand = 1536: with $1,000,000, without $2,000,000" in breakeven_text(b)
    assert "lifetime queries at break-even: 1,500,000,000" in breakeven_text(b)
    assert "| 1536 |" in breakeven_markdown(b)


def test_a_finding_met_at_several_values_is_listed_once() -> None:
    quota = Infeasibility(family="quota", workload=None, requirement="h100-sxm <= 8 GPUs", best_achievable="16",
                          message="h100-sxm needs 16 GPUs, quota 8")
    b = breakeven_of([point()], infeasibility=[quota, quota])
    assert breakeven_text(b).count("infeasible with the option — quota: h100-sxm needs 16 GPUs, quota 8") == 1
    assert breakeven_markdown(b).count("- quota: h100-sxm needs 16 GPUs, quota 8") == 1


# ------------------------------------------------------------------------------------------------ sweep view

def test_the_sweep_inputs_read_to_four_significant_digits() -> None:
    result = SweepResult(rows=[{"index": 0, "inputs": {"market.price_scale": 1234.5678, "horizon.months": 12},
                                "status": "optimal", "lifetime_cost_usd": 1e6, "variant": "quantization:fp8"}])
    text = sweep_view.text(result)
    assert "market.price_scale=1235, horizon.months=12  optimal  $1,000,000  quantization:fp8" in text


def test_monte_carlo_counts_only_the_priced_samples_and_prints_shares_as_percent() -> None:
    """10 samples, 2 failed, 1 the nominal variant cannot serve: the percentiles are over 10 − 2 − 1 = 7;
    a variant optimal in 0.75 of the samples reads 75%."""
    text = sweep_view.text(SweepResult(rows=[], monte_carlo=monte_carlo(failed=2, nominal_variant_unserved=1)))
    assert "lifetime cost over 7 of 10 samples: p10 $1,000,000, p50 $1,200,000, p90 $1,500,000" in text
    assert "  optimal in 75% of samples: quantization:fp8" in text and "  optimal in 25% of samples: baseline" in text


def test_a_single_unproven_sample_brings_the_interval_line() -> None:
    mc = monte_carlo(unproven=1, nominal_variant_cost_percentiles_lower_usd={"p10": 900_000.0, "p50": 1_100_000.0,
                                                                            "p90": 1_400_000.0})
    text = sweep_view.text(SweepResult(rows=[], monte_carlo=mc))
    assert "  1 of 10 samples stopped at a limit" in text
    assert "proven bound (p10 $900,000, p50 $1,100,000, p90 $1,400,000)" in text


def test_the_chart_plots_sorted_points_in_millions_with_the_bound_bar() -> None:
    """Rows at x = 4, 1, 2 costing $3M, $1M, $2M are drawn left to right: x (1, 2, 4), y (1, 2, 3) M$;
    the point at x = 2 stopped at a limit has a bar from its bound $1.5M = 1.5 to its cost 2.0."""
    fig = sweep_view.figure(chart_rows([(4.0, 3e6, None), (1.0, 1e6, None), (2.0, 2e6, 1.5e6)]), log_x=False)
    import matplotlib.pyplot as plt  # after the view has chosen its backend

    try:
        ax = fig.axes[0]
        [line] = ax.lines
        assert list(line.get_xdata()) == [1.0, 2.0, 4.0] and list(line.get_ydata()) == [1.0, 2.0, 3.0]
        [bars] = ax.collections
        assert [seg.tolist() for seg in bars.get_segments()] == [[[2.0, 1.5], [2.0, 2.0]]]
        assert ax.get_ylabel() == "lifetime cost, M$ (present value)"
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("high", "scale"), [(100.0, "linear"), (100.5, "log")])
def test_the_axis_is_logarithmic_only_past_a_hundredfold_span(high: float, scale: str) -> None:
    """x from 1 to 100 spans exactly 100x, not more: linear; to 100.5: log."""
    fig = sweep_view.figure(chart_rows([(1.0, 1e6, None), (high, 2e6, None)]))
    import matplotlib.pyplot as plt  # after the view has chosen its backend

    try:
        assert fig.axes[0].get_xscale() == scale
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------------ techniques

def toy_technique(name: str) -> SimpleNamespace:
    """A technique as the listing reads it: one option declaring every effect (11: a set in hash order)."""
    option = OptionInfo(name="fast", summary="go faster", effects=frozenset(Effect))
    return SimpleNamespace(name=name, order=5, summary="a toy", Settings=TechniqueSettings,
                           describe=lambda catalog: [option])


def test_a_listing_starts_with_none_sorts_effects_and_keeps_its_own_parameters(catalog: Catalog) -> None:
    """Option 'none' (leave the model as it is) comes first; effects are listed alphabetically; only
    catalog parameters of this technique (quantization has some) are listed."""
    listed = technique_dict(toy_technique("quantization"), catalog)  # type: ignore[arg-type]
    assert [o["name"] for o in listed["options"]] == ["none", "fast"]
    assert listed["options"][0]["effects"] == []
    assert listed["options"][1]["effects"] == [
        "compute_dtype", "decode_steps", "kv_bytes", "memory", "model", "one_time_cost", "prefill_flops", "quality",
        "recurring_cost", "served_queries", "weight_bytes"]
    params = listed["catalog_parameters"]
    assert params and {p["technique"] for p in params} == {"quantization"}


def test_a_catalog_parameter_reads_as_its_value_and_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A retention of 0.985 reads '0.985 fraction' (the value as written), not rounded to 1."""
    monkeypatch.setenv("COLUMNS", "200")
    data = {"name": "toy", "summary": "a toy", "order": 5, "module": "toy", "options": [],
            "settings_schema": {}, "catalog_parameters": [
                {"option": "fp8", "key": "quality_retention", "applies_to": "all", "value": 0.985,
                 "unit": "fraction", "source": "a paper"}]}
    assert "0.985 fraction — a paper" in technique_text(data)


# ------------------------------------------------------------------------------------------------ catalog

def test_a_load_shape_lists_its_peak_to_average() -> None:
    """18 hours at 1 and 6 at 3: mean (18 + 18) / 24 = 1.5, peak 3: peak/average 2.0."""
    shape = LoadShapeRow(name="hand", weights=[1.0] * 18 + [3.0] * 6, source="hand made", source_date="2026-01-01")
    kinds = dict.fromkeys(("hardware", "models", "prices", "platforms", "quality", "precisions", "efficiency",
                           "engines", "default_rows"), {})
    [row] = catalog_rows(SimpleNamespace(**kinds, load_shapes={"hand": shape}), "load_shapes")  # type: ignore[arg-type]
    assert row["peak_to_average"] == 2.0


def test_owned_cost_components_by_hand(catalog: Catalog) -> None:
    """h100-sxm: card $30,000 (its buy row); server = card x 0.64 (default overhead: no platform figure);
    network = (card + server) x 0.19 / 0.81; a DGX H100 draws 10.2 kW / 8 GPUs = 1,275 W contracted and
    1,275 x 0.75 (average power fraction) = 956.25 W on average.  a100-40gb is priced as a whole DGX:
    its server share is 0, included in the price."""
    d = catalog.defaults
    card = float(catalog.price("h100-sxm", "buy").usd_per_gpu or 0.0)  # type: ignore[union-attr]
    platform = catalog.platforms["h100-sxm"]
    server = card * d.server_overhead_fraction
    network = (card + server) * d.cluster_network_fraction / (1.0 - d.cluster_network_fraction)
    watts = platform.server_power_kw * 1000 / platform.gpus_per_server
    parts = {c["component"]: c for c in owned_cost_components(catalog, "h100-sxm")}
    assert parts["card"]["usd_per_gpu"] == pytest.approx(card)
    assert parts["server share"]["usd_per_gpu"] == pytest.approx(server)
    assert parts["network share"]["usd_per_gpu"] == pytest.approx(network)
    assert parts["server power (contracted)"]["w_per_gpu"] == pytest.approx(watts)
    assert f"{platform.server_power_kw:g} kW / {platform.gpus_per_server} GPUs" in parts[
        "server power (contracted)"]["source"]
    assert parts["average draw (energy)"]["w_per_gpu"] == pytest.approx(watts * d.average_power_fraction)
    assert server == pytest.approx(card * 0.64) and watts == pytest.approx(1275.0)  # the shipped figures
    a100 = {c["component"]: c for c in owned_cost_components(catalog, "a100-40gb")}
    assert a100["server share"]["usd_per_gpu"] == 0.0
    vendor = catalog.price("a100-40gb", "buy").provider  # type: ignore[union-attr]
    assert a100["server share"]["source"] == f"included in the {vendor} price"


def test_catalog_show_labels_money_and_power(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    shown = render_rows("show", [{"slug": "x", "owned_cost": [
        {"component": "card", "usd_per_gpu": 30_000.0, "source": "a"},
        {"component": "server power (contracted)", "w_per_gpu": 1275.0, "source": "b"}]}])
    assert "card: 30,000 USD per GPU; source: a" in shown
    assert "server power (contracted): 1,275 W per GPU; source: b" in shown


@pytest.mark.parametrize(("value", "text"), [(999.9, "999.9"), (1000.0, "1,000"), (999_999.0, "999,999"),
                                             (1e6, "1.0000e+06")])
def test_catalog_numbers_switch_format_at_a_thousand_and_a_million(value: float, text: str) -> None:
    """Below 1e3: 4 significant digits; from 1e3 (inclusive) grouped; from 1e6 (inclusive) scientific."""
    assert _fmt(value) == text


# ------------------------------------------------------------------------------------------------ provenance

def test_the_catalog_version_is_a_12_digit_fingerprint_with_the_newest_price(catalog: Catalog,
                                                                              tmp_path: Path) -> None:
    """Shipped: 12 hex digits and the latest source_date of any price row.  An overlay adding a price
    dated 2027-03-01 changes the fingerprint and becomes the newest price."""
    import re

    shipped = catalog_version(catalog)
    newest = sorted(row.source_date for row in catalog.prices.values())[-1]
    assert re.fullmatch(rf"sha256:[0-9a-f]{{12}} \(newest price {newest}\)", shipped)
    overlay = tmp_path / "later.toml"
    overlay.write_text('schema_version = 1\n\n[[price]]\nhardware = "h100-sxm"\nmode = "on-demand"\n'
                       'usd_per_gpu_hour = 9.0\nprovider = "hand-cloud"\nprovider_kind = "neocloud"\n'
                       'source = "hand made"\nsource_date = "2027-03-01"\n', encoding="utf-8")
    overlaid = catalog_version(planner.load_catalogs([str(overlay)], use_env=False))
    assert overlaid.endswith("(newest price 2027-03-01)") and overlaid.split()[0] != shipped.split()[0]


def test_an_hourly_profile_reads_its_peak_to_average(catalog: Catalog) -> None:
    """12 hours at 1 and 12 at 3: mean 2, peak 3: peak/average 1.50."""
    sc = scenario(workload={"profile": [1.0] * 12 + [3.0] * 12})
    [row] = rows_named(sc, catalog, "a: daily load shape")
    assert row.value == "24 hourly weights, peak/average 1.50"


@pytest.mark.parametrize(("growth", "shown"), [(0.5, "+50% per year"), (-0.1, "-10% per year")])
def test_demand_growth_carries_its_sign(catalog: Catalog, growth: float, shown: str) -> None:
    [row] = rows_named(scenario(horizon={"growth_per_year": growth}), catalog, "demand growth")
    assert row.value == shown and row.source == "scenario"


def test_the_training_mfu_is_the_scenarios_when_given(catalog: Catalog) -> None:
    [given] = rows_named(scenario(training={"mfu": 0.3}), catalog, "one-time work priced on")
    assert given.value == "h100-sxm at MFU 0.3" and given.source == "scenario"
    [default] = rows_named(scenario(), catalog, "one-time work priced on")
    assert default.value == f"h100-sxm at MFU {catalog.defaults.training_mfu:g}"
    assert default.source.startswith("catalog default training_mfu: ")


def test_spot_brings_the_time_slices_row(catalog: Catalog) -> None:
    """No profile and no deadline: time slices apply only because spot is offered."""
    assert len(rows_named(scenario(market={"modes": ["on-demand", "spot"]}), catalog, "time slices")) == 1
    assert rows_named(scenario(), catalog, "time slices") == []


@pytest.mark.parametrize(("scale", "rows"), [(0.5, ["x0.5 on every hardware price"]), (1.0, []),
                                             (2.0, ["x2 on every hardware price"])])
def test_a_price_scale_other_than_one_is_listed(catalog: Catalog, scale: float, rows: list[str]) -> None:
    assert [r.value for r in rows_named(scenario(market={"price_scale": scale}), catalog, "price scale")] == rows


def test_owned_hardware_rows_spares_and_resale(catalog: Catalog) -> None:
    """Failures 0.05 per GPU-year x 73 repair days / 365.25 = 0.9993 % (1.00 %) of an owned fleet held as spares
    (the text said / 365, which the code never divided by); the
    resale row (90 % of book value) only under salvage."""
    market = {"modes": ["buy"], "annual_failure_rate": 0.05, "repair_days": 73.0, "resale_fraction": 0.9}
    salvage = scenario(market=market, horizon={"terminal_value": "salvage"})
    [repair] = rows_named(salvage, catalog, "repair time")
    assert repair.value == "73 days: owned fleets carry failure rate x repair days / 365.25 = 1.00% as spares"
    [resale] = rows_named(salvage, catalog, "resale at the horizon's end")
    assert resale.value == "90% of book value" and resale.source == "scenario"
    annuity = scenario(market=market, horizon={"terminal_value": "annuity"})
    assert rows_named(annuity, catalog, "resale at the horizon's end") == []


def test_reserved_discounts_scenarios_alone_or_the_catalogs_by_provider_kind(catalog: Catalog) -> None:
    """A scenario discount of 50 % is the only reserved-1y row; without one, the catalog's hyperscaler
    (36.6 % shipped) and GPU-cloud (20.0 %) discounts, in that order."""
    given = rows_named(scenario(market={"modes": ["reserved-1y"], "reserved_discount": {"reserved-1y": 0.5}}),
                       catalog, "reserved-1y discount")
    assert [(r.value, r.source) for r in given] == [
        ("50.0% off on-demand (every provider without a reserved-1y row)", "scenario")]
    [default] = rows_named(scenario(market={"modes": ["reserved-1y"]}), catalog, "reserved-1y discount")
    hyper, neo = catalog.defaults.reserved_1y_discount_hyperscaler, catalog.defaults.reserved_1y_discount_neocloud
    assert default.value.startswith(f"{hyper:.1%} off on-demand at hyperscalers, {neo:.1%} at GPU clouds")
    assert (f"{hyper:.1%}", f"{neo:.1%}") == ("36.6%", "20.0%")


def test_the_price_of_an_owned_gpu_is_its_all_in_capex(catalog: Catalog) -> None:
    """card 30,000 + server 30,000 x 0.64 = 19,200 + network 49,200 x 0.19 / 0.81 = 11,540.7: $60,741."""
    d = catalog.defaults
    card = float(catalog.price("h100-sxm", "buy").usd_per_gpu or 0.0)  # type: ignore[union-attr]
    server = card * d.server_overhead_fraction
    network = (card + server) * d.cluster_network_fraction / (1.0 - d.cluster_network_fraction)
    plan = SimpleNamespace(fleet=[entry("buy", "street-msrp")])
    [price] = prices_used(plan, scenario(market={"modes": ["buy"]}), catalog)  # type: ignore[arg-type]
    assert price.price == (f"${card + server + network:,.0f} per GPU all-in (card {card:,.0f} + server "
                           f"{server:,.0f} + network {network:,.0f})")


def test_a_rented_price_is_scaled_and_a_derived_one_dated_by_its_on_demand_row(catalog: Catalog) -> None:
    """lambda's on-demand h100-sxm $2.99 x price_scale 0.5 = $1.495 per GPU-hour.  lambda publishes no
    reserved-1y row: its price is derived from the on-demand row (2.99 x (1 − 0.2) = $2.392) and carries
    that row's date."""
    on_demand = catalog.prices[("h100-sxm", "on-demand", "lambda")]
    assert on_demand.usd_per_gpu_hour == 2.99
    plan = SimpleNamespace(fleet=[entry("on-demand", "lambda")])
    [scaled] = prices_used(plan, scenario(market={"price_scale": 0.5}), catalog)  # type: ignore[arg-type]
    assert scaled.price == "$1.495 per GPU-hour" and scaled.source_date == on_demand.source_date
    reserved = SimpleNamespace(fleet=[entry("reserved-1y", "lambda")])
    [derived] = prices_used(reserved, scenario(market={"modes": ["reserved-1y"]}), catalog)  # type: ignore[arg-type]
    assert derived.derived and derived.price == "$2.392 per GPU-hour"
    assert derived.source_date == on_demand.source_date
