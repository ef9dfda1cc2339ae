"""The re-check of a solution in original units (:mod:`planner.optimize.verify`): the variables' own
bounds, which the row checks alone never saw, on the planner's two read-back paths."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulp
import pytest

from planner.optimize import planning
from planner.optimize.extract_slices import verify_sliced
from planner.optimize.verify import rows_error, values_error


def one_variable(low: float | None, high: float | None, value: float, integer: bool = False) -> pulp.LpProblem:
    prob = pulp.LpProblem("bounds", pulp.LpMinimize)
    x = pulp.LpVariable("x", low, high, cat=pulp.LpInteger if integer else pulp.LpContinuous)
    prob += x
    x.varValue = value
    return prob


@pytest.mark.parametrize(("low", "high", "value", "message"), [
    (0.0, 4.0, 4.0, None),
    (0.0, 4.0, -1e-9, None),  # a solver's −0 within the tolerance
    (0.0, 4.0, 4.00001, None),  # 1e-5 × max(1, 4) = 4e-5 above: within
    (0.0, 4.0, 4.0001, "variable x = 4.0001 is above its upper bound 4"),
    (0.0, 4.0, -0.001, "variable x = -0.001 is below its lower bound 0"),
    (2.0, None, 1.5, "variable x = 1.5 is below its lower bound 2"),
    (None, 1e6, 1e6 + 5.0, None),  # 1e-5 × 1e6 = 10 of slack: within, as rows are checked
    (None, 1e6, 1e6 + 20.0, "variable x = 1.00002e+06 is above its upper bound 1e+06"),
    (None, None, -3.0, None),  # a free variable has no bound to leave
])
def test_every_value_is_checked_against_its_bounds_relative_to_the_bound(low: float | None, high: float | None,
                                                                        value: float, message: str | None) -> None:
    assert values_error(one_variable(low, high, value)) == message


def test_an_integer_is_rounded_before_its_bounds_are_checked() -> None:
    """3.000004 is integral within 1e-5 and rounds to 3, inside [0, 3]; 4 rounded from 3.999999 is
    outside it, by a whole unit, though its unrounded value was 0.999999 above."""
    prob = one_variable(0.0, 3.0, 3.000004, integer=True)
    assert values_error(prob) is None and prob.variables()[0].varValue == 3.0
    assert values_error(one_variable(0.0, 3.0, 3.999999, integer=True)) == "variable x = 4 is above its upper bound 3"
    assert values_error(one_variable(0.0, 3.0, 2.5, integer=True)) == "integer variable x = 2.5 is not integral"
    assert values_error(one_variable(0.0, 3.0, None)) == "variable x has no value"  # type: ignore[arg-type]


def test_rows_are_checked_at_the_values() -> None:
    prob = one_variable(0.0, None, 2.0)
    x = prob.variables()[0]
    prob += x <= 1, "cap"
    assert rows_error(prob) == "constraint cap violated by 1"


def test_a_sliced_plan_outside_a_bound_is_refused() -> None:
    """The time-sliced read-back: a purchase fixed to 2 servers (both bounds 2) read back as 3."""
    prob = one_variable(2.0, 2.0, 3.0, integer=True)
    assert verify_sliced(SimpleNamespace(prob=prob)) == "variable x = 3 is above its upper bound 2"  # type: ignore[arg-type]


def test_a_one_slice_plan_outside_a_bound_is_refused_before_its_shares_are_read() -> None:
    """The one-slice read-back (``planning._verify``) checks the bounds before reading any share."""
    prob = one_variable(0.0, 8.0, 9.0, integer=True)
    problem: Any = SimpleNamespace(prob=prob, x={}, shares=lambda: pytest.fail("shares read before the bounds"))
    assert planning._verify(problem) == "variable x = 9 is above its upper bound 8"
