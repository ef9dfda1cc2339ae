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
fitted (``fit = false``).  A case whose published batch does not fit the modelled memory is counted
apart ("not fitting memory") and left out of its group's errors, not scored as −100 %.  A group none of whose cases an efficiency row was fitted on but some of
which set an engine's speed factor (``benchmarks/fit_engines.py`` pairs) says so: its error is then
that of the pair's reference case, not an independent one.

The first table's coverage column is the cross-validated one of :mod:`planner.physics.error_bands`:
each case against the band of its row's other publications, widened by the factor computed without
that row (and every row sharing a case with it) — what a band promises a publication it has not seen.
"""

from __future__ import annotations

import statistics
import tomllib
from collections import defaultdict

import planner
from planner.physics.error_bands import BAND_PROMISE, cross_validated_coverage, publication_scores
from planner.physics.validation import (
    case_source,
    load_cases,
    run_case_list,
    shown_not_fitted,
)

try:  # run as a script (benchmarks/ on the path) or imported by the tests (the repository root on it)
    from fit_efficiency import CASE_FILES, HELD_OUT_FILE, speed_error  # type: ignore[import-not-found]
    from fit_efficiency import MOE as MOE_MODELS  # type: ignore[import-not-found]
    from fit_engines import pairs_by_engine  # type: ignore[import-not-found]
except ImportError:
    from benchmarks.fit_efficiency import CASE_FILES, HELD_OUT_FILE, speed_error
    from benchmarks.fit_efficiency import MOE as MOE_MODELS
    from benchmarks.fit_engines import pairs_by_engine


def _pct(values: list[float], how: str) -> str:
    if not values:
        return "-"
    v = statistics.median([abs(x) for x in values]) if how == "median" else max(values, key=abs)
    return f"{v:.1%}" if how == "median" else f"{v:+.1%}"


def row_table(catalog, cases, results) -> None:  # type: ignore[no-untyped-def]
    """Per efficiency row: in-sample errors of the cases it was fitted on, held-out errors of the same cases."""
    held: dict[str, list[float]] = defaultdict(list)
    by_source: dict[str, dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for h in tomllib.loads(HELD_OUT_FILE.read_text(encoding="utf-8"))["held_out"]:
        held[h["row"]].append(h["speed_error"])
        by_source[h["row"]][h["source"]].append((h["id"], h["speed_error"]))
    scores = {row: [(case, score) for source, items in sources.items()
                    for (case, _), score in zip(items, publication_scores(
                        {s: [e for _, e in its] for s, its in sources.items()})[source], strict=True)]
              for row, sources in by_source.items()}
    coverage = cross_validated_coverage(scores)
    by_id = {c["id"]: r for (c, _), r in zip(cases, results, strict=True)}
    print("| efficiency row | engine | cases | sources | in-sample median \\|error\\| | in-sample worst | "
          "held-out median \\|error\\| | held-out worst | P10..P90 band | held out inside the band | "
          "a new publication's cases inside (cross-validated) |")
    print("|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|")
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)  # rows fitted together share their source
    for key, row in catalog.efficiency.items():
        groups[row.source].append(key)
    all_held: list[float] = []
    inside_total = new_inside = new_total = 0
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
        row_key = next((f"{hw}/{prec}" for hw, prec in keys if f"{hw}/{prec}" in held), None)
        errors = held[row_key] if row_key is not None else []
        band = f"{row.error_p10:+.0%}..{row.error_p90:+.0%}" if row.error_p10 is not None else "-"
        if errors:
            inside = sum(row.error_p10 - 1e-9 <= e <= row.error_p90 + 1e-9 for e in errors)  # type: ignore[operator]
            all_held += errors
            inside_total += inside
            cv_in, cv_n, cv_k = coverage[row_key] if row_key in coverage else (0, 0, 1.0)
            new_inside, new_total = new_inside + cv_in, new_total + cv_n
            held_text = (f"{_pct(errors, 'median')} | {_pct(errors, 'worst')} | {band} | "
                         f"{inside} of {len(errors)} ({inside / len(errors):.0%}) | "
                         f"{cv_in} of {cv_n} ({cv_in / cv_n:.0%}, ×{cv_k:.2f})")
        else:
            held_text = f"- (one source) | - | {band} (in-sample) | - | -"
        print(f"| {name} | {row.engine} | {len(fitted)} | {sources} | {_pct(insample, 'median')} | "
              f"{_pct(insample, 'worst')} | {held_text} |")
    print(f"\nHeld out, every row fitted leave-one-source-out ({len(all_held)} case predictions): median |error| "
          f"{_pct(all_held, 'median')}, worst {_pct(all_held, 'worst')}; inside their row's band: "
          f"{inside_total / len(all_held):.0%}; a new publication's cases inside (cross-validated): "
          f"{new_inside / new_total:.0%} (the band is built to hold {BAND_PROMISE:.0%}).\n")


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
    engine_fitted = {case for pairs in pairs_by_engine().values() for ids in pairs for case in ids[:2]}
    print("| hardware | precision | engine | models | metric | cases (free input) | sources | efficiency row | in the fit | "
          "median error | worst error | row's P10..P90 band |")
    print("|---|---|---|---|---|--:|--:|---|---|--:|--:|---|")
    for (hw, prec, engine, models, metric), items in sorted(groups.items()):
        row = catalog.efficiency_for(hw, prec)
        fitted_ids = set(row.source.split(": ", 1)[-1].split(", "))
        unfit = sum(not r.fits_memory for _, r in items)  # type: ignore[attr-defined]
        scored = [(c, r) for c, r in items if not r.free_parameter and r.fits_memory]  # type: ignore[attr-defined]
        errors = [r.error for _, r in scored]  # type: ignore[attr-defined]
        in_fit = sum(c["id"] in fitted_ids for c, _ in scored)
        in_engine = sum(c["id"] in engine_fitted for c, _ in scored)
        fit_text = ("yes" if scored and in_fit == len(scored) else f"{in_fit} of {len(scored)}" if in_fit
                    else f"no; {in_engine} of {len(scored)} set an engine factor" if in_engine else "no (held out)")
        band = (f"{row.error_p10:+.0%}..{row.error_p90:+.0%}" if row.error_p10 is not None and row.error_p90 is not None
                else "-")
        median = f"{statistics.median(errors):+.1%}" if errors else "-"
        worst = f"{max(errors, key=abs):+.1%}" if errors else "-"
        sources = len({case_source(c) for c, _ in items})
        counted = f"{len(items)} ({len(items) - len(scored) - unfit})" + (f"; {unfit} not fitting memory" if unfit else "")
        print(f"| {hw} | {prec} | {engine} | {models} | {metric} | {counted} | {sources} | "
              f"{row.hardware}/{row.precision} | {fit_text if scored else '-'} | {median} | {worst} | {band} |")


if __name__ == "__main__":
    main()
