"""Break-even as a terminal listing or Markdown.  Formatting only: every figure comes from the result.

Each side of each evaluation is shown with its solve status whenever it is not ``optimal``: a
cost stopped at a limit reads as its interval, ``[$952,134, $963,698] (feasible, gap 1.2%)`` (the proven
bound ``cost × (1 − gap)``, then the plan found), an infeasible side reads ``infeasible``
(the findings are in the message and listed once below), a solve that stopped without a plan reads
``no plan (no_solution)`` — never a blank.
"""

from __future__ import annotations

from planner.insight.break_even import BreakEven, BreakEvenPoint
from planner.plan_model import proven_bound
from planner.report.render import money, money_interval


def side(cost: float | None, status: str, gap: float | None) -> str:
    """One side of an evaluation: its cost, with the status when it is not a proven optimum."""
    if status == "infeasible":
        return "infeasible"
    if cost is None:
        return f"no plan ({status})"
    text = _money(cost, status, gap)
    if status != "optimal":
        text += f" ({status}" + (f", gap {gap:.1%}" if gap is not None else "") + ")"
    return text


def _sides(pt: BreakEvenPoint) -> tuple[str, str]:
    return (side(pt.cost_with_usd, pt.status_with, pt.gap_with),
            side(pt.cost_without_usd, pt.status_without, pt.gap_without))


def _money(cost: float | None, status: str, gap: float | None) -> str:
    """The cost, or ``[bound, cost]`` when it is not proven optimal and its gap is known."""
    if cost is None:
        return "—"
    bound = proven_bound(cost, status, gap)
    return money(cost) if bound is None else money_interval(bound, cost)


def _status(status: str, gap: float | None) -> str:
    return status + (f" (gap {gap:.1%})" if status == "feasible" and gap is not None else "")


def _findings(b: BreakEven) -> list[str]:
    return list(dict.fromkeys(f"{f.family}: {f.message}" for f in b.infeasibility))


def breakeven_text(b: BreakEven) -> str:
    lines = [b.message]
    for pt in b.evaluations:
        with_, without = _sides(pt)
        lines.append(f"  {b.over} = {pt.value:.4g}: with {with_}, without {without}")
    if b.lifetime_queries_at_breakeven is not None:
        lines.append(f"lifetime queries at break-even: {b.lifetime_queries_at_breakeven:,.0f}")
    lines += [f"infeasible with the option — {line}" for line in _findings(b)]
    return "\n".join(lines) + "\n"


def breakeven_markdown(b: BreakEven) -> str:
    rows = "".join(f"| {pt.value:.4g} | {_money(pt.cost_with_usd, pt.status_with, pt.gap_with)} | "
                   f"{_status(pt.status_with, pt.gap_with)} | "
                   f"{_money(pt.cost_without_usd, pt.status_without, pt.gap_without)} | "
                   f"{_status(pt.status_without, pt.gap_without)} |\n"
                   for pt in b.evaluations)
    text = (f"## Break-even of `{b.option}`\n\n{b.message}\n\n"
            f"| {b.over} | with | status | without | status |\n|--:|--:|---|--:|---|\n{rows}")
    findings = _findings(b)
    if findings:
        text += "\nWith the option the plan is infeasible:\n\n" + "".join(f"- {line}\n" for line in findings)
    return text
