r"""How hard a plan drives each serving line: its utilisation and the tail latency the queueing model
gives there, and a warning where that tail misses a class's own (mean) targets.

A line of ``n`` replicas of column ``j`` carrying the share ``x`` of class ``c`` in period ``p`` (and
slice ``s``) at the rate the class is provisioned for (:class:`~planner.economics.periods.Demand`'s
``peak_rps``: the period's end, at ``peak_to_average`` or in the slice's busiest hour) needs ``x·a``
replicas' worth of the column's capacity, ``a = a_{j,p(,s)}`` the model's coefficient (replicas that
would carry the whole class).  Its replicas therefore run at

    ``ρ = x · a · κ_j / n``

of their **saturated** capacity (the roofline's throughput at the line's batch), ``κ_j`` the row's
utilisation cap under P99 targets (:mod:`planner.optimize.candidates`, step 5; 1 without them: the model's
capacity is ``κ`` × saturated, so ``ρ ≤ κ ≤ 1``).  The P99 TTFT and TPOT at ``ρ`` are
:func:`planner.physics.queueing.tail_latency`'s (M/G/c slots, continuous-batching iterations; its
docstring has the formulas and the MLPerf check).  A measured column (a ``[[measured]]`` row: capacity
at the class's SLO, no roofline figures to queue) gets ``ρ`` against its measured capacity only; a
disaggregated line gets neither (its two pools queue apart).

**Why a warning.**  Without P99 targets the plan sizes replicas for the class's mean rate at its
busiest hour and nothing more, so a line may run at 95–100 % of what its replicas can do: cheapest on
paper, a queue in practice.  Where the queueing model puts a line's P99 TTFT (or TPOT) above the class's
own mean target, the plan says so, with the line and the figures, and names the field that prices the
tail (``workload.ttft_p99_ms`` / ``tpot_p99_ms``: capacity is then capped at the ``ρ_max`` meeting it).
A class with a P99 target is capped by construction and not warned about.
"""

from __future__ import annotations

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


def with_loads(cs: CandidateSet, lines: Sequence[tuple[ServedBy, Column, float]]) -> list[ServedBy]:
    """Each ``(line, column, a)`` line with its ``utilisation`` ``ρ = x·a·κ/n`` and, for a roofline column,
    the queueing model's P99 TTFT and TPOT at ``ρ`` (ms; a saturated line, within :data:`SATURATED_WITHIN`
    of 1, has ``ρ = 1`` and no finite TTFT: None); a line without replicas is returned as it is."""
    table = cs.deployments
    rows = np.array([col.row for _, col, _ in lines], dtype=np.int64)
    cap = np.ones(len(rows)) if table.utilisation_cap is None else table.utilisation_cap[rows]
    replicas = np.array([line.replicas for line, _, _ in lines], dtype=float)
    offered = np.array([line.traffic_share * a for line, _, a in lines], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(replicas > 0, offered * cap / replicas, np.nan)
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
    """One warning per class without P99 targets whose busiest line (the highest P99 TTFT, a saturated
    queue first) has a P99 TTFT or TPOT above the class's mean target (module docstring)."""
    out = []
    for w in scenario.workload:
        if w.ttft_p99_ms is not None or w.tpot_p99_ms is not None:
            continue
        lines = [s for s in serving if s.workload == w.name and s.utilisation is not None and s.prefill is None
                 and not s.measured]
        if not lines:
            continue
        worst = max(lines, key=lambda s: (s.ttft_p99_ms is None, s.ttft_p99_ms or 0.0, s.utilisation or 0.0))
        misses = []
        if worst.ttft_p99_ms is None or worst.ttft_p99_ms > w.ttft_ms:
            misses.append(f"TTFT {_ms(worst.ttft_p99_ms)} against the {w.ttft_ms:,.10g} ms mean target")
        if worst.tpot_p99_ms is None or worst.tpot_p99_ms > w.tpot_ms:
            misses.append(f"TPOT {_ms(worst.tpot_p99_ms)} against the {w.tpot_ms:,.10g} ms mean target")
        if not misses:
            continue
        when = "its busiest hour" if worst.slice is None else f"the busiest hour of time slice {worst.slice}"
        out.append(f"{w.name} is sized at {worst.utilisation:.0%} of its replicas' saturated throughput in {when} "
                   f"({worst.hardware} TP{worst.tp} b{worst.batch}, period {worst.period}); there the queueing model "
                   f"(planner/physics/queueing.py) puts P99 {' and '.join(misses)}: set workload.ttft_p99_ms "
                   f"(or tpot_p99_ms) to plan headroom for the tail")
    return out


def _ms(value: float | None) -> str:
    return "unbounded (a saturated queue)" if value is None else f"{value:,.0f} ms"
