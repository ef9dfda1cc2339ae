"""Print the README's per-hardware accuracy table: every published case, grouped by hardware,
precision, engine and metric, with the efficiency row it uses and that row's held-out band.

    python benchmarks/calibration_groups.py

A group is *in the fit* when its cases are among those ``benchmarks/fit_efficiency.py`` fitted
its row to (in-sample); otherwise its errors are held out: the estimator never saw them.  Cases
whose input length is a free parameter (MLPerf, whose datasets' mean input length is not
published) reproduce any throughput and are counted, not scored.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

import planner
from planner.physics.validation import case_source, load_cases, run_case_list

#: Mixture-of-experts models are shown apart: their small-batch physics is not modelled yet.
MOE_MODELS = {"deepseek-v3", "mixtral-8x7b"}
CASE_FILES = [Path("tests/data/calibration_cases.toml"), *sorted(Path("tests/data/calibration").glob("*.toml"))]


def main() -> None:
    catalog = planner.load_catalogs(use_env=False)
    cases = load_cases(CASE_FILES)
    results = run_case_list(cases, catalog)
    groups: dict[tuple[str, str, str, str], list[tuple[dict, object]]] = defaultdict(list)  # type: ignore[type-arg]
    for (case, _base), r in zip(cases, results, strict=True):
        if r.metric == "fits":
            continue
        models = case["model"] if case["model"] in MOE_MODELS else "dense"
        groups[(case["hardware"], case["precision"], case.get("engine", "tensorrt-llm"), models, r.metric)].append(
            (case, r))
    print("| hardware | precision | engine | models | metric | cases (free input) | sources | efficiency row | in the fit | "
          "median error | worst error | row's held-out P10..P90 |")
    print("|---|---|---|---|---|--:|--:|---|---|--:|--:|---|")
    for (hw, prec, engine, models, metric), items in sorted(groups.items()):
        row = catalog.efficiency_for(hw, prec)
        fitted_ids = set(row.source.split(": ", 1)[-1].split(", "))
        scored = [(c, r) for c, r in items if not r.free_parameter]  # type: ignore[attr-defined]
        errors = [r.error for _, r in scored]  # type: ignore[attr-defined]
        in_fit = sum(c["id"] in fitted_ids for c, _ in scored)
        fit_text = "yes" if scored and in_fit == len(scored) else ("no (held out)" if in_fit == 0 else f"{in_fit} of {len(scored)}")
        band = (f"{row.error_p10:+.0%}..{row.error_p90:+.0%}" if row.error_p10 is not None and row.error_p90 is not None
                else "-")
        median = f"{statistics.median(errors):+.1%}" if errors else "-"
        worst = f"{max(errors, key=abs):+.1%}" if errors else "-"
        sources = len({case_source(c) for c, _ in items})
        print(f"| {hw} | {prec} | {engine} | {models} | {metric} | {len(items)} ({len(items) - len(scored)}) | {sources} | "
              f"{row.hardware}/{row.precision} | {fit_text if scored else '-'} | {median} | {worst} | {band} |")


if __name__ == "__main__":
    main()
