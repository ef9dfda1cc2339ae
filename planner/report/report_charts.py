"""Charts of a :class:`~planner.report.model.Report` as inline SVG (matplotlib, the ``[plot]``
extra), keyed by the section they illustrate.  Drawn from the report only, on the headline's basis:
the cumulative chart is present value (labelled), like the lifetime cost and the training bill it
is compared with, and marks the crossover month (hollow when extrapolated past the horizon).
"""

from __future__ import annotations

from planner.report.charts import FIGURE_INCHES, _pyplot, _svg, tornado_chart
from planner.report.model import Report, TrainingComparison

USD_PER_MUSD = 1e6


def charts_for(r: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    if r.fleet:
        out["fleet"] = fleet_chart(r)
    if r.slices:
        out["slices"] = slice_chart(r)
    if r.training is not None:
        out["training"] = cumulative_chart(r.training)
    e = r.explanation
    if e is not None and r.lifetime_cost_usd is not None:
        rows = [(s.input + ("" if s.status_low == s.status_high == "optimal" else
                            f" ({s.status_low}/{s.status_high})"), s.cost_low_usd, s.cost_high_usd)
                for s in e.sensitivity if s.cost_low_usd is not None and s.cost_high_usd is not None]
        if rows:
            out["sensitivity"] = tornado_chart([(label, low, high) for label, low, high in rows if low is not None
                                                and high is not None], r.lifetime_cost_usd)
    return out


def fleet_chart(r: Report) -> str:
    """Stacked bars: GPUs in service per period, by hardware, mode and provider.  Elastic capacity held
    per time slice stands at its busiest slice (the fleet table's figure), hatched and named so in the
    title: held for some hours a day, not the month (the day chart shows the hours)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    months = r.fleet_months  # the periods with a fleet: the narrowest gap is a period (a period
    # without one, between the first two, made every bar as wide as that gap)
    width = min((b - a for a, b in zip(months, months[1:], strict=False)), default=1)
    bottom = [0] * len(r.fleet_months)
    for row in sorted(r.fleet, key=lambda row: row.busiest_slice):  # fixed first, elastic on top
        ax.bar(r.fleet_months, row.gpus, bottom=bottom, width=width * 0.8, label=row.hardware_mode, align="edge",
               hatch="//" if row.busiest_slice else None, alpha=0.55 if row.busiest_slice else 1.0)
        bottom = [b + g for b, g in zip(bottom, row.gpus, strict=True)]
    ax.set_xlabel("month")
    ax.set_ylabel("GPUs in service")
    ax.set_title("Fleet over the horizon" + ("\n(hatched: elastic GPUs in their busiest time slice, not held all day)"
                                             if any(row.busiest_slice for row in r.fleet) else ""))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    return _svg(fig)


def slice_chart(r: Report) -> str:
    """Stacked bars over the hours of the day (week): fixed GPUs, then each elastic mode, as held in
    each hour's slice in the period the slice table shows."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    hours = list(range(r.cycle_hours))
    slice_of = {h: row for row in r.slices for h in row.hours}
    fixed = [slice_of[h].fixed_gpus for h in hours]
    ax.bar(hours, fixed, width=1.0, align="edge", label="fixed (reserved, bought)", color="#4C72B0")
    bottom = fixed
    for i, mode in enumerate(sorted({m for row in r.slices for m in row.elastic_gpus})):
        held = [slice_of[h].elastic_gpus.get(mode, 0) for h in hours]
        ax.bar(hours, held, bottom=bottom, width=1.0, align="edge", label=mode, color=("#DD8452", "#55A868")[i % 2])
        bottom = [b + g for b, g in zip(bottom, held, strict=True)]
    ax.set_xlabel("hour of the week" if r.cycle_hours == 168 else "hour of the day")
    ax.set_ylabel("GPUs held")
    ax.set_title(f"Fixed vs elastic capacity over the {'week' if r.cycle_hours == 168 else 'day'} "
                 f"(month {r.slice_month})")
    ax.legend(fontsize="small", loc="upper left")
    return _svg(fig)


def cumulative_chart(t: TrainingComparison) -> str:
    """Cumulative serving cost against the training bill, both on ``t.basis`` (present value)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    months, spend = list(t.months), [v / USD_PER_MUSD for v in t.cumulative_serving_usd]
    ax.plot(months, spend, marker="o", label=f"cumulative serving cost ({t.basis})")
    if t.training_usd:
        level = t.training_usd / USD_PER_MUSD
        ax.axhline(level, color="grey", linestyle="--", label=f"base model training ({t.basis})")
        if t.crossover_month is not None:
            if t.crossover_extrapolated:
                ax.plot([months[-1], t.crossover_month], [spend[-1], level], linestyle=":", color="C0",
                        label="extrapolated past the horizon")
            ax.plot([t.crossover_month], [level], marker="o", markersize=9, color="C3",
                    markerfacecolor="none" if t.crossover_extrapolated else "C3", linestyle="none",
                    label=f"crossover: month {t.crossover_month:.1f}"
                          + (" (extrapolated)" if t.crossover_extrapolated else ""))
    ax.set_xlabel("month")
    ax.set_ylabel(f"M$ ({t.basis})")
    ax.set_title(f"Training vs inference, cumulative ({t.basis})")
    ax.legend(fontsize="small", loc="upper left")
    return _svg(fig)
