r"""What one GPU costs in each acquisition mode, over the periods of :mod:`planner.economics.periods`.

Notation (``p``, ``m``, ``H``, ``t_p``, ``δ_p``) as in :mod:`planner.economics.periods`; the owned
GPU's all-in capex, running costs ``R`` per period and annuity ``A`` as in
:mod:`planner.economics.ownership`; prices and providers as in :mod:`planner.economics.providers`.

An offer's GPUs are indexed by the period ``p`` they **enter service**.  A mode with a lead time of
``ℓ`` months (``market.lead_time_months``, default from the catalog for ``buy``) cannot enter
service before period ``⌈ℓ/m⌉``: what is needed earlier must come from another mode.  Capex is
paid when the hardware enters service.

**Cost of one GPU entering service in period p** (present value) and the periods it serves, by
``horizon.terminal_value``:

* ``on-demand``: serves ``p`` only; ``price · H · δ_p`` (both conventions).
* ``spot``: as on-demand at the spot price, with a preemption probability per hour and a restart
  cost per reclaimed GPU (priced per time slice by :mod:`planner.optimize.milp_slices`).
* ``reserved-1y``/``reserved-3y`` (term ``T`` months): serves the ``L = max(1, ⌊T/m⌋)`` whole
  periods from ``p`` that its terms cover, ``k = ⌈L·m/T⌉`` terms back to back, paid for
  ``k·T ≥ L·m`` months (``reservation_schedule``; ``k·T = L·m`` when ``m`` divides ``T`` or ``T``
  divides ``m``).  Where a term ends inside a period (``m`` = 5, 7, 8, 9, 10 for a 1-year term;
  24 for a 3-year one) the ``k·T − L·m`` months left over serve no whole period: they are paid and
  unused (a period is served whole or not at all), the safe side of the two roundings — until the
  nineteenth session a term served ``⌈T/m⌉`` periods, so a 1-year reservation in 5-month periods
  served 15 months for the price of those 15 months at the reserved rate.
  ``annuity``: ``Σ_{q ∈ [p, p+L) ∩ horizon} price · H · δ_q · k·T/(L·m)`` — a reservation pays its
  rate for the periods inside the horizon, as a rental does, with the months it cannot use spread over
  the periods it serves; ``salvage``: every month paid, also past the horizon (a commitment is paid in
  full): the periods served at their mid-points, the unused months at theirs, in the period they fall
  in or past the horizon.
* ``buy``: serves ``L = ⌊life·12/m⌋`` whole periods from ``p`` (those inside the horizon count)
  and is then retired; where ``m`` does not divide the life (7-month periods and a 5-year life:
  8 periods, 56 months) it is sold at retirement for ``resale · capex · b_L`` with
  ``b_L = 1 − L·m/(12·life)`` its straight-line book value then and ``resale`` =
  ``market.resale_fraction`` (``b_L = 0`` when ``m`` divides the life; until the nineteenth session
  nothing was credited, so 7-month periods charged the capital over 56 months, 5.6 % more per month).
  ``annuity``: ``Σ_{served q} (A − A_b + R) · δ_q`` with ``A_b`` the annuity of the retirement
  credit's present value at the service start — the capital is charged only for the periods it
  serves inside the horizon, so buying late is not cheaper than it is; ``salvage``:
  ``capex·(1+r)^{−t_p} + Σ_{served q} R · δ_q − resale · capex · book · (1+r)^{−t}``, with ``book``
  and ``t`` the straight-line book value and the time at its retirement or at the horizon's end,
  whichever comes first.

**When each dollar falls** (``flow``, ``flow_pv``, ``settlement_pv``, the basis of a plan's spend by
period): a charge inside the horizon belongs to the period it is paid in — capex at the period's start
(discounted by ``(1+r)^{−t_p}``), everything else mid-period (``δ_q``); what is settled at the horizon's
end, the resale credit and a ``salvage`` reservation's months past the horizon, is kept apart, so
``Σ_q flow_pv[p, q] + settlement_pv[p] = cost(p)`` exactly and no period's spend carries the horizon's
end (a resale credit booked in the last period made its spend negative).

Owned GPUs count 1 each in the supply rows and every charge of the offer is ``1/(1 − u)`` higher (spares,
see ``ownership``: ``market.spares = "expected"``, the default since 2026-12-08), the spare share paid for
as a pool shared with other fleets would charge it; with ``"whole"`` they count ``1 − u`` each, so the
model holds whole spare GPUs (the conservative posture: no capacity lost while a GPU is out).  Rented
ones count 1.
``market.price_scale`` multiplies every hardware price (for what-ifs).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec
from planner.catalog.store import Catalog
from planner.economics.ownership import (
    OwnershipTerms,
    annuity_per_period,
    life_periods,
    owned_gpu,
    ownership_terms,
    running_costs,
)
from planner.economics.periods import FloatArray, Periods
from planner.economics.providers import rental_price
from planner.scenario.schema import AcquisitionMode, Market, TerminalValue
from planner.units import MONTHS_PER_YEAR, WATTS_PER_KW

RESERVED_TERM_MONTHS = {"reserved-1y": 12, "reserved-3y": 36}
#: Offers are built in this order whatever the scenario's order of ``market.modes``.
MODE_ORDER: tuple[AcquisitionMode, ...] = ("on-demand", "spot", "reserved-1y", "reserved-3y", "buy")


@dataclass(frozen=True)
class ModeOffer:
    """GPUs of one hardware type acquired in one mode: PV cost if entering service in p, coverage."""

    hardware: int
    mode: AcquisitionMode
    cost_usd: FloatArray  # [p] present value per GPU entering service in p
    covers: NDArray[np.bool_]  # [p_start, q] GPU entering service in p serves period q
    power_kw: float  # facility kW per owned GPU (server share x PUE; 0 for rented GPUs)
    breakdown: dict[str, FloatArray]  # per component, [p] PV per GPU entering service in p
    source: str
    flow: NDArray[np.float64] | None = None  # [p_start, q] nominal USD charged in period q (within the horizon)
    #: [p_start, q] the same charges in present value, each discounted from the date it is paid (capex at
    #: its period's start, running charges mid-period); with ``settlement_pv`` each row sums to ``cost_usd``.
    flow_pv: NDArray[np.float64] | None = None
    #: [p_start] PV settled at the horizon's end: under ``salvage`` the resale credit (negative) and the
    #: reservation months past the horizon; zero under ``annuity``.
    settlement_pv: NDArray[np.float64] | None = None
    gpus_per_unit: int = 1  # GPUs acquired together (a server, an instance): the optimiser counts units
    provider: str = ""
    available: NDArray[np.bool_] = field(default_factory=lambda: np.ones(0, dtype=bool))  # [p] may enter service
    supply_factor: float = 1.0  # GPUs in service per GPU paid for (spares)
    #: owned: ``u``, the share of the fleet expected out for repair, in either ``market.spares`` convention
    repair_share: float = 0.0
    preemption_per_hour: float = 0.0  # spot: probability a GPU is reclaimed within an hour
    restart_usd: float = 0.0  # spot: nominal cost of replacing one reclaimed GPU (restart hours x on-demand price)
    #: spot: reclaims priced at their expectation (market.spot_reclaims = "expected": a GPU counts 1 in the
    #: supply rows and costs 1/κ of itself) rather than covered by whole GPUs (it counts κ)
    expected_reclaims: bool = False
    min_billed_hours: float = 0.0  # on-demand, spot: hours billed at least each time a GPU is started

    def may_start(self, p: int) -> bool:
        return bool(self.available[p]) if self.available.size else True


def lead_periods(market: Market, catalog: Catalog, mode: str, periods: Periods) -> int:
    """First period a GPU of ``mode`` can serve: ``⌈lead_time_months / m⌉``."""
    months = market.lead_time_months.get(mode)  # type: ignore[call-overload]
    if months is None:
        months = catalog.defaults.lead_time_months_buy if mode == "buy" else 0
    return math.ceil(months / periods.months)


def reservation_schedule(term_months: int, period_months: int) -> tuple[int, int]:
    """``(L, k·T)``: the whole periods a reservation of ``term_months`` made at a period's start serves
    and the months it pays for (module docstring): ``L = max(1, ⌊T/m⌋)``, ``k = ⌈L·m/T⌉`` terms."""
    served = max(1, term_months // period_months)
    return served, -(-served * period_months // term_months) * term_months


def _covering(n: int, length: int) -> NDArray[np.bool_]:
    covers = np.zeros((n, n), dtype=bool)
    for p in range(n):
        covers[p, p:min(n, p + length)] = True
    return covers


def mode_offers(market: Market, terminal_value: TerminalValue, catalog: Catalog, hardware: list[HardwareSpec],
                periods: Periods) -> tuple[list[ModeOffer], list[str]]:
    """Every (hardware, mode) that can be acquired, and why the others cannot."""
    offers: list[ModeOffer] = []
    missing: list[str] = []
    terms = ownership_terms(market, catalog)
    for h, hw in enumerate(hardware):
        for mode in (m for m in MODE_ORDER if m in market.modes):
            offer = (_buy_offer(market, terms, terminal_value, catalog, h, hw, periods) if mode == "buy"
                     else _rental_offer(market, terminal_value, catalog, h, hw, mode, periods))
            if isinstance(offer, str):
                missing.append(offer)
                continue
            available = np.arange(periods.count) >= lead_periods(market, catalog, mode, periods)
            offers.append(dataclasses.replace(offer, available=available))
    return [dataclasses.replace(o, gpus_per_unit=market.gpus_per_unit.get(o.mode, o.gpus_per_unit)) for o in offers], \
        missing


def _rental_offer(market: Market, terminal_value: TerminalValue, catalog: Catalog, h: int, hw: HardwareSpec,
                  mode: AcquisitionMode, periods: Periods) -> ModeOffer | str:
    """An on-demand, spot or reserved offer (module docstring), or why there is none."""
    price = rental_price(catalog, hw.slug, mode, market.providers, market.spot_discount, market.reserved_discount)
    if price is None:
        return f"{hw.slug} {mode}: no price in the catalog" + (f" from {market.providers}" if market.providers else "")
    n = periods.count
    per_period = price.usd_per_gpu_hour * market.price_scale * periods.hours
    if mode in RESERVED_TERM_MONTHS:
        covers, flow, flow_pv, past = _reservation_charges(RESERVED_TERM_MONTHS[mode], per_period, terminal_value,
                                                           periods)
    else:
        covers = np.eye(n, dtype=bool)
        flow = np.where(covers, per_period, 0.0)
        flow_pv, past = flow * periods.discount_mid[None, :], np.zeros(n)
    cost = flow_pv.sum(axis=1) + past
    part = "reserved" if mode.startswith("reserved") else "rent"
    offer = ModeOffer(h, mode, cost, covers, 0.0, {part: cost}, price.source, flow=flow, flow_pv=flow_pv,
                      settlement_pv=past, provider=price.provider)
    if mode in ("on-demand", "spot"):
        offer = dataclasses.replace(offer, min_billed_hours=(
            catalog.defaults.elastic_min_billed_hours if market.elastic_min_billed_hours is None
            else market.elastic_min_billed_hours))
    if mode == "spot":
        preemption, restart = _spot_terms(market, catalog, hw, price.usd_per_gpu_hour)
        offer = dataclasses.replace(offer, preemption_per_hour=preemption, restart_usd=restart,
                                    expected_reclaims=market.spot_reclaims == "expected")
    return offer


def _reservation_charges(term_months: int, per_period: float, terminal_value: TerminalValue, periods: Periods
                         ) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
    """``covers``, ``flow``, ``flow_pv`` and ``settlement_pv`` of a reservation (module docstring):
    ``annuity`` spreads the months paid over the periods served inside the horizon; ``salvage`` pays
    every month, each discounted at its own mid-point, past the horizon as a settlement."""
    n, m = periods.count, periods.months
    served, paid = reservation_schedule(term_months, m)
    covers = _covering(n, served)
    if terminal_value == "annuity":
        flow: FloatArray = np.where(covers, per_period * paid / (served * m), 0.0)
        return covers, flow, flow * periods.discount_mid[None, :], np.zeros(n)
    flow = np.where(covers, per_period, 0.0)
    flow_pv: FloatArray = flow * periods.discount_mid[None, :]
    k = np.arange(served)
    mids = periods.mid_years[:, None] + k[None, :] * m / MONTHS_PER_YEAR
    outside = (np.arange(n)[:, None] + k[None, :]) >= n
    past: FloatArray = (per_period * periods.discount_at(mids) * outside).sum(axis=1)
    unused_months = paid - served * m
    if unused_months:
        usd = per_period * unused_months / m
        pv = usd * periods.discount_at(periods.start_years + (served * m + unused_months / 2) / MONTHS_PER_YEAR)
        for p in range(n):
            if p + served < n:  # the unused months fall in the period after those served
                flow[p, p + served] += usd
                flow_pv[p, p + served] += pv[p]
            else:
                past[p] += pv[p]
    return covers, flow, flow_pv, past


def _spot_terms(market: Market, catalog: Catalog, hw: HardwareSpec,
                spot_usd_per_gpu_hour: float) -> tuple[float, float]:
    """Spot's preemption probability per hour and the nominal cost of replacing one reclaimed GPU:
    ``spot_restart_hours`` at the cheapest on-demand price of the allowed providers (the replacement
    is not itself at risk), or, where none of them rents the hardware on demand, at the spot price
    itself (the replacement is then spot too; until 2026-12-07 the restart was free there)."""
    d = catalog.defaults
    od = rental_price(catalog, hw.slug, "on-demand", market.providers)
    hours = d.spot_restart_hours if market.spot_restart_hours is None else market.spot_restart_hours
    preemption = d.spot_preemption_per_hour if market.spot_preemption_per_hour is None else market.spot_preemption_per_hour
    usd_per_hour = od.usd_per_gpu_hour if od is not None else spot_usd_per_gpu_hour
    return preemption, hours * usd_per_hour * market.price_scale


def _buy_offer(market: Market, terms: OwnershipTerms, terminal_value: TerminalValue, catalog: Catalog, h: int,
               hw: HardwareSpec, periods: Periods) -> ModeOffer | str:
    row = catalog.price(hw.slug, "buy")
    if row is None:
        return f"{hw.slug} buy: no purchase price in the catalog"
    gpu = owned_gpu(hw, row, catalog, market.price_scale)
    if isinstance(gpu, str):
        return gpu
    n = periods.count
    life = life_periods(terms.useful_life_years, periods)
    covers = _covering(n, life)
    served = covers.astype(float)
    running = running_costs(gpu, terms, catalog, periods)
    breakdown: dict[str, FloatArray] = {k: served @ (v * periods.discount_mid) for k, v in running.items()}
    flow = served * sum(running.values())
    flow_pv = flow * periods.discount_mid[None, :]
    capex = gpu.capex_usd
    retired_years = life * periods.months / MONTHS_PER_YEAR  # after the service start
    retired_book = max(0.0, 1.0 - retired_years / terms.useful_life_years)  # > 0 where m does not divide the life
    settlement = np.zeros(n)
    if terminal_value == "annuity":
        annuity = annuity_per_period(capex, life, periods)
        credit = annuity_per_period(terms.resale_fraction * capex * retired_book
                                    * float(periods.discount_at(retired_years)), life, periods)
        for part, usd in gpu.parts().items():
            breakdown[part] = served @ (annuity * usd / capex * periods.discount_mid)
        breakdown["residual"] = 0.0 - served @ (credit * periods.discount_mid)  # 0.0, not -0.0, where b_L = 0
        flow = flow + served * (annuity - credit)
        flow_pv = flow_pv + served * ((annuity - credit) * periods.discount_mid)[None, :]
    else:
        for part, usd in gpu.parts().items():
            breakdown[part] = usd * periods.discount_start
        flow = flow + np.eye(n) * capex
        flow_pv = flow_pv + np.diag(capex * periods.discount_start)
        breakdown["residual"], settlement = _resale(capex * terms.resale_fraction, terms.useful_life_years, life,
                                                    periods, flow, flow_pv)
    whole_spares = market.spares == "whole"
    if not whole_spares:  # "expected": the spare share paid for, every GPU counted in service
        breakdown = {part: usd / terms.availability for part, usd in breakdown.items()}
        flow, flow_pv, settlement = (x / terms.availability for x in (flow, flow_pv, settlement))
    cost = sum(breakdown.values())
    source = (f"{row.provider}: {row.source} ({row.source_date}); {gpu.platform}: server "
              f"{gpu.server_usd:,.0f} + network {gpu.network_usd:,.0f} on a card of {gpu.card_usd:,.0f} USD")
    return ModeOffer(h, "buy", np.asarray(cost, dtype=float), covers,
                     gpu.server_power_w / WATTS_PER_KW * terms.pue, breakdown, source, flow=flow, flow_pv=flow_pv,
                     settlement_pv=settlement,
                     gpus_per_unit=gpu.gpus_per_server, provider=row.provider,
                     supply_factor=terms.availability if whole_spares else 1.0,
                     repair_share=1.0 - terms.availability)


def _resale(resale_usd: float, life_years: float, life: int, periods: Periods, flow: FloatArray,
            flow_pv: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``salvage``: per service start ``p``, the PV of selling the GPU for ``resale_usd`` × its
    straight-line book value when it is retired after ``life`` periods or at the horizon's end,
    whichever comes first (negative: a credit), and the part of it settled at the horizon's end.  A
    retirement inside the horizon is booked (nominal and PV) at the end of the last period served, in
    ``flow`` and ``flow_pv``, which are updated in place."""
    n = periods.count
    credit_pv, settlement = np.zeros(n), np.zeros(n)
    for p in range(n):
        last = min(n, p + life) - 1  # the last period served inside the horizon
        when = float(periods.end_years[last])
        usd = resale_usd * max(0.0, 1.0 - (when - float(periods.start_years[p])) / life_years)
        credit_pv[p] = 0.0 - usd * float(periods.discount_at(when))  # 0.0, not -0.0, where nothing is sold
        if p + life < n:  # retired inside the horizon
            flow[p, last] -= usd
            flow_pv[p, last] += credit_pv[p]
        else:
            settlement[p] = credit_pv[p]
    return credit_pv, settlement
