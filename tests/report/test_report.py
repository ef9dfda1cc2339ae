"""One report model, three renderings: snapshots of one fixed Report, and the build from a real plan."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.report.build import build_report, figure, generation_time
from planner.report.documents import RENDERERS, plan_document, preview_html
from planner.report.layouts import report_html, report_markdown, report_table
from planner.report.model import Report
from tests.conftest import merged_scenario

HERE = Path(__file__).parent
FIXTURE = HERE / "snapshots" / "report.json"
FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
UPDATE = bool(os.environ.get("WHATIF_UPDATE_SNAPSHOTS"))


def scenario(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "report", "model": {"base": "llama-3.1-70b", "training_cost_usd": 4e5},
        "workload": [{"name": "chat", "queries_per_day": 2e6, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80}],
        "horizon": {"months": 12, "period_months": 3, "discount_rate_per_year": 0.08, "growth_per_year": 0.5},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
        "techniques": {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]},
        "quality": {"max_drop": 20.0},
    }
    return merged_scenario(data, **over)


def explanation(plan: planner.Plan) -> SimpleNamespace:
    """An explanation as `explain` returns it, with one time-limited sensitivity figure carrying its
    proven bound (the interval rendering) and one without a bound."""
    cost = plan.lifetime_cost_usd or 0.0
    row = SimpleNamespace
    return SimpleNamespace(
        plan=plan, baseline_variant="baseline on h100-sxm on-demand", baseline_cost_usd=cost * 1.9,
        baseline_status="optimal", baseline_bound_usd=None, resolve_gap_rel=5e-3,
        saving_usd=cost * 0.9, saving_pct=0.9 / 1.9,
        binding=[row(family="latency", subject="chat", detail="TPOT 78.0 ms of 80 ms")],
        shadow_prices=[row(what="one more request/s of peak demand", workload="chat", period=0, usd=364.61,
                           unit="USD (present value) per request/s", method="lp-dual", status="optimal",
                           bound_usd=None)],
        alternatives=[row(variant_names=["quantization:int8"], status="optimal", lifetime_cost_usd=cost * 1.04,
                          bound_usd=None, delta_pct=0.04, quality_change={"chat": -0.3})],
        sensitivity=[row(input="hardware prices", delta=0.2, cost_low_usd=cost * 0.8, cost_high_usd=cost * 1.2,
                         status_low="optimal", status_high="optimal", decision_changes=False,
                         change_low="same", change_high="same", bound_low_usd=None, bound_high_usd=None),
                     row(input="demand (queries/day, every class)", delta=0.2, cost_low_usd=cost * 0.85,
                         cost_high_usd=cost * 1.17, status_low="feasible", status_high="optimal",
                         bound_low_usd=cost * 0.84, bound_high_usd=None, decision_changes=False,
                         change_low="same", change_high="same"),
                     row(input="growth per year", delta=0.2, cost_low_usd=cost * 0.9, cost_high_usd=cost * 1.1,
                         status_low="optimal", status_high="feasible", decision_changes=True,
                         change_low="same", change_high="variant", bound_low_usd=None, bound_high_usd=None)],
        exclusions={"unavailable (2)": ["l40s buy: no purchase price"]})


@pytest.fixture(scope="module")
def report(catalog) -> Report:  # type: ignore[no-untyped-def]
    """The fixed report object: stored as JSON so the snapshots test the renderers alone (a catalog
    or solver change does not move them); WHATIF_UPDATE_SNAPSHOTS=1 rebuilds it from a real plan."""
    if UPDATE:
        sc = scenario()
        plan = planner.plan(sc, catalog=catalog)
        built = build_report(plan, sc, catalog, explanation(plan), generated_at=FIXED_TIME)
        FIXTURE.write_text(built.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return Report.model_validate_json(FIXTURE.read_text(encoding="utf-8"))


def _without_svg(page: str) -> str:
    return re.sub(r"<svg.*?</svg>", "<svg/>", page, flags=re.DOTALL)


@pytest.mark.parametrize(("name", "render"), [("report.txt", report_table), ("report.md", report_markdown),
                                              ("report.html", lambda r: _without_svg(report_html(r)))])
def test_snapshots_of_the_three_renderings(report, name, render) -> None:  # type: ignore[no-untyped-def]
    text = render(report)
    snapshot = HERE / "snapshots" / name
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8"), "set WHATIF_UPDATE_SNAPSHOTS=1 to refresh after a real change"


def _cells(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
                  .replace("&lt;", "<").replace("&gt;", ">").replace("\\|", "|"))


def test_the_three_renderings_show_the_same_facts(report) -> None:  # type: ignore[no-untyped-def]
    """Every figure, status, warning, price date and input the model holds is in every format."""
    assert report.explanation is not None and report.training is not None
    facts = [*report.warnings, report.generated_at, report.tool_version, report.catalog_version,
             *(p.source_date for p in report.prices), *(p.provider for p in report.prices),
             *(a.value for a in report.inputs), *(a.source for a in report.inputs),
             *(f"{c.usd:,.0f}" for c in report.costs), f"{report.lifetime_cost_usd:,.0f}",
             *(s.low for s in report.explanation.sensitivity), *(s.high for s in report.explanation.sensitivity),
             *(s.status_low for s in report.explanation.sensitivity), report.training.note, *report.exclusions,
             *(d.hardware for d in report.deployments), "Training vs inference (present value)"]
    for render in (report_markdown, report_html):
        text = _cells(render(report))
        missing = [f for f in facts if _cells(f) not in text]
        assert not missing, (render.__name__, missing)
    words = set(re.findall(r"[A-Za-z0-9]+", report_table(report)))  # a terminal table folds long cells over lines
    missing = [f for f in facts if not set(re.findall(r"[A-Za-z0-9]+", f)) <= words]
    assert not missing, ("report_table", missing)


def test_a_time_limited_figure_is_an_interval_or_carries_its_status(report) -> None:  # type: ignore[no-untyped-def]
    rows = {s.input: s for s in report.explanation.sensitivity}
    demand = rows["demand (queries/day, every class)"]
    assert re.fullmatch(r"\[\$[\d,]+, \$[\d,]+\] \(feasible\)", demand.low)
    assert rows["growth per year"].high.endswith("(feasible, unproven)")
    assert figure(None, "no_solution", None) == "no plan (no_solution)" and figure(1.0, "optimal", None) == "$1"
    for render in (report_table, report_markdown, report_html):
        assert "status low" in render(report) and "feasible" in render(report)


def test_build_from_a_real_plan(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "llama-3.1-70b", "training_cost_usd": 5e7}, quality={"metric": "no-such-metric"},
                  market={"hardware": ["h100-sxm", "h200"], "modes": ["on-demand", "buy"], "lead_time_months": {"buy": 0}})
    plan = planner.plan(sc, catalog=catalog)
    r = build_report(plan, sc, catalog, generated_at=FIXED_TIME)
    assert r.generated_at == "2026-01-01T00:00:00+00:00"
    assert any("quality is not constrained" in w for w in r.warnings)
    t = r.training
    assert t is not None and t.basis == "present value" and t.training_usd == 5e7
    assert t.cumulative_serving_usd[-1] == pytest.approx(plan.recurring_cost_usd, rel=1e-9)  # the headline's basis
    assert t.crossover_extrapolated and t.crossover_month is not None and t.crossover_month > 12
    assert "extrapolated" in t.note and "past the 12-month horizon" in t.note
    used = {(f.hardware, f.mode) for f in plan.fleet}
    assert {(p.hardware, p.mode) for p in r.prices} == used
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", p.source_date) and p.provider for p in r.prices)
    sources = {a.name: a.source for a in r.inputs}
    assert sources["discount rate"] == "scenario" and sources["terminal value convention"].startswith("default")
    if any(m == "buy" for _, m in used):
        assert sources["PUE"].startswith("catalog default pue:") and "capex scope" in sources
    assert r.catalog_version.startswith("sha256:") and r.tool_version


def test_crossover_inside_the_horizon_is_marked(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "llama-3.1-70b", "training_cost_usd": 1e4})
    r = build_report(planner.plan(sc, catalog=catalog), sc, catalog, generated_at=FIXED_TIME)
    t = r.training
    assert t is not None and not t.crossover_extrapolated and t.crossover_month is not None and t.crossover_month < 12
    md = report_markdown(r)
    assert f"| crossover | {t.crossover_month:.1f} |" in md and "serving = training" in md


def test_salvage_resale_is_settled_at_the_horizons_end_not_in_the_last_period(catalog) -> None:  # type: ignore[no-untyped-def]
    """A buy-only plan under ``salvage``: the resale credit (about a third of the cost) once made the
    last period's spend negative, and the report said serving never overtakes training. It now
    extrapolates from the spend inside the horizon and shows the credit as its own row."""
    sc = scenario(model={"base": "llama-3.1-8b", "training_cost_usd": 2e6},
                  horizon={"months": 12, "period_months": 3, "growth_per_year": 0.0, "discount_rate_per_year": 0.08,
                           "terminal_value": "salvage"},
                  market={"hardware": ["h100-sxm"], "modes": ["buy"], "lead_time_months": {"buy": 0}})
    plan = planner.plan(sc, catalog=catalog)
    t = build_report(plan, sc, catalog, generated_at=FIXED_TIME).training
    assert t is not None and plan.horizon_end_settlement_usd < 0 and t.settlement_usd == plan.horizon_end_settlement_usd
    assert t.crossover_extrapolated and t.crossover_month is not None and t.crossover_month > 12
    last = plan.discounted_spend_by_period_usd[-1]
    assert t.crossover_month == pytest.approx(12 + (2e6 - t.cumulative_serving_usd[-1]) / (last / 3))
    assert "credits $" in t.note
    assert "| horizon end | 12 |" in report_markdown(build_report(plan, sc, catalog, generated_at=FIXED_TIME))


def test_generation_time_follows_source_date_epoch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert generation_time() == "2026-01-01T00:00:00+00:00"
    assert generation_time(dt.datetime(2025, 5, 1, 12, tzinfo=dt.UTC)) == "2025-05-01T12:00:00+00:00"


def test_the_cumulative_chart_is_labelled_present_value(report) -> None:  # type: ignore[no-untyped-def]
    from planner.report.report_charts import cumulative_chart

    svg = cumulative_chart(report.training)
    assert "present value" in svg and "crossover" in svg


def test_cli_formats_render_one_report(whatif, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    outs = {}
    for fmt in RENDERERS:
        r = whatif("plan", "--format", fmt, "--set", "horizon.months=12")
        assert r.code == 0, r.err
        outs[fmt] = r.out
    assert outs["html"].startswith("<!DOCTYPE html>") and outs["markdown"].startswith("## ")
    for text in outs.values():
        assert "2026-01-01T00:00:00+00:00" in text and "Prices used" in text and "Inputs and assumptions" in text


def test_estimator_view_html_is_html(whatif, catalog) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view", "--format", "html")
    assert r.code == 0, r.err
    assert r.out.startswith("<!DOCTYPE html>") and "<table>" in r.out and "## " not in r.out
    view = planner.preview(planner.load_scenario(planner.demo_scenario_path()), catalog=catalog)
    assert preview_html(view) == r.out


def test_plan_document_is_the_report_rendered(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    plan = planner.plan(sc, catalog=catalog)
    assert plan_document("markdown", plan, sc, catalog, generated_at=FIXED_TIME) == report_markdown(
        build_report(plan, sc, catalog, generated_at=FIXED_TIME))


@pytest.mark.parametrize(("shares", "shown"), [
    ([0.0023], "<1%"),  # a replica filling a period's last 0.23 %: paid for, so never "0%"
    ([0.0023, 0.11], "<1-11%"),
    ([0.0], "0%"),
    ([0.42, 1.0], "42-100%"),
    ([0.094, 0.106], "9-11%"),
])
def test_a_share_that_carries_traffic_never_prints_as_zero(shares, shown) -> None:  # type: ignore[no-untyped-def]
    from planner.report.build import _share_span

    assert _share_span(shares) == shown


@pytest.mark.parametrize(("loads", "shown"), [
    ([0.955, 1.0], "96-100%"),
    ([0.9, None, 0.95], "90-95%"),  # a period without a modelled load is left out of the range
    ([None], "-"),
    ([0.5], "50%"),
])
def test_a_runs_load_is_its_range_in_whole_percent(loads, shown) -> None:  # type: ignore[no-untyped-def]
    from planner.report.build import _load_span

    assert _load_span(loads) == shown
