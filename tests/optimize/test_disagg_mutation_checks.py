"""Disaggregated columns and the time-sliced pair screening: rules a mutation review found unchecked.

Each test pins a rule of :mod:`planner.optimize.disagg_columns`, :mod:`planner.optimize.disagg_domains`,
:mod:`planner.optimize.disagg_milp`, :mod:`planner.optimize.disagg_inputs` or
:mod:`planner.optimize.sliced_pairs` that ``test_disagg_hand_figures``, ``test_disaggregation``,
``test_disagg_domains`` and ``test_sliced_pairs`` left open, by arithmetic written here, on tiny
hand-made inputs (stubs instead of candidate sets, no MILP solved).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from planner.catalog.store import Catalog
from planner.optimize import sliced_pairs
from planner.optimize import solver as solvers
from planner.optimize.disagg_columns import (
    PairColumn,
    _best,
    _feasible_pairs,
    _Rows,
    _undominated,
    pool_pair_inputs,
)
from planner.optimize.disagg_domains import unit_bound
from planner.optimize.disagg_inputs import kv_links
from planner.optimize.sliced_bounds import ClassCosts
from planner.optimize.sliced_pairs import _Search, best_pair_bounds, sliced_pair_bounds
from planner.optimize.solver import SolveOutcome, SolveStatus
from planner.physics.profile import base_profile


def _pair(**over: Any) -> PairColumn:
    """A free pair of variant 0, class 0: prefill TP2 on hardware 0 at 1 rps, decode TP4 on hardware 1 at
    4 rps, over IB (``test_disagg_hand_figures``' pair)."""
    values: dict[str, Any] = {"variant": 0, "workload": 0, "prefill_hardware": 0, "prefill_tp": 2, "prefill_batch": 1,
                              "prefill_rps": 1.0, "decode_hardware": 1, "decode_tp": 4, "decode_batch": 8,
                              "decode_rps": 4.0, "link": "ib-ndr", "link_utilisation": 0.1, "ttft_ms": 100.0,
                              "tpot_ms": 20.0, "kv_bytes_per_request": 1e6}
    return PairColumn(**{**values, **over})


# ------------------------------------------------------------------------------ disagg_columns


def test_a_units_idle_gpus_count_each_pools_replicas_at_its_own_tp() -> None:
    """``idle = g_U − p·t_p − d·t_d``: unit ``(3, 1)`` of prefill TP1 and decode TP4 in an 8-GPU block
    holds 3 × 1 + 1 × 4 = 7 GPUs of replicas, 1 idle (read the other way round, 1 × 1 + 3 × 4 = 13 would
    not even fit).  A free pair (no unit) has none."""
    unit = _pair(prefill_tp=1, decode_hardware=0, decode_tp=4, link="nvlink4", unit=(3, 1), unit_gpus=8)
    assert unit.idle_gpus == 8 - 3 * 1 - 1 * 4 == 1
    assert _pair().idle_gpus == 0


def test_the_best_batch_of_a_pool_is_its_fastest_feasible_one_ties_to_the_smaller() -> None:
    """Steps 1-2 keep, per key, the feasible batch with the largest rate; of equal rates the smaller batch
    (listed first).  A row that is infeasible, or whose rate is 0, infinite or NaN, is no candidate."""
    keys: list[tuple[int, ...]] = [(0, 1, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (0, 2, 0), (0, 2, 0), (0, 2, 0),
                                   (0, 4, 0)]
    batch = [1, 2, 4, 8, 1, 2, 4, 1]
    rate = np.array([2.0, 3.0, 3.0, 9.0, 0.0, np.inf, np.nan, 5.0])
    ok = np.array([True, True, True, False, True, True, True, False])
    # key TP1: batch 8's 9 rps is infeasible; 2 and 4 tie at 3 rps -> batch 2.  TP2: no valid rate.  TP4: infeasible
    assert _best(keys, batch, rate, ok) == {(0, 1, 0): (2, 3.0)}


def test_of_pairs_on_the_same_gpus_only_the_fastest_is_kept() -> None:
    """Step 4 on pairs of prefill TP1 + decode TP2 (inter-node): the one at 1 rps of prefill is
    dominated by the one at 2 rps (the same GPUs, more requests/s) whatever order they arrive in, and
    so is a TP2 prefill at 3 rps (more GPUs, 1.5 rps per GPU < 2): only the 2-rps pair (batch 2) is kept."""
    slow = ((1, 1.0, 2, 3.0, False), (0, 1, 1, 0, 2, 8, 0))
    fast = ((1, 2.0, 2, 3.0, False), (0, 1, 2, 0, 2, 8, 0))
    wide = ((2, 3.0, 2, 3.0, False), (0, 2, 1, 0, 2, 8, 0))
    for group in ([slow, fast, wide], [wide, fast, slow]):
        kept, expected = _undominated({(0, 0): list(group)})
        assert kept.pt == [1] and kept.pb == [2] and expected == [(2.0, 3.0)]


def test_an_intra_node_link_between_two_types_is_held_to_the_smaller_domain() -> None:
    """Step 3: over an intra-node link ``t_p + t_d ≤`` the *smaller* scale-up domain.  An 8-GPU type (0)
    feeding a 4-GPU type (1) over a made-up intra-node link: TP ladders 1-8 and 1-4, kept only where
    ``t_p + t_d ≤ 4`` — (1, 1), (1, 2), (2, 1), (2, 2); with the larger domain 8 it would be 9 shapes."""
    hardware = [SimpleNamespace(slug="big", scaleup_domain_gpus=8), SimpleNamespace(slug="small", scaleup_domain_gpus=4)]
    links = [SimpleNamespace(scope="intra-node")]
    prefill = {(0, t, 0, td): (1, 1.0 * t) for t in (1, 2, 4, 8) for td in (1, 2, 4)}
    decode = {(1, td, 0): (8, 2.0 * td) for td in (1, 2, 4)}
    scenario = SimpleNamespace(market=SimpleNamespace(quota_gpus={}))
    groups = _feasible_pairs(scenario, hardware, links, {(0, 1, 0)}, prefill, decode, 1)  # type: ignore[arg-type]
    assert sorted((f[0], f[2]) for f, _row in groups[(0, 1)]) == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_pool_rows_carry_the_classs_targets_and_the_catalogs_slot_holding_cv(catalog: Catalog) -> None:
    """Besides the links (``test_disagg_hand_figures``), each row carries the class's mean TPOT target and
    both P99 targets (``inf``: none) and the catalog's ``slot_holding_time_cv`` (0.5 in a copy whose
    default is changed from 1.0); no decode EP without ``E_p > 1``; the prefill pool runs the prompt and
    one output token (``PREFILL_OUTPUT_TOKENS``), the decode pool the class's 100."""
    cat = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"slot_holding_time_cv": 0.5}))
    profile = base_profile(cat.models["llama-3.1-70b"], "fp8", None, cat)
    rows = _Rows.empty()
    rows.add(0, 2, 1, 0, 4, 8, 0)
    rows.add(0, 4, 2, 0, 2, 16, 0)
    inp = pool_pair_inputs(profile, [cat.hardware["h100-sxm"]], [cat.links["ib-ndr"]], rows, cat, input_tokens=1000,
                           output_tokens=100, ttft_target_s=5.0, tpot_target_s=0.04, ttft_p99_s=9.0)
    assert inp.holding_cv == 0.5
    np.testing.assert_array_equal(inp.ttft_target_s, [5.0, 5.0])
    np.testing.assert_array_equal(inp.tpot_target_s, [0.04, 0.04])
    assert inp.ttft_p99_s is not None and inp.tpot_p99_s is not None
    np.testing.assert_array_equal(inp.ttft_p99_s, [9.0, 9.0])
    np.testing.assert_array_equal(inp.tpot_p99_s, [np.inf, np.inf])
    assert inp.decode_expert_parallel is None and inp.decode_scaleup is None
    np.testing.assert_array_equal(inp.prefill.output_tokens, [1.0, 1.0])
    np.testing.assert_array_equal(inp.decode.output_tokens, [100.0, 100.0])
    np.testing.assert_array_equal(inp.prefill.tp, [2.0, 4.0])
    np.testing.assert_array_equal(inp.decode.batch, [8.0, 16.0])


# ------------------------------------------------------------------------------ sliced_pairs


def _costs() -> ClassCosts:
    """Two variants (0, 1), one class of two items (slices) of volume 0.25 and 0.75, one period.
    Item costs ($): variant 0 serves them for 100 and 300, variant 1 for 200 and 200; fixed costs
    $1,000 and $2,000."""
    return ClassCosts(fixed_usd={0: 1000.0, 1: 2000.0},
                      items={(0, 0): np.array([[100.0, 300.0]]), (1, 0): np.array([[200.0, 200.0]])},
                      volume=[np.array([0.25, 0.75])])


def test_the_pair_bound_adds_both_fixed_costs_and_the_cheapest_split_in_kusd() -> None:
    """``LB(0, 1) = F_0 + F_1 + min Σ_k w_k a_k + (1 − w_k) b_k``: without a floor each item goes to the
    cheaper variant — item 0 to variant 0 ($100), item 1 to variant 1 ($200) — so 1,000 + 2,000 + 300 =
    $3,300 = 3.3 k$.  With a floor that only variant 1 meets (qualities 60 and 80, floor 70: the blend
    ``80 − 20W ≥ 70`` needs ``W ≤ 0.5`` on variant 0), W = 0.25 is already inside: still 3.3 k$.  With
    floor 76 (``W ≤ 0.2``), only 0.2 of item 0's 0.25 moves: 100 × 0.8 + 200 × 0.2 + 200 = $320 → 3.32 k$."""
    quality: dict[int, list[float | None]] = {0: [60.0], 1: [80.0]}
    assert sliced_pair_bounds(_costs(), quality, [None], [0, 1], 1) == {(0, 1): pytest.approx(3.3, rel=1e-12)}
    assert sliced_pair_bounds(_costs(), quality, [70.0], [0, 1], 1) == {(0, 1): pytest.approx(3.3, rel=1e-12)}
    assert sliced_pair_bounds(_costs(), quality, [76.0], [0, 1], 1) == {(0, 1): pytest.approx(3.32, rel=1e-12)}


def test_one_variant_below_the_floor_constrains_the_blend() -> None:
    """One variant below the floor puts a row on the blend: qualities 70 (variant 0, at the floor) and
    60 (variant 1, below), floor 70: ``60 + 10W ≥ 70`` needs ``W = 1``, everything on variant 0:
    1,000 + 2,000 + 100 + 300 = $3,400 (not the free split's $3,300)."""
    quality: dict[int, list[float | None]] = {0: [70.0], 1: [60.0]}
    assert sliced_pair_bounds(_costs(), quality, [70.0], [0, 1], 1) == {(0, 1): pytest.approx(3.4, rel=1e-12)}
    # both below the floor: no blend meets it, no bound (inf)
    assert sliced_pair_bounds(_costs(), {0: [60.0], 1: [60.0]}, [70.0], [0, 1], 1) == {(0, 1): np.inf}


def test_the_stronger_of_the_two_pricings_bounds_a_pair() -> None:
    """Both pricings give valid bounds: the larger is kept (3.3 vs 3.5 k$ → 3.5)."""
    dearer = ClassCosts(fixed_usd={0: 1200.0, 1: 2000.0}, items=_costs().items, volume=_costs().volume)
    quality: dict[int, list[float | None]] = {0: [None], 1: [None]}
    for pricings in ([_costs(), dearer], [dearer, _costs()]):
        assert best_pair_bounds(pricings, quality, [None], [0, 1], 1) == {(0, 1): pytest.approx(3.5, rel=1e-12)}


def _outcome(status: SolveStatus, seconds: float = 1.0, bound: float | None = None) -> SolveOutcome:
    return SolveOutcome(status, "highs", seconds, None, "", bound)


def _problem(objective: float) -> Any:
    return SimpleNamespace(prob=SimpleNamespace(objective=objective))


def test_the_search_starts_from_the_variant_screenings_answer() -> None:
    """A proven single-variant plan (100 k$, 3 s) is the incumbent with no open bound; a feasible one
    (unproven) also leaves its bound (90) open, or 0 when it gave none; an infeasible or cut-off answer
    leaves nothing; a stopped one (no plan) leaves its bound."""
    proven = _Search.after((_problem(100.0), _outcome(SolveStatus.OPTIMAL, 3.0)))
    assert proven.best is not None and proven.best[2] == 100.0 and proven.open_bounds == [] and proven.seconds == 3.0
    feasible = _Search.after((_problem(100.0), _outcome(SolveStatus.FEASIBLE, bound=90.0)))
    assert feasible.best is not None and feasible.best[2] == 100.0 and feasible.open_bounds == [90.0]
    assert _Search.after((_problem(100.0), _outcome(SolveStatus.FEASIBLE))).open_bounds == [0.0]
    for status in (SolveStatus.INFEASIBLE, SolveStatus.CUTOFF):
        state = _Search.after((_problem(100.0), _outcome(status)))
        assert state.best is None and state.open_bounds == []
    stopped = _Search.after((_problem(100.0), _outcome(SolveStatus.NO_SOLUTION, bound=70.0)))
    assert stopped.best is None and stopped.open_bounds == [70.0]
    empty = _Search.after(None)
    assert empty.best is None and empty.open_bounds == [] and empty.seconds == 0.0
    # searched below the incumbent itself, closed by a bound within the gap: 100 × (1 − 0.01) = 99; none
    # without an incumbent
    assert proven.cutoff(0.01) == (100.0, pytest.approx(99.0, rel=1e-12)) and empty.cutoff(0.01) == (None, None)


def test_each_searched_pair_updates_the_incumbent_and_the_open_bounds() -> None:
    """``record``: a cheaper plan (80 < 100) becomes the incumbent, a dearer one (120) does not; a
    feasible search leaves ``max(lower, its bound)`` open (relaxation 75, search bound 78 → 78; 85 with
    a bound of 70 → 85; no bound → the relaxation); a stopped one leaves its relaxation; a cut-off or
    infeasible one nothing.  Every call counts one pair and its seconds."""
    state = _Search.after((_problem(100.0), _outcome(SolveStatus.OPTIMAL, 3.0)))
    state.record(_problem(120.0), 60.0, _outcome(SolveStatus.OPTIMAL, 2.0))
    assert state.best is not None and state.best[2] == 100.0
    state.record(_problem(80.0), 75.0, _outcome(SolveStatus.FEASIBLE, 2.0, bound=78.0))
    assert state.best is not None and state.best[2] == 80.0 and state.open_bounds == [78.0]
    state.record(_problem(90.0), 85.0, _outcome(SolveStatus.FEASIBLE, 1.0, bound=70.0))
    state.record(_problem(90.0), 86.0, _outcome(SolveStatus.FEASIBLE, 1.0))
    state.record(_problem(0.0), 72.0, _outcome(SolveStatus.NO_SOLUTION, 1.0))
    state.record(_problem(0.0), 50.0, _outcome(SolveStatus.CUTOFF, 1.0))
    state.record(_problem(0.0), 50.0, _outcome(SolveStatus.INFEASIBLE, 1.0))
    assert state.best is not None and state.best[2] == 80.0
    assert state.open_bounds == [78.0, 85.0, 86.0, 72.0]
    assert state.solved == 7 and state.seconds == pytest.approx(3.0 + 2 + 2 + 1 + 1 + 1 + 1 + 1)


def test_without_a_plan_stopped_searches_prove_nothing_and_closed_ones_prove_infeasibility() -> None:
    """``no_plan``: open bounds (stopped searches) give ``no_solution`` with the lowest of them (60 of
    60 and 75); none give ``infeasible``."""
    deadline = solvers.Deadline(10.0)
    state = _Search(open_bounds=[75.0, 60.0], seconds=4.0)
    stopped = state.no_plan("highs", "3 pairs", deadline)
    assert stopped.status == SolveStatus.NO_SOLUTION and stopped.bound == 60.0 and stopped.seconds == 4.0
    assert stopped.message.startswith("no plan found: ")
    closed = _Search(seconds=4.0).no_plan("highs", "3 pairs", deadline)
    assert closed.status == SolveStatus.INFEASIBLE and closed.bound is None
    assert closed.message == "no plan of one or two variants meets every constraint (3 pairs screened)"


# ------------------------------------------------------------------ build_pair_columns on a small scenario


def _small(catalog: Catalog) -> tuple[Any, Any, Any]:
    """LONG_PROMPTS (Llama-3.1-70B FP8 on H100 and H200) with only IB NDR for the KV cache: its scenario,
    candidate set and pruned co-located columns."""
    from planner.optimize.candidates import build_candidates
    from planner.optimize.pruning import prune, quality_floors
    from tests.optimize.test_disagg_hand_figures import _scenario

    scenario = _scenario(plan={"disaggregation": True, "kv_links": ["ib-ndr"]})
    cs = build_candidates(scenario, catalog)
    columns, _ = prune(cs, scenario.plan.max_variants, quality_floors(scenario.workload, scenario.quality,
                                                                      cs.base_score))
    return scenario, cs, columns


def test_pools_sit_only_on_the_hardware_offered(catalog: Catalog) -> None:
    """``build_pair_columns``' ``offered_hardware``: with only H100 offered (H200 has no offer), every
    pool of every pair is on H100; with both, some pool is on H200.  The stats count the feasible pairs
    the columns were chosen from."""
    from planner.optimize.disagg_columns import build_pair_columns

    scenario, cs, columns = _small(catalog)
    slugs = [h.slug for h in cs.hardware]
    h100 = slugs.index("h100-sxm")
    pairs, stats, _s = build_pair_columns(scenario, catalog, cs, columns, {h100})
    assert pairs and all(k.prefill_hardware == k.decode_hardware == h100 for k in pairs)
    # over IB no pair is split into domain units: each column is one of the feasible pairs counted
    assert stats["disagg_pairs_feasible"] >= stats["disagg_columns"] == len(pairs)
    both, _stats, _s = build_pair_columns(scenario, catalog, cs, columns, set(range(len(slugs))))
    assert any(slugs[k.prefill_hardware] == "h200" or slugs[k.decode_hardware] == "h200" for k in both)


def test_kept_pairs_that_the_whole_row_evaluation_does_not_reproduce_are_refused(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 5 checks the separation: were the per-pool rates recorded for the kept pairs 1 % off the
    whole-row evaluation, the build stops (RuntimeError) instead of pricing columns on wrong rates."""
    from planner.optimize import disagg_columns

    scenario, cs, columns = _small(catalog)
    real = disagg_columns._undominated

    def off(groups: Any) -> Any:
        kept, expected = real(groups)
        return kept, [(p * 1.01, d) for p, d in expected]

    monkeypatch.setattr(disagg_columns, "_undominated", off)
    with pytest.raises(RuntimeError, match="per-pool evaluation disagrees with the whole rows"):
        disagg_columns.build_pair_columns(scenario, catalog, cs, columns, set(range(len(cs.hardware))))


# ------------------------------------------------------------------ the pair search, its solves stubbed


def _screen(monkeypatch: pytest.MonkeyPatch, bounds: dict[tuple[int, int], float],
            relaxed: dict[tuple[int, int], tuple[SolveStatus, float]],
            searched: dict[tuple[int, int], tuple[SolveStatus, float]], *, node_limit: int | None = None,
            single: float | None = 100.0, gap: float = 0.1) -> tuple[dict[str, Any], list[Any], dict[str, int]]:
    """``screen_pairs`` over variants 0-2 with its pair bounds (k$) given, each pair's relaxation
    (status, k$) and search (status, plan's k$) stubbed, one solver thread (one pair at a time); the
    variant screening's proven plan of ``single`` k$.  Returns what ``screened_status`` received, the
    pairs built in order and the stats."""
    built: list[Any] = []
    seen: dict[str, Any] = {}

    def model(_sc: Any, _cs: Any, _cols: Any, pair: tuple[int, int], *_args: Any) -> Any:
        built.append(pair)
        return SimpleNamespace(prob=SimpleNamespace(objective=None, pair=pair))

    def run(prob: Any, *_args: Any, **_kw: Any) -> SolveOutcome:
        status, value = relaxed[prob.pair]
        prob.objective = value
        return _outcome(status, 0.5)

    def search(problem: Any, _sc: Any, _deadline: Any, _gap: float, cutoff: float | None) -> Any:
        def job() -> SolveOutcome:
            seen.setdefault("cutoffs", []).append((problem.prob.pair, cutoff))
            status, value = searched[problem.prob.pair]
            problem.prob.objective = value
            return _outcome(status, 1.0)
        return job

    def status(outcome: SolveOutcome, cost: float, open_bounds: list[float], *_args: Any) -> SolveOutcome:
        seen.update(cost=cost, open_bounds=list(open_bounds))
        return outcome

    monkeypatch.setattr(sliced_pairs, "sliced_class_costs", lambda *a, **k: None)
    monkeypatch.setattr(sliced_pairs, "best_pair_bounds", lambda *a, **k: dict(bounds))
    monkeypatch.setattr(sliced_pairs, "_pair_model", model)
    monkeypatch.setattr(sliced_pairs.solvers, "run", run)
    monkeypatch.setattr(sliced_pairs, "_search", search)
    monkeypatch.setattr(sliced_pairs, "screened_status", status)
    profile = SimpleNamespace(quality_score=None)
    cs = SimpleNamespace(variants=[SimpleNamespace(profiles={"chat": profile})] * 3, workloads=["chat"])
    columns = [SimpleNamespace(variant=v) for v in range(3)]
    scenario = SimpleNamespace(workload=[], horizon=SimpleNamespace(peak_to_average=1.0),
                               solver=SimpleNamespace(name="highs", threads=1))
    first = None if single is None else (_problem(single), _outcome(SolveStatus.OPTIMAL, 2.0))
    stats: dict[str, int] = {}
    sliced_pairs.screen_pairs(scenario, cs, columns, [], SimpleNamespace(count=1), None, {}, [None], None,  # type: ignore[arg-type]
                              solvers.Deadline(1e6, node_limit=node_limit), gap, stats, first)
    return seen, built, stats


def test_pairs_are_searched_in_bound_order_below_the_incumbent_less_the_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 100 k$, gap 10 %: searched below 100, closed by a bound of 90.  Pairs by bound: (1, 2) at
    50, (0, 1) at 60, (0, 2) at 89 (and one without a bound, never built).  (1, 2): relaxed to 55, searched
    below 100, a plan of 80 k$ — the new incumbent, bar 72.  (0, 1): bound 60 < 72, but its relaxation
    (75 ≥ 72) closes it without a search.  (0, 2): bound 89 ≥ 72, nor built.  Screened 4, bounded 2, searched 1; the plan: 80 k$, no
    bound left open."""
    seen, built, stats = _screen(
        monkeypatch, {(1, 2): 50.0, (0, 1): 60.0, (0, 2): 89.0, (0, 3): np.inf},
        relaxed={(1, 2): (SolveStatus.OPTIMAL, 55.0), (0, 1): (SolveStatus.OPTIMAL, 75.0)},
        searched={(1, 2): (SolveStatus.OPTIMAL, 80.0)})
    assert built == [(1, 2), (0, 1)]
    assert seen["cutoffs"] == [((1, 2), 100.0)]
    assert seen["cost"] == 80.0 and seen["open_bounds"] == []
    assert stats == {"pairs_screened": 4, "pairs_lp_bounded": 2, "pairs_solved": 1}


def test_an_infeasible_relaxation_closes_a_pair_and_a_stopped_search_leaves_its_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 100, gap 0 (cutoff 100).  (0, 1) at 50: its relaxation is infeasible, no search.  (0, 2) at
    60: relaxed to 58 (float noise below its bound), the search stops without a plan — the larger of the
    two, 60, stays open.  (1, 2) at 70: relaxation not proven (a time limit) — the pair's bound 70 is its
    lower bound — and its search finds 95 k$ without a bound of its own: 70 stays open.  The plan is 95."""
    seen, built, stats = _screen(
        monkeypatch, {(0, 1): 50.0, (0, 2): 60.0, (1, 2): 70.0},
        relaxed={(0, 1): (SolveStatus.INFEASIBLE, 0.0), (0, 2): (SolveStatus.OPTIMAL, 58.0),
                 (1, 2): (SolveStatus.NO_SOLUTION, 0.0)},
        searched={(0, 2): (SolveStatus.NO_SOLUTION, 0.0), (1, 2): (SolveStatus.FEASIBLE, 95.0)}, gap=0.0)
    assert built == [(0, 1), (0, 2), (1, 2)]
    assert [pair for pair, _cut in seen["cutoffs"]] == [(0, 2), (1, 2)]
    assert seen["cost"] == 95.0 and seen["open_bounds"] == [60.0, 70.0]
    assert stats == {"pairs_screened": 3, "pairs_lp_bounded": 3, "pairs_solved": 2}


def test_under_a_node_limit_one_pair_is_searched_and_the_rest_keep_their_bounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``solver.node_limit`` set: after the first pair searched ((0, 1) at 50, no better plan: 120), the
    pairs still below the cutoff 90 ((0, 2) at 60, (1, 2) at 85) are left with their bounds, unbuilt."""
    seen, built, stats = _screen(
        monkeypatch, {(0, 1): 50.0, (0, 2): 60.0, (1, 2): 85.0},
        relaxed={(0, 1): (SolveStatus.OPTIMAL, 52.0)}, searched={(0, 1): (SolveStatus.OPTIMAL, 120.0)},
        node_limit=1)
    assert built == [(0, 1)]
    assert seen["cost"] == 100.0 and seen["open_bounds"] == [60.0, 85.0]
    assert stats["pairs_solved"] == 1


def test_a_pairs_search_is_given_its_cutoff_in_dollars(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screening works in k$, the staged solve in $: a cutoff of 72 k$ is $72,000; none stays none."""
    calls: list[Any] = []
    monkeypatch.setattr(sliced_pairs, "solve_staged", lambda problem, sc, deadline, gap, cutoff: calls.append(cutoff))
    sliced_pairs._search(None, None, None, 0.01, 72.0)()  # type: ignore[arg-type]
    sliced_pairs._search(None, None, None, 0.01, None)()  # type: ignore[arg-type]
    assert calls == [pytest.approx(72_000.0), None]


# ------------------------------------------------------------------------------ disagg_inputs


def test_links_of_equal_bandwidth_are_ordered_by_slug(catalog: Catalog) -> None:
    """Fastest first, ties by slug (not by name): two 50 GB/s rows ``ib-a`` named "Zeta" and ``ib-b``
    named "Alpha" come back ``ib-a``, ``ib-b``, after NVLink 4 (450 GB/s)."""
    from tests.optimize.test_disagg_hand_figures import _scenario

    ib = catalog.links["ib-ndr"]
    links = {"ib-b": ib.model_copy(update={"slug": "ib-b", "name": "Alpha"}),
             "ib-a": ib.model_copy(update={"slug": "ib-a", "name": "Zeta"}), "nvlink4": catalog.links["nvlink4"]}
    cat = dataclasses.replace(catalog, links=links)
    assert [r.slug for r in kv_links(_scenario(), cat)] == ["nvlink4", "ib-a", "ib-b"]


def test_without_a_market_list_every_catalogued_type_can_be_joined(catalog: Catalog) -> None:
    """``market.hardware`` unset means every catalogued type: NVLink 3 (A100s only) is then a link some
    pair of the market can use, and is accepted."""
    from tests.optimize.test_disagg_hand_figures import _scenario

    scenario = _scenario(plan={"disaggregation": True, "kv_links": ["nvlink3"]})
    scenario = scenario.model_copy(update={"market": scenario.market.model_copy(update={"hardware": None})})
    assert not scenario.market.hardware
    assert [r.slug for r in kv_links(scenario, catalog)] == ["nvlink3"]


# ------------------------------------------------------------------------------ disagg_domains


def test_a_units_domain_bound_holds_the_replica_floor_in_each_pool() -> None:
    """``U ≤ max(1, ⌈R/p⌉, ⌈R/d⌉, ⌈a^U⌉)``: unit (2, 1), floor R = 3, load 0.5: the decode pool needs
    ⌈3/1⌉ = 3 domains for its 3 replicas (the prefill pool ⌈3/2⌉ = 2); floor 5 on unit (2, 3): ⌈5/2⌉ = 3,
    ⌈5/3⌉ = 2 → 3.  A load within 1e-9 of a whole number is that number (2 + 1e-12 → 2); 2.5 → 3."""
    assert float(unit_bound(0.5, 3, (2, 1))) == 3
    assert float(unit_bound(0.5, 5, (2, 3))) == 3
    assert float(unit_bound(2 + 1e-12, 0, (1, 1))) == 2
    assert float(unit_bound(2.5, 0, (1, 1))) == 3
    assert float(unit_bound(0.0, 0, (4, 4))) == 1


# ------------------------------------------------------------------------------ the fluid split


def test_the_split_is_feasible_within_the_share_tolerance_and_takes_part_of_an_item() -> None:
    """One item of volume 1 (``a`` = 1, ``b`` = 2) with ``W ≥ 1 + 5e-10``: 5e-10 beyond the whole volume
    is within the 1e-9 tolerance, so the item goes to ``a``: cost 1 (not infeasible).  Two items of
    volume 0.5 (``a`` = 1, ``b`` = 3 each) with ``W ≤ 0.75``: all of the first and half of the second
    move, ``1 + (0.5·1 + 0.5·3) = 3`` (moving both whole would cost 2 and break ``W ≤ 0.75``)."""
    from planner.optimize.sliced_pairs import fluid_split_cost

    edge = fluid_split_cost(np.array([[1.0]]), np.array([[2.0]]), np.array([1.0]), np.array([1 + 5e-10]),
                            np.array([2.0]))
    assert edge[0] == pytest.approx(1.0, rel=1e-9)
    part = fluid_split_cost(np.array([[1.0, 1.0]]), np.array([[3.0, 3.0]]), np.array([0.5, 0.5]), np.array([0.0]),
                            np.array([0.75]))
    assert part[0] == pytest.approx(3.0, rel=1e-12)


def test_an_intra_node_pair_across_two_types_fills_the_smaller_domain() -> None:
    """Step 7's domain is the smaller of the two types' (8 and 4 GPUs): a TP1 + TP1 pair of a class with
    a replica floor (every unit kept) has the units ``p + d ≤ 4``, ``p, d ≥ 1`` — 6 of them, in blocks of 2
    or 4 GPUs — not the 28 of an 8-GPU domain."""
    from planner.optimize.disagg_domains import in_domains

    links = {"nvlink4": SimpleNamespace(scope="intra-node")}
    cs = SimpleNamespace(hardware=[SimpleNamespace(scaleup_domain_gpus=8), SimpleNamespace(scaleup_domain_gpus=4)])
    pair = _pair(prefill_tp=1, decode_tp=1, decode_rps=1.0, link="nvlink4")
    units = in_domains([pair], links, cs, [1], {})  # type: ignore[arg-type]
    assert sorted(k.unit or (0, 0) for k in units) == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1)]
    assert {k.unit: k.unit_gpus for k in units}[(2, 1)] == 4 and max(k.unit_gpus for k in units) == 4


def test_a_pair_model_uses_both_of_its_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model of pair (0, 2) is built over those variants' columns only, with ``y_0 = y_2 = 1``
    forced (a plan using one of them is a single-variant plan, priced already)."""
    import pulp

    seen: dict[str, Any] = {}

    def build(_sc: Any, _cs: Any, columns: Any, *_args: Any) -> Any:
        seen["variants"] = sorted({c.variant for c in columns})
        return SimpleNamespace(y={v: pulp.LpVariable(f"y_{v}", 0, 1) for v in seen["variants"]})

    monkeypatch.setattr(sliced_pairs, "build_sliced", build)
    columns = [SimpleNamespace(variant=v) for v in (0, 1, 2, 2)]
    problem = sliced_pairs._pair_model(None, None, columns, (0, 2), [], None, None, {}, [], None)  # type: ignore[arg-type]
    assert seen["variants"] == [0, 2]
    assert [(problem.y[v].lowBound, problem.y[v].upBound) for v in (0, 2)] == [(1, 1), (1, 1)]


# ------------------------------------------------------------------------------ disagg_milp


def test_a_free_pools_bound_rounds_a_load_within_1e_9_of_a_whole_number_down() -> None:
    """``max(1, R, ⌈a − 1e-9⌉)``: a prefill load of 2 + 1e-12 replicas (solver noise above 2) is bounded
    by 2, not 3; a decode load of 0.5 by 1; a floor of 4 lifts both."""
    from planner.optimize.disagg_milp import _pool_bounds

    assert _pool_bounds(_pair(), 2 + 1e-12, 0.5, 0) == (2, 1)
    assert _pool_bounds(_pair(), 2 + 1e-12, 0.5, 4) == (4, 4)


def test_blocks_that_do_not_fill_a_server_still_take_a_whole_one() -> None:
    """3 blocks of 4 GPUs are 12 GPUs: 2 servers of 8 (⌈12/8⌉), not 1; 4 blocks fill exactly 2; a free
    pair (no blocks) has none."""
    from planner.optimize.disagg_milp import _servers

    half = _pair(prefill_tp=1, decode_hardware=0, decode_tp=1, link="nvlink4", unit=(2, 1), unit_gpus=4)
    server = SimpleNamespace(scaleup_domain_gpus=8)
    assert _servers(half, 3, server) == 2  # type: ignore[arg-type]
    assert _servers(half, 4, server) == 2  # type: ignore[arg-type]
    assert _servers(_pair(), None, server) is None  # type: ignore[arg-type]


def test_a_unit_pairs_bound_is_whole_domains_holding_the_floor_in_each_pool() -> None:
    """Unit (2, 1), loads 0.5 and 0.5 replicas, floor 3: ``U = max(1, ⌈3/2⌉, ⌈3/1⌉, ⌈max(0.5/2, 0.5/1)⌉) = 3``
    domains, so 2 × 3 = 6 prefill and 3 decode replicas at most (without the floor: 1 domain, 2 and 1)."""
    from planner.optimize.disagg_milp import _pool_bounds

    unit = _pair(decode_hardware=0, decode_tp=2, link="nvlink4", unit=(2, 1), unit_gpus=8)
    assert _pool_bounds(unit, 0.5, 0.5, 3) == (6, 3)
    assert _pool_bounds(unit, 0.5, 0.5, 0) == (2, 1)


def test_a_variant_without_a_per_query_cost_adds_no_traffic_terms() -> None:
    """``ρ = $/M × queries × δ`` is recorded and priced only when positive: a variant at $0 per million
    queries leaves the pair's traffic costs and the objective's terms empty."""
    import pulp

    from planner.optimize.disagg_milp import pair_hook

    profile = SimpleNamespace(served_query_fraction=1.0, quality_score=None, recurring_usd_per_million_queries=0.0)
    cs = SimpleNamespace(workloads=["rag"], variants=[SimpleNamespace(profiles={"rag": profile})])
    scenario = SimpleNamespace(workload=[SimpleNamespace(min_replicas=0)])
    periods = SimpleNamespace(count=1, discount_mid=np.array([1.0]))
    demand = SimpleNamespace(peak_rps=np.array([[2.0]]), queries=np.array([[1e6]]))
    prob = pulp.LpProblem("pairs", pulp.LpMinimize)
    more = pair_hook(scenario, cs, [_pair()], periods, demand)(prob, {0: prob.add_variable("y", 1, 1)})  # type: ignore[arg-type]
    state: Any = more.state
    assert state.traffic_cost == {} and more.cost == []
    assert (0, 0) not in more.quality  # no score: no quality term either


def test_a_class_beyond_the_variants_context_gets_no_pair(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variant whose model cannot hold a class's prompt and output (``within_context`` false, here
    stubbed so) serves it with no pair at all — the same small scenario otherwise has pairs."""
    from planner.optimize import disagg_columns

    scenario, cs, columns = _small(catalog)
    everything = set(range(len(cs.hardware)))
    assert disagg_columns.build_pair_columns(scenario, catalog, cs, columns, everything)[0]
    monkeypatch.setattr(disagg_columns, "within_context", lambda profile, w: False)
    assert disagg_columns.build_pair_columns(scenario, catalog, cs, columns, everything)[0] == []
