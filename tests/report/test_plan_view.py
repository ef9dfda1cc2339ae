"""The plan's headline: a plan stopped at a limit is printed with its interval, a proven one as a figure."""

from __future__ import annotations

import planner
from planner.plan_model import open_bound
from planner.report.plan_view import headline


def test_a_plan_stopped_at_a_limit_heads_with_its_interval() -> None:
    demo = planner.demo_scenario_path()
    stopped = planner.plan(planner.load_scenario(demo, ["horizon.months=12", "solver.node_limit=1"]))
    proven = planner.plan(planner.load_scenario(demo, ["horizon.months=12"]))
    assert stopped.status == "feasible" and proven.status == "optimal"
    bound = open_bound(stopped)
    assert bound is not None and stopped.lifetime_cost_usd is not None and proven.lifetime_cost_usd is not None
    assert bound <= proven.lifetime_cost_usd * (1 + 1e-9) and proven.lifetime_cost_usd <= stopped.lifetime_cost_usd * (1 + 1e-9)
    line = next(x for x in headline(stopped, timings=False) if x.startswith("not proven optimal"))
    assert f"[${bound:,.0f}, ${stopped.lifetime_cost_usd:,.0f}]" in line and "node limit" in line
    cost_line = next(x for x in headline(stopped, timings=False) if x.startswith("lifetime cost"))
    assert cost_line.startswith(f"lifetime cost [${bound:,.0f}, ${stopped.lifetime_cost_usd:,.0f}] (feasible")
    assert open_bound(proven) is None
    assert not any(x.startswith("not proven optimal") for x in headline(proven, timings=False))
    assert any(x.startswith(f"lifetime cost ${proven.lifetime_cost_usd:,.0f} (") for x in headline(proven))


def test_the_headline_prints_the_horizon_end_apart_from_recurring_spend() -> None:
    """Under salvage, ``recurring_cost_usd`` is net of the resale credit; the headline prints the spend
    and the credit apart, and they add up to the lifetime cost with the one-time work."""
    import re

    sc = planner.load_scenario(planner.demo_scenario_path(), [
        "horizon.months=12", "horizon.terminal_value=salvage", 'market.modes=["buy", "reserved-1y"]',
        "market.lead_time_months.buy=0", "market.resale_fraction=0.9"])
    plan = planner.plan(sc)
    assert plan.lifetime_cost_usd is not None and abs(plan.horizon_end_settlement_usd) > 1.0
    line = next(x for x in headline(plan) if x.startswith("lifetime cost"))
    got = re.search(r"one-time \$([\d,]+), recurring \$([\d,]+), horizon end ([+−])\$([\d,]+);", line)
    assert got, line
    one, recurring, settled = (float(got.group(i).replace(",", "")) for i in (1, 2, 4))
    settled *= -1.0 if got.group(3) == "−" else 1.0
    assert settled == round(plan.horizon_end_settlement_usd)
    assert recurring == round(plan.lifetime_cost_usd - plan.one_time_cost_usd - plan.horizon_end_settlement_usd)
    assert one + recurring + settled == __import__("pytest").approx(plan.lifetime_cost_usd, abs=2.0)


def test_the_plan_json_carries_the_bound_of_a_stopped_plan_and_null_for_a_proven_one(whatif) -> None:  # type: ignore[no-untyped-def]
    import json

    demo = str(planner.demo_scenario_path())
    stopped = json.loads(whatif("plan", demo, "--set", "horizon.months=12", "--set", "solver.node_limit=1",
                                "--format", "json").out)
    proven = json.loads(whatif("plan", demo, "--set", "horizon.months=12", "--format", "json").out)
    assert stopped["status"] == "feasible" and proven["status"] == "optimal"
    assert stopped["bound_usd"] == stopped["lifetime_cost_usd"] * (1 - stopped["solver"]["gap"])
    assert stopped["bound_usd"] <= proven["lifetime_cost_usd"] * (1 + 1e-9)
    assert proven["lifetime_cost_usd"] <= stopped["lifetime_cost_usd"] * (1 + 1e-9)
    assert proven["bound_usd"] is None
    # a plan read back from its JSON gives the same bound
    assert planner.Plan.model_validate(stopped).bound_usd == stopped["bound_usd"]


def test_the_solver_line_says_how_the_variants_were_screened(catalog) -> None:  # type: ignore[no-untyped-def]
    """Both screening paths (one slice; the daily-load example's time slices) name how many variants
    were screened, bounded by a relaxation and searched — the rest closed by a bound alone."""
    from pathlib import Path

    from planner.report.build import build_report

    example = Path(__file__).resolve().parents[2] / "examples" / "daily-load.toml"
    for sc in (planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12"]),
               planner.load_scenario(example, [])):
        plan = planner.plan(sc, catalog=catalog)
        counters = plan.solver.pruning  # type: ignore[union-attr]
        assert counters["variants_screened"] >= 2
        line = build_report(plan, sc, catalog).solver
        assert (f"; {counters['variants_screened']} variants screened: {counters['variants_lp_bounded']} bounded by "
                "their relaxation, ") in line
        assert counters["variants_lp_bounded"] <= counters["variants_screened"]
