"""The explanation's figures checked against hand relations: which constraints count as binding, the
pricing LP's duals (quota, cached demand, lead times), the quality-point re-solve, the saving and
alternatives' shares, the sensitivity cases and the service-level lines."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.periods import periods_of
from planner.insight import explanation
from planner.insight.explanation import binding_constraints, explain, lp_shadow_prices
from planner.insight.sensitivity import (
    _scaled_efficiency,
    collect_sensitivity,
    efficiency_band,
    sensitivity_cases,
)
from planner.insight.service_levels import collect_service_levels, service_level_cases
from planner.optimize.candidates import build_candidates
from tests.insight.test_explain import (
    scenario,  # llama-3.1-70b, one class, h100 on-demand, 3 months
)

# --- binding constraints: a hand-made plan ------------------------------------------------------------

def cls(name: str = "chat", *, score: float | None = None, floor: float | None = None) -> Any:
    """A class well inside its latency targets (only the quality fields matter here)."""
    return SimpleNamespace(workload=name, worst_ttft_ms=100.0, ttft_target_ms=2000.0, worst_tpot_ms=10.0,
                           tpot_target_ms=80.0, quality_score=score, quality_floor=floor)


def line(hardware: str, mode: str, period: int, gpus: int, slice: int | None = None) -> Any:
    return SimpleNamespace(hardware=hardware, mode=mode, period=period, gpus_in_service=gpus, slice=slice)


def fake_plan(classes: list[Any] | None = None, fleet: list[Any] | None = None, cost: float | None = 100.0,
              periods: int = 2) -> Any:
    return SimpleNamespace(classes=classes or [], fleet=fleet or [], periods=periods, lifetime_cost_usd=cost,
                           serving=[], period_months=3)


def with_market(sc: planner.Scenario, **market: Any) -> planner.Scenario:
    return sc.model_copy(update={"market": sc.market.model_copy(update=market)})


def families(sc: planner.Scenario, plan: Any, kw: dict[str, float] | None = None) -> list[tuple[str, str]]:
    return [(b.family, b.subject) for b in binding_constraints(sc, plan, kw or {})]


def test_a_quality_floor_binds_only_within_its_slack() -> None:
    """EX2: a class is "at its floor" when its score is within QUALITY_SLACK_POINTS of it, not when
    it is well above (nor when it has no floor or no score)."""
    sc = scenario()
    classes = [cls("at", score=70.0, floor=70.0), cls("edge", score=0.05, floor=0.0),
               cls("near", score=70.03, floor=70.0), cls("above", score=70.5, floor=70.0),
               cls("far", score=80.0, floor=70.0), cls("no-floor", score=70.0), cls("no-score", floor=70.0)]
    assert [s for f, s in families(sc, fake_plan(classes)) if f == "quality"] == ["at", "edge", "near"]


def test_a_quota_used_to_the_last_gpu_binds() -> None:
    """EX3: the busiest period's GPUs of the type (all modes together) against its quota."""
    sc = with_market(scenario(), quota_gpus={"h100-sxm": 10})
    full = [line("h100-sxm", "on-demand", 0, 4), line("h100-sxm", "on-demand", 1, 6),
            line("h100-sxm", "reserved-1y", 1, 4), line("h200", "on-demand", 1, 50)]
    assert ("quota", "h100-sxm") in families(sc, fake_plan(fleet=full))
    one_short = [*full[:2], line("h100-sxm", "reserved-1y", 1, 3), full[3]]
    assert not any(f == "quota" for f, _ in families(sc, fake_plan(fleet=one_short)))
    over = [*full[:2], line("h100-sxm", "reserved-1y", 1, 5)]
    assert ("quota", "h100-sxm") in families(sc, fake_plan(fleet=over))


def test_a_quota_counts_elastic_gpus_of_one_time_slice_at_a_time() -> None:
    """Per period and slice, as the quota row ``quota_h_p_s``: 6 reserved all day + the busiest slice's
    3 on-demand = 9 of 10 (not 6 + 3 + 2 + 3 = 14, which read "14 of 10 GPUs in service")."""
    sc = with_market(scenario(), quota_gpus={"h100-sxm": 10})
    fleet = [line("h100-sxm", "reserved-1y", 0, 6), line("h100-sxm", "on-demand", 0, 3, slice=0),
             line("h100-sxm", "on-demand", 0, 2, slice=1), line("h100-sxm", "spot", 0, 1, slice=1),
             line("h100-sxm", "on-demand", 0, 2, slice=2)]
    assert not any(f == "quota" for f, _ in families(sc, fake_plan(fleet=fleet, periods=1)))
    fleet.append(line("h100-sxm", "spot", 0, 1, slice=2))  # slice 2: 6 + 2 + 1 = 9; slice 0 still 9
    assert not any(f == "quota" for f, _ in families(sc, fake_plan(fleet=fleet, periods=1)))
    fleet.append(line("h100-sxm", "spot", 0, 1, slice=0))  # slice 0: 6 + 3 + 1 = 10 of 10
    [binding] = binding_constraints(sc, fake_plan(fleet=fleet, periods=1), {})
    assert (binding.family, binding.detail) == ("quota", "10 of 10 GPUs in service")


def test_a_power_cap_binds_within_the_slack() -> None:
    """EX4: owned GPUs' kW within BINDING_SLACK (5 %) of the cap bind; below it not; rented GPUs draw
    nothing against the cap."""
    assert explanation.BINDING_SLACK == 0.05
    sc = with_market(scenario(), power_cap_kw=100.0)
    kw = {"h100-sxm": 1.0}

    def power(bought: int) -> bool:
        plan = fake_plan(fleet=[line("h100-sxm", "buy", 1, bought), line("h100-sxm", "on-demand", 1, 40)])
        return any(f == "power" for f, _ in families(sc, plan, kw))

    assert power(95) and power(96) and power(100)
    assert not power(94) and not power(80)


def test_the_budget_binds_only_when_spent_to_within_the_slack() -> None:
    """EX5: lifetime cost ≥ (1 − slack) × budget."""
    sc = with_market(scenario(), budget_usd=1000.0)
    assert ("budget", "lifetime cost") in families(sc, fake_plan(cost=950.0))
    assert ("budget", "lifetime cost") in families(sc, fake_plan(cost=1000.0))
    assert not any(f == "budget" for f, _ in families(sc, fake_plan(cost=949.0)))
    assert not any(f == "budget" for f, _ in families(sc, fake_plan(cost=500.0)))


# --- the pricing LP's duals ----------------------------------------------------------------------------

def gpus_per_rps(cs: Any, variant: int, slug: str) -> float:
    """GPUs per request/s of the best latency-feasible column of ``variant`` on ``slug``."""
    t, res = cs.deployments, cs.deployments.result
    h = next(i for i, hw in enumerate(cs.hardware) if hw.slug == slug)
    rows = (t.variant == variant) & t.latency_ok & (t.hardware == h)
    return float(np.min(t.tp[rows] / res.requests_per_s[rows]))


def test_the_quota_price_is_what_one_more_gpu_saves(catalog) -> None:  # type: ignore[no-untyped-def]
    """EX7: with the cheaper H100 capped, the marginal request/s is served on H200; one more H100 GPU
    replaces 1/g₁₀₀ request/s of H200 capacity at its price π and costs k₁₀₀: it saves π/g₁₀₀ − k₁₀₀ > 0."""
    sc = scenario(market={"hardware": ["h100-sxm", "h200"], "quota_gpus": {"h100-sxm": 2}})
    cs = build_candidates(sc, catalog)
    plan = planner.plan(sc, catalog=catalog)
    prices = lp_shadow_prices(sc, catalog, cs, plan)
    [demand] = [p for p in prices if p.workload == "chat"]
    [quota] = [p for p in prices if p.what == "one more h100-sxm GPU allowed"]
    assert quota.unit == "USD saved (present value) per GPU" and quota.period == 0
    v = next(v.index for v in cs.variants if v.name in plan.variant_names)
    hours = periods_of(sc.horizon).hours
    h200 = gpus_per_rps(cs, v, "h200") * catalog.price("h200", "on-demand").usd_per_gpu_hour * hours
    assert demand.usd == pytest.approx(h200, rel=1e-6)  # H200 is the marginal capacity
    k100 = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * hours
    saving = demand.usd / gpus_per_rps(cs, v, "h100-sxm") - k100
    assert saving > 0 and quota.usd == pytest.approx(saving, rel=1e-6)


def test_the_demand_price_counts_only_the_queries_the_model_serves(catalog) -> None:  # type: ignore[no-untyped-def]
    """EX8: a response cache answers half the queries (repeat rate 0.5): one more request/s of demand
    needs half a request/s of model capacity, so its price is half a replica's cost per capacity."""
    sc = scenario(workload={"repeat_rate": 0.5}, techniques={"caching": ["response"], "quantization": ["none"]})
    cs = build_candidates(sc, catalog)
    plan = planner.plan(sc, catalog=catalog)
    assert plan.variant_names == ["caching:response"]
    v = next(v for v in cs.variants if v.name in plan.variant_names)
    served = v.profiles["chat"].served_query_fraction
    assert served == pytest.approx(0.5)
    [price] = [s for s in lp_shadow_prices(sc, catalog, cs, plan) if s.workload == "chat"]
    gpu_period = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    assert price.usd == pytest.approx(gpus_per_rps(cs, v.index, "h100-sxm") * gpu_period * served, rel=1e-6)


def test_the_lp_respects_the_lead_time_in_every_period(catalog) -> None:  # type: ignore[no-untyped-def]
    """EX9: a buy lead time of k quarters in 3-month periods forbids buying in periods 0..k−1 only.
    One more request/s in a period ``p < k`` alone is rented (``g · k_p``, ``k_p`` a GPU's quarter on
    demand); in ``p ≥ k`` it is the cheaper of that and a GPU bought in some quarter ``q ∈ [k, p]``
    and charged for the quarters ``q..3`` it serves (``g · B_q / A``, ``A`` an owned GPU's share left
    after spares).  One more held in every period is rented until some quarter ``j ≥ k`` and bought
    then, whichever ``j`` is cheapest — well below renting all year."""
    from planner.economics.offers import mode_offers

    def prices(**market: Any) -> tuple[list[float], float, list[float], Any]:
        sc = scenario(market={"modes": ["on-demand", "buy"], **market}, horizon={"months": 12, "period_months": 3})
        cs = build_candidates(sc, catalog)
        plan = planner.plan(sc, catalog=catalog)
        lines = [p for p in lp_shadow_prices(sc, catalog, cs, plan) if p.workload == "chat"]
        out = sorted((p.period, p.usd) for p in lines if p.period is not None)
        assert [p for p, _ in out] == [0, 1, 2, 3]
        [every] = [p.usd for p in lines if p.period is None]
        offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
        rent = [float(o.cost_usd[p]) for o in offers if o.mode == "on-demand" for p in range(4)]
        buy = [float(o.cost_usd[p]) / o.supply_factor if o.may_start(p) else np.inf
               for o in offers if o.mode == "buy" for p in range(4)]
        [variant] = [v.index for v in cs.variants if v.name in plan.variant_names]
        g = gpus_per_rps(cs, variant, "h100-sxm")
        return [usd for _, usd in out], every, [g * r for r in rent], [g * b for b in buy]

    for k in (0, 1, 2, 3):
        per_period, every, rent, buy = prices(lead_time_months={"buy": 3 * k})
        assert per_period[:k] == pytest.approx(rent[:k], rel=1e-6)
        assert per_period[k:] == pytest.approx([min(rent[p], *buy[k:p + 1]) for p in range(k, 4)], rel=1e-6)
        assert every == pytest.approx(min(sum(rent[:j]) + (buy[j] if j < 4 else 0.0) for j in range(k, 5)),
                                      rel=1e-6)
        assert every < (0.9 if k == 0 else 1.0) * sum(rent)  # ownership is cheaper than rent


# --- the quality-point re-solve, the saving and the alternatives (two small explanations) ------------

def tiny() -> planner.Scenario:
    return scenario(horizon={"months": 12, "period_months": 6}, workload={"max_quality_drop": 15.0})


def explain_with_relaxed(catalog: Any, monkeypatch: pytest.MonkeyPatch, relaxed_cost: Any, status: str,
                         gap: float | None) -> tuple[Any, list[planner.Scenario]]:
    """``explain`` whose quality-floor re-solve (the call with a looser floor) returns the real
    plan's shape at ``relaxed_cost(plan cost)`` with ``status`` and ``gap``; the scenarios it got."""
    real = explanation.plan_scenario
    seen: list[tuple[planner.Scenario, Any]] = []
    original = tiny()

    def plan_scenario(sc: planner.Scenario, *args: Any, **kwargs: Any) -> Any:
        out = real(sc, *args, **kwargs)
        seen.append((sc, out))
        if sc.quality.max_drop != original.quality.max_drop:
            cost = relaxed_cost(seen[0][1].lifetime_cost_usd)
            assert out.solver is not None
            solver = out.solver.model_copy(update={"gap": gap})
            return out.model_copy(update={"lifetime_cost_usd": cost, "status": status, "solver": solver})
        return out

    monkeypatch.setattr(explanation, "plan_scenario", plan_scenario)
    e = explain(original, catalog, alternatives=1, sensitivity_delta=None, workers=1)
    relaxed = [sc for sc, _ in seen if sc.quality.max_drop != original.quality.max_drop]
    return e, relaxed


def quality_price(e: Any) -> Any:
    [price] = [p for p in e.shadow_prices if p.method == "re-solve"]
    assert price.what == "one quality point lower floor (every class)"
    return price


def test_the_quality_point_price_and_the_saving_shares(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """EX10/11/13/16: the re-solve lowers every floor by one point (the scenario's and each class's);
    its saving is plan − relaxed; saving_pct = saving / baseline; an alternative's delta_pct =
    (alternative − plan) / plan."""
    e, relaxed = explain_with_relaxed(catalog, monkeypatch, lambda plan: plan - 1234.5, "optimal", None)
    [looser] = relaxed
    assert looser.quality.max_drop == 21.0 and looser.workload[0].max_quality_drop == 16.0
    price = quality_price(e)
    assert price.usd == pytest.approx(1234.5, rel=1e-9) and price.status == "optimal" and price.bound_usd is None
    plan = e.plan.lifetime_cost_usd
    assert e.baseline_cost_usd is not None and e.baseline_cost_usd != plan
    assert e.saving_usd == pytest.approx(e.baseline_cost_usd - plan, rel=1e-12)
    assert e.saving_pct == pytest.approx(e.saving_usd / e.baseline_cost_usd, rel=1e-12)
    [alt] = e.alternatives
    assert alt.lifetime_cost_usd is not None and alt.lifetime_cost_usd != plan
    assert alt.delta_usd == pytest.approx(alt.lifetime_cost_usd - plan, rel=1e-12)
    assert alt.delta_pct == pytest.approx((alt.lifetime_cost_usd - plan) / plan, rel=1e-12)


def test_a_quality_resolve_stopped_above_the_plan_saves_zero_within_its_interval(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """EX12/15: a re-solve stopped (gap 10 %) above the plan: the plan meets the looser floors, so the
    saving is 0, not negative, and its bound is the plan less the re-solve's proven bound."""
    e, _ = explain_with_relaxed(catalog, monkeypatch, lambda plan: plan + 500.0, "feasible", 0.1)
    price = quality_price(e)
    plan = e.plan.lifetime_cost_usd
    assert price.usd == 0.0 and price.status == "feasible"
    assert price.bound_usd == pytest.approx(plan - (plan + 500.0) * 0.9, rel=1e-9)


# --- sensitivity --------------------------------------------------------------------------------------

def test_the_efficiency_band_spans_the_rows_of_every_hardware() -> None:
    """SE3: P10 is the lowest of the rows' P10s, P90 the highest of their P90s (here from different
    rows); a row without a band and hardware outside the catalog are left out."""
    rows = {"a": SimpleNamespace(error_p10=-0.10, error_p90=0.20), "b": SimpleNamespace(error_p10=-0.30, error_p90=0.10),
            "c": SimpleNamespace(error_p10=None, error_p90=None), "z": SimpleNamespace(error_p10=-0.9, error_p90=0.9)}
    catalog = SimpleNamespace(hardware={"a": 1, "b": 2, "c": 3}, efficiency_for=lambda slug, _p: rows[slug],
                              precisions={})
    sc = SimpleNamespace(market=SimpleNamespace(hardware=["a", "b", "c", "z"]), techniques={})
    low, high, p10, p90 = efficiency_band(sc, catalog)  # type: ignore[arg-type, misc]
    assert (p10, p90) == (-0.30, 0.20)
    assert low == pytest.approx(1 / 1.2) and high == pytest.approx(1 / 0.7)
    only_c = SimpleNamespace(market=SimpleNamespace(hardware=["c"]), techniques={})
    assert efficiency_band(only_c, catalog) is None  # type: ignore[arg-type]


def test_the_efficiency_band_holds_the_rows_of_the_precisions_a_plan_may_run() -> None:
    """Hardware ``a``'s own row (−10 %..+20 %) and its FP4 row (−30 %..+44 %, as B200's): with FP4 among
    the quantization options, or no options listed (every precision), the band is the FP4 row's wider
    one; with ``none`` and FP8 only (FP8 falls back to ``a``'s own row), it is ``a``'s."""
    own, fp4 = SimpleNamespace(error_p10=-0.10, error_p90=0.20), SimpleNamespace(error_p10=-0.30, error_p90=0.44)
    catalog = SimpleNamespace(hardware={"a": 1}, precisions={"fp8": 1, "fp4": 2},
                              efficiency_for=lambda slug, precision: fp4 if precision == "fp4" else own)

    def band(techniques: dict[str, list[str]]) -> tuple[float, float]:
        sc = SimpleNamespace(market=SimpleNamespace(hardware=["a"]), techniques=techniques)
        return efficiency_band(sc, catalog)[2:]  # type: ignore[arg-type, index, return-value]

    assert band({"quantization": ["none", "fp4"]}) == (-0.30, 0.44)
    assert band({}) == (-0.30, 0.44)
    assert band({"quantization": ["none", "fp8"]}) == (-0.10, 0.20)


def test_scaled_efficiency_stops_at_one(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE4: an efficiency scaled above 1 is clamped at 1.0 (compute and memory), below it scaled."""
    up, down = _scaled_efficiency(catalog, 10.0), _scaled_efficiency(catalog, 0.5)
    assert set(up.efficiency) == set(catalog.efficiency)
    for key, row in catalog.efficiency.items():
        assert up.efficiency[key].compute == pytest.approx(min(1.0, row.compute * 10.0))
        assert up.efficiency[key].memory == pytest.approx(min(1.0, row.memory * 10.0))
        assert down.efficiency[key].compute == pytest.approx(row.compute * 0.5)
        assert down.efficiency[key].memory == pytest.approx(row.memory * 0.5)
    assert any(row.compute * 10.0 > 1.0 for row in catalog.efficiency.values())


def test_the_repeat_rate_and_useful_life_cases(catalog) -> None:  # type: ignore[no-untyped-def]
    """SE8: the repeat rate 0.9 × 1.2 is clamped at 0.99 (× 0.8 scaled); SE9: the useful life's ends
    are life × (1 − δ) and life × (1 + δ), the scenario's own life or the catalog's default."""
    sc = scenario(workload={"repeat_rate": 0.9}, market={"modes": ["on-demand", "buy"], "useful_life_years": 4.0})
    by = {label: (factors, make) for label, factors, make in sensitivity_cases(sc, catalog, 0.2)}
    factors, make = by["repeat rate (chat)"]
    assert factors == (0.8, 1.2)
    assert make(factors[1])[0].workload[0].repeat_rate == 0.99
    assert make(factors[0])[0].workload[0].repeat_rate == pytest.approx(0.72)
    factors, make = by["useful life of owned hardware"]
    assert factors == (0.8, 1.2)
    assert make(factors[0])[0].market.useful_life_years == pytest.approx(3.2)
    assert make(factors[1])[0].market.useful_life_years == pytest.approx(4.8)
    default = scenario(market={"modes": ["on-demand", "buy"]})
    life = catalog.defaults.hardware_useful_life_years
    [(factors, make)] = [(f, m) for label, f, m in sensitivity_cases(default, catalog, 0.3)
                         if label == "useful life of owned hardware"]
    assert factors == (0.7, 1.3)
    assert make(0.7)[0].market.useful_life_years == pytest.approx(life * 0.7)
    assert make(1.3)[0].market.useful_life_years == pytest.approx(life * 1.3)


def test_the_failure_rate_and_preemption_cases_follow_the_market(catalog) -> None:  # type: ignore[no-untyped-def]
    """Buying: the owned GPUs' failure rate at rate × (1 ± δ), the scenario's own or the catalog's, capped
    at 1; renting spot: the preemption rate the same way.  Neither without its mode, nor at a rate of 0."""
    def cases(**market: Any) -> dict[str, Any]:
        return {label: (factors, make)
                for label, factors, make in sensitivity_cases(scenario(market=market), catalog, 0.2)}

    owned = cases(modes=["on-demand", "buy"], annual_failure_rate=0.9)
    factors, make = owned["failure rate of owned GPUs"]
    assert factors == (0.8, 1.2)
    assert make(0.8)[0].market.annual_failure_rate == pytest.approx(0.72)
    assert make(1.2)[0].market.annual_failure_rate == 1.0
    default = cases(modes=["on-demand", "buy"])["failure rate of owned GPUs"][1]
    assert default(1.2)[0].market.annual_failure_rate == pytest.approx(1.2 * catalog.defaults.annual_failure_rate)
    spot = cases(modes=["on-demand", "spot"], spot_preemption_per_hour=0.05)["spot preemption per hour"][1]
    assert spot(0.8)[0].market.spot_preemption_per_hour == pytest.approx(0.04)
    assert spot(1.2)[0].market.spot_preemption_per_hour == pytest.approx(0.06)
    rented = cases(modes=["on-demand"])
    assert "failure rate of owned GPUs" not in rented and "spot preemption per hour" not in rented
    assert "failure rate of owned GPUs" not in cases(modes=["buy"], annual_failure_rate=0.0)


class FakeBatch:
    def __init__(self, results: list[Any]) -> None:
        self.results = results

    def result(self, i: int) -> Any:
        return self.results[i]


def end(variants: list[str], cost: float | None = 1.0, status: str = "optimal", gap: float | None = None) -> Any:
    return SimpleNamespace(lifetime_cost_usd=cost, status=status, variant_names=variants,
                           fleet=[SimpleNamespace(hardware="h100-sxm", mode="on-demand")],
                           solver=SimpleNamespace(gap=gap))


def rows_for(pairs: list[tuple[Any, Any]], plan: Any) -> list[Any]:
    cases = [(f"input {i}", (0.8, 1.2), None) for i in range(len(pairs))]
    results = [p for pair in pairs for p in pair]
    handles = [(2 * i, 2 * i + 1) for i in range(len(pairs))]
    return collect_sensitivity(FakeBatch(results), cases, handles, plan)  # type: ignore[arg-type]


def test_a_decision_changes_when_either_end_differs_from_the_plan() -> None:
    """SE6: decision_changes is true when the low end, or the high end, or both differ."""
    plan = end(["quantization:fp8"])
    same, other = end(["quantization:fp8"]), end(["quantization:int8"])
    rows = rows_for([(same, same), (other, same), (same, other), (other, other)], plan)
    assert [(r.change_low, r.change_high) for r in rows] == [
        ("same", "same"), ("variant", "same"), ("same", "variant"), ("variant", "variant")]
    assert [r.decision_changes for r in rows] == [False, True, True, True]
    assert all(r.delta == pytest.approx(0.2) for r in rows)


def test_without_a_plan_the_high_end_is_compared_with_the_low_end() -> None:
    """SE7: plan None: change_low is "same", change_high is the high end against the low end, naming
    the high end's status when it has no plan."""
    ok, other = end(["quantization:fp8"]), end(["quantization:int8"])
    failed = end([], cost=None, status="infeasible")
    stopped = end(["quantization:fp8"], cost=2.0, status="feasible", gap=0.25)
    rows = rows_for([(ok, failed), (failed, ok), (ok, other), (ok, stopped)], None)
    assert [(r.change_low, r.change_high) for r in rows] == [
        ("same", "infeasible"), ("same", "same"), ("same", "variant"), ("same", "same")]
    assert [r.decision_changes for r in rows] == [True, False, True, False]
    assert rows[0].status_high == "infeasible" and rows[1].status_low == "infeasible"
    assert rows[3].bound_high_usd == pytest.approx(1.5) and rows[3].bound_low_usd is None


# --- service levels -----------------------------------------------------------------------------------

def levels_scenario(modes: list[str], **chat: Any) -> planner.Scenario:
    return scenario(model={"base": "llama-3.1-8b"}, workload={"ttft_ms": 1500, "tpot_ms": 60, **chat},
                    market={"modes": modes}, horizon={"months": 12, "period_months": 12})


def test_the_p99_and_replica_lines_remove_exactly_their_level(catalog) -> None:  # type: ignore[no-untyped-def]
    """SL2/SL3: the P99 line re-solves with both P99 targets dropped (the means kept); the replica line
    with min_replicas 0; a spot line where spot is one mode of several."""
    sc = levels_scenario(["on-demand", "spot"], ttft_p99_ms=3000, tpot_p99_ms=120, min_replicas=2)
    by = {label: changed for label, changed in service_level_cases(sc, catalog)}
    assert set(by) == {"chat: TTFT P99 3000 ms, TPOT P99 120 ms (vs the mean targets only)",
                       "chat: at least 2 replicas (vs no floor)", "spot capacity (vs none)"}
    p99 = by["chat: TTFT P99 3000 ms, TPOT P99 120 ms (vs the mean targets only)"].workload[0]
    assert p99.ttft_p99_ms is None and p99.tpot_p99_ms is None
    assert (p99.ttft_ms, p99.tpot_ms, p99.min_replicas) == (1500, 60, 2)
    floor = by["chat: at least 2 replicas (vs no floor)"].workload[0]
    assert floor.min_replicas == 0 and (floor.ttft_p99_ms, floor.tpot_p99_ms) == (3000, 120)
    assert by["spot capacity (vs none)"].market.modes == ["on-demand"]
    tpot_only = levels_scenario(["on-demand"], tpot_p99_ms=120)
    [(label, changed)] = service_level_cases(tpot_only, catalog)
    assert label == "chat: TPOT P99 120 ms (vs the mean targets only)" and changed.workload[0].tpot_p99_ms is None


def test_a_spot_only_market_has_no_spot_line(catalog) -> None:  # type: ignore[no-untyped-def]
    """SL5: without spot there would be no mode left: no "spot capacity (vs none)" line, and no error."""
    sc = levels_scenario(["spot"], min_replicas=2)
    assert [label for label, _ in service_level_cases(sc, catalog)] == ["chat: at least 2 replicas (vs no floor)"]


def test_an_unproven_service_level_line_keeps_its_interval() -> None:
    """SL7: a re-solve stopped at a gap keeps its proven bound (cost × (1 − gap)); an optimal one has none."""
    plan = SimpleNamespace(lifetime_cost_usd=1000.0)
    results = [end([], cost=800.0, status="feasible", gap=0.1), end([], cost=1100.0),
               end([], cost=None, status="infeasible")]
    lines = collect_service_levels(FakeBatch(results), plan, [("a", 0), ("b", 1), ("c", 2)])  # type: ignore[arg-type]
    assert [(x.what, x.status, x.cost_without_usd) for x in lines] == [
        ("a", "feasible", 800.0), ("b", "optimal", 1100.0), ("c", "infeasible", None)]
    assert lines[0].bound_without_usd == pytest.approx(720.0) and lines[0].usd == pytest.approx(200.0)
    assert lines[1].bound_without_usd is None and lines[1].usd == pytest.approx(-100.0)
    assert lines[2].bound_without_usd is None and lines[2].usd is None
