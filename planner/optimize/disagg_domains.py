r"""Step 7 of :mod:`planner.optimize.disagg_columns`: a pair over an intra-node KV link fills whole servers.

Over NVLink or PCIe the KV cache never leaves the scale-up domain of ``G`` GPUs, so a prefill replica
feeds only decode replicas in its own server.  A domain holding ``p ≥ 1`` prefill and ``d ≥ 1``
decode replicas (both pools on one hardware type: every catalogued intra-node link joins one type)
serves ``c_U = min(p·λ_p, d·λ_d)`` requests/s and takes a block of ``g_U`` GPUs
(:func:`unit_block`); a deployment is ``U`` such domains, ``P = p·U`` and ``D = d·U``
(:mod:`planner.optimize.disagg_milp`).

* **Blocks.**  ``g_U`` is the smallest power of two at least ``p·t_p + d·t_d`` that divides ``G``;
  the rest of the block idles.  GPUs are counted per type, not placed: replicas and blocks that are
  all powers of two dividing ``G`` always pack into whole servers (first fit by decreasing size fills
  every server), where 3-GPU units might not (three need two 8-GPU servers).  The safe side: a
  deployment filling a unit's idle GPUs with other replicas pays less than the plan says.
* **Pruning** (:func:`domain_units`, exact): units in order of block; a unit is dropped when blocks of
  the units kept before it (all smaller), any number of each, serve at least ``c_U`` on no more than
  ``g_U`` GPUs — each of its domains is replaced by those blocks, no more GPUs of the type and at least
  the requests/s.  Not for a class with ``workload.min_replicas``, whose rows count each pool's
  replicas: there every unit stays.
* **Dominated by a co-located column** (:func:`unit_dominated_by_colocated`, exact): step 6 of
  :mod:`planner.optimize.disagg_columns` for one unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from planner.catalog.schema import LinkRow
    from planner.optimize.candidates import CandidateSet
    from planner.optimize.disagg_columns import PairColumn

FloatLike = float | NDArray[np.float64]
#: A domain count within this of a whole number is that number (as the replica bounds' ceiling).
UNIT_CEIL_TOLERANCE = 1e-9
#: A unit at the boundary of step 6's condition is kept (float margin, as step 6's).
DOMINANCE_RTOL = 1e-9


def domain_units(prefill_tp: int, prefill_rps: float, decode_tp: int, decode_rps: float, domain_gpus: int,
                 prune: bool = True) -> list[tuple[int, int]]:
    """Step 7 of the module docstring: the ``(p, d)`` replicas of each pool one scale-up domain can hold
    (``p, d ≥ 1``, in a block of :func:`unit_block` GPUs), in order of block; ``prune`` keeps only those
    that serve more requests/s ``min(p·λ_p, d·λ_d)`` than any number of the units kept before them (all
    in smaller blocks) on as many GPUs or fewer — one such block is replaced by those, as in step 4."""
    units = [(p, d) for d in range(1, domain_gpus // decode_tp + 1)
             for p in range(1, (domain_gpus - d * decode_tp) // prefill_tp + 1)
             if unit_block(p * prefill_tp + d * decode_tp, domain_gpus) is not None]

    def gpus(u: tuple[int, int]) -> int:
        block = unit_block(u[0] * prefill_tp + u[1] * decode_tp, domain_gpus)
        assert block is not None
        return block

    def rate(u: tuple[int, int]) -> float:
        return min(u[0] * prefill_rps, u[1] * decode_rps)

    ordered = sorted(units, key=lambda u: (gpus(u), -rate(u), u))
    if not prune:
        return ordered
    kept: list[tuple[int, int]] = []
    for u in ordered:
        if not kept or rate(u) > _most_requests(kept, gpus(u), gpus, rate):
            kept.append(u)
    return kept


def unit_block(gpus: int, domain_gpus: int) -> int | None:
    """The GPUs a unit of ``gpus`` GPUs takes: the smallest power of two at least ``gpus`` that divides
    the scale-up domain (None when none does).  Every replica elsewhere holds a power of two dividing the
    domain too, so GPUs counted per type always pack into whole servers; a unit's spare GPUs stay idle."""
    block = 1
    while block < gpus:
        block *= 2
    return block if domain_gpus % block == 0 else None


def _most_requests(units: list[tuple[int, int]], budget: int, gpus: Callable[[tuple[int, int]], int],
                   rate: Callable[[tuple[int, int]], float]) -> float:
    """The most requests/s domains of ``units`` (any number of each) serve on ``budget`` GPUs or fewer
    (unbounded knapsack over the GPU budget)."""
    best = [0.0] * (budget + 1)
    for g in range(1, budget + 1):
        best[g] = max([best[g - 1], *(best[g - gpus(u)] + rate(u) for u in units if gpus(u) <= g)])
    return best[budget]


def unit_load(prefill_load: FloatLike, decode_load: FloatLike, unit: tuple[int, int]) -> FloatLike:
    """``a^U = max(a^P/p, a^D/d)``: the domains of unit ``(p, d)`` that carry the whole class."""
    return np.maximum(np.asarray(prefill_load) / unit[0], np.asarray(decode_load) / unit[1])


def unit_bound(load: FloatLike, floor: int, unit: tuple[int, int]) -> FloatLike:
    """``max(1, ⌈R_c/p⌉, ⌈R_c/d⌉, ⌈a^U⌉)``: enough domains for the whole class and for each pool to
    hold the class's ``workload.min_replicas`` ``R_c`` alone (as a free pool's ``max(1, R_c, ⌈a⌉)``)."""
    least = max(1, math.ceil(floor / unit[0]), math.ceil(floor / unit[1]))
    return np.maximum(least, np.ceil(np.asarray(load) - UNIT_CEIL_TOLERANCE))


def in_domains(pairs: Sequence[PairColumn], links: dict[str, LinkRow], cs: CandidateSet, floors: Sequence[int],
               rates: dict[tuple[int, int, int], list[tuple[int, float]]]) -> list[PairColumn]:
    """Step 7: each pair over an intra-node link becomes one column per :func:`domain_units` unit (all
    units for a class with ``workload.min_replicas``, whose rows count each pool's replicas), less the
    units a co-located column serves with no more GPUs (:func:`unit_dominated_by_colocated`)."""
    out: list[PairColumn] = []
    for pair in pairs:
        if links[pair.link].scope != "intra-node":
            out.append(pair)
            continue
        domain = min(cs.hardware[pair.prefill_hardware].scaleup_domain_gpus,
                     cs.hardware[pair.decode_hardware].scaleup_domain_gpus)
        free = floors[pair.workload] == 0
        for p, d in domain_units(pair.prefill_tp, pair.prefill_rps, pair.decode_tp, pair.decode_rps, domain,
                                 prune=free):
            block = unit_block(p * pair.prefill_tp + d * pair.decode_tp, domain) or 0  # never 0: domain_units
            unit = replace(pair, unit=(p, d), unit_gpus=block)
            if not (free and unit_dominated_by_colocated(unit, rates)):
                out.append(unit)
    return out


def unit_dominated_by_colocated(pair: PairColumn, rates: dict[tuple[int, int, int], list[tuple[int, float]]]) -> bool:
    """Step 6 for one scale-up domain unit (both pools on one type ``h``): a co-located column ``j`` on
    ``h`` of the pair's variant and class with ``t_j`` dividing the unit's block of ``g_U`` GPUs and
    ``μ_j/t_j ≥ c_U/g_U`` (``c_U = min(p·λ_p, d·λ_d)``) carries any load ``L`` of the unit's on
    ``t_j⌈L/μ_j⌉ ≤ t_j⌈(g_U/t_j)·L/c_U⌉ ≤ g_U⌈L/c_U⌉`` GPUs, what the unit's blocks take; the rest of
    step 6's proof is unchanged."""
    assert pair.unit is not None
    gpus = pair.unit_gpus
    rate = min(pair.unit[0] * pair.prefill_rps, pair.unit[1] * pair.decode_rps)
    best = max((r for t, r in rates.get((pair.variant, pair.workload, pair.prefill_hardware), []) if gpus % t == 0),
               default=0.0)
    return best * gpus >= rate * (1 + DOMINANCE_RTOL)
