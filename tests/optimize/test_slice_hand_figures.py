"""Time-slice formulas checked against hand calculations (the arithmetic is in the comments).

Each test pins one formula of :mod:`planner.economics.slices`, :mod:`planner.optimize.milp_slices`,
:mod:`planner.optimize.sliced_bounds` or :mod:`planner.optimize.extract_slices` that a mutation-testing
review found unguarded:

* the slices' volumes over a weekly cycle, the grouping's load proxy and its basis, the clock labels;
* a fractional deadline's window (whole hours, rounded down) and the backlog row's slice of hour ``t``;
* spot's keep probability in the supply rows and in the restart cost; the quota over elastic GPUs;
* a per-query technique cost under slices (the model's cost and the screening's bound);
* the minimum billed hours of an on-demand GPU in a short slice; the plan's arrivals per slice.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.slices import time_slices
from planner.optimize import sliced_path
from planner.optimize import solver as solvers
from planner.optimize.candidates import build_candidates
from planner.optimize.milp_slices import build_sliced, deadline_windows
from planner.optimize.pruning import prune, quality_floors
from planner.plan_model import CostBreakdown
from planner.scenario.schema import Horizon, Workload
from planner.units import DAYS_PER_MONTH, HOURS_PER_MONTH, SECONDS_PER_DAY
from tests.conftest import merged_scenario
from tests.optimize.test_slices import solved  # the plan, asserted optimal

#: 12 hours at 1.5 × the mean (06-18), 12 hours at 0.5 × (00-06, 18-24).
TWO_LEVEL = [0.5] * 6 + [1.5] * 12 + [0.5] * 6
#: Busy at night: raw 2 (00-06, 18-24) and 1 (06-18), mean 1.5, so 4/3 and 2/3 of the mean.
NIGHT = [2.0] * 6 + [1.0] * 12 + [2.0] * 6
#: One busy hour (23-24) at 12.5 × the mean of the other hours' 0.5: mean (23 × 0.5 + 12.5) / 24 = 1.
LAST_HOUR = [0.5] * 23 + [12.5]
CHAT: dict[str, Any] = {"name": "chat", "queries_per_day": 3e7, "input_tokens": 600, "output_tokens": 200,
                        "ttft_ms": 1500, "tpot_ms": 60}
YEAR_HOURS = 12 * HOURS_PER_MONTH  # 8,766 h: one 12-month period
CYCLES = YEAR_HOURS / 24  # 365.25 daily cycles in the period


def workload(name: str, **over: Any) -> Workload:
    data: dict[str, Any] = {"name": name, "queries_per_day": 1e6, "input_tokens": 500, "output_tokens": 200,
                            "ttft_ms": 1000, "tpot_ms": 50, **over}
    return Workload.model_validate(data)


def scenario(workloads: list[dict[str, Any]] | None = None, **over: Any) -> planner.Scenario:
    """One 12-month period, no growth, llama-3.1-8b on h100-sxm, no technique: plans of a few variables."""
    data: dict[str, Any] = {
        "schema_version": 1, "name": "slice-hand-figures", "model": {"base": "llama-3.1-8b"},
        "workload": workloads if workloads is not None else [{**CHAT, "profile": TWO_LEVEL}],
        "horizon": {"months": 12, "period_months": 12, "growth_per_year": 0.0, "discount_rate_per_year": 0.0},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"], "providers": ["lambda"]},
        "techniques": {"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"], "speculative": ["none"]},
        "plan": {"time_slices": 2},
    }
    return merged_scenario(data, **over)


def costs(plan: planner.Plan) -> CostBreakdown:
    assert plan.cost_breakdown is not None
    return plan.cost_breakdown


def gpus_by_slice(plan: planner.Plan) -> dict[int | None, int]:
    """GPUs in service per slice, every mode together (fixed offers under ``None``)."""
    out: dict[int | None, int] = {}
    for f in plan.fleet:
        out[f.slice] = out.get(f.slice, 0) + f.gpus_in_service
    return out


def od_price(catalog) -> float:  # type: ignore[no-untyped-def]
    """Lambda's on-demand h100-sxm $/GPU-hour (2.99 in the shipped catalog)."""
    return catalog.price("h100-sxm", "on-demand", ["lambda"]).usd_per_gpu_hour


def replicas_needed(sc: planner.Scenario, catalog, multiplier: float) -> int:  # type: ignore[no-untyped-def]
    """Replicas of the plan's one deployment shape for the mean rate × ``multiplier`` (as the
    two-slice test of ``test_slices``): ⌈q/86400 · m / μ⌉, μ the column's requests/s per replica."""
    cs = build_candidates(sc, catalog)
    columns, _ = prune(cs, 1, quality_floors(sc.workload, sc.quality, cs.base_score))
    (mu,) = {c.capacity_rps for c in columns}
    return math.ceil(sc.workload[0].queries_per_day / SECONDS_PER_DAY * multiplier / mu - 1e-9)


class Captured(Exception):
    """Stops a plan once the screening's inputs are in hand."""


def screen_inputs(sc: planner.Scenario, catalog, monkeypatch, solve: bool = False):  # type: ignore[no-untyped-def]
    """The plan (None with ``solve=False``) and the arguments the planner hands to ``sliced_path._screen``
    (scenario, cs, columns, offers, periods, demand, one_time, floors, slices, deadline, gap)."""
    seen: list[tuple[Any, ...]] = []
    real = sliced_path._screen

    def capture(*args: Any) -> Any:
        seen.append(args)
        if not solve:
            raise Captured
        return real(*args)

    monkeypatch.setattr(sliced_path, "_screen", capture)
    try:
        plan = planner.plan(sc, catalog=catalog)
    except Captured:
        plan = None
    monkeypatch.setattr(sliced_path, "_screen", real)
    (args,) = seen
    return plan, args[:11]


# ---------------------------------------------------------------- economics/slices.py


def test_weekly_volumes_are_shares_of_the_week() -> None:
    """Gap 1 (slices.py, volume = Σ_{h∈s} w / L with L = 168, not 24)."""
    week = [1.0] * 120 + [0.2] * 48  # Mon-Fri at 1.0, Sat-Sun at 0.2
    sl = time_slices([workload("a", profile=week), workload("b", profile=[1.0] * 24)], Horizon(), 2, {})
    assert sl.cycle_hours == 168
    # two levels: {weekday hours}, {weekend hours}, idle 0: exactly two slices, the busier first
    assert sl.hours.tolist() == [120.0, 48.0]
    # class a: the week's raw load 120 × 1.0 + 48 × 0.2 = 129.6; weekdays carry 120 / 129.6 = 0.925926,
    # the weekend 9.6 / 129.6 = 0.074074 (relative weights 1 / (129.6/168) = 1.296296 and 0.259259,
    # × 120 / 168 and × 48 / 168 give the same)
    np.testing.assert_allclose(sl.volume[0], [120 / 129.6, 9.6 / 129.6], rtol=1e-12)
    # class b (a flat daily profile tiled over the week): its share is the hours', 120/168 and 48/168
    np.testing.assert_allclose(sl.volume[1], [120 / 168, 48 / 168], rtol=1e-12)
    np.testing.assert_allclose(sl.volume.sum(axis=1), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(sl.peak[0], [168 / 129.6, 0.2 * 168 / 129.6], rtol=1e-12)


def test_slices_group_hours_by_interactive_tokens() -> None:
    """Gap 2 (slices.py, a_h = Σ_{interactive c} q_c (in_c + out_c) w_{c,h}).

    Three 8-hour blocks G1 = 00-08, G2 = 08-16, G3 = 16-24; relative weights (mean 1 each):
    a = (0, 1, 2), b = (13, 4, 1) / 6.  With ℓ_a, ℓ_b the daily tokens and r = ℓ_a / ℓ_b, the
    aggregate per block (÷ ℓ_b) is G1: 13/6, G2: r + 4/6, G3: 2r + 1/6, so the order is
    r < 1/2: G1 > G2 > G3;  1/2 < r < 1: G1 > G3 > G2;  1 < r < 3/2: G3 > G1 > G2;  r > 3/2: G3 > G2 > G1.
    Daily tokens: a = 2e6 queries × (1200 + 50) = 2.5e9, b = 1e6 × (500 + 1500) = 2e9: r = 1.25 → G3, G1, G2.
    (Tokens per query alone: r = 1250 / 2000 = 0.625; input alone: 2.4e9 / 5e8 = 4.8; output alone:
    1e8 / 1.5e9 = 0.067; input × output: 0.16 — each another order.)
    The deferrable class c (all its load in G2, 10× the queries, 5× the tokens) must not count: with it,
    G2 would be the busiest block."""
    sl = time_slices([workload("a", profile=[0] * 8 + [1] * 8 + [2] * 8, queries_per_day=2e6,
                               input_tokens=1200, output_tokens=50),
                      workload("b", profile=[13] * 8 + [4] * 8 + [1] * 8, input_tokens=500, output_tokens=1500),
                      workload("c", profile=[0] * 8 + [3] * 8 + [0] * 8, input_tokens=5000, output_tokens=5000,
                               queries_per_day=1e7, deadline_hours=24)], Horizon(), 3, {})
    assert sl.count == 3 and sl.hours.tolist() == [8.0, 8.0, 8.0]
    # busiest first: G3 (2 × 1.25 + 1/6 = 2.667), G1 (13/6 = 2.167), G2 (1.25 + 4/6 = 1.917)
    assert sl.hour_slice.tolist() == [1] * 8 + [2] * 8 + [0] * 8
    assert sl.labels == ("16-24", "00-08", "08-16")
    np.testing.assert_allclose(sl.peak, [[2.0, 0.0, 1.0], [1 / 6, 13 / 6, 4 / 6], [0.0, 0.0, 3.0]], rtol=1e-12)
    # volumes: 8 h × weight / 24, e.g. a in G3: 8 × 2 / 24 = 2/3; b in G1: 8 × 13/6 / 24 = 13/18
    np.testing.assert_allclose(sl.volume, [[2 / 3, 0.0, 1 / 3], [1 / 18, 13 / 18, 4 / 18], [0.0, 0.0, 1.0]],
                               rtol=1e-12, atol=1e-15)


def test_a_slice_ending_at_midnight_is_labelled_24() -> None:
    """Gap 3 (slices.py, the run's end printed as (b − 1) mod 24 + 1: 24, never 00)."""
    two = time_slices([workload("a", profile=TWO_LEVEL)], Horizon(), 2, {})
    assert two.labels == ("06-18", "00-06, 18-24")  # the night runs 00-06 and 18-24 (hours 18..23)
    last = time_slices([workload("a", profile=LAST_HOUR)], Horizon(), 2, {})
    assert last.labels == ("23-24", "00-23")  # hour 23 alone ends at midnight; 00-23 ends at 23


# ---------------------------------------------------------------- milp_slices.py: deadlines and backlog


def two_class(deadline: float) -> planner.Scenario:
    """chat (TWO_LEVEL) sets the slices 06-18 and 00-06, 18-24; batch, busy at night, is flat within each
    slice (so any deadline is accepted) and deferrable."""
    return scenario([{**CHAT, "profile": TWO_LEVEL},
                     {**CHAT, "name": "batch", "queries_per_day": 2e7, "ttft_ms": 5000, "tpot_ms": 100,
                      "profile": NIGHT, "deadline_hours": deadline}])


def test_a_fractional_deadline_holds_whole_hours_rounded_down(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Gap 4 (milp_slices.deadline_windows: W_t = Σ_{i<⌊D⌋} w_{t−i}).

    D = 3.5 h: the backlog at the end of hour t holds at most what arrived in hours t−2, t−1, t, so work
    of hour t is gone by the end of hour t+3 (at most 3 hours after it arrived, never 4): the window is
    3 hours, as for D = 3 (a 4-hour window, ⌈3.5⌉ or one term more, would let it wait through hour t+4)."""
    ramp = [float(h + 1) for h in range(24)]  # raw 1..24, mean 12.5: w_h = (h + 1) / 12.5
    sl = time_slices([workload("a", profile=TWO_LEVEL), workload("d", profile=ramp, deadline_hours=3.5)],
                     Horizon(), 2, {})
    window, most = deadline_windows(sl, 1, 3.5)
    # W_0 = w_0 + w_23 + w_22 = (1 + 24 + 23) / 12.5 = 3.84;  W_5 = (6 + 5 + 4) / 12.5 = 1.2;
    # W_23 = (24 + 23 + 22) / 12.5 = 5.52  (4 hours would give 70/12.5 = 5.6, 18/12.5 = 1.44, 90/12.5 = 7.2)
    assert window[0] == pytest.approx(48 / 12.5, rel=1e-12)
    assert window[5] == pytest.approx(15 / 12.5, rel=1e-12)
    assert window[23] == pytest.approx(69 / 12.5, rel=1e-12)
    np.testing.assert_allclose(window, deadline_windows(sl, 1, 3.0)[0], rtol=1e-12)
    # X̄ = max_t (W_{t−1} + w_t): at t = 23, W_22 + w_23 = (23 + 22 + 21 + 24) / 12.5 = 7.2 (the largest;
    # 4 hours: (23 + 22 + 21 + 20 + 24) / 12.5 = 8.8)
    assert most == pytest.approx(90 / 12.5, rel=1e-12)

    # the built model's backlog bounds for batch (relative weights 4/3 at night, 2/3 by day):
    # B_t ≤ w_t + w_{t−1} + w_{t−2}: hour 6 → 2/3 + 4/3 + 4/3 = 10/3; hour 7 → 2/3 + 2/3 + 4/3 = 8/3;
    # hour 12 → 3 × 2/3 = 2; hour 2 → 3 × 4/3 = 4
    _, args = screen_inputs(two_class(3.5), catalog, monkeypatch)
    problem = build_sliced(*args[:9], compact=True)
    bounds = [problem.backlog[1, 0, t].upBound for t in range(24)]
    assert bounds[6] == pytest.approx(10 / 3, rel=1e-12)
    assert bounds[7] == pytest.approx(8 / 3, rel=1e-12)
    assert bounds[12] == pytest.approx(2.0, rel=1e-12)
    assert bounds[2] == pytest.approx(4.0, rel=1e-12)


def test_the_backlog_row_serves_hour_t_at_its_own_slices_rate(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Gap 5 (milp_slices: B_t = B_{t−1} + w_t − X_{s(t)}, the slice of hour t, not of t − 1).

    Slices: 0 = 06-18, 1 = 00-06, 18-24.  Hour 6 is the first of slice 0, hour 18 the first of slice 1:
    their rows serve at the rate of slice 0 and 1 respectively."""
    _, args = screen_inputs(two_class(3.0), catalog, monkeypatch)
    sl = args[8]
    assert sl.labels == ("06-18", "00-06, 18-24")
    problem = build_sliced(*args[:9], compact=True)

    def served_in(row: str) -> list[str]:
        return sorted(v.name for v in problem.prob.constraints[row] if v.name.startswith("X_"))

    assert served_in("backlog_1_0_6") == ["X_1_0_0"]  # hour 6: slice 0 (hour 5 is in slice 1)
    assert served_in("backlog_1_0_18") == ["X_1_0_1"]  # hour 18: slice 1 (hour 17 is in slice 0)
    assert served_in("backlog_1_0_0") == ["X_1_0_1"]
    assert served_in("backlog_1_0_12") == ["X_1_0_0"]

    # and the solved backlog, rebuilt by hand hour by hour: w = 4/3 at night, 2/3 by day,
    # B_t − B_{t−1} = w_t − X_{s(t)}, 0 ≤ B_t ≤ W_t (3 hours of arrivals)
    outcome = solvers.run(problem.prob, "highs", 30, 1e-9)
    assert outcome.status == solvers.SolveStatus.OPTIMAL
    X = [problem.served[1, 0, s].value() for s in range(2)]
    B = [problem.backlog[1, 0, t].value() for t in range(24)]
    w = [4 / 3] * 6 + [2 / 3] * 12 + [4 / 3] * 6
    day = [False] * 6 + [True] * 12 + [False] * 6
    # over the cycle the backlog returns: 12 X_0 + 12 X_1 = Σ w = 24 (the day's work, relative to the mean)
    assert 12 * X[0] + 12 * X[1] == pytest.approx(24.0, rel=1e-9)
    assert abs(X[0] - X[1]) > 1e-3  # the rates differ, so the slice read at hour 6 and 18 matters
    for t in range(24):
        rate = X[0] if day[t] else X[1]
        assert B[t] - B[t - 1] == pytest.approx(w[t] - rate, abs=1e-9), t
        assert -1e-9 <= B[t] <= w[t] + w[t - 1] + w[t - 2] + 1e-9, t


# ---------------------------------------------------------------- spot, quota, billing


def spot_scenario(**market: Any) -> planner.Scenario:
    """Spot at a high preemption rate; whole GPUs cover the expected reclaims unless ``market`` says
    ``spot_reclaims = "expected"`` (the hand figures below are the whole convention's)."""
    return scenario([{**CHAT, "profile": TWO_LEVEL, "allow_spot": True}],
                    market={"modes": ["spot"], "spot_preemption_per_hour": 0.05, "spot_restart_hours": 0.5,
                            "spot_discount": 0.5, "spot_reclaims": "whole", **market},
                    horizon={"discount_rate_per_year": 0.08})


def test_spot_counts_its_keep_probability_in_capacity_and_restarts(catalog) -> None:  # type: ignore[no-untyped-def]
    """Gap 6 (milp_slices supply rows: κ u e with κ = (1 − π)^H; extract_slices: the restart cost).

    π = 0.05, slices of H = 12 h: κ = 0.95^12 = 0.540360.  The peak slice needs r_0 replicas (1 GPU
    each), the night r_1: spot GPUs e_s = ⌈r_s / κ⌉ (e.g. 16 → ⌈29.61⌉ = 30, 6 → ⌈11.10⌉ = 12)."""
    sc = spot_scenario()
    plan = solved(sc, catalog)
    kappa = 0.95 ** 12
    assert kappa == pytest.approx(0.5403600876626367, rel=1e-12)
    peak = next(t.index for t in plan.time_slices if t.peak_by_class["chat"] == pytest.approx(1.5))
    need = {peak: replicas_needed(sc, catalog, 1.5), 1 - peak: replicas_needed(sc, catalog, 0.5)}
    held = {f.slice: f.gpus_in_service for f in plan.fleet}
    assert {f.mode for f in plan.fleet} == {"spot"}
    assert held == {s: math.ceil(n / kappa) for s, n in need.items()}
    assert (need[peak], held[peak], need[1 - peak], held[1 - peak]) == (16, 30, 6, 12)
    assert {s.slice: s.replicas for s in plan.serving} == need
    # restart: (1 − κ) × 0.5 h × $2.99 on demand × 365.25 cycles × GPUs held, discounted to mid-year
    # δ = 1.08^−0.5; 30 + 12 = 42 GPUs: 0.459640 × 1.495 × 365.25 × 42 × 0.962250 = $10,143.47
    od, delta = od_price(catalog), 1.08 ** -0.5
    restart = (1 - kappa) * 0.5 * od * CYCLES * sum(held.values()) * delta
    assert costs(plan).spot_restart_usd == pytest.approx(restart, rel=1e-9)
    # rent: spot at half the on-demand price for 12 of 24 hours
    rent = sum(held.values()) * od * 0.5 * 12 / 24 * YEAR_HOURS * delta
    assert costs(plan).rent_usd == pytest.approx(rent, rel=1e-9)
    assert plan.lifetime_cost_usd == pytest.approx(rent + restart, rel=1e-9)


def test_expected_reclaims_hold_the_replicas_gpus_and_pay_one_over_kappa(catalog: Any) -> None:
    """The same two slices with ``spot_reclaims = "expected"`` (the default): a slice holds exactly its
    replicas' GPUs (16 and 6), each paying its 12 hours at ``1/κ`` of the spot price; the restart is
    the same per GPU held as above.  22 GPUs: rent 22 × $1.495 × 12/24 × 8,766 h × δ / κ, restart
    (1 − κ) × 0.5 h × $2.99 × 365.25 × 22 × δ."""
    sc = spot_scenario(spot_reclaims="expected")
    plan = solved(sc, catalog)
    kappa, od, delta = 0.95 ** 12, od_price(catalog), 1.08 ** -0.5
    peak = next(t.index for t in plan.time_slices if t.peak_by_class["chat"] == pytest.approx(1.5))
    need = {peak: replicas_needed(sc, catalog, 1.5), 1 - peak: replicas_needed(sc, catalog, 0.5)}
    assert need == {peak: 16, 1 - peak: 6}
    assert {f.slice: f.gpus_in_service for f in plan.fleet} == need
    rent = 22 * od * 0.5 * 12 / 24 * YEAR_HOURS * delta / kappa
    restart = (1 - kappa) * 0.5 * od * CYCLES * 22 * delta
    assert costs(plan).rent_usd == pytest.approx(rent, rel=1e-9)
    assert costs(plan).spot_restart_usd == pytest.approx(restart, rel=1e-9)
    assert plan.lifetime_cost_usd == pytest.approx(rent + restart, rel=1e-9)
    assert plan.lifetime_cost_usd < solved(spot_scenario(), catalog).lifetime_cost_usd


def test_the_quota_counts_elastic_gpus_in_every_slice(catalog) -> None:  # type: ignore[no-untyped-def]
    """Gap 7 (milp_slices quota rows: fixed + on-demand + spot GPUs ≤ quota, per slice).

    Uncapped, the peak slice (16 replicas) is cheapest as 2 on-demand + 26 spot (2 + 26 κ = 16.05 GPUs of
    capacity; 28 GPUs held).  Capped at 20 GPUs: with a on-demand and b spot, a + b ≤ 20 and a + κ b ≥ 16;
    per day on-demand costs 12 h × $2.99 = $35.88 a GPU, spot 12 h × $1.495 + (1 − κ) × 0.5 h × $2.99
    = $18.627.  Replacing k on-demand GPUs takes ⌈k/κ⌉ spot ones: k = 1..4 → 2, 4, 6, 8 spot for $37.25,
    $74.51, $111.76, $149.02 against $35.88 k = $35.88, $71.76, $107.64, $143.52; k = 5 needs 11 on-demand
    + ⌈5/κ⌉ = 10 spot = 21 > 20 GPUs (larger k, more).  So: 16 on-demand.  (Uncapped, k = 14: 26 spot for
    26 × $18.627 = $484.30 < 14 × $35.88 = $502.32.)"""
    market = {"modes": ["on-demand", "spot"]}
    free = solved(spot_scenario(**market), catalog)
    assert max(gpus_by_slice(free).values()) > 20  # the quota below binds
    capped = solved(spot_scenario(**market, quota_gpus={"h100-sxm": 20}), catalog)
    held = gpus_by_slice(capped)
    assert all(n <= 20 for n in held.values()), held
    peak = next(t.index for t in capped.time_slices if t.peak_by_class["chat"] == pytest.approx(1.5))
    assert sorted((f.slice, f.mode, f.gpus_in_service) for f in capped.fleet if f.slice == peak) == \
        [(peak, "on-demand", 16)]


def test_on_demand_in_a_short_slice_is_billed_its_minimum_hours(catalog) -> None:  # type: ignore[no-untyped-def]
    """Gap 9 (extract_slices: an elastic GPU billed max(H_s, m) hours per cycle).

    LAST_HOUR: slice 23-24 (H = 1) at 12.5 × the mean, 00-23 at 0.5 ×.  The base (6 replicas) is
    reserved, the peak's extra 132 − 6 = 126 GPUs rented in the 1-hour slice, billed m = 3 h a day:
    126 × $2.99 × 3/24 × 8,766 h = $412,812.855 (billed for its 1 hour it would be a third of it)."""
    sc = scenario([{**CHAT, "profile": LAST_HOUR}],
                  market={"modes": ["on-demand", "reserved-1y"], "elastic_min_billed_hours": 3})
    plan = solved(sc, catalog)
    short = next(t for t in plan.time_slices if t.hours_per_cycle == 1)
    assert short.clock == "23-24"
    extra = replicas_needed(sc, catalog, 12.5) - replicas_needed(sc, catalog, 0.5)
    rented = [f for f in plan.fleet if f.mode == "on-demand"]
    assert [(f.slice, f.gpus_in_service) for f in rented] == [(short.index, extra)]
    rent = extra * od_price(catalog) * max(1, 3) / 24 * YEAR_HOURS
    assert costs(plan).rent_usd == pytest.approx(rent, rel=1e-9)
    assert extra == 126 and rent == pytest.approx(412_812.855, rel=1e-9)


# ---------------------------------------------------------------- per-query costs, arrivals


#: Response caching with a priced store: (1 − 0.25) × 3 days × 200 output tokens × 4 bytes / 1e9 GB per
#: daily query, × $20 per GB-month / 30.4375 days × 1e6 = $1.18275 per million queries.
STORE = {"response_retention_days": 3.0, "store_usd_per_gb_month": 20.0}
RESPONSE_USD_PER_M = 0.75 * 3 * 200 * 4 / 1e9 * 20 / 30.4375 * 1e6


def caching_scenario(store: dict[str, float], **over: Any) -> planner.Scenario:
    return scenario([{**CHAT, "profile": TWO_LEVEL, "repeat_rate": 0.25}],
                    techniques={"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"],
                                "caching": ["response"], "moe": ["none"], "speculative": ["none"], **over.pop("tech", {})},
                    technique_settings={"caching": store}, horizon={"discount_rate_per_year": 0.08}, **over)


def test_a_per_query_cost_is_paid_once_per_query_across_slices(catalog) -> None:  # type: ignore[no-untyped-def]
    """Gap 8, the model (milp_slices objective: ρ V_{c,s} x over the slices, V summing to 1).

    Two variants (no quantization, fp8) in one model (max_variants = 3: the model over every variant, with
    its x; neither the compact one nor the pairs' screening of max_variants = 2), both with
    response caching: whatever the split, 3e7 × 365.25 = 1.09575e10 queries × $1.18275 / 1e6
    = $12,959.98, × δ = 1.08^−0.5 = $12,470.6."""
    sc = caching_scenario(STORE, tech={"quantization": ["none", "fp8"]}, plan={"time_slices": 2, "max_variants": 3})
    plan = solved(sc, catalog)
    assert RESPONSE_USD_PER_M == pytest.approx(36 / 30.4375, rel=1e-12)
    queries = 3e7 * DAYS_PER_MONTH * 12
    hand = queries / 1e6 * RESPONSE_USD_PER_M * 1.08 ** -0.5
    assert costs(plan).technique_recurring_usd == pytest.approx(hand, rel=1e-9)
    parts = costs(plan)
    assert plan.lifetime_cost_usd == pytest.approx(parts.one_time_usd + parts.rent_usd + hand, rel=1e-9)


def test_the_sliced_bound_counts_a_per_query_cost_once(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Gap 8, the screening bound (sliced_bounds: ρ V_{c,s} per slice, V summing to 1).

    A store 100× dearer ($2,000 per GB-month: $118.275 per million queries, $1.296 M a year, several
    times the GPUs): the bound's traffic term is exactly 1.09575e10 / 1e6 × 118.275 × δ, and the bound
    stays at or below the plan's cost (counted once per slice it would exceed it by far)."""
    from planner.optimize.sliced_bounds import sliced_class_costs, sliced_lower_bounds

    store = {**STORE, "store_usd_per_gb_month": 2000.0}
    plan, args = screen_inputs(caching_scenario(store), catalog, monkeypatch, solve=True)
    assert plan is not None and plan.status == "optimal", plan
    sc, cs, columns, offers, periods, demand, one_time, _floors, slices, _deadline, _gap = args
    traffic = 3e7 * DAYS_PER_MONTH * 12 / 1e6 * RESPONSE_USD_PER_M * 100 * 1.08 ** -0.5
    assert costs(plan).technique_recurring_usd == pytest.approx(traffic, rel=1e-9)
    assert traffic > 3 * costs(plan).rent_usd  # the per-query cost dominates
    bounds = sliced_lower_bounds(sc.workload, cs, columns, offers, periods, demand, one_time, slices,
                                 sc.horizon.peak_to_average)
    (v,) = bounds
    assert traffic / 1e3 < bounds[v] <= plan.lifetime_cost_usd / 1e3 * (1 + 1e-9)
    for pricing in sliced_class_costs(sc.workload, cs, columns, offers, periods, demand, one_time, slices,
                                    sc.horizon.peak_to_average):
        # the items are GPU cost + traffic × the slice's arrivals (0.75, 0.25): the traffic parts sum to it
        gpu_free = pricing.items[(v, 0)] - traffic * np.array([[0.75, 0.25]])
        assert (gpu_free >= 0).all() and gpu_free.sum() < costs(plan).rent_usd * (1 + 1e-9)


def test_arrivals_by_class_are_each_class_volume_per_slice(catalog) -> None:  # type: ignore[no-untyped-def]
    """Gap 10 (extract_slices: time_slices[s].arrivals_by_class = volume_{c,s}).

    chat (TWO_LEVEL): 12 h × 1.5 / 24 = 0.75 by day (06-18), 12 × 0.5 / 24 = 0.25 at night.
    doc (raw 2 by day, 1 at night, mean 1.5): 12 × 4/3 / 24 = 2/3 by day, 12 × 2/3 / 24 = 1/3 at night."""
    day_heavy = [1.0] * 6 + [2.0] * 12 + [1.0] * 6
    sc = scenario([{**CHAT, "profile": TWO_LEVEL},
                   {**CHAT, "name": "doc", "queries_per_day": 1e7, "profile": day_heavy}])
    plan = solved(sc, catalog)
    got = {t.clock: t.arrivals_by_class for t in plan.time_slices}
    assert set(got) == {"06-18", "00-06, 18-24"}
    assert got["06-18"] == pytest.approx({"chat": 0.75, "doc": 2 / 3}, rel=1e-12)
    assert got["00-06, 18-24"] == pytest.approx({"chat": 0.25, "doc": 1 / 3}, rel=1e-12)
    # interactive classes are served as they arrive
    assert all(t.served_by_class == pytest.approx(t.arrivals_by_class, rel=1e-9) for t in plan.time_slices)


def test_a_weekly_run_over_several_days_names_its_last_day() -> None:
    """A weekly slice of Monday to Friday reads "Mon 00-Fri 24", not "Mon 00-24" (one day)."""
    from planner.economics.slices import time_slices
    from planner.scenario.schema import Horizon, Workload

    w = Workload.model_validate({**CHAT, "profile": [1.0] * 120 + [0.2] * 48})
    assert time_slices([w], Horizon(), 2, {}).labels == ("Mon 00-Fri 24", "Sat 00-Sun 24")
    day = Workload.model_validate({**CHAT, "profile": [1.0] * 9 + [3.0] * 3 + [1.0] * 156})
    assert "Mon 09-12" in time_slices([day], Horizon(), 2, {}).labels
