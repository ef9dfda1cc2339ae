r"""User inputs of disaggregated planning that can be wrong, each refused with its field (exit 2).

* ``plan.kv_links`` (:func:`kv_links`): the links the optimiser may send a KV cache over between a
  prefill and a decode pool.  Each entry must be a catalogued link (``catalogs/links.toml``) that
  joins at least one ordered pair ``(h_p, h_d)`` of the market's hardware types
  (:meth:`~planner.catalog.schema.LinkRow.joins`); otherwise the entry can never carry a KV cache
  in this scenario and is refused naming ``plan.kv_links[i]``.  Listing a link twice is refused too.
  Without the field every catalogued link is allowed (the pair enumeration keeps, per pair of
  types, only those that join it).
* ``market.quota_gpus.<hw>`` against the pools (:func:`check_pool_quotas`).  With
  ``plan.disaggregation = true``, let ``g_h`` be the fewest GPUs any single deployment unit needs on
  hardware ``h``: the smallest TP of a latency-feasible co-located replica, of a feasible prefill
  pool or of a feasible decode pool on ``h`` (each is one replica of ``t`` GPUs; a pool of a pair
  needs at least one replica).  A quota ``0 < q_h < g_h`` is **refused as bad input (exit 2)**, not
  reported as an infeasibility (exit 3), because

  1. it is decidable from the inputs alone, before any demand is considered: no plan of any size
     can put one GPU of ``h`` to use, whatever the traffic, so the market's listing of ``h`` and its
     quota contradict each other — the defining trait of a bad input here (README: exit codes);
  2. the plan may still be feasible on the other types, so an infeasibility (exit 3) would not even
     be reported: the quota would silently remove ``h`` from every pool the user asked to consider;
  3. the fix is to one field (raise the quota to ``g_h`` or drop ``h`` from ``market.hardware``).

  A quota of 0 says "none of this type" and is kept.  A quota ``q_h ≥ g_h`` that is too small for
  the *number* of replicas the traffic needs is a property of the demand, not of the input: the
  MILP reports it as an infeasibility (exit 3) with the capacity diagnosis, as for co-located plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.catalog.schema import HardwareSpec, LinkRow
from planner.catalog.store import Catalog
from planner.errors import ScenarioError, UnknownSlugError
from planner.scenario.schema import Scenario


def market_hardware(scenario: Scenario, catalog: Catalog) -> list[HardwareSpec]:
    """The market's hardware types that exist in the catalog (unknown slugs are refused elsewhere)."""
    listed = scenario.market.hardware or sorted(catalog.hardware)
    return [catalog.hardware[slug] for slug in listed if slug in catalog.hardware]


def kv_links(scenario: Scenario, catalog: Catalog) -> list[LinkRow]:
    """The links pairs may use, fastest first (then by slug); ``plan.kv_links`` checked (module docstring)."""
    hardware = market_hardware(scenario, catalog)
    chosen = scenario.plan.kv_links
    if chosen is None:
        rows = list(catalog.links.values())
    else:
        rows = []
        for i, slug in enumerate(chosen):
            field = f"plan.kv_links[{i}]"
            if slug not in catalog.links:
                raise UnknownSlugError("link", slug, catalog.links, field)
            if slug in chosen[:i]:
                raise ScenarioError(f"link '{slug}' is listed twice", field)
            row = catalog.links[slug]
            pairs = [(a.slug, b.slug) for a in hardware for b in hardware if row.joins(a, b)]
            if not pairs:
                joining = sorted({r.slug for r in catalog.links.values()
                                  if any(r.joins(a, b) for a in hardware for b in hardware)})
                raise ScenarioError(
                    f"link '{slug}' ({row.name}) joins none of the market's hardware pairs "
                    f"({', '.join(h.slug for h in hardware)}); links that do: {', '.join(joining) or 'none'}", field)
            rows.append(row)
    return sorted(rows, key=lambda r: (-r.bandwidth_gb_s_per_direction, r.slug))


def check_pool_quotas(scenario: Scenario, smallest_unit_gpus: Mapping[str, int],
                      hardware: Sequence[HardwareSpec]) -> None:
    """Refuse ``0 < q_h < g_h`` (module docstring); ``smallest_unit_gpus`` is ``g_h`` per hardware slug.

    A type with no feasible unit at all (no ``g_h``) is left alone: no quota would make it usable.
    """
    if not scenario.plan.disaggregation:
        return
    for hw in hardware:
        quota, need = scenario.market.quota_gpus.get(hw.slug), smallest_unit_gpus.get(hw.slug)
        if quota is None or need is None or quota == 0 or quota >= need:
            continue
        raise ScenarioError(
            f"{quota} GPUs of {hw.slug} are fewer than the smallest replica or prefill/decode pool any deployment "
            f"needs on it ({need} GPUs): no plan can use this hardware; raise the quota to at least {need}, set it "
            f"to 0 or drop {hw.slug} from market.hardware", f"market.quota_gpus.{hw.slug}")
