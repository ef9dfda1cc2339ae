r"""A cheap lower bound on each variant's time-sliced plan, so that variants it closes are never built.

Notation of :mod:`planner.optimize.milp_slices`.  For one variant ``v`` (the compact model: every
class served by ``v``'s columns):

**What a serving GPU costs in a slice.**  A fixed GPU (reserved, bought) of hardware ``h`` serving
period ``p`` costs at least ``κ_{h,p}`` (:func:`planner.optimize.screening.gpu_period_floor`: the
least PV $ per serving GPU-period of any fixed offer that may be in service in ``p``, spares
included) and is in service in every slice, so its cost splits over the slices by their hours:
``κ_{h,p} = Σ_s κ_{h,p} H_s/L``.  An elastic GPU (on-demand, spot) held in slice ``s`` costs
``ε_{o,p,s}`` (:func:`~planner.optimize.milp_slices.elastic_cost_usd`) and carries ``κ_{o,s}``
(spot's keep probability) GPUs of capacity.  Hence, with ``u_{h,p,s}`` the GPUs the replicas of ``h``
occupy in slice ``s``, the GPU cost is at least ``Σ_{h,s} π_{h,p,s} u_{h,p,s}`` with

    ``π_{h,p,s} = min(κ_{h,p} H_s/L, min_{elastic o of h, startable in p} ε_{o,p,s}/κ_{o,s})``

(a fixed GPU occupied in fewer slices than all costs *more* than its shares, never less; spot is
left out for a class that may not run on it) — the **hours-share** pricing.

**What a class occupies.**  An interactive class's columns carry ``Σ_j x_{j,p,s} = 1`` with
``a_{j,p,s} x_{j,p,s} ≤ r_{j,p,s}``, so its replicas occupy at least
``Σ_j t_j a_{j,p,s} x_{j,p,s}`` GPUs in slice ``s``, and

    ``ℓ_{c,p,s} = min_j π_{h(j),p,s} t_j a_{j,p,s}``  bounds its GPU cost in the slice.

**Peak-weighted prices.**  The hours-share price charges a fixed GPU for the average of what it
serves, but the fleet needs its busiest slice: for one hardware and period the least cost of a GPU
profile ``u_s`` is the peak-shaving LP ``g(u) = min κF + Σ_s ε_s E_s`` subject to ``F + E_s ≥ u_s``,
whose dual is ``g(u) = max {Σ_s π_s u_s : 0 ≤ π_s ≤ ε_s, Σ_s π_s ≤ κ}``.  *Any* such ``π`` is a
valid linear price (the hours-share one is one of them, with ``Σ_s π_s = κ`` at most), and linear
prices add over classes and variants.  The second pricing takes the ``π`` that is exact for a
profile shaped like the interactive classes' least GPU occupancy per slice: ``κ`` spent greedily on
the busiest slices first, each at most its elastic price (:func:`_peak_weighted`).  Spot caps a
slice's price for classes that may run on it (``min(π_s, ε^spot_s)`` stays dual feasible with the
no-spot supply rows).  Both pricings give a valid bound; the larger is kept.  On the demo in 4
slices (daily shapes) the bound rises from 0.73–0.79 to 0.95–0.98 of each variant's relaxation,
and the daily-load example (deferrable work, spot) keeps the hours-share bound, the larger there.

A deferrable class runs ``X_{c,p,s} = Σ_j x_{j,p,s}`` (rate relative to its mean) and its backlog
rows, summed over the cycle's hours, give ``Σ_s H_s X_{c,p,s} = Σ_t w_{c,t}``: whatever the split,
its GPU cost is at least ``Σ_t w_{c,t} · min_{j,s} π_{h(j),p,s} t_j a_{j,p,s} / H_s``.

**The bound.**  ``LB_v = F_v + M_v m_PV + Σ_{c,p} ρ_{v,c,p} + Σ_{c,p} (Σ_s ℓ_{c,p,s}`` or the
deferrable term``)`` in k$: the one-time cost, the recurring monthly cost, the traffic cost (the
compact model's constants, exactly) and the GPU terms above.  It drops whole replicas, whole
servers, full-term payment, spares rounding and every cap (quota, power, budget, ``min_replicas``),
each of which can only raise the cost, so ``LB_v`` is at most the variant's LP relaxation, and a
variant with ``LB_v`` at or above a plan's cost cannot beat that plan.  ``math.inf`` where some class
has no column the market can supply in some period (the model is infeasible or its LP decides).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.economics.slices import TimeSlices
from planner.optimize.candidates import CandidateSet
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.milp_slices import column_loads, elastic_cost_usd, runs_on_spot, supply_keep
from planner.optimize.pruning import Column
from planner.optimize.screening import gpu_period_floor
from planner.scenario.schema import Workload
from planner.scenario.types import ELASTIC_MODES

FloatArray = NDArray[np.float64]


def slice_gpu_prices(offers: Sequence[ModeOffer], periods: Periods, slices: TimeSlices,
                     load: FloatArray | None = None) -> tuple[dict[int, FloatArray], dict[int, FloatArray]]:
    """``π_{h,p,s}`` in $, per hardware ``[p, s]``: with spot offers and without them (for classes
    that may not run on spot).  ``inf`` where nothing can serve.

    Without ``load``, the hours-share prices of the module docstring.  With ``load`` ``[p, s]`` (a
    guess at where the GPUs are needed), the **peak-weighted** prices: the firm ``π`` of each
    ``(h, p)`` fills the fixed GPU's ``κ`` greedily, busiest slice first, each slice at most its
    elastic price (module docstring, "Peak-weighted prices"); spot caps a slice's price for classes
    that may run on it."""
    P, S = periods.count, slices.count
    fixed = gpu_period_floor([o for o in offers if o.mode not in ELASTIC_MODES], P)
    elastic_firm: dict[int, FloatArray] = {}
    elastic_spot: dict[int, FloatArray] = {}
    for offer in offers:
        if offer.mode not in ELASTIC_MODES:
            continue
        keep = supply_keep(offer, slices)
        startable = np.array([offer.may_start(p) for p in range(P)])
        with np.errstate(divide="ignore"):
            per_gpu = np.where(startable[:, None] & (keep[None, :] > 0),
                               elastic_cost_usd(offer, slices, periods) / keep[None, :], np.inf)
        target = elastic_spot if offer.mode == "spot" else elastic_firm
        target[offer.hardware] = np.minimum(target.get(offer.hardware, np.full((P, S), np.inf)), per_gpu)
    share = slices.hours / slices.cycle_hours
    with_spot: dict[int, FloatArray] = {}
    firm: dict[int, FloatArray] = {}
    for h in {o.hardware for o in offers}:
        kappa = fixed.get(h, np.full(P, np.inf))
        on_demand = elastic_firm.get(h, np.full((P, S), np.inf))
        if load is None:
            firm[h] = np.minimum(kappa[:, None] * share[None, :], on_demand)
        else:
            firm[h] = _peak_weighted(kappa, on_demand, load)
        with_spot[h] = np.minimum(firm[h], elastic_spot.get(h, np.full((P, S), np.inf)))
    return with_spot, firm


def _peak_weighted(kappa: FloatArray, elastic: FloatArray, load: FloatArray) -> FloatArray:
    """Per period, ``π_s = min(ε_s, κ − Σ_{s' busier} π_{s'})`` over the slices by ``load``, busiest
    first: the best linear lower bound ``Σ_s π_s u_s`` of the peak-shaving cost for a profile
    shaped like ``load`` (a fractional knapsack of the budget ``κ``).  ``κ = inf`` (no fixed
    offer): every slice at its elastic price."""
    out = elastic.copy()
    for p in np.flatnonzero(np.isfinite(kappa)):
        budget = float(kappa[p])
        for s in np.argsort(-load[p], kind="stable"):
            out[p, s] = min(float(elastic[p, s]), budget)
            budget -= out[p, s]
    return out


@dataclass(frozen=True)
class ClassCosts:
    """The bound's terms before they are summed, per variant ``v`` and class ``c``.

    ``items[(v, c)]`` ``[p, k]`` ($): the least cost of serving the part ``volume[c][k]`` of the
    class's queries in period ``p`` on ``v`` — for an interactive class ``k`` is the slice and the
    term ``ℓ_{c,p,s} + ρ_{v,c,p} V_{c,s}``; a deferrable class has one item, its whole-day term plus
    ``ρ_{v,c,p}``.  ``volume[c]`` sums to 1 (a slice's share of the cycle's queries).  Both terms are
    linear in the share served, which is what a bound over several variants splits
    (:mod:`planner.optimize.sliced_pairs`).  ``fixed_usd[v] = F_v + M_v m_PV``.  A pair ``(v, c)``
    missing from ``items`` has no column the market can supply."""

    fixed_usd: dict[int, float]
    items: dict[tuple[int, int], FloatArray]
    volume: list[FloatArray]


def sliced_class_costs(workloads: Sequence[Workload], cs: CandidateSet, columns: Sequence[Column],
                       offers: Sequence[ModeOffer], periods: Periods, demand: Demand, one_time_usd: dict[int, float],
                       slices: TimeSlices, peak_to_average: float) -> tuple[ClassCosts, ClassCosts]:
    """The terms of ``LB_v`` (module docstring) for every variant and class of ``columns``: priced by
    the slices' hours, and peak-weighted on the interactive classes' least GPU occupancy per slice."""
    P, S = periods.count, slices.count
    mean_rps = demand.peak_rps / peak_to_average  # [c, p]
    gpus: list[FloatArray] = []  # t_j a_{j,p,s} per column, the model's own loads
    least: dict[int, FloatArray] = {}  # interactive class -> least occupancy of any column [p, s]
    for col in columns:
        c, w = col.workload, workloads[col.workload]
        served = cs.variants[col.variant].profiles[cs.workloads[c]].served_query_fraction
        gpus.append(col.tp * column_loads(col, w, slices, mean_rps[c], served))
        if w.deadline_hours is None:
            least[c] = np.minimum(least[c], gpus[-1]) if c in least else gpus[-1]
    busy = sum(least.values(), np.zeros((P, S)))
    return tuple(_class_costs(workloads, cs, columns, gpus, slice_gpu_prices(offers, periods, slices, load), periods,
                              demand, one_time_usd, slices) for load in (None, busy))  # type: ignore[return-value]


def _class_costs(workloads: Sequence[Workload], cs: CandidateSet, columns: Sequence[Column], gpus: list[FloatArray],
                 prices: tuple[dict[int, FloatArray], dict[int, FloatArray]], periods: Periods, demand: Demand,
                 one_time_usd: dict[int, float], slices: TimeSlices) -> ClassCosts:
    P, S = periods.count, slices.count
    with_spot, firm = prices
    hours = slices.hours
    gpu_usd: dict[tuple[int, int], FloatArray] = defaultdict(lambda: np.full((P, S), np.inf))  # (v, c) -> [p, s]
    for col, occupied in zip(columns, gpus, strict=True):
        c, w = col.workload, workloads[col.workload]
        price = (with_spot if runs_on_spot(w) else firm).get(col.hardware)
        if price is None:
            continue
        with np.errstate(invalid="ignore"):
            usd = np.where(occupied > 0, price * occupied, 0.0)
        key = (col.variant, c)
        gpu_usd[key] = np.minimum(gpu_usd[key], usd)
    month_pv = float((periods.months * periods.discount_mid).sum())
    volume = [np.ones(1) if w.deadline_hours is not None else slices.volume[c] for c, w in enumerate(workloads)]
    items: dict[tuple[int, int], FloatArray] = {}
    fixed: dict[int, float] = {}
    for v in sorted({col.variant for col in columns}):
        for c, w in enumerate(workloads):
            class_usd = gpu_usd.get((v, c))
            if class_usd is None:
                continue
            profile = cs.variants[v].profiles[cs.workloads[c]]
            traffic = profile.recurring_usd_per_million_queries * demand.queries[c] / 1e6 * periods.discount_mid  # [p]
            if w.deadline_hours is None:
                items[(v, c)] = class_usd + traffic[:, None] * volume[c][None, :]
            else:  # Σ_t w_{c,t} · min_s (cost of the whole rate in s) / H_s, per period
                items[(v, c)] = (slices.weights[c].sum() * (class_usd / hours[None, :]).min(axis=1) + traffic)[:, None]
        fixed[v] = one_time_usd.get(v, 0.0) + cs.variants[v].monthly_fee_usd() * month_pv
    return ClassCosts(fixed_usd=fixed, items=items, volume=volume)


def sliced_lower_bounds(workloads: Sequence[Workload], cs: CandidateSet, columns: Sequence[Column],
                        offers: Sequence[ModeOffer], periods: Periods, demand: Demand, one_time_usd: dict[int, float],
                        slices: TimeSlices, peak_to_average: float) -> dict[int, float]:
    """``LB_v`` (k$) of the module docstring for every variant of ``columns``: its terms summed, the
    larger of the two pricings'."""
    bounds: dict[int, float] = {}
    for costs in sliced_class_costs(workloads, cs, columns, offers, periods, demand, one_time_usd, slices,
                                    peak_to_average):
        for v, fixed in costs.fixed_usd.items():
            terms = [costs.items.get((v, c)) for c in range(len(workloads))]
            total = fixed + sum(float(t.sum()) for t in terms if t is not None)
            bound = total / USD_PER_KUSD if all(t is not None for t in terms) else math.inf
            bounds[v] = max(bounds.get(v, -math.inf), bound)
    return bounds
