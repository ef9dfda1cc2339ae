"""Hand-checkable physics of the vectorised roofline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.physics.profile import base_profile, hardware_columns, model_columns
from planner.physics.roofline import BOUND_NAMES, RooflineInputs, evaluate


def toy(**overrides: Any) -> RooflineInputs:
    """A dense toy model on a toy GPU with round numbers (1 B params, 1 TB/s, 100 TFLOP/s)."""
    columns: dict[str, Any] = dict(
        params_total=1e9, params_active=1e9, layers=10, d_model=1000, attention_heads=10, kv_heads=10,
        head_dim=100, kv_latent_dim=0, kv_latent_value_dim=0, vocab_size=1000, tied_embeddings=1.0, experts=1, experts_per_token=1,
        weight_bits=16, embedding_bits=16, kv_bits=16, comm_bits=16,
        peak_flops_per_s=100e12, memory_bandwidth_bytes_per_s=1e12, memory_bytes=80e9,
        link_bytes_per_s=100e9, domain_gpus=8,
        compute_efficiency=1.0, memory_efficiency=1.0, kv_memory_efficiency=1.0, comm_efficiency=1.0,
        allreduce_latency_s=0.0, step_fixed_s=0.0, layer_fixed_s=0.0, moe_layer_fixed_s=0.0, decode_overlap_norm=64.0, kv_free_memory_fraction=1.0, kv_reserved_output_fraction=1.0, max_batch=256,
        tp=1, batch=1, input_tokens=100, output_tokens=100, prefill_token_fraction=1.0, extra_memory_bytes=0.0,
        kv_shared_prefix_tokens=0.0, extra_prefill_flops=0.0,
        draft_tokens=0, acceptance_rate=0.0, draft_params_total=0.0, draft_embed_params=0.0,
        draft_compute_params=0.0, draft_layers=0.0, draft_d_model=0.0, draft_kv_elems_per_token=0.0,
    )
    columns.update(overrides)
    return RooflineInputs.broadcast(**columns)


def test_batch1_decode_reads_the_weights_once() -> None:
    r = evaluate(toy())
    weights_s = 2e9 / 1e12  # 1e9 params x 2 bytes at 1 TB/s
    kv_per_token = 10 * 2 * 10 * 100 * 2  # layers x (K,V) x heads x head_dim x bytes
    kv_s = 150 * kv_per_token / 1e12  # mean context I + O/2 = 150 tokens
    assert r.step_s[0] == pytest.approx(weights_s + kv_s, rel=1e-9)
    assert BOUND_NAMES[r.bound[0]] == "memory"


def test_large_batch_becomes_compute_bound() -> None:
    r = evaluate(toy(batch=256, input_tokens=10, output_tokens=10))
    flops = 256 * (2 * 1e9 + 4 * 10 * 1000 * 15)  # 2 N per token + attention at context 15
    assert r.step_s[0] == pytest.approx(flops / 100e12, rel=1e-9)


def test_prefill_flops_include_causal_attention() -> None:
    r = evaluate(toy(input_tokens=1000, weight_bits=1))  # tiny weights: compute-bound prefill
    flops = 2 * 1e9 * 1000 + 2 * 10 * 1000 * 1000**2  # 2 N I + 2 L (H h) I^2
    assert r.prefill_s[0] == pytest.approx(flops / 100e12, rel=1e-9)


def test_four_bit_weights_are_half_a_byte_not_zero() -> None:
    r16 = evaluate(toy(tied_embeddings=1.0, vocab_size=2))
    r4 = evaluate(toy(tied_embeddings=1.0, vocab_size=2, weight_bits=4))
    assert r4.weight_gb_per_gpu[0] == pytest.approx(r16.weight_gb_per_gpu[0] / 4, rel=1e-3)
    assert r4.weight_gb_per_gpu[0] > 0


def test_gqa_shrinks_the_kv_cache_by_heads_over_kv_heads() -> None:
    mha = evaluate(toy(kv_heads=10))
    gqa = evaluate(toy(kv_heads=2))
    assert gqa.kv_gb_per_sequence_per_gpu[0] == pytest.approx(mha.kv_gb_per_sequence_per_gpu[0] / 5)


def test_mla_latent_cache_is_not_split_across_tp() -> None:
    r1 = evaluate(toy(kv_latent_dim=64, tp=1))
    r2 = evaluate(toy(kv_latent_dim=64, tp=2))
    assert r2.kv_gb_per_sequence_per_gpu[0] == pytest.approx(r1.kv_gb_per_sequence_per_gpu[0])
    assert r1.kv_gb_per_sequence_per_gpu[0] == pytest.approx(150 * 10 * 64 * 2 / 1e9)


def test_moe_touches_k_experts_at_batch_one_and_all_at_large_batch() -> None:
    # 8 experts, top-2: routed params = (N - N_a) / (1 - k/E)
    moe = dict(params_total=8e9, params_active=2.5e9, experts=8, experts_per_token=2, vocab_size=2)
    routed = (8e9 - 2.5e9) / (1 - 2 / 8)
    dense_part = 8e9 - routed
    b1 = evaluate(toy(batch=1, kv_bits=1e-9, **moe))
    touched_b1 = dense_part + routed * (1 - (1 - 0.25) ** 1)
    assert b1.step_s[0] == pytest.approx(touched_b1 * 2 / 1e12, rel=1e-6)
    b64 = evaluate(toy(batch=64, kv_bits=1e-9, **moe, peak_flops_per_s=1e18))
    assert b64.step_s[0] == pytest.approx(8e9 * 2 / 1e12, rel=1e-6)  # every expert read


def test_tp_adds_two_allreduces_per_layer() -> None:
    r = evaluate(toy(tp=2, allreduce_latency_s=1e-5, batch=1))
    ring_bytes = 2 * (2 - 1) / 2 * 1 * 1000 * 2
    comm = 2 * 10 * (1e-5 + ring_bytes / 100e9)
    one = evaluate(toy(tp=2, allreduce_latency_s=1e-5, batch=1, link_bytes_per_s=1e30))
    assert r.step_s[0] - one.step_s[0] == pytest.approx(ring_bytes / 100e9 * 20, rel=1e-6)
    assert evaluate(toy(tp=1, allreduce_latency_s=1e-5)).communication_s_per_request[0] == 0.0
    assert r.communication_s_per_request[0] > 100 * comm * 0.99  # 100 decode steps at batch 1 (+ prefill)


def test_auto_batch_is_largest_that_fits_and_explicit_batch_is_checked() -> None:
    # KV reserved per sequence: (100 + 100) tokens x 40 kB = 8 MB; free memory 10 GB - 2 GB weights
    r = evaluate(toy(memory_bytes=10e9, batch=0, max_batch=10_000))
    assert r.max_batch[0] == np.floor(8e9 / (200 * 40_000))
    assert r.batch[0] == r.max_batch[0]
    capped = evaluate(toy(memory_bytes=10e9, batch=0, max_batch=7))
    assert capped.batch[0] == 7 and capped.fits[0]
    too_big = evaluate(toy(memory_bytes=10e9, batch=r.max_batch[0] + 1))
    assert not too_big.fits[0] and np.isnan(too_big.ttft_s[0])


def test_model_bigger_than_memory_does_not_fit() -> None:
    r = evaluate(toy(memory_bytes=1e9))
    assert not r.fits[0] and r.max_batch[0] == 0


def test_tp_beyond_the_scaleup_domain_does_not_fit() -> None:
    assert not evaluate(toy(tp=16, domain_gpus=8)).fits[0]


def test_throughput_identity_and_latency_consistency() -> None:
    r = evaluate(toy(batch=32, input_tokens=500, output_tokens=200))
    gpu_s = r.prefill_gpu_s[0] + 200 * r.step_s[0] / 32
    assert r.requests_per_s[0] == pytest.approx(1 / gpu_s)
    assert r.output_tokens_per_s[0] == pytest.approx(200 / gpu_s)
    assert r.tpot_s[0] >= r.step_s[0] and r.ttft_s[0] >= r.prefill_s[0]


def test_prefix_cache_cuts_prefill_but_not_kv() -> None:
    full = evaluate(toy(input_tokens=1000, weight_bits=1))
    half = evaluate(toy(input_tokens=1000, weight_bits=1, prefill_token_fraction=0.5))
    assert half.prefill_s[0] < 0.6 * full.prefill_s[0]
    assert half.kv_gb_per_sequence_per_gpu[0] == full.kv_gb_per_sequence_per_gpu[0]


def test_vectorised_rows_equal_single_rows(catalog) -> None:  # type: ignore[no-untyped-def]
    """Many rows in one call give exactly what each row gives alone."""
    spec = catalog.models["llama-3.1-70b"]
    rows = []
    for hw in ("h100-sxm", "a100-80gb", "h200"):
        for prec in ("bf16", "fp8", "w4a16"):
            profile = base_profile(spec, prec, None, catalog)
            for tp in (2, 4, 8):
                rows.append({**model_columns(profile), **hardware_columns(catalog.hardware[hw], profile, catalog),
                             "tp": tp, "batch": 0, "input_tokens": 800, "output_tokens": 250})
    stacked = RooflineInputs.broadcast(**{k: np.array([r[k] for r in rows]) for k in rows[0]})
    together = evaluate(stacked)
    for i, row in enumerate(rows):
        alone = evaluate(RooflineInputs.broadcast(**row))
        np.testing.assert_allclose(together.tpot_s[i], alone.tpot_s[0], equal_nan=True)
        np.testing.assert_allclose(together.requests_per_s[i], alone.requests_per_s[0], equal_nan=True)


def test_fp8_on_a100_falls_back_to_bf16_compute(catalog) -> None:  # type: ignore[no-untyped-def]
    est = planner.estimate("llama-3.1-8b", "a100-80gb", precision="fp8", input_tokens=100, output_tokens=10,
                           catalog=catalog)
    assert est.precision_fallback and est.compute_dtype_used == "bf16"
    assert est.weight_gb_per_gpu < 0.6 * planner.estimate(
        "llama-3.1-8b", "a100-80gb", precision="bf16", input_tokens=100, output_tokens=10, catalog=catalog
    ).weight_gb_per_gpu


def test_gpus_give_replicas(catalog) -> None:  # type: ignore[no-untyped-def]
    one = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", tp=1, gpus=1, input_tokens=500,
                           output_tokens=100, catalog=catalog)
    four = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", tp=1, gpus=4, input_tokens=500,
                            output_tokens=100, catalog=catalog)
    assert four.replicas == 4
    assert four.output_tokens_per_s == pytest.approx(4 * one.output_tokens_per_s)
    assert four.tpot_ms == pytest.approx(one.tpot_ms)


# ------------------------------------------------------------------------------ speculative decoding

#: A toy draft a tenth of the toy model: 0.1 B params (tied 1000x1000 embedding), 2 layers, width 1000.
TOY_DRAFT = dict(draft_params_total=1e8, draft_embed_params=1e6, draft_compute_params=1e8, draft_layers=2,
                 draft_d_model=1000, draft_kv_elems_per_token=2 * 2 * 10 * 100)


def test_no_draft_is_plain_decoding() -> None:
    plain = evaluate(toy(batch=8))
    none = evaluate(toy(batch=8, draft_tokens=0, acceptance_rate=0.9))
    assert none.step_s[0] == plain.step_s[0] and none.requests_per_s[0] == plain.requests_per_s[0]


def test_speculation_at_batch1_is_one_pass_plus_draft_steps_over_expected_tokens() -> None:
    """Memory-bound at batch 1: the target pass over γ+1 tokens reads the weights once."""
    alpha, gamma = 0.8, 4
    r = evaluate(toy(draft_tokens=gamma, acceptance_rate=alpha, **TOY_DRAFT))
    kv_token = 10 * 2 * 10 * 100 * 2
    target_pass = (2e9 + 150 * kv_token) / 1e12  # weights + KV at mean context 150, bytes at 1 TB/s
    draft_step = (2e8 + 150 * 2 * 2 * 10 * 100 * 2) / 1e12
    expected_tokens = (1 - alpha ** (gamma + 1)) / (1 - alpha)  # 3.3616
    assert r.step_s[0] == pytest.approx((target_pass + gamma * draft_step) / expected_tokens, rel=1e-9)
    assert r.step_s[0] / evaluate(toy()).step_s[0] == pytest.approx(0.42, abs=0.01)  # (1 + 4 x 0.1) / 3.36
    assert r.weight_gb_per_gpu[0] == pytest.approx((2e9 + 2e8) / 1e9, rel=1e-9)  # the draft's weights too


def test_speculation_stops_paying_when_the_pass_is_compute_bound() -> None:
    big = dict(batch=256, input_tokens=10, output_tokens=10)
    plain = evaluate(toy(**big)).step_s[0]
    spec = evaluate(toy(draft_tokens=4, acceptance_rate=0.8, **TOY_DRAFT, **big)).step_s[0]
    assert spec > plain  # verifying 5 tokens costs 5x the FLOPs; 3.36 tokens come out


def test_a_draft_that_is_never_accepted_only_costs() -> None:
    spec = evaluate(toy(draft_tokens=2, acceptance_rate=0.0, **TOY_DRAFT))
    assert spec.step_s[0] > evaluate(toy()).step_s[0]


def test_overlap_is_the_p_norm_of_compute_and_memory_time() -> None:
    from planner.physics.roofline import overlap

    c, m = np.array([3.0, 1.0, 0.0]), np.array([4.0, 1.0, 2.0])
    assert overlap(c, m, np.full(3, 2.0)) == pytest.approx([5.0, 2.0 ** 0.5, 2.0])  # 3-4-5 by hand
    assert overlap(c, m, np.full(3, 1.0)) == pytest.approx(c + m)  # no overlap: the sum
    assert overlap(c, m, np.full(3, 64.0)) == pytest.approx(np.maximum(c, m), rel=0.011)  # large p: the max


def test_a_decode_step_at_the_ridge_takes_longer_than_either_limit() -> None:
    # the toy model at the batch where compute time equals memory time: with p = 2 the step is √2 × either,
    # with a large p it is the classic roofline's max
    soft, hard = evaluate(toy(batch=96, decode_overlap_norm=2.0)), evaluate(toy(batch=96))
    assert soft.step_s[0] > hard.step_s[0]
    assert soft.step_s[0] <= 2 ** 0.5 * hard.step_s[0] * 1.0001


def test_a_draft_holds_its_own_copy_of_the_shared_prefix() -> None:
    """A prefix cache holds the served model's prefix KV once (``extra_memory_bytes``) and takes those
    tokens off every sequence's reservation, the draft's share too; the draft's copy of the prefix is
    held once per replica as well (it was counted nowhere)."""
    prefix, extra = 60.0, 60 * 10 * 2 * 10 * 100 * 2  # the served model's prefix KV: 60 tokens x 40 kB
    draft_token = 2 * 2 * 10 * 100 * 2  # the toy draft's KV bytes per token (2 layers)
    common = dict(batch=4, draft_tokens=2, acceptance_rate=0.8, kv_shared_prefix_tokens=prefix,
                  extra_memory_bytes=extra, **TOY_DRAFT)
    r = evaluate(toy(**common))
    weights = 2e9 + 2e8
    reserved = (100 - prefix + 100) * (10 * 2 * 10 * 100 * 2 + draft_token)  # I − P + r·O tokens, both models
    assert r.memory_gb_per_gpu[0] * 1e9 == pytest.approx(weights + 4 * reserved + extra + prefix * draft_token)
    free = 80e9 - weights - extra - prefix * draft_token
    assert r.max_batch[0] == np.floor(free / reserved)


def test_fixed_per_pass_time_is_overhead_not_communication() -> None:
    """At TP1 nothing is communicated: the fixed per-pass time T_f = τ_step + L·τ_layer is its own part of
    the request (decode steps × T_f), and the bound when it is the largest — never "communication"."""
    fixed = dict(step_fixed_s=2e-3, layer_fixed_s=1e-4)  # T_f = 2 ms + 10 × 0.1 ms = 3 ms; a step's reads ~2.1 ms
    r = evaluate(toy(**fixed))
    assert r.communication_s_per_request[0] == 0.0
    assert r.overhead_s_per_request[0] == pytest.approx(100 * 3e-3)  # 100 decode steps at batch 1
    assert BOUND_NAMES[r.bound[0]] == "overhead"
    assert r.step_s[0] == pytest.approx(evaluate(toy()).step_s[0] + 3e-3, rel=1e-9)
    assert BOUND_NAMES[evaluate(toy(step_fixed_s=1e-5)).bound[0]] == "memory"
    tp2 = evaluate(toy(tp=2, allreduce_latency_s=1e-5, **fixed))
    assert tp2.overhead_s_per_request[0] == pytest.approx(100 * 3e-3)
    assert tp2.communication_s_per_request[0] > 0.0  # the all-reduces alone
