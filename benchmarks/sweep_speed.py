"""Sweep throughput: plans per second for a 200-point sweep of the demo, 1 vs 2 workers.

The sweep varies the chat class's demand over 0.1x to 5x the demo's (2e5 to 1e7 queries/day).

    python benchmarks/sweep_speed.py [POINTS]

Also the overhead per point over bare ``planner.plan()`` calls in one process (same points).
"""

from __future__ import annotations

import sys
import time

import planner
from planner.insight.sweeps import sweep

try:  # imported as benchmarks.<name> (tests) or run as a script (its directory first on sys.path)
    from benchmarks.machine import machine_line
except ModuleNotFoundError:
    from machine import machine_line  # type: ignore[no-redef]

SPEC = "workload.chat.queries_per_day"


def main(points: int = 200) -> None:
    print(machine_line())
    scenario = planner.load_scenario(planner.demo_scenario_path())
    vary = {SPEC: f"2e5..1e7:log:{points}"}
    catalog = planner.load_catalogs(use_env=False)
    from planner.scenario.sweep_spec import apply_point, grid

    pts = grid(vary, False)
    start = time.perf_counter()
    for p in pts[: min(20, points)]:
        planner.plan(apply_point(scenario.model_dump_json(), p), catalog=catalog)
    bare = (time.perf_counter() - start) / min(20, points)
    print(f"bare plan() per point (first {min(20, points)} points, one process): {bare:.3f} s")
    results = {}
    for workers in (1, 2):
        start = time.perf_counter()
        r = sweep(scenario, vary=vary, workers=workers)
        seconds = time.perf_counter() - start
        results[workers] = seconds
        solve = sum(float(row.get("solver_seconds") or 0) for row in r.rows) / points
        print(f"{workers} worker(s): {points} plans in {seconds:.1f} s = {points / seconds:.2f} plans/s "
              f"(mean solve {solve:.3f} s per point)")
    print(f"speed-up with 2 workers: {results[1] / results[2]:.2f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
