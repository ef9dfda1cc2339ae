r"""Variants and deployments: compose technique options, then evaluate every deployment at once.

1–2. **Options and variants**: see :mod:`planner.optimize.variants`.
3. **Hardware pairing** (hardware in a canonical order — on-demand price ascending, then slug —
   whatever the scenario's order): a variant is excluded on hardware that misses an option's requirement
   (vendor, or native tensor cores when the scenario disallows precision fallback).  An option
   the scenario lists explicitly that no allowed hardware can run is an input error.
4. **Deployments**: variants × classes × hardware × TP ∈ {1, 2, 4, …} ≤ the scale-up domain ×
   batch ∈ {1, 2, 4, …, 2^k} ∪ {largest that fits}, evaluated by one vectorised roofline call.
   ``latency_ok`` marks the rows meeting the class's TTFT and TPOT targets.  With
   ``plan.expert_parallel = E_p`` an MoE variant's rows are ``E_p`` attention groups of TP ``t``
   with the experts spread (:mod:`planner.physics.ep_deployment`; ``tp`` holds the replica's
   ``t·E_p`` GPUs; the ``batch`` requested is per group, the result's ``batch`` — the one plans
   show, for co-located replicas and decode pools alike — per replica, ``E_p·b_g``).
5. **Tail targets**: for a class with ``ttft_p99_ms`` / ``tpot_p99_ms``, each row's capacity becomes
   ``ρ_max × saturated capacity`` (:mod:`planner.physics.queueing`, kept in ``utilisation_cap``); a
   row whose ``ρ_max`` is 0 (a target below its unloaded P99) is not latency-feasible.  Without tail
   targets the table is unchanged.

Every exclusion is kept with its reason (``CandidateSet.exclusions``) for ``explain`` and JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec, ModelSpec
from planner.catalog.store import Catalog
from planner.economics.providers import check_providers
from planner.errors import ScenarioError
from planner.optimize.variants import Exclusion, Variant, build_variants
from planner.physics.ep_deployment import (
    ScaleUpLink,
    checked_degree,
    evaluate_expert_parallel,
    expert_parallel_of,
)
from planner.physics.profile import (
    ServingProfile,
    compute_dtype_on,
    hardware_columns,
    model_columns,
)
from planner.physics.queueing import ReplicaQueue, max_utilisation, unloaded_p99
from planner.physics.roofline import RooflineInputs, RooflineResult, evaluate
from planner.scenario.schema import Scenario, Workload
from planner.units import MS_PER_SECOND
from techniques.base import NONE_OPTION, Option
from techniques.registry import Registry, default_registry

#: Batch ladder: powers of two up to 2**BATCH_LADDER_MAX_EXPONENT, plus "largest that fits" (0); a rung
#: above the engine's cap (:func:`batch_cap`) is never latency-feasible.
BATCH_LADDER_MAX_EXPONENT = 9
AUTO_BATCH = 0


def batch_cap(scenario: Scenario, catalog: Catalog) -> int:
    """The engine's cap on concurrent sequences per replica: ``plan.max_batch``, else the catalog's
    ``max_batch``.  Until the nineteenth session it capped only the "largest that fits" rung, so a plan
    could run b512 where the engines' default (and the catalog's) is 256."""
    return scenario.plan.max_batch if scenario.plan.max_batch is not None else catalog.defaults.max_batch


@dataclass(frozen=True)
class DeploymentTable:
    """Row arrays of every evaluated deployment (one row per variant×class×hardware×TP×batch)."""

    variant: NDArray[np.int64]
    workload: NDArray[np.int64]
    hardware: NDArray[np.int64]
    tp: NDArray[np.float64]
    batch_requested: NDArray[np.float64]
    result: RooflineResult
    latency_ok: NDArray[np.bool_]
    measured: NDArray[np.bool_] | None = None  # the row's capacity is a measurement, not the roofline
    # ρ_max per row under the class's P99 targets (None: no class sets one); capacity is already × this
    utilisation_cap: NDArray[np.float64] | None = None
    def __len__(self) -> int:
        return int(self.variant.shape[0])


@dataclass(frozen=True)
class CandidateSet:
    base_model: ModelSpec
    base_score: float | None
    workloads: Sequence[str]
    hardware: Sequence[HardwareSpec]
    variants: Sequence[Variant]
    allowed_hardware: Mapping[int, frozenset[int]]  # variant index -> hardware indices it may run on
    exclusions: Sequence[Exclusion]
    deployments: DeploymentTable
    slot_holding_cv: float  # the catalog's slot_holding_time_cv: the queueing model of the lines a plan serves
    plugin_errors: Mapping[str, str] = field(default_factory=dict)


def _runs_on(options: Sequence[Option], hw: HardwareSpec) -> str | None:
    """None when every option can run on ``hw``, else the reason it cannot."""
    for o in options:
        if o.vendors is not None and hw.vendor not in o.vendors:
            return f"{o.key} runs only on {sorted(o.vendors)} hardware"
        for dtype in o.native_dtypes:
            if hw.peak_tflops(dtype) is None:
                return f"{o.key} needs {dtype} tensor cores (precision fallback disallowed)"
    return None


def _price_key(catalog: Catalog, slug: str) -> tuple[float, str]:
    """Canonical hardware order: on-demand price ascending (unpriced last), then slug."""
    row = catalog.price(slug, "on-demand")
    price = row.usd_per_gpu_hour if row is not None and row.usd_per_gpu_hour is not None else float("inf")
    return (price, slug)


def check_references(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Every hardware slug the scenario names exists (market, quotas, training); the market's list."""
    listed = scenario.market.hardware or sorted(catalog.hardware)
    for i, slug in enumerate(listed):
        catalog.get_hardware(slug, f"market.hardware[{i}]")
    catalog.get_hardware(scenario.training.hardware, "training.hardware")
    check_providers(scenario.market, catalog)
    for slug in scenario.market.quota_gpus:
        catalog.get_hardware(slug, f"market.quota_gpus.{slug}")
        if slug not in listed:
            raise ScenarioError(f"'{slug}' is not in market.hardware", f"market.quota_gpus.{slug}")
    return listed


def build_candidates(scenario: Scenario, catalog: Catalog, registry: Registry | None = None) -> CandidateSet:
    """All four steps: variants, hardware pairing and the evaluated deployment table."""
    registry = registry or default_registry()
    model, score, variants, variant_options, exclusions = build_variants(scenario, catalog, registry)
    listed = check_references(scenario, catalog)
    slugs = sorted(listed, key=lambda slug: _price_key(catalog, slug))  # canonical: the file's order is ignored
    hardware = [catalog.hardware[s] for s in slugs]
    allowed_hw: dict[int, frozenset[int]] = {}
    usable_options: set[str] = set()
    for v in variants:
        ok = set()
        for h, hw in enumerate(hardware):
            reason = _runs_on(variant_options[v.index], hw)
            if reason is None:
                ok.add(h)
                usable_options.update(o.key for o in variant_options[v.index])
            else:
                exclusions.append(Exclusion("hardware", f"{v.name} on {hw.slug}", reason))
        allowed_hw[v.index] = frozenset(ok)
    for technique, listed in scenario.techniques.items():
        for name in listed:
            key = f"{technique}:{name}"
            if name != NONE_OPTION and key not in usable_options and any(
                    key in (o.key for o in opts) for opts in variant_options.values()):
                reasons = sorted({e.reason for e in exclusions if e.family == "hardware" and key in e.reason})
                raise ScenarioError(f"option '{name}' cannot run on any allowed hardware ({', '.join(slugs)}): "
                                    f"{reasons[0] if reasons else 'requirement not met'}", f"techniques.{technique}")
    _check_context(scenario, variants, exclusions)
    _check_table_size(scenario, catalog, variants, hardware)
    ep = checked_degree(model, scenario.plan.expert_parallel)
    largest = max((hw.scaleup_domain_gpus for hw in hardware), default=0)
    if ep is not None and hardware and ep > largest:  # E_p groups of TP ≥ 1 share one scale-up domain
        raise ScenarioError(f"{ep} groups need {ep} GPUs in one scale-up domain; the market's largest holds "
                            f"{largest} ({', '.join(h.slug for h in hardware)})", "plan.expert_parallel")
    table = _evaluate(scenario, catalog, variants, hardware, allowed_hw)
    table = _apply_tail_targets(scenario, catalog, table, exclusions)
    if scenario.measured:
        table = _apply_measured(scenario, catalog, model, variants, hardware, table)
    return CandidateSet(base_model=model, base_score=score, workloads=[w.name for w in scenario.workload],
                        hardware=hardware, variants=variants, allowed_hardware=allowed_hw, exclusions=exclusions,
                        deployments=table, slot_holding_cv=catalog.defaults.slot_holding_time_cv,
                        plugin_errors=dict(registry.load_errors))


def within_context(profile: ServingProfile, w: Workload) -> bool:
    """Whether the model ``profile`` serves holds a request of class ``w`` (prompt + output tokens)."""
    return w.input_tokens + w.output_tokens <= profile.model.max_context_tokens


def _check_context(scenario: Scenario, variants: Sequence[Variant], exclusions: list[Exclusion]) -> None:
    """A variant whose model cannot hold a class's requests does not serve that class (an exclusion);
    a class no variant can hold is bad input."""
    for w in scenario.workload:
        short = [v for v in variants if not within_context(v.profiles[w.name], w)]
        for v in short:
            exclusions.append(Exclusion("context", f"{v.name} for {w.name}",
                                        f"{w.input_tokens + w.output_tokens} tokens exceed "
                                        f"{v.profiles[w.name].model.slug}'s context "
                                        f"({v.profiles[w.name].model.max_context_tokens})"))
        if short and len(short) == len(variants):
            longest = max(v.profiles[w.name].model.max_context_tokens for v in variants)
            raise ScenarioError(f"input + output = {w.input_tokens + w.output_tokens} tokens exceeds the context of "
                                f"every model the techniques offer (longest: {longest})",
                                f"workload[{w.name}].input_tokens")


def _check_table_size(scenario: Scenario, catalog: Catalog, variants: Sequence[Variant],
                      hardware: Sequence[HardwareSpec]) -> None:
    """Refuse, before any work, a deployment table beyond ``max_deployment_rows``."""
    tp_options = sum(len([k for k in range(11) if 2**k <= hw.scaleup_domain_gpus]) for hw in hardware)
    batches = BATCH_LADDER_MAX_EXPONENT + 2
    rows = len(variants) * len(scenario.workload) * tp_options * batches
    limit = catalog.defaults.max_deployment_rows
    if rows > limit:
        dims = {"variants (techniques)": len(variants), "request classes (workload)": len(scenario.workload),
                "hardware types (market.hardware)": len(hardware)}
        largest = max(dims, key=lambda k: dims[k])
        raise ScenarioError(f"{rows:,} deployment rows ({len(variants)} variants x {len(scenario.workload)} classes x "
                            f"{tp_options} hardware/TP pairs x {batches} batches) exceed the planner's limit of "
                            f"{limit:,}; reduce the {largest}", "scenario")


def _evaluate(scenario: Scenario, catalog: Catalog, variants: Sequence[Variant], hardware: Sequence[HardwareSpec],
              allowed_hw: Mapping[int, frozenset[int]]) -> DeploymentTable:
    ladder = [float(2**k) for k in range(BATCH_LADDER_MAX_EXPONENT + 1)] + [float(AUTO_BATCH)]
    cap = batch_cap(scenario, catalog)
    static_rows: list[dict[str, float]] = []
    ids: list[tuple[int, int, int, float]] = []
    eps: list[float] = []  # E_p per static row (planner.physics.ep_deployment; 1 = none)
    for v in variants:
        for c, w in enumerate(scenario.workload):
            profile = v.profiles[w.name]
            if not within_context(profile, w):  # an exclusion of _check_context
                continue
            mcols = {**model_columns(profile), "input_tokens": float(w.input_tokens),
                     "output_tokens": float(w.output_tokens)}
            for h, hw in enumerate(hardware):
                if h not in allowed_hw[v.index]:
                    continue
                hcols = {**hardware_columns(hw, profile, catalog, scenario.plan.engine, "plan.engine"),
                         "max_batch": float(cap)}
                for tp in (2.0**k for k in range(11)):
                    if tp > hw.scaleup_domain_gpus:
                        break
                    static_rows.append({**mcols, **hcols})
                    ids.append((v.index, c, h, tp))
                    eps.append(float(expert_parallel_of(profile, scenario.plan.expert_parallel)))
    n_static, n_batch = len(static_rows), len(ladder)
    if n_static == 0:
        empty = np.zeros(0)
        result = evaluate(RooflineInputs.broadcast(**{k: empty for k in RooflineInputs.__dataclass_fields__}))
        return DeploymentTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty,
                               result, np.zeros(0, bool))
    keys = static_rows[0].keys()
    columns = {k: np.repeat(np.fromiter((r[k] for r in static_rows), float, n_static), n_batch) for k in keys}
    id_arr = np.array(ids, dtype=float)
    columns["tp"] = np.repeat(id_arr[:, 3], n_batch)
    columns["batch"] = np.tile(np.array(ladder), n_static)
    ep = np.repeat(np.array(eps), n_batch)
    hw_rows = np.repeat(id_arr[:, 2].astype(np.int64), n_batch)
    result = (evaluate(RooflineInputs.broadcast(**columns)) if scenario.plan.expert_parallel is None else
              evaluate_expert_parallel(RooflineInputs.broadcast(**columns), ep,
                                       ScaleUpLink.of(list(hardware), hw_rows, catalog)))
    columns["tp"] = columns["tp"] * ep  # GPUs per replica: t·E_p
    workload_idx = np.repeat(id_arr[:, 1].astype(np.int64), n_batch)
    ttft_target = np.array([w.ttft_ms for w in scenario.workload])[workload_idx]
    tpot_target = np.array([w.tpot_ms for w in scenario.workload])[workload_idx]
    latency_ok = (result.fits & (result.ttft_s * MS_PER_SECOND <= ttft_target)
                  & (result.tpot_s * MS_PER_SECOND <= tpot_target) & (columns["batch"] <= cap))
    return DeploymentTable(
        variant=np.repeat(id_arr[:, 0].astype(np.int64), n_batch), workload=workload_idx,
        hardware=np.repeat(id_arr[:, 2].astype(np.int64), n_batch), tp=columns["tp"],
        batch_requested=columns["batch"], result=result, latency_ok=latency_ok)


def replica_queue(table: DeploymentTable, rows: NDArray[np.int64], holding_cv: float) -> ReplicaQueue:
    """The queueing model's replica of each of ``rows`` (:mod:`planner.physics.queueing`): its roofline
    figures at its **saturated** capacity (a P99-capped row's capacity over its cap ``ρ_max``) and the decode
    step at batch 1 of the same (variant, class, hardware, TP), the batch ladder's first rung."""
    res, n_batch = table.result, BATCH_LADDER_MAX_EXPONENT + 2
    first_rung = (rows // n_batch) * n_batch
    cap = np.ones(len(rows)) if table.utilisation_cap is None else table.utilisation_cap[rows]
    with np.errstate(divide="ignore", invalid="ignore"):  # a row capped at 0 serves nothing: no queue
        saturated = np.where(cap > 0.0, res.requests_per_s[rows] / cap, np.nan)
    return ReplicaQueue.broadcast(
        capacity_rps=saturated, slots=res.batch[rows], prefill_s=res.prefill_s[rows],
        prefill_gpu_s=res.prefill_gpu_s[rows], step_s=res.step_s[rows], step_one_s=res.step_s[first_rung],
        holding_cv=holding_cv)


def _apply_tail_targets(scenario: Scenario, catalog: Catalog, table: DeploymentTable,
                        exclusions: list[Exclusion]) -> DeploymentTable:
    """Cap each row of a class with P99 targets at ``ρ_max`` of its saturated capacity (step 5).

    The queueing model reads the row's roofline figures and the decode step at batch 1 of the same
    (variant, class, hardware, TP), the first rung of the batch ladder.  Rows a target makes
    infeasible at any load leave ``latency_ok``, with one exclusion per class naming the target and
    the lowest unloaded P99 among them.
    """
    ttft_p99 = np.array([np.nan if w.ttft_p99_ms is None else w.ttft_p99_ms / MS_PER_SECOND
                         for w in scenario.workload])
    tpot_p99 = np.array([np.nan if w.tpot_p99_ms is None else w.tpot_p99_ms / MS_PER_SECOND
                         for w in scenario.workload])
    targeted = np.isfinite(ttft_p99) | np.isfinite(tpot_p99)
    if len(table) == 0 or not targeted.any():
        return table
    res = table.result
    rows = np.flatnonzero(targeted[table.workload] & res.fits)
    queue = replica_queue(table, rows, catalog.defaults.slot_holding_time_cv)
    cls = table.workload[rows]
    cap = np.ones(len(table))
    cap[rows] = max_utilisation(queue, ttft_p99[cls], tpot_p99[cls])
    idle_ttft, idle_tpot = unloaded_p99(queue)
    for c, w in enumerate(scenario.workload):
        mine = cls == c
        dead = mine & (cap[rows] <= 0.0) & table.latency_ok[rows]
        if not dead.any():
            continue
        misses = []
        if w.ttft_p99_ms is not None:
            misses.append(f"TTFT P99 {w.ttft_p99_ms:.10g} ms (lowest unloaded P99 "
                          f"{np.min(idle_ttft[mine]) * MS_PER_SECOND:.1f} ms)")
        if w.tpot_p99_ms is not None:
            misses.append(f"TPOT P99 {w.tpot_p99_ms:.10g} ms (lowest unloaded P99 "
                          f"{np.min(idle_tpot[mine]) * MS_PER_SECOND:.2f} ms)")
        exclusions.append(Exclusion("latency", f"class {w.name}: {int(dead.sum())} deployments meeting the means",
                                    "no load meets " + " and ".join(misses)))
    latency_ok = table.latency_ok & (cap > 0.0)
    capped = dataclasses.replace(res, requests_per_s=res.requests_per_s * cap,
                                 output_tokens_per_s=res.output_tokens_per_s * cap)
    return dataclasses.replace(table, result=capped, latency_ok=latency_ok, utilisation_cap=cap)


def _measurable(profile: ServingProfile, model: ModelSpec, precision: str, catalog: Catalog) -> bool:
    """A measurement of the base model at ``precision`` holds for this profile: same model, precision
    and KV cache, the whole prompt prefilled, nothing extra per request.  Response caching (which only
    changes the share of queries reaching the model) keeps it valid; distillation, MoE changes, other
    precisions, KV quantization, prefix and semantic caching and speculative decoding do not (those
    use the roofline)."""
    prec = catalog.precisions.get(precision)
    return (prec is not None and profile.model.slug == model.slug and profile.precision == precision
            and profile.kv_precision == prec.default_kv and profile.prefill_token_fraction == 1.0
            and profile.extra_prefill_flops == 0.0 and profile.draft is None)


def _apply_measured(scenario: Scenario, catalog: Catalog, model: ModelSpec, variants: Sequence[Variant],
                    hardware: Sequence[HardwareSpec], table: DeploymentTable) -> DeploymentTable:
    """Where a measured capacity exists, it replaces the roofline for the variants it describes.

    A (variant, class, hardware) with any measured row is served only at the measured TPs: every
    roofline row of it is switched off first, then each measured row switches its own TP back on
    with the measured capacity (a ``meets_slo = false`` row switches nothing on).
    """
    res = table.result
    measured = np.zeros(len(table), dtype=bool)
    h_index = {hw.slug: h for h, hw in enumerate(hardware)}
    c_index = {w.name: c for c, w in enumerate(scenario.workload)}
    targets: list[tuple[int, np.ndarray, float, int]] = []  # (class, rows of that (v, c, h), req/s, TP)
    for i, m in enumerate(scenario.measured):
        h, c = h_index.get(m.hardware), c_index[m.workload]
        if h is None:
            raise ScenarioError(f"row {i}: hardware '{m.hardware}' is not in the market", "measured")
        if m.tp > hardware[h].scaleup_domain_gpus:
            raise ScenarioError(f"row {i}: TP{m.tp} exceeds {m.hardware}'s scale-up domain", "measured")
        if m.tp & (m.tp - 1):  # a TP the table has no row for: the hardware's rows went off, unreplaced
            raise ScenarioError(f"row {i}: TP{m.tp} is not a power of two (the planner's TPs are 1, 2, 4, ...)",
                                "measured")
        catalog.get_precision(m.precision, f"measured: row {i}: precision")  # an unknown one matched no variant
        rps = m.capacity_rps(scenario.workload[c].output_tokens)
        for v in variants:
            if _measurable(v.profiles[m.workload], model, m.precision, catalog):
                rows = np.flatnonzero((table.variant == v.index) & (table.workload == c) & (table.hardware == h))
                table.latency_ok[rows] = False
                targets.append((c, rows, rps, m.tp))
    for c, rows, rps, tp in targets:
        at = rows[(table.tp[rows] == tp) & (table.batch_requested[rows] == AUTO_BATCH)]
        if len(at) == 0 or rps <= 0:
            continue
        j = int(at[0])
        res.fits[j] = True
        # measured at the class's SLO, P99 targets included: not capped by the model's ρ_max, which came
        # from the roofline row the measurement replaced (one whose mean TTFT missed the target once cut
        # a measured 10 requests/s to 0.02)
        res.requests_per_s[j] = rps
        if table.utilisation_cap is not None:
            table.utilisation_cap[j] = 1.0
        res.batch[j] = 0.0
        res.ttft_s[j] = scenario.workload[c].ttft_ms / MS_PER_SECOND
        res.tpot_s[j] = scenario.workload[c].tpot_ms / MS_PER_SECOND
        table.latency_ok[j] = True
        measured[j] = True
    return dataclasses.replace(table, measured=measured)


def compute_dtype_label(profile: ServingProfile, hw: HardwareSpec) -> str:
    used = compute_dtype_on(hw, profile.compute_dtype)
    return used if used == profile.compute_dtype else f"{profile.compute_dtype}->{used}"
