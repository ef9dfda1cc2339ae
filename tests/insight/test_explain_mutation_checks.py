"""Explain, break-even and the re-solve helpers around their solves, with the solves stubbed: latency
binding lines and every binding line's printed detail, the GPUs a quota counts, the owned kW, the
alternatives (order, deltas, quality change, summary, what each re-solve excludes), the step count,
the explanation's saving/baseline/exclusions figures, and break-even's bracketing, bisection,
findings text and verdicts.  Hand-made plans throughout; the only real solve is one 1-period plan
(llama-3.1-70b on H100, 0.2 s) whose shape the stubs copy."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Self

import pytest

import planner
from planner.economics.periods import periods_of
from planner.errors import InputError
from planner.insight import break_even, explanation
from planner.insight.break_even import (
    MAX_FACTOR,
    MIN_FACTOR,
    RELATIVE_TOLERANCE,
    BreakEvenPoint,
    _numeric_at,
    breakeven,
    findings_text,
)
from planner.insight.explanation import (
    AUX_NODE_LIMIT,
    ShadowPrice,
    _alternatives,
    binding_constraints,
    explain,
    explain_steps,
    gpus_in_service_at_peak,
    lp_shadow_prices,
    owned_kw_per_gpu,
    reached_by,
)
from planner.insight.resolve import AUX_GAP_REL, AUX_PAIR_NODE_LIMIT
from planner.optimize.candidates import build_candidates
from planner.plan_model import Infeasibility
from tests.insight.test_explain import (
    scenario,  # llama-3.1-70b, one class "chat", h100-sxm on-demand, 3 months
)
from tests.insight.test_explain_figures import fake_plan, gpus_per_rps, line, with_market

# --- binding constraints: the printed lines ---------------------------------------------------------

def cls(name: str = "chat", ttft: float = 100.0, tpot: float = 10.0) -> Any:
    return SimpleNamespace(workload=name, worst_ttft_ms=ttft, ttft_target_ms=2000.0, worst_tpot_ms=tpot,
                           tpot_target_ms=80.0, quality_score=None, quality_floor=None)


def hand_plan(classes: list[Any] | None = None, fleet: list[Any] | None = None, cost: float | None = 100.0,
              periods: int = 1) -> Any:
    return fake_plan(classes, fleet, cost, periods)


def test_a_binding_latency_names_the_deployment_that_reaches_it() -> None:
    """The worst TPOT (57.2 ms) is a side deployment's carrying 0.4 % of the class in month 15 (period 5
    of 3-month periods): the line names it, so it does not read as the main deployment's; of two lines
    at the same worst figure the one carrying more traffic is named; a share of 0.5 % or more is printed
    whole (0.6 %: 1 %); an EP replica prints TP×EP; a time slice is said; a class with no line names nothing."""
    def served(period: int, hardware: str, tp: int, batch: int, share: float, tpot: float, ep: int | None = None,
               slice: int | None = None) -> Any:
        return SimpleNamespace(workload="chat", period=period, hardware=hardware, tp=tp, batch=batch,
                               traffic_share=share, tpot_ms=tpot, ttft_ms=100.0, expert_parallel=ep, slice=slice)

    plan = SimpleNamespace(period_months=3, serving=[
        served(0, "h200", 2, 256, 0.996, 47.4), served(5, "a100-80gb", 1, 8, 0.004, 57.2),
        served(6, "h100-sxm", 8, 32, 0.3, 57.2, ep=4), served(7, "l4", 1, 4, 0.2, 57.2, slice=1)])
    assert reached_by(plan, "chat", "tpot_ms") == " (h100-sxm TP2×EP4 b32 in month 18, 30% of its traffic)"
    plan.serving = plan.serving[:2]
    assert reached_by(plan, "chat", "tpot_ms") == " (a100-80gb TP1 b8 in month 15, <1% of its traffic)"
    plan.serving[1].traffic_share = 0.006
    assert reached_by(plan, "chat", "tpot_ms") == " (a100-80gb TP1 b8 in month 15, 1% of its traffic)"
    plan.serving = [served(7, "l4", 1, 4, 0.2, 57.2, slice=1)]
    assert reached_by(plan, "chat", "tpot_ms") == " (l4 TP1 b4 in month 21, 20% of its traffic in its slice)"
    assert reached_by(plan, "batch", "tpot_ms") == ""


def test_latency_binds_from_95_percent_of_each_target_and_prints_both_figures() -> None:
    """TTFT target 2000 ms, TPOT 80 ms, BINDING_SLACK 5 %: binding from 0.95 × 2000 = 1900 ms and
    0.95 × 80 = 76 ms (each against its own target); TTFT printed to the ms, TPOT to 0.1 ms."""
    sc = scenario()
    at = [cls("ttft", ttft=(1 - 0.05) * 2000.0), cls("tpot", tpot=(1 - 0.05) * 80.0),
          cls("both", ttft=2100.0, tpot=79.94), cls("below", ttft=1899.0, tpot=75.9)]
    lines = [(b.family, b.subject, b.detail) for b in binding_constraints(sc, hand_plan(at), {})]
    assert lines == [("latency", "ttft", "TTFT 1,900 ms of 2000 ms"),
                     ("latency", "tpot", "TPOT 76.0 ms of 80 ms"),
                     ("latency", "both", "TTFT 2,100 ms of 2000 ms"),
                     ("latency", "both", "TPOT 79.9 ms of 80 ms")]


def test_the_quality_power_and_budget_lines_print_their_figures() -> None:
    """Quality: "quality <score> at its floor <floor>" (2 decimals); power: kW drawn to 0.1 kW of the
    cap; budget: whole dollars with thousands separators.  96 owned GPUs × 1 kW = 96.0 kW of 100 kW;
    cost 950.4 of budget 1000 (≥ 950)."""
    sc = with_market(scenario(), power_cap_kw=100.0, budget_usd=1000.0)
    q = SimpleNamespace(workload="chat", worst_ttft_ms=1.0, ttft_target_ms=2000.0, worst_tpot_ms=1.0,
                        tpot_target_ms=80.0, quality_score=70.04, quality_floor=70.0)
    plan = hand_plan([q], [line("h100-sxm", "buy", 0, 96), line("h100-sxm", "on-demand", 0, 40)], cost=950.4)
    details = {b.family: b.detail for b in binding_constraints(sc, plan, {"h100-sxm": 1.0})}
    assert details == {"quality": "quality 70.04 at its floor 70.00", "power": "96.0 kW of 100 kW",
                       "budget": "$950 of $1,000"}


def test_the_power_drawn_is_the_busiest_periods_not_the_sum() -> None:
    """Owned kW per period: period 0 = 50 × 1 + 10 × 2 = 70 kW, period 1 = 60 kW: drawn 70 kW (the
    busiest period), which is below 95 % of a 100 kW cap — summing the periods (130) would bind."""
    sc = with_market(scenario(), power_cap_kw=100.0)
    fleet = [line("h100-sxm", "buy", 0, 50), line("h200", "buy", 0, 10), line("h100-sxm", "buy", 1, 60)]
    assert not binding_constraints(sc, hand_plan(fleet=fleet, periods=2), {"h100-sxm": 1.0, "h200": 2.0})
    capped = with_market(scenario(), power_cap_kw=72.0)  # 70 ≥ 0.95 × 72 = 68.4
    [b] = binding_constraints(capped, hand_plan(fleet=fleet, periods=2), {"h100-sxm": 1.0, "h200": 2.0})
    assert b.detail == "70.0 kW of 72 kW"


def test_gpus_in_service_at_peak_by_hand() -> None:
    """Period 0: 4 all day + the busier slice (slice 1: 5) = 9; period 1: 6 all day, no slices = 6;
    other hardware ignored: the peak is 9 (not 4 + 3 + 5 = 12, nor 9 + 6 = 15)."""
    fleet = [line("h100-sxm", "reserved-1y", 0, 4), line("h100-sxm", "on-demand", 0, 3, slice=0),
             line("h100-sxm", "on-demand", 0, 5, slice=1), line("h100-sxm", "reserved-1y", 1, 6),
             line("h200", "on-demand", 0, 100)]
    assert gpus_in_service_at_peak(hand_plan(fleet=fleet, periods=2), "h100-sxm") == 9
    assert gpus_in_service_at_peak(hand_plan(fleet=fleet, periods=2), "l40s") == 0


def test_only_owned_offers_draw_against_the_power_cap(catalog) -> None:  # type: ignore[no-untyped-def]
    """A rent-only market has no owned GPU to draw kW; with buy, the bought H100's kW is the only entry."""
    rent = scenario()
    assert owned_kw_per_gpu(rent, catalog, build_candidates(rent, catalog)) == {}
    own = scenario(market={"modes": ["on-demand", "buy"]})
    kw = owned_kw_per_gpu(own, catalog, build_candidates(own, catalog))
    assert set(kw) == {"h100-sxm"} and kw["h100-sxm"] > 0


def test_the_quota_line_prints_used_of_quota() -> None:
    """11 GPUs in service against a quota of 10: "11 of 10 GPUs in service" (used first)."""
    sc = with_market(scenario(), quota_gpus={"h100-sxm": 10})
    [b] = binding_constraints(sc, hand_plan(fleet=[line("h100-sxm", "on-demand", 0, 11)]), {})
    assert (b.family, b.subject, b.detail) == ("quota", "h100-sxm", "11 of 10 GPUs in service")


# --- stubbed plans of the real shape ------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_plan() -> planner.Plan:
    """The one real solve: scenario() picks quantization:fp8 on 5 on-demand H100s in its one period."""
    plan = planner.plan(scenario(), catalog=planner.load_catalogs(use_env=False))
    assert plan.status == "optimal" and plan.periods == 1
    return plan


def shaped(plan: planner.Plan, cost: float | None, variants: list[str], status: str = "optimal",
           gap: float | None = None, quality: float | None = None) -> planner.Plan:
    assert plan.solver is not None
    classes = [c.model_copy(update={"quality_score": quality}) for c in plan.classes] if quality else plan.classes
    return plan.model_copy(update={"lifetime_cost_usd": cost, "variant_names": variants, "status": status,
                                   "solver": plan.solver.model_copy(update={"gap": gap}), "classes": classes})


# --- resolve: the auxiliary settings ------------------------------------------------------------------

def test_a_scenario_already_at_the_auxiliary_settings_is_returned_as_it_is() -> None:
    """Gap 0.5 %, 300 s and 2,000 nodes (the documented auxiliary settings) are neither tighter nor
    looser: nothing to change, the scenario itself comes back (no re-validated copy)."""
    from planner.insight.resolve import AUX_TIME_LIMIT_S, aux_scenario

    assert (AUX_GAP_REL, AUX_TIME_LIMIT_S, AUX_NODE_LIMIT) == (0.005, 300.0, 2000)
    sc = scenario(solver={"gap_rel": 0.005, "time_limit_s": 300.0, "node_limit": 2000})
    assert aux_scenario(sc) is sc


# --- alternatives --------------------------------------------------------------------------------------

def test_alternatives_in_solve_order_with_deltas_quality_and_what_each_excludes(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The plan costs 1000 at quality 80.00.  Re-solve 1 (fp8 excluded): the baseline at 1250 and
    quality 80.25: +250 = +25.0 %, "chat quality +0.25".  Re-solve 2 (fp8 and the baseline excluded):
    int8 at 1100, stopped at gap 10 %: +100 = +10.0 %, bound 1100 × 0.9 = 990, the same quality.
    Re-solve 3 (fp8, baseline and int8 excluded): no plan, the list stops (a fourth is never asked for).  Each re-solve runs on the auxiliary settings with the plan's candidates and memo."""
    plan = shaped(real_plan, 1000.0, ["quantization:fp8"], quality=80.0)
    answers = [shaped(real_plan, 1250.0, ["baseline"], quality=80.25),
               shaped(real_plan, 1100.0, ["quantization:int8"], status="feasible", gap=0.1, quality=80.0),
               shaped(real_plan, None, [], status="infeasible"),
               shaped(real_plan, 1.0, ["kv_quantization:fp8"], quality=80.0)]
    calls: list[tuple[Any, Any, Any, Any]] = []

    def plan_scenario(sc: planner.Scenario, catalog: Any, *, candidates: Any, exclude_variants: Any,
                      memo: Any) -> planner.Plan:
        calls.append((sc, candidates, exclude_variants, memo))
        return answers[len(calls) - 1]

    monkeypatch.setattr(explanation, "plan_scenario", plan_scenario)
    steps: list[str] = []
    cs, memo = object(), object()
    found = _alternatives(scenario(), None, cs, plan, 4, steps.append, memo)  # type: ignore[arg-type]
    assert [c[2] for c in calls] == [frozenset({"quantization:fp8"}), frozenset({"quantization:fp8", "baseline"}),
                                     frozenset({"quantization:fp8", "baseline", "quantization:int8"})]
    assert all(c[1] is cs and c[3] is memo for c in calls) and steps == ["alternative"] * 3
    assert all((c[0].solver.gap_rel, c[0].solver.node_limit) == (AUX_GAP_REL, AUX_NODE_LIMIT) for c in calls)
    second, first = found  # listed cheapest first: the second re-solve's 1100 before the first's 1250
    assert (first.variant_names, first.status, first.lifetime_cost_usd, first.bound_usd) == (
        ["baseline"], "optimal", 1250.0, None)
    assert first.delta_usd == pytest.approx(250.0) and first.delta_pct == pytest.approx(0.25)
    assert first.quality_change == {"chat": pytest.approx(0.25)}
    assert first.summary == "baseline: +25.0%, chat quality +0.25"
    assert (second.status, second.lifetime_cost_usd, second.bound_usd) == ("feasible", 1100.0, pytest.approx(990.0))
    assert second.delta_usd == pytest.approx(100.0) and second.delta_pct == pytest.approx(0.10)
    assert second.summary == "quantization:int8: +10.0%, same quality"


def test_a_cheaper_alternative_of_two_variants_reads_negative_with_a_lower_quality(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A re-solve (stopped above its bound) cheaper than the plan: 800 against 1000 = −20.0 %, its
    variants joined by "; ", quality 79.50 against the plan's 80.00: "chat quality -0.50"."""
    plan = shaped(real_plan, 1000.0, ["quantization:fp8"], quality=80.0)
    alt = shaped(real_plan, 800.0, ["quantization:int8", "kv_quantization:fp8"], "feasible", 0.2, quality=79.5)
    monkeypatch.setattr(explanation, "plan_scenario", lambda *a, **k: alt)
    [found] = _alternatives(scenario(), None, None, plan, 1)  # type: ignore[arg-type]
    assert found.delta_usd == pytest.approx(-200.0) and found.delta_pct == pytest.approx(-0.2)
    assert found.quality_change == {"chat": pytest.approx(-0.5)}
    assert found.summary == "quantization:int8; kv_quantization:fp8: -20.0%, chat quality -0.50"


# --- explain, every solve stubbed ----------------------------------------------------------------------

class FakeBatch:
    """Batch's interface: submitted jobs recorded; results by label from ``answers``."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers, self.jobs = answers, []  # type: ignore[var-annotated]

    def __call__(self, workers: int, progress: Any) -> FakeBatch:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, sc: planner.Scenario, catalog: Any, label: str) -> int:
        self.jobs.append((sc, label))
        return len(self.jobs) - 1

    def result(self, index: int) -> Any:
        return self.answers[self.jobs[index][1]]


def stub_explain(monkeypatch: pytest.MonkeyPatch, plan: Any, base: Any, relaxed: Any = None, alts: list[Any] = (),  # type: ignore[assignment]
                 base_score: float | None = None, exclusions: list[tuple[str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """``explain`` with the candidates, the pricing LP, every solve and the batch replaced."""
    state: dict[str, Any] = {"solved": [], "batch": FakeBatch({"baseline": base})}
    cs = SimpleNamespace(base_score=base_score,
                         exclusions=[SimpleNamespace(family=f, subject=s, reason="why") for f, s in exclusions],
                         variants=[], workloads=["chat"])
    marker = ShadowPrice(what="lp", workload="chat", period=0, usd=1.0, unit="u", method="lp-dual")
    left = list(alts)

    def plan_scenario(sc: planner.Scenario, catalog: Any, **kw: Any) -> Any:
        state["solved"].append((sc, kw))
        if "exclude_variants" in kw:
            return left.pop(0) if left else shaped(plan, None, [], "infeasible")
        return relaxed if sc.quality.max_drop != scenario().quality.max_drop else plan

    monkeypatch.setattr(explanation, "build_candidates", lambda sc, cat: cs)
    monkeypatch.setattr(explanation, "plan_scenario", plan_scenario)
    monkeypatch.setattr(explanation, "Batch", state["batch"])
    monkeypatch.setattr(explanation, "lp_shadow_prices", lambda *a: [marker])
    monkeypatch.setattr(explanation, "owned_kw_per_gpu", lambda *a: {})
    monkeypatch.setattr(explanation, "submit_service_levels", lambda *a: [])
    return state


def test_the_saving_baseline_and_exclusions_of_an_explanation(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Plan 1000 (fp8); baseline 1600 stopped at gap 5 %: saving 1600 − 1000 = 600, 600 / 1600 = 37.5 %
    of the baseline; baseline interval [1600 × 0.95 = 1520, 1600]; the baseline named by its own
    decision.  Exclusions: up to three examples per family, headed by the family's full count.  The
    baseline is queued on the auxiliary settings with every technique off."""
    plan = shaped(real_plan, 1000.0, ["quantization:fp8"])
    base = shaped(real_plan, 1600.0, [], "feasible", 0.05)
    excl = [("memory", f"m{i}") for i in range(5)] + [("unavailable", "spec")]
    state = stub_explain(monkeypatch, plan, base, exclusions=excl)
    e = explain(scenario(), None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert e.saving_usd == pytest.approx(600.0) and e.saving_pct == pytest.approx(0.375)
    assert (e.baseline_cost_usd, e.baseline_status) == (1600.0, "feasible")
    assert e.baseline_bound_usd == pytest.approx(1520.0)
    assert e.baseline_variant == "baseline on h100-sxm on-demand"
    assert e.exclusions == {"memory (5)": ["m0: why", "m1: why", "m2: why"], "unavailable (1)": ["spec: why"]}
    assert e.resolve_node_limit == AUX_NODE_LIMIT and e.alternatives == []
    assert [p.what for p in e.shadow_prices] == ["lp"]  # no quality re-solve without a base score
    [(queued, label)] = state["batch"].jobs
    assert label == "baseline" and all(v == ["none"] for v in queued.techniques.values())
    assert queued.techniques["quantization"] == ["none"]  # the scenario's own ["none", "fp8"] turned off
    assert (queued.solver.gap_rel, queued.solver.node_limit) == (AUX_GAP_REL, AUX_NODE_LIMIT)


def test_a_dearer_plan_than_the_baseline_shows_a_negative_saving(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Plan 1200 against a proven baseline 1000: saving −200, −20 % of the baseline; no interval."""
    stub_explain(monkeypatch, shaped(real_plan, 1200.0, ["quantization:fp8"]), shaped(real_plan, 1000.0, []))
    e = explain(scenario(), None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert e.saving_usd == pytest.approx(-200.0) and e.saving_pct == pytest.approx(-0.2)
    assert e.baseline_bound_usd is None


def test_the_quality_point_resolve_runs_on_aux_settings_and_its_price_follows_the_lp_duals(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With a base score the looser-floor re-solve runs (after the alternatives), on the auxiliary
    settings, floors one point lower: plan 1000, re-solve 940 optimal → saves 60, no interval.
    A re-solve without a plan adds no price."""
    plan = shaped(real_plan, 1000.0, ["quantization:fp8"])
    state = stub_explain(monkeypatch, plan, shaped(real_plan, 1600.0, []), relaxed=shaped(real_plan, 940.0, []),
                         alts=[shaped(real_plan, 1100.0, [])], base_score=83.6)
    e = explain(scenario(), None, alternatives=1, sensitivity_delta=None)  # type: ignore[arg-type]
    assert [p.what for p in e.shadow_prices] == ["lp", "one quality point lower floor (every class)"]
    price = e.shadow_prices[1]
    assert price.usd == pytest.approx(60.0) and price.bound_usd is None and price.period is None
    assert [a.lifetime_cost_usd for a in e.alternatives] == [1100.0]
    relaxed_sc, kw = state["solved"][-1]
    assert relaxed_sc.quality.max_drop == scenario().quality.max_drop + 1 and "exclude_variants" not in kw
    assert (relaxed_sc.solver.gap_rel, relaxed_sc.solver.node_limit) == (AUX_GAP_REL, AUX_NODE_LIMIT)
    stub_explain(monkeypatch, plan, shaped(real_plan, 1600.0, []), relaxed=shaped(real_plan, None, [], "infeasible"),
                 base_score=83.6)
    e = explain(scenario(), None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert [p.what for p in e.shadow_prices] == ["lp"]
    # a re-solve stopped at gap 100 % (its proven bound 940 × (1 − 1) = 0): the saving may be the whole
    # plan, up to 1000 − 0 = 1000 (a bound of 0 read as "no bound" until the sixteenth session)
    stub_explain(monkeypatch, plan, shaped(real_plan, 1600.0, []), relaxed=shaped(real_plan, 940.0, [], "feasible", 1.0),
                 base_score=83.6)
    e = explain(scenario(), None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert e.shadow_prices[1].usd == pytest.approx(60.0) and e.shadow_prices[1].bound_usd == pytest.approx(1000.0)


def test_an_infeasible_plan_is_explained_by_its_baseline_alone(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No plan: no saving, no prices, no alternatives; the baseline's figures (cost, status, interval
    1500 × 0.9 = 1350, decision) still shown."""
    plan = shaped(real_plan, None, [], "infeasible")
    state = stub_explain(monkeypatch, plan, shaped(real_plan, 1500.0, [], "feasible", 0.1), base_score=83.6)
    e = explain(scenario(), None, alternatives=3, sensitivity_delta=None)  # type: ignore[arg-type]
    assert (e.saving_usd, e.saving_pct, e.shadow_prices, e.alternatives, e.binding) == (None, None, [], [], [])
    assert (e.baseline_cost_usd, e.baseline_status, e.baseline_variant) == (1500.0, "feasible",
                                                                            "baseline on h100-sxm on-demand")
    assert e.baseline_bound_usd == pytest.approx(1350.0)
    assert len(state["solved"]) == 1  # the plan only: no alternative or quality re-solve


def test_three_alternatives_by_default_and_the_owned_kw_reach_the_binding_lines(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Five alternatives available, none asked for: ALTERNATIVES = 3 are listed.  The plan's 5 GPUs
    bought, at 1 kW each by ``owned_kw_per_gpu`` (stubbed), draw 5.0 kW of a 5 kW cap: binding."""
    assert real_plan.fleet and all(f.gpus_in_service == 5 for f in real_plan.fleet)
    plan = shaped(real_plan, 1000.0, ["quantization:fp8"]).model_copy(
        update={"fleet": [f.model_copy(update={"mode": "buy"}) for f in real_plan.fleet]})
    alts = [shaped(real_plan, 1000.0 + i, [f"v{i}"]) for i in range(5)]
    stub_explain(monkeypatch, plan, shaped(real_plan, 1600.0, ["baseline"]), alts=alts)
    seen: list[Any] = []

    def owned_kw(sc: planner.Scenario, cat: Any, cs: Any) -> dict[str, float]:
        seen.append(cs)
        return {"h100-sxm": 1.0}

    monkeypatch.setattr(explanation, "owned_kw_per_gpu", owned_kw)
    e = explain(scenario(market={"power_cap_kw": 5.0}), None, sensitivity_delta=None)  # type: ignore[arg-type]
    assert [a.variant_names for a in e.alternatives] == [["v0"], ["v1"], ["v2"]]
    assert [(b.family, b.detail) for b in e.binding if b.family == "power"] == [("power", "5.0 kW of 5 kW")]
    assert len(seen) == 1


def test_a_pair_model_explanation_reports_the_pair_node_limit(real_plan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stub_explain(monkeypatch, shaped(real_plan, 1000.0, ["quantization:fp8"]), shaped(real_plan, 1600.0, []))
    sc = scenario(plan={"disaggregation": True})
    e = explain(sc, None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert e.resolve_node_limit == AUX_PAIR_NODE_LIMIT


# --- the pricing LP ---------------------------------------------------------------------------------------

def test_a_quota_with_room_to_spare_has_no_price(catalog) -> None:  # type: ignore[no-untyped-def]
    """A quota of 1000 H100s against a plan of 5: its row is slack, its dual 0, so no "one more GPU"
    line — only the demand price, with the plain label (no time slices)."""
    sc = scenario(market={"quota_gpus": {"h100-sxm": 1000}})
    cs = build_candidates(sc, catalog)
    prices = lp_shadow_prices(sc, catalog, cs, SimpleNamespace(variant_names=["quantization:fp8"]))  # type: ignore[arg-type]
    assert [(p.what, p.workload, p.period) for p in prices] == [("one more request/s of peak demand", "chat", 0)]
    assert prices[0].usd > 0


def test_the_demand_price_is_the_chosen_variants_not_the_cheapest(catalog) -> None:  # type: ignore[no-untyped-def]
    """A plan on the baseline variant is priced with the baseline's columns only: GPUs per request/s of
    its best H100 column × $2.99/GPU-hour × 2191.5 h (3 months) — dearer than fp8's, which the LP
    would pick were every variant's columns in it."""
    sc = scenario()
    cs = build_candidates(sc, catalog)
    chosen = SimpleNamespace(variant_names=["baseline"])
    [price] = lp_shadow_prices(sc, catalog, cs, chosen)  # type: ignore[arg-type]
    index = {v.name: v.index for v in cs.variants}
    gpu_period = 2.99 * 2191.5
    assert catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour == 2.99
    assert price.usd == pytest.approx(gpus_per_rps(cs, index["baseline"], "h100-sxm") * gpu_period, rel=1e-6)
    assert gpus_per_rps(cs, index["quantization:fp8"], "h100-sxm") < 0.9 * gpus_per_rps(cs, index["baseline"], "h100-sxm")


def test_an_owned_gpu_serves_only_its_share_net_of_spares(catalog) -> None:  # type: ignore[no-untyped-def]
    """Buy only, no lead time, one period: one request/s needs g GPUs in service, i.e. g / s GPUs bought
    (s = the offer's supply factor, < 1 for the spares), each at the offer's period cost k:
    price = g × k / s (whole spares: under the default ``"expected"`` s = 1)."""
    from planner.economics.offers import mode_offers

    sc = scenario(market={"modes": ["buy"], "lead_time_months": {"buy": 0}, "spares": "whole"})
    cs = build_candidates(sc, catalog)
    [offer], _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    assert offer.mode == "buy" and 0.99 < offer.supply_factor < 1.0
    [price] = lp_shadow_prices(sc, catalog, cs, SimpleNamespace(variant_names=["quantization:fp8"]))  # type: ignore[arg-type]
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    expected = gpus_per_rps(cs, v, "h100-sxm") * offer.cost_usd[0] / offer.supply_factor
    assert price.usd == pytest.approx(expected, rel=1e-7)


def test_a_pricing_lp_that_is_not_optimal_gives_no_prices(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from planner.optimize import solver

    sc = scenario()
    cs = build_candidates(sc, catalog)
    monkeypatch.setattr(solver, "run", lambda *a, **k: SimpleNamespace(status=solver.SolveStatus.ERROR))
    assert lp_shadow_prices(sc, catalog, cs, SimpleNamespace(variant_names=["quantization:fp8"])) == []  # type: ignore[arg-type]


# --- explain_steps ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("over", "alternatives", "delta", "steps"), [
    # baseline + plan + quality re-solve = 3, + alternatives, + 2 ends × (4 inputs: prices, demand,
    # efficiency, electricity; + life, failure rate and resale when buying, resale only under salvage;
    # + spot preemption when renting spot; + growth when growing; + one per class with repeats)
    ({}, 3, 0.2, 3 + 3 + 2 * 4),
    ({}, 2, None, 3 + 2),
    ({"market": {"modes": ["on-demand", "buy"]}}, 0, 0.2, 3 + 2 * 6),
    ({"market": {"modes": ["on-demand", "buy"]}, "horizon": {"months": 12, "period_months": 6,
                                                            "terminal_value": "salvage"}}, 0, 0.2, 3 + 2 * 7),
    ({"market": {"modes": ["on-demand", "spot"]}}, 0, 0.2, 3 + 1 + 2 * 5),  # + the spot service level
    ({"horizon": {"months": 12, "period_months": 6, "terminal_value": "salvage"}}, 0, 0.2, 3 + 2 * 4),
    ({"horizon": {"months": 12, "period_months": 6, "growth_per_year": 0.5}}, 1, 0.2, 3 + 1 + 2 * 5),
    ({"workload": {"repeat_rate": 0.3}}, 0, 0.2, 3 + 2 * 5),
])
def test_explain_steps_by_hand(catalog, over, alternatives, delta, steps) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(**over)
    from planner.insight.service_levels import service_level_cases

    spot = "spot" in sc.market.modes  # the one with a service level to price: spot capacity
    assert [label for label, _ in service_level_cases(sc, catalog)] == (["spot capacity (vs none)"] if spot else [])
    assert explain_steps(sc, catalog, alternatives, delta) == steps


def test_explain_steps_count_the_service_levels(catalog) -> None:  # type: ignore[no-untyped-def]
    """A replica floor adds one service-level re-solve: 3 + 0 + 0 + 1."""
    assert explain_steps(scenario(workload={"min_replicas": 2}), catalog, 0, None) == 4


def test_one_point_looser_lowers_only_the_floors_that_are_set() -> None:
    """The scenario's max_drop 20 → 21; a class with its own drop 3 → 4; a class without one keeps None."""
    sc = scenario()
    data = sc.model_dump(mode="json")
    data["workload"] = [{**data["workload"][0], "max_quality_drop": 3.0},
                        {**data["workload"][0], "name": "batch", "max_quality_drop": None}]
    looser = explanation._one_point_looser(planner.scenario_from_dict(data))
    assert looser.quality.max_drop == 21.0
    assert [(w.name, w.max_quality_drop) for w in looser.workload] == [("chat", 4.0), ("batch", None)]


# --- break-even, both solves stubbed -----------------------------------------------------------------------

QPD = 2e6  # scenario()'s queries/day


def fake_solve(monkeypatch: pytest.MonkeyPatch, side: Any) -> list[tuple[float, bool]]:
    """``side(factor, with_option) -> (status, cost, findings)``; the factor is queries/day over QPD,
    or the scenario's price_scale when demand is not the input.  Returns the calls made."""
    calls: list[tuple[float, bool]] = []

    def plan_scenario(sc: planner.Scenario, catalog: Any) -> Any:
        factor = sc.workload[0].queries_per_day / QPD
        if factor == 1.0 and sc.market.price_scale != 1.0:
            factor = sc.market.price_scale
        with_option = sc.techniques["quantization"] == ["fp8"]
        calls.append((factor, with_option))
        status, cost, findings = side(factor, with_option)
        return SimpleNamespace(status=status, lifetime_cost_usd=cost, infeasibility=findings, message="stopped",
                               solver=SimpleNamespace(gap=0.5 if with_option else 0.25))

    monkeypatch.setattr(break_even, "plan_scenario", plan_scenario)
    return calls


def fp8(catalog: Any, over: str | None = None, **kw: Any) -> Any:
    return breakeven(scenario(**kw), catalog, "quantization:fp8", over)


def test_a_break_even_above_today_brackets_by_doubling_then_bisects_in_log_space(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One-time 3 with the option, 1 per unit of demand without: pays from factor 3.  Doubling: 1 and 2
    do not pay, 4 does → bisect [2, 4] at geometric midpoints, i.e. halving in log2: 1.5 (2.83, no),
    1.75 (3.36, pays), 1.625 (3.08, pays), 1.5625 (2.95, no), 1.59375 (3.018, pays): 2^0.03125 − 1 =
    2.2 % > 2 %, so once more, 1.578125 (2.986, no): 2^0.015625 − 1 = 1.1 % ≤ 2 %, stop.  The answer is
    the paying end 2^1.59375 = 3.018; lifetime queries there = 2e6/day × 91.3125 days (3 months) × it."""
    calls = fake_solve(monkeypatch, lambda f, w: ("optimal", 3.0 if w else f, []))
    r = fp8(catalog)
    exps = [1.5, 1.75, 1.625, 1.5625, 1.59375, 1.578125]
    assert [f for f, w in calls if w] == pytest.approx([1.0, 2.0, 4.0] + [2.0 ** e for e in exps], rel=1e-12)
    assert (r.verdict, r.pays_at_current, r.proven) == ("pays_from", False, True)
    assert r.breakeven_value == pytest.approx(2.0 ** 1.59375, rel=1e-12)
    assert r.message.startswith("quantization:fp8 pays for itself from demand = 3.018 (currently 1)")
    # 2.986 saves 2.986 − 3 = −0.014 on 3: inside the re-solves' 0.5 % gap, and the answer says so
    assert r.message.endswith("; the saving just below it (-0.01 $ at 2.986) is within the re-solves' 0.5% gap, so "
                              "where the option starts to pay is uncertain by more than the search's step")
    assert r.lifetime_queries_at_breakeven == pytest.approx(QPD * 365.25 / 4 * 2.0 ** 1.59375, rel=1e-9)
    assert [e.value for e in r.evaluations] == sorted(e.value for e in r.evaluations)  # listed by value
    first = r.evaluations[0]
    assert (first.value, first.cost_with_usd, first.cost_without_usd, first.gap_with, first.gap_without) == \
        (1.0, 3.0, 1.0, 0.5, 0.25)


def test_a_break_even_below_today_bisects_down_from_the_lowest_factor(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One-time 0.25: pays today (0.75 saved) and not at 1/1024 → bisect [2^-10, 2^0] in log2:
    −5 (no), −2.5 (no), −1.25 (pays), −1.875 (pays), −2.1875 (no), −2.03125 (no), −1.953125 (pays),
    −1.9921875 (pays): 2^0.0390625 − 1 = 2.7 % > 2 %, −2.01171875 (no): 1.4 %, stop at 2^−1.9921875."""
    calls = fake_solve(monkeypatch, lambda f, w: ("optimal", 0.25 if w else f, []))
    r = fp8(catalog)
    exps = [-5, -2.5, -1.25, -1.875, -2.1875, -2.03125, -1.953125, -1.9921875, -2.01171875]
    assert [f for f, w in calls if w] == pytest.approx([1.0, MIN_FACTOR] + [2.0 ** e for e in exps], rel=1e-12)
    assert (r.verdict, r.pays_at_current) == ("pays_now", True)
    assert r.breakeven_value == pytest.approx(2.0 ** -1.9921875, rel=1e-12)
    assert r.message == "quantization:fp8 pays for itself from demand = 0.2514 (currently 1)"


def test_an_option_costing_exactly_the_same_everywhere_makes_no_difference(  # type: ignore[no-untyped-def]
        catalog, monkeypatch) -> None:
    """Equal costs at every demand tried (1/1024 and 1): "no_difference", not "pays now" (its verdict until
    the twenty-first session, when cost_with ≤ cost_without read as paying even where nothing changed)."""
    fake_solve(monkeypatch, lambda f, w: ("optimal", 5.0, []))
    r = fp8(catalog)
    assert (r.verdict, r.breakeven_value, r.lifetime_queries_at_breakeven) == ("no_difference", None, None)
    assert r.message == ("quantization:fp8 costs the same as the plan without quantization at every value of demand "
                         "tried (0.0009766 to 1): it changes nothing the plan buys")  # not "already pays"
    assert [e.value for e in r.evaluations] == [MIN_FACTOR, 1.0]


def test_a_break_even_exactly_at_a_doubling_stops_the_bracket_there(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One-time 4: factor 4 saves exactly 0, which pays: the bracket is [2, 4] (8 is never tried)."""
    calls = fake_solve(monkeypatch, lambda f, w: ("optimal", 4.0 if w else f, []))
    r = fp8(catalog)
    assert max(f for f, _ in calls) == 4.0 and r.verdict == "pays_from"
    assert 4.0 / (1 + RELATIVE_TOLERANCE) <= r.breakeven_value <= 4.0  # type: ignore[operator]


def test_equal_costs_inside_the_bracket_count_as_paying(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The break-even is the smallest factor where cost_with ≤ cost_without: without the option f, with
    it 3 below f = 3, f itself (a tie) for 3 ≤ f ≤ 3.4, 3.4 above.  Bracket [2, 4]; the bisection must
    take a tie as paying and close on 3 (within 2 %), not on 3.4 where the option first saves."""
    def side(f: float, w: bool) -> tuple[str, float, list[Infeasibility]]:
        return "optimal", (3.0 if f < 3.0 else min(f, 3.4)) if w else f, []

    fake_solve(monkeypatch, side)
    r = fp8(catalog)
    assert r.verdict == "pays_from"
    assert 3.0 <= r.breakeven_value <= 3.0 * (1 + RELATIVE_TOLERANCE)  # type: ignore[operator]


def test_the_last_doubling_is_max_factor(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Pays only at factor 1024 = MAX_FACTOR: that doubling is tried and brackets [512, 1024]."""
    calls = fake_solve(monkeypatch, lambda f, w: ("optimal", 1024.0 if w else f, []))
    r = fp8(catalog)
    assert max(f for f, _ in calls) == MAX_FACTOR and r.verdict == "pays_from"
    assert r.breakeven_value == pytest.approx(1024.0, rel=RELATIVE_TOLERANCE)


def test_a_field_that_cannot_double_says_its_valid_range(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Over the repeat rate (0.3, < 1 by the schema): 0.3 and 0.6 do not pay; 1.2 is no valid scenario
    (NaN), so the search closes in on the bound by geometric bisection between 0.6 and 1.2 (0.849,
    1.009 invalid, 0.925, 0.966, 0.987, 0.998: 1.009/0.998 within 2 %) and none pays: "does not pay …
    up to the field's valid range (tried up to 0.9982)", not up to 1024×."""
    calls = fake_solve(monkeypatch, lambda f, w: ("optimal", 2.0 if w else 1.0, []))
    r = fp8(catalog, "workload.chat.repeat_rate", workload={"repeat_rate": 0.3})
    tried = sorted({e.value for e in r.evaluations})
    assert r.verdict == "never_pays" and len(calls) == 2 * len(tried) == 14
    assert tried[:2] == [0.3, 0.6] and 1 / 1.02 < tried[-1] < 1.0
    assert r.message == ("quantization:fp8 does not pay for itself within the horizon, up to the field's valid "
                         f"range (tried up to {tried[-1]:.4g}) of workload.chat.repeat_rate")
    assert r.lifetime_queries_at_breakeven is None


QUALITY = Infeasibility(family="quality", workload="chat", requirement="mmlu >= 82.60", best_achievable="77.46",
                        message="class chat: quality floor 82.60 is unreachable")
QUOTA = Infeasibility(family="quota", workload=None, requirement="h100-sxm <= 8 GPUs", best_achievable="16 GPUs",
                      message="quota: h100-sxm needs 16 GPUs, quota 8")


def test_findings_text_groups_by_family_and_names_each_once() -> None:
    """Families in first-seen order joined by " and ", items by "; ", repeats dropped, known families
    in words, others by name, a class's findings prefixed with it."""
    latency = Infeasibility(family="latency", workload="api", requirement="TTFT <= 500 ms", best_achievable="620 ms",
                            message="m")
    text = findings_text([QUALITY, QUOTA, QUALITY, latency, QUALITY.model_copy(update={"workload": "batch"})])
    assert text == ("the quality floor (chat: mmlu >= 82.60, best achievable 77.46; batch: mmlu >= 82.60, "
                    "best achievable 77.46) and quota (h100-sxm <= 8 GPUs, best achievable 16 GPUs) and "
                    "the latency targets (api: TTFT <= 500 ms, best achievable 620 ms)")


def test_infeasible_with_and_without_the_option_stops_at_once(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake_solve(monkeypatch, lambda f, w: ("infeasible", None, [QUOTA, QUOTA]))  # a finding repeated: named once
    r = fp8(catalog)
    assert (r.verdict, r.breakeven_value, len(r.evaluations)) == ("infeasible", None, 1)
    assert r.message == ("the scenario is infeasible at demand = 1 with or without the option: it breaks "
                         "quota (h100-sxm <= 8 GPUs, best achievable 16 GPUs)")
    assert r.evaluations[0].infeasible_with == [QUOTA.message] == r.evaluations[0].infeasible_without


def test_a_demand_dependent_finding_keeps_the_demand_search_going(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Quality and quota together at today's demand: the quota depends on demand, so the search goes on
    (−∞ saving at 1) — from factor 2 the option is feasible at cost 1 against f without it, so it pays
    from just above 1: a break-even, not "infeasible at any demand"; the findings are still reported."""
    def side(f: float, w: bool) -> tuple[str, float | None, list[Infeasibility]]:
        if w and f == 1.0:
            return "infeasible", None, [QUALITY, QUOTA]
        return "optimal", 1.0 if w else f, []

    fake_solve(monkeypatch, side)
    r = fp8(catalog)
    assert r.verdict == "pays_from" and r.infeasibility == [QUALITY, QUOTA]
    assert 1.0 < r.breakeven_value <= 1.0 + RELATIVE_TOLERANCE  # type: ignore[operator]


def test_the_first_findings_are_kept_and_the_answer_is_infeasible_at_every_value(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Over price_scale a demand-independent finding does not stop the search; the option is infeasible
    at every value (first the quota, then the quality floor): "infeasible", naming the first findings."""
    def side(f: float, w: bool) -> tuple[str, float | None, list[Infeasibility]]:
        if w:
            return "infeasible", None, [QUOTA] if f == 1.0 else [QUALITY]
        return "optimal", 1.0, []

    fake_solve(monkeypatch, side)
    r = fp8(catalog, "market.price_scale")
    assert r.verdict == "infeasible" and r.infeasibility == [QUOTA]
    # doubling to 512, then 1024 > price_scale's bound 1000: bisection toward it, 724, 861, 939, 981,
    # 1002 (invalid), 991.3 (1002/991.3 within 2 %)
    assert r.message == ("quantization:fp8 is infeasible at every value of market.price_scale tried, up to the "
                         "field's valid range (tried up to 991.3): it breaks quota (h100-sxm <= 8 GPUs, best "
                         "achievable 16 GPUs)")


def test_the_option_making_the_plan_feasible_pays(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without the option infeasible at every demand: +∞ saving, it pays already at 1/1024."""
    fake_solve(monkeypatch, lambda f, w: ("optimal", 9.0, []) if w else ("infeasible", None, [QUOTA]))
    assert fp8(catalog).verdict == "pays_now"


def test_a_side_without_a_plan_is_undetermined_on_either_side(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake_solve(monkeypatch, lambda f, w: ("optimal", 1.0, []) if w else ("no_solution", None, []))
    r = fp8(catalog)
    assert (r.verdict, r.breakeven_value, r.proven) == ("undetermined", None, False)
    assert r.message.startswith("cannot decide at demand = 1: the plan without the option ended 'no_solution' "
                                "without a plan (stopped) — not proven: 1 evaluation(s)")


def test_an_infeasible_side_is_proven_a_stopped_one_is_not() -> None:
    def point(a: str, b: str) -> BreakEvenPoint:
        return BreakEvenPoint(value=1.0, cost_with_usd=None, cost_without_usd=None, status_with=a, status_without=b)

    assert point("optimal", "infeasible").proven and point("infeasible", "infeasible").proven
    assert not point("feasible", "optimal").proven and not point("optimal", "error").proven


def test_numeric_at_finds_a_class_by_name_and_refuses_a_bool() -> None:
    data = scenario(workload={"repeat_rate": 0.25}).model_dump(mode="json")
    assert _numeric_at(data, "workload.chat.repeat_rate") == 0.25
    assert _numeric_at(data, "workload.chat.queries_per_day") == QPD
    with pytest.raises(InputError, match="is bool, not a number field"):
        _numeric_at(data, "plan.disaggregation")
    with pytest.raises(InputError, match="not a field of the scenario"):
        _numeric_at(data, "workload.batch.repeat_rate")


def test_a_zero_input_cannot_be_searched(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="is 0; a break-even search needs a positive value"):
        fp8(catalog, "workload.chat.repeat_rate")


def test_a_time_sliced_plans_prices_are_listed_class_by_class_then_period_by_period(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sliced LP's prices (stubbed) as shown: for each class, each period's mean-rate price followed by
    its slices' busiest-hour prices in slice order (a slice without one skipped), then the class's mean
    rate in every period, as the one-slice LP lists its rows; then the quotas that bind (a zero price is
    no line).  Each figure is the measured one where there is one (chat's period-0 mean 3.5 and night
    10.5, batch's day, ``lp-re-solve``), else the dual (chat's day and period 1, batch's mean: re-solves
    that were not optimal, ``lp-dual``); batch has one
    period, so no every-period line.  No prices (the LP failed): none."""
    duals = SimpleNamespace(labels=["night", "day"],
                            mean_demand={(1, 0): 5.0, (0, 1): 7.0, (0, 0): 3.0},
                            slice_peak={(0, 0, 1): 11.0, (0, 0, 0): 10.0, (1, 0, 1): 12.0},
                            quota={(0, 1): 4.0, (0, 0): 0.0},
                            mean_measured={(0, 0): 3.5, (0, "every"): 10.75},
                            peak_measured={(0, 0, 0): 10.5, (1, 0, 1): 12.25})
    monkeypatch.setattr(explanation, "sliced_shadow_prices", lambda *a: duals)
    cs = SimpleNamespace(workloads=["chat", "batch"], hardware=[SimpleNamespace(slug="h100-sxm")])
    sc = scenario(workload={"profile": "chat-regional"})
    prices = lp_shadow_prices(sc, None, cs, None)  # type: ignore[arg-type]
    mean, peak = "one more request/s of mean demand, its daily shape kept", "one more request/s at the busiest hour of "
    every = "one more request/s of mean demand in every period, its daily shape kept"
    assert [(p.what, p.workload, p.period, p.usd, p.method) for p in prices] == [
        (mean, "chat", 0, 3.5, "lp-re-solve"), (peak + "night", "chat", 0, 10.5, "lp-re-solve"),
        (peak + "day", "chat", 0, 11.0, "lp-dual"),
        (mean, "chat", 1, 7.0, "lp-dual"), (every, "chat", None, 10.75, "lp-re-solve"),
        (mean, "batch", 0, 5.0, "lp-dual"), (peak + "day", "batch", 0, 12.25, "lp-re-solve"),
        ("one more h100-sxm GPU allowed", None, 1, 4.0, "lp-re-solve")]
    assert prices[-1].unit == "USD saved (present value) per GPU"
    assert {p.unit for p in prices[:-1]} == {"USD (present value) per request/s"}
    monkeypatch.setattr(explanation, "sliced_shadow_prices", lambda *a: None)
    assert lp_shadow_prices(sc, None, cs, None) == []  # type: ignore[arg-type]
