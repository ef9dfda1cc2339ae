"""``whatif calibrate``."""

from __future__ import annotations

import datetime as dt

import click

from planner.cli.common import emit, force_option, guard_output, load_catalog
from planner.output import to_json, write_atomic
from planner.physics.calibrate import calibrate, overlay_toml


@click.command("calibrate")
@click.argument("measurements", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write the fitted factors as a catalog overlay (apply with --catalog FILE).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@force_option
@click.pass_context
def calibrate_cmd(ctx: click.Context, measurements: str, output: str | None, fmt: str) -> None:
    """Fit efficiency factors (per hardware x precision) to your own measurements.

    MEASUREMENTS is a TOML file of [[case]] rows (the format of tests/data/calibration_cases.toml).

    \b
    Example:
      whatif calibrate my-benchmarks.toml -o my-efficiency.toml
      whatif --catalog my-efficiency.toml plan scenario.toml
    """
    guard_output(ctx, output, measurements)
    result = calibrate(measurements, load_catalog(ctx))
    if output:
        write_atomic(output, overlay_toml(result, measurements, dt.date.today().isoformat()))
    if fmt == "json":
        emit(to_json(result), None)
        return
    lines = [f"{f.hardware} {f.precision}: compute {f.compute:.3f}, memory {f.memory:.3f} — {f.note}"
             for f in result.factors]
    lines += [f"  {r.id} {r.metric}: measured {r.measured:,.4g}, before "
              f"{'-' if r.before is None else f'{r.before:,.4g}'}, after {'-' if r.after is None else f'{r.after:,.4g}'}"
              for r in result.rows]
    lines.append(f"median |error|: {result.median_abs_error_before:.1%} before, {result.median_abs_error_after:.1%} after")
    if output:
        lines.append(f"overlay written to {output}")
    emit("\n".join(lines) + "\n", None)
