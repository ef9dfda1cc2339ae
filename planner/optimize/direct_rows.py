r"""The variables and rows of the numpy-built model (:mod:`planner.optimize.direct`, whose docstring
has the maths): collected as (row, column, value) triplets in one fixed order — the order of the PuLP
model — then sorted into HiGHS's row-wise arrays.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from planner.optimize.milp import MIN_ROUNDING_FRACTION, USD_PER_KUSD
from planner.optimize.pruning import row_score

if TYPE_CHECKING:
    from planner.optimize.direct import ModelData

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: HiGHS's "no bound" (``kHighsInf``).
INF = math.inf
#: Tolerance below which a rounded-up load counts as whole (as in :mod:`planner.optimize.milp`).
CEIL_TOLERANCE = 1e-9


class Rows:
    """Rows collected as (row, column, value) triplets, then sorted into HiGHS's row-wise arrays."""

    def __init__(self) -> None:
        self.rows: list[FloatArray] = []
        self.cols: list[FloatArray] = []
        self.vals: list[FloatArray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, cols: Sequence[int] | IntArray, vals: Sequence[float] | FloatArray, lower: float,
            upper: float) -> None:
        cols_a, vals_a = np.asarray(cols, dtype=np.int64), np.asarray(vals, dtype=float)
        keep = vals_a != 0
        row = len(self.lower)
        self.rows.append(np.full(int(keep.sum()), row, dtype=np.int64))
        self.cols.append(cols_a[keep])
        self.vals.append(vals_a[keep])
        self.lower.append(lower)
        self.upper.append(upper)

    def arrays(self) -> tuple[FloatArray, FloatArray, NDArray[np.int32], NDArray[np.int32], FloatArray]:
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        starts = np.searchsorted(rows, np.arange(len(self.lower))).astype(np.int32)
        return (np.array(self.lower, dtype=float), np.array(self.upper, dtype=float), starts,
                cols.astype(np.int32), vals)


@dataclass
class ModelBuild:
    """One model under construction: the columns (variables) in creation order, their indices and rows."""

    data: ModelData
    variants: list[int]
    js: list[int]  # model column k -> ModelData column j
    offer_ids: list[int]  # model offer k -> ModelData offer o
    by_hw: dict[int, list[int]]  # hardware -> model columns k
    k_of_class: dict[int, list[int]]  # class -> model columns k
    offers_by_hw: dict[int, list[int]]  # hardware -> model offers k
    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: Rows = field(default_factory=lambda: Rows())
    x: dict[tuple[int, int, int], int] = field(default_factory=dict)
    spares: dict[tuple[int, int], int] = field(default_factory=dict)
    r: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    n: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    union: bool = False  # several variants as one compact model (:func:`planner.optimize.direct.build`)
    ks_pairs: list[int] = field(default_factory=list)  # model pair i -> ModelData pair k
    pairs_of_class: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # class -> model pairs i
    px: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))  # [i, p] x_{k,p}
    units: dict[tuple[int, int], int] = field(default_factory=dict)  # (i, p) -> U_{k,p} of a unit pair
    pools: IntArray = field(default_factory=lambda: np.zeros((0, 2, 0), dtype=np.int64))  # [i, pool, p] P, D

    @property
    def several(self) -> bool:
        """Several variants with their own traffic shares (``plan.max_variants = 2``); not a union."""
        return len(self.variants) > 1 and not self.union

    def var(self, c: float, lo: float, hi: float, is_int: bool) -> int:
        self.cost.append(c)
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(1 if is_int else 0)
        return len(self.cost) - 1


def column_key(data: ModelData, j: int) -> tuple[int, int, float]:
    """A co-located column's deployment: class, hardware and TP (one column per variant has it)."""
    return int(data.workload[j]), int(data.hardware[j]), float(data.tp[j])


def pair_key(data: ModelData, k: int) -> tuple[int, int, int, int, int, str, int | None, tuple[int, int] | None]:
    """A disaggregated pair's deployment: class, each pool's hardware and GPUs per replica, the KV link,
    the decode pool's expert parallelism and the scale-up domain's unit (what two variants' pairs share
    when they deploy alike)."""
    assert data.pairs is not None
    pair = data.pairs.pairs[k]
    return (pair.workload, pair.prefill_hardware, pair.prefill_tp, pair.decode_hardware, pair.decode_tp, pair.link,
            pair.decode_expert_parallel, pair.unit)


def start_build(data: ModelData, variants: Sequence[int], union: bool = False) -> ModelBuild:
    """A build of ``variants``' model with its index maps (columns and pairs per class and hardware, the
    offers of every hardware type a column or a pair's pool uses) and no variable yet.  ``union``: of
    the variants' columns with the same class, hardware and TP only the one of most capacity is kept
    (the first of equal ones; :func:`planner.optimize.direct.build` says why that is exact)."""
    chosen = set(variants)
    js = [j for j in range(len(data.columns)) if data.variant[j] in chosen]
    if union:
        strongest: dict[tuple[int, int, float], int] = {}
        for j in js:
            key = column_key(data, j)
            if key not in strongest or data.load[j].sum() < data.load[strongest[key]].sum():
                strongest[key] = j
        js = sorted(strongest.values())
    by_hw: dict[int, list[int]] = defaultdict(list)
    k_of_class: dict[int, list[int]] = defaultdict(list)
    for k, j in enumerate(js):
        by_hw[int(data.hardware[j])].append(k)
        k_of_class[int(data.workload[j])].append(k)
    ks_pairs: list[int] = []
    pairs_of_class: dict[int, list[int]] = defaultdict(list)
    if data.pairs is not None:
        pd = data.pairs
        ks_pairs = [k for k in range(pd.count) if pd.variant[k] in chosen]
        for i, k in enumerate(ks_pairs):
            pairs_of_class[int(pd.workload[k])].append(i)
            for h in pd.hardware[k]:
                by_hw.setdefault(int(h), [])  # a type only pairs use still gets its offers and supply rows
    offer_ids = [o for o, offer in enumerate(data.offers) if offer.hardware in by_hw]
    offers_by_hw: dict[int, list[int]] = defaultdict(list)
    for k, o in enumerate(offer_ids):
        offers_by_hw[data.offers[o].hardware].append(k)
    return ModelBuild(data=data, variants=list(variants), js=js, offer_ids=offer_ids, by_hw=by_hw,
                      k_of_class=k_of_class, offers_by_hw=offers_by_hw, union=union, ks_pairs=ks_pairs,
                      pairs_of_class=pairs_of_class)


def servers_as_cumulative(b: ModelBuild, columns: IntArray, cost: FloatArray, lower: FloatArray,
                          upper: FloatArray) -> None:
    r"""Rewrite the whole-server offers' columns ``n_{o,p}`` as ``S_{o,p}`` (:mod:`planner.optimize.direct`),
    in place.

    ``columns[i, p]`` is the variable of ``n_{o,p}`` for the i-th such offer.  A term ``a·n_{o,p}``
    becomes ``a·S_{o,p} − a·S_{o,p−1}``; the bound ``[0, n̄_{o,p}]`` becomes a row on
    ``S_{o,p} − S_{o,p−1}`` and ``S_{o,p} ∈ [0, Σ_{q≤p} n̄_{o,q}]``.
    """
    previous = np.full(len(cost), -1, dtype=np.int64)  # variable -> the variable of the period before
    previous[columns[:, 1:].ravel()] = columns[:, :-1].ravel()
    bound = upper[columns].copy()
    rows = b.rows
    for i in range(len(rows.cols)):
        cols, vals = rows.cols[i], rows.vals[i]
        back = previous[cols]
        moved = back >= 0
        if moved.any():
            merged_cols = np.concatenate([cols, back[moved]])
            merged_vals = np.concatenate([vals, -vals[moved]])
            unique, inverse = np.unique(merged_cols, return_inverse=True)
            summed = np.zeros(unique.shape[0])
            np.add.at(summed, inverse, merged_vals)
            keep = summed != 0
            rows.cols[i], rows.vals[i] = unique[keep], summed[keep]
            rows.rows[i] = np.full(int(keep.sum()), i, dtype=np.int64)
    shifted = cost[columns].copy()
    cost[columns[:, :-1]] -= shifted[:, 1:]
    for i in range(columns.shape[0]):
        for p in range(columns.shape[1]):
            terms = [int(columns[i, p])] + ([int(columns[i, p - 1])] if p else [])
            rows.add(terms, [1.0, -1.0][:len(terms)], 0.0, float(bound[i, p]))
    lower[columns] = 0.0
    upper[columns] = np.cumsum(bound, axis=1)


def add_variables(b: ModelBuild) -> None:
    """``x`` (several variants), ``r`` with its bounds, ``n`` bounded by the GPUs every column of the
    hardware would need at its peak (as the PuLP model), and whole spares where owned offers serve."""
    data, P, js = b.data, b.data.periods, b.js
    pd = data.pairs
    if b.several:
        for v in b.variants:
            for c in range(data.classes):
                if any(data.variant[j] == v and data.workload[j] == c for j in js) or (pd is not None and any(
                        pd.variant[b.ks_pairs[i]] == v for i in b.pairs_of_class[c])):
                    for p in range(P):
                        b.x[(v, c, p)] = b.var(float(data.traffic_kusd[v][c, p]), 0.0, 1.0, False)
    b.r = np.array([[b.var(0.0, 0.0, float(data.replica_ub[j, p]), True) for p in range(P)] for j in js],
                   dtype=np.int64).reshape(len(js), P)
    gpu_ub = {h: float(sum(data.tp[js[k]] * max(1.0, data.min_replicas[data.workload[js[k]]],
                                                 math.ceil(float(data.load[js[k]].max()) - CEIL_TOLERANCE))
                           for k in ks))
              for h, ks in b.by_hw.items()}
    if pd is not None:
        b.px = np.array([[b.var(0.0, 0.0, 1.0, False) for _p in range(P)] for _k in b.ks_pairs],
                        dtype=np.int64).reshape(len(b.ks_pairs), P)
        b.pools = np.array([[[b.var(0.0, 0.0, float(pd.replica_ub[k, pool, p]), True) for p in range(P)]
                             for pool in range(2)] for k in b.ks_pairs], dtype=np.int64).reshape(len(b.ks_pairs), 2, P)
        for i, k in enumerate(b.ks_pairs):  # whole scale-up domains of a unit pair (disagg_domains)
            if pd.unit[k, 0] > 0:
                for p in range(P):
                    b.units[(i, p)] = b.var(0.0, 0.0, float(pd.unit_ub[k, p]), True)
        for k in b.ks_pairs:  # the peak of each pool, as the PuLP hook's gpu_upper
            for pool in range(2):
                h = int(pd.hardware[k, pool])
                gpu_ub[h] += float(pd.tp[k, pool] * pd.replica_ub[k, pool].max())
            gpu_ub[int(pd.hardware[k, 0])] += float(pd.idle[k] * pd.unit_ub[k].max())  # a unit block's idle GPUs
    gpu_ub = {h: max(1.0, ub) for h, ub in gpu_ub.items()}
    offers = [data.offers[o] for o in b.offer_ids]
    b.n = np.array([[b.var(float(o.cost_usd[p]) * o.gpus_per_unit / USD_PER_KUSD, 0.0,
                           float(math.ceil(gpu_ub[o.hardware] / (o.gpus_per_unit * o.supply_factor)))
                           if o.may_start(p) else 0.0, True)
                     for p in range(P)] for o in offers], dtype=np.int64).reshape(len(offers), P)
    for h in b.by_hw:
        for p in range(P):
            serving = [offers[k] for k in b.offers_by_hw[h] if offers[k].covers[:, p].any()]
            if any(o.supply_factor < 1.0 for o in serving):
                b.spares[(h, p)] = b.var(0.0, 0.0, INF, True)


def _live(b: ModelBuild, ks: list[int], p: int) -> list[int]:
    return [k for k in ks if b.data.load[b.js[k], p] > 0]


def add_demand_and_cover_rows(b: ModelBuild) -> None:
    """``demand_{c,p}`` (several variants) and ``cover_{c,p}: Σ_j r_{j,p}/a_{j,p} ≥ 1``."""
    for c in range(b.data.classes):
        for p in range(b.data.periods):
            if b.several:
                shares = [b.x[(v, c, p)] for v in b.variants if (v, c, p) in b.x]
                b.rows.add(shares, [1.0] * len(shares), 1.0, 1.0)
            live = _live(b, b.k_of_class[c], p)
            shares = _live_pairs(b, b.pairs_of_class[c], p)
            b.rows.add([*b.r[live, p].tolist(), *[int(b.px[i, p]) for i in shares]],
                       [*(1.0 / b.data.load[[b.js[k] for k in live], p]).tolist(), *[1.0] * len(shares)], 1.0, INF)


def add_share_rows(b: ModelBuild) -> None:
    """``capacity_{v,c,p}`` per variant and class, then ``quality_{c,p}`` where some variant is below the floor."""
    data = b.data
    for (v, c, p), xi in b.x.items():
        live = [k for k in _live(b, b.k_of_class[c], p) if data.variant[b.js[k]] == v]
        loads = data.load[[b.js[k] for k in live], p]
        shares = [i for i in _live_pairs(b, b.pairs_of_class[c], p) if data.pairs is not None
                  and data.pairs.variant[b.ks_pairs[i]] == v]
        b.rows.add([*b.r[live, p].tolist(), *[int(b.px[i, p]) for i in shares], xi],
                   [*(1.0 / loads).tolist(), *[1.0] * len(shares), -1.0], 0.0, INF)
    for c, floor in enumerate(data.floors):
        q = {v: data.quality[v][c] for v in b.variants}
        if floor is None or all(qv is None or qv >= floor for qv in q.values()):
            continue
        for p in range(data.periods):
            terms = [(b.x[(v, c, p)], row_score(q[v], floor)) for v in b.variants if (v, c, p) in b.x]
            b.rows.add([t[0] for t in terms], [t[1] for t in terms], floor, INF)


def _live_pairs(b: ModelBuild, pairs: list[int], p: int) -> list[int]:
    pd = b.data.pairs
    return [] if pd is None else [i for i in pairs if (pd.load[b.ks_pairs[i], :, p] > 0).all()]


def add_pair_rows(b: ModelBuild) -> None:
    r"""Each pair's pools carry its share, ``x_{k,p} − P_{k,p}/a^P_{k,p} ≤ 0`` (likewise ``D``), with the
    valid cuts of :func:`planner.optimize.disagg_milp.pair_hook`: ``x ≤ P`` when ``a < 1``, otherwise
    the rounding facet ``P − x/(1−f) ≥ ⌊a⌋ − f/(1−f)``, ``f = ⌊a⌋/a`` (the co-located full form's);
    a unit pair's domains ``U`` likewise, tied to its pools."""
    pd = b.data.pairs
    if pd is None:
        return
    for i, k in enumerate(b.ks_pairs):
        for p in range(b.data.periods):
            x = int(b.px[i, p])
            for pool in range(2):
                _pool_cuts(b, x, int(b.pools[i, pool, p]), float(pd.load[k, pool, p]))
            if (i, p) in b.units:
                _add_unit_rows(b, x, k, [int(b.pools[i, pool, p]) for pool in range(2)], b.units[(i, p)], p)


def _pool_cuts(b: ModelBuild, x: int, replicas: int, a: float) -> None:
    """``a·x ≤ replicas`` with its valid cuts (``x ≤ replicas`` when ``a < 1``, else the rounding facet)."""
    if a > 0:
        b.rows.add([x, replicas], [1.0, -1.0 / a], -INF, 0.0)
    if a < 1:
        b.rows.add([x, replicas], [1.0, -1.0], -INF, 0.0)
    elif (a - math.floor(a)) / a > MIN_ROUNDING_FRACTION:
        f = math.floor(a) / a
        b.rows.add([replicas, x], [1.0, -1.0 / (1 - f)], math.floor(a) - f / (1 - f), INF)


def _add_unit_rows(b: ModelBuild, x: int, k: int, pools: list[int], units: int, p: int) -> None:
    """A unit pair's ``P = p_k·U``, ``D = d_k·U`` and ``a^U·x ≤ U`` with its cuts (as the PuLP hook's)."""
    pd = b.data.pairs
    assert pd is not None
    for pool, replicas in enumerate(pools):
        b.rows.add([replicas, units], [1.0, -float(pd.unit[k, pool])], 0.0, 0.0)
    _pool_cuts(b, x, units, float(pd.unit_load[k, p]))


def add_min_replica_rows(b: ModelBuild) -> None:
    """``min_replicas_c_p`` and, with disaggregated pools, once per phase (as :mod:`planner.optimize.milp`):
    co-located replicas plus the prefill pools' ``≥ R_c``, and plus the decode pools' ``≥ R_c``."""
    for c, minimum in enumerate(b.data.min_replicas):
        if minimum > 0:
            for p in range(b.data.periods):
                colocated = b.r[b.k_of_class[c], p].tolist()
                pairs = b.pairs_of_class[c]
                for pool in range(2) if pairs else range(1):
                    replicas = [*colocated, *[int(b.pools[i, pool, p]) for i in pairs]]
                    b.rows.add(replicas, [1.0] * len(replicas), float(minimum), INF)


def add_supply_rows(b: ModelBuild) -> None:
    """``supply_{h,p}``, ``spares_{h,p}`` and ``quota_{h,p}`` (as in the PuLP model)."""
    data, P = b.data, b.data.periods
    offers = [data.offers[o] for o in b.offer_ids]
    pd = data.pairs
    pools_on: dict[int, list[tuple[int, int]]] = defaultdict(list)  # hardware -> (model pair, pool)
    idle_on: dict[int, list[tuple[int, float]]] = defaultdict(list)  # hardware -> (unit pair, idle GPUs per domain)
    for i, k in enumerate(b.ks_pairs):
        assert pd is not None
        for pool in range(2):
            pools_on[int(pd.hardware[k, pool])].append((i, pool))
        if pd.idle[k] > 0:
            idle_on[int(pd.hardware[k, 0])].append((i, float(pd.idle[k])))
    for h, ks in b.by_hw.items():
        tp = data.tp[[b.js[k] for k in ks]].tolist()
        pool_tp = [float(pd.tp[b.ks_pairs[i], pool]) for i, pool in pools_on[h]] if pd is not None else []
        for p in range(P):
            paid = [(k, q) for k in b.offers_by_hw[h] for q in range(P) if offers[k].covers[q, p]]
            units = [float(offers[k].gpus_per_unit) for k, _q in paid]
            n_cols = [int(b.n[k, q]) for k, q in paid]
            z = [b.spares[(h, p)]] if (h, p) in b.spares else []
            pool_cols = [int(b.pools[i, pool, p]) for i, pool in pools_on[h]]
            idle_cols = [b.units[(i, p)] for i, _g in idle_on[h]]
            b.rows.add([*b.r[ks, p].tolist(), *pool_cols, *idle_cols, *z, *n_cols],
                       [*tp, *pool_tp, *[g for _i, g in idle_on[h]], *[1.0] * len(z), *[-u for u in units]], -INF, 0.0)
            if z:
                owned = [(col, (1.0 - offers[k].supply_factor) * u)
                         for (k, _q), col, u in zip(paid, n_cols, units) if offers[k].supply_factor < 1]
                b.rows.add([*[o[0] for o in owned], z[0]], [*[o[1] for o in owned], -1.0], -INF, 0.0)
            if h in data.quota_gpus:
                b.rows.add(n_cols, units, -INF, data.quota_gpus[h])


def add_power_rows(b: ModelBuild) -> None:
    data = b.data
    if data.power_cap_kw is None:
        return
    for p in range(data.periods):
        owned_kw = [(int(b.n[k, q]), data.offers[o].power_kw * data.offers[o].gpus_per_unit)
                    for k, o in enumerate(b.offer_ids) if data.offers[o].mode == "buy"
                    for q in range(data.periods) if data.offers[o].covers[q, p]]
        b.rows.add([t[0] for t in owned_kw], [t[1] for t in owned_kw], -INF, data.power_cap_kw)
