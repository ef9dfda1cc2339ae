"""Disaggregated pairs over an intra-node KV link hold whole scale-up domains (disagg_domains).

Before this, a pair over NVLink chose its prefill and decode replica counts independently, and the
demo's plan asked for 20 prefill TP1 replicas feeding one decode TP4 replica over NVLink: 24 GPUs
whose KV caches cannot leave the decode replica's 8-GPU server.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from typing import Any

import pytest

import planner
from planner.catalog.store import Catalog
from planner.optimize.disagg_columns import _dominates
from planner.optimize.disagg_domains import domain_units, unit_block
from planner.report.build import build_report
from tests.optimize.test_disaggregation import LONG_PROMPTS, both_paths

SERVER_GPUS = 8


def test_domain_units_by_hand() -> None:
    # t_p = 1 at 1 req/s, t_d = 2 at 2.5 req/s, 8 GPUs: (p, d) with p + 2d <= 8, p, d >= 1
    every = domain_units(1, 1.0, 2, 2.5, SERVER_GPUS, prune=False)
    assert sorted(every) == sorted([(p, d) for d in (1, 2, 3) for p in range(1, 9 - 2 * d)])
    assert len(every) == 12
    assert [unit_block(g, SERVER_GPUS) for g in range(1, 9)] == [1, 2, 4, 4, 8, 8, 8, 8]
    assert unit_block(3, 12) == 4 and unit_block(5, 12) is None  # blocks divide the domain
    # blocks of 4: (2,1) 2 req/s, (1,1) 1; of 8: (4,2) 4, (3,1)/(4,1)/(5,1)/(6,1) 2.5, (3,2) 3, ...:
    # (4,2) serves no more than two (2,1) blocks, so only (2,1) stays
    assert domain_units(1, 1.0, 2, 2.5, SERVER_GPUS) == [(2, 1)]
    assert domain_units(1, 1.0, 1, 3.0, SERVER_GPUS) == [(1, 1), (3, 1)]  # 3 req/s on 4 GPUs beat 2 x 1 on 2
    assert domain_units(1, 1.0, 1, 1.0, SERVER_GPUS) == [(1, 1)]  # (2,2), (4,4) are copies of it
    assert domain_units(4, 1.0, 4, 1.0, SERVER_GPUS) == [(1, 1)]
    assert domain_units(4, 1.0, 8, 1.0, SERVER_GPUS) == []  # TP4 + TP8 never share a server


@pytest.mark.parametrize("tp", [(1, 1), (1, 2), (2, 1), (1, 4), (2, 2)])
def test_pruned_units_serve_every_load_with_as_few_gpus_by_enumeration(tp: tuple[int, int]) -> None:
    """For integer rates and loads, the fewest GPUs (whole blocks) serving a load with any multiset of
    all units equals the fewest with the pruned units (exhaustive, unbounded knapsack)."""
    for rate_p, rate_d in itertools.product(range(1, 6), repeat=2):
        every = domain_units(tp[0], float(rate_p), tp[1], float(rate_d), SERVER_GPUS, prune=False)
        kept = domain_units(tp[0], float(rate_p), tp[1], float(rate_d), SERVER_GPUS)

        def fewest(units: list[tuple[int, int]]) -> Any:
            @functools.cache
            def gpus(load: int) -> float:
                if load <= 0:
                    return 0
                return min((unit_block(p * tp[0] + d * tp[1], SERVER_GPUS) or 0)
                           + gpus(load - min(p * rate_p, d * rate_d)) for p, d in units)
            return gpus

        full, pruned = fewest(every), fewest(kept)
        assert all(full(load) == pruned(load) for load in range(1, 41)), (rate_p, rate_d)


def test_an_intra_node_pair_dominates_only_intra_node_pairs() -> None:
    better, worse = (1, 2.0, 2, 3.0), (2, 2.0, 4, 3.0)
    assert _dominates((*better, True), (*worse, True)) and _dominates((*better, False), (*worse, True))
    assert _dominates((*better, False), (*worse, False)) and not _dominates((*better, True), (*worse, False))


def _nvlink_scenario(**plan: Any) -> planner.Scenario:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True, "kv_links": ["nvlink4"], **plan}
    data["horizon"] = {"months": 12, "period_months": 6, "growth_per_year": 1.0}
    return planner.scenario_from_dict(data)


def test_intra_node_pools_fit_their_servers(catalog: Catalog) -> None:
    scenario = _nvlink_scenario()
    plan = planner.plan(scenario, catalog=catalog)
    lines = [s for s in plan.serving if s.prefill is not None]
    assert plan.status == "optimal" and lines
    for s in lines:
        assert s.prefill is not None and s.decode is not None and s.link == "nvlink4"
        blocks = s.unit_blocks
        assert blocks and s.prefill.replicas % blocks == 0 and s.decode.replicas % blocks == 0
        p, d = s.prefill.replicas // blocks, s.decode.replicas // blocks
        assert p >= 1 and d >= 1 and p * s.prefill.tp + d * s.decode.tp <= SERVER_GPUS
        block = s.gpus // blocks  # the line's GPUs are whole blocks, idle ones included
        assert s.gpus % blocks == 0 and block == unit_block(p * s.prefill.tp + d * s.decode.tp, SERVER_GPUS)
        assert s.scale_up_domains == math.ceil(s.gpus / SERVER_GPUS)  # servers, not blocks
    served = json.loads(plan.model_dump_json())["serving"]
    assert all("scale_up_domains" in s and "unit_blocks" in s for s in served if "prefill" in s)
    report = build_report(plan, scenario, catalog)
    assert any(" servers of " in d.hardware for d in report.deployments)


def test_inter_node_pairs_keep_free_pool_counts(catalog: Catalog) -> None:
    plan = planner.plan(_nvlink_scenario(kv_links=["ib-xdr"]), catalog=catalog)
    lines = [s for s in plan.serving if s.prefill is not None]
    assert lines and all(s.scale_up_domains is None for s in lines)
    assert all("scale_up_domains" not in s and "unit_blocks" not in s
               for s in json.loads(plan.model_dump_json())["serving"])


@pytest.mark.parametrize("minimum", [0, 3])
def test_numpy_built_path_equals_the_pulp_model_with_domains(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                             minimum: int) -> None:
    data = json.loads(json.dumps(_nvlink_scenario().model_dump(mode="json", exclude_none=True)))
    data["workload"][0]["min_replicas"] = minimum
    data["market"]["modes"] = ["on-demand", "buy"]
    direct, pulp_model = both_paths(planner.scenario_from_dict(data), catalog, monkeypatch)
    assert any(s.scale_up_domains for s in direct.serving) and any(s.scale_up_domains for s in pulp_model.serving)
