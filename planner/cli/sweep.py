"""``whatif sweep``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from planner import api
from planner.cli.common import emit, force_option, guard_output, overlay_paths, scenario_inputs
from planner.errors import InputError
from planner.insight.sweeps import SweepResult
from planner.insight.sweeps import sweep as run_sweep
from planner.output import json_document
from planner.report import sweep_view
from planner.report.charts import require_plot_extra

#: Exit code of a sweep in which some points failed (every row is still written; README, exit codes).
EXIT_POINTS_FAILED = 5
#: Exit code of a sweep with ``--plot`` in which no point has a plan (all infeasible): the rows are
#: printed, the chart is not drawn (README, exit codes: 3 = infeasible).
EXIT_NOTHING_TO_PLOT = 3


def _vary(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        path, sep, spec = item.partition("=")
        if not sep or not path.strip() or not spec.strip():
            raise InputError(f"expected PATH=SPEC, got '{item}'", "--vary")
        out[path.strip()] = spec.strip()
    return out


@click.command("sweep")
@click.argument("scenario", required=False, type=click.Path())
@click.option("--vary", "vary", multiple=True, metavar="PATH=SPEC",
              help="Values of a field: a,b,c | lo..hi:n | lo..hi:log:n (repeatable: a grid).")
@click.option("--zip", "zip_axes", is_flag=True, help="Pair the --vary lists instead of crossing them.")
@click.option("--samples", type=int, default=None, help="Monte Carlo draws from the scenario's [uncertainty] table.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the Monte Carlo draws.")
@click.option("--workers", type=int, default=1, show_default=True, help="Processes (local pool or local Dask).")
@click.option("--executor", default=None, metavar="local|inline|dask|dask://HOST:PORT",
              help="Where plans run [default: a local process pool].")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="Override a scenario field (repeatable).")
@click.option("-o", "--output", type=click.Path(), default=None, help="Stream rows to FILE (.csv or .jsonl).")
@click.option("--resume", is_flag=True, help="Continue an interrupted sweep in --output, skipping finished points.")
@click.option("--plot", type=click.Path(), default=None, help="Draw cost against the first swept input (.svg, .png or .pdf, from the suffix).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@force_option
@click.pass_context
def sweep_cmd(ctx: click.Context, scenario: str | None, vary: Sequence[str], zip_axes: bool, samples: int | None,
              seed: int, workers: int, executor: str | None, overrides: Sequence[str], output: str | None,
              resume: bool, plot: str | None, fmt: str) -> None:
    """Plan a scenario at many points: a grid of inputs or Monte Carlo draws, in parallel.

    \b
    Examples:
      whatif sweep --vary workload.chat.queries_per_day=1e5..1e9:log:9 -o demand.csv --plot demand.svg
      whatif sweep scenario.toml --vary market.price_scale=0.7,1,1.3 --vary workload.chat.tpot_ms=50..200:4
      whatif sweep scenario.toml --samples 200 --seed 7 --workers 2 -o mc.jsonl
      whatif sweep scenario.toml --vary horizon.growth_per_year=0..2:9 --executor dask://10.0.0.5:8786
    """
    scenario_path = scenario or str(api.demo_scenario_path())
    read = scenario_inputs(scenario_path, overrides) if output or plot else []  # and the files it names
    guard_output(ctx, plot, *read, output, flag="--plot")
    guard_output(ctx, output, *read)
    _check_extras(plot, executor)
    if resume and not output:
        raise InputError("--resume needs --output (the file to continue)", "--resume")
    sc = api.load_scenario(scenario_path, overrides)
    axes = _vary(vary)
    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                  console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("sweep", total=None)
        result = run_sweep(sc, vary=axes or None, zip_axes=zip_axes, samples=samples, seed=seed,
                           workers=workers, executor=executor, output=output, resume=resume,
                           overlays=overlay_paths(ctx),
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    emit(json_document(result.model_dump(mode="json"), kind="sweep") if fmt == "json" else sweep_view.text(result),
         None)
    drawn = _draw(result, plot, None if samples is not None else _first_spec_is_log(axes or dict(sc.sweep.vary)))
    failed = sum(1 for row in result.rows if row.get("status") == "error")
    if failed:
        click.echo(f"whatif: {failed} of {len(result.rows)} point(s) failed (their rows hold the error)", err=True)
        ctx.exit(EXIT_POINTS_FAILED)
    if not drawn:
        ctx.exit(EXIT_NOTHING_TO_PLOT)


def _check_extras(plot: str | None, executor: str | None) -> None:
    """Before any work: the --plot suffix, and the extras the options the user passed need."""
    if plot:
        sweep_view.plot_format(plot)
        require_plot_extra("--plot")
    if executor and executor.startswith("dask") and importlib.util.find_spec("distributed") is None:
        raise InputError("needs the [dask] extra: pip install 'whatif-planner[dask]'", f"--executor {executor}")


def _first_spec_is_log(axes: dict[str, str]) -> bool:
    """Is the first swept input a log range (``lo..hi:log:n``)? Then the chart's x axis is logarithmic."""
    spec = next(iter(axes.values()), "")
    return ".." in spec and spec.partition("..")[2].split(":")[1:2] == ["log"]


def _draw(result: SweepResult, plot: str | None, log_x: bool | None) -> bool:
    """Draw ``--plot`` (rows are already printed); False, with one line on stderr, when no point has a plan."""
    if not plot:
        return True
    try:
        sweep_view.plot(result, plot, log_x=log_x)
    except sweep_view.NothingToPlot as exc:
        click.echo(f"whatif: {exc}", err=True)
        return False
    return True
