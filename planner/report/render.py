"""Render results as a terminal table (rich), JSON or Markdown."""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from planner.insight.preview import Preview
from planner.physics.deployment import Estimate
from planner.physics.training import TrainingCost

#: Tables are laid out for this many columns when neither ``COLUMNS`` nor a terminal says otherwise
#: (pipes, files, CI: the same bytes everywhere; readable in a 100-column review window).
TABLE_WIDTH_COLUMNS = 100
#: Narrowest layout used, whatever the terminal says (below it every cell wraps to a few letters).
MIN_TABLE_WIDTH_COLUMNS = 40


def table_width_columns() -> int:
    """Columns to lay tables out in: ``$COLUMNS`` when it is a whole number (the user's explicit
    choice, also for pipes), else the width of the terminal standard output is, else
    ``TABLE_WIDTH_COLUMNS`` — never less than ``MIN_TABLE_WIDTH_COLUMNS``."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return max(MIN_TABLE_WIDTH_COLUMNS, int(env))
    try:
        if sys.stdout.isatty():
            return max(MIN_TABLE_WIDTH_COLUMNS, os.get_terminal_size(sys.stdout.fileno()).columns)
    except (AttributeError, OSError, ValueError):  # no real file behind stdout (captured, closed)
        pass
    return TABLE_WIDTH_COLUMNS


def _table_text(*tables: Table) -> str:
    """``tables`` laid out in :func:`table_width_columns`; a cell too wide for a narrow terminal wraps
    (``fold``) instead of being cut with an ellipsis — a number is never shown truncated."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=table_width_columns(), force_terminal=False, color_system=None)
    for table in tables:
        for column in table.columns:
            column.overflow = "fold"
        console.print(table)
    return buffer.getvalue()


def _kv_table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(key, value)
    return table


def estimate_table(e: Estimate) -> str:
    fallback = f" (runs at {e.compute_dtype_used}: no {e.precision} tensor cores)" if e.precision_fallback else ""
    rows = [
        ("model", e.model),
        ("hardware", f"{e.hardware} x{e.gpus} ({e.replicas} replica(s) of TP{e.tp})"),
        ("precision", f"{e.precision}, KV {e.kv_precision}{fallback}"),
        ("request", f"{e.input_tokens} in / {e.output_tokens} out tokens"),
        ("batch", f"{e.batch} per replica (largest that fits: {e.max_batch})"),
        ("TTFT", f"{e.ttft_ms:,.1f} ms (prefill alone {e.prefill_ms:,.1f} ms)"),
        ("TPOT", f"{e.tpot_ms:,.2f} ms (decode step {e.decode_step_ms:,.2f} ms)"),
        ("throughput", f"{e.output_tokens_per_s:,.0f} output tok/s, {e.requests_per_s:,.2f} req/s"),
        ("memory per GPU", f"{e.memory_gb_per_gpu:,.1f} GB (weights {e.weight_gb_per_gpu:,.1f} GB)"),
        ("bound", e.bound),
        ("efficiency", f"compute {e.compute_efficiency:.2f}, memory {e.memory_efficiency:.2f}" + (
            "" if e.engine_speed == 1.0 else
            f" (the row's {e.row_compute_efficiency:.2f}, {e.row_memory_efficiency:.2f} x{e.engine_speed:.2f} "
            f"{e.engine}, at most 1)")),
        ("engine", e.engine + ("" if e.engine_speed == 1.0 else f" (x{e.engine_speed:.2f} speed, catalogs/engines.toml)")),
        ("calibration", f"{e.calibration_group}" + ("" if e.calibrated else
                                                      f" (uncalibrated: no published {e.precision} measurement "
                                                      f"of {e.hardware})")),
    ]
    if e.output_tokens_per_s_range is not None and e.tpot_ms_range is not None:
        lo, hi = e.output_tokens_per_s_range
        rows.append(("P10-P90 (held out)", f"{lo:,.0f}-{hi:,.0f} output tok/s; TPOT {e.tpot_ms_range[0]:,.2f}-"
                                           f"{e.tpot_ms_range[1]:,.2f} ms"))
    if e.draft is not None:
        rows.insert(7, ("speculative", f"draft {e.draft} proposing {e.draft_tokens} tokens at acceptance "
                                       f"{e.acceptance_rate:g}: {e.tokens_per_pass:.2f} tokens per target pass"))
    return _table_text(_kv_table("whatif estimate", rows)) + overlay_line(e.catalog_overlays)


def training_table(t: TrainingCost) -> str:
    cost = f"${t.cost_usd:,.0f}" if t.cost_usd is not None else "no on-demand price in the catalog"
    rows = [
        ("work", f"{t.flops:.3e} FLOPs ({t.note})"),
        ("hardware", f"{t.hardware}, {t.dtype} dense peak {t.peak_tflops:,.1f} TFLOPS at MFU {t.mfu:.2f}"),
        ("GPU-hours", f"{t.gpu_hours:,.0f}"),
        ("cost", cost),
        ("price", f"${t.price_usd_per_gpu_hour}/GPU-h: {t.price_source}" if t.price_source else "-"),
    ]
    return _table_text(_kv_table("whatif training-cost", rows)) + overlay_line(t.catalog_overlays)


def preview_table(p: Preview) -> str:
    table = Table(title=f"{p.scenario}: {p.model} — estimator view: cheapest feasible deployment per request class",
                  title_justify="left")
    for name in ("class", "hardware", "techniques", "TP", "batch", "TTFT ms", "TPOT ms", "GPUs", "$/h", "$/M out"):
        table.add_column(name, justify="right" if name[0].isupper() or name[0] in "b$" else "left")
    for r in p.rows:  # a measured capacity: no modelled batch; its latencies are at most the targets
        batch, ttft, tpot = (("measured", f"≤{r.ttft_ms:,.0f}", f"≤{r.tpot_ms:,.1f}") if r.measured
                             else (str(r.batch), f"{r.ttft_ms:,.0f}", f"{r.tpot_ms:,.1f}"))
        table.add_row(r.workload, r.hardware, short_variant(r.variant), str(r.tp), batch, ttft, tpot,
                      str(r.gpus), f"{r.usd_per_hour:,.2f}", f"{r.usd_per_million_output_tokens:,.3f}")
    text = _table_text(table)
    for miss in p.infeasible:
        text += f"  {miss.workload} on {miss.hardware}: {miss.reason}\n"
    return text + f"\n{p.note}\n" + overlay_line(p.catalog_overlays)


def overlay_line(overlays: Sequence[str]) -> str:
    """The catalog overlays a result was computed with, as one line (nothing when none)."""
    return f"catalog overlays: {', '.join(overlays)}\n" if overlays else ""


def money(usd: float | None) -> str:
    """Dollars as printed in plans and reports, whole and comma-grouped; ``-`` for none; a negative
    figure (a saving interval's low end) with its sign before the dollar, ``−$50,000``, as
    :func:`signed_money` writes it (it read ``$-50,000``), and nothing that rounds to 0 signed."""
    if usd is None:
        return "-"
    if not math.isfinite(usd):  # as before: "$inf", "$nan" (no figure a plan prints is one)
        return f"${usd:,.0f}"
    whole = round(usd)
    return f"−${-whole:,}" if whole < 0 else f"${whole:,}"


def signed_money(usd: float) -> str:
    """Dollars with their sign: ``+$1,234`` or ``−$2,272,355`` (a credit)."""
    return f"{'−' if usd < 0 else '+'}{money(abs(usd))}"


def money_interval(bound: float, value: float) -> str:
    """A cost not proven optimal as printed everywhere: ``[$bound, $value]`` (the optimum lies in it)."""
    return f"[{money(bound)}, {money(value)}]"


def short_variant(name: str) -> str:
    """'quantization:fp8 + caching:prefix' -> 'fp8, prefix' (option names only)."""
    return ", ".join(part.split(":", 1)[-1] for part in name.split(" + "))


def preview_markdown(p: Preview) -> str:
    lines = [f"## {p.scenario}: {p.model}", "", p.note, "",
             "| class | hardware | techniques | TP | batch | TTFT ms | TPOT ms | GPUs | $/h | $/M output tokens |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in p.rows:
        lines.append(f"| {r.workload} | {r.hardware} | {short_variant(r.variant)} | {r.tp} | {r.batch} | {r.ttft_ms:,.0f} | "
                     f"{r.tpot_ms:,.1f} | {r.gpus} | {r.usd_per_hour:,.2f} | {r.usd_per_million_output_tokens:,.3f} |")
    if p.infeasible:
        lines += ["", "Not feasible:", ""] + [f"- `{m.workload}` on `{m.hardware}`: {m.reason}" for m in p.infeasible]
    return "\n".join(lines) + "\n"
