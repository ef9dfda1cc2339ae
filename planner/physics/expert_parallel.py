r"""Expert parallelism (EP) for MoE models: experts spread over ``P`` GPUs, tokens moved all-to-all.

With EP degree ``P`` each GPU holds ``E / P`` of a layer's ``E`` routed experts (``P`` must divide
``E``).  A step over ``n`` tokens, spread evenly over the group (``n / P`` per GPU), moves per MoE
layer (uniform routing, so a share ``(P − 1)/P`` of each token's ``k`` expert copies leaves its GPU):

* **dispatch**: each token's hidden vector to its ``k`` experts — per GPU
  ``D = (n/P) · k · d · bits_dispatch / 8 · (P − 1)/P`` bytes;
* **combine**: the ``k`` expert outputs back — ``C`` the same at ``bits_combine``;
* bytes per token per layer (both phases, all copies): ``k · d · (bits_dispatch + bits_combine) / 8``;
* time per layer ``T_a2a = 2α + (D + C) / (β · η)`` (each phase pays the link's fixed latency ``α``;
  ``β`` is the link's per-GPU bandwidth in one direction, ``η`` its achieved fraction), and per
  step ``L_moe · T_a2a``.

The link row decides ``β`` and ``α``: NVLink inside a scale-up domain (``P ≤`` the domain), an
InfiniBand/RoCE row beyond it.  All functions are numpy-vectorised over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from planner.catalog.schema import ModelSpec
from planner.errors import InputError
from planner.physics.roofline import FloatArray
from planner.units import BITS_PER_BYTE


def check_expert_parallel(model: ModelSpec, ep: object, field: str = "expert_parallel") -> int:
    """The EP degree, checked: a whole number ≥ 1 that divides the model's routed experts."""
    if isinstance(ep, bool) or not isinstance(ep, int) or ep < 1:
        raise InputError(f"must be a whole number >= 1, got {ep!r}", field)
    if ep > 1 and not model.is_moe:
        raise InputError(f"{model.slug} is a dense model (experts = 1): expert parallelism needs an MoE model", field)
    if model.experts % ep:
        divisors = [p for p in range(1, model.experts + 1) if model.experts % p == 0]
        raise InputError(f"{ep} does not divide the {model.experts} experts of {model.slug}; "
                         f"allowed: {', '.join(map(str, divisors))}", field)
    return ep


@dataclass(frozen=True)
class AllToAllResult:
    """Per-row figures of the EP all-to-all."""

    experts_per_gpu: FloatArray  # E / P
    bytes_per_token_per_layer: FloatArray  # dispatch + combine, all k copies
    dispatch_bytes_per_gpu: FloatArray  # D, per layer
    combine_bytes_per_gpu: FloatArray  # C, per layer
    dispatch_s: FloatArray  # α + D/(βη)
    combine_s: FloatArray  # α + C/(βη)
    seconds_per_layer: FloatArray  # T_a2a
    seconds_per_step: FloatArray  # L_moe · T_a2a


def all_to_all(*, tokens: ArrayLike, ep: ArrayLike, experts: ArrayLike, experts_per_token: ArrayLike,
               d_model: ArrayLike, moe_layers: ArrayLike, dispatch_bits: ArrayLike, combine_bits: ArrayLike,
               link_bytes_per_s: ArrayLike, link_latency_s: ArrayLike, link_efficiency: ArrayLike) -> AllToAllResult:
    """The module docstring's maths for ``tokens`` over an EP group of ``ep`` GPUs (arrays broadcast)."""
    n, p, e, k, d, layers, bd, bc, beta, alpha, eta = (np.asarray(v, dtype=float) for v in (
        tokens, ep, experts, experts_per_token, d_model, moe_layers, dispatch_bits, combine_bits,
        link_bytes_per_s, link_latency_s, link_efficiency))
    remote = (p - 1.0) / p
    copies_per_gpu = n / p * k * remote
    dispatch = copies_per_gpu * d * bd / BITS_PER_BYTE
    combine = copies_per_gpu * d * bc / BITS_PER_BYTE
    bw = beta * eta
    dispatch_s = np.where(p > 1.0, alpha + dispatch / bw, 0.0)
    combine_s = np.where(p > 1.0, alpha + combine / bw, 0.0)
    per_layer = dispatch_s + combine_s
    return AllToAllResult(
        experts_per_gpu=np.atleast_1d(e / p),
        bytes_per_token_per_layer=np.atleast_1d(k * d * (bd + bc) / BITS_PER_BYTE),
        dispatch_bytes_per_gpu=np.atleast_1d(dispatch), combine_bytes_per_gpu=np.atleast_1d(combine),
        dispatch_s=np.atleast_1d(dispatch_s), combine_s=np.atleast_1d(combine_s),
        seconds_per_layer=np.atleast_1d(per_layer), seconds_per_step=np.atleast_1d(layers * per_layer))

