"""Quantization: weight/activation precision (``quantization``) and KV-cache precision (``kv_quantization``).

Option names are precision slugs of ``catalogs/precisions.toml`` (``fp8``, ``int8``, ``w4a16``,
``w4a8``, ``fp4``) and KV precisions prefixed ``kv-`` (``kv-fp8``, ``kv-int4``).

* Bytes and compute: the profile's weight bits, compute dtype and KV bits change; the roofline
  uses the new peak where the hardware has it (else the BF16 rate, see ``planner/physics/profile.py``;
  ``allow_precision_fallback = false`` turns such pairings into exclusions instead).
* Quality: ``score × quality_retention`` — the retention measured for the option on models of the
  same size class (``catalogs/techniques.toml``), or given in the scenario.  An option with no
  published retention is not offered until the scenario supplies one.
* One-time work: post-training calibration runs ``calibration_tokens`` through the model:
  ``2 · N_active · tokens`` FLOPs on the training hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Workload
from planner.units import FORWARD_FLOPS_PER_PARAM_TOKEN
from techniques._params import Sourced, catalog_value, setting_or_catalog
from techniques.base import (
    Effect,
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


def _options_with_retention(
    technique: str, infos: list[OptionInfo], overrides: dict[str, float], ctx: TechniqueContext,
    build: Callable[[OptionInfo, Sourced], Option],
) -> OptionSet:
    """Offer each option whose quality retention is known (scenario first, then catalog)."""
    size = size_class(ctx.base_model, ctx.catalog, "quantization")
    options: list[Option] = []
    unavailable: dict[str, str] = {}
    for info in infos:
        retention = setting_or_catalog(overrides.get(info.name),
                                       f"technique_settings.{technique}.quality_retention.{info.name}",
                                       ctx.catalog, technique, info.name, "quality_retention", size)
        if retention is None:
            unavailable[info.name] = _missing_retention(technique, info.name, size)
        else:
            options.append(build(info, retention))
    return OptionSet(tuple(options), unavailable)


def _scaled_score(profile: ServingProfile, retention: Sourced) -> float | None:
    return None if profile.quality_score is None else profile.quality_score * retention.value


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

        def build(info: OptionInfo, retention: Sourced) -> Option:
            calibration = catalog_value(ctx.catalog, self.name, info.name, "calibration_tokens")
            precision = ctx.catalog.precisions[info.name]
            native = frozenset() if settings.allow_precision_fallback else frozenset({precision.compute_dtype})
            return Option(
                technique=self.name, name=info.name, summary=info.summary, effects=info.effects,
                apply=_make_weight_transform(ctx.catalog, info.name, retention, calibration),
                native_dtypes=native,
                sources=tuple(s.source for s in (retention, calibration) if s is not None) + (precision.source,),
            )

        return _options_with_retention(self.name, self.describe(ctx.catalog), settings.quality_retention, ctx, build)


def _make_weight_transform(catalog: Catalog, option: str, retention: Sourced, calibration: Sourced | None):  # type: ignore[no-untyped-def]
    precision = catalog.precisions[option]
    kv = catalog.kv_precisions[precision.default_kv]

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        calib_flops = (FORWARD_FLOPS_PER_PARAM_TOKEN * profile.model.params_active * calibration.value
                       if calibration else 0.0)
        out = profile.changed("quantization", option, precision.source, precision=precision.slug,
                              weight_bits=precision.weight_bits, compute_dtype=precision.compute_dtype)
        out = out.changed("quantization", option, kv.source, kv_precision=kv.slug, kv_bits=kv.bits)
        score = _scaled_score(out, retention)
        if score is not None:
            out = out.changed("quantization", option, retention.source, quality_score=score)
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

        def build(info: OptionInfo, retention: Sourced) -> Option:
            return Option(technique=self.name, name=info.name, summary=info.summary, effects=info.effects,
                          apply=_make_kv_transform(ctx.catalog, info.name, retention), sources=(retention.source,))

        return _options_with_retention(self.name, self.describe(ctx.catalog), settings.quality_retention, ctx, build)


def _make_kv_transform(catalog: Catalog, option: str, retention: Sourced):  # type: ignore[no-untyped-def]
    kv = catalog.kv_precisions[KV_OPTIONS[option]]

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        if profile.kv_bits <= kv.bits:  # already as small: the option changes nothing
            return profile
        out = profile.changed("kv_quantization", option, kv.source, kv_precision=kv.slug, kv_bits=kv.bits)
        score = _scaled_score(out, retention)
        return out if score is None else out.changed("kv_quantization", option, retention.source, quality_score=score)

    return apply
