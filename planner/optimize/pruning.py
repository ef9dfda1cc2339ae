"""From evaluated deployments to the MILP's columns: the quality floor of each class, the latency
and quality filters, the best batch per (variant, class, hardware, TP), and the capacity-per-GPU
Pareto front across TP (a larger TP that serves no more requests per GPU is never needed).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.optimize.candidates import CandidateSet
from planner.optimize.variants import Exclusion
from planner.scenario.schema import Quality, Scenario, Workload
from planner.units import MS_PER_SECOND


@dataclass(frozen=True)
class Column:
    row: int  # index into the deployment table
    variant: int
    workload: int
    hardware: int
    tp: int
    batch: int
    capacity_rps: float
    ttft_ms: float
    tpot_ms: float
    measured: bool = False


def quality_floors(workloads: Sequence[Workload], quality: Quality, base_score: float | None) -> list[float | None]:
    """Each class's lowest acceptable score: the base score less its (or the scenario's) allowed drop."""
    if base_score is None:
        return [None for _ in workloads]
    return [base_score - (w.max_quality_drop if w.max_quality_drop is not None else quality.max_drop)
            for w in workloads]


def row_score(score: float | None, floor: float) -> float:
    """A variant's coefficient in a class's quality row ``Σ q·x ≥ Q``: its score, or the floor itself
    where it has none — a missing score is not held against the floor, in a blend as alone
    (:func:`meets_floors`).  Until 2026-12-07 it counted 0 in a row, so a variant without a score could
    serve a class alone but not beside one below the floor (no shipped variant lacks one)."""
    return floor if score is None else score


def meets_floors(cs: CandidateSet, v: int, floors: list[float | None]) -> bool:
    """Whether variant ``v`` meets every class's quality floor on its own (a missing score is not held against it)."""
    return all(floor is None or (q := cs.variants[v].profiles[w].quality_score) is None or q >= floor - 1e-9
               for w, floor in zip(cs.workloads, floors, strict=True))


def quality_exclusions(cs: CandidateSet, floors: list[float | None], max_variants: int) -> list[Exclusion]:
    """The variants a plan of one variant cannot run because one class's score is below its floor,
    one per (variant, class), so a plan and ``explain`` say where a variant the scenario allowed went
    (until the nineteenth session it left without a word: an INT4 variant 1.75 points down under a
    1-point floor was missing from the plan, its alternatives and its exclusions).  With
    ``max_variants ≥ 2`` none: such a variant may serve beside a better one."""
    if max_variants != 1:
        return []
    out = []
    for v in cs.variants:
        for w, floor in zip(cs.workloads, floors, strict=True):
            score = v.profiles[w].quality_score
            if floor is not None and score is not None and score < floor - 1e-9:
                out.append(Exclusion("quality", f"{v.name} for {w}",
                                     f"quality {score:.2f} below the floor {floor:.2f}"))
    return out


FloatArray = NDArray[np.float64]
#: Quality and traffic-share sums within this of a limit count as meeting it in the pair bounds (a
#: bound must never exceed a plan's cost, so rounding is resolved in the plan's favour).
SHARE_TOLERANCE = 1e-9


def quality_interval(q1: FloatArray, q2: FloatArray, below: NDArray[np.bool_], floor: float | None
                     ) -> tuple[FloatArray, FloatArray]:
    """``[lo, hi]`` of ``W`` (the part of a class served by the first variant of a pair) allowed by its
    quality row ``q₂ + (q₁ − q₂) W ≥ floor``, per pair (the pair screenings' bounds); ``[0, 1]``
    where the model has no row (no floor, or neither variant below it: ``below``; a missing score
    counts as the floor in a row that exists, :func:`row_score`).  ``lo > hi`` where none is allowed."""
    m = len(q1)
    if floor is None:
        return np.zeros(m), np.ones(m)
    d = q1 - q2
    with np.errstate(divide="ignore", invalid="ignore"):
        w0 = np.where(d != 0, (floor - q2) / d, 0.0)
    lo = np.where(d > 0, np.maximum(w0, 0.0), np.where((d == 0) & (q2 < floor - SHARE_TOLERANCE), np.inf, 0.0))
    hi = np.where(d < 0, np.minimum(w0, 1.0), 1.0)
    return np.where(below, lo, 0.0), np.where(below, hi, 1.0)


def prune(cs: CandidateSet, max_variants: int,
          floors: list[float | None]) -> tuple[list[Column], dict[str, int]]:
    """Latency filter, best batch per (v, c, h, TP), capacity-per-GPU Pareto across TP, quality (K=1)."""
    t, res = cs.deployments, cs.deployments.result
    stats = {"deployments_evaluated": len(t), "latency_feasible": int(t.latency_ok.sum())}
    ok = t.latency_ok & np.isfinite(res.requests_per_s) & (res.requests_per_s > 0)
    if max_variants == 1:
        for v in cs.variants:
            if not meets_floors(cs, v.index, floors):
                ok &= t.variant != v.index
    stats["after_quality"] = int(ok.sum())
    idx = np.flatnonzero(ok)
    # best batch per (v, c, h, tp): sort by key then capacity, keep the last row of each key (vectorised)
    keys = np.stack([t.variant[idx], t.workload[idx], t.hardware[idx], t.tp[idx].astype(np.int64)])
    order = np.lexsort((res.requests_per_s[idx], *keys[::-1]))
    sorted_keys = keys[:, order]
    last = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        last[:-1] = np.any(sorted_keys[:, 1:] != sorted_keys[:, :-1], axis=0)
    best = {tuple(int(k) for k in sorted_keys[:, i]): int(idx[order[i]]) for i in np.flatnonzero(last)}
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for (vi, ci, hi, _tp), i in best.items():
        groups[(vi, ci, hi)].append(i)
    columns: list[Column] = []
    for (vi, ci, hi), rows in sorted(groups.items()):
        rows.sort(key=lambda i: t.tp[i])
        best_per_gpu = -math.inf
        for i in rows:
            per_gpu = res.requests_per_s[i] / t.tp[i]
            if per_gpu > best_per_gpu * (1 + 1e-12):
                best_per_gpu = per_gpu
                columns.append(Column(row=i, variant=vi, workload=ci, hardware=hi, tp=int(t.tp[i]),
                                      batch=int(res.batch[i]), capacity_rps=float(res.requests_per_s[i]),
                                      ttft_ms=float(res.ttft_s[i] * MS_PER_SECOND),
                                      tpot_ms=float(res.tpot_s[i] * MS_PER_SECOND),
                                      measured=bool(t.measured[i]) if t.measured is not None else False))
    stats["columns"] = len(columns)
    return columns, stats


def priced_columns(cs: CandidateSet, scenario: Scenario, floors: list[float | None], exclude_variants: frozenset[str],
                   offered_hw: set[int]) -> tuple[list[Column], dict[str, int]]:
    """The pruned columns (:func:`prune`) of variants not excluded, on hardware some offer prices, and the
    pruning counters: the columns a plan's model holds."""
    columns, stats = prune(cs, scenario.plan.max_variants, floors)
    if exclude_variants:
        columns = [c for c in columns if cs.variants[c.variant].name not in exclude_variants]
    columns = [c for c in columns if c.hardware in offered_hw]
    stats["columns_with_prices"] = len(columns)
    return columns, stats
