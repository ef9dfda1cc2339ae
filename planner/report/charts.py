"""Chart helpers as inline SVG strings (matplotlib, the ``[plot]`` extra) and the tornado; the plan's fleet and
cumulative-cost charts are drawn from the report model in :mod:`planner.report.report_charts`."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence

from planner.errors import PlannerError

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
