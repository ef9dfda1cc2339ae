"""Sweep results as text and as a chart of cost against the swept input."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from planner.errors import InputError, PlannerError
from planner.insight.sweeps import SweepResult
from planner.output import write_atomic
from planner.report.charts import FIGURE_INCHES, _pyplot
from planner.report.render import money, money_interval


def text(result: SweepResult) -> str:
    lines = []
    for row in result.rows:
        inputs = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["inputs"].items())
        cost, bound = row.get("lifetime_cost_usd"), row.get("bound_usd")
        shown = "-" if cost in (None, "") else money(float(cost))
        if cost not in (None, "") and bound not in (None, ""):  # stopped at a limit: the optimum is in between
            shown = money_interval(float(bound), float(cost))
        lines.append(f"{row['index']:>5}  {inputs}  {row.get('status')}  {shown}  {row.get('variant') or row.get('error') or ''}")
    mc = result.monte_carlo
    if mc is not None:
        pct = ", ".join(f"{k} ${v:,.0f}" for k, v in mc.nominal_variant_cost_percentiles_usd.items())
        priced = mc.samples - mc.failed - mc.nominal_variant_unserved
        over = f"{mc.samples}" if priced == mc.samples else f"{priced} of {mc.samples}"
        lines.append(f"nominal variant ({mc.nominal_variant}) lifetime cost over {over} samples: {pct}")
        if mc.nominal_variant_unserved:
            lines.append(f"  {mc.nominal_variant_unserved} of {mc.samples} samples the nominal variant cannot serve "
                         "(its plan is infeasible there: a drawn input breaks its quality floor or a target); they "
                         "have no cost and are not in the percentiles")
        if mc.unproven:
            low = ", ".join(f"{k} ${v:,.0f}" for k, v in mc.nominal_variant_cost_percentiles_lower_usd.items())
            lines.append(f"  {mc.unproven} of {mc.samples} samples stopped at a limit, not proven optimal (their decisions "
                         f"are the best found): each percentile lies between its proven bound ({low}) and the "
                         "figure above")
        lines += [f"  optimal in {share:.0%} of samples: {variant}" for variant, share in mc.decision_stability.items()]
    if result.output:
        lines.append(f"rows in {result.output}")
    if result.catalog_overlays:
        lines.append("catalog overlays: " + ", ".join(result.catalog_overlays))
    return "\n".join(lines) + "\n"


#: Chart formats by file suffix, with the metadata left out so that a re-run writes the same bytes.
PLOT_FORMATS = {".svg": ("svg", {"Date": None}), ".png": ("png", {"Software": None}),
                ".pdf": ("pdf", {"CreationDate": None})}
#: Without a log-spaced spec, a positive axis spanning more than this ratio is drawn logarithmic.
LOG_AXIS_SPAN_RATIO = 100.0


class NothingToPlot(PlannerError):
    """No point of the sweep has a plan (every one infeasible or failed): there is no curve to draw."""

    exit_code = 3


def plot_format(path: str) -> str:
    """The chart format of ``path`` from its suffix (``.svg``, ``.png``, ``.pdf``); any other is refused
    — a file named ``x.pdf`` holding SVG would open nowhere."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise InputError(f"must end in {', '.join(PLOT_FORMATS)} (the chart format is taken from the suffix), "
                         f"got '{suffix or 'no suffix'}'", "--plot")
    return PLOT_FORMATS[suffix][0]


def plot(result: SweepResult, path: str, *, log_x: bool | None = None) -> None:
    """Write :func:`figure` to ``path`` in the format of its suffix (:func:`plot_format`), atomically."""
    fmt = plot_format(path)
    fig = figure(result, log_x=log_x, target=path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=PLOT_FORMATS[Path(path).suffix.lower()][1])
    _pyplot("--plot").close(fig)
    write_atomic(path, buffer.getvalue(), flag="--plot")


def figure(result: SweepResult, *, log_x: bool | None = None, target: str = "the chart"):  # type: ignore[no-untyped-def]
    """Lifetime cost against the first swept input; the variant named where the choice changes, and a
    point whose plan stopped at a limit drawn with a bar down to its proven bound (the optimum lies on it).

    ``log_x``: draw the input on a log axis (the CLI passes whether the first spec was log-spaced);
    ``None`` decides from the values (positive and spanning more than ``LOG_AXIS_SPAN_RATIO``).
    Raises :class:`NothingToPlot` (naming ``target``) when no point has a plan.
    """
    rows = [r for r in result.rows if r.get("lifetime_cost_usd") not in (None, "")]
    if not rows:
        statuses = Counter(str(r.get("status")) for r in result.rows)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        raise NothingToPlot(f"no point of the sweep has a plan ({summary}): nothing to draw, {target} not written",
                            "--plot")
    plt = _pyplot("--plot")
    key = next(iter(rows[0]["inputs"]))
    rows.sort(key=lambda r: float(r["inputs"][key]))
    xs = [float(r["inputs"][key]) for r in rows]
    ys = [float(r["lifetime_cost_usd"]) / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    ax.plot(xs, ys, marker="o")
    open_rows = [(x, y, float(r["bound_usd"]) / 1e6) for x, y, r in zip(xs, ys, rows, strict=True)
                 if r.get("bound_usd") not in (None, "")]
    if open_rows:
        ax.vlines([o[0] for o in open_rows], [o[2] for o in open_rows], [o[1] for o in open_rows], colors="tab:red",
                  label="not proven optimal: from the proven bound to the plan found")
        ax.legend(fontsize=7, loc="best")
    previous = None
    for x, y, r in zip(xs, ys, rows, strict=True):
        if r.get("variant") != previous:
            ax.annotate(r.get("variant") or "baseline", (x, y), textcoords="offset points", xytext=(4, 8), fontsize=7)
            previous = r.get("variant")
    if log_x is None:
        log_x = min(xs) > 0 and max(xs) / min(xs) > LOG_AXIS_SPAN_RATIO
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel("lifetime cost, M$ (present value)")
    return fig
