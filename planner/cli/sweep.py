"""``whatif sweep``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from planner import api
from planner.cli.common import emit, force_option, guard_output, overlay_paths
from planner.errors import InputError
from planner.insight.sweeps import sweep as run_sweep
from planner.report import sweep_view

#: Exit code of a sweep in which some points failed (every row is still written; README, exit codes).
EXIT_POINTS_FAILED = 5


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
@click.option("--plot", type=click.Path(), default=None, help="Draw cost against the first swept input (.png/.svg).")
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
    guard_output(ctx, plot, scenario_path, output, flag="--plot")
    guard_output(ctx, output, scenario_path)
    if resume and not output:
        raise InputError("--resume needs --output (the file to continue)", "--resume")
    sc = api.load_scenario(scenario_path, overrides)
    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                  console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("sweep", total=None)
        result = run_sweep(sc, vary=_vary(vary) or None, zip_axes=zip_axes, samples=samples, seed=seed,
                           workers=workers, executor=executor, output=output, resume=resume,
                           overlays=overlay_paths(ctx),
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    if plot:
        sweep_view.plot(result, plot)
    emit(json.dumps(result.model_dump(mode="json"), indent=2) + "\n" if fmt == "json" else sweep_view.text(result),
         None)
    failed = sum(1 for row in result.rows if row.get("status") == "error")
    if failed:
        click.echo(f"whatif: {failed} of {len(result.rows)} point(s) failed (their rows hold the error)", err=True)
        ctx.exit(EXIT_POINTS_FAILED)
