"""How fast this machine is right now, printed beside every timing a benchmark reports.

The development machine's speed drifts during a session by more than most changes being measured
(2026-12-06: the same 544-node demo proof took 2.8 s, then 4.5 s an hour later, with nothing else
running).  A fixed pure-Python loop timed next to the figures lets a reader compare runs of different
days or hours: figures measured while the loop took longer were measured on a slower machine.
"""

from __future__ import annotations

import time

#: Additions in the calibration loop (10⁷: about 1 s on the 2-core development machine).
LOOP_ADDITIONS = 10_000_000


def calibration_loop_s() -> float:
    """Seconds one pure-Python loop of :data:`LOOP_ADDITIONS` integer additions takes now."""
    start = time.perf_counter()
    total = 0
    for i in range(LOOP_ADDITIONS):
        total += i
    return time.perf_counter() - start


def machine_line() -> str:
    """One line for a benchmark's header: the calibration loop's seconds."""
    return f"machine: a pure-Python loop of {LOOP_ADDITIONS:,} additions takes {calibration_loop_s():.2f} s now"
