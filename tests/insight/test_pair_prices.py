"""Disaggregated pairs in the pricing LP (:mod:`planner.insight.pair_prices`), against hand relations.

The long-prompt case of ``tests/optimize/test_disaggregation.py`` (Llama-3.1-70B FP8, 8,000 prompt
tokens under an 18 ms TPOT, H100 and H200 on demand, one 12-month period), where a disaggregated plan
is well over 10 % cheaper than co-location.  One more request/s of peak demand costs the cheapest
capacity per request/s (the LP has no integers and no caps here):

* a co-located column ``j``: ``s t_j k_{h_j} / μ_j``;
* a pair with free pools: ``s (t_p k_p / λ_p + t_d k_d / λ_d)``;
* a pair held in scale-up domains of ``(p_k, d_k)`` replicas: a domain costs
  ``k_p (p_k t_p + idle) + k_d d_k t_d`` and serves ``min(p_k λ_p, d_k λ_d) / s`` requests/s;

with ``k_h`` a GPU's year on demand and ``s`` the served share (1: no cache).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.insight.explanation import DEMAND, lp_shadow_prices
from planner.optimize.candidates import build_candidates
from planner.optimize.disagg_columns import build_pair_columns
from planner.optimize.pruning import prune, quality_floors
from tests.optimize.test_disaggregation import LONG_PROMPTS


def scenario(**plan: Any) -> planner.Scenario:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = plan
    return planner.scenario_from_dict(data)


def price(catalog: Any, sc: planner.Scenario, variant: str) -> float:
    cs = build_candidates(sc, catalog)
    [p] = [p for p in lp_shadow_prices(sc, catalog, cs, SimpleNamespace(variant_names=[variant])) if p.workload]
    assert p.what == DEMAND and p.period == 0
    return p.usd


def test_demand_is_priced_at_the_cheaper_of_a_pair_and_a_colocated_replica(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(disaggregation=True)
    cs = build_candidates(sc, catalog)
    [v] = [v for v in cs.variants if v.name == "quantization:fp8"]
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    columns = [c for c in prune(cs, sc.plan.max_variants, floors)[0] if c.variant == v.index]
    periods = periods_of(sc.horizon)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods)
    k = {o.hardware: float(o.cost_usd[0]) for o in offers}
    assert all(o.mode == "on-demand" and o.supply_factor == 1.0 for o in offers)
    s = v.profiles["rag"].served_query_fraction
    colocated = min(s * c.tp * k[c.hardware] / c.capacity_rps for c in columns)
    pairs, _, _ = build_pair_columns(sc, catalog, cs, columns, set(k))
    assert pairs

    def per_rps(pair: Any) -> float:
        if pair.unit is None:
            return s * (pair.prefill_tp * k[pair.prefill_hardware] / pair.prefill_rps
                        + pair.decode_tp * k[pair.decode_hardware] / pair.decode_rps)
        p_k, d_k = pair.unit
        domain = k[pair.prefill_hardware] * (p_k * pair.prefill_tp + pair.idle_gpus) \
            + k[pair.decode_hardware] * d_k * pair.decode_tp
        return s * domain / min(p_k * pair.prefill_rps, d_k * pair.decode_rps)

    cheapest_pair = min(per_rps(p) for p in pairs)
    assert cheapest_pair < 0.9 * colocated  # why the plan disaggregates
    assert price(catalog, sc, v.name) == pytest.approx(cheapest_pair, rel=1e-6)
    # without disaggregation the same LP prices the co-located replica
    assert price(catalog, scenario(), v.name) == pytest.approx(colocated, rel=1e-6)
