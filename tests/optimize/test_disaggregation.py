"""Disaggregated deployments as optimiser choices (issue 17, phase 2): when they win, when they cannot,
refusals, and the pair enumeration's exactness."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.optimize.candidates import build_candidates
from planner.optimize.disagg_columns import _Rows, pool_pair_inputs
from planner.physics.disaggregation import PairCandidate, PoolSpec, build_pair_inputs
from planner.physics.roofline import RooflineInputs
from tests.conftest import CliResult

# Long prompts under a tight TPOT (the physics test's case): Llama-3.1-70B FP8, 8,000 in / 300 out.
LONG_PROMPTS: dict[str, Any] = {
    "schema_version": 1, "name": "long-prompts", "model": {"base": "llama-3.1-70b"},
    "workload": [{"name": "rag", "queries_per_day": 2_000_000, "input_tokens": 8000, "output_tokens": 300,
                  "ttft_ms": 2000, "tpot_ms": 18}],
    "horizon": {"months": 12, "period_months": 12},
    "market": {"hardware": ["h100-sxm", "h200"], "modes": ["on-demand"]},
    "techniques": {"quantization": ["fp8"], "caching": ["none"]},
}
SLOW_LINKS = """schema_version = 1
[[link]]
slug = "ib-xdr"
name = "a 0.5 GB/s path (test)"
kind = "infiniband"
scope = "inter-node"
bandwidth_gb_s_per_direction = 0.5
vendors = ["nvidia"]
same_hardware_only = false
source = "test overlay row"
source_date = "2026-01-01"
"""


def _scenario(**plan: Any) -> planner.Scenario:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = plan
    return planner.scenario_from_dict(data)


def _disaggregated(plan: planner.Plan) -> list[planner.plan_model.ServedBy]:
    return [s for s in plan.serving if s.prefill is not None]


def test_fast_link_long_prompts_disaggregated_plan_is_chosen_and_cheaper(catalog: Catalog) -> None:
    colocated = planner.plan(_scenario(), catalog=catalog)
    split = planner.plan(_scenario(disaggregation=True), catalog=catalog)
    assert colocated.status == split.status == "optimal"
    lines = _disaggregated(split)
    assert lines and sum(s.traffic_share for s in lines) > 0.5
    # strictly cheaper: co-located decode steps are slowed by other requests' 8k-token prefills
    assert split.lifetime_cost_usd < 0.9 * colocated.lifetime_cost_usd
    for s in lines:
        assert s.prefill is not None and s.decode is not None and s.link is not None
        assert s.tpot_ms <= 18 and s.ttft_ms <= 2000 + 1e-6 and 0 < (s.link_utilisation or 0) < 1
        pools = s.prefill.replicas * s.prefill.tp + s.decode.replicas * s.decode.tp
        assert s.gpus == pools if s.scale_up_domains is None else s.gpus >= pools  # whole blocks: idle GPUs too
    # every GPU of the pools is paid for: fleet GPUs per type cover the serving lines' GPUs
    fleet = {f.hardware: f.gpus_in_service for f in split.fleet}
    used: dict[str, int] = {}
    for s in split.serving:
        pools = [(s.prefill.hardware, s.prefill.tp * s.prefill.replicas),
                 (s.decode.hardware, s.decode.tp * s.decode.replicas)] if s.prefill and s.decode else [(s.hardware, s.gpus)]
        for hw, gpus in pools:
            used[hw] = used.get(hw, 0) + gpus
    assert all(fleet.get(hw, 0) >= gpus for hw, gpus in used.items())


def test_slow_links_pairs_are_not_chosen(tmp_path: Path) -> None:
    overlay = tmp_path / "slow.toml"
    # replace every link that joins H100/H200 with a slow one: 8k-token KV caches cannot cross in time
    text = SLOW_LINKS + "".join(
        SLOW_LINKS.split("\n", 1)[1].replace('slug = "ib-xdr"', f'slug = "{slug}"').replace(
            'scope = "inter-node"', f'scope = "{scope}"').replace(  # a link within a server joins one type
            "same_hardware_only = false", f"same_hardware_only = {str(scope == 'intra-node').lower()}")
        for slug, scope in (("ib-ndr", "inter-node"), ("roce-400g", "inter-node"), ("nvlink4", "intra-node"),
                            ("pcie5", "intra-node"), ("pcie4", "intra-node")))
    overlay.write_text(text, encoding="utf-8")
    catalog = planner.load_catalogs([overlay], use_env=False)
    colocated = planner.plan(_scenario(), catalog=catalog)
    split = planner.plan(_scenario(disaggregation=True), catalog=catalog)
    assert not _disaggregated(split)
    assert split.lifetime_cost_usd == pytest.approx(colocated.lifetime_cost_usd, rel=1e-9)


def test_one_gpu_type_without_interference_never_beats_colocation_by_more_than_it_removes(catalog: Catalog) -> None:
    # Why: with one GPU type, a co-located replica runs the same prefill passes and decode steps as the
    # two pools; what it loses is only the interference (decode steps stall behind other requests'
    # prefills: TPOT = T_s / (1 - rho')).  Short prompts and an output-heavy class make that stall tiny,
    # so splitting the phases can save at most about what the stall costs, plus the whole-replica
    # rounding of one more pool.  Here: at most 10 % cheaper, and typically not cheaper at all.
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["workload"][0].update(input_tokens=64, output_tokens=1000, ttft_ms=2000, tpot_ms=60)
    data["market"]["hardware"] = ["h100-sxm"]
    colocated = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    data["plan"] = {"disaggregation": True}
    split = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert split.status == colocated.status == "optimal"
    assert split.lifetime_cost_usd <= colocated.lifetime_cost_usd + 1e-6  # the co-located columns are all there
    assert split.lifetime_cost_usd >= 0.9 * colocated.lifetime_cost_usd


def test_off_by_default_and_colocated_json_has_no_pool_keys(catalog: Catalog) -> None:
    plan = planner.plan(_scenario(), catalog=catalog)
    assert _scenario().plan.disaggregation is False
    text = plan.model_dump_json()
    assert '"prefill"' not in text and '"link"' not in text


def test_vectorised_rows_equal_build_pair_inputs(catalog: Catalog) -> None:
    scenario = _scenario(disaggregation=True)
    cs = build_candidates(scenario, catalog)
    profile = cs.variants[0].profiles["rag"]
    hardware = [catalog.hardware["h100-sxm"], catalog.hardware["h200"]]
    links = [catalog.links["ib-ndr"], catalog.links["nvlink4"]]
    rows = _Rows.empty()
    rows.add(0, 2, 4, 1, 4, 64, 0)
    rows.add(1, 4, 1, 1, 2, 8, 1)
    ours = pool_pair_inputs(profile, hardware, links, rows, catalog, input_tokens=8000, output_tokens=300,
                            ttft_target_s=2.0, tpot_target_s=0.018)
    ref = build_pair_inputs(profile, [PairCandidate(PoolSpec("h100-sxm", 2, 4), PoolSpec("h200", 4, 64), "ib-ndr"),
                                      PairCandidate(PoolSpec("h200", 4, 1), PoolSpec("h200", 2, 8), "nvlink4")],
                            catalog, input_tokens=8000, output_tokens=300, ttft_target_s=2.0, tpot_target_s=0.018)
    for pool in ("prefill", "decode"):
        for name in RooflineInputs.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(getattr(ours, pool), name), getattr(getattr(ref, pool), name), name)
    for name in ("link_bytes_per_s", "link_latency_s", "link_efficiency", "link_intra_node", "ttft_target_s"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(ref, name), name)


def _write(tmp_path: Path, plan: dict[str, Any], **over: Any) -> str:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = plan
    for key, value in over.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("plan", "over", "field"), [
    ({"disaggregation": True, "split_granularity": 4}, {}, "plan.split_granularity"),
    ({"disaggregation": True, "pooled_capacity": True}, {}, "plan.pooled_capacity"),
    ({"disaggregation": True}, {"market": {"modes": ["on-demand", "spot"]}}, "market.modes"),
])
def test_unsupported_combinations_exit_2_naming_the_field(whatif: Callable[..., CliResult], tmp_path: Path,
                                                        plan: dict[str, Any], over: dict[str, Any],
                                                        field: str) -> None:
    result = whatif("plan", _write(tmp_path, plan, **over))
    assert result.code == 2, result.err
    assert field in result.err


def test_deferrable_class_with_disaggregation_exits_2(whatif: Callable[..., CliResult], tmp_path: Path) -> None:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["workload"][0]["deadline_hours"] = 4
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = whatif("plan", str(path))
    assert result.code == 2 and f"workload[{data['workload'][0]['name']}].deadline_hours" in result.err


def test_pool_larger_than_the_quota_is_never_planned(catalog: Catalog) -> None:
    # a quota of 2 H200: no pool of TP4/TP8 on H200 may appear; prefill/decode pools respect it
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["market"]["quota_gpus"] = {"h200": 2}
    plan = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    for s in plan.serving:
        for pool in (s.prefill, s.decode):
            if pool is not None and pool.hardware == "h200":
                assert pool.tp <= 2
    assert all(f.gpus_in_service <= 2 for f in plan.fleet if f.hardware == "h200")


# Step 6 of planner.optimize.disagg_columns: pairs dominated by co-located columns.
DOMINANCE_CASES: list[dict[str, Any]] = [
    {"tpot_ms": 40, "quantization": ["fp8"]},
    {"tpot_ms": 40, "quantization": ["none", "fp8", "int8"]},
    {"tpot_ms": 18, "quantization": ["none", "fp8", "int8"]},
]


@pytest.mark.parametrize("case", DOMINANCE_CASES)
def test_dropping_pairs_dominated_by_colocated_columns_keeps_the_optimum(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]) -> None:
    """The same optimum with and without step 6 (it drops pairs here), on four GPU types."""
    from planner.optimize import disagg_columns

    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["workload"][0]["tpot_ms"] = case["tpot_ms"]
    data["techniques"]["quantization"] = case["quantization"]
    data["market"]["hardware"] = ["h100-sxm", "h200", "l40s", "a100-80gb"]
    pruned = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    monkeypatch.setattr(disagg_columns, "dominated_by_colocated", lambda *_: False)
    full = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert pruned.status == full.status == "optimal"
    assert pruned.solver is not None and pruned.solver.pruning["disagg_dominated_by_colocated"] > 0
    assert pruned.lifetime_cost_usd == pytest.approx(full.lifetime_cost_usd, rel=1e-6)


def test_colocated_dominance_rule_holds_for_every_load_by_enumeration() -> None:
    """Whenever step 6 drops a pair, a split ``α`` moves any load onto the co-located columns with no
    more GPUs of either type (checked over a grid of pools, columns and loads)."""
    from planner.optimize.disagg_columns import PairColumn, dominated_by_colocated

    rng = np.random.default_rng(17)
    tps = (1, 2, 4, 8)
    checked = 0
    for _ in range(400):
        t_p, t_d, t_1, t_2 = (int(rng.choice(tps)) for _ in range(4))
        lam_p, lam_d, mu_1, mu_2 = rng.uniform(0.2, 5.0, size=4)
        same = bool(rng.integers(2))  # one hardware type (j1 = j2 allowed) or two
        pair = PairColumn(variant=0, workload=0, prefill_hardware=0, prefill_tp=t_p, prefill_batch=1,
                          prefill_rps=float(lam_p), decode_hardware=0 if same else 1, decode_tp=t_d, decode_batch=1,
                          decode_rps=float(lam_d), link="x", link_utilisation=0.0, ttft_ms=1.0, tpot_ms=1.0,
                          kv_bytes_per_request=1.0)
        rates = {(0, 0, 0): [(t_1, mu_1 / t_1)], (0, 0, 0 if same else 1): [(t_2, mu_2 / t_2)]}
        if same:
            rates[(0, 0, 0)] = [(t_1, mu_1 / t_1), (t_2, mu_2 / t_2)]
        if not dominated_by_colocated(pair, rates):
            continue
        # the columns the rule may use: the best rate per GPU among those whose TP divides the pool's
        # (none on a side: that side's load all goes to the other column)
        pick_p = max((c for c in rates[(0, 0, 0)] if t_p % c[0] == 0), key=lambda c: c[1], default=(1, 0.0))
        pick_d = max((c for c in rates[(0, 0, 0 if same else 1)] if t_d % c[0] == 0), key=lambda c: c[1],
                     default=(1, 0.0))
        g_p = t_p / lam_p
        alpha = min(1.0, g_p * pick_p[1])  # ≥ 1 − g_d/g_{j2} by the rule
        for load in np.linspace(0.01, 40.0, 200):
            pair_p, pair_d = t_p * np.ceil(load / lam_p - 1e-12), t_d * np.ceil(load / lam_d - 1e-12)
            col_p = pick_p[0] * np.ceil(alpha * load / (pick_p[0] * pick_p[1]) - 1e-12) if alpha > 0 else 0.0
            col_d = (pick_d[0] * np.ceil((1 - alpha) * load / (pick_d[0] * pick_d[1]) - 1e-12)
                     if alpha < 1 else 0.0)
            if same:
                assert col_p + col_d <= pair_p + pair_d
            else:
                assert col_p <= pair_p and col_d <= pair_d
        checked += 1
    assert checked > 20


def test_expert_parallel_in_the_decode_pool(catalog: Catalog) -> None:
    """With plan.expert_parallel, a Mixtral decode pool is E_p groups (t·E_p GPUs, labelled TP<t>×EP<E_p>);
    without it the pools' JSON has no expert_parallel key."""
    data: dict[str, Any] = {
        **LONG_PROMPTS, "name": "moe", "model": {"base": "mixtral-8x7b"},
        "workload": [{**LONG_PROMPTS["workload"][0], "tpot_ms": 25}],
        "techniques": {"quantization": ["none"], "distillation": ["none"]}, "plan": {"disaggregation": True}}
    plain = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    data["plan"]["expert_parallel"] = 4
    ep = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert plain.status == ep.status == "optimal"
    assert _disaggregated(plain) and all("expert_parallel" not in s.model_dump()["decode"]
                                         for s in _disaggregated(plain))
    lines = _disaggregated(ep)
    assert lines
    for s in lines:
        assert s.decode is not None and s.prefill is not None
        assert s.decode.expert_parallel == 4 and s.decode.tp % 4 == 0
        assert s.decode.parallelism == f"TP{s.decode.tp // 4}×EP4"
        assert s.gpus == s.prefill.tp * s.prefill.replicas + s.decode.tp * s.decode.replicas
        assert s.prefill.expert_parallel is None  # prefill pools stay tensor-parallel
    # the decode batch is per replica (its 4 groups' sequences, as a co-located line's): the decode
    # replicas then carry the peak at b / (O · TPOT) each (per group, the figure was 4x too small)
    peak = ep.classes[0].peak_requests_per_s_first_period
    output = LONG_PROMPTS["workload"][0]["output_tokens"]
    carried = sum(s.decode.replicas * s.decode.batch / (output * s.tpot_ms / 1e3) for s in lines
                  if s.period == 0 and s.decode is not None)
    assert carried >= peak * (1 - 1e-6) and carried < 4 * peak


# The numpy-built path (planner.optimize.direct) carries the pairs: the same optimum as the PuLP model.
NUMPY_PATH_CASES: list[dict[str, Any]] = [
    {"max_variants": 1, "modes": ["on-demand"], "quantization": ["fp8"]},
    {"max_variants": 1, "modes": ["on-demand", "buy"], "quantization": ["none", "fp8", "int8"]},
    {"max_variants": 2, "modes": ["on-demand", "buy"], "quantization": ["none", "fp8"]},
    {"max_variants": 1, "modes": ["on-demand", "buy"], "quantization": ["fp8"], "min_replicas": 3},
]


@pytest.mark.parametrize("case", NUMPY_PATH_CASES)
def test_numpy_built_path_equals_the_pulp_model_with_pairs(catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
                                                           case: dict[str, Any]) -> None:
    """Disaggregated pairs in the numpy-built models (cover, pool and supply rows, whole servers as
    cumulative counts, pair screening for two variants) give the PuLP model's optimum, with pairs used."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True, "max_variants": case["max_variants"]}
    data["horizon"] = {"months": 12, "period_months": 6, "growth_per_year": 1.0}
    data["market"]["modes"] = case["modes"]
    data["techniques"]["quantization"] = case["quantization"]
    data["workload"][0]["min_replicas"] = case.get("min_replicas", 0)
    direct, pulp_model = both_paths(planner.scenario_from_dict(data), catalog, monkeypatch)
    assert _disaggregated(direct) and _disaggregated(pulp_model)


def both_paths(scenario: planner.Scenario, catalog: Catalog,
               monkeypatch: pytest.MonkeyPatch) -> tuple[planner.Plan, planner.Plan]:
    """The plan on the numpy-built path and on the PuLP model, both optimal at the same cost.  The time
    limit is raised far above the idle machine's need (the slowest case, two variants, about 10 s a
    path) so that a loaded machine gives the same answer: one run beside five other workers stopped
    a path at the default limit, ``feasible``."""
    from planner.optimize import planning

    scenario = scenario.model_copy(update={"solver": scenario.solver.model_copy(update={"time_limit_s": 600.0})})

    direct = planner.plan(scenario, catalog=catalog)
    monkeypatch.setattr(planning, "direct_applies", lambda *_: False)
    pulp_model = planner.plan(scenario, catalog=catalog)
    assert direct.status == pulp_model.status == "optimal"
    assert direct.lifetime_cost_usd == pytest.approx(pulp_model.lifetime_cost_usd, rel=2e-4)
    return direct, pulp_model


def _replicas_per_phase(plan: planner.Plan) -> dict[int, tuple[int, int]]:
    """Per period, (co-located + prefill pool replicas, co-located + decode pool replicas)."""
    out: dict[int, tuple[int, int]] = {}
    for s in plan.serving:
        pools = s.prefill is not None and s.decode is not None
        prefill, decode = (s.prefill.replicas, s.decode.replicas) if pools else (s.replicas, s.replicas)
        before = out.get(s.period, (0, 0))
        out[s.period] = (before[0] + prefill, before[1] + decode)
    return out


@pytest.mark.parametrize("minimum", [2, 4])
def test_min_replicas_hold_in_each_phase_of_a_disaggregated_plan(catalog: Catalog, minimum: int) -> None:
    """``workload.min_replicas`` with ``plan.disaggregation`` (refused before the ninth session,
    2026-12-06): each phase keeps the minimum — a co-located replica counts for both, a pool's
    replicas for their phase.  On the long prompts at 200,000 queries/day the unconstrained plan is
    one pair (prefill h100-sxm TP2 ×2 + decode h200 TP2 ×1, $167,781 on 2026-12-07); with the floor it
    adds replicas and costs more (N = 2: a co-located h100-sxm TP2 ×1 beside prefill TP1 ×4 + decode
    ×1, $220,202), and a pool still serves."""
    def planned(n: int) -> planner.Plan:
        data = json.loads(json.dumps(LONG_PROMPTS))
        data["plan"] = {"disaggregation": True}
        data["workload"][0].update(queries_per_day=200_000, min_replicas=n)
        return planner.plan(planner.scenario_from_dict(data), catalog=catalog)

    free, floored = planned(0), planned(minimum)
    assert free.status == floored.status == "optimal"
    assert free.lifetime_cost_usd is not None and floored.lifetime_cost_usd is not None
    assert min(min(phases) for phases in _replicas_per_phase(free).values()) < minimum  # the floor binds
    assert all(min(phases) >= minimum for phases in _replicas_per_phase(floored).values())
    assert floored.lifetime_cost_usd > free.lifetime_cost_usd
    assert _disaggregated(floored)


def test_colocated_dominance_is_not_applied_to_classes_with_a_replica_floor(catalog: Catalog) -> None:
    """Step 6 of :mod:`planner.optimize.disagg_columns` moves a pair's traffic onto co-located replicas,
    which may be fewer than the pair's pools: with ``min_replicas`` it is skipped (its docstring)."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["workload"][0]["tpot_ms"] = 40
    data["market"]["hardware"] = ["h100-sxm", "h200", "l40s", "a100-80gb"]
    free = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    data["workload"][0]["min_replicas"] = 2
    floored = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert free.solver is not None and floored.solver is not None
    assert free.solver.pruning["disagg_dominated_by_colocated"] > 0
    assert floored.solver.pruning["disagg_dominated_by_colocated"] == 0
    assert floored.status == "optimal"
    assert all(min(phases) >= 2 for phases in _replicas_per_phase(floored).values())


def test_the_report_states_the_floor_per_phase(catalog: Catalog) -> None:
    """A report of a disaggregated plan with a replica floor says the floor holds in each phase."""
    from planner.report.build import build_report

    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["workload"][0].update(queries_per_day=200_000, min_replicas=2)
    scenario = planner.scenario_from_dict(data)
    report = build_report(planner.plan(scenario, catalog=catalog), scenario, catalog)
    assert any("rag: at least 2 replicas in every period for each phase" in line for line in report.reserve)
    floor = next(a for a in report.inputs if a.name == "rag: minimum replicas")
    assert "prefill and decode each" in floor.value
    # a disaggregated row gives each pool's TP, batch and replicas, prefill first (not the decode pool's
    # TP beside a sum of both pools' replicas)
    plan = planner.plan(scenario, catalog=catalog)
    pooled = [d for d in report.deployments if d.pools_tp is not None]
    served = [s for s in plan.serving if s.disaggregated and s.prefill is not None and s.decode is not None]
    assert pooled and served
    first = served[0]
    assert any(d.pools_tp == f"{first.prefill.tp}+{first.decode.tp}"
               and d.batch == f"b{first.prefill.batch}+b{first.decode.batch}" and "+" in d.replicas for d in pooled)


@pytest.mark.parametrize("targets", [{"ttft_p99_ms": 2500}, {"tpot_p99_ms": 19},
                                     {"ttft_p99_ms": 3000, "tpot_p99_ms": 22}])
def test_p99_targets_with_disaggregation(catalog: Catalog, targets: dict[str, float]) -> None:
    """P99 targets with ``plan.disaggregation`` (refused before the ninth session, 2026-12-06): the
    pools' rates fall to their tail targets (:mod:`planner.physics.disaggregation`), so the plan costs
    more than under the means alone, and a disaggregated deployment still serves."""
    def planned(**tail: float) -> planner.Plan:
        data = json.loads(json.dumps(LONG_PROMPTS))
        data["plan"] = {"disaggregation": True}
        data["workload"][0].update(tail)
        return planner.plan(planner.scenario_from_dict(data), catalog=catalog)

    means, tails = planned(), planned(**targets)
    assert means.status == tails.status == "optimal"
    assert tails.lifetime_cost_usd is not None and means.lifetime_cost_usd is not None
    assert tails.lifetime_cost_usd > means.lifetime_cost_usd
    assert _disaggregated(tails)


def test_a_measured_hardware_is_not_pooled_from_the_roofline(catalog: Catalog) -> None:
    """A (hardware, class) with measured capacity is served only as measured; its pools were once built
    from the roofline the measurement replaced (an H100 measured as unable to meet the SLO still served
    most of the class in H100 pools)."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = {"disaggregation": True}
    data["measured"] = [{"hardware": "h100-sxm", "workload": "rag", "meets_slo": False, "precision": "fp8",
                         "source": "test: measured unable to meet the SLO"}]
    plan = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert plan.status == "optimal" and plan.serving
    assert all("h100-sxm" not in s.hardware for s in plan.serving)
    free = planner.plan(planner.scenario_from_dict({**data, "measured": []}), catalog=catalog)
    assert any("h100-sxm" in s.hardware for s in free.serving)  # without the row, H100 pools are used
