r"""How hard a plan drives each serving line: its utilisation and the tail latency the queueing model
gives there, and a warning where that tail misses a class's own (mean) targets.

A line of ``n`` replicas of column ``j`` serving class ``c`` in period ``p`` (and slice ``s``) has the
model's coefficient ``a_j = a_{j,p(,s)}``: the replicas of ``j`` that would carry the whole class at the
rate it is provisioned for (:class:`~planner.economics.periods.Demand`'s ``peak_rps``: the period's end, at
``peak_to_average`` or in the slice's busiest hour), at the column's capacity ``κ_j·R_j`` (``R_j`` the
saturated throughput at the line's batch, ``κ_j`` the row's utilisation cap under P99 targets,
:mod:`planner.optimize.candidates` step 5; 1 without them).  So the class's lines together can carry
``Σ_i n_i / a_i ≥ 1`` times its demand, and spread in proportion to their capacity each runs at

    ``ρ_j = κ_j / Σ_i (n_i / a_i)``

of its **saturated** throughput (``ρ_j ≤ κ_j ≤ 1``).  That is the line's ``utilisation``: the load of the
capacity the plan holds, not of the plan's own split of the traffic, which is arbitrary among equal-cost
splits — the solver may fill a one-replica top-up line to its last request while the class is at 92 %
(until the twenty-first session's review, the lines read ``x·a_j/n``, that split's load, and the warning
reported "100 %, unbounded" for a class at 92–96 %).  The P99 TTFT and TPOT at ``ρ_j`` are
:func:`planner.physics.queueing.tail_latency`'s (M/G/c slots, continuous-batching iterations; its
docstring has the formulas and the MLPerf check).  A measured column (a ``[[measured]]`` row: capacity at
the class's SLO, no roofline figures to queue) gets ``ρ`` only; a disaggregated line gets neither (its two
pools queue apart), and a class also served by pairs has its co-located lines' load over them alone.

**Why a warning.**  Without P99 targets the plan sizes replicas for the class's mean rate at its
busiest hour and nothing more, so a line may run at 95–100 % of what its replicas can do: cheapest on
paper, a queue in practice.  Where the queueing model puts a line's P99 TTFT (or TPOT) above the class's
own mean target, the plan says so, with the line and the figures, and names the field that prices the
tail (``workload.ttft_p99_ms`` / ``tpot_p99_ms``: capacity is then capped at the ``ρ_max`` meeting it).
A class with a P99 target is capped by construction and not warned about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from planner.optimize.candidates import CandidateSet, replica_queue
from planner.optimize.pruning import Column
from planner.physics.queueing import tail_latency
from planner.plan_model import ServedBy
from planner.scenario.schema import Scenario
from planner.units import MS_PER_SECOND

#: A line within this of its saturated throughput (relative) has no finite P99: the model's rows hold to
#: HiGHS's 1e-6 feasibility tolerance, so ``ρ = 1 − 1e-9`` is a saturated line, not a 10¹⁸ ms tail.
SATURATED_WITHIN = 1e-6


def with_loads(cs: CandidateSet, lines: Sequence[tuple[ServedBy, Column, float]],
               deferrable: frozenset[str] = frozenset()) -> list[ServedBy]:
    """Each ``(line, column, a)`` line with its ``utilisation`` ``ρ_j = κ_j / Σ_i n_i/a_i`` over the lines of
    its class, period and slice (module docstring) and, for a roofline column, the queueing model's P99
    TTFT and TPOT at ``ρ`` (ms; a saturated line, within :data:`SATURATED_WITHIN` of 1, has ``ρ = 1`` and
    no finite TTFT: None); a line without replicas, or of a ``deferrable`` class, is returned as it is (a
    deferrable class's coefficient is for its arrival rate, while its lines serve the backlog the schedule
    puts in their slice: the daily-load example's batch read 12 % where its replicas ran at 98 %)."""
    table = cs.deployments
    rows = np.array([col.row for _, col, _ in lines], dtype=np.int64)
    cap = np.ones(len(rows)) if table.utilisation_cap is None else table.utilisation_cap[rows]
    replicas = np.array([0.0 if line.workload in deferrable else line.replicas for line, _, _ in lines], dtype=float)
    coefficient = np.array([a for _, _, a in lines], dtype=float)
    groups = [(line.workload, line.period, line.slice) for line, _, _ in lines]
    carried: dict[tuple[str, int, int | None], float] = defaultdict(float)  # Σ n_i / a_i per class, period, slice
    for key, n, a in zip(groups, replicas, coefficient, strict=True):
        if n > 0 and a > 0:
            carried[key] += n / a
    covers = np.array([carried.get(key, 0.0) for key in groups])
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where((replicas > 0) & (covers > 0), cap / covers, np.nan)
    measured = np.array([col.measured for _, col, _ in lines], dtype=bool)
    queued = np.flatnonzero(np.isfinite(rho) & ~measured)
    ttft = np.full(len(rows), np.nan)
    tpot = np.full(len(rows), np.nan)
    rho = np.where(rho >= 1.0 - SATURATED_WITHIN, 1.0, rho)
    if len(queued):
        tail = tail_latency(replica_queue(table, rows[queued], cs.slot_holding_cv), rho[queued])
        ttft[queued], tpot[queued] = tail.ttft_p99_s * MS_PER_SECOND, tail.tpot_p99_s * MS_PER_SECOND
    out = []
    for k, (line, _, _) in enumerate(lines):
        if not np.isfinite(rho[k]):
            out.append(line)
            continue
        out.append(line.model_copy(update={"utilisation": float(rho[k]),
                                           "ttft_p99_ms": _finite(ttft[k]), "tpot_p99_ms": _finite(tpot[k])}))
    return out


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def tail_warnings(scenario: Scenario, serving: Sequence[ServedBy]) -> list[str]:
    """One warning per interactive class whose busiest line (the highest P99 TTFT, a saturated queue
    first) has a P99 TTFT above the class's mean target without a TTFT P99 target, or whose slowest line a
    P99 TPOT above it without a TPOT P99 target (module docstring).  Each target silences its own metric
    only: a TPOT P99 target left chat's 40 s TTFT tail unwarned until the twenty-first session's review.
    A deferrable class is not warned about: its requests wait for the cheapest hours by design."""
    out = []
    for w in scenario.workload:
        if w.deadline_hours is not None:  # served within its deadline: the queue is the plan's, not a tail
            continue
        lines = [s for s in serving if s.workload == w.name and s.utilisation is not None and s.prefill is None
                 and not s.measured]
        if not lines:
            continue
        worst = max(lines, key=lambda s: (s.ttft_p99_ms is None, s.ttft_p99_ms or 0.0, s.utilisation or 0.0))
        slowest = max(lines, key=lambda s: (s.tpot_p99_ms is None, s.tpot_p99_ms or 0.0))
        misses = []
        if w.ttft_p99_ms is None and (worst.ttft_p99_ms is None or worst.ttft_p99_ms > w.ttft_ms):
            misses.append(f"TTFT {_ms(worst.ttft_p99_ms)} against the {w.ttft_ms:,.10g} ms mean target")
        if w.tpot_p99_ms is None and (slowest.tpot_p99_ms is None or slowest.tpot_p99_ms > w.tpot_ms):
            other = "" if slowest is worst else f" (on {slowest.hardware} TP{slowest.tp} b{slowest.batch})"
            misses.append(f"TPOT {_ms(slowest.tpot_p99_ms)}{other} against the {w.tpot_ms:,.10g} ms mean target")
        if not misses:
            continue
        when = "its busiest hour" if worst.slice is None else f"the busiest hour of time slice {worst.slice}"
        out.append(f"{w.name} is sized at {worst.utilisation:.1%} of its replicas' saturated throughput in {when} "
                   f"({worst.hardware} TP{worst.tp} b{worst.batch}, period {worst.period}); there the queueing model "
                   f"(planner/physics/queueing.py) puts P99 {' and '.join(misses)}: set workload.ttft_p99_ms "
                   f"(or tpot_p99_ms) to plan headroom for the tail")
    return out


#: A tail at or above this is printed in seconds (1,160 s, not 1,160,382 ms).
SECONDS_FROM_MS = 10_000.0


def _ms(value: float | None) -> str:
    if value is None:
        return "unbounded (a saturated queue)"
    return f"{value / MS_PER_SECOND:,.0f} s" if value >= SECONDS_FROM_MS else f"{value:,.0f} ms"
