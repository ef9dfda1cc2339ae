"""The scenarios ``explain`` re-solves to price each service level and load-following choice: each
removes one choice and keeps the others."""

from __future__ import annotations

from typing import Any

import pytest

import planner
from planner.insight.service_levels import service_level_cases

VALLEY = [0.3] * 6 + [1.2] * 6 + [1.5] * 6 + [1.0] * 6


def scenario(chat: dict[str, Any] | None = None, batch: dict[str, Any] | None = None) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "levels", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 3e7, "input_tokens": 600, "output_tokens": 200,
                      "ttft_ms": 1500, "tpot_ms": 60, "profile": VALLEY},
                     {"name": "batch", "queries_per_day": 1e7, "input_tokens": 2000, "output_tokens": 300,
                      "ttft_ms": 10_000, "tpot_ms": 100, "deadline_hours": 24}],
        "horizon": {"months": 12, "period_months": 12, "growth_per_year": 0.0, "discount_rate_per_year": 0.0},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand", "spot", "reserved-1y"]},
        "techniques": {"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"], "speculative": ["none"]},
        "plan": {"time_slices": 4},
    }
    data["workload"][0].update(chat or {})
    data["workload"][1].update(batch or {})
    return planner.scenario_from_dict(data)


def cases(sc: planner.Scenario, catalog) -> dict[str, planner.Scenario]:  # type: ignore[no-untyped-def]
    return {label.split(" (")[0]: changed for label, changed in service_level_cases(sc, catalog)}


def batch_of(sc: planner.Scenario) -> Any:
    return next(w for w in sc.workload if w.name == "batch")


def test_the_deferrable_line_keeps_spot_and_removes_only_the_deadline(catalog) -> None:  # type: ignore[no-untyped-def]
    """A deferrable class may use spot by default; without its deadline it would not, so the line once
    counted the spot saving as well (the spot line prices spot on its own)."""
    by = cases(scenario(), catalog)
    assert set(by) == {"batch: deferrable within 24 h", "following the daily load in up to 4 slices", "spot capacity"}
    served = batch_of(by["batch: deferrable within 24 h"])
    assert served.deadline_hours is None and served.allow_spot is True
    banned = batch_of(cases(scenario(batch={"allow_spot": False}), catalog)[
        "batch: deferrable within 24 h"])
    assert banned.deadline_hours is None and banned.allow_spot is False
    no_spot = by["spot capacity"]
    assert "spot" not in no_spot.market.modes and batch_of(no_spot).deadline_hours == 24


@pytest.mark.parametrize(("deadline", "batch_profile", "profile", "served_as_it_arrives"), [
    (24, VALLEY, VALLEY, False), (12, VALLEY, VALLEY, True), (12, None, VALLEY, False),
    (48, VALLEY * 7, VALLEY * 7, True), (168, VALLEY * 7, VALLEY * 7, False)])
def test_the_one_slice_baseline_serves_a_short_deadline_over_an_uneven_day_as_it_arrives(
        catalog, deadline: float, batch_profile: list[float] | None, profile: list[float],
        served_as_it_arrives: bool) -> None:  # type: ignore[no-untyped-def]
    """One slice is the whole day (week), which refuses a shorter deadline over uneven load: ``explain``
    on a plan with a 12-hour batch class once exited 2 on its own re-solve.  A flat batch class keeps
    its deadline (served as it arrives is then a plan the model finds itself)."""
    sc = scenario(chat={"profile": profile}, batch={"deadline_hours": deadline, "profile": batch_profile})
    label, one = next((label, changed) for label, changed in service_level_cases(sc, catalog)
                      if label.startswith("following"))
    assert one.plan.time_slices == 1
    assert (batch_of(one).deadline_hours is None) == served_as_it_arrives
    assert ("batch served as it arrives" in label) == served_as_it_arrives
    if served_as_it_arrives:
        assert batch_of(one).allow_spot is True
    if deadline < 24 or served_as_it_arrives:
        plan = planner.plan(one, catalog=catalog)
        assert plan.status == "optimal", plan.message
