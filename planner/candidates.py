r"""Variants and deployments: compose technique options, then evaluate every deployment at once.

1. **Options per technique** (registry order): the technique's ``options(ctx)``, filtered by the
   scenario's ``[techniques]`` list (omitted = all; ``none`` is always offered unless the list
   leaves it out; a combined option ``a+b`` is allowed when both parts are).  A listed option that
   is unknown, or that the technique cannot offer for this scenario, is an input error naming the
   reason.
2. **Variants** = the product of the chosen options, minus combinations that conflict.  Each
   variant is applied per request class — options in registry order, each a pure
   ``(ServingProfile, Workload) → ServingProfile`` — starting from the base model in BF16 with its
   measured score.  Variants whose per-class profiles are identical to an earlier variant's are
   dropped as duplicates (e.g. ``kv-fp8`` on top of ``fp8``, whose KV is already 8-bit).
   Variants are enumerated in registry order (technique ``order``, then name) and each technique's
   own option order, never in the scenario's list order.
3. **Hardware pairing** (hardware in a canonical order — on-demand price ascending, then slug —
   whatever the scenario's order): a variant is excluded on hardware that misses an option's requirement
   (vendor, or native tensor cores when the scenario disallows precision fallback).  An option
   the scenario lists explicitly that no allowed hardware can run is an input error.
4. **Deployments**: variants × classes × hardware × TP ∈ {1, 2, 4, …} ≤ the scale-up domain ×
   batch ∈ {1, 2, 4, …, 2^k} ∪ {largest that fits}, evaluated by one vectorised roofline call.
   ``latency_ok`` marks the rows meeting the class's TTFT and TPOT targets.

Every exclusion is kept with its reason (``CandidateSet.exclusions``) for ``explain`` and JSON.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from planner.catalog import Catalog
from planner.catalog_schema import HardwareSpec, ModelSpec
from planner.deployment_estimate import resolve_model
from planner.errors import InputError, ScenarioError
from planner.profile import ServingProfile, base_profile, compute_dtype_on, hardware_columns, model_columns
from planner.roofline import RooflineInputs, RooflineResult, evaluate
from planner.schema import Scenario
from planner.units import MS_PER_SECOND
from techniques.base import NONE_OPTION, NotApplicable, Option, Technique, TechniqueContext
from techniques.registry import Registry, default_registry

BASE_PRECISION = "bf16"
#: Batch ladder: powers of two up to 2**BATCH_LADDER_MAX_EXPONENT, plus "largest that fits" (0).
BATCH_LADDER_MAX_EXPONENT = 9
AUTO_BATCH = 0


@dataclass(frozen=True)
class Exclusion:
    """Something not offered to the optimiser, and why."""

    family: str  # unavailable | conflict | incompatible | duplicate | hardware
    subject: str
    reason: str


@dataclass(frozen=True)
class Variant:
    """One compatible combination of options, applied per request class."""

    index: int
    options: Mapping[str, str]  # technique -> option (``none`` included)
    profiles: Mapping[str, ServingProfile]  # class name -> profile

    @property
    def name(self) -> str:
        chosen = [f"{t}:{o}" for t, o in self.options.items() if o != NONE_OPTION]
        return " + ".join(chosen) if chosen else "baseline"

    @property
    def is_baseline(self) -> bool:
        return all(o == NONE_OPTION for o in self.options.values())

    def one_time_flops(self) -> float:
        return max(p.one_time_flops for p in self.profiles.values())


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
    plugin_errors: Mapping[str, str] = field(default_factory=dict)


def _settings_for(technique: Technique, scenario: Scenario) -> object:
    raw = scenario.technique_settings.get(technique.name, {})
    try:
        return technique.Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        path = f"technique_settings.{technique.name}" + (f".{loc}" if loc else "")
        reason = "unknown key (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(reason, path) from None


def _check_technique_names(scenario: Scenario, registry: Registry) -> None:
    for table in ("techniques", "technique_settings"):
        for name in getattr(scenario, table):
            if registry.get(name) is None:
                broken = [f"{label}: {why}" for label, why in registry.load_errors.items() if label.startswith(name)]
                hint = f" (plug-in failed to load: {broken[0]})" if broken else f"; known: {sorted(registry.techniques)}"
                raise ScenarioError(f"unknown technique '{name}'{hint}", f"{table}.{name}")


def _allowed(name: str, allowed: Sequence[str] | None) -> bool:
    if allowed is None:
        return True
    return name in allowed or all(part in allowed for part in name.split("+"))


def _choose_options(
    technique: Technique, ctx: TechniqueContext, allowed: Sequence[str] | None, exclusions: list[Exclusion]
) -> list[Option | None]:
    """The technique's options for this scenario (None stands for ``none``)."""
    offered = technique.options(ctx)
    by_name = {o.name: o for o in offered.options}
    known = {i.name for i in technique.describe(ctx.catalog)} | set(by_name) | set(offered.unavailable)
    path = f"techniques.{technique.name}"
    for listed in allowed or ():
        if listed == NONE_OPTION or listed in by_name:
            continue
        if listed in offered.unavailable:
            raise ScenarioError(f"option '{listed}' cannot be offered: {offered.unavailable[listed]}", path)
        if listed not in known:
            # options named by a pattern (e.g. '<draft>-draft<n>') say what they need
            needs = "".join(f"; {n}: {why}" for n, why in offered.unavailable.items() if "<" in n)
            raise ScenarioError(f"unknown option '{listed}'; known: {sorted(known | {NONE_OPTION})}{needs}", path)
    for name, reason in offered.unavailable.items():
        if _allowed(name, allowed):
            exclusions.append(Exclusion("unavailable", f"{technique.name}:{name}", reason))
    chosen: list[Option | None] = [None] if allowed is None or NONE_OPTION in allowed else []
    chosen += [o for o in offered.options if _allowed(o.name, allowed)]
    return chosen


def _conflict(a: Option, b: Option) -> bool:
    def hits(x: Option, y: Option) -> bool:
        return f"{y.technique}:{y.name}" in x.conflicts_with or f"{y.technique}:*" in x.conflicts_with

    return hits(a, b) or hits(b, a)


def _base_score(scenario: Scenario, model: ModelSpec, catalog: Catalog) -> float | None:
    if scenario.quality.base_score is not None:
        return scenario.quality.base_score
    row = catalog.quality_of(model.slug, scenario.quality.metric)
    return row.score if row else None


def build_variants(
    scenario: Scenario, catalog: Catalog, registry: Registry | None = None
) -> tuple[ModelSpec, float | None, list[Variant], dict[int, list[Option]], list[Exclusion]]:
    """Steps 1–2 of the module docstring."""
    registry = registry or default_registry()
    _check_technique_names(scenario, registry)
    model = resolve_model(scenario.model.base, catalog, "model.base")
    score = _base_score(scenario, model, catalog)
    exclusions: list[Exclusion] = []
    techniques = registry.ordered()
    per_technique: list[list[Option | None]] = []
    for technique in techniques:
        ctx = TechniqueContext(scenario=scenario, catalog=catalog, base_model=model,
                               settings=_settings_for(technique, scenario))  # type: ignore[arg-type]
        try:
            chosen = _choose_options(technique, ctx, scenario.techniques.get(technique.name), exclusions)
        except InputError:  # bad input the plug-in found (unknown slug, missing setting): names its field
            raise
        except Exception as exc:  # noqa: BLE001  (a plug-in's failure names the plug-in)
            raise ScenarioError(f"plug-in failed: {type(exc).__name__}: {exc}", f"techniques.{technique.name}") from None
        per_technique.append(chosen)
    combinations = 1
    for chosen in per_technique:
        combinations *= max(1, len(chosen))
    if combinations > catalog.defaults.max_variant_combinations:
        widest = sorted(((len(c), t.name) for c, t in zip(per_technique, techniques, strict=True)), reverse=True)[:2]
        raise ScenarioError(
            f"{combinations:,} combinations of technique options exceed the planner's limit of "
            f"{catalog.defaults.max_variant_combinations:,}; allow fewer options of "
            + " and ".join(f"{name} ({n})" for n, name in widest), "techniques")
    base = base_profile(model, BASE_PRECISION, None, catalog).model_copy(update={"quality_score": score})
    variants: list[Variant] = []
    variant_options: dict[int, list[Option]] = {}
    seen: dict[tuple[str, ...], str] = {}
    for combo in itertools.product(*per_technique):
        opts = [o for o in combo if o is not None]
        label = " + ".join(o.key for o in opts) or "baseline"
        clash = next(((a, b) for a, b in itertools.combinations(opts, 2) if _conflict(a, b)), None)
        if clash:
            exclusions.append(Exclusion("conflict", label, f"{clash[0].key} conflicts with {clash[1].key}"))
            continue
        profiles = _apply_options(scenario, base, opts)
        if isinstance(profiles, str):
            exclusions.append(Exclusion("incompatible", label, profiles))
            continue
        fingerprint = tuple(p.model_dump_json(exclude={"trace", "provenance"}) for p in profiles.values())
        if fingerprint in seen:
            exclusions.append(Exclusion("duplicate", label, f"same served profile as {seen[fingerprint]}"))
            continue
        seen[fingerprint] = label
        options = {t.name: NONE_OPTION for t in techniques}
        options.update({o.technique: o.name for o in opts})
        variant = Variant(index=len(variants), options=options, profiles=profiles)
        variants.append(variant)
        variant_options[variant.index] = opts
    return model, score, variants, variant_options, exclusions


def _apply_options(scenario: Scenario, base: ServingProfile, opts: Sequence[Option]) -> dict[str, ServingProfile] | str:
    """Each class's profile under ``opts`` (in order), or why the combination cannot be served."""
    profiles: dict[str, ServingProfile] = {}
    for w in scenario.workload:
        profile = base
        for option in opts:
            try:
                profile = option.apply(profile, w)
            except NotApplicable as exc:
                return f"{option.key}: {exc}"
            except Exception as exc:  # noqa: BLE001
                raise ScenarioError(f"option {option.key} failed on class {w.name}: {type(exc).__name__}: {exc}",
                                    f"techniques.{option.technique}") from None
        profiles[w.name] = profile
    return profiles


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
    row = catalog.prices.get((slug, "on-demand"))
    price = row.usd_per_gpu_hour if row is not None and row.usd_per_gpu_hour is not None else float("inf")
    return (price, slug)


def check_references(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Every hardware slug the scenario names exists (market, quotas, training); the market's list."""
    listed = scenario.market.hardware or sorted(catalog.hardware)
    for i, slug in enumerate(listed):
        catalog.get_hardware(slug, f"market.hardware[{i}]")
    catalog.get_hardware(scenario.training.hardware, "training.hardware")
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
    _check_table_size(scenario, catalog, variants, hardware)
    table = _evaluate(scenario, catalog, variants, hardware, allowed_hw)
    if scenario.measured:
        table = _apply_measured(scenario, catalog, model, variants, hardware, table)
    return CandidateSet(base_model=model, base_score=score, workloads=[w.name for w in scenario.workload],
                        hardware=hardware, variants=variants, allowed_hardware=allowed_hw, exclusions=exclusions,
                        deployments=table, plugin_errors=dict(registry.load_errors))


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
    static_rows: list[dict[str, float]] = []
    ids: list[tuple[int, int, int, float]] = []
    for v in variants:
        for c, w in enumerate(scenario.workload):
            profile = v.profiles[w.name]
            mcols = {**model_columns(profile), "input_tokens": float(w.input_tokens),
                     "output_tokens": float(w.output_tokens)}
            for h, hw in enumerate(hardware):
                if h not in allowed_hw[v.index]:
                    continue
                hcols = hardware_columns(hw, profile, catalog)
                for tp in (2.0**k for k in range(11)):
                    if tp > hw.scaleup_domain_gpus:
                        break
                    static_rows.append({**mcols, **hcols})
                    ids.append((v.index, c, h, tp))
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
    result = evaluate(RooflineInputs.broadcast(**columns))
    workload_idx = np.repeat(id_arr[:, 1].astype(np.int64), n_batch)
    ttft_target = np.array([w.ttft_ms for w in scenario.workload])[workload_idx]
    tpot_target = np.array([w.tpot_ms for w in scenario.workload])[workload_idx]
    latency_ok = (result.fits & (result.ttft_s * MS_PER_SECOND <= ttft_target)
                  & (result.tpot_s * MS_PER_SECOND <= tpot_target))
    return DeploymentTable(
        variant=np.repeat(id_arr[:, 0].astype(np.int64), n_batch), workload=workload_idx,
        hardware=np.repeat(id_arr[:, 2].astype(np.int64), n_batch), tp=columns["tp"],
        batch_requested=columns["batch"], result=result, latency_ok=latency_ok)


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
        res.requests_per_s[j] = rps
        res.batch[j] = 0.0
        res.ttft_s[j] = scenario.workload[c].ttft_ms / MS_PER_SECOND
        res.tpot_s[j] = scenario.workload[c].tpot_ms / MS_PER_SECOND
        table.latency_ok[j] = True
        measured[j] = True
    return dataclasses.replace(table, measured=measured)


def compute_dtype_label(profile: ServingProfile, hw: HardwareSpec) -> str:
    used = compute_dtype_on(hw, profile.compute_dtype)
    return used if used == profile.compute_dtype else f"{profile.compute_dtype}->{used}"
