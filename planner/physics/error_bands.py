r"""How wide an efficiency row's error band must be to hold a case from a publication it has not seen.

A row's held-out speed errors ``e_i`` (``benchmarks/fit_efficiency.py``: each case predicted with the
row refitted without its publication ``s(i)``) give its band.  Their P10..P90 alone — centre ``m``,
half-width ``w`` — holds 80 % of *those* errors by construction, which says nothing about a new
publication's cases: publications differ by an offset of their own (harness, engine build, how
the figure was read), and a band read off the others misses it.  Measured on the shipped rows
(2026-12-07): 78 % of the held-out errors lie inside their row's P10..P90, but only 49 % inside the
P10..P90 of the same row's *other* publications' errors.

So the shipped band is widened about its centre by one factor ``k`` for the whole catalog:

    band = m ± k·w,     k = max(1, Q_{BAND_PROMISE}(score)),     score_i = |e_i − m_{−s(i)}| / w_{−s(i)}

where ``m_{−s}``, ``w_{−s}`` are the centre and half-width of the P10..P90 of the row's held-out
errors from every publication but ``s`` (rows with fewer than two publications give no score).
``k`` is the smallest widening under which :data:`BAND_PROMISE` of all cases fall inside a band
built without their own publication.  It is one number fitted on every row's scores, so it is
checked the same way it is used: :func:`cross_validated_coverage` recomputes ``k`` without each row
(and without every row sharing a case with it) and counts that row's cases inside — the coverage a
new hardware row can expect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: The share of a new publication's cases a row's P10..P90 band is built to hold.
BAND_PROMISE = 0.80
#: The quantiles a band is read at.
BAND_QUANTILES = (0.10, 0.90)
#: Half-width below which a band is treated as a point (a row whose other publications agree exactly).
MIN_HALF_WIDTH = 1e-9


def centre_half(errors: Sequence[float]) -> tuple[float, float]:
    """Centre and half-width of the P10..P90 of ``errors`` (linear-interpolation quantiles)."""
    p10, p90 = (float(q) for q in np.quantile(np.asarray(errors, dtype=float), BAND_QUANTILES))
    return (p10 + p90) / 2.0, (p90 - p10) / 2.0


def publication_scores(by_source: Mapping[str, Sequence[float]]) -> dict[str, list[float]]:
    """``{publication: [score_i]}``: each held-out error's distance from the centre of the band of the
    row's other publications, in that band's half-widths; empty with fewer than two publications."""
    if len(by_source) < 2:
        return {}
    out: dict[str, list[float]] = {}
    for source, errors in by_source.items():
        others = [e for s, es in by_source.items() if s != source for e in es]
        centre, half = centre_half(others)
        out[source] = [abs(e - centre) / max(half, MIN_HALF_WIDTH) for e in errors]
    return out


def band_scale(scores: Sequence[float]) -> float:
    """``k``: the :data:`BAND_PROMISE` quantile of ``scores``, never below 1 (a band is never narrowed)."""
    return max(1.0, float(np.quantile(np.asarray(scores, dtype=float), BAND_PROMISE))) if len(scores) else 1.0


def widened(p10: float, p90: float, k: float) -> tuple[float, float]:
    """The band ``p10..p90`` widened ``k``-fold about its centre."""
    centre, half = (p10 + p90) / 2.0, (p90 - p10) / 2.0
    return centre - k * half, centre + k * half


def cross_validated_coverage(scores: Mapping[str, Sequence[tuple[str, float]]]) -> dict[str, tuple[int, int, float]]:
    """``{row: (inside, cases, k)}``: ``k`` recomputed from the scores of every row that shares no case
    with ``row`` (``scores``: row → [(case id, score)]), and how many of ``row``'s cases fall inside the
    band of their other publications widened by it."""
    ids = {row: {case for case, _ in items} for row, items in scores.items()}
    out: dict[str, tuple[int, int, float]] = {}
    for row, items in scores.items():
        k = band_scale([s for other, its in scores.items() if not ids[other] & ids[row] for _, s in its])
        out[row] = (sum(s <= k for _, s in items), len(items), k)
    return out
