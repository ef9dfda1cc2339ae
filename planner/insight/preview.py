r"""The estimator's view of a scenario: per request class, the cheapest deployment on each allowed
hardware type that meets the class's latency targets and quality floor, before any optimisation.

Built on :func:`planner.optimize.candidates.build_candidates` (every variant × hardware × TP × batch).
For each class ``c`` the first period's peak arrival rate ``λ = queries_per_day / 86400 ·
(1+g)^{m/12} · peak`` — at the period's end, as the plan provisions it (``g`` the growth per year,
``m`` the period's months; until the nineteenth session the horizon's start, so a class growing 50 %
a year was sized 10 % low in quarters) — with ``peak`` = ``peak_to_average``, or the busiest hour of
the class's daily profile relative to its mean (a deferrable class with a profile: the constant rate
that serves every request within its deadline, :func:`deadline_rate`), of which the variant serves
``λ · served_query_fraction`` (caches answer the rest), needs ``n = ⌈λ_served / R⌉`` replicas of capacity
``R``, costing ``n · t · price_on_demand`` per hour. Rows that miss TTFT/TPOT or the quality floor
(base score − max drop) are dropped; the cheapest row per (class, hardware) is kept (ties: fewer
GPUs, then lower TPOT).

It ignores growth beyond the first period, acquisition modes other than on-demand, and one-time costs — the optimiser
(``whatif plan``) accounts for those.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog
from planner.economics.slices import class_weights
from planner.optimize.candidates import (
    CandidateSet,
    build_candidates,
    compute_dtype_label,
)
from planner.physics.roofline import BOUND_NAMES
from planner.scenario.schema import Scenario
from planner.units import (
    MONTHS_PER_YEAR,
    MS_PER_SECOND,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    TOKENS_PER_MILLION,
)

PREVIEW_SCHEMA_VERSION = 1


class PreviewRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: str
    hardware: str
    variant: str
    precision: str
    compute_dtype_used: str
    tp: int
    batch: int
    ttft_ms: float
    tpot_ms: float
    quality_score: float | None
    requests_per_s_per_replica: float
    peak_requests_per_s: float
    replicas: int
    gpus: int
    usd_per_hour: float
    usd_per_million_output_tokens: float
    bound: str  # the roofline's bound, or "measured"
    # the capacity is a [[measured]] row's: no batch is modelled (``batch`` 0) and the latencies are the
    # class's targets, which the measurement was taken to meet
    measured: bool = False


class Infeasible(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: str
    hardware: str
    reason: str


class Preview(BaseModel):
    """The estimator's view of a scenario (see module docstring)."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = PREVIEW_SCHEMA_VERSION
    kind: str = "preview"
    scenario: str
    model: str
    variants: int
    deployments_evaluated: int
    rows: list[PreviewRow]
    infeasible: list[Infeasible]
    note: str
    catalog_overlays: list[str] = []  # overlay files applied over the shipped catalog


def preview(scenario: Scenario, catalog: Catalog, candidates: CandidateSet | None = None) -> Preview:
    """The view (``whatif plan --estimator-view`` first refuses what the plan would refuse before
    building a model: :func:`planner.api.preview`)."""
    cs = candidates or build_candidates(scenario, catalog)
    table, res = cs.deployments, cs.deployments.result
    quality = np.array([[v.profiles[w].quality_score if v.profiles[w].quality_score is not None else np.nan
                         for w in cs.workloads] for v in cs.variants]).reshape(len(cs.variants), len(cs.workloads))
    served = np.array([[v.profiles[w].served_query_fraction for w in cs.workloads] for v in cs.variants])
    rows: list[PreviewRow] = []
    infeasible: list[Infeasible] = []
    for c, w in enumerate(scenario.workload):
        floor = None if cs.base_score is None else cs.base_score - (
            w.max_quality_drop if w.max_quality_drop is not None else scenario.quality.max_drop)
        weights = class_weights(w, catalog.load_shapes, f"workload[{w.name}].profile")
        peak = scenario.horizon.peak_to_average if weights is None else (
            float(weights.max()) if w.deadline_hours is None else deadline_rate(weights, w.deadline_hours))
        growth = (1.0 + scenario.horizon.growth_per_year) ** (scenario.horizon.period_months / MONTHS_PER_YEAR)
        peak_rps = w.queries_per_day / SECONDS_PER_DAY * growth * peak
        for h, hw in enumerate(cs.hardware):
            price = catalog.price(hw.slug, "on-demand")
            rows_ch = (table.workload == c) & (table.hardware == h) & res.fits
            if price is None or price.usd_per_gpu_hour is None:
                infeasible.append(Infeasible(workload=w.name, hardware=hw.slug, reason="no on-demand price in the catalog"))
                continue
            if not rows_ch.any():
                infeasible.append(Infeasible(workload=w.name, hardware=hw.slug,
                                             reason="no variant fits in memory at any TP degree"))
                continue
            q_ok = np.ones(len(table), bool) if floor is None else quality[table.variant, c] >= floor - 1e-9
            ok = rows_ch & table.latency_ok & q_ok
            if not ok.any():
                measured_pair = (any(m.hardware == hw.slug and m.workload == w.name for m in scenario.measured)
                                 and not (rows_ch & table.latency_ok).any())
                reason = ("measured: no [[measured]] row of this hardware and class gives capacity at its targets "
                          "(meets_slo = false, no requests/s, or a TP that does not fit)" if measured_pair
                          else _why_not(rows_ch, table, res, q_ok, w.ttft_ms, w.tpot_ms, floor))
                infeasible.append(Infeasible(workload=w.name, hardware=hw.slug, reason=reason))
                continue
            replicas = np.ceil(peak_rps * served[table.variant, c] / res.requests_per_s)
            gpus = replicas * table.tp
            cost = np.where(ok, gpus * price.usd_per_gpu_hour, np.inf)
            tpot_ms = res.tpot_s * MS_PER_SECOND
            i = int(np.lexsort((np.where(ok, tpot_ms, np.inf), np.where(ok, gpus, np.inf), cost))[0])
            variant = cs.variants[int(table.variant[i])]
            profile = variant.profiles[w.name]
            is_measured = table.measured is not None and bool(table.measured[i])
            out_tok_per_hour = peak_rps * w.output_tokens * SECONDS_PER_HOUR
            rows.append(PreviewRow(
                workload=w.name, hardware=hw.slug, variant=variant.name, precision=profile.precision,
                compute_dtype_used=compute_dtype_label(profile, hw), tp=int(table.tp[i]), batch=int(res.batch[i]),
                ttft_ms=float(res.ttft_s[i] * MS_PER_SECOND), tpot_ms=float(tpot_ms[i]),
                quality_score=profile.quality_score, requests_per_s_per_replica=float(res.requests_per_s[i]),
                peak_requests_per_s=peak_rps, replicas=int(replicas[i]), gpus=int(gpus[i]),
                usd_per_hour=float(cost[i]),
                usd_per_million_output_tokens=float(cost[i]) / out_tok_per_hour * TOKENS_PER_MILLION,
                bound="measured" if is_measured else BOUND_NAMES[int(res.bound[i])], measured=is_measured))
    rows.sort(key=lambda r: (r.workload, r.usd_per_hour, r.gpus, r.tpot_ms))
    return Preview(scenario=scenario.name, model=cs.base_model.slug, variants=len(cs.variants),
                   deployments_evaluated=len(table), rows=rows, infeasible=infeasible,
                   note=("estimator view: first-period peak demand (at the period's end; a deferrable class at the "
                         "constant rate that meets its deadline), on-demand prices, no one-time costs"),
                   catalog_overlays=list(catalog.overlays))


def deadline_rate(weights: np.ndarray, deadline_hours: float) -> float:
    r"""The least constant service rate, relative to the mean hourly arrival, that serves every request
    of a daily profile within ``D = ⌊deadline_hours⌋`` hours (whole hours, as the plan counts them).

    A constant-rate FIFO server of rate ``r`` meets delay ``D`` iff every window of arrivals fits,
    ``A(a, a + k) ≤ r (k + D)`` for all start hours ``a`` and lengths ``k``.  On a repeating day
    ``A(a, a + 24n + j) = 24n + A(a, a + j)`` (weights of mean 1), and ``(24n + A)/(24n + j + D)`` lies
    between 1 and ``A/(j + D)``, so ``r* = max(1, max_{a, 1 ≤ k ≤ 24} A(a, a + k)/(k + D))``: never below
    the mean, never above the busiest hour (``k = 1``, ``D ≥ 1``), and the mean once ``D ≥ 24``."""
    hours = len(weights)
    d = float(np.floor(deadline_hours))
    doubled = np.concatenate([weights, weights])
    sums = np.cumsum(np.concatenate([[0.0], doubled]))
    best = 1.0
    for k in range(1, hours + 1):
        windows = sums[k:k + hours] - sums[:hours]  # A(a, a + k) for every start hour a
        best = max(best, float(windows.max()) / (k + d))
    return best


def _why_not(rows: np.ndarray, table, res, q_ok: np.ndarray, ttft_target: float, tpot_target: float,  # type: ignore[no-untyped-def]
             floor: float | None) -> str:
    ttft = np.where(rows, res.ttft_s * MS_PER_SECOND, np.inf)
    tpot = np.where(rows, res.tpot_s * MS_PER_SECOND, np.inf)
    parts = []
    if not (rows & table.latency_ok).any():
        parts.append(f"misses the latency targets: best TTFT {ttft.min():.1f} ms (target {ttft_target:g}), "
                     f"best TPOT {tpot.min():.1f} ms (target {tpot_target:g})")
    if not (rows & q_ok).any() and floor is not None:
        parts.append(f"no variant keeps quality >= {floor:.2f}")
    if not parts:
        parts.append("no variant meets the latency targets and the quality floor together")
    return "; ".join(parts)
