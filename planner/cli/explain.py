"""``whatif explain`` and ``whatif breakeven``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from planner import api
from planner.cli.common import FormatChoice, busy, emit, force_option, guard_scenario_output, load_catalog
from planner.insight.break_even import breakeven as run_breakeven
from planner.insight.explanation import ALTERNATIVES, DEFAULT_SENSITIVITY, MAX_ALTERNATIVES, explain, explain_steps
from planner.insight.resolve import DEFAULT_WORKERS
from planner.insight.sensitivity import MAX_SENSITIVITY_DELTA
from planner.output import to_json
from planner.report import breakeven_view, documents
from planner.report.charts import require_plot_extra

FORMATS = FormatChoice(["table", "json", "markdown", "html"])
#: Exit codes of ``whatif breakeven`` by verdict (as ``whatif plan``: 3 infeasible, 4 no plan).
BREAKEVEN_EXIT_CODES = {"infeasible": 3, "undetermined": 4}
#: Exit codes of an explanation whose plan is not a plan (those of ``whatif plan``).
PLAN_EXIT_CODES = {"infeasible": 3, "no plan": 4}


@click.command("explain")
@click.argument("scenario", required=False, type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a scenario field (repeatable).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--alternatives", type=click.IntRange(0, MAX_ALTERNATIVES), default=ALTERNATIVES, show_default=True,
              help="Next-best plans with a different variant.")
@click.option("--sensitivity", "delta", type=click.FloatRange(0, MAX_SENSITIVITY_DELTA, min_open=True),
              default=DEFAULT_SENSITIVITY,
              show_default=True, help="Relative change of each key input (0 < d <= 0.9).")
@click.option("--no-sensitivity", is_flag=True, help="Skip the sensitivity re-solves.")
@click.option("--workers", type=click.IntRange(1, 256), default=DEFAULT_WORKERS, show_default=True,
              help="Processes for the baseline and sensitivity re-solves, beside this one "
                   "(the figures do not depend on it).")
@click.option("-o", "--output", type=click.Path(), help="Write to FILE (atomically) instead of stdout.")
@force_option
@click.pass_context
def explain_cmd(ctx: click.Context, scenario: str | None, overrides: Sequence[str], fmt: str, alternatives: int,
                delta: float, no_sensitivity: bool, workers: int, output: str | None) -> None:
    """Why this plan: savings against the baseline, binding constraints, shadow prices,
    alternatives and sensitivity (re-solves the plan about 20 times on the demo; shows progress).

    \b
    Examples:
      whatif explain                                    # the demo
      whatif explain scenario.toml --format html -o review.html
      whatif explain scenario.toml --no-sensitivity --format json
    """
    if fmt == "html":
        require_plot_extra("--format html")  # before the re-solves, not after them
    path = scenario or str(api.demo_scenario_path())
    guard_scenario_output(ctx, output, path, overrides)
    sc = api.load_scenario(path, overrides)
    sens = None if no_sensitivity else delta
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
        catalog = load_catalog(ctx)
        task = bar.add_task("explaining", total=explain_steps(sc, catalog, alternatives, sens))
        result = explain(sc, catalog, alternatives=alternatives, sensitivity_delta=sens, workers=workers,
                         progress=lambda label: bar.update(task, advance=1, description=label))
    emit(to_json(result) if fmt == "json" else documents.explanation_document(fmt, result, sc, catalog),
         output)
    if result.plan.status == "infeasible":  # as whatif plan: the report says why, the exit code that it failed
        ctx.exit(PLAN_EXIT_CODES["infeasible"])
    if result.plan.lifetime_cost_usd is None:
        ctx.exit(PLAN_EXIT_CODES["no plan"])


@click.command("breakeven")
@click.argument("scenario", required=False, type=click.Path())
@click.option("--option", "option", required=True, metavar="TECH:OPTION", help="e.g. distillation:llama-3.1-8b")
@click.option("--over", default=None, metavar="PATH",
              help="Numeric scenario field to vary [default: demand, a factor on every class's queries/day].")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a scenario field (repeatable).")
@click.option("--format", "fmt", type=FormatChoice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to FILE (atomically) instead of stdout.")
@force_option
@click.pass_context
def breakeven_cmd(ctx: click.Context, scenario: str | None, option: str, over: str | None, overrides: Sequence[str],
                  fmt: str, output: str | None) -> None:
    """The demand (or other input) at which OPTION's one-time cost is repaid, by re-solving.

    Exit code 0 with an answer (pays from a value, or never within the range), 3 when the plan with
    OPTION is infeasible (the output names the requirement it breaks), 4 when a solve gave no plan.

    \b
    Examples:
      whatif breakeven --option caching:prefix
      whatif breakeven scenario.toml --option distillation:llama-3.1-8b --over workload.chat.queries_per_day
    """
    path = scenario or str(api.demo_scenario_path())
    guard_scenario_output(ctx, output, path, overrides)
    sc = api.load_scenario(path, overrides)
    with busy(f"break-even of {option}: re-solving with and without it"):
        result = run_breakeven(sc, load_catalog(ctx), option, over)
    render_fn = {"json": to_json, "markdown": breakeven_view.breakeven_markdown, "table": breakeven_view.breakeven_text}[fmt]
    emit(render_fn(result), output)
    if result.verdict in BREAKEVEN_EXIT_CODES:
        ctx.exit(BREAKEVEN_EXIT_CODES[result.verdict])
