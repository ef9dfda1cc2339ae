r"""Economics over the horizon: periods, demand, discounting, and the cost of a GPU in each mode.

Periods ``p = 0 … P−1`` of ``m = period_months`` months; ``H = m · HOURS_PER_MONTH`` hours each.
Times in years: start ``t_p = p·m/12``, middle ``t_p + m/24``, end ``t_p + m/12``.

* **Demand** of class ``c``: ``q_c · (1+g)^t`` queries/day (``g`` = growth per year, compound).
  Capacity is provisioned for the period's **end** (its highest demand) at peak:
  ``λ_{c,p} = q_c (1+g)^{t_end} · peak_to_average / 86400`` requests/s.  Volume-based costs use
  the period's **middle**: ``Q_{c,p} = q_c (1+g)^{t_mid} · DAYS_PER_MONTH · m`` queries.
* **Discounting** at annual rate ``r``: a flow in the middle of period ``p`` is worth
  ``δ_p = (1+r)^{−t_mid}`` today; capex at the start of ``p`` is worth ``(1+r)^{−t_p}``.
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

from planner.catalog import Catalog
from planner.catalog_schema import AcquisitionMode, HardwareSpec
from planner.schema import Scenario
from planner.units import DAYS_PER_MONTH, HOURS_PER_MONTH, MONTHS_PER_YEAR, SECONDS_PER_DAY, WATTS_PER_KW

RESERVED_TERM_MONTHS = {"reserved-1y": 12, "reserved-3y": 36}
#: Offers are built in this order whatever the scenario's order of ``market.modes``.
MODE_ORDER: tuple[AcquisitionMode, ...] = ("on-demand", "reserved-1y", "reserved-3y", "buy")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Periods:
    count: int
    months: int  # per period
    start_years: FloatArray
    mid_years: FloatArray
    end_years: FloatArray
    discount_mid: FloatArray  # δ_p
    discount_start: FloatArray
    rate_per_year: float

    @property
    def hours(self) -> float:
        return self.months * HOURS_PER_MONTH

    def discount_at(self, years: FloatArray | float) -> FloatArray:
        return np.power(1.0 + self.rate_per_year, -np.asarray(years, dtype=float))


def periods_of(scenario: Scenario) -> Periods:
    h = scenario.horizon
    n = h.months // h.period_months
    start = np.arange(n) * h.period_months / MONTHS_PER_YEAR
    mid = start + h.period_months / (2 * MONTHS_PER_YEAR)
    end = start + h.period_months / MONTHS_PER_YEAR
    r = h.discount_rate_per_year
    return Periods(count=n, months=h.period_months, start_years=start, mid_years=mid, end_years=end,
                   discount_mid=np.power(1 + r, -mid), discount_start=np.power(1 + r, -start), rate_per_year=r)


@dataclass(frozen=True)
class Demand:
    peak_rps: FloatArray  # [class, period] requests/s to provision for
    queries: FloatArray  # [class, period] queries in the period


def demand_of(scenario: Scenario, periods: Periods) -> Demand:
    g = scenario.horizon.growth_per_year
    qpd = np.array([w.queries_per_day for w in scenario.workload])[:, None]
    peak = qpd * np.power(1 + g, periods.end_years)[None, :] * scenario.horizon.peak_to_average / SECONDS_PER_DAY
    queries = qpd * np.power(1 + g, periods.mid_years)[None, :] * DAYS_PER_MONTH * periods.months
    return Demand(peak_rps=peak, queries=queries)


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


def mode_offers(scenario: Scenario, catalog: Catalog, hardware: list[HardwareSpec],
                periods: Periods) -> tuple[list[ModeOffer], list[str]]:
    """Every (hardware, mode) that can be acquired, and why the others cannot."""
    offers: list[ModeOffer] = []
    missing: list[str] = []
    n = periods.count
    scale = scenario.market.price_scale
    for h, hw in enumerate(hardware):
        for mode in (m for m in MODE_ORDER if m in scenario.market.modes):
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
                offers.append(_buy_offer(scenario, catalog, h, hw, row.usd_per_gpu * scale, periods,
                                         f"{row.provider}: {row.source} ({row.source_date})"))
    units = scenario.market.gpus_per_unit
    return [dataclasses.replace(o, gpus_per_unit=units.get(o.mode, 1)) for o in offers], missing


def _buy_offer(scenario: Scenario, catalog: Catalog, h: int, hw: HardwareSpec, capex: float, periods: Periods,
               source: str) -> ModeOffer:
    d = catalog.defaults
    m = scenario.market
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
