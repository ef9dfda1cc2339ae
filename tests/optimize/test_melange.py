"""Mélange's published optima reproduced: measured capacities, buckets, slice factor k, pooled capacity.

Every case of the cross-check note: E1 at k = 1, 4, 8, 16 and its rate sweep; E2; E3; E4 (shares
summing to 1.25, not normalised); SYN at R = 4, 16, 64 and k = 1, 4, 8, 16.  One period, on-demand,
no headroom, no techniques.  GPU counts and $/h must equal Mélange's (cost within 1e-6 relative).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.units import HOURS_PER_MONTH
from tests.conftest import DATA_DIR

MELANGE = DATA_DIR / "melange"
NO_TECHNIQUES = {t: ["none"] for t in ("quantization", "kv_quantization", "distillation", "caching", "moe")}
TOY_EDGES = [1, 25, 100]


@pytest.fixture(scope="module")
def melange_catalog() -> planner.Catalog:
    return planner.load_catalogs([MELANGE / "prices.toml"], use_env=False)


def scenario(shares: list[list[float]], throughput: dict[str, list[list[float]]], rate: float, k: int,
             edges: list[int] = TOY_EDGES) -> planner.Scenario:
    buckets = {"input_edges": edges, "output_edges": edges, "shares": shares, "total_rate_rps": rate,
               "ttft_ms": 60_000, "tpot_ms": 1_000}
    data: dict[str, Any] = {
        "schema_version": 1, "name": "melange", "model": {"base": "llama-3.1-8b"}, "buckets": buckets,
        "horizon": {"months": 1, "period_months": 1}, "market": {"hardware": list(throughput), "modes": ["on-demand"],
                   "providers": ["melange-example", "melange-syn"]},
        "techniques": NO_TECHNIQUES, "plan": {"split_granularity": k, "pooled_capacity": True},
        "solver": {"gap_rel": 0.0}}
    names = [w["name"] for w in planner.scenario.schema.Buckets.model_validate(buckets).classes()]
    cells = [(i, o) for i in range(len(edges) - 1) for o in range(len(edges) - 1) if shares[i][o] > 0]
    data["measured"] = [{"hardware": hw, "workload": name, "requests_per_s": rows[i][o], "source": "Melange"}
                        for hw, rows in throughput.items() for name, (i, o) in zip(names, cells, strict=True)]
    return planner.scenario_from_dict(data)


def check(plan: planner.Plan, counts: dict[str, int], usd_per_hour: float) -> None:
    assert plan.status == "optimal", plan.message
    got = {f.hardware: f.gpus_in_service for f in plan.fleet if f.period == 0}
    assert {h: n for h, n in got.items() if n} == {h: n for h, n in counts.items() if n}
    assert plan.lifetime_cost_usd / HOURS_PER_MONTH == pytest.approx(usd_per_hour, rel=1e-6)
    assert all(s.measured for s in plan.serving)


E1_SHARES = [[0.2, 0.1], [0.5, 0.2]]
E1_T = {"a10g": [[2, 1], [5, 2]], "a100-80gb": [[20, 20], [40, 20]]}
E2_SHARES = [[0.25, 0.125], [0.375, 0.25]]
E2_T = {"a10g": [[5, 1], [10, 5]], "a100-80gb": [[20, 2], [50, 20]]}


@pytest.mark.parametrize(("rate", "k", "counts", "cost"), [
    (30, 1, {"a10g": 3, "a100-80gb": 1}, 6.70), (30, 4, {"a10g": 2, "a100-80gb": 1}, 5.69),
    (30, 8, {"a10g": 2, "a100-80gb": 1}, 5.69), (30, 16, {"a10g": 2, "a100-80gb": 1}, 5.69),
    (10, 1, {"a100-80gb": 1}, 3.67), (10, 4, {"a100-80gb": 1}, 3.67),
    (60, 1, {"a100-80gb": 3}, 11.01), (60, 4, {"a10g": 3, "a100-80gb": 2}, 10.37),
    (100, 1, {"a100-80gb": 4}, 14.68), (100, 4, {"a100-80gb": 4}, 14.68),
    (300, 1, {"a100-80gb": 12}, 44.04), (300, 4, {"a100-80gb": 12}, 44.04),
])
def test_e1_and_its_rate_sweep(melange_catalog, rate, k, counts, cost) -> None:  # type: ignore[no-untyped-def]
    check(planner.plan(scenario(E1_SHARES, E1_T, rate, k), catalog=melange_catalog), counts, cost)


@pytest.mark.parametrize("k", [1, 4, 8, 16])
@pytest.mark.parametrize(("shares", "rate", "counts", "cost"), [
    (E2_SHARES, 1.0, {"a10g": 1}, 1.01),                          # E2
    (E2_SHARES, 16.0, {"a10g": 5}, 5.05),                         # E3
    ([[0.25, 0.5], [0.25, 0.25]], 16.0, {"a10g": 10}, 10.10),     # E4: shares sum to 1.25, not normalised
])
def test_e2_e3_e4(melange_catalog, shares, rate, counts, cost, k) -> None:  # type: ignore[no-untyped-def]
    check(planner.plan(scenario(shares, E2_T, rate, k), catalog=melange_catalog), counts, cost)


SYN = tomllib.loads((MELANGE / "syn.toml").read_text())
SYN_T = {hw: SYN["throughput"][hw]["rows"] for hw in ("l4", "a10g", "a100-80gb", "h100-sxm")}


@pytest.mark.parametrize("k", [1, 4, 8, 16])
@pytest.mark.parametrize(("rate", "counts", "cost"), [
    (4, {"l4": 2, "a10g": 2}, 3.42), (16, {"l4": 3, "a10g": 1, "h100-sxm": 1}, 10.626),
    (64, {"l4": 7, "a100-80gb": 8, "h100-sxm": 1}, 41.776),
])
def test_syn(melange_catalog, rate, counts, cost, k) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(SYN["shares"], SYN_T, rate, k, SYN["input_edges"]), catalog=melange_catalog)
    check(plan, counts, cost)


PRICE_USD_PER_HOUR = {"a10g": 1.01, "a100-80gb": 3.67, "l4": 0.70}


def brute_force_usd_per_hour(shares: list[list[float]], throughput: dict[str, list[list[float]]], rate: float,
                             k: int) -> float:
    """Every way of giving each bucket's k slices to the GPU types; pooled GPUs = ⌈load⌉ per type."""
    cells = [(i, o) for i in range(2) for o in range(2) if shares[i][o] > 0]
    types = list(throughput)
    # all (slices per type) tuples summing to k, for one bucket
    splits = [c for c in itertools.product(range(k + 1), repeat=len(types)) if sum(c) == k]
    best = math.inf
    for choice in itertools.product(splits, repeat=len(cells)):
        load = dict.fromkeys(types, 0.0)
        for (i, o), split in zip(cells, choice, strict=True):
            for hw, slices in zip(types, split, strict=True):
                if slices:
                    load[hw] += shares[i][o] * rate * slices / k / throughput[hw][i][o]
        best = min(best, sum(PRICE_USD_PER_HOUR[hw] * math.ceil(load[hw] - 1e-9) for hw in types))
    return best


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shares=st.lists(st.floats(0.05, 1.0), min_size=4, max_size=4),
       throughput=st.lists(st.floats(0.5, 40.0), min_size=6, max_size=6),
       rate=st.floats(1.0, 40.0), k=st.sampled_from([1, 2, 3, 4]))
def test_k_split_plans_equal_brute_force(melange_catalog, shares, throughput, rate, k) -> None:  # type: ignore[no-untyped-def]
    """Random 2×2-bucket, 3-type instances: the planner's optimum (through the relaxation's bound
    and its target) is the exhaustive one, whether or not the continuous split is as cheap."""
    grid = [[round(shares[0], 3), round(shares[1], 3)], [round(shares[2], 3), round(shares[3], 3)]]
    tput = {hw: [[round(throughput[2 * h], 3), round(throughput[2 * h + 1], 3)],
                 [round(throughput[2 * h + 1], 3), round(throughput[2 * h], 3)]]
            for h, hw in enumerate(("a10g", "a100-80gb", "l4"))}
    plan = planner.plan(scenario(grid, tput, rate, k), catalog=melange_catalog)
    assert plan.status == "optimal", plan.message
    assert plan.lifetime_cost_usd / HOURS_PER_MONTH == pytest.approx(brute_force_usd_per_hour(grid, tput, rate, k),
                                                                      rel=1e-6)


def test_the_continuous_split_bound_ends_the_search_on_syn(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(SYN["shares"], SYN_T, 64, 4, SYN["input_edges"]), catalog=melange_catalog)
    assert plan.status == "optimal"
    assert "continuous split's bound" in plan.solver.message


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d["measured"].append({**d["measured"][0], "workload": "chat"}), "unknown workload class 'chat'"),
    (lambda d: d["measured"].append({**d["measured"][0], "hardware": "h200"}), "'h200' is not in market.hardware"),
    (lambda d: d["measured"].__setitem__(0, {**d["measured"][0], "requests_per_s": 0}), "greater than 0"),
    (lambda d: d["measured"].__setitem__(0, {**d["measured"][0], "requests_per_s": -2}), "greater than 0"),
    (lambda d: d["measured"].append({**d["measured"][0], "requests_per_s": 99.0}), "disagrees with an earlier row"),
    # a TP the table has no row for switched the hardware off unreplaced, an unknown precision matched nothing:
    (lambda d: d["measured"].__setitem__(0, {**d["measured"][0], "tp": 3}), "TP3 is not a power of two"),
    (lambda d: d["measured"].__setitem__(0, {**d["measured"][0], "precision": "fp9"}), "unknown precision 'fp9'"),
])
def test_bad_measured_rows_are_exit_2_naming_the_row(whatif, tmp_path, change, words) -> None:  # type: ignore[no-untyped-def]
    import json

    data = json.loads(scenario(E1_SHARES, E1_T, 30, 1).model_dump_json())
    data.pop("workload")  # written as buckets only, as a user would
    change(data)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    r = whatif("--catalog", str(MELANGE / "prices.toml"), "plan", str(path), "--estimator-view")
    assert r.code == 2, r.err
    assert "measured" in r.err and words in r.err and "Traceback" not in r.err


def test_measured_and_modelled_figures_are_told_apart(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    """Quantization has no measurement: its deployments come from the roofline, marked as modelled."""
    sc = scenario(E1_SHARES, E1_T, 30, 1)
    data = sc.model_dump(mode="json")
    data["techniques"] = {**NO_TECHNIQUES, "quantization": ["fp8"]}
    data["market"]["hardware"] = ["a10g", "a100-80gb"]
    plan = planner.plan(planner.scenario_from_dict(data), catalog=melange_catalog)
    assert plan.serving and not any(s.measured for s in plan.serving)


def test_a_sweep_over_the_bucket_rate_replans_every_point(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    """The swept scenario is the dumped one, which holds the expanded classes beside [buckets]: their
    volume once stayed at the file's rate at every point (E1 at 10, 30 and 60 all cost the same)."""
    from planner.insight.sweeps import sweep

    rows = sweep(scenario(E1_SHARES, E1_T, 30, 4), vary={"buckets.total_rate_rps": "10,30,60"},
                 executor="inline", overlays=[str(MELANGE / "prices.toml")]).rows
    hourly = [r["lifetime_cost_usd"] / HOURS_PER_MONTH for r in rows]
    assert hourly == pytest.approx([3.67, 5.69, 10.37], rel=1e-6)
