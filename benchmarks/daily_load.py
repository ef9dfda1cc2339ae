"""Daily load shapes, deferrable work and spot (the README's tables).

1. ``examples/daily-load.toml`` under each convention: the peak provisioned all day, following the
   day in time slices, and each load-following choice switched off in turn.
2. Solve time of the demo with daily profiles in 4 slices against the demo in one slice
   (medians of ``--repeat`` fresh solves in this process; state the machine's load with the figures).
3. With ``--pairs``: the 4-slice demo with two variants per plan (pair screening, one run at the
   plan's time limit) against its best single-variant plan.

Run: ``python benchmarks/daily_load.py [--repeat 3] [--pairs]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import planner

try:  # imported as benchmarks.<name> (tests) or run as a script (its directory first on sys.path)
    from benchmarks.machine import machine_line
except ModuleNotFoundError:
    from machine import machine_line  # type: ignore[no-redef]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "daily-load.toml"
#: (label, --set overrides) on the example.
CONVENTIONS: tuple[tuple[str, list[str]], ...] = (
    ("peak provisioned all day (1 slice)", ["plan.time_slices=1"]),
    ("following the day: 4 slices, batch deferrable, spot (the example)", []),
    ("4 slices, batch served as it arrives", ["-workload.batch.deadline_hours"]),
    ("4 slices, batch served as it arrives, on spot", ["workload.batch.allow_spot=true",
                                                      "-workload.batch.deadline_hours"]),
    ("4 slices, batch deferrable, no spot", ['market.modes=["on-demand", "reserved-1y"]']),
)
#: The demo with published daily shapes instead of peak_to_average = 2 (chat: BurstGPT's conversation
#: curve; summarise: business hours from the Azure 2024 coding trace).
DEMO_SHAPED = ["horizon.peak_to_average=1", 'workload.chat.profile="chat-regional"',
               'workload.summarise.profile="business-hours"', "plan.time_slices=4"]


def fleet_summary(plan: planner.Plan) -> str:
    held = Counter()
    for f in plan.fleet:
        held[f.mode + (" (per slice)" if f.slice is not None else "")] += f.gpus_in_service
    return ", ".join(f"{k} {v}" for k, v in sorted(held.items()))


def _scenario(overrides: list[str]) -> planner.Scenario:
    """The example with ``--set``-style overrides; ``-workload.<name>.<field>`` removes a field."""
    sets = [o for o in overrides if not o.startswith("-")]
    scenario = planner.load_scenario(EXAMPLE, sets)
    data = scenario.model_dump(mode="json")
    for removal in (o[1:] for o in overrides if o.startswith("-")):
        _, name, key = removal.split(".")
        next(w for w in data["workload"] if w["name"] == name)[key] = None
    return planner.scenario_from_dict(data)


def conventions() -> None:
    print("| convention | status | lifetime cost (PV) | vs peak all day | $/M queries | GPUs held (sum over lines) |")
    print("|---|---|--:|--:|--:|---|")
    peak = None
    for label, overrides in CONVENTIONS:
        plan = planner.plan(_scenario(overrides))
        cost = plan.lifetime_cost_usd
        if cost is None:
            print(f"| {label} | {plan.status} | – | – | – | {plan.message} |")
            continue
        peak = cost if peak is None else peak
        print(f"| {label} | {plan.status} | ${cost:,.0f} | {cost / peak - 1:+.1%} | "
              f"{plan.cost_per_million_queries_usd:,.2f} | {fleet_summary(plan)} |")
        sys.stdout.flush()


def solve_times(repeat: int) -> None:
    print("| demo | status | lifetime cost (PV) | median solve s | runs |")
    print("|---|---|--:|--:|---|")
    path = planner.demo_scenario_path()
    for label, overrides in (("one slice (peak_to_average = 2)", []), ("daily shapes, 4 slices", DEMO_SHAPED)):
        times, plan = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            plan = planner.plan(planner.load_scenario(path, overrides))
            times.append(time.perf_counter() - start)
        assert plan is not None
        cost = "–" if plan.lifetime_cost_usd is None else f"${plan.lifetime_cost_usd:,.0f}"
        status = plan.status if plan.status == "optimal" or plan.solver is None or plan.solver.gap is None \
            else f"{plan.status}, gap {plan.solver.gap:.1%}"
        print(f"| {label} | {status} | {cost} | {statistics.median(times):.2f} | "
              f"{', '.join(f'{t:.2f}' for t in times)} |")
        sys.stdout.flush()


def _interval(plan: planner.Plan) -> str:
    if plan.lifetime_cost_usd is None:
        return "–"
    if plan.status == "optimal" or plan.bound_usd is None:
        return f"${plan.lifetime_cost_usd:,.0f}"
    return f"[${plan.bound_usd:,.0f}, ${plan.lifetime_cost_usd:,.0f}]"


def two_variants() -> None:
    """The 4-slice demo with ``plan.max_variants`` 1 and 2: status, cost or interval, solve time, counters."""
    print("| 4-slice demo | status | lifetime cost (PV) | solve s | screened |")
    print("|---|---|--:|--:|---|")
    for mixed in (1, 2):
        start = time.perf_counter()
        plan = planner.plan(planner.load_scenario(planner.demo_scenario_path(),
                                                  [*DEMO_SHAPED, f"plan.max_variants={mixed}"]))
        seconds = time.perf_counter() - start
        counters = plan.solver.pruning if plan.solver is not None else {}
        screened = (f"{counters.get('variants_screened', 0)} variants ({counters.get('variants_lp_bounded', 0)} "
                    f"relaxed, {counters.get('variants_searched', 0)} searched)")
        if "pairs_screened" in counters:
            screened += (f"; {counters['pairs_screened']:,} pairs ({counters['pairs_lp_bounded']} relaxed, "
                         f"{counters['pairs_solved']} searched)")
        gap = "" if plan.solver is None or plan.solver.gap is None or plan.status == "optimal" \
            else f", gap {plan.solver.gap:.1%}"
        variants = sorted({line.variant for line in plan.serving})
        print(f"| max_variants = {mixed} ({'; '.join(variants)}) | {plan.status}{gap} | {_interval(plan)} | "
              f"{seconds:.1f} | {screened} |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", action="store_true", help="also the 4-slice demo with two variants per plan")
    args = parser.parse_args()
    print(machine_line())
    print()
    conventions()
    print()
    solve_times(args.repeat)
    if args.pairs:
        print()
        two_variants()


if __name__ == "__main__":
    main()
