"""Sweep results as text and as a chart of cost against the swept input."""

from __future__ import annotations

from planner.insight.sweeps import SweepResult
from planner.output import write_atomic
from planner.report.charts import FIGURE_INCHES, _pyplot


def text(result: SweepResult) -> str:
    lines = []
    for row in result.rows:
        inputs = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["inputs"].items())
        cost = row.get("lifetime_cost_usd")
        money = f"${float(cost):,.0f}" if cost not in (None, "") else "-"
        lines.append(f"{row['index']:>5}  {inputs}  {row.get('status')}  {money}  {row.get('variant') or row.get('error') or ''}")
    mc = result.monte_carlo
    if mc is not None:
        pct = ", ".join(f"{k} ${v:,.0f}" for k, v in mc.nominal_variant_cost_percentiles_usd.items())
        lines.append(f"nominal variant ({mc.nominal_variant}) lifetime cost over {mc.samples} samples: {pct}")
        lines += [f"  optimal in {share:.0%} of samples: {variant}" for variant, share in mc.decision_stability.items()]
    if result.output:
        lines.append(f"rows in {result.output}")
    if result.catalog_overlays:
        lines.append("catalog overlays: " + ", ".join(result.catalog_overlays))
    return "\n".join(lines) + "\n"


def plot(result: SweepResult, path: str) -> None:
    """Lifetime cost against the first swept input; the variant named where the choice changes."""
    plt = _pyplot()
    rows = [r for r in result.rows if r.get("lifetime_cost_usd") not in (None, "")]
    if not rows:
        raise ValueError("no point has a plan to draw")
    key = next(iter(rows[0]["inputs"]))
    rows.sort(key=lambda r: float(r["inputs"][key]))
    xs = [float(r["inputs"][key]) for r in rows]
    ys = [float(r["lifetime_cost_usd"]) / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=FIGURE_INCHES)
    ax.plot(xs, ys, marker="o")
    previous = None
    for x, y, r in zip(xs, ys, rows, strict=True):
        if r.get("variant") != previous:
            ax.annotate(r.get("variant") or "baseline", (x, y), textcoords="offset points", xytext=(4, 8), fontsize=7)
            previous = r.get("variant")
    if min(xs) > 0 and max(xs) / min(xs) > 100:
        ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel("lifetime cost, M$ (present value)")
    import io

    buffer = io.BytesIO() if path.endswith(".png") else io.StringIO()
    fig.savefig(buffer, format="png" if path.endswith(".png") else "svg", bbox_inches="tight", metadata=(
        {"Software": None} if path.endswith(".png") else {"Date": None}))
    plt.close(fig)
    data = buffer.getvalue()
    if isinstance(data, bytes):
        from pathlib import Path

        Path(path).write_bytes(data)
    else:
        write_atomic(path, data)
