"""The numpy-built models: dominance bounds exact against enumeration, cutoff and start semantics of
HiGHS as pinned, pair bounds below pair optima, and the direct path equal to the PuLP path."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

import planner
from planner.economics.offers import ModeOffer
from planner.optimize import direct_solve, pairs
from planner.optimize import solver as solvers
from planner.optimize.direct import ModelData, _dominance_bounds, build
from planner.optimize.direct_solve import DirectOutcome, run_highs
from planner.optimize.pairs import pair_lower_bounds
from planner.optimize.pruning import Column
from planner.optimize.solver import SolveStatus
from tests.optimize.test_optimizer import scenario


def synthetic(rng: np.random.Generator, periods: int) -> ModelData:
    """One variant, one class, two hardware types, TP chains with rising capacity per GPU, on-demand."""
    columns: list[Column] = []
    for h in range(2):
        per_gpu = rng.uniform(0.5, 2.0)
        for tp in (1, 2, 4)[: rng.integers(1, 4)]:
            per_gpu *= rng.uniform(1.01, 1.6)  # what prune() guarantees along a kept TP chain
            columns.append(Column(row=len(columns), variant=0, workload=0, hardware=h, tp=tp, batch=1,
                                  capacity_rps=per_gpu * tp, ttft_ms=1.0, tpot_ms=1.0))
    demand = rng.uniform(0.5, 9.0, size=periods)
    load = np.array([[d / c.capacity_rps for d in demand] for c in columns])
    plain = np.maximum(1.0, np.ceil(load - 1e-9))
    tp = np.array([c.tp for c in columns], dtype=float)
    offers = [ModeOffer(hardware=h, mode="on-demand", cost_usd=rng.uniform(500, 3000) * np.ones(periods),
                        covers=np.eye(periods, dtype=bool), power_kw=0.0, breakdown={}, source="test")
              for h in range(2)]
    return ModelData(columns=columns, variant=np.zeros(len(columns), dtype=np.int64),
                     workload=np.zeros(len(columns), dtype=np.int64),
                     hardware=np.array([c.hardware for c in columns], dtype=np.int64), tp=tp, load=load,
                     replica_ub=_dominance_bounds(columns, tp, plain, [0]), offers=offers,
                     one_time_kusd={0: 0.0}, traffic_kusd={0: np.zeros((1, periods))}, fixed_kusd={0: 0.0},
                     quality={0: [None]}, floors=[None], min_replicas=[0], quota_gpus={}, power_cap_kw=None,
                     budget_kusd=None, periods=periods, classes=1)


def enumerate_optimum(data: ModelData) -> float:
    """Every replica vector within the plain bounds ``max(1, ⌈a⌉)``, per period (on-demand is per period)."""
    total = 0.0
    for p in range(data.periods):
        plain = np.maximum(1, np.ceil(data.load[:, p] - 1e-9)).astype(int)
        best = math.inf
        for r in itertools.product(*(range(u + 1) for u in plain)):
            r_a = np.array(r, dtype=float)
            if (r_a / data.load[:, p]).sum() < 1 - 1e-12:
                continue
            gpus = np.bincount(data.hardware, weights=r_a * data.tp, minlength=2)
            best = min(best, sum(gpus[o.hardware] * o.cost_usd[p] for o in data.offers))
        total += best
    return total / 1e3


@pytest.mark.parametrize("seed", range(40))
def test_dominance_bounds_never_cut_off_an_optimum(seed: int) -> None:
    data = synthetic(np.random.default_rng(seed), periods=2)
    outcome = run_highs(build(data, [0]), 30.0, 0.0)
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(enumerate_optimum(data), rel=1e-9, abs=1e-9)


def test_dominance_bounds_tighten_the_smaller_tps_only() -> None:
    data = synthetic(np.random.default_rng(3), periods=1)
    for j, col in enumerate(data.columns):
        bigger = [c.tp for c in data.columns if c.hardware == col.hardware and c.tp > col.tp]
        plain = max(1.0, math.ceil(data.load[j, 0] - 1e-9))
        expected = min(plain, min(bigger) / col.tp - 1) if bigger else plain
        assert data.replica_ub[j, 0] == expected


def test_a_cutoff_below_the_optimum_is_a_cutoff_never_a_worse_optimum() -> None:
    """HiGHS 1.16 (pinned) ends a search with nothing below ``objective_bound`` as Infeasible or as
    Optimal with a leftover plan above the bound: both must read as CUTOFF."""
    model = build(synthetic(np.random.default_rng(7), periods=3), [0])
    optimum = run_highs(model, 30.0, 0.0)
    assert optimum.status == SolveStatus.OPTIMAL and optimum.objective is not None
    assert run_highs(model, 30.0, 0.0, cutoff=optimum.objective * 0.97).status == SolveStatus.CUTOFF
    above = run_highs(model, 30.0, 0.0, cutoff=optimum.objective * 1.03)
    assert above.status == SolveStatus.OPTIMAL and above.objective == pytest.approx(optimum.objective, rel=1e-9)


def fake_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``direct_solve``'s clock replaced by ``clock[0]`` seconds, which the caller advances."""
    clock = [0.0]

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            return clock[0]

    monkeypatch.setattr(direct_solve, "time", Clock)
    return clock


def _trap(truth: DirectOutcome, start: np.ndarray) -> DirectOutcome:
    """The HiGHS 1.16 start trap: a better objective reported for the start's own columns."""
    assert truth.objective is not None
    return DirectOutcome(SolveStatus.FEASIBLE, 0.0, truth.objective * 0.98, None, None, start, "misread")


def _trapped(monkeypatch, misreads: Callable[[dict | None], bool]):  # type: ignore[no-untyped-def]
    """A small model, its true optimum, and ``_run_once`` replaced by one that records each run
    (start given, extra options) and falls into the trap for started runs whose options ``misreads``."""
    model = build(synthetic(np.random.default_rng(11), periods=2), [0])
    truth = run_highs(model, 30.0, 0.0)
    assert truth.values is not None and truth.objective is not None
    calls: list[tuple[bool, dict | None]] = []
    real = direct_solve._run_once

    def run_once(model, time_limit_s, gap, threads, mip, start, cutoff, heuristics, upper, nodes, extra=None):  # type: ignore[no-untyped-def]
        calls.append((start is not None, extra))
        if start is not None and misreads(extra):
            return _trap(truth, start)
        return real(model, time_limit_s, gap, threads, mip, start, cutoff, heuristics, upper, nodes, extra)

    monkeypatch.setattr(direct_solve, "_run_once", run_once)
    return model, truth, calls


def test_a_start_whose_objective_disagrees_with_its_columns_is_solved_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The trap in the pre-check and in the search without presolve: the run is repeated without
    the start, and its (true) answer returned."""
    model, truth, calls = _trapped(monkeypatch, lambda extra: True)
    outcome = run_highs(model, 30.0, 0.0, start=truth.values * 1.0 + (model.integrality == 1) * 1.0)
    assert calls == [(True, direct_solve.PRE_CHECK_OPTIONS), (True, direct_solve.NO_PRESOLVE), (False, None)]
    assert outcome.objective == pytest.approx(truth.objective, rel=1e-9)


def test_a_start_misread_by_presolve_is_searched_from_without_presolve(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The pre-check catches the trap; the search keeps the start and runs with presolve off, which
    reads it correctly, and its answer stands (no run without the start)."""
    model, truth, calls = _trapped(monkeypatch, lambda extra: extra != direct_solve.NO_PRESOLVE)
    outcome = run_highs(model, 30.0, 0.0, start=truth.values)
    assert calls == [(True, direct_solve.PRE_CHECK_OPTIONS), (True, direct_solve.NO_PRESOLVE)]
    assert outcome.status == SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(truth.objective, rel=1e-9)


def test_repeats_after_the_start_trap_share_the_first_runs_time_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every repeat gets only the time the runs before it left (a fake clock: each run takes 4 s of a
    10 s limit), so a guarded run never outlasts its limit; before, the repeat took the whole limit."""
    model = build(synthetic(np.random.default_rng(11), periods=2), [0])
    truth = run_highs(model, 30.0, 0.0)
    assert truth.values is not None
    clock = fake_clock(monkeypatch)
    limits: list[float] = []

    def run_once(model, time_limit_s, gap, threads, mip, start, cutoff, heuristics, upper, nodes, extra=None):  # type: ignore[no-untyped-def]
        limits.append(time_limit_s)
        clock[0] += 4.0
        return _trap(truth, start if start is not None else truth.values)

    monkeypatch.setattr(direct_solve, "_run_once", run_once)
    run_highs(model, 10.0, 0.0, start=truth.values)
    assert limits == [10.0, 6.0, 2.0]


def test_the_pair_bound_never_exceeds_the_pair_optimum() -> None:
    ell = {(0, 0): np.array([10.0, 12.0]), (1, 0): np.array([8.0, 9.0])}
    fixed = {0: 1.0, 1: 2.0}
    quality = {0: [80.0], 1: [70.0]}
    # floor 75: at least half the traffic on variant 0 -> min over w in [0.5, 1] of w*l0 + (1-w)*l1
    bound = pair_lower_bounds(ell, [0, 1], fixed, quality, [75.0], periods=2)[(0, 1)]
    assert bound == pytest.approx(3.0 + (0.5 * 10 + 0.5 * 8) + (0.5 * 12 + 0.5 * 9))
    # a class no mix can lift to the floor makes the pair impossible
    assert pair_lower_bounds(ell, [0, 1], fixed, quality, [81.0], periods=2)[(0, 1)] == math.inf
    # one variant that cannot serve the class: the other must carry it all, and meet the floor alone
    partial = {(0, 0): np.array([10.0, 12.0])}
    assert pair_lower_bounds(partial, [0, 1], fixed, quality, [75.0], periods=2)[(0, 1)] == pytest.approx(25.0)


def test_two_variant_plans_equal_the_full_pulp_model(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Pair screening against the PuLP model holding every variant at once (same optimum)."""
    from planner.optimize import planning

    sc = scenario(plan={"max_variants": 2}, quality={"max_drop": 1.0})
    fast = planner.plan(sc, catalog=catalog)
    monkeypatch.setattr(planning, "direct_applies", lambda scenario, name: False)
    full = planner.plan(sc, catalog=catalog)
    assert fast.status == "optimal" and full.status in ("optimal", "feasible")
    assert fast.lifetime_cost_usd is not None and full.lifetime_cost_usd is not None
    assert fast.lifetime_cost_usd <= full.lifetime_cost_usd * (1 + 1e-4)
    if full.status == "optimal":
        assert fast.lifetime_cost_usd == pytest.approx(full.lifetime_cost_usd, rel=2e-4)


def test_the_pair_cutoff_probe_changes_no_answer(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A pair settled by its cutoff probe gets the answer the full search gives: the demo over two
    quarters with ``max_variants = 2`` (a pair wins) planned with the default probe, with a one-node
    probe (almost every pair takes the start and the full search, as before the probe) and with a
    probe that is the full search (every pair settled by it, as CUTOFF or OPTIMAL); all three
    optimal, at the same cost within the gap."""
    answers: list[str] = []
    real = pairs.run_highs

    def spy(model, *args, **kwargs):  # type: ignore[no-untyped-def]
        outcome = real(model, *args, **kwargs)
        probe = kwargs.get("node_limit") is not None and kwargs.get("cutoff") is not None
        if probe and not kwargs.get("heuristics", True):
            answers.append(outcome.status.value)
        return outcome

    monkeypatch.setattr(pairs, "run_highs", spy)
    sc = planner.load_scenario(planner.demo_scenario_path(), ["plan.max_variants=2", "horizon.months=6"])
    costs: dict[int, float] = {}
    seen: dict[int, set[str]] = {}
    for nodes in (pairs.PROBE_NODES, 1, 1_000_000):
        monkeypatch.setattr(pairs, "PROBE_NODES", nodes)
        answers.clear()
        plan = planner.plan(sc)
        assert plan.status == "optimal" and plan.lifetime_cost_usd is not None and len(plan.variant_names) == 2
        costs[nodes], seen[nodes] = plan.lifetime_cost_usd, set(answers)
    gap = planner.load_catalogs().defaults.solver_gap_rel
    assert max(costs.values()) <= min(costs.values()) * (1 + gap)
    assert "cutoff" in seen[pairs.PROBE_NODES]
    assert {"cutoff", "optimal"} <= seen[1_000_000]  # both of the probe's settled answers taken


SERVER_GPUS = 4  # GPUs per bought server in the whole-server instances below
SERVER_SPARE_SHARE = 0.05  # share of a bought server's GPUs held as spares (whole spare GPUs)
MAX_SERVERS_PER_PERIOD = 3  # servers bought per period in the enumeration (the test checks the optimum's)


def with_servers(rng: np.random.Generator, data: ModelData) -> ModelData:
    """``data`` plus a whole-server purchase per hardware type: ``SERVER_GPUS`` GPUs per unit, bought
    in any period and serving from then on, cheaper per GPU-period than renting over the horizon."""
    periods = data.periods
    servers = [ModeOffer(hardware=o.hardware, mode="buy", cost_usd=o.cost_usd * rng.uniform(0.6, 1.6),
                         covers=np.triu(np.ones((periods, periods), dtype=bool)), power_kw=0.0, breakdown={},
                         source="test", gpus_per_unit=SERVER_GPUS, supply_factor=1.0 - SERVER_SPARE_SHARE)
               for o in data.offers]
    return dataclasses.replace(data, offers=[*data.offers, *servers])


def enumerate_server_optimum(data: ModelData) -> float:
    """Every purchase vector (up to ``MAX_SERVERS_PER_PERIOD`` servers per type and period), then per
    period every replica vector within the plain bounds, the spares ``⌈Σ (1 − f)·u·S⌉`` and the
    GPUs left over rented on demand."""
    rented = {o.hardware: o for o in data.offers if o.gpus_per_unit == 1}
    bought = [o for o in data.offers if o.gpus_per_unit > 1]
    plain = np.maximum(1, np.ceil(data.load - 1e-9)).astype(int)
    per_period: list[list[tuple[NDArray[np.float64], float]]] = []
    for p in range(data.periods):  # every covering replica vector: GPUs per hardware type
        options = []
        for r in itertools.product(*(range(u + 1) for u in plain[:, p])):
            r_a = np.array(r, dtype=float)
            if (r_a / data.load[:, p]).sum() >= 1 - 1e-12:
                options.append((np.bincount(data.hardware, weights=r_a * data.tp, minlength=2), 0.0))
        per_period.append(options)
    best = math.inf
    ranges = [range(MAX_SERVERS_PER_PERIOD + 1)] * (len(bought) * data.periods)
    for buys in itertools.product(*ranges):
        n = np.array(buys, dtype=float).reshape(len(bought), data.periods)
        cost = sum(float(n[k] @ o.cost_usd) * o.gpus_per_unit for k, o in enumerate(bought))
        for p in range(data.periods):
            in_service = {o.hardware: float(n[k, : p + 1].sum()) for k, o in enumerate(bought)}
            period_best = math.inf
            for gpus, _ in per_period[p]:
                total = 0.0
                for h, o in rented.items():
                    server = next(b for b in bought if b.hardware == h)
                    spares = math.ceil((1 - server.supply_factor) * server.gpus_per_unit * in_service[h] - 1e-9)
                    short = max(0.0, gpus[h] + spares - server.gpus_per_unit * in_service[h])
                    total += short * o.cost_usd[p]
                period_best = min(period_best, total)
            cost += period_best
        best = min(best, cost)
    return best / 1e3


@pytest.mark.parametrize("seed", range(12))
def test_the_rounded_server_start_never_changes_the_optimum(seed: int) -> None:
    """Whole servers (units of ``SERVER_GPUS``, whole spares) on random small instances: the method
    with the rounded-server start (and, separately, that start's own plan) against enumeration."""
    rng = np.random.default_rng(100 + seed)
    data = with_servers(rng, synthetic(rng, periods=2))
    model = build(data, [0])
    units = np.array([data.offers[o].gpus_per_unit for o in model.offers], dtype=float)
    expected = enumerate_server_optimum(data)
    outcome = direct_solve.solve_model(model, solvers.Deadline(30.0), 0.0, unit_sizes=units)
    assert outcome.status == SolveStatus.OPTIMAL and outcome.values is not None
    assert outcome.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    servers = [k for k in range(len(model.offers)) if units[k] > 1]
    assert model.acquisitions(outcome.values)[servers].max() <= MAX_SERVERS_PER_PERIOD  # inside the enumerated range
    relaxed = run_highs(model, 30.0, 0.0, mip=False)
    assert relaxed.values is not None
    start = direct_solve.rounded_server_start(model, relaxed.values, units, 30.0, 0.0, None)
    assert start is None or start.objective is not None and start.objective >= expected - 1e-9


def test_the_rounded_server_start_fixes_whole_servers_only() -> None:
    """Single-GPU offers stay free; whole-server offers are fixed at the rounded cumulative count."""
    rng = np.random.default_rng(7)
    data = with_servers(rng, synthetic(rng, periods=2))
    model = build(data, [0])
    units = np.array([data.offers[o].gpus_per_unit for o in model.offers], dtype=float)
    relaxed = run_highs(model, 30.0, 0.0, mip=False)
    assert relaxed.values is not None
    start = direct_solve.rounded_server_start(model, relaxed.values, units, 30.0, 0.0, None)
    assert start is not None and start.values is not None
    for k in range(len(model.offers)):
        if units[k] > 1:
            cumulative = np.maximum.accumulate(np.rint(np.cumsum(model.acquisitions(relaxed.values)[k])))
            assert np.array_equal(np.cumsum(model.acquisitions(start.values)[k]), cumulative)
    assert direct_solve.rounded_server_start(model, relaxed.values, np.ones(len(model.offers)), 30.0, 0.0, None) \
        is None


@pytest.mark.parametrize("seed", range(8))
def test_servers_as_cumulative_counts_change_nothing_but_the_variables(seed: int) -> None:
    """The same instance built with ``n_{o,p}`` and with ``S_{o,p} = Σ_{q≤p} n_{o,q}`` for whole servers:
    equal relaxations and optima, and the acquisitions read back from either are a plan of the other."""
    rng = np.random.default_rng(300 + seed)
    data = with_servers(rng, synthetic(rng, periods=3))
    plain, cumulative = build(data, [0], cumulative_servers=False), build(data, [0])
    assert cumulative.cumulative and not plain.cumulative
    for mip in (False, True):
        a, b = (run_highs(m, 30.0, 0.0, mip=mip) for m in (plain, cumulative))
        assert a.objective is not None and b.objective is not None and b.values is not None
        assert b.objective == pytest.approx(a.objective, rel=1e-9, abs=1e-9)
    started = cumulative.acquisitions(b.values)
    assert (started >= -1e-9).all()
    translated = b.values.copy()  # the same columns, the acquisitions written as n: a plan of the plain model
    for k in range(len(plain.offers)):
        translated[plain.n[k]] = started[k]
    assert float(plain.cost @ translated) + plain.offset == pytest.approx(b.objective, rel=1e-9, abs=1e-9)
    activity = np.zeros(plain.num_row)
    for i in range(plain.num_row):
        end = plain.starts[i + 1] if i + 1 < plain.num_row else plain.index.shape[0]
        activity[i] = plain.value[plain.starts[i]:end] @ translated[plain.index[plain.starts[i]:end]]
    assert (activity >= plain.row_lower - 1e-7).all() and (activity <= plain.row_upper + 1e-7).all()


def test_interleaved_silences_restore_stdout(capfd, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two solves silencing fd 1 from two threads, entering A, B and leaving A, B (the order that, with
    one save/restore pair each, left fd 1 on /dev/null: ``whatif plan`` then printed nothing): what
    is written after both have left reaches stdout, and what is written while one is inside does not."""
    import os
    import sys
    import threading

    from planner.optimize.solver import quiet_stdout

    monkeypatch.setattr(sys, "stdout", open(1, "w", closefd=False))  # noqa: SIM115  (fd 1 itself, as in the CLI)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with quiet_stdout():
            a_in.set()
            b_in.wait()
        a_out.set()

    def second() -> None:
        a_in.wait()
        with quiet_stdout():
            b_in.set()
            a_out.wait()
            os.write(1, b"banner\n")  # a C library's banner while a solve runs: silenced

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    os.write(1, b"plan\n")
    assert capfd.readouterr().out == "plan\n"


def test_the_proof_wave_proves_what_the_sequential_order_proves(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The demo's tied variants (FP8 and INT8, the same plan to the cent) proven two at a time and one
    after the other: the same optimal cost and status, and the wave really ran (two proofs in it)."""
    import planner
    from planner.optimize import proof_waves, screening

    scenario = planner.load_scenario(planner.demo_scenario_path())
    waves: list[int] = []
    real = proof_waves.first_proofs

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        waves.append(len(out))
        return out

    monkeypatch.setattr(proof_waves, "first_proofs", spy)
    monkeypatch.setattr(screening, "union_proof", lambda *args, **kwargs: {})  # the wave, not the union
    together = planner.plan(scenario)
    monkeypatch.setattr(proof_waves, "PROOF_WAVE", 1)
    alone = planner.plan(scenario)
    assert waves == [2, 0]
    assert together.status == alone.status == "optimal"
    assert together.lifetime_cost_usd == pytest.approx(alone.lifetime_cost_usd, rel=1e-9)


@pytest.mark.parametrize("with_cutoff", [False, True])
def test_a_search_stopped_with_a_worse_plan_or_none_returns_its_start(monkeypatch, with_cutoff: bool) -> None:  # type: ignore[no-untyped-def]
    """HiGHS keeps plans found above ``objective_bound`` as its incumbent and may stop before taking a
    start in: a search stopped at its limit holding a plan dearer than the start it was given (or none)
    must hand back that start, ``feasible``, never the dearer plan (the demo at a 1.5 s limit returned
    a plan 130× the optimum from a cutoff search)."""
    rng = np.random.default_rng(7)
    data = with_servers(rng, synthetic(rng, periods=2))
    model = build(data, [0])
    units = np.array([data.offers[o].gpus_per_unit for o in model.offers], dtype=float)
    prepared = direct_solve.prepare(model, solvers.Deadline(30.0), 1e-4, unit_sizes=units)
    start = prepared.start
    assert start is not None and start.objective is not None and start.values is not None
    real = direct_solve.run_highs

    def stopped(model, time_limit_s, gap_rel, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("mip", True):
            return real(model, time_limit_s, gap_rel, **kwargs)
        worse = None if with_cutoff else 10.0 * start.objective
        return DirectOutcome(SolveStatus.FEASIBLE if worse else SolveStatus.NO_SOLUTION, 0.1, worse,
                             0.5 * start.objective, None, None if worse is None else start.values + 1.0, "limit")

    monkeypatch.setattr(direct_solve, "run_highs", stopped)
    cutoff = start.objective * (1 - 1e-4) if with_cutoff else None
    outcome = direct_solve.solve_model(model, solvers.Deadline(30.0), 1e-4, cutoff=cutoff, unit_sizes=units,
                                       prepared=prepared)
    assert outcome.status == SolveStatus.FEASIBLE
    assert outcome.objective == start.objective and outcome.values is not None
    assert np.array_equal(outcome.values, start.values)
    assert outcome.bound is not None and outcome.bound <= start.objective


def test_screening_answer_is_optimal_when_every_bound_left_is_within_the_gap() -> None:
    """A search stopped at its node limit still proves the plan when the lowest bound of every variant
    (its own and the unsolved ones') is within the requested relative gap — HiGHS's own criterion."""
    from planner.optimize.screening import _screening_answer

    model = None  # the answer reads only the outcome
    stopped = DirectOutcome(SolveStatus.FEASIBLE, 1.0, 100.0, 99.8, 0.002, np.zeros(3), "node limit")
    deadline = solvers.Deadline(60.0, node_limit=100)
    _v, _m, within = _screening_answer((0, model, stopped), {1: 99.7}, 5e-3, deadline)  # type: ignore[arg-type]
    assert within.status == SolveStatus.OPTIMAL and within.bound == pytest.approx(99.7)
    assert within.gap == pytest.approx(0.003)
    _v, _m, outside = _screening_answer((0, model, stopped), {1: 99.0}, 5e-3, deadline)  # type: ignore[arg-type]
    assert outside.status == SolveStatus.FEASIBLE and outside.gap == pytest.approx(0.01)
    assert outside.message.startswith("node limit reached (solver.node_limit = 100 nodes per MILP")
    _v, _m, tight = _screening_answer((0, model, stopped), {}, 1e-3, deadline)  # type: ignore[arg-type]
    assert tight.status == SolveStatus.FEASIBLE and tight.gap == pytest.approx(0.002)


def test_the_pulp_model_with_cumulative_servers_keeps_the_optimum(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The PuLP model writes whole servers as cumulative counts (``servers.cumulative_servers``); with 8-GPU
    bought servers it reaches the numpy-built path's optimum, and what it buys are whole servers."""
    from planner.optimize import planning

    sc = scenario(market={"hardware": ["h100-sxm", "h200"], "modes": ["on-demand", "reserved-1y", "buy"],
                          "gpus_per_unit": {"buy": 8}},
                  horizon={"months": 36, "period_months": 6, "growth_per_year": 1.0, "peak_to_average": 2.0},
                  workload={"queries_per_day": 3e7})
    direct = planner.plan(sc, catalog=catalog)
    monkeypatch.setattr(planning, "direct_applies", lambda scenario, name: False)
    on_pulp = planner.plan(sc, catalog=catalog)
    assert direct.status == on_pulp.status == "optimal"
    assert on_pulp.lifetime_cost_usd == pytest.approx(direct.lifetime_cost_usd, rel=2e-4)
    bought = [f for f in on_pulp.fleet if f.mode == "buy"]
    assert bought and all(f.gpus_in_service % 8 == 0 for f in bought)


def test_starts_are_node_limited_on_the_one_slice_path(catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As on the time-sliced path: a start stopped by its time share alone would hand the proof an
    incumbent that depends on load."""
    seen: list[int | None] = []
    original = direct_solve.restricted_start

    def spy(model, relaxed, time_limit_s, gap_rel, threads, node_limit=None):  # type: ignore[no-untyped-def]
        seen.append(node_limit)
        return original(model, relaxed, time_limit_s, gap_rel, threads, node_limit)

    monkeypatch.setattr(direct_solve, "restricted_start", spy)
    plan = planner.plan(scenario(market={"hardware": ["h100-sxm", "l40s"], "modes": ["on-demand"]}), catalog=catalog)
    assert plan.status == "optimal" and seen and set(seen) == {direct_solve.START_NODES}
