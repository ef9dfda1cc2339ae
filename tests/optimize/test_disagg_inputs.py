"""Disaggregation inputs that can be wrong (issue 17): plan.kv_links, plan.expert_parallel, quotas vs pools."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import planner
from planner.catalog.store import Catalog
from planner.insight.resolve import AUX_GAP_REL
from tests.conftest import CliResult
from tests.optimize.test_disaggregation import LONG_PROMPTS

CORPUS = Path(__file__).parents[1] / "corpus"


def _scenario(market: dict[str, Any] | None = None, **plan: Any) -> planner.Scenario:
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["plan"] = plan
    if market:
        data["market"].update(market)
    return planner.scenario_from_dict(data)


def test_kv_links_restrict_the_links_pairs_use(catalog: Catalog) -> None:
    plan = planner.plan(_scenario(disaggregation=True, kv_links=["nvlink4"]), catalog=catalog)
    lines = [s for s in plan.serving if s.prefill is not None]
    assert plan.status == "optimal" and lines and {s.link for s in lines} == {"nvlink4"}
    # an intra-node link needs both pools in one 8-GPU server
    assert all(s.prefill.tp + s.decode.tp <= 8 for s in lines if s.prefill and s.decode)
    free = planner.plan(_scenario(disaggregation=True), catalog=catalog)
    assert free.lifetime_cost_usd is not None and plan.lifetime_cost_usd is not None
    assert free.lifetime_cost_usd <= plan.lifetime_cost_usd * (1 + 1e-9)  # fewer links never help


def test_bad_kv_links_exit_2_naming_the_entry(whatif: Callable[..., CliResult], tmp_path: Path) -> None:
    base = (CORPUS / "valid.toml").read_text()
    for links, field, word in ((["ib-ndr", "nvlink99"], "plan.kv_links[1]", "unknown link"),
                               (["nvlink3"], "plan.kv_links[0]", "joins none"),
                               (["ib-ndr", "ib-ndr"], "plan.kv_links[1]", "twice")):
        path = tmp_path / "s.toml"
        path.write_text(base + f"\n[plan]\ndisaggregation = true\nkv_links = {json.dumps(links)}\n")
        r = whatif("plan", str(path))
        assert r.code == 2 and field in r.err and word in r.err, r.err


def test_quota_below_every_pool_is_bad_input_and_too_few_replicas_is_infeasible(
        whatif: Callable[..., CliResult], tmp_path: Path) -> None:
    text = (CORPUS / "disagg-quota-below-pool.toml").read_text()
    r = whatif("plan", str(CORPUS / "disagg-quota-below-pool.toml"))
    assert r.code == 2 and "market.quota_gpus.l40s" in r.err and "4 GPUs" in r.err
    # a quota of 0 ("none of this type") is kept: the plan runs on the H100s
    zero = tmp_path / "zero.toml"
    zero.write_text(text.replace("quota_gpus = { l40s = 2 }", "quota_gpus = { l40s = 0 }"))
    assert whatif("plan", str(zero), "-o", str(tmp_path / "p.txt")).code == 0
    # without disaggregation the same quota is not refused (the type is simply unused)
    off = tmp_path / "off.toml"
    off.write_text(text.replace("disaggregation = true", "disaggregation = false"))
    assert whatif("plan", str(off), "-o", str(tmp_path / "q.txt")).code == 0
    # a quota that hosts a pool but not the replicas the traffic needs: an infeasibility (exit 3)
    few = tmp_path / "few.toml"
    few.write_text(text.replace('hardware = ["l40s", "h100-sxm"]', 'hardware = ["l40s"]')
                   .replace("quota_gpus = { l40s = 2 }", "quota_gpus = { l40s = 8 }")
                   .replace("queries_per_day = 100_000", "queries_per_day = 50_000_000"))
    r = whatif("plan", str(few), "-o", str(tmp_path / "r.txt"))
    assert r.code == 3, (r.code, r.err)


def test_expert_parallel_exits_2_naming_the_field(whatif: Callable[..., CliResult]) -> None:
    for name, word in (("ep-not-dividing", "does not divide"), ("ep-dense-model", "dense model")):
        r = whatif("plan", str(CORPUS / f"{name}.toml"))
        assert r.code == 2 and "plan.expert_parallel" in r.err and word in r.err


def test_explain_a_disaggregated_plan_shows_the_best_colocated_cost(whatif: Callable[..., CliResult],
                                                                   tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "disaggregated.toml"
    out = tmp_path / "e.md"
    assert whatif("explain", str(example), "--no-sensitivity", "--alternatives", "0", "-o", str(out)).code == 0
    colocated = planner.plan(planner.load_scenario(example, ["plan.disaggregation=false"]))
    assert colocated.lifetime_cost_usd is not None
    line = next(x for x in out.read_text().splitlines() if "disaggregated serving (vs co-located only)" in x)
    # the re-solve runs at the auxiliary gap (planner.insight.resolve.AUX_GAP_REL): within it of the optimum
    shown = float(line.rsplit("without it $", 1)[1].rstrip(")").replace(",", ""))
    assert "saves" in line and colocated.lifetime_cost_usd - 1 <= shown <= colocated.lifetime_cost_usd * (1 + AUX_GAP_REL)
