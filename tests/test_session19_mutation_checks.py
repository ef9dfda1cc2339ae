"""Hand-calculated checks that the nineteenth session's mutation review found unpinned: the buy
offer's retirement credit in the annuity's present-value flow, the quality exclusions' tolerance and
their use by a plan of several variants and by ``explain``, the suggestions of an unknown key, the
every-period demand line of a one-period horizon, the sliced pricing LP under
``market.spot_reclaims = "expected"``, the later periods' slice prices measured by re-solves, and the
provenance rows of the two ``"expected"`` conventions.  Every expected figure is written out with its
arithmetic; nothing is copied from the code under test.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.economics.periods import periods_of
from planner.economics.slices import time_slices
from planner.insight import explanation
from planner.insight.explanation import (
    DEMAND,
    DEMAND_AT_SLICE,
    DEMAND_EVERY,
    DEMAND_MEAN,
    demand_lines,
    explain,
    lp_shadow_prices,
)
from planner.optimize.candidates import build_candidates
from planner.optimize.planning import plan_scenario
from planner.optimize.pruning import quality_exclusions, quality_floors
from planner.report.provenance import SCHEMA_DEFAULT
from tests.economics.test_economics_mutation_checks import CAPEX, by_mode
from tests.economics.test_economics_mutation_checks import (
    scenario as economics_scenario,
)
from tests.insight.test_explain import scenario as explain_scenario
from tests.insight.test_explain_figures import gpus_per_rps
from tests.insight.test_explain_mutation_checks import real_plan, shaped, stub_explain  # noqa: F401 (fixture)
from tests.insight.test_slice_prices import FP8, YEAR, offer
from tests.optimize.test_candidates_hand_figures import scenario as candidates_scenario
from tests.report.test_views_hand_checks import rows_named
from tests.report.test_views_hand_checks import scenario as report_scenario
from tests.scenario.test_loading import load_error

# ------------------------------------------------------------------------ economics: the buy offer


def test_the_retirement_credit_comes_off_the_annuitys_present_value_flow_too(catalog: Catalog) -> None:
    """7-month periods, a 5-year life, 10 %/year: the GPU is sold after ⌊60/7⌋ = 8 periods (56 months)
    for 0.4 × capex × (1 − 56/60), whose annuity ``A_b`` (``Σ_{k<8} A_b 1.1^{−(7k+3.5)/12}`` = the
    credit × 1.1^{−56/12}) comes off every period served — in the nominal flow *and* in its present
    value, each period at its mid-point (months 3.5 and 10.5), so that the flows' PV still adds up to
    the offer's cost (``Σ_q flow_pv[p, q] + settlement_pv[p] = cost(p)``)."""
    market = {"modes": ["buy"], "lead_time_months": {"buy": 0}}
    sold = by_mode(economics_scenario(market=market, months=14, period_months=7, discount_rate_per_year=0.1),
                   catalog)["buy"]
    kept = by_mode(economics_scenario(market={**market, "resale_fraction": 0.0}, months=14, period_months=7,
                                      discount_rate_per_year=0.1), catalog)["buy"]
    credit = 0.4 * CAPEX / 15 * 1.1 ** -(56 / 12)
    a_b = credit / sum(1.1 ** -((7 * k + 3.5) / 12) for k in range(8))
    d0, d1 = 1.1 ** -(3.5 / 12), 1.1 ** -(10.5 / 12)
    assert kept.flow_pv - sold.flow_pv == pytest.approx(a_b * np.array([[d0, d1], [0.0, d1]]), rel=1e-9)
    assert sold.cost_usd == pytest.approx(sold.flow_pv.sum(axis=1) + sold.settlement_pv, rel=1e-12)


# ------------------------------------------------------------------------ quality exclusions


def test_a_variant_exactly_at_its_floor_is_not_excluded(catalog: Catalog) -> None:
    """W4A16's score against floors set by hand: at the floor itself, or a rounding (1e-12) above it,
    a plan of one variant may run it (``meets_floors`` keeps scores within 1e-9 of the floor), so it
    is not excluded; a millionth of a point above the floor it is (the reason names both figures)."""
    sc = candidates_scenario(techniques={"quantization": ["none", "w4a16"]}, quality={"max_drop": 1.0})
    cs = build_candidates(sc, catalog)
    score = next(v for v in cs.variants if v.name == "quantization:w4a16").profiles["a"].quality_score
    assert score is not None
    assert quality_exclusions(cs, [score], 1) == []
    assert quality_exclusions(cs, [score + 1e-12], 1) == []
    [e] = quality_exclusions(cs, [score + 1e-6], 1)
    assert (e.family, e.subject) == ("quality", "quantization:w4a16 for a")


def test_a_plan_of_two_variants_lists_no_quality_exclusion(catalog: Catalog) -> None:
    """W4A16 1.75 points down under a 1-point floor: with ``plan.max_variants = 2`` it may serve beside
    BF16, so the plan's exclusions hold no ``quality`` family (with 1 it holds one, pinned elsewhere)."""
    sc = candidates_scenario(techniques={"quantization": ["none", "w4a16"]}, quality={"max_drop": 1.0},
                             plan={"max_variants": 2})
    floors = quality_floors(sc.workload, sc.quality, build_candidates(sc, catalog).base_score)
    assert floors[0] is not None
    assert "quality" not in plan_scenario(sc, catalog).exclusions


def _quality_cs() -> Any:
    """A hand-made candidate set: base score 80.00, one variant ``quantization:int4`` scoring 78.25 for
    ``chat``, one memory exclusion."""
    return SimpleNamespace(base_score=80.0, workloads=["chat"],
                           exclusions=[SimpleNamespace(family="memory", subject="m0", reason="why")],
                           variants=[SimpleNamespace(name="quantization:int4",
                                                     profiles={"chat": SimpleNamespace(quality_score=78.25)})])


@pytest.mark.parametrize(("max_variants", "expected"), [
    (1, {"memory (1)": ["m0: why"], "quality (1)": ["quantization:int4 for chat: quality 78.25 below the floor 79.00"]}),
    (2, {"memory (1)": ["m0: why"]}),
])
def test_explain_lists_the_quality_exclusions_of_a_plan_of_one_variant(real_plan, monkeypatch,  # type: ignore[no-untyped-def]  # noqa: F811
                                                                       max_variants: int, expected: dict[str, Any]) -> None:
    """``explain``'s exclusions add the quality exclusions to the candidates' own, counted per family:
    a 1-point floor under a base score of 80.00 is 79.00, which 78.25 misses — excluded from a plan of
    one variant, not from one of two (every solve stubbed)."""
    plan = shaped(real_plan, 1000.0, ["baseline"])
    base = shaped(real_plan, 1600.0, [])
    stub_explain(monkeypatch, plan, base, relaxed=plan)
    monkeypatch.setattr(explanation, "build_candidates", lambda sc, cat: _quality_cs())
    sc = explain_scenario(quality={"max_drop": 1.0}, plan={"max_variants": max_variants})
    e = explain(sc, None, alternatives=0, sensitivity_delta=None)  # type: ignore[arg-type]
    assert e.exclusions == expected


# ------------------------------------------------------------------------ scenario loading


def test_an_unknown_key_with_several_close_keys_names_them_joined_by_or() -> None:
    """``ttft`` is a truncation of two workload keys: both are suggested, best first, joined by "or"."""
    err = load_error(planner.demo_scenario_path(), ("workload.chat.ttft=1",))
    assert str(err) == "workload[chat].ttft: unknown key (typo?); did you mean 'ttft_ms' or 'ttft_p99_ms'?"


def test_an_unknown_key_in_an_uncertainty_row_suggests_the_distributions_keys() -> None:
    """``[uncertainty."market.pue"]`` holds a Distribution (``dict[str, Distribution]``, which
    ``_model_in`` finds): ``hgh`` there is one letter off ``high``, as ``monthz`` is off ``months`` (until
    the fix the dict's key was looked up as a field of the Distribution, and nothing was suggested)."""
    from planner.scenario.loading import validate_scenario

    data = {"schema_version": 1, "name": "x", "model": {"base": "llama-3.1-8b"},
            "workload": [{"name": "a", "queries_per_day": 1, "input_tokens": 1, "output_tokens": 1,
                          "ttft_ms": 1000, "tpot_ms": 100}],
            "uncertainty": {"market.pue": {"dist": "uniform", "low": 1, "high": 2, "hgh": 3}}}
    with pytest.raises(planner.ScenarioError) as info:
        validate_scenario(data)
    assert str(info.value).endswith("unknown key (typo?); did you mean 'high'?")


# ------------------------------------------------------------------------ demand prices


def test_a_one_period_horizon_has_no_every_period_line_even_if_one_is_measured() -> None:
    """``demand_lines`` with one period: the period's line (measured 12.5 against its dual 10.0) and no
    every-period line, whatever ``measured`` holds for it (it would repeat the first period's)."""
    lines = demand_lines({(0, 0): 10.0}, {(0, 0): 12.5, (0, "every"): 12.5}, ["chat"], (DEMAND, DEMAND_EVERY))
    assert [(p.what, p.period, p.usd, p.method) for p in lines] == [(DEMAND, 0, 12.5, "lp-re-solve")]


def test_every_periods_slice_prices_are_measured_by_re_solves(catalog: Catalog) -> None:
    """A 1-year reservation in 6-month periods under the chat-regional shape (flat demand): one more
    request/s at the busiest hour (15-17) costs ``g`` GPUs more, reserved for what is left of the
    horizon — a year's ``k`` in period 0, half of it in period 1 — and nothing in the quieter slices
    (their replicas fit in GPUs already paid).  Every line, period 1's too, is a re-solve (until the
    nineteenth session period 1's were duals)."""
    sc = explain_scenario(workload={"profile": "chat-regional"}, horizon={"months": 12, "period_months": 6},
                          market={"modes": ["reserved-1y"]})
    cs = build_candidates(sc, catalog)
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    g = gpus_per_rps(cs, v, "h100-sxm")
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    k_year = float(offer(catalog, sc, "reserved-1y").cost_usd[0])
    prices = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]  # type: ignore[arg-type]
    assert {p.method for p in prices} == {"lp-re-solve"}
    busiest = DEMAND_AT_SLICE.format(label=sl.labels[int(np.argmax(sl.peak[0]))])
    assert sl.labels[int(np.argmax(sl.peak[0]))] == "15-17"
    slice_lines = [(p.period, p.usd) for p in prices if p.what.startswith("one more request/s at the busiest")
                   and p.what != busiest]
    assert len(slice_lines) == 6 and all(usd == pytest.approx(0.0, abs=1e-6) for _, usd in slice_lines)
    assert [p.usd for p in prices if p.what == busiest] == pytest.approx([g * k_year, g * k_year / 2], rel=1e-6)


def test_expected_reclaims_price_a_spot_slice_at_one_gpu_of_one_over_kappa(catalog: Catalog) -> None:
    """Spot only, ``market.spot_reclaims = "expected"``: a spot GPU counts 1 in the pricing LP's supply
    rows (as in the plan's), its hours charged ``1/κ_s`` (``κ_s = (1 − π)^{H_s}``) and its expected
    restart ``(1 − κ_s) · restart`` per day as before, so a request/s at slice s's busiest hour costs
    ``g · (k · H_s/24 / κ_s + (1 − κ_s) · restart · 8766/24)`` (a year: 8766 hours, 365.25 days; no
    discounting) — not that divided by ``κ_s`` again, as a supply row counting ``κ_s`` would make it."""
    sc = explain_scenario(workload={"profile": "chat-regional", "allow_spot": True},
                          market={"modes": ["spot"], "spot_reclaims": "expected"}, horizon=YEAR)
    cs = build_candidates(sc, catalog)
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    g = gpus_per_rps(cs, v, "h100-sxm")
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    spot = offer(catalog, sc, "spot")
    assert periods_of(sc.horizon).hours == pytest.approx(8766.0)
    kappa = (1.0 - spot.preemption_per_hour) ** np.asarray(sl.hours)
    k = float(spot.cost_usd[0])
    per_gpu = k * np.asarray(sl.hours) / 24 / kappa + (1 - kappa) * spot.restart_usd * 8766.0 / 24
    prices = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]  # type: ignore[arg-type]
    mean, *per_slice = prices
    assert mean.what == DEMAND_MEAN
    assert [p.usd for p in per_slice] == pytest.approx(list(g * per_gpu), rel=1e-7)


# ------------------------------------------------------------------------ provenance


def test_the_spot_and_spares_conventions_have_their_own_provenance_rows(catalog: Catalog) -> None:
    """A "spot reclaims" row and a "spares" row say which convention the plan used and where it came from
    (the schema's default, "expected" since 2026-12-08, or the scenario); the preemption and repair-time
    rows keep their figures alone."""
    spot = {"modes": ["spot"], "spot_preemption_per_hour": 0.001}
    [default] = rows_named(report_scenario(market=spot), catalog, "spot reclaims")
    [whole] = rows_named(report_scenario(market={**spot, "spot_reclaims": "whole"}), catalog, "spot reclaims")
    assert (default.value, default.source) == ("expected: priced at 1/keep probability, no whole GPU held for "
                                               "reclaims", SCHEMA_DEFAULT)
    assert (whole.value, whole.source) == ("whole: whole spot GPUs held to cover the expected reclaims", "scenario")
    [preemption] = rows_named(report_scenario(market=spot), catalog, "spot preemption")
    assert preemption.value == "0.001 per GPU-hour"
    buy = {"modes": ["buy"], "annual_failure_rate": 0.05, "repair_days": 73.0}
    [default] = rows_named(report_scenario(market=buy), catalog, "spares")
    [whole] = rows_named(report_scenario(market={**buy, "spares": "whole"}), catalog, "spares")
    assert (default.value, default.source) == ("expected: the share out for repair charged (1/(1 - u) on every "
                                               "owned GPU), no whole spare GPU held", SCHEMA_DEFAULT)
    assert (whole.value, whole.source) == ("whole: whole spare GPUs held, counted in the fleet", "scenario")
    [repair] = rows_named(report_scenario(market=buy), catalog, "repair time")
    assert repair.value == "73 days: owned fleets carry failure rate x repair days / 365.25 = 1.00% as spares"
