"""Distillation: serve a smaller student trained on the base model's outputs.

Options are student slugs: every catalog model with fewer parameters than the base, plus the
scenario's own students (``technique_settings.distillation.students``: a ``config.json`` path and
a measured score).  A student that is not smaller than the base is refused.

* The served model becomes the student (architecture, parameters, KV cache).
* Quality: the student's measured score on the scenario's metric (catalog quality row, or the
  scenario's ``score``); failing both, ``base score × quality_retention`` (catalog rule, cited).
* One-time work: ``tokens · (6 · N_student + 2 · N_teacher)`` FLOPs (active parameters) — the
  student trains, the teacher runs forward — on the scenario's training hardware.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.hf_config import model_from_hf_config
from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.physics.profile import ServingProfile
from planner.physics.training import distillation_flops
from planner.scenario.schema import Workload
from techniques._params import Sourced, setting_or_catalog
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueContext, TechniqueSettings

EFFECTS = frozenset({Effect.MODEL, Effect.WEIGHT_BYTES, Effect.KV_BYTES, Effect.PREFILL_FLOPS, Effect.QUALITY,
                     Effect.ONE_TIME_COST})


class CustomStudent(TechniqueSettings):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=64)]
    config: Annotated[str, Field(min_length=1, description="path to the student's Hugging Face config.json")]
    score: Annotated[float, Field(ge=0, le=100, description="measured score on the scenario's quality metric")]


class DistillationSettings(TechniqueSettings):
    tokens: Annotated[float | None, Field(gt=0, le=1e15, description="distillation tokens (default: catalog)")] = None
    quality_retention: Annotated[float | None, Field(gt=0, le=1)] = None
    students: list[CustomStudent] = Field(default_factory=list)


class Distillation:
    name: ClassVar[str] = "distillation"
    summary: ClassVar[str] = "serve a smaller student distilled from the base model: one-time training, lower quality"
    order: ClassVar[int] = 10
    Settings: ClassVar[type[TechniqueSettings]] = DistillationSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo(slug, f"student {spec.name} ({spec.params_total / 1e9:.1f}B parameters)", EFFECTS)
                for slug, spec in sorted(catalog.models.items())]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        settings = cast(DistillationSettings, ctx.settings)
        teacher = ctx.base_model
        tokens = setting_or_catalog(settings.tokens, "technique_settings.distillation.tokens", ctx.catalog,
                                    self.name, "*", "tokens")
        students: dict[str, tuple[ModelSpec, Sourced | None]] = {}
        metric = ctx.scenario.quality.metric
        for slug, spec in ctx.catalog.models.items():
            row = ctx.catalog.quality_of(slug, metric)
            score = Sourced(row.score, f"catalog quality {slug}/{metric}: {row.source}") if row else None
            students[slug] = (spec, score)
        for i, custom in enumerate(settings.students):
            try:
                spec = model_from_hf_config(custom.config)
            except InputError as exc:
                raise InputError(exc.reason, f"technique_settings.distillation.students[{i}].config") from None
            spec = spec.model_copy(update={"slug": custom.name, "name": custom.name})
            students[custom.name] = (spec, Sourced(custom.score, f"scenario technique_settings.distillation."
                                                                 f"students[{custom.name}].score"))
        options: list[Option] = []
        unavailable: dict[str, str] = {}
        for slug, (spec, score) in sorted(students.items()):
            if slug == teacher.slug:
                continue
            if spec.params_total >= teacher.params_total:
                unavailable[slug] = (f"refused: the student {slug} ({spec.params_total / 1e9:.1f}B parameters) is not "
                                     f"smaller than the base {teacher.slug} ({teacher.params_total / 1e9:.1f}B)")
                continue
            if tokens is None:
                unavailable[slug] = "no distillation token budget: set technique_settings.distillation.tokens"
                continue
            retention = None
            if score is None:
                retention = setting_or_catalog(settings.quality_retention, "technique_settings.distillation."
                                               "quality_retention", ctx.catalog, self.name, "*", "quality_retention")
                if retention is None:
                    unavailable[slug] = f"{slug} has no {metric} score and no retention rule is set"
                    continue
            quality = score or retention
            assert quality is not None  # one of the two was found above (type narrowing only)
            options.append(Option(technique=self.name, name=slug, summary=f"student {spec.name}", effects=EFFECTS,
                                  apply=_make_transform(slug, spec, teacher, score, retention, tokens),
                                  sources=(spec.source, quality.source, tokens.source)))
        return OptionSet(tuple(options), unavailable)


def _make_transform(slug: str, student: ModelSpec, teacher: ModelSpec, score: Sourced | None,  # type: ignore[no-untyped-def]
                    retention: Sourced | None, tokens: Sourced):
    """``score``: the student's measured score; else ``retention`` × the current score."""
    flops = distillation_flops(tokens.value, student.params_active, teacher.params_active)

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        out = profile.changed("distillation", slug, student.source, model=student)
        if score is not None:
            out = out.changed("distillation", slug, score.source, quality_score=score.value)
        elif retention is not None and profile.quality_score is not None:
            out = out.changed("distillation", slug, retention.source,
                              quality_score=profile.quality_score * retention.value)
        return out.changed("distillation", slug, tokens.source, one_time_flops=out.one_time_flops + flops)

    return apply
