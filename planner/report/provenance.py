"""Where a report's numbers came from: the inputs and assumptions with their sources, the price of
every (hardware, mode, provider) the fleet uses with its provider and date, the tool version and a
catalog version.

Decisions:

* A scenario value is ``scenario`` when the file (or ``--set``) gave it, ``default (scenario
  schema)`` when the field was left out; an economics value the scenario left out is the catalog
  default and carries that row's source and date.
* The catalog has no release number: its version is a content fingerprint (SHA-256 of the shipped
  files and overlays, in load order, first 12 hex digits) plus the newest price date — two reports
  with the same version were computed from the same rows.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel

from planner.catalog.store import Catalog, shipped_catalog_files
from planner.economics.ownership import owned_gpu, ownership_terms
from planner.economics.providers import rental_price
from planner.plan_model import Plan
from planner.report.model import Assumption, PriceUsed
from planner.scenario.schema import Market, Scenario

#: Characters of the SHA-256 content fingerprint shown as the catalog version.
FINGERPRINT_CHARS = 12
SCENARIO = "scenario"
SCHEMA_DEFAULT = "default (scenario schema)"
_SPOT_RECLAIMS = {"expected": "priced at 1/keep probability, no whole GPU held for reclaims",
                  "whole": "whole spot GPUs held to cover the expected reclaims"}
_SPARES = {"expected": "the share out for repair charged (1/(1 - u) on every owned GPU), no whole spare GPU held",
           "whole": "whole spare GPUs held, counted in the fleet"}


def tool_version() -> str:
    try:
        return metadata.version("whatif-planner")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def catalog_version(catalog: Catalog) -> str:
    digest = hashlib.sha256()
    for path in [*shipped_catalog_files(), *(Path(p) for p in catalog.overlays)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    newest = max((row.source_date for row in catalog.prices.values()), default="-")
    return f"sha256:{digest.hexdigest()[:FINGERPRINT_CHARS]} (newest price {newest})"


def _or(given: float | None, default: float) -> float:
    return default if given is None else given


def _given(section: BaseModel, name: str) -> str:
    return SCENARIO if name in section.model_fields_set else SCHEMA_DEFAULT


def _catalog_default(catalog: Catalog, key: str) -> str:
    row = catalog.default_rows[key]
    return f"catalog default {key}: {row.source} ({row.source_date})"


def inputs(scenario: Scenario, catalog: Catalog) -> list[Assumption]:
    """The inputs a review checks first, each with its source."""
    out: list[Assumption] = []
    for w in scenario.workload:
        src = SCENARIO
        out.append(Assumption(group="demand", name=f"{w.name}: queries per day", value=f"{w.queries_per_day:,.0f}",
                              source=src))
        out.append(Assumption(group="demand", name=f"{w.name}: tokens per query",
                              value=f"{w.input_tokens:,} in / {w.output_tokens:,} out", source=src))
        out.append(Assumption(group="demand", name=f"{w.name}: latency targets",
                              value=f"TTFT {w.ttft_ms:.10g} ms, TPOT {w.tpot_ms:.10g} ms", source=src))
        if w.ttft_p99_ms is not None or w.tpot_p99_ms is not None:
            tails = [f"{n} P99 {v:.10g} ms" for n, v in (("TTFT", w.ttft_p99_ms), ("TPOT", w.tpot_p99_ms)) if v is not None]
            out.append(Assumption(group="demand", name=f"{w.name}: tail targets", value=", ".join(tails)
                                  + " (a queueing model caps each replica's utilisation)", source=src))
        if w.profile is not None:
            shape = (f"catalog shape '{w.profile}'" if isinstance(w.profile, str)
                     else f"{len(w.profile)} hourly weights, peak/average {max(w.profile) / (sum(w.profile) / len(w.profile)):.2f}")
            origin = (f"catalog: {catalog.load_shapes[w.profile].source} ({catalog.load_shapes[w.profile].source_date})"
                      if isinstance(w.profile, str) and w.profile in catalog.load_shapes else src)
            out.append(Assumption(group="demand", name=f"{w.name}: daily load shape", value=shape, source=origin))
        if w.deadline_hours is not None:
            out.append(Assumption(group="demand", name=f"{w.name}: deferrable", value=(
                f"within {w.deadline_hours:g} h of arrival (FIFO, served in any time slice)"), source=src))
        if w.min_replicas:
            phases = " (prefill and decode each, with plan.disaggregation)" if scenario.plan.disaggregation else ""
            out.append(Assumption(group="demand", name=f"{w.name}: minimum replicas", value=f"{w.min_replicas} in every "
                                  f"period and slice{phases}", source=src))
        if w.shared_prefix_tokens or w.repeat_rate:
            out.append(Assumption(group="demand", name=f"{w.name}: shared prefix, repeat rate",
                                  value=f"{w.shared_prefix_tokens:,} tokens, {w.repeat_rate:.0%}",
                                  source=_given(w, "repeat_rate") if w.repeat_rate else SCENARIO))
    h = scenario.horizon
    out += [
        Assumption(group="horizon", name="horizon", value=f"{h.months} months in periods of {h.period_months}",
                   source=_given(h, "months")),
        Assumption(group="horizon", name="demand growth", value=f"{h.growth_per_year:+.0%} per year",
                   source=_given(h, "growth_per_year")),
        Assumption(group="horizon", name="peak to average", value=(
            "from the daily profiles (time slices)" if any(w.profile is not None for w in scenario.workload)
            else f"{h.peak_to_average:g}, provisioned all day"), source=_given(h, "peak_to_average")),
        Assumption(group="horizon", name="discount rate", value=f"{h.discount_rate_per_year:.1%} per year",
                   source=_given(h, "discount_rate_per_year")),
        Assumption(group="horizon", name="terminal value convention", value=h.terminal_value,
                   source=_given(h, "terminal_value")),
    ]
    out += _economics(scenario, catalog)
    q = scenario.quality
    out.append(Assumption(group="quality", name="quality floor", value=f"{q.metric}: at most {q.max_drop:g} points "
                          "below the base model (per-class overrides apply)", source=_given(q, "max_drop")))
    t = scenario.training
    mfu = t.mfu if t.mfu is not None else catalog.defaults.training_mfu
    out.append(Assumption(group="training", name="one-time work priced on", value=f"{t.hardware} at MFU {mfu:g}",
                          source=SCENARIO if t.mfu is not None else _catalog_default(catalog, "training_mfu")))
    return out


def _economics(scenario: Scenario, catalog: Catalog) -> list[Assumption]:
    m = scenario.market
    terms = ownership_terms(m, catalog)

    def item(name: str, value: str, field: str, key: str) -> Assumption:
        given = getattr(m, field) is not None
        return Assumption(group="economics", name=name, value=value,
                          source=SCENARIO if given else _catalog_default(catalog, key))

    out = [Assumption(group="economics", name="acquisition modes", value=", ".join(m.modes), source=_given(m, "modes")),
           Assumption(group="economics", name="hardware offered", value=", ".join(m.hardware or ["every catalog entry"]),
                      source=_given(m, "hardware"))]
    if any(w.profile is not None or w.deadline_hours is not None for w in scenario.workload) or "spot" in m.modes:
        out.append(Assumption(group="economics", name="time slices", value=(
            f"at most {scenario.plan.time_slices} blocks of the load-duration curve; reserved and bought GPUs fixed "
            "per period, on-demand and spot chosen and paid per block"), source=_given(scenario.plan, "time_slices")))
    if "spot" in m.modes:
        d = catalog.defaults
        out += [item("spot discount", f"{_or(m.spot_discount, d.spot_discount):.0%} "
                     "below on-demand (where no spot row)", "spot_discount", "spot_discount"),
                item("spot preemption", f"{_or(m.spot_preemption_per_hour, d.spot_preemption_per_hour):g} per GPU-hour",
                     "spot_preemption_per_hour", "spot_preemption_per_hour"),
                Assumption(group="economics", name="spot reclaims", value=f"{m.spot_reclaims}: "
                           f"{_SPOT_RECLAIMS[m.spot_reclaims]}", source=_given(m, "spot_reclaims")),
                item("spot restart", f"{_or(m.spot_restart_hours, d.spot_restart_hours):g} "
                     "on-demand GPU-hours per reclaimed GPU", "spot_restart_hours", "spot_restart_hours")]
    out += _reserved_discounts(m, catalog)
    if m.price_scale != 1.0:
        out.append(Assumption(group="economics", name="price scale", value=f"x{m.price_scale:g} on every hardware price",
                              source=SCENARIO))
    if "buy" in m.modes:
        d = catalog.defaults
        out += [
            item("PUE", f"{terms.pue:g}", "pue", "pue"),
            item("electricity", f"${terms.electricity_usd_per_kwh:g} per kWh", "electricity_usd_per_kwh",
                 "electricity_usd_per_kwh"),
            item("colocation", f"${terms.hosting_usd_per_kw_month:g} per kW-month", "hosting_usd_per_kw_month",
                 "hosting_usd_per_kw_month"),
            item("useful life of owned hardware", f"{terms.useful_life_years:g} years", "useful_life_years",
                 "hardware_useful_life_years"),
            item("operations overhead", f"{terms.operations_fraction_per_year:.0%} of capex per year",
                 "operations_fraction_per_year", "operations_fraction_per_year"),
            item("GPU failures", f"{terms.annual_failure_rate:g} per GPU-year", "annual_failure_rate",
                 "annual_failure_rate"),
            item("repair time", f"{terms.repair_days:g} days: owned fleets carry failure rate x repair days "
                 f"/ 365.25 = {1.0 - terms.availability:.2%} as spares",
                 "repair_days", "repair_days"),
            Assumption(group="economics", name="spares", value=f"{m.spares}: {_SPARES[m.spares]}",
                       source=_given(m, "spares")),
            Assumption(group="economics", name="capex scope",
                       value=("all-in per GPU: card + its server share + cluster network share (a price row that "
                              f"includes the server adds only the network); network default {d.cluster_network_fraction:.0%}"
                              ", energy at average draw x PUE, colocation on contracted kW"),
                       source=_catalog_default(catalog, "cluster_network_fraction")),
        ]
        if scenario.horizon.terminal_value == "salvage":
            out.append(item("resale at the horizon's end", f"{terms.resale_fraction:.0%} of book value",
                            "resale_fraction", "resale_fraction"))
    return out


def _reserved_discounts(m: Market, catalog: Catalog) -> list[Assumption]:
    """The commitment discount of each reserved mode offered: the scenario's, or the catalog's by
    provider kind (for providers without a reserved row)."""
    out = []
    for mode in (mode for mode in m.modes if mode.startswith("reserved-")):
        if mode in m.reserved_discount:
            out.append(Assumption(group="economics", name=f"{mode} discount", source=SCENARIO, value=(
                f"{m.reserved_discount[mode]:.1%} off on-demand (every provider without a {mode} row)")))
            continue
        term = mode.removeprefix("reserved-")
        keys = (f"reserved_{term}_discount_hyperscaler", f"reserved_{term}_discount_neocloud")
        out.append(Assumption(group="economics", name=f"{mode} discount", value=(
            f"{getattr(catalog.defaults, keys[0]):.1%} off on-demand at hyperscalers, "
            f"{getattr(catalog.defaults, keys[1]):.1%} at GPU clouds (where no {mode} row; market.reserved_discount "
            "overrides)"), source="; ".join(_catalog_default(catalog, k) for k in keys)))
    return out


def prices_used(plan: Plan, scenario: Scenario, catalog: Catalog) -> list[PriceUsed]:
    """The price of every (hardware, mode, provider) in the fleet, with its provider and date."""
    out: list[PriceUsed] = []
    for hardware, mode, provider in sorted({(f.hardware, f.mode, f.provider) for f in plan.fleet}):
        if mode == "buy":
            row = catalog.prices.get((hardware, mode, provider)) or catalog.price(hardware, "buy")
            if row is None:
                continue
            gpu = owned_gpu(catalog.get_hardware(hardware), row, catalog, scenario.market.price_scale)
            text = (f"${row.usd_per_gpu or 0.0:,.0f} per GPU" if isinstance(gpu, str) else
                    f"${gpu.card_usd + gpu.server_usd + gpu.network_usd:,.0f} per GPU all-in (card "
                    f"{gpu.card_usd:,.0f} + server {gpu.server_usd:,.0f} + network {gpu.network_usd:,.0f})")
            out.append(PriceUsed(hardware=hardware, mode=mode, provider=row.provider, price=text,
                                 source_date=row.source_date, derived=False, source=row.source))
            continue
        rent = rental_price(catalog, hardware, mode, [provider] if provider else None,  # as the plan was priced
                            scenario.market.spot_discount, scenario.market.reserved_discount)
        if rent is None:
            continue
        base = catalog.prices.get((hardware, mode, rent.provider)) or catalog.prices.get(
            (hardware, "on-demand", rent.provider))
        out.append(PriceUsed(hardware=hardware, mode=mode, provider=rent.provider,
                             price=f"${rent.usd_per_gpu_hour * scenario.market.price_scale:,.4g} per GPU-hour",
                             source_date=base.source_date if base else "-", derived=rent.derived, source=rent.source))
    return out
