r"""Caching: ``prefix`` (KV reuse), ``response`` (exact repeats), ``semantic`` (similar queries).

Options can be combined as ``prefix+response`` and ``prefix+semantic`` (a scenario that allows
both parts allows the combination).

* ``prefix``: the class's ``shared_prefix_tokens`` are prefilled once and their KV blocks shared:
  prefill computes ``(I − P)/I`` of the prompt, each sequence reserves KV for ``I − P + O``
  tokens, and every replica holds the shared prefixes once (``distinct_prefixes · P`` tokens of KV,
  extra memory).  Exact: quality unchanged.  At most ``I − 1`` tokens are reused: the first output
  token needs the last prompt position's logits, so a prompt that is all shared prefix
  (``P = I``) still prefills its last token (vLLM v1 ``KVCacheManager.get_computed_blocks``:
  "When all tokens hit the cache, we must recompute the last token to obtain logits",
  ``max_cache_hit_length = prompt_length − 1``).
* ``response``: the class's ``repeat_rate`` of queries are answered from a store and never reach
  the model (served share ``1 − r``).  The store keeps ``retention_days`` of distinct responses of
  ``O · bytes_per_token`` bytes at ``store_usd_per_gb_month``: per million queries that is
  ``(1 − r) · days · O · bytes_per_token / 1e9 · price / DAYS_PER_MONTH`` dollars.
* ``semantic``: a share ``h`` (``semantic_hit_rate``, from the scenario: it depends on the traffic)
  is answered from the store; each query costs an embedding of its prompt
  (``2 · N_embedding · I`` FLOPs, counted on the serving GPU: ``1/(1−h)`` of them per request that
  reaches the model); a share ``false_hit_rate`` of hits
  returns an answer to a different question, scored as wrong: quality × ``(1 − h · false_hit_rate)``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, cast

from pydantic import Field

from planner.catalog.store import Catalog
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Workload
from planner.units import BYTES_PER_GB, DAYS_PER_MONTH, FORWARD_FLOPS_PER_PARAM_TOKEN, TOKENS_PER_MILLION
from techniques._params import Sourced, kv_bytes_per_token, setting_or_catalog
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueContext, TechniqueSettings

PATH = "technique_settings.caching"
BLOCKS = ("prefix", "response", "semantic")
COMBINATIONS = ("prefix+response", "prefix+semantic")
Rate = Annotated[float, Field(ge=0, le=1)]


class CachingSettings(TechniqueSettings):
    semantic_hit_rate: Annotated[float | None, Field(ge=0, lt=1, description="share of queries a semantic cache answers")] = None
    semantic_false_hit_rate: Annotated[float | None, Field(ge=0, le=1)] = None
    response_retention_days: Annotated[float | None, Field(gt=0, le=3650)] = None
    store_usd_per_gb_month: Annotated[float | None, Field(ge=0, le=1e4)] = None
    distinct_prefixes: Annotated[int | None, Field(ge=1, le=1_000_000)] = None


class Caching:
    name: ClassVar[str] = "caching"
    summary: ClassVar[str] = "reuse work: shared-prefix KV, exact-repeat responses, semantically similar responses"
    order: ClassVar[int] = 50
    Settings: ClassVar[type[TechniqueSettings]] = CachingSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        info = {
            "prefix": ("prefill only the unshared prompt; shared prefix KV held once per replica",
                       {Effect.PREFILL_FLOPS, Effect.MEMORY}),
            "response": ("exact repeats answered from a store", {Effect.SERVED_QUERIES, Effect.RECURRING_COST}),
            "semantic": ("similar queries answered from a store (embedding per query, false hits cost quality)",
                         {Effect.SERVED_QUERIES, Effect.RECURRING_COST, Effect.QUALITY, Effect.PREFILL_FLOPS}),
        }
        out = [OptionInfo(k, v[0], frozenset(v[1])) for k, v in info.items()]
        for combo in COMBINATIONS:
            parts = combo.split("+")
            out.append(OptionInfo(combo, " + ".join(parts), frozenset().union(*(info[p][1] for p in parts))))
        return out

    def options(self, ctx: TechniqueContext) -> OptionSet:
        s = cast(CachingSettings, ctx.settings)
        cat = ctx.catalog

        def need(value: float | None, key: str, option: str = "*") -> Sourced | None:
            return setting_or_catalog(value, f"{PATH}.{key}", cat, self.name, option, key)

        prefixes = need(s.distinct_prefixes, "distinct_prefixes", "prefix")
        store = {k: need(v, k) for k, v in (("response_retention_days", s.response_retention_days),
                                           ("store_usd_per_gb_month", s.store_usd_per_gb_month),
                                           ("bytes_per_token", None))}
        transforms: dict[str, tuple[object, list[Sourced]]] = {}
        unavailable: dict[str, str] = {}
        if prefixes is None:
            unavailable["prefix"] = f"needs {PATH}.distinct_prefixes (no catalog default)"
        else:
            transforms["prefix"] = (_prefix(prefixes), [prefixes])
        missing_store = [k for k, v in store.items() if v is None]
        store_rows = [v for v in store.values() if v is not None]
        if missing_store:
            unavailable["response"] = f"needs {', '.join(f'{PATH}.{k}' for k in missing_store)}"
        else:
            transforms["response"] = (_response(store_rows), store_rows)
        hit = need(s.semantic_hit_rate, "semantic_hit_rate")
        false_hit = need(s.semantic_false_hit_rate, "semantic_false_hit_rate")
        embed = need(None, "semantic_embedding_params")
        semantic_missing = [n for n, v in (("semantic_hit_rate", hit), ("semantic_false_hit_rate", false_hit),
                                           ("semantic_embedding_params", embed)) if v is None] + missing_store
        if semantic_missing:
            unavailable["semantic"] = ("needs " + ", ".join(f"{PATH}.{k}" for k in semantic_missing)
                                       + " (the hit rate depends on your traffic: no default)")
        else:
            rows = [cast(Sourced, hit), cast(Sourced, false_hit), cast(Sourced, embed), *store_rows]
            transforms["semantic"] = (_semantic(rows[0], rows[1], rows[2], store_rows), rows)
        options: list[Option] = []
        infos = {i.name: i for i in self.describe(cat)}
        for name in (*BLOCKS, *COMBINATIONS):
            parts = name.split("+")
            if any(p not in transforms for p in parts):
                unavailable.setdefault(name, "; ".join(unavailable[p] for p in parts if p in unavailable))
                continue
            funcs = [transforms[p][0] for p in parts]
            sources = tuple(r.source for p in parts for r in transforms[p][1])
            options.append(Option(technique=self.name, name=name, summary=infos[name].summary,
                                  effects=infos[name].effects, apply=_chain(funcs), sources=sources))
        return OptionSet(tuple(options), unavailable)


def _chain(funcs):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, workload: Workload) -> ServingProfile:
        for f in funcs:
            profile = f(profile, workload)
        return profile

    return apply


def _prefix(prefixes: Sourced):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, w: Workload) -> ServingProfile:
        shared = min(w.shared_prefix_tokens, w.input_tokens - 1)  # the last prompt token is prefilled
        if shared <= 0:
            return profile
        held_gb = prefixes.value * shared * kv_bytes_per_token(profile.model, profile.kv_bits) / BYTES_PER_GB
        source = f"workload[{w.name}].shared_prefix_tokens; {prefixes.source}"
        return profile.changed(
            "caching", "prefix", source,
            prefill_token_fraction=profile.prefill_token_fraction * (w.input_tokens - shared) / w.input_tokens,
            kv_shared_prefix_tokens=float(shared),
            extra_memory_gb_per_replica=profile.extra_memory_gb_per_replica + held_gb,
        )

    return apply


def _store_usd_per_million(served_to_store: float, output_tokens: int, store: list[Sourced]) -> float:
    days, price, bytes_per_token = (s.value for s in store)
    gb_per_daily_query = days * output_tokens * bytes_per_token / BYTES_PER_GB
    return served_to_store * gb_per_daily_query * price / DAYS_PER_MONTH * TOKENS_PER_MILLION


def _response(store: list[Sourced]):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, w: Workload) -> ServingProfile:
        if w.repeat_rate <= 0:
            return profile
        cost = _store_usd_per_million(1.0 - w.repeat_rate, w.output_tokens, store)
        source = f"workload[{w.name}].repeat_rate; " + "; ".join(s.source for s in store)
        return profile.changed("caching", "response", source,
                               served_query_fraction=profile.served_query_fraction * (1.0 - w.repeat_rate),
                               recurring_usd_per_million_queries=profile.recurring_usd_per_million_queries + cost)

    return apply


def _semantic(hit: Sourced, false_hit: Sourced, embed: Sourced, store: list[Sourced]):  # type: ignore[no-untyped-def]
    def apply(profile: ServingProfile, w: Workload) -> ServingProfile:
        cost = _store_usd_per_million(1.0 - hit.value, w.output_tokens, store)
        out = profile.changed(
            "caching", "semantic", f"{hit.source}; {'; '.join(s.source for s in store)}",
            served_query_fraction=profile.served_query_fraction * (1.0 - hit.value),
            recurring_usd_per_million_queries=profile.recurring_usd_per_million_queries + cost)
        # every query is embedded, hits included: per request that reaches the model, 1 / (1 - h) embeddings
        embed_flops = FORWARD_FLOPS_PER_PARAM_TOKEN * embed.value * w.input_tokens / (1.0 - hit.value)
        out = out.changed("caching", "semantic", embed.source, extra_prefill_flops=out.extra_prefill_flops + embed_flops)
        if out.quality_score is not None:
            out = out.changed("caching", "semantic", false_hit.source,
                              quality_score=out.quality_score * (1.0 - hit.value * false_hit.value))
        return out

    return apply
