"""The serving profile: the model *as served* (architecture × precision × per-query work).

Techniques (see ``techniques/``) transform a :class:`ServingProfile` into another; the
roofline turns a profile on a hardware type into latency, throughput and memory.  This
module also resolves a precision on a hardware type: which dense peak computes it.

Precision support is hardware data.  When a chip has no tensor cores for a precision's
compute dtype (FP8 on A100, FP4 on H100, INT8 on a chip without INT8 figures), the
deployment still runs — weights stay stored at the precision's bits, as weight-only kernels
(e.g. Marlin FP8/FP4 on Ampere) do — but matrix maths runs at the BF16 rate.  The estimate
reports ``compute_dtype_used`` and ``precision_fallback`` so that the choice is visible.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from planner.catalog.schema import ComputeDtype, HardwareSpec, ModelSpec
from planner.catalog.store import Catalog
from planner.units import BYTES_PER_GB, FLOPS_PER_TFLOP, US_PER_SECOND

FALLBACK_COMPUTE_DTYPE: ComputeDtype = "bf16"


class TraceEntry(BaseModel):
    """One change an option made to a profile: which quantity, from what to what, on whose authority."""

    model_config = ConfigDict(frozen=True)

    technique: str
    option: str
    field: str
    before: float | str
    after: float | str
    source: str


class ServingProfile(BaseModel):
    """A model as served for one request class: what the roofline and the economics need.

    Quantities per query are for the class the profile was built for (caching depends on it).
    ``quality_score`` is on the scenario's quality metric.  One-time work is in FLOPs on the
    scenario's training hardware (priced later) plus any dollar amount; recurring cost is a
    fixed part per month plus a part per million queries reaching the system.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: ModelSpec
    precision: str
    weight_bits: Annotated[float, Field(ge=1, le=32)]
    compute_dtype: ComputeDtype
    kv_precision: str
    kv_bits: Annotated[float, Field(ge=1, le=32)]
    prefill_token_fraction: Annotated[float, Field(gt=0, le=1)] = 1.0
    served_query_fraction: Annotated[float, Field(gt=0, le=1)] = 1.0
    kv_shared_prefix_tokens: Annotated[float, Field(ge=0, le=1e8)] = 0.0
    extra_prefill_flops: Annotated[float, Field(ge=0, le=1e20)] = 0.0
    extra_memory_gb_per_replica: Annotated[float, Field(ge=0, le=10_000)] = 0.0
    quality_score: Annotated[float, Field(ge=0, le=100)] | None = None
    one_time_flops: Annotated[float, Field(ge=0, le=1e30)] = 0.0
    one_time_usd: Annotated[float, Field(ge=0, le=1e13)] = 0.0  # per variant: the largest any class states
    recurring_usd_per_month: Annotated[float, Field(ge=0, le=1e12)] = 0.0  # per variant: as one_time_usd
    recurring_usd_per_million_queries: Annotated[float, Field(ge=0, le=1e9)] = 0.0
    draft: ModelSpec | None = None  # speculative decoding's draft model (served at the same precision)
    draft_tokens: Annotated[int, Field(ge=0, le=64)] = 0  # γ: tokens the draft proposes per round
    acceptance_rate: Annotated[float, Field(ge=0, lt=1)] = 0.0  # α: per drafted token
    required_vendors: frozenset[str] | None = None
    required_native_dtypes: frozenset[ComputeDtype] = frozenset()
    provenance: tuple[str, ...] = ()
    trace: tuple[TraceEntry, ...] = ()

    def changed(self, technique: str, option: str, source: str, **updates: object) -> ServingProfile:
        """A copy with ``updates`` applied and one trace entry per changed field; a field without a
        value (None, e.g. a model with no quality score) reads "none", so setting or clearing one is
        traced too (a swap to a scored model from an unscored base was not)."""
        entries = []
        for name, after in updates.items():
            before = getattr(self, name)
            if name in ("model", "draft"):  # architectures are traced by slug
                before = before.slug if before is not None else "none"
                after_label = after.slug if after is not None else "none"  # type: ignore[attr-defined]
            else:
                before = "none" if before is None else before
                after_label = "none" if after is None else after
            if before == after_label:
                continue
            if isinstance(before, float | int | str) and isinstance(after_label, float | int | str):
                entries.append(TraceEntry(technique=technique, option=option, field=name, before=before,
                                          after=after_label, source=source))
        return self.model_copy(update={**updates, "trace": (*self.trace, *entries)})


def base_profile(model: ModelSpec, precision: str, kv_precision: str | None, catalog: Catalog) -> ServingProfile:
    """Profile of ``model`` served at ``precision`` (KV default: the precision's ``default_kv``)."""
    prec = catalog.get_precision(precision, "precision")
    kv = catalog.get_kv_precision(kv_precision or prec.default_kv, "kv_precision")
    return ServingProfile(
        model=model,
        precision=prec.slug,
        weight_bits=prec.weight_bits,
        compute_dtype=prec.compute_dtype,
        kv_precision=kv.slug,
        kv_bits=kv.bits,
        provenance=(
            f"model {model.slug}: {model.source}",
            f"precision {prec.slug}: {prec.source}",
            f"kv {kv.slug}: {kv.source}",
        ),
    )


def compute_dtype_on(hardware: HardwareSpec, dtype: ComputeDtype) -> ComputeDtype:
    """The dtype whose peak actually computes ``dtype`` on ``hardware`` (fallback: BF16)."""
    return dtype if hardware.peak_tflops(dtype) is not None else FALLBACK_COMPUTE_DTYPE


def model_columns(profile: ServingProfile) -> dict[str, float]:
    """Roofline input columns that depend on the profile only."""
    m = profile.model
    return {
        "params_total": m.params_total,
        "params_active": m.params_active,
        "layers": m.layers,
        "d_model": m.d_model,
        "attention_heads": m.attention_heads,
        "kv_heads": m.kv_heads,
        "head_dim": m.head_dim,
        "kv_latent_dim": float(m.kv_latent_dim or 0),
        "kv_latent_value_dim": float((m.kv_latent_dim or 0) - (m.kv_latent_rope_dim or 0)),
        "vocab_size": m.vocab_size,
        "tied_embeddings": 1.0 if m.tied_embeddings else 0.0,
        "experts": m.experts,
        "experts_per_token": m.experts_per_token,
        "weight_bits": profile.weight_bits,
        "kv_bits": profile.kv_bits,
        "prefill_token_fraction": profile.prefill_token_fraction,
        "kv_shared_prefix_tokens": profile.kv_shared_prefix_tokens,
        "extra_prefill_flops": profile.extra_prefill_flops,
        "extra_memory_bytes": profile.extra_memory_gb_per_replica * BYTES_PER_GB,
        **draft_columns(profile),
    }


def draft_columns(profile: ServingProfile) -> dict[str, float]:
    """The speculative-decoding columns (all zero without a draft)."""
    d = profile.draft
    if d is None or profile.draft_tokens == 0:
        return {"draft_tokens": 0.0, "acceptance_rate": 0.0, "draft_params_total": 0.0, "draft_embed_params": 0.0,
                "draft_compute_params": 0.0, "draft_layers": 0.0, "draft_d_model": 0.0,
                "draft_kv_elems_per_token": 0.0}
    vd = d.vocab_size * d.d_model
    per_layer = d.kv_latent_dim if d.kv_latent_dim else 2 * d.kv_heads * d.head_dim
    return {
        "draft_tokens": float(profile.draft_tokens),
        "acceptance_rate": profile.acceptance_rate,
        "draft_params_total": d.params_total,
        "draft_embed_params": vd if d.tied_embeddings else 2.0 * vd,
        "draft_compute_params": d.params_active - (0.0 if d.tied_embeddings else vd),
        "draft_layers": float(d.layers),
        "draft_d_model": float(d.d_model),
        "draft_kv_elems_per_token": float(d.layers * per_layer),
    }


def hardware_columns(hardware: HardwareSpec, profile: ServingProfile, catalog: Catalog,
                     engine: str | None = None, engine_field: str = "engine") -> dict[str, float]:
    r"""Roofline input columns that depend on the hardware (and on the precision and engine run on it).

    An engine other than the one the efficiency row was fitted on runs at ``s`` = its catalog speed
    relative to that engine (:meth:`Catalog.engine_speed`): ``η_c ← min(1, s·η_c)``, ``η_m ← min(1, s·η_m)``,
    ``η_kv ← min(1, s·η_kv)`` and the fixed per-pass times ``τ ← τ / s``.
    """
    dtype = compute_dtype_on(hardware, profile.compute_dtype)
    peak_tflops = hardware.peak_tflops(dtype) or hardware.peak_bf16_dense_tflops
    eff = catalog.efficiency_for(hardware.slug, profile.precision)
    kv_eff = catalog.efficiency_for(hardware.slug, "*")
    _, speed = catalog.engine_speed(engine, hardware.slug, eff, engine_field)
    d = catalog.defaults
    return {
        "peak_flops_per_s": peak_tflops * FLOPS_PER_TFLOP,
        "memory_bandwidth_bytes_per_s": hardware.memory_bandwidth_gb_s * BYTES_PER_GB,
        "memory_bytes": hardware.memory_bytes,
        # vendors quote bidirectional scale-up bandwidth; a ring all-reduce streams one direction
        "link_bytes_per_s": hardware.scaleup_bandwidth_gb_s * BYTES_PER_GB / 2.0,
        "domain_gpus": hardware.scaleup_domain_gpus,
        "compute_efficiency": min(1.0, eff.compute * speed),
        "memory_efficiency": min(1.0, eff.memory * speed),
        "kv_memory_efficiency": min(1.0, kv_eff.memory * speed),
        "comm_efficiency": d.comm_efficiency,
        "allreduce_latency_s": d.allreduce_latency_us / US_PER_SECOND,
        "step_fixed_s": d.decode_step_fixed_us / US_PER_SECOND / speed,
        "layer_fixed_s": d.layer_fixed_us / US_PER_SECOND / speed,
        "moe_layer_fixed_s": d.moe_layer_fixed_us / US_PER_SECOND / speed,
        "decode_overlap_norm": d.decode_overlap_norm,
        "kv_free_memory_fraction": d.kv_free_memory_fraction,
        "max_batch": d.max_batch,
        "kv_reserved_output_fraction": d.kv_reserved_output_fraction,
        "embedding_bits": d.unquantized_embedding_bits,
        "comm_bits": d.comm_activation_bits,
    }

