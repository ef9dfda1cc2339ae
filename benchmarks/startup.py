"""What a fresh ``whatif`` process pays before it plans: interpreter, imports, and the demo end to end.

    python benchmarks/startup.py [--repeats N]

1. CPU and wall seconds of ``python -c IMPORT`` for the interpreter alone, the third-party
   libraries ``whatif plan`` needs (numpy, pydantic, PuLP with highspy) and the command line
   (``planner.cli.app``): the least of N runs (start-up has a floor and only noise above it).
2. The project modules with the largest self time under ``python -X importtime`` for a
   ``whatif plan --format json`` of the demo (microseconds; the ranking is what is stable).
3. Which optional modules a plain ``whatif plan`` does not import (they load on first use).
4. ``whatif plan --format json`` of the demo in a fresh process: median wall and CPU seconds of N.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: Runs per measurement (the least is reported for imports, the median for the demo).
DEFAULT_REPEATS = 5
#: How many project modules of the import-time ranking to print.
TOP_MODULES = 15
#: Modules that only commands other than a plain ``whatif plan`` need (imported on first use).
OPTIONAL_MODULES = ("planner.insight.preview", "planner.insight.explanation", "planner.insight.sweeps",
                    "planner.insight.break_even", "planner.optimize.pairs", "planner.report.render", "rich")
IMPORT_CASES = {
    "python (nothing)": "pass",
    "numpy": "import numpy",
    "numpy + pydantic + pulp (highspy)": "import numpy, pydantic, pulp",
    "planner.cli.app (the whatif command)": "import planner.cli.app",
}


def _child_seconds(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children) of one subprocess run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _whatif() -> str:
    return shutil.which("whatif", path=str(Path(sys.executable).parent)) or "whatif"


def imports(repeats: int) -> None:
    print("| import | wall s (least) | CPU s (least) |\n|---|--:|--:|")
    for label, code in IMPORT_CASES.items():
        runs = [_child_seconds([sys.executable, "-c", code]) for _ in range(repeats)]
        print(f"| {label} | {min(r[0] for r in runs):.3f} | {min(r[1] for r in runs):.3f} |")


def import_ranking() -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([sys.executable, "-m", "planner", "plan", "--format", "json"], check=True,
                          capture_output=True, text=True, env=env)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if self_us.isdigit():
            rows.append((int(self_us), int(cumulative_us), name))
    ours = sorted((r for r in rows if r[2].startswith(("planner", "techniques"))), reverse=True)[:TOP_MODULES]
    total = sum(r[0] for r in rows)
    print(f"\n`-X importtime` of `whatif plan --format json`: {total / 1e6:.3f} s in {len(rows)} modules "
          f"(instrumented, so inflated); project modules by self time:\n")
    print("| module | self µs | cumulative µs |\n|---|--:|--:|")
    for self_us, cumulative_us, name in ours:
        print(f"| {name} | {self_us:,} | {cumulative_us:,} |")
    imported = {r[2] for r in rows}
    skipped = [m for m in OPTIONAL_MODULES if m not in imported]
    print(f"\nnot imported by a plain `whatif plan --format json`: {', '.join(skipped) or 'none'}")


def demo(repeats: int) -> None:
    runs = [_child_seconds([_whatif(), "plan", "--format", "json"]) for _ in range(repeats)]
    print(f"\nwhatif plan --format json (demo, fresh process): median {statistics.median(r[0] for r in runs):.2f} s "
          f"wall, {statistics.median(r[1] for r in runs):.2f} s CPU (of {repeats}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    args = parser.parse_args()
    imports(args.repeats)
    import_ranking()
    demo(args.repeats)


if __name__ == "__main__":
    main()
