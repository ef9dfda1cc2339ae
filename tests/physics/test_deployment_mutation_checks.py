"""Deployment physics terms a mutation-testing review found unguarded, each checked against its module
docstring's formula by hand on round numbers.

* :mod:`planner.physics.queueing`: the Allen–Cunneen / Kingman decay ``θ = 2R(1 − ρ)/(1 + c_s²)`` with a
  holding-time CV other than 0 or 1 (its mean is the Pollaczek–Khinchine mean at ``c = 1``), the ``ρ_max``
  bisection at a TPOT target equal to the unloaded ``T_1``, and ``ρ_max = 0`` for replicas with no capacity.
* :mod:`planner.physics.roofline`: a speculative round's draft steps at TP2 (compute, memory, all-reduce and
  fixed time), the prefix-cached and extra prefill work, and the per-replica extra memory split over ``t`` GPUs.
* :mod:`planner.physics.expert_parallel` / :mod:`planner.physics.ep_deployment`: the degree's checks, the scale-up
  link's latency, and a whole EP replica at TP2 (all-reduce over the group's ``b_g``, all-to-all over ``b``).
* :mod:`planner.physics.disaggregation`: a prefill pool batching ``b_p`` prompts, the link's M/D/1 wait in the mean
  and P99 TTFT, the closed-form rate at a mean TTFT target, MLA's KV bytes and lanes, the decode pool's P99 chord
  from ``T_s(1)``, the intra-node GPU count under EP, the link columns of :func:`build_pair_inputs`.
* :mod:`planner.physics.deployment`: argument checks, the fit error's field, rates over replicas, engine spread,
  ``calibrated``.

The toy rows are ``tests/physics/test_roofline.py``'s (1 TB/s, 100 TFLOP/s per GPU, 10 layers, d 1000,
10 KV heads of 100, 16-bit everything: 40 kB of KV per token) so every figure is round.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from planner.catalog.store import Catalog
from planner.errors import FitError, InputError, ScenarioError
from planner.physics.deployment import (
    _figures,
    _with_engine_spread,
    calibrated,
    estimate,
    model_is_file,
    resolve_model,
)
from planner.physics.disaggregation import (
    PairCandidate,
    PoolPairInputs,
    PoolSpec,
    build_pair_inputs,
    check_candidate,
    evaluate_pairs,
)
from planner.physics.ep_deployment import (
    EP_FIELD,
    ScaleUpLink,
    checked_degree,
    evaluate_expert_parallel,
)
from planner.physics.expert_parallel import check_expert_parallel
from planner.physics.profile import base_profile, hardware_columns, model_columns
from planner.physics.queueing import ReplicaQueue, max_utilisation, tail_latency
from planner.physics.roofline import FloatArray, RooflineInputs, evaluate
from tests.physics.test_roofline import TOY_DRAFT, toy

#: Φ⁻¹(0.99), computed here independently of the queueing module's constant.
Z99 = NormalDist().inv_cdf(0.99)


def _given(values: NDArray[Any] | None) -> NDArray[Any]:
    """A result column ``evaluate_pairs`` always sets (typed optional for other producers)."""
    assert values is not None
    return values


def _queue(**over: ArrayLike) -> ReplicaQueue:
    """One replica: 10 req/s saturated, 4 slots, 50 ms prefill (40 ms of GPU), 20 ms step at batch 1, 50 ms at c."""
    base = {"capacity_rps": 10.0, "slots": 4.0, "prefill_s": 0.05, "prefill_gpu_s": 0.04, "step_s": 0.05,
            "step_one_s": 0.02, "holding_cv": 1.0}
    return ReplicaQueue.broadcast(**{**base, **over})


# ------------------------------------------------------------------------------------------- queueing


@pytest.mark.parametrize("cv", [0.5, 2.0])
def test_single_slot_mean_wait_is_pollaczek_khinchine_for_any_holding_cv(cv: float) -> None:
    """Module docstring: at ``c = 1`` the mean ``C/θ`` is the P-K mean ``ρ(1 + c_s²)/(2μ(1 − ρ))`` for any ``c_s``
    (the module's own claim for the Allen–Cunneen scaling).  μ = 4, ρ = 0.5, no iteration terms: c_s = 0.5 → 0.5·1.25/4 = 0.15625 s;
    c_s = 2 → 0.5·5/4 = 0.625 s (with ``1 + c_s`` in place of ``1 + c_s²``: 0.1875 and 0.375 s)."""
    q = _queue(capacity_rps=4.0, slots=1.0, prefill_s=0.0, prefill_gpu_s=0.0, step_s=0.0, step_one_s=0.0,
               holding_cv=cv)
    expected = 0.5 * (1 + cv**2) / (2 * 4.0 * (1 - 0.5))
    assert expected == pytest.approx({0.5: 0.15625, 2.0: 0.625}[cv], rel=1e-12)
    tail = tail_latency(q, 0.5)
    assert tail.ttft_mean_s[0] == pytest.approx(expected, rel=1e-12)
    # the P99: W₉₉ = ln(C/0.01)/θ with C = ρ = 0.5 (M/G/1) and θ = 2μ(1 − ρ)/(1 + c_s²)
    theta = 2 * 4.0 * 0.5 / (1 + cv**2)
    assert tail.ttft_p99_s[0] == pytest.approx(math.log(0.5 / 0.01) / theta, rel=1e-12)


def test_slot_wait_decay_with_holding_cv_half_on_four_slots() -> None:
    """c = 4, ρ = 0.5, c_s = 0.5: θ = 2·10·0.5/1.25 = 8; Erlang C(4, 2) = 4/23 (B₄ = 2/21 by the recursion).
    Iteration part as in test_hand_terms: φ = 0.2, T(2) = 30 ms, T_it = 37.5 ms, p_b = 1 − e⁻²."""
    q = _queue(holding_cv=0.5)
    erlang_c, theta = 4 / 23, 8.0
    iteration = 0.03 / 0.8
    busy = 1 - math.exp(-2)
    d_mean = 0.05 + 1.5 * busy * iteration
    d_var = busy * (iteration**2 / 12 + 0.04**2 * 5 * iteration)
    tail = tail_latency(q, 0.5)
    assert tail.ttft_mean_s[0] == pytest.approx(erlang_c / theta + d_mean, rel=1e-12)
    assert tail.ttft_p99_s[0] == pytest.approx(math.log(erlang_c / 0.01) / theta + d_mean + Z99 * math.sqrt(d_var),
                                               rel=1e-12)


def test_a_tpot_target_equal_to_the_unloaded_step_allows_load_up_to_one_busy_slot() -> None:
    """Module docstring item 4: a target *below* ``T_1`` gives 0; a target equal to it is met while the P99
    occupancy ``n₉₉ = a + z₉₉·√a`` stays ≤ 1 (the chord ``T(n)`` is ``T_1`` there; no prefill share: ``G_p = 0``).
    ``a + z√a = 1`` ⇒ ``√a = (√(z² + 4) − z)/2``; c = 4 slots: ``ρ_max = a/4`` ≈ 0.0344."""
    q = _queue(prefill_gpu_s=0.0)
    root = (math.sqrt(Z99**2 + 4) - Z99) / 2
    rho = root**2 / 4
    assert rho == pytest.approx(0.0344, abs=1e-4)
    assert max_utilisation(q, np.nan, 0.02)[0] == pytest.approx(rho, rel=1e-9)
    assert max_utilisation(q, np.nan, 0.02 * (1 - 1e-9))[0] == 0.0  # just below T_1


def test_replicas_without_a_capacity_get_zero_whatever_the_target() -> None:
    """``ρ_max`` is 0 for a replica the roofline refused (capacity NaN, 0 or ∞, or fewer than one slot) even under
    a TPOT target every valid replica meets at full load (here 1 s ≥ T_c = 50 ms, no TTFT target); the valid
    row next to them gets exactly 1."""
    q = _queue(capacity_rps=np.array([np.nan, 0.0, np.inf, 10.0, 10.0]), slots=np.array([4.0, 4.0, 4.0, 0.0, 4.0]))
    np.testing.assert_array_equal(max_utilisation(q, np.nan, 1.0), [0.0, 0.0, 0.0, 0.0, 1.0])


# ------------------------------------------------------------------------------------------- roofline


def test_speculative_round_at_tp2_by_hand() -> None:
    """TP2, b = 4, γ = 2, α = 0.5, p = 1 (compute and memory add), τ_step 100 µs, τ_layer 10 µs, α_ar 1 µs.

    Target verify pass over b(γ+1) = 12 tokens (peak 2 × 100 TFLOP/s, tied embeddings: N_c = 1e9):
      F_d = 2·1e9 + 2·L·(2·H·h)·s = 2e9 + 2·10·2000·150 = 2.006e9; compute 12 × 2.006e9 / 2e14 = 120.36 µs;
      memory: weights 2e9 B / 2 GPUs = 1e9 B → 1 ms, KV 4 seq × 150 tok × 40 kB / min(2, 10) = 12 MB → 12 µs;
      all-reduce T_ar(12) = 2L·(1 µs + 2·(1/2)·12·1000·2 B / 100 GB/s) = 20 × 1.24 µs = 24.8 µs; T_f = 100 + 10×10 µs.
      T_v = 120.36 + 1012 + 24.8 + 200 = 1357.16 µs.
    Draft step at b = 4 (same TP2: 1e8 params, 2 layers, KV 8 kB per token):
      compute 4 × 2·1e8 / 2e14 = 4 µs; memory 2e8 B / 2 → 100 µs + 4 × 150 × 8 kB / 2 = 2.4 MB → 2.4 µs;
      all-reduce T_ar,d(4) = 2·2·(1 µs + 4·1000·2 B / 100 GB/s) = 4 × 1.08 µs = 4.32 µs; τ_step + L_d·τ_layer = 120 µs.
      T_d = 4 + 102.4 + 4.32 + 120 = 230.72 µs.
    E = (1 − 0.5³)/(1 − 0.5) = 1.75; T_s = (T_v + 2·T_d)/E = 1818.6 µs / 1.75 = 1039.2 µs.
    """
    r = evaluate(toy(tp=2, batch=4, draft_tokens=2, acceptance_rate=0.5, decode_overlap_norm=1.0,
                     step_fixed_s=1e-4, layer_fixed_s=1e-5, allreduce_latency_s=1e-6, **TOY_DRAFT))
    verify = 120.36e-6 + 1012e-6 + 24.8e-6 + 200e-6
    draft = 4e-6 + 102.4e-6 + 4.32e-6 + 120e-6
    tokens = 1.75
    assert r.step_s[0] == pytest.approx((verify + 2 * draft) / tokens, rel=1e-12)
    assert r.step_s[0] == pytest.approx(1039.2e-6, rel=1e-12)
    steps_share = 100 / 4  # O/b
    # the fixed part: (T_f + γ·(τ_step + L_d·τ_layer))/E per step = (200 + 240) µs / 1.75
    assert r.overhead_s_per_request[0] == pytest.approx(steps_share * (200e-6 + 2 * 120e-6) / tokens, rel=1e-12)
    # the communication part: the prompt's T_ar(100) = 20 × (1 + 2) µs = 60 µs, and the rounds' all-reduces
    assert r.communication_s_per_request[0] == pytest.approx(60e-6 + steps_share * (24.8e-6 + 2 * 4.32e-6) / tokens,
                                                             rel=1e-12)
    # memory-bound steps (p = 1 sums, but compute < memory): the memory part is the rounds' memory
    assert r.memory_s_per_request[0] == pytest.approx(steps_share * (1012e-6 + 2 * 102.4e-6) / tokens, rel=1e-12)
    # prefill: 2·(N_c + N_dc)·I + 2·2·L·(H·h)·I²/2 = 2.2e11 + 2e8 FLOPs → 1.101 ms on 2 GPUs (> the 1.1 GB read)
    assert r.prefill_gpu_s[0] == pytest.approx(1.101e-3 + 60e-6, rel=1e-12)
    assert r.prefill_s[0] == pytest.approx(1.101e-3 + 60e-6 + 200e-6, rel=1e-12)


def test_extra_memory_is_split_over_the_replicas_gpus() -> None:
    """``b·KV_reserved ≤ f·(HBM − W/t − extra/t)``: TP2, 10 GB per GPU, 2 GB of extra memory per replica (1 GB per
    GPU), weights 1 GB per GPU: 8 GB for KV of (I + O) × 40 kB / 2 = 4 MB per sequence → 2000 sequences;
    memory per GPU 1 + 2000 × 0.004 + 1 = 10 GB.  With f = 0.5: 1000 sequences."""
    r = evaluate(toy(tp=2, memory_bytes=10e9, extra_memory_bytes=2e9, batch=0, max_batch=100_000))
    assert r.max_batch[0] == 2000.0 and r.batch[0] == 2000.0
    assert r.memory_gb_per_gpu[0] == pytest.approx(10.0, rel=1e-12)
    half = evaluate(toy(tp=2, memory_bytes=10e9, extra_memory_bytes=2e9, batch=0, max_batch=100_000,
                        kv_free_memory_fraction=0.5))
    assert half.max_batch[0] == 1000.0


def test_compute_bound_speculative_rounds_count_the_drafts_compute() -> None:
    """At 1 TFLOP/s (TP1, b = 4, γ = 2, α = 0.5) the rounds are compute-bound, so the compute part per request is
    the prefill's plus ``O/b`` rounds' ``(C_v + γ·C_d)/E``: C_v = 12 × 2.006e9 / 1e12 = 24.072 ms (≫ the 2.024 ms
    memory), C_d = 4 × 2e8 / 1e12 = 0.8 ms; prefill (2·1.1e9·100 + 2e8)/1e12 = 220.2 ms; no memory part."""
    r = evaluate(toy(batch=4, draft_tokens=2, acceptance_rate=0.5, peak_flops_per_s=1e12, **TOY_DRAFT))
    assert r.compute_s_per_request[0] == pytest.approx(0.2202 + 100 / 4 * (24.072e-3 + 2 * 0.8e-3) / 1.75, rel=1e-12)
    assert r.memory_s_per_request[0] == 0.0


def test_prefix_cached_prefill_attends_new_tokens_to_the_cached_ones() -> None:
    """Prefill of ``I_new = 0.5·I = 50`` tokens after 50 cached: attention pairs ``I_new·I_old + I_new²/2`` =
    2500 + 1250; FLOPs ``2·N_c·I_new + 2·2·L·(H·h)·pairs`` = 1e11 + 1.5e8 → 1.0015 ms at 100 TFLOP/s (TP1, no
    all-reduce: that is ``G_p``; alone the 2 GB weight read, 2 ms, bounds it)."""
    r = evaluate(toy(prefill_token_fraction=0.5))
    assert r.prefill_gpu_s[0] == pytest.approx((2 * 1e9 * 50 + 2 * 2 * 10 * 1000 * (50 * 50 + 50 * 50 / 2)) / 1e14,
                                               rel=1e-12)
    assert r.prefill_gpu_s[0] == pytest.approx(1.0015e-3, rel=1e-12)
    assert r.prefill_s[0] == pytest.approx(2e-3, rel=1e-12)
    # TP2: half the compute, plus the all-reduces of the 50 computed tokens only,
    # T_ar(50) = 2L·2·(1/2)·50·1000·2 B / 100 GB/s = 20 × 1 µs (the whole prompt's would be 40 µs)
    tp2 = evaluate(toy(prefill_token_fraction=0.5, tp=2))
    assert tp2.prefill_gpu_s[0] == pytest.approx(1.0015e-3 / 2 + 20e-6, rel=1e-12)


def test_extra_prefill_work_is_added_to_the_prefill_flops() -> None:
    """``extra_prefill_flops`` (e.g. a semantic cache's embedding) adds to ``F_p``: 2e11 + 2e8 + 1e11 FLOPs at
    100 TFLOP/s = 3.002 ms, compute-bound past the 2 ms weight read."""
    r = evaluate(toy(extra_prefill_flops=1e11))
    assert r.prefill_gpu_s[0] == pytest.approx(3.002e-3, rel=1e-12)
    assert r.prefill_s[0] == pytest.approx(3.002e-3, rel=1e-12)


# ---------------------------------------------------------------------------------- expert parallelism


def test_expert_parallel_degree_is_a_whole_number_dividing_the_experts(catalog: Catalog) -> None:
    """``check_expert_parallel``: a whole number ≥ 1 (not a bool, not 0) dividing the routed experts, and > 1 only
    for an MoE model — each refusal names its own reason and the field."""
    mixtral, dense = catalog.models["mixtral-8x7b"], catalog.models["llama-3.1-8b"]
    assert (mixtral.experts, dense.experts) == (8, 1)
    assert check_expert_parallel(mixtral, 4) == 4 and check_expert_parallel(dense, 1) == 1
    for bad in (0, -2, True, 2.0):
        with pytest.raises(InputError, match="whole number >= 1") as err:
            check_expert_parallel(mixtral, bad, "plan.ep")
        assert err.value.field == "plan.ep"
    with pytest.raises(InputError, match="dense model"):
        check_expert_parallel(dense, 2)
    with pytest.raises(InputError, match="allowed: 1, 2, 4, 8"):
        check_expert_parallel(mixtral, 3)


def test_checked_degree_refuses_any_degree_on_a_dense_model(catalog: Catalog) -> None:
    """``plan.expert_parallel`` on a dense model is a scenario error even at 1 (exit 2, the field named)."""
    assert checked_degree(catalog.models["mixtral-8x7b"], None) is None
    assert checked_degree(catalog.models["mixtral-8x7b"], 2) == 2
    for ep in (1, 2):
        with pytest.raises(ScenarioError, match="dense model") as err:
            checked_degree(catalog.models["llama-3.1-8b"], ep)
        assert err.value.field == EP_FIELD


def test_scale_up_link_takes_the_rows_own_latency_else_the_default() -> None:
    """``ScaleUpLink.of``: ``β`` = the row's GB/s per direction, ``α`` = its ``latency_us`` when given, the default
    all-reduce latency otherwise, ``η`` = the default ``comm_efficiency``; rows follow ``index``."""
    links = {"fast": SimpleNamespace(bandwidth_gb_s_per_direction=100.0, latency_us=3.0),
             "plain": SimpleNamespace(bandwidth_gb_s_per_direction=50.0, latency_us=None)}
    cat = SimpleNamespace(links=links, defaults=SimpleNamespace(allreduce_latency_us=6.0, comm_efficiency=0.8))
    hardware = [SimpleNamespace(slug="a", scaleup_link="fast"), SimpleNamespace(slug="b", scaleup_link="plain")]
    link = ScaleUpLink.of(hardware, np.array([1, 0, 0]), cat)  # type: ignore[arg-type]
    np.testing.assert_allclose(link.bytes_per_s, [50e9, 100e9, 100e9], rtol=1e-12)
    np.testing.assert_allclose(link.latency_s, [6e-6, 3e-6, 3e-6], rtol=1e-12)
    np.testing.assert_allclose(link.efficiency, [0.8, 0.8, 0.8], rtol=1e-12)
    with pytest.raises(ScenarioError, match="no catalogued scale-up link"):
        ScaleUpLink.of([SimpleNamespace(slug="c", scaleup_link=None)], np.array([0]), cat)  # type: ignore[list-item, arg-type]


#: The toy MoE of ``tests/physics/test_pool_hand_terms.py``: 8 experts, top-1, routed W_r = (9e9 − 2e9)/(1 − 1/8)
#: = 8e9 params at FP8 (8 GB); the other 0.998e9 block params at 1 byte and the untied embeddings 2 × 1e6 at 2 bytes:
#: W_o = 1.002 GB.
TOY_MOE: dict[str, Any] = {"params_total": 9e9, "params_active": 2e9, "experts": 8, "experts_per_token": 1,
                            "tied_embeddings": 0.0, "weight_bits": 8, "embedding_bits": 16}


def test_expert_parallel_replica_at_tp2_by_hand() -> None:
    """``E_p = 4`` groups of TP2 (8 GPUs), ``b_g = 2`` (b = 8), all-reduce latency 1 µs, T_f = 100 µs + 10 ×
    (10 + 20) µs = 400 µs; scale-up link 10 GB/s, 10 µs, η 0.5 (ep_deployment module docstring).

    * weights per GPU ``W_o/t + W_r/(t·E_p)`` = 0.501 + 1 = 1.501 GB;
    * memory ``M = (1.501e9 − 1e9·(7/8)⁸ − 1e6 lookup)/1 TB/s + 2 × 150 tok × 40 kB / 2 shards / (1 TB/s × η_kv
      0.5)`` = 1.156391… ms + 12 µs (compute 2 × 4.004e9 / 2e14 = 40 µs: the p = 64 norm is M);
    * group all-reduces ``T_ar,2(b_g = 2)`` = 20 × (1 µs + 2·1000·2 B / 100 GB/s) = 20.8 µs;
    * all-to-all of b = 8 tokens: 8/4 × 3/4 = 1.5 copies × 2 kB = 3 kB per GPU at 5 GB/s = 0.6 µs, + 10 µs,
      × 2 phases × 10 layers = 212 µs;
    * prefill: G_p = 4e11 FLOPs / 2e14 = 2 ms + T_ar(100) = 20 × 3 µs = 60 µs + the all-to-all of I·E_p = 400
      tokens (75 copies × 2 kB = 150 kB → 30 µs + 10 µs, × 20) = 800 µs; alone max(2, 1.501) ms + 60 + 800 + 400 µs;
    * ``T_r = G_p + O·T_s/b_g``, replica rate ``E_p/T_r``, ``ρ' = (G_p/T_r)·(b_g − 1)/b_g``.
    """
    link = ScaleUpLink(np.array([1e10]), np.array([1e-5]), np.array([0.5]))
    inp = toy(**TOY_MOE, tp=2, batch=2, allreduce_latency_s=1e-6, step_fixed_s=1e-4, layer_fixed_s=1e-5,
              moe_layer_fixed_s=2e-5, kv_memory_efficiency=0.5)
    r = evaluate_expert_parallel(inp, np.full(1, 4.0), link)
    memory = (1.501e9 - 1e9 * (7 / 8) ** 8 - 1e6) / 1e12 + 2 * 150 * 40_000 / 2 / 0.5e12
    allreduce, fixed, a2a = 20.8e-6, 400e-6, 212e-6
    step = memory + allreduce + fixed + a2a
    assert r.fits[0] and r.batch[0] == 8.0
    # the largest batch: per GPU 80 GB − W_o/t − W_r/(t·E_p) = 78.499 GB of KV at 4 MB reserved per sequence
    # (I + O = 200 tokens × 40 kB / 2 shards): 19,624 per group, 4 groups
    assert r.max_batch[0] == 4 * np.floor(78.499e9 / 4e6) == 78_496
    assert r.weight_gb_per_gpu[0] == pytest.approx(1.501, rel=1e-12)
    # per GPU: the weights held and b_g sequences of (I + O) × 40 kB / 2 reserved
    assert r.memory_gb_per_gpu[0] == pytest.approx(1.501 + 2 * 200 * 40_000 / 2 / 1e9, rel=1e-12)
    assert r.step_s[0] == pytest.approx(step, rel=1e-12)
    g_p = 2e-3 + 60e-6 + 800e-6
    assert r.prefill_gpu_s[0] == pytest.approx(g_p, rel=1e-12)
    alone = 2e-3 + 60e-6 + 800e-6 + 400e-6
    assert r.prefill_s[0] == pytest.approx(alone, rel=1e-12)
    t_r = g_p + 100 * step / 2
    assert r.requests_per_s[0] == pytest.approx(4 / t_r, rel=1e-12)
    assert r.output_tokens_per_s[0] == pytest.approx(400 / t_r, rel=1e-12)
    rho = g_p / t_r * (2 - 1) / 2
    assert r.tpot_s[0] == pytest.approx(step / (1 - rho), rel=1e-12)
    assert r.ttft_s[0] == pytest.approx(alone + rho / (2 * (1 - rho)) * g_p, rel=1e-12)
    # the per-request parts: O/b_g = 50 steps; communication = the prompt's all-reduces and all-to-all + the steps'
    assert r.communication_s_per_request[0] == pytest.approx(60e-6 + 800e-6 + 50 * (allreduce + a2a), rel=1e-12)
    assert r.overhead_s_per_request[0] == pytest.approx(50 * fixed, rel=1e-12)
    assert r.memory_s_per_request[0] == pytest.approx(50 * memory, rel=1e-12)
    assert r.compute_s_per_request[0] == pytest.approx(2e-3, rel=1e-12)


def test_compute_bound_expert_parallel_step_counts_the_groups_own_tokens() -> None:
    """The same replica at 1 TFLOP/s per GPU with half of each prompt cached.  Step compute ``C = b_g·F_d/(t·P·η_c)``
    = 2 × 4.004e9 / 2e12 = 4.004 ms (the replica's b = 8 would be 16 ms) ≫ M ≈ 1.2 ms, so the p = 64 norm is C.
    Prefill of I_new = 50 tokens after 50 cached: (2·1.999e9·50 + 2·2·10·1000·(2500 + 1250))/2e12 = 100.025 ms,
    T_ar(50) = 20 × (1 + 1) µs = 40 µs, all-to-all of I_new·E_p = 200 tokens: 37.5 copies × 2 kB = 75 kB → 15 µs
    + 10 µs, × 20 = 500 µs."""
    link = ScaleUpLink(np.array([1e10]), np.array([1e-5]), np.array([0.5]))
    inp = toy(**TOY_MOE, tp=2, batch=2, allreduce_latency_s=1e-6, step_fixed_s=1e-4, layer_fixed_s=1e-5,
              moe_layer_fixed_s=2e-5, peak_flops_per_s=1e12, prefill_token_fraction=0.5)
    r = evaluate_expert_parallel(inp, np.full(1, 4.0), link)
    compute = 2 * 4.004e9 / 2e12
    assert r.step_s[0] == pytest.approx(compute + 20.8e-6 + 400e-6 + 212e-6, rel=1e-12)
    prefill_compute = (2 * 1.999e9 * 50 + 2 * 2 * 10 * 1000 * 3750) / 2e12
    assert prefill_compute == pytest.approx(0.100025, rel=1e-12)
    assert r.prefill_gpu_s[0] == pytest.approx(prefill_compute + 40e-6 + 500e-6, rel=1e-12)
    assert r.compute_s_per_request[0] == pytest.approx(prefill_compute + 50 * compute, rel=1e-12)
    assert r.memory_s_per_request[0] == 0.0


def test_expert_parallel_refuses_a_single_draft_token() -> None:
    """Speculative decoding is refused with ``E_p > 1`` from γ = 1 (never approximated); ``E_p = 1`` runs it."""
    link = ScaleUpLink(np.array([1e10]), np.array([1e-5]), np.array([0.5]))
    inp = toy(**TOY_MOE, draft_tokens=1, acceptance_rate=0.5, **TOY_DRAFT)
    with pytest.raises(ScenarioError, match="speculative decoding is not modelled") as err:
        evaluate_expert_parallel(inp, np.full(1, 2.0), link)
    assert err.value.field == EP_FIELD
    assert evaluate_expert_parallel(inp, np.full(1, 1.0), link).fits[0]


# ------------------------------------------------------------------------------------------ disaggregation

#: BISECTION_EDGE of the disaggregation module: a rate without a target is kept this share below saturation.
EDGE = 1.0 - 1e-9


def _pairs(prefill: RooflineInputs, decode: RooflineInputs, *, beta: float, alpha: float, eta: float, cap: float,
           ttft_target_s: float = np.inf, tpot_target_s: float = np.inf, ttft_p99_s: Any = None,
           tpot_p99_s: Any = None, intra_node: bool = False, **extra: Any) -> PoolPairInputs:
    """Disaggregated rows over one link (``β`` bytes/s per GPU, ``α`` s, ``η``)."""
    n = len(prefill)

    def full(v: float) -> FloatArray:
        return np.full(n, float(v))

    return PoolPairInputs(prefill=prefill, decode=decode, link_bytes_per_s=full(beta), link_latency_s=full(alpha),
                          link_efficiency=full(eta), link_intra_node=np.full(n, intra_node),
                          ttft_target_s=full(ttft_target_s), tpot_target_s=full(tpot_target_s),
                          utilisation_cap=full(cap), ttft_p99_s=ttft_p99_s, tpot_p99_s=tpot_p99_s, **extra)


#: Toy prefill pool, 4 prompts per pass: ``G_p = T_p`` = (2·1e9·100 + 2·2·10·1000·100²/2)/1e14 = 2.002 ms (past the
#: 2 ms weight read), so ``T_pb = max(4·G_p, T_p)`` = 8.008 ms and ``D = T_pb/4`` = 2.002 ms.
PASS_S, SERVICE_S = 8.008e-3, 2.002e-3
#: The link: B_kv = 100 tokens × 40 kB = 4 MB over one GPU pair at β·η = 0.5 GB/s: 8 ms on the wire, + α = 1 ms.
WIRE_S, KV_S = 8e-3, 9e-3


def _md1_p99(rho: float, service: float) -> float:
    """``W₉₉ = max(0, ln(ρ/0.01))·D/(2(1 − ρ))`` (disaggregation module docstring, P99 targets)."""
    return max(0.0, math.log(rho / 0.01)) * service / (2 * (1 - rho))


def test_prefill_pool_batches_prompts_and_queues_for_the_link_by_hand() -> None:
    """Utilisation cap 0.5, no targets: ``λ_p = 0.5·min(1/D, 1/c)`` with ``c`` = 8 ms: 62.5 rps (``u_p`` = 0.5,
    ``ρ = λD`` = 0.125125).  Mean TTFT ``= T_pb + ρ/(2(1−ρ))·D + T_kv + u/(2(1−u))·(T_kv − α)``."""
    r = evaluate_pairs(_pairs(toy(output_tokens=1, batch=4), toy(batch=1), beta=1e9, alpha=1e-3, eta=0.5, cap=0.5))
    assert r.prefill_pass_s[0] == pytest.approx(PASS_S, rel=1e-12)
    assert r.prefill_service_rps[0] == pytest.approx(1 / SERVICE_S, rel=1e-12)  # 499.5 rps, b_p/T_pb
    assert r.kv_transfer_s[0] == pytest.approx(KV_S, rel=1e-12)
    lam = 0.5 * 125.0 * EDGE
    assert _given(r.prefill_rate_rps)[0] == pytest.approx(lam, rel=1e-12)
    rho, u = lam * SERVICE_S, lam * WIRE_S
    ttft = PASS_S + rho / (2 * (1 - rho)) * SERVICE_S + KV_S + u / (2 * (1 - u)) * WIRE_S
    assert r.ttft_s[0] == pytest.approx(ttft, rel=1e-12)
    assert r.ttft_s[0] == pytest.approx(8.008e-3 + 0.1431e-3 + 9e-3 + 4e-3, rel=1e-3)  # 21.15 ms


def test_prefill_rate_at_a_p99_ttft_target_includes_the_link_waits_tail() -> None:
    """The TTFT P99 target set to the hand P99 at λ = 50 rps (ρ = 0.1001, u = 0.4):
    ``T_pb + W₉₉(ρ, D) + T_kv + W₉₉(u, T_kv − α)`` = 8.008 + 2.562 + 9 + 24.59 ms
    (ln 10.01 × 2.002 ms / 1.7998 and ln 40 × 8 ms / 1.2); the rate found is 50 rps."""
    lam = 50.0
    p99 = PASS_S + _md1_p99(lam * SERVICE_S, SERVICE_S) + KV_S + _md1_p99(lam * WIRE_S, WIRE_S)
    assert p99 == pytest.approx(44.16e-3, rel=1e-3)
    r = evaluate_pairs(_pairs(toy(output_tokens=1, batch=4), toy(batch=1), beta=1e9, alpha=1e-3, eta=0.5, cap=0.9,
                              ttft_p99_s=np.array([p99])))
    assert _given(r.prefill_rate_rps)[0] == pytest.approx(lam, rel=1e-9)
    assert r.feasible[0], r.reason[0]


def test_prefill_rate_at_a_mean_ttft_target_is_the_closed_form_on_a_fast_link() -> None:
    """Module docstring: without the link wait, slack ``s = τ − T_pb − T_kv`` and ``ρ_max = 2s/(D + 2s)``.  A 1 PB/s
    link (T_kv = 8 ns, its wait ~1e-17 s), τ = 20 ms: s = 11.991992 ms, λ_p = ρ_max/D ≈ 461.1 rps."""
    r = evaluate_pairs(_pairs(toy(output_tokens=1, batch=4), toy(batch=1), beta=1e15, alpha=0.0, eta=0.5, cap=1.0,
                              ttft_target_s=20e-3))
    slack = 20e-3 - PASS_S - 8e-9
    rho = 2 * slack / (SERVICE_S + 2 * slack)
    assert _given(r.prefill_rate_rps)[0] == pytest.approx(rho / SERVICE_S, rel=1e-9)
    assert r.ttft_s[0] == pytest.approx(20e-3, rel=1e-9)


def test_a_nan_p99_target_is_no_target() -> None:
    """``_targets``: a non-finite P99 target (NaN, as :mod:`planner.physics.queueing` spells "none") is no target;
    a row without one runs the decode pool saturated, ``λ_d = b_d/(O·T_s)`` exactly, even beside a row with one.
    Decode toy at batch 1: T_s = 2 ms of weights + 150 × 40 kB of KV at 1 TB/s = 2.006 ms, λ_d = 1/(100·T_s)."""
    two = toy(output_tokens=1, batch=4, tp=np.ones(2))
    nan_p99 = np.array([np.nan, 1.0])
    r = evaluate_pairs(_pairs(two, toy(batch=1, tp=np.ones(2)), beta=1e9, alpha=1e-3, eta=0.5, cap=0.5,
                              ttft_p99_s=nan_p99, tpot_p99_s=nan_p99))
    plain = evaluate_pairs(_pairs(two, toy(batch=1, tp=np.ones(2)), beta=1e9, alpha=1e-3, eta=0.5, cap=0.5))
    assert r.feasible.all() and _given(r.prefill_ok).all() and _given(r.decode_ok).all()
    np.testing.assert_array_equal(_given(r.prefill_rate_rps)[0], _given(plain.prefill_rate_rps)[0])
    assert _given(r.decode_rate_rps)[0] == pytest.approx(1 / (100 * 2.006e-3), rel=1e-12)
    assert _given(r.decode_rate_rps)[0] == _given(plain.decode_rate_rps)[0]


def test_a_p99_ttft_target_below_the_pass_plus_the_transfer_leaves_no_room() -> None:
    """P99 slack ``τ₉₉ − T_pb − T_kv``: a 12 ms target is above the 8.008 ms pass but below pass + 9 ms transfer, so
    the row is refused for the P99 target's slack (not for a rate), and its prefill side is not OK."""
    r = evaluate_pairs(_pairs(toy(output_tokens=1, batch=4), toy(batch=1), beta=1e9, alpha=1e-3, eta=0.5, cap=0.9,
                              ttft_p99_s=np.array([12e-3])))
    assert not r.feasible[0]
    assert r.reason[0] == ("prefill 8.0 ms + KV transfer 9.0 ms leave no room in the 12.0 ms TTFT P99 target")
    assert not _given(r.prefill_ok)[0]


def test_an_intra_node_link_counts_the_decode_replicas_expert_parallel_gpus() -> None:
    """An intra-node link needs ``t_p + t_d ≤`` the scale-up domain, ``t_d = t·E_p``: prefill TP1 with a decode
    replica of 4 groups of TP2 is 1 + 8 = 9 GPUs > 8 (the decode row's own TP2 would give 3)."""
    link = ScaleUpLink(np.array([1e10]), np.array([1e-5]), np.array([0.5]))
    inp = _pairs(toy(**TOY_MOE, output_tokens=1), toy(**TOY_MOE, tp=2, batch=1), beta=1e10, alpha=1e-6, eta=0.5,
                 cap=0.5, intra_node=True, decode_expert_parallel=np.full(1, 4.0), decode_scaleup=link)
    r = evaluate_pairs(inp)
    assert r.decode_gpus_per_replica[0] == 8
    assert r.reason[0] == "an intra-node link needs both pools in one server: TP1 + TP8 > 8 GPUs"
    assert not r.feasible[0]
    # over an inter-node link the same pair is feasible
    assert evaluate_pairs(dataclasses.replace(inp, link_intra_node=np.zeros(1, dtype=bool))).feasible[0]


def test_a_tpot_target_equal_to_the_decode_step_is_met() -> None:
    """``TPOT = T_s`` misses the target only when above it: a target equal to the step is met."""
    inp = _pairs(toy(output_tokens=1), toy(batch=1), beta=1e9, alpha=1e-3, eta=0.5, cap=0.5)
    step = float(evaluate_pairs(inp).tpot_s[0])
    assert step == pytest.approx(2.006e-3, rel=1e-12)  # 2 GB of weights + 150 × 40 kB of KV at 1 TB/s
    assert evaluate_pairs(dataclasses.replace(inp, tpot_target_s=np.array([step]))).feasible[0]
    below = evaluate_pairs(dataclasses.replace(inp, tpot_target_s=np.array([step * (1 - 1e-12)])))
    assert not below.feasible[0] and below.reason[0].startswith("decode TPOT 2.0 ms misses")


def test_a_decode_pool_the_link_cannot_feed_is_refused_on_its_own_side() -> None:
    """``u_d = λ_d·B_kv/(n_d·β·η)``: the saturated decode toy takes λ_d = 1/(100 × 2.006 ms) = 4.985 rps of 4 MB
    prompts over β·η = 10 MB/s: u_d = 1.994 ≥ 1, so its side is not OK; the prefill side (cap 0.5: u_p = 0.5) is."""
    r = evaluate_pairs(_pairs(toy(output_tokens=1), toy(batch=1), beta=2e7, alpha=1e-3, eta=0.5, cap=0.5))
    u_d = 1 / (100 * 2.006e-3) * 4e6 / (2e7 * 0.5)
    assert r.link_utilisation[0] == pytest.approx(u_d, rel=1e-12)
    assert u_d == pytest.approx(1.994, abs=1e-3)
    assert not r.feasible[0]
    # the bandwidth it needs: u × β = 1.994 × 0.02 GB/s = 0.04 GB/s per GPU
    assert r.reason[0] == ("the link cannot keep up: KV traffic needs 1.99x its bandwidth (0.0 GB/s per GPU at the "
                           "pools' capacities)")
    assert _given(r.prefill_ok)[0] and not _given(r.decode_ok)[0]


def test_pair_inputs_prefill_one_token_and_take_the_links_columns(catalog: Catalog) -> None:
    """``build_pair_inputs``: the prefill pool's rows produce the first token only (O = 1), the decode pool's the whole
    request; the link columns are β = GB/s per direction × 1e9, α = the row's latency or the default all-reduce latency
    (6 µs), η = the default comm efficiency (0.82), and the intra-node flag from the row's scope."""
    ib = catalog.links["ib-ndr"]
    links = {**catalog.links, "ib-ndr": ib.model_copy(update={"latency_us": 2.0})}
    cat = dataclasses.replace(catalog, links=links)
    profile = base_profile(catalog.models["llama-3.1-8b"], "fp8", None, catalog)
    inp = build_pair_inputs(profile, [PairCandidate(PoolSpec("h100-sxm", 1, 2), PoolSpec("h100-sxm", 2, 8), "ib-ndr"),
                                      PairCandidate(PoolSpec("h100-sxm", 1, 1), PoolSpec("h100-sxm", 1, 4), "nvlink4")],
                            cat, input_tokens=1000, output_tokens=200)
    np.testing.assert_array_equal(inp.prefill.output_tokens, [1.0, 1.0])
    np.testing.assert_array_equal(inp.decode.output_tokens, [200.0, 200.0])
    np.testing.assert_array_equal(inp.prefill.batch, [2.0, 1.0])
    np.testing.assert_array_equal(inp.decode.tp, [2.0, 1.0])
    np.testing.assert_allclose(inp.link_bytes_per_s, [50e9, 450e9], rtol=1e-12)
    assert catalog.defaults.allreduce_latency_us == 6.0 and catalog.defaults.comm_efficiency == 0.82
    np.testing.assert_allclose(inp.link_latency_s, [2e-6, 6e-6], rtol=1e-12)
    np.testing.assert_allclose(inp.link_efficiency, [0.82, 0.82], rtol=1e-12)
    np.testing.assert_array_equal(inp.link_intra_node, [False, True])


def test_an_mla_cache_crosses_the_link_as_its_latent_over_every_gpu() -> None:
    """MLA: ``B_kv = I·L·kv_latent_dim·kv_bits/8`` = 100 × 10 × 576 × 2 B = 1.152 MB (no K and V pair), and every GPU
    holds the latent, so TP4 → TP4 moves it over ``n = 4`` GPU pairs: T_kv = 1 ms + 1.152 MB / (4 × 0.5 GB/s) = 1.576 ms."""
    mla = {"kv_latent_dim": 576, "kv_latent_value_dim": 512, "tp": 4}
    r = evaluate_pairs(_pairs(toy(**mla, output_tokens=1), toy(**mla, batch=4), beta=1e9, alpha=1e-3, eta=0.5,
                              cap=0.5))
    assert r.kv_bytes_per_request[0] == 100 * 10 * 576 * 2 == 1_152_000
    assert r.kv_transfer_s[0] == pytest.approx(1e-3 + 1.152e6 / (4 * 1e9 * 0.5), rel=1e-12)


def test_a_ttft_target_too_loose_to_bind_gives_the_untargeted_rate() -> None:
    """A finite mean TTFT target no load reaches below saturation (10⁹ s) leaves the rate where no target puts it,
    ``λ_max·(1 − 10⁻⁹)`` with ``λ_max = ρ_cap·min(1/D, 1/c)`` = 1 × 125 rps (link-bound: c = 8 ms > D = 2.002 ms)."""
    loose = evaluate_pairs(_pairs(toy(output_tokens=1, batch=4), toy(batch=1), beta=1e9, alpha=1e-3, eta=0.5, cap=1.0,
                                  ttft_target_s=1e9))
    assert _given(loose.prefill_rate_rps)[0] == pytest.approx(125.0 * EDGE, rel=1e-12)


def test_decode_p99_tpot_runs_the_chord_from_the_batch_one_step() -> None:
    """Decode pool at b_d = 4 slots with a TPOT P99 target set to the hand P99 at ρ = 0.5 (module docstring, P99
    targets, decode): steps T(1) = 2 ms + 150 × 40 kB / 1 TB/s = 2.006 ms and T(4) = 2 ms + 4 × 6 µs = 2.024 ms
    (compute ≤ 5 % of memory: the p = 64 norm is the memory time); λ_sat = 4/(100·T(4)) = 19.76 rps, a = 2.
    Slot wait W₉₉ = ln(C(4, 2)/0.01)/θ, C = 4/23, θ = 2λ_sat(1 − ρ)/2; iteration T(2) = T(1) + (T(4) − T(1))/3 with
    p_b = 1 − e⁻², D₉₉ = 1.5·p_b·T(2) + z₉₉·√(p_b/12)·T(2); n₉₉ = min(4, 2 + z√2) = 4; P99 TPOT = T(4) + (W₉₉ + D₉₉)/99."""
    t1, t4 = 2.006e-3, 2.024e-3
    lam_sat = 4 / (100 * t4)
    theta = 2 * lam_sat * (1 - 0.5) / 2
    slot_wait = math.log((4 / 23) / 0.01) / theta
    t2 = t1 + (t4 - t1) / 3
    busy = 1 - math.exp(-2)
    iteration = 1.5 * busy * t2 + Z99 * math.sqrt(busy / 12) * t2
    target = t4 + (slot_wait + iteration) / 99
    r = evaluate_pairs(_pairs(toy(output_tokens=1), toy(batch=4), beta=1e12, alpha=0.0, eta=1.0, cap=0.5,
                              tpot_p99_s=np.array([target])))
    assert r.tpot_s[0] == pytest.approx(t4, rel=1e-12)
    assert r.feasible[0], r.reason[0]
    assert _given(r.decode_rate_rps)[0] == pytest.approx(0.5 * lam_sat, rel=1e-9)


@pytest.mark.parametrize(("pool", "field"), [(PoolSpec("h100-sxm", 1, 0), "c.prefill.batch"),
                                             (PoolSpec("h100-sxm", 1, True), "c.prefill.batch"),
                                             (PoolSpec("h100-sxm", 0, 1), "c.prefill.tp"),
                                             (PoolSpec("h100-sxm", 9, 1), "c.prefill.tp")])
def test_a_pool_needs_a_whole_batch_of_at_least_one_and_tp_inside_its_domain(catalog: Catalog, pool: PoolSpec,
                                                                             field: str) -> None:
    """``check_candidate``: batch a whole number in [1, 10⁷], TP in [1, the scale-up domain] (8 on an H100)."""
    with pytest.raises(InputError, match="must be a whole number in") as err:
        check_candidate(PairCandidate(pool, PoolSpec("h100-sxm", 8, 1), "ib-ndr"), catalog, "c")
    assert err.value.field == field
    assert check_candidate(PairCandidate(PoolSpec("h100-sxm", 8, 1), PoolSpec("h100-sxm", 1, 1), "ib-ndr"), catalog,
                           "c").slug == "ib-ndr"


# ------------------------------------------------------------------------------------------ deployment


def test_another_engines_spread_widens_both_ends_of_the_band(catalog: Catalog) -> None:
    """``1 + e₁₀ ← (1 + e₁₀)(1 − σ)``, ``1 + e₉₀ ← (1 + e₉₀)(1 + σ)``.  H200's row (TensorRT-LLM, −18.7 % .. +18.3 %)
    under SGLang (σ = 0.24): 0.813 × 0.76 − 1 = −38.212 %, 1.183 × 1.24 − 1 = +46.692 %.  The row's own engine, an
    engine without a row, or a row without a band leave it as it is."""
    eff = catalog.efficiency[("h200", "*")]
    assert (eff.engine, eff.error_p10, eff.error_p90) == ("tensorrt-llm", -0.187, 0.183)
    assert catalog.engines[("sglang", "h200")].spread == 0.24
    wide = _with_engine_spread(eff, catalog, "sglang", "h200")
    assert wide.error_p10 == pytest.approx(0.813 * 0.76 - 1, rel=1e-12)
    assert wide.error_p90 == pytest.approx(1.183 * 1.24 - 1, rel=1e-12)
    own = SimpleNamespace(engines={("tensorrt-llm", "h200"): SimpleNamespace(spread=0.5)})
    assert _with_engine_spread(eff, own, "tensorrt-llm", "h200") is eff  # type: ignore[arg-type]
    assert _with_engine_spread(eff, catalog, "vllm", "h100-sxm") is eff  # no (vllm, h100-sxm) row
    bandless = eff.model_copy(update={"error_p10": None, "error_p90": None})
    assert _with_engine_spread(bandless, catalog, "sglang", "h200") is bandless


def test_calibrated_means_the_hardwares_own_row_and_one_of_its_native_float_formats(catalog: Catalog) -> None:
    """H100's row (``precision = "*"``) is fitted on its BF16/FP16 and FP8 tensor cores: FP4 (no FP4 peak on H100),
    INT8 (not a float family) and W4A16 (4-bit weights below the 16-bit compute) fall back to it uncalibrated; the
    row of another hardware never calibrates; a row of the precision itself does."""
    h100, b200 = catalog.hardware["h100-sxm"], catalog.hardware["b200"]
    row = catalog.efficiency[("h100-sxm", "*")]
    assert h100.peak_tflops("fp4") is None and h100.peak_tflops("fp8") is not None
    verdicts = {p: calibrated(row, h100, p, catalog) for p in ("bf16", "fp16", "fp8", "fp4", "int8", "w4a16")}
    assert verdicts == {"bf16": True, "fp16": True, "fp8": True, "fp4": False, "int8": False, "w4a16": False}
    assert not calibrated(row, b200, "bf16", catalog)
    assert calibrated(catalog.efficiency[("b200", "fp4")], b200, "fp4", catalog)


def test_a_model_reference_is_a_file_when_it_looks_like_a_path() -> None:
    """``model_is_file``: a ``.json`` name or anything with a ``/`` (a Hugging Face repo-style path) is a config file
    reference even when it does not exist; a bare slug is not."""
    assert model_is_file("meta-llama/Llama-3.1-8B")
    assert model_is_file("config.json")
    assert not model_is_file("llama-3.1-8b")


@pytest.mark.parametrize(("argument", "value"), [("tp", True), ("batch", True), ("batch", 0), ("gpus", 0),
                                                 ("input_tokens", 0), ("output_tokens", 2.0)])
def test_estimate_arguments_are_whole_numbers_from_one(catalog: Catalog, argument: str, value: Any) -> None:
    """``_check_positive_int``: a bool is not a whole number (``True`` would pass as 1), nor 0 nor a float."""
    request: dict[str, Any] = {"tp": 1, "batch": 1, "gpus": 1, "input_tokens": 100, "output_tokens": 10,
                               argument: value}
    with pytest.raises(InputError, match="must be a whole number in") as err:
        estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, **request)
    assert err.value.field == argument


def test_estimate_tp_must_divide_the_heads_and_the_request_may_fill_the_context(catalog: Catalog) -> None:
    """Llama-3.1-8B: 32 attention heads, 131,072 tokens of context.  TP3 (inside the H100's 8-GPU domain, 3 GPUs a
    multiple of it) is refused for the heads; a request of exactly the context is estimated (131,072 × 128 kB of
    BF16 KV = 17.2 GB beside 16 GB of weights fits one 80 GB GPU), one token more is refused."""
    spec = catalog.models["llama-3.1-8b"]
    assert (spec.attention_heads, spec.max_context_tokens) == (32, 131_072)
    with pytest.raises(InputError, match="must divide the model's 32 attention heads, got 3") as err:
        estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, tp=3, batch=1, input_tokens=100, output_tokens=10)
    assert err.value.field == "tp"
    full = estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, batch=1, input_tokens=131_062, output_tokens=10)
    assert full.batch == 1 and full.input_tokens + full.output_tokens == 131_072
    with pytest.raises(InputError, match="exceeds the model's context") as err:
        estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, batch=1, input_tokens=131_063, output_tokens=10)
    assert err.value.field == "input_tokens"


def test_a_batch_above_a_largest_batch_of_one_names_the_batch(catalog: Catalog) -> None:
    """Llama-3.1-70B FP8 on one H100 (85.52 GB): 72.655 GB of weights leave 0.9 × 12.866 = 11.58 GB for KV; a sequence
    of 40,000 + 1,000 tokens reserves 41,000 × 80 layers × (K, V) × 8 heads × 128 × 1 byte = 6.72 GB, so the largest
    batch is 1.  Batch 2 is refused for its batch (not for the TP: one sequence fits)."""
    assert catalog.defaults.kv_free_memory_fraction == 0.9 and catalog.defaults.kv_reserved_output_fraction == 1.0
    one = estimate("llama-3.1-70b", "h100-sxm", catalog=catalog, precision="fp8", input_tokens=40_000,
                   output_tokens=1000)
    assert one.max_batch == 1 == math.floor(0.9 * (85.520809984 - 72.6550528) / (41_000 * 80 * 2 * 8 * 128 / 1e9))
    with pytest.raises(FitError, match=r"batch 2 does not fit in memory for llama-3.1-70b fp8 on h100-sxm at TP1 "
                                       r"\(largest: 1\)") as err:
        estimate("llama-3.1-70b", "h100-sxm", catalog=catalog, precision="fp8", batch=2, input_tokens=40_000,
                 output_tokens=1000)
    assert err.value.field == "batch"


def test_rates_are_for_all_replicas(catalog: Catalog) -> None:
    """``replicas = gpus/tp`` identical replicas: 8 GPUs at TP2 are 4 replicas, the request and token rates 4× one
    replica's, tokens = requests × O."""
    one = estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, tp=2, batch=8, input_tokens=500, output_tokens=100)
    four = estimate("llama-3.1-8b", "h100-sxm", catalog=catalog, tp=2, gpus=8, batch=8, input_tokens=500,
                    output_tokens=100)
    assert (one.replicas, four.replicas) == (1, 4)
    assert four.requests_per_s_per_replica == one.requests_per_s_per_replica == one.requests_per_s
    assert four.requests_per_s == pytest.approx(4 * one.requests_per_s, rel=1e-12)
    assert four.output_tokens_per_s == pytest.approx(4 * 100 * one.requests_per_s, rel=1e-12)
    assert (four.ttft_ms, four.tpot_ms) == (one.ttft_ms, one.tpot_ms)
    # the times are the roofline row's, in ms: at batch 8 other requests' prefills (ρ' > 0) stretch the decode step
    # into the TPOT and queue the prefill into the TTFT, so each pair differs
    profile = base_profile(catalog.models["llama-3.1-8b"], "bf16", None, catalog)
    row = evaluate(RooflineInputs.broadcast(**{**model_columns(profile),
                                               **hardware_columns(catalog.hardware["h100-sxm"], profile, catalog),
                                               "tp": 2, "batch": 8, "input_tokens": 500, "output_tokens": 100}))
    assert one.prefill_ms == pytest.approx(1e3 * row.prefill_s[0], rel=1e-12)
    assert one.decode_step_ms == pytest.approx(1e3 * row.step_s[0], rel=1e-12)
    assert one.ttft_ms == pytest.approx(1e3 * row.ttft_s[0], rel=1e-12)
    assert one.tpot_ms == pytest.approx(1e3 * row.tpot_s[0], rel=1e-12)
    assert one.prefill_ms < one.ttft_ms and one.decode_step_ms < one.tpot_ms


@pytest.mark.parametrize(("draft", "rate", "tokens", "field"), [("llama-3.1-8b", 1.0, 2, "acceptance_rate"),
                                                                ("llama-3.1-8b", 0.0, 2, "acceptance_rate"),
                                                                ("llama-3.1-8b", 0.7, None, "draft_tokens"),
                                                                (None, 0.7, 2, "draft")])
def test_speculative_estimate_arguments_are_refused_by_name(catalog: Catalog, draft: str | None, rate: float,
                                                            tokens: int | None, field: str) -> None:
    """An acceptance rate must lie in the open interval (0, 1) (α = 1 makes ``E = (1 − α^{γ+1})/(1 − α)`` 0/0); the
    three speculative arguments come together."""
    with pytest.raises(InputError) as err:
        estimate("llama-3.1-70b", "h100-sxm", catalog=catalog, precision="fp8", tp=2, input_tokens=100,
                 output_tokens=10, draft=draft, acceptance_rate=rate, draft_tokens=tokens)
    assert err.value.field == field


def test_a_figure_that_is_not_finite_is_refused() -> None:
    """``_figures``: a non-finite TTFT, TPOT or rate is an input error on the request, not a printed ``inf``."""
    result = evaluate(toy())
    assert _figures(result, 2)["requests_per_s"] == pytest.approx(2 * result.requests_per_s[0], rel=1e-12)
    for name in ("ttft_s", "tpot_s", "requests_per_s"):
        bad = dataclasses.replace(result, **{name: np.array([np.inf])})
        with pytest.raises(InputError, match="not finite") as err:
            _figures(bad, 1)
        assert err.value.field == "input_tokens"


def test_a_speculative_estimate_reports_its_tokens_per_pass(catalog: Catalog) -> None:
    """``E = (1 − α^{γ+1})/(1 − α)`` (Leviathan et al. 2023, eq. 1): α = 0.7, γ = 2 → (1 − 0.343)/0.3 = 2.19."""
    est = estimate("llama-3.1-70b", "h100-sxm", catalog=catalog, precision="fp8", tp=2, input_tokens=100,
                   output_tokens=10, draft="llama-3.1-8b", acceptance_rate=0.7, draft_tokens=2)
    assert (est.draft, est.draft_tokens, est.acceptance_rate) == ("llama-3.1-8b", 2, 0.7)
    assert est.tokens_per_pass == pytest.approx(2.19, rel=1e-12)


def test_a_catalog_slug_wins_over_a_path_of_the_same_name(catalog: Catalog, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``resolve_model``: a slug in the catalog is the catalog's model even when a file or folder of that name exists
    in the working directory."""
    (tmp_path / "llama-3.1-8b").mkdir()
    monkeypatch.chdir(tmp_path)
    assert model_is_file("llama-3.1-8b")
    assert resolve_model("llama-3.1-8b", catalog) is catalog.models["llama-3.1-8b"]
