r"""Whole servers as cumulative counts in the PuLP models (:mod:`planner.optimize.milp`,
:mod:`planner.optimize.milp_slices`), as the numpy-built model has them (:mod:`planner.optimize.direct`).

For an offer selling ``u_o > 1`` GPUs per unit the variables are the servers in service
``S_{o,p} = Σ_{q≤p} n_{o,q}`` and every row uses ``n_{o,p} = S_{o,p} − S_{o,p−1}``; the bounds of
``n`` become rows.  The feasible set and the costs are those of integer ``n`` (a unimodular change of
variables); what changes is the branching, which fixes servers in service.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulp

#: Units of an offer entering service: a variable, or ``S_{o,p} − S_{o,p−1}`` for whole servers.
Units = dict[tuple[int, int], pulp.LpVariable | pulp.LpAffineExpression]


def cumulative_servers(prob: pulp.LpProblem, o: int, upper: Sequence[float], n: Units,
                       servers: dict[tuple[int, int], pulp.LpVariable]) -> None:
    r"""Whole servers as cumulative counts (module docstring): offer ``o``'s
    servers in service ``S_{o,p}`` (``srv_o_p``, into ``servers``) and ``n_{o,p} = S_{o,p} − S_{o,p−1}``
    (into ``n``, used wherever ``n`` is), with ``0 ≤ n_{o,p} ≤ upper[p]`` as rows (``started_lo/hi``).
    The feasible set and costs are those of integer ``n``; branching on ``S`` fixes servers in service."""
    total = 0.0
    previous: pulp.LpVariable | None = None
    for p, bound in enumerate(upper):
        total += bound
        cumulative = prob.add_variable(f"srv_{o:03d}_{p:03d}", 0, total, cat=pulp.LpInteger)
        started = cumulative - previous if previous is not None else pulp.LpAffineExpression(cumulative)
        prob += started >= 0, f"started_lo_{o:03d}_{p:03d}"
        prob += started <= bound, f"started_hi_{o:03d}_{p:03d}"
        n[o, p] = started
        servers[o, p] = previous = cumulative
