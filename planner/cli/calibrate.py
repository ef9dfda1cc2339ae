"""``whatif calibrate``."""

from __future__ import annotations

import datetime as dt

import click

from planner import api
from planner.cli.common import emit, force_option, guard_output, load_catalog
from planner.errors import InputError
from planner.output import to_json, write_atomic
from planner.physics.calibrate import calibrate, case_model_files, overlay_toml

#: The example measurements file shipped with the package (printed by ``--example``).
EXAMPLE_FILE = "calibration-example.toml"


@click.command("calibrate")
@click.argument("measurements", required=False, type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write the fitted factors as a catalog overlay (apply with --catalog FILE).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--example", is_flag=True, help="Print an example measurements file (published H100 figures) and exit.")
@force_option
@click.pass_context
def calibrate_cmd(ctx: click.Context, measurements: str | None, output: str | None, fmt: str, example: bool) -> None:
    """Fit efficiency factors (per hardware x precision) to your own measurements.

    MEASUREMENTS is a TOML file of [[case]] rows: id, model, hardware, precision, tp, input_tokens,
    output_tokens, metric (output_tokens_per_s, ttft_ms, tpot_ms, prefill_ms, decode_step_ms) and
    published (the measured value); optional kv_precision, gpus, batch, max_batch, source. Unknown
    keys are refused. `whatif calibrate --example` prints a complete file.

    \b
    Example:
      whatif calibrate --example > my-benchmarks.toml   # then edit in your own figures
      whatif calibrate my-benchmarks.toml -o my-efficiency.toml
      whatif --catalog my-efficiency.toml plan scenario.toml
    """
    if example:
        guard_output(ctx, output)  # a read-only or non-regular target is refused here too (no --force)
        emit((api.demo_scenario_path().parent / EXAMPLE_FILE).read_text(encoding="utf-8"), output)
        return
    if not measurements:
        raise InputError("missing: give the measurements file (whatif calibrate --example prints one)",
                         "MEASUREMENTS")
    guard_output(ctx, output, measurements, *(case_model_files(measurements) if output else []))
    result = calibrate(measurements, load_catalog(ctx))
    if output:
        write_atomic(output, overlay_toml(result, measurements, dt.date.today().isoformat()))
    for warning in result.warnings:
        click.echo(f"whatif: warning: {warning}", err=True)
    if fmt == "json":
        emit(to_json(result), None)
        return
    emit(_text(result, output), None)


def _text(result, output: str | None) -> str:  # type: ignore[no-untyped-def]
    lines = [f"{f.hardware} {f.precision}: compute {f.compute:.3f}, memory {f.memory:.3f} — {f.note}"
             for f in result.factors]
    lines += [f"  {r.id} {r.metric}: measured {r.measured:,.4g}, before "
              f"{'-' if r.before is None else f'{r.before:,.4g}'}, after {'-' if r.after is None else f'{r.after:,.4g}'}"
              for r in result.rows]
    lines.append(f"median |error|: {result.median_abs_error_before:.1%} before, {result.median_abs_error_after:.1%} after")
    if output:
        lines.append(f"overlay written to {output}")
    return "\n".join(lines) + "\n"
