"""Rows of the lifetime MILP that a mutation review of :mod:`planner.optimize.milp`,
:mod:`planner.optimize.direct`, :mod:`planner.optimize.direct_rows` and :mod:`planner.optimize.servers`
found unchecked by the existing tests (each test here fails on at least one such change):

* the terms another module adds through :func:`~planner.optimize.milp.build_problem`'s ``extra`` hook
  (disaggregated pairs): their share in the quality row, their replicas in both ``min_replicas`` rows,
  their GPUs in the supply row and the bound on ``n``, and the offers of a GPU type only they use;
* the edges of the capacity cuts: a load of exactly one replica (neither cut), and the rounding facet's
  ``MIN_ROUNDING_FRACTION`` threshold on both sides;
* ``min_replicas = 1`` (a floor of one replica is a row), the pooled model's link rows, the power row
  of reserved and spot GPUs (not owned: no row term), a missing quality score counted 0 in the row
  and ignored by :func:`~planner.optimize.milp.coefficient_range`;
* the numpy-built model's dominance bound between two columns of the same TP, ``heuristics_pay``.

The tiny inputs are built with the helpers of ``test_milp_hand_figures`` and ``test_direct_hand_figures``;
every expected figure is worked out from the module docstrings' formulas in the test's docstring.
Nothing here solves a MILP.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pulp
import pytest

from planner.optimize.direct import _dominance_bounds, build
from planner.optimize.milp import (
    ExtraColumns,
    Problem,
    build_problem,
    coefficient_range,
)
from tests.optimize.test_direct_hand_figures import (
    ON_DEMAND,
    RESERVED,
    SERVER,
    assert_row,
    one_variant,
    pair_model_data,
    two_variants,
)
from tests.optimize.test_milp_hand_figures import (
    EQ,
    GE,
    LE,
    approx,
    candidates,
    column,
    demand,
    names,
    objective,
    offer,
    periods,
    profile,
    row,
    scen,
    var,
)

INF = float("inf")

# --------------------------------------------------------------------------------------------------
# milp.py: the extra hook (a stand-in for disaggregated pairs)


def with_pair(min_replicas: int = 2, gpu_upper: dict[int, int] | None = None) -> Problem:
    """One class, one period, λ = 10 req/s; variant 0 (quality 90) has one column on gpu-a, μ = 4, TP 1:
    ``a = 10/4 = 2.5``; the floor is 80.  The hook adds a pair: share ``xk`` of quality 70, a prefill pool
    ``Pk`` (2 GPUs a replica) and a decode pool ``Dk`` (4 GPUs a replica), both on gpu-b, which no
    co-located column uses; ``gpu_upper`` {gpu-a: 4, gpu-b: 10} unless given; it costs 3 k$ a prefill
    replica.  On demand $1,000 a GPU on gpu-a (offer 0) and $2,000 on gpu-b (offer 1)."""
    cs = candidates([{"chat": profile(quality=90.0)}], hardware=("gpu-a", "gpu-b"))

    def hook(prob: pulp.LpProblem, y: dict[int, pulp.LpVariable]) -> ExtraColumns:
        xk = prob.add_variable("xk", 0, 1)
        pk = prob.add_variable("Pk", 0, 3, cat=pulp.LpInteger)
        dk = prob.add_variable("Dk", 0, 3, cat=pulp.LpInteger)
        more = ExtraColumns()
        more.share[(0, 0)].append(xk)
        more.quality[(0, 0)].append((70.0, xk))
        more.cover[(0, 0)].append(pulp.LpAffineExpression(xk))
        more.gpus[(1, 0)].append(2 * pk + 4 * dk)
        more.prefill_replicas[(0, 0)].append(pk)
        more.decode_replicas[(0, 0)].append(dk)
        more.gpu_upper.update({0: 4, 1: 10} if gpu_upper is None else gpu_upper)
        more.cost.append(3 * pk)
        more.integers = 2
        return more

    offers = [offer(cost=(1000.0,), hardware=0), offer(cost=(2000.0,), hardware=1)]
    return build_problem(scen(min_replicas=min_replicas), cs, [column(0, 4.0)], offers, periods([1.0]),
                         demand([[10.0]]), {}, [80.0], extra=hook)


def test_the_pairs_share_enters_demand_cover_and_quality_rows() -> None:
    """demand: ``x + xk = 1``; cover: ``r/2.5 + xk ≥ 1`` (0.4 r); quality: the column meets the floor (90 ≥ 80)
    but the pair does not (70), so the row exists: ``90 x + 70 xk ≥ 80``."""
    prob = with_pair().prob
    assert row(prob, "demand_0_0") == ({"x_00000_000": 1.0, "xk": 1.0}, EQ, 1.0)
    coefs, sense, rhs = row(prob, "cover_0_0")
    assert (coefs, sense, rhs) == (approx({"r_00000_000": 0.4, "xk": 1.0}), GE, 1.0)
    assert row(prob, "quality_0_0") == ({"x_00000_000": 90.0, "xk": 70.0}, GE, 80.0)


def test_each_phase_keeps_min_replicas_with_the_colocated_replicas() -> None:
    """R = 2: ``min_replicas_0_0: r + Pk ≥ 2`` (prefill) and ``min_replicas_decode_0_0: r + Dk ≥ 2``."""
    prob = with_pair().prob
    assert row(prob, "min_replicas_0_0") == ({"r_00000_000": 1.0, "Pk": 1.0}, GE, 2.0)
    assert row(prob, "min_replicas_decode_0_0") == ({"r_00000_000": 1.0, "Dk": 1.0}, GE, 2.0)


def test_a_gpu_type_only_the_pair_uses_gets_its_offer_supply_row_and_bound() -> None:
    """gpu-b has no co-located column: its offer is kept (model offer 1, ``n_001_000``, $2,000 → 2.0 k$ in
    the objective), its supply row counts the pools' GPUs ``2 Pk + 4 Dk − n ≤ 0`` and ``n`` is bounded by
    the hook's ``gpu_upper`` alone: ``max(1, 10) = 10``.  On gpu-a the bound adds the hook's 4 to the
    columns' ``t·max(1, R, ⌈a⌉) = 1·max(1, 2, 3) = 3``: 7.  The hook's cost 3 Pk is in the objective,
    and its 2 integers in the count: r, n (2), y, Pk, Dk = 6."""
    problem = with_pair()
    prob = problem.prob
    assert len(problem.offers) == 2
    assert row(prob, "supply_1_0") == ({"Pk": 2.0, "Dk": 4.0, "n_001_000": -1.0}, LE, 0.0)
    assert row(prob, "supply_0_0") == ({"r_00000_000": 1.0, "n_000_000": -1.0}, LE, 0.0)
    assert var(prob, "n_001_000").upBound == 10
    assert var(prob, "n_000_000").upBound == 4 + 3
    assert objective(prob) == approx({"n_000_000": 1.0, "n_001_000": 2.0, "Pk": 3.0})
    assert problem.stats["integer_variables"] == 6


def test_a_pair_only_gpu_type_is_bounded_by_at_least_one_gpu() -> None:
    """``gpu_upper`` of 0 on gpu-b (no pool reported its GPUs) still lets one GPU be acquired: ``max(1, 0)``."""
    prob = with_pair(gpu_upper={0: 0, 1: 0}).prob
    assert var(prob, "n_001_000").upBound == 1


def test_no_quality_row_when_column_and_pair_meet_the_floor() -> None:
    """With the floor at 70 both the column (90) and the pair (70, at the floor) meet it: no row."""
    cs = candidates([{"chat": profile(quality=90.0)}])

    def hook(prob: pulp.LpProblem, y: dict[int, pulp.LpVariable]) -> ExtraColumns:
        xk = prob.add_variable("xk", 0, 1)
        more = ExtraColumns()
        more.share[(0, 0)].append(xk)
        more.quality[(0, 0)].append((70.0, xk))
        return more

    problem = build_problem(scen(), cs, [column(0, 4.0)], [offer()], periods([1.0]), demand([[10.0]]), {}, [70.0],
                            extra=hook)
    assert not [n for n in names(problem.prob) if n.startswith("quality")]


# --------------------------------------------------------------------------------------------------
# milp.py: the edges of the capacity cuts, min_replicas = 1, pooled links, power, missing quality


def test_the_cuts_at_a_whole_load_and_at_the_rounding_threshold() -> None:
    """One column of μ = 1 req/s, three periods of λ = 1, 1.005 and 1.0005 req/s (a = λ).

    * a = 1: neither ``x ≤ r`` (only for a < 1) nor a facet ((a − ⌊a⌋)/a = 0);
    * a = 1.005: (a − 1)/a = 0.005/1.005 ≈ 0.004975 > MIN_ROUNDING_FRACTION = 0.001, so the facet
      ``r − x/(1 − f) ≥ ⌊a⌋ − f/(1 − f)`` with f = 1/1.005, 1/(1 − f) = 1.005/0.005 = 201 and
      f/(1 − f) = 1/0.005 = 200: ``r − 201 x ≥ 1 − 200 = −199`` (x = 1: r ≥ 2);
    * a = 1.0005: 0.0005/1.0005 ≈ 0.0004998 < 0.001: no facet."""
    cs = candidates([{"chat": profile()}])
    problem = build_problem(scen(), cs, [column(0, 1.0)], [offer(cost=(1000.0,) * 3)], periods([1.0] * 3),
                            demand([[1.0, 1.005, 1.0005]]), {}, [None])
    cuts = {n for n in names(problem.prob) if n.startswith(("minreplica", "rounding"))}
    assert cuts == {"rounding_0_1"}
    coefs, sense, rhs = row(problem.prob, "rounding_0_1")
    assert (sense, rhs) == (GE, pytest.approx(-199.0, rel=1e-9))
    assert coefs == pytest.approx({"r_00000_001": 1.0, "x_00000_001": -201.0}, rel=1e-9)


def test_a_floor_of_one_replica_is_a_row() -> None:
    """``workload.min_replicas = 1`` is a floor too (the row exists for any ``R_c > 0``): ``min_replicas_0_p:
    r ≥ 1`` in both periods (loads λ/μ = 0.5 and 1.5)."""
    cs = candidates([{"chat": profile()}])
    problem = build_problem(scen(min_replicas=1), cs, [column(0, 2.0)], [offer(cost=(1000.0, 1000.0))],
                            periods([1.0, 1.0]), demand([[1.0, 3.0]]), {}, [None])
    for p in range(2):
        assert row(problem.prob, f"min_replicas_0_{p}") == ({f"r_00000_{p:03d}": 1.0}, GE, 1.0)


def test_pooled_capacity_keeps_the_link_rows() -> None:
    """Pooled: no capacity row or cut, but each share still needs its variant, ``x − y ≤ 0``."""
    cs = candidates([{"chat": profile()}])
    problem = build_problem(scen(pooled=True), cs, [column(0, 1.0)], [offer()], periods([1.0]), demand([[1.5]]), {},
                            [None])
    assert row(problem.prob, "link_0_0") == ({"x_00000_000": 1.0, "y_00000": -1.0}, LE, 0.0)
    assert not [n for n in names(problem.prob) if n.startswith(("capacity", "minreplica", "rounding"))]


def test_the_power_row_counts_bought_gpus_only() -> None:
    """power_p sums the kW of *owned* GPUs (``mode == "buy"``): a reservation and spot GPUs drawing 2 kW each
    are the provider's, not the facility's: ``power_0: 1.5 n_buy ≤ 10``."""
    cs = candidates([{"chat": profile()}])
    offers = [offer("reserved-1y", power_kw=2.0), offer("spot", power_kw=2.0), offer("buy", power_kw=1.5)]
    problem = build_problem(scen(power_kw=10.0), cs, [column(0, 1.0)], offers, periods([1.0]), demand([[2.0]]), {},
                            [None])
    assert row(problem.prob, "power_0") == ({"n_002_000": 1.5}, LE, 10.0)


def test_a_missing_score_counts_as_the_floor_in_the_quality_row() -> None:
    """Variant 0 has no quality score, variant 1 scores 70 < floor 80: the row exists and counts variant 0's
    share at the floor (``pruning.row_score``: not held against it, as alone): ``80·x_0 + 70·x_1 ≥ 80``
    (until 2026-12-07 ``0·x_0``).  The range's smallest coefficient is 0.5 (the cover row's ``r/a`` with
    a = λ/μ = 2), the largest 80."""
    cs = candidates([{"chat": profile()}, {"chat": profile(quality=70.0)}])
    problem = build_problem(scen(max_variants=2), cs, [column(0, 1.0, variant=0), column(1, 1.0, variant=1)],
                            [offer()], periods([1.0]), demand([[2.0]]), {}, [80.0])
    assert row(problem.prob, "quality_0_0") == ({"x_00000_000": 80.0, "x_00001_000": 70.0}, GE, 80.0)
    assert coefficient_range(problem) == (0.5, 80.0)


# --------------------------------------------------------------------------------------------------
# direct.py


def test_no_dominance_bound_between_two_columns_of_the_same_tp() -> None:
    """The bound ``r_j ≤ t'/t_j − 1`` holds only towards a *larger* TP: two columns of one group at TP 2
    (ratio 1) keep their bounds (ratio − 1 = 0 would forbid both); TP 1 below TP 2 is cut to 2/1 − 1 = 1."""
    cols = [column(0, 1.0, tp=2), column(1, 1.0, tp=2), column(2, 1.0, tp=1)]
    ub = np.array([[3.0], [3.0], [3.0]])
    assert _dominance_bounds(cols, np.array([2.0, 2.0, 1.0]), ub, [0]).tolist() == [[3.0], [3.0], [1.0]]


def test_the_improvement_heuristics_pay_only_with_pairs() -> None:
    """``heuristics_pay`` is whether the model holds disaggregated pairs: not the one-variant model, yes the
    pair model."""
    assert build(one_variant(), [0]).heuristics_pay is False
    assert build(pair_model_data(), [0]).heuristics_pay is True


def test_the_constant_holds_the_traffic_of_the_classes_the_model_serves() -> None:
    """One variant, two classes, columns for class 0 only: the objective's constant is ``F + fixed + Σ_p
    ρ_{0,p}`` of the served class: 2.5 + 0.7 + 0.4 + 0.6 = 4.2, not + class 1's 5 + 6 = 15.2 (class 1,
    with no column, is not in the model's traffic)."""
    data = one_variant(traffic_kusd={0: np.array([[0.4, 0.6], [5.0, 6.0]])}, classes=2, min_replicas=[0, 0],
                       floors=[None, None], quality={0: [None, None]})
    assert build(data, [0]).offset == pytest.approx(4.2)


def test_the_union_constant_holds_the_traffic_of_the_served_classes() -> None:
    """The union's constant ``min_v (F_v + fixed_v + Σ_{c,p} ρ_{v,c,p})`` over the served classes: variant 0
    2.5 + 0.7 + 0.4 + 0.6 = 4.2, variant 1 0.5 + 0.2 + 0.1 + 0.3 = 1.1 → 1.1.  Class 1 has no column: its
    traffic (none for variant 0, 10 + 10 for variant 1) would make variant 1 21.1 and the constant 4.2."""
    data = two_variants(traffic_kusd={0: np.array([[0.4, 0.6], [0.0, 0.0]]), 1: np.array([[0.1, 0.3], [10.0, 10.0]])},
                        classes=2, min_replicas=[0, 0], floors=[None, None], quality={0: [80.0, None], 1: [70.0, None]})
    assert build(data, [0, 1], union=True).offset == pytest.approx(1.1)


def test_a_missing_score_counts_as_the_floor_in_the_direct_quality_row() -> None:
    """Several variants, floor 75: variant 1 scores 70 (below), variant 0 has no score (counts as the floor,
    ``pruning.row_score``): the row ``quality_0_p: 75·x_{0,0,p} + 70·x_{1,0,p} ≥ 75``, as in the PuLP model."""
    model = build(two_variants(quality={0: [None], 1: [70.0]}), [0, 1])
    for p in range(2):
        assert_row(model, {model.x[(0, 0, p)]: 75.0, model.x[(1, 0, p)]: 70.0}, 75.0, INF)
    assert 0.0 not in model.value.tolist()


def test_the_union_keeps_the_first_of_equally_strong_columns() -> None:
    """Both variants at TP 1 on hardware 0 with the same loads ``[1.5, 3.0]``: one deployment, equally strong;
    the union keeps the first column (variant 0's, j = 0), as :func:`~planner.optimize.direct_rows.start_build`
    says."""
    data = two_variants(load=np.array([[1.5, 3.0], [1.5, 3.0]]), floors=[None])
    assert build(data, [0, 1], union=True).columns == [0]


def test_the_union_keeps_one_column_per_deployment_tp_included() -> None:
    """Variant 0 at TP 1 and variant 1 at TP 2 on the same hardware and class are two deployments (class,
    hardware, TP): the union keeps both, though variant 1's loads ``[0.75, 1.5]`` are the lower."""
    data = two_variants(tp=np.array([1.0, 2.0]), floors=[None])
    assert build(data, [0, 1], union=True).columns == [0, 1]


def test_the_direct_power_rows_count_bought_gpus_only() -> None:
    """As in the PuLP model: a reservation drawing 2 kW a GPU is not the facility's; ``power_p`` stays the
    servers' ``6·S_p ≤ 100`` (1.5 kW × 4 GPUs)."""
    model = build(one_variant(offers=[ON_DEMAND, dataclasses.replace(RESERVED, power_kw=2.0), SERVER]), [0])
    S = model.n[2].tolist()
    for p in range(2):
        assert_row(model, {S[p]: 6.0}, -INF, 100.0)


def test_a_unit_pairs_idle_gpus_count_per_domain_in_supply_and_bound() -> None:
    """Pair 1 of ``pair_model_data`` with 3 idle GPUs per scale-up domain (not 1): hardware 0's supply row in
    period 0 is ``r + 2·P_0 + P_1 + D_1 + 3·U − od ≤ 0``, and the acquisitions' bound ``1·3 + 2·3 + 1·4 + 1·8
    + 3·4 (idle, 4 domains) = 33``."""
    data = pair_model_data()
    assert data.pairs is not None
    data = dataclasses.replace(data, pairs=dataclasses.replace(data.pairs, idle=np.array([0.0, 3.0])))
    model = build(data, [0])
    pools, od = model.pair_pools, model.n[0].tolist()
    assert_row(model, {int(model.r[0, 0]): 1.0, int(pools[0, 0, 0]): 2.0, int(pools[1, 0, 0]): 1.0,
                       int(pools[1, 1, 0]): 1.0, model.pair_units[(1, 0)]: 3.0, od[0]: -1.0}, -INF, 0.0)
    assert [model.col_upper[j] for j in od] == [33.0, 33.0]


def test_a_variant_serving_a_class_only_through_pairs_has_its_share() -> None:
    """Several variants: variant 0 has the co-located column, variant 1 only the two pairs of class 0.
    Variant 1 still gets ``x_{1,0,p}`` (cost ρ = 0.2, 0.3 k$), in ``demand: x_{0,0,p} + x_{1,0,p} = 1`` and
    in its capacity row ``x_{k0,p} + x_{k1,p} − x_{1,0,p} ≥ 0`` (its pairs' shares carry it)."""
    data = pair_model_data()
    assert data.pairs is not None
    data = dataclasses.replace(data, pairs=dataclasses.replace(data.pairs, variant=np.array([1, 1], dtype=np.int64)),
                               one_time_kusd={0: 0.0, 1: 0.0}, fixed_kusd={0: 0.0, 1: 0.0},
                               traffic_kusd={0: np.array([[0.4, 0.6]]), 1: np.array([[0.2, 0.3]])},
                               quality={0: [None], 1: [None]})
    model = build(data, [0, 1])
    for p in range(2):
        x1 = model.x[(1, 0, p)]
        assert model.cost[x1] == pytest.approx([0.2, 0.3][p])
        assert_row(model, {model.x[(0, 0, p)]: 1.0, x1: 1.0}, 1.0, 1.0)
        assert_row(model, {int(model.pair_x[0, p]): 1.0, int(model.pair_x[1, p]): 1.0, x1: -1.0}, 0.0, INF)


def test_the_coefficient_range_skips_terms_whole_servers_cancel() -> None:
    """Reservations of 2-GPU units serving two periods, held as ``S_p``: period 1's supply and quota rows read
    ``2 n_0 + 2 n_1 = 2 S_0 + 2 (S_1 − S_0)``, where ``S_0`` cancels to a stored 0.  The range is over the
    non-zero coefficients: the cover rows' ``r/a = 1/2 = 0.5`` (a = λ/μ = 2) up to the 2 GPUs a unit (and
    capacity's a = 2): (0.5, 2.0), never a 0 that would make it infinite."""
    cs = candidates([{"chat": profile()}])
    problem = build_problem(scen(quota={"gpu-a": 4}), cs, [column(0, 1.0)],
                            [offer("reserved-1y", (1000.0, 500.0), term=2, unit=2)], periods([1.0, 1.0]),
                            demand([[2.0, 2.0]]), {}, [None])
    assert coefficient_range(problem) == (0.5, 2.0)


def test_the_compact_model_refuses_extra_columns() -> None:
    """The ``extra`` hook's columns enter the demand and quality rows through their shares, which the compact
    model does not have: refused before anything is built."""
    cs = candidates([{"chat": profile()}])

    def hook(prob: pulp.LpProblem, y: dict[int, pulp.LpVariable]) -> ExtraColumns:
        raise AssertionError("the hook must not be called")

    with pytest.raises(ValueError, match="extra columns need the traffic shares"):
        build_problem(scen(), cs, [column(0, 1.0)], [offer()], periods([1.0]), demand([[1.0]]), {}, [None],
                      compact=True, extra=hook)


def test_an_optimal_label_without_an_objective_value_is_a_cutoff() -> None:
    """HiGHS given a cutoff says 'optimal' yet no plan was read back (the objective has no value): nothing
    cheaper than the cutoff was shown, so the outcome is CUTOFF, never an optimum."""
    from planner.optimize.milp import label_cutoff
    from planner.optimize.solver import SolveOutcome, SolveStatus

    prob = pulp.LpProblem("label", pulp.LpMinimize)
    prob += 12.345 * prob.add_variable("x", 0, 100)  # x has no value: pulp.value(objective) is None
    optimal = SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "")
    assert label_cutoff(optimal, prob, 1e9).status == SolveStatus.CUTOFF


def test_a_union_holds_no_quality_row() -> None:
    """A union (variant 1 at quality 70 below the floor 75 among its variants) is one compact model: no
    share, so no quality row — only cover and supply rows, 2 + 2 (on demand: no spares)."""
    model = build(two_variants(), [0, 1], union=True)
    assert model.num_row == 4 and model.x == {}


def test_whole_servers_stay_per_period_without_cumulative_counts() -> None:
    """``cumulative_servers=False`` (kept to compare the two forms): the 4-GPU servers are ``n_p`` with their
    own bounds ``⌈7/(4·0.75)⌉ = 3`` each (not ``3, 6``) and their own costs 20 and 16 k$."""
    model = build(one_variant(), [0], cumulative_servers=False)
    servers = model.n[2].tolist()
    assert model.cumulative == ()
    assert [model.col_upper[j] for j in servers] == [3.0, 3.0]
    assert [model.cost[j] for j in servers] == pytest.approx([20.0, 16.0])


def test_a_direct_floor_of_one_replica_is_a_row() -> None:
    """``min_replicas = 1``: ``r_p + r'_p ≥ 1`` in both periods of the one-variant model."""
    model = build(one_variant(min_replicas=[1]), [0])
    for p in range(2):
        assert_row(model, {int(model.r[0, p]): 1.0, int(model.r[1, p]): 1.0}, 1.0, INF)
