"""Disaggregated deployments (issue 17): cost and solve time with ``plan.disaggregation`` on and off.

1. ``examples/disaggregated.toml`` (long prompts, tight TPOT, H100 + H200): the co-located optimum
   against the plan with prefill/decode pairs, and the pairs it picks.
2. The built-in demo with disaggregation off and on (pair columns on the same numpy-built path):
   lifetime cost, status, gap, candidate rows and columns, pair-building and solve seconds.
   Each run is one fresh solve in this process, limited by the scenario's (default) time limit; the
   machine's load changes the seconds, not the counts.

Run: ``python benchmarks/disaggregation.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import planner
from planner import api

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "disaggregated.toml"
#: The pair-enumeration counters the planner records in ``solver.pruning``.
PAIR_STATS = ("disagg_decode_rows", "disagg_prefill_rows", "disagg_pairs_feasible", "disagg_domain_unit_columns",
              "disagg_columns")


def run(path: Path, disaggregation: bool) -> tuple[planner.Plan, float]:
    scenario = planner.load_scenario(path, [f"plan.disaggregation={str(disaggregation).lower()}"])
    start = time.perf_counter()
    plan = planner.plan(scenario)
    return plan, time.perf_counter() - start


def describe(label: str, plan: planner.Plan, wall_s: float) -> None:
    cost = f"${plan.lifetime_cost_usd:,.0f}" if plan.lifetime_cost_usd is not None else "none"
    solver = plan.solver
    gap = f", gap {solver.gap:.2%}" if solver is not None and solver.gap else ""
    print(f"{label}: {cost} ({plan.status}{gap}); solve {plan.timings.get('solve_s', 0):.2f} s, "
          f"wall {wall_s:.2f} s")
    if solver is not None and solver.pruning:
        counts = ", ".join(f"{k} {solver.pruning[k]:,}" for k in ("columns", *PAIR_STATS) if k in solver.pruning)
        print(f"    co-located columns and pairs: {counts}; model {solver.variables:,} variables, "
              f"{solver.constraints:,} rows; pair building {plan.timings.get('disaggregation_columns_s', 0):.2f} s")
    for s in plan.serving:
        if s.period == 0:
            pools = (f"prefill {s.prefill.hardware} TP{s.prefill.tp} x{s.prefill.replicas} + decode "
                     f"{s.decode.hardware} TP{s.decode.tp} x{s.decode.replicas} over {s.link} "
                     f"({s.link_utilisation:.1%})" if s.prefill and s.decode else
                     f"{s.hardware} TP{s.tp} x{s.replicas}")
            print(f"    period 0 {s.workload}: {pools}, share {s.traffic_share:.0%}")


def main() -> None:
    for path, name in ((EXAMPLE, "examples/disaggregated.toml"), (api.demo_scenario_path(), "demo")):
        off, off_s = run(path, False)
        on, on_s = run(path, True)
        describe(f"{name}, co-located only", off, off_s)
        describe(f"{name}, disaggregation allowed", on, on_s)
        if off.lifetime_cost_usd and on.lifetime_cost_usd:
            print(f"    disaggregated vs co-located: {on.lifetime_cost_usd / off.lifetime_cost_usd - 1:+.1%}")


if __name__ == "__main__":
    main()
