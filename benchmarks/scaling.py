"""Solve time as the demo grows in periods and in variants, on the numpy-built path and on the PuLP path it replaced.

    python benchmarks/scaling.py [--only after|before]

The cases are the speed issue's scaling axes:

* **periods**: the demo's quarterly periods at 4, 8, 12, 24 and 36 (``horizon.months`` 12 … 108; the
  demo's 40 variants);
* **variants**: 24, 96 and 192 candidate variants at the demo's 12 quarters, every one allowed past
  the quality floor (``quality.max_drop = 100``), made from the technique lists in :data:`VARIANTS`
  (the count printed is the number of variants the plan screened).

"after" is the planner as it runs: numpy-built models handed to HiGHS, exact variant screening with
starts, unions and cutoffs (``planner/optimize/direct_path.py``).  "before" is the same planner forced
onto the PuLP-built path that method replaced, which still solves split-granularity and pooled-capacity
plans: a PuLP model per variant bounded by its LP relaxation, solved by HiGHS with its defaults below
the incumbent, then the model of the variants left (``planning._screen_variants``).  Both run the same
catalog, physics and candidate columns, one in-process run per cell, the default 60 s limit; a cell
that stops there is ``feasible`` with its gap.  Wall seconds of one run: read them with the load
average printed at the top.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

import planner
from planner.optimize import planning

try:  # imported as benchmarks.<name> (tests) or run as a script (its directory first on sys.path)
    from benchmarks.machine import machine_line
except ModuleNotFoundError:
    from machine import machine_line  # type: ignore[no-redef]

SEMANTIC = ['techniques.caching=["none","prefix","response","semantic"]',
            "technique_settings.caching.semantic_hit_rate=0.3"]
#: Overrides of the demo that give 24, 96 and 192 candidate variants, all past the quality floor.
VARIANTS: dict[int, list[str]] = {
    24: ['techniques.quantization=["none","fp8","int8"]', 'techniques.kv_quantization=["none"]',
         'techniques.distillation=["none","llama-2-70b"]'],
    96: [*SEMANTIC, 'techniques.kv_quantization=["none"]',
         'techniques.distillation=["none","llama-2-13b","llama-2-70b","mixtral-8x7b"]'],
    192: [*SEMANTIC, 'techniques.kv_quantization=["none","kv-int4"]',
          'technique_settings.kv_quantization.quality_retention={"kv-int4"=0.985}',
          'techniques.distillation=["none","llama-2-13b","llama-2-70b","mixtral-8x7b"]'],
}
#: Quarterly periods of the periods axis (the demo has 12).
PERIODS = (4, 8, 12, 24, 36)


@contextlib.contextmanager
def pulp_path() -> Iterator[None]:
    """Plans solved on the PuLP-built path (the numpy-built one declared not applicable)."""
    original = planning.direct_applies
    planning.direct_applies = lambda scenario, name: False
    try:
        yield
    finally:
        planning.direct_applies = original


def cell(overrides: list[str], before: bool) -> tuple[str, object]:
    """One plan: its status (with the gap when it stopped at the limit), cost and wall seconds, and the
    number of variants it screened."""
    scenario = planner.load_scenario(planner.demo_scenario_path(), overrides)
    with pulp_path() if before else contextlib.nullcontext():
        start = time.perf_counter()
        plan = planner.plan(scenario)
        seconds = time.perf_counter() - start
    cost = f"${plan.lifetime_cost_usd:,.0f}" if plan.lifetime_cost_usd is not None else "-"
    gap = plan.solver.gap if plan.solver is not None else None
    status = plan.status + (f", gap {gap:.2%}" if plan.status == "feasible" and gap is not None else "")
    screened = plan.solver.pruning.get("variants_screened", "-") if plan.solver is not None else "-"
    return f"{status} {cost} | {seconds:.1f}", screened


def row(label: str, overrides: list[str], sides: list[bool]) -> None:
    results = [cell(overrides, before) for before in sides]
    screened = results[-1][1]
    print(f"| {label} ({screened} screened) | {' | '.join(text for text, _ in results)} |", flush=True)


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    sides = [side == "before" for side in ("before", "after") if only in (None, side)]
    planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12"]))  # imports, catalog
    print(machine_line())
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    heads = [("before (PuLP path)" if s else "after (numpy path)") for s in sides]
    print("| case | " + " | ".join(f"{h}: status, cost | s" for h in heads) + " |")
    print("|---|" + "---|--:|" * len(sides))
    for periods in PERIODS:
        row(f"{periods} quarterly periods", [f"horizon.months={3 * periods}"], sides)
    for count, overrides in VARIANTS.items():
        row(f"{count} candidate variants, 12 quarters", ["quality.max_drop=100", *overrides], sides)


if __name__ == "__main__":
    main()
