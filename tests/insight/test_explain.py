"""Explanations with hand-checkable answers, reports, and their bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.periods import periods_of
from planner.insight.break_even import breakeven
from planner.insight.explanation import explain, lp_shadow_prices
from planner.optimize.candidates import build_candidates
from planner.report import documents
from tests.conftest import merged_scenario


def scenario(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "explain", "model": {"base": "llama-3.1-70b"},
        "workload": [{"name": "chat", "queries_per_day": 2e6, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80}],
        "horizon": {"months": 3, "period_months": 3},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
        "techniques": {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]},
        "quality": {"max_drop": 20.0},
    }
    return merged_scenario(data, **over)


def test_shadow_price_is_one_replicas_cost_per_its_capacity(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    cs = build_candidates(sc, catalog)
    plan = planner.plan(sc, catalog=catalog)
    [price] = [s for s in lp_shadow_prices(sc, catalog, cs, plan) if s.workload == "chat"]
    v = next(v.index for v in cs.variants if v.name in plan.variant_names)
    t, res = cs.deployments, cs.deployments.result
    rows = (t.variant == v) & t.latency_ok
    per_request = np.min(t.tp[rows] / res.requests_per_s[rows])  # GPUs per request/s of the best column
    gpu_period = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    assert price.usd == pytest.approx(per_request * gpu_period, rel=1e-6)


def test_breakeven_matches_the_paper_answer(catalog) -> None:  # type: ignore[no-untyped-def]
    """Distillation into an 8B student: one-time cost D, per-demand saving V0 − V1 at today's demand;
    linear costs give k* = D / (V0 − V1).  Large demand *at the break-even point* keeps rounding small:
    a 940-billion-token bill puts it near 10 million queries/day, where whole replicas are a small
    share of the fleet (near 1 million/day the 70B's few TP replicas bend the costs by ~15 %)."""
    sc = scenario(techniques={"distillation": ["none", "llama-3.1-8b"], "quantization": ["none"]},
                  technique_settings={"distillation": {"quality_retention": 0.83, "tokens": 9.4e11}},  # test figures
                  workload={"queries_per_day": 2e7})
    with_plan = planner.plan(planner.scenario_from_dict({**json.loads(sc.model_dump_json()), "techniques": {
        **sc.techniques, "distillation": ["llama-3.1-8b"]}}), catalog=catalog)
    without_plan = planner.plan(planner.scenario_from_dict({**json.loads(sc.model_dump_json()), "techniques": {
        **sc.techniques, "distillation": ["none"]}}), catalog=catalog)
    one_time = with_plan.one_time_cost_usd
    saving_per_unit = without_plan.recurring_cost_usd - with_plan.recurring_cost_usd
    paper = one_time / saving_per_unit
    result = breakeven(sc, catalog, "distillation:llama-3.1-8b")
    assert result.breakeven_value is not None
    assert result.breakeven_value == pytest.approx(paper, rel=0.08)
    assert result.pays_at_current == (paper <= 1.0)


def test_breakeven_that_never_pays(catalog) -> None:  # type: ignore[no-untyped-def]
    """Prices scale the one-time work and the serving bill alike, so an option that does not pay
    at today's prices pays at none: the answer must say so instead of inventing a point."""
    sc = scenario(techniques={"distillation": ["none", "llama-3.1-8b"], "quantization": ["none"]},
                  technique_settings={"distillation": {"quality_retention": 0.83, "tokens": 2e13}},
                  workload={"queries_per_day": 1e4})
    result = breakeven(sc, catalog, "distillation:llama-3.1-8b", over="market.price_scale")
    assert not result.pays_at_current and result.breakeven_value is None
    assert "does not pay for itself" in result.message


def test_fp8_pays_at_once(catalog) -> None:  # type: ignore[no-untyped-def]
    result = breakeven(scenario(techniques={"quantization": ["none", "fp8"]}), catalog, "quantization:fp8")
    assert result.pays_at_current  # FP8 halves the GPUs and its calibration costs cents
    # it pays at the search's lowest value: no break-even to state (it once printed that floor's queries
    # as "lifetime queries at break-even")
    assert "the lowest value tried" in result.message
    assert result.breakeven_value is None and result.lifetime_queries_at_breakeven is None


def test_resolves_run_on_a_worker_even_for_one(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``--workers 1`` once solved the re-solves in this process, with its solver threads and proofs
    side by side, so its figures differed from ``--workers 2``'s (four costs, two bounds and three
    decisions in five of the demo's seven sensitivity rows); every re-solve now runs on a spawned
    worker with one solver thread."""
    from planner.insight import resolve

    def in_this_process(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a re-solve ran in the calling process")

    monkeypatch.setattr(resolve, "plan_scenario", in_this_process)  # a spawned worker imports its own
    with resolve.Batch(1) as batch:
        plan = batch.result(batch.submit(scenario(), catalog, "one"))
    assert plan.status == "optimal" and plan.lifetime_cost_usd is not None


def test_explain_parts(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"tpot_ms": 40})
    e = explain(sc, catalog, alternatives=2, sensitivity_delta=0.2)
    assert e.plan.status == "optimal"
    assert e.baseline_cost_usd is not None and e.saving_usd is not None and e.saving_usd >= -1e-6
    assert e.alternatives and all(a.delta_usd is not None and a.delta_usd >= -1e-6 for a in e.alternatives)
    assert all(set(a.variant_names).isdisjoint(e.plan.variant_names) for a in e.alternatives)
    demand = next(r for r in e.sensitivity if r.input.startswith("demand"))
    assert demand.cost_high_usd >= demand.cost_low_usd
    prices = next(r for r in e.sensitivity if r.input == "hardware prices")
    assert prices.cost_high_usd == pytest.approx(prices.cost_low_usd * 1.2 / 0.8, rel=2e-3)
    assert any(b.family == "latency" for b in e.binding) or e.plan.classes[0].worst_tpot_ms < 0.95 * 40


def test_html_report_is_self_contained(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    e = explain(sc, catalog, alternatives=1, sensitivity_delta=0.2)
    page = documents.explanation_document("html", e, sc, catalog)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3
    for external in ('src="http', 'href="http', "url(http", "<script", "<link"):  # nothing fetched from a network
        assert external not in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian package 'chromium')")
def test_html_report_renders_in_headless_chromium(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "report.html"
    sc = scenario()
    e = explain(sc, catalog, alternatives=1, sensitivity_delta=0.2)
    page.write_text(documents.explanation_document("html", e, sc, catalog))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    exe = _chromium()
    assert exe is not None
    dom = subprocess.run([exe, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == 3 and "<path" in dom.stdout and "parsererror" not in dom.stdout
    shot = tmp_path / "report.png"
    run = subprocess.run([exe, *flags, f"--screenshot={shot}", "--window-size=1000,2400", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000


@pytest.mark.parametrize(("args", "words"), [
    (["breakeven", "--option", "quantization:fp9"], "unknown option 'fp9'"),
    (["breakeven", "--option", "quantization"], "TECH:OPTION"),
    (["breakeven", "--option", "quantization:fp8", "--over", "name"], "not a number field"),
    (["breakeven", "--option", "quantization:fp8", "--over", "horizon.nothing"], "not a field"),
    (["breakeven", "--option", "quantization:fp8", "--over", "workload.chat.input_tokens"], "whole-number field"),
])
def test_breakeven_bad_input(whatif, args, words) -> None:  # type: ignore[no-untyped-def]
    r = whatif(*args)
    assert r.code == 2 and words in r.err and "Traceback" not in r.err


def test_report_into_a_missing_directory_writes_nothing(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "missing" / "report.html"
    r = whatif("explain", "--format", "html", "-o", str(target))
    assert r.code == 2 and "does not exist" in r.err
    assert not target.parent.exists()


def test_sensitivity_varies_the_owned_hardware_conventions(catalog) -> None:  # type: ignore[no-untyped-def]
    from planner.insight.explanation import explain_steps, sensitivity

    sc = scenario(horizon={"months": 12, "period_months": 6, "terminal_value": "salvage"},
                  market={"modes": ["on-demand", "buy"], "lead_time_months": {"buy": 0}})
    rows = sensitivity(sc, catalog, 0.2)
    by_input = {r.input: r for r in rows}
    assert {"useful life of owned hardware", "resale fraction at the horizon's end"} <= set(by_input)
    assert explain_steps(sc, catalog, 0, 0.2) == 3 + 2 * len(rows)
    life = by_input["useful life of owned hardware"]
    assert life.status_low == life.status_high == "optimal"
    if "buy" in (life.decision_low + life.decision_high):  # a shorter life costs more when hardware is owned
        assert life.cost_low_usd >= life.cost_high_usd
    annuity = sensitivity(scenario(market={"modes": ["on-demand", "buy"]}), catalog, 0.2)
    assert "resale fraction at the horizon's end" not in {r.input for r in annuity}  # no resale under annuity


def test_explain_is_reproducible_and_every_unproven_figure_has_its_interval(catalog) -> None:  # type: ignore[no-untyped-def]
    """Re-solves stop at a node limit, not a time limit: the same scenario gives the same explanation
    (timings aside), and a re-solve that is not proven optimal carries its proven bound."""
    sc = scenario(horizon={"months": 12, "period_months": 3, "growth_per_year": 0.5},
                  market={"hardware": ["h100-sxm", "l40s"], "modes": ["on-demand", "reserved-1y"]})

    def dumped() -> dict[str, Any]:
        data = json.loads(explain(sc, catalog, alternatives=1, sensitivity_delta=0.2).model_dump_json())
        data["plan"].pop("timings")
        return data

    first = dumped()
    assert first == dumped()
    assert first["resolve_node_limit"] > 0 and first["resolve_gap_rel"] > 0
    for row in first["sensitivity"]:
        for side in ("low", "high"):
            if row[f"status_{side}"] == "feasible":
                assert row[f"bound_{side}_usd"] is not None and row[f"bound_{side}_usd"] <= row[f"cost_{side}_usd"]
            elif row[f"status_{side}"] == "optimal":
                assert row[f"bound_{side}_usd"] is None


def test_aux_resolves_carry_a_node_limit_the_plan_does_not(catalog) -> None:  # type: ignore[no-untyped-def]
    from planner.insight.explanation import AUX_NODE_LIMIT, aux_scenario

    sc = scenario()
    assert sc.solver.node_limit is None
    assert aux_scenario(sc).solver.node_limit == AUX_NODE_LIMIT


def test_aux_resolves_of_disaggregated_plans_stop_at_fewer_nodes_with_a_wider_safety_net(catalog) -> None:  # type: ignore[no-untyped-def]
    """Pair models' nodes cost ~0.1 s: their re-solves get ``AUX_PAIR_NODE_LIMIT`` (reported in the
    explanation) and the longer safety net, so they stop by nodes, the same under any load."""
    from planner.insight import resolve

    sc = resolve.modified(scenario(), ["plan.disaggregation=true"])
    aux = resolve.aux_scenario(sc)
    assert aux.solver.node_limit == resolve.AUX_PAIR_NODE_LIMIT < resolve.AUX_NODE_LIMIT
    assert aux.solver.time_limit_s == resolve.AUX_PAIR_TIME_LIMIT_S > resolve.AUX_TIME_LIMIT_S
    assert resolve.aux_node_limit(sc) == resolve.AUX_PAIR_NODE_LIMIT
    own = resolve.modified(sc, ["solver.node_limit=50"])  # a scenario's own lower limit is kept
    assert resolve.aux_scenario(own).solver.node_limit == 50


@pytest.mark.parametrize(("sets", "pairs"), [
    ([], False), (["plan.max_variants=2"], False),
    (['workload.chat.profile="chat-regional"', "plan.time_slices=4", "plan.max_variants=2"], True),
    (['workload.chat.profile="chat-regional"', "plan.time_slices=4"], False)])
def test_time_sliced_plans_of_two_variants_get_the_pair_models_limits(catalog, sets, pairs) -> None:  # type: ignore[no-untyped-def]
    """Two variants per plan with time slices are screened pair by pair, and a pair model's root takes
    17–29 s on the demo in 4 slices: like disaggregated plans, their re-solves stop at
    ``AUX_PAIR_NODE_LIMIT`` nodes, and the plan is solved before the re-solves start."""
    from planner.insight import explanation, resolve

    sc = resolve.modified(scenario(), sets)
    assert resolve.has_pair_models(sc) is pairs
    assert explanation.plan_alone(sc) is pairs
    assert resolve.aux_scenario(sc).solver.node_limit == (resolve.AUX_PAIR_NODE_LIMIT if pairs
                                                          else resolve.AUX_NODE_LIMIT)


@pytest.mark.parametrize("disaggregation", [False, True])
def test_a_disaggregated_plan_is_solved_before_its_resolves_start(catalog, monkeypatch, disaggregation) -> None:  # type: ignore[no-untyped-def]
    """A disaggregated plan stops at its time limit, so what it finds depends on the CPU it gets: it is
    solved alone, before the re-solves start (``plan_alone``); a co-located plan beside them."""
    from planner.insight import explanation, resolve

    events: list[str] = []
    real_plan, real_submit = explanation.plan_scenario, resolve.Batch.submit

    def plan(*args: Any, **kwargs: Any) -> planner.Plan:
        events.append("plan")
        return real_plan(*args, **kwargs)

    def submit(self: resolve.Batch, *args: Any) -> int:
        events.append("submit")
        return real_submit(self, *args)

    monkeypatch.setattr(explanation, "plan_scenario", plan)
    monkeypatch.setattr(resolve.Batch, "submit", submit)
    sc = resolve.modified(scenario(), [f"plan.disaggregation={str(disaggregation).lower()}"])
    e = explain(sc, catalog, alternatives=0, sensitivity_delta=None)
    assert e.plan.lifetime_cost_usd is not None and "submit" in events
    assert (events[0] == "plan") is disaggregation
    assert explanation.plan_alone(sc) is disaggregation


def test_efficiency_sensitivity_spans_the_held_out_band(catalog) -> None:  # type: ignore[no-untyped-def]
    """The efficiency row of the sensitivity uses the held-out P10..P90 speed error of the rows the
    scenario's hardware uses (1/(1+e90) .. 1/(1+e10)), not a flat ±20 %."""
    from planner.insight.explanation import efficiency_band

    sc = scenario()
    row = catalog.efficiency_for("h100-sxm", "*")
    assert row.error_p10 is not None and row.error_p90 is not None
    low, high, p10, p90 = efficiency_band(sc, catalog)  # type: ignore[misc]
    assert (p10, p90) == (row.error_p10, row.error_p90)
    assert low == pytest.approx(1 / (1 + row.error_p90)) and high == pytest.approx(1 / (1 + row.error_p10))
    e = explain(sc, catalog, alternatives=0, sensitivity_delta=0.2)
    eff = next(r for r in e.sensitivity if r.input.startswith("efficiency factors"))
    assert "held-out" in eff.input and eff.delta == pytest.approx(max(1 - low, high - 1))
    assert eff.cost_low_usd >= eff.cost_high_usd  # slower hardware costs more


def test_explain_exits_3_on_an_infeasible_scenario_as_plan_does(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("explain", "--set", "market.budget_usd=1000", "--no-sensitivity", "--alternatives", "0",
               "--format", "json")
    assert r.code == 3 and '"status": "infeasible"' in r.out


def test_a_power_cap_reached_is_binding_and_quota_prices_reach_the_report(catalog) -> None:  # type: ignore[no-untyped-def]
    """A reached power cap was never listed as binding; a quota binding only after period 0 had its
    shadow price in the JSON alone; the period-0 demand prices let the LP buy what cannot arrive yet."""
    from planner.insight.explanation import binding_constraints, lp_shadow_prices, owned_kw_per_gpu
    from planner.optimize.candidates import build_candidates
    from planner.report.build import _shown_prices

    sc = scenario(market={"hardware": ["h100-sxm"], "modes": ["on-demand", "buy"], "lead_time_months": {"buy": 3}},
                  horizon={"months": 12, "period_months": 3})
    plan = planner.plan(sc, catalog=catalog)
    cs = build_candidates(sc, catalog)
    kw = owned_kw_per_gpu(sc, catalog, cs)
    drawn = max(sum(f.gpus_in_service * kw["h100-sxm"] for f in plan.fleet if f.mode == "buy" and f.period == p)
                for p in range(plan.periods))
    assert drawn > 0
    capped = sc.model_copy(update={"market": sc.market.model_copy(update={"power_cap_kw": drawn})})
    assert any(b.family == "power" for b in binding_constraints(capped, plan, kw))
    assert not any(b.family == "power" for b in binding_constraints(sc, plan, kw))
    # period 0 can only rent (the buy lead time): its capacity is priced as in a rent-only market
    prices = lp_shadow_prices(sc, catalog, cs, plan)
    first = next(p for p in prices if p.period == 0 and p.workload is not None)
    rented = scenario(market={"hardware": ["h100-sxm"], "modes": ["on-demand"]},
                      horizon={"months": 12, "period_months": 3})
    rent_first = next(p for p in lp_shadow_prices(rented, catalog, cs, planner.plan(rented, catalog=catalog))
                      if p.period == 0 and p.workload is not None)
    assert first.usd == pytest.approx(rent_first.usd, rel=1e-9) and first.usd > 0
    quota = [p.model_copy(update={"workload": None, "period": 2, "what": "one more h100-sxm GPU allowed"})
             for p in prices[:1]]
    assert _shown_prices([*prices, *quota])[-1].period == 2  # a later-period cap price is shown


def test_sensitivity_compares_each_end_with_the_plan() -> None:
    """"decision vs the plan" names what an end changes of the plan's decision — not whether the two
    ends differ from each other (both ends may agree on a variant the plan did not pick)."""
    from types import SimpleNamespace

    from planner.insight.sensitivity import change_from

    def plan(variants: list[str], lines: list[tuple[str, str]], cost: float | None = 1.0,
             status: str = "optimal") -> Any:
        return SimpleNamespace(lifetime_cost_usd=cost, status=status, variant_names=variants,
                               fleet=[SimpleNamespace(hardware=h, mode=m) for h, m in lines])

    chosen = plan(["quantization:fp8"], [("h200", "buy"), ("h100-sxm", "reserved-1y")])
    assert change_from(chosen, plan(["quantization:fp8"], [("h100-sxm", "reserved-1y"), ("h200", "buy")])) == "same"
    assert change_from(chosen, plan(["quantization:fp8"], [("h200", "buy")])) == "fleet"
    assert change_from(chosen, plan(["quantization:int8"], [("h200", "buy"), ("h100-sxm", "reserved-1y")])) \
        == "variant"
    assert change_from(chosen, plan([], [], cost=None, status="infeasible")) == "infeasible"


def test_the_saving_is_an_interval_when_the_baseline_is_one() -> None:
    from types import SimpleNamespace

    from planner.report.build import _saving_figure

    plan = SimpleNamespace(lifetime_cost_usd=289_630.0, status="optimal", bound_usd=None)
    proven = SimpleNamespace(plan=plan, baseline_cost_usd=588_883.0, baseline_status="optimal",
                             baseline_bound_usd=None, saving_usd=299_253.0, saving_pct=299_253 / 588_883)
    assert _saving_figure(proven) == "$299,253 (50.8%)"
    stopped = SimpleNamespace(**{**vars(proven), "baseline_status": "feasible", "baseline_bound_usd": 583_009.0})
    assert _saving_figure(stopped).startswith("[$293,379, $299,253] (49.8%–50.8%")
