r"""Speculative decoding (``speculative``): a small draft model proposes tokens, the served model
verifies them in one pass (Leviathan, Kalman & Matias, "Fast Inference from Transformers via
Speculative Decoding", ICML 2023, arXiv 2211.17192).

* Options are ``<draft>-draft<γ>``: a catalog model as the draft, proposing ``γ`` tokens per round.
  The scenario names the drafts (``technique_settings.speculative.drafts``) — nothing is offered
  until it does — and may give each its measured per-token acceptance rate ``α`` (with the source)
  and the ``γ`` values to try.  Without them the catalog's published figures apply: ``α = 0.75`` at
  ``γ = 7`` (Leviathan et al. Tables 2–3: T5-XXL with T5-small, and LaMDA 137B with an 8B draft),
  marked uncertain in the catalog and traced as such.  Acceptance depends on the pair and the
  traffic: measure your own when you can.
* The roofline turns ``α`` and ``γ`` into ``E = (1 − α^{γ+1}) / (1 − α)`` tokens per target pass
  (the paper's eq. 1) and prices the draft's steps, weights, KV cache and prefill on the same GPUs
  (see :mod:`planner.physics.roofline`): it pays at small batch, where a pass is memory-bound and
  verifying ``γ+1`` tokens costs about what one costs, and stops paying as the batch grows.
* Quality does not change: speculative sampling returns exactly the target's output distribution
  (the paper's §2.3, proved in its appendix), so ``quality_score`` is left as it is.
* The draft runs at the served precision and must share the served model's tokenizer (checked as
  equal vocabulary size) and be smaller than it — also after distillation, which may have made
  the served model smaller: such a variant is excluded with the reason.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, cast

from pydantic import Field, model_validator

from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.physics.speculation import MAX_DRAFT_TOKENS, PAPER, with_draft
from planner.scenario.schema import Workload
from techniques._params import Sourced, catalog_value
from techniques.base import (
    Effect,
    Option,
    OptionInfo,
    OptionSet,
    TechniqueContext,
    TechniqueSettings,
)

EFFECTS = frozenset({Effect.DECODE_STEPS, Effect.PREFILL_FLOPS, Effect.MEMORY})
SETTINGS_PATH = "technique_settings.speculative"


class Draft(TechniqueSettings):
    model: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=64, description="catalog model slug")]
    acceptance_rate: Annotated[float | None, Field(gt=0, lt=1, description="measured per-token acceptance α for "
                                                                            "this target and traffic (default: "
                                                                            "catalog)")] = None
    draft_tokens: Annotated[list[Annotated[int, Field(ge=1, le=MAX_DRAFT_TOKENS)]] | None,
                            Field(min_length=1, max_length=8, description="γ values to try (default: catalog)")] = None
    source: Annotated[str | None, Field(min_length=1, max_length=1000,
                                        description="where acceptance_rate was measured")] = None

    @model_validator(mode="after")
    def _measured_somewhere(self) -> Draft:
        if self.acceptance_rate is not None and self.source is None:
            raise ValueError("an acceptance_rate needs its source (where it was measured)")
        return self


class SpeculativeSettings(TechniqueSettings):
    drafts: list[Draft] = Field(default_factory=list)


class Speculative:
    name: ClassVar[str] = "speculative"
    summary: ClassVar[str] = ("speculative decoding with a draft model: fewer target passes per token at small "
                              "batch, the draft's memory and steps on the same GPUs, quality unchanged")
    order: ClassVar[int] = 60
    Settings: ClassVar[type[TechniqueSettings]] = SpeculativeSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo("<draft>-draft<n>", "a smaller catalog model of the same tokenizer drafts n tokens per "
                                             f"round (name it in {SETTINGS_PATH}.drafts)", EFFECTS)]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        settings = cast(SpeculativeSettings, ctx.settings)
        options: list[Option] = []
        unavailable: dict[str, str] = {}
        if not settings.drafts:
            unavailable["<draft>-draft<n>"] = f"no draft model named: set {SETTINGS_PATH}.drafts (model = a catalog slug)"
        for i, d in enumerate(settings.drafts):
            path = f"{SETTINGS_PATH}.drafts[{i}]"
            draft = ctx.catalog.get_model(d.model, f"{path}.model")
            alpha = (Sourced(d.acceptance_rate, f"scenario {path}.acceptance_rate: {d.source}")
                     if d.acceptance_rate is not None
                     else catalog_value(ctx.catalog, self.name, "*", "acceptance_rate"))
            default_gamma = catalog_value(ctx.catalog, self.name, "*", "draft_tokens")
            gammas = d.draft_tokens or ([int(default_gamma.value)] if default_gamma is not None else [])
            if alpha is None or not gammas:
                unavailable[f"{d.model}-draft<n>"] = (f"no acceptance rate or draft length for {d.model}: set "
                                                      f"{path}.acceptance_rate and draft_tokens")
                continue
            for gamma in sorted(set(gammas)):
                name = f"{d.model}-draft{gamma}"
                gamma_source = (f"scenario {path}.draft_tokens" if d.draft_tokens or default_gamma is None
                                else default_gamma.source)
                options.append(Option(technique=self.name, name=name,
                                      summary=f"draft {draft.name}, {gamma} tokens per round, α = {alpha.value:g}",
                                      effects=EFFECTS, apply=_make_transform(name, draft, gamma, alpha),
                                      sources=(draft.source, alpha.source, gamma_source, PAPER)))
        return OptionSet(tuple(options), unavailable)


def _make_transform(name: str, draft: ModelSpec, gamma: int, alpha: Sourced):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        return with_draft(profile, draft, gamma, alpha.value, option=name, source=alpha.source)

    return apply
