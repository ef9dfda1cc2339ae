"""Hand-calculated figures for variant screening's bounds, the column pruning and the whole-server rows.

A mutation review of :mod:`planner.optimize.screening`, :mod:`planner.optimize.pruning` and
:mod:`planner.optimize.servers` found these unchecked:

* ``κ_{h,p}`` (:func:`~planner.optimize.screening.gpu_period_floor`): the share in service, the periods
  served and the offers that may not start yet;
* ``ℓ_{v,c,p}`` and ``LB_v`` (:func:`~planner.optimize.screening.class_lower_bounds`,
  :func:`~planner.optimize.screening.variant_lower_bounds`): the served fraction, the TP, the
  discounted traffic and the one-time cost, and a column on hardware nobody sells;
* that ``LB_v`` is a true lower bound: never above the variant's LP relaxation or its optimum (a bound
  above the optimum would screen the winner out);
* the screening's bookkeeping: which variants are prepared and searched, the bound and the count left
  unproven, the fluid bound of a variant left unsolved, the tie rule of the proof order, the carried
  start, and a disaggregated pair without traffic written back without replicas;
* the best batch and the capacity-per-GPU front of :func:`~planner.optimize.pruning.prune`, a missing
  quality score, and the quality interval at its edges;
* the rows ``0 ≤ n_{o,p} ≤ upper[p]`` of :func:`~planner.optimize.servers.cumulative_servers`.

Every expected figure is written out with its arithmetic; nothing is copied from the code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pulp
import pytest
from numpy.typing import NDArray

import planner
from planner.catalog.store import Catalog
from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize import direct_path, screening
from planner.optimize import solver as solvers
from planner.optimize.direct import ModelData, build
from planner.optimize.direct_solve import DirectOutcome, Prepared, run_highs
from planner.optimize.pruning import Column, meets_floors, prune, quality_interval
from planner.optimize.screening import (
    _carried_start,
    _known_bound,
    _proof_order,
    _screening_answer,
    class_lower_bounds,
    gpu_period_floor,
    variant_lower_bounds,
)
from planner.optimize.servers import Units, cumulative_servers
from planner.optimize.solver import SolveStatus
from tests.optimize.test_disaggregation import LONG_PROMPTS

FloatArray = NDArray[np.float64]
GAP = 1e-4


# ------------------------------------------------------------------------------------------ helpers

def offer(hardware: int, cost: list[float], covers: list[list[bool]], supply: float = 1.0,
          available: list[bool] | None = None) -> ModeOffer:
    """An offer of ``hardware``: PV ``cost[p]`` per GPU entering service in ``p``, serving ``covers[p]``."""
    return ModeOffer(hardware=hardware, mode="on-demand", cost_usd=np.array(cost, dtype=float),
                     covers=np.array(covers, dtype=bool), power_kw=0.0, breakdown={}, source="hand",
                     available=np.array(available if available is not None else [True] * len(cost)),
                     supply_factor=supply)


#: Three periods.  Hardware 0: an owned-like offer serving to the horizon's end, 3/4 of it in service
#: (spares), first startable in period 1 (a lead time), and an hourly one at 170 a period.  Hardware 1:
#: hourly only, 100, 100 and 150 a period.
OWNED = offer(0, [300.0, 240.0, 150.0], [[True, True, True], [False, True, True], [False, False, True]],
              supply=0.75, available=[False, True, True])
HOURLY = offer(0, [170.0, 170.0, 170.0], np.eye(3, dtype=bool).tolist())
OTHER = offer(1, [100.0, 100.0, 150.0], np.eye(3, dtype=bool).tolist())
#: κ by hand (the least $ per serving GPU-period, cost / (periods served × share in service)):
#:   OWNED from 0: 300 / (3 × 0.75) = 133.3 — not startable in period 0, so never counted;
#:   OWNED from 1: 240 / (2 × 0.75) = 160 for periods 1 and 2; from 2: 150 / (1 × 0.75) = 200 for period 2;
#:   HOURLY: 170 each period.  κ_0 = [170, min(170, 160), min(170, 160, 200)] = [170, 160, 160].
KAPPA_0 = [170.0, 160.0, 160.0]
KAPPA_1 = [100.0, 100.0, 150.0]


def periods3(discount_mid: list[float]) -> Periods:
    """Three 4-month periods with the given mid-period discount factors."""
    start = np.array([0.0, 1 / 3, 2 / 3])
    return Periods(count=3, months=4, start_years=start, mid_years=start + 1 / 6, end_years=start + 1 / 3,
                   discount_mid=np.array(discount_mid), discount_start=np.ones(3), rate_per_year=0.0)


def column(variant: int, workload: int, hardware: int, tp: int, capacity: float) -> Column:
    return Column(row=0, variant=variant, workload=workload, hardware=hardware, tp=tp, batch=8,
                  capacity_rps=capacity, ttft_ms=100.0, tpot_ms=20.0)


def profile(served: float = 1.0, per_million: float = 0.0, quality: float | None = None) -> SimpleNamespace:
    return SimpleNamespace(served_query_fraction=served, recurring_usd_per_million_queries=per_million,
                           quality_score=quality)


def candidates(profiles: list[dict[str, SimpleNamespace]], workloads: list[str],
               deployments: Any = None) -> Any:
    """A stand-in for :class:`~planner.optimize.candidates.CandidateSet`: the fields the bounds and
    the pruning read."""
    return SimpleNamespace(variants=[SimpleNamespace(index=i, profiles=p) for i, p in enumerate(profiles)],
                           workloads=workloads, deployments=deployments)


def outcome(status: SolveStatus, objective: float | None = None, bound: float | None = None,
            values: FloatArray | None = None) -> DirectOutcome:
    if values is None and objective is not None:
        values = np.zeros(1)
    return DirectOutcome(status, 0.0, objective, bound, None, values, status.value)


# ------------------------------------------------------------------------ κ, ℓ and LB_v by hand

def test_gpu_period_floor_is_the_least_cost_per_serving_gpu_period() -> None:
    """κ_{h,p} = min over offers of h that may start by p and serve p of cost / (periods served × share
    in service) — the figures are in the comment on ``OWNED`` above."""
    kappa = gpu_period_floor([OWNED, HOURLY, OTHER], 3)
    assert sorted(kappa) == [0, 1]
    np.testing.assert_allclose(kappa[0], KAPPA_0, rtol=1e-12)
    np.testing.assert_allclose(kappa[1], KAPPA_1, rtol=1e-12)
    # alone, the owned offer serves nothing in period 0 (it may not start there): κ = inf, 160, 160
    alone = gpu_period_floor([OWNED], 3)[0]
    assert alone[0] == np.inf
    np.testing.assert_allclose(alone[1:], [160.0, 160.0], rtol=1e-12)


def bound_inputs() -> tuple[Any, list[Column], Demand, Periods]:
    """Two classes a, b; variant 0 serves both (a at 80 % served, 5 $ per million queries), variant 1
    only a.  Demand: peak λ_a = 10, 20, 30 and λ_b = 6, 6, 6 requests/s; queries 1, 2, 3 million (a)
    and 0.5 million a period (b); discount factors δ = 0.9, 0.8, 0.7."""
    cs = candidates([{"a": profile(0.8, 5.0), "b": profile()}, {"a": profile(), "b": profile()}], ["a", "b"])
    columns = [
        column(0, 0, 0, tp=2, capacity=4.0),   # a on hardware 0, TP 2, 4 requests/s a replica
        column(0, 0, 1, tp=1, capacity=1.5),   # a on hardware 1, TP 1
        column(0, 1, 0, tp=4, capacity=12.0),  # b on hardware 0, TP 4
        column(0, 1, 2, tp=1, capacity=50.0),  # b on hardware 2, which no offer sells: skipped
        column(1, 0, 1, tp=1, capacity=3.0),   # variant 1 serves a only
    ]
    demand = Demand(peak_rps=np.array([[10.0, 20.0, 30.0], [6.0, 6.0, 6.0]]),
                    queries=np.array([[1e6, 2e6, 3e6], [5e5, 5e5, 5e5]]))
    return cs, columns, demand, periods3([0.9, 0.8, 0.7])


def test_class_lower_bound_by_hand() -> None:
    r"""ℓ_{v,c,p} = min_j λ s t_j / μ_j · κ_{h(j),p} + ρ (GPUs a fluid fleet needs, at the least price
    per GPU-period, plus the discounted per-query charges):

    * (0, a), hardware 0: λ × 0.8 × 2 / 4 = 0.4 λ = 4, 8, 12 GPUs × κ_0 (170, 160, 160) = 680, 1280, 1920;
      hardware 1: λ × 0.8 × 1 / 1.5 = 0.5333 λ = 5.333, 10.667, 16 GPUs × κ_1 (100, 100, 150)
      = 533.33, 1066.67, 2400; the least: 533.33, 1066.67, 1920;
      ρ = 5 $/M × (1, 2, 3) M × δ (0.9, 0.8, 0.7) = 4.5, 8.0, 10.5.
    * (0, b): 6 × 1 × 4 / 12 = 2 GPUs × κ_0 = 340, 320, 320 (the column on hardware 2 has no offer).
    * (1, a): λ / 3 = 3.333, 6.667, 10 GPUs × κ_1 = 333.33, 666.67, 1500; (1, b): no column.
    """
    cs, columns, demand, periods = bound_inputs()
    ell = class_lower_bounds(cs, columns, [OWNED, HOURLY, OTHER], periods, demand)
    assert sorted(ell) == [(0, 0), (0, 1), (1, 0)]
    np.testing.assert_allclose(ell[(0, 0)], [1600 / 3 + 4.5, 3200 / 3 + 8.0, 1920 + 10.5], rtol=1e-12)
    np.testing.assert_allclose(ell[(0, 1)], [340.0, 320.0, 320.0], rtol=1e-12)
    np.testing.assert_allclose(ell[(1, 0)], [1000 / 3, 2000 / 3, 1500.0], rtol=1e-12)


def test_variant_lower_bound_adds_the_one_time_cost_and_needs_every_class() -> None:
    """LB_0 = F_0 + Σ ℓ = 1,000 + (537.83 + 1,074.67 + 1,930.5) + (340 + 320 + 320) = 5,523;
    variant 1 has no column for class b, so it cannot serve alone and gets no bound."""
    cs, columns, demand, periods = bound_inputs()
    bounds = variant_lower_bounds(cs, columns, [OWNED, HOURLY, OTHER], periods, demand, {0: 1000.0, 1: 1.0})
    assert list(bounds) == [0]
    assert bounds[0] == pytest.approx(1000 + 1600 / 3 + 4.5 + 3200 / 3 + 8.0 + 1930.5 + 980, rel=1e-12)


# ------------------------------------------------------------------ LB_v is a true lower bound

#: Two classes on Llama-3.1-70B over two years in half-years, growing 80 % a year, discounted 20 %: owned
#: servers with a lead time of one period, a 1-year reservation and on-demand, on two GPU types; the
#: chat class repeats 40 % of its queries, so response caching serves 60 % of it at a per-query cost.
BOUND_SCENARIO: dict[str, Any] = {
    "schema_version": 1, "name": "true-bound", "model": {"base": "llama-3.1-70b"},
    "workload": [{"name": "chat", "queries_per_day": 1e7, "input_tokens": 1000, "output_tokens": 300,
                  "ttft_ms": 2000, "tpot_ms": 80, "repeat_rate": 0.4},
                 {"name": "bulk", "queries_per_day": 5e6, "input_tokens": 3000, "output_tokens": 500,
                  "ttft_ms": 8000, "tpot_ms": 150}],
    "horizon": {"months": 24, "period_months": 6, "growth_per_year": 0.8, "discount_rate_per_year": 0.2,
                "peak_to_average": 1.5},
    "market": {"hardware": ["h100-sxm", "a100-80gb"], "modes": ["on-demand", "reserved-1y", "buy"],
               "lead_time_months": {"buy": 6}},
    "techniques": {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                   "caching": ["none", "response"], "moe": ["none"]},
    "quality": {"max_drop": 5.0},
}


@pytest.fixture(scope="module")
def screened(catalog: Catalog) -> tuple[ModelData, dict[int, float], planner.Plan]:
    """The model data and the bounds ``LB_v`` ($) the planner screens ``BOUND_SCENARIO`` with, and its plan."""
    seen: list[tuple[ModelData, dict[int, float]]] = []
    real = direct_path.screen_single

    def capture(data: ModelData, bounds: dict[int, float], *args: Any, **kwargs: Any) -> Any:
        seen.append((data, dict(bounds)))
        return real(data, bounds, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(direct_path, "screen_single", capture)
        plan = planner.plan(planner.scenario_from_dict(json.loads(json.dumps(BOUND_SCENARIO))), catalog=catalog)
    ((data, bounds),) = seen
    return data, bounds, plan


def test_every_variant_bound_is_below_its_relaxation_and_its_optimum(
        screened: tuple[ModelData, dict[int, float], planner.Plan]) -> None:
    """LB_v drops integrality and full-term payment, so for every variant LB_v ≤ its LP relaxation ≤ its
    optimum (each solved alone here); the screening skips variants with LB_v ≥ the incumbent, so a bound
    above the optimum would drop the winner.  The four variants (2 precisions × 2 caching options) all
    serve both classes alone, so all four are bounded; the plan is the least of the four optima."""
    data, bounds, plan = screened
    assert sorted(bounds) == sorted({int(v) for v in data.variant}) and len(bounds) == 4
    optima = []
    for v, bound_usd in bounds.items():
        relaxed = run_highs(build(data, [v]), 60.0, 1e-7, mip=False)
        optimum = run_highs(build(data, [v]), 60.0, 1e-7)
        assert relaxed.status == optimum.status == SolveStatus.OPTIMAL
        assert relaxed.objective is not None and optimum.objective is not None
        assert bound_usd / 1e3 <= relaxed.objective * (1 + 1e-9), v  # k$
        assert relaxed.objective <= optimum.objective * (1 + 1e-9)
        optima.append(optimum.objective)
    assert plan.status == "optimal" and plan.lifetime_cost_usd is not None
    assert plan.lifetime_cost_usd / 1e3 == pytest.approx(min(optima), rel=GAP)


# --------------------------------------------------------------------- the screening's bookkeeping

class Scripted:
    """``screen_single`` with each variant's proof scripted: the solves, relaxations, starts and waves
    replaced by given outcomes; records which variants were solved."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, solved: dict[int, DirectOutcome],
                 ahead: dict[int, tuple[float | None, DirectOutcome]] | None = None,
                 prepared: dict[int, Prepared] | None = None) -> None:
        self.calls: list[int] = []
        self.solved = solved

        def solve_model(model: SimpleNamespace, *args: Any, **kwargs: Any) -> DirectOutcome:
            self.calls.append(model.v)
            return self.solved[model.v]

        monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
        monkeypatch.setattr(screening, "scaling_refusal", lambda model: None)
        monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
        monkeypatch.setattr(screening, "solve_model", solve_model)
        monkeypatch.setattr(screening, "_prepare_near_ties", lambda *args: dict(prepared or {}))
        monkeypatch.setattr(screening, "union_proof", lambda *args: {})
        monkeypatch.setattr(screening, "proof_waves", lambda *args: dict(ahead or {}))


def test_the_screening_keeps_every_bound_left_and_skips_what_the_incumbent_cuts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds (k$) 10, 20, 30 and 98; the searches stop at a limit with plans (objective / bound):
    v0 100 / 95, v1 98 / 97, v2 99 / 96.

    * v0 is searched first (incumbent 100); v1 beats it (98), so v0's bound 95 is left unproven;
      v2 (30 < 98 × (1 − 10⁻⁴)) is searched, finds nothing better and leaves its bound 96;
    * v3's fluid bound 98 ≥ 98 × (1 − 10⁻⁴) = 97.99: it cannot beat the plan and is never searched.
    * The answer: v1's plan, feasible, its bound the least left, min(97, 95, 96) = 95, gap 1 − 95/98,
      and two variants (v0, v2) not proven out."""
    run = Scripted(monkeypatch, {0: outcome(SolveStatus.FEASIBLE, 100.0, 95.0),
                                 1: outcome(SolveStatus.FEASIBLE, 98.0, 97.0),
                                 2: outcome(SolveStatus.FEASIBLE, 99.0, 96.0)})
    stats: dict[str, int] = {}
    found = screening.screen_single(None, {0: 10e3, 1: 20e3, 2: 30e3, 3: 98e3},  # type: ignore[arg-type]
                                    solvers.Deadline(60.0), GAP, None, stats)
    assert run.calls == [0, 1, 2]
    assert found is not None
    v, _model, answer = found
    assert v == 1 and answer.status == SolveStatus.FEASIBLE and answer.objective == 98.0
    assert answer.bound == pytest.approx(95.0)
    assert answer.gap == pytest.approx(1 - 95 / 98)
    assert "2 variant(s) not proven out" in answer.message


def test_a_variant_left_by_the_deadline_keeps_its_best_known_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time is up before the loop: v0 was proven in a wave (optimal at 100 k$, in hand), v1 (fluid
    bound 50 k$) is left unsolved; its relaxation, 99.995 k$, is the better bound of the two, so the
    lowest bound left is 99.995 and the gap 1 − 99.995/100 = 5·10⁻⁵ ≤ 10⁻⁴: the plan is optimal within
    the gap, with that bound."""
    relaxed = Prepared(relaxed=outcome(SolveStatus.OPTIMAL, 99.995, 99.995), start=None, seconds=0.0)
    Scripted(monkeypatch, {}, ahead={0: (None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))},
             prepared={1: relaxed})
    expired = solvers.Deadline(0.0)
    found = screening.screen_single(None, {0: 40e3, 1: 50e3}, expired, GAP, None, {})  # type: ignore[arg-type]
    assert found is not None
    v, _model, answer = found
    assert v == 0 and answer.status == SolveStatus.OPTIMAL and answer.objective == 100.0
    assert answer.bound == pytest.approx(99.995)
    assert answer.gap == pytest.approx(5e-5)


def test_only_variants_whose_bound_is_below_the_cheapest_start_get_a_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 2⁻⁷; bounds (k$) 10, 20 and 127.  v0 relaxes to 90 and starts at 128, the incumbent; v1
    (20 < 128 × (1 − 2⁻⁷) = 127, every figure exact) relaxes to 91 and starts at 130 (the incumbent stays
    128); v2's bound 127 ≥ 127: it cannot hold a plan below the incumbent and is not prepared.  v0 has no
    cutoff (no start known yet, no relaxation); v1's is the least of 127 and the relaxation spread above
    v0's relaxation, 90 × (1 + 10⁻³) = 90.09."""
    cutoffs: dict[int, float] = {}
    relaxation, start = {0: 90.0, 1: 91.0}, {0: 128.0, 1: 130.0}

    def prepare(model: SimpleNamespace, deadline: solvers.Deadline, gap: float, **kwargs: Any) -> Prepared:
        cutoffs[model.v] = kwargs["cutoff"]
        return Prepared(relaxed=outcome(SolveStatus.OPTIMAL, relaxation[model.v], relaxation[model.v]),
                        start=outcome(SolveStatus.FEASIBLE, start[model.v]), seconds=0.0)

    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    monkeypatch.setattr(screening, "_carried_start", lambda *args: None)
    monkeypatch.setattr(screening, "prepare", prepare)
    data: Any = None  # the stand-ins above read nothing of it
    out = screening._prepare_near_ties(data, {0: 10e3, 1: 20e3, 2: 127e3}, {}, solvers.Deadline(60.0), 2.0 ** -7,
                                       None, np.inf, None)
    assert sorted(out) == [0, 1]
    assert cutoffs[0] == np.inf and cutoffs[1] == pytest.approx(90.09, rel=1e-12)


def test_an_optimal_winner_with_a_variant_left_unproven_is_only_feasible() -> None:
    """The winner is proven optimal at 100 k$ but another variant was left at a bound of 50 k$: the
    plan is feasible, its bound 50 and its gap 1 − 50/100 = 0.5."""
    found: Any = (0, None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))
    _v, _m, answer = _screening_answer(found, {1: 50.0}, GAP, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.FEASIBLE and answer.bound == 50.0 and answer.gap == 0.5


def test_the_known_bound_is_the_larger_of_the_fluid_bound_and_an_optimal_relaxation() -> None:
    """max(LB_v, relaxation) when the relaxation was solved to optimality; LB_v alone otherwise."""
    def prepared(status: SolveStatus, objective: float) -> Prepared:
        return Prepared(relaxed=outcome(status, objective, objective), start=None, seconds=0.0)

    assert _known_bound(50.0, prepared(SolveStatus.OPTIMAL, 99.0)) == 99.0
    assert _known_bound(50.0, prepared(SolveStatus.OPTIMAL, 40.0)) == 50.0  # a weaker relaxation: LB_v
    assert _known_bound(50.0, prepared(SolveStatus.FEASIBLE, 99.0)) == 50.0  # not proven: not a bound
    assert _known_bound(50.0, None) == 50.0


def test_a_gap_exactly_at_the_tolerance_is_optimal() -> None:
    """HiGHS's criterion is 1 − bound/plan ≤ gap: a plan of 128 k$ with a bound of 127 k$ leaves
    1 − 127/128 = 2⁻⁷ = 0.0078125 exactly (every figure exact in binary), which meets a gap of 2⁻⁷."""
    stopped = outcome(SolveStatus.FEASIBLE, 128.0, 127.0)
    winner: Any = (0, None, stopped)  # the answer reads only the outcome
    _v, _m, answer = _screening_answer(winner, {}, 2.0 ** -7, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.OPTIMAL and answer.gap == 2.0 ** -7 and answer.bound == 127.0


def test_the_answers_bound_never_exceeds_its_plan() -> None:
    """A solver's bound a hair above its own objective (100.0000001 against 100, rounding) and another
    variant's bound above the plan (100.5, left when the incumbent was dearer) leave the least bound
    min(100.0000001, 100.5) above the plan: the answer's bound is clipped to the plan, 100, gap 0."""
    found: Any = (0, None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0000001))
    _v, _m, answer = _screening_answer(found, {1: 100.5}, GAP, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.OPTIMAL
    assert answer.bound == 100.0 and answer.gap == 0.0


def test_starts_equal_to_rounding_keep_the_bound_order() -> None:
    """Bounds order v0 (1), v1 (2), v2 (3).  Starts of v1 100 and v2 100 − 5·10⁻⁸: within 10⁻⁹ × 100
    = 10⁻⁷ of each other, the same plan twice, so the first in bound order with the cheapest start
    (v1) goes first; starts 100 and 99 differ, so the cheaper one's variant (v2) goes first."""
    def prepared(start: float) -> Prepared:
        return Prepared(relaxed=outcome(SolveStatus.OPTIMAL, 90.0, 90.0),
                        start=outcome(SolveStatus.FEASIBLE, start), seconds=0.0)

    bounds = {0: 1.0, 1: 2.0, 2: 3.0}
    tied = _proof_order(bounds, {1: prepared(100.0), 2: prepared(100.0 - 5e-8)})
    assert tied == [(1, 2.0), (0, 1.0), (2, 3.0)]
    apart = _proof_order(bounds, {1: prepared(100.0), 2: prepared(99.0)})
    assert apart == [(2, 3.0), (0, 1.0), (1, 2.0)]
    assert _proof_order(bounds, {}) == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_the_carried_start_is_the_cheapest_start_prepared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starts of 101 (v0) and 100 (v1) k$: v1's plan is the one carried over to the next model."""
    carried: list[tuple[Any, float]] = []
    monkeypatch.setattr(screening, "carry_over",
                        lambda data, source, model, values: carried.append((source, float(values[0]))))
    prepared = {v: Prepared(relaxed=outcome(SolveStatus.OPTIMAL, 90.0, 90.0),
                            start=outcome(SolveStatus.FEASIBLE, cost, values=np.array([float(v)])), seconds=0.0)
                for v, cost in ((0, 101.0), (1, 100.0))}
    built: Any = {0: "model 0", 1: "model 1"}  # stand-ins: carry_over above only records them
    _carried_start(None, built, prepared, "next")  # type: ignore[arg-type]
    assert carried == [("model 1", 1.0)]


def test_a_pair_that_carries_no_traffic_deploys_no_replicas(catalog: Catalog) -> None:
    """Writing a disaggregated plan back onto its PuLP model: replicas the solution leaves on a pair
    whose traffic share is 0 (idle GPUs) are not deployed, 0 prefill and 0 decode; a pair carrying
    traffic keeps the replicas of the solution.  Long prompts on Llama-3.1-70B, one period."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    seen: list[tuple[Any, Any, FloatArray]] = []
    real = direct_path.load_solution

    def capture(problem: Any, model: Any, values: FloatArray) -> None:
        seen.append((problem, model, values.copy()))
        real(problem, model, values)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(direct_path, "load_solution", capture)
        plan = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert plan.status == "optimal"
    ((problem, model, values),) = seen
    state = problem.extra.state
    share = [float(values[model.pair_x[i, 0]]) for i in range(len(state.pairs))]
    used = next(i for i, x in enumerate(share) if x > 0)
    idle = next(i for i, x in enumerate(share) if x == 0)
    values[model.pair_pools[idle, 0, 0]], values[model.pair_pools[idle, 1, 0]] = 3.0, 2.0  # idle GPUs' replicas
    screening.load_solution(problem, model, values)
    assert state.x[idle, 0].varValue == 0.0
    assert state.prefill[idle, 0].varValue == 0.0 and state.decode[idle, 0].varValue == 0.0
    assert state.x[used, 0].varValue == pytest.approx(share[used])
    assert state.prefill[used, 0].varValue == values[model.pair_pools[used, 0, 0]] > 0
    assert state.decode[used, 0].varValue == values[model.pair_pools[used, 1, 0]] > 0


# ------------------------------------------------------------------------------------- pruning

@dataclass(frozen=True)
class Table:
    """A stand-in for :class:`~planner.optimize.candidates.DeploymentTable` (the fields ``prune`` reads)."""

    variant: NDArray[np.int64]
    workload: NDArray[np.int64]
    hardware: NDArray[np.int64]
    tp: FloatArray
    latency_ok: NDArray[np.bool_]
    result: SimpleNamespace
    measured: None = None

    def __len__(self) -> int:
        return len(self.variant)


def table(rows: list[tuple[int, int, int, int, int, float, bool]]) -> Table:
    """Rows of (variant, class, hardware, TP, batch, requests/s, latency ok)."""
    v, c, h, tp, batch, rps, ok = (np.array(x) for x in zip(*rows, strict=True))
    return Table(variant=v.astype(np.int64), workload=c.astype(np.int64), hardware=h.astype(np.int64),
                 tp=tp.astype(float), latency_ok=ok.astype(bool),
                 result=SimpleNamespace(requests_per_s=rps.astype(float), batch=batch.astype(float),
                                        ttft_s=np.full(len(rows), 0.1), tpot_s=np.full(len(rows), 0.02)))


def test_prune_keeps_the_best_batch_and_the_capacity_per_gpu_front() -> None:
    """Per (variant, class, hardware, TP) the latency-feasible batch of the most requests/s; across TP
    only a TP with strictly more requests/s per GPU than every smaller TP:

    * (0, 0, 0): TP 1 batches of 3 and 5 requests/s (and 9 that misses the latency target): 5 a GPU;
      TP 2 at 9 → 4.5 a GPU, dropped; TP 4 at 24 → 6 a GPU, kept; TP 8 at 48 → 6 a GPU, not more: dropped.
    * (0, 0, 1): one feasible row of 0 requests/s: nothing to serve with, no column.
    * (0, 1, 1) TP 2: batches of 6 and 2 requests/s: 6.  The next key in order, (1, 0, 0) TP 1, differs
      in every field; its one row at 7 requests/s is kept.
    """
    rows = [(0, 0, 0, 1, 8, 3.0, True), (0, 0, 0, 1, 16, 5.0, True), (0, 0, 0, 1, 32, 9.0, False),
            (0, 0, 0, 2, 16, 9.0, True), (0, 0, 0, 4, 16, 24.0, True), (0, 0, 0, 8, 16, 48.0, True),
            (0, 0, 1, 1, 8, 0.0, True),
            (0, 1, 1, 2, 64, 6.0, True), (0, 1, 1, 2, 8, 2.0, True),
            (1, 0, 0, 1, 8, 7.0, True)]
    cs = candidates([{"a": profile(), "b": profile()}] * 2, ["a", "b"], deployments=table(rows))
    columns, stats = prune(cs, 2, [None, None])
    got = sorted((c.variant, c.workload, c.hardware, c.tp, c.batch, c.capacity_rps) for c in columns)
    assert got == [(0, 0, 0, 1, 16, 5.0), (0, 0, 0, 4, 16, 24.0), (0, 1, 1, 2, 64, 6.0), (1, 0, 0, 1, 8, 7.0)]
    assert [columns[i].row for i in range(len(columns))] == [1, 4, 7, 9]
    assert stats["deployments_evaluated"] == 10 and stats["latency_feasible"] == 9
    assert stats["after_quality"] == 8  # 9 feasible rows less the one of 0 requests/s


def test_a_missing_quality_score_is_not_held_against_a_variant() -> None:
    """Floors 68 (a) and 60 (b).  Variant 0 scores 70 and 70: meets both.  Variant 1 has no score for a
    and 65 for b: meets both (a missing score is not held against it).  Variant 2 scores 67 for a:
    misses it, so with one variant per plan its rows are dropped before the columns are built."""
    cs = candidates([{"a": profile(quality=70.0), "b": profile(quality=70.0)},
                     {"a": profile(quality=None), "b": profile(quality=65.0)},
                     {"a": profile(quality=67.0), "b": profile(quality=70.0)}], ["a", "b"],
                    deployments=table([(v, 0, 0, 1, 8, 4.0, True) for v in range(3)]))
    floors: list[float | None] = [68.0, 60.0]
    assert [meets_floors(cs, v, floors) for v in range(3)] == [True, True, False]
    assert sorted(c.variant for c in prune(cs, 1, floors)[0]) == [0, 1]
    assert sorted(c.variant for c in prune(cs, 2, floors)[0]) == [0, 1, 2]  # a pair may still blend it


def test_the_quality_interval_at_its_edges() -> None:
    """``q₂ + (q₁ − q₂) W ≥ floor`` on W ∈ [0, 1]:

    * both variants exactly at the floor 64 (a row exists): every blend meets it, [0, 1];
    * q₁ = 70 and a missing second score (0 in the array) with no row (neither variant below the floor,
      ``below`` False): nothing to meet, [0, 1] — not the row's own ``64/70``.
    * q₁ = 70, q₂ = 60 with a row: W ≥ (64 − 60)/(70 − 60) = 0.4, [0.4, 1]."""
    lo, hi = quality_interval(np.array([64.0, 70.0, 70.0]), np.array([64.0, 0.0, 60.0]),
                              np.array([True, False, True]), 64.0)
    assert lo.tolist() == [0.0, 0.0, pytest.approx(0.4)]
    assert hi.tolist() == [1.0, 1.0, 1.0]


# -------------------------------------------------------------------------------- whole servers

def servers_model(upper: list[float]) -> tuple[pulp.LpProblem, Units, dict[tuple[int, int], pulp.LpVariable]]:
    prob = pulp.LpProblem("servers", pulp.LpMaximize)
    n: Units = {}
    servers: dict[tuple[int, int], pulp.LpVariable] = {}
    cumulative_servers(prob, 0, upper, n, servers)
    return prob, n, servers


def optimum(prob: pulp.LpProblem, objective: pulp.LpAffineExpression) -> float:
    prob.setObjective(objective)
    prob.solve(pulp.HiGHS(msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"
    return float(pulp.value(prob.objective))


def test_whole_servers_enter_service_within_each_periods_bound() -> None:
    """Upper bounds 2 then 3 servers entering service: S₀ = n₀ ≤ 2 and S₁ = n₀ + n₁ ≤ 2 + 3 = 5;
    n₁ = S₁ − S₀ lies in [0, 3] (servers are never returned early), so at most 5 are in service in
    period 1, at most 3 of them new, and at least as many as in period 0."""
    prob, n, servers = servers_model([2.0, 3.0])
    assert optimum(prob, pulp.LpAffineExpression(servers[0, 1])) == pytest.approx(5.0)
    prob, n, servers = servers_model([2.0, 3.0])
    assert optimum(prob, pulp.LpAffineExpression(n[0, 1])) == pytest.approx(3.0)
    prob, n, servers = servers_model([2.0, 3.0])
    # n₁ ≥ 0: −n₁ is at most 0 (returning period 0's two servers in period 1 would make it 2)
    assert optimum(prob, -n[0, 1]) == pytest.approx(0.0)
    assert servers[0, 0].upBound == 2 and servers[0, 1].upBound == 5


# ---------------------------------------------------------------- a stopped search without a dual bound


def test_a_lone_variant_stopped_without_a_bound_is_not_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    """One variant (fluid bound 40 k$); its search stops at the time limit with a plan of 100 k$ and no
    dual bound (HiGHS reports none when it stops this early: seen at 0.001-0.05 s limits on the demo).
    Nothing proves the plan within 10⁻⁴ of the optimum: the answer is ``feasible`` with the variant's
    best known bound, its fluid bound 40, gap 1 − 40/100 = 0.6 (it was reported ``optimal`` with gap 0:
    the plan itself was taken as its bound — on the one-variant demo a plan 52 % above the optimum)."""
    Scripted(monkeypatch, {0: outcome(SolveStatus.FEASIBLE, 100.0, None)})
    found = screening.screen_single(None, {0: 40e3}, solvers.Deadline(60.0), GAP, None, {})  # type: ignore[arg-type]
    assert found is not None
    _v, _model, answer = found
    assert answer.status == SolveStatus.FEASIBLE and answer.objective == 100.0
    assert answer.bound == pytest.approx(40.0) and answer.gap == pytest.approx(0.6)
    assert "not proven optimal" in answer.message


def test_a_winner_without_a_bound_proves_nothing_of_its_own() -> None:
    """Given straight to the answer, a stopped winner with no bound and no other variant left gives
    the bound 0 (nothing known), gap 1: never ``optimal``."""
    stopped = outcome(SolveStatus.FEASIBLE, 100.0, None)
    _v, _m, answer = screening._screening_answer((0, None, stopped), {}, GAP,  # type: ignore[arg-type]
                                                 solvers.Deadline(60.0))
    assert answer.status == SolveStatus.FEASIBLE and answer.bound == 0.0 and answer.gap == 1.0


def test_a_model_search_stopped_without_a_bound_keeps_its_relaxation(monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve_model`` with the relaxation in hand (40 k$) and a search that stops with a plan of 100 k$
    and no dual bound: the outcome's bound is the relaxation's 40 (a lower bound of every plan of the
    model), not None."""
    from planner.optimize import direct_solve

    def fake_run(model: Any, *args: Any, **kwargs: Any) -> DirectOutcome:
        assert kwargs.get("mip", True), "the relaxation is given, not solved again"
        return outcome(SolveStatus.FEASIBLE, 100.0, None)

    monkeypatch.setattr(direct_solve, "run_highs", fake_run)
    relaxed = Prepared(relaxed=outcome(SolveStatus.OPTIMAL, 40.0, 40.0), start=None, seconds=0.0)
    found = direct_solve.solve_model(SimpleNamespace(), solvers.Deadline(60.0), GAP,  # type: ignore[arg-type]
                                     prepared=relaxed)
    assert found.status == SolveStatus.FEASIBLE and found.objective == 100.0 and found.bound == 40.0


def test_a_pair_is_not_closed_by_a_relaxation_that_did_not_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pair's relaxation stopped at its time limit reports a point of 99.5 k$ (``feasible``): the
    objective of an unfinished simplex run is no lower bound, so it cannot close the pair below the
    incumbent's cutoff of 99 k$; the pair goes on to its probe.  A finished relaxation (``optimal``)
    at the same 99.5 does close it."""
    from planner.optimize import pairs
    probes: list[bool] = []

    def fake_run(model: Any, limit: float, gap: float, **kwargs: Any) -> DirectOutcome:
        if not kwargs.get("mip", True):
            return outcome(relaxation, 99.5, 99.5)
        probes.append(True)
        return outcome(SolveStatus.CUTOFF)

    monkeypatch.setattr(pairs, "build", lambda data, variants: object())
    monkeypatch.setattr(pairs, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(pairs, "offer_unit_sizes", lambda data, model: np.ones(0))
    monkeypatch.setattr(pairs, "run_highs", fake_run)
    for relaxation, closed in ((SolveStatus.FEASIBLE, False), (SolveStatus.OPTIMAL, True)):
        probes.clear()
        _model, by_relaxation, answer = pairs._prove_pair(None, (0, 1), 99.0,  # type: ignore[arg-type]
                                                          solvers.Deadline(60.0), GAP, None)
        assert by_relaxation is closed and bool(probes) is not closed
        assert (answer is None) is closed
