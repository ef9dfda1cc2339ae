"""Technique behaviour the other technique tests leave open, found by mutating ``techniques/*.py``.

Each test pins a decision or a figure a mutation of the plug-ins changed without any other test
failing: boundaries (``<`` against ``<=``), guards (no quality score, a missing catalog row, an
option equal to the base), composition (an option adds to what the profile already carries, as
options apply one after another) and the registry's validation of a plug-in.  Figures are the hand
calculations in the comments, from the formulas in each module's docstring and the catalog rows
pinned in ``test_hand_figures.py``.  Options are built and applied directly where that suffices
(no roofline, no solver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

import planner
import techniques.registry as registry_module
from planner.catalog.store import Catalog
from planner.errors import CatalogError, PluginError
from planner.optimize.variants import build_variants
from planner.physics.profile import ServingProfile, base_profile
from techniques._params import kv_bytes_per_token
from techniques.base import (
    ENTRY_POINT_GROUP,
    Effect,
    Option,
    OptionSet,
    TechniqueContext,
    TechniqueSettings,
    size_class,
)
from techniques.caching import Caching, CachingSettings
from techniques.distillation import (
    CustomStudent,
    Distillation,
    applicable_result,
    published_results,
)
from techniques.moe_routing import MoeRouting
from techniques.quantization import KvQuantization, Quantization, QuantizationSettings
from techniques.registry import Registry, load_registry, validate_plugin
from techniques.speculative import Draft, Speculative
from tests.techniques.test_techniques import (
    scenario,  # llama-3.1-70b, one 800 -> 200 token class
)

#: llama-3.1-70b: 70,553,706,496 parameters (dense); calibration of fp8 = 2 x that x 262,144 tokens
#: = 36,990,461,671,374,848 FLOPs (test_hand_figures.py)
FP8_CALIBRATION_70B = 36_990_461_671_374_848


def offered(technique: Any, catalog: Catalog, base: str = "llama-3.1-70b",
            settings: dict[str, Any] | None = None, **scenario_over: Any) -> OptionSet:
    """The options ``technique`` offers for a one-class scenario on ``base``."""
    sc = scenario(model={"base": base}, **scenario_over)
    ctx = TechniqueContext(scenario=sc, catalog=catalog, base_model=catalog.models[base],
                           settings=technique.Settings.model_validate(settings or {}))
    return technique.options(ctx)


def option(technique: Any, catalog: Catalog, name: str, **kw: Any) -> Option:
    return next(o for o in offered(technique, catalog, **kw).options if o.name == name)


def profile(catalog: Catalog, model: str = "llama-3.1-70b", **fields: Any) -> ServingProfile:
    """``model`` served at BF16 (16-bit KV), no score unless given, with ``fields`` already set."""
    return base_profile(catalog.models[model], "bf16", None, catalog).model_copy(update=fields)


def workload(**over: Any):  # type: ignore[no-untyped-def]
    """The 800 -> 200 token class, with ``over`` applied."""
    return scenario(workload=over).workload[0]


def without_rows(catalog: Catalog, *keys: tuple[str, str]) -> Catalog:
    """``catalog`` without its technique rows of the given (technique, key) pairs."""
    return replace(catalog, technique_params={k: v for k, v in catalog.technique_params.items()
                                              if (k[0], k[2]) not in keys})


def overlay(tmp_path: Path, rows: list[tuple[str, str, str, float, str]]) -> Catalog:
    """The shipped catalog plus technique rows (technique, option, key, value, applies_to)."""
    text = "schema_version = 1\n" + "".join(
        f'[[technique_param]]\ntechnique = "{t}"\noption = "{o}"\nkey = "{k}"\nvalue = {v}\napplies_to = "{a}"\n'
        f'unit = "u"\nnote = "test row"\nsource = "test source {t}/{o}/{k}"\nsource_date = "2024-01-01"\n'
        for t, o, k, v, a in rows)
    path = tmp_path / "rows.toml"
    path.write_text(text, encoding="utf-8")
    return planner.load_catalogs([path], use_env=False)


# ------------------------------------------------------------------ base.py, _params.py


def test_size_class_threshold_is_strictly_below_for_small(catalog) -> None:  # type: ignore[no-untyped-def]
    """'models below it use the small rows, others the large rows': exactly 30e9 parameters is large."""
    assert catalog.technique_param("quantization", "*", "size_class_threshold_params").value == 30e9
    m = catalog.models["llama-3.1-8b"]
    assert size_class(m.model_copy(update={"params_total": 30e9}), catalog, "quantization") == "large"
    assert size_class(m.model_copy(update={"params_total": 30e9 - 1}), catalog, "quantization") == "small"


def test_size_class_without_a_threshold_row_is_all(catalog) -> None:  # type: ignore[no-untyped-def]
    bare = without_rows(catalog, ("quantization", "size_class_threshold_params"))
    assert size_class(catalog.models["llama-3.1-8b"], bare, "quantization") == "all"
    assert size_class(catalog.models["llama-3.1-70b"], catalog, "caching") == "all"  # no caching threshold row


def test_kv_bytes_per_token_of_a_latent_attention_model(catalog) -> None:  # type: ignore[no-untyped-def]
    # deepseek-v3 caches one 576-wide latent per layer (MLA), not K and V per head:
    # 61 layers x 576 x 16 bits / 8 = 70,272 bytes per token (2 x 128 heads x 192 x 61 x 2 would be 5,996,544)
    m = catalog.models["deepseek-v3"]
    assert (m.layers, m.kv_latent_dim) == (61, 576)
    assert kv_bytes_per_token(m, 16) == 70_272


def test_a_catch_all_distillation_row_is_not_a_published_result(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A 'distillation/*' row (a default) neither becomes a result of its own nor completes a result
    that lacks the key: each result needs its own three rows (the check reads the row's option)."""
    star = ("distillation", "*", "quality_retention", 0.5, "all")
    cat = overlay(tmp_path, [star])
    assert {r.slug for r in published_results(cat)} == {r.slug for r in published_results(catalog)}
    assert "*" not in {r.slug for r in published_results(cat)}
    partial = overlay(tmp_path, [star, ("distillation", "half", "student_params_fraction", 0.5, "all"),
                                 ("distillation", "half", "tokens", 1e11, "all")])
    with pytest.raises(CatalogError) as err:
        published_results(partial)
    assert err.value.field == "technique_param[distillation/half]"
    assert err.value.reason.endswith("missing: quality_retention")


# ------------------------------------------------------------------ quantization.py


def test_kv_retention_follows_the_served_models_size_class(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """KV retention uses the quantization size classes too: a 'small' kv-fp8 row (0.95, test figure)
    applies to llama-3.1-8b (8.03e9 < 30e9); a large model keeps the shipped 'all' row (0.99)."""
    cat = overlay(tmp_path, [("kv_quantization", "kv-fp8", "quality_retention", 0.95, "small")])
    small = option(KvQuantization(), cat, "kv-fp8", base="llama-3.1-8b")
    # 50 x 0.95 = 47.5
    assert small.apply(profile(cat, "llama-3.1-8b", quality_score=50.0), workload()).quality_score == \
        pytest.approx(47.5, rel=1e-12)
    large = option(KvQuantization(), cat, "kv-fp8")
    # 50 x 0.99 = 49.5
    assert large.apply(profile(cat, quality_score=50.0), workload()).quality_score == pytest.approx(49.5, rel=1e-12)


def test_calibration_runs_through_the_active_parameters(catalog) -> None:  # type: ignore[no-untyped-def]
    # mixtral-8x7b: 46.7e9 total, 12.9e9 active; 2 x 12,900,000,000 x 262,144 tokens = 6.7633152e15 FLOPs
    m = catalog.models["mixtral-8x7b"]
    assert (m.params_total, m.params_active) == (46_702_792_704, 12.9e9)
    fp8 = option(Quantization(), catalog, "fp8", base="mixtral-8x7b")
    got = fp8.apply(profile(catalog, "mixtral-8x7b", quality_score=70.6), workload())
    assert got.one_time_flops == pytest.approx(6.7633152e15, rel=1e-12)


def test_kv_int4_stores_four_bits(catalog) -> None:  # type: ignore[no-untyped-def]
    """kv-int4 has no published retention: with the scenario's (0.98, a test figure) it stores the KV at
    int4 (4 bits) and keeps 83.6 x 0.98 = 81.928."""
    sc = scenario(techniques={"kv_quantization": ["none", "kv-int4"]},
                  technique_settings={"kv_quantization": {"quality_retention": {"kv-int4": 0.98}}})
    _, _, variants, _, _ = build_variants(sc, catalog)
    kv = next(v for v in variants if v.name == "kv_quantization:kv-int4").profiles["chat"]
    assert (kv.kv_precision, kv.kv_bits) == ("int4", 4)
    assert kv.quality_score == pytest.approx(81.928, rel=1e-12)


# ------------------------------------------------------------------ settings bounds


@pytest.mark.parametrize(("model", "data", "ok"), [
    (QuantizationSettings, {"quality_retention": {"fp8": 1.0}}, True),
    (QuantizationSettings, {"quality_retention": {"fp8": 1.01}}, False),  # keeps more than the base: refused
    (QuantizationSettings, {"quality_retention": {"fp8": 0.0}}, False),   # keeps nothing: refused (gt 0)
    (CachingSettings, {"semantic_false_hit_rate": 1.0}, True),
    (CachingSettings, {"semantic_false_hit_rate": 1.5}, False),           # a share
    (CustomStudent, {"name": "s", "config": "c.json", "score": 100.0}, True),
    (CustomStudent, {"name": "s", "config": "c.json", "score": 100.5}, False),  # a score is on 0..100
    (Draft, {"model": "llama-3.1-8b", "draft_tokens": [3]}, True),
    (Draft, {"model": "llama-3.1-8b", "draft_tokens": []}, False),        # an empty list is not "the default"
])
def test_settings_bounds(model: type[BaseModel], data: dict[str, Any], ok: bool) -> None:
    if ok:
        model.model_validate(data)
    else:
        with pytest.raises(ValidationError):
            model.model_validate(data)


# ------------------------------------------------------------------ no quality score


def test_options_leave_an_unscored_profile_unscored(catalog) -> None:  # type: ignore[no-untyped-def]
    """With no score on the metric (quality unconstrained) the quality-scaling options change the
    served profile and leave quality_score None instead of failing on None x retention."""
    w = workload()
    fp8 = option(Quantization(), catalog, "fp8").apply(profile(catalog), w)
    assert fp8.quality_score is None and fp8.weight_bits == 8
    semantic = option(Caching(), catalog, "semantic", settings={"semantic_hit_rate": 0.4}).apply(profile(catalog), w)
    assert semantic.quality_score is None and semantic.served_query_fraction == pytest.approx(0.6, rel=1e-12)
    distilled = option(Distillation(), catalog, "llama-3.1-8b", base="mixtral-8x7b").apply(
        profile(catalog, "mixtral-8x7b"), w)
    assert distilled.quality_score is None and distilled.model.slug == "llama-3.1-8b"
    top1 = option(MoeRouting(), catalog, "reduce-top-k", base="mixtral-8x7b",
                  settings={"reduced_top_k": 1, "reduced_top_k_quality_delta": -2.0}).apply(
        profile(catalog, "mixtral-8x7b"), w)
    assert top1.quality_score is None and top1.model.experts_per_token == 1


def test_an_unscored_base_may_swap_to_an_unscored_model(catalog) -> None:  # type: ignore[no-untyped-def]
    """gpt-j-6b has no 5-shot MMLU row (only mmlu-0shot), nor has llama-3.3-70b: with no base score
    there is no floor to check, so the swap is offered (and stays unscored)."""
    assert catalog.quality_of("gpt-j-6b", "mmlu") is None and catalog.quality_of("llama-3.3-70b", "mmlu") is None
    sc = scenario(model={"base": "gpt-j-6b"}, techniques={"swap": ["none", "llama-3.3-70b"]})
    _, base_score, variants, _, _ = build_variants(sc, catalog)
    assert base_score is None
    swapped = next(v for v in variants if v.name == "swap:llama-3.3-70b").profiles["chat"]
    assert swapped.model.slug == "llama-3.3-70b" and swapped.quality_score is None


# ------------------------------------------------------------------ composition: options add to the profile


def test_one_time_work_adds_to_the_work_already_on_the_profile(catalog) -> None:  # type: ignore[no-untyped-def]
    """Options apply in order (distillation, moe, then quantization, ...): each adds its bill."""
    w = workload()
    fp8 = option(Quantization(), catalog, "fp8").apply(profile(catalog, one_time_flops=1e21), w)
    assert fp8.one_time_flops == pytest.approx(1e21 + FP8_CALIBRATION_70B, rel=1e-12)
    # mixtral -> llama-3.1-8b takes llama-3.2-1b's result (9e12 tokens, test_distillation.py):
    # 9e12 x (6 x 8,030,261,248 + 2 x 12.9e9) = 9e12 x 73,981,567,488 = 6.65834107392e23
    distilled = option(Distillation(), catalog, "llama-3.1-8b", base="mixtral-8x7b").apply(
        profile(catalog, "mixtral-8x7b", one_time_flops=1e21), w)
    assert distilled.one_time_flops == pytest.approx(1e21 + 6.65834107392e23, rel=1e-12)
    # up-cycling llama-3.1-8b to 8 experts top-2: 6 x 13,667,405,824 x 1e11 = 8.2004434944e21 (test_hand_figures.py)
    up = option(MoeRouting(), catalog, "upcycle", base="llama-3.1-8b",
                settings={"upcycle_experts": 8, "upcycle_top_k": 2, "upcycle_tokens": 1e11,
                          "upcycle_quality_delta": 1.0}).apply(profile(catalog, "llama-3.1-8b", one_time_flops=1e21), w)
    assert up.one_time_flops == pytest.approx(1e21 + 8.2004434944e21, rel=1e-12)


def test_caching_scales_and_adds_to_what_the_profile_carries(catalog) -> None:  # type: ignore[no-untyped-def]
    w = workload(shared_prefix_tokens=500, repeat_rate=0.25)
    start = profile(catalog, prefill_token_fraction=0.5, served_query_fraction=0.5, extra_memory_gb_per_replica=2.0,
                    recurring_usd_per_million_queries=10.0, extra_prefill_flops=1e12)
    prefix = option(Caching(), catalog, "prefix").apply(start, w)
    # 0.5 x (800 - 500) / 800 = 0.1875 of the prompt prefilled; 2 GB + 1 x 500 x 327,680 B = 2.16384 GB held
    assert prefix.prefill_token_fraction == pytest.approx(0.1875, rel=1e-12)
    assert prefix.extra_memory_gb_per_replica == pytest.approx(2.16384, rel=1e-12)
    store = {"response_retention_days": 3.0, "store_usd_per_gb_month": 20.0}
    response = option(Caching(), catalog, "response", settings=store).apply(start, w)
    # served 0.5 x (1 - 0.25) = 0.375; $10 + 0.75 x 3 x 200 x 4 / 1e9 x 20 / 30.4375 x 1e6 = $10 + 36 / 30.4375
    assert response.served_query_fraction == pytest.approx(0.375, rel=1e-12)
    assert response.recurring_usd_per_million_queries == pytest.approx(10 + 36 / 30.4375, rel=1e-12)
    semantic = option(Caching(), catalog, "semantic", settings={"semantic_hit_rate": 0.4}).apply(start, w)
    # 1e12 + 2 x 22,713,216 embedding parameters x 800 tokens / (1 - 0.4) = 1e12 + 60,568,576,000
    assert semantic.extra_prefill_flops == pytest.approx(1.060568576e12, rel=1e-12)


# ------------------------------------------------------------------ caching.py


def test_prefix_cache_after_kv_fp8_holds_8_bit_prefixes(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"shared_prefix_tokens": 500},
                  techniques={"kv_quantization": ["none", "kv-fp8"], "caching": ["none", "prefix"]})
    _, _, variants, _, _ = build_variants(sc, catalog)
    got = {v.name: v.profiles["chat"] for v in variants}
    # 1 prefix (catalog) x 500 tokens x 327,680 B (16-bit KV) = 0.16384 GB; at 8 bits 163,840 B -> 0.08192 GB
    assert got["caching:prefix"].extra_memory_gb_per_replica == pytest.approx(0.16384, rel=1e-12)
    both = got["kv_quantization:kv-fp8 + caching:prefix"]
    assert both.kv_bits == 8
    assert both.extra_memory_gb_per_replica == pytest.approx(0.08192, rel=1e-12)
    # the roofline reserves KV per sequence for I - P + O tokens: the prefix is marked shared
    assert got["caching:prefix"].kv_shared_prefix_tokens == 500.0 == both.kv_shared_prefix_tokens


def test_response_cache_without_repeats_changes_nothing(catalog) -> None:  # type: ignore[no-untyped-def]
    """repeat_rate 0: no query is answered from the store, so no store is kept or paid for."""
    start = profile(catalog, quality_score=83.6)
    got = option(Caching(), catalog, "response").apply(start, workload(repeat_rate=0.0))
    assert got.served_query_fraction == 1.0
    assert got.recurring_usd_per_million_queries == 0.0
    assert got.trace == ()


def test_semantic_store_holds_the_misses(catalog) -> None:  # type: ignore[no-untyped-def]
    got = option(Caching(), catalog, "semantic", settings={"semantic_hit_rate": 0.4}).apply(
        profile(catalog, quality_score=83.6), workload())
    # (1 - 0.4) x 1 day x 200 tokens x 4 B = 480 B = 4.8e-7 GB per daily query reaching the store;
    # x $91.3125 per GB-month / 30.4375 days = $3 per GB-day; x 1e6 queries = $1.44 per million
    assert got.recurring_usd_per_million_queries == pytest.approx(1.44, rel=1e-12)


def test_a_store_without_bytes_per_token_offers_neither_store_option(catalog) -> None:  # type: ignore[no-untyped-def]
    bare = without_rows(catalog, ("caching", "bytes_per_token"))
    got = offered(Caching(), bare, settings={"semantic_hit_rate": 0.4})
    assert {o.name for o in got.options} == {"prefix"}
    assert "technique_settings.caching.bytes_per_token" in got.unavailable["response"]
    assert "technique_settings.caching.bytes_per_token" in got.unavailable["semantic"]
    assert "semantic_hit_rate" not in got.unavailable["semantic"]  # given: only the store is missing
    assert got.unavailable["prefix+response"] == got.unavailable["response"]


def test_a_combination_names_why_its_part_is_unavailable(catalog) -> None:  # type: ignore[no-untyped-def]
    got = offered(Caching(), catalog)  # no semantic_hit_rate: semantic (and prefix+semantic) unavailable
    assert {o.name for o in got.options} == {"prefix", "response", "prefix+response"}
    assert "technique_settings.caching.semantic_hit_rate" in got.unavailable["semantic"]
    assert got.unavailable["prefix+semantic"] == got.unavailable["semantic"]


def test_a_combinations_effects_are_both_parts(catalog) -> None:  # type: ignore[no-untyped-def]
    info = {i.name: i.effects for i in Caching().describe(catalog)}
    assert info["prefix+response"] == info["prefix"] | info["response"] == {
        Effect.PREFILL_FLOPS, Effect.MEMORY, Effect.SERVED_QUERIES, Effect.RECURRING_COST}
    assert info["prefix+semantic"] == info["prefix"] | info["semantic"]
    assert Effect.QUALITY in info["prefix+semantic"]


# ------------------------------------------------------------------ speculative.py


def test_repeated_draft_lengths_are_one_option_each(catalog) -> None:  # type: ignore[no-untyped-def]
    drafts = [{"model": "llama-3.1-8b", "acceptance_rate": 0.8, "draft_tokens": [4, 2, 4], "source": "test figure"}]
    got = offered(Speculative(), catalog, settings={"drafts": drafts})
    assert [o.name for o in got.options] == ["llama-3.1-8b-draft2", "llama-3.1-8b-draft4"]


def test_a_draft_without_an_acceptance_rate_anywhere_is_unavailable(catalog) -> None:  # type: ignore[no-untyped-def]
    bare = without_rows(catalog, ("speculative", "acceptance_rate"))
    got = offered(Speculative(), bare, settings={"drafts": [{"model": "llama-3.1-8b", "draft_tokens": [4]}]})
    assert got.options == ()
    assert "technique_settings.speculative.drafts[0].acceptance_rate" in got.unavailable["llama-3.1-8b-draft<n>"]


# ------------------------------------------------------------------ distillation.py


def test_a_scenario_budget_equal_to_a_published_one_takes_that_result(catalog) -> None:  # type: ignore[no-untyped-def]
    """'a scenario tokens below them is refused, at or above them it replaces the bill': Minitron-4B-Width
    was distilled on 94e9 tokens."""
    results = published_results(catalog)
    picked = applicable_result(results, 0.95, 9.4e10)
    assert picked is not None and picked.slug == "llama-3.1-minitron-4b-width"
    assert applicable_result(results, 0.95, 9.4e10 - 1) is None  # every other result used more tokens


def test_a_student_as_large_as_the_base_is_refused_and_the_base_is_not_a_student(catalog) -> None:  # type: ignore[no-untyped-def]
    # llama-3-8b and llama-3.1-8b have the same 8,030,261,248 parameters: f = 1 is not a smaller student
    assert catalog.models["llama-3-8b"].params_total == catalog.models["llama-3.1-8b"].params_total
    got = offered(Distillation(), catalog, base="llama-3.1-8b")
    assert "llama-3-8b" not in {o.name for o in got.options}
    assert "is not smaller than the base llama-3.1-8b" in got.unavailable["llama-3-8b"]
    assert "llama-3.1-8b" not in got.unavailable and "llama-3.1-8b" not in {o.name for o in got.options}


# ------------------------------------------------------------------ moe_routing.py


def test_reduce_top_k_must_reduce_and_costs_no_training(catalog) -> None:  # type: ignore[no-untyped-def]
    same = offered(MoeRouting(), catalog, base="mixtral-8x7b",
                   settings={"reduced_top_k": 2, "reduced_top_k_quality_delta": -1.0})  # mixtral routes top-2
    assert same.options == ()
    assert "must be below the base's 2 experts per token" in same.unavailable["reduce-top-k"]
    top1 = option(MoeRouting(), catalog, "reduce-top-k", base="mixtral-8x7b",
                  settings={"reduced_top_k": 1, "reduced_top_k_quality_delta": -1.0})
    got = top1.apply(profile(catalog, "mixtral-8x7b", quality_score=70.6), workload())
    assert got.one_time_flops == 0.0  # routing is changed at serving time: no training bill
    assert got.quality_score == pytest.approx(69.6, rel=1e-12)  # 70.6 - 1


@pytest.mark.parametrize(("experts", "top_k"), [(8, 8), (8, 1.5)])
def test_upcycle_needs_a_whole_top_k_below_the_experts(catalog, tmp_path: Path, experts: float, top_k: float) -> None:  # type: ignore[no-untyped-def]
    """From catalog rows (a setting is an integer already): top-8 of 8 routes to every expert, 1.5 is no count."""
    cat = overlay(tmp_path, [("moe", "upcycle", "experts", experts, "all"), ("moe", "upcycle", "top_k", top_k, "all"),
                             ("moe", "upcycle", "tokens", 1e11, "all"), ("moe", "upcycle", "quality_delta", 1.0, "all")])
    got = offered(MoeRouting(), cat, base="llama-3.1-8b")
    assert got.options == ()
    assert "upcycle_top_k must be a whole number below upcycle_experts" in got.unavailable["upcycle"]


def test_upcycle_conflicts_with_distillation(catalog) -> None:  # type: ignore[no-untyped-def]
    """Only moe declares this conflict (distillation declares swap only): the pair is excluded."""
    sc = scenario(model={"base": "llama-3.1-8b"},
                  techniques={"moe": ["none", "upcycle"], "distillation": ["none", "llama-2-7b"]},
                  technique_settings={"moe": {"upcycle_experts": 8, "upcycle_top_k": 2, "upcycle_tokens": 1e11,
                                              "upcycle_quality_delta": 1.0}})
    _, _, variants, _, exclusions = build_variants(sc, catalog)
    assert {v.name for v in variants} == {"baseline", "moe:upcycle", "distillation:llama-2-7b"}
    conflicts = {e.subject: e.reason for e in exclusions if e.family == "conflict"}
    assert conflicts == {"distillation:llama-2-7b + moe:upcycle": "distillation:llama-2-7b conflicts with moe:upcycle"}


def test_upcycle_traces_every_figure_it_used(catalog) -> None:  # type: ignore[no-untyped-def]
    settings = {"upcycle_experts": 8, "upcycle_top_k": 2, "upcycle_tokens": 1e11, "upcycle_quality_delta": 1.0}
    up = option(MoeRouting(), catalog, "upcycle", base="llama-3.1-8b", settings=settings)
    got = up.apply(profile(catalog, "llama-3.1-8b", quality_score=69.4), workload())
    [bill] = [t for t in got.trace if t.field == "one_time_flops"]
    for key in settings:
        assert f"scenario technique_settings.moe.{key}" in bill.source


# ------------------------------------------------------------------ registry.py


class Minimal:
    """The smallest valid plug-in."""

    name = "minimal"
    summary = "does nothing"
    order = 95
    Settings = TechniqueSettings

    def describe(self, catalog: Catalog) -> list[Any]:
        return []

    def options(self, ctx: TechniqueContext) -> OptionSet:
        return OptionSet(())


class Impostor(Minimal):
    name = "quantization"


class LooseSettings(BaseModel):  # a pydantic model that accepts unknown keys
    share: float = 0.5


class ForbiddingSettings(BaseModel):  # not a TechniqueSettings, but forbids unknown keys: accepted
    model_config = ConfigDict(extra="forbid")
    share: float = 0.5


class NeedySettings(TechniqueSettings):
    share: float  # no default


class NoSchemaSettings(TechniqueSettings):
    hook: Callable[[], int] = int  # a callable has no JSON Schema


def plugin(**attrs: Any) -> type:
    return type("Variant", (Minimal,), attrs)


def test_a_minimal_plugin_validates(catalog) -> None:  # type: ignore[no-untyped-def]
    assert validate_plugin(Minimal).name == "minimal"
    assert validate_plugin(plugin(Settings=ForbiddingSettings)).Settings is ForbiddingSettings


@pytest.mark.parametrize(("attrs", "words"), [
    ({"name": "bad-name"}, "lowercase slug"),
    ({"order": True}, "'order' must be an integer"),
    ({"Settings": dict}, "'Settings' must be a pydantic model class"),
    ({"summary": "   "}, "'summary' must be a non-empty string"),
    ({"Settings": LooseSettings}, "must forbid unknown keys"),
    ({"Settings": NeedySettings}, "constructible with no arguments"),
    ({"Settings": NoSchemaSettings}, "has no JSON Schema"),
    ({"describe": "not a method"}, "missing method 'describe'"),
])
def test_an_invalid_plugin_is_refused_with_the_reason(attrs: dict[str, Any], words: str) -> None:
    with pytest.raises(PluginError) as err:
        validate_plugin(plugin(**attrs))
    assert words in err.value.reason


def test_a_name_registers_once() -> None:
    registry = Registry()
    registry.register(Minimal())
    with pytest.raises(PluginError, match="a technique named 'minimal' is already registered"):
        registry.register(Minimal())


def _builtin(name: str) -> EntryPoint:
    return next(ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name)


def _here(name: str, cls: str) -> EntryPoint:
    """An entry point of no distribution (dist None) naming a class of this module."""
    return EntryPoint(name=name, value=f"{__name__}:{cls}", group=ENTRY_POINT_GROUP)


def test_an_entry_point_of_no_distribution_does_not_displace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    builtin = _builtin("quantization")
    assert builtin.dist is not None and builtin.dist.name == registry_module.BUILTIN_DISTRIBUTION
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [_here("quantization", "Impostor"), builtin])
    registry = load_registry()
    assert type(registry.techniques["quantization"]).__module__ == "techniques.quantization"
    label = f"quantization ({__name__}:Impostor)"
    assert registry.load_errors == {label: "duplicate technique name 'quantization' (another package registers it)"}


def test_an_entry_point_named_unlike_its_technique_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [_here("renamed", "Minimal")])
    registry = load_registry()
    assert registry.techniques == {}
    assert registry.load_errors == {
        f"renamed ({__name__}:Minimal)": "entry point name 'renamed' differs from the technique's name 'minimal'"}
