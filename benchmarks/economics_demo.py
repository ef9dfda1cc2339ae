"""The demo under each economics convention: what the all-in model decides and what each convention
is worth (the README's table).  Run: ``python benchmarks/economics_demo.py`` (about a minute)."""

from __future__ import annotations

import sys
from collections import Counter

import planner

#: (label, --set overrides) — each row changes one convention of the new defaults.
VARIANTS: tuple[tuple[str, list[str]], ...] = (
    ("defaults: all-in capex, annuity, 3-month buy lead time, whole servers, spares at their expected share", []),
    ("horizon end: salvage, resale 0.4 of book value", ["horizon.terminal_value=salvage"]),
    ("horizon end: salvage, resale at full book value (round-1 convention)",
     ["horizon.terminal_value=salvage", "market.resale_fraction=1.0"]),
    ("no buy lead time", ["market.lead_time_months.buy=0"]),
    ("buy single GPUs instead of 8-GPU servers", ["market.gpus_per_unit.buy=1"]),
    ("whole spare GPUs held for the expected repairs", ["market.spares=whole"]),
    ("rent only from aws (hyperscaler prices and discounts)", ['market.providers=["aws"]']),
    ("operations overhead 7 %/year (NVIDIA AI Enterprise licence)", ["market.operations_fraction_per_year=0.07"]),
)


def fleet_summary(plan: planner.Plan) -> str:
    gpu_periods = Counter()
    for f in plan.fleet:
        gpu_periods[f"{f.hardware} {f.mode}"] += f.gpus_in_service
    total = sum(gpu_periods.values()) or 1
    return ", ".join(f"{k} {v / total:.0%}" for k, v in gpu_periods.most_common(3))


def main() -> None:
    path = planner.demo_scenario_path()
    print("| convention | status | lifetime cost (PV) | $/M queries | $/M tokens | GPU-periods by hardware and mode |")
    print("|---|---|--:|--:|--:|---|")
    for label, overrides in VARIANTS:
        plan = planner.plan(planner.load_scenario(path, overrides))
        if plan.lifetime_cost_usd is None:
            print(f"| {label} | {plan.status} | – | – | – | {plan.message} |")
            continue
        print(f"| {label} | {plan.status} | ${plan.lifetime_cost_usd:,.0f} | {plan.cost_per_million_queries_usd:,.2f} | "
              f"{plan.cost_per_million_tokens_usd:,.4f} | {fleet_summary(plan)} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
