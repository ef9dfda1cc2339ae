"""The pricing LPs and break-even's search, pinned where the neighbouring tests leave them free.

Pricing: ``llama-3.1-70b`` FP8 (``tests.insight.test_explain.scenario``: one class "chat", 2e6
queries/day, 3 months), ``g_h`` = GPUs per request/s of the variant's best latency-feasible column on
``h`` (``gpus_per_rps``), ``k_h`` a GPU's period on demand (USD/GPU-hour × the period's hours; no
discounting).  A market with spot and no load profile is priced by the sliced LP
(:mod:`planner.insight.slice_prices`) with one slice of 24 hours whose busiest hour is
``peak_to_average`` times the mean, so its slice price is the one-slice LP's ``g k`` and its mean-rate
price ``peak_to_average · g k``; the interactive class may not run on spot (``nospot`` rows), so the
spot offer never serves it.  Pairs (:mod:`planner.insight.pair_prices`) are hand-made and stubbed in
for the catalog's, with the co-located columns stubbed out, so the price is the pair's own:
free pools ``s (t_p k_p/λ_p + t_d k_d/λ_d)``; a scale-up domain of ``(p, d)`` replicas
``s · (GPUs of the domain priced) / min(p λ_p, d λ_d)``.

Break-even: both plans stubbed (as ``tests/insight/test_break_even.py``'s ``_stubbed``): without the
option the cost is the swept field's value ``v``, with it ``cost_with(v)``, so the saving is
``v − cost_with(v)``.  The values the search solves are written out in log2 steps by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.economics.slices import time_slices
from planner.insight import break_even, pair_prices, pricing_columns
from planner.insight.break_even import breakeven
from planner.insight.explanation import (
    DEMAND,
    DEMAND_AT_SLICE,
    DEMAND_EVERY,
    DEMAND_MEAN,
    lp_shadow_prices,
)
from planner.insight.slice_prices import sliced_shadow_prices
from planner.optimize.candidates import build_candidates
from planner.optimize.milp_slices import elastic_cost_usd, supply_keep
from tests.insight.test_break_even import small
from tests.insight.test_explain import scenario
from tests.insight.test_explain_figures import gpus_per_rps


def chosen(*names: str) -> Any:
    """A plan's variant names, all the pricing LPs read of it."""
    return SimpleNamespace(variant_names=list(names))


FP8 = chosen("quantization:fp8")
TWO = {"hardware": ["h100-sxm", "h200"]}
SECONDS_PER_DAY = 86400.0


def k_on_demand(catalog: Any, sc: planner.Scenario, slug: str) -> float:
    return catalog.price(slug, "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours


def g_of(cs: Any, slug: str, variant: str = "quantization:fp8") -> float:
    return gpus_per_rps(cs, next(v.index for v in cs.variants if v.name == variant), slug)


def with_batch(catalog: Any, base: planner.Scenario, **batch: Any) -> tuple[planner.Scenario, Any, list[float]]:
    """``base`` with a second class "batch" (4 times chat's output, and ``batch``'s fields), its candidates,
    and ``g`` per class: GPUs per request/s of the FP8 variant's best latency-feasible column of the class."""
    data = base.model_dump(mode="json")
    data["workload"].append({**data["workload"][0], "name": "batch", "output_tokens": 800, **batch})
    sc = planner.scenario_from_dict(data)
    cs = build_candidates(sc, catalog)
    t, res = cs.deployments, cs.deployments.result
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    g = [float((t.tp[rows] / res.requests_per_s[rows]).min())
         for c in (0, 1) for rows in [(t.variant == v) & t.latency_ok & (t.workload == c)]]
    return sc, cs, g


def quota_lines(prices: list[Any]) -> list[Any]:
    return [p for p in prices if p.workload is None]


# --- quotas in both pricing LPs -----------------------------------------------------------------------------

@pytest.mark.parametrize("modes", [["on-demand"], ["on-demand", "spot"]])
def test_a_quota_prices_only_below_the_gpus_the_peak_needs(catalog, modes) -> None:  # type: ignore[no-untyped-def]
    """Peak-to-average 2: the peak is 2e6 × 2 / 86400 = 46.3 request/s, so H100 (cheaper per request/s on
    demand) would hold ``need = g₁₀₀ × 46.3`` ≈ 8.7 GPUs.  A quota of ⌊need⌋ binds (a "one more GPU"
    line, worth ``k₂₀₀ g₂₀₀/g₁₀₀ − k₁₀₀``), one of ⌈need⌉ leaves room (no line).  The same in the sliced
    LP (spot in the market), whose mean rate is the peak / 2 held at its one slice's busiest hour × 2."""
    sc = scenario(market={**TWO, "modes": modes}, horizon={"peak_to_average": 2.0})
    cs = build_candidates(sc, catalog)
    g100, g200 = g_of(cs, "h100-sxm"), g_of(cs, "h200")
    k100, k200 = k_on_demand(catalog, sc, "h100-sxm"), k_on_demand(catalog, sc, "h200")
    assert g100 * k100 < g200 * k200  # H100 is the cheaper capacity
    need = g100 * 2e6 * 2.0 / SECONDS_PER_DAY
    assert 2 < need and need % 1 > 0.1  # not a whole number: ⌊need⌋ binds, ⌈need⌉ does not

    def priced(quota: int) -> list[Any]:
        q = sc.model_copy(update={"market": sc.market.model_copy(update={"quota_gpus": {"h100-sxm": quota}})})
        return lp_shadow_prices(q, catalog, cs, FP8)

    [line] = quota_lines(priced(math.floor(need)))
    assert line.what == "one more h100-sxm GPU allowed"
    assert line.usd == pytest.approx(k200 * g200 / g100 - k100, rel=1e-6)
    assert quota_lines(priced(math.ceil(need))) == []


def test_each_class_is_priced_by_its_own_columns(catalog) -> None:  # type: ignore[no-untyped-def]
    """Two classes on H100 on demand, "batch" with 4 times chat's output: each class's request/s costs its
    own best column's ``g_c k`` (GPUs per request/s of the class's rows), batch's more than chat's."""
    sc, cs, g = with_batch(catalog, scenario())
    assert g[1] > 1.5 * g[0]
    k = k_on_demand(catalog, sc, "h100-sxm")
    prices = lp_shadow_prices(sc, catalog, cs, FP8)
    assert [(p.what, p.workload) for p in prices] == [(DEMAND, "chat"), (DEMAND, "batch")]
    assert [p.usd for p in prices] == pytest.approx([g[0] * k, g[1] * k], rel=1e-6)


@pytest.mark.parametrize("modes", [["on-demand"], ["on-demand", "spot"]])
def test_a_quota_of_zero_gpus_is_a_quota(catalog, modes) -> None:  # type: ignore[no-untyped-def]
    """``quota_gpus = {h100-sxm = 0}``: no H100 at all, so demand is priced on H200, ``g₂₀₀ k₂₀₀`` per
    request/s of peak (peak-to-average 1: the sliced LP's mean rate is its peak), and in the one-slice LP
    one H100 allowed would save ``k₂₀₀ g₂₀₀/g₁₀₀ − k₁₀₀``, in both LPs.  (A zero quota read as "no
    quota" priced H100.)  With no H100 in use the sliced LP's supply, ``nospot`` and quota rows are all
    tight at zero and the quota row's dual was one of many ($3,544 against $319): the saving is now
    measured by re-solving with the quota a hundredth of a GPU higher (:mod:`planner.insight.quota_prices`)."""
    sc = scenario(market={**TWO, "modes": modes, "quota_gpus": {"h100-sxm": 0}})
    assert sc.horizon.peak_to_average == 1.0
    cs = build_candidates(sc, catalog)
    g100, g200 = g_of(cs, "h100-sxm"), g_of(cs, "h200")
    k100, k200 = k_on_demand(catalog, sc, "h100-sxm"), k_on_demand(catalog, sc, "h200")
    prices = lp_shadow_prices(sc, catalog, cs, FP8)
    demand = [p.usd for p in prices if p.workload == "chat"]
    assert demand == pytest.approx([g200 * k200] * len(demand), rel=1e-6) and len(demand) == len(modes)
    [line] = quota_lines(prices)
    assert line.usd == pytest.approx(k200 * g200 / g100 - k100, rel=1e-6)
    assert line.method == "lp-re-solve"


def test_a_quota_counts_every_gpu_paid_for_spares_included(catalog) -> None:  # type: ignore[no-untyped-def]
    """Bought GPUs only (no lead time), one H200 allowed: as in the plan's model the quota counts every
    GPU paid for, of which a share ``A`` serves (the rest are spares).  One more H200 paid serves
    ``A₂₀₀/g₂₀₀`` request/s that H100 would serve at ``g₁₀₀ k₁₀₀/A₁₀₀`` each (``k`` = a bought GPU's
    period), and costs ``k₂₀₀``.  The one-slice LP counted usable GPUs against the quota, ``Σ A n``,
    which allowed ``1/A`` paid GPUs and priced the saving ``1/A`` high ($378.64 against $378.09).  Whole
    spares, so that ``A < 1``."""
    sc = scenario(market={**TWO, "modes": ["buy"], "lead_time_months": {"buy": 0}, "quota_gpus": {"h200": 1},
                          "spares": "whole"})
    cs = build_candidates(sc, catalog)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    buy = {cs.hardware[o.hardware].slug: o for o in offers}
    a100, a200 = buy["h100-sxm"].supply_factor, buy["h200"].supply_factor
    k100, k200 = float(buy["h100-sxm"].cost_usd[0]), float(buy["h200"].cost_usd[0])
    assert a100 < 1 and a200 < 1
    g100, g200 = g_of(cs, "h100-sxm"), g_of(cs, "h200")
    [line] = quota_lines(lp_shadow_prices(sc, catalog, cs, FP8))
    assert line.what == "one more h200 GPU allowed"
    assert line.usd == pytest.approx(a200 / g200 * g100 * k100 / a100 - k200, rel=1e-6)


def test_a_sliced_quota_is_priced_in_each_period_it_binds(catalog) -> None:  # type: ignore[no-untyped-def]
    """Two 3-month periods, 1 H100 allowed (the plan needs about 4.4), sliced LP (spot in the market):
    each period has its own line, each the one-period saving ``k₂₀₀ g₂₀₀/g₁₀₀ − k₁₀₀`` (k: a quarter on
    demand; the quota row of one period does not move the other)."""
    sc = scenario(market={**TWO, "modes": ["on-demand", "spot"], "quota_gpus": {"h100-sxm": 1}},
                  horizon={"months": 6, "period_months": 3})
    cs = build_candidates(sc, catalog)
    g100, g200 = g_of(cs, "h100-sxm"), g_of(cs, "h200")
    k100, k200 = k_on_demand(catalog, sc, "h100-sxm"), k_on_demand(catalog, sc, "h200")
    lines = quota_lines(lp_shadow_prices(sc, catalog, cs, FP8))
    assert [(p.what, p.period) for p in lines] == [("one more h100-sxm GPU allowed", 0),
                                                    ("one more h100-sxm GPU allowed", 1)]
    assert [p.usd for p in lines] == pytest.approx([k200 * g200 / g100 - k100] * 2, rel=1e-6)


@pytest.mark.parametrize("modes", [["on-demand"], ["on-demand", "spot"]])
def test_a_quota_binds_only_in_the_period_whose_demand_outgrows_it(catalog, modes) -> None:  # type: ignore[no-untyped-def]
    """Demand doubling a year, two 3-month periods: each period is provisioned for its end, 2e6 ×
    2^0.25 and 2e6 × 2^0.5 queries/day, i.e. ``need_p = g₁₀₀ × 2e6 × 2^(end_p) / 86400`` H100 GPUs
    (about 5.2 and 6.1).  A quota of 6 leaves period 0 room and binds in period 1 only (each period's
    rows hold its own demand, not period 0's)."""
    sc = scenario(market={**TWO, "modes": modes, "quota_gpus": {"h100-sxm": 6}},
                  horizon={"months": 6, "period_months": 3, "growth_per_year": 1.0})
    cs = build_candidates(sc, catalog)
    g100 = g_of(cs, "h100-sxm")
    need = [g100 * 2e6 * 2.0 ** end / SECONDS_PER_DAY for end in (0.25, 0.5)]
    assert need[0] < 6 < need[1]
    assert [p.period for p in quota_lines(lp_shadow_prices(sc, catalog, cs, FP8))] == [1]


def test_a_sliced_quota_counts_every_owned_gpu_paid_for(catalog) -> None:  # type: ignore[no-untyped-def]
    """Buying (no lead time) H100 and H200, 1 H200 allowed, sliced LP (spot in the market).  H200 is the
    cheaper capacity bought (``g₂₀₀ k₂₀₀ < g₁₀₀ k₁₀₀``, ``k`` the offer's period cost), so the quota binds.
    The quota counts GPUs paid for, spares included (``quota_h_p_s: Σ_fixed n ≤ quota``, as the plan's
    model): one more H200 allowed is one more bought at ``k₂₀₀``, of which ``A`` (the offer's supply
    factor) serves, replacing ``A/g₂₀₀`` request/s of H100 at ``g₁₀₀ k₁₀₀ / A`` each:
    saving = ``A/g₂₀₀ · g₁₀₀ k₁₀₀ / A − k₂₀₀ = g₁₀₀ k₁₀₀ / g₂₀₀ − k₂₀₀`` (both types have the same
    availability; whole spares, so that ``A < 1``).  Counting only the usable share (``A n ≤ quota``)
    would allow ``1/A`` GPUs more and
    read ``1/A`` times as much; leaving owned GPUs out of the row would leave the quota unpriced."""
    sc = scenario(market={**TWO, "modes": ["buy", "spot"], "lead_time_months": {"buy": 0}, "quota_gpus": {"h200": 1},
                          "spares": "whole"})
    cs = build_candidates(sc, catalog)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    buy = {cs.hardware[o.hardware].slug: o for o in offers if o.mode == "buy"}
    A = buy["h200"].supply_factor
    assert A < 1 and buy["h100-sxm"].supply_factor == A
    k100, k200 = float(buy["h100-sxm"].cost_usd[0]), float(buy["h200"].cost_usd[0])
    g100, g200 = g_of(cs, "h100-sxm"), g_of(cs, "h200")
    assert g200 * k200 < g100 * k100
    prices = lp_shadow_prices(sc, catalog, cs, FP8)
    [line] = quota_lines(prices)
    assert line.what == "one more h200 GPU allowed"
    assert line.usd == pytest.approx(g100 * k100 / g200 - k200, rel=1e-9)
    # the marginal request/s is an H100's usable share: g₁₀₀ k₁₀₀ / A, at the slice's peak and mean alike
    assert [p.usd for p in prices if p.workload == "chat"] == pytest.approx([g100 * k100 / A] * 2, rel=1e-9)


# --- the sliced LP -----------------------------------------------------------------------------------------

def test_an_elastic_offer_waits_for_its_lead_time_too(catalog) -> None:  # type: ignore[no-untyped-def]
    """On demand with a 12-month lead time beside a 1-year reservation, two 12-month periods, the
    ``chat-regional`` shape: in period 0 only the reservation serves, so (as
    ``test_reserved_capacity_is_priced_at_the_busiest_slice_alone``) the busiest slice costs
    ``g k_reserved`` and every other slice 0, the mean rate ``max_s peak_s · g k_reserved``; on demand
    would have priced the quiet slices at ``g k H_s / 24``."""
    sc = scenario(workload={"profile": "chat-regional"}, horizon={"months": 24, "period_months": 12},
                  market={"modes": ["on-demand", "reserved-1y"], "lead_time_months": {"on-demand": 12}})
    cs = build_candidates(sc, catalog)
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    [reserved] = [o for o in offers if o.mode == "reserved-1y"]
    assert list(reserved.covers[0]) == [True, False]  # a reservation taken in period 0 serves period 0 only
    k, g = float(reserved.cost_usd[0]), g_of(cs, "h100-sxm")
    busiest = int(sl.peak[0].argmax())
    period0 = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.period == 0]
    assert [p.what for p in period0] == [DEMAND_MEAN] + [DEMAND_AT_SLICE.format(label=x) for x in sl.labels]
    assert [p.usd for p in period0[1:]] == pytest.approx([g * k if s == busiest else 0.0 for s in range(sl.count)],
                                                         rel=1e-6, abs=1e-6)
    assert period0[0].usd == pytest.approx(float(sl.peak[0].max()) * g * k, rel=1e-6)


def test_a_four_hour_deadline_holds_the_backlog_within_four_hours_of_arrivals(catalog) -> None:  # type: ignore[no-untyped-def]
    """A deferrable class (4-hour deadline) on 1-year reservations, its day 12 busy hours (00-12, weight
    1.5) then 12 quiet ones (0.5), two slices.  Reserved GPUs are held all day, so the cost is ``g k`` per
    request/s of the busier slice's service rate; per unit of mean rate ``L`` say ``1 + a`` busy and
    ``1 − a`` quiet (a day's arrivals served).  The backlog then grows by ``r = 0.5 − a`` each busy
    hour and drains by ``r`` each quiet one, from its least ``m ≥ 0`` at midnight: after hour ``t``
    (quiet, ``t ≥ 12``) it is ``m + r (23 − t + 1)``.  The window (the last 4 hours' arrivals) at hour 15
    is ``4 × 0.5 = 2``, and the backlog there ``m + 8 r ≤ 2`` (the tightest: at hour 11 ``m + 12 r ≤ 6``,
    at 12–14 ``m + (11, 10, 9) r ≤ (5, 4, 3)``) gives ``r ≤ 1/4``, ``a ≥ 1/4``: one more request/s of
    mean demand costs ``1.25 g k_reserved`` (a 24-hour deadline's flat ``g k``; a window twice as long
    would allow ``a = 0``)."""
    day = [1.5] * 12 + [0.5] * 12
    sc = scenario(workload={"profile": day, "deadline_hours": 4}, horizon={"months": 12, "period_months": 12},
                  market={"modes": ["reserved-1y"]}, plan={"time_slices": 2})
    cs = build_candidates(sc, catalog)
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    assert sl.count == 2 and list(sl.hour_slice) == [0] * 12 + [1] * 12
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    [reserved] = offers
    [mean] = lp_shadow_prices(sc, catalog, cs, FP8)
    assert mean.what == DEMAND_MEAN
    assert mean.usd == pytest.approx(1.25 * g_of(cs, "h100-sxm") * float(reserved.cost_usd[0]), rel=1e-6)


def test_the_sliced_lp_prices_the_chosen_variant_only(catalog) -> None:  # type: ignore[no-untyped-def]
    """A plan on the baseline variant, sliced (spot in the market, one slice, peak-to-average 1): its
    slice price is the baseline's ``g k``, not FP8's (cheaper by more than 10 %)."""
    sc = scenario(market={"modes": ["on-demand", "spot"]})
    cs = build_candidates(sc, catalog)
    k = k_on_demand(catalog, sc, "h100-sxm")
    g_base = g_of(cs, "h100-sxm", "baseline")
    assert g_of(cs, "h100-sxm") < 0.9 * g_base
    prices = lp_shadow_prices(sc, catalog, cs, chosen("baseline"))
    assert [(p.what, p.usd) for p in prices] == [(DEMAND_MEAN, pytest.approx(g_base * k, rel=1e-6)),
                                                 (DEMAND_AT_SLICE.format(label="00-24"), pytest.approx(g_base * k, rel=1e-6))]


def test_each_period_s_elastic_gpu_is_priced_at_its_own_present_value(catalog) -> None:  # type: ignore[no-untyped-def]
    """Two 3-month periods discounted at 10 %/year, on demand (spot only makes the LP sliced; one
    24-hour slice): a GPU held all day in period ``p`` costs that period's present value ``k_p`` (the
    offer's ``cost_usd[p]``, the one-slice LP's price too), so each period's slice price is ``g k_p`` —
    period 1's lower than period 0's, not period 0's twice."""
    sc = scenario(market={"modes": ["on-demand", "spot"]},
                  horizon={"months": 6, "period_months": 3, "discount_rate_per_year": 0.1})
    cs = build_candidates(sc, catalog)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    [od] = [o for o in offers if o.mode == "on-demand"]
    k = [float(c) for c in od.cost_usd]
    assert k[1] < 0.99 * k[0]
    g = g_of(cs, "h100-sxm")
    at_slice = [p.usd for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.what == DEMAND_AT_SLICE.format(label="00-24")]
    assert at_slice == pytest.approx([g * k[0], g * k[1]], rel=1e-6)


@pytest.mark.parametrize("reclaims", ["whole", "expected"])
def test_a_class_allowed_on_spot_takes_the_cheaper_of_spot_and_on_demand(catalog: Any, reclaims: str) -> None:
    """On demand and spot, the class allowing spot, one 24-hour slice: a request/s costs ``g k`` on
    demand or ``g e/s`` on spot (its day's cost and restart over what a spot GPU supplies: ``s = κ``, its
    chance to be kept, with whole reclaims, as ``test_a_spot_gpu_counts_for_its_chance_to_be_kept``; 1
    with expected ones, ``e`` then already ``1/κ`` of the price); the LP takes the cheaper, spot here —
    both elastic offers supply the slice."""
    sc = scenario(workload={"allow_spot": True}, market={"modes": ["on-demand", "spot"], "spot_reclaims": reclaims})
    cs = build_candidates(sc, catalog)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    by_mode = {o.mode: o for o in offers}
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    spot = float(elastic_cost_usd(by_mode["spot"], sl, periods_of(sc.horizon))[0, 0]
                 / supply_keep(by_mode["spot"], sl)[0])
    k = float(by_mode["on-demand"].cost_usd[0])
    assert spot < 0.95 * k
    g = g_of(cs, "h100-sxm")
    assert [p.usd for p in lp_shadow_prices(sc, catalog, cs, FP8)] == pytest.approx([g * spot, g * spot], rel=1e-6)


@pytest.mark.parametrize("reclaims", ["whole", "expected"])
def test_in_the_sliced_lp_each_class_keeps_its_own_columns_and_spot_rule(catalog: Any, reclaims: str) -> None:
    """Chat (interactive, no spot) and "batch" (4 times the output, ``allow_spot``) on demand and spot,
    one 24-hour slice, peak-to-average 1: chat's request/s costs ``g_chat k`` on demand, batch's its own
    ``g_batch e/s`` on spot (cheaper per GPU, as above); mean and slice prices alike."""
    sc, cs, g = with_batch(catalog, scenario(market={"modes": ["on-demand", "spot"], "spot_reclaims": reclaims}),
                           allow_spot=True)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    by_mode = {o.mode: o for o in offers}
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    spot = float(elastic_cost_usd(by_mode["spot"], sl, periods_of(sc.horizon))[0, 0]
                 / supply_keep(by_mode["spot"], sl)[0])
    k = float(by_mode["on-demand"].cost_usd[0])
    prices = lp_shadow_prices(sc, catalog, cs, FP8)
    assert [p.workload for p in prices] == ["chat", "chat", "batch", "batch"]
    assert [p.usd for p in prices] == pytest.approx([g[0] * k] * 2 + [g[1] * spot] * 2, rel=1e-6)


def test_a_sliced_lp_that_is_not_optimal_gives_no_duals(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from planner.optimize import solver

    sc = scenario(market={"modes": ["on-demand", "spot"]})
    cs = build_candidates(sc, catalog)
    monkeypatch.setattr(solver, "run", lambda *a, **k: SimpleNamespace(status=solver.SolveStatus.ERROR))
    assert sliced_shadow_prices(sc, catalog, cs, FP8) is None  # type: ignore[arg-type]


# --- pairs in the one-slice LP (pairs stubbed, no co-located column) --------------------------------------

def pair(**kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = {"workload": 0, "prefill_hardware": 0, "decode_hardware": 0, "prefill_tp": 1,
                            "decode_tp": 4, "prefill_rps": 1.5, "decode_rps": 2.0, "unit": None, "unit_gpus": 0}
    base.update(kw)
    p = SimpleNamespace(**base)
    p.idle_gpus = 0 if p.unit is None else p.unit_gpus - p.unit[0] * p.prefill_tp - p.unit[1] * p.decode_tp
    return p


def pair_prices_of(catalog: Any, monkeypatch: pytest.MonkeyPatch, make: Callable[[dict[str, int], int], Any],
                   sc: planner.Scenario | None = None) -> list[Any]:
    """The shadow prices of a plan on ``caching:response`` (repeat rate 0.5: served share s = 0.5) whose
    only capacity is the one pair ``make(hardware index by slug, variant)``; also checks that pairs are
    asked for every offered hardware type."""
    sc = sc or scenario(market=TWO, workload={"repeat_rate": 0.5}, plan={"disaggregation": True},
                        techniques={"caching": ["response"], "quantization": ["none"]})
    cs = build_candidates(sc, catalog)
    v = next(v for v in cs.variants if v.name == "caching:response")
    assert v.profiles["chat"].served_query_fraction == pytest.approx(0.5)
    index = {h.slug: i for i, h in enumerate(cs.hardware)}
    asked: list[set[int]] = []

    def build_pair_columns(scenario: Any, catalog: Any, cs: Any, columns: Any, offered: set[int]) -> Any:
        asked.append(set(offered))
        return [make(index, v.index)], {}, 0.0

    monkeypatch.setattr(pair_prices, "build_pair_columns", build_pair_columns)
    monkeypatch.setattr(pricing_columns, "prune", lambda *a: ([], []))  # no co-located columns
    prices = lp_shadow_prices(sc, catalog, cs, chosen(v.name))
    assert asked == [{index["h100-sxm"], index["h200"]}]
    return prices


def pair_price(catalog: Any, monkeypatch: pytest.MonkeyPatch, make: Callable[[dict[str, int], int], Any]) -> float:
    [price] = pair_prices_of(catalog, monkeypatch, make)
    assert (price.what, price.workload, price.period) == (DEMAND, "chat", 0)
    return price.usd


def test_a_free_pool_pair_costs_its_served_share_of_both_pools(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Prefill on H100 (TP2, λ_p = 2 request/s), decode on H200 (TP4, λ_d = 5): per request/s of demand
    ``s (t_p k₁₀₀/λ_p + t_d k₂₀₀/λ_d) = 0.5 (2 k₁₀₀/2 + 4 k₂₀₀/5)``."""
    usd = pair_price(catalog, monkeypatch, lambda h, v: pair(variant=v, prefill_hardware=h["h100-sxm"], prefill_tp=2,
                                                              prefill_rps=2.0, decode_hardware=h["h200"], decode_rps=5.0))
    sc = scenario()
    k100, k200 = k_on_demand(catalog, sc, "h100-sxm"), k_on_demand(catalog, sc, "h200")
    assert usd == pytest.approx(0.5 * (2 * k100 / 2 + 4 * k200 / 5), rel=1e-9)


def test_a_domain_pair_of_one_type_costs_all_its_gpus_per_its_slower_phase(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An 8-GPU H100 domain of 2 prefill replicas (TP1, 1.5 request/s each) and 1 decode replica (TP4,
    2 request/s): 2 GPUs idle, all 8 paid.  A domain serves ``min(2 × 1.5, 1 × 2) / s = 4`` request/s
    of demand (decode binds), so one request/s costs ``8 k₁₀₀ / 4 = 2 k₁₀₀`` (not 6 GPUs' worth, nor
    priced as free pools, ``0.5 (k₁₀₀/1.5 + 4 k₁₀₀/2)``)."""
    usd = pair_price(catalog, monkeypatch, lambda h, v: pair(variant=v, prefill_hardware=h["h100-sxm"],
                                                              decode_hardware=h["h100-sxm"], unit=(2, 1), unit_gpus=8))
    assert usd == pytest.approx(2 * k_on_demand(catalog, scenario(), "h100-sxm"), rel=1e-9)


def test_a_domain_pair_of_two_types_charges_idle_gpus_to_prefill(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same domain with its decode replica on H200 (no catalogued intra-node link joins two types,
    so this pair is made up): prefill hardware pays ``2 × 1 + 2 idle = 4`` H100 GPUs, decode ``1 × 4``
    H200 GPUs; 4 request/s of demand per domain: ``(4 k₁₀₀ + 4 k₂₀₀) / 4 = k₁₀₀ + k₂₀₀``."""
    usd = pair_price(catalog, monkeypatch, lambda h, v: pair(variant=v, prefill_hardware=h["h100-sxm"],
                                                              decode_hardware=h["h200"], unit=(2, 1), unit_gpus=8))
    sc = scenario()
    assert usd == pytest.approx(k_on_demand(catalog, sc, "h100-sxm") + k_on_demand(catalog, sc, "h200"), rel=1e-9)


def test_a_domain_pair_whose_prefill_binds(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A 4-GPU H100 domain of 1 prefill replica (TP1, 1.5 request/s) and 3 decode replicas (TP1, 2
    request/s): ``min(1 × 1.5, 3 × 2) / s = 3`` request/s per domain, ``4 k₁₀₀ / 3`` per request/s."""
    usd = pair_price(catalog, monkeypatch, lambda h, v: pair(variant=v, prefill_hardware=h["h100-sxm"], decode_tp=1,
                                                              decode_hardware=h["h100-sxm"], unit=(1, 3), unit_gpus=4))
    assert usd == pytest.approx(4 * k_on_demand(catalog, scenario(), "h100-sxm") / 3, rel=1e-9)


def test_a_pair_serves_its_own_class_in_every_period(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two classes ("chat" first, then "batch") and two 3-month periods; the one pair (the free pools of
    ``test_a_free_pool_pair_costs_its_served_share_of_both_pools``) is batch's, and chat has no capacity
    at all (no row, no price).  Batch is priced in both periods at ``0.5 (2 k₁₀₀/2 + 4 k₂₀₀/5)``, k a
    quarter on demand, and in every period at the two quarters' sum."""
    data = scenario(market=TWO, workload={"repeat_rate": 0.5}, plan={"disaggregation": True},
                    techniques={"caching": ["response"], "quantization": ["none"]},
                    horizon={"months": 6, "period_months": 3}).model_dump(mode="json")
    data["workload"].append({**data["workload"][0], "name": "batch"})
    sc = planner.scenario_from_dict(data)
    prices = pair_prices_of(catalog, monkeypatch, lambda h, v: pair(
        variant=v, workload=1, prefill_hardware=h["h100-sxm"], prefill_tp=2, prefill_rps=2.0,
        decode_hardware=h["h200"], decode_rps=5.0), sc)
    k100, k200 = k_on_demand(catalog, sc, "h100-sxm"), k_on_demand(catalog, sc, "h200")
    assert [(p.what, p.workload, p.period) for p in prices] == [(DEMAND, "batch", 0), (DEMAND, "batch", 1),
                                                                (DEMAND_EVERY, "batch", None)]
    one = 0.5 * (2 * k100 / 2 + 4 * k200 / 5)  # on demand, each quarter alone: the two quarters' sum in every one
    assert [p.usd for p in prices] == pytest.approx([one, one, 2 * one], rel=1e-9)


# --- break-even: the search's bound-seeking steps -----------------------------------------------------------

def stubbed(monkeypatch: pytest.MonkeyPatch, read: Callable[[Any], float], cost_with: Callable[[float], float]) -> list[float]:
    """Without the option the cost is the field's value, with it ``cost_with(value)``; returns the values
    solved (with the option), in order."""
    solved: list[float] = []

    def plan_scenario(sc: planner.Scenario, catalog: Any) -> Any:
        value, with_option = read(sc), sc.techniques["quantization"] == ["fp8"]
        if with_option:
            solved.append(value)
        return SimpleNamespace(status="optimal", lifetime_cost_usd=cost_with(value) if with_option else value,
                               infeasibility=[], message="", solver=SimpleNamespace(gap=None))

    monkeypatch.setattr(break_even, "plan_scenario", plan_scenario)
    return solved


def peak_to_average(sc: Any) -> float:
    return sc.horizon.peak_to_average


def repeat_rate(sc: Any) -> float:
    return sc.workload[0].repeat_rate


def over_pta(catalog: Any) -> Any:
    sc = small(horizon={"peak_to_average": 2.0}, techniques={"quantization": ["none", "fp8"]})
    return breakeven(sc, catalog, "quantization:fp8", "horizon.peak_to_average")


def over_repeat(catalog: Any, rate: float) -> Any:
    sc = small(workload={"repeat_rate": rate}, techniques={"quantization": ["none", "fp8"]})
    return breakeven(sc, catalog, "quantization:fp8", "workload.chat.repeat_rate")


def test_below_the_range_the_bisection_starts_from_the_last_valid_value_that_pays(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Peak-to-average (≥ 1) at 2, paying from 1.1.  In log2: 1 pays; 2/1024 (−9) is no scenario, so the
    bound search halves toward it: −4, −1.5, −0.25 invalid, 0.375 (1.297) pays, 0.0625 (1.044) does not
    — the sign change lies in [2^0.0625, 2^0.375], not [2^0.0625, 2].  Bisection: 0.21875 (1.164 pays),
    0.140625 (1.102 pays), 0.1015625 (1.073 no), 0.12109375 (1.088 no): 2^0.01953 − 1 = 1.4 % ≤ 2 %,
    stop at 2^0.140625."""
    solved = stubbed(monkeypatch, peak_to_average, lambda v: 1.1)
    r = over_pta(catalog)
    exps = [1, 0.375, 0.0625, 0.21875, 0.140625, 0.1015625, 0.12109375]
    assert solved == pytest.approx([2.0 ** e for e in exps], rel=1e-12)
    assert (r.verdict, r.pays_at_current) == ("pays_now", True)
    assert r.breakeven_value == pytest.approx(2.0 ** 0.140625, rel=1e-12)


def test_paying_at_every_valid_value_below_says_the_lowest_valid_value_found(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The option $0.50 cheaper everywhere: peak-to-average 2 pays, 2/1024 is no scenario, and the bound
    search never finds a value that does not pay, ending at the valid value nearest the bound 1 (within
    2 %): "already pays at that value (its share of 2), the lowest value found with a valid, feasible
    scenario".  (Equal costs everywhere say instead that the option changes nothing.)"""
    solved = stubbed(monkeypatch, peak_to_average, lambda v: v - 0.5)
    r = over_pta(catalog)
    edge = min(solved)
    assert 1.0 <= edge < 1.02
    assert (r.verdict, r.breakeven_value) == ("pays_now", None)
    assert r.message == (f"quantization:fp8 already pays at {edge:g} ({edge / 2:g}x the current value), the lowest "
                         "value found with a valid, feasible scenario: no break-even above it")


def test_saving_exactly_nothing_today_pays_now(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Costs equal at today's 2 and the option dearer below: it pays now (a tie pays), with its
    break-even within 2 % below 2."""
    stubbed(monkeypatch, peak_to_average, lambda v: 2.0)
    r = over_pta(catalog)
    assert (r.verdict, r.pays_at_current) == ("pays_now", True)
    assert 2.0 / (1 + 0.02) <= r.breakeven_value <= 2.0  # type: ignore[operator]


def test_above_the_range_a_tie_on_the_way_to_the_bound_pays(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Repeat rate (< 1) at 0.3; the option costs 0.7 below 0.7 and exactly as much as without it from
    0.7 (a tie, which pays).  0.3, 0.6 do not pay; 1.2 is no scenario; the bound search's first value
    0.6 × 2^0.5 = 0.849 ties: it pays, so the break-even lies in [0.6, 0.849].  Bisection in log2 above
    0.6: 0.25 (0.714 pays), 0.125 (0.654 no), 0.1875 (0.683 no), 0.21875 (0.698 no), 0.234375 (0.706
    pays): 2^0.015625 − 1 = 1.1 % ≤ 2 %, stop at 0.6 × 2^0.234375."""
    solved = stubbed(monkeypatch, repeat_rate, lambda v: max(v, 0.7))
    r = over_repeat(catalog, 0.3)
    assert solved == pytest.approx([0.3, 0.6] + [0.6 * 2.0 ** e for e in (0.5, 0.25, 0.125, 0.1875, 0.21875, 0.234375)],
                                   rel=1e-12)
    assert r.verdict == "pays_from"
    assert r.breakeven_value == pytest.approx(0.6 * 2.0 ** 0.234375, rel=1e-12)


def test_above_the_range_the_bisection_starts_from_the_last_valid_value_that_does_not_pay(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Repeat rate at 0.3, paying from 0.95.  In log2 above 0.6: 0.5 (0.849 no), 0.75 (1.009) is no
    scenario, 0.625 (0.925 no), 0.6875 (0.966 pays): the sign change lies in [2^0.625, 2^0.6875], not
    from 0.6.  Bisection: 0.65625 (0.946 no), 0.671875 (0.956 pays): 1.1 % ≤ 2 %, stop."""
    solved = stubbed(monkeypatch, repeat_rate, lambda v: 0.95)
    r = over_repeat(catalog, 0.3)
    exps = [0.5, 0.625, 0.6875, 0.65625, 0.671875]
    assert solved == pytest.approx([0.3, 0.6] + [0.6 * 2.0 ** e for e in exps], rel=1e-12)
    assert r.verdict == "pays_from"
    assert r.breakeven_value == pytest.approx(0.6 * 2.0 ** 0.671875, rel=1e-12)


def test_a_field_already_at_its_bound_never_pays_up_to_its_current_value(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Repeat rate at 0.99, the option never paying: 1.98 is no scenario, nor is any value the bound
    search tries (0.99 × 2^(1/2, 1/4, …, 1/64) are all ≥ 1) until it is within 2 % of 0.99 — nothing
    above 0.99 was solved, so the answer is "does not pay, tried up to 0.99", not a break-even there."""
    solved = stubbed(monkeypatch, repeat_rate, lambda v: 5.0)
    r = over_repeat(catalog, 0.99)
    assert solved == [0.99]
    assert (r.verdict, r.breakeven_value) == ("never_pays", None)
    assert r.message == ("quantization:fp8 does not pay for itself within the horizon, up to the field's valid range "
                         "(tried up to 0.99) of workload.chat.repeat_rate")


def test_a_field_that_never_pays_is_doubled_to_max_factor_times_its_own_value(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Over market.price_scale (≤ 1000) at 0.25, the option never paying: 0.25 × 2^0 … 2^10 = 256 are
    solved (1024 times the current value, not 1024 itself), all inside the field's range: "does not
    pay … up to 1024x the current value"."""
    solved = stubbed(monkeypatch, lambda sc: sc.market.price_scale, lambda v: 1e9)
    sc = small(market={"price_scale": 0.25}, techniques={"quantization": ["none", "fp8"]})
    r = breakeven(sc, catalog, "quantization:fp8", "market.price_scale")
    assert solved == [0.25 * 2.0 ** i for i in range(11)]
    assert (r.verdict, r.breakeven_value) == ("never_pays", None)
    assert r.message == ("quantization:fp8 does not pay for itself within the horizon, up to 1024x the current value "
                         "of market.price_scale")


def test_a_two_variant_plan_is_priced_with_a_variant_that_fails_the_floor_alone(catalog) -> None:  # type: ignore[no-untyped-def]
    """Quality floor 83.6 − 0.05 = 83.55: FP8 (83.49) fails it alone, so a one-variant plan never holds
    its columns, but with ``max_variants = 2`` a plan mixing it with the baseline (83.6) may (the
    traffic-weighted score meets the floor for a baseline share ≥ (83.55 − 83.49)/(83.6 − 83.49) ≈ 55 %),
    and the pricing LPs must hold the columns that plan's model had: both variants'."""
    sc = scenario(quality={"metric": "mmlu", "max_drop": 0.05}, plan={"max_variants": 2})
    cs = build_candidates(sc, catalog)
    mixed = chosen("baseline", "quantization:fp8")
    held = {cs.variants[c.variant].name for c in pricing_columns.chosen_columns(sc, cs, mixed)}
    assert held == {"baseline", "quantization:fp8"}
    one = scenario(quality={"metric": "mmlu", "max_drop": 0.05})
    alone = {cs.variants[c.variant].name for c in pricing_columns.chosen_columns(one, build_candidates(one, catalog),
                                                                               mixed)}
    assert alone == {"baseline"}
