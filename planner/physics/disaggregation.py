r"""Prefill/decode disaggregation: a prefill pool and a decode pool joined by a catalogued link.

One *row* is one disaggregated candidate: a prefill pool (hardware, TP ``t_p``, prompts per
forward pass ``b_p``), a decode pool (hardware, TP ``t_d``, batch ``b_d``) — possibly of different
GPU types — and the link the KV cache crosses.  Both pools are evaluated by the roofline
(:func:`planner.physics.roofline.evaluate`) on their own shapes: the prefill pool with the prompt
and one output token, the decode pool with the whole request; nothing here re-derives a FLOP or a
byte the roofline counts.  Every input is an array; nothing loops in Python.

Notation (per replica; ``T_p``, ``G_p``, ``T_s`` are the roofline's ``prefill_s``, ``prefill_gpu_s``
and ``step_s``; ``β`` link bandwidth per GPU and direction, ``η`` its achieved fraction — the
default ``comm_efficiency`` —, ``α`` its fixed latency; ``I`` prompt and ``O`` output tokens):

* **Prefill pool.**  A forward pass over ``b_p`` prompts takes ``T_pb = max(b_p·G_p, T_p)``: the
  weight read (in ``T_p``) is shared by the batch, the compute (``G_p``) is not.  The replica is an
  M/D/1 server of per-request service ``D = T_pb / b_p`` (DistServe, OSDI'24, eq. 1): at arrival rate
  ``λ`` (``ρ = λ·D``) a request waits ``W = ρ / (2(1−ρ)) · D`` on average, then its own pass ``T_pb``.
  Its service rate is ``μ_p = 1/D``.  Its **capacity at the TTFT target** ``τ`` is the largest ``λ``
  with ``TTFT(λ) ≤ τ`` (TTFT below, increasing in ``λ``; found by bisection on
  ``[0, ρ_cap·min(1/D, 1/c)]``, ``c`` = link seconds per request below; ``ρ_cap``: a utilisation cap
  for tail latency, 1 = none).  Without the link wait it is closed-form: slack
  ``s = τ − T_pb − T_kv``, ``ρ_max = 2s / (D + 2s)``.  No target (``τ = ∞``) gives ``λ_p = ρ_cap/D``
  (and the link's own limit).
* **Decode pool.**  No prefill runs there, so nothing interferes with its steps:
  ``TPOT = T_s(b_d)`` (at mean context ``I + O/2``) and its capacity is ``λ_d = b_d / (O · T_s)``
  requests/s (``b_d`` sequences in flight, each needing ``O`` steps).  Feasible when ``TPOT`` meets
  the TPOT target and ``b_d`` sequences of ``I + r·O`` tokens fit its memory (the roofline's fit).
* **KV transfer.**  ``B_kv = I · L · e · kv_bits / 8`` bytes per request (``e = 2·kv_heads·h`` K and V
  elements per token per layer, or ``kv_latent_dim`` for MLA; with speculative decoding the draft's
  cache too, which the prefill pool computes with the served model's) — the whole prompt's cache,
  also the part a prefix cache served.  It is sharded over ``n_x = min(t_x, kv_heads)`` GPUs of each pool
  (``t_x`` for MLA, whose latent every GPU holds); each shard moves between one GPU pair, so
  ``n = min(n_p, n_d)`` GPU pairs carry it: ``T_kv = α + B_kv / (n·β·η)``, added to TTFT (sent
  after the prefill ends — no layer-wise overlap, the conservative DistServe case).
* **Link utilisation.**  Each prefill replica emits ``λ_p·B_kv`` bytes/s over its ``n_p`` NICs and
  each decode replica receives ``λ_d·B_kv`` over its ``n_d``: ``u = max(λ_p·B_kv/(n_p·β·η),
  λ_d·B_kv/(n_d·β·η))``.  ``u ≥ 1`` means the link cannot keep up with the pools: the row is
  refused.  Below it, the transfer queues as M/D/1: TTFT gains ``u_p/(2(1−u_p)) · (T_kv − α)``
  (``u_p = λ·c``, ``c = B_kv/(n_p·β·η)``).
* **TTFT** ``= T_pb + W(λ_p) + T_kv + link wait``; **TPOT** ``= T_s``.
* **P99 targets** (``ttft_p99_s``, ``tpot_p99_s``; the co-located model is
  :mod:`planner.physics.queueing`).  *Prefill*: each M/D/1 wait has the exponential tail of the
  Kingman / Allen–Cunneen approximation, ``P(W > t) ≈ ρ·e^{−θt}``, ``θ = 2(1−ρ)/D`` (deterministic
  service, ``c_s = 0``), so ``W₉₉ = max(0, ln(ρ/(1−q)))/θ``, ``q = 0.99``; **P99 TTFT** ``= T_pb + W₉₉(λD, D)
  + T_kv + W₉₉(u_p, T_kv − α)`` (quantiles summed: the conservative side), and ``λ_p`` meets both
  TTFT targets.  Against a Lindley-recursion simulation of M/D/1 (400,000 arrivals) ``W₉₉`` is +30 %,
  +17 %, +9 %, +7 %, −2 % and −8 % off at ``ρ`` = 0.3, 0.5, 0.7, 0.8, 0.9, 0.95 (``tests/physics``
  checks 0.5, 0.8 and 0.9 on 200,000): conservative at moderate load.  One seed's figures: the simulated
  P99 moves a few points from seed to seed (at 0.8, +2 % to +6 % over four runs; at 0.9, −4 % to +6 %).
  *Decode*: a
  replica is ``b_d`` batch slots of the co-located slot model without prefills
  (:class:`~planner.physics.queueing.ReplicaQueue`, ``T_p = G_p = 0``, saturated rate
  ``λ_sat = b_d/(O·T_s)``, steps ``T_s(1)`` and ``T_s(b_d)``): a request's TPOT is its mean gap after the
  first token, ``(E2E − TTFT)/(O − 1)`` (as vLLM's benchmark computes it: ``benchmarks/serve.py``,
  ``calculate_metrics``, ``tpot = (latency − ttft)/(output_len − 1)``), so the wait ``S₉₉``
  for its first decode step (a free slot, then an iteration boundary) spreads over its ``O − 1`` gaps:
  **P99 TPOT** ``= T(n₉₉) + S₉₉/(O − 1)``, and ``λ_d = ρ_max·λ_sat`` for the largest ``ρ`` meeting it.
  Without a TPOT P99 target the decode pool runs saturated, as above; a slot wait does not delay the
  first token, which the prefill pool produces.  (In a co-located replica the slot wait delays the
  first token and sits in its P99 TTFT; here it delays the second, so it sits in the TPOT.  Without it
  a TPOT P99 target, never below the mean one the step already meets, would not bound the load.)
* An intra-node link (NVLink, PCIe) needs both pools in one server: ``t_p + t_d ≤`` the scale-up
  domain (DistServe's low node-affinity placement).
* **Expert parallelism in the decode pool** (``PoolPairInputs.decode_expert_parallel = E_p``, MoE
  models): a decode replica is ``E_p`` attention groups of TP ``t`` (the decode row's ``tp``), experts
  spread, evaluated by :func:`planner.physics.ep_deployment.evaluate_expert_parallel` (its step ``T_s``
  includes the all-to-all; its batch is the replica's ``E_p·b_g``, so ``λ_d = E_p·b_g/(O·T_s)``).  The
  replica holds ``t_d = t·E_p`` GPUs (the intra-node condition and the GPU counts use it).  A request's
  KV cache lands in one group (``n_d = min(t, kv_heads)`` shards, so ``T_kv`` is unchanged) and the
  replica's intake spreads over its ``E_p`` groups: ``u_d = λ_d·B_kv/(E_p·n_d·β·η)``.  ``E_p = 1`` is the
  plain decode row exactly (tested).  The prefill pool stays tensor-parallel.

MILP column (see :class:`DisaggregationResult`): per row, ``λ_p`` requests/s per prefill replica
(``t_p`` GPUs of the prefill hardware), ``λ_d`` per decode replica (``t_d`` GPUs of the decode
hardware), the link and ``B_kv`` bytes per request (= KV bytes/s per request/s of traffic).  Serving
``x`` requests/s needs ``x/λ_p`` prefill and ``x/λ_d`` decode replicas; the xPyD ratio is the
optimiser's, not a constant here (:func:`pool_goodput_per_gpu` is its continuous form).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec, LinkRow
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.physics.ep_deployment import ScaleUpLink, evaluate_expert_parallel
from planner.physics.profile import ServingProfile, hardware_columns, model_columns
from planner.physics.queueing import P99, ReplicaQueue, tail_latency
from planner.physics.roofline import (
    FloatArray,
    RooflineInputs,
    RooflineResult,
    evaluate,
)
from planner.units import BITS_PER_BYTE, BYTES_PER_GB, MS_PER_SECOND, US_PER_SECOND

#: K and V: two cached vectors per KV head per token per layer (full attention, no latent).
KV_TENSORS_PER_HEAD: float = 2.0
#: Output tokens the prefill pool produces per request (the first token; the rest are decoded).
PREFILL_OUTPUT_TOKENS: float = 1.0
#: Bisection steps for the prefill capacity at the TTFT target (2^-60 of the range: exact in float64).
BISECTION_STEPS: int = 60
#: Share of the saturation rate kept off its edge, where the M/D/1 wait is infinite (numerical only).
BISECTION_EDGE: float = 1e-9
#: Upper bound of a pool's batch (prompts per pass or sequences in flight), as the estimate's.
MAX_POOL_BATCH: int = 10_000_000


@dataclass(frozen=True)
class PoolSpec:
    """One pool of a disaggregated deployment: ``tp`` GPUs of ``hardware`` per replica, batch ``batch``."""

    hardware: str
    tp: int
    batch: int


@dataclass(frozen=True)
class PairCandidate:
    """A prefill pool, a decode pool and the catalogued link (slug) the KV cache crosses."""

    prefill: PoolSpec
    decode: PoolSpec
    link: str


@dataclass(frozen=True)
class PoolPairInputs:
    """Struct of arrays, one row per candidate (targets ``inf`` = none; ``utilisation_cap`` 1 = none)."""

    prefill: RooflineInputs  # batch = b_p prompts per pass, output_tokens = 1
    decode: RooflineInputs  # batch = b_d sequences in flight, the class's I and O
    link_bytes_per_s: FloatArray  # β, per GPU, one direction
    link_latency_s: FloatArray  # α
    link_efficiency: FloatArray  # η
    link_intra_node: NDArray[np.bool_]  # both pools must share one scale-up domain
    ttft_target_s: FloatArray
    tpot_target_s: FloatArray
    utilisation_cap: FloatArray  # ρ_cap of the prefill queue (from a tail-latency model)
    decode_expert_parallel: FloatArray | None = None  # E_p of the decode pool (None: tensor-parallel)
    decode_scaleup: ScaleUpLink | None = None  # the decode hardware's scale-up link row (needed with E_p)
    ttft_p99_s: FloatArray | None = None  # P99 targets (None or inf: none)
    tpot_p99_s: FloatArray | None = None
    holding_cv: float = 1.0  # c_s of the decode slots' holding time (catalog slot_holding_time_cv)

    def __len__(self) -> int:
        return len(self.prefill)


@dataclass(frozen=True)
class DisaggregationResult:
    """Per-row figures; the first block is what a MILP column needs.

    ``prefill_capacity_rps`` / ``decode_capacity_rps`` are requests/s per replica at the targets;
    ``kv_bytes_per_request`` is the link's bytes/s per request/s served.  Infeasible rows carry
    ``feasible=False``, a ``reason`` and NaN capacities.
    """

    feasible: NDArray[np.bool_]
    reason: NDArray[np.object_]  # "" when feasible
    prefill_gpus_per_replica: FloatArray  # t_p
    decode_gpus_per_replica: FloatArray  # t_d (t·E_p with expert parallelism)
    prefill_capacity_rps: FloatArray  # λ_p
    decode_capacity_rps: FloatArray  # λ_d
    kv_bytes_per_request: FloatArray  # B_kv
    link_utilisation: FloatArray  # u at both pools' capacities
    # latency and detail
    ttft_s: FloatArray
    tpot_s: FloatArray
    kv_transfer_s: FloatArray  # T_kv
    prefill_pass_s: FloatArray  # T_pb
    prefill_service_rps: FloatArray  # μ_p = b_p / T_pb (fully busy)
    decode_batch: FloatArray
    prefill: RooflineResult
    decode: RooflineResult
    # the row's conditions split by pool (``feasible = prefill_ok & decode_ok & share_server_ok``):
    # the prefill side depends on the prefill pool, the link and the decode pool's KV shards only,
    # the decode side on the decode pool and the link only (how candidate pairs are enumerated)
    prefill_ok: NDArray[np.bool_] | None = None  # fits, TTFT slack, λ_p > 0, u_p < 1
    decode_ok: NDArray[np.bool_] | None = None  # fits, TPOT target, u_d < 1
    prefill_rate_rps: FloatArray | None = None  # λ_p before the feasibility mask
    decode_rate_rps: FloatArray | None = None  # λ_d before the feasibility mask


def kv_bytes_per_token(inp: RooflineInputs) -> FloatArray:
    """Whole-model KV-cache bytes per token: ``L·e·kv_bits/8`` (``e = 2·kv_heads·h``, or the MLA latent),
    plus a draft model's (speculative decoding: the prefill pool prefills both models, so both caches
    cross the link; the draft's decode steps run in the decode pool).

    >>> from planner.physics.roofline import RooflineInputs
    >>> cols = {f: 0.0 for f in RooflineInputs.__dataclass_fields__}
    >>> cols.update(layers=64, kv_heads=72, head_dim=128, kv_bits=16)  # OPT-66B, FP16
    >>> float(kv_bytes_per_token(RooflineInputs.broadcast(**cols))[0])
    2359296.0
    """
    per_layer = np.where(inp.kv_latent_dim > 0, inp.kv_latent_dim, KV_TENSORS_PER_HEAD * inp.kv_heads * inp.head_dim)
    return (inp.layers * per_layer + inp.draft_kv_elems_per_token) * inp.kv_bits / BITS_PER_BYTE


def _kv_shards(inp: RooflineInputs) -> FloatArray:
    """GPUs of a replica holding distinct KV shards: ``min(t, kv_heads)``, or ``t`` for MLA."""
    return np.where(inp.kv_latent_dim > 0, inp.tp, np.minimum(inp.tp, inp.kv_heads))


def evaluate_pairs(inp: PoolPairInputs) -> DisaggregationResult:
    """Evaluate every disaggregated candidate (the module docstring's maths)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _evaluate_pairs(inp)


def _decode_pool(inp: PoolPairInputs) -> tuple[RooflineResult, FloatArray]:
    """The decode pool's roofline rows and its expert-parallel degree ``E_p`` (1 without)."""
    if inp.decode_expert_parallel is None:
        return evaluate(inp.decode), np.ones(len(inp))
    if inp.decode_scaleup is None:
        raise ValueError("decode_expert_parallel needs decode_scaleup (the all-to-all's link)")
    ep_d = inp.decode_expert_parallel
    return evaluate_expert_parallel(inp.decode, ep_d, inp.decode_scaleup), ep_d


def _md1_wait_p99(rho: FloatArray, service_s: FloatArray) -> FloatArray:
    """``W₉₉`` of an M/D/1 queue at utilisation ``ρ`` with service ``D`` (module docstring, P99 targets):
    ``max(0, ln(ρ/(1−q)))·D/(2(1−ρ))``, infinite at ``ρ ≥ 1``.

    >>> round(float(_md1_wait_p99(np.array([0.8]), np.array([1.0]))[0]), 3)  # ln(80)/0.4
    10.955
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.maximum(0.0, np.log(rho / (1.0 - P99))) * service_s / (2.0 * (1.0 - rho))
    return np.where(rho >= 1.0, np.inf, np.where(rho > 0.0, wait, 0.0))


def _targets(values: FloatArray | None, n: int) -> FloatArray:
    return np.full(n, np.inf) if values is None else np.where(np.isfinite(values), values, np.inf)


def _decode_rate_at_p99(inp: PoolPairInputs, dec: RooflineResult, lam_sat: FloatArray,
                        target_s: FloatArray) -> FloatArray:
    """The decode pool's rate at its TPOT P99 target (module docstring): ``λ_sat`` where no row has one."""
    if not np.isfinite(target_s).any():
        return lam_sat
    ones = dataclasses.replace(inp, decode=dataclasses.replace(inp.decode, batch=np.ones(len(inp))))
    step_one = _decode_pool(ones)[0].step_s
    valid = (np.isfinite(lam_sat) & (lam_sat > 0) & np.isfinite(dec.batch) & (dec.batch >= 1)
             & np.isfinite(dec.step_s) & np.isfinite(step_one))
    lam_sat = np.where(valid, lam_sat, 1.0)  # rows the roofline refused: any figures, masked below
    queue = ReplicaQueue.broadcast(capacity_rps=lam_sat, slots=np.where(valid, dec.batch, 1.0), prefill_s=0.0,
                                   prefill_gpu_s=0.0, step_s=np.where(valid, dec.step_s, 0.0),
                                   step_one_s=np.where(valid, step_one, 0.0), holding_cv=inp.holding_cv)
    gaps = np.maximum(inp.decode.output_tokens - 1.0, 1.0)

    def tpot_p99(lam: FloatArray) -> FloatArray:
        tail = tail_latency(queue, lam / lam_sat)
        return tail.tpot_p99_s + tail.ttft_p99_s / gaps

    rate = np.where(tpot_p99(np.zeros(len(inp))) <= target_s, _largest_rate(tpot_p99, lam_sat, target_s), 0.0)
    return np.where(~valid, np.nan, np.where(np.isfinite(target_s), rate, lam_sat))


@dataclass(frozen=True)
class _PrefillQueue:
    """A prefill replica's M/D/1 queue and its link's (module docstring), per row."""

    pass_s: FloatArray  # T_pb
    service_s: FloatArray  # D = T_pb / b_p
    kv_s: FloatArray  # T_kv
    wire_s: FloatArray  # T_kv − α
    link_s: FloatArray  # c: link seconds per request on the prefill replica's lanes

    def ttft(self, lam: FloatArray) -> FloatArray:
        """Mean TTFT at arrival rate ``λ``."""
        rho, u = lam * self.service_s, lam * self.link_s
        return (self.pass_s + rho / (2.0 * (1.0 - rho)) * self.service_s + self.kv_s
                + u / (2.0 * (1.0 - u)) * self.wire_s)

    def ttft_p99(self, lam: FloatArray) -> FloatArray:
        """P99 TTFT at ``λ``: the pass, both waits' P99s and the transfer, summed."""
        return (self.pass_s + _md1_wait_p99(lam * self.service_s, self.service_s) + self.kv_s
                + _md1_wait_p99(lam * self.link_s, self.wire_s))

    def rate(self, lam_max: FloatArray, target_s: FloatArray, p99_target_s: FloatArray) -> FloatArray:
        """``λ_p``: the largest rate below ``lam_max`` meeting the mean TTFT target and, where set, the P99."""
        lam = _largest_rate(self.ttft, lam_max, target_s)
        if not np.isfinite(p99_target_s).any():
            return lam
        return np.where(np.isfinite(p99_target_s), np.minimum(lam, _largest_rate(self.ttft_p99, lam_max, p99_target_s)),
                        lam)


def _largest_rate(ttft_at: Callable[[FloatArray], FloatArray], lam_max: FloatArray, target_s: FloatArray) -> FloatArray:
    """The largest arrival rate in ``[0, lam_max)`` whose TTFT meets ``target_s`` (bisection; an infinite
    target takes the rate just below saturation)."""
    lo = np.zeros(len(lam_max))
    hi = np.where(np.isinf(target_s), lam_max, lam_max * (1.0 - BISECTION_EDGE))
    if np.any(np.isfinite(target_s)):
        for _ in range(BISECTION_STEPS):
            mid = (lo + hi) / 2.0
            ok = ttft_at(mid) <= target_s
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.where(np.isinf(target_s), lam_max * (1.0 - BISECTION_EDGE), lo)


def _first_reasons(checks: list[tuple[NDArray[np.bool_], str]], fields: dict[str, NDArray[Any]]) -> NDArray[np.object_]:
    """Per row, the message of the first check it fails (``""`` when it passes them all), formatted with
    that row's ``fields``."""
    reason = np.full(len(checks[0][0]), "", dtype=object)
    for bad, template in checks:
        for i in np.flatnonzero(bad & (reason == "")):
            reason[i] = template.format(**{name: values[i] for name, values in fields.items()})
    return reason


@dataclass(frozen=True)
class _KvLink:
    """The KV cache's trip from a prefill replica to a decode replica, per row (module docstring)."""

    bytes_per_request: FloatArray  # B_kv
    lane_bytes_per_s: FloatArray  # β·η
    decode_lanes: FloatArray  # n_d
    wire_s: FloatArray  # B_kv / (min(n_p, n_d)·β·η)
    transfer_s: FloatArray  # T_kv = α + wire
    prefill_s_per_request: FloatArray  # c = B_kv / (n_p·β·η)

    @classmethod
    def of(cls, inp: PoolPairInputs) -> _KvLink:
        kv_bytes = inp.prefill.input_tokens * kv_bytes_per_token(inp.prefill)
        lanes_p, lanes_d = _kv_shards(inp.prefill), _kv_shards(inp.decode)
        lane_bw = inp.link_bytes_per_s * inp.link_efficiency
        wire_s = kv_bytes / (np.minimum(lanes_p, lanes_d) * lane_bw)
        return cls(kv_bytes, lane_bw, lanes_d, wire_s, inp.link_latency_s + wire_s, kv_bytes / (lanes_p * lane_bw))


def _evaluate_pairs(inp: PoolPairInputs) -> DisaggregationResult:
    """:func:`evaluate_pairs`'s body, numpy's warnings silenced (refused rows carry inf and nan, masked)."""
    pre, (dec, ep_d) = evaluate(inp.prefill), _decode_pool(inp)
    gpus_d = inp.decode.tp * ep_d  # t_d = t·E_p
    n, b_p = len(inp), inp.prefill.batch
    t_pb = np.maximum(b_p * pre.prefill_gpu_s, pre.prefill_s)
    service = t_pb / b_p  # D
    link = _KvLink.of(inp)
    kv_bytes, t_kv = link.bytes_per_request, link.transfer_s
    queue = _PrefillQueue(t_pb, service, t_kv, link.wire_s, link.prefill_s_per_request)
    lam_max = inp.utilisation_cap * np.minimum(1.0 / service, 1.0 / link.prefill_s_per_request)
    slack = inp.ttft_target_s - t_pb - t_kv
    ttft_p99_target, tpot_p99_target = _targets(inp.ttft_p99_s, n), _targets(inp.tpot_p99_s, n)
    slack_p99 = ttft_p99_target - t_pb - t_kv
    lam_p = queue.rate(lam_max, inp.ttft_target_s, ttft_p99_target)
    ttft = queue.ttft(lam_p)

    tpot = dec.step_s
    lam_d = _decode_rate_at_p99(inp, dec, dec.batch / (inp.decode.output_tokens * tpot), tpot_p99_target)
    u_p = lam_p * link.prefill_s_per_request
    u_d = lam_d * kv_bytes / (ep_d * link.decode_lanes * link.lane_bytes_per_s)
    util = np.maximum(u_p, u_d)

    domain = np.minimum(inp.prefill.domain_gpus, inp.decode.domain_gpus)
    checks: list[tuple[NDArray[np.bool_], str]] = [
        (~pre.fits, "prefill pool does not fit memory at TP{tp_p} with {b_p:.0f} prompts per pass"),
        (~dec.fits, "decode pool does not fit memory at TP{tp_d} with batch {b_d:.0f}"),
        (inp.link_intra_node & (inp.prefill.tp + gpus_d > domain),
         "an intra-node link needs both pools in one server: TP{tp_p} + TP{tp_d} > {domain:.0f} GPUs"),
        (tpot > inp.tpot_target_s, "decode TPOT {tpot_ms:.1f} ms misses the {tpot_target_ms:.1f} ms target"),
        (np.isfinite(tpot_p99_target) & ~(lam_d > 0),
         "decode TPOT P99 misses the {tpot_p99_ms:.1f} ms target at any load (step {tpot_ms:.1f} ms)"),
        (~(slack > 0), ("prefill {pass_ms:.1f} ms + KV transfer {kv_ms:.1f} ms leave no room in the "
                        "{ttft_target_ms:.1f} ms TTFT target")),
        (np.isfinite(ttft_p99_target) & ~(slack_p99 > 0),
         ("prefill {pass_ms:.1f} ms + KV transfer {kv_ms:.1f} ms leave no room in the "
          "{ttft_p99_ms:.1f} ms TTFT P99 target")),
        (~(lam_p > 0), "no arrival rate meets the {ttft_target_ms:.1f} ms TTFT target with link queueing"),
        (util >= 1.0, ("the link cannot keep up: KV traffic needs {util:.2f}x its bandwidth "
                       "({need_gb_s:.1f} GB/s per GPU at the pools' capacities)")),
    ]
    reason = _first_reasons(checks, {
        "tp_p": inp.prefill.tp.astype(int), "tp_d": gpus_d.astype(int), "b_p": b_p, "b_d": inp.decode.batch,
        "domain": domain, "tpot_ms": tpot * MS_PER_SECOND, "tpot_target_ms": inp.tpot_target_s * MS_PER_SECOND,
        "pass_ms": t_pb * MS_PER_SECOND, "kv_ms": t_kv * MS_PER_SECOND,
        "ttft_target_ms": inp.ttft_target_s * MS_PER_SECOND, "util": util,
        "ttft_p99_ms": ttft_p99_target * MS_PER_SECOND, "tpot_p99_ms": tpot_p99_target * MS_PER_SECOND,
        "need_gb_s": util * inp.link_bytes_per_s / BYTES_PER_GB})
    feasible = reason == ""
    prefill_ok = pre.fits & (slack > 0) & (slack_p99 > 0) & (lam_p > 0) & (u_p < 1.0)
    decode_ok = dec.fits & (tpot <= inp.tpot_target_s) & (lam_d > 0) & (u_d < 1.0)
    nan = np.full(n, np.nan)
    return DisaggregationResult(
        feasible=feasible, reason=reason,
        prefill_gpus_per_replica=inp.prefill.tp.copy(), decode_gpus_per_replica=gpus_d,
        prefill_capacity_rps=np.where(feasible, lam_p, nan), decode_capacity_rps=np.where(feasible, lam_d, nan),
        kv_bytes_per_request=kv_bytes, link_utilisation=util, ttft_s=ttft, tpot_s=tpot, kv_transfer_s=t_kv,
        prefill_pass_s=t_pb, prefill_service_rps=1.0 / service, decode_batch=dec.batch, prefill=pre, decode=dec,
        prefill_ok=prefill_ok, decode_ok=decode_ok, prefill_rate_rps=lam_p, decode_rate_rps=lam_d)


def pool_goodput_per_gpu(prefill_rps: FloatArray | float, prefill_gpus: FloatArray | float,
                         decode_rps: FloatArray | float, decode_gpus: FloatArray | float,
                         prefill_replicas: FloatArray | float, decode_replicas: FloatArray | float) -> FloatArray:
    r"""Requests/s per GPU of ``x`` prefill and ``y`` decode replicas: ``min(x·λ_p, y·λ_d) / (x·t_p + y·t_d)``.

    DistServe's worked example (OSDI'24 §1): 5.6 rps prefill and 10 rps decode per A100, 2P1D:

    >>> round(float(pool_goodput_per_gpu(5.6, 1, 10.0, 1, 2, 1)), 2)
    3.33
    """
    x, y = np.asarray(prefill_replicas, float), np.asarray(decode_replicas, float)
    served = np.minimum(x * np.asarray(prefill_rps, float), y * np.asarray(decode_rps, float))
    return np.asarray(served / (x * np.asarray(prefill_gpus, float) + y * np.asarray(decode_gpus, float)))


# ------------------------------------------------------------------ building rows from the catalog


def links_between(catalog: Catalog, a: HardwareSpec, b: HardwareSpec) -> list[LinkRow]:
    """Every catalogued link that joins ``a`` and ``b``, fastest first (then by slug)."""
    rows = [row for row in catalog.links.values() if row.joins(a, b)]
    return sorted(rows, key=lambda r: (-r.bandwidth_gb_s_per_direction, r.slug))


def check_candidate(candidate: PairCandidate, catalog: Catalog, field: str = "candidate") -> LinkRow:
    """Refuse, naming the field, a candidate the physics cannot answer; return its link row."""
    for name, pool in (("prefill", candidate.prefill), ("decode", candidate.decode)):
        hw = catalog.get_hardware(pool.hardware, f"{field}.{name}.hardware")
        if isinstance(pool.tp, bool) or not isinstance(pool.tp, int) or not 1 <= pool.tp <= hw.scaleup_domain_gpus:
            raise InputError(f"must be a whole number in [1, {hw.scaleup_domain_gpus}] (the {hw.slug} scale-up "
                             f"domain), got {pool.tp!r}", f"{field}.{name}.tp")
        if isinstance(pool.batch, bool) or not isinstance(pool.batch, int) or not 1 <= pool.batch <= MAX_POOL_BATCH:
            raise InputError(f"must be a whole number in [1, {MAX_POOL_BATCH:,}], got {pool.batch!r}",
                             f"{field}.{name}.batch")
    a, b = catalog.hardware[candidate.prefill.hardware], catalog.hardware[candidate.decode.hardware]
    if candidate.link not in catalog.links:
        known = ", ".join(r.slug for r in links_between(catalog, a, b)) or "none"
        raise InputError(f"unknown link '{candidate.link}'; links joining {a.slug} and {b.slug}: {known}",
                         f"{field}.link")
    link = catalog.links[candidate.link]
    if not link.joins(a, b):
        known = ", ".join(r.slug for r in links_between(catalog, a, b)) or "none"
        raise InputError(f"link '{link.slug}' does not join {a.slug} and {b.slug}; links that do: {known}",
                         f"{field}.link")
    return link


def build_pair_inputs(profile: ServingProfile, candidates: Sequence[PairCandidate], catalog: Catalog, *,
                      input_tokens: float, output_tokens: float, ttft_target_s: float = np.inf,
                      tpot_target_s: float = np.inf, utilisation_cap: float = 1.0,
                      ttft_p99_s: float = np.inf, tpot_p99_s: float = np.inf,
                      field: str = "candidates") -> PoolPairInputs:
    """Roofline rows of both pools and the link columns, one row per candidate (validated first)."""
    links = [check_candidate(c, catalog, f"{field}[{i}]") for i, c in enumerate(candidates)]
    mcols = model_columns(profile)
    d = catalog.defaults

    def pool_rows(which: str, output: float) -> RooflineInputs:
        rows: dict[str, list[float]] = {f.name: [] for f in fields(RooflineInputs)}
        for c in candidates:
            pool: PoolSpec = getattr(c, which)
            cols = {**mcols, **hardware_columns(catalog.hardware[pool.hardware], profile, catalog),
                    "tp": float(pool.tp), "batch": float(pool.batch), "input_tokens": float(input_tokens),
                    "output_tokens": output}
            for k, column in rows.items():
                column.append(float(cols[k]))
        return RooflineInputs.broadcast(**{k: np.array(v, dtype=float) for k, v in rows.items()})

    def link_col(values: list[float]) -> FloatArray:
        return np.array(values, dtype=float)

    return PoolPairInputs(
        prefill=pool_rows("prefill", PREFILL_OUTPUT_TOKENS),
        decode=pool_rows("decode", float(output_tokens)),
        link_bytes_per_s=link_col([r.bandwidth_gb_s_per_direction * BYTES_PER_GB for r in links]),
        link_latency_s=link_col([(r.latency_us if r.latency_us is not None else d.allreduce_latency_us)
                                 / US_PER_SECOND for r in links]),
        link_efficiency=link_col([d.comm_efficiency] * len(links)),
        link_intra_node=np.array([r.scope == "intra-node" for r in links], dtype=bool),
        ttft_target_s=np.full(len(links), float(ttft_target_s)),
        tpot_target_s=np.full(len(links), float(tpot_target_s)),
        utilisation_cap=np.full(len(links), float(utilisation_cap)),
        ttft_p99_s=np.full(len(links), float(ttft_p99_s)), tpot_p99_s=np.full(len(links), float(tpot_p99_s)),
        holding_cv=d.slot_holding_time_cv,
    )
