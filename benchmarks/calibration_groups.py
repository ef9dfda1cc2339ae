"""Print the README's accuracy tables: per efficiency row, the in-sample and the held-out
(leave-one-source-out) error of the cases it was fitted on; then every published case, grouped by
hardware, precision, engine and metric, with the efficiency row it uses and that row's held-out band.

    python benchmarks/calibration_groups.py

A group is *in the fit* when its cases are among those ``benchmarks/fit_efficiency.py`` fitted
its row to (in-sample); otherwise its errors are held out: the estimator never saw them.  Cases
whose input length is a free parameter (MLPerf, whose datasets' mean input length is not
published) reproduce any throughput and are counted, not scored.  Errors are speed errors in the
first table (predicted ÷ published speed − 1, a time's error inverted) and the metric's own error in
the second.  Held-out errors are read from ``tests/data/calibration/held_out_errors.toml`` (written by
``benchmarks/fit_efficiency.py``); MoE cases are grouped per publication, and so are cases shown, not
fitted (``fit = false``).
"""

from __future__ import annotations

import statistics
import tomllib
from collections import defaultdict

import planner
from planner.physics.validation import (
    case_source,
    load_cases,
    run_case_list,
    shown_not_fitted,
)

try:  # run as a script (benchmarks/ on the path) or imported by the tests (the repository root on it)
    from fit_efficiency import CASE_FILES, HELD_OUT_FILE, speed_error  # type: ignore[import-not-found]
    from fit_efficiency import MOE as MOE_MODELS  # type: ignore[import-not-found]
except ImportError:
    from benchmarks.fit_efficiency import CASE_FILES, HELD_OUT_FILE, speed_error
    from benchmarks.fit_efficiency import MOE as MOE_MODELS


def _pct(values: list[float], how: str) -> str:
    if not values:
        return "-"
    v = statistics.median([abs(x) for x in values]) if how == "median" else max(values, key=abs)
    return f"{v:.1%}" if how == "median" else f"{v:+.1%}"


def row_table(catalog, cases, results) -> None:  # type: ignore[no-untyped-def]
    """Per efficiency row: in-sample errors of the cases it was fitted on, held-out errors of the same cases."""
    held: dict[str, list[float]] = defaultdict(list)
    for h in tomllib.loads(HELD_OUT_FILE.read_text(encoding="utf-8"))["held_out"]:
        held[h["row"]].append(h["speed_error"])
    by_id = {c["id"]: r for (c, _), r in zip(cases, results, strict=True)}
    print("| efficiency row | engine | cases | sources | in-sample median \\|error\\| | in-sample worst | "
          "held-out median \\|error\\| | held-out worst | held-out P10..P90 | held out inside P10..P90 |")
    print("|---|---|--:|--:|--:|--:|--:|--:|---|--:|")
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)  # rows fitted together share their source
    for key, row in catalog.efficiency.items():
        groups[row.source].append(key)
    all_held: list[float] = []
    inside_total = 0
    for keys in sorted(groups.values(), key=lambda ks: (ks[0][0] == "*", sorted(ks))):
        keys = sorted(keys, reverse=True)  # a100-80gb before a100-40gb
        row = catalog.efficiency[keys[0]]
        ids = row.source.split(": ", 1)[-1].split(", ")
        fitted = [by_id[i] for i in ids if i in by_id]
        if not fitted:
            continue
        sources = len({case_source(c) for c, _ in cases if c["id"] in set(ids)})
        insample = [speed_error(r.metric, r.error) for r in fitted]
        name = ", ".join(hw for hw, _ in keys) + f"/{keys[0][1]}"
        errors = next((held[f"{hw}/{prec}"] for hw, prec in keys if f"{hw}/{prec}" in held), [])
        band = f"{row.error_p10:+.0%}..{row.error_p90:+.0%}" if row.error_p10 is not None else "-"
        if errors:
            inside = sum(row.error_p10 - 1e-9 <= e <= row.error_p90 + 1e-9 for e in errors)  # type: ignore[operator]
            all_held += errors
            inside_total += inside
            held_text = (f"{_pct(errors, 'median')} | {_pct(errors, 'worst')} | {band} | "
                         f"{inside} of {len(errors)} ({inside / len(errors):.0%})")
        else:
            held_text = f"- (one source) | - | {band} (in-sample) | -"
        print(f"| {name} | {row.engine} | {len(fitted)} | {sources} | {_pct(insample, 'median')} | "
              f"{_pct(insample, 'worst')} | {held_text} |")
    print(f"\nHeld out, every row fitted leave-one-source-out ({len(all_held)} case predictions): median |error| "
          f"{_pct(all_held, 'median')}, worst {_pct(all_held, 'worst')}; inside their row's P10..P90: "
          f"{inside_total / len(all_held):.0%} (the band promises 80 %).\n")


def main() -> None:
    catalog = planner.load_catalogs(use_env=False)
    cases = load_cases(CASE_FILES)
    results = run_case_list(cases, catalog)
    row_table(catalog, cases, results)
    groups: dict[tuple[str, str, str, str], list[tuple[dict, object]]] = defaultdict(list)  # type: ignore[type-arg]
    for (case, _base), r in zip(cases, results, strict=True):
        if r.metric == "fits":
            continue
        models = f"{case['model']} ({case_source(case)})" if case["model"] in MOE_MODELS else "dense"
        if shown_not_fitted(case) and case["model"] not in MOE_MODELS:  # shown per publication, as MoE
            models = f"dense, not fitted ({case_source(case)})"
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
