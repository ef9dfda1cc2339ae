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
* ``reserved-1y``/``reserved-3y``: serves ``L = ⌈term/m⌉`` periods from ``p``;
  ``annuity``: ``Σ_{q ∈ [p, p+L) ∩ horizon} price · H · δ_q`` — a reservation pays its rate for the
  periods inside the horizon, as a rental does; ``salvage``: every period of the term, also past
  the horizon (a commitment is paid in full).
* ``buy``: serves ``L = ⌊life·12/m⌋`` periods from ``p`` (those inside the horizon count);
  ``annuity``: ``Σ_{served q} (A + R) · δ_q`` — the capital is charged only for the periods it
  serves inside the horizon, so buying late is not cheaper than it is; ``salvage``:
  ``capex·(1+r)^{−t_p} + Σ_{served q} R · δ_q − resale · book · (1+r)^{−T}``, with ``book`` the
  straight-line book value at the horizon's end ``T`` and ``resale`` = ``market.resale_fraction``.

**When each dollar falls** (``flow``, ``flow_pv``, ``settlement_pv``, the basis of a plan's spend by
period): a charge inside the horizon belongs to the period it is paid in — capex at the period's start
(discounted by ``(1+r)^{−t_p}``), everything else mid-period (``δ_q``); what is settled at the horizon's
end, the resale credit and a ``salvage`` reservation's months past the horizon, is kept apart, so
``Σ_q flow_pv[p, q] + settlement_pv[p] = cost(p)`` exactly and no period's spend carries the horizon's
end (a resale credit booked in the last period made its spend negative).

Owned GPUs count ``1 − u`` each in the supply rows (spares, see ``ownership``); rented ones count 1.
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
    preemption_per_hour: float = 0.0  # spot: probability a GPU is reclaimed within an hour
    restart_usd: float = 0.0  # spot: nominal cost of replacing one reclaimed GPU (restart hours x on-demand price)
    min_billed_hours: float = 0.0  # on-demand, spot: hours billed at least each time a GPU is started

    def may_start(self, p: int) -> bool:
        return bool(self.available[p]) if self.available.size else True


def lead_periods(market: Market, catalog: Catalog, mode: str, periods: Periods) -> int:
    """First period a GPU of ``mode`` can serve: ``⌈lead_time_months / m⌉``."""
    months = market.lead_time_months.get(mode)  # type: ignore[call-overload]
    if months is None:
        months = catalog.defaults.lead_time_months_buy if mode == "buy" else 0
    return math.ceil(months / periods.months)


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
    covers = (np.eye(n, dtype=bool) if mode in ("on-demand", "spot")
              else _covering(n, math.ceil(RESERVED_TERM_MONTHS[mode] / periods.months)))
    flow: FloatArray = np.where(covers, per_period, 0.0)
    flow_pv: FloatArray = flow * periods.discount_mid[None, :]
    committed = terminal_value == "salvage" and mode in RESERVED_TERM_MONTHS
    past = _past_horizon(mode, per_period, periods) if committed else np.zeros(n)
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
        offer = dataclasses.replace(offer, preemption_per_hour=preemption, restart_usd=restart)
    return offer


def _past_horizon(mode: AcquisitionMode, per_period: float, periods: Periods) -> FloatArray:
    """[p] PV of a reservation's periods past the horizon when it starts in ``p`` (``salvage``: a
    commitment is paid in full), each discounted at its own mid-period as the periods inside are."""
    term = math.ceil(RESERVED_TERM_MONTHS[mode] / periods.months)
    k = np.arange(term)
    mids = periods.mid_years[:, None] + k[None, :] * periods.months / MONTHS_PER_YEAR
    outside = (np.arange(periods.count)[:, None] + k[None, :]) >= periods.count
    return (per_period * periods.discount_at(mids) * outside).sum(axis=1)


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
    if terminal_value == "annuity":
        annuity = annuity_per_period(capex, life, periods)
        for part, usd in gpu.parts().items():
            breakdown[part] = served @ (annuity * usd / capex * periods.discount_mid)
        breakdown["residual"] = np.zeros(n)
        flow = flow + served * annuity
        flow_pv = flow_pv + served * (annuity * periods.discount_mid)[None, :]
    else:
        horizon_end = periods.end_years[-1]
        held = horizon_end - periods.start_years
        book = np.maximum(0.0, 1.0 - held / terms.useful_life_years)
        for part, usd in gpu.parts().items():
            breakdown[part] = usd * periods.discount_start
        resale = terms.resale_fraction * capex * book
        breakdown["residual"] = -resale * float(periods.discount_at(horizon_end))
        flow = flow + np.eye(n) * capex
        flow_pv = flow_pv + np.diag(capex * periods.discount_start)
    cost = sum(breakdown.values())
    source = (f"{row.provider}: {row.source} ({row.source_date}); {gpu.platform}: server "
              f"{gpu.server_usd:,.0f} + network {gpu.network_usd:,.0f} on a card of {gpu.card_usd:,.0f} USD")
    return ModeOffer(h, "buy", np.asarray(cost, dtype=float), covers,
                     gpu.server_power_w / WATTS_PER_KW * terms.pue, breakdown, source, flow=flow, flow_pv=flow_pv,
                     settlement_pv=breakdown["residual"],
                     gpus_per_unit=gpu.gpus_per_server, provider=row.provider, supply_factor=terms.availability)
