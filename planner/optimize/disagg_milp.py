r"""Disaggregated pair columns in the lifetime-cost MILP (through :func:`planner.optimize.milp.build_problem`'s
``extra`` hook), their lower bounds for variant screening and their re-verification.

Notation as in :mod:`planner.optimize.milp`; a pair column ``k`` (:class:`PairColumn`) serves class
``c(k)`` with variant ``v(k)`` on a prefill pool (``t_{p,k}`` GPUs of ``h_{p,k}`` per replica,
``λ_{p,k}`` requests/s per replica) and a decode pool (``t_{d,k}`` GPUs of ``h_{d,k}``, ``λ_{d,k}``).
With ``a^P_{k,p} = λ_{c,p} s_{v,c} / λ_{p,k}`` and ``a^D_{k,p} = λ_{c,p} s_{v,c} / λ_{d,k}``:

Variables: ``x_{k,p} ∈ [0,1]`` share, ``P_{k,p} ∈ ℤ≥0`` prefill and ``D_{k,p} ∈ ℤ≥0`` decode replicas
(the xPyD counts, chosen independently over an inter-node link; bounded by ``⌈a⌉``, which serves the
whole class).

Rows (added here):

* ``pcap_k_p``: ``a^P x ≤ P``; ``dcap_k_p``: ``a^D x ≤ D`` — with the co-located rows' valid cuts per
  pool (``x ≤ P`` when ``a^P < 1``, the rounding facet otherwise; likewise for ``D``);
* ``plink_k_p``: ``x_{k,p} ≤ y_{v(k)}``;
* a pair over an intra-node link holds whole scale-up domains of its unit ``(p_k, d_k)``
  (:mod:`planner.optimize.disagg_domains`): ``U_{k,p} ∈ ℤ≥0`` domains, ``uprefill_k_p``:
  ``P = p_k U``, ``udecode_k_p``: ``D = d_k U``, and ``a^U x ≤ U`` with its cuts, ``a^U = max(a^P/p_k,
  a^D/d_k)``; ``supply_h_p`` also counts the block's idle GPUs, ``(g_k − p_k t_p − d_k t_d)·U``.  The
  bounds become ``U ≤ max(1, ⌈R_c/p_k⌉, ⌈R_c/d_k⌉, ⌈a^U⌉)``, ``P ≤ p_k·`` and ``D ≤ d_k·`` that.

Terms in the co-located rows (:class:`~planner.optimize.milp.ExtraColumns`):

* ``demand_c_p``: ``+ Σ_{k∈c} x_{k,p}``; ``quality_c_p``: ``+ Σ_{k∈c} q_{v(k),c} x_{k,p}``;
* ``cover_c_p``: ``+ Σ_{k∈c} P_{k,p}/a^P_{k,p}`` (implied: ``x_k ≤ P_k/a^P_k`` and ``Σ x = 1``);
* ``supply_h_p``: ``+ Σ_{k: h_{p,k}=h} t_{p,k} P_{k,p} + Σ_{k: h_{d,k}=h} t_{d,k} D_{k,p}``;
* ``min_replicas_c_p``: ``+ Σ_{k∈c} P_{k,p}``, and a second row ``min_replicas_decode_c_p`` with
  ``Σ_k D_{k,p}`` in its place — each phase keeps ``workload.min_replicas`` (a co-located replica
  serves both phases, so counts in both rows); the pools' bounds rise to ``max(1, R_c, ⌈a⌉)``;
* objective: ``+ Σ_{k,p} ρ_{k,p} x_{k,p}`` (the variant's per-query technique cost, as for co-located columns).

Lower bound for screening (:func:`pair_class_lower_bounds`), as
:func:`planner.optimize.screening.class_lower_bounds`:
``ℓ^{pair}_{v,c,p} = min_k λ_{c,p} s_{v,c} (t_p κ_{h_p,p}/λ_p + t_d κ_{h_d,p}/λ_d) + ρ_{v,c,p}``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec
from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize.candidates import CandidateSet
from planner.optimize.disagg_columns import PairColumn
from planner.optimize.disagg_domains import unit_bound, unit_load
from planner.optimize.milp import (
    MIN_LOAD_PER_REPLICA,
    MIN_ROUNDING_FRACTION,
    USD_PER_KUSD,
    VERIFY_TOLERANCE,
    ExtraColumns,
)
from planner.optimize.screening import gpu_period_floor
from planner.plan_model import PoolUse, ServedBy
from planner.scenario.schema import Scenario

#: A traffic share at or below this is solver noise (as :data:`planner.optimize.extract.MIN_SHARE`).
MIN_SHARE = 1e-9
#: Solutions round integer replicas; a fractional part below this is solver noise (as in the planner's check).
INTEGRALITY_SLACK = 1e-9


@dataclass
class PairVariables:
    """The pair columns of one model, their variables and coefficients (the hook's record)."""

    pairs: list[PairColumn]
    x: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    prefill: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    decode: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    units: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)  # U: domains of a unit pair
    a_prefill: dict[tuple[int, int], float] = field(default_factory=dict)
    a_decode: dict[tuple[int, int], float] = field(default_factory=dict)
    traffic_cost: dict[tuple[int, int], float] = field(default_factory=dict)  # ρ_{k,p}, $

    def shares(self) -> dict[tuple[int, int], float]:
        return {key: float(var.value() or 0.0) for key, var in self.x.items()}


def _load(demand: Demand, cs: CandidateSet, pair: PairColumn, p: int, rps: float) -> float:
    """``a = λ_{c,p} s_{v,c} / λ`` (floored like the co-located columns' tiny loads)."""
    served = cs.variants[pair.variant].profiles[cs.workloads[pair.workload]].served_query_fraction
    a = float(demand.peak_rps[pair.workload, p]) * served / rps
    return MIN_LOAD_PER_REPLICA if 0 < a < MIN_LOAD_PER_REPLICA else a


def _pool_rows(prob: pulp.LpProblem, a: float, x: pulp.LpVariable, r: pulp.LpVariable, tag: str) -> None:
    """``a·x ≤ r`` and the co-located columns' valid cuts (:mod:`planner.optimize.milp`, family 2)."""
    prob += a * x - r <= 0, f"{tag}cap"
    if a < 1:
        prob += x - r <= 0, f"{tag}min"
    elif (a - math.floor(a)) / a > MIN_ROUNDING_FRACTION:
        f = math.floor(a) / a
        prob += r - x / (1 - f) >= math.floor(a) - f / (1 - f), f"{tag}rnd"


def pair_hook(scenario: Scenario, cs: CandidateSet, pairs: Sequence[PairColumn], periods: Periods,
              demand: Demand) -> Callable[[pulp.LpProblem, dict[int, pulp.LpVariable]], ExtraColumns]:
    """The ``extra`` hook of :func:`planner.optimize.milp.build_problem` adding ``pairs`` (module docstring);
    a class's ``workload.min_replicas`` raises its pools' bounds to it (a pool alone may hold the minimum)."""
    min_replicas = [w.min_replicas for w in scenario.workload]

    def add(prob: pulp.LpProblem, y: dict[int, pulp.LpVariable]) -> ExtraColumns:
        state = PairVariables(pairs=list(pairs))
        more = ExtraColumns(state=state)
        upper: dict[int, int] = defaultdict(int)
        for k, pair in enumerate(state.pairs):
            profile = cs.variants[pair.variant].profiles[cs.workloads[pair.workload]]
            peak_p = peak_d = 0
            for p in range(periods.count):
                a_p, a_d = _load(demand, cs, pair, p, pair.prefill_rps), _load(demand, cs, pair, p, pair.decode_rps)
                state.a_prefill[k, p], state.a_decode[k, p] = a_p, a_d
                tag = f"{k:05d}_{p:03d}"
                x = state.x[k, p] = prob.add_variable(f"dx_{tag}", 0, 1)
                up_p, up_d = _pool_bounds(pair, a_p, a_d, min_replicas[pair.workload])
                peak_p, peak_d = max(peak_p, up_p), max(peak_d, up_d)
                rp = state.prefill[k, p] = prob.add_variable(f"dp_{tag}", 0, up_p, cat=pulp.LpInteger)
                rd = state.decode[k, p] = prob.add_variable(f"dd_{tag}", 0, up_d, cat=pulp.LpInteger)
                _pool_rows(prob, a_p, x, rp, f"p{tag}_")
                _pool_rows(prob, a_d, x, rd, f"d{tag}_")
                if pair.unit is not None:
                    _unit_rows(prob, state, more, k, p, up_p // pair.unit[0])
                prob += x - y[pair.variant] <= 0, f"plink_{tag}"
                more.share[(pair.workload, p)].append(x)
                if profile.quality_score is not None:
                    more.quality[(pair.workload, p)].append((profile.quality_score, x))
                if a_p > 0:
                    more.cover[(pair.workload, p)].append(rp * (1.0 / a_p))
                more.prefill_replicas[(pair.workload, p)].append(rp)
                more.decode_replicas[(pair.workload, p)].append(rd)
                more.gpus[(pair.prefill_hardware, p)].append(pair.prefill_tp * rp)
                more.gpus[(pair.decode_hardware, p)].append(pair.decode_tp * rd)
                rho = (profile.recurring_usd_per_million_queries * demand.queries[pair.workload, p] / 1e6
                       * periods.discount_mid[p])
                if rho > 0:
                    state.traffic_cost[k, p] = float(rho)
                    more.cost.append(rho / USD_PER_KUSD * x)
            upper[pair.prefill_hardware] += pair.prefill_tp * peak_p
            upper[pair.prefill_hardware] += pair.idle_gpus * (peak_p // pair.unit[0] if pair.unit else 0)
            upper[pair.decode_hardware] += pair.decode_tp * peak_d
        more.gpu_upper = dict(upper)
        more.integers = len(state.prefill) + len(state.decode) + len(state.units)
        return more

    return add


def _pool_bounds(pair: PairColumn, a_p: float, a_d: float, floor: int) -> tuple[int, int]:
    """Each pool's bound: ``max(1, R_c, ⌈a⌉)``, or a unit pair's ``p_k·`` and ``d_k·`` its domains' bound."""
    if pair.unit is None:
        return max(1, floor, math.ceil(a_p - 1e-9)), max(1, floor, math.ceil(a_d - 1e-9))
    domains = int(unit_bound(unit_load(a_p, a_d, pair.unit), floor, pair.unit))
    return pair.unit[0] * domains, pair.unit[1] * domains


def _unit_rows(prob: pulp.LpProblem, state: PairVariables, more: ExtraColumns, k: int, p: int, bound: int) -> None:
    """A unit pair's whole scale-up domains (:mod:`planner.optimize.disagg_domains`): ``U ≤ bound``,
    ``P = p_k U``, ``D = d_k U``, ``a^U x ≤ U`` with its cuts, and the blocks' idle GPUs in supply."""
    pair, tag = state.pairs[k], f"{k:05d}_{p:03d}"
    assert pair.unit is not None
    u = state.units[k, p] = prob.add_variable(f"du_{tag}", 0, bound, cat=pulp.LpInteger)
    prob += state.prefill[k, p] - pair.unit[0] * u == 0, f"uprefill_{tag}"
    prob += state.decode[k, p] - pair.unit[1] * u == 0, f"udecode_{tag}"
    a_u = float(unit_load(state.a_prefill[k, p], state.a_decode[k, p], pair.unit))
    _pool_rows(prob, a_u, state.x[k, p], u, f"u{tag}_")
    if pair.idle_gpus:  # the block's GPUs without a replica (disagg_domains.unit_block)
        more.gpus[(pair.prefill_hardware, p)].append(pair.idle_gpus * u)


def verify_pairs(state: PairVariables, totals: dict[tuple[int, int], float]) -> str | None:
    """Add the pairs' shares to the per-class totals; None when every pool serves its traffic."""
    for (k, p), share in state.shares().items():
        pair = state.pairs[k]
        totals[(pair.workload, p)] = totals.get((pair.workload, p), 0.0) + share
        for a, var, pool in ((state.a_prefill[k, p], state.prefill[k, p], "prefill"),
                             (state.a_decode[k, p], state.decode[k, p], "decode")):
            if a * share > (var.value() or 0.0) + VERIFY_TOLERANCE:
                return f"pair {k} in period {p}: its {pool} replicas serve less than its traffic"
    return None


def pair_class_lower_bounds(cs: CandidateSet, pairs: Sequence[PairColumn], offers: Sequence[ModeOffer],
                            periods: Periods, demand: Demand) -> dict[tuple[int, int], NDArray[np.float64]]:
    """``ℓ^{pair}_{v,c,p}`` of the module docstring (integrality and full terms dropped: never above the cost)."""
    kappa = gpu_period_floor(offers, periods.count)
    best: dict[tuple[int, int], NDArray[np.float64]] = {}
    for pair in pairs:
        if pair.prefill_hardware not in kappa or pair.decode_hardware not in kappa:
            continue
        profile = cs.variants[pair.variant].profiles[cs.workloads[pair.workload]]
        load = demand.peak_rps[pair.workload] * profile.served_query_fraction
        usd = load * (pair.prefill_tp * kappa[pair.prefill_hardware] / pair.prefill_rps
                      + pair.decode_tp * kappa[pair.decode_hardware] / pair.decode_rps)
        traffic = profile.recurring_usd_per_million_queries * demand.queries[pair.workload] / 1e6 * periods.discount_mid
        key = (pair.variant, pair.workload)
        best[key] = np.minimum(best.get(key, np.full(periods.count, np.inf)), usd + traffic)
    return best


def variant_lower_bounds_with_pairs(colocated: dict[tuple[int, int], NDArray[np.float64]],
                                    pairs: dict[tuple[int, int], NDArray[np.float64]], variants: Sequence[int],
                                    classes: int, one_time: dict[int, float]) -> dict[int, float]:
    """``LB_v = F_v + Σ_{c,p} min(ℓ_{v,c,p}, ℓ^{pair}_{v,c,p})`` for every variant that can serve every class."""
    bounds: dict[int, float] = {}
    for v in variants:
        per_class = []
        for c in range(classes):
            options = [b for b in (colocated.get((v, c)), pairs.get((v, c))) if b is not None]
            if not options:
                break
            per_class.append(np.minimum.reduce(options))
        else:
            bounds[v] = one_time.get(v, 0.0) + float(sum(b.sum() for b in per_class))
    return bounds


def pair_serving(cs: CandidateSet, state: PairVariables) -> list[ServedBy]:
    """The disaggregated lines of a plan: each pair carrying traffic, with both pools' whole replicas."""
    out: list[ServedBy] = []
    for (k, p), var in sorted(state.x.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        share = float(var.value() or 0.0)
        prefill, decode = round(state.prefill[k, p].value() or 0.0), round(state.decode[k, p].value() or 0.0)
        if share <= MIN_SHARE and prefill + decode == 0:
            continue
        pair = state.pairs[k]
        variant = cs.variants[pair.variant]
        h_p, h_d = cs.hardware[pair.prefill_hardware].slug, cs.hardware[pair.decode_hardware].slug
        # sequences in flight per replica, as a co-located line's: E_p groups of decode_batch each
        decode_batch = pair.decode_batch * (pair.decode_expert_parallel or 1)
        blocks = round(state.units[k, p].value() or 0.0) if (k, p) in state.units else None
        out.append(ServedBy(
            period=p, workload=cs.workloads[pair.workload], variant=variant.name, hardware=f"{h_p}+{h_d}",
            tp=pair.decode_tp, expert_parallel=pair.decode_expert_parallel, batch=decode_batch,
            replicas=prefill + decode,
            gpus=prefill * pair.prefill_tp + decode * pair.decode_tp + pair.idle_gpus * (prefill // pair.unit[0]
                                                                                        if pair.unit else 0),
            traffic_share=share, ttft_ms=pair.ttft_ms,
            tpot_ms=pair.tpot_ms, quality_score=variant.profiles[cs.workloads[pair.workload]].quality_score,
            prefill=PoolUse(hardware=h_p, tp=pair.prefill_tp, batch=pair.prefill_batch, replicas=prefill),
            decode=PoolUse(hardware=h_d, tp=pair.decode_tp, batch=decode_batch, replicas=decode,
                           expert_parallel=pair.decode_expert_parallel),
            link=pair.link, link_utilisation=pair.link_utilisation,
            unit_blocks=blocks, scale_up_domains=_servers(pair, blocks, cs.hardware[pair.prefill_hardware])))
    return out


def _servers(pair: PairColumn, blocks: int | None, hardware: HardwareSpec) -> int | None:
    """The servers an intra-node line's ``blocks`` take: blocks of ``pair.unit_gpus`` (a power of two
    dividing the server) pack ``scaleup_domain_gpus // unit_gpus`` to a server."""
    return None if blocks is None else math.ceil(blocks * pair.unit_gpus / hardware.scaleup_domain_gpus)
