"""Quantization: weight/activation precision (``quantization``) and KV-cache precision (``kv_quantization``).

Option names are precision slugs of ``catalogs/precisions.toml`` (``fp8``, ``int8``, ``w4a16``,
``w4a8``, ``fp4``) and KV precisions prefixed ``kv-`` (``kv-fp8``, ``kv-int4``).

* Bytes and compute: the profile's weight bits, compute dtype and KV bits change; the roofline
  uses the new peak where the hardware has it (else the BF16 rate, see ``planner/physics/profile.py``;
  ``allow_precision_fallback = false`` turns such pairings into exclusions instead).
* Quality: ``score × quality_retention`` — the retention measured for the option on models of the
  same size class as the model served (``catalogs/techniques.toml``; the distilled student's class
  when the model is swapped, not the base model's), or given in the scenario.  An option with no
  published retention for the base model's class is not offered until the scenario supplies one; a
  combination whose served model's class has none is excluded (``incompatible``), never scored with
  another class's retention.
* One-time work: post-training calibration runs ``calibration_tokens`` through the model:
  ``2 · N_active · tokens`` FLOPs on the training hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Workload
from planner.units import FORWARD_FLOPS_PER_PARAM_TOKEN
from techniques._params import Sourced, catalog_value, setting_or_catalog
from techniques.base import (
    Effect,
    NotApplicable,
    Option,
    OptionInfo,
    OptionSet,
    TechniqueContext,
    TechniqueSettings,
    size_class,
)

Retention = Annotated[float, Field(gt=0, le=1)]
WEIGHT_OPTIONS = ("fp8", "int8", "w4a16", "w4a8", "fp4")
KV_OPTIONS = {"kv-fp8": "fp8", "kv-int4": "int4"}


class QuantizationSettings(TechniqueSettings):
    quality_retention: dict[str, Retention] = Field(
        default_factory=dict, description="option -> share of the base score kept (overrides the catalog)")
    allow_precision_fallback: bool = Field(
        default=True, description="run a precision at the BF16 rate on hardware without its tensor cores")


class KvQuantizationSettings(TechniqueSettings):
    quality_retention: dict[str, Retention] = Field(default_factory=dict)


def _missing_retention(technique: str, option: str, size: str) -> str:
    return (f"no published quality retention for '{option}' on {size} models in catalogs/techniques.toml; "
            f"set technique_settings.{technique}.quality_retention.{option}")


#: The served model's quality retention for an option: its size class's row, or None (with that class).
RetentionOf = Callable[[ModelSpec], tuple[Sourced | None, str]]


def _options_with_retention(
    technique: str, infos: list[OptionInfo], overrides: dict[str, float], ctx: TechniqueContext,
    build: Callable[[OptionInfo, RetentionOf], Option],
) -> OptionSet:
    """Offer each option whose quality retention is known for the base model (scenario first, then
    catalog); its transform reads the retention of the model it is applied to."""
    options: list[Option] = []
    unavailable: dict[str, str] = {}
    for info in infos:
        def retention_of(model: ModelSpec, option: str = info.name) -> tuple[Sourced | None, str]:
            size = size_class(model, ctx.catalog, "quantization")
            path = f"technique_settings.{technique}.quality_retention.{option}"
            return setting_or_catalog(overrides.get(option), path, ctx.catalog, technique, option,
                                      "quality_retention", size), size

        retention, size = retention_of(ctx.base_model)
        if retention is None:
            unavailable[info.name] = _missing_retention(technique, info.name, size)
        else:
            options.append(build(info, retention_of))
    return OptionSet(tuple(options), unavailable)


def _retained(profile: ServingProfile, technique: str, option: str, retention_of: RetentionOf) -> ServingProfile:
    """``profile`` with its score × the retention of the model it serves (NotApplicable without one)."""
    if profile.quality_score is None:  # no score to scale (quality unconstrained)
        return profile
    retention, size = retention_of(profile.model)
    if retention is None:
        raise NotApplicable(f"{profile.model.slug}: {_missing_retention(technique, option, size)}")
    return profile.changed(technique, option, retention.source, quality_score=profile.quality_score * retention.value)


class Quantization:
    name: ClassVar[str] = "quantization"
    summary: ClassVar[str] = "weight/activation precision: fewer bytes per weight, faster tensor cores, some quality loss"
    order: ClassVar[int] = 30
    Settings: ClassVar[type[TechniqueSettings]] = QuantizationSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        effects = frozenset({Effect.WEIGHT_BYTES, Effect.COMPUTE_DTYPE, Effect.KV_BYTES, Effect.QUALITY,
                             Effect.ONE_TIME_COST})
        return [OptionInfo(o, catalog.precisions[o].description, effects) for o in WEIGHT_OPTIONS
                if o in catalog.precisions]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        settings = cast(QuantizationSettings, ctx.settings)

        def build(info: OptionInfo, retention_of: RetentionOf) -> Option:
            calibration = catalog_value(ctx.catalog, self.name, info.name, "calibration_tokens")
            precision = ctx.catalog.precisions[info.name]
            native = frozenset() if settings.allow_precision_fallback else frozenset({precision.compute_dtype})
            retention = retention_of(ctx.base_model)[0]
            return Option(
                technique=self.name, name=info.name, summary=info.summary, effects=info.effects,
                apply=_make_weight_transform(ctx.catalog, info.name, retention_of, calibration),
                native_dtypes=native,
                sources=tuple(s.source for s in (retention, calibration) if s is not None) + (precision.source,),
            )

        return _options_with_retention(self.name, self.describe(ctx.catalog), settings.quality_retention, ctx, build)


def _make_weight_transform(catalog: Catalog, option: str, retention_of: RetentionOf,  # type: ignore[no-untyped-def]
                           calibration: Sourced | None):
    precision = catalog.precisions[option]
    kv = catalog.kv_precisions[precision.default_kv]

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        calib_flops = (FORWARD_FLOPS_PER_PARAM_TOKEN * profile.model.params_active * calibration.value
                       if calibration else 0.0)
        out = profile.changed("quantization", option, precision.source, precision=precision.slug,
                              weight_bits=precision.weight_bits, compute_dtype=precision.compute_dtype)
        out = out.changed("quantization", option, kv.source, kv_precision=kv.slug, kv_bits=kv.bits)
        out = _retained(out, "quantization", option, retention_of)
        if calibration:
            out = out.changed("quantization", option, calibration.source,
                              one_time_flops=out.one_time_flops + calib_flops)
        return out

    return apply


class KvQuantization:
    name: ClassVar[str] = "kv_quantization"
    summary: ClassVar[str] = "KV-cache precision: fewer bytes per cached token (bigger batches, faster long contexts)"
    order: ClassVar[int] = 35
    Settings: ClassVar[type[TechniqueSettings]] = KvQuantizationSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        effects = frozenset({Effect.KV_BYTES, Effect.QUALITY})
        return [OptionInfo(o, f"KV cache stored as {kv} ({catalog.kv_precisions[kv].bits:g} bits)", effects)
                for o, kv in KV_OPTIONS.items() if kv in catalog.kv_precisions]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        settings = cast(KvQuantizationSettings, ctx.settings)

        def build(info: OptionInfo, retention_of: RetentionOf) -> Option:
            retention = retention_of(ctx.base_model)[0]
            return Option(technique=self.name, name=info.name, summary=info.summary, effects=info.effects,
                          apply=_make_kv_transform(ctx.catalog, info.name, retention_of),
                          sources=(retention.source,) if retention else ())

        return _options_with_retention(self.name, self.describe(ctx.catalog), settings.quality_retention, ctx, build)


def _make_kv_transform(catalog: Catalog, option: str, retention_of: RetentionOf):  # type: ignore[no-untyped-def]
    kv = catalog.kv_precisions[KV_OPTIONS[option]]

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        if profile.kv_bits <= kv.bits:  # already as small: the option changes nothing
            return profile
        out = profile.changed("kv_quantization", option, kv.source, kv_precision=kv.slug, kv_bits=kv.bits)
        return _retained(out, "kv_quantization", option, retention_of)

    return apply
