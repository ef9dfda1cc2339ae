"""Variant screening in proof waves (:mod:`planner.optimize.proof_waves`): with disaggregated pairs the
variants after the first wave are searched in waves of their own, and the first wave leaves them a
share of the time; neither may change what is proven."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import planner
from planner.catalog.store import Catalog
from planner.optimize import direct_path, proof_waves, screening
from planner.optimize.direct import ModelData, build
from planner.optimize.direct_solve import run_highs
from planner.optimize.solver import Deadline, SolveStatus
from tests.optimize.test_disaggregation import LONG_PROMPTS

GAP = 1e-4
#: The brute force's gap: far below the screening's, so its minimum is the optimum within GAP.
EXACT_GAP = 1e-7


def _captured(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, disaggregation: bool) -> ModelData:
    """The model data of long prompts over one year, two precisions (captured from the planner; one
    period keeps the brute force fast, and without INT8 the cheapest plan has one variant, no twin)."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": disaggregation}
    data["horizon"] = {"months": 12, "period_months": 12}
    data["market"]["modes"] = ["on-demand", "buy"]
    data["techniques"]["quantization"] = ["none", "fp8"]
    captured: list[ModelData] = []
    real = direct_path.screen_single

    def capture(model_data: ModelData, *args: Any, **kwargs: Any) -> Any:
        captured.append(model_data)
        return real(model_data, *args, **kwargs)

    monkeypatch.setattr(direct_path, "screen_single", capture)
    planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    return captured[0]


@pytest.fixture(scope="module")
def pair_data(catalog: Catalog) -> ModelData:
    with pytest.MonkeyPatch.context() as mp:
        return _captured(catalog, mp, disaggregation=True)


def _every_variant_alone(data: ModelData) -> float:
    """The optimum by brute force: each variant's model solved alone, the cheapest kept (k$)."""
    costs = []
    for v in sorted({int(v) for v in data.variant}):
        outcome = run_highs(build(data, [v]), 120.0, EXACT_GAP)
        assert outcome.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE), outcome.message
        if outcome.objective is not None:
            costs.append(outcome.objective)
    return min(costs)


@pytest.mark.parametrize("side_by_side", [True, False])
def test_later_waves_search_every_variant_and_keep_the_optimum(pair_data: ModelData, monkeypatch: pytest.MonkeyPatch,
                                                               side_by_side: bool) -> None:
    """Every bound set to 0 (valid: costs are not negative) so that no variant is bounded out: the
    variants the first wave leaves are all searched by the later waves — when proofs may not run side by
    side, the first variant alone in the first wave's share and every other one after it — and the plan
    is the brute force's optimum, proven.  A
    later wave's cutoff never comes from a start not yet searched: its variant would be cut off below
    its own plan (the first draft did that, and lost the cheapest plan of a test scenario)."""
    variants = sorted({int(v) for v in pair_data.variant})
    assert len(variants) >= 3  # a first wave of two and at least one after it
    monkeypatch.setattr(proof_waves, "proofs_at_once", lambda threads: side_by_side)
    first: list[int] = []
    later: list[int] = []
    real_first, real_later = proof_waves.first_proofs, proof_waves.later_waves

    def spy_first(*args: Any, **kwargs: Any) -> Any:
        out = real_first(*args, **kwargs)
        first.extend(out)
        return out

    def spy_later(*args: Any, **kwargs: Any) -> Any:
        out = real_later(*args, **kwargs)
        later.extend(out)
        return out

    searched: list[int] = []
    real_solve = screening.solve_model

    def spy_solve(model: Any, *args: Any, **kwargs: Any) -> Any:
        searched.extend(model.variants)
        return real_solve(model, *args, **kwargs)

    monkeypatch.setattr(proof_waves, "first_proofs", spy_first)
    monkeypatch.setattr(proof_waves, "later_waves", spy_later)
    monkeypatch.setattr(screening, "solve_model", spy_solve)
    monkeypatch.setattr(proof_waves, "solve_model", spy_solve)
    found = screening.screen_single(pair_data, {v: 0.0 for v in variants}, Deadline(120.0), GAP, None, {})
    assert found is not None
    _v, _model, outcome = found
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(_every_variant_alone(pair_data), rel=GAP)
    assert len(first) == (2 if side_by_side else 0)
    # each variant searched once, none left to its bound; one at a time the first goes alone, then the waves
    assert sorted(searched) == variants
    assert len(first + later) == len(variants) - (0 if side_by_side else 1)


def test_the_first_wave_leaves_the_later_variants_their_share(pair_data: ModelData, monkeypatch: pytest.MonkeyPatch,
                                                              catalog: Catalog) -> None:
    """With pairs and variants after the first wave, the wave runs under a deadline of
    ``1 − PAIR_LATER_SHARE`` of the time left; with a node limit (a deterministic stop) and for
    co-located models it keeps the plan's whole deadline."""
    deadlines: list[Deadline] = []
    real = proof_waves.first_proofs

    def spy(data: ModelData, wave: Any, prepared: Any, built: Any, deadline: Deadline, *args: Any) -> Any:
        deadlines.append(deadline)
        return real(data, wave, prepared, built, deadline, *args)

    monkeypatch.setattr(proof_waves, "first_proofs", spy)
    limit = 120.0
    plan_deadline = Deadline(limit)
    variants = sorted({int(v) for v in pair_data.variant})
    screening.screen_single(pair_data, {v: 0.0 for v in variants}, plan_deadline, GAP, None, {})
    elapsed = limit - plan_deadline.remaining()
    (wave,) = deadlines
    assert wave is not plan_deadline
    share = 1 - proof_waves.PAIR_LATER_SHARE
    assert share * (limit - elapsed) <= wave.total_s <= share * limit

    deadlines.clear()  # with a node limit (explain's re-solves) the wave keeps the plan's deadline
    plan_deadline = Deadline(limit, node_limit=10_000)
    screening.screen_single(pair_data, {v: 0.0 for v in variants}, plan_deadline, GAP, None, {})
    assert deadlines == [plan_deadline] and deadlines[0] is plan_deadline

    colocated = _captured(catalog, monkeypatch, disaggregation=False)
    monkeypatch.setattr(proof_waves, "first_proofs", spy)
    deadlines.clear()
    plan_deadline = Deadline(limit)
    screening.screen_single(colocated, {int(v): 0.0 for v in set(colocated.variant.tolist())}, plan_deadline, GAP,
                            None, {})
    assert deadlines == [plan_deadline] and deadlines[0] is plan_deadline


def test_a_deadline_portion_ends_within_its_parent() -> None:
    """:meth:`Deadline.portion` takes a share of the time left, never more than is left."""
    parent = Deadline(10.0, start=0.0, node_limit=7)
    now = time.perf_counter()
    parent.start = now - 4.0  # 6 s left
    half = parent.portion(0.5)
    assert half.node_limit == 7
    assert 2.9 <= half.total_s <= 3.0
    assert parent.portion(2.0).total_s <= 6.0
    parent.start = now - 20.0
    assert parent.portion(0.5).total_s == 0.0 and parent.portion(0.5).expired


def test_without_a_plan_known_the_time_is_not_shared(pair_data: ModelData, monkeypatch: pytest.MonkeyPatch) -> None:
    """No start (the start search starved, as under ``explain``'s load): no first wave, and no later
    waves either — every variant would share the time and none find a plan (that run printed a plan
    45× the optimum).  The variants go one after the other, the first with the whole limit, and the
    plan is the brute force's optimum."""
    monkeypatch.setattr(screening, "_prepare_near_ties", lambda *args, **kwargs: {})
    later: list[dict[int, Any]] = []
    real = proof_waves.later_waves

    def spy(*args: Any, **kwargs: Any) -> Any:
        later.append(real(*args, **kwargs))
        return later[-1]

    monkeypatch.setattr(proof_waves, "later_waves", spy)
    variants = sorted({int(v) for v in pair_data.variant})
    found = screening.screen_single(pair_data, {v: 0.0 for v in variants}, Deadline(120.0), GAP, None, {})
    assert later == [{}]
    assert found is not None and found[2].status == SolveStatus.OPTIMAL
    assert found[2].objective == pytest.approx(_every_variant_alone(pair_data), rel=GAP)
