"""Roofline throughput: deployment rows evaluated per second (vectorised numpy).

Builds N rows from every catalog model x precision x hardware x TP x batch, then times
``planner.physics.roofline.evaluate`` (median of several runs).  Also times one ``whatif estimate``
command end to end (a fresh process: interpreter start-up, imports, catalog load, output).

    python benchmarks/roofline_speed.py [N_ROWS]
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import planner
from planner.physics.profile import base_profile, hardware_columns, model_columns
from planner.physics.roofline import RooflineInputs, evaluate

REPEATS = 5


def build_rows(n_rows: int) -> RooflineInputs:
    catalog = planner.load_catalogs(use_env=False)
    combos = []
    for model, precision, hw in itertools.product(sorted(catalog.models), sorted(catalog.precisions),
                                                  sorted(catalog.hardware)):
        profile = base_profile(catalog.models[model], precision, None, catalog)
        combos.append({**model_columns(profile), **hardware_columns(catalog.hardware[hw], profile, catalog)})
    base = {k: np.array([c[k] for c in combos]) for k in combos[0]}
    reps = -(-n_rows // len(combos))
    rng = np.random.default_rng(0)
    columns = {k: np.tile(v, reps)[:n_rows] for k, v in base.items()}
    columns["tp"] = rng.choice([1.0, 2.0, 4.0, 8.0], n_rows)
    columns["batch"] = rng.choice([0.0, 1.0, 8.0, 64.0, 256.0], n_rows)
    columns["input_tokens"] = rng.integers(64, 8192, n_rows).astype(float)
    columns["output_tokens"] = rng.integers(16, 2048, n_rows).astype(float)
    return RooflineInputs.broadcast(**columns)


def main(n_rows: int = 1_000_000) -> None:
    rows = build_rows(n_rows)
    evaluate(rows)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        evaluate(rows)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"roofline: {n_rows:,} rows in {median * 1e3:.0f} ms (median of {REPEATS}) "
          f"= {n_rows / median / 1e6:.2f} M rows/s")
    exe = shutil.which("whatif", path=str(Path(sys.executable).parent)) or shutil.which("whatif")
    if exe:
        args = [exe, "estimate", "--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--precision", "fp8",
                "--tp", "2", "--input-tokens", "800", "--output-tokens", "250", "--format", "json"]
        walls = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
        print(f"whatif estimate: {statistics.median(walls) * 1e3:.0f} ms wall (median of {REPEATS}, fresh process)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
