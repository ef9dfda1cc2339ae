"""Which price row an offer uses: providers, their own reserved rates, and derived discounts.

* Rented modes (``on-demand``, ``reserved-1y``, ``reserved-3y``) take rows only from
  ``market.providers`` (every provider when omitted).  Owned hardware (``buy``) is priced from
  any ``buy`` row: vendors and resellers are not cloud providers.
* A reserved price is the provider's own published row where it exists.  Otherwise it is
  *derived*: the provider's on-demand price × (1 − the commitment discount published by the same
  kind of provider — ``reserved_*_discount_hyperscaler`` or ``reserved_*_discount_neocloud``), and
  its source says so.
* Among the allowed providers the cheapest price is offered (ties: provider id).  Without
  per-provider quotas a dearer row of the same hardware and mode could never be chosen, so
  offering only the cheapest removes no optimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from planner.catalog.schema import PriceRow
from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.scenario.schema import Market

RENTED_MODES = ("on-demand", "spot", "reserved-1y", "reserved-3y")


@dataclass(frozen=True)
class RentalPrice:
    usd_per_gpu_hour: float
    provider: str
    source: str
    derived: bool = False


#: How a derived price's source begins (no published price of the mode: a discount on an on-demand row).
DERIVED_PREFIX = "derived: "

def _row_source(row: PriceRow) -> str:
    region = f", {row.region}" if row.region else ""
    return f"{row.provider}{region}: {row.source} ({row.source_date})"


def rental_price(catalog: Catalog, hardware: str, mode: str, providers: list[str] | None,
                 spot_discount: float | None = None,
                 reserved_discount: Mapping[Literal["reserved-1y", "reserved-3y"], float] | None = None
                 ) -> RentalPrice | None:
    """The cheapest published or derived price of (hardware, rented mode) among ``providers``.

    ``spot``: the provider's own spot row where it publishes one, else its on-demand price ×
    (1 − ``spot_discount``) (``market.spot_discount``, default the catalog's ``spot_discount``).
    ``reserved-1y``/``-3y``: the provider's own reserved row, else its on-demand price × (1 − d), ``d``
    = ``reserved_discount[mode]`` (``market.reserved_discount``) or the catalog's
    ``reserved_<term>_discount_<provider kind>``.  Vendors (a buy price; an hourly row of an overlay
    at most) run no spot market and sell no commitments: neither is derived from their rows."""
    found = [RentalPrice(float(r.usd_per_gpu_hour or 0.0), r.provider, _row_source(r))
             for r in catalog.price_rows(hardware, mode, providers)]
    if mode == "spot":
        published = {p.provider for p in found}
        discount = catalog.defaults.spot_discount if spot_discount is None else spot_discount
        src = catalog.default_rows["spot_discount"]
        given = "market.spot_discount" if spot_discount is not None else f"spot_discount: {src.source}, {src.source_date}"
        for od in catalog.price_rows(hardware, "on-demand", providers):
            if od.provider not in published and od.provider_kind != "vendor":
                found.append(RentalPrice(
                    float(od.usd_per_gpu_hour or 0.0) * (1.0 - discount), od.provider,
                    f"{DERIVED_PREFIX}{od.provider} on-demand {od.usd_per_gpu_hour} x (1 - {discount:g}) [{given}]; "
                    f"on-demand from {_row_source(od)}", derived=True))
    elif mode != "on-demand":
        published = {p.provider for p in found}
        term = "1y" if mode == "reserved-1y" else "3y"
        given_discount = {str(k): float(v) for k, v in (reserved_discount or {}).items()}
        for od in catalog.price_rows(hardware, "on-demand", providers):
            if od.provider in published or od.provider_kind == "vendor":
                continue
            key = f"reserved_{term}_discount_{od.provider_kind}"
            if mode in given_discount:
                discount, why = given_discount[mode], f"market.reserved_discount.{mode}"
            else:
                src = catalog.default_rows[key]
                discount, why = float(getattr(catalog.defaults, key)), f"{key}: {src.source}, {src.source_date}"
            found.append(RentalPrice(
                float(od.usd_per_gpu_hour or 0.0) * (1.0 - discount), od.provider,
                f"{DERIVED_PREFIX}{od.provider} on-demand {od.usd_per_gpu_hour} x (1 - {discount}) [{why}]; "
                f"on-demand from {_row_source(od)}", derived=True))
    return min(found, key=lambda p: (p.usd_per_gpu_hour, p.provider)) if found else None


def check_providers(market: Market, catalog: Catalog) -> None:
    """``market.providers`` names known providers, and each listed hardware has a rental price from
    them when a rented mode is allowed."""
    if market.providers is None:
        return
    known = catalog.rental_providers
    for i, provider in enumerate(market.providers):
        if provider not in known:
            raise ScenarioError(f"unknown provider '{provider}'; known: {known}", f"market.providers[{i}]")
    rented = [m for m in market.modes if m in RENTED_MODES]
    if not rented or market.hardware is None:
        return
    for i, slug in enumerate(market.hardware):
        if not any(rental_price(catalog, slug, mode, market.providers) for mode in rented):
            raise ScenarioError(f"no {' or '.join(rented)} price for '{slug}' from {market.providers}",
                                f"market.hardware[{i}]")
