r"""A co-located MoE deployment with expert parallelism: ``E_p`` attention groups of ``t`` GPUs, experts spread.

Layout (DeepSeek-V3's and SGLang's "DP attention + EP" inference layout; arXiv 2412.19437 §3.4): a
replica has ``G = t·E_p`` GPUs in one scale-up domain.  Attention, the dense blocks and the
embeddings are tensor-parallel over ``t`` GPUs and replicated in ``E_p`` data-parallel groups; each
group serves its own ``b_g`` sequences (replica batch ``b = E_p·b_g``).  The routed experts are spread
over the ``E_p`` groups (``E / E_p`` experts each, every one split over the group's ``t`` GPUs), so
each GPU holds ``W_r / (t·E_p)`` of the routed weights — the model's expert weights / ``E_p`` per
TP shard — and a replica of ``t × E_p`` GPUs fits MoE models a TP-``t`` replica cannot.

Notation as in :mod:`planner.physics.roofline` (``W_r`` routed-expert bytes, ``W_o`` all other weight
bytes, ``f(n) = 1 − (1 − k/E)^n``, ``KV_g`` KV bytes per sequence per GPU, ``P`` peak, ``η``s):

* **Memory fit**: per GPU ``W_o/t + W_r/(t·E_p) + b_g·KV_reserved ≤ HBM``-side of the roofline's fit.
  Evaluated by the roofline itself on the group row (``t`` GPUs, batch ``b_g``) with the memory
  raised by the expert bytes a GPU does not hold, ``W_r/t·(1 − 1/E_p)`` — the same inequality.
* **Decode step** of the replica (all groups step together; the all-to-all synchronises them):

  - compute per GPU ``C = b_g · F_d / (t·P·η_c)`` (balanced routing: a group's GPUs do the expert
    work of as many token copies as their own tokens have);
  - memory per GPU ``M = (W_o + f(b)·W_r/E_p)/t / (B·η_m) + b_g·KV_g/(B·η_kv)``: the ``b`` tokens of
    the whole replica pick experts, each GPU reads its share of the touched ones (``W_o`` without an
    untied input embedding, a lookup — as the roofline's step);
  - ``T_s = max(C, M) + T_ar,t(b_g) + T_f + L · T_a2a(b)``: the group's all-reduces (``t`` GPUs,
    ``b_g`` tokens), the fixed time, and per (MoE) layer the all-to-all of
    :func:`planner.physics.expert_parallel.all_to_all` over the hardware's scale-up link row
    (``hardware.scaleup_link`` in ``catalogs/links.toml``: ``β`` per GPU and direction, ``α`` its
    latency or the default all-reduce latency, ``η`` the default ``comm_efficiency``), tokens ``b``
    over ``E_p`` ranks at the roofline's activation bits ``comm_bits`` for dispatch and combine.
    Every layer of a catalogued MoE model is an MoE layer (the roofline's own assumption).

* **Prefill** of one request runs on its group: the roofline's ``G_p`` (compute and all-reduces on
  ``t`` GPUs) plus ``L · T_a2a`` for its ``I`` prompt tokens sent from one rank (``n = I·E_p`` in the
  all-to-all's per-rank form); alone it takes ``max(F_p/(t·P·η_c), (W_o + W_r/E_p)/t/(B·η_m))`` plus
  those and ``T_f``.
* **Capacity and latency** as the roofline's, per group: ``T_r = G_p + O·T_s/b_g``, a group serves
  ``1/T_r`` requests/s and the replica ``E_p/T_r``; ``ρ' = (G_p/T_r)·(b_g − 1)/b_g``,
  ``TPOT = T_s/(1 − ρ')``, ``TTFT = T_p + ρ'/(2(1 − ρ'))·G_p``.

``E_p = 1`` reproduces the roofline row exactly (tested).  Speculative decoding is not modelled with
``E_p > 1`` (the draft's pass has no expert layout here): such rows are refused, never approximated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec, ModelSpec
from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.physics.expert_parallel import all_to_all, check_expert_parallel
from planner.physics.profile import ServingProfile
from planner.physics.roofline import (
    ALLREDUCES_PER_LAYER,
    FloatArray,
    RooflineInputs,
    RooflineResult,
    decode_flops,
    evaluate,
    overlap,
)
from planner.units import BITS_PER_BYTE, BYTES_PER_GB, US_PER_SECOND

#: Field of the scenario this module reads.
EP_FIELD = "plan.expert_parallel"


def checked_degree(model: ModelSpec, ep: int | None) -> int | None:
    """``plan.expert_parallel`` against the base model: an MoE model whose experts it divides (exit 2)."""
    if ep is None:
        return None
    if not model.is_moe:
        raise ScenarioError(f"{model.slug} is a dense model (experts = 1): expert parallelism needs an MoE model",
                            EP_FIELD)
    return check_expert_parallel(model, ep, EP_FIELD)


def expert_parallel_of(profile: ServingProfile, ep: int | None) -> int:
    """``E_p`` a variant is deployed with under ``plan.expert_parallel = ep``.

    ``ep`` for an MoE model whose experts it divides and without speculative decoding; 1 (plain
    tensor parallelism, the roofline row) for a variant whose model has no such experts (a dense
    distilled student, a model with another expert count) or that drafts — never an approximation.
    """
    model = profile.model
    if ep is None or not model.is_moe or model.experts % ep or profile.draft is not None:
        return 1
    return ep


def shown_degree(profile: ServingProfile, ep: int | None) -> int | None:
    """``E_p`` of a plan line (``ServedBy.expert_parallel``): set only when experts are spread (``E_p > 1``),
    so a plan without expert parallelism keeps its JSON."""
    degree = expert_parallel_of(profile, ep)
    return degree if degree > 1 else None


@dataclass(frozen=True)
class ScaleUpLink:
    """Per-row link columns of each row's scale-up domain (``β`` bytes/s per GPU and direction, ``α`` s, ``η``)."""

    bytes_per_s: FloatArray
    latency_s: FloatArray
    efficiency: FloatArray

    @classmethod
    def of(cls, hardware: list[HardwareSpec], index: NDArray[np.int64], catalog: Catalog) -> ScaleUpLink:
        """The ``scaleup_link`` row of ``hardware[index[i]]`` per row (refused when it is not catalogued)."""
        d = catalog.defaults
        beta, alpha = [], []
        for hw in hardware:
            row = catalog.links.get(hw.scaleup_link or "")
            if row is None:
                raise ScenarioError(f"{hw.slug} has no catalogued scale-up link (scaleup_link "
                                    f"'{hw.scaleup_link}' is not in catalogs/links.toml) for the all-to-all", EP_FIELD)
            beta.append(row.bandwidth_gb_s_per_direction * BYTES_PER_GB)
            alpha.append((row.latency_us if row.latency_us is not None else d.allreduce_latency_us) / US_PER_SECOND)
        n = len(index)
        return cls(np.array(beta, dtype=float)[index], np.array(alpha, dtype=float)[index],
                   np.full(n, d.comm_efficiency))


def _routed_bytes(inp: RooflineInputs) -> FloatArray:
    """``W_r``: routed-expert parameters ``(N − N_a)/(1 − k/E)`` at the weight bits (0 for dense rows)."""
    moe = inp.experts > 1.0
    share = inp.experts_per_token / inp.experts
    routed = np.where(moe, (inp.params_total - inp.params_active) / np.where(moe, 1.0 - share, 1.0), 0.0)
    return routed * inp.weight_bits / BITS_PER_BYTE


def _allreduce_s(inp: RooflineInputs, tokens: FloatArray) -> FloatArray:
    """``T_ar,t(n)`` of the roofline (ring, two per layer) for the group's ``t`` GPUs."""
    t = inp.tp
    ring = 2.0 * (t - 1.0) / t * tokens * inp.d_model * inp.comm_bits / BITS_PER_BYTE
    per = inp.allreduce_latency_s + ring / (inp.link_bytes_per_s * inp.comm_efficiency)
    return np.where(t > 1.0, ALLREDUCES_PER_LAYER * inp.layers * per, 0.0)


def evaluate_expert_parallel(inp: RooflineInputs, ep: FloatArray, link: ScaleUpLink) -> RooflineResult:
    """The module docstring's maths.  ``inp`` rows are *groups*: ``tp = t``, ``batch = b_g`` (0: largest
    that fits); ``ep`` per row (1 = no EP: the roofline row unchanged).  Figures are per replica
    (``batch`` = ``b``, ``requests_per_s`` = ``E_p/T_r``; per GPU where the roofline's are).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _evaluate(inp, np.asarray(ep, dtype=float), link)


def _evaluate(inp: RooflineInputs, ep: FloatArray, link: ScaleUpLink) -> RooflineResult:
    if np.any((ep > 1.0) & (inp.draft_tokens > 0)):
        raise ScenarioError("speculative decoding is not modelled together with expert parallelism", EP_FIELD)
    t = inp.tp
    not_held = _routed_bytes(inp) / t * (1.0 - 1.0 / ep)  # W_r/t·(1 − 1/E_p) per GPU
    grp = evaluate(dataclasses.replace(inp, memory_bytes=inp.memory_bytes + not_held))
    b_g = grp.batch
    b = ep * b_g
    gb = BYTES_PER_GB
    weights_gpu = grp.weight_gb_per_gpu * gb - not_held  # W_o/t + W_r/(t·E_p)
    moe = inp.experts > 1.0
    fixed = inp.step_fixed_s + inp.layers * (inp.layer_fixed_s + np.where(moe, inp.moe_layer_fixed_s, 0.0))  # T_f
    bw = inp.memory_bandwidth_bytes_per_s * inp.memory_efficiency
    compute, memory = _step_terms(inp, grp, ep, weights_gpu, bw)

    def a2a(tokens: FloatArray) -> FloatArray:
        return all_to_all(tokens=tokens, ep=ep, experts=inp.experts, experts_per_token=inp.experts_per_token,
                          d_model=inp.d_model, moe_layers=np.where(moe, inp.layers, 0.0),
                          dispatch_bits=inp.comm_bits, combine_bits=inp.comm_bits,
                          link_bytes_per_s=link.bytes_per_s, link_latency_s=link.latency_s,
                          link_efficiency=link.efficiency).seconds_per_step

    step_a2a = a2a(b)
    busy = overlap(compute, memory, inp.decode_overlap_norm)  # the step's compute and memory, overlapped
    step = busy + _allreduce_s(inp, b_g) + fixed + step_a2a

    i_new = inp.input_tokens * inp.prefill_token_fraction
    prefill_a2a = a2a(i_new * ep)
    prefill_comm = _allreduce_s(inp, i_new)
    prefill_compute = grp.prefill_gpu_s - prefill_comm
    prefill_gpu = grp.prefill_gpu_s + prefill_a2a
    prefill_alone = np.maximum(prefill_compute, weights_gpu / bw) + prefill_comm + prefill_a2a + fixed

    per_request = prefill_gpu + inp.output_tokens * step / b_g  # T_r of one group
    rps = ep / per_request
    rho_other = prefill_gpu / per_request * (b_g - 1.0) / b_g
    compute_bound = compute >= memory
    steps_share = inp.output_tokens / b_g
    comm_s = prefill_comm + prefill_a2a + steps_share * (step - busy - fixed)
    overhead_s = steps_share * fixed
    compute_s = prefill_compute + steps_share * np.where(compute_bound, compute, 0.0)
    memory_s = steps_share * np.where(compute_bound, 0.0, memory)
    fits = grp.fits & (t * ep <= inp.domain_gpus)
    return dataclasses.replace(
        grp, fits=fits, max_batch=ep * grp.max_batch, batch=b, weight_gb_per_gpu=weights_gpu / gb,
        memory_gb_per_gpu=grp.memory_gb_per_gpu - not_held / gb,
        prefill_s=prefill_alone, prefill_gpu_s=prefill_gpu, step_s=step,
        ttft_s=prefill_alone + rho_other / (2.0 * (1.0 - rho_other)) * prefill_gpu,
        tpot_s=step / (1.0 - rho_other), requests_per_s=rps, output_tokens_per_s=rps * inp.output_tokens,
        compute_s_per_request=compute_s, memory_s_per_request=memory_s, communication_s_per_request=comm_s,
        overhead_s_per_request=overhead_s,
        bound=np.argmax(np.stack([compute_s, memory_s, comm_s, overhead_s]), axis=0).astype(np.int64))


def _step_terms(inp: RooflineInputs, grp: RooflineResult, ep: FloatArray, weights_gpu: FloatArray,
                bw: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Compute and memory time of one decode step of a group (``b_g`` sequences per EP rank, ``b``
    over the group): ``b_g·F_d/(t·P·η_c)``, and the weights each GPU holds less the routed experts no
    token touches and the embedding lookup, plus the KV read."""
    t = inp.tp
    b_g = grp.batch
    b = ep * b_g
    gb = BYTES_PER_GB
    routed_gpu = _routed_bytes(inp) / t / ep  # W_r/(t·E_p)
    moe = inp.experts > 1.0
    touched = np.where(moe, 1.0 - np.power(1.0 - inp.experts_per_token / inp.experts, b), 1.0)
    peak = t * inp.peak_flops_per_s * inp.compute_efficiency
    bw_kv = inp.memory_bandwidth_bytes_per_s * inp.kv_memory_efficiency
    vd = inp.vocab_size * inp.d_model
    compute_params = inp.params_active - np.where(inp.tied_embeddings > 0.5, 0.0, vd)
    f_d = decode_flops(inp, compute_params, inp.input_tokens + inp.output_tokens / 2.0)  # F_d
    lookup_gpu = np.where(inp.tied_embeddings > 0.5, 0.0, vd) * inp.embedding_bits / BITS_PER_BYTE / t  # not read
    compute = b_g * f_d / peak
    memory = ((weights_gpu - routed_gpu * (1.0 - touched) - lookup_gpu) / bw
              + b_g * grp.kv_gb_per_sequence_per_gpu * gb / bw_kv)
    return compute, memory
