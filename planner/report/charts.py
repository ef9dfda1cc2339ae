"""Charts as inline SVG strings (matplotlib, the ``[plot]`` extra), drawn from report data only."""

from __future__ import annotations

import importlib.util
import io
from collections import defaultdict
from collections.abc import Sequence

from planner.errors import PlannerError
from planner.plan_model import Plan

#: Figure size in inches for every chart (fits a 900 px report column at 100 dpi).
FIGURE_INCHES = (8.0, 3.2)


class PlotExtraMissing(PlannerError):
    """Charts need matplotlib."""


#: What to install for charts (named in every message about the missing extra).
PLOT_EXTRA_HINT = "needs the [plot] extra (matplotlib): pip install 'whatif-planner[plot]'"


def require_plot_extra(option: str) -> None:
    """Refuse ``option`` (the flag the user passed, e.g. ``--plot`` or ``--format html``) when
    matplotlib is not installed — checked by the CLI before any work, so a missing extra costs
    nothing (``find_spec`` locates the package without importing it)."""
    if importlib.util.find_spec("matplotlib") is None:
        raise PlotExtraMissing(PLOT_EXTRA_HINT, option)


def _pyplot(option: str = "charts"):  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotExtraMissing(PLOT_EXTRA_HINT, option) from None
    return plt


def _svg(fig) -> str:  # type: ignore[no-untyped-def]
    plt = _pyplot()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})  # reproducible output
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prologue and DOCTYPE: the SVG sits inline in HTML


def fleet_chart(plan: Plan) -> str:
    """Stacked bars: GPUs in service per period, by hardware and acquisition mode."""
    plt = _pyplot()
    periods = list(range(plan.periods))
    series: dict[str, list[int]] = defaultdict(lambda: [0] * plan.periods)
    for f in plan.fleet:
        series[f"{f.hardware} {f.mode}"][f.period] += f.gpus_in_service
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    bottom = [0] * plan.periods
    for label, values in sorted(series.items()):
        ax.bar([p * plan.period_months for p in periods], values, bottom=bottom, width=plan.period_months * 0.8,
               label=label, align="edge")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xlabel("month")
    ax.set_ylabel("GPUs in service")
    ax.set_title("Fleet over the horizon")
    ax.legend(fontsize="small", loc="upper left")
    return _svg(fig)


def cumulative_cost_chart(plan: Plan) -> str:
    """Cumulative serving cost (plus one-time work), present value, against the base model's training
    bill — the basis of the plan's crossover month."""
    plt = _pyplot()
    months = [0.0]
    spend = [plan.one_time_cost_usd or 0.0]
    for p, value in enumerate(plan.discounted_spend_by_period_usd):
        months.append((p + 1) * plan.period_months)
        spend.append(spend[-1] + value)
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    ax.plot(months, [s / 1e6 for s in spend], marker="o", label="inference (serving + one-time work)")
    if plan.training_cost_usd:
        ax.axhline(plan.training_cost_usd / 1e6, color="grey", linestyle="--", label="base model training")
    ax.set_xlabel("month")
    ax.set_ylabel("cumulative cost, M$ (present value)")
    ax.set_title("Cumulative cost")
    ax.legend(fontsize="small", loc="upper left")
    return _svg(fig)


def tornado_chart(rows: Sequence[tuple[str, float, float]], center: float) -> str:
    """Horizontal bars of lifetime cost at low and high input values around the plan's cost."""
    plt = _pyplot()
    rows = sorted(rows, key=lambda r: abs(r[2] - r[1]))
    fig, ax = plt.subplots(figsize=(FIGURE_INCHES[0], 0.5 + 0.45 * max(1, len(rows))))
    for i, (label, low, high) in enumerate(rows):
        ax.barh(i, (low - center) / 1e6, left=center / 1e6, color="#4C72B0", label="input -" if i == 0 else None)
        ax.barh(i, (high - center) / 1e6, left=center / 1e6, color="#DD8452", label="input +" if i == 0 else None)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.axvline(center / 1e6, color="black", linewidth=0.8)
    ax.set_xlabel("lifetime cost, M$ (present value)")
    ax.set_title("Sensitivity")
    ax.legend(fontsize="small", loc="lower right")
    return _svg(fig)
