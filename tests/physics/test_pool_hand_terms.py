"""Disaggregation, expert-parallel and draft-model terms checked exactly against the module docstrings, by hand.

Each test pins one term a mutation-testing review found unguarded: the KV shards ``min(t, kv_heads)``
and the ``min(n_p, n_d)`` GPU pairs that carry them, the link efficiency in a request's link seconds,
the decode pool's intake spread over ``E_p`` groups, the P99 TPOT's ``max(O − 1, 1)`` gaps
(:mod:`planner.physics.disaggregation`); the domain bound's ceiling and the co-located dominance's
divisibility condition (:mod:`planner.optimize.disagg_domains`); the routed weights per GPU and the
prefill all-to-all's ``I·E_p`` tokens (:mod:`planner.physics.ep_deployment`); the draft's K and V
elements and its untied embeddings (:func:`planner.physics.profile.draft_columns`).

The pools are the toy rows of ``tests/physics/test_roofline.py`` (1 TB/s, 100 TFLOP/s, 10 layers,
d 1000, 10 KV heads of 100, 16-bit KV: 40 kB of KV per token) so every figure is round.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from planner.catalog.store import Catalog
from planner.optimize.disagg_columns import PairColumn
from planner.optimize.disagg_domains import (
    domain_units,
    in_domains,
    unit_bound,
    unit_dominated_by_colocated,
)
from planner.physics.disaggregation import (
    PairCandidate,
    PoolPairInputs,
    PoolSpec,
    build_pair_inputs,
    evaluate_pairs,
    kv_bytes_per_token,
)
from planner.physics.ep_deployment import ScaleUpLink, evaluate_expert_parallel
from planner.physics.profile import (
    base_profile,
    draft_columns,
    hardware_columns,
    model_columns,
)
from planner.physics.roofline import FloatArray, RooflineInputs, evaluate
from tests.physics.test_roofline import toy

#: KV bytes per token of the toy model: 10 layers × (K, V) × 10 KV heads × head dim 100 × 2 bytes.
TOY_KV_TOKEN = 10 * 2 * 10 * 100 * 2  # 40 kB
#: Prompt tokens of every toy request (toy's default): B_kv = 100 × 40 kB = 4 MB.
PROMPT = 100
#: Φ⁻¹(0.99), computed here independently of the queueing module's constant.
Z99 = NormalDist().inv_cdf(0.99)

#: A toy MoE (8 experts, top-1) whose routed experts weigh 8e9 params: N − N_a = 7e9 = 8e9 × (1 − 1/8);
#: 1e9 other params, of which the untied embeddings V·d = 1e6 twice.  FP8 blocks, 16-bit embeddings.
TOY_MOE: dict[str, Any] = {"params_total": 9e9, "params_active": 2e9, "experts": 8, "experts_per_token": 1,
                            "tied_embeddings": 0.0, "weight_bits": 8, "embedding_bits": 16}
EP = 4


def _pair(prefill: RooflineInputs, decode: RooflineInputs, *, beta: float, alpha: float = 0.0, eta: float = 1.0,
          cap: float = 1.0, tpot_p99_s: float = np.inf, **extra: Any) -> PoolPairInputs:
    """One disaggregated row per row of ``prefill`` / ``decode``: link ``β`` bytes/s per GPU, latency ``α``,
    efficiency ``η``; no mean targets, utilisation cap ``cap``."""
    n = len(prefill)

    def full(v: float) -> FloatArray:
        return np.full(n, float(v))

    return PoolPairInputs(prefill=prefill, decode=decode, link_bytes_per_s=full(beta), link_latency_s=full(alpha),
                          link_efficiency=full(eta), link_intra_node=np.zeros(n, dtype=bool),
                          ttft_target_s=full(np.inf), tpot_target_s=full(np.inf), utilisation_cap=full(cap),
                          ttft_p99_s=full(np.inf), tpot_p99_s=full(tpot_p99_s), **extra)


def _given(values: FloatArray | None) -> FloatArray:
    """A result column ``evaluate_pairs`` always sets (typed optional for other producers)."""
    assert values is not None
    return values


# ---------------------------------------------------------------------------------- KV transfer and link


def test_kv_is_sent_over_min_tp_and_kv_heads_lanes() -> None:
    """Gap 1 (disaggregation.py ``_kv_shards``): 2 KV heads on TP4 pools are 2 shards per pool, not 4."""
    # B_kv = I · L · 2 · kv_heads · h · 2 bytes = 100 × 10 × 2 × 2 × 100 × 2 = 800,000 bytes
    b_kv = PROMPT * 10 * 2 * 2 * 100 * 2
    r = evaluate_pairs(_pair(toy(kv_heads=2, tp=4, output_tokens=1), toy(kv_heads=2, tp=4, batch=4),
                             beta=1e9, alpha=1e-3, eta=0.5))
    assert r.kv_bytes_per_request[0] == b_kv == 800_000
    # n = min(min(4, 2), min(4, 2)) = 2 lanes at β·η = 0.5 GB/s: T_kv = 1 ms + 0.8 MB / 1 GB/s = 1.8 ms
    # (sharded over t = 4 it would be 1 ms + 0.8 MB / 2 GB/s = 1.4 ms)
    assert r.kv_transfer_s[0] == pytest.approx(1e-3 + 800_000 / (2 * 1e9 * 0.5), rel=1e-12)
    assert r.kv_transfer_s[0] == pytest.approx(1.8e-3, rel=1e-12)


def test_kv_transfer_uses_the_smaller_pools_lanes() -> None:
    """Gap 2 (disaggregation.py ``wire_s``): prefill TP1 (1 shard) → decode TP4 (4 shards): one GPU pair."""
    r = evaluate_pairs(_pair(toy(tp=1, output_tokens=1), toy(tp=4, batch=4), beta=1e9, alpha=1e-3, eta=0.5))
    assert r.kv_bytes_per_request[0] == PROMPT * TOY_KV_TOKEN == 4e6
    # n = min(1, min(4, 10)) = 1 lane at 0.5 GB/s: T_kv = 1 ms + 4 MB / 0.5 GB/s = 9 ms
    # (max(1, 4) = 4 lanes would give 1 ms + 2 ms = 3 ms)
    assert r.kv_transfer_s[0] == pytest.approx(1e-3 + 4e6 / (1 * 1e9 * 0.5), rel=1e-12)
    assert r.kv_transfer_s[0] == pytest.approx(9e-3, rel=1e-12)


def test_link_seconds_per_request_include_the_link_efficiency() -> None:
    """Gap 3 (disaggregation.py ``link_s_per_request``): ``c = B_kv/(n_p·β·η)`` bounds the prefill rate and
    sets ``u_p = λ_p·c``.  No TTFT target, cap 1: ``λ_p = min(1/D, 1/c)·(1 − 1e-9)``."""
    edge = 1.0 - 1e-9  # BISECTION_EDGE: the rate kept just below saturation
    # prefill TP1, one prompt per pass: F_p = 2 N I + 2·2·L·(H h)·I²/2 = 2e11 + 2e8 = 2.002e11 FLOPs,
    # 2.002 ms at 100 TFLOP/s > the 2 GB weight read (2 ms): D = T_pb = 2.002 ms
    service = 2.002e11 / 100e12
    b_kv = PROMPT * TOY_KV_TOKEN  # 4 MB
    # row 0, link-bound: β = 1 GB/s, η = 0.5: c = 4 MB / 0.5 GB/s = 8 ms > D, so λ_p = 125 rps × edge
    # row 1, pass-bound: β = 10 GB/s, η = 0.5: c = 0.8 ms < D, so λ_p = 1/D × edge and u_p = c/D × edge
    prefill = toy(output_tokens=1, tp=np.ones(2))
    inp = _pair(prefill, toy(batch=1, tp=np.ones(2)), beta=1.0, eta=0.5)
    inp = dataclasses.replace(inp, link_bytes_per_s=np.array([1e9, 1e10]))
    r = evaluate_pairs(inp)
    assert r.prefill_pass_s[1] == pytest.approx(service, rel=1e-12)
    c = b_kv / (1 * np.array([1e9, 1e10]) * 0.5)
    assert c[0] == pytest.approx(8e-3) and c[1] == pytest.approx(8e-4)
    assert _given(r.prefill_rate_rps)[0] == pytest.approx(125.0 * edge, rel=1e-12)  # without η: 250 rps
    assert _given(r.prefill_rate_rps)[1] == pytest.approx(edge / service, rel=1e-12)
    # the decode pool (λ_d ≈ 1/(100 × 2 ms) = 5 rps) loads the link far less: u = u_p
    u_p = np.array([125.0 * edge * 8e-3, edge / service * 8e-4])
    assert u_p[1] == pytest.approx(8e-4 / 2.002e-3 * edge)  # 0.3996; without η: 0.1998
    np.testing.assert_allclose(r.link_utilisation, u_p, rtol=1e-12)
    assert r.feasible.all()


# ------------------------------------------------------------------------------- expert parallelism


def _moe_rows(**overrides: Any) -> tuple[RooflineInputs, ScaleUpLink]:
    """The toy MoE as one EP group (TP1, batch 1) and a scale-up link of 10 GB/s, 10 µs, η 0.5."""
    link = ScaleUpLink(np.array([1e10]), np.array([1e-5]), np.array([0.5]))
    return toy(**{**TOY_MOE, **overrides}), link


#: Bytes one GPU holds: W_o/t + W_r/(t·E_p) = (1e9 − 2e6) × 1 + 2e6 × 2 + 8e9 / 4 = 3.002e9.
MOE_WEIGHTS_GPU = (1e9 - 2e6) * 1 + 2e6 * 2 + 8e9 / EP
#: Routed bytes per GPU W_r/(t·E_p) = 2e9; at b = E_p·b_g = 4 tokens, top-1 of 8, a share (7/8)^4 = 2401/4096
#: of them stays untouched; the input embedding V·d = 1e6 at 2 bytes is a lookup, not read.
MOE_STEP_WEIGHT_BYTES = MOE_WEIGHTS_GPU - 2e9 * (7 / 8) ** 4 - 1e6 * 2
#: KV read of the group's one sequence: context I + O/2 = 150 tokens × 40 kB = 6 MB.
MOE_STEP_KV_BYTES = 150 * TOY_KV_TOKEN
#: The decode memory term M at 1 TB/s (weights and KV streams at efficiency 1).
MOE_STEP_MEMORY_S = MOE_STEP_WEIGHT_BYTES / 1e12 + MOE_STEP_KV_BYTES / 1e12


def _a2a_s(tokens: float) -> float:
    """``L·(dispatch + combine)``, each ``α + n/E_p·k·(E_p−1)/E_p·d·2 bytes/(β·η)`` (the toy MoE, the link)."""
    per_gpu = tokens / EP * 1 * (EP - 1) / EP * 1000 * 2
    return 10 * 2 * (1e-5 + per_gpu / (1e10 * 0.5))


def test_ep_decode_memory_term_reads_routed_weights_over_ep_by_hand() -> None:
    """Gap 8 (ep_deployment.py ``routed_gpu``): ``M = (W held − untouched routed − lookup)/B + b_g·KV_g/B``,
    the routed bytes per GPU being ``W_r/(t·E_p)``."""
    inp, link = _moe_rows()
    r = evaluate_expert_parallel(inp, np.full(1, float(EP)), link)
    assert r.fits[0] and r.batch[0] == EP  # one sequence per group, 4 groups
    assert r.weight_gb_per_gpu[0] == pytest.approx(MOE_WEIGHTS_GPU / 1e9, rel=1e-12)  # 3.002 GB
    # M = (3.002e9 − 2e9 × 2401/4096 − 2e6)/1e12 + 6e6/1e12 = (3.002e9 − 1,172,363,281.25 − 2e6)/1e12 + 6 µs
    #   = 1.82763671875 ms + 6 µs  (routed bytes W_r/t = 8e9, not over E_p: 3.0e9 − 4.69e9 < 0, a negative read)
    assert MOE_STEP_MEMORY_S == pytest.approx(1.83363671875e-3, rel=1e-12)
    assert MOE_STEP_MEMORY_S > 0
    # compute C = F_d/P = (2 × 1.999e9 + 2·10·2000·150)/1e14 = 40 µs ≪ M: the step's memory-bound part is M
    assert r.memory_s_per_request[0] == pytest.approx(100 / 1 * MOE_STEP_MEMORY_S, rel=1e-12)  # O/b_g · M
    assert r.memory_s_per_request[0] > 0
    # T_s = M + T_a2a(b = 4) (TP1: no all-reduce; toy: no fixed time); a2a: 0.75 copies × 2 kB per GPU
    assert _a2a_s(4) == pytest.approx(10 * 2 * (1e-5 + 1500 / 5e9), rel=1e-12)  # 206 µs
    assert r.step_s[0] == pytest.approx(MOE_STEP_MEMORY_S + _a2a_s(4), rel=1e-12)


def test_ep_prefill_all_to_all_carries_prompt_times_ep_tokens_by_hand() -> None:
    """Gap 9 (ep_deployment.py ``prefill_a2a``): a prompt's ``I`` tokens go from one rank, ``n = I·E_p`` in
    the all-to-all's per-rank form."""
    inp, link = _moe_rows()
    r = evaluate_expert_parallel(inp, np.full(1, float(EP)), link)
    # G_p = F_p/P: F_p = 2·(N_a − V·d)·I + 2·2·L·(H h)·I²/2 = 2 × 1.999e9 × 100 + 2e8 = 4e11 → 4 ms
    prefill_compute = (2 * (2e9 - 1e6) * PROMPT + 2 * 2 * 10 * 1000 * PROMPT**2 / 2) / 100e12
    assert prefill_compute == pytest.approx(4e-3, rel=1e-12)
    # all-to-all of n = 100 × 4 = 400 tokens: 400/4 × 1 × 3/4 = 75 copies × 2 kB = 150 kB per GPU at 5 GB/s
    # = 30 µs, + 10 µs latency, × (dispatch, combine) × 10 layers = 0.8 ms  (n = I: 0.35 ms)
    a2a = _a2a_s(PROMPT * EP)
    assert a2a == pytest.approx(8e-4, rel=1e-12)
    assert r.prefill_gpu_s[0] == pytest.approx(prefill_compute + a2a, rel=1e-12)
    # alone: max(G_p, 3.002 GB / 1 TB/s) + a2a = 4 ms + 0.8 ms; at b_g = 1 nobody else's prefill: TTFT = that
    assert r.prefill_s[0] == pytest.approx(max(prefill_compute, MOE_WEIGHTS_GPU / 1e12) + a2a, rel=1e-12)
    assert r.prefill_s[0] == pytest.approx(4.8e-3, rel=1e-12)
    assert r.ttft_s[0] == pytest.approx(4.8e-3, rel=1e-12)


def test_ep_decode_pool_link_intake_spreads_over_ep_groups_exactly() -> None:
    """Gap 4 (disaggregation.py ``u_d``): ``u_d = λ_d·B_kv/(E_p·n_d·β·η)`` with ``λ_d = E_p·b_g/(O·T_s)`` —
    an equality (the prefill pool's ``u_p`` is kept far below by a utilisation cap)."""
    decode, scaleup = _moe_rows()
    prefill = toy(**TOY_MOE, output_tokens=1)
    r = evaluate_pairs(_pair(prefill, decode, beta=1e8, eta=0.5, cap=0.01,
                             decode_expert_parallel=np.full(1, float(EP)), decode_scaleup=scaleup))
    step = MOE_STEP_MEMORY_S + _a2a_s(4)  # T_s = 2.0396 ms (the test above)
    assert r.tpot_s[0] == pytest.approx(step, rel=1e-12)
    assert r.decode_gpus_per_replica[0] == EP
    lam_d = EP * 1 / (100 * step)  # 4 sequences in flight, 100 steps each: 19.6 rps
    assert _given(r.decode_rate_rps)[0] == pytest.approx(lam_d, rel=1e-12)
    b_kv = PROMPT * TOY_KV_TOKEN  # 4 MB
    # n_d = min(1, 10) = 1 lane per group, 4 groups at β·η = 50 MB/s: u_d = 19.6 × 4 MB / 200 MB/s = 0.392
    u_d = lam_d * b_kv / (EP * 1 * 1e8 * 0.5)
    assert 0.3 < u_d < 0.5
    # prefill (tensor-parallel, no a2a): D = T_pb = max(G_p = 4 ms, T_p = 9.002 GB / 1 TB/s = 9.002 ms);
    # c = 4 MB / 50 MB/s = 80 ms; λ_p = 0.01 × min(1/D, 1/c) = 0.01 × 12.5 = 0.125 rps: u_p = 0.01 ≪ u_d
    assert r.prefill_pass_s[0] == pytest.approx(9.002e-3, rel=1e-12)
    assert _given(r.prefill_rate_rps)[0] == pytest.approx(0.125 * (1 - 1e-9), rel=1e-12)
    assert _given(r.prefill_rate_rps)[0] * b_kv / (1e8 * 0.5) < 0.5 * u_d
    assert r.link_utilisation[0] == pytest.approx(u_d, rel=1e-12)
    assert r.feasible[0]


# ------------------------------------------------------------------------------------ P99 TPOT gaps


@pytest.mark.parametrize("output_tokens", [2, 11])
def test_decode_p99_tpot_spreads_the_slot_wait_over_o_minus_one_gaps(output_tokens: int) -> None:
    """Gap 5 (disaggregation.py ``gaps``): P99 TPOT = ``T(n₉₉) + S₉₉/max(O − 1, 1)``.  One slot (``b_d = 1``):
    at ``ρ`` the M/G/1 slot wait ``W₉₉ = ln(ρ/0.01)/θ``, ``θ = 2λ_sat(1 − ρ)/(1 + c_s²)`` (``c_s`` = 1), the
    iteration wait ``1.5·p_b·T_s + z₉₉·√(p_b/12)·T_s`` (``p_b = 1 − e^{−ρ}``, no prefills here), ``T(n₉₉) = T_s``.
    The target set to the hand P99 TPOT at ``ρ = 0.5`` must give ``λ_d = 0.5·λ_sat``."""
    o = output_tokens
    # T_s at batch 1: the 2 GB of weights at 1 TB/s + KV of I + O/2 tokens × 40 kB (compute ≈ 1 % of it)
    step = 2e9 / 1e12 + (PROMPT + o / 2) * TOY_KV_TOKEN / 1e12  # O = 2: 2.00404 ms
    lam_sat = 1 / (o * step)  # one sequence, O steps
    rho = 0.5
    theta = 2 * lam_sat * (1 - rho) / (1 + 1.0**2)
    slot_wait = math.log(rho / 0.01) / theta  # ln 50 / (0.5 λ_sat) = 7.82 O·T_s
    busy = 1 - math.exp(-rho)
    iteration_wait = 1.5 * busy * step + Z99 * math.sqrt(busy / 12) * step  # 1.012 T_s
    gaps = max(o - 1, 1)  # O = 2: one gap (O would halve the wait's share)
    p99_tpot = step + (slot_wait + iteration_wait) / gaps
    r = evaluate_pairs(_pair(toy(output_tokens=1), toy(batch=1, output_tokens=o), beta=1e12, tpot_p99_s=p99_tpot))
    assert r.tpot_s[0] == pytest.approx(step, rel=1e-12)
    assert r.feasible[0], r.reason[0]
    assert _given(r.decode_rate_rps)[0] == pytest.approx(rho * lam_sat, rel=1e-9)
    assert r.decode_capacity_rps[0] == pytest.approx(rho * lam_sat, rel=1e-9)


# ------------------------------------------------------------------------------ scale-up domain units


def test_unit_bound_takes_the_ceiling_of_min_replicas_over_each_pool() -> None:
    """Gap 6 (disagg_domains.py ``unit_bound``): ``max(1, ⌈R/p⌉, ⌈R/d⌉, ⌈a^U⌉)``."""
    # R = 3 replicas, 2 per block in each pool: ⌈3/2⌉ = 2 blocks (⌊3/2⌋ = 1 would hold only 2 replicas)
    assert float(unit_bound(0.5, 3, (2, 2))) == 2.0
    assert float(unit_bound(0.5, 3, (2, 3))) == 2.0  # ⌈3/2⌉ = 2, ⌈3/3⌉ = 1
    assert float(unit_bound(0.5, 3, (3, 2))) == 2.0
    for p, d in ((2, 2), (2, 3), (3, 2)):
        blocks = float(unit_bound(0.5, 3, (p, d)))
        assert blocks * p >= 3 and blocks * d >= 3  # the bound does not cut off the feasible count
    np.testing.assert_array_equal(unit_bound(np.array([0.5, 2.5]), 3, (2, 2)), [2.0, 3.0])  # ⌈a^U⌉ above


def _unit_pair(**overrides: Any) -> PairColumn:
    """A free pair over NVLink: prefill TP2 and decode TP2 at 1 rps each, variant 0, class 0, hardware 0."""
    values: dict[str, Any] = {"variant": 0, "workload": 0, "prefill_hardware": 0, "prefill_tp": 2,
                              "prefill_batch": 1, "prefill_rps": 1.0, "decode_hardware": 0, "decode_tp": 2,
                              "decode_batch": 8, "decode_rps": 1.0, "link": "nvlink-test", "link_utilisation": 0.1,
                              "ttft_ms": 100.0, "tpot_ms": 20.0, "kv_bytes_per_request": 1e6}
    values.update(overrides)
    return PairColumn(**values)


def test_colocated_dominance_needs_its_tp_to_divide_the_units_block() -> None:
    """Gap 7 (disagg_domains.py ``unit_dominated_by_colocated``): a co-located column ``(t_j, μ_j/t_j)`` prunes
    a unit only when ``t_j`` divides the unit's ``g_U`` GPUs and ``μ_j/t_j ≥ c_U/g_U``."""
    # 8 GPUs, TP2 + TP2 at 1 rps each: the units are (1, 1) on 4 GPUs (1 rps); (2, 2) on 8 serves 2 rps,
    # no more than two (1, 1) blocks, so only (1, 1) stays
    assert domain_units(2, 1.0, 2, 1.0, 8) == [(1, 1)]
    unit = _unit_pair(unit=(1, 1), unit_gpus=4)
    # c_U/g_U = 1/4 rps per GPU; a TP8 column at 100 rps per GPU does not fit the 4-GPU block (8 ∤ 4) …
    assert not unit_dominated_by_colocated(unit, {(0, 0, 0): [(8, 100.0)]})
    assert not unit_dominated_by_colocated(unit, {(0, 0, 0): [(3, 100.0)]})  # 3 ∤ 4
    # … a TP4 or TP2 one does (4 | 4, 2 | 4) as soon as μ/t ≥ 1/4
    assert unit_dominated_by_colocated(unit, {(0, 0, 0): [(4, 100.0)]})
    assert unit_dominated_by_colocated(unit, {(0, 0, 0): [(8, 100.0), (2, 0.3)]})  # 0.3 × 4 = 1.2 ≥ 1
    assert not unit_dominated_by_colocated(unit, {(0, 0, 0): [(2, 0.25)]})  # 0.25 × 4 = 1: the boundary is kept
    # through step 7: the (1, 1) unit is kept beside a non-dividing TP8 column, dropped beside a TP4 one
    links = {"nvlink-test": SimpleNamespace(scope="intra-node")}
    cs = SimpleNamespace(hardware=[SimpleNamespace(scaleup_domain_gpus=8)])
    kept = in_domains([_unit_pair()], links, cs, [0], {(0, 0, 0): [(8, 100.0)]})  # type: ignore[arg-type]
    assert [(u.unit, u.unit_gpus) for u in kept] == [((1, 1), 4)]
    assert in_domains([_unit_pair()], links, cs, [0], {(0, 0, 0): [(4, 100.0)]}) == []  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- the draft


def test_draft_columns_of_an_untied_catalog_draft_by_hand(catalog: Catalog) -> None:
    """Gap 10 (profile.py ``draft_columns``): Llama-3.1-8B drafting for Llama-3.1-70B at FP8: KV elements per
    token ``2·kv_heads·h·L``, embeddings ``2·V·d`` (untied), and what they weigh and send."""
    draft = catalog.models["llama-3.1-8b"]
    assert (draft.layers, draft.kv_heads, draft.head_dim, draft.tied_embeddings) == (32, 8, 128, False)
    assert (draft.vocab_size, draft.d_model) == (128_256, 4096)
    base = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    profile = base.model_copy(update={"draft": draft, "draft_tokens": 4, "acceptance_rate": 0.7})
    cols = draft_columns(profile)
    # K and V × 8 KV heads × head dim 128 × 32 layers = 65,536 elements per token
    assert cols["draft_kv_elems_per_token"] == 2 * 8 * 128 * 32 == 65_536
    # untied: the input embedding and the LM head, V·d = 128,256 × 4096 = 525,336,576 each
    vd = 128_256 * 4096
    assert cols["draft_embed_params"] == 2 * vd == 1_050_673_152
    assert cols["draft_compute_params"] == draft.params_active - vd == 7_504_924_672
    # what they weigh: FP8 blocks (1 byte) and 16-bit embeddings (2 bytes) on one H100 —
    # (8,030,261,248 − 1,050,673,152) × 1 + 1,050,673,152 × 2 = 9,080,934,400 bytes more than the 70B alone
    assert profile.weight_bits == 8 and catalog.defaults.unquantized_embedding_bits == 16
    h100 = catalog.hardware["h100-sxm"]

    def weights_gb(p: Any) -> float:
        row = {**model_columns(p), **hardware_columns(h100, p, catalog), "tp": 1.0, "batch": 1.0,
               "input_tokens": 1000.0, "output_tokens": 100.0}
        return float(evaluate(RooflineInputs.broadcast(**row)).weight_gb_per_gpu[0])

    draft_bytes = (8_030_261_248 - 1_050_673_152) * 1 + 1_050_673_152 * 2
    assert draft_bytes == 9_080_934_400
    assert weights_gb(profile) - weights_gb(base) == pytest.approx(draft_bytes / 1e9, rel=1e-9)
    # what crosses the link per prompt token: (80 × 2 × 8 × 128 + 65,536) elements × 1 byte (FP8 KV)
    assert profile.kv_bits == 8
    inp = build_pair_inputs(profile, [PairCandidate(PoolSpec("h100-sxm", 4, 1), PoolSpec("h200", 4, 8), "ib-ndr")],
                            catalog, input_tokens=1000, output_tokens=100)
    assert float(kv_bytes_per_token(inp.prefill)[0]) == 163_840 + 65_536 == 229_376
