"""The estimator's view of a deferrable class: the least constant rate that meets its deadline
(:func:`planner.insight.preview.deadline_rate`), not its busiest hour (until 2026-12-08 the preview
sized a batch class with a 24-hour deadline at its peak, as if it were interactive)."""

from __future__ import annotations

import numpy as np
import pytest

from planner.catalog.store import Catalog
from planner.insight.preview import deadline_rate, preview
from tests.insight.test_insight_hand_figures import row_of, small

BURST = [3.0] * 8 + [0.0] * 16  # mean 1: 24 requests (in mean-hours) arrive in 8 hours, none in the other 16


def latest_finish_hours(weights: np.ndarray, rate: float, days: int = 4, steps_per_hour: int = 60) -> float:
    """Brute force: a fluid FIFO queue served at ``rate`` over ``days`` repeated days, in small steps; the
    longest time (hours) from the end of an arrival's hour to when the server has done all work that
    arrived up to then — the delay of the hour's last request, as the plan counts whole hours."""
    dt = 1.0 / steps_per_hour
    arrived = served = 0.0
    pending: list[tuple[float, float]] = []  # (cumulative arrivals at an hour's end, that hour's end)
    worst = 0.0
    for step in range(days * len(weights) * steps_per_hour):
        t = step * dt
        arrived += weights[int(t) % len(weights)] * dt
        served = min(arrived, served + rate * dt)
        if (step + 1) % steps_per_hour == 0:
            pending.append((arrived, t + dt))
        while pending and served >= pending[0][0] - 1e-9:
            _, end = pending.pop(0)
            worst = max(worst, t + dt - end)
    return worst


def test_a_burst_deferred_by_8_hours_needs_half_again_the_mean_and_by_a_day_the_mean() -> None:
    """24 mean-hours of work in 8 hours: within 8 more hours at 24/16 = 1.5× the mean; with a day's
    deadline the mean suffices (never less: the day's work must be done each day); a 1-hour deadline
    24/9 (the whole burst and one hour), still below the busiest hour's 3; a deadline is whole hours."""
    w = np.array(BURST)
    assert deadline_rate(w, 8) == pytest.approx(1.5, rel=1e-12)
    assert deadline_rate(w, 8.9) == pytest.approx(1.5, rel=1e-12)
    assert deadline_rate(w, 24) == pytest.approx(1.0, rel=1e-12)
    assert deadline_rate(w, 1) == pytest.approx(24 / 9, rel=1e-12)
    assert deadline_rate(np.ones(24), 1) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("seed", range(1, 6))
def test_the_rate_meets_the_deadline_and_a_lower_one_does_not(seed: int) -> None:
    """Random bursty profiles, deadlines of 1–6 hours (each seed's rate is above the mean): the fluid
    queue served at ``r*`` finishes every hour's arrivals within the deadline; at 0.97 ``r*`` some hour's
    arrivals wait longer."""
    rng = np.random.default_rng(seed)
    w = rng.gamma(0.3, size=24)
    w = w / w.mean()
    d = int(rng.integers(1, 7))
    rate = deadline_rate(w, d)
    assert 1.0 < rate <= float(w.max())
    assert latest_finish_hours(w, rate) <= d + 1e-6
    assert latest_finish_hours(w, 0.97 * rate) > d


def test_a_preview_sizes_a_deferrable_class_at_its_deadline_rate(catalog: Catalog) -> None:
    """100/s on average on the burst profile: an interactive class is sized for its busiest hour (300/s),
    the same class with an 8-hour deadline for 150/s."""
    interactive = row_of(preview(small(chat={"profile": BURST}), catalog), "h100-sxm")
    deferred = row_of(preview(small(chat={"profile": BURST, "deadline_hours": 8}), catalog), "h100-sxm")
    assert interactive.peak_requests_per_s == pytest.approx(300.0)
    assert deferred.peak_requests_per_s == pytest.approx(150.0)
    assert deferred.replicas == int(np.ceil(150.0 / deferred.requests_per_s_per_replica))
    assert deferred.usd_per_hour < interactive.usd_per_hour
