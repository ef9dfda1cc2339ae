"""P99 targets in the plan: a tail target caps each replica below its saturated capacity, so it
never costs less than the same mean target; no tail target leaves the table untouched; a target
no deployment meets at any load is an infeasibility that names it (exit 3), not a crash."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.optimize.candidates import build_candidates
from tests.conftest import merged_scenario
from tests.optimize.test_optimizer import GAP, cost, scenario

#: Enough traffic (1e8 queries/day, ~60 replicas) that replica counts are not all rounding.
BUSY_QUERIES_PER_DAY = 1e8


def _chat(**over: Any) -> planner.Scenario:
    return scenario(workload={"queries_per_day": BUSY_QUERIES_PER_DAY, **over})


@pytest.fixture(scope="module")
def mean_cost(catalog) -> float:  # type: ignore[no-untyped-def]
    return cost(_chat(), catalog)


@pytest.mark.parametrize("tail", [{"ttft_p99_ms": 1500}, {"tpot_p99_ms": 60}, {"ttft_p99_ms": 1500, "tpot_p99_ms": 60}])
def test_a_p99_target_never_costs_less_than_the_same_mean_target(catalog, mean_cost, tail) -> None:  # type: ignore[no-untyped-def]
    assert cost(_chat(**tail), catalog) >= mean_cost * (1 - GAP)


def test_a_p99_ttft_target_costs_more_than_its_mean(catalog, mean_cost) -> None:  # type: ignore[no-untyped-def]
    """TTFT's slot wait diverges at full load, so every replica runs below 100 %: more replicas, and a
    tighter tail costs more still (measured: +4.5 % at 1,500 ms, +9.4 % at 300 ms)."""
    loose, tight = cost(_chat(ttft_p99_ms=1500), catalog), cost(_chat(ttft_p99_ms=300), catalog)
    assert mean_cost * (1 + GAP) < loose < tight


def test_capacity_is_rho_max_times_saturated(catalog) -> None:  # type: ignore[no-untyped-def]
    plain = build_candidates(_chat(), catalog).deployments
    tail = build_candidates(_chat(ttft_p99_ms=1500), catalog).deployments
    assert plain.utilisation_cap is None and tail.utilisation_cap is not None
    fits = plain.result.fits
    cap = tail.utilisation_cap[fits]
    assert np.all((cap >= 0) & (cap < 1))  # a TTFT tail target never allows 100 %
    np.testing.assert_allclose(tail.result.requests_per_s[fits], cap * plain.result.requests_per_s[fits])
    assert np.all(tail.latency_ok <= plain.latency_ok)  # the tail only removes rows


def test_no_tail_target_leaves_the_table_unchanged(catalog) -> None:  # type: ignore[no-untyped-def]
    a, b = build_candidates(_chat(), catalog).deployments, build_candidates(_chat(), catalog).deployments
    assert a.utilisation_cap is None
    np.testing.assert_array_equal(a.result.requests_per_s, b.result.requests_per_s)
    np.testing.assert_array_equal(a.latency_ok, b.latency_ok)


def test_a_p99_below_the_unloaded_latency_is_a_named_infeasibility(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = _chat(ttft_p99_ms=1)
    cs = build_candidates(sc, catalog)
    reasons = [e.reason for e in cs.exclusions if e.family == "latency"]
    assert reasons and "TTFT P99 1 ms" in reasons[0] and "lowest unloaded P99" in reasons[0]
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "infeasible"
    assert "P99 targets are unreachable" in plan.message


def test_cli_exit_3_for_an_unreachable_p99(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--set", "workload.chat.tpot_p99_ms=0.1")
    assert r.code == 3, r.err
    assert "TPOT P99 0.1 ms" in r.out


def test_merged_scenario_accepts_the_tail_fields() -> None:
    sc = merged_scenario(_chat().model_dump(mode="json"), workload={"ttft_p99_ms": 900})
    assert sc.workload[0].ttft_p99_ms == 900
