"""How fast `whatif plan` is, how big its model is, and how solve time grows.

    python benchmarks/plan_speed.py

1. The demo end to end (`whatif plan --format json` in a fresh process, median of 3).
2. The demo's model size before pruning (every latency-feasible deployment as a column) and after.
3. Growth: solve time as variants, hardware types and periods double (one at a time), `max_variants = 2`,
   and owned GPUs written off over 4 years (the input whose rounded-server start is furthest off).
4. Scaling: quarterly periods 4, 8, 12, 24, 36 and more variants past the quality floor; each with the
   default whole 8-GPU servers and with single-GPU purchases (``market.gpus_per_unit.buy = 1``).
   (``benchmarks/scaling.py`` runs the speed issue's axes — periods 4…36, variants 24, 96, 192 — on this
   path and on the PuLP path it replaced.)
5. `whatif explain` on the demo (fresh process, one run: its re-solves stop at a node limit, so the
   figures it prints are the same on every run).

Sections 1 and 3 give the median of ``--repeats`` runs (default 3), wall and process CPU seconds, and
the load average when they started: other jobs on a shared 2-core machine inflate wall times, CPU
seconds much less.

    python benchmarks/plan_speed.py [--quick] [--repeats N]     # --quick: sections 1-3 only
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import planner

try:  # imported as benchmarks.<name> (tests) or run as a script (its directory first on sys.path)
    from benchmarks.machine import machine_line
except ModuleNotFoundError:
    from machine import machine_line  # type: ignore[no-redef]

#: Runs per timed case (the median is reported); ``--repeats N`` overrides it.
REPEATS = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def whatif_wall() -> tuple[float, float]:
    """Median wall and CPU seconds of a fresh ``whatif plan --format json`` of the demo."""
    exe = shutil.which("whatif", path=str(Path(sys.executable).parent)) or "whatif"
    walls, cpus = [], []
    for _ in range(REPEATS):
        start, cpu = time.perf_counter(), _cpu_s()
        subprocess.run([exe, "plan", "--format", "json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_s() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def run(overrides: list[str]) -> tuple[float, planner.Plan]:
    scenario = planner.load_scenario(planner.demo_scenario_path(), overrides)
    start = time.perf_counter()
    plan = planner.plan(scenario)
    return time.perf_counter() - start, plan


def run_median(overrides: list[str]) -> tuple[float, float, planner.Plan]:
    """Median wall and CPU seconds of ``REPEATS`` in-process plans, and the last plan."""
    walls, cpus = [], []
    plan: planner.Plan | None = None
    for _ in range(REPEATS):
        cpu = _cpu_s()
        seconds, plan = run(overrides)
        walls.append(seconds)
        cpus.append(_cpu_s() - cpu)
    assert plan is not None
    return statistics.median(walls), statistics.median(cpus), plan


def describe(label: str, overrides: list[str]) -> None:
    load = os.getloadavg()[0]
    seconds, cpu, plan = run_median(overrides)
    s = plan.solver
    size = f"{s.variables} vars / {s.constraints} rows" if s else "-"
    kept = s.pruning.get("variants_kept", "-") if s else "-"
    cost = f"${plan.lifetime_cost_usd:,.0f}" if plan.lifetime_cost_usd is not None else "-"
    print(f"| {label} | {plan.status} | {cost} | {seconds:.2f} | {cpu:.2f} | {load:.1f} | {size} | "
          f"{s.pruning.get('variants_screened', '-') if s else '-'} → {kept} |")


def main() -> None:
    print(machine_line())
    wall, cpu = whatif_wall()
    print(f"whatif plan (demo, fresh process): {wall:.2f} s wall, {cpu:.2f} s CPU (median of {REPEATS}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    _, plan = run([])
    s = plan.solver
    assert s is not None
    p = plan.periods
    feasible = s.pruning["latency_feasible"]
    print("| model | variables | constraints (approx.) |\n|---|--:|--:|")
    print(f"| before pruning (every latency-feasible deployment × {p} periods, x and r) | {2 * feasible * p:,} | "
          f"{3 * feasible * p:,} |")
    print(f"| after deployment pruning ({s.pruning['columns']} columns) | {2 * s.pruning['columns'] * p:,} | "
          f"{3 * s.pruning['columns'] * p:,} |")
    print(f"| solved (after exact variant screening) | {s.variables:,} | {s.constraints:,} |\n")
    print(f"| configuration | status | cost | plan s (median of {REPEATS}) | CPU s | load | model | "
          "variants screened → kept |")
    print("|---|---|--:|--:|--:|--:|---|---|")
    describe("demo (4 hardware, 3 modes, 12 periods)", [])
    describe("demo with single-GPU purchases (market.gpus_per_unit={buy=1})", ["market.gpus_per_unit={buy=1}"])
    describe("variants ×2 (+ kv-int4 retention, + semantic cache)",
             ['technique_settings.kv_quantization.quality_retention={"kv-int4"=0.985}',
              "technique_settings.caching.semantic_hit_rate=0.3",
              'techniques.caching=["none","prefix","response","semantic"]'])
    describe("hardware ×2 (8 types)", ['market.hardware=["h100-sxm","h200","l40s","a100-80gb","b200","mi300x","l4","a10g"]'])
    describe("periods ×2 (24 quarters: a 72-month horizon)", ["horizon.months=72"])
    describe("periods ×3 (36 monthly periods)", ["horizon.period_months=1"])
    describe("max_variants = 2 (exact pair screening)", ["plan.max_variants=2"])
    # the input the rounded-server start suits least (README, Performance: "Why the remaining goals are not met")
    describe("owned GPUs written off over 4 years (market.useful_life_years=4)", ["market.useful_life_years=4"])
    if "--quick" in sys.argv:
        return
    print("\n| scaling case | servers of 8: status | s | single GPUs: status | s |\n|---|---|--:|---|--:|")
    for months in (12, 24, 36, 72, 108):
        scale(f"{months // 3} quarterly periods", [f"horizon.months={months}"])
    for drop in (15.0, 100.0):  # more variants pass the quality floor (count shown in each cell)
        scale(f"quality.max_drop={drop:g} (12 quarters)", [f"quality.max_drop={drop}"])
    print(f"\nwhatif explain (demo, fresh process): {explain_wall():.1f} s wall")


def scale(label: str, overrides: list[str]) -> None:
    cells = []
    for extra in ([], ["market.gpus_per_unit={buy=1}"]):
        seconds, plan = run(overrides + extra)
        screened = plan.solver.pruning.get("variants_screened", "-") if plan.solver else "-"
        cells.append(f"{plan.status} (${plan.lifetime_cost_usd or 0:,.0f}; {screened} variants) | {seconds:.2f}")
    print(f"| {label} | {' | '.join(cells)} |")


def explain_wall() -> float:
    exe = shutil.which("whatif", path=str(Path(sys.executable).parent)) or "whatif"
    start = time.perf_counter()
    subprocess.run([exe, "explain", "--format", "json"], check=True, capture_output=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
