"""Sweep results as text and as a chart of cost against the swept input."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

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
        lines += [f"  no plan in {share:.0%} of samples ({variant})" if variant in NO_PLAN_STATUSES else
                  f"  optimal in {share:.0%} of samples: {variant}" for variant, share in mc.decision_stability.items()]
    if result.output:
        lines.append(f"rows in {result.output}")
    if result.catalog_overlays:
        lines.append("catalog overlays: " + ", ".join(result.catalog_overlays))
    return "\n".join(lines) + "\n"


#: ``decision_stability`` keys that are a sample's status, not a variant: it had no plan (it read "optimal in
#: 12% of samples: infeasible").
NO_PLAN_STATUSES = frozenset({"infeasible", "no_solution", "error"})
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

    A grid over several inputs draws one line per combination of the others (labelled ``path=value``),
    not one saw-tooth through all of them; Monte Carlo draws are points, not a line (each draw moves every
    uncertain input, so neighbours in the first are no series); points without a plan are marked on the
    axis (``x``, "no plan"), not left out in silence.  The cost axis prints whole values (no offset:
    ``+1.786e0`` above a $21 spread read as a large one).

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
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    drawn: list[float] = []
    for label, series in _series(rows, key, result.monte_carlo is not None).items():
        drawn += _draw_series(ax, series, key, label, scatter=result.monte_carlo is not None)
    unplanned = [float(r["inputs"][key]) for r in result.rows if r.get("lifetime_cost_usd") in (None, "")
                 and isinstance(r.get("inputs", {}).get(key), int | float)]
    if unplanned:
        ax.plot(unplanned, [min(drawn)] * len(unplanned), "x", color="tab:gray", label="no plan (infeasible or failed)")
    if log_x is None:
        xs = [float(r["inputs"][key]) for r in rows]
        log_x = min(xs) > 0 and max(xs) / min(xs) > LOG_AXIS_SPAN_RATIO
    if log_x:
        ax.set_xscale("log")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    ax.set_xlabel(key)
    ax.set_ylabel("lifetime cost, M$ (present value)")
    return fig


def _series(rows: list[dict[str, Any]], key: str, monte_carlo: bool) -> dict[str, list[dict[str, Any]]]:
    """The rows of each combination of the inputs other than ``key`` (one series, unlabelled, for a
    one-input grid or Monte Carlo), each sorted by ``key``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        others = [] if monte_carlo else [f"{path}={value:g}" if isinstance(value, float) else f"{path}={value}"
                                         for path, value in r["inputs"].items() if path != key]
        out.setdefault(", ".join(others), []).append(r)
    return {label: sorted(series, key=lambda r: float(r["inputs"][key])) for label, series in out.items()}


def _draw_series(ax: Any, rows: list[dict[str, Any]], key: str, label: str, scatter: bool) -> list[float]:
    """One series: its points (joined unless ``scatter``), bars down to proven bounds, the variant named
    where it changes; the costs drawn (M$)."""
    xs = [float(r["inputs"][key]) for r in rows]
    ys = [float(r["lifetime_cost_usd"]) / 1e6 for r in rows]
    line = ax.plot(xs, ys, marker="o", linestyle="none" if scatter else "-", label=label or None)[0]
    open_rows = [(x, y, float(r["bound_usd"]) / 1e6) for x, y, r in zip(xs, ys, rows, strict=True)
                 if r.get("bound_usd") not in (None, "")]
    if open_rows:
        ax.vlines([o[0] for o in open_rows], [o[2] for o in open_rows], [o[1] for o in open_rows], colors="tab:red",
                  label="not proven optimal: from the proven bound to the plan found")
    previous = None
    for x, y, r in zip(xs, ys, rows, strict=True):
        if r.get("variant") != previous:
            ax.annotate(r.get("variant") or "baseline", (x, y), textcoords="offset points", xytext=(4, 8), fontsize=7,
                        color=line.get_color())
            previous = r.get("variant")
    return ys + [o[2] for o in open_rows]
