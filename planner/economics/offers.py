r"""What one GPU costs in each acquisition mode, over the periods of :mod:`planner.economics.periods`.

Notation (``p``, ``m``, ``H``, ``t_p``, ``δ_p``) as in :mod:`planner.economics.periods`.

* **Cost of one GPU acquired in period p** (present value) and the periods it serves:

  - ``on-demand``: serves ``p`` only; ``price · H · δ_p``.
  - ``reserved-1y``/``reserved-3y``: serves ``L = ⌈term/m⌉`` periods from ``p`` (the part past the
    horizon is paid but serves nothing); ``Σ_{k<L} price_res · H · δ_{p+k}``, with
    ``price_res`` the catalog's reserved price, else ``on-demand · (1 − reserved discount)``.
  - ``buy``: serves from ``p`` until its useful life ends (or the horizon does);
    ``capex·(1+r)^{−t_p} + Σ_served (energy + hosting) · δ_q − residual``, where energy is
    ``board_power · PUE · H · electricity price``, hosting ``board_power · hosting $/kW-month · m``,
    and the residual (straight-line book value when the horizon ends before the useful life) is
    credited at the horizon's end.

Every price and default comes from the catalog or the scenario; ``market.price_scale`` multiplies
all hardware prices (for what-ifs).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import HardwareSpec
from planner.catalog.store import Catalog
from planner.economics.periods import FloatArray, Periods
from planner.scenario.schema import AcquisitionMode, Market
from planner.units import MONTHS_PER_YEAR, WATTS_PER_KW

RESERVED_TERM_MONTHS = {"reserved-1y": 12, "reserved-3y": 36}
#: Offers are built in this order whatever the scenario's order of ``market.modes``.
MODE_ORDER: tuple[AcquisitionMode, ...] = ("on-demand", "reserved-1y", "reserved-3y", "buy")


@dataclass(frozen=True)
class ModeOffer:
    """GPUs of one hardware type acquired in one mode: PV cost if acquired in period p, coverage."""

    hardware: int
    mode: AcquisitionMode
    cost_usd: FloatArray  # [p] present value per GPU acquired in p
    covers: NDArray[np.bool_]  # [p_acquired, q] GPU acquired in p serves period q
    power_kw: float  # board power per GPU (0 when unknown; owned-power cap then cannot count it)
    breakdown: dict[str, FloatArray]  # per component, [p] PV per GPU acquired in p
    source: str
    flow: NDArray[np.float64] | None = None  # [p_acquired, q] nominal USD spent in period q (within the horizon)
    gpus_per_unit: int = 1  # GPUs acquired together (a server, an instance): the optimiser counts units


def _reserved_price(catalog: Catalog, hw: HardwareSpec, mode: str) -> tuple[float, str] | None:
    row = catalog.prices.get((hw.slug, mode))
    if row is not None and row.usd_per_gpu_hour is not None:
        return row.usd_per_gpu_hour, f"{row.provider}: {row.source} ({row.source_date})"
    od = catalog.prices.get((hw.slug, "on-demand"))
    if od is None or od.usd_per_gpu_hour is None:
        return None
    key = "reserved_1y_discount" if mode == "reserved-1y" else "reserved_3y_discount"
    discount = getattr(catalog.defaults, key)
    src = catalog.default_rows[key]
    return (od.usd_per_gpu_hour * (1 - discount),
            f"on-demand {od.usd_per_gpu_hour} x (1 - {discount}) [{src.source}, {src.source_date}]")


def mode_offers(market: Market, catalog: Catalog, hardware: list[HardwareSpec],
                periods: Periods) -> tuple[list[ModeOffer], list[str]]:
    """Every (hardware, mode) that can be acquired, and why the others cannot."""
    offers: list[ModeOffer] = []
    missing: list[str] = []
    n = periods.count
    scale = market.price_scale
    for h, hw in enumerate(hardware):
        for mode in (m for m in MODE_ORDER if m in market.modes):
            if mode == "on-demand":
                row = catalog.prices.get((hw.slug, mode))
                if row is None or row.usd_per_gpu_hour is None:
                    missing.append(f"{hw.slug} {mode}: no price in the catalog")
                    continue
                per_period = row.usd_per_gpu_hour * scale * periods.hours
                rent = per_period * periods.discount_mid
                offers.append(ModeOffer(h, mode, rent, np.eye(n, dtype=bool), 0.0, {"rent": rent},
                                        f"{row.provider}: {row.source} ({row.source_date})",
                                        flow=np.eye(n) * per_period))
            elif mode in RESERVED_TERM_MONTHS:
                found = _reserved_price(catalog, hw, mode)
                if found is None:
                    missing.append(f"{hw.slug} {mode}: no reserved or on-demand price in the catalog")
                    continue
                price, source = found
                term = math.ceil(RESERVED_TERM_MONTHS[mode] / periods.months)
                k = np.arange(term)
                mids = periods.mid_years[:, None] + k[None, :] * periods.months / MONTHS_PER_YEAR
                cost = (price * scale * periods.hours * periods.discount_at(mids)).sum(axis=1)
                covers = np.zeros((n, n), dtype=bool)
                for p in range(n):
                    covers[p, p:min(n, p + term)] = True
                offers.append(ModeOffer(h, mode, cost, covers, 0.0, {"reserved": cost}, source,
                                        flow=covers * (price * scale * periods.hours)))
            else:  # buy
                row = catalog.prices.get((hw.slug, "buy"))
                if row is None or row.usd_per_gpu is None:
                    missing.append(f"{hw.slug} buy: no purchase price in the catalog")
                    continue
                if hw.board_power_w is None:
                    missing.append(f"{hw.slug} buy: no board power in the catalog (energy cannot be priced)")
                    continue
                offers.append(_buy_offer(market, catalog, h, hw, row.usd_per_gpu * scale, periods,
                                         f"{row.provider}: {row.source} ({row.source_date})"))
    units = market.gpus_per_unit
    return [dataclasses.replace(o, gpus_per_unit=units.get(o.mode, 1)) for o in offers], missing


def _buy_offer(market: Market, catalog: Catalog, h: int, hw: HardwareSpec, capex: float, periods: Periods,
               source: str) -> ModeOffer:
    d = catalog.defaults
    m = market
    pue = m.pue if m.pue is not None else d.pue
    kwh_price = m.electricity_usd_per_kwh if m.electricity_usd_per_kwh is not None else d.electricity_usd_per_kwh
    hosting = m.hosting_usd_per_kw_month if m.hosting_usd_per_kw_month is not None else d.hosting_usd_per_kw_month
    power_kw = float(hw.board_power_w or 0.0) / WATTS_PER_KW
    energy_per_period = power_kw * pue * periods.hours * kwh_price
    hosting_per_period = power_kw * hosting * periods.months
    n = periods.count
    life_periods = max(1, math.floor(d.hardware_useful_life_years * MONTHS_PER_YEAR / periods.months))
    covers = np.zeros((n, n), dtype=bool)
    capex_pv = np.zeros(n)
    energy_pv = np.zeros(n)
    hosting_pv = np.zeros(n)
    residual_pv = np.zeros(n)
    horizon_end = periods.end_years[-1]
    for p in range(n):
        served = slice(p, min(n, p + life_periods))
        covers[p, served] = True
        capex_pv[p] = capex * periods.discount_start[p]
        energy_pv[p] = energy_per_period * periods.discount_mid[served].sum()
        hosting_pv[p] = hosting_per_period * periods.discount_mid[served].sum()
        held_years = horizon_end - periods.start_years[p]
        remaining = max(0.0, 1.0 - held_years / d.hardware_useful_life_years)
        residual_pv[p] = capex * remaining * float(periods.discount_at(horizon_end))
    cost = capex_pv + energy_pv + hosting_pv - residual_pv
    flow = covers * (energy_per_period + hosting_per_period) + np.eye(n) * capex
    return ModeOffer(h, "buy", cost, covers, power_kw * pue,
                     {"capex": capex_pv, "energy": energy_pv, "hosting": hosting_pv, "residual": -residual_pv}, source,
                     flow=flow)
