r"""Periods, discounting and demand over the horizon.

Periods ``p = 0 … P−1`` of ``m = period_months`` months; ``H = m · HOURS_PER_MONTH`` hours each.
Times in years: start ``t_p = p·m/12``, middle ``t_p + m/24``, end ``t_p + m/12``.

* **Demand** of class ``c``: ``q_c · (1+g)^t`` queries/day (``g`` = growth per year, compound).
  Capacity is provisioned for the period's **end** (its highest demand) at peak:
  ``λ_{c,p} = q_c (1+g)^{t_end} · peak_to_average / 86400`` requests/s.  Volume-based costs use
  the period's **middle**: ``Q_{c,p} = q_c (1+g)^{t_mid} · DAYS_PER_MONTH · m`` queries.
* **Discounting** at annual rate ``r``: a flow in the middle of period ``p`` is worth
  ``δ_p = (1+r)^{−t_mid}`` today; capex at the start of ``p`` is worth ``(1+r)^{−t_p}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.scenario.schema import Horizon, Workload
from planner.units import DAYS_PER_MONTH, HOURS_PER_MONTH, MONTHS_PER_YEAR, SECONDS_PER_DAY

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


def periods_of(h: Horizon) -> Periods:
    """The horizon cut into ``h.months // h.period_months`` periods, with their discount factors."""
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


def demand_of(workloads: Sequence[Workload], horizon: Horizon, periods: Periods) -> Demand:
    """Peak requests/s to provision and queries served, per class and period (the module's formulas)."""
    g = horizon.growth_per_year
    qpd = np.array([w.queries_per_day for w in workloads])[:, None]
    peak = qpd * np.power(1 + g, periods.end_years)[None, :] * horizon.peak_to_average / SECONDS_PER_DAY
    queries = qpd * np.power(1 + g, periods.mid_years)[None, :] * DAYS_PER_MONTH * periods.months
    return Demand(peak_rps=peak, queries=queries)
