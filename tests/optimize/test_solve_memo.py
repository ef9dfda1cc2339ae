"""The solve memo (planner.optimize.solve_memo): what one screening proved decides later solves of
the same single-variant models exactly — an alternative found through it is the fresh answer within
the auxiliary gap, and a re-solve with looser floors never comes back dearer than the plan."""

from __future__ import annotations

import math
from typing import Any

import pytest

import planner
from planner.insight.resolve import AUX_GAP_REL, aux_scenario
from planner.optimize.candidates import build_candidates
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.planning import plan_scenario
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import SolveStatus
from tests.conftest import merged_scenario


def scenario(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "memo", "model": {"base": "llama-3.1-70b"},
        "workload": [{"name": "chat", "queries_per_day": 2e6, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80}],
        "horizon": {"months": 12, "period_months": 3, "growth_per_year": 1.0},
        "market": {"hardware": ["h100-sxm", "a100-80gb"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": {"quantization": ["none", "fp8", "int8"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]},
        "quality": {"max_drop": 2.0},
    }
    return merged_scenario(data, **over)


def _model(catalog):  # type: ignore[no-untyped-def]
    """A single-variant model of the scenario above, built as the screening builds it."""
    from planner.economics.offers import mode_offers
    from planner.economics.periods import demand_of, periods_of
    from planner.optimize.direct import build, model_data
    from planner.optimize.planning import one_time_costs
    from planner.optimize.pruning import prune, quality_floors

    sc = scenario()
    cs = build_candidates(sc, catalog)
    periods = periods_of(sc.horizon)
    demand = demand_of(sc.workload, sc.horizon, periods)
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods)
    columns, _ = prune(cs, 1, floors)
    data = model_data(sc, cs, columns, offers, periods, demand, one_time_costs(sc, cs, catalog), floors)
    return build(data, [columns[0].variant])


def test_memo_decides_only_what_was_proven(catalog) -> None:  # type: ignore[no-untyped-def]
    """A cutoff proof at gap g proves no plan below cutoff·(1 − g), not more; an optimum at g₀ answers
    any gap ≥ g₀ and proves its bound; nothing is recorded from a solve stopped by a limit."""
    model, memo = _model(catalog), SolveMemo()
    memo.record(model, 1e-2, 100.0, DirectOutcome(SolveStatus.CUTOFF, 0.0, None, None, None, None, "cut off"))
    assert memo.lookup(model, 1e-2, 99.0) is not None  # 99 ≤ 100·0.99: proven out
    assert memo.lookup(model, 1e-2, 99.5) is None  # above what the proof covers: solve it
    assert memo.lookup(model, 1e-2, None) is None
    values = model.col_lower.copy()
    optimum = DirectOutcome(SolveStatus.OPTIMAL, 0.0, 120.0, 119.9, 1e-3, values, "optimal")
    memo.record(model, 1e-3, None, optimum)
    assert memo.lookup(model, 1e-4, None) is None  # proven at 1e-3 only
    assert memo.lookup(model, 5e-3, None) is optimum
    cut = memo.lookup(model, 5e-3, 119.9)
    assert cut is not None and cut.status == SolveStatus.CUTOFF  # every plan costs at least its bound
    other = SolveMemo()
    other.record(model, 1e-3, None, DirectOutcome(SolveStatus.FEASIBLE, 0.0, 120.0, 110.0, 0.08, values, "limit"))
    assert other.lookup(model, 1.0, 1e9) is None and not other.entries[next(iter(other.entries))].solution


def test_alternatives_through_the_memo_are_the_fresh_answers(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(techniques={"caching": ["none", "prefix", "response"]},  # near-tied variants: several solved
                  workload={"shared_prefix_tokens": 500, "repeat_rate": 0.1})
    cs = build_candidates(sc, catalog)
    memo = SolveMemo()
    plan = plan_scenario(sc, catalog, candidates=cs, memo=memo)
    assert plan.status == "optimal" and memo.entries
    excluded = frozenset(plan.variant_names)
    reused = plan_scenario(aux_scenario(sc), catalog, candidates=cs, exclude_variants=excluded, memo=memo)
    fresh = plan_scenario(aux_scenario(sc), catalog, candidates=cs, exclude_variants=excluded)
    assert memo.reused > 0
    assert reused.status == fresh.status == "optimal"
    assert reused.lifetime_cost_usd is not None and fresh.lifetime_cost_usd is not None
    # both are optimal within the auxiliary gap, so each is within it of the other's proven bound
    assert reused.lifetime_cost_usd * (1 - AUX_GAP_REL) <= fresh.lifetime_cost_usd + 1e-6
    assert fresh.lifetime_cost_usd * (1 - AUX_GAP_REL) <= reused.lifetime_cost_usd + 1e-6


def test_looser_floors_through_the_memo_never_cost_more_than_the_plan(catalog) -> None:  # type: ignore[no-untyped-def]
    """The plan stays feasible with every floor a point lower; with the memo its proven answer is the
    first incumbent, so the re-solve returns it or something cheaper (a fresh re-solve may stop within
    its gap *above* the plan and report a negative saving)."""
    sc = scenario()
    memo = SolveMemo()
    plan = plan_scenario(sc, catalog, memo=memo)
    looser = plan_scenario(aux_scenario(scenario(quality={"max_drop": 3.0})), catalog, memo=memo)
    assert plan.lifetime_cost_usd is not None and looser.lifetime_cost_usd is not None
    assert looser.status == "optimal"
    assert looser.lifetime_cost_usd <= plan.lifetime_cost_usd + 1e-6
    assert math.isfinite(looser.lifetime_cost_usd)


@pytest.mark.parametrize("gap", [1e-4, AUX_GAP_REL])
def test_memo_never_answers_a_tighter_gap_than_it_proved(catalog, gap: float) -> None:  # type: ignore[no-untyped-def]
    model, memo = _model(catalog), SolveMemo()
    memo.record(model, AUX_GAP_REL, None, DirectOutcome(SolveStatus.OPTIMAL, 0.0, 10.0, 9.96, AUX_GAP_REL,
                                                       model.col_lower.copy(), "optimal"))
    assert (memo.lookup(model, gap, None) is not None) == (gap >= AUX_GAP_REL)
