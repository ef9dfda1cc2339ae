"""How hard a plan drives its lines (:mod:`planner.optimize.line_load`): each line's utilisation by hand
from the roofline's own estimate, the tail the queueing model gives there, and the warning when that
tail misses a class's mean target."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.periods import demand_of, periods_of
from planner.optimize.line_load import tail_warnings
from planner.plan_model import ServedBy
from tests.optimize.test_optimizer import scenario

BASELINE = {"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"], "caching": ["none"],
            "moe": ["none"]}
ONE_TYPE = {"hardware": ["h100-sxm"], "modes": ["on-demand"]}


def test_a_lines_utilisation_is_its_class_demand_over_the_lines_saturated_throughput(  # type: ignore[no-untyped-def]
        catalog) -> None:
    """One class, baseline model, H100 on demand: in each period the class's provisioned rate λ (3e6
    queries/day × 2 peak/average × growth, at the period's end) over the saturated throughput its lines
    hold, Σ n·R with R ``planner.estimate``'s requests/s at each line's TP and batch, is every line's load:
    ρ = λ / Σ n·R, whatever the plan's split of the traffic among them.  The busiest period's P99 TTFT
    exceeds the 1,500 ms mean target, so the plan warns."""
    sc = scenario(techniques=BASELINE, market=ONE_TYPE)
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal" and plan.serving
    demand = demand_of(sc.workload, sc.horizon, periods_of(sc.horizon))
    held: dict[int, float] = {}
    for s in plan.serving:
        rate = planner.estimate("llama-3.1-8b", s.hardware, tp=s.tp, batch=s.batch, input_tokens=600,
                                output_tokens=200, catalog=catalog).requests_per_s
        held[s.period] = held.get(s.period, 0.0) + s.replicas * rate
    for s in plan.serving:
        assert s.utilisation == pytest.approx(demand.peak_rps[0, s.period] / held[s.period], rel=1e-9)
        assert 0 < s.utilisation <= 1 and s.ttft_p99_ms is not None and s.ttft_p99_ms >= s.ttft_ms
    busiest = max(plan.serving, key=lambda s: s.utilisation or 0.0)
    loads = sorted((s.utilisation, s.ttft_p99_ms) for s in plan.serving if s.batch == busiest.batch)
    assert [t for _, t in loads] == sorted(t for _, t in loads)  # the tail grows with the load, same replica
    [warning] = [w for w in plan.warnings if w.startswith("chat is sized at")]
    assert f"{busiest.utilisation:.1%} of its replicas' saturated throughput" in warning
    assert f"P99 TTFT {busiest.ttft_p99_ms:,.0f} ms against the 1,500 ms mean target" in warning


def test_lines_of_one_class_share_its_load_whatever_the_split(catalog) -> None:  # type: ignore[no-untyped-def]
    """Two lines of one class and period, 3 replicas at a = 4 (each carries a quarter of the class) and 1
    at a = 2 (half): together 3/4 + 1/2 = 1.25 times the demand, so both run at 1/1.25 = 80 % of their
    saturated throughput, whether the plan's split filled the second to its last request or not.  A line
    holding no replica has no load; a capped row's line runs at its cap κ times that."""
    from planner.optimize.line_load import with_loads

    table = SimpleNamespace(utilisation_cap=None)
    cs: Any = SimpleNamespace(deployments=table, slot_holding_cv=1.0)
    col: Any = SimpleNamespace(row=0, measured=True)  # measured: no queue to evaluate, the load alone
    full = [(line(replicas=3, traffic_share=0.5), col, 4.0), (line(replicas=1, traffic_share=0.5), col, 2.0),
            (line(replicas=0, traffic_share=0.0, utilisation=None), col, 2.0)]
    loads = [s.utilisation for s in with_loads(cs, full)]
    assert loads[:2] == [pytest.approx(0.8), pytest.approx(0.8)] and loads[2] is None
    table.utilisation_cap = np.array([0.5])
    assert [s.utilisation for s in with_loads(cs, full[:2])] == [pytest.approx(0.4), pytest.approx(0.4)]


def test_under_a_p99_target_every_line_meets_it_and_nothing_is_warned(catalog) -> None:  # type: ignore[no-untyped-def]
    """The P99 target caps each row at ρ_max (candidates, step 5): the plan's lines then run at most
    there, so the tail the same queueing model reports at their load meets the target."""
    plan = planner.plan(scenario(techniques=BASELINE, market=ONE_TYPE, workload={"ttft_p99_ms": 1500}),
                        catalog=catalog)
    assert plan.status == "optimal" and plan.serving
    for s in plan.serving:
        assert s.utilisation is not None and s.utilisation < 1
        assert s.ttft_p99_ms is not None and s.ttft_p99_ms <= 1500 * (1 + 1e-6)
    assert not [w for w in plan.warnings if "saturated throughput" in w]


def line(**over: Any) -> ServedBy:
    data: dict[str, Any] = {"period": 1, "workload": "chat", "variant": "v", "hardware": "h100-sxm", "tp": 2,
                            "batch": 64, "replicas": 3, "gpus": 6, "traffic_share": 1.0, "ttft_ms": 300.0,
                            "tpot_ms": 40.0, "quality_score": None, "utilisation": 0.9, "ttft_p99_ms": 500.0,
                            "tpot_p99_ms": 45.0}
    return ServedBy(**{**data, **over})


def workload(**over: Any) -> SimpleNamespace:
    data: dict[str, Any] = {"name": "chat", "ttft_ms": 800.0, "tpot_ms": 50.0, "ttft_p99_ms": None, "tpot_p99_ms": None,
                            "deadline_hours": None}
    return SimpleNamespace(**{**data, **over})


def test_the_warning_names_the_worst_line_and_only_the_targets_it_misses() -> None:
    """Lines within both mean targets: no warning.  The worst line is the highest P99 TTFT (a saturated
    one first); only the missed targets are named; a class with a P99 target is never warned about."""
    sc: Any = SimpleNamespace(workload=[workload()])
    assert tail_warnings(sc, [line(), line(period=2, ttft_p99_ms=700.0)]) == []
    [one] = tail_warnings(sc, [line(), line(period=2, utilisation=0.97, ttft_p99_ms=2_500.0)])
    assert one.startswith("chat is sized at 97.0% of its replicas' saturated throughput in its busiest hour "
                          "(h100-sxm TP2 b64, period 2)")
    assert "P99 TTFT 2,500 ms against the 800 ms mean target:" in one and "TPOT" not in one.split(":")[0]
    [both] = tail_warnings(sc, [line(utilisation=1.0, ttft_p99_ms=None, tpot_p99_ms=55.0, slice=3),
                                line(period=2, ttft_p99_ms=9_000.0)])
    [seconds] = tail_warnings(sc, [line(ttft_p99_ms=1_160_382.0)])
    assert "P99 TTFT 1,160 s against the 800 ms mean target" in seconds  # not 1,160,382 ms
    [other] = tail_warnings(sc, [line(ttft_p99_ms=2_000.0), line(period=2, ttft_p99_ms=900.0, tpot_p99_ms=70.0)])
    assert "TPOT 70 ms (on h100-sxm TP2 b64) against the 50 ms mean target" in other  # the slowest line's
    assert "in the busiest hour of time slice 3 (h100-sxm TP2 b64, period 1)" in both
    assert ("P99 TTFT unbounded (a saturated queue) against the 800 ms mean target and TPOT 55 ms against the "
            "50 ms mean target") in both
    capped: Any = SimpleNamespace(workload=[workload(ttft_p99_ms=5_000.0)])
    assert tail_warnings(capped, [line(ttft_p99_ms=4_000.0)]) == []
    # each P99 target silences its own metric only (a TPOT target left a 40 s TTFT tail unwarned)
    [ttft_only] = tail_warnings(SimpleNamespace(workload=[workload(tpot_p99_ms=60.0)]),  # type: ignore[arg-type]
                                [line(ttft_p99_ms=4_000.0, tpot_p99_ms=70.0)])
    assert "P99 TTFT 4,000 ms" in ttft_only and "TPOT" not in ttft_only.split("queueing model")[1]
    assert tail_warnings(SimpleNamespace(workload=[workload(deadline_hours=24.0)]),  # type: ignore[arg-type]
                         [line(ttft_p99_ms=None)]) == []  # a deferrable class waits for its hours by design
    assert tail_warnings(sc, [line(utilisation=None, ttft_p99_ms=None), line(measured=True, ttft_p99_ms=None)]) == []


def test_a_sliced_plan_s_lines_carry_their_slice_s_load(catalog) -> None:  # type: ignore[no-untyped-def]
    """The daily-load example (time slices): every chat line carries a load in (0, 1], from its slice's own
    capacity coefficient (a line's replicas are held in that slice only); the deferrable batch class's lines
    carry none (its coefficient is for arrivals, its lines serve the schedule's backlog)."""
    from pathlib import Path

    sc = planner.load_scenario(Path(__file__).resolve().parents[2] / "examples" / "daily-load.toml")
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal" and all(s.slice is not None for s in plan.serving)
    loads = [s.utilisation for s in plan.serving if s.replicas > 0 and s.traffic_share > 0 and s.workload == "chat"]
    assert loads and all(u is not None and 0 < u <= 1 for u in loads)
    assert all(s.utilisation is None and s.ttft_p99_ms is None for s in plan.serving if s.workload == "batch")
