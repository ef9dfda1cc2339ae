r"""Disaggregated candidate columns: a prefill pool and a decode pool, joined by a catalogued link.

For each variant ``v`` that survives pruning and each class ``c``, every pair of pools is a
candidate (:mod:`planner.physics.disaggregation` gives the physics):

* prefill pools: hardware ``h_p`` (offered, allowed for ``v``) × TP ``t_p ∈ {1, 2, 4, …} ≤`` its
  scale-up domain × prompts per pass ``b_p ∈`` :data:`PREFILL_BATCH_LADDER`;
* decode pools: ``h_d`` × ``t_d`` × sequences in flight ``b_d ∈ {1, 2, …, 2^9}``;
* links: every catalogued row joining ``h_p`` and ``h_d`` (:func:`links_between`), or only those of
  ``plan.kv_links`` (checked by :func:`planner.optimize.disagg_inputs.kv_links`).

Enumerating the product (~10^5 rows per class) is avoided without losing anything, because the
physics separates (:class:`~planner.physics.disaggregation.DisaggregationResult`): the decode side
(fit, TPOT, ``λ_d``, the link's intake ``u_d``) depends on ``(h_d, t_d, b_d, link)`` only, the
prefill side (fit, TTFT, ``λ_p``, ``u_p``) on ``(h_p, t_p, b_p, link)`` and the decode pool's KV
shards (its ``t_d``), and the one coupling condition — an intra-node link needs
``t_p + t_d ≤`` the smaller scale-up domain — on the TPs alone.  So:

1. **decode rows** ``(h_d, t_d, b_d, link)``: per ``(h_d, t_d, link)`` the feasible ``b_d`` with
   the largest ``λ_d`` is kept (same GPUs per replica, more requests/s: fewer replicas for any
   traffic);
2. **prefill rows** ``(h_p, t_p, b_p, link, t_d)``: per ``(h_p, t_p, link, t_d)`` the feasible
   ``b_p`` with the largest ``λ_p`` is kept (same argument);
3. **pairs** ``(h_p, t_p, h_d, t_d, link)`` where both sides are feasible, the link joins the two
   types and the intra-node condition holds;
4. **dominance** per ``(v, c, h_p, h_d)``: the link costs nothing in the model, so a pair is
   described by ``(t_p, λ_p, t_d, λ_d)``.  Pair 1 dominates pair 2 when ``t_{p1} ≤ t_{p2}``,
   ``t_{d1} ≤ t_{d2}``, ``λ_{p1}/t_{p1} ≥ λ_{p2}/t_{p2}`` and ``λ_{d1}/t_{d1} ≥ λ_{d2}/t_{d2}``:
   with power-of-two TP (``t_2 = m·t_1``), for any share ``x`` and load ``Λ``,
   ``⌈Λx/λ_1⌉·t_1 ≤ ⌈m·Λx/λ_2⌉·t_1 ≤ ⌈Λx/λ_2⌉·t_2`` on each pool, so pair 1 serves the same traffic
   with no more GPUs of either type (the co-located pruning's argument, per pool).  An intra-node
   pair dominates only intra-node pairs: a scale-up domain of pair 2 holding ``(p, d)`` replicas is
   replaced by one of pair 1 holding ``(m_p·p, m_d·d)`` (the same GPUs, at least the requests/s), but
   an inter-node pair's free pool counts need not split into domains (step 7).  Only the
   non-dominated pairs become columns (ties: the first in canonical order — hardware order, TP
   ascending, fastest link first);
5. the kept pairs are evaluated once more as whole rows (:func:`evaluate_pairs`) and must be
   feasible with the capacities of steps 1–2 — the separation is checked, not assumed;
6. **dominance by co-located columns** (:func:`dominated_by_colocated`): with ``g = t/λ`` GPU-seconds
   per request, a pair is dropped when co-located columns ``j₁`` on ``h_p`` and ``j₂`` on ``h_d`` (the
   same variant and class, both in the model, ``t_{j₁} | t_p`` and ``t_{j₂} | t_d``; ``j₁ = j₂`` when
   ``h_p = h_d`` is allowed) have ``g_p/g_{j₁} + g_d/g_{j₂} ≥ 1``.  Proof: pick
   ``α ∈ [1 − g_d/g_{j₂}, g_p/g_{j₁}] ∩ [0, 1]`` (not empty by the condition) and move the pair's share
   ``x`` (load ``L = Λx``) to ``j₁`` (share ``αx``) and ``j₂`` (``(1−α)x``).  As ``t_{j₁}`` divides ``t_p``,
   ``t_{j₁}⌈αL/μ_{j₁}⌉ ≤ t_{j₁}⌈(t_p/t_{j₁})·L/λ_p⌉ ≤ t_p⌈L/λ_p⌉`` (``αg_{j₁} ≤ g_p``), and likewise on
   ``h_d``; adding to a column's share adds at most this many replicas (``⌈u+w⌉ ≤ ⌈u⌉+⌈w⌉``) and stays
   within its bound ``⌈a⌉`` (shares sum to 1).  So no hardware type needs more GPUs (supply, quota,
   power unchanged or lower), the traffic cost ``ρ`` and quality are the variant's, the co-located
   columns meet the class's targets and need no link: the plan stays feasible at no higher cost, and
   an optimum without the pair exists.  Not for a class with ``workload.min_replicas``: each phase keeps
   that many replicas (:mod:`planner.optimize.milp`, ``min_replicas_c_p``), a pool's replicas count
   for its phase, and the co-located replicas that replace a pool's may be fewer.  (Step 4 holds there:
   pair 1 keeps ``max(min(P₂, R_c), ⌈L/λ_{p1}⌉)`` prefill replicas, within its bound ``max(1, R_c, ⌈a⌉)``
   and on no more GPUs than pair 2's ``P₂``; likewise decode.)

7. **scale-up domains** (:mod:`planner.optimize.disagg_domains`): over an intra-node link (NVLink,
   PCIe) the KV cache never leaves the server, so a prefill replica can only feed decode replicas in
   its own scale-up domain; independent counts ``P`` and ``D`` could not always be placed (20 prefill
   TP1 replicas and one decode TP4 replica need 24 GPUs, while the decode replica's server holds 4
   more).  Each such pair becomes one column per unit ``(p, d)`` a server holds, ``U`` whole servers
   with ``P = p·U`` and ``D = d·U``, each unit a power-of-two block of GPUs; units are pruned exactly
   there.  Step 6 still holds for the pair: a unit column's pools carry at least ``⌈L/λ⌉`` replicas
   each, what step 6's proof replaces.

With ``plan.expert_parallel = E_p`` an MoE variant's decode pools are ``E_p`` attention groups of TP
``t`` (:mod:`planner.physics.disaggregation`, expert parallelism in the decode pool): the decode rows
are keyed by the group's ``t`` (``t·E_p ≤`` the scale-up domain), and every count above — the
intra-node condition, quotas, dominance — uses the replica's ``t_d = t·E_p`` GPUs (``E_p`` is fixed per
variant, so power-of-two ``t`` keeps ``t_{d1} | t_{d2}`` whenever ``t_{d1} ≤ t_{d2}``).  Prefill pools
stay tensor-parallel.

Rows are built in numpy (one hardware lookup per type, then indexing): the vectorised equivalent of
:func:`planner.physics.disaggregation.build_pair_inputs` for generated candidates (a test checks
they agree row for row).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec, LinkRow
from planner.catalog.store import Catalog
from planner.optimize.candidates import BATCH_LADDER_MAX_EXPONENT, CandidateSet, batch_cap, within_context
from planner.optimize.disagg_domains import in_domains
from planner.optimize.disagg_inputs import check_pool_quotas, kv_links
from planner.optimize.pruning import Column
from planner.physics.disaggregation import (
    PREFILL_OUTPUT_TOKENS,
    DisaggregationResult,
    PoolPairInputs,
    evaluate_pairs,
)
from planner.physics.ep_deployment import ScaleUpLink, expert_parallel_of
from planner.physics.profile import ServingProfile, hardware_columns, model_columns
from planner.physics.roofline import RooflineInputs
from planner.scenario.schema import Scenario
from planner.units import BYTES_PER_GB, MS_PER_SECOND, US_PER_SECOND

#: Prompts per prefill forward pass tried: a long prompt fills the GPU alone, short ones batch a few
#: (DistServe §4 batches prefills up to the compute-saturating length; beyond ~8 the pass time only grows).
PREFILL_BATCH_LADDER: tuple[int, ...] = (1, 2, 4, 8)
#: Sequences in flight tried in the decode pool: the co-located ladder 1, 2, …, 2^9.
DECODE_BATCH_LADDER: tuple[int, ...] = tuple(2**k for k in range(BATCH_LADDER_MAX_EXPONENT + 1))
#: Relative tolerance of the step-5 check (the separated and the whole-row evaluations are the same arithmetic).
SEPARATION_RTOL = 1e-9


@dataclass(frozen=True)
class PairColumn:
    """One disaggregated MILP column: class ``workload`` served by variant ``variant`` over two pools.

    ``prefill_rps`` / ``decode_rps`` are requests/s per replica at the class's targets (``λ_p``,
    ``λ_d``); hardware are indices into ``CandidateSet.hardware``.
    """

    variant: int
    workload: int
    prefill_hardware: int
    prefill_tp: int
    prefill_batch: int
    prefill_rps: float
    decode_hardware: int
    decode_tp: int
    decode_batch: int
    decode_rps: float
    link: str
    link_utilisation: float
    ttft_ms: float
    tpot_ms: float
    kv_bytes_per_request: float
    decode_expert_parallel: int | None = None  # E_p > 1: decode_tp is the replica's t·E_p GPUs
    # an intra-node link: (prefill, decode) replicas per scale-up domain (step 7); None: the pools are free
    unit: tuple[int, int] | None = None
    unit_gpus: int = 0  # the GPUs one such domain takes (unit_block), its replicas' and idle ones

    @property
    def idle_gpus(self) -> int:
        """GPUs of each domain that hold no replica (0 for free pools)."""
        if self.unit is None:
            return 0
        return self.unit_gpus - self.unit[0] * self.prefill_tp - self.unit[1] * self.decode_tp


def _tp_ladder(hw: HardwareSpec) -> list[int]:
    return [2**k for k in range(11) if 2**k <= hw.scaleup_domain_gpus]


def _link_columns(links: Sequence[LinkRow], catalog: Catalog) -> dict[str, NDArray[np.float64]]:
    d = catalog.defaults
    return {
        "bytes": np.array([r.bandwidth_gb_s_per_direction * BYTES_PER_GB for r in links], dtype=float),
        "latency": np.array([(r.latency_us if r.latency_us is not None else d.allreduce_latency_us) / US_PER_SECOND
                             for r in links], dtype=float),
        "intra": np.array([r.scope == "intra-node" for r in links], dtype=float),
    }


@dataclass
class _Rows:
    """Candidate rows being assembled: pool indices into the hardware list, TPs, batches, link index."""

    ph: list[int]
    pt: list[int]
    pb: list[int]
    dh: list[int]
    dt: list[int]
    db: list[int]
    link: list[int]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [], [], [], [])

    def add(self, ph: int, pt: int, pb: int, dh: int, dt: int, db: int, link: int) -> None:
        for column, value in zip((self.ph, self.pt, self.pb, self.dh, self.dt, self.db, self.link),
                                 (ph, pt, pb, dh, dt, db, link)):
            column.append(value)


def pool_pair_inputs(profile: ServingProfile, hardware: Sequence[HardwareSpec], links: Sequence[LinkRow],
                     rows: _Rows, catalog: Catalog, *, input_tokens: float, output_tokens: float,
                     ttft_target_s: float, tpot_target_s: float, engine: str | None = None,
                     decode_expert_parallel: int = 1, ttft_p99_s: float = np.inf,
                     tpot_p99_s: float = np.inf) -> PoolPairInputs:
    """:func:`~planner.physics.disaggregation.build_pair_inputs` for generated rows, in numpy (``E_p > 1``:
    the decode pool's rows are attention groups of its ``tp``, experts spread over ``E_p``)."""
    hw_cols = [hardware_columns(hw, profile, catalog, engine, "plan.engine") for hw in hardware]
    keys = list(hw_cols[0]) if hw_cols else []
    hw_table = {k: np.array([c[k] for c in hw_cols], dtype=float) for k in keys}
    mcols = model_columns(profile)
    n = len(rows.link)

    def pool(h: list[int], tp: list[int], batch: list[int], output: float) -> RooflineInputs:
        idx = np.array(h, dtype=np.int64)
        cols = {k: np.full(n, float(v)) for k, v in mcols.items()}
        cols.update({k: table[idx] for k, table in hw_table.items()})
        cols.update(tp=np.array(tp, dtype=float), batch=np.array(batch, dtype=float),
                    input_tokens=np.full(n, float(input_tokens)), output_tokens=np.full(n, float(output)))
        return RooflineInputs.broadcast(**cols)

    lk = _link_columns(links, catalog)
    li = np.array(rows.link, dtype=np.int64)
    ep = None if decode_expert_parallel == 1 else np.full(n, float(decode_expert_parallel))
    scaleup = None if ep is None else ScaleUpLink.of(list(hardware), np.array(rows.dh, dtype=np.int64), catalog)
    return PoolPairInputs(
        prefill=pool(rows.ph, rows.pt, rows.pb, PREFILL_OUTPUT_TOKENS),
        decode=pool(rows.dh, rows.dt, rows.db, float(output_tokens)),
        link_bytes_per_s=lk["bytes"][li], link_latency_s=lk["latency"][li],
        link_efficiency=np.full(n, catalog.defaults.comm_efficiency), link_intra_node=lk["intra"][li] > 0,
        ttft_target_s=np.full(n, float(ttft_target_s)), tpot_target_s=np.full(n, float(tpot_target_s)),
        utilisation_cap=np.ones(n), decode_expert_parallel=ep, decode_scaleup=scaleup,
        ttft_p99_s=np.full(n, float(ttft_p99_s)), tpot_p99_s=np.full(n, float(tpot_p99_s)),
        holding_cv=catalog.defaults.slot_holding_time_cv)


def _best(keys: list[tuple[int, ...]], batch: list[int], rate: NDArray[np.float64],
          ok: NDArray[np.bool_]) -> dict[tuple[int, ...], tuple[int, float]]:
    """Per key, the feasible batch with the largest rate (ties: the smaller batch)."""
    out: dict[tuple[int, ...], tuple[int, float]] = {}
    for i in np.flatnonzero(ok & np.isfinite(rate) & (rate > 0)):
        key, value = keys[i], float(rate[i])
        if key not in out or value > out[key][1]:
            out[key] = (batch[i], value)
    return out


_Figures = tuple[int, float, int, float, bool]


def _dominates(a: _Figures, b: _Figures) -> bool:
    """Step 4 of the module docstring: ``a = (t_p, λ_p, t_d, λ_d, intra-node)`` needs no more GPUs than
    ``b`` — and an intra-node pair, held to its scale-up domains (step 7), dominates only intra-node pairs."""
    if a[4] and not b[4]:
        return False
    return (a[0] <= b[0] and a[2] <= b[2] and a[1] / a[0] >= b[1] / b[0] * (1 - SEPARATION_RTOL)
            and a[3] / a[2] >= b[3] / b[2] * (1 - SEPARATION_RTOL))


_Best = dict[tuple[int, ...], tuple[int, float]]
_Pair = tuple[int, int, int, int, int, int, int, DisaggregationResult, int]


def _pairs_for_class(scenario: Scenario, catalog: Catalog, profile: ServingProfile, c: int,
                     hardware: list[HardwareSpec], links: list[LinkRow], stats: dict[str, int],
                     smallest: dict[str, int], ep: int = 1) -> list[_Pair]:
    """Steps 1–5 for one (variant, class); returns (ph, pt, pb, dh, dt, db, link, result, row) per kept pair.

    ``smallest`` records, per hardware slug, the fewest GPUs of any feasible pool (before quotas).
    ``ep`` is the decode pool's expert-parallel degree ``E_p``: ``dt`` is then a group's TP, the decode
    replica ``dt·E_p`` GPUs (what the intra-node condition, quotas and dominance count); the prefill
    side reads only the group's KV shards (``dt``), so step 2 evaluates it without EP.
    """
    w = scenario.workload[c]

    def run(rows: _Rows, decode_ep: int = ep) -> DisaggregationResult:
        return evaluate_pairs(pool_pair_inputs(
            profile, hardware, links, rows, catalog, input_tokens=float(w.input_tokens),
            output_tokens=float(w.output_tokens), ttft_target_s=w.ttft_ms / MS_PER_SECOND,
            tpot_target_s=w.tpot_ms / MS_PER_SECOND, engine=scenario.plan.engine, decode_expert_parallel=decode_ep,
            ttft_p99_s=np.inf if w.ttft_p99_ms is None else w.ttft_p99_ms / MS_PER_SECOND,
            tpot_p99_s=np.inf if w.tpot_p99_ms is None else w.tpot_p99_ms / MS_PER_SECOND))

    joins = {(a, b, li) for a, ha in enumerate(hardware) for b, hb in enumerate(hardware)
             for li, link in enumerate(links) if link.joins(ha, hb)}
    decode = _decode_pools(hardware, sorted({(b, li) for _a, b, li in joins}), ep, batch_cap(scenario, catalog), run,
                           stats)
    prefill = _prefill_pools(hardware, sorted({(a, li) for a, _b, li in joins}), sorted({t for (_b, t, _li) in decode}),
                             run, stats)
    if prefill is None:
        return []
    for h, t in [(k[0], k[1]) for k in prefill] + [(k[0], k[1] * ep) for k in decode]:
        slug = hardware[h].slug
        smallest[slug] = min(smallest.get(slug, t), t)
    groups = _feasible_pairs(scenario, hardware, links, joins, prefill, decode, ep)
    stats["disagg_pairs_feasible"] += sum(len(g) for g in groups.values())
    kept, expected = _undominated(groups)
    if not kept.link:
        return []
    # 5. the kept pairs as whole rows: the separation must reproduce them
    res = run(kept)
    want = np.array(expected, dtype=float)
    if not (res.feasible.all() and np.allclose(res.prefill_capacity_rps, want[:, 0], rtol=SEPARATION_RTOL, atol=0)
            and np.allclose(res.decode_capacity_rps, want[:, 1], rtol=SEPARATION_RTOL, atol=0)):
        raise RuntimeError("disaggregated pairs: the per-pool evaluation disagrees with the whole rows "
                           f"({[r for r in res.reason if r]})")
    return [(kept.ph[i], kept.pt[i], kept.pb[i], kept.dh[i], kept.dt[i], kept.db[i], kept.link[i], res, i)
            for i in range(len(kept.link))]


def _decode_pools(hardware: list[HardwareSpec], dec_links: list[tuple[int, int]], ep: int, cap: int,
                  run: Callable[..., DisaggregationResult], stats: dict[str, int]) -> _Best:
    """Step 1, decode rows: the pools are separable (module docstring), so each row pairs the decode pool
    with the smallest prefill pool on its own hardware (TP1, one prompt); only the decode results are read.
    Batches above the engine's cap ``cap`` (:func:`planner.optimize.candidates.batch_cap`) are not tried."""
    rows = _Rows.empty()
    keys: list[tuple[int, ...]] = []
    for b, li in dec_links:
        for t in _tp_ladder(hardware[b]):
            if t * ep > hardware[b].scaleup_domain_gpus:
                continue  # a replica of E_p groups lives in one scale-up domain
            for batch in (b_ for b_ in DECODE_BATCH_LADDER if b_ <= cap):
                rows.add(b, 1, 1, b, t, batch, li)
                keys.append((b, t, li))
    res = run(rows)
    assert res.decode_ok is not None and res.decode_rate_rps is not None and res.prefill_ok is not None
    stats["disagg_decode_rows"] += len(rows.link)
    return _best(keys, rows.db, res.decode_rate_rps, res.decode_ok)


def _prefill_pools(hardware: list[HardwareSpec], pre_links: list[tuple[int, int]], decode_tps: list[int],
                   run: Callable[..., DisaggregationResult], stats: dict[str, int]) -> _Best | None:
    """Step 2, prefill rows per decode TP (its KV shards), each paired with the smallest decode pool of that
    TP on the prefill's hardware (one sequence); only the prefill results are read.  None: no row."""
    rows = _Rows.empty()
    keys: list[tuple[int, ...]] = []
    for a, li in pre_links:
        for t in _tp_ladder(hardware[a]):
            for td in decode_tps:
                for batch in PREFILL_BATCH_LADDER:
                    rows.add(a, t, batch, a, td, 1, li)
                    keys.append((a, t, li, td))
    if not rows.link:
        return None
    res = run(rows, decode_ep=1)
    assert res.prefill_ok is not None and res.prefill_rate_rps is not None
    stats["disagg_prefill_rows"] += len(rows.link)
    return _best(keys, rows.pb, res.prefill_rate_rps, res.prefill_ok)


_Group = dict[tuple[int, int], list[tuple[_Figures, tuple[int, ...]]]]


def _feasible_pairs(scenario: Scenario, hardware: list[HardwareSpec], links: list[LinkRow],
                    joins: set[tuple[int, int, int]], prefill: _Best, decode: _Best, ep: int) -> _Group:
    """Step 3: every pair of a feasible prefill and decode pool a link joins, grouped by (h_p, h_d), with
    its figures (prefill GPUs, prefill rate, decode GPUs, decode rate) for the dominance of step 4."""
    quota = scenario.market.quota_gpus
    groups: _Group = defaultdict(list)
    for a, b, li in sorted(joins):
        domain = min(hardware[a].scaleup_domain_gpus, hardware[b].scaleup_domain_gpus)
        for t in _tp_ladder(hardware[a]):
            for td in _tp_ladder(hardware[b]):
                if links[li].scope == "intra-node" and t + td * ep > domain:
                    continue
                if t > quota.get(hardware[a].slug, t) or td * ep > quota.get(hardware[b].slug, td * ep):
                    continue  # a pool larger than its type's quota can never be deployed
                p, d = prefill.get((a, t, li, td)), decode.get((b, td, li))
                if p is None or d is None:
                    continue
                intra = links[li].scope == "intra-node"
                groups[(a, b)].append(((t, p[1], td * ep, d[1], intra), (a, t, p[0], b, td, d[0], li)))
    return groups


def _undominated(groups: _Group) -> tuple[_Rows, list[tuple[float, float]]]:
    """Step 4: per (h_p, h_d), the pairs no other pair dominates, as rows, with their expected pool rates."""
    kept = _Rows.empty()
    expected: list[tuple[float, float]] = []
    for (_a, _b), group in sorted(groups.items()):
        group.sort(key=lambda e: (e[0][0], e[0][2], -e[0][1], -e[0][3], e[1][6]))
        front: list[_Figures] = []
        for figures, row in group:
            if any(_dominates(f, figures) for f in front):
                continue
            front.append(figures)
            kept.add(*row)
            expected.append((figures[1], figures[3]))
    return kept, expected


def build_pair_columns(scenario: Scenario, catalog: Catalog, cs: CandidateSet, columns: Sequence[Column],
                       offered_hardware: set[int]) -> tuple[list[PairColumn], dict[str, int], float]:
    """Every non-dominated disaggregated column (module docstring), the rows it took and the seconds."""
    start = time.perf_counter()
    stats: dict[str, int] = defaultdict(int)
    links = kv_links(scenario, catalog)  # plan.kv_links checked, fastest first
    smallest: dict[str, int] = {}  # g_h of planner.optimize.disagg_inputs: co-located replicas, then pools
    table = cs.deployments
    for row in np.flatnonzero(table.latency_ok):
        slug = cs.hardware[int(table.hardware[row])].slug
        smallest[slug] = min(smallest.get(slug, int(table.tp[row])), int(table.tp[row]))
    out: list[PairColumn] = []
    # a (hardware, class) with measured capacity is served only as measured (co-located): its pools would
    # be the roofline's, which the measurement replaced (they were built regardless until the 11th session)
    measured = {(m.hardware, m.workload) for m in scenario.measured}
    for v in sorted({col.variant for col in columns}):
        variant = cs.variants[v]
        usable = [h for h in range(len(cs.hardware)) if h in offered_hardware and h in cs.allowed_hardware[v]]
        for c, name in enumerate(cs.workloads):
            if not within_context(variant.profiles[name], scenario.workload[c]):
                continue
            local = [h for h in usable if (cs.hardware[h].slug, name) not in measured]
            hardware = [cs.hardware[h] for h in local]
            ep = expert_parallel_of(variant.profiles[name], scenario.plan.expert_parallel)
            for ph, pt, pb, dh, dt, db, li, res, i in _pairs_for_class(scenario, catalog, variant.profiles[name], c,
                                                                       hardware, links, stats, smallest, ep):
                out.append(PairColumn(
                    variant=v, workload=c, prefill_hardware=local[ph], prefill_tp=pt, prefill_batch=pb,
                    prefill_rps=float(res.prefill_capacity_rps[i]), decode_hardware=local[dh], decode_tp=dt * ep,
                    decode_batch=db, decode_rps=float(res.decode_capacity_rps[i]), link=links[li].slug,
                    link_utilisation=float(res.link_utilisation[i]), ttft_ms=float(res.ttft_s[i] * MS_PER_SECOND),
                    tpot_ms=float(res.tpot_s[i] * MS_PER_SECOND),
                    kv_bytes_per_request=float(res.kv_bytes_per_request[i]),
                    decode_expert_parallel=ep if ep > 1 else None))
    check_pool_quotas(scenario, smallest, cs.hardware)
    before = len(out)
    rates = colocated_rates(columns)
    floors = [w.min_replicas for w in scenario.workload]
    out = [pair for pair in out if floors[pair.workload] > 0 or not dominated_by_colocated(pair, rates)]
    stats["disagg_dominated_by_colocated"] = before - len(out)
    out = in_domains(out, {link.slug: link for link in links}, cs, floors, rates)
    stats["disagg_domain_unit_columns"] = sum(pair.unit is not None for pair in out)
    report = dict(stats)
    report["disagg_columns"] = len(out)
    return out, report, time.perf_counter() - start


def colocated_rates(columns: Sequence[Column]) -> dict[tuple[int, int, int], list[tuple[int, float]]]:
    """Per (variant, class, hardware): each co-located column's ``(t_j, μ_j/t_j)`` (the input of step 6)."""
    out: dict[tuple[int, int, int], list[tuple[int, float]]] = defaultdict(list)
    for col in columns:
        if col.capacity_rps > 0:
            out[(col.variant, col.workload, col.hardware)].append((col.tp, col.capacity_rps / col.tp))
    return out


def dominated_by_colocated(pair: PairColumn, rates: dict[tuple[int, int, int], list[tuple[int, float]]]) -> bool:
    """Step 6 of the module docstring: co-located columns of ``pair``'s variant and class (``rates``, from
    :func:`colocated_rates`) serve its traffic with no more GPUs of either of its hardware types
    (``g_p/g_{j₁} + g_d/g_{j₂} ≥ 1``; a float margin keeps a pair at the boundary)."""

    def best(hardware: int, tp: int) -> float:  # max μ_j/t_j = 1/g_j over the columns with t_j | tp
        return max((rate for t, rate in rates.get((pair.variant, pair.workload, hardware), []) if tp % t == 0),
                   default=0.0)

    g_p, g_d = pair.prefill_tp / pair.prefill_rps, pair.decode_tp / pair.decode_rps
    covered = g_p * best(pair.prefill_hardware, pair.prefill_tp) + g_d * best(pair.decode_hardware, pair.decode_tp)
    return covered >= 1 + SEPARATION_RTOL
