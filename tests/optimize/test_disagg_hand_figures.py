"""Hand-checked figures of disaggregated planning and of the time-sliced read-back, for the rules a
mutation review found unchecked (:mod:`planner.optimize.disagg_columns`, :mod:`planner.optimize.disagg_milp`,
:mod:`planner.optimize.disagg_domains`, :mod:`planner.optimize.disagg_inputs`,
:mod:`planner.optimize.extract_slices`).

What is pinned, each by arithmetic written in the test (nothing copied from the code under test):

* the link columns a pool pair is evaluated with — bandwidth, latency (catalogued or the default),
  efficiency, scope — through the KV transfer time ``T_kv = α + I·KV/token / (n·β·η)``, and the
  all-to-all of an expert-parallel decode pool taken over the *decode* hardware's scale-up link;
* which pool pairs the enumeration keeps: the intra-node condition ``t_p + t·E_p ≤`` the domain, a
  pool above its type's quota, the figures and rows a pair carries, the dominance of step 4, the
  co-located dominance of step 6 at its boundary, the rows counted per class, and the columns' figures
  against the physics evaluated on its own;
* the MILP terms of a pair column: its loads ``a = λ_c·s/λ``, the pool rows and their cuts, the
  xPyD linking (each pool carries its share of the class's load in whole replicas), the GPUs in
  supply, the replicas per phase, the traffic cost, a unit pair's whole domains and idle GPUs, the
  bounds used to screen variants and how a solved pair is read back;
* the scale-up domain units of an intra-node pair (``a^U``, the pair's own domain, pruning and the
  co-located dominance only without a replica floor, a unit served at its slower pool's rate);
* the guards: a KV link joining none of the market's types (and the links that do), links ordered
  fastest first, a quota below the smallest unit of a type — a co-located replica, a prefill pool or a
  decode replica of ``E_p`` groups — refused and one equal to it accepted, expert parallelism only
  where it divides the variant's experts, a load profile refused with disaggregation;
* a sliced plan's read-back: each serving and elastic fleet line in its own slice and period, a slice
  split over deployments, the spend per period (restarts included), and the solution check.

The catalog figures used: Llama-3.1-70B has 80 layers, 8 KV heads of 128 (FP8 KV: 163,840 bytes per
token); H100-SXM and H200 have 8-GPU NVLink-4 domains (450 GB/s), L40S a PCIe-4 one (32 GB/s);
InfiniBand NDR carries 50 GB/s per GPU; no link has a latency of its own (the default 6 µs), and
every link runs at the default efficiency 0.82.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pulp
import pytest

import planner
from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.optimize import disagg_milp
from planner.optimize.candidates import build_candidates
from planner.optimize.disagg_columns import (
    PairColumn,
    _dominates,
    _feasible_pairs,
    _Rows,
    build_pair_columns,
    colocated_rates,
    dominated_by_colocated,
    pool_pair_inputs,
)
from planner.optimize.disagg_domains import in_domains, unit_load
from planner.optimize.disagg_inputs import check_pool_quotas, kv_links
from planner.optimize.disagg_milp import (
    PairVariables,
    pair_class_lower_bounds,
    pair_hook,
    pair_serving,
    variant_lower_bounds_with_pairs,
    verify_pairs,
)
from planner.optimize.input_checks import check_disaggregation
from planner.optimize.pruning import Column, prune, quality_floors
from planner.physics.disaggregation import (
    PairCandidate,
    PoolSpec,
    build_pair_inputs,
    evaluate_pairs,
)
from planner.physics.ep_deployment import ScaleUpLink, evaluate_expert_parallel
from planner.physics.profile import base_profile
from tests.optimize.test_disaggregation import LONG_PROMPTS

#: Llama-3.1-70B's KV bytes per token at FP8: 80 layers × (K, V) × 8 KV heads × 128 × 1 byte.
KV_TOKEN_70B_FP8 = 80 * 2 * 8 * 128
#: The default link efficiency (catalog defaults.comm_efficiency) and latency (allreduce_latency_us).
ETA = 0.82
ALPHA = 6e-6


def _scenario(**over: Any) -> planner.Scenario:
    """LONG_PROMPTS (Llama-3.1-70B FP8, 8,000 in / 300 out, TTFT 2 s, TPOT 18 ms) with ``over`` merged
    into its top-level tables and disaggregation on."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    for key, value in over.items():
        data[key] = {**data[key], **value} if isinstance(data.get(key), dict) else value
    return planner.scenario_from_dict(data)


# ------------------------------------------------------------------------ link columns and KV transfer


def test_pool_rows_carry_each_links_bandwidth_latency_and_scope_into_the_kv_transfer(catalog: Catalog) -> None:
    """``T_kv = α + B_kv/(n·β·η)`` with ``β`` the link's GB/s × 1e9, ``α`` its own latency or the default
    6 µs, ``η`` = 0.82, ``n = min(t_p, t_d, kv_heads)`` lanes; the pools' utilisation cap stays 1 (none)."""
    profile = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    assert profile.kv_bits == 8
    hardware = [catalog.hardware["h100-sxm"]]
    own_latency = catalog.links["ib-ndr"].model_copy(update={"slug": "ib-2us", "latency_us": 2.0})
    links = [catalog.links["ib-ndr"], catalog.links["nvlink4"], own_latency]
    rows = _Rows.empty()
    for li in range(3):
        rows.add(0, 2, 1, 0, 4, 8, li)  # prefill TP2 × 1 prompt, decode TP4 × 8 sequences
    inp = pool_pair_inputs(profile, hardware, links, rows, catalog, input_tokens=1000, output_tokens=100,
                           ttft_target_s=5.0, tpot_target_s=1.0)
    np.testing.assert_array_equal(inp.link_bytes_per_s, [50e9, 450e9, 50e9])
    np.testing.assert_allclose(inp.link_latency_s, [ALPHA, ALPHA, 2e-6], rtol=1e-15)
    np.testing.assert_array_equal(inp.link_efficiency, [ETA] * 3)
    np.testing.assert_array_equal(inp.link_intra_node, [False, True, False])
    np.testing.assert_array_equal(inp.utilisation_cap, [1.0] * 3)
    r = evaluate_pairs(inp)
    # B_kv = 1,000 tokens × 163,840 bytes = 163.84 MB; n = min(2, 4, 8) = 2 lanes
    b_kv = 1000 * KV_TOKEN_70B_FP8
    assert b_kv == 163_840_000
    np.testing.assert_array_equal(r.kv_bytes_per_request, [b_kv] * 3)
    # IB: 6 µs + 163.84 MB / (2 × 50 GB/s × 0.82 = 82 GB/s) = 6 µs + 1.998049 ms = 2.004049 ms
    # NVLink: 6 µs + 163.84 MB / 738 GB/s = 0.228005 ms; IB with 2 µs of its own: 2.000049 ms
    want = [ALPHA + b_kv / 82e9, ALPHA + b_kv / 738e9, 2e-6 + b_kv / 82e9]
    assert want[0] == pytest.approx(2.004049e-3, rel=1e-6) and want[1] == pytest.approx(0.228005e-3, rel=1e-5)
    np.testing.assert_allclose(r.kv_transfer_s, want, rtol=1e-12)


def test_an_expert_parallel_decode_pool_exchanges_tokens_over_the_decode_hardwares_scale_up_link(
        catalog: Catalog) -> None:
    """The all-to-all of a decode pool of ``E_p`` groups runs over the decode GPUs' own scale-up link:
    a Mixtral prefill pool on L40S (PCIe 4, 32 GB/s) feeding a decode pool on H100 (NVLink 4, 450 GB/s)
    steps as the H100 pool alone with a 450 GB/s, 6 µs, η = 0.82 link — not the prefill side's PCIe."""
    profile = base_profile(catalog.models["mixtral-8x7b"], "bf16", None, catalog)
    hardware = [catalog.hardware["l40s"], catalog.hardware["h100-sxm"]]
    rows = _Rows.empty()
    rows.add(0, 4, 1, 1, 2, 16, 0)  # prefill L40S TP4; decode H100, 2 groups of TP2 (4 GPUs)
    inp = pool_pair_inputs(profile, hardware, [catalog.links["ib-ndr"]], rows, catalog, input_tokens=1000,
                           output_tokens=100, ttft_target_s=5.0, tpot_target_s=1.0, decode_expert_parallel=2)
    assert inp.decode_scaleup is not None and inp.decode_expert_parallel is not None
    np.testing.assert_array_equal(inp.decode_scaleup.bytes_per_s, [450e9])
    np.testing.assert_allclose(inp.decode_scaleup.latency_s, [ALPHA], rtol=1e-15)
    np.testing.assert_array_equal(inp.decode_scaleup.efficiency, [ETA])
    np.testing.assert_array_equal(inp.decode_expert_parallel, [2.0])
    nvlink = ScaleUpLink(np.array([450e9]), np.array([ALPHA]), np.array([ETA]))
    pcie = ScaleUpLink(np.array([32e9]), np.array([ALPHA]), np.array([ETA]))
    alone = evaluate_expert_parallel(inp.decode, np.array([2.0]), nvlink).step_s[0]
    assert evaluate_pairs(inp).tpot_s[0] == pytest.approx(alone, rel=1e-12)
    assert evaluate_expert_parallel(inp.decode, np.array([2.0]), pcie).step_s[0] > alone * (1 + 1e-6)
    assert evaluate_pairs(inp).decode_gpus_per_replica[0] == 4  # t·E_p = 2 × 2


# ------------------------------------------------------------------- which pool pairs are enumerated


def _enumerate(catalog: Catalog, quota: dict[str, int], ep: int) -> dict[tuple[int, int], list[tuple[Any, ...]]]:
    """Step 3 on H100 (0) and H200 (1): NVLink 4 (link 0, intra-node) joins H100 to itself, IB NDR (link 1)
    H100 to H200.  Every prefill pool (TP 1–8, rate 1 rps per GPU, batch 1) and decode group (TP 1–4,
    2 rps per GPU, batch 8) is feasible, so only the domain and the quotas decide."""
    hardware = [catalog.hardware["h100-sxm"], catalog.hardware["h200"]]
    links = [catalog.links["nvlink4"], catalog.links["ib-ndr"]]
    joins = {(0, 0, 0), (0, 1, 1)}
    prefill = {(0, t, li, td): (1, 1.0 * t) for t in (1, 2, 4, 8) for li in (0, 1) for td in (1, 2, 4)}
    decode = {(b, td, li): (8, 2.0 * td) for b in (0, 1) for td in (1, 2, 4) for li in (0, 1)}
    scenario = SimpleNamespace(market=SimpleNamespace(quota_gpus=quota))
    groups = _feasible_pairs(scenario, hardware, links, joins, prefill, decode, ep)  # type: ignore[arg-type]
    return {key: sorted(group) for key, group in groups.items()}


def test_an_intra_node_pair_holds_its_prefill_and_all_decode_groups_in_one_domain(catalog: Catalog) -> None:
    """Over NVLink, ``t_p + t·E_p ≤ 8``: with ``E_p = 2``, TP4 + 2 × TP2 (exactly 8 GPUs) is kept, any
    TP4 group (8 GPUs alone) and TP8 prefill are not; over IB every combination is.  A pair carries
    ``(t_p, λ_p, t·E_p, λ_d, intra-node)`` and its row ``(h_p, t_p, b_p, h_d, t, b_d, link)``."""
    groups = _enumerate(catalog, {}, ep=2)
    intra = [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2)]  # (t_p, t): 1+2, 2+2, 4+2, 1+4, 2+4, 4+4 GPUs
    assert groups[(0, 0)] == sorted(((t, 1.0 * t, 2 * td, 2.0 * td, True), (0, t, 1, 0, td, 8, 0)) for t, td in intra)
    inter = [(t, td) for t in (1, 2, 4, 8) for td in (1, 2, 4)]  # no shared server: 12 pairs
    assert groups[(0, 1)] == sorted(((t, 1.0 * t, 2 * td, 2.0 * td, False), (0, t, 1, 1, td, 8, 1)) for t, td in inter)
    # without expert parallelism the decode replica is the group: t_p + t ≤ 8 admits TP4 + TP4 as well
    plain = _enumerate(catalog, {}, ep=1)
    assert [(f[0], f[2]) for f, _row in plain[(0, 0)]] == sorted(
        [(t, td) for t in (1, 2, 4, 8) for td in (1, 2, 4) if t + td <= 8])
    shapes = [(f[0], f[2]) for f, _row in plain[(0, 0)]]
    assert (4, 4) in shapes and (8, 1) not in shapes


def test_a_pool_is_never_larger_than_its_types_quota(catalog: Catalog) -> None:
    """Quotas of 4 H100 and 2 H200, ``E_p = 2``: a prefill pool needs ``t_p ≤`` its type's quota, a decode
    replica ``2t ≤`` its own; a pool exactly at the quota (TP4 on 4 H100, 2 × TP1 on 2 H200) is kept."""
    groups = _enumerate(catalog, {"h100-sxm": 4, "h200": 2}, ep=2)
    # NVLink on H100: t_p ≤ 4 and 2t ≤ 4 (t ∈ {1, 2}), and t_p + 2t ≤ 8
    assert [(f[0], f[2]) for f, _row in groups[(0, 0)]] == [(1, 2), (1, 4), (2, 2), (2, 4), (4, 2), (4, 4)]
    # IB to H200: t_p ≤ 4 on H100, 2t ≤ 2 on H200: only one TP1 group per decode replica
    assert [(f[0], f[2]) for f, _row in groups[(0, 1)]] == [(1, 2), (2, 2), (4, 2)]
    # a zero quota is no exception to the rule: no pool of that type at all
    assert (0, 1) not in _enumerate(catalog, {"h200": 0}, ep=1)


def test_a_pair_dominates_another_by_gpus_and_requests_per_gpu_of_each_pool() -> None:
    """Step 4: ``a`` dominates ``b`` when it has no more GPUs in either pool and at least the
    requests/s per GPU in both (the rates themselves may be lower)."""
    # TP1 at 1 rps (1/GPU) + TP2 at 3 rps (1.5/GPU) against TP2 at 1.5 rps (0.75) + TP4 at 5 rps (1.25)
    assert _dominates((1, 1.0, 2, 3.0, False), (2, 1.5, 4, 5.0, False))
    # more decode GPUs (4 > 2) at a better rate per GPU (2 ≥ 1.5): not dominated
    assert not _dominates((1, 1.0, 4, 8.0, False), (1, 1.0, 2, 3.0, False))
    # more prefill GPUs: not dominated either
    assert not _dominates((2, 4.0, 2, 3.0, False), (1, 1.0, 2, 3.0, False))
    # the same GPUs, a lower rate per GPU in one pool: not dominated
    assert not _dominates((1, 1.0, 2, 3.0, False), (1, 1.0, 2, 3.1, False))
    assert not _dominates((1, 0.9, 2, 3.0, False), (1, 1.0, 2, 3.0, False))
    assert _dominates((1, 1.0, 2, 3.0, False), (1, 1.0, 2, 3.0, False))  # equal figures: the first is kept


def _pair(**over: Any) -> PairColumn:
    """A free pair of variant 0, class 0: prefill TP2 on hardware 0 at 1 rps (2 GPU-s per request),
    decode TP4 on hardware 1 at 4 rps (1 GPU-s per request), over IB."""
    values: dict[str, Any] = {"variant": 0, "workload": 0, "prefill_hardware": 0, "prefill_tp": 2, "prefill_batch": 1,
                              "prefill_rps": 1.0, "decode_hardware": 1, "decode_tp": 4, "decode_batch": 8,
                              "decode_rps": 4.0, "link": "ib-ndr", "link_utilisation": 0.1, "ttft_ms": 100.0,
                              "tpot_ms": 20.0, "kv_bytes_per_request": 1e6}
    return PairColumn(**{**values, **over})


def _column(hardware: int, tp: int, rps: float) -> Column:
    return Column(row=0, variant=0, workload=0, hardware=hardware, tp=tp, batch=1, capacity_rps=rps, ttft_ms=1.0,
                  tpot_ms=1.0)


def test_a_pair_is_dropped_only_when_colocated_columns_beat_its_gpu_seconds_with_a_margin() -> None:
    """Step 6: ``g_p/g_{j₁} + g_d/g_{j₂} ≥ 1 + 1e-9`` with ``g = t/λ`` GPU-seconds per request and
    ``t_j`` dividing the pool's TP.  The pair: ``g_p = 2/1 = 2``, ``g_d = 4/4 = 1``."""
    # co-located columns: TP2 on hardware 0 at 0.5 rps (g = 4), TP4 on hardware 1 at 2 rps (g = 2)
    rates = colocated_rates([_column(0, 2, 0.5), _column(1, 4, 2.0), _column(1, 2, 0.0)])
    assert rates == {(0, 0, 0): [(2, 0.25)], (0, 0, 1): [(4, 0.5)]}  # (t_j, μ_j/t_j); no capacity: not a rate
    # 2/4 + 1/2 = 1 exactly: at the boundary the pair is kept
    assert not dominated_by_colocated(_pair(), rates)
    # 2 × 0.26 + 1 × 0.5 = 1.02: dropped
    assert dominated_by_colocated(_pair(), {(0, 0, 0): [(2, 0.26)], (0, 0, 1): [(4, 0.5)]})
    # a TP4 column does not divide the prefill pool's TP2: only the decode side counts, 0.5 < 1
    assert not dominated_by_colocated(_pair(), {(0, 0, 0): [(4, 100.0)], (0, 0, 1): [(4, 0.5)]})
    # each pool is compared with columns on its own hardware: a fast column on the prefill type does not
    # cover the decode pool (1 × 0 + 2 × 0.3 = 0.6 < 1), one on the decode type does (1 × 1.2 ≥ 1)
    assert not dominated_by_colocated(_pair(), {(0, 0, 0): [(1, 0.3), (4, 5.0)]})
    assert dominated_by_colocated(_pair(), {(0, 0, 1): [(1, 1.2)]})
    # another variant's or class's columns never count
    assert not dominated_by_colocated(_pair(variant=1), {(0, 0, 1): [(1, 1.2)]})
    assert not dominated_by_colocated(_pair(workload=1), {(0, 0, 1): [(1, 1.2)]})


def _columns(scenario: planner.Scenario, catalog: Catalog) -> tuple[Any, list[PairColumn], dict[str, int]]:
    cs = build_candidates(scenario, catalog)
    floors = quality_floors(scenario.workload, scenario.quality, cs.base_score)
    columns, _ = prune(cs, scenario.plan.max_variants, floors)
    pairs, stats, _s = build_pair_columns(scenario, catalog, cs, columns, set(range(len(cs.hardware))))
    return cs, pairs, stats


#: Mixtral-8x7B (8 experts) and its dense Llama-3.1-8B student, BF16, on H100 over IB, E_p = 4.
MOE_AND_STUDENT: dict[str, Any] = {
    "model": {"base": "mixtral-8x7b"},
    "workload": [{**LONG_PROMPTS["workload"][0], "tpot_ms": 25}],
    "market": {"hardware": ["h100-sxm"]},
    "techniques": {"quantization": ["none"], "caching": ["none"], "kv_quantization": ["none"],
                   "distillation": ["none", "llama-3.1-8b"]},
    "quality": {"max_drop": 50},
    "plan": {"disaggregation": True, "expert_parallel": 4, "kv_links": ["ib-ndr"]},
}


def test_pair_columns_read_back_the_physics_of_their_own_pools(catalog: Catalog) -> None:
    """Each column's rates, latencies, link load and KV bytes are those of its two pools evaluated alone
    (:func:`~planner.physics.disaggregation.build_pair_inputs`, the physics' own path), and the decode
    rows tried are the TP ladder × the 9 batches 1, 2, …, 256 (the engines' cap) per link: 4 × 9 = 36 for the
    dense student; Mixtral's decode replica of ``E_p = 4`` groups of TP ``t`` needs ``4t ≤ 8``: 2 × 9 = 18."""
    scenario = _scenario(**MOE_AND_STUDENT)
    cs, pairs, stats = _columns(scenario, catalog)
    assert [v.name for v in cs.variants] == ["baseline", "distillation:llama-3.1-8b"]
    assert stats["disagg_decode_rows"] == 18 + 36
    moe = [k for k in pairs if k.variant == 0]
    dense = [k for k in pairs if k.variant == 1]
    assert moe and dense
    # E_p applies to the MoE variant only: its decode replicas hold t·4 GPUs; the student's are plain TP
    assert all(k.decode_expert_parallel == 4 and k.decode_tp in (4, 8) for k in moe)
    assert all(k.decode_expert_parallel is None for k in dense)
    assert {k.decode_tp for k in dense} == {1, 2, 4, 8}
    # both models cache 32 layers × (K, V) × 8 KV heads × 128 × 2 bytes = 131,072 bytes per token
    assert all(k.kv_bytes_per_request == 8000 * 32 * 2 * 8 * 128 * 2 == 1_048_576_000 for k in pairs)
    w = scenario.workload[0]
    profile = cs.variants[1].profiles["rag"]
    for k in dense:
        candidate = PairCandidate(PoolSpec("h100-sxm", k.prefill_tp, k.prefill_batch),
                                  PoolSpec("h100-sxm", k.decode_tp, k.decode_batch), k.link)
        r = evaluate_pairs(build_pair_inputs(profile, [candidate], catalog, input_tokens=w.input_tokens,
                                             output_tokens=w.output_tokens, ttft_target_s=w.ttft_ms / 1e3,
                                             tpot_target_s=w.tpot_ms / 1e3))
        assert r.feasible[0]
        assert k.prefill_rps == pytest.approx(r.prefill_capacity_rps[0], rel=1e-12)
        assert k.decode_rps == pytest.approx(r.decode_capacity_rps[0], rel=1e-12)
        assert k.ttft_ms == pytest.approx(r.ttft_s[0] * 1e3, rel=1e-12)
        assert k.tpot_ms == pytest.approx(r.tpot_s[0] * 1e3, rel=1e-12)
        assert k.link_utilisation == pytest.approx(r.link_utilisation[0], rel=1e-12)
        assert k.ttft_ms > k.tpot_ms  # the first token waits for the prompt and its KV transfer
    # a Mixtral column's decode rate: 4 groups of TP t = decode_tp / 4 stepping together
    moe_profile = cs.variants[0].profiles["rag"]
    for k in moe:
        rows = _Rows.empty()
        rows.add(0, k.prefill_tp, k.prefill_batch, 0, k.decode_tp // 4, k.decode_batch, 0)
        r = evaluate_pairs(pool_pair_inputs(moe_profile, [catalog.hardware["h100-sxm"]], [catalog.links["ib-ndr"]],
                                            rows, catalog, input_tokens=8000, output_tokens=300, ttft_target_s=2.0,
                                            tpot_target_s=0.025, decode_expert_parallel=4))
        assert r.feasible[0] and r.decode_gpus_per_replica[0] == k.decode_tp
        assert k.decode_rps == pytest.approx(r.decode_capacity_rps[0], rel=1e-12)
        assert k.tpot_ms == pytest.approx(r.tpot_s[0] * 1e3, rel=1e-12)


# ------------------------------------------------------------------------------- the MILP's pair terms

#: One class "rag" served by one variant whose queries are 80 % served (20 % answered by a cache), of
#: quality 80 and $5 per million queries; two periods (discounts 1 and 0.9).
SERVED = 0.8


def _hook_inputs(peak: tuple[float, float] = (5.0, 10.0), min_replicas: int = 0) -> tuple[Any, Any, Any, Any]:
    profile = SimpleNamespace(served_query_fraction=SERVED, quality_score=80.0, recurring_usd_per_million_queries=5.0)
    cs = SimpleNamespace(workloads=["rag"], variants=[SimpleNamespace(name="v0", profiles={"rag": profile})],
                         hardware=[SimpleNamespace(slug="h100-sxm", scaleup_domain_gpus=8),
                                   SimpleNamespace(slug="h200", scaleup_domain_gpus=8)])
    scenario = SimpleNamespace(workload=[SimpleNamespace(min_replicas=min_replicas)])
    periods = SimpleNamespace(count=2, discount_mid=np.array([1.0, 0.9]))
    demand = SimpleNamespace(peak_rps=np.array([list(peak)]), queries=np.array([[1e6, 2e6]]))
    return scenario, cs, periods, demand


def _hooked(pairs: list[PairColumn], **inputs: Any) -> tuple[pulp.LpProblem, Any, Any]:
    """The pairs added to an empty problem (variant 0's ``y`` fixed to 1); the hook's record."""
    scenario, cs, periods, demand = _hook_inputs(**inputs)
    prob = pulp.LpProblem("pairs", pulp.LpMinimize)
    y = {0: prob.add_variable("y", 1, 1)}
    more = pair_hook(scenario, cs, pairs, periods, demand)(prob, y)  # type: ignore[arg-type]
    return prob, more, more.state


def _coefficients(expression: Any) -> dict[str, float]:
    return {var.name: coef for var, coef in expression.items()}


def _names(variables: list[Any]) -> list[str]:
    """Variables by name (``==`` between PuLP variables builds a constraint, always true)."""
    return [v.name for v in variables]


def _solve_for_fewest_gpus(prob: pulp.LpProblem, more: Any) -> None:
    """Every period's class fully served (``Σ x = 1``) on the fewest GPUs of the pools."""
    for (c, p), shares in more.share.items():
        prob += pulp.lpSum(shares) == 1, f"demand_{c}_{p}"
    prob += pulp.lpSum(term for terms in more.gpus.values() for term in terms)
    assert prob.solve(pulp.HiGHS(msg=False)) == pulp.LpStatusOptimal


def test_a_pairs_pool_rows_carry_its_share_of_the_class_load(catalog: Catalog) -> None:
    """Prefill TP2 on H100 at 1.6 rps, decode TP4 on H200 at 10 rps; peaks 5 and 10 rps, 80 % served:
    ``a^P = 5 × 0.8 / 1.6 = 2.5`` and ``8/1.6 = 5``, ``a^D = 4/10 = 0.4`` and ``0.8``."""
    prob, more, state = _hooked([_pair(prefill_rps=1.6, decode_rps=10.0)])
    assert state.a_prefill == {(0, 0): pytest.approx(2.5, rel=1e-15), (0, 1): pytest.approx(5.0, rel=1e-15)}
    assert state.a_decode == {(0, 0): pytest.approx(0.4, rel=1e-15), (0, 1): pytest.approx(0.8, rel=1e-15)}
    rows = prob.constraints
    assert _coefficients(rows["p00000_000_cap"]) == {"dx_00000_000": pytest.approx(2.5), "dp_00000_000": -1}
    assert _coefficients(rows["d00000_000_cap"]) == {"dx_00000_000": pytest.approx(0.4), "dd_00000_000": -1}
    assert _coefficients(rows["d00000_000_min"]) == {"dx_00000_000": 1, "dd_00000_000": -1}  # a < 1: x ≤ D
    assert _coefficients(rows["plink_00000_001"]) == {"dx_00000_001": 1, "y": -1}
    # the rounding facet of a^P = 2.5 (⌊a⌋ = 2, f = 0.8): P ≥ x/0.2 + 2 − 0.8/0.2 = 5x − 2 —
    # tight at x = 0.8 (2 replicas carry 2 rps) and at x = 1 (3 replicas), below no integer point
    cut, x, replicas = rows["p00000_000_rnd"], state.x[0, 0], state.prefill[0, 0]
    for share, count, slack in ((0.8, 2, 0.0), (1.0, 3, 0.0), (0.4, 1, 1.0), (1.0, 4, 1.0)):
        x.varValue, replicas.varValue = share, count
        assert cut.value() == pytest.approx(slack, abs=1e-12)
    assert "p00000_001_rnd" not in rows and "p00000_001_min" not in rows  # a^P = 5: whole, no cut
    # bounds: max(1, R = 0, ⌈a⌉) replicas carry the whole class
    assert [state.prefill[0, p].upBound for p in (0, 1)] == [3, 5]
    assert [state.decode[0, p].upBound for p in (0, 1)] == [1, 1]
    assert more.gpu_upper == {0: 2 * 5, 1: 4 * 1}  # t_p × the peak bound on H100, t_d × 1 on H200
    assert more.integers == 4
    # solved: P = ⌈a^P⌉ prefill and D = ⌈a^D⌉ decode replicas, each pool sized for its own load
    _solve_for_fewest_gpus(prob, more)
    assert [state.prefill[0, p].value() for p in (0, 1)] == [3, 5]
    assert [state.decode[0, p].value() for p in (0, 1)] == [1, 1]


def test_the_rounding_facet_is_added_only_while_its_slope_stays_below_1000() -> None:
    """The facet ``P ≥ x/(1 − f) + ⌊a⌋ − f/(1 − f)`` (``f = ⌊a⌋/a``) has slope ``a/(a − ⌊a⌋)``: it is added
    while ``(a − ⌊a⌋)/a > 1e-3``.  ``a^P = 40.1`` (peak 80.2 × 0.8 / 1.6): slope 401, added — tight at
    ``x = 1``, 41 replicas; ``a^P = 40.02`` (peak 80.04): slope 2,001, left out (the cap row alone)."""
    prob, _more, state = _hooked([_pair(prefill_rps=1.6, decode_rps=10.0)], peak=(80.2, 80.04))
    assert state.a_prefill[0, 0] == pytest.approx(40.1) and state.a_prefill[0, 1] == pytest.approx(40.02)
    cut = prob.constraints["p00000_000_rnd"]
    assert _coefficients(cut)["dx_00000_000"] == pytest.approx(-40.1 / 0.1, rel=1e-9)
    state.x[0, 0].varValue, state.prefill[0, 0].varValue = 1.0, 41
    assert cut.value() == pytest.approx(0.0, abs=1e-9)
    assert "p00000_001_rnd" not in prob.constraints and "p00000_001_cap" in prob.constraints


def test_a_pairs_terms_in_the_class_and_supply_rows(catalog: Catalog) -> None:
    """Share and quality in the class's rows, ``P/a^P`` in its cover row, ``t_p·P`` in the prefill type's
    supply and ``t_d·D`` in the decode type's, each pool's replicas in its phase's floor, and the traffic
    cost ``$5/M × queries × δ_p`` (k$): $5 and $5 × 2 × 0.9 = $9."""
    _prob, more, state = _hooked([_pair(prefill_rps=1.6, decode_rps=10.0)])
    for p, a_p in ((0, 2.5), (1, 5.0)):
        x, rp, rd = state.x[0, p], state.prefill[0, p], state.decode[0, p]
        assert _names(more.share[(0, p)]) == [x.name]
        assert [(q, v.name) for q, v in more.quality[(0, p)]] == [(80.0, x.name)]
        [cover] = more.cover[(0, p)]
        assert _coefficients(cover) == {rp.name: pytest.approx(1 / a_p, rel=1e-15)}
        assert _names(more.prefill_replicas[(0, p)]) == [rp.name]
        assert _names(more.decode_replicas[(0, p)]) == [rd.name]
        assert [_coefficients(e) for e in more.gpus[(0, p)]] == [{rp.name: 2}]
        assert [_coefficients(e) for e in more.gpus[(1, p)]] == [{rd.name: 4}]
    assert state.traffic_cost == {(0, 0): pytest.approx(5.0), (0, 1): pytest.approx(9.0)}
    assert [_coefficients(e) for e in more.cost] == [{"dx_00000_000": pytest.approx(0.005)},
                                                      {"dx_00000_001": pytest.approx(0.009)}]


def test_a_tiny_load_is_held_at_the_models_smallest_load_per_replica() -> None:
    """A peak of 1e-12 rps gives ``a = 1e-12 × 0.8 / 1.6 = 5e-13``: held at 1e-6 (a cover coefficient of
    1e6, not 2e12); a load of 0 stays 0 and puts nothing in the cover row."""
    _prob, more, state = _hooked([_pair(prefill_rps=1.6, decode_rps=10.0)], peak=(1e-12, 0.0))
    assert state.a_prefill[0, 0] == state.a_decode[0, 0] == 1e-6
    assert _coefficients(more.cover[(0, 0)][0]) == {"dp_00000_000": pytest.approx(1e6)}
    assert state.a_prefill[0, 1] == state.a_decode[0, 1] == 0.0
    assert (0, 1) not in more.cover


def test_a_replica_floor_raises_both_pools_bounds() -> None:
    """``workload.min_replicas = 4``: each pool may hold 4 replicas even where ``⌈a⌉`` is smaller."""
    _prob, more, state = _hooked([_pair(prefill_rps=1.6, decode_rps=10.0)], min_replicas=4)
    assert [state.prefill[0, p].upBound for p in (0, 1)] == [4, 5]
    assert [state.decode[0, p].upBound for p in (0, 1)] == [4, 4]
    assert more.gpu_upper == {0: 2 * 5, 1: 4 * 4}


def test_a_unit_pair_fills_whole_domains_and_pays_for_their_idle_gpus() -> None:
    """NVLink on one type: unit ``(p, d) = (2, 1)`` of TP2 + TP2 in an 8-GPU block (2 GPUs idle), prefill
    at 1.6 rps, decode at 1 rps.  Period 0: ``a^P = 2.5``, ``a^D = 4``, ``a^U = max(2.5/2, 4/1) = 4``;
    period 1: ``a^P = 5``, ``a^D = 8``, ``a^U = 8``.  ``P = 2U``, ``D = U``, and supply counts the idle
    ``2U`` GPUs: the fewest GPUs are ``U = 4`` and ``8`` blocks of 8 GPUs."""
    unit = _pair(prefill_rps=1.6, decode_rps=1.0, decode_hardware=0, decode_tp=2, link="nvlink4", unit=(2, 1),
                 unit_gpus=8)
    assert unit.idle_gpus == 8 - 2 * 2 - 1 * 2 == 2
    assert float(unit_load(2.5, 4.0, (2, 1))) == 4.0 and float(unit_load(5.0, 2.0, (2, 1))) == 2.5
    prob, more, state = _hooked([unit])
    rows = prob.constraints
    u = state.units[0, 0]
    assert _coefficients(rows["uprefill_00000_000"]) == {"dp_00000_000": 1, u.name: -2}
    assert _coefficients(rows["udecode_00000_000"]) == {"dd_00000_000": 1, u.name: -1}
    assert rows["uprefill_00000_000"].sense == rows["udecode_00000_000"].sense == pulp.LpConstraintEQ
    assert _coefficients(rows["u00000_000_cap"]) == {"dx_00000_000": pytest.approx(4.0), u.name: -1}
    assert [state.units[0, p].upBound for p in (0, 1)] == [4, 8]
    assert [state.prefill[0, p].upBound for p in (0, 1)] == [8, 16]  # p_k × the domains' bound
    assert [state.decode[0, p].upBound for p in (0, 1)] == [4, 8]
    assert sorted(next(iter(_coefficients(e).items())) for e in more.gpus[(0, 0)]) == [
        ("dd_00000_000", 2), ("dp_00000_000", 2), (u.name, 2)]  # decode, prefill and idle GPUs, all on H100
    assert more.gpu_upper == {0: 2 * 16 + 2 * 8 + 2 * 8}  # prefill, idle (16 // 2 blocks), decode
    assert more.integers == 6
    _solve_for_fewest_gpus(prob, more)
    assert [state.units[0, p].value() for p in (0, 1)] == [4, 8]
    assert [state.prefill[0, p].value() for p in (0, 1)] == [8, 16]
    assert [state.decode[0, p].value() for p in (0, 1)] == [4, 8]
    assert pulp.value(prob.objective) == 8 * 4 + 8 * 8  # whole blocks, idle GPUs included


def _solved_state(pairs: list[PairColumn], values: dict[tuple[int, int], tuple[float, float, float]],
                  units: dict[tuple[int, int], float] | None = None) -> PairVariables:
    """A pair record whose variables hold ``values[(k, p)] = (share, prefill, decode)``, with loads
    ``a^P = 2.5``, ``a^D = 0.4`` everywhere."""
    state = PairVariables(pairs=pairs)
    for (k, p), (share, prefill, decode) in values.items():
        for store, name, value in ((state.x, "dx", share), (state.prefill, "dp", prefill),
                                   (state.decode, "dd", decode)):
            var = pulp.LpVariable(f"{name}_{k}_{p}")
            var.varValue = value
            store[k, p] = var
        state.a_prefill[k, p], state.a_decode[k, p] = 2.5, 0.4
    for (k, p), value in (units or {}).items():
        var = pulp.LpVariable(f"du_{k}_{p}")
        var.varValue = value
        state.units[k, p] = var
    return state


def test_verifying_a_pair_checks_each_pool_against_its_own_load() -> None:
    """``a·x ≤ replicas + 1e-5`` per pool: share 0.8 needs 2 prefill (2.5 × 0.8 = 2) and 1 decode replica
    (0.32); the pair's share is added to its class's total."""
    totals: dict[tuple[int, int], float] = {(0, 0): 0.2}
    assert verify_pairs(_solved_state([_pair()], {(0, 0): (0.8, 2, 1)}), totals) is None
    assert totals == {(0, 0): pytest.approx(1.0)}
    # 2.5 × 0.8000041 = 2.00001 > 2 + 1e-5: the prefill pool is short; the decode pool's 0.32 is not
    short = verify_pairs(_solved_state([_pair()], {(0, 0): (0.8000041, 2, 1)}), {})
    assert short == "pair 0 in period 0: its prefill replicas serve less than its traffic"
    assert verify_pairs(_solved_state([_pair()], {(0, 0): (0.8000039, 2, 1)}), {}) is None  # within 1e-5
    assert verify_pairs(_solved_state([_pair()], {(0, 1): (0.8, 2, 0)}), {}) == (
        "pair 0 in period 1: its decode replicas serve less than its traffic")


def test_a_solved_pair_is_read_back_as_one_line_with_both_pools(catalog: Catalog) -> None:
    """Period 0: share 0.75 on 3 prefill TP2 H100 and 2 decode replicas of 2 groups of TP2 (E_p = 2, 8
    sequences each) on H200: 5 replicas, 3 × 2 + 2 × 4 = 14 GPUs, decode batch 2 × 8 = 16.  Period 1:
    no share and no replica, no line.  A unit pair (2 + 1 replicas of TP2 in 8-GPU blocks, 2 idle) on
    3 blocks: 6 + 3 replicas, 3 × 8 = 24 GPUs on 3 servers; TP1 + TP1 in 4-GPU blocks: 2 blocks, 1 server."""
    _, cs, _periods, _demand = _hook_inputs()
    ep = _pair(decode_tp=4, decode_expert_parallel=2, decode_batch=8)
    unit = _pair(decode_hardware=0, decode_tp=2, link="nvlink4", unit=(2, 1), unit_gpus=8, ttft_ms=90.0)
    half = _pair(prefill_tp=1, decode_hardware=0, decode_tp=1, link="nvlink4", unit=(2, 1), unit_gpus=4)
    state = _solved_state([ep, unit, half], {(0, 0): (0.75, 3, 2), (0, 1): (0.0, 0, 0), (1, 0): (0.25, 6, 3),
                                             (2, 1): (0.0, 4, 2)}, units={(1, 0): 3, (2, 1): 2})
    lines = pair_serving(cs, state)  # type: ignore[arg-type]
    assert [(s.period, s.hardware) for s in lines] == [(0, "h100-sxm+h200"), (0, "h100-sxm+h100-sxm"),
                                                      (1, "h100-sxm+h100-sxm")]
    first, second, third = lines
    assert (first.workload, first.variant, first.traffic_share) == ("rag", "v0", 0.75)
    assert (first.tp, first.expert_parallel, first.batch, first.replicas, first.gpus) == (4, 2, 16, 5, 14)
    assert first.prefill is not None and first.decode is not None
    assert (first.prefill.hardware, first.prefill.tp, first.prefill.batch, first.prefill.replicas) == (
        "h100-sxm", 2, 1, 3)
    assert (first.decode.hardware, first.decode.tp, first.decode.batch, first.decode.replicas,
            first.decode.expert_parallel) == ("h200", 4, 16, 2, 2)
    assert (first.ttft_ms, first.tpot_ms, first.quality_score, first.link) == (100.0, 20.0, 80.0, "ib-ndr")
    assert first.unit_blocks is None and first.scale_up_domains is None
    assert (second.replicas, second.gpus, second.unit_blocks, second.scale_up_domains) == (9, 24, 3, 3)
    assert second.ttft_ms == 90.0 and second.expert_parallel is None and second.batch == 8
    # replicas left on a pair without traffic are read back (they are paid for): 4 × 1 + 2 × 1 GPUs in
    # 2 blocks of 4 (2 × (4 − 2 − 1) = 2 idle) = 8 GPUs, one server
    assert (third.traffic_share, third.replicas, third.gpus, third.unit_blocks, third.scale_up_domains) == (
        0.0, 6, 8, 2, 1)


def test_a_pairs_screening_bound_prices_each_pool_on_its_own_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ℓ = λ_c·s·(t_p·κ_{h_p}/λ_p + t_d·κ_{h_d}/λ_d) + ρ·Q/1e6·δ``: with κ = $100 and $300 per GPU and
    period on H100 and H200, peak 5 rps × 0.8 = 4 rps, prefill TP2 at 1 rps, decode TP4 at 4 rps:
    4 × (2 × 100/1 + 4 × 300/4) = $2,000, plus $5 per million of 1e6 queries = $2,005 in period 0;
    period 1 (κ $50 and $150, 8 rps, 2e6 queries at δ = 0.9): 8 × (2 × 50 + 4 × 150/4) + 9 = $2,009."""
    _, cs, periods, demand = _hook_inputs()
    monkeypatch.setattr(disagg_milp, "gpu_period_floor",
                        lambda offers, count: {0: np.array([100.0, 50.0]), 1: np.array([300.0, 150.0])})
    two = [_pair(), _pair(decode_rps=2.0)]
    bounds = pair_class_lower_bounds(cs, two, [], periods, demand)  # type: ignore[arg-type]
    assert list(bounds) == [(0, 0)]
    np.testing.assert_allclose(bounds[(0, 0)], [2005.0, 2009.0], rtol=1e-12)  # the slower decode pool is dearer
    # a pool on hardware without an offer gives no bound
    assert pair_class_lower_bounds(cs, [_pair(decode_hardware=2)], [], periods, demand) == {}  # type: ignore[arg-type]


def test_a_variants_bound_takes_each_classs_cheaper_way_and_its_one_time_cost() -> None:
    """``LB_v = F_v + Σ_{c,p} min(ℓ_{v,c,p}, ℓ^{pair}_{v,c,p})``; a variant some class cannot be served by
    at all has no bound."""
    colocated = {(0, 0): np.array([10.0, 20.0]), (0, 1): np.array([5.0, 5.0]), (1, 0): np.array([1.0, 1.0])}
    pairs = {(0, 0): np.array([12.0, 15.0]), (1, 1): np.array([2.0, 2.0])}
    bounds = variant_lower_bounds_with_pairs(colocated, pairs, [0, 1, 2], 2, {0: 100.0})
    # variant 0: min(10, 12) + min(20, 15) + 5 + 5 + 100 = 135; variant 1: 1 + 1 (co-located) + 2 + 2 (pairs)
    assert bounds == {0: 135.0, 1: 6.0}
    assert variant_lower_bounds_with_pairs(colocated, {}, [1], 2, {}) == {}  # class 1 unserved by variant 1


def test_a_load_profile_with_disaggregation_exits_2_naming_the_class(whatif: Any, tmp_path: Any) -> None:
    """Disaggregated columns are not modelled with time slices: a class's daily profile is refused."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["workload"][0]["profile"] = [1.0] * 12 + [2.0] * 12
    with pytest.raises(ScenarioError, match="not supported together with plan.disaggregation") as refused:
        check_disaggregation(planner.scenario_from_dict(data))
    assert refused.value.field == "workload[rag].profile"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = whatif("plan", str(path))
    assert result.code == 2 and "workload[rag].profile" in result.err


# ----------------------------------------------------------------------------------------- the guards


def test_kv_links_are_offered_fastest_first(catalog: Catalog) -> None:
    """The order decides ties in step 4 (the fastest link first): listed PCIe 5 (64 GB/s), IB NDR (50),
    NVLink 4 (450) come back NVLink 4, PCIe 5, IB NDR; all links: by bandwidth, ties by slug."""
    listed = _scenario(plan={"kv_links": ["pcie5", "ib-ndr", "nvlink4"]})
    assert [r.slug for r in kv_links(listed, catalog)] == ["nvlink4", "pcie5", "ib-ndr"]
    assert [r.slug for r in kv_links(_scenario(), catalog)] == [
        "nvlink5", "nvlink4", "nvlink3", "ib-xdr", "pcie5", "ib-ndr", "roce-400g", "pcie4"]  # 50 = 50: ib < roce


def test_a_kv_link_joining_none_of_the_markets_types_is_refused_with_those_that_do(catalog: Catalog) -> None:
    """NVLink 3 joins A100s only: with H100 and H200 on the market it can never carry a KV cache.  The
    links that can: InfiniBand and RoCE (any NVIDIA pair), NVLink 4 and PCIe 5 (listed for H100/H200,
    same type), PCIe 4 (any same-type NVIDIA pair) — not NVLink 3 or 5 (A100, B200 only)."""
    with pytest.raises(ScenarioError) as refused:
        kv_links(_scenario(plan={"kv_links": ["ib-ndr", "nvlink3"]}), catalog)
    assert refused.value.field == "plan.kv_links[1]"
    assert str(refused.value).endswith(
        "joins none of the market's hardware pairs (h100-sxm, h200); links that do: ib-ndr, ib-xdr, nvlink4, pcie4, "
        "pcie5, roce-400g")
    # on a market of A100s it is a link like any other
    assert [r.slug for r in kv_links(_scenario(market={"hardware": ["a100-80gb"]}, plan={"kv_links": ["nvlink3"]}),
                                     catalog)] == ["nvlink3"]


def test_a_quota_equal_to_the_smallest_pool_is_accepted(catalog: Catalog) -> None:
    """``0 < q < g`` is refused; ``q = g`` (one pool of the smallest size fits) and ``q = 0`` are not."""
    l40s = [catalog.hardware["l40s"]]

    def check(quota: int, disaggregation: bool = True) -> None:
        scenario = _scenario(market={"hardware": ["l40s"], "quota_gpus": {"l40s": quota}},
                             plan={"disaggregation": disaggregation})
        check_pool_quotas(scenario, {"l40s": 4}, l40s)

    check(4)
    check(0)
    check(3, disaggregation=False)  # co-located plans simply leave the type unused
    with pytest.raises(ScenarioError, match="3 GPUs of l40s are fewer than .* needs on it \\(4 GPUs\\)") as refused:
        check(3)
    assert refused.value.field == "market.quota_gpus.l40s"
    check_pool_quotas(_scenario(market={"quota_gpus": {"l40s": 1}}), {}, l40s)  # no feasible unit: left alone


def test_the_smallest_pool_of_a_type_counts_a_decode_replicas_expert_groups(catalog: Catalog) -> None:
    """``g_h``, the fewest GPUs of any feasible unit on ``h``: Mixtral-8x7B in BF16 (93 GB of weights) on
    80 GB H100s with ``E_p = 4``.  A prefill pool needs TP2 (TP1 does not fit); a decode replica is 4
    groups, at least 4 GPUs, as is a co-located replica.  So ``g = 2``: a quota of 1 is refused naming 2
    GPUs (a decode group of TP1 is not a 1-GPU unit), a quota of 2 is accepted."""
    techniques = {**MOE_AND_STUDENT["techniques"], "distillation": ["none"]}

    def columns(quota: int) -> list[PairColumn]:
        scenario = _scenario(**{**MOE_AND_STUDENT, "techniques": techniques,
                                "market": {"hardware": ["h100-sxm"], "quota_gpus": {"h100-sxm": quota}}})
        return _columns(scenario, catalog)[1]

    with pytest.raises(ScenarioError, match="needs on it \\(2 GPUs\\)") as refused:
        columns(1)
    assert refused.value.field == "market.quota_gpus.h100-sxm"
    assert columns(2) == []  # accepted; no pair fits 2 GPUs (every decode replica holds 4)
    assert {(k.prefill_tp, k.decode_tp) for k in columns(8)} >= {(2, 4)}


# ------------------------------------------------------------------------------ scale-up domain units


def _domain_inputs(domain_gpus: int = 8) -> tuple[dict[str, Any], Any]:
    links = {"nvlink4": SimpleNamespace(scope="intra-node"), "ib-ndr": SimpleNamespace(scope="inter-node")}
    return links, SimpleNamespace(hardware=[SimpleNamespace(scaleup_domain_gpus=domain_gpus)])


def test_a_class_with_a_replica_floor_keeps_every_unit_and_every_co_located_rival() -> None:
    """Prefill TP1 at 1 rps, decode TP2 at 2.5 rps in 8-GPU servers: the units ``(p, d)`` with
    ``p + 2d ≤ 8`` number 12; pruned, only ``(2, 1)`` (2 rps on 4 GPUs) is left.  A class with
    ``min_replicas`` counts each pool's replicas, so it keeps all 12, even beside a co-located column
    that beats them all; an inter-node pair is passed through as it is."""
    links, cs = _domain_inputs()
    pair = _pair(prefill_tp=1, prefill_rps=1.0, decode_hardware=0, decode_tp=2, decode_rps=2.5, link="nvlink4")
    free = in_domains([pair], links, cs, [0], {})  # type: ignore[arg-type]
    assert [(k.unit, k.unit_gpus) for k in free] == [((2, 1), 4)]
    floored = in_domains([pair], links, cs, [3], {(0, 0, 0): [(1, 100.0)]})  # type: ignore[arg-type]
    assert sorted(k.unit or (0, 0) for k in floored) == sorted((p, d) for d in (1, 2, 3) for p in range(1, 9 - 2 * d))
    assert len(floored) == 12
    # each unit's block: the power of two at or above its p + 2d GPUs — (1, 1) 3 → 4, (3, 2) 7 → 8
    blocks = {k.unit: k.unit_gpus for k in floored}
    assert blocks[(1, 1)] == 4 and blocks[(2, 1)] == 4 and blocks[(3, 1)] == 8 and blocks[(3, 2)] == 8
    assert in_domains([pair], links, cs, [0], {(0, 0, 0): [(1, 100.0)]}) == []  # type: ignore[arg-type]
    over_ib = _pair(link="ib-ndr")
    assert in_domains([over_ib], links, cs, [0], {}) == [over_ib]  # type: ignore[arg-type]


def test_units_fill_the_pairs_own_scale_up_domain() -> None:
    """A 16-GPU domain (as a 16-GPU NVLink system would have): TP8 + TP8 fit as one unit of 16 GPUs."""
    links, cs = _domain_inputs(16)
    pair = _pair(prefill_tp=8, prefill_rps=1.0, decode_hardware=0, decode_tp=8, decode_rps=1.0, link="nvlink4")
    units = in_domains([pair], links, cs, [0], {})  # type: ignore[arg-type]
    assert [(k.unit, k.unit_gpus, k.idle_gpus) for k in units] == [((1, 1), 16, 0)]


def test_a_unit_is_replaced_by_a_colocated_column_only_at_its_slower_pools_rate() -> None:
    """Unit ``(2, 1)`` of TP1 at 1 rps and TP2 at 2.5 rps on 4 GPUs serves ``min(2 × 1, 1 × 2.5) = 2`` rps,
    0.5 rps per GPU: a co-located TP2 column at 0.55 rps per GPU replaces it, one at 0.6 (below the
    faster pool's 2.5/4 = 0.625) too, one at 0.5 (the boundary) does not."""
    links, cs = _domain_inputs()
    pair = _pair(prefill_tp=1, prefill_rps=1.0, decode_hardware=0, decode_tp=2, decode_rps=2.5, link="nvlink4")
    for rate, kept in ((0.55, False), (0.6, False), (0.5, True)):
        units = in_domains([pair], links, cs, [0], {(0, 0, 0): [(2, rate)]})  # type: ignore[arg-type]
        assert bool(units) is kept, rate


# ------------------------------------------------------------------------ the time-sliced read-back

#: 12 hours at 1.5 × the mean (06-18: slice 0, the day), 12 at 0.5 × (00-06, 18-24: slice 1).
TWO_LEVEL = [0.5] * 6 + [1.5] * 12 + [0.5] * 6


def _two_level_plan(catalog: Catalog, market: dict[str, Any]) -> tuple[planner.Plan, dict[Any, float], list[float]]:
    """The plan of 3M queries/day of Llama-3.1-70B under :data:`TWO_LEVEL` (two 6-month periods, 100 %/year
    growth, no discount) on ``market``; each column's capacity by (hardware, TP, batch); each period's mean
    rate at its end, ``λ̄_p = 3e6 × 2^{0.5(p+1)} / 86,400`` requests/s."""
    from planner.units import SECONDS_PER_DAY
    from tests.optimize.test_slice_hand_figures import CHAT, scenario

    sc = scenario([{**CHAT, "queries_per_day": 3e6, "profile": TWO_LEVEL}], model={"base": "llama-3.1-70b"},
                  horizon={"months": 12, "period_months": 6, "growth_per_year": 1.0, "discount_rate_per_year": 0.0},
                  market=market)
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal"
    cs = build_candidates(sc, catalog)
    columns, _ = prune(cs, 1, quality_floors(sc.workload, sc.quality, cs.base_score))
    mu = {(cs.hardware[c.hardware].slug, c.tp, c.batch): c.capacity_rps for c in columns}
    return plan, mu, [3e6 * 2 ** (0.5 * (p + 1)) / SECONDS_PER_DAY for p in (0, 1)]


@pytest.mark.parametrize("unit_gpus", [1, 8])
def test_each_sliced_line_reads_back_its_own_slice_and_period(catalog: Catalog, unit_gpus: int) -> None:
    """3M queries/day of 600 + 200 tokens on Llama-3.1-70B (BF16: TP4 replicas), rented H100s ($2.99/GPU-h
    at Lambda, in units of ``unit_gpus``), two 6-month periods growing 100 %/year, no discount.  Each
    (period, slice) is provisioned for its busiest hour, ``λ̄_p × m_s`` with the mean at the period's end
    ``λ̄_p = 3e6 × 2^{0.5(p+1)} / 86,400`` and ``m = 1.5`` by day, 0.5 at night: the serving line of
    period ``p``, slice ``s`` holds ``⌈λ̄_p m_s/μ⌉`` replicas of ``t`` GPUs and ``V_s`` (0.75 by day, 0.25
    at night) of the period's queries; the on-demand fleet of that period and slice holds those GPUs in
    whole units, from month ``6p``, billed for its 12 hours a day: ``Σ GPUs × $2.99 × 12/24 × 6 × 730.5 h``."""
    from planner.units import HOURS_PER_MONTH

    plan, mu, mean = _two_level_plan(catalog, {"gpus_per_unit": {"on-demand": unit_gpus}})
    assert mean[0] == pytest.approx(49.103, rel=1e-4)
    peak, volume = (1.5, 0.5), (0.75, 0.25)
    assert [(s.period, s.slice) for s in plan.serving] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    gpus: dict[tuple[int, int], int] = {}
    for s in plan.serving:
        assert s.slice is not None
        rate = mu[(s.hardware, s.tp, s.batch)]
        assert s.replicas == math.ceil(mean[s.period] * peak[s.slice] / rate - 1e-9)
        assert s.tp > 1 and s.gpus == s.replicas * s.tp
        assert s.traffic_share == pytest.approx(volume[s.slice], rel=1e-9)
        gpus[(s.period, s.slice)] = s.gpus
    assert gpus[(0, 0)] > gpus[(0, 1)] and gpus[(1, 0)] > gpus[(0, 0)]  # every line's figure differs
    held = {key: unit_gpus * math.ceil(g / unit_gpus) for key, g in gpus.items()}
    assert sorted((f.period, f.month_start, f.slice, f.gpus_in_service, f.gpus_acquired) for f in plan.fleet) == sorted(
        (p, 6 * p, s, g, g) for (p, s), g in held.items())
    assert all(f.mode == "on-demand" and f.provider == "lambda" for f in plan.fleet)
    assert plan.cost_breakdown is not None
    rent = sum(held.values()) * 2.99 * 12 / 24 * 6 * HOURS_PER_MONTH
    assert plan.cost_breakdown.rent_usd == pytest.approx(rent, rel=1e-9)
    assert plan.lifetime_cost_usd == pytest.approx(rent, rel=1e-9)
    # each period pays for its own slices' GPUs (no discount: nominal = present value)
    by_period = [sum(g for (p, _s), g in held.items() if p == period) * 2.99 * 12 / 24 * 6 * HOURS_PER_MONTH
                 for period in (0, 1)]
    assert plan.spend_by_period_usd == pytest.approx(by_period, rel=1e-9)
    assert plan.discounted_spend_by_period_usd == pytest.approx(by_period, rel=1e-9)
    day, night = plan.time_slices
    assert (day.index, day.clock, day.hours, day.peak_by_class) == (0, "06-18", list(range(6, 18)), {"chat": 1.5})
    assert (night.index, night.hours, night.peak_by_class) == (1, [*range(6), *range(18, 24)], {"chat": 0.5})
    assert day.served_by_period == [{"chat": pytest.approx(0.75)}] * 2
    assert day.served_by_class == day.served_by_period[0]
    assert night.served_by_period == [{"chat": pytest.approx(0.25)}] * 2


def test_a_colocated_replica_counts_as_the_smallest_unit_of_a_type_without_pools(catalog: Catalog) -> None:
    """With ``plan.kv_links = ["nvlink4"]`` no pool can sit on L40S (NVLink 4 joins H100/H200 only), so its
    ``g`` is the smallest co-located replica: TP4 for Llama-3.1-70B in FP8 on 48 GB L40S here.  A quota
    of 2 is refused naming 4 GPUs, a quota of 4 is accepted."""
    none = {t: ["none"] for t in ("swap", "distillation", "moe", "kv_quantization", "caching", "speculative")}
    workload = {**LONG_PROMPTS["workload"][0], "input_tokens": 1000, "ttft_ms": 5000, "tpot_ms": 60}

    def columns(quota: int) -> tuple[Any, list[PairColumn]]:
        scenario = _scenario(workload=[workload], techniques={**none, "quantization": ["fp8"]},
                             market={"hardware": ["h100-sxm", "l40s"], "quota_gpus": {"l40s": quota}},
                             plan={"kv_links": ["nvlink4"]})
        cs, pairs, _stats = _columns(scenario, catalog)
        return cs, pairs

    with pytest.raises(ScenarioError, match="needs on it \\(4 GPUs\\)") as refused:
        columns(2)
    assert refused.value.field == "market.quota_gpus.l40s"
    cs, pairs = columns(4)
    t = cs.deployments
    l40s = [int(tp) for h, tp, ok in zip(t.hardware, t.tp, t.latency_ok, strict=True)
            if ok and cs.hardware[int(h)].slug == "l40s"]
    assert min(l40s) == 4
    assert pairs and all(cs.hardware[k.prefill_hardware].slug == cs.hardware[k.decode_hardware].slug == "h100-sxm"
                         for k in pairs)


def test_of_pairs_with_equal_figures_the_one_over_the_faster_link_is_kept() -> None:
    """Step 4's ties: the same ``(t_p, λ_p, t_d, λ_d)`` over link 0 (the fastest: links come fastest first)
    and link 1 — the first is kept, the second is dominated by it."""
    from planner.optimize.disagg_columns import _undominated

    figures = (1, 1.0, 2, 3.0, False)
    kept, expected = _undominated({(0, 0): [(figures, (0, 1, 1, 0, 2, 8, 1)), (figures, (0, 1, 1, 0, 2, 8, 0))]})
    assert kept.link == [0] and expected == [(1.0, 3.0)]


def test_a_slice_served_by_several_deployments_reads_back_each_ones_share(catalog: Catalog) -> None:
    """The same class with at most 16 H100s: by day the rest runs on A100s, so a (period, slice) has
    several lines.  Each line carries ``x`` of the slice's busiest hour on its replicas (``r·μ ≥
    (x/V_s)·λ̄_p m_s``), the lines of a slice add up to its ``V_s`` of the period's queries (what the
    slice table shows as served), and each type's on-demand GPUs in a slice are its lines' GPUs there."""
    plan, mu, mean = _two_level_plan(catalog, {"hardware": ["h100-sxm", "a100-80gb"], "quota_gpus": {"h100-sxm": 16}})
    peak, volume = (1.5, 0.5), (0.75, 0.25)
    shares: dict[tuple[int, int], float] = {}
    lines: dict[tuple[int, int], int] = {}
    gpus: dict[tuple[int, int, str], int] = {}
    for s in plan.serving:
        assert s.slice is not None
        key = (s.period, s.slice)
        shares[key] = shares.get(key, 0.0) + s.traffic_share
        lines[key] = lines.get(key, 0) + 1
        gpus[(*key, s.hardware)] = gpus.get((*key, s.hardware), 0) + s.gpus
        load = s.traffic_share / volume[s.slice] * mean[s.period] * peak[s.slice]
        assert s.replicas * mu[(s.hardware, s.tp, s.batch)] >= load * (1 - 1e-6)
    assert lines[(0, 0)] >= 2 and lines[(1, 0)] >= 2  # the day is split over deployments
    assert shares == {(p, s): pytest.approx(volume[s], rel=1e-9) for p in (0, 1) for s in (0, 1)}
    assert {(f.period, f.slice, f.hardware): f.gpus_in_service for f in plan.fleet} == gpus
    assert all(g <= 16 for (_p, _s, hw), g in gpus.items() if hw == "h100-sxm")
    for t in plan.time_slices:
        assert t.served_by_period == [{"chat": pytest.approx(volume[t.index], rel=1e-9)}] * 2


def test_sliced_replicas_without_traffic_are_read_back_and_empty_columns_are_not() -> None:
    """A sliced line per (column, period, slice) carrying traffic or holding replicas (paid for, e.g. a
    replica floor's): column 0 (TP2) carries 0.75 of the queries on 3 replicas in slice 0 and holds
    1 replica without traffic in slice 1; column 1 neither carries nor holds anything: no line."""
    from planner.optimize.extract_slices import _serving

    profile = SimpleNamespace(quality_score=70.0, model=SimpleNamespace(is_moe=False))
    cs = SimpleNamespace(variants=[SimpleNamespace(name="v0", profiles={"chat": profile})], workloads=["chat"],
                         hardware=[SimpleNamespace(slug="h100-sxm")])
    columns = [_column(0, 2, 4.0), _column(0, 1, 1.0)]

    r = {key: pulp.LpVariable("r_{}_{}_{}".format(*key)) for key in ((0, 0, 0), (0, 0, 1), (1, 0, 0))}
    for key, count in zip(r, (3, 1, 0), strict=True):
        r[key].varValue = count
    problem = SimpleNamespace(columns=columns, r=r)
    scenario = SimpleNamespace(plan=SimpleNamespace(expert_parallel=None))
    lines = _serving(scenario, cs, problem, {(0, 0, 0): 0.75, (0, 0, 1): 0.0, (1, 0, 0): 0.0})  # type: ignore[arg-type]
    assert [(s.period, s.slice, s.tp, s.replicas, s.gpus, s.traffic_share) for s in lines] == [
        (0, 0, 2, 3, 6, 0.75), (0, 1, 2, 1, 2, 0.0)]


def test_a_sliced_solution_is_refused_when_a_row_or_an_integer_does_not_hold() -> None:
    """:func:`~planner.optimize.extract_slices.verify_sliced`: integers within 1e-5 of a whole number are
    rounded in place (2.000004 → 2), further off refused (2.4); a row may be off by 1e-5 × max(1, |its
    constant|) in its own units: ``x ≤ 1e6`` holds at 1e6 + 5 (tolerance 10), not at 1e6 + 20; a ``≥`` or
    ``=`` row off by 1 is refused, with its name and the amount."""
    from planner.optimize.extract_slices import verify_sliced

    def problem(r: float | None, x: float, s: float = 3.0) -> tuple[Any, Any]:
        prob = pulp.LpProblem("sliced", pulp.LpMinimize)
        rv, xv, sv = (prob.add_variable("r", 0, 10, cat=pulp.LpInteger), prob.add_variable("x", 0),
                      prob.add_variable("s", 0))
        prob += xv <= 1e6, "cap"
        prob += rv >= 2, "floor"
        prob += sv - rv == 1, "tie"
        rv.varValue, xv.varValue, sv.varValue = r, x, s
        return SimpleNamespace(prob=prob), rv

    ok, r = problem(2.000004, 1e6 + 5)
    assert verify_sliced(ok) is None and r.varValue == 2.0
    assert verify_sliced(problem(2.4, 0.0)[0]) == "integer variable r = 2.4 is not integral"
    assert verify_sliced(problem(2.0, 1e6 + 20)[0]) == "constraint cap violated by 20"
    assert verify_sliced(problem(1.0, 0.0, s=2.0)[0]) == "constraint floor violated by 1"
    assert verify_sliced(problem(2.0, 0.0, s=4.0)[0]) == "constraint tie violated by 1"
    assert verify_sliced(problem(None, 0.0)[0]) == "variable r has no value"


def test_expert_parallelism_applies_to_a_variant_only_where_it_divides_that_models_experts(
        catalog: Catalog) -> None:
    """``E_p`` for an MoE model whose routed experts it divides, 1 (plain tensor parallelism) for another:
    16 divides DeepSeek-V3's 256 experts, not Mixtral's 8; 4 divides both; a dense model or a drafting
    variant is never spread."""
    from planner.physics.ep_deployment import expert_parallel_of

    deepseek = base_profile(catalog.models["deepseek-v3"], "fp8", None, catalog)
    mixtral = base_profile(catalog.models["mixtral-8x7b"], "bf16", None, catalog)
    dense = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    assert (catalog.models["deepseek-v3"].experts, catalog.models["mixtral-8x7b"].experts) == (256, 8)
    assert [expert_parallel_of(deepseek, ep) for ep in (None, 4, 16)] == [1, 4, 16]
    assert [expert_parallel_of(mixtral, ep) for ep in (None, 4, 16, 3)] == [1, 4, 1, 1]
    assert expert_parallel_of(dense, 4) == 1
    drafting = mixtral.model_copy(update={"draft": catalog.models["llama-3.1-8b"], "draft_tokens": 4,
                                          "acceptance_rate": 0.7})
    assert expert_parallel_of(drafting, 4) == 1


def test_spot_restarts_are_spent_in_the_period_they_occur(catalog: Catalog) -> None:
    """The spot plan of ``test_slice_hand_figures`` (one year at 8 %, discounted to mid-year δ = 1.08^-0.5):
    its period's nominal spend is the rent and the restarts before discounting, its discounted spend
    both at δ — the lifetime cost (nothing one-time, nothing settled)."""
    from tests.optimize.test_slice_hand_figures import spot_scenario

    plan = planner.plan(spot_scenario(), catalog=catalog)
    assert plan.status == "optimal" and plan.cost_breakdown is not None
    delta = 1.08 ** -0.5
    rent, restart = plan.cost_breakdown.rent_usd, plan.cost_breakdown.spot_restart_usd
    assert restart > 0.01 * rent  # a share worth checking
    assert plan.spend_by_period_usd == [pytest.approx((rent + restart) / delta, rel=1e-9)]
    assert plan.discounted_spend_by_period_usd == [pytest.approx(rent + restart, rel=1e-9)]
    assert plan.lifetime_cost_usd == pytest.approx(rent + restart, rel=1e-9)


def test_decode_pools_stay_within_the_engines_cap(catalog: Catalog) -> None:
    """The decode ladder stops at ``plan.max_batch`` as the co-located one does: at 32 no pair's decode
    pool runs more than 32 sequences, and some pair exists (smaller batches meet the targets too); at
    the default cap of 256, none runs 512."""
    _cs, capped, _ = _columns(_scenario(plan={"disaggregation": True, "max_batch": 32}), catalog)
    assert capped and max(p.decode_batch for p in capped) <= 32
    _cs, default, _ = _columns(_scenario(), catalog)
    assert default and max(p.decode_batch for p in default) <= 256
