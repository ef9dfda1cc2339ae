"""A solver's solution re-checked in original units before any of it is reported (PuLP models).

Both checks allow :data:`~planner.optimize.milp.VERIFY_TOLERANCE` in the quantity's own units,
scaled by ``max(1, |reference|)`` (a bound's value, a row's constant), as HiGHS's own feasibility
tolerance (10⁻⁷) is relative to the same magnitudes:

* :func:`values_error` — every variable has a value within its bounds; an integer variable within
  the tolerance of a whole number is rounded to it first (the value the plan is read from);
* :func:`rows_error` — every row holds at those values.

Until 2026-12-07 the variables' own bounds were not re-checked (rows were): no path produced a value
outside them, but a bound is as much a part of the model as a row — a quota of GPUs or a fixed
purchase is a bound — and a value outside it would have been printed as a plan.
"""

from __future__ import annotations

import pulp

from planner.optimize.milp import VERIFY_TOLERANCE


def _slack(reference: float) -> float:
    return VERIFY_TOLERANCE * max(1.0, abs(reference))


def values_error(prob: pulp.LpProblem) -> str | None:
    """The first variable without a value, off a whole number (integers) or outside its bounds; None
    when every value holds (integers are then rounded in place)."""
    for var in prob.variables():
        value = var.value()
        if value is None:
            return f"variable {var.name} has no value"
        if var.cat == pulp.LpInteger:
            if abs(value - round(value)) > VERIFY_TOLERANCE:
                return f"integer variable {var.name} = {value} is not integral"
            value = var.varValue = float(round(value))
        if var.lowBound is not None and value < var.lowBound - _slack(var.lowBound):
            return f"variable {var.name} = {value:.6g} is below its lower bound {var.lowBound:g}"
        if var.upBound is not None and value > var.upBound + _slack(var.upBound):
            return f"variable {var.name} = {value:.6g} is above its upper bound {var.upBound:g}"
    return None


def rows_error(prob: pulp.LpProblem) -> str | None:
    """The first row violated at the variables' values, by how much (the row's own units); None when
    every row holds."""
    for name, constraint in prob.constraints.items():
        value = constraint.value()
        slack = _slack(constraint.constant)
        if constraint.sense == pulp.LpConstraintLE and value > slack:
            return f"constraint {name} violated by {value:.3g}"
        if constraint.sense == pulp.LpConstraintGE and value < -slack:
            return f"constraint {name} violated by {-value:.3g}"
        if constraint.sense == pulp.LpConstraintEQ and abs(value) > slack:
            return f"constraint {name} violated by {abs(value):.3g}"
    return None
