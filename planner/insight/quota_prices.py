r"""What one more GPU allowed by a quota saves: the pricing LP re-solved with that quota a little higher.

A quota row's dual is the saving of a marginal GPU only where the LP's optimum is not degenerate.
Where the quota is 0 and spot is offered, say, the hardware's supply and ``nospot`` rows are all
tight at zero, and the quota row's dual is one of many valid ones: the sliced LP priced one more
H100 allowed at $3,544 where it saves $319 (found by a mutation review this session).  So the price
is measured: for each hardware ``h`` and period ``p`` whose quota rows bind,

    saving_{h,p} = (z* − z*(quota_{h,p} + ε)) / ε,     ε = QUOTA_STEP_GPUS

with ``z*`` the LP's optimum and every quota row of ``(h, p)`` (each time slice's) ``ε`` higher: the
rate at which allowing more GPUs saves, per GPU (the LP's optimum is convex and piecewise linear in
the quota, so this is its right derivative unless a breakpoint lies within ``ε``; it equals the
dual wherever the dual is unique).  A whole GPU more would save less where fewer than one more GPU
is needed (a quota of 1 where the night needs 1.5: $1,063 against the rate's $1,278 a GPU), which
is why the step is small.  A quota row with slack saves nothing (0, not shown) and is not re-solved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pulp

from planner.optimize.milp import USD_PER_KUSD

#: A quota row whose used GPUs are within this of the quota binds (GPUs; the LP's feasibility tolerance).
BINDING_GPUS = 1e-6
#: The step the quota is raised by (GPUs): small against a GPU, large against the LP's tolerances (the
#: test cases agree with their hand figures to 1e-6 relative at steps from 1e-4 to 1e-2).
QUOTA_STEP_GPUS = 0.01


def quota_savings(prob: pulp.LpProblem, rows: Mapping[tuple[int, int], Sequence[str]],
                  solve: Callable[[], bool]) -> dict[tuple[int, int], float]:
    """USD (present value) saved per GPU allowed beyond the quota, per ``(hardware, period)`` whose
    quota rows ``rows`` (names in ``prob``, ``used − quota ≤ 0``) bind at the solved optimum (read
    before any re-solve); ``solve`` re-solves
    ``prob`` and says whether it is optimal.  ``prob`` is left with its own quotas (and the last
    re-solve's values: read everything else before)."""
    base = pulp.value(prob.objective)
    binding = {key: [prob.constraints[name] for name in names] for key, names in sorted(rows.items())
               if any((prob.constraints[name].value() or 0.0) >= -BINDING_GPUS for name in names)}  # at z*
    out: dict[tuple[int, int], float] = {}
    for key, constraints in binding.items():
        for c in constraints:
            c.constant -= QUOTA_STEP_GPUS  # used − (quota + ε) ≤ 0
        relaxed = pulp.value(prob.objective) if solve() else None
        for c in constraints:
            c.constant += QUOTA_STEP_GPUS
        if relaxed is not None and base is not None:
            out[key] = (base - relaxed) * USD_PER_KUSD / QUOTA_STEP_GPUS
    return out
