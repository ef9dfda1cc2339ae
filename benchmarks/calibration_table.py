"""Print the README's accuracy table: every calibration case, predicted vs published.

    python benchmarks/calibration_table.py [tests/data/calibration_cases.toml]
"""

from __future__ import annotations

import sys

from planner.physics.validation import median_abs_error, run_cases


def _fmt(value: float) -> str:
    if value == 0:
        return "—"
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    return f"{value:,.4g}" if abs(value) < 100 else f"{value:,.0f}"


def main(path: str = "tests/data/calibration_cases.toml") -> None:
    results = run_cases(path)
    print("| case | metric | published | predicted | error | tolerance | note |")
    print("|---|---|--:|--:|--:|--:|---|")
    for r in results:
        if r.metric == "fits":
            print(f"| {r.id} | fits on one GPU | no (OOM) | {'no' if r.within else 'yes'} | — | exact | {r.detail.split(':')[0]} |")
            continue
        print(f"| {r.id} | {r.metric} | {_fmt(r.published)} | {_fmt(r.predicted)} | {r.error:+.1%} | "
              f"±{r.tolerance:.0%} | {r.detail} |")
    n_out = sum(not r.within for r in results)
    counted = sum(r.metric != "fits" and not r.free_parameter for r in results)
    print(f"\nMedian |error| over the {counted} predicted figures (C1, C2 solve for their input length): "
          f"**{median_abs_error(results):.1%}**; outside tolerance: {n_out}.")


if __name__ == "__main__":
    main(*sys.argv[1:])
