"""Single physics terms checked exactly against the module docstrings' formulas, by hand on round numbers.

The calibration tests' error bands are wide enough to absorb a wrong term; each test here pins one term
that a mutation-testing review found unguarded (roofline: KV sharding, the one-sequence fit, MoE experts
touched by a speculative verify pass, the KV streams' own efficiency; queueing: the P99 occupancy, the
residual-plus-one-iteration wait, the chord step's span).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from planner.physics.queueing import ReplicaQueue, _chord_step, tail_latency
from planner.physics.roofline import evaluate
from tests.physics.test_roofline import TOY_DRAFT, toy

#: Bytes of KV per token of the toy model (10 layers × K,V × 10 kv heads × head dim 100 × 2 bytes), unsharded.
TOY_KV_TOKEN = 10 * 2 * 10 * 100 * 2  # 40 kB
#: Bytes of KV per token of the toy draft (2 layers × K,V × 10 × 100 × 2 bytes).
TOY_DRAFT_KV_TOKEN = 2 * 2 * 10 * 100 * 2  # 8 kB
#: Φ⁻¹(0.99), computed here independently of the module's constant.
Z99 = NormalDist().inv_cdf(0.99)


# ------------------------------------------------------------------------------------------- roofline

def test_kv_cache_is_split_over_min_tp_and_kv_heads() -> None:
    """KV per token ``L·2·kv_heads·h`` is split over ``min(t, kv_heads)`` GPUs: with 2 KV heads, TP4 holds
    each head on two GPUs (replicated), so a GPU's share is the TP2 one, not half of it."""
    kv_token_2_heads = 10 * 2 * 2 * 100 * 2  # 8 kB per token, the whole model
    context = 100 + 100 / 2  # I + O/2
    tp2 = evaluate(toy(kv_heads=2, tp=2))
    tp4 = evaluate(toy(kv_heads=2, tp=4))
    assert tp2.kv_gb_per_sequence_per_gpu[0] == pytest.approx(context * kv_token_2_heads / 2 / 1e9, rel=1e-12)
    assert tp4.kv_gb_per_sequence_per_gpu[0] == pytest.approx(context * kv_token_2_heads / 2 / 1e9, rel=1e-12)
    assert tp4.kv_gb_per_sequence_per_gpu[0] == tp2.kv_gb_per_sequence_per_gpu[0]
    # and the memory fit uses the same share: (I + r·O) × 8 kB / 2 reserved per sequence per GPU
    reserved = 200 * kv_token_2_heads / 2
    assert tp4.max_batch[0] == np.floor((80e9 - 2e9 / 4) / reserved)


@pytest.mark.parametrize("batch", [0, 1])
def test_memory_for_exactly_one_sequence_fits_at_batch_one(batch: int) -> None:
    """``b·KV_reserved ≤ f·(HBM − W/t)`` with room for 1.5 sequences: the largest batch is 1, and it fits
    (auto batch and an explicit batch 1 alike)."""
    weights = 2e9  # 1e9 params × 2 bytes
    reserved = (100 + 1.0 * 100) * TOY_KV_TOKEN  # (I + r·O) × 40 kB = 8 MB
    r = evaluate(toy(memory_bytes=weights + 1.5 * reserved, batch=batch))
    assert r.max_batch[0] == 1.0
    assert r.fits[0]
    assert r.batch[0] == 1.0
    assert np.isfinite(r.tpot_s[0]) and np.isfinite(r.ttft_s[0])
    assert r.memory_gb_per_gpu[0] == pytest.approx((weights + reserved) / 1e9, rel=1e-12)


def test_speculative_verify_pass_touches_experts_for_every_verified_token() -> None:
    """MoE with a draft: the target's verify pass runs ``b(γ+1)`` tokens, so it touches a fraction
    ``1 − (1 − k/E)^{b(γ+1)}`` of the routed experts (not ``^b``); a round is ``T_v + γ·T_d`` for
    ``E = (1 − α^{γ+1})/(1 − α)`` tokens.  Compute is made negligible (1 EFLOP/s, p = 64) so each pass is
    its memory time."""
    b, gamma, alpha = 2, 3, 0.5
    moe = {"params_total": 8e9, "params_active": 2.5e9, "experts": 8, "experts_per_token": 2, "vocab_size": 2}
    r = evaluate(toy(batch=b, draft_tokens=gamma, acceptance_rate=alpha, peak_flops_per_s=1e18,
                     **moe, **TOY_DRAFT))
    routed = (8e9 - 2.5e9) / (1 - 2 / 8)  # N_r = (N − N_a) / (1 − k/E)
    touched = 1 - (1 - 2 / 8) ** (b * (gamma + 1))  # 1 − 0.75^8
    context = 100 + 100 / 2
    verify = ((8e9 - routed * (1 - touched)) * 2 + b * context * TOY_KV_TOKEN) / 1e12  # W_touched + b·KV_seq
    draft = (2e8 + b * context * TOY_DRAFT_KV_TOKEN) / 1e12  # W_d + b·KV_d,seq
    tokens = (1 - alpha ** (gamma + 1)) / (1 - alpha)  # 1.875
    assert r.step_s[0] == pytest.approx((verify + gamma * draft) / tokens, rel=1e-12)
    # the memory part of the request is the same per-token step memory, O/b steps of it
    assert r.memory_s_per_request[0] == pytest.approx(100 / b * (verify + gamma * draft) / tokens, rel=1e-12)


@pytest.mark.parametrize(("weight_eff", "kv_eff"), [(0.5, 1.0), (1.0, 0.5)])
def test_kv_reads_use_the_kv_efficiency_and_weights_the_weight_efficiency(weight_eff: float, kv_eff: float) -> None:
    """Batch-1 step ``W/(B·η_m) + KV_seq/(B·η_kv)`` (memory-bound; p = 64 leaves compute out)."""
    r = evaluate(toy(memory_efficiency=weight_eff, kv_memory_efficiency=kv_eff, input_tokens=4950))
    kv_seq = (4950 + 100 / 2) * TOY_KV_TOKEN  # 5000 tokens × 40 kB = 200 MB
    expected = 2e9 / (1e12 * weight_eff) + kv_seq / (1e12 * kv_eff)
    assert r.step_s[0] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------------- queueing

def _queue(**over: float) -> ReplicaQueue:
    """One replica: 10 req/s saturated, 50 ms prefill (40 ms of GPU), 20 ms step at batch 1, 50 ms at c."""
    base = {"capacity_rps": 10.0, "slots": 16.0, "prefill_s": 0.05, "prefill_gpu_s": 0.04, "step_s": 0.05,
            "step_one_s": 0.02, "holding_cv": 1.0}
    return ReplicaQueue.broadcast(**{**base, **over})


def test_p99_tpot_is_the_chord_step_at_the_p99_occupancy() -> None:
    """``n₉₉ = min(c, a + z₉₉·√a)`` with ``a = ρc``; P99 TPOT ``= T(n₉₉)/(1 − φ)``, ``φ = λG_p``.
    c = 16, ρ = 0.25: a = 4, √a = 2, n₉₉ = 4 + 2z (< 16); T(n) = 20 ms + 2 ms·(n − 1); φ = 2.5 × 0.04."""
    q = _queue()
    n99 = 4 + Z99 * 2
    step = 0.02 + (0.05 - 0.02) * (n99 - 1) / (16 - 1)
    phi = 0.25 * 10 * 0.04
    assert tail_latency(q, 0.25).tpot_p99_s[0] == pytest.approx(step / (1 - phi), rel=1e-12)


def test_mean_ttft_waits_for_a_residual_plus_one_iteration() -> None:
    """Mean TTFT ``= C/θ + T_p + 1.5·p_b·T_it`` and P99 TTFT ``= ln(C/0.01)/θ + m + z₉₉·√v`` with
    ``v = p_b·(T_it²/12 + G_p²·λ·T_it)``.  c = 4, ρ = 0.5: a = 2, λ = 5, φ = 0.2, p_b = 1 − e⁻²,
    T(2) = 20 + 30/3 = 30 ms, T_it = 30/0.8 = 37.5 ms, θ = 2·10·0.5/2 = 5.
    Erlang B by recursion: B₁ = 2/3, B₂ = 2/5, B₃ = 4/19, B₄ = 2/21; C = B₄/(1 − ½(1 − B₄)) = 4/23."""
    q = _queue(slots=4.0)
    erlang_c, theta = 4 / 23, 5.0
    iteration = 0.03 / 0.8
    busy = 1 - math.exp(-2)
    d_mean = 0.05 + 1.5 * busy * iteration
    d_var = busy * (iteration**2 / 12 + 0.04**2 * 5 * iteration)
    tail = tail_latency(q, 0.5)
    assert tail.ttft_mean_s[0] == pytest.approx(erlang_c / theta + d_mean, rel=1e-12)
    assert tail.ttft_p99_s[0] == pytest.approx(math.log(erlang_c / 0.01) / theta + d_mean + Z99 * math.sqrt(d_var),
                                               rel=1e-12)
    assert tail.tpot_mean_s[0] == pytest.approx(iteration, rel=1e-12)
    assert tail.wait_probability[0] == pytest.approx(erlang_c, rel=1e-12)


def test_chord_step_spans_batch_one_to_batch_c() -> None:
    """``T(n) = T_1 + (T_c − T_1)(n − 1)/(c − 1)``: T(1) = T_1, T(c) = T_c, linear between (clipped outside);
    a single slot (c = 1) is T_1 throughout."""
    q = _queue(slots=5.0)
    assert _chord_step(q, np.array([1.0]))[0] == pytest.approx(0.02, rel=1e-12)
    assert _chord_step(q, np.array([5.0]))[0] == pytest.approx(0.05, rel=1e-12)
    assert _chord_step(q, np.array([3.0]))[0] == pytest.approx(0.035, rel=1e-12)  # halfway
    assert _chord_step(q, np.array([9.0]))[0] == pytest.approx(0.05, rel=1e-12)
    one = _queue(slots=1.0)
    assert _chord_step(one, np.array([1.0]))[0] == pytest.approx(0.02, rel=1e-12)
    # through the public function: at ρ = 0.9 the P99 occupancy 4.5 + z√4.5 is clipped to c = 5, so the
    # P99 TPOT is the batch-c step over 1 − φ, φ = 9 × 0.04
    assert tail_latency(q, 0.9).tpot_p99_s[0] == pytest.approx(0.05 / (1 - 0.36), rel=1e-12)
