"""Technique formulas checked against hand calculations from the catalog's numbers.

Each test writes the arithmetic in a comment and asserts the exact figure (not merely its sign), so a
formula that drops or changes a factor fails here.  The catalog rows are read back and pinned too, so
a catalog edit shows up as a changed hand figure rather than as a silently different expectation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.optimize.variants import build_variants
from planner.units import DAYS_PER_MONTH
from techniques._params import kv_bytes_per_token
from techniques.distillation import applicable_result, published_results
from tests.techniques.test_techniques import scenario  # llama-3.1-70b, one 800 -> 200 token class, all none


def profiles(sc: planner.Scenario, catalog) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Variant name -> the chat class's served profile."""
    _, _, variants, _, _ = build_variants(sc, catalog)
    return {v.name: v.profiles["chat"] for v in variants}


#: llama-3.1-70b (catalogs/models.toml): 70,553,706,496 parameters, dense; MMLU 83.6 (catalogs quality).
PARAMS_70B = 70_553_706_496
SCORE_70B = 83.6


def test_70b_catalog_figures_used_below(catalog) -> None:  # type: ignore[no-untyped-def]
    m = catalog.models["llama-3.1-70b"]
    assert m.params_total == m.params_active == PARAMS_70B
    assert (m.layers, m.kv_heads, m.head_dim, m.kv_latent_dim) == (80, 8, 128, None)
    assert catalog.quality_of("llama-3.1-70b", "mmlu").score == SCORE_70B


# ------------------------------------------------------------------ T16: KV bytes per token


def test_kv_bytes_per_token_counts_keys_and_values(catalog) -> None:  # type: ignore[no-untyped-def]
    # llama-3.1-70b: 2 (K and V) x 8 KV heads x 128 head dim x 80 layers x 16 bits / 8 = 327,680 bytes/token
    assert kv_bytes_per_token(catalog.models["llama-3.1-70b"], 16) == 327_680
    # the same at an 8-bit KV: 2 x 8 x 128 x 80 x 1 = 163,840
    assert kv_bytes_per_token(catalog.models["llama-3.1-70b"], 8) == 163_840
    # llama-3.1-8b: 2 x 8 x 128 x 32 layers x 2 bytes = 131,072
    assert kv_bytes_per_token(catalog.models["llama-3.1-8b"], 16) == 131_072


# ------------------------------------------------------------------ T1, T2, T3: quantization


@pytest.mark.parametrize(("option", "tokens", "flops"), [
    # 2 x 70,553,706,496 x 262,144 calibration tokens = 36,990,461,671,374,848 FLOPs
    ("fp8", 262_144, 36_990_461_671_374_848),
    ("int8", 262_144, 36_990_461_671_374_848),
    # 2 x 70,553,706,496 x 65,536 = 9,247,615,417,843,712 FLOPs
    ("w4a16", 65_536, 9_247_615_417_843_712),
])
def test_calibration_flops_are_two_per_parameter_and_token(catalog, option, tokens, flops) -> None:  # type: ignore[no-untyped-def]
    assert catalog.technique_param("quantization", option, "calibration_tokens").value == tokens
    assert flops == 2 * PARAMS_70B * tokens
    got = profiles(scenario(techniques={"quantization": ["none", option]}), catalog)
    assert got["baseline"].one_time_flops == 0.0
    assert got[f"quantization:{option}"].one_time_flops == pytest.approx(flops, rel=1e-12)


def test_weight_quantization_sets_its_precisions_default_kv_bits(catalog) -> None:  # type: ignore[no-untyped-def]
    # catalogs/precisions.toml default_kv -> kv_precision bits:
    #   fp8 -> fp8 (8), int8 -> int8 (8), w4a16 -> bf16 (16), w4a8 -> int4 (4), fp4 -> fp8 (8)
    expected = {"fp8": ("fp8", 8), "int8": ("int8", 8), "w4a16": ("bf16", 16), "w4a8": ("int4", 4),
                "fp4": ("fp8", 8)}
    for option, (kv, bits) in expected.items():
        assert catalog.precisions[option].default_kv == kv
        assert catalog.kv_precisions[kv].bits == bits
    # w4a8 has no published retention for a large model: the scenario gives one (it scales quality only)
    sc = scenario(techniques={"quantization": ["none", *expected]},
                  technique_settings={"quantization": {"quality_retention": {"w4a8": 0.97}}})
    got = profiles(sc, catalog)
    assert got["baseline"].kv_bits == 16
    for option, (kv, bits) in expected.items():
        profile = got[f"quantization:{option}"]
        assert (profile.kv_precision, profile.kv_bits) == (kv, bits), option


def test_kv_fp8_on_an_already_8bit_kv_changes_nothing(catalog) -> None:  # type: ignore[no-untyped-def]
    """fp8 and int8 weights bring an 8-bit KV (default_kv): kv-fp8 on top is a no-op, so the pair is
    dropped as a duplicate of the weight-only variant, never scored with a second KV retention."""
    sc = scenario(techniques={"quantization": ["none", "fp8", "int8"], "kv_quantization": ["none", "kv-fp8"]})
    _, base_score, variants, _, exclusions = build_variants(sc, catalog)
    got = {v.name: v.profiles["chat"] for v in variants}
    fp8_keep = catalog.technique_param("quantization", "fp8", "quality_retention", "large").value
    int8_keep = catalog.technique_param("quantization", "int8", "quality_retention", "large").value
    kv_keep = catalog.technique_param("kv_quantization", "kv-fp8", "quality_retention").value
    assert (fp8_keep, int8_keep, kv_keep) == (0.9987, 0.9976, 0.99)
    assert base_score == SCORE_70B
    assert set(got) == {"baseline", "quantization:fp8", "quantization:int8", "kv_quantization:kv-fp8"}
    # 83.6 x 0.9987 = 83.49132 (fp8); 83.6 x 0.9976 = 83.39936 (int8); 83.6 x 0.99 = 82.764 (kv-fp8 alone)
    assert got["quantization:fp8"].quality_score == pytest.approx(83.49132, rel=1e-12)
    assert got["quantization:int8"].quality_score == pytest.approx(83.39936, rel=1e-12)
    assert got["kv_quantization:kv-fp8"].quality_score == pytest.approx(82.764, rel=1e-12)
    assert got["kv_quantization:kv-fp8"].kv_bits == 8
    duplicates = {e.subject: e.reason for e in exclusions if e.family == "duplicate"}
    assert duplicates == {
        "quantization:fp8 + kv_quantization:kv-fp8": "same served profile as quantization:fp8",
        "quantization:int8 + kv_quantization:kv-fp8": "same served profile as quantization:int8",
    }


# ------------------------------------------------------------------ T6, T7, T10: caching

#: response_retention_days 3, store_usd_per_gb_month 20 (scenario); bytes_per_token 4 (catalog)
STORE = {"response_retention_days": 3.0, "store_usd_per_gb_month": 20.0}
# (1 - 0.25 repeat rate) x 3 days x 200 output tokens x 4 bytes / 1e9 = 1.8e-6 GB per daily query reaching
# the store; x $20 per GB-month / 30.4375 days per month x 1e6 queries = 36 / 30.4375 = $1.18275...
RESPONSE_USD = 0.75 * 3 * 200 * 4 / 1e9 * 20 / 30.4375 * 1e6


def test_caching_catalog_figures_used_below(catalog) -> None:  # type: ignore[no-untyped-def]
    assert catalog.technique_param("caching", "*", "bytes_per_token").value == 4.0
    assert catalog.technique_param("caching", "prefix", "distinct_prefixes").value == 1.0
    assert catalog.technique_param("caching", "*", "response_retention_days").value == 1.0
    assert catalog.technique_param("caching", "*", "store_usd_per_gb_month").value == 91.3125  # 0.125 $/GB-h x 730.5 h
    assert DAYS_PER_MONTH == 365.25 / 12 == 30.4375
    assert RESPONSE_USD == pytest.approx(36 / 30.4375, rel=1e-12)


def test_a_prompt_that_is_all_shared_prefix_still_prefills_its_last_token(catalog) -> None:  # type: ignore[no-untyped-def]
    """``shared_prefix_tokens = input_tokens`` made the prefill share 0, which the profile refuses, so
    every plan allowing caching failed with exit 2.  The engine reuses at most I − 1 tokens."""
    sc = scenario(workload={"shared_prefix_tokens": 800}, techniques={"caching": ["none", "prefix"]})
    prefix = profiles(sc, catalog)["caching:prefix"]
    assert prefix.prefill_token_fraction == pytest.approx(1 / 800, rel=1e-12)  # (800 - 799) / 800
    assert prefix.kv_shared_prefix_tokens == 799
    # 1 prefix (catalog) x 799 tokens x 327,680 B (bf16 KV) = 261,816,320 B
    assert prefix.extra_memory_gb_per_replica == pytest.approx(0.26181632, rel=1e-12)


def test_prefix_cache_holds_every_distinct_prefix(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"shared_prefix_tokens": 500}, techniques={"caching": ["none", "prefix"]},
                  technique_settings={"caching": {"distinct_prefixes": 3}})
    prefix = profiles(sc, catalog)["caching:prefix"]
    # 3 distinct prefixes x 500 tokens x 327,680 bytes/token (bf16 KV) = 491,520,000 bytes = 0.49152 GB
    assert prefix.extra_memory_gb_per_replica == pytest.approx(0.49152, rel=1e-12)
    assert prefix.prefill_token_fraction == pytest.approx(300 / 800, rel=1e-12)  # (800 - 500) / 800


@pytest.mark.parametrize(("option", "usd", "held_gb"), [
    # prefix: no store, no recurring cost; 1 prefix (catalog) x 500 x 327,680 B = 0.16384 GB held
    ("prefix", 0.0, 0.16384),
    ("response", RESPONSE_USD, 0.0),
    ("prefix+response", RESPONSE_USD, 0.16384),
])
def test_store_cost_per_million_queries(catalog, option, usd, held_gb) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"shared_prefix_tokens": 500, "repeat_rate": 0.25},
                  techniques={"caching": ["none", "prefix", "response", "prefix+response"]},
                  technique_settings={"caching": STORE})
    got = profiles(sc, catalog)[f"caching:{option}"]
    assert got.recurring_usd_per_million_queries == pytest.approx(usd, rel=1e-12, abs=1e-15)
    assert got.extra_memory_gb_per_replica == pytest.approx(held_gb, rel=1e-12, abs=1e-15)
    assert got.served_query_fraction == pytest.approx(0.75 if "response" in option else 1.0, rel=1e-12)


def test_store_cost_with_the_catalog_defaults(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(workload={"repeat_rate": 0.25}, techniques={"caching": ["none", "response"]})
    got = profiles(sc, catalog)["caching:response"]
    # 0.75 x 1 day x 200 x 4 B = 600 bytes = 6e-7 GB per daily query reaching the store;
    # x $91.3125 per GB-month / 30.4375 days per month = $3 per GB-day (0.125 $/GB-hour x 24 h),
    # x 1e6 queries = 6e-7 x 3 x 1e6 = $1.80 per million
    assert got.recurring_usd_per_million_queries == pytest.approx(1.8, rel=1e-12)


# ------------------------------------------------------------------ T11: distillation boundary


def test_a_fraction_exactly_at_a_published_result_takes_that_result(catalog) -> None:  # type: ignore[no-untyped-def]
    results = published_results(catalog)
    assert {r.slug: r.fraction for r in results} == {
        "llama-3.2-1b": 0.1532, "llama-3.2-3b": 0.3997, "llama-3.1-minitron-4b-width": 0.5625,
        "mn-minitron-8b": 0.6885}
    for r in results:  # "the largest student_params_fraction <= f": f = r.fraction is r itself
        picked = applicable_result(results, r.fraction)
        assert picked is not None and picked.slug == r.slug


def test_a_student_exactly_at_a_published_ratio_takes_that_result(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A student of llama-3.1-70b with 70,553,706,496 x 9/16 = 39,686,459,904 parameters is exactly
    f = 0.5625 (9/16: exact in binary, so the division is exact): Llama-3.1-Minitron-4B-Width's ratio.
    It keeps 0.9265 of the teacher at 94B tokens (not llama-3.2-3b's 0.8696 at 9T, the next one down)."""
    student_params = 39_686_459_904.0
    assert student_params == PARAMS_70B * 9 / 16 and student_params / PARAMS_70B == 0.5625
    row = catalog.models["llama-3.1-8b"].model_dump(exclude_none=True)  # its shape; only the size matters here
    row.update(slug="exact-ratio-student", name="Exact-ratio student", params_total=student_params,
               params_active=student_params, source="test overlay row", source_date="2026-01-01")
    overlay = tmp_path / "student.toml"
    overlay.write_text("schema_version = 1\n\n[[model]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in row.items()),
                       encoding="utf-8")
    cat = planner.load_catalogs([str(overlay)], use_env=False)
    assert cat.models["exact-ratio-student"].params_total == student_params
    sc = scenario(techniques={"distillation": ["none", "exact-ratio-student"]})
    _, teacher, variants, _, _ = build_variants(sc, cat)
    student = next(v for v in variants if v.name == "distillation:exact-ratio-student").profiles["chat"]
    assert teacher == SCORE_70B
    # 83.6 x 0.9265 = 77.4554
    assert student.quality_score == pytest.approx(77.4554, rel=1e-12)
    # 94e9 tokens x (6 x 39,686,459,904 + 2 x 70,553,706,496) = 94e9 x 379,226,172,416 = 3.5647260207104e22
    assert student.one_time_flops == pytest.approx(3.5647260207104e22, rel=1e-12)
    [quality] = [t for t in student.trace if t.field == "quality_score"]
    assert "llama-3.1-minitron-4b-width" in quality.source


# ------------------------------------------------------------------ T13, T15: MoE routing

UPCYCLE = {"upcycle_experts": 8, "upcycle_top_k": 2, "upcycle_tokens": 1e11, "upcycle_quality_delta": 1.0}


def test_upcycle_adds_e_minus_one_ffns(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "llama-3.1-8b"}, techniques={"moe": ["none", "upcycle"]},
                  technique_settings={"moe": UPCYCLE})
    _, base_score, variants, _, _ = build_variants(sc, catalog)
    moe = next(v for v in variants if v.name == "moe:upcycle").profiles["chat"]
    m = catalog.models["llama-3.1-8b"]
    assert (m.params_total, m.layers, m.d_model, m.ffn_dim) == (8_030_261_248, 32, 4096, 14336)
    # F = 3 x 32 layers x 4096 x 14336 = 5,637,144,576 FFN parameters
    # total  = 8,030,261,248 + (8 - 1) x 5,637,144,576 = 47,490,273,280
    # active = 8,030,261,248 + (2 - 1) x 5,637,144,576 = 13,667,405,824
    assert moe.model.params_total == 47_490_273_280
    assert moe.model.params_active == 13_667_405_824
    assert (moe.model.experts, moe.model.experts_per_token) == (8, 2)
    # 6 x 13,667,405,824 x 1e11 tokens = 8.2004434944e21 FLOPs
    assert moe.one_time_flops == pytest.approx(8.2004434944e21, rel=1e-12)
    assert base_score == 69.4 and moe.quality_score == pytest.approx(70.4, rel=1e-12)  # 69.4 + 1


@pytest.mark.parametrize(("slug", "total", "active"), [
    # GPT-J's MLP is plain (fc_in, fc_out): F = 2 x 28 x 4096 x 16384 = 3,758,096,384
    # total = 6,053,381,344 + 7 F = 32,360,056,032; active = 6,053,381,344 + F = 9,811,477,728
    ("gpt-j-6b", 32_360_056_032, 9_811_477_728),
    # OPT's too (fc1, fc2): F = 2 x 40 x 5120 x 20480 = 8,388,608,000
    # total = 12,853,473,280 + 7 F = 71,573,729,280; active = 12,853,473,280 + F = 21,242,081,280
    ("opt-13b", 71_573_729_280, 21_242_081_280),
])
def test_upcycling_a_plain_mlp_copies_two_matrices_per_expert(catalog, slug: str, total: int,
                                                              active: int) -> None:  # type: ignore[no-untyped-def]
    """Up-cycling counted three matrices per expert for every base, so GPT-J to 8 experts came out
    45.5 B parameters instead of 32.4 B (``ModelSpec.gated_mlp``)."""
    from techniques.moe_routing import upcycled

    base = catalog.models[slug]
    assert not base.gated_mlp
    moe = upcycled(base, experts=8, top_k=2)
    assert (moe.params_total, moe.params_active) == (total, active)


@pytest.mark.parametrize(("base", "option", "settings", "base_score", "score"), [
    # 69.4 (llama-3.1-8b MMLU) + 100 = 169.4 -> clamped to 100
    ("llama-3.1-8b", "upcycle", {**UPCYCLE, "upcycle_quality_delta": 100.0}, 69.4, 100.0),
    # 70.6 (mixtral-8x7b MMLU) - 100 = -29.4 -> clamped to 0
    ("mixtral-8x7b", "reduce-top-k", {"reduced_top_k": 1, "reduced_top_k_quality_delta": -100.0}, 70.6, 0.0),
])
def test_moe_quality_is_clamped_to_0_100(catalog, base, option, settings, base_score, score) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": base}, techniques={"moe": ["none", option]}, technique_settings={"moe": settings})
    _, got_base, variants, _, _ = build_variants(sc, catalog)
    assert got_base == base_score
    moe = next(v for v in variants if v.name == f"moe:{option}").profiles["chat"]
    assert moe.quality_score == score
