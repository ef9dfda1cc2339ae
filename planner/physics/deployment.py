"""One deployment's roofline figures: the engine behind ``whatif estimate``.

Turns slugs into catalog rows, checks the request, evaluates the vectorised roofline on a
single row and packages the result with its provenance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from planner.catalog.hf_config import model_from_hf_config
from planner.catalog.schema import EfficiencyRow, HardwareSpec, ModelSpec
from planner.catalog.store import Catalog
from planner.errors import FitError, InputError, NotApplicable
from planner.physics.profile import (
    ServingProfile,
    base_profile,
    compute_dtype_on,
    hardware_columns,
    model_columns,
)
from planner.physics.roofline import (
    BOUND_NAMES,
    RooflineInputs,
    RooflineResult,
    evaluate,
)
from planner.physics.speculation import MAX_DRAFT_TOKENS, tokens_per_pass, with_draft
from planner.units import BYTES_PER_GB, MS_PER_SECOND

ESTIMATE_SCHEMA_VERSION = 1
#: Floating-point compute formats a hardware row (``precision = "*"``) is fitted on, with their
#: bits: a precision is in that family when it computes in one of them and stores its weights at
#: (at least) that width; INT8 (W8A8) and weight-only 4-bit formats are families of their own.
FLOAT_DTYPE_BITS: dict[str, float] = {"bf16": 16.0, "fp16": 16.0, "fp8": 8.0, "fp4": 4.0}


class Estimate(BaseModel):
    """Roofline figures of one deployment (``replicas = gpus / tp`` identical replicas)."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = ESTIMATE_SCHEMA_VERSION
    model: str
    hardware: str
    precision: str
    kv_precision: str
    compute_dtype_used: str
    precision_fallback: bool
    tp: int
    gpus: int
    replicas: int
    batch: int
    max_batch: int
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float
    prefill_ms: float
    decode_step_ms: float
    requests_per_s: float
    requests_per_s_per_replica: float
    output_tokens_per_s: float
    memory_gb_per_gpu: float
    weight_gb_per_gpu: float
    kv_gb_per_sequence_per_gpu: float
    # the largest per-request part; "overhead": the fixed per-pass time (kernel launches, scheduling)
    bound: Literal["compute", "memory", "communication", "overhead"]
    draft: str | None = None  # speculative decoding's draft model
    draft_tokens: int = 0
    acceptance_rate: float = 0.0
    tokens_per_pass: float = 1.0  # output tokens one target pass yields
    # the efficiencies the roofline ran at: the row's factor × the engine's speed, at most 1 (profile.hardware_columns)
    compute_efficiency: float
    memory_efficiency: float
    row_compute_efficiency: float  # the efficiency row's own factors (catalogs/efficiency.toml)
    row_memory_efficiency: float
    engine: str = "tensorrt-llm"  # the serving engine (default: the one the efficiency row was fitted on)
    engine_speed: float = 1.0  # its speed relative to that engine (catalogs/engines.toml)
    efficiency_source: str
    calibration_group: str  # the efficiency row used, e.g. "h100-sxm/*"; "*/*" is the pooled fallback
    calibrated: bool  # the row was fitted to this hardware's own published measurements
    # held-out P10-P90 of the published value (the row's error band), None when the row has none
    output_tokens_per_s_range: tuple[float, float] | None = None
    ttft_ms_range: tuple[float, float] | None = None
    tpot_ms_range: tuple[float, float] | None = None
    provenance: list[str]
    catalog_overlays: list[str] = []  # overlay files applied over the shipped catalog


def error_ranges(eff: EfficiencyRow, tokens_per_s: float, ttft_ms: float,
                 tpot_ms: float) -> dict[str, tuple[float, float]]:
    r"""P10–P90 of the published values an estimate stands for, from its row's held-out speed error.

    With ``e`` = predicted / published speed − 1 held out (P10 ``e₁₀``, P90 ``e₉₀``), a throughput
    ``x`` stands for a published ``x / (1 + e)``: P10 ``x/(1+e₉₀)``, P90 ``x/(1+e₁₀)``; a time ``τ``
    for ``τ·(1 + e)``: P10 ``τ(1+e₁₀)``, P90 ``τ(1+e₉₀)``.
    """
    if eff.error_p10 is None or eff.error_p90 is None:
        return {}
    lo, hi = 1.0 + eff.error_p10, 1.0 + eff.error_p90
    return {"output_tokens_per_s_range": (tokens_per_s / hi, tokens_per_s / lo),
            "ttft_ms_range": (ttft_ms * lo, ttft_ms * hi), "tpot_ms_range": (tpot_ms * lo, tpot_ms * hi)}


def _with_engine_spread(eff: EfficiencyRow, catalog: Catalog, engine: str, hardware: str) -> EfficiencyRow:
    r"""The row's band widened by the engine factor's own spread ``σ`` (when another engine runs):
    ``1 + e₁₀ ← (1 + e₁₀)(1 − σ)``, ``1 + e₉₀ ← (1 + e₉₀)(1 + σ)``."""
    row = catalog.engines.get((engine, hardware))
    if row is None or engine == eff.engine or eff.error_p10 is None or eff.error_p90 is None:
        return eff
    return eff.model_copy(update={"error_p10": (1 + eff.error_p10) * (1 - row.spread) - 1,
                                  "error_p90": (1 + eff.error_p90) * (1 + row.spread) - 1})


def calibrated(eff: EfficiencyRow, hw: HardwareSpec, precision: str, catalog: Catalog) -> bool:
    """Was ``eff`` fitted to this hardware's own published measurements *of this precision family*?

    A hardware row (``precision = "*"``) is fitted on the hardware's native formats (BF16/FP16,
    FP8, FP4 on hardware with those tensor cores); a weight-quantized format that falls back to it
    (INT8 or W4A16 on a generation without published cases) is not calibrated: the plan says so.
    """
    if eff.hardware != hw.slug:
        return False
    if eff.precision == precision:
        return True
    prec = catalog.precisions.get(precision)
    if prec is None:
        return False
    bits = FLOAT_DTYPE_BITS.get(prec.compute_dtype)
    return bits is not None and prec.weight_bits >= bits and hw.peak_tflops(prec.compute_dtype) is not None


def model_is_file(ref: str) -> bool:
    """Whether a model reference names a Hugging Face ``config.json`` file (or its folder) rather than a
    catalog slug: it ends in ``.json``, holds a ``/``, or names an existing path."""
    return ref.endswith(".json") or "/" in ref or Path(ref).exists()


def resolve_model(ref: str | ModelSpec, catalog: Catalog, field: str = "model") -> ModelSpec:
    """A catalog slug, a ModelSpec, or a path to a Hugging Face config.json."""
    if isinstance(ref, ModelSpec):
        return ref
    if ref in catalog.models:
        return catalog.models[ref]
    if model_is_file(ref):
        return model_from_hf_config(ref)
    return catalog.get_model(ref, field)


def _check_positive_int(value: int, name: str, upper: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise InputError(f"must be a whole number in [1, {upper:,}], got {value!r}", name)


#: Upper bounds of a single estimate's request: far past any real deployment, they keep the
#: arithmetic finite and turn a typo (an extra zero or three) into a clear refusal.
MAX_GPUS = 1_000_000
MAX_BATCH = 10_000_000
MAX_INPUT_TOKENS = 10_000_000
MAX_OUTPUT_TOKENS = 1_000_000


def _check_request(profile: ServingProfile, hw: HardwareSpec, *, tp: int, gpus: int, batch: int | None,
                   input_tokens: int, output_tokens: int) -> None:
    """Refuse a request the roofline cannot answer, naming the argument."""
    _check_positive_int(tp, "tp", hw.scaleup_domain_gpus)
    _check_positive_int(gpus, "gpus", MAX_GPUS)
    if gpus % tp:
        raise InputError(f"must be a multiple of tp ({tp}), got {gpus}", "gpus")
    if profile.model.attention_heads % tp:
        raise InputError(f"must divide the model's {profile.model.attention_heads} attention heads, got {tp}", "tp")
    if batch is not None:
        _check_positive_int(batch, "batch", MAX_BATCH)
    _check_positive_int(input_tokens, "input_tokens", MAX_INPUT_TOKENS)
    _check_positive_int(output_tokens, "output_tokens", MAX_OUTPUT_TOKENS)
    if input_tokens + output_tokens > profile.model.max_context_tokens:
        raise InputError(
            f"input + output = {input_tokens + output_tokens} tokens exceeds the model's context "
            f"({profile.model.max_context_tokens})",
            "input_tokens",
        )


def _check_fit(result: RooflineResult, profile: ServingProfile, hw: HardwareSpec, *, tp: int,
               batch: int | None) -> None:
    """Refuse a deployment that does not fit memory, saying what to change."""
    if bool(result.fits[0]):
        return
    max_batch = int(result.max_batch[0])
    where = f"{profile.model.slug} {profile.precision} on {hw.slug} at TP{tp}"
    if max_batch < 1:
        raise FitError(
            f"{where} does not fit: weights take {result.weight_gb_per_gpu[0]:.1f} GB per GPU of "
            f"{hw.memory_bytes / BYTES_PER_GB:.1f} GB, leaving no room for one sequence's KV cache; try a larger --tp",
            "tp",
        )
    raise FitError(f"batch {batch} does not fit in memory for {where} (largest: {max_batch})", "batch")


def estimate_profile(
    profile: ServingProfile,
    hardware: str,
    *,
    catalog: Catalog,
    tp: int = 1,
    batch: int | None = None,
    input_tokens: int,
    output_tokens: int,
    gpus: int | None = None,
    engine: str | None = None,
) -> Estimate:
    """Estimate a served profile on ``hardware``; ``batch=None`` takes the largest batch that fits;
    ``engine=None`` runs the engine the hardware's efficiency row was fitted on."""
    hw = catalog.get_hardware(hardware, "hardware")
    gpus = tp if gpus is None else gpus
    _check_request(profile, hw, tp=tp, gpus=gpus, batch=batch, input_tokens=input_tokens, output_tokens=output_tokens)
    eff = catalog.efficiency_for(hw.slug, profile.precision)
    engine_used, engine_speed = catalog.engine_speed(engine, hw.slug, eff)
    columns = {**model_columns(profile), **hardware_columns(hw, profile, catalog, engine), "tp": tp,
               "batch": batch or 0, "input_tokens": input_tokens, "output_tokens": output_tokens}
    result = evaluate(RooflineInputs.broadcast(**columns))
    _check_fit(result, profile, hw, tp=tp, batch=batch)
    dtype_used = compute_dtype_on(hw, profile.compute_dtype)
    replicas = gpus // tp
    figures = _figures(result, replicas)
    return Estimate(
        catalog_overlays=list(catalog.overlays),
        model=profile.model.slug,
        hardware=hw.slug,
        precision=profile.precision,
        kv_precision=profile.kv_precision,
        compute_dtype_used=dtype_used,
        precision_fallback=dtype_used != profile.compute_dtype,
        tp=tp,
        gpus=gpus,
        replicas=replicas,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **figures,
        draft=profile.draft.slug if profile.draft is not None else None,
        draft_tokens=profile.draft_tokens,
        acceptance_rate=profile.acceptance_rate,
        tokens_per_pass=tokens_per_pass(profile.acceptance_rate, profile.draft_tokens),
        compute_efficiency=float(columns["compute_efficiency"]),
        memory_efficiency=float(columns["memory_efficiency"]),
        row_compute_efficiency=eff.compute,
        row_memory_efficiency=eff.memory,
        engine=engine_used,
        engine_speed=engine_speed,
        efficiency_source=f"efficiency[{eff.hardware}/{eff.precision}]: {eff.source}",
        calibration_group=f"{eff.hardware}/{eff.precision}" + (f"@{engine_used}" if engine_speed != 1.0 else ""),
        calibrated=calibrated(eff, hw, profile.precision, catalog),
        **error_ranges(_with_engine_spread(eff, catalog, engine_used, hw.slug),  # type: ignore[arg-type]
                       figures["output_tokens_per_s"], figures["ttft_ms"], figures["tpot_ms"]),
        provenance=[*profile.provenance, f"hardware {hw.slug}: {hw.source} ({hw.source_date})"],
    )


def _figures(result: RooflineResult, replicas: int) -> dict[str, Any]:
    """The one-row roofline result as :class:`Estimate` fields (times in ms; rates for all ``replicas``);
    an InputError when a figure is not finite."""
    def ms(arr: np.ndarray) -> float:
        return float(arr[0]) * MS_PER_SECOND

    rps = float(result.requests_per_s[0])
    if not all(math.isfinite(v) for v in (ms(result.ttft_s), ms(result.tpot_s), rps)):
        raise InputError("the estimate is not finite for these inputs", "input_tokens")
    return {
        "batch": int(result.batch[0]),
        "max_batch": int(result.max_batch[0]),
        "ttft_ms": ms(result.ttft_s),
        "tpot_ms": ms(result.tpot_s),
        "prefill_ms": ms(result.prefill_s),
        "decode_step_ms": ms(result.step_s),
        "requests_per_s": rps * replicas,
        "requests_per_s_per_replica": rps,
        "output_tokens_per_s": float(result.output_tokens_per_s[0]) * replicas,
        "memory_gb_per_gpu": float(result.memory_gb_per_gpu[0]),
        "weight_gb_per_gpu": float(result.weight_gb_per_gpu[0]),
        "kv_gb_per_sequence_per_gpu": float(result.kv_gb_per_sequence_per_gpu[0]),
        "bound": BOUND_NAMES[int(result.bound[0])],
    }


def estimate(
    model: str | ModelSpec,
    hardware: str,
    *,
    catalog: Catalog,
    precision: str = "bf16",
    kv_precision: str | None = None,
    tp: int = 1,
    batch: int | None = None,
    input_tokens: int,
    output_tokens: int,
    gpus: int | None = None,
    draft: str | None = None,
    acceptance_rate: float | None = None,
    draft_tokens: int | None = None,
    engine: str | None = None,
) -> Estimate:
    """Estimate ``model`` served at ``precision`` on ``hardware`` (see :func:`estimate_profile`);
    with ``draft``, ``acceptance_rate`` and ``draft_tokens``, decoded speculatively; ``engine``
    names the serving engine (default: the one the efficiency factors were fitted on)."""
    spec = resolve_model(model, catalog)
    profile = base_profile(spec, precision, kv_precision, catalog)
    if (draft, acceptance_rate, draft_tokens) != (None, None, None):
        profile = _speculative(profile, catalog, draft, acceptance_rate, draft_tokens)
    return estimate_profile(
        profile, hardware, catalog=catalog, tp=tp, batch=batch,
        input_tokens=input_tokens, output_tokens=output_tokens, gpus=gpus, engine=engine,
    )


def _speculative(profile: ServingProfile, catalog: Catalog, draft: str | None, acceptance_rate: float | None,
                 draft_tokens: int | None) -> ServingProfile:
    """The profile with a draft model, each argument checked and named when wrong."""
    for value, name in ((draft, "draft"), (acceptance_rate, "acceptance_rate"), (draft_tokens, "draft_tokens")):
        if value is None:
            raise InputError("speculative decoding needs --draft, --acceptance-rate and --draft-tokens together",
                             name)
    assert draft is not None and acceptance_rate is not None and draft_tokens is not None  # narrowed above
    if not 0 < acceptance_rate < 1:
        raise InputError(f"must be in (0, 1), got {acceptance_rate}", "acceptance_rate")
    _check_positive_int(draft_tokens, "draft_tokens", MAX_DRAFT_TOKENS)
    spec = resolve_model(draft, catalog, "draft")
    try:
        return with_draft(profile, spec, draft_tokens, acceptance_rate, option=f"{spec.slug}-draft{draft_tokens}",
                          source="given acceptance rate")
    except NotApplicable as exc:
        raise InputError(str(exc), "draft") from None
