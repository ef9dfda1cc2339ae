"""Variants and deployments of a scenario: how many, and how long to enumerate and evaluate them.

    python benchmarks/candidates_speed.py [SCENARIO]      (default: the built-in demo)
"""

from __future__ import annotations

import collections
import statistics
import sys
import time

import planner
from planner.optimize.candidates import build_candidates

REPEATS = 5


def main(path: str | None = None) -> None:
    scenario = planner.load_scenario(path or planner.demo_scenario_path())
    catalog = planner.load_catalogs(use_env=False)
    build_candidates(scenario, catalog)  # warm-up (entry points, imports)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        cs = build_candidates(scenario, catalog)
        times.append(time.perf_counter() - start)
    excluded = collections.Counter(e.family for e in cs.exclusions)
    print(f"scenario {scenario.name}: {len(cs.variants)} variants "
          f"(excluded: {dict(sorted(excluded.items()))}), {len(cs.deployments):,} deployment rows, "
          f"{int(cs.deployments.latency_ok.sum()):,} meeting their class's latency targets")
    print(f"enumerate + evaluate: {statistics.median(times) * 1e3:.0f} ms (median of {REPEATS})")


if __name__ == "__main__":
    main(*sys.argv[1:])
