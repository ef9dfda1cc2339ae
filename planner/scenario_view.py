r"""The estimator's view of a scenario: per request class, the cheapest latency-feasible
deployment on each allowed hardware type, before any optimisation.

For every class ``c``, hardware ``h``, precision ``p`` (the scenario's allowed quantization
options that are precisions; all catalog precisions when the scenario does not restrict them),
tensor-parallel degree ``t ∈ {1, 2, 4, …} ≤`` the scale-up domain and batch ``b`` on a ladder
of powers of two up to the largest batch that fits, the roofline gives TTFT, TPOT and capacity
``R`` (requests/s per replica).  Rows that miss the class's TTFT or TPOT target are dropped.
For each remaining row, the peak arrival rate of the first period
``λ = queries_per_day / 86400 · peak_to_average`` needs ``n = ⌈λ / R⌉`` replicas, costing
``n · t · price_on_demand`` per hour.  The preview keeps, per (class, hardware), the row with
the lowest hourly cost (ties: fewer GPUs, then lower TPOT).

This is what ``whatif plan`` prints until the lifetime-cost optimiser exists: it ignores
growth, acquisition modes other than on-demand, techniques other than precision, and the
one-time costs.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from planner.catalog import Catalog
from planner.catalog_schema import ModelSpec
from planner.deployment_estimate import resolve_model
from planner.profile import base_profile, compute_dtype_on, hardware_columns, model_columns
from planner.roofline import BOUND_NAMES, RooflineInputs, evaluate
from planner.schema import Scenario, Workload
from planner.units import MS_PER_SECOND, SECONDS_PER_DAY, SECONDS_PER_HOUR, TOKENS_PER_MILLION

PREVIEW_SCHEMA_VERSION = 1
#: Batch ladder: powers of two up to this exponent (2**11 = 2048), plus the largest batch that fits.
BATCH_LADDER_MAX_EXPONENT = 11


class PreviewRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: str
    hardware: str
    precision: str
    compute_dtype_used: str
    tp: int
    batch: int
    ttft_ms: float
    tpot_ms: float
    requests_per_s_per_replica: float
    peak_requests_per_s: float
    replicas: int
    gpus: int
    usd_per_hour: float
    usd_per_million_output_tokens: float
    bound: str


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
    rows: list[PreviewRow]
    infeasible: list[Infeasible]
    note: str


def allowed_precisions(scenario: Scenario, catalog: Catalog) -> list[str]:
    options = scenario.techniques.get("quantization")
    if options is None:
        return sorted(catalog.precisions)
    chosen = ["bf16"] + [o for o in options if o in catalog.precisions and o != "bf16"]
    return chosen


def preview(scenario: Scenario, catalog: Catalog) -> Preview:
    spec = resolve_model(scenario.model.base, catalog, "model.base")
    hardware_slugs = scenario.market.hardware or sorted(catalog.hardware)
    for i, slug in enumerate(hardware_slugs):
        catalog.get_hardware(slug, f"market.hardware[{i}]")
    precisions = allowed_precisions(scenario, catalog)
    rows: list[PreviewRow] = []
    infeasible: list[Infeasible] = []
    for workload in scenario.workload:
        peak_rps = workload.queries_per_day / SECONDS_PER_DAY * scenario.horizon.peak_to_average
        for slug in hardware_slugs:
            hw = catalog.hardware[slug]
            price = catalog.prices.get((slug, "on-demand"))
            if price is None or price.usd_per_gpu_hour is None:
                infeasible.append(Infeasible(workload=workload.name, hardware=slug, reason="no on-demand price in the catalog"))
                continue
            best = _best_row(spec, precisions, hw.slug, workload, peak_rps, price.usd_per_gpu_hour, catalog)
            if isinstance(best, str):
                infeasible.append(Infeasible(workload=workload.name, hardware=slug, reason=best))
            else:
                rows.append(best)
    rows.sort(key=lambda r: (r.workload, r.usd_per_hour, r.gpus, r.tpot_ms))
    return Preview(
        scenario=scenario.name,
        model=spec.slug,
        rows=rows,
        infeasible=infeasible,
        note="estimator view: first-period peak demand, on-demand prices, precision as the only technique",
    )


def _best_row(
    spec: ModelSpec,
    precisions: list[str],
    hw_slug: str,
    workload: Workload,
    peak_rps: float,
    usd_per_gpu_hour: float,
    catalog: Catalog,
) -> PreviewRow | str:
    """Cheapest latency-feasible row for one (class, hardware), or the reason none exists."""
    hw = catalog.hardware[hw_slug]
    tps = [2**k for k in range(0, 11) if 2**k <= hw.scaleup_domain_gpus]
    ladder = [2**k for k in range(0, BATCH_LADDER_MAX_EXPONENT + 1)]
    columns: dict[str, list[float]] = {}
    labels: list[tuple[str, int]] = []
    for prec in precisions:
        profile = base_profile(spec, prec, None, catalog)
        static = {**model_columns(profile), **hardware_columns(hw, profile, catalog)}
        for tp in tps:
            for b in [*ladder, 0]:
                for key, value in static.items():
                    columns.setdefault(key, []).append(value)
                for key, value in (("tp", tp), ("batch", b), ("input_tokens", workload.input_tokens),
                                   ("output_tokens", workload.output_tokens)):
                    columns.setdefault(key, []).append(float(value))
                labels.append((prec, tp))
    res = evaluate(RooflineInputs.broadcast(**{k: np.asarray(v) for k, v in columns.items()}))
    if not res.fits.any():
        return "the model does not fit in memory at any TP degree"
    ttft_ms = res.ttft_s * MS_PER_SECOND
    tpot_ms = res.tpot_s * MS_PER_SECOND
    ok = res.fits & (ttft_ms <= workload.ttft_ms) & (tpot_ms <= workload.tpot_ms)
    if not ok.any():
        best_ttft = np.nanmin(np.where(res.fits, ttft_ms, np.nan))
        best_tpot = np.nanmin(np.where(res.fits, tpot_ms, np.nan))
        return (f"misses the latency targets: best TTFT {best_ttft:.0f} ms (target {workload.ttft_ms:g}), "
                f"best TPOT {best_tpot:.1f} ms (target {workload.tpot_ms:g})")
    replicas = np.ceil(peak_rps / res.requests_per_s)
    gpus = replicas * np.asarray(columns["tp"])
    cost = gpus * usd_per_gpu_hour
    cost = np.where(ok, cost, np.inf)
    order = np.lexsort((np.where(ok, tpot_ms, np.inf), gpus, cost))
    i = int(order[0])
    prec, tp = labels[i]
    profile = base_profile(spec, prec, None, catalog)
    out_tok_per_hour = peak_rps * workload.output_tokens * SECONDS_PER_HOUR
    return PreviewRow(
        workload=workload.name,
        hardware=hw_slug,
        precision=prec,
        compute_dtype_used=compute_dtype_on(hw, profile.compute_dtype),
        tp=tp,
        batch=int(res.batch[i]),
        ttft_ms=float(ttft_ms[i]),
        tpot_ms=float(tpot_ms[i]),
        requests_per_s_per_replica=float(res.requests_per_s[i]),
        peak_requests_per_s=peak_rps,
        replicas=int(replicas[i]),
        gpus=int(gpus[i]),
        usd_per_hour=float(cost[i]),
        usd_per_million_output_tokens=float(cost[i]) / out_tok_per_hour * TOKENS_PER_MILLION,
        bound=BOUND_NAMES[int(res.bound[i])],
    )

