r"""The lifetime MILP built with numpy and handed to HiGHS in one call (no PuLP per term).

Same notation as :mod:`planner.optimize.milp`.  :class:`ModelData` holds every coefficient of a
plan once (loads ``a_{j,p}``, replica bounds, offer costs, traffic costs); :func:`build` assembles
the model of any subset of its variants as arrays, in the same canonical order as the PuLP model.
Two forms, both exact:

* **one variant** (no quality row can bind, ``y ≡ 1`` moved into the objective's constant, so no
  link rows and no big-M): ``cover_{c,p}: Σ_{j∈c} r_{j,p}/a_{j,p} ≥ 1`` — the compact model;
* **several variants** (pairs for ``plan.max_variants = 2``): traffic shares aggregated per
  variant, ``x_{v,c,p} ∈ [0,1]`` with ``demand_{c,p}: Σ_v x_{v,c,p} = 1``,
  ``capacity_{v,c,p}: Σ_{j∈(v,c)} r_{j,p}/a_{j,p} − x_{v,c,p} ≥ 0`` and, where some variant is
  below the floor, ``quality_{c,p}: Σ_v q_{v,c} x_{v,c,p} ≥ Q_c``.  A per-column split is recovered
  by filling the columns of ``(v, c)`` in order, each up to ``r/a`` (:meth:`Problem.shares` does
  the same), so the optimum equals the per-column model's.

Both carry the supply, spares, minimum-replica, quota, power and budget rows of the PuLP model.

**Disaggregated pairs** (``plan.disaggregation``; :mod:`planner.optimize.disagg_milp` has the PuLP
form, the same rows): a pair ``k`` of the model's variants adds a share ``x_{k,p} ∈ [0, 1]`` and whole
prefill and decode replicas ``P_{k,p} ≤ max(1, ⌈a^P⌉)``, ``D_{k,p} ≤ max(1, ⌈a^D⌉)``, with
``x − P/a^P ≤ 0`` and ``x − D/a^D ≤ 0`` and the co-located full form's valid cuts per pool (``x ≤ P``
when ``a^P < 1``, else the rounding facet).  Its share enters the cover row of one variant,
``Σ_j r_{j,p}/a_{j,p} + Σ_k x_{k,p} ≥ 1`` (and the capacity row of its variant with several), and its
pools the supply rows of their hardware (``t_P P`` and ``t_D D``).  A pair's traffic costs the
variant's per-query price, as its co-located columns do, so with one variant it stays in the
objective's constant.  No dominance bound is derived for pairs.

The Chvátal–Gomory roundings of the cover rows that shorten the time-sliced proof
(:func:`planner.optimize.milp.cover_roundings`) are not added here: on the one-slice demo they slow
the solve (8.5 s without, 11.9 s with, same optimum, measured A/B on the same machine).

**Replica dominance bounds** (exact).  In a (variant, class, hardware) group the pruned TPs
``t_1 < t_2 < …`` have strictly increasing capacity per GPU ``μ/t`` (:func:`~planner.optimize.pruning.prune`).
When ``t'/t_j`` is whole, ``t'/t_j`` replicas of column ``j`` use exactly the GPUs of one replica of
the next larger TP ``t'``, which serves ``μ' > (t'/t_j)·μ_j``: swapping them keeps every demand,
cover, capacity, quality, supply, spares, quota, power and budget row satisfied at the same or a
lower cost (costs sit on GPUs, and traffic costs depend on (variant, class) only).  Hence an
optimum with ``r_{j,p} ≤ t'/t_j − 1`` always exists, and the bound removes no optimal cost.  The
swap lowers the replica count, so classes with ``workload.min_replicas`` keep their full bounds.

**Whole servers as cumulative counts** (exact substitution).  For an offer that sells ``u_o > 1``
GPUs per unit, the model's variables are ``S_{o,p} = Σ_{q≤p} n_{o,q}`` (units ordered by period
``p``) instead of ``n_{o,p}``: every row and cost term in ``n_{o,p}`` is rewritten with
``n_{o,p} = S_{o,p} − S_{o,p−1}``, and ``0 ≤ S_{o,p} − S_{o,p−1} ≤ n̄_{o,p}`` keeps the bounds.  The
feasible set and the costs are the same (a unimodular change of variables, integer ``n`` ⇔ integer
``S``); what changes is what the branch-and-bound branches on: ``S_{o,p} ≤ k`` fixes how many
servers are in service, which ``n_{o,p} ≤ k`` does not.  Measured on the calibrated demo's winning
variant with the same start: 485 nodes and 3.0 s CPU against 1,490 nodes and 4.8 s; the same
substitution for single-GPU offers made it slower (3,482 nodes), so it is applied to servers only.
:meth:`DirectModel.acquisitions` reads ``n`` back from either form.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize.candidates import CandidateSet
from planner.optimize.direct_rows import (
    CEIL_TOLERANCE,
    INF,
    add_demand_and_cover_rows,
    add_min_replica_rows,
    add_pair_rows,
    add_power_rows,
    add_share_rows,
    add_supply_rows,
    add_variables,
    servers_as_cumulative,
    start_build,
)
from planner.optimize.milp import (
    MAX_COEFFICIENT_RANGE,
    MIN_LOAD_PER_REPLICA,
    USD_PER_KUSD,
)
from planner.optimize.pruning import Column
from planner.scenario.schema import Scenario

if TYPE_CHECKING:  # only disaggregated plans build pair columns
    from planner.optimize.disagg_columns import PairColumn

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class PairData:
    """Disaggregated pair columns (:mod:`planner.optimize.disagg_columns`) as arrays: pair ``k`` serves
    class ``workload[k]`` with variant ``variant[k]`` on a prefill pool (pool 0) and a decode pool (pool 1)."""

    pairs: list[PairColumn]
    variant: IntArray  # [k]
    workload: IntArray  # [k]
    hardware: IntArray  # [k, pool]
    tp: FloatArray  # [k, pool] GPUs per replica of each pool
    load: FloatArray  # [k, pool, p] a^P_{k,p}, a^D_{k,p}: replicas of the pool needed to carry the whole class
    replica_ub: FloatArray  # [k, pool, p] max(1, ⌈a⌉): that many replicas carry the whole class
    unit: FloatArray  # [k, pool] replicas of each pool per scale-up domain (an intra-node link), 0: free pools
    unit_load: FloatArray  # [k, p] a^U = max(a^P/p, a^D/d): domains that carry the whole class (0: free pools)
    unit_ub: FloatArray  # [k, p] U's bound (disagg_domains.unit_bound); 0: free pools
    idle: FloatArray  # [k] GPUs of a unit's block holding no replica (on the prefill hardware, both pools'); 0: free

    @property
    def count(self) -> int:
        return len(self.pairs)


def pair_data(cs: CandidateSet, pairs: Sequence[PairColumn], demand: Demand, periods: int,
              min_replicas: Sequence[int]) -> PairData:
    """The coefficients of :func:`planner.optimize.disagg_milp.pair_hook`'s columns, as arrays (a pool's
    bound ``max(1, R_c, ⌈a⌉)``, as the hook's)."""
    from planner.optimize.disagg_domains import unit_bound
    from planner.optimize.disagg_domains import unit_load as unit_load_of

    K = len(pairs)
    workload = np.array([k.workload for k in pairs], dtype=np.int64)
    served = np.array([cs.variants[k.variant].profiles[cs.workloads[k.workload]].served_query_fraction
                       for k in pairs], dtype=float)
    rps = np.array([[k.prefill_rps, k.decode_rps] for k in pairs], dtype=float).reshape(K, 2)
    load = (demand.peak_rps[workload][:, None, :] * served[:, None, None] / rps[:, :, None] if K
            else np.zeros((0, 2, periods)))
    load = np.where((load > 0) & (load < MIN_LOAD_PER_REPLICA), MIN_LOAD_PER_REPLICA, load)
    floor = np.array([min_replicas[k.workload] for k in pairs], dtype=float).reshape(K, 1, 1)
    replica_ub = np.maximum(np.maximum(1.0, floor), np.ceil(load - CEIL_TOLERANCE))
    unit, unit_load, unit_ub = np.zeros((K, 2)), np.zeros((K, periods)), np.zeros((K, periods))
    for k, pair in enumerate(pairs):
        if pair.unit is not None:  # whole scale-up domains (disagg_milp.pair_hook's bounds)
            unit[k] = pair.unit
            unit_load[k] = unit_load_of(load[k, 0], load[k, 1], pair.unit)
            unit_ub[k] = unit_bound(unit_load[k], min_replicas[pair.workload], pair.unit)
            replica_ub[k] = unit[k][:, None] * unit_ub[k][None, :]
    return PairData(pairs=list(pairs), variant=np.array([k.variant for k in pairs], dtype=np.int64), workload=workload,
                    hardware=np.array([[k.prefill_hardware, k.decode_hardware] for k in pairs],
                                      dtype=np.int64).reshape(K, 2),
                    tp=np.array([[k.prefill_tp, k.decode_tp] for k in pairs], dtype=float).reshape(K, 2),
                    load=load, replica_ub=replica_ub, unit=unit, unit_load=unit_load, unit_ub=unit_ub,
                    idle=np.array([float(k.idle_gpus) for k in pairs]))


@dataclass(frozen=True)
class ModelData:
    """Every coefficient of one plan's models, computed once (columns ``j``, periods ``p``)."""

    columns: list[Column]
    variant: IntArray  # [j]
    workload: IntArray  # [j]
    hardware: IntArray  # [j]
    tp: FloatArray  # [j] GPUs per replica
    load: FloatArray  # [j, p] a_{j,p}: replicas needed to carry the whole class
    replica_ub: FloatArray  # [j, p] max(1, ⌈a⌉), with the dominance bound where it holds
    offers: list[ModeOffer]
    one_time_kusd: dict[int, float]  # F_v
    traffic_kusd: dict[int, FloatArray]  # v -> [c, p] ρ_{v,c,p}, PV of the recurring cost of the whole class
    fixed_kusd: dict[int, float]  # v -> PV of the fixed monthly technique cost over the horizon
    quality: dict[int, list[float | None]]  # v -> q_{v,c}
    floors: list[float | None]
    min_replicas: list[int]
    quota_gpus: dict[int, float]  # hardware index -> GPUs paid for at most
    power_cap_kw: float | None
    budget_kusd: float | None
    periods: int
    classes: int
    pairs: PairData | None = None  # disaggregated columns (plan.disaggregation), None without


def model_data(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
               periods: Periods, demand: Demand, one_time_usd: dict[int, float],
               floors: list[float | None], with_caps: bool = True,
               pairs: Sequence[PairColumn] | None = None) -> ModelData:
    """The coefficients of :mod:`planner.optimize.milp`'s model, as arrays (see the module docstring);
    ``pairs``: disaggregated columns beside the co-located ones."""
    P, C = periods.count, len(cs.workloads)
    J = len(columns)
    variant = np.array([c.variant for c in columns], dtype=np.int64)
    workload = np.array([c.workload for c in columns], dtype=np.int64)
    hardware = np.array([c.hardware for c in columns], dtype=np.int64)
    tp = np.array([c.tp for c in columns], dtype=float)
    served = np.array([cs.variants[c.variant].profiles[cs.workloads[c.workload]].served_query_fraction
                       for c in columns], dtype=float)
    capacity = np.array([c.capacity_rps for c in columns], dtype=float)
    load = demand.peak_rps[workload] * (served / capacity)[:, None] if J else np.zeros((0, P))
    load = np.where((load > 0) & (load < MIN_LOAD_PER_REPLICA), MIN_LOAD_PER_REPLICA, load)
    min_replicas = [w.min_replicas for w in scenario.workload]
    # max(⌈a⌉, R_c): ⌈a⌉ replicas of a column carry its whole class, and R_c keeps a replica floor reachable
    # with one column (a lower bound on a column's replicas would force a second, dearer one)
    floor = np.array([min_replicas[c.workload] for c in columns], dtype=float)[:, None] if J else np.zeros((0, 1))
    replica_ub = np.maximum(np.maximum(1.0, floor), np.ceil(load - CEIL_TOLERANCE))
    replica_ub = _dominance_bounds(columns, tp, replica_ub, min_replicas)
    month_pv = float((periods.months * periods.discount_mid).sum())
    traffic: dict[int, FloatArray] = {}
    fixed: dict[int, float] = {}
    quality: dict[int, list[float | None]] = {}
    for v in sorted(set(variant.tolist()) | {k.variant for k in pairs or ()}):
        profiles = [cs.variants[v].profiles[w] for w in cs.workloads]
        rate = np.array([p.recurring_usd_per_million_queries for p in profiles])
        traffic[v] = rate[:, None] * demand.queries / 1e6 * periods.discount_mid / USD_PER_KUSD
        fixed[v] = cs.variants[v].monthly_fee_usd() * month_pv / USD_PER_KUSD
        quality[v] = [p.quality_score for p in profiles]
    quota = {h: float(scenario.market.quota_gpus[hw.slug]) for h, hw in enumerate(cs.hardware)
             if with_caps and hw.slug in scenario.market.quota_gpus}
    budget = scenario.market.budget_usd / USD_PER_KUSD if with_caps and scenario.market.budget_usd is not None else None
    return ModelData(columns=columns, variant=variant, workload=workload, hardware=hardware, tp=tp, load=load,
                     replica_ub=replica_ub, offers=offers,
                     one_time_kusd={v: one_time_usd.get(v, 0.0) / USD_PER_KUSD for v in traffic},
                     traffic_kusd=traffic, fixed_kusd=fixed, quality=quality, floors=floors,
                     min_replicas=min_replicas, quota_gpus=quota,
                     power_cap_kw=scenario.market.power_cap_kw if with_caps else None, budget_kusd=budget,
                     periods=P, classes=C,
                     pairs=None if pairs is None else pair_data(cs, pairs, demand, P, min_replicas))


def _dominance_bounds(columns: Sequence[Column], tp: FloatArray, replica_ub: FloatArray,
                      min_replicas: list[int]) -> FloatArray:
    """``r_{j,p} ≤ t'/t_j − 1`` for every column with a larger, whole-multiple TP in its group."""
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for j, col in enumerate(columns):
        groups[(col.variant, col.workload, col.hardware)].append(j)
    out = replica_ub.copy()
    for (_v, c, _h), js in groups.items():
        if min_replicas[c] > 0:
            continue
        js = sorted(js, key=lambda j: tp[j])
        for j, bigger in itertools.pairwise(js):
            ratio = tp[bigger] / tp[j]
            if ratio > 1 and ratio == math.floor(ratio):
                out[j] = np.minimum(out[j], ratio - 1)
    return out


@dataclass
class DirectModel:
    """A model as arrays (HiGHS's row-wise form) and what each column stands for."""

    cost: FloatArray
    offset: float
    col_lower: FloatArray
    col_upper: FloatArray
    integrality: NDArray[np.int32]
    row_lower: FloatArray
    row_upper: FloatArray
    starts: NDArray[np.int32]
    index: NDArray[np.int32]
    value: FloatArray
    columns: list[int]  # model column j' -> ModelData column j
    offers: list[int]  # model offer o' -> ModelData offer o
    r: IntArray  # [j', p] variable index of r_{j,p}
    n: IntArray  # [o', p] variable index of n_{o,p}
    spares: dict[tuple[int, int], int]  # (hardware, period) -> variable index of z_{h,p}
    x: dict[tuple[int, int, int], int]  # (variant, class, period) -> variable index (several variants only)
    variants: list[int]
    hardware_of_offer: list[int]
    cumulative: tuple[int, ...] = ()  # model offers o' whose columns hold S_{o,p}, not n_{o,p}
    pairs: list[int] = field(default_factory=list)  # model pair i' -> ModelData pair k
    pair_x: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))  # [i', p] x_{k,p}
    pair_pools: IntArray = field(default_factory=lambda: np.zeros((0, 2, 0), dtype=np.int64))  # [i', pool, p] P, D
    pair_units: dict[tuple[int, int], int] = field(default_factory=dict)  # (i', p) -> U_{k,p} of a unit pair
    union: bool = False  # a union of several variants (build): a lower bound, its plans may mix them

    def acquisitions(self, values: FloatArray) -> FloatArray:
        """``n_{o',p}``, the units of each model offer started in each period, from a solution."""
        started = values[self.n].astype(float)
        for k in self.cumulative:
            started[k] = np.diff(values[self.n[k]], prepend=0.0)
        return started

    def acquisition_values(self, k: int, started: FloatArray) -> FloatArray:
        """The values of model offer ``k``'s columns that start ``started[p]`` units in each period."""
        return np.cumsum(started) if k in self.cumulative else started

    @property
    def heuristics_pay(self) -> bool:
        """Whether HiGHS's improvement heuristics stay on where a start is known: with disaggregated
        pairs a start leaves the replica search hard (their rounded-server start ran 15 s to a plan 70×
        the optimum with the heuristics off, and came within 1 % of the best known plan with them on)."""
        return bool(self.pairs)

    @property
    def num_col(self) -> int:
        return int(self.cost.shape[0])

    @property
    def num_row(self) -> int:
        return int(self.row_lower.shape[0])

    def coefficient_range(self) -> tuple[float, float]:
        values = np.abs(self.value[self.value != 0])
        return (float(values.min()), float(values.max())) if values.size else (1.0, 1.0)


def build(data: ModelData, variants: Sequence[int], *, cumulative_servers: bool = True,
          union: bool = False) -> DirectModel:
    """The model of ``variants`` (one: the compact form; several: aggregated shares), every listed
    variant in use (``y_v = 1``: its one-time and fixed costs are in the objective's constant).
    Variables and rows are created in one fixed order, as in the PuLP model
    (:mod:`planner.optimize.direct_rows`).  ``cumulative_servers``: whole-server offers as cumulative
    counts (module docstring; off only to compare the two forms).

    ``union`` (several variants, each able to serve every class alone): a relaxation of each of
    their single-variant models in one compact model — per (class, hardware, TP) only the variants'
    column of most capacity (lowest loads ``a``), and the constant of the cheapest variant,
    ``min_v (F_v + fixed_v + Σ_{c,p} ρ_{v,c,p})``.  Any plan of a listed variant becomes a union plan
    at the same or a lower cost: each of its replicas moves to the stronger column of its
    deployment (the same GPUs, at least the capacity), capped at that column's ``max(1, ⌈a⌉)``
    (which alone serves the class), and the dominance bounds hold as in one variant (the larger TP
    that replaces ``t'/t`` replicas is the strongest of its deployment too).  So any lower bound on the
    union bounds every listed variant (:mod:`planner.optimize.union`).  Two variants that run alike on
    a GPU type give the union one column there, not two near copies."""
    if union and data.pairs is not None:
        raise ValueError("a union of variants is built of co-located columns only")
    b = start_build(data, variants, union=union)
    add_variables(b)
    add_demand_and_cover_rows(b)
    if b.several:
        add_share_rows(b)
    add_pair_rows(b)
    add_min_replica_rows(b)
    add_supply_rows(b)
    add_power_rows(b)
    served = [c for c in range(data.classes) if b.k_of_class[c] or b.pairs_of_class[c]]
    if union:
        offset = min(data.one_time_kusd[v] + data.fixed_kusd[v] + float(data.traffic_kusd[v].sum(axis=1)[served].sum())
                     for v in variants)
    else:
        offset = sum(data.one_time_kusd[v] + data.fixed_kusd[v] for v in variants)
        if not b.several:
            offset += float(data.traffic_kusd[variants[0]].sum(axis=1)[served].sum())
    if data.budget_kusd is not None:
        nz = [i for i, c in enumerate(b.cost) if c != 0]
        b.rows.add(nz, [b.cost[i] for i in nz], -INF, data.budget_kusd - offset)
    servers = tuple(k for k, o in enumerate(b.offer_ids) if cumulative_servers and data.offers[o].gpus_per_unit > 1)
    cost, lower, upper = np.array(b.cost), np.array(b.lower), np.array(b.upper)
    if servers:
        servers_as_cumulative(b, b.n[list(servers)], cost, lower, upper)
    row_lower, row_upper, starts, index, value = b.rows.arrays()
    return DirectModel(cost=cost, offset=offset, col_lower=lower,
                       col_upper=upper, integrality=np.array(b.integer, dtype=np.int32),
                       row_lower=row_lower, row_upper=row_upper, starts=starts, index=index, value=value,
                       columns=b.js, offers=b.offer_ids, r=b.r, n=b.n, spares=b.spares, x=b.x, variants=list(variants),
                       hardware_of_offer=[data.offers[o].hardware for o in b.offer_ids], cumulative=servers,
                       pairs=b.ks_pairs, pair_x=b.px, pair_pools=b.pools, pair_units=b.units, union=union)


def scaling_refusal(model: DirectModel) -> str | None:
    """The planner's coefficient-range refusal, applied to the model actually solved."""
    cmin, cmax = model.coefficient_range()
    if cmax / cmin > MAX_COEFFICIENT_RANGE:
        return f"coefficients span {cmin:.3g} to {cmax:.3g}: too badly scaled to solve reliably"
    return None
