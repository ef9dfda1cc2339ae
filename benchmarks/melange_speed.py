"""Side by side: our plan on the Mélange SYN instance against Mélange's own reported times.

    python benchmarks/melange_speed.py

Mélange's figures (median solve and whole ``run()``, ms, CBC via PuLP, measured on the same kind of
2-core machine) are the published cross-check numbers; ours are the median of 5 ``planner.plan()``
calls (model build, solve, verification, report) and, for the largest case, the median of 7 whole
``whatif plan`` processes including start-up.  The processes run with bytecode caching on (one
untimed call first), as after ``pip install .``: an environment with ``PYTHONDONTWRITEBYTECODE``
would otherwise recompile an editable install's modules on every start.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import planner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.optimize.test_melange import MELANGE, SYN, SYN_T, scenario  # noqa: E402

#: (R, k) -> (Mélange solve median ms, Mélange run() ms), from the cross-check instance's report.
MELANGE_MS = {(4, 1): (51, 53), (4, 4): (340, 353), (4, 8): (238, 259), (4, 16): (256, 301),
              (16, 1): (423, 427), (16, 4): (627, 638), (16, 8): (603, 653), (16, 16): (792, 841),
              (64, 1): (1778, 1781), (64, 4): (219, 229), (64, 8): (240, 261), (64, 16): (781, 809)}
REPEATS = 5
CLI_REPEATS = 7


def main() -> None:
    catalog = planner.load_catalogs([MELANGE / "prices.toml"], use_env=False)
    print("| R | k | Mélange solve ms | Mélange run() ms | whatif plan() ms | whatif solve ms | faster than run()? |")
    print("|--:|--:|--:|--:|--:|--:|---|")
    for (rate, k), (m_solve, m_run) in MELANGE_MS.items():
        sc = scenario(SYN["shares"], SYN_T, rate, k, SYN["input_edges"])
        walls, solves = [], []
        for _ in range(REPEATS):
            start = time.perf_counter()
            plan = planner.plan(sc, catalog=catalog)
            walls.append((time.perf_counter() - start) * 1e3)
            solves.append(plan.timings["solve_s"] * 1e3)
        ours = statistics.median(walls)
        print(f"| {rate} | {k} | {m_solve} | {m_run} | {ours:.0f} | {statistics.median(solves):.0f} | "
              f"{'yes' if ours < m_run else 'no'} |")
    exe = shutil.which("whatif", path=str(Path(sys.executable).parent)) or "whatif"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "syn.json"
        path.write_text(json.dumps(scenario(SYN["shares"], SYN_T, 64, 16, SYN["input_edges"]).model_dump(mode="json")))
        command = [exe, "--catalog", str(MELANGE / "prices.toml"), "plan", str(path), "--format", "json"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(command, check=True, capture_output=True, env=env)  # warm the bytecode cache
        walls = []
        for _ in range(CLI_REPEATS):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            walls.append(time.perf_counter() - start)
    walls.sort()
    print(f"\nwhatif plan, SYN R=64 k=16 (Mélange's largest model), fresh process: {statistics.median(walls):.2f} s "
          f"median wall ({walls[0]:.2f}–{walls[-1]:.2f} s over {CLI_REPEATS}) against Mélange's run() of "
          f"{MELANGE_MS[(64, 16)][1] / 1e3:.2f} s (start-up not included)")


if __name__ == "__main__":
    main()
