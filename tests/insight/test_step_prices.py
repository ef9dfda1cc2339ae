"""Prices measured by a re-solve with a right-hand side a step higher (:mod:`planner.insight.step_prices`).

One class of ``llama-3.1-70b`` on H100 (``tests.insight.test_explain.scenario``) served by the FP8
variant, ``g`` = GPUs per request/s of its best latency-feasible column (``gpus_per_rps``).  Flat
demand (no growth) over four quarters with one-year reservations only is the degenerate case the
module names: a reservation made in quarter 0 covers all four at the same demand, so how its cost
splits between the quarters' capacity rows is arbitrary, and a quarter's dual is any of many.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulp
import pytest

from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.insight.explanation import DEMAND, DEMAND_EVERY, lp_shadow_prices
from planner.insight.step_prices import demand_groups, step_costs
from planner.optimize.candidates import build_candidates
from tests.insight.test_explain import scenario
from tests.insight.test_explain_figures import gpus_per_rps

FP8 = SimpleNamespace(variant_names=["quantization:fp8"])
QUARTERS = {"months": 12, "period_months": 3, "growth_per_year": 0.0}


def cheapest_reservation_covering(catalog: Any, sc: Any, cs: Any, p: int) -> float:
    """The cheapest one-year reservation of an H100 that serves quarter ``p``, USD (present value):
    made in a quarter ``q ≤ p`` whose year covers ``p``, charged for the quarters it serves inside the
    horizon (the annuity convention)."""
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    return min(float(o.cost_usd[q]) for o in offers if o.mode == "reserved-1y" for q in range(p + 1) if o.covers[q, p])


def test_under_flat_demand_one_more_request_per_s_costs_a_whole_reservation(catalog) -> None:  # type: ignore[no-untyped-def]
    """Reservations only, flat demand: one more request/s in every quarter needs ``g`` more GPUs reserved
    from quarter 0 for the year (``g · R₀``); one more in quarter ``p`` alone needs ``g`` GPUs reserved
    from a quarter ``q ≤ p`` whose year covers ``p``, the cheapest being made in ``p`` itself (charged
    for quarters ``p..3``): ``g · R_p``.  So the quarters' prices add up to more than every quarter's
    (about 2.5× here), where the four quarters' duals add up to exactly ``g · R₀`` (the reservation is used, so
    its reduced cost is 0: the duals of the quarters it covers sum to its cost per request/s), however
    HiGHS splits it — each dual one valid price, none what one more request/s in its quarter costs."""
    sc = scenario(market={"modes": ["reserved-1y"]}, horizon=QUARTERS)
    cs = build_candidates(sc, catalog)
    g = gpus_per_rps(cs, next(v.index for v in cs.variants if v.name == "quantization:fp8"), "h100-sxm")
    prices = lp_shadow_prices(sc, catalog, cs, FP8)  # type: ignore[arg-type]
    per_quarter = [p for p in prices if p.what == DEMAND]
    [every] = [p for p in prices if p.what == DEMAND_EVERY]
    whole = [g * cheapest_reservation_covering(catalog, sc, cs, p) for p in range(4)]
    assert [p.period for p in per_quarter] == [0, 1, 2, 3]
    assert {p.method for p in per_quarter} == {"lp-re-solve"}
    assert (every.method, every.period, every.workload) == ("lp-re-solve", None, "chat")
    assert [p.usd for p in per_quarter] == pytest.approx(whole, rel=1e-6)
    assert whole[3] < whole[2] < whole[1] < whole[0]  # fewer quarters left to charge
    assert every.usd == pytest.approx(whole[0], rel=1e-6)
    assert sum(_duals(sc, catalog, cs)) == pytest.approx(whole[0], rel=1e-6)


def _duals(sc: Any, catalog: Any, cs: Any) -> list[float]:
    """The four quarters' capacity duals, USD (the lines show the measured prices instead)."""
    from planner.insight import explanation
    from planner.optimize import solver as solvers

    prob = explanation._pricing_lp(sc, catalog, cs, FP8)  # type: ignore[arg-type]
    assert solvers.run(prob, "highs", 60.0, 0.0, mip=False).status == solvers.SolveStatus.OPTIMAL
    return [float(prob.constraints[f"capacity_0_{p}"].pi) * 1000.0 for p in range(4)]


def test_with_on_demand_only_each_quarter_costs_its_own_rent_and_every_quarter_their_sum(catalog) -> None:  # type: ignore[no-untyped-def]
    """On demand only nothing covers two quarters: one more request/s in quarter p costs ``g · k_p``
    (``k_p`` a GPU's quarter on demand, present value), the duals are unique, and every quarter costs
    ``Σ_p g · k_p``."""
    sc = scenario(horizon=QUARTERS)
    cs = build_candidates(sc, catalog)
    prices = lp_shadow_prices(sc, catalog, cs, FP8)  # type: ignore[arg-type]
    per_quarter = [p.usd for p in prices if p.what == DEMAND]
    [every] = [p.usd for p in prices if p.what == DEMAND_EVERY]
    g = gpus_per_rps(cs, next(v.index for v in cs.variants if v.name == "quantization:fp8"), "h100-sxm")
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    k = [min(float(o.cost_usd[p]) for o in offers) for p in range(4)]
    assert per_quarter == pytest.approx([g * kp for kp in k], rel=1e-6)
    assert every == pytest.approx(g * sum(k), rel=1e-6)


def test_one_period_has_no_every_period_line(catalog) -> None:  # type: ignore[no-untyped-def]
    """A horizon of one period: the first period's line is the every-period one, so it is not repeated."""
    sc = scenario()
    prices = lp_shadow_prices(sc, catalog, build_candidates(sc, catalog), FP8)  # type: ignore[arg-type]
    assert [(p.what, p.period, p.method) for p in prices] == [(DEMAND, 0, "lp-re-solve")]


def test_a_step_is_the_right_derivative_and_every_row_is_restored() -> None:
    """min x + 3y  s.t.  x + y ≥ 2 (a),  y ≥ 1 (b),  x ≤ 4 (c): optimum x = 1, y = 1, z* = 4.  Raising
    (a) by ε costs 1 per unit (x grows); raising (b) costs 3 − 1 = 2 (y grows, x shrinks); raising both
    costs 3; raising (c) (a ≤ row: its bound) costs 0 (the objective read as k$, the costs in USD).  A
    step with no solution (x ≤ −101 + ε: x is at least 0) gives no figure.  Every row's right-hand side is back afterwards."""
    prob = pulp.LpProblem("toy", pulp.LpMinimize)
    x, y = pulp.LpVariable("x", 0), pulp.LpVariable("y", 0)
    prob += x + 3 * y
    prob += x + y >= 2, "a"
    prob += y >= 1, "b"
    prob += x <= 4, "c"
    prob += x <= 100, "d"
    constants = {name: row.constant for name, row in prob.constraints.items()}

    def solve() -> bool:
        return prob.solve(pulp.HiGHS(msg=False)) == pulp.LpStatusOptimal

    assert solve() and pulp.value(prob.objective) == pytest.approx(4.0)
    costs = step_costs(prob, {"a": ["a"], "b": ["b"], "ab": ["a", "b"], "c": ["c"]}, solve, 4.0, 0.01)
    assert costs == pytest.approx({"a": 1000.0, "b": 2000.0, "ab": 3000.0, "c": 0.0})  # USD per unit from k$
    assert {name: row.constant for name, row in prob.constraints.items()} == constants
    prob.constraints["d"].constant = 101.0  # x + 101 ≤ 0: no solution
    assert step_costs(prob, {"d": ["d"]}, solve, 4.0, 0.01) == {}


def test_demand_groups_name_each_period_and_every_period_rows() -> None:
    """Class 0 over periods 0..2 (given out of order), class 1 over period 0 alone (no every-period group)."""
    groups = demand_groups([(0, 2), (1, 0), (0, 0), (0, 1)], lambda c, p: [f"r_{c}_{p}", f"s_{c}_{p}"])
    assert groups == {(0, 0): ["r_0_0", "s_0_0"], (0, 1): ["r_0_1", "s_0_1"], (0, 2): ["r_0_2", "s_0_2"],
                      (0, "every"): ["r_0_0", "s_0_0", "r_0_1", "s_0_1", "r_0_2", "s_0_2"],
                      (1, 0): ["r_1_0", "s_1_0"]}
