"""Peak memory of a long sweep: 2,000 points of the corpus's small scenario on 2 local workers,
streamed to a CSV.  Run: ``python benchmarks/sweep_memory.py [POINTS]`` (a few minutes).

Prints the parent's and the largest worker's peak resident memory (``getrusage``), and the
largest accepted scenario file's (16 MiB, padded with a comment) parse peak.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import planner
from planner.inputs import LIMIT_BYTES
from planner.insight.sweeps import sweep

SCENARIO = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "valid.toml"


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def main(points: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.toml"
        text = SCENARIO.read_text()
        padding = LIMIT_BYTES["scenario"] - len(text.encode()) - 1
        big.write_text(text + "#" + "x" * (padding - 1) + "\n")
        before = peak_mib(resource.RUSAGE_SELF)
        planner.load_scenario(big)
        print(f"largest accepted scenario ({big.stat().st_size / 2**20:.1f} MiB): parent peak "
              f"{peak_mib(resource.RUSAGE_SELF):.0f} MiB (was {before:.0f} MiB before reading it)")
        scenario = planner.load_scenario(SCENARIO)
        start = time.perf_counter()
        result = sweep(scenario, vary={"workload.chat.queries_per_day": f"1e3..1e7:log:{points}"}, workers=2,
                       output=Path(tmp) / "rows.csv")
        print(f"{points}-point sweep: {time.perf_counter() - start:.0f} s, {len(result.rows)} rows; peak resident "
              f"memory: parent {peak_mib(resource.RUSAGE_SELF):.0f} MiB, largest worker "
              f"{peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
