r"""What an owned GPU really costs: the all-in capex of a deployable GPU, its running costs, the
capital-recovery annuity, and the spares a fleet carries for failures.

**All-in capex per GPU** (every factor a catalog row with its source):

* card ``C`` — the ``buy`` price row (``includes = "card"``); a row that prices a whole server per
  GPU (``includes = "server"``) already holds the server share;
* server share ``S = C · σ`` — chassis, CPUs, memory, NICs and storage; ``σ`` is the platform row's
  ``server_overhead_fraction``, else the default ``server_overhead_fraction`` (Epoch AI: a server
  costs ×1.64 the chips it holds);
* network share ``N = (C + S) · f / (1 − f)`` — switches, cables and optics when the cluster
  interconnect is a fraction ``f`` of the whole cluster's cost (default ``cluster_network_fraction``,
  Epoch AI: 19 %);
* ``capex = C + S + N`` (≈ 2.0 × the card with the defaults).

**Running costs per period** of ``m`` months (``H`` hours), from the platform row's server power
per GPU ``W = server_power_kw / gpus_per_server`` (the server's share, not the board's):

* energy ``= W · a · PUE · H · $/kWh`` at the average draw ``a`` (``average_power_fraction``);
* colocation ``= W · $/kW-month · m`` on the contracted (maximum) kW;
* operations ``= o · capex · m/12`` (staff, support, software as a share ``o`` of capex per year).

**Annuity** (capital recovery, as capacity-expansion models price capital): a GPU that serves
``L`` periods from its service start pays ``A`` in the middle of each, with
``Σ_{k<L} A · (1+r)^{−(k·m/12 + m/24)} = capex`` — the annuity's present value at the service
start *is* the capex.  With ``r = 0``, ``A = capex / L``.

**Spares**: a fleet whose GPUs fail ``φ`` times per GPU-year and stay out ``d`` days each has an
expected share ``u = φ · d / 365.25`` out of service.  By default (``market.spares = "expected"``) an
owned GPU counts as one GPU in the supply rows and is charged ``1/(1 − u)`` of itself, the spare share
priced as a pool shared with other fleets would; with ``"whole"`` it counts as ``1 − u`` GPUs (the
spares are paid for, not served by), so the fleet holds whole spare GPUs.  Rented GPUs carry no spares:
the provider replaces them and prices that in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.catalog.schema import HardwareSpec, PriceRow
from planner.catalog.store import Catalog
from planner.economics.periods import Periods
from planner.scenario.schema import Market
from planner.units import DAYS_PER_YEAR, MONTHS_PER_YEAR, WATTS_PER_KW


@dataclass(frozen=True)
class OwnershipTerms:
    """The market's ownership terms, each resolved from the scenario or the catalog default."""

    pue: float
    electricity_usd_per_kwh: float
    hosting_usd_per_kw_month: float
    useful_life_years: float
    resale_fraction: float
    operations_fraction_per_year: float
    annual_failure_rate: float
    repair_days: float

    @property
    def availability(self) -> float:
        """Share of an owned fleet in service: ``1 − φ·d/365.25`` (``DAYS_PER_YEAR``)."""
        return 1.0 - self.annual_failure_rate * self.repair_days / DAYS_PER_YEAR


def ownership_terms(market: Market, catalog: Catalog) -> OwnershipTerms:
    d = catalog.defaults

    def pick(value: float | None, default: float) -> float:
        return float(value) if value is not None else float(default)

    return OwnershipTerms(
        pue=pick(market.pue, d.pue),
        electricity_usd_per_kwh=pick(market.electricity_usd_per_kwh, d.electricity_usd_per_kwh),
        hosting_usd_per_kw_month=pick(market.hosting_usd_per_kw_month, d.hosting_usd_per_kw_month),
        useful_life_years=pick(market.useful_life_years, d.hardware_useful_life_years),
        resale_fraction=pick(market.resale_fraction, d.resale_fraction),
        operations_fraction_per_year=pick(market.operations_fraction_per_year, d.operations_fraction_per_year),
        annual_failure_rate=pick(market.annual_failure_rate, d.annual_failure_rate),
        repair_days=pick(market.repair_days, d.repair_days),
    )


@dataclass(frozen=True)
class OwnedGpu:
    """The all-in capex of one deployable GPU by component (USD) and the power it is charged on."""

    card_usd: float
    server_usd: float
    network_usd: float
    server_power_w: float  # contracted: the server's maximum power / its GPUs
    gpus_per_server: int
    platform: str

    @property
    def capex_usd(self) -> float:
        return self.card_usd + self.server_usd + self.network_usd

    def parts(self) -> dict[str, float]:
        """Capex by component, the keys of the plan's cost breakdown."""
        return {"capex": self.card_usd, "server": self.server_usd, "network": self.network_usd}


def owned_gpu(hw: HardwareSpec, row: PriceRow, catalog: Catalog, price_scale: float = 1.0) -> OwnedGpu | str:
    """The all-in cost of one owned ``hw`` priced by ``row`` (a ``buy`` row), or why it cannot be owned."""
    platform = catalog.platforms.get(hw.slug)
    if platform is None:
        return f"{hw.slug} buy: no platform row in the catalog (server power and GPUs per server unknown)"
    d = catalog.defaults
    card = float(row.usd_per_gpu or 0.0) * price_scale
    overhead = platform.server_overhead_fraction if platform.server_overhead_fraction is not None \
        else d.server_overhead_fraction
    server = 0.0 if row.includes == "server" else card * overhead
    network = (card + server) * d.cluster_network_fraction / (1.0 - d.cluster_network_fraction)
    return OwnedGpu(card_usd=card, server_usd=server, network_usd=network,
                    server_power_w=platform.server_power_kw * WATTS_PER_KW / platform.gpus_per_server,
                    gpus_per_server=platform.gpus_per_server, platform=platform.name)


def running_costs(gpu: OwnedGpu, terms: OwnershipTerms, catalog: Catalog, periods: Periods) -> dict[str, float]:
    """Energy, colocation and operations of one owned GPU per period (nominal USD)."""
    kw = gpu.server_power_w / WATTS_PER_KW
    return {
        "energy": kw * catalog.defaults.average_power_fraction * terms.pue * periods.hours
        * terms.electricity_usd_per_kwh,
        "hosting": kw * terms.hosting_usd_per_kw_month * periods.months,
        "operations": terms.operations_fraction_per_year * gpu.capex_usd * periods.months / MONTHS_PER_YEAR,
    }


def life_periods(useful_life_years: float, periods: Periods) -> int:
    """Whole periods an owned GPU serves: ``⌊life·12 / m⌋`` (at least one)."""
    return max(1, int(np.floor(useful_life_years * MONTHS_PER_YEAR / periods.months + 1e-9)))


def annuity_per_period(capex_usd: float, life: int, periods: Periods) -> float:
    """``A`` with ``Σ_{k<L} A·(1+r)^{−(k·m/12 + m/24)} = capex`` (module docstring)."""
    offsets = (np.arange(life, dtype=float) * periods.months + periods.months / 2) / MONTHS_PER_YEAR
    return capex_usd / float(periods.discount_at(offsets).sum())
