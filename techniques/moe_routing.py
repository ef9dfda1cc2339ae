r"""Sparse expert routing (``moe``).

* ``upcycle`` (dense base): every FFN becomes ``E`` experts initialised from it, ``k`` routed per
  token (sparse up-cycling).  With ``F = m·L·d·f`` FFN parameters (``m = 3`` matrices for a gated
  MLP, 2 for a plain one: ``ModelSpec.gated_mlp``; GPT-J and OPT are plain), total parameters
  become ``N + (E−1)·F`` and active ``N + (k−1)·F``.  Continued training of ``tokens`` costs
  ``6 · N_active' · tokens`` FLOPs.  The roofline then reads ``E·(1−(1−k/E)^b)`` experts per layer
  at batch ``b``: MoE multiplies the weights read at large batch while FLOPs per token grow by
  ``k`` FFNs only.
* ``reduce-top-k`` (MoE base): route each token to ``k' < k`` experts; active parameters become
  ``N_dense + N_routed · k'/E`` with ``N_routed = (N − N_a)/(1 − k/E)``.

Up-cycling only adds parameters and compute per token (and more weights read at large batch): on
its own it is never a cost lever.  It is offered only where a **quality gain** is given —
``technique_settings.moe.upcycle_quality_delta > 0`` with the architecture and budget it was
reached at, or the same four numbers as catalog rows (``technique = "moe"``, ``option =
"upcycle"``, keys ``experts``, ``top_k``, ``tokens``, ``quality_delta``; none ships: no published
up-cycling result on the catalog's metrics was read) — and is reported unavailable with the reason
otherwise.  ``reduce-top-k`` saves compute at a quality cost the scenario must give
(``reduced_top_k``, ``reduced_top_k_quality_delta``).  Both rebuild the base architecture, so they
conflict with the options that change the served model (``distillation``, ``swap``).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.hf_config import GATED_MLP_MATRICES, PLAIN_MLP_MATRICES
from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Workload
from planner.units import TRAINING_FLOPS_PER_PARAM_TOKEN
from techniques._params import Sourced, setting_or_catalog
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueContext, TechniqueSettings

EFFECTS = frozenset({Effect.MODEL, Effect.WEIGHT_BYTES, Effect.PREFILL_FLOPS, Effect.QUALITY, Effect.ONE_TIME_COST})
SETTINGS_PATH = "technique_settings.moe"
#: what up-cycling needs, as scenario settings ``upcycle_<key>`` or catalog rows moe/upcycle/<key>
UPCYCLE_KEYS = ("experts", "top_k", "tokens", "quality_delta")


class MoeSettings(TechniqueSettings):
    upcycle_experts: Annotated[int | None, Field(ge=2, le=1024)] = None
    upcycle_top_k: Annotated[int | None, Field(ge=1, le=64)] = None
    upcycle_tokens: Annotated[float | None, Field(gt=0, le=1e15)] = None
    upcycle_quality_delta: Annotated[float | None, Field(ge=-100, le=100, description=(
        "points gained on the metric by up-cycling (must be > 0 for the option to be offered)"))] = None
    reduced_top_k: Annotated[int | None, Field(ge=1, le=64)] = None
    reduced_top_k_quality_delta: Annotated[float | None, Field(ge=-100, le=100)] = None


def upcycled(model: ModelSpec, experts: int, top_k: int) -> ModelSpec:
    matrices = GATED_MLP_MATRICES if model.gated_mlp else PLAIN_MLP_MATRICES
    ffn = matrices * model.layers * model.d_model * model.ffn_dim
    return model.model_copy(update={
        "slug": f"{model.slug}-moe{experts}k{top_k}", "name": f"{model.name} up-cycled to {experts} experts, top-{top_k}",
        "params_total": model.params_total + (experts - 1) * ffn,
        "params_active": model.params_active + (top_k - 1) * ffn,
        "experts": experts, "experts_per_token": top_k,
    })


def reduced_top_k(model: ModelSpec, top_k: int) -> ModelSpec:
    share = model.experts_per_token / model.experts
    routed = (model.params_total - model.params_active) / (1.0 - share)
    dense = model.params_total - routed
    return model.model_copy(update={
        "slug": f"{model.slug}-top{top_k}", "name": f"{model.name}, top-{top_k} routing",
        "params_active": dense + routed * top_k / model.experts, "experts_per_token": top_k,
    })


class MoeRouting:
    name: ClassVar[str] = "moe"
    summary: ClassVar[str] = "sparse expert routing: fewer FLOPs per token, more weights read at large batch"
    order: ClassVar[int] = 20
    Settings: ClassVar[type[TechniqueSettings]] = MoeSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo("upcycle", "dense base -> E experts, top-k routing; offered only with a quality gain "
                                      "(technique_settings.moe.upcycle_*)", EFFECTS),
                OptionInfo("reduce-top-k", "MoE base -> fewer experts per token (needs technique_settings.moe."
                                           "reduced_top_k*)", EFFECTS)]

    def options(self, ctx: TechniqueContext) -> OptionSet:
        s = cast(MoeSettings, ctx.settings)
        base = ctx.base_model
        options: list[Option] = []
        unavailable: dict[str, str] = {}
        if base.is_moe:
            unavailable["upcycle"] = f"the base {base.slug} is already a mixture of experts"
            missing = [f for f in ("reduced_top_k", "reduced_top_k_quality_delta") if getattr(s, f) is None]
            if missing:
                unavailable["reduce-top-k"] = f"needs {', '.join(f'{SETTINGS_PATH}.{m}' for m in missing)}"
            elif cast(int, s.reduced_top_k) >= base.experts_per_token:
                unavailable["reduce-top-k"] = (f"{SETTINGS_PATH}.reduced_top_k must be below the base's "
                                               f"{base.experts_per_token} experts per token")
            else:
                k = cast(int, s.reduced_top_k)
                options.append(self._option("reduce-top-k", reduced_top_k(base, k), 0.0,
                                            cast(float, s.reduced_top_k_quality_delta), f"scenario {SETTINGS_PATH}"))
        else:
            unavailable["reduce-top-k"] = f"the base {base.slug} is dense"
            found = {key: setting_or_catalog(getattr(s, f"upcycle_{key}"), f"{SETTINGS_PATH}.upcycle_{key}",
                                             ctx.catalog, self.name, "upcycle", key) for key in UPCYCLE_KEYS}
            missing = [f"{SETTINGS_PATH}.upcycle_{k}" for k, v in found.items() if v is None]
            if missing:
                unavailable["upcycle"] = (f"up-cycling only adds compute per token; it is offered where a quality "
                                          f"gain is given: needs {', '.join(missing)}")
            else:
                experts, top_k, tokens, delta = (cast(Sourced, found[k]) for k in UPCYCLE_KEYS)
                if delta.value <= 0:
                    unavailable["upcycle"] = (f"up-cycling only adds compute per token; it is offered only for a "
                                              f"quality gain, and {delta.source} gives {delta.value:g} points")
                elif top_k.value >= experts.value or experts.value != int(experts.value) \
                        or top_k.value != int(top_k.value):
                    unavailable["upcycle"] = f"{SETTINGS_PATH}.upcycle_top_k must be a whole number below upcycle_experts"
                else:
                    model = upcycled(base, int(experts.value), int(top_k.value))
                    flops = TRAINING_FLOPS_PER_PARAM_TOKEN * model.params_active * tokens.value
                    source = "; ".join(dict.fromkeys(v.source for v in (experts, top_k, tokens, delta)))
                    options.append(self._option("upcycle", model, flops, delta.value, source))
        return OptionSet(tuple(options), unavailable)

    def _option(self, name: str, model: ModelSpec, one_time_flops: float, delta: float, source: str) -> Option:
        def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
            out = profile.changed(self.name, name, f"{source} (architecture derived from {profile.model.slug})",
                                  model=model)
            if profile.quality_score is not None:
                out = out.changed(self.name, name, source, quality_score=min(100.0, max(0.0, profile.quality_score + delta)))
            return out.changed(self.name, name, source, one_time_flops=out.one_time_flops + one_time_flops)

        # the option rebuilds the base architecture, so it cannot follow a change of the served model
        return Option(technique=self.name, name=name, summary=model.name, effects=EFFECTS, apply=apply,
                      conflicts_with=frozenset({"distillation:*", "swap:*"}), sources=(source,))
