r"""Prices measured by re-solving a pricing LP with a right-hand side a small step higher.

A row's dual is the price of its right-hand side only where the LP's optimum is not degenerate.
Where it is, the dual is one of many valid ones, and which one HiGHS returns depends on its pivoting,
so a printed dual need not be reproducible.  Two cases were found:

* **Quotas.** With a quota of 0 and spot offered, the hardware's supply and ``nospot`` rows are all
  tight at zero: the sliced LP priced one more H100 allowed at $3,544 where it saves $319 (a
  mutation review, sixteenth session).
* **Demand under flat load.** With no growth a GPU bought or reserved covers several periods at
  the same demand, and the split of its cost between them is arbitrary: on the demo with
  ``growth_per_year = 0``, chat's duals in quarters 2, 3, 7, 10 and 11 read $0–$422 per request/s
  where one more request/s costs $327–$602 in them; with no buy lead time as well, quarter 0's dual
  ($626.03) is one end of the interval its one-sided derivatives span ($404.34 to $626.03; measured
  by ``(z*(λ ± ε) − z*)/ε``, seventeenth session).

So every price is measured: for a group of rows ``G`` (a quota's rows in every time slice of a
period; a class's demand row of one period; its demand rows of every period),

    price_G = (z*(b_G + ε) − z*) / ε

with ``z*`` the LP's optimum and every row of ``G`` a step ``ε`` higher: the right derivative of the
optimum in that direction (the optimum is convex and piecewise linear in the right-hand side, so it
is exact unless a breakpoint lies within ``ε``; it equals the dual wherever the dual is unique).  It
is what *one more* unit costs, which is what the report's line says.  A whole unit more can cost
more or save less than ``ε`` times the rate (a quota of 1 where the night needs 1.5 GPUs: $1,063
saved by a whole GPU against the rate's $1,278), which is why the step is small.  Where the dual is
not unique the periods' prices need not add up to the every-period price: reserved GPUs under flat
demand make one more request/s in any one quarter of their year cost a whole reservation, as one more
in all four does (``tests/insight/test_step_prices.py``).  A re-solve that
is not optimal (a step of demand no capacity left can serve: a quota reached) gives no figure, and
the caller keeps the dual with its method.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import pulp

from planner.optimize.milp import USD_PER_KUSD

K = TypeVar("K", bound=Hashable)
#: A quota row whose used GPUs are within this of the quota binds (GPUs; the LP's feasibility tolerance).
BINDING_GPUS = 1e-6
#: The step a quota is raised by (GPUs): small against a GPU, large against the LP's tolerances (the
#: test cases agree with their hand figures to 1e-6 relative at steps from 1e-4 to 1e-2).
QUOTA_STEP_GPUS = 0.01
#: The step a demand row is raised by (requests/s): small against one replica's capacity (the
#: smallest column of the catalog serves well over 0.1 request/s), large against the LP's tolerances.
DEMAND_STEP_RPS = 0.01


def step_costs(prob: pulp.LpProblem, groups: Mapping[K, Sequence[str]], solve: Callable[[], bool],
               base_kusd: float, step: float) -> dict[K, float]:
    """USD (present value) per unit by which ``prob``'s optimum ``base_kusd`` (k$) rises when every row
    of a group (names in ``prob``) has its right-hand side ``step`` higher; ``solve`` re-solves
    ``prob`` and says whether it is optimal (a group whose re-solve is not is left out).  Each row is
    restored after its group's re-solve; the variables keep the last re-solve's values."""
    out: dict[K, float] = {}
    for key, names in groups.items():
        rows = [prob.constraints[name] for name in names]
        kept = [row.constant for row in rows]
        for row in rows:
            row.constant -= step  # expr − b ≥ 0, expr − b = 0, expr − b ≤ 0: b + step
        raised = pulp.value(prob.objective) if solve() else None
        for row, constant in zip(rows, kept, strict=True):
            row.constant = constant  # exactly (adding the step back can leave a rounding error)
        if raised is not None:
            out[key] = (raised - base_kusd) * USD_PER_KUSD / step
    return out


def demand_groups(keys: Iterable[tuple[int, int]], rows: Callable[[int, int], list[str]]
                  ) -> dict[tuple[int, int | str], list[str]]:
    """The demand steps priced, per class ``c`` of ``keys`` (class, period): ``(c, p)`` the rows
    ``rows(c, p)`` of each period alone, ``(c, "every")`` those of every period (where there is more
    than one: otherwise the first period's step)."""
    periods: dict[int, list[int]] = {}
    for c, p in sorted(keys):
        periods.setdefault(c, []).append(p)
    out: dict[tuple[int, int | str], list[str]] = {}
    for c, ps in periods.items():
        out.update({(c, p): rows(c, p) for p in ps})
        if len(ps) > 1:
            out[c, "every"] = [name for p in ps for name in rows(c, p)]
    return out


def quota_savings(prob: pulp.LpProblem, rows: Mapping[tuple[int, int], Sequence[str]],
                  solve: Callable[[], bool], base_kusd: float) -> dict[tuple[int, int], float]:
    """USD (present value) saved per GPU allowed beyond the quota, per ``(hardware, period)`` whose
    quota rows ``rows`` (names in ``prob``, ``used − quota ≤ 0``) bind at the solved optimum
    ``base_kusd`` (read before any re-solve); a quota row with slack saves nothing and is not
    re-solved.  ``prob`` is left with its own quotas (and the last re-solve's values: read everything
    else before)."""
    binding = {key: names for key, names in sorted(rows.items())
               if any((prob.constraints[name].value() or 0.0) >= -BINDING_GPUS for name in names)}  # at z*
    return {key: -usd for key, usd in step_costs(prob, binding, solve, base_kusd, QUOTA_STEP_GPUS).items()}
