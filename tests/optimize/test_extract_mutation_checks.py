"""Hand-checked figures of the plan read back from a solution and of the checks around it, for rules a
mutation review found unchecked (:mod:`planner.optimize.extract`, :mod:`planner.optimize.extract_slices`,
:mod:`planner.optimize.infeasibility`, :mod:`planner.optimize.sliced_bounds`,
:mod:`planner.optimize.sliced_pairs`).

No model is solved: every function is called on hand-built solution values (stub variables holding a
``value()``), hand-built offers, periods and demand, so each figure below is the module docstring's
formula worked by hand in the test's docstring.  Nothing is copied from running the code.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pulp
import pytest

import planner
from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize import extract, extract_slices, infeasibility, sliced_pairs
from planner.optimize import solver as solvers
from planner.optimize.pruning import Column
from planner.optimize.sliced_bounds import (
    ClassCosts,
    _peak_weighted,
    slice_gpu_prices,
    sliced_class_costs,
    sliced_lower_bounds,
)
from planner.optimize.solver import Deadline, SolveOutcome, SolveStatus
from planner.plan_model import ServedBy, SolverInfo
from planner.units import HOURS_PER_MONTH


class Value:
    """A solved variable: only its ``value()`` is read."""

    def __init__(self, value: float | None) -> None:
        self.v = value

    def value(self) -> float | None:
        return self.v


def periods(discount: list[float], months: int = 6) -> Periods:
    """``len(discount)`` periods of ``months`` months with mid-period discount factors ``discount``."""
    n = len(discount)
    start = np.arange(n) * months / 12
    return Periods(count=n, months=months, start_years=start, mid_years=start + months / 24,
                   end_years=start + months / 12, discount_mid=np.array(discount, dtype=float),
                   discount_start=np.ones(n), rate_per_year=0.0)


def offer(mode: str = "reserved-1y", covers: list[list[int]] | None = None, **kw: Any) -> ModeOffer:
    covers = covers if covers is not None else [[1, 1], [0, 1]]
    n = len(covers)
    return ModeOffer(hardware=kw.pop("hardware", 0), mode=mode, cost_usd=kw.pop("cost_usd", np.zeros(n)),  # type: ignore[arg-type]
                     covers=np.array(covers, dtype=bool), power_kw=kw.pop("power_kw", 0.0),
                     breakdown=kw.pop("breakdown", {}), source=kw.pop("source", "hand"), **kw)


def profile(quality: float | None = 70.0, served: float = 1.0, per_million: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(model=SimpleNamespace(is_moe=False, experts=0), draft=None, quality_score=quality,
                           served_query_fraction=served, recurring_usd_per_million_queries=per_million, trace=[])


def variant(name: str, fee: float = 0.0, **prof: Any) -> SimpleNamespace:
    return SimpleNamespace(name=name, options={"v": name}, profiles={"a": profile(**prof)},
                           monthly_fee_usd=lambda: fee)


def candidates(*variants: SimpleNamespace) -> SimpleNamespace:
    """The parts of a :class:`CandidateSet` the read-back uses: one class ``a``, hardware h100-sxm (0) and l4 (1)."""
    return SimpleNamespace(variants=list(variants), workloads=["a"],
                           hardware=[SimpleNamespace(slug="h100-sxm"), SimpleNamespace(slug="l4")])


def scenario(**plan: Any) -> planner.Scenario:
    """Class ``a`` of 100 + 300 tokens, TTFT 500 ms, TPOT 50 ms."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "read-back", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 300,
                      "ttft_ms": 500, "tpot_ms": 50}],
        "horizon": {"months": 12, "period_months": 6},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]}, "plan": plan})


# ------------------------------------------------------------------------------------ spend per period

def test_a_mid_period_charge_is_discounted_by_its_periods_factor() -> None:
    """δ = (1, 0.5): $100 paid mid-period 1 is $100 nominal and $50 present value."""
    spend = extract.Spend(np.array([1.0, 0.5]))
    spend.add_mid(1, 100.0)
    assert spend.nominal.tolist() == [0.0, 100.0]
    assert spend.discounted.tolist() == [0.0, 50.0]


def test_an_offers_spend_charges_each_start_periods_row_and_accumulates_the_settlement() -> None:
    """``flow[p_start, q]`` charges in period q for a GPU started in p_start.  Two GPUs started in period 0
    and one in period 1 against flow ((10, 20), (0, 30)): period 0 pays 2 × 10 = 20, period 1 pays
    2 × 20 + 1 × 30 = 70 (not the transposed 2 × 10 + 1 × 20 = 40 and 30).  PV flow ((9, 18), (0, 27)):
    18 and 2 × 18 + 27 = 63.  Settlement (5, 7): 2 × 5 + 7 = 17; a second offer's GPU started in period 1
    adds 7 more: 24 (added, not replaced)."""
    spend = extract.Spend(np.array([1.0, 0.9]))
    o = offer(flow=np.array([[10.0, 20.0], [0.0, 30.0]]), flow_pv=np.array([[9.0, 18.0], [0.0, 27.0]]),
              settlement_pv=np.array([5.0, 7.0]))
    spend.add_offer(o, np.array([2.0, 1.0]))
    assert spend.nominal.tolist() == [20.0, 70.0]
    assert spend.discounted.tolist() == [18.0, 63.0]
    assert spend.settlement_usd == 17.0
    spend.add_offer(o, np.array([0.0, 1.0]))
    assert spend.settlement_usd == 24.0


# ------------------------------------------------------------------------------------ fleet lines

def test_an_offers_fleet_lines_count_whole_units_the_gpus_each_covers_and_the_spares() -> None:
    """A 1-year reservation of 8-GPU units over two 6-month periods (covers ((1, 1), (0, 1))), read back
    at 1.2 and 0.6 units: rounded to 1 and 1, so 8 GPUs acquired in each period; in service 8 in period
    0 and 8 + 8 = 16 in period 1 (the first unit still covers it).  Month starts 0 and 6.  Repair share
    0.1: 10 % of the GPUs in service are expected out, 0.8 and 1.6.  Its reserved cost per GPU acquired
    (100, 60): 8 × 100 + 8 × 60 = $1,280; flow ((10, 20), (0, 30)): nominal spend 80 and 8 × 20 + 8 × 30
    = 400."""
    fleet: list[Any] = []
    breakdown: dict[str, float] = {"reserved": 0.0}
    spend = extract.Spend(np.array([1.0, 1.0]))
    o = offer(gpus_per_unit=8, repair_share=0.1, breakdown={"reserved": np.array([100.0, 60.0])},
              flow=np.array([[10.0, 20.0], [0.0, 30.0]]), provider="acme", hardware=1)
    extract.add_offer_lines(fleet, breakdown, spend, candidates(), o, [1.2, 0.6], periods([1.0, 1.0]))
    assert [(f.period, f.month_start, f.gpus_acquired, f.gpus_in_service) for f in fleet] == [(0, 0, 8, 8),
                                                                                               (1, 6, 8, 16)]
    assert [f.spare_gpus for f in fleet] == pytest.approx([0.8, 1.6])
    assert {(f.hardware, f.mode, f.provider, f.price_source) for f in fleet} == {("l4", "reserved-1y", "acme", "hand")}
    assert breakdown["reserved"] == 1280.0
    assert spend.nominal.tolist() == [80.0, 400.0]


def test_a_unit_acquired_before_it_serves_still_shows_its_acquisition_line() -> None:
    """A unit bought in period 0 that serves only period 1 (covers ((0, 1), (0, 0)), e.g. installed a
    period later): period 0 has 0 GPUs in service but 1 acquired, and keeps its line; period 1 has 1 in
    service, 0 acquired.  Nothing read back at all (None, 0.4 → 0 units) gives no line."""
    fleet: list[Any] = []
    o = offer(mode="buy", covers=[[0, 1], [0, 0]])
    extract.add_offer_lines(fleet, {}, extract.Spend(np.ones(2)), candidates(), o, [1.0, None], periods([1.0, 1.0]))
    assert [(f.period, f.gpus_in_service, f.gpus_acquired) for f in fleet] == [(0, 0, 1), (1, 1, 0)]
    empty: list[Any] = []
    extract.add_offer_lines(empty, {}, extract.Spend(np.ones(2)), candidates(), o, [None, 0.4], periods([1.0, 1.0]))
    assert empty == []


# ------------------------------------------------------------------------------------ the plan assembled

def base(training: float | None = None) -> dict[str, Any]:
    return {"scenario": "read-back", "model": "llama-3.1-8b", "training_cost_usd": training, "total_queries": 3e6,
            "periods": 2, "period_months": 6, "exclusions": {}, "warnings": []}


INFO = SolverInfo(name="highs", status="optimal", gap=0.0, message="", variables=1, constraints=1, integer_variables=1,
                  pruning={}, coefficient_min=1.0, coefficient_max=1.0)
OPTIMAL = SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.1, 0.0, "optimal")
#: The hardware cost by part (PV): a $70 resale credit is stored negative.
PARTS = {"rent": 1000.0, "reserved": 0.0, "capex": 200.0, "server": 50.0, "network": 20.0, "energy": 30.0,
         "hosting": 40.0, "operations": 10.0, "residual": -70.0, "spot_restart": 5.0}


def assemble(objective: float | None = None, used: tuple[int, ...] = (0,), training: float | None = 1200.0) -> Any:
    """Two 6-month periods, δ = (1, 0.8); variant 0 chosen (one-time $500, $100 a month), variant 1 not
    (one-time $999); demand 1 M and 2 M queries of 100 + 300 tokens; $400 of hardware spend mid-period 0;
    $15 of per-query technique cost (PV)."""
    spend = extract.Spend(np.array([1.0, 0.8]))
    spend.add_mid(0, 400.0)
    demand = Demand(peak_rps=np.array([[3.0, 5.0]]), queries=np.array([[1e6, 2e6]]))
    return extract.assemble_plan(
        base(training), scenario(), candidates(variant("v0", fee=100.0), variant("v1")), info=INFO, outcome=OPTIMAL,
        objective_usd=2880.0 if objective is None else objective, chosen=[0], used_variants=list(used), serving=[],
        classes_from=[], fleet=[], breakdown=dict(PARTS), technique_pv=15.0, spend=spend,
        one_time={0: 500.0, 1: 999.0}, demand=demand, periods=periods([1.0, 0.8]), floors=[None])


def test_the_plans_cost_is_the_chosen_one_time_cost_the_hardware_parts_and_the_discounted_technique_cost() -> None:
    """Hardware parts: 1,000 + 0 + 200 + 50 + 20 + 30 + 40 + 10 − 70 + 5 (spot restarts) = $1,285.  The
    chosen variant's $100 a month, paid mid-period, discounted: 100 × (6 × 1 + 6 × 0.8) = $1,080, plus the
    $15 per-query cost: technique $1,095.  Recurring 1,285 + 1,095 = $2,380; one-time: the chosen
    variant's $500 only; lifetime $2,880 (the objective given)."""
    plan = assemble()
    assert plan.status == "optimal"
    assert plan.one_time_cost_usd == 500.0
    assert plan.recurring_cost_usd == pytest.approx(2380.0)
    assert plan.lifetime_cost_usd == pytest.approx(2880.0)
    b = plan.cost_breakdown
    assert (b.rent_usd, b.reserved_usd, b.capex_usd, b.server_usd, b.network_usd, b.energy_usd, b.hosting_usd,
            b.operations_usd, b.spot_restart_usd) == (1000.0, 0.0, 200.0, 50.0, 20.0, 30.0, 40.0, 10.0, 5.0)
    assert b.residual_credit_usd == 70.0  # a positive credit
    assert b.one_time_usd == 500.0
    assert b.technique_recurring_usd == pytest.approx(1095.0)


def test_the_monthly_fee_is_spent_each_period_and_the_crossover_reads_the_discounted_spend() -> None:
    """Spend: $400 hardware mid-period 0, plus the fee's 6 × $100 = $600 nominal each period: nominal
    (1,000, 600), discounted (1,000, 480).  A $1,200 training cost is reached in period 1 on the
    discounted spend: 6 + (1,200 − 1,000) / 480 × 6 = 8.5 months (8.0 on the nominal spend).  Training
    share 1,200 / (1,200 + 2,880) = 0.294."""
    plan = assemble()
    assert plan.spend_by_period_usd == pytest.approx([1000.0, 600.0])
    assert plan.discounted_spend_by_period_usd == pytest.approx([1000.0, 480.0])
    assert plan.inference_overtakes_training_month == pytest.approx(8.5)
    assert plan.training_share_of_total == pytest.approx(1200.0 / 4080.0)
    untrained = assemble(training=None)
    assert untrained.inference_overtakes_training_month is None and untrained.training_share_of_total is None


def test_levelized_costs_divide_by_the_discounted_queries_and_tokens() -> None:
    """Queries 1 M × 1 + 2 M × 0.8 = 2.6 M discounted; tokens 400 each: 1.04 G.  $2,880 / 2.6 M queries ×
    1e6 = $1,107.69 per million queries; / 1.04 G tokens × 1e6 = $2.769 per million tokens."""
    plan = assemble()
    assert plan.discounted_queries == pytest.approx(2.6e6)
    assert plan.discounted_tokens == pytest.approx(1.04e9)
    assert plan.cost_per_million_queries_usd == pytest.approx(2880.0 / 2.6)
    assert plan.cost_per_million_tokens_usd == pytest.approx(2880.0 / 1040.0)


def test_one_variant_in_use_is_the_plans_variant_two_are_not() -> None:
    one, two = assemble(used=(0,)), assemble(used=(0, 1))
    assert one.variant == {"v": "v0"} and one.variant_names == ["v0"]
    assert two.variant is None and two.variants == [{"v": "v0"}, {"v": "v1"}] and two.variant_names == ["v0", "v1"]


@pytest.mark.parametrize(("objective", "status"), [(2880.0 + 0.0035, "optimal"), (2880.0 * (1 + 1e-5), "error")])
def test_the_objective_must_match_within_a_millionth_plus_a_tenth_of_a_cent(objective: float, status: str) -> None:
    """Tolerance 1e-6 × $2,880 + $0.001 = $0.00388: $0.0035 off passes; 1e-5 off ($0.0288) is an error."""
    plan = assemble(objective=objective)
    assert plan.status == status
    if status == "error":
        assert plan.lifetime_cost_usd is None and "differs from recomputed cost 2880.00" in plan.message


def test_per_query_technique_spend_is_the_share_of_the_periods_queries_at_its_price() -> None:
    """Half of period 1's 2 M queries at $2 per million: 0.5 × 2 × 2 = $2 nominal, × δ₁ = 0.8 → $1.60."""
    spend = extract.Spend(np.array([1.0, 0.8]))
    demand = Demand(peak_rps=np.zeros((1, 2)), queries=np.array([[1e6, 2e6]]))
    extract.add_technique_spend(spend, candidates(variant("v0", per_million=2.0)), demand, [(0, 0, 1, 0.5)])
    assert spend.nominal.tolist() == pytest.approx([0.0, 2.0])
    assert spend.discounted.tolist() == pytest.approx([0.0, 1.6])


def test_unsolved_and_unverified_plans_say_why() -> None:
    """A search stopped before any plan is a ``no_solution`` plan with the solver's message (the check is
    never run); a solution failing its check is an ``error``; a sound one gives None (read it back)."""
    checked: list[int] = []

    def verify(answer: str | None) -> Any:
        return lambda: checked.append(1) or answer

    stopped = SolveOutcome(SolveStatus.NO_SOLUTION, "highs", 1.0, None, "time limit reached")
    plan = extract.unsolved_plan(base(), INFO, stopped, verify(None))
    assert plan is not None and plan.status == "no_solution" and plan.message == "time limit reached" and not checked
    bad = extract.unsolved_plan(base(), INFO, OPTIMAL, verify("row 3 broken"))
    assert bad is not None and bad.status == "error"
    assert bad.message == "solution failed verification: row 3 broken" and bad.solver.status == "error"
    assert extract.unsolved_plan(base(), INFO, OPTIMAL, verify(None)) is None


def test_an_infeasible_plan_joins_its_findings_with_semicolons() -> None:
    findings = [infeasibility.Infeasibility(family=f, workload=None, requirement="r", best_achievable="b",
                                            message=f"{f} too small") for f in ("quota", "budget")]
    plan = extract.infeasible_plan(base(), findings, None)
    assert plan.status == "infeasible" and plan.message == "quota too small; budget too small"
    assert extract.infeasible_plan(base(), [], None).message == "no plan"


# ------------------------------------------------------------------------------------ who serves what

def column(j: int, tp: int = 2, workload: int = 0) -> Column:
    return Column(row=j, variant=0, workload=workload, hardware=0, tp=tp, batch=8, capacity_rps=1.0,
                  ttft_ms=100.0 + j, tpot_ms=10.0 + j)


def test_serving_lines_round_replicas_count_tp_gpus_and_keep_standby_replicas() -> None:
    """Without pooling, replicas are the solver's whole counts rounded: column 0 (TP2) carries 0.6 of
    period 0 at 2.4 → 2 replicas, 4 GPUs; column 1 carries 0.4 at 0.9 → 1 replica; column 2 carries no
    traffic but holds 1.0 replica (standing by, e.g. min_replicas): listed, share 0; column 3 has neither
    (0.3 replica): left out.  Lines in period order, then column: (0, 0), (0, 1), (0, 2), (1, 0)."""
    problem = SimpleNamespace(columns=[column(j) for j in range(4)],
                              r={(0, 0): Value(2.4), (1, 0): Value(0.9), (2, 0): Value(1.0), (3, 0): Value(0.3),
                                 (0, 1): Value(1.0)})
    shares = {(0, 1): 1.0, (3, 0): 0.0, (2, 0): 0.0, (1, 0): 0.4, (0, 0): 0.6}
    lines = extract._serving(scenario(), candidates(variant("v0")), problem, shares)
    assert [(s.period, s.ttft_ms, s.replicas, s.gpus, s.traffic_share) for s in lines] == [
        (0, 100.0, 2, 4, 0.6), (0, 101.0, 1, 2, 0.4), (0, 102.0, 1, 2, 0.0), (1, 100.0, 1, 2, 1.0)]


def test_pooled_serving_lines_round_a_fraction_of_a_replica_up_and_drop_idle_columns() -> None:
    """Pooled capacity: 1.2 replicas are 2 (rounded up, not to 1); 2 + 1e-10 of solver noise stays 2; a
    column without traffic is not listed even when it holds a replica."""
    problem = SimpleNamespace(columns=[column(j, tp=1) for j in range(3)],
                              r={(0, 0): Value(1.2), (1, 0): Value(2.0 + 1e-10), (2, 0): Value(1.0)})
    lines = extract._serving(scenario(pooled_capacity=True), candidates(variant("v0")), problem,
                             {(0, 0): 0.5, (1, 0): 0.5, (2, 0): 0.0})
    assert [(s.replicas, s.gpus) for s in lines] == [(2, 2), (2, 2)]


def test_a_class_summary_takes_its_worst_periods_score_and_its_first_periods_peak() -> None:
    """Period 0: one line of score 80 (share 1) → 80; period 1: 0.5 × 80 + 0.5 × 60 = 70: the class's
    score is the worse period's, 70 (not 80).  Peak requests/s of period 0: 3 (not period 1's 5).  A line
    without a score leaves the class without one."""
    line = {"workload": "a", "hardware": "h100-sxm", "tp": 1, "batch": 8, "replicas": 1, "gpus": 1,
            "ttft_ms": 100.0, "tpot_ms": 10.0}
    serving = [ServedBy(**line, period=0, variant="v0", traffic_share=1.0, quality_score=80.0),
               ServedBy(**line, period=1, variant="v0", traffic_share=0.5, quality_score=80.0),
               ServedBy(**line, period=1, variant="v1", traffic_share=0.5, quality_score=60.0)]
    demand = Demand(peak_rps=np.array([[3.0, 5.0]]), queries=np.zeros((1, 2)))
    cs = candidates(variant("v0"), variant("v1"))
    [summary] = extract._class_summaries(scenario(), cs, serving, [65.0], demand)
    assert summary.quality_score == pytest.approx(70.0)
    assert summary.peak_requests_per_s_first_period == 3.0
    assert summary.quality_floor == 65.0
    unscored = [*serving, ServedBy(**line, period=1, variant="v1", traffic_share=0.0, quality_score=None)]
    assert extract._class_summaries(scenario(), cs, unscored, [None], demand)[0].quality_score is None


def test_serving_spend_of_zero_in_a_period_never_overtakes() -> None:
    """Spend (0, 0, 50) against a training cost of $0: reached at the start of period 2 (month 12), the
    first period that spends anything, never in a period of no spend (a 0/0)."""
    assert extract._overtake_month(np.array([0.0, 0.0, 50.0]), 6, 0.0) == pytest.approx(12.0)


# ------------------------------------------------------------------------------------ time-sliced read-back

def verified(build: Any) -> tuple[str | None, pulp.LpVariable]:
    """``verify_sliced`` of a one-variable model: ``build(x)`` returns its rows and x's value."""
    prob = pulp.LpProblem("v", pulp.LpMinimize)
    x = pulp.LpVariable("x", 0, None, cat=pulp.LpInteger)
    prob += x
    rows, value = build(x)
    for row in rows:
        prob += row
    x.varValue = value
    return extract_slices.verify_sliced(SimpleNamespace(prob=prob)), x


def test_verification_rounds_integers_and_checks_each_row_relative_to_its_constant() -> None:
    """Integers within 1e-5 of a whole number are rounded (2.000001 → 2.0, then x ≥ 2 holds); 2.3 is
    not integral.  Rows are checked within 1e-5 × max(1, |constant|): x ≤ 1 at x = 2 is violated by 1;
    x ≥ 3 at x = 2 by 1; x = 3 at x = 2 by 1 (below, not only above); x ≤ 999,999.99 at x = 1e6 is off
    by 0.01, within 1e-5 × 999,999.99 ≈ 10, and holds (it would fail within 1e-5 alone)."""
    message, x = verified(lambda x: ([x >= 2], 2.000001))
    assert message is None and x.varValue == 2.0
    assert verified(lambda x: ([], 2.3))[0] == "integer variable x = 2.3 is not integral"
    assert verified(lambda x: ([x <= 1], 2.0))[0] == "constraint _C1 violated by 1"
    assert verified(lambda x: ([x >= 3], 2.0))[0] == "constraint _C1 violated by 1"
    assert verified(lambda x: ([x == 3], 2.0))[0] == "constraint _C1 violated by 1"
    assert verified(lambda x: ([x <= 999_999.99], 1e6))[0] is None


def test_a_sliced_share_is_the_slices_volume_times_x() -> None:
    """``V_{c,s} x_{j,p,s}``: x = 0.5 in a slice carrying 0.3 of the class's queries serves 0.15 of them."""
    problem = SimpleNamespace(x_values=lambda: {(0, 0, 1): 0.5}, volume_share=lambda j, s: {1: 0.3}[s])
    assert extract_slices.shares_of(problem) == {(0, 0, 1): pytest.approx(0.15)}


def sliced_problem(offers: list[ModeOffer], e: dict[tuple[int, int, int], float],
                   n: dict[tuple[int, int], float] | None = None) -> SimpleNamespace:
    """Two slices of a 24-hour day, 1 h and 23 h; one period."""
    slices = SimpleNamespace(count=2, hours=np.array([1.0, 23.0]), cycle_hours=24)
    return SimpleNamespace(slices=slices, offers=offers, elastic=lambda k: offers[k].mode in ("on-demand", "spot"),
                           e={key: Value(v) for key, v in e.items()}, n={key: Value(v) for key, v in (n or {}).items()})


def test_an_elastic_slice_line_bills_its_minimum_hours_and_its_restarts() -> None:
    """Spot in the 1-hour slice of a 24-hour day, one 1-month period (730.5 h, 30.4375 cycles, δ = 0.9):
    3 units of 2 GPUs = 6 GPUs held.  Billed max(1, 2 minimum hours) / 24 = 1/12 of the period: rent
    $1,000 PV per GPU-period → 1,000 / 12 × 6 = $500; nominal flow $1,100 → 1,100 / 12 × 6 = $550.
    Preemption 0.1 an hour: lost 1 − 0.9¹ = 0.1 of the GPUs each cycle, $4 per restart: 0.1 × 4 × 30.4375
    × 6 = $73.05 nominal, × 0.9 = $65.745 PV.  Nominal spend 550 + 73.05 = $623.05.  The line carries
    its slice, 6 GPUs in service and acquired."""
    spot = offer(mode="spot", covers=[[1]], breakdown={"rent": np.array([1000.0])}, flow=np.array([[1100.0]]),
                 preemption_per_hour=0.1, restart_usd=4.0, min_billed_hours=2.0, gpus_per_unit=2)
    problem = sliced_problem([spot], {(0, 0, 0): 3.0, (0, 0, 1): 0.0})
    fleet, breakdown, spend = extract_slices._fleet(candidates(), problem, periods([0.9], months=1))
    assert HOURS_PER_MONTH / 24 == 30.4375
    assert [(f.period, f.slice, f.mode, f.gpus_in_service, f.gpus_acquired) for f in fleet] == [(0, 0, "spot", 6, 6)]
    assert breakdown["rent"] == pytest.approx(500.0)
    assert breakdown["spot_restart"] == pytest.approx(0.1 * 4 * 30.4375 * 6 * 0.9)
    assert spend.nominal.tolist() == pytest.approx([550.0 + 0.1 * 4 * 30.4375 * 6])


def test_a_fixed_offer_in_a_sliced_plan_has_all_day_lines() -> None:
    """A reservation beside on-demand: its 2 GPUs are one all-day line (slice None) at its full cost
    ($300 a GPU: $600); on-demand held 1 GPU in the 23-hour slice only, billed 23/24 of $240 = $230."""
    reserved = offer(mode="reserved-1y", covers=[[1]], breakdown={"reserved": np.array([300.0])})
    rented = offer(mode="on-demand", covers=[[1]], breakdown={"rent": np.array([240.0])})
    problem = sliced_problem([reserved, rented], {(1, 0, 0): 0.0, (1, 0, 1): 1.0}, n={(0, 0): 2.0})
    fleet, breakdown, _spend = extract_slices._fleet(candidates(), problem, periods([1.0], months=1))
    assert [(f.mode, f.slice, f.gpus_in_service) for f in fleet] == [("reserved-1y", None, 2), ("on-demand", 1, 1)]
    assert breakdown["reserved"] == pytest.approx(600.0)
    assert breakdown["rent"] == pytest.approx(230.0)


def test_sliced_serving_lines_keep_their_slice_count_tp_gpus_and_standby_replicas() -> None:
    """Column 0 (TP2) serves 0.25 of period 0 in slice 1 on 2 replicas: 4 GPUs, slice 1.  Column 1 holds a
    replica in slice 0 without traffic: listed (standing by); with neither it is left out."""
    problem = SimpleNamespace(columns=[column(0), column(1)],
                              r={(0, 0, 1): Value(2.0), (1, 0, 0): Value(1.0), (1, 0, 1): Value(0.0)})
    lines = extract_slices._serving(scenario(), candidates(variant("v0")), problem,
                                    {(0, 0, 1): 0.25, (1, 0, 0): 0.0, (1, 0, 1): 0.0})
    assert [(s.slice, s.ttft_ms, s.replicas, s.gpus, s.traffic_share) for s in lines] == [(0, 101.0, 1, 2, 0.0),
                                                                                           (1, 100.0, 2, 4, 0.25)]


def test_the_slice_table_sums_a_classs_columns_and_reads_the_first_period() -> None:
    """Hours 0-5 in slice 0, 6-23 in slice 1 (6 h and 18 h).  Class a is served by columns 0 and 1; in
    period 0, slice 1: 0.3 + 0.4 = 0.7, slice 0: 0.3; in period 1, slice 0: 0.996, slice 1: 0.004 (a
    small share, kept).  ``served_by_class`` is period 0's; a share of 1e-13 is shown as 0.  Arrivals:
    the slices' volumes (0.2, 0.8)."""
    hour_slice = np.array([0] * 6 + [1] * 18)
    slices = SimpleNamespace(count=2, hours=np.array([6.0, 18.0]), cycle_hours=24, labels=["00-06", "06-24"],
                             hour_slice=hour_slice, peak=np.array([[0.5, 1.5]]), volume=np.array([[0.2, 0.8]]))
    problem = SimpleNamespace(slices=slices, columns=[column(0), column(1)], periods=2)
    shares = {(0, 0, 1): 0.3, (1, 0, 1): 0.4, (0, 0, 0): 0.3, (0, 1, 0): 0.996, (1, 1, 1): 0.004}
    first, second = extract_slices._slices(scenario(), problem, shares)
    assert (first.index, first.hours_per_cycle, first.hours, first.clock) == (0, 6.0, [0, 1, 2, 3, 4, 5], "00-06")
    assert second.hours_per_cycle == 18.0 and second.hours == list(range(6, 24))
    assert first.served_by_class == {"a": pytest.approx(0.3)} and second.served_by_class == {"a": pytest.approx(0.7)}
    assert [p["a"] for p in first.served_by_period] == pytest.approx([0.3, 0.996])
    assert [p["a"] for p in second.served_by_period] == pytest.approx([0.7, 0.004])
    [noise, _] = extract_slices._slices(scenario(), problem, {(0, 0, 0): 1e-13})
    assert noise.served_by_class == {"a": 0.0}
    assert (first.arrivals_by_class, second.arrivals_by_class) == ({"a": 0.2}, {"a": 0.8})
    assert (first.peak_by_class, second.peak_by_class) == ({"a": 0.5}, {"a": 1.5})


# ------------------------------------------------------------------------------------ the caps' diagnosis

def test_units_in_service_count_every_unit_still_covering_the_period() -> None:
    """A 1-year reservation of 8-GPU units (covers ((1, 1), (0, 1))), one unit started in period 0, and
    on-demand single GPUs (each covering its own period), 2 started in period 1, all on hardware 0: GPUs
    in service 8 in period 0 and 8 + 2 = 10 in period 1."""
    offers = [offer(gpus_per_unit=8), offer(mode="on-demand", covers=[[1, 0], [0, 1]])]
    n = {(0, 0): Value(1.0), (0, 1): Value(0.0), (1, 0): Value(None), (1, 1): Value(2.0)}
    gpus = infeasibility.in_service(offers, n, lambda o: o.gpus_per_unit)
    assert dict(gpus) == {(0, 0): 8.0, (0, 1): 10.0}


def power_offers() -> tuple[list[ModeOffer], dict[tuple[int, int], Value]]:
    """Bought 8-GPU servers of 1.5 kW per GPU (12 kW a server, each serving its own period), 1 in period 0
    and 2 in period 1, beside rented GPUs (power 2 kW a GPU, 5 rented in period 1): owned kW 12 and 24."""
    owned = offer(mode="buy", covers=[[1, 0], [0, 1]], power_kw=1.5, gpus_per_unit=8)
    rented = offer(mode="on-demand", covers=[[1, 0], [0, 1]], power_kw=2.0)
    return [owned, rented], {(0, 0): Value(1.0), (0, 1): Value(2.0), (1, 0): Value(0.0), (1, 1): Value(5.0)}


def test_the_power_finding_names_the_owned_kw_of_the_busiest_period() -> None:
    """Owned facility kW per period 12 and 24 (rented GPUs draw none of the owned cap): the busiest
    period's 24 kW breaks a 20 kW cap (not the 36 kW summed over periods, nor 24 + 10 = 34 with the
    rentals)."""
    offers, n = power_offers()
    [finding] = infeasibility._power_finding(20.0, offers, n, alone=False)
    assert finding.family == "power" and finding.best_achievable == "24.0 kW"
    assert finding.requirement == "owned <= 20 kW"
    assert "owns 24.0 kW" in finding.message


def test_a_power_cap_the_uncapped_plan_keeps_is_named_only_when_no_other_cap_is() -> None:
    """Under a 30 kW cap the uncapped plan's 24 kW fits: named (with the others) only when alone."""
    offers, n = power_offers()
    assert infeasibility._power_finding(30.0, offers, n, alone=True)[0].best_achievable == "see quota/budget"
    assert infeasibility._power_finding(30.0, offers, n, alone=False) == []
    assert infeasibility._power_finding(24.0, offers, n, alone=False) == []  # met exactly


def diagnose(monkeypatch: pytest.MonkeyPatch, status: SolveStatus = SolveStatus.OPTIMAL, **market: Any) -> list[Any]:
    """``diagnose_caps`` over the uncapped plan of :func:`power_offers` costing 26.21 k$, with the caps
    ``market`` (hardware 0 is h100-sxm); the model and the solve are stubs."""
    offers, n = power_offers()
    relaxed = SimpleNamespace(prob=SimpleNamespace(objective=26.21), offers=offers, n=n)
    monkeypatch.setattr(infeasibility, "build_problem", lambda *a, **k: relaxed)
    outcome = SolveOutcome(status, "highs", 0.1, None, "stopped")
    monkeypatch.setattr(infeasibility, "solvers", SimpleNamespace(run=lambda *a, **k: outcome))
    caps = {"quota_gpus": {}, "budget_usd": None, "power_cap_kw": None, **market}
    sc = SimpleNamespace(market=SimpleNamespace(**caps), solver=SimpleNamespace(threads=None))
    return infeasibility.diagnose_caps(sc, candidates(), [], offers, None, None, {}, [None], "highs", 10.0, 0.0)


def test_the_quota_finding_names_the_busiest_periods_gpus_in_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPUs in service on h100-sxm: 8 in period 0, 16 + 5 = 21 in period 1.  A quota of 20 is too small
    for the busiest period's 21 (not the 29 summed over periods); a quota of 21 holds; a quota on l4 (no
    GPU of it in service) holds; a quota on hardware the candidates lack is ignored."""
    [finding] = diagnose(monkeypatch, quota_gpus={"h100-sxm": 20, "l4": 0, "a10g": 0})
    assert finding.family == "quota" and finding.best_achievable == "21 GPUs"
    assert finding.message == "quota of 20 h100-sxm GPUs is too small: the cheapest plan without caps has 21 in service"
    [fallback] = diagnose(monkeypatch, quota_gpus={"h100-sxm": 21})
    assert fallback.family == "caps"


def test_the_budget_finding_reads_the_uncapped_cost_in_dollars(monkeypatch: pytest.MonkeyPatch) -> None:
    """The uncapped plan costs 26.21 k$ = $26,210: a $20,000 budget is named; one of $26,210 is met (the
    caps together are then named)."""
    [finding] = diagnose(monkeypatch, budget_usd=20_000.0)
    assert finding.family == "budget" and finding.best_achievable == "$26,210"
    assert finding.requirement == "<= $20,000"
    assert [f.family for f in diagnose(monkeypatch, budget_usd=26_210.0)] == ["caps"]


def test_a_power_cap_beside_a_named_budget_is_not_named_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 24 kW the uncapped plan owns fits a 30 kW cap: beside a broken budget the cap is not named;
    alone it is; a 20 kW cap is broken and named beside the budget."""
    assert [f.family for f in diagnose(monkeypatch, budget_usd=20_000.0, power_cap_kw=30.0)] == ["budget"]
    assert [f.family for f in diagnose(monkeypatch, power_cap_kw=30.0)] == ["power"]
    assert [f.family for f in diagnose(monkeypatch, budget_usd=20_000.0, power_cap_kw=20.0)] == ["budget", "power"]


@pytest.mark.parametrize("status", [SolveStatus.INFEASIBLE, SolveStatus.NO_SOLUTION])
def test_no_uncapped_plan_is_a_solver_finding(monkeypatch: pytest.MonkeyPatch, status: SolveStatus) -> None:
    [finding] = diagnose(monkeypatch, status, budget_usd=1.0)
    assert finding.family == "solver" and "(solver: stopped)" in finding.message


def test_a_stopped_uncapped_search_with_a_plan_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feasible (not proven) uncapped plan still names what it breaks."""
    assert [f.family for f in diagnose(monkeypatch, SolveStatus.FEASIBLE, budget_usd=1.0)] == ["budget"]


# ------------------------------------------------------------------------------------ the sliced lower bound

#: Spot's hourly preemption for a keep probability of 1/2 over 6 hours: (1 − π)⁶ = 0.5, so 0.125 over 18.
HALF_IN_SIX = 1.0 - 0.5 ** (1 / 6)


def day() -> SimpleNamespace:
    """Two slices of a 24-hour day: 6 h carrying 0.25 of the queries at half the mean rate, 18 h carrying
    0.75 at 1.5 × the mean; a deferrable class's weights are 1 every hour (24 in all)."""
    return SimpleNamespace(count=2, hours=np.array([6.0, 18.0]), cycle_hours=24, peak=np.array([[0.5, 1.5]]),
                           volume=np.array([[0.25, 0.75]]), weights=np.ones((1, 24)))


def market(spot_from: int = 0, count: int = 1) -> list[ModeOffer]:
    """Hardware 0 in ``count`` 1-month periods (δ = 1): reserved at $1,200 a GPU-period (κ = 1,200);
    on demand at $1,000 a GPU-period billed at least 12 h a start; spot at $400 (keep 1/2 and 1/8),
    startable from period ``spot_from``."""
    eye = np.eye(count, dtype=int).tolist()
    return [offer(mode="reserved-1y", covers=eye, cost_usd=np.full(count, 1200.0)),
            offer(mode="on-demand", covers=eye, cost_usd=np.full(count, 1000.0), min_billed_hours=12.0),
            offer(mode="spot", covers=eye, cost_usd=np.full(count, 400.0), preemption_per_hour=HALF_IN_SIX,
                  available=np.arange(count) >= spot_from)]


def test_hours_share_prices_are_the_cheaper_of_the_fixed_gpus_share_and_the_elastic_price_per_kept_gpu() -> None:
    """κ H_s/L = 1,200 × (6/24, 18/24) = (300, 900); on demand billed max(H_s, 12)/24 of $1,000 = (500, 750):
    firm (300, 750).  Spot 400 × (0.25, 0.75) = (100, 300) per GPU held, per GPU kept ÷ (1/2, 1/8) = (200,
    2,400): with spot (200, 750).  Period 0 cannot start spot: there with spot = firm."""
    with_spot, firm = slice_gpu_prices(market(spot_from=1, count=2), periods([1.0, 1.0], months=1), day())
    assert firm[0].ravel().tolist() == pytest.approx([300.0, 750.0, 300.0, 750.0])
    assert with_spot[0].ravel().tolist() == pytest.approx([300.0, 750.0, 200.0, 750.0])


def test_peak_weighted_prices_spend_the_fixed_gpus_cost_on_the_busiest_slices_first() -> None:
    """Load (2, 6): the busy slice first at min(750, 1,200) = 750, leaving 450 of κ for the quiet slice,
    below its elastic 500: firm (450, 750); with spot min with (200, 2,400): (200, 750)."""
    with_spot, firm = slice_gpu_prices(market(), periods([1.0], months=1), day(), load=np.array([[2.0, 6.0]]))
    assert firm[0].ravel().tolist() == pytest.approx([450.0, 750.0])
    assert with_spot[0].ravel().tolist() == pytest.approx([200.0, 750.0])


def test_peak_weighted_prices_fill_a_fractional_knapsack_of_kappa() -> None:
    """κ = 10, elastic (4, 8, 3), load (1, 5, 3): slice 1 takes min(8, 10) = 8, slice 2 min(3, 2) = 2,
    slice 0 what is left, 0.  Without a fixed offer (κ = inf) every slice is at its elastic price."""
    elastic = np.array([[4.0, 8.0, 3.0]])
    assert _peak_weighted(np.array([10.0]), elastic, np.array([[1.0, 5.0, 3.0]])).tolist() == [[0.0, 8.0, 2.0]]
    assert _peak_weighted(np.array([np.inf]), elastic, np.array([[1.0, 5.0, 3.0]])).tolist() == [[4.0, 8.0, 3.0]]


def bound_inputs(workload: Any, columns: list[Column] | None = None) -> tuple[Any, ...]:
    """One class (``workload``) on variant 0 (one-time $1,000, $100 a month, $2 per million queries, all
    queries served), ``columns`` (by default one TP2 column of 10 requests/s); peak 40 requests/s at a
    peak-to-average of 2 (mean 20); 1 M queries in the one 1-month period, δ = 0.9 (the offers' costs
    are already present values)."""
    cs = candidates(variant("v0", fee=100.0, per_million=2.0))
    demand = Demand(peak_rps=np.array([[40.0]]), queries=np.array([[1e6]]))
    return ([workload], cs, columns or [bound_column(2, 10.0)], market(), periods([0.9], months=1), demand,
            {0: 1000.0}, day(), 2.0)


def bound_column(tp: int, capacity_rps: float, workload: int = 0) -> Column:
    return Column(row=0, variant=0, workload=workload, hardware=0, tp=tp, batch=8, capacity_rps=capacity_rps,
                  ttft_ms=1.0, tpot_ms=1.0)


def test_an_interactive_classs_bound_prices_its_replicas_gpus_per_slice() -> None:
    """Replicas: 20 × (0.5, 1.5) / 10 = (1, 3), × TP2 = (2, 6) GPUs.  Traffic 1 M × $2 / 1e6 × δ 0.9 =
    $1.80, split by volume (0.45, 1.35).  Fixed 1,000 + 100 × 1 month × 0.9 = $1,090.
    Hours-share (firm, no spot for an interactive class): 2 × 300 + 6 × 750 = 5,100 → 6,191.8 $.
    Peak-weighted: 2 × 450 + 6 × 750 = 5,400 → 6,491.8 $: the bound is the larger, 6.4918 k$."""
    args = bound_inputs(scenario().workload[0])
    hours, peak = sliced_class_costs(*args)
    assert hours.fixed_usd == {0: pytest.approx(1090.0)}
    assert hours.items[(0, 0)].ravel().tolist() == pytest.approx([600.45, 4501.35])
    assert peak.items[(0, 0)].ravel().tolist() == pytest.approx([900.45, 4501.35])
    assert hours.volume[0].tolist() == [0.25, 0.75]
    assert sliced_lower_bounds(*args) == {0: pytest.approx(6.4918)}


def test_an_interactive_class_allowed_on_spot_is_priced_with_it() -> None:
    """``allow_spot``: the quiet slice's GPUs at spot's 200 $ per GPU kept: hours-share 2 × 200 + 6 × 750
    = 4,900 (+ 1.80 traffic)."""
    hours, _peak = sliced_class_costs(*bound_inputs(scenario().workload[0].model_copy(update={"allow_spot": True})))
    assert float(hours.items[(0, 0)].sum()) == pytest.approx(4901.8)


def test_a_deferrable_classs_bound_runs_its_whole_day_in_its_cheapest_slice_hour() -> None:
    """A class with a deadline runs at its mean rate: 20 / 10 = 2 replicas, 4 GPUs in either slice; with
    spot (its default): (4 × 200, 4 × 750) = (800, 3,000) a slice, per slice hour (133.3, 166.7): the
    day's 24 weighted hours at the cheaper, 24 × 800 / 6 = 3,200, + 1.80 traffic = 3,201.8 $, one item."""
    deferrable = scenario().workload[0].model_copy(update={"deadline_hours": 12.0})
    hours, _peak = sliced_class_costs(*bound_inputs(deferrable))
    assert hours.items[(0, 0)].ravel().tolist() == pytest.approx([3201.8])
    assert hours.volume[0].tolist() == [1.0]


# ------------------------------------------------------------------------------------ the sliced pair bound

def split(a: list[float], b: list[float], volume: list[float], low: float, high: float) -> float:
    return float(sliced_pairs.fluid_split_cost(np.array([a]), np.array([b]), np.array(volume), np.array([low]),
                                               np.array([high]))[0])


def test_the_fluid_split_moves_the_cheapest_volume_first_within_the_quality_interval() -> None:
    """Items (a, b) = (1, 3) and (5, 2) of volume 0.5 each: all on b costs 5; moving item 0 onto a saves
    2 per 0.5 (ratio −4), item 1 costs 3 per 0.5 (ratio +6).  Free: W* = 0.5, cost 5 − 2 = 3.  W ≥ 0.8:
    item 0 whole and 0.3 of item 1: 3 + 0.3 × 6 = 4.8.  W ≤ 0.2: 0.2 of item 0: 5 − 0.8 = 4.2."""
    assert split([1, 5], [3, 2], [0.5, 0.5], 0.0, 1.0) == pytest.approx(3.0)
    assert split([1, 5], [3, 2], [0.5, 0.5], 0.8, 1.0) == pytest.approx(4.8)
    assert split([1, 5], [3, 2], [0.5, 0.5], 0.0, 0.2) == pytest.approx(4.2)


def test_the_fluid_split_serves_forced_and_weightless_items_where_they_must_or_cheaper() -> None:
    """b cannot serve item 0 (inf): a serves it, 1, with its volume 0.6 counted in W; a cannot serve item 1:
    b serves it, 2; total 3 while W = 0.6 fits [0, 1], inf when W ≤ 0.4 is required.  An item of volume 0
    takes the cheaper side whatever W: (a, b) = (2, 5) with W fixed at 0 by the other item → 3 + 2 = 5.
    Neither side able to serve an item: inf."""
    inf = math.inf
    assert split([1, inf], [inf, 2], [0.6, 0.4], 0.0, 1.0) == pytest.approx(3.0)
    assert split([1, inf], [inf, 2], [0.6, 0.4], 0.0, 0.4) == inf
    assert split([1, 2], [3, 5], [1.0, 0.0], 0.0, 0.0) == pytest.approx(5.0)
    assert split([inf, 1], [inf, 1], [0.5, 0.5], 0.0, 1.0) == inf


def pair_costs(fixed: dict[int, float] | None = None) -> Any:
    """Three variants, one class in two slices of volume 0.5, two periods; each item costs variant 0 $10,
    variant 1 $4, variant 2 $6.  Fixed costs $1,000, $2,000, $500."""
    return ClassCosts(fixed_usd=fixed or {0: 1000.0, 1: 2000.0, 2: 500.0},
                      items={(v, 0): np.full((2, 2), usd) for v, usd in ((0, 10.0), (1, 4.0), (2, 6.0))},
                      volume=[np.array([0.5, 0.5])])


def test_the_pair_bound_adds_both_fixed_costs_and_the_best_blend_meeting_the_floor_each_period() -> None:
    """Scores 80, 60, 70 against a floor of 70.  (0, 1): 60 + 20 W ≥ 70 → W ≥ 0.5 on the dearer variant 0:
    8 + 0.5 × (6 / 0.5) = 14 a period, 28 → 1,000 + 2,000 + 28 = 3.028 k$.  (0, 2): variant 2 meets the
    floor (70, not below it): no row, all on variant 2, 12 a period → 1.524 k$.  (1, 2): the row
    70 + (60 − 70) W ≥ 70 leaves W ≤ 0, all on variant 2: 12 a period → 2.524 k$."""
    quality = {0: [80.0], 1: [60.0], 2: [70.0]}
    bounds = sliced_pairs.sliced_pair_bounds(pair_costs(), quality, [70.0], [0, 1, 2], 2)
    assert bounds == {(0, 1): pytest.approx(3.028), (0, 2): pytest.approx(1.524), (1, 2): pytest.approx(2.524)}
    higher = pair_costs({0: 2000.0, 1: 2000.0, 2: 500.0})
    best = sliced_pairs.best_pair_bounds([pair_costs(), higher], quality, [70.0], [0, 1, 2], 2)
    assert best[(0, 1)] == pytest.approx(4.028)  # the larger of the two pricings'


def test_the_pair_search_state_keeps_the_cheapest_plan_and_every_open_bound() -> None:
    """From a single-variant plan stopped at a limit (12.5 k$, no bound): incumbent 12.5, open bound 0;
    searched below 12.5, closed by a bound of 11.25 at a 10 % gap.  A pair solved at 11 becomes the incumbent; one feasible at 12 (dearer)
    does not, but leaves its bound max(relaxation 9, solver bound 10) = 10; one stopped without a plan
    leaves its relaxation 9.5; one cut off leaves none.  No plan at all: stopped searches give
    ``no_solution`` with the lowest open bound."""
    def model(cost: float) -> SimpleNamespace:
        return SimpleNamespace(prob=SimpleNamespace(objective=cost))

    def out(status: SolveStatus, bound: float | None = None) -> SolveOutcome:
        return SolveOutcome(status, "highs", 1.0, None, "", bound)

    state = sliced_pairs._Search.after((model(12.5), out(SolveStatus.FEASIBLE)))
    assert state.best is not None and state.best[2] == 12.5 and state.open_bounds == [0.0]
    assert state.cutoff(0.1) == (12.5, pytest.approx(11.25))
    state.record(model(11.0), 8.0, out(SolveStatus.OPTIMAL))
    state.record(model(12.0), 9.0, out(SolveStatus.FEASIBLE, 10.0))
    state.record(model(99.0), 9.5, out(SolveStatus.NO_SOLUTION))
    state.record(model(99.0), 7.0, out(SolveStatus.CUTOFF))
    assert state.best[2] == 11.0 and state.open_bounds == [0.0, 10.0, 9.5] and state.solved == 4
    proven = sliced_pairs._Search.after((model(12.5), out(SolveStatus.OPTIMAL)))
    assert proven.open_bounds == [] and sliced_pairs._Search.after(None).best is None

    stuck = sliced_pairs._Search(open_bounds=[3.0, 2.0])
    answer = stuck.no_plan("highs", "2 pairs", Deadline(60.0))
    assert answer.status == SolveStatus.NO_SOLUTION and answer.bound == 2.0
    none = sliced_pairs._Search().no_plan("highs", "2 pairs", Deadline(60.0))
    assert none.status == SolveStatus.INFEASIBLE and "(2 pairs screened)" in none.message


def no_loads(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> None:
    """The read-back without the lines' loads (their queueing figures need a deployment table; tested
    in ``test_line_load.py``): each line as the serving read it."""
    for module in modules:
        monkeypatch.setattr(module, "with_loads", lambda cs, lines, *_: [line for line, _col, _a in lines])


def test_the_read_back_lists_only_variants_carrying_traffic_and_charges_traffic_cost_by_share(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Column 0 (variant 0) carries each period's traffic, whose traffic costs are $10 and $12 (PV);
    column 1 (variant 1) carries 1e-12, solver noise below the 1e-9 a plan lists, at $99 for a whole
    class.  Technique cost 10 + 12 + 99 × 1e-12 = $22 = the objective (0.022 k$); variant 1 is not in
    use.  Per-query spend of variant 0 ($2 per million, 1 M and 2 M queries): 2 and 4 nominal, 2 and 3.2
    discounted (δ = 1, 0.8)."""
    problem = SimpleNamespace(
        y={0: Value(1.0), 1: Value(0.0)}, extra=None,
        shares=lambda: {(0, 0): 1.0, (1, 0): 1e-12, (0, 1): 1.0, (1, 1): 0.0},
        columns=[column(0), Column(row=1, variant=1, workload=0, hardware=0, tp=1, batch=8, capacity_rps=1.0,
                                   ttft_ms=1.0, tpot_ms=1.0)],
        r={(0, 0): Value(1.0), (1, 0): Value(0.0), (0, 1): Value(1.0), (1, 1): Value(0.0)},
        offers=[], n={}, coef={"traffic_cost": {(0, 0): 10.0, (0, 1): 12.0, (1, 0): 99.0},
                               "capacity": {(j, p): 1.0 for j in range(2) for p in range(2)}},
        prob=SimpleNamespace(objective=0.022))
    no_loads(monkeypatch, extract)
    demand = Demand(peak_rps=np.array([[3.0, 5.0]]), queries=np.array([[1e6, 2e6]]))
    cs = candidates(variant("v0", per_million=2.0), variant("v1"))
    plan = extract.extract_plan(base(), scenario(), cs, problem, periods([1.0, 0.8]), demand, {0: 0.0, 1: 0.0},
                                [None], INFO, OPTIMAL)
    assert plan.status == "optimal", plan.message
    assert plan.variant_names == ["v0"]
    assert plan.cost_breakdown.technique_recurring_usd == pytest.approx(22.0)
    assert plan.spend_by_period_usd == pytest.approx([2.0, 4.0])
    assert plan.discounted_spend_by_period_usd == pytest.approx([2.0, 3.2])
    assert [(s.period, s.variant, s.traffic_share) for s in plan.serving] == [(0, "v0", 1.0), (1, "v0", 1.0)]
    [summary] = plan.classes  # from the serving lines: column 0's TTFT 100 ms and TPOT 10 ms, score 70
    assert (summary.worst_ttft_ms, summary.worst_tpot_ms, summary.quality_score) == (100.0, 10.0, 70.0)


def test_the_sliced_read_back_costs_the_chosen_variant_and_its_traffic_by_slice_share(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One 1-month period (δ = 0.9), the day of :func:`day`.  Variant 0 (column 0, chosen: one-time $500,
    $100 a month, $2 per million queries) serves x = 1 in both slices: shares 0.25 and 0.75 of the
    class; variant 1 (column 1, not chosen) 1e-12 of x in slice 0, noise.  Traffic cost $8 (PV) for the
    whole class: 8 × 0.25 + 8 × 0.75 = 8 (variant 1's $99 × 2.5e-13 is nothing).  Lifetime 500 + 100 ×
    0.9 + 8 = $598 = the objective.  Per-query spend 2 × 1 M / 1e6 = $2 nominal, $1.80 PV, plus the fee
    $100 nominal, $90 PV."""
    slices = SimpleNamespace(**vars(day()), labels=["00-06", "06-24"], hour_slice=np.array([0] * 6 + [1] * 18))
    problem = SimpleNamespace(
        y={0: Value(1.0), 1: Value(0.0)}, slices=slices, periods=1, offers=[], n={}, e={},
        x_values=lambda: {(0, 0, 0): 1.0, (0, 0, 1): 1.0, (1, 0, 0): 1e-12, (1, 0, 1): 0.0},
        volume_share=lambda j, s: float(slices.volume[0, s]),
        columns=[column(0), Column(row=1, variant=1, workload=0, hardware=0, tp=1, batch=8, capacity_rps=1.0,
                                   ttft_ms=1.0, tpot_ms=1.0)],
        r={(0, 0, 0): Value(1.0), (0, 0, 1): Value(2.0), (1, 0, 0): Value(0.0), (1, 0, 1): Value(0.0)},
        coef={"traffic_cost": {(0, 0): 8.0, (1, 0): 99.0},
              "capacity": {(j, 0, sl): 1.0 for j in range(2) for sl in range(2)}},
        prob=SimpleNamespace(objective=0.598),
        elastic=lambda k: True)
    demand = Demand(peak_rps=np.array([[3.0]]), queries=np.array([[1e6]]))
    cs = candidates(variant("v0", fee=100.0, per_million=2.0), variant("v1"))
    no_loads(monkeypatch, extract_slices)
    plan = extract_slices.extract_sliced(base(), scenario(), cs, problem, periods([0.9], months=1), demand,
                                         {0: 500.0, 1: 0.0}, [None], INFO, OPTIMAL)
    assert plan.status == "optimal", plan.message
    assert plan.lifetime_cost_usd == pytest.approx(598.0) and plan.one_time_cost_usd == 500.0
    assert plan.variant_names == ["v0"]
    assert plan.cost_breakdown.technique_recurring_usd == pytest.approx(98.0)
    assert plan.spend_by_period_usd == pytest.approx([102.0])
    assert plan.discounted_spend_by_period_usd == pytest.approx([91.8])
    assert [(s.slice, s.replicas, s.traffic_share) for s in plan.serving] == [(0, 1, 0.25), (1, 2, 0.75)]
    assert [t.served_by_class["a"] for t in plan.time_slices] == pytest.approx([0.25, 0.75])


def test_a_classs_bound_takes_the_cheapest_column_in_each_slice() -> None:
    """Beside the TP2 column (GPUs (2, 6): (600, 4,500) $), a TP1 column of 6 requests/s occupies
    20 × (0.5, 1.5) / 6 = (5/3, 5) GPUs: (500, 3,750) $ at the hours-share prices, the cheaper in both
    slices whichever column comes first."""
    workload = scenario().workload[0]
    for columns in ([bound_column(1, 6.0), bound_column(2, 10.0)], [bound_column(2, 10.0), bound_column(1, 6.0)]):
        hours, _peak = sliced_class_costs(*bound_inputs(workload, columns))
        assert hours.items[(0, 0)].ravel().tolist() == pytest.approx([500.45, 3751.35])


def test_the_bound_is_the_larger_pricing_even_when_that_is_the_hours_share() -> None:
    """A deferrable class kept off spot (4 GPUs at its mean rate): hours-share prices (300, 750) give
    4 × (300, 750) / (6, 18) h = (200, 166.7) $ per slice hour, 24 × 166.7 = 4,000.  With no interactive
    class the peak-weighted load is 0 everywhere and the slices are filled in order: (min(500, 1,200),
    min(750, 700)) = (500, 700), per slice hour (333.3, 155.6): 24 × 155.6 = 3,733.3, lower.  The bound
    keeps the hours-share: (1,090 + 4,000 + 1.80) / 1,000 = 5.0918 k$."""
    deferrable = scenario().workload[0].model_copy(update={"deadline_hours": 12.0, "allow_spot": False})
    args = bound_inputs(deferrable)
    hours, peak = sliced_class_costs(*args)
    assert hours.items[(0, 0)].ravel().tolist() == pytest.approx([4001.8])
    assert peak.items[(0, 0)].ravel().tolist() == pytest.approx([24 * 2800 / 18 + 1.8])
    assert sliced_lower_bounds(*args) == {0: pytest.approx(5.0918)}


def test_a_variant_without_a_column_for_some_class_has_no_finite_bound() -> None:
    """Two classes, columns for class ``a`` only: variant 0 cannot serve ``b``, its bound is inf."""
    a = scenario().workload[0]
    _workloads, cs, columns, offers, horizon, _demand, one_time, slices, ratio = bound_inputs(a)
    two = SimpleNamespace(**{**vars(slices), "peak": np.array([[0.5, 1.5]] * 2), "volume": np.array([[0.25, 0.75]] * 2)})
    demand = Demand(peak_rps=np.array([[40.0], [40.0]]), queries=np.array([[1e6], [1e6]]))
    bounds = sliced_lower_bounds([a, a.model_copy(update={"name": "b"})], cs, columns, offers, horizon, demand,
                                 one_time, two, ratio)
    assert bounds == {0: math.inf}


# ------------------------------------------------------------------------------------ latency findings

def latency_case(ttft_ms: float, tpot_ms: float, tail: bool = False) -> Any:
    """``latency_and_quality_checks`` of class ``a`` on three table rows, none meeting both targets:
    h100-sxm TP1 (largest batch that fits: 4) 300 ms / 80 ms; l4 TP2 batch 8 850 ms / 25 ms; and an h100-sxm
    TP4 row of 100 ms / 1 ms that does not fit in memory (never named)."""
    T, F = True, False
    table = SimpleNamespace(workload=np.zeros(3, dtype=int), variant=np.zeros(3, dtype=int),
                            hardware=np.array([0, 1, 0]), tp=np.array([1, 2, 4]), latency_ok=np.array([F, F, F]),
                            batch_requested=np.array([0, 8, 0]),
                            result=SimpleNamespace(fits=np.array([T, T, F]), ttft_s=np.array([0.3, 0.85, 0.1]),
                                                   tpot_s=np.array([0.08, 0.025, 0.001]), batch=np.array([4, 8, 1])))
    exclusions = [SimpleNamespace(family="latency", subject="class a: P99", reason="P99 TTFT needs ρ < 0")] if tail else []
    cs = SimpleNamespace(deployments=table, variants=[SimpleNamespace(index=0, name="v0", profiles={"a": profile()})],
                         workloads=["a"], exclusions=exclusions, hardware=candidates().hardware)
    w = scenario().workload[0].model_copy(update={"ttft_ms": ttft_ms, "tpot_ms": tpot_ms})
    [finding] = infeasibility.latency_and_quality_checks(SimpleNamespace(workload=[w]), cs, [None])
    return finding


def test_targets_met_apart_name_the_fitting_row_closest_on_its_worse_ratio() -> None:
    """TTFT 500 ms (met by the h100 row) and TPOT 50 ms (met by the l4 row): the worse ratio is
    max(300/500, 80/50) = 1.6 on h100, max(850/500, 25/50) = 1.7 on l4: the h100 row is the closest
    (the better ratio, 25/50 = 0.5 on l4, is not what counts).  Best achievable: each target's best
    fitting row, TTFT 300 ms (h100) and TPOT 25 ms (l4); the batch named is the one the row runs (4),
    not the requested "largest that fits"."""
    finding = latency_case(500.0, 50.0)
    assert finding.family == "latency" and finding.requirement == "TTFT <= 500 ms, TPOT <= 50 ms"
    assert finding.best_achievable == "TTFT 300.0 ms, TPOT 25.00 ms"
    assert finding.message == ("class a: no deployment meets TTFT 500 ms and TPOT 50 ms together: closest "
                               "300 ms / 80.0 ms (h100-sxm, v0, TP1, batch 4)")


def test_a_tpot_target_met_exactly_is_not_named_unreachable_and_a_tail_reason_only_stands_alone() -> None:
    """TTFT 200 ms < the best 300 ms: unreachable, named at h100 TP1 batch 4; TPOT 25 ms = the l4 row's
    exactly: not named.  A P99 exclusion for the class is given only when no mean target is named."""
    finding = latency_case(200.0, 25.0, tail=True)
    assert finding.message == "class a: TTFT 200 ms is unreachable: best achievable 300 ms (h100-sxm, v0, TP1, batch 4)"
    assert latency_case(400.0, 30.0, tail=True).message == "class a: the P99 targets are unreachable: P99 TTFT needs ρ < 0"


# ------------------------------------------------------------------------------------ the pair search

def screen(monkeypatch: pytest.MonkeyPatch, node_limit: int | None = None) -> tuple[Any, ...]:
    """``screen_pairs`` from a proven single-variant plan of 7.0 k$ (gap 0, one solver thread: one pair at
    a time) over pairs whose cheap bounds are (0, 1) 5.0, (0, 2) 6.0, (0, 3) 6.5 and (1, 2) 8.0 k$ (the
    others impossible).  Pair (0, 1) relaxes to 5.5 and is solved at 6.5; pair (0, 2) relaxes to 6.6.
    The models, relaxations and searches are stubs; returns the answer, the stats, the pairs built and
    the cutoffs ($) the searches were given."""
    bounds = {(0, 1): 5.0, (0, 2): 6.0, (0, 3): 6.5, (1, 2): 8.0, (1, 3): math.inf, (2, 3): math.inf}
    relaxation, plan = {(0, 1): 5.5, (0, 2): 6.6, (0, 3): 6.7, (1, 2): 9.0}, {(0, 1): 6.5, (0, 2): 6.55, (0, 3): 6.6}
    built: list[tuple[int, int]] = []
    cutoffs: list[float | None] = []

    def pair_model(_sc: Any, _cs: Any, _cols: Any, pair: tuple[int, int], *rest: Any) -> Any:
        built.append(pair)
        return SimpleNamespace(pair=pair, prob=SimpleNamespace(objective=None))

    def relax(prob: Any, *args: Any, **kwargs: Any) -> SolveOutcome:
        prob.objective = relaxation[built[-1]]
        return SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "")

    def staged(problem: Any, _sc: Any, _deadline: Any, _gap: float, cutoff_usd: float | None) -> SolveOutcome:
        cutoffs.append(cutoff_usd)
        problem.prob.objective = plan[problem.pair]
        return SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "")

    monkeypatch.setattr(sliced_pairs, "sliced_class_costs", lambda *a: None)
    monkeypatch.setattr(sliced_pairs, "best_pair_bounds", lambda *a: bounds)
    monkeypatch.setattr(sliced_pairs, "_pair_model", pair_model)
    monkeypatch.setattr(solvers, "run", relax)
    monkeypatch.setattr(sliced_pairs, "solve_staged", staged)
    monkeypatch.setattr(sliced_pairs, "screened_status", lambda outcome, cost, open_bounds, *a: (cost, list(open_bounds)))
    sc = SimpleNamespace(workload=[], solver=SimpleNamespace(threads=1, name="highs"),
                         horizon=SimpleNamespace(peak_to_average=1.0))
    cs = SimpleNamespace(variants=[SimpleNamespace(profiles={}) for _ in range(4)], workloads=[])
    single = (SimpleNamespace(prob=SimpleNamespace(objective=7.0)), SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, ""))
    stats: dict[str, int] = {}
    problem, answer = sliced_pairs.screen_pairs(sc, cs, [SimpleNamespace(variant=v) for v in range(4)], [],
                                                SimpleNamespace(count=1), None, {}, [], None,
                                                solvers.Deadline(600.0, node_limit=node_limit), 0.0, stats, single)
    return problem, answer, stats, built, cutoffs


def test_the_pair_search_stops_at_the_first_bound_not_below_the_incumbent(monkeypatch: pytest.MonkeyPatch) -> None:
    """(0, 1) (bound 5.0 < 7.0) is built, relaxed (5.5 < 7.0) and searched below the 7.0 k$ cutoff,
    given as $7,000: its 6.5 k$ plan is the incumbent.  (0, 2) (6.0 < 6.5) is built, but its relaxation
    6.6 ≥ 6.5 closes it unsearched.  (0, 3)'s bound 6.5 is not below 6.5: the search stops there, and
    every later pair with it.  3 pairs with a finite bound, 2 built, 1 searched; nothing left open."""
    problem, answer, stats, built, cutoffs = screen(monkeypatch)
    assert built == [(0, 1), (0, 2)] and cutoffs == [pytest.approx(7000.0)]
    assert stats == {"pairs_screened": 6, "pairs_lp_bounded": 2, "pairs_solved": 1}
    assert problem.pair == (0, 1) and answer == (6.5, [])


def test_under_a_node_limit_the_pairs_after_the_first_search_keep_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a node limit one pair is searched ((0, 1): 6.5 k$); (0, 2), still below the cutoff with its
    bound 6.0, is not built: its bound is left open.  (0, 3) at 6.5 is not below the cutoff: not open."""
    _problem, answer, stats, built, _cutoffs = screen(monkeypatch, node_limit=1)
    assert built == [(0, 1)] and stats["pairs_solved"] == 1
    assert answer == (6.5, [6.0])


def test_a_pair_model_holds_both_variants_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pair's model is built over its two variants' columns only, with ``y_v ≥ 1`` for both."""
    seen: list[list[int]] = []

    def build(_sc: Any, _cs: Any, columns: list[Any], *rest: Any) -> Any:
        seen.append([c.variant for c in columns])
        return SimpleNamespace(y={v: pulp.LpVariable(f"y{v}", 0, 1) for v in range(3)})

    monkeypatch.setattr(sliced_pairs, "build_sliced", build)
    columns = [SimpleNamespace(variant=v) for v in (0, 1, 2, 2)]
    problem = sliced_pairs._pair_model(None, None, columns, (0, 2), [], None, None, {}, [], None)
    assert seen == [[0, 2, 2]]
    assert [problem.y[v].lowBound for v in range(3)] == [1, 0, 1]


def test_a_slice_without_traffic_costs_nothing_even_on_hardware_nothing_can_supply() -> None:
    """Class ``a`` has no traffic in the 6-hour slice (peak 0 there): its TP2 columns occupy (0, 6) GPUs.
    On hardware 0 that is (0, 6 × 750) $; on hardware 1, which only spot sells (and the class may not
    run on spot), the price is inf: (0, inf), not an undefined 0 × inf.  The class's least cost per slice
    is (0, 4,500) plus its traffic (0.45, 1.35)."""
    spot_only = offer(mode="spot", hardware=1, covers=[[1]], cost_usd=np.array([400.0]),
                      preemption_per_hour=HALF_IN_SIX)
    workloads, cs, _columns, offers, horizon, demand, one_time, slices, ratio = bound_inputs(scenario().workload[0])
    quiet = SimpleNamespace(**{**vars(slices), "peak": np.array([[0.0, 1.5]])})
    columns = [bound_column(2, 10.0), dataclasses.replace(bound_column(2, 10.0), hardware=1)]
    hours, _peak = sliced_class_costs(workloads, cs, columns, [*offers, spot_only], horizon, demand, one_time, quiet,
                                      ratio)
    assert hours.items[(0, 0)].ravel().tolist() == pytest.approx([0.45, 4501.35])
