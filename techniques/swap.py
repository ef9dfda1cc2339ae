"""Model swap (``swap``): serve a different off-the-shelf catalog model instead of the base.

A swap is not a technique applied to the base model: it replaces it by another published model,
with **that model's own** published score (its catalog ``[[quality]]`` row on the scenario's
metric) and no training bill.  It is therefore offered **only when the scenario asks for it**:
``[techniques] swap = ["none", "<catalog model slug>", ...]`` lists the models allowed.  With
``swap`` left out of ``[techniques]`` nothing is offered (unlike the other techniques, whose
omission allows all their options).

* The served model becomes the named catalog model (architecture, parameters, KV cache).
* Quality: the catalog's score of that model on the scenario's metric, with the row's source and
  setting (flagged in the trace when it differs from the base model's row, e.g. 0-shot CoT against
  5-shot).  A model without one is unavailable while the base has a score (the quality floor could
  not be checked).
* One-time cost: none (weights are downloaded, not trained).
"""

from __future__ import annotations

from typing import ClassVar

from planner.catalog.schema import ModelSpec, QualityRow
from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Workload
from techniques.base import NONE_OPTION, Effect, Option, OptionInfo, OptionSet, TechniqueContext, TechniqueSettings

EFFECTS = frozenset({Effect.MODEL, Effect.WEIGHT_BYTES, Effect.KV_BYTES, Effect.PREFILL_FLOPS, Effect.QUALITY})


class SwapSettings(TechniqueSettings):
    """No settings: the models allowed are listed in ``[techniques] swap``."""


class ModelSwap:
    name: ClassVar[str] = "swap"
    summary: ClassVar[str] = ("serve another off-the-shelf catalog model with its own published score, no training; "
                              "offered only for models the scenario lists under techniques.swap")
    order: ClassVar[int] = 5
    Settings: ClassVar[type[TechniqueSettings]] = SwapSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo(slug, f"serve {spec.name} as published (its own score; only when listed)", EFFECTS)
                for slug, spec in sorted(catalog.models.items())]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        listed = [s for s in ctx.scenario.techniques.get(self.name, []) if s != NONE_OPTION]
        metric = ctx.scenario.quality.metric
        base = ctx.base_model
        base_scored = ctx.scenario.quality.base_score is not None or ctx.catalog.quality_of(base.slug, metric) is not None
        options: list[Option] = []
        unavailable: dict[str, str] = {}
        for slug in sorted(set(listed)):
            spec = ctx.catalog.models.get(slug)
            if spec is None:
                continue  # not a catalog model: the planner reports the unknown option with the known ones
            if slug == base.slug:
                unavailable[slug] = f"{slug} is the base model"
                continue
            row = ctx.catalog.quality_of(slug, metric)
            if row is None and base_scored:
                unavailable[slug] = (f"no {metric} score for {slug} in the catalog: add a [[quality]] row "
                                     f"(model = \"{slug}\", metric = \"{metric}\") with its source")
                continue
            base_row = ctx.catalog.quality_of(base.slug, metric)
            caveat = (f"; not the base's setting ({base_row.setting}): compare with care"
                      if row and base_row and row.setting != base_row.setting else "")
            options.append(Option(technique=self.name, name=slug, summary=f"serve {spec.name} (published model)",
                                  effects=EFFECTS, apply=_make_transform(slug, spec, row, caveat),
                                  conflicts_with=frozenset({"distillation:*", "moe:*"}),
                                  sources=(spec.source, *((row.source,) if row else ()))))
        return OptionSet(tuple(options), unavailable)


def _make_transform(slug: str, spec: ModelSpec, row: QualityRow | None, caveat: str):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        out = profile.changed("swap", slug, f"catalog model {slug}: {spec.source}", model=spec)
        if row is not None:
            out = out.changed("swap", slug, f"catalog quality {slug}/{row.metric} ({row.setting}{caveat}): "
                                            f"{row.source} [{row.source_date}]", quality_score=row.score)
        return out

    return apply
