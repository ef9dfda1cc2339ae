"""Distillation: serve a smaller student trained on the base model's (the teacher's) outputs.

Options are student **architectures**: every catalog model with fewer parameters than the base,
plus the scenario's own students (``technique_settings.distillation.students``: a ``config.json``
path and a measured score).  The catalog model only gives the student's size and shape; it is not
the model served.  A student that is not smaller than the base is refused.  Serving an
off-the-shelf model with its own published score is a different option: ``swap`` (see
:mod:`techniques.swap`).

* The served model becomes the student (architecture, parameters, KV cache).
* Quality = teacher score × retention, the retention and the token budget taken together from
  one of (first found):

  1. the scenario: a custom student's ``score`` (its measured score), or
     ``technique_settings.distillation.quality_retention``, each with
     ``technique_settings.distillation.tokens`` (the budget that result was reached with);
  2. a **published distillation result** in ``catalogs/techniques.toml`` (rows
     ``technique = "distillation"``, ``option`` = the result, keys ``quality_retention``,
     ``student_params_fraction``, ``tokens``): for a student of ``f = N_student / N_teacher``
     (total parameters) the result with the largest ``student_params_fraction ≤ f`` — a run that
     compressed at least as much, so what it kept is taken as what this student keeps (retention
     is assumed not to fall as the student grows relative to its teacher).  Its ``tokens`` are the
     bill; a scenario ``tokens`` below them is refused (the retention was not shown at a smaller
     budget), at or above them it replaces the bill.

  No result compresses as far as ``f`` → the option is unavailable, with the setting to give.
  The student's own published score (a model trained independently on trillions of tokens) is
  never used.
* One-time work: ``tokens · (6 · N_student + 2 · N_teacher)`` FLOPs (active parameters) — the
  student trains, the teacher runs forward — on the scenario's training hardware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.hf_config import model_from_hf_config
from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.errors import CatalogError, InputError
from planner.physics.profile import ServingProfile
from planner.physics.training import distillation_flops
from planner.scenario.schema import Workload
from techniques._params import Sourced, catalog_value
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueContext, TechniqueSettings

EFFECTS = frozenset({Effect.MODEL, Effect.WEIGHT_BYTES, Effect.KV_BYTES, Effect.PREFILL_FLOPS, Effect.QUALITY,
                     Effect.ONE_TIME_COST})
SETTINGS_PATH = "technique_settings.distillation"
#: the catalog keys of one published result (``option`` = the result's slug)
RESULT_KEYS = ("quality_retention", "student_params_fraction", "tokens")


class CustomStudent(TechniqueSettings):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=64)]
    config: Annotated[str, Field(min_length=1, description="path to the student's Hugging Face config.json")]
    score: Annotated[float, Field(ge=0, le=100, description="the distilled student's measured score on the "
                                                            "scenario's quality metric (needs tokens)")]


class DistillationSettings(TechniqueSettings):
    tokens: Annotated[float | None, Field(gt=0, le=1e15, description=(
        "distillation tokens: the bill (default: the published result's budget); required with "
        "quality_retention or a custom student's score"))] = None
    quality_retention: Annotated[float | None, Field(gt=0, le=1, description=(
        "share of the teacher's score every student keeps at `tokens` (default: the published result that "
        "applies)"))] = None
    students: list[CustomStudent] = Field(default_factory=list)


@dataclass(frozen=True)
class PublishedResult:
    """One published distillation run: what the student kept, how much it was compressed, on what budget."""

    slug: str
    retention: Sourced
    fraction: float
    tokens: Sourced


def published_results(catalog: Catalog) -> list[PublishedResult]:
    """The catalog's published distillation results (a result missing one of its rows is a catalog error)."""
    slugs = sorted({opt for (tech, opt, key, _) in catalog.technique_params
                    if tech == "distillation" and opt != "*" and key in RESULT_KEYS})
    results = []
    for slug in slugs:
        found = {key: catalog_value(catalog, "distillation", slug, key) for key in RESULT_KEYS}
        missing = [key for key, value in found.items() if value is None or f"/{slug}/" not in value.source]
        if missing:
            raise CatalogError(f"a published distillation result needs the keys {', '.join(RESULT_KEYS)}; "
                               f"missing: {', '.join(missing)}", f"technique_param[distillation/{slug}]")
        retention, fraction, tokens = (cast(Sourced, found[k]) for k in RESULT_KEYS)
        results.append(PublishedResult(slug, retention, fraction.value, tokens))
    return results


def applicable_result(results: list[PublishedResult], fraction: float,
                      min_tokens: float | None = None) -> PublishedResult | None:
    """The result compressed at least as far as ``fraction`` with the largest fraction (fewest tokens on a tie),
    among those whose budget is at most ``min_tokens`` when given."""
    fits = [r for r in results if r.fraction <= fraction and (min_tokens is None or r.tokens.value <= min_tokens)]
    return max(fits, key=lambda r: (r.fraction, -r.tokens.value, r.slug), default=None)


class Distillation:
    name: ClassVar[str] = "distillation"
    summary: ClassVar[str] = ("distil the base into a smaller student architecture: quality = teacher x published "
                              "retention at its token budget, one-time training")
    order: ClassVar[int] = 10
    Settings: ClassVar[type[TechniqueSettings]] = DistillationSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo(slug, f"student with the architecture of {spec.name} ({spec.params_total / 1e9:.1f}B "
                                 f"parameters); quality = teacher x retention", EFFECTS)
                for slug, spec in sorted(catalog.models.items())]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        settings = cast(DistillationSettings, ctx.settings)
        teacher = ctx.base_model
        results = published_results(ctx.catalog)
        students: dict[str, tuple[ModelSpec, Sourced | None]] = {slug: (spec, None)
                                                                 for slug, spec in ctx.catalog.models.items()}
        for i, custom in enumerate(settings.students):
            try:
                spec = model_from_hf_config(custom.config)
            except InputError as exc:
                raise InputError(exc.reason, f"{SETTINGS_PATH}.students[{i}].config") from None
            spec = spec.model_copy(update={"slug": custom.name, "name": custom.name})
            students[custom.name] = (spec, Sourced(custom.score, f"scenario {SETTINGS_PATH}.students[{custom.name}]"
                                                                 f".score"))
        tokens = (Sourced(float(settings.tokens), f"scenario {SETTINGS_PATH}.tokens")
                  if settings.tokens is not None else None)
        retention = (Sourced(float(settings.quality_retention), f"scenario {SETTINGS_PATH}.quality_retention")
                     if settings.quality_retention is not None else None)
        options: list[Option] = []
        unavailable: dict[str, str] = {}
        for slug, (spec, score) in sorted(students.items()):
            if slug == teacher.slug:
                continue
            if spec.params_total >= teacher.params_total:
                unavailable[slug] = (f"refused: the student {slug} ({spec.params_total / 1e9:.1f}B parameters) is not "
                                     f"smaller than the base {teacher.slug} ({teacher.params_total / 1e9:.1f}B)")
                continue
            fraction = spec.params_total / teacher.params_total
            if score is not None or retention is not None:
                if tokens is None:
                    given = "the student's score" if score is not None else "quality_retention"
                    unavailable[slug] = (f"{given} is given without the budget it was reached with: "
                                         f"set {SETTINGS_PATH}.tokens")
                    continue
                option = self._option(slug, spec, teacher, score, retention if score is None else None, tokens,
                                      f"student {spec.name} (scenario figures)")
            else:
                result = applicable_result(results, fraction, settings.tokens)
                if result is None:
                    unavailable[slug] = _no_result_reason(results, slug, teacher.slug, fraction, settings.tokens)
                    continue
                basis = (f"published distillation result {result.slug} (student/teacher "
                         f"{result.fraction:.4g} <= {fraction:.4g}): {result.retention.source}")
                option = self._option(slug, spec, teacher, None, Sourced(result.retention.value, basis),
                                      tokens or result.tokens,
                                      f"student {spec.name}, keeps {result.retention.value:.4g} of the teacher "
                                      f"({result.slug})")
            options.append(option)
        return OptionSet(tuple(options), unavailable)

    def _option(self, slug: str, spec: ModelSpec, teacher: ModelSpec, score: Sourced | None,
                retention: Sourced | None, tokens: Sourced, summary: str) -> Option:
        quality = score or retention
        sources = (spec.source, *((quality.source,) if quality else ()), tokens.source)
        return Option(technique=self.name, name=slug, summary=summary, effects=EFFECTS,
                      apply=_make_transform(slug, spec, teacher, score, retention, tokens),
                      conflicts_with=frozenset({"swap:*"}), sources=sources)


def _no_result_reason(results: list[PublishedResult], slug: str, teacher: str, fraction: float,
                      tokens: float | None) -> str:
    most = min(results, key=lambda r: r.fraction, default=None)
    published = (f"the most compressed published result is {most.slug} at {most.fraction:.4g}" if most
                 else "the catalog holds no published distillation result")
    budget = f" with at most {tokens:g} tokens" if tokens is not None else ""
    return (f"no published distillation result{budget} compresses a teacher as far as {slug} from {teacher} "
            f"(student/teacher {fraction:.4g}; {published}): set {SETTINGS_PATH}.quality_retention and "
            f"{SETTINGS_PATH}.tokens from your own distillation run")


def _make_transform(slug: str, student: ModelSpec, teacher: ModelSpec, score: Sourced | None,  # type: ignore[no-untyped-def]
                    retention: Sourced | None, tokens: Sourced):
    """``score``: the student's measured score; else ``retention`` × the teacher's (current) score."""
    flops = distillation_flops(tokens.value, student.params_active, teacher.params_active)

    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        out = profile.changed("distillation", slug, f"student architecture of {student.slug}: {student.source}",
                              model=student)
        if score is not None:
            out = out.changed("distillation", slug, score.source, quality_score=score.value)
        elif retention is not None and profile.quality_score is not None:
            out = out.changed("distillation", slug,
                              f"teacher {profile.quality_score:g} x retention {retention.value:g}; {retention.source}",
                              quality_score=profile.quality_score * retention.value)
        return out.changed("distillation", slug, tokens.source, one_time_flops=out.one_time_flops + flops)

    return apply
