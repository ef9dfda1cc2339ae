r"""Roofline physics of one serving deployment, vectorised over rows with numpy.

A *row* is one deployment: model architecture × precision × hardware × tensor-parallel
degree ``t`` × max batch ``b`` × request shape (``I`` prompt tokens, ``O`` output tokens).
Every input is a 1-D array (or a scalar, broadcast); every output is an array of the same
length.  Nothing here loops in Python, so a planner can evaluate 10⁵–10⁶ rows per call.

Notation (per replica of ``t`` GPUs; bytes are ``bits / 8`` floats, never integer division):

* ``N`` total parameters, ``N_a`` active per token, ``V`` vocabulary, ``d`` model width,
  ``L`` layers, ``H·h`` attention width (query heads × head dim), ``E`` routed experts,
  ``k`` experts per token.
* Embedding and LM-head matrices (``V·d`` each, one if tied) are stored at
  ``unquantized_embedding_bits``; transformer blocks at the precision's weight bits.
* MoE: routed-expert parameters ``N_r = (N − N_a) / (1 − k/E)``; at batch ``b`` each layer
  touches a fraction ``f(b) = 1 − (1 − k/E)^b`` of its experts (uniform routing).
* KV cache per token: ``L · 2 · kv_heads · h`` elements (``L · kv_latent_dim`` for MLA), at the
  KV precision.  Split over ``min(t, kv_heads)`` GPUs (MLA's latent is replicated).
* MLA (DeepSeek-V2/V3 multi-head latent attention) in decode runs in the *absorbed* form: the
  up-projections are folded into the query and output projections and every head attends
  directly to the cached latent ``c = [c_KV (d_c), k_rope (d_r)]`` (``kv_latent_dim = d_c + d_r``).
  Per context token per layer a head does ``d_c + d_r`` MACs for its score and ``d_c`` for its
  value: ``F_attn = 2·H·(d_c + d_r + d_c)`` FLOPs (DeepSeek-V3: 2·128·1088 = 278,528, 2.8× the
  ``4·H·h`` = 98,304 of the un-absorbed count), and the step reads the latent once per GPU.
  Prefill keeps the un-absorbed count (it decompresses K and V: ``4·H·h`` per token pair).
* Mean context read per sequence per step ``s = I + O/2`` (paged KV, steady state); memory
  is *reserved* for ``I + r·O`` tokens per admitted sequence (``r = kv_reserved_output_fraction``:
  1 for TensorRT-LLM's default no-eviction admission, ~0.5 for vLLM's on-demand paging), less the
  ``kv_shared_prefix_tokens`` whose blocks are shared by all sequences (a prefix cache holds them once,
  as ``extra_memory_bytes``; a draft model holds its own copy of them, ``P · KV_draft`` per replica).

Times (``P`` dense peak of the compute dtype, ``η_c``/``η_m`` compute/memory efficiency,
``B`` memory bandwidth, ``β`` one-direction link bandwidth × ``η_comm``, ``α`` latency of
one all-reduce):

* compute params ``N_c = N_a − V·d`` (untied: the input embedding is a lookup, not a matmul);
* prefill FLOPs ``F_p = 2·N_c·I + 2·L·H·h·I²`` (causal attention);
* decode FLOPs per token ``F_d = 2·N_c + L·a·s`` with ``a = 4·H·h`` per context token per layer
  (``a = 2·H·(2d_c + d_r)`` for absorbed MLA, above);
* fixed time of one forward pass ``T_f = τ_step + L·(τ_layer + [E>1]·τ_moe)``: kernel launches,
  synchronisation and scheduling that do not shrink with the work (per step: the engine's
  scheduler, sampling and graph launch; per layer: its kernels' launch gaps and ramp-up; per MoE
  layer the extra kernels of routing, top-k, token permutation, grouped expert GEMMs and combine),
  catalog defaults ``decode_step_fixed_us``, ``layer_fixed_us`` and ``moe_layer_fixed_us``.  It bounds a step from below however small the
  model or large ``t``: it is what keeps Llama-3.1-8B at TP8 from decoding at 0.8 ms per token;
* all-reduce time for ``n`` tokens: ``T_ar(n) = [t>1] · 2L · (α + 2(t−1)/t · n·d·bits_comm/8 / β)``
  (two per layer, ring algorithm);
* MoE expert load at small batch: ``b`` tokens each routed to ``k`` of ``E`` experts (uniform,
  independent) touch on average ``E·(1 − (1 − k/E)^b)`` distinct experts per layer (1 − (1−k/E)^b
  is the chance an expert is picked by at least one token): only ``k`` at ``b = 1``, all ``E`` at
  large ``b``.  ``W_touched(b) = W_dense + f(b)·W_routed`` is the weights a step reads;
* decode step ``T_s = ‖b·F_d / (t·P·η_c), W_touched(b)/t / (B·η_m) + b·KV_seq / (B·η_kv)‖_p + T_ar(b) + T_f``
  — weight streams run at the weight format's efficiency ``η_m`` (dequantizing kernels are
  slower), KV streams at the hardware's attention-kernel efficiency ``η_kv``; ``‖x, y‖_p =
  (x^p + y^p)^{1/p}`` (:func:`overlap`, ``p`` = catalog default ``decode_overlap_norm``): compute and
  memory streams of a decode step overlap imperfectly, so a step near the ridge point takes longer
  than the larger of the two (``p → ∞`` is the classic ``max``, ``p = 1`` their sum);
* prefill alone ``T_p = max(F_p / (t·P·η_c), W/t / (B·η_m)) + T_ar(I) + T_f``; inside a busy
  replica prefills are chunked with decode steps, so they cost only ``G_p = F_p/(t·P·η_c) + T_ar(I)``
  of GPU time (weight reads are shared with the decode step);
* GPU time per request ``T_r = G_p + O · T_s / b``, capacity ``R = 1 / T_r`` requests/s;
* prefill share ``ρ = R·G_p``, seen by one request as ``ρ' = ρ·(b−1)/b`` (its own prefill excluded);
* ``TPOT = T_s / (1 − ρ')`` (decode steps slowed by other requests' prefills);
* ``TTFT = T_p + ρ'/(2(1−ρ')) · G_p`` (M/D/1 wait behind other prefills).

Speculative decoding (a draft of ``N_d`` parameters proposes ``γ`` tokens per sequence, the
target verifies them in one pass; Leviathan, Kalman & Matias 2023, arXiv 2211.17192):

* tokens per round ``E = (1 − α^{γ+1}) / (1 − α)`` with per-token acceptance ``α`` (their eq. 1);
* a round is one target pass over ``b(γ+1)`` tokens — ``T_v``: the decode step above with
  ``b(γ+1)`` tokens of compute, experts touched and all-reduce, the KV read once, one ``T_f`` — plus ``γ``
  draft steps ``T_d = ‖b·2N_dc/(t·P·η_c), W_d/t/(B·η_m) + b·KV_d,seq/(B·η_kv)‖_p + T_ar,d(b) + τ_step + L_d·τ_layer``
  (the draft runs on the same GPUs, same TP; its own layers and width in the all-reduce);
* the decode step above becomes the time per output token ``T_s = (T_v + γ·T_d) / E``, so TPOT
  and capacity follow unchanged; the draft's weights and KV share the memory, and it prefills the
  prompt too (``2·N_dc·I`` more prefill FLOPs).  ``γ = 0`` is plain decoding (``E = 1``, no draft).

Memory fit: ``b·KV_reserved ≤ f · (HBM − W/t − extra/t)`` with ``f = kv_free_memory_fraction``
(the engine gives this share of the memory left after loading weights to the KV cache; the rest
covers activations and workspace); ``batch = 0`` asks for
the largest batch that fits, capped at ``max_batch`` (an explicit batch is only checked against memory).  Efficiency factors and defaults come
from the catalog (``catalogs/efficiency.toml``, ``catalogs/defaults.toml``), never from code.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner.units import BITS_PER_BYTE, BYTES_PER_GB, FLOPS_PER_MAC

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Codes of the ``bound`` output array.
#: ``overhead``: the fixed per-pass time (kernel launches and scheduling, ``T_f``) is the largest part.
BOUND_NAMES: tuple[str, str, str, str] = ("compute", "memory", "communication", "overhead")
BOUND_COMPUTE, BOUND_MEMORY, BOUND_COMMUNICATION, BOUND_OVERHEAD = 0, 1, 2, 3
#: All-reduces per transformer layer under tensor parallelism (after attention and after the MLP).
ALLREDUCES_PER_LAYER: float = 2.0
#: Attention matmuls (QKᵀ and A·V) per token pair.
ATTENTION_MATMULS: float = 2.0


@dataclass(frozen=True)
class RooflineInputs:
    """Struct of arrays; build with :meth:`broadcast` so every field has the same length."""

    # model
    params_total: FloatArray
    params_active: FloatArray
    layers: FloatArray
    d_model: FloatArray
    attention_heads: FloatArray
    kv_heads: FloatArray
    head_dim: FloatArray
    kv_latent_dim: FloatArray  # 0 when the model caches full K and V
    kv_latent_value_dim: FloatArray  # MLA: d_c, the latent part the values are read from (0: not MLA)
    vocab_size: FloatArray
    tied_embeddings: FloatArray  # 1.0 tied, 0.0 untied
    experts: FloatArray
    experts_per_token: FloatArray
    # precision
    weight_bits: FloatArray
    embedding_bits: FloatArray
    kv_bits: FloatArray
    comm_bits: FloatArray
    # hardware (SI units)
    peak_flops_per_s: FloatArray
    memory_bandwidth_bytes_per_s: FloatArray
    memory_bytes: FloatArray
    link_bytes_per_s: FloatArray  # one direction
    domain_gpus: FloatArray
    # efficiency and defaults
    compute_efficiency: FloatArray
    memory_efficiency: FloatArray  # weight streams (depends on the weight format's kernels)
    kv_memory_efficiency: FloatArray  # KV-cache streams (attention kernels; the hardware's default)
    comm_efficiency: FloatArray
    allreduce_latency_s: FloatArray
    step_fixed_s: FloatArray  # τ_step: fixed time of one forward pass (scheduler, sampling, launch)
    layer_fixed_s: FloatArray  # τ_layer: fixed time per layer of one forward pass (kernel launch gaps)
    moe_layer_fixed_s: FloatArray  # τ_moe: extra fixed time per MoE layer (routing and expert kernels)
    decode_overlap_norm: FloatArray  # p: a decode step's compute and memory times combine as their p-norm
    kv_free_memory_fraction: FloatArray  # share of memory left after weights that holds KV
    kv_reserved_output_fraction: FloatArray  # output tokens reserved per admitted sequence
    max_batch: FloatArray
    # deployment and request
    tp: FloatArray
    batch: FloatArray  # 0 = auto (largest that fits)
    input_tokens: FloatArray
    output_tokens: FloatArray
    prefill_token_fraction: FloatArray  # share of prompt tokens computed (prefix cache)
    kv_shared_prefix_tokens: FloatArray  # prompt tokens whose KV blocks are shared (held once, in extra memory)
    extra_prefill_flops: FloatArray  # per-request work outside the model (e.g. a cache's embedding)
    extra_memory_bytes: FloatArray  # per replica
    # speculative decoding (all 0: none)
    draft_tokens: FloatArray  # γ, tokens the draft proposes per round
    acceptance_rate: FloatArray  # α, per drafted token, in [0, 1)
    draft_params_total: FloatArray
    draft_embed_params: FloatArray  # embedding + LM-head parameters (stored at embedding_bits)
    draft_compute_params: FloatArray  # matmul parameters per token
    draft_layers: FloatArray
    draft_d_model: FloatArray
    draft_kv_elems_per_token: FloatArray  # KV elements per token of context, whole draft

    @classmethod
    def broadcast(cls, **columns: ArrayLike) -> RooflineInputs:
        """Broadcast scalars and arrays to one common length (float64)."""
        names = [f.name for f in fields(cls)]
        missing = sorted(set(names) - set(columns))
        extra = sorted(set(columns) - set(names))
        if missing or extra:
            raise TypeError(f"RooflineInputs: missing {missing}, unexpected {extra}")
        arrays = np.broadcast_arrays(*(np.asarray(columns[n], dtype=np.float64) for n in names))
        return cls(**{n: np.ascontiguousarray(np.atleast_1d(a)) for n, a in zip(names, arrays, strict=True)})

    def __len__(self) -> int:
        return int(self.params_total.shape[0])


@dataclass(frozen=True)
class RooflineResult:
    """Per-row outputs (per replica unless stated)."""

    fits: NDArray[np.bool_]
    max_batch: FloatArray  # largest batch that fits memory (not capped)
    batch: FloatArray  # batch evaluated
    weight_gb_per_gpu: FloatArray
    kv_gb_per_sequence_per_gpu: FloatArray
    memory_gb_per_gpu: FloatArray
    prefill_s: FloatArray  # a prefill alone (TTFT without queueing)
    prefill_gpu_s: FloatArray  # GPU time of a chunked prefill inside a busy replica
    step_s: FloatArray  # one decode step at the batch (per output token under speculative decoding)
    ttft_s: FloatArray
    tpot_s: FloatArray
    requests_per_s: FloatArray
    output_tokens_per_s: FloatArray
    compute_s_per_request: FloatArray
    memory_s_per_request: FloatArray
    communication_s_per_request: FloatArray  # all-reduces (and, with expert parallelism, all-to-alls)
    overhead_s_per_request: FloatArray  # the fixed per-pass times T_f of its decode steps
    bound: IntArray  # index into BOUND_NAMES: the largest of the four per-request parts


def _allreduce_s(inp: RooflineInputs, tokens: FloatArray, layers: FloatArray | None = None,
                 d_model: FloatArray | None = None) -> FloatArray:
    """``T_ar`` of the target (or, given ``layers`` and ``d_model``, of the draft)."""
    t = inp.tp
    layers = inp.layers if layers is None else layers
    d_model = inp.d_model if d_model is None else d_model
    message_bytes = tokens * d_model * inp.comm_bits / BITS_PER_BYTE
    ring_bytes = 2.0 * (t - 1.0) / t * message_bytes
    per_collective = inp.allreduce_latency_s + ring_bytes / (inp.link_bytes_per_s * inp.comm_efficiency)
    return np.where(t > 1.0, ALLREDUCES_PER_LAYER * layers * per_collective, 0.0)


def _draft_step(inp: RooflineInputs, b: FloatArray, peak: FloatArray, bw: FloatArray, bw_kv: FloatArray,
                draft_weight_bytes: FloatArray | float, draft_kv_seq_gpu: FloatArray | float
                ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One draft step at batch ``b``: compute, memory, all-reduce *with* the fixed per-pass time, and the
    fixed time alone (``T_d`` of the docstring; summed as before the split, so every time is bit-for-bit
    what it was)."""
    compute = b * FLOPS_PER_MAC * inp.draft_compute_params / peak
    memory = draft_weight_bytes / inp.tp / bw + b * draft_kv_seq_gpu / bw_kv
    drafting = inp.draft_tokens > 0
    comm = np.where(drafting, _allreduce_s(inp, b, inp.draft_layers, inp.draft_d_model)
                    + inp.step_fixed_s + inp.draft_layers * inp.layer_fixed_s, 0.0)  # all-reduce and T_f together
    fixed = np.where(drafting, inp.step_fixed_s + inp.draft_layers * inp.layer_fixed_s, 0.0)
    return compute, memory, comm, fixed


def evaluate(inp: RooflineInputs) -> RooflineResult:
    """Evaluate every row.  Rows that do not fit get ``fits=False`` and NaN figures."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _evaluate(inp)


class _Weights(NamedTuple):
    """What the weights are: embedding ``V·d``, the MoE split and the bytes each GPU holds."""

    vd: FloatArray
    moe: NDArray[np.bool_]
    route_share: FloatArray
    routed_params: FloatArray
    dense_block_params: FloatArray
    wbytes: FloatArray
    ebytes: FloatArray
    drafting: bool
    draft_weight_bytes: FloatArray | float
    weight_bytes_gpu: FloatArray


class _Fit(NamedTuple):
    """The KV cache per sequence and the batch that fits (the memory-fit paragraph of the docstring)."""

    latent: NDArray[np.bool_]
    context: FloatArray
    kv_seq_gpu: FloatArray
    draft_kv_bytes_per_token_gpu: FloatArray | float
    kv_reserved_seq_gpu: FloatArray
    held_gpu: FloatArray  # bytes per GPU held whatever the batch: the prefix cache's, and a draft's copy of it
    max_b: FloatArray
    fits: NDArray[np.bool_]
    b: FloatArray


class _Step(NamedTuple):
    """One decode step per output token: its time and its compute, memory, communication (with the
    fixed time ``T_f``, as the step sums them) and fixed parts."""

    step: FloatArray
    compute: FloatArray
    memory: FloatArray
    comm: FloatArray
    fixed: FloatArray


def _weights(inp: RooflineInputs) -> _Weights:
    vd = inp.vocab_size * inp.d_model
    embed_params = np.where(inp.tied_embeddings > 0.5, vd, 2.0 * vd)
    block_params = inp.params_total - embed_params
    moe = inp.experts > 1.0
    route_share = inp.experts_per_token / inp.experts
    routed_params = np.where(moe, (inp.params_total - inp.params_active) / np.where(moe, 1.0 - route_share, 1.0), 0.0)
    wbytes = inp.weight_bits / BITS_PER_BYTE
    ebytes = inp.embedding_bits / BITS_PER_BYTE
    drafting = bool(np.any(inp.draft_tokens > 0))  # the draft's terms are all 0 otherwise: skipped
    draft_weight_bytes = ((inp.draft_params_total - inp.draft_embed_params) * wbytes
                          + inp.draft_embed_params * ebytes) if drafting else 0.0
    weight_bytes = block_params * wbytes + embed_params * ebytes + draft_weight_bytes
    return _Weights(vd, moe, route_share, routed_params, block_params - routed_params, wbytes, ebytes, drafting,
                    draft_weight_bytes, weight_bytes / inp.tp)


def _memory_fit(inp: RooflineInputs, w: _Weights) -> _Fit:
    t = inp.tp
    latent = inp.kv_latent_dim > 0
    kv_elems_per_token = inp.layers * np.where(latent, inp.kv_latent_dim, 2.0 * inp.kv_heads * inp.head_dim)
    kv_shards = np.where(latent, 1.0, np.minimum(t, inp.kv_heads))
    context = inp.input_tokens + inp.output_tokens / 2.0
    kv_bytes_per_token_gpu = kv_elems_per_token * inp.kv_bits / BITS_PER_BYTE / kv_shards
    draft_kv_bytes_per_token_gpu = (inp.draft_kv_elems_per_token * inp.kv_bits / BITS_PER_BYTE / t
                                    if w.drafting else 0.0)
    kv_seq_gpu = context * kv_bytes_per_token_gpu
    reserved_tokens = inp.input_tokens - inp.kv_shared_prefix_tokens + inp.kv_reserved_output_fraction * inp.output_tokens
    kv_reserved_seq_gpu = reserved_tokens * (kv_bytes_per_token_gpu + draft_kv_bytes_per_token_gpu)

    # a shared prefix's KV is held once per replica (the prefix cache's extra memory holds the served
    # model's); a draft keeps its own copy of it, as it keeps its own KV of every sequence
    held_gpu = inp.extra_memory_bytes / t + inp.kv_shared_prefix_tokens * draft_kv_bytes_per_token_gpu
    free_after_weights = inp.memory_bytes - w.weight_bytes_gpu - held_gpu
    kv_budget = inp.kv_free_memory_fraction * np.maximum(free_after_weights, 0.0)
    max_b = np.floor(kv_budget / kv_reserved_seq_gpu)
    batch = np.where(inp.batch > 0, inp.batch, np.minimum(max_b, inp.max_batch))
    fits = (max_b >= 1.0) & (batch <= max_b) & (t <= inp.domain_gpus)
    return _Fit(latent, context, kv_seq_gpu, draft_kv_bytes_per_token_gpu, kv_reserved_seq_gpu, held_gpu, max_b,
                fits, np.where(fits, batch, np.nan))


def overlap(compute: FloatArray, memory: FloatArray, p: FloatArray) -> FloatArray:
    """A decode step's time from its compute and memory times: ``(T_c^p + T_m^p)^{1/p}`` — ``p → ∞``
    is the classic roofline's ``max`` (the two streams overlap perfectly), ``p = 1`` their sum (no
    overlap); between, a step near the ridge point takes longer than either limit.  Scaled by the
    larger term so that large ``p`` does not overflow."""
    top = np.maximum(compute, memory)
    safe = np.where(top > 0, top, 1.0)
    return top * np.power(np.power(compute / safe, p) + np.power(memory / safe, p), 1.0 / p)


def decode_flops(inp: RooflineInputs, compute_params: FloatArray, context: FloatArray) -> FloatArray:
    """``F_d = 2·N_c + L·a·s``: FLOPs of one decoded token at mean context ``s``, with ``a`` the
    attention MACs per context token per layer (``2·H·h``; absorbed MLA ``H·(2d_c + d_r)``)."""
    attn_macs_per_context_token = np.where(
        inp.kv_latent_dim > 0, inp.attention_heads * (inp.kv_latent_dim + inp.kv_latent_value_dim),  # absorbed MLA
        ATTENTION_MATMULS * inp.attention_heads * inp.head_dim)
    return FLOPS_PER_MAC * compute_params + FLOPS_PER_MAC * inp.layers * attn_macs_per_context_token * context


def _decode_step(inp: RooflineInputs, w: _Weights, fit: _Fit, peak: FloatArray, bw: FloatArray, bw_kv: FloatArray,
                 compute_params: FloatArray, pass_fixed: FloatArray) -> _Step:
    """One decode round at batch ``b``: a target pass over ``b(γ+1)`` tokens and ``γ`` draft steps, ``E`` tokens out."""
    b = fit.b
    gamma = inp.draft_tokens
    verified = b * (gamma + 1.0)
    touched = np.where(w.moe, 1.0 - np.power(1.0 - w.route_share, verified), 1.0)
    weights_touched_gpu = ((w.dense_block_params + w.routed_params * touched) * w.wbytes + w.vd * w.ebytes) / inp.tp
    decode_flops_per_token = decode_flops(inp, compute_params, fit.context)
    verify_compute = verified * decode_flops_per_token / peak
    verify_memory = weights_touched_gpu / bw + b * fit.kv_seq_gpu / bw_kv
    verify_comm = _allreduce_s(inp, verified) + pass_fixed
    step = overlap(verify_compute, verify_memory, inp.decode_overlap_norm) + verify_comm
    if not w.drafting:
        return _Step(step, verify_compute, verify_memory, verify_comm, pass_fixed)
    draft_compute, draft_memory, draft_comm, draft_fixed = _draft_step(
        inp, b, peak, bw, bw_kv, w.draft_weight_bytes, fit.context * fit.draft_kv_bytes_per_token_gpu)
    alpha = inp.acceptance_rate
    tokens_per_round = (1.0 - np.power(alpha, gamma + 1.0)) / (1.0 - alpha)
    draft = overlap(draft_compute, draft_memory, inp.decode_overlap_norm) + draft_comm
    return _Step((step + gamma * draft) / tokens_per_round,
                 (verify_compute + gamma * draft_compute) / tokens_per_round,
                 (verify_memory + gamma * draft_memory) / tokens_per_round,
                 (verify_comm + gamma * draft_comm) / tokens_per_round,
                 (pass_fixed + gamma * draft_fixed) / tokens_per_round)


def _prefill(inp: RooflineInputs, w: _Weights, peak: FloatArray, bw: FloatArray, compute_params: FloatArray,
             pass_fixed: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The prefill of one request (``I_new`` tokens computed, attending to the whole prompt): its
    compute and all-reduce times, and ``T_p`` alone on the replica."""
    i_new = inp.input_tokens * inp.prefill_token_fraction
    i_old = inp.input_tokens - i_new
    attn_pairs = i_new * i_old + i_new * i_new / 2.0
    attn_width = inp.attention_heads * inp.head_dim
    prefill_flops = (FLOPS_PER_MAC * (compute_params + inp.draft_compute_params) * i_new
                     + FLOPS_PER_MAC * ATTENTION_MATMULS * inp.layers * attn_width * attn_pairs
                     + inp.extra_prefill_flops)
    compute = prefill_flops / peak
    comm = _allreduce_s(inp, i_new)
    return compute, comm, np.maximum(compute, w.weight_bytes_gpu / bw) + comm + pass_fixed


def _evaluate(inp: RooflineInputs) -> RooflineResult:
    t = inp.tp
    w = _weights(inp)
    fit = _memory_fit(inp, w)
    b = fit.b

    peak = t * inp.peak_flops_per_s * inp.compute_efficiency
    bw = inp.memory_bandwidth_bytes_per_s * inp.memory_efficiency
    bw_kv = inp.memory_bandwidth_bytes_per_s * inp.kv_memory_efficiency
    compute_params = inp.params_active - np.where(inp.tied_embeddings > 0.5, 0.0, w.vd)

    pass_fixed = inp.step_fixed_s + inp.layers * (inp.layer_fixed_s + np.where(w.moe, inp.moe_layer_fixed_s, 0.0))  # T_f
    prefill_compute, prefill_comm, prefill_alone = _prefill(inp, w, peak, bw, compute_params, pass_fixed)
    prefill_gpu = prefill_compute + prefill_comm

    step, step_compute, step_memory, step_comm, step_fixed = _decode_step(inp, w, fit, peak, bw, bw_kv,
                                                                          compute_params, pass_fixed)

    steps_share = inp.output_tokens / b
    gpu_s_per_request = prefill_gpu + steps_share * step
    rps = 1.0 / gpu_s_per_request
    rho_other = rps * prefill_gpu * (b - 1.0) / b
    tpot = step / (1.0 - rho_other)
    ttft = prefill_alone + rho_other / (2.0 * (1.0 - rho_other)) * prefill_gpu

    compute_bound_step = step_compute >= step_memory
    compute_s = prefill_compute + steps_share * np.where(compute_bound_step, step_compute, 0.0)
    memory_s = steps_share * np.where(compute_bound_step, 0.0, step_memory)
    overhead_s = steps_share * step_fixed
    comm_s = prefill_comm + steps_share * step_comm - overhead_s  # the fixed time is its own part
    bound = np.argmax(np.stack([compute_s, memory_s, comm_s, overhead_s]), axis=0).astype(np.int64)

    gb = BYTES_PER_GB
    return RooflineResult(
        fits=fit.fits,
        max_batch=fit.max_b,
        batch=b,
        weight_gb_per_gpu=w.weight_bytes_gpu / gb,
        kv_gb_per_sequence_per_gpu=fit.kv_seq_gpu / gb,
        memory_gb_per_gpu=(w.weight_bytes_gpu + b * fit.kv_reserved_seq_gpu + fit.held_gpu) / gb,
        prefill_s=prefill_alone,
        prefill_gpu_s=prefill_gpu,
        step_s=step,
        ttft_s=ttft,
        tpot_s=tpot,
        requests_per_s=rps,
        output_tokens_per_s=rps * inp.output_tokens,
        compute_s_per_request=compute_s,
        memory_s_per_request=memory_s,
        communication_s_per_request=comm_s,
        overhead_s_per_request=overhead_s,
        bound=bound,
    )
