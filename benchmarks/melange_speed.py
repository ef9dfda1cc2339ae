"""Side by side, in the same run: our plan and Mélange's published solver on the Mélange SYN instance.

    PYTHONPATH=/path/to/melange-release python benchmarks/melange_speed.py

Mélange's solver is the ``MelangeSolver`` of https://github.com/tyler-griggs/melange-release (the
source its README names; not on PyPI, and no Mélange code lives in this repository).  Clone it and
put the clone on ``PYTHONPATH``; its package imports pandas, so that must be installed as well.  When
``melange.solver`` is importable each case runs both solvers here, on this machine, at the same
moment: Mélange's ``run()`` (its PuLP model built and solved with CBC; median of ``REPEATS``) and
``planner.plan()`` (model build, solve, verification, report; median of ``REPEATS``), and checks
that both give the same $/h.  When it is not importable the benchmark says so (with the import
error) and prints our times only — it does not compare with times measured elsewhere.

The largest case is also run as whole ``whatif plan`` processes (median of ``CLI_REPEATS``, start-up
included), with bytecode caching on (one untimed call first), as after ``pip install .``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import planner
from planner.units import HOURS_PER_MONTH

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.optimize.test_melange import MELANGE, SYN, SYN_T, scenario

#: The SYN cases: total request rate R (req/s) × Mélange's slice factor k.
CASES = [(rate, k) for rate in (4, 16, 64) for k in (1, 4, 8, 16)]
REPEATS = 5
CLI_REPEATS = 7
#: Both solvers solve to optimality, so their $/h must agree to this relative tolerance.
COST_REL_TOL = 1e-6
MS_PER_S = 1e3


def melange_solver() -> tuple[Callable[..., Any] | None, str]:
    """Mélange's ``MelangeSolver`` class, or None and why it cannot be imported."""
    try:
        from melange.solver import MelangeSolver  # type: ignore[import-not-found]
    except Exception as exc:  # noqa: BLE001  (any failure to import means: not available)
        return None, f"{type(exc).__name__}: {exc}"
    return MelangeSolver, str(Path(sys.modules["melange.solver"].__file__ or "?").parent)


def gpu_prices() -> dict[str, float]:
    """$/GPU-hour of each SYN GPU, from the cross-check's price overlay (the same numbers both solvers get)."""
    rows = tomllib.loads((MELANGE / "prices.toml").read_text())["price"]
    return {row["hardware"]: float(row["usd_per_gpu_hour"]) for row in rows}


def run_melange(solver: Callable[..., Any], rate: float, k: int, prices: dict[str, float]) -> tuple[float, float]:
    """Median ms of Mélange's ``run()`` on SYN at (rate, k), and its $/h."""
    gpu_info = {hw: {"cost": prices[hw], "tputs": rows} for hw, rows in SYN_T.items()}
    walls, cost = [], math.nan
    for _ in range(REPEATS):
        instance = solver(SYN["shares"], rate, copy.deepcopy(gpu_info), k)  # run() writes into gpu_info
        start = time.perf_counter()
        solution = instance.run()
        walls.append((time.perf_counter() - start) * MS_PER_S)
        cost = float(solution["cost"]) if solution else math.nan
    return statistics.median(walls), cost


def run_ours(rate: float, k: int, catalog: planner.Catalog) -> tuple[float, float, float]:
    """Median ms of ``planner.plan()`` and of its solve on SYN at (rate, k), and its $/h."""
    sc = scenario(SYN["shares"], SYN_T, rate, k, SYN["input_edges"])
    walls, solves, cost = [], [], math.nan
    for _ in range(REPEATS):
        start = time.perf_counter()
        plan = planner.plan(sc, catalog=catalog)
        walls.append((time.perf_counter() - start) * MS_PER_S)
        solves.append(plan.timings["solve_s"] * MS_PER_S)
        cost = (plan.lifetime_cost_usd or math.nan) / HOURS_PER_MONTH
    return statistics.median(walls), statistics.median(solves), cost


def main() -> None:
    catalog = planner.load_catalogs([MELANGE / "prices.toml"], use_env=False)
    solver, where = melange_solver()
    prices = gpu_prices()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {REPEATS}")
    if solver is None:
        print(f"Mélange is not importable here ({where}): clone https://github.com/tyler-griggs/melange-release, "
              "put it on PYTHONPATH (with pandas installed) to run it side by side. Our times only:\n")
        print("| R | k | whatif plan() ms | whatif solve ms | $/h |\n|--:|--:|--:|--:|--:|")
    else:
        print(f"Mélange's MelangeSolver imported from {where}; both solvers run in this process, case by case:\n")
        print("| R | k | Mélange run() ms | whatif plan() ms | whatif solve ms | $/h (both) | faster? |")
        print("|--:|--:|--:|--:|--:|--:|---|")
    for rate, k in CASES:
        ours, solve, cost = run_ours(rate, k, catalog)
        if solver is None:
            print(f"| {rate} | {k} | {ours:.0f} | {solve:.0f} | {cost:.2f} |")
            continue
        theirs, their_cost = run_melange(solver, rate, k, prices)
        same = math.isclose(cost, their_cost, rel_tol=COST_REL_TOL)
        costs = f"{cost:.2f}" if same else f"**differ: ours {cost:.4f}, Mélange {their_cost:.4f}**"
        print(f"| {rate} | {k} | {theirs:.0f} | {ours:.0f} | {solve:.0f} | {costs} | "
              f"{'yes' if ours < theirs else 'no'} |")
    cli_wall()


def cli_wall() -> None:
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
    print(f"\nwhatif plan, SYN R=64 k=16 (the largest case), fresh process: {statistics.median(walls):.2f} s median "
          f"wall ({walls[0]:.2f}–{walls[-1]:.2f} s over {CLI_REPEATS})")


if __name__ == "__main__":
    main()
