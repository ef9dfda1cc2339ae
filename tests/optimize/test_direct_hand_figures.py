"""Hand-calculated figures for the numpy-built model (:mod:`planner.optimize.direct`,
:mod:`planner.optimize.direct_rows`), the period-split start (:mod:`planner.optimize.period_start`) and
the direct path's guards (:mod:`planner.optimize.direct_path`).

A mutation review of those files found these unchecked by the existing tests:

* the coefficients and right-hand sides of the built rows — cover, supply, spares, quota, power, budget,
  the cumulative servers' ``0 ≤ S_{o,p} − S_{o,p−1} ≤ n̄_{o,p}`` — and the columns' bounds and costs, in
  a period other than the first (an index offset between periods changes nothing in period 0);
* the several-variant rows (demand, capacity, quality), the union's strongest column and constant;
* the disaggregated pairs' rows (share, valid cuts, scale-up domains, min-replica rows per phase) and
  :func:`~planner.optimize.direct.pair_data`'s loads and bounds;
* :func:`~planner.optimize.direct.model_data`'s loads, bounds, discounted costs and caps;
* the period-split start: which acquisitions it fixes, how it rounds them, the cost of its plan and
  that an infeasible plan is refused;
* :func:`~planner.optimize.direct_path.direct_applies` and the pair screening's status.

Every model here is written by hand (one hardware type or two, one or two periods) so that each row
can be written out; every expected figure is given with its arithmetic, never copied from the code
under test.  Only the period-split start runs HiGHS, on models of a few columns."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize.direct import DirectModel, ModelData, build
from planner.optimize.pruning import Column

T, F = True, False
INF = float("inf")
Row = tuple[dict[int, float], float, float]

# --------------------------------------------------------------------------------------------------
# helpers


def offer(hardware: int, mode: str, cost: list[float], covers: list[list[bool]], *, units: int = 1,
          supply: float = 1.0, power_kw: float = 0.0, available: list[bool] | None = None) -> ModeOffer:
    """A mode offer with only the figures the model reads (USD per GPU entering service in each period)."""
    return ModeOffer(hardware=hardware, mode=mode, cost_usd=np.array(cost, dtype=float),  # type: ignore[arg-type]
                     covers=np.array(covers, dtype=bool), power_kw=power_kw, breakdown={}, source="hand",
                     gpus_per_unit=units, supply_factor=supply,
                     available=np.array(available if available is not None else [], dtype=bool))


def column(variant: int, workload: int, hardware: int, tp: int) -> Column:
    """A co-located column; the model reads its class, hardware and TP (its loads are given apart)."""
    return Column(row=0, variant=variant, workload=workload, hardware=hardware, tp=tp, batch=1, capacity_rps=1.0,
                  ttft_ms=1.0, tpot_ms=1.0)


def rows(model: DirectModel) -> list[Row]:
    """Every row as ``({column: coefficient}, lower, upper)``."""
    ends = np.append(model.starts, len(model.index))
    return [({int(model.index[e]): float(model.value[e]) for e in range(ends[i], ends[i + 1])},
             float(model.row_lower[i]), float(model.row_upper[i])) for i in range(model.num_row)]


def same_row(row: Row, coefficients: dict[int, float], lower: float, upper: float) -> bool:
    got, lo, hi = row
    return (set(got) == set(coefficients)
            and all(got[c] == pytest.approx(v, rel=1e-12) for c, v in coefficients.items())
            and lo == pytest.approx(lower, rel=1e-12) and hi == pytest.approx(upper, rel=1e-12))


def assert_row(model: DirectModel, coefficients: dict[int, float], lower: float, upper: float) -> None:
    """Exactly one row of ``model`` is ``lower ≤ Σ coefficients·x ≤ upper`` (the rows' order is not checked)."""
    matches = [r for r in rows(model) if same_row(r, coefficients, lower, upper)]
    near = [r for r in rows(model) if set(r[0]) == set(coefficients)]
    assert len(matches) == 1, f"expected {coefficients} in [{lower}, {upper}]; rows on those columns: {near}"


def rows_on(model: DirectModel, col: int) -> list[Row]:
    return [r for r in rows(model) if col in r[0]]


# --------------------------------------------------------------------------------------------------
# one variant, one class, one hardware type, two periods: rented, reserved and bought in servers

ON_DEMAND = offer(0, "on-demand", [1000.0, 1500.0], [[T, F], [F, T]])
# a reservation started in period 0 serves both periods; none may start in period 0 (lead time)
RESERVED = offer(0, "reserved-1y", [1800.0, 900.0], [[T, T], [F, T]], available=[F, T])
# 4-GPU servers, a quarter of their GPUs held as spares, 1.5 kW per GPU, serving from their period on
SERVER = offer(0, "buy", [5000.0, 4000.0], [[T, T], [F, T]], units=4, supply=0.75, power_kw=1.5)


def one_variant(**changes: Any) -> ModelData:
    r"""Class 0 served by variant 0 on hardware 0 at TP 1 (loads ``a = [1.5, 3.0]``) and TP 2 (``a = [0.6,
    1.2]``).  Replica bounds as :func:`~planner.optimize.direct.model_data` gives them: TP 1 ``max(1, ⌈a⌉)
    = [2, 3]`` cut to ``2/1 − 1 = 1`` by the dominance bound, TP 2 ``[1, 2]``.  One-time 2.5 k$, fixed
    0.7 k$, traffic 0.4 and 0.6 k$; a quota of 10 GPUs, a power cap of 100 kW and a budget of 500 k$."""
    data = ModelData(columns=[column(0, 0, 0, 1), column(0, 0, 0, 2)], variant=np.zeros(2, dtype=np.int64),
                     workload=np.zeros(2, dtype=np.int64), hardware=np.zeros(2, dtype=np.int64),
                     tp=np.array([1.0, 2.0]), load=np.array([[1.5, 3.0], [0.6, 1.2]]),
                     replica_ub=np.array([[1.0, 1.0], [1.0, 2.0]]), offers=[ON_DEMAND, RESERVED, SERVER],
                     one_time_kusd={0: 2.5}, traffic_kusd={0: np.array([[0.4, 0.6]])}, fixed_kusd={0: 0.7},
                     quality={0: [None]}, floors=[None], min_replicas=[0], quota_gpus={0: 10.0}, power_cap_kw=100.0,
                     budget_kusd=500.0, periods=2, classes=1)
    return dataclasses.replace(data, **changes)


def columns_of(model: DirectModel) -> SimpleNamespace:
    """The single-variant model's columns by name: ``r[k][p]``, ``od[p]``, ``res[p]``, ``S[p]``, ``z[p]``."""
    return SimpleNamespace(r=model.r.tolist(), od=model.n[0].tolist(), res=model.n[1].tolist(), S=model.n[2].tolist(),
                           z=[model.spares[(0, p)] for p in range(2)])


def test_the_cover_rows_divide_each_replica_by_its_load_in_every_period() -> None:
    """``cover_p: Σ_j r_{j,p}/a_{j,p} ≥ 1``: period 0 ``r/1.5 + r'/0.6 ≥ 1``, period 1 ``r/3 + r'/1.2 ≥ 1``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.r[0][0]: 1 / 1.5, c.r[1][0]: 1 / 0.6}, 1.0, INF)
    assert_row(model, {c.r[0][1]: 1 / 3.0, c.r[1][1]: 1 / 1.2}, 1.0, INF)


def test_the_columns_bounds_follow_each_period() -> None:
    """Replicas: ``[0, replica_ub[j, p]]`` = ``[1, 1]`` and ``[1, 2]``.  Acquisitions are bounded by the
    GPUs every column would need at its peak, ``Σ_j t_j·max(1, R_c, ⌈max_p a_{j,p}⌉) = 1·3 + 2·⌈1.2⌉ = 7``:
    on demand ``⌈7/1⌉ = 7`` units a period; reserved 0 in period 0 (none may start) and 7; servers
    ``⌈7/(4·0.75)⌉ = 3`` a period, held as cumulative counts ``S_p ≤ 3, 3 + 3 = 6``.  Spares are whole and
    unbounded; every column is an integer."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    upper, lower = model.col_upper, model.col_lower
    assert [upper[c.r[0][0]], upper[c.r[0][1]], upper[c.r[1][0]], upper[c.r[1][1]]] == [1.0, 1.0, 1.0, 2.0]
    assert [upper[j] for j in c.od] == [7.0, 7.0]
    assert [upper[j] for j in c.res] == [0.0, 7.0]
    assert [upper[j] for j in c.S] == [3.0, 6.0]
    assert [upper[j] for j in c.z] == [INF, INF]
    assert (lower == 0.0).all() and (model.integrality == 1).all() and model.num_col == 12


def test_the_columns_costs_are_per_unit_and_per_period_and_servers_pay_the_difference() -> None:
    """k$ per unit started: on demand ``1000·1/1000 = 1.0`` and ``1.5``; reserved ``1.8`` and ``0.9``; a
    server ``5000·4/1000 = 20`` and ``4000·4/1000 = 16``, written on ``S_p = n_0 + … + n_p`` as
    ``20·S_0 + 16·(S_1 − S_0) = 4·S_0 + 16·S_1``.  Replicas and spares cost nothing.  The constant is
    the variant's one-time, fixed and traffic cost: ``2.5 + 0.7 + 0.4 + 0.6 = 4.2``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    cost = model.cost
    assert [cost[j] for j in c.od] == pytest.approx([1.0, 1.5])
    assert [cost[j] for j in c.res] == pytest.approx([1.8, 0.9])
    assert [cost[j] for j in c.S] == pytest.approx([4.0, 16.0])
    assert [cost[j] for j in [*c.r[0], *c.r[1], *c.z]] == [0.0] * 6
    assert model.offset == pytest.approx(4.2)


def test_the_supply_rows_count_every_unit_serving_the_period() -> None:
    """``supply_p: Σ_j t_j r_{j,p} + z_p − Σ (GPUs of the units serving p) ≤ 0``.  Period 0: ``r + 2r' + z_0
    − od_0 − res_0 − 4·S_0``.  Period 1: the reservation of period 0 still serves, and the servers of
    both periods, ``4·n_0 + 4·n_1 = 4·S_1``: ``r + 2r' + z_1 − od_1 − res_0 − res_1 − 4·S_1``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.r[0][0]: 1.0, c.r[1][0]: 2.0, c.z[0]: 1.0, c.od[0]: -1.0, c.res[0]: -1.0, c.S[0]: -4.0},
               -INF, 0.0)
    assert_row(model, {c.r[0][1]: 1.0, c.r[1][1]: 2.0, c.z[1]: 1.0, c.od[1]: -1.0, c.res[0]: -1.0, c.res[1]: -1.0,
                       c.S[1]: -4.0}, -INF, 0.0)


def test_the_spares_rows_hold_the_unsupplied_share_of_the_owned_units() -> None:
    """``spares_p: Σ (1 − f)·u·n − z_p ≤ 0`` over the owned units in service: ``(1 − 0.75)·4 = 1`` spare
    GPU per server, ``S_0 − z_0 ≤ 0`` and ``n_0 + n_1 − z_1 = S_1 − z_1 ≤ 0``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.S[0]: 1.0, c.z[0]: -1.0}, -INF, 0.0)
    assert_row(model, {c.S[1]: 1.0, c.z[1]: -1.0}, -INF, 0.0)


def test_no_spare_columns_where_every_serving_offer_supplies_all_its_gpus() -> None:
    """With the servers' supply factor at 1 nothing is held as spares: no ``z`` column, no spares row
    (12 − 2 = 10 columns)."""
    model = build(one_variant(offers=[ON_DEMAND, RESERVED, dataclasses.replace(SERVER, supply_factor=1.0)]), [0])
    assert model.spares == {} and model.num_col == 10


def test_the_quota_rows_count_the_gpus_paid_for() -> None:
    """``quota_p: Σ u·n ≤ 10`` over the units serving p: ``od_0 + res_0 + 4·S_0 ≤ 10`` and ``od_1 + res_0 +
    res_1 + 4·S_1 ≤ 10``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.od[0]: 1.0, c.res[0]: 1.0, c.S[0]: 4.0}, -INF, 10.0)
    assert_row(model, {c.od[1]: 1.0, c.res[0]: 1.0, c.res[1]: 1.0, c.S[1]: 4.0}, -INF, 10.0)


def test_the_power_rows_count_the_owned_servers_in_service() -> None:
    """``power_p: Σ kW·u·n ≤ 100`` over the bought units in service (``1.5·4 = 6`` kW a server): ``6·S_0
    ≤ 100`` and ``6·n_0 + 6·n_1 = 6·S_1 ≤ 100``; the rentals draw no power of the scenario's."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.S[0]: 6.0}, -INF, 100.0)
    assert_row(model, {c.S[1]: 6.0}, -INF, 100.0)


def test_the_budget_row_caps_the_costs_above_the_constant() -> None:
    """``Σ cost·x + offset ≤ 500`` is written ``Σ cost·x ≤ 500 − 4.2 = 495.8`` over every costed column."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.od[0]: 1.0, c.od[1]: 1.5, c.res[0]: 1.8, c.res[1]: 0.9, c.S[0]: 4.0, c.S[1]: 16.0},
               -INF, 495.8)


def test_the_cumulative_servers_keep_each_periods_purchase_within_its_bound() -> None:
    """``0 ≤ S_0 ≤ n̄_0 = 3`` and ``0 ≤ S_1 − S_0 ≤ n̄_1 = 3``: no server is sold back.  The model has
    2 cover + 2·3 supply, spares and quota + 2 power + 1 budget + 2 of these = 13 rows."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    assert_row(model, {c.S[0]: 1.0}, 0.0, 3.0)
    assert_row(model, {c.S[1]: 1.0, c.S[0]: -1.0}, 0.0, 3.0)
    assert model.num_row == 13 and model.cumulative == (2,)


def test_the_acquisitions_are_read_back_from_the_cumulative_counts() -> None:
    """Servers in service ``S = [2, 5]`` were bought as ``[2, 5 − 2 = 3]``; the other offers' columns are
    their purchases; :meth:`~DirectModel.acquisition_values` writes ``[2, 3]`` back as ``[2, 5]``."""
    model = build(one_variant(), [0])
    c = columns_of(model)
    values = np.zeros(model.num_col)
    values[c.S] = [2.0, 5.0]
    values[c.od] = [1.0, 4.0]
    started = model.acquisitions(values)
    assert started[2].tolist() == [2.0, 3.0] and started[0].tolist() == [1.0, 4.0]
    assert model.acquisition_values(2, np.array([2.0, 3.0])).tolist() == [2.0, 5.0]
    assert model.acquisition_values(0, np.array([1.0, 4.0])).tolist() == [1.0, 4.0]


def test_min_replica_rows_and_the_acquisition_bound_follow_the_floor() -> None:
    """``workload.min_replicas = 4``: ``r_p + r'_p ≥ 4`` in both periods, and the GPUs at the peak become
    ``1·max(1, 4, 3) + 2·max(1, 4, 2) = 12``: on demand ``⌈12⌉ = 12`` units, servers ``⌈12/3⌉ = 4``."""
    model = build(one_variant(min_replicas=[4]), [0])
    c = columns_of(model)
    for p in range(2):
        assert_row(model, {c.r[0][p]: 1.0, c.r[1][p]: 1.0}, 4.0, INF)
    assert [model.col_upper[j] for j in c.od] == [12.0, 12.0]
    assert [model.col_upper[j] for j in c.S] == [4.0, 8.0]


# --------------------------------------------------------------------------------------------------
# two variants of class 0 on hardware 0, TP 1: their own traffic shares, or their union


def two_variants(**changes: Any) -> ModelData:
    """Variant 0 (``a = [1.5, 3.0]``, quality 80, one-time 2.5, fixed 0.7, traffic ``[0.4, 0.6]`` k$) and
    variant 1 (``a = [0.75, 1.5]``, quality 70, 0.5, 0.2, ``[0.1, 0.3]``), both at TP 1 on hardware 0,
    rented on demand; a quality floor of 75."""
    data = ModelData(columns=[column(0, 0, 0, 1), column(1, 0, 0, 1)], variant=np.array([0, 1], dtype=np.int64),
                     workload=np.zeros(2, dtype=np.int64), hardware=np.zeros(2, dtype=np.int64),
                     tp=np.array([1.0, 1.0]), load=np.array([[1.5, 3.0], [0.75, 1.5]]),
                     replica_ub=np.array([[2.0, 3.0], [1.0, 2.0]]), offers=[ON_DEMAND],
                     one_time_kusd={0: 2.5, 1: 0.5},
                     traffic_kusd={0: np.array([[0.4, 0.6]]), 1: np.array([[0.1, 0.3]])},
                     fixed_kusd={0: 0.7, 1: 0.2}, quality={0: [80.0], 1: [70.0]}, floors=[75.0], min_replicas=[0],
                     quota_gpus={}, power_cap_kw=None, budget_kusd=None, periods=2, classes=1)
    return dataclasses.replace(data, **changes)


def test_several_variants_pay_their_traffic_on_their_shares() -> None:
    """``x_{v,0,p}`` costs ``ρ_{v,0,p}``: ``[0.4, 0.6]`` and ``[0.1, 0.3]`` k$, in ``[0, 1]``; the constant
    holds only the one-time and fixed costs, ``2.5 + 0.7 + 0.5 + 0.2 = 3.9``."""
    model = build(two_variants(), [0, 1])
    x = model.x
    assert [model.cost[x[(0, 0, p)]] for p in range(2)] == pytest.approx([0.4, 0.6])
    assert [model.cost[x[(1, 0, p)]] for p in range(2)] == pytest.approx([0.1, 0.3])
    assert all(model.col_lower[j] == 0.0 and model.col_upper[j] == 1.0 and model.integrality[j] == 0
               for j in x.values())
    assert model.offset == pytest.approx(3.9)


def test_several_variants_demand_capacity_and_quality_rows() -> None:
    """Per period: ``demand: x_0 + x_1 = 1``; ``capacity_v: r_v/a_v − x_v ≥ 0`` (``r_0/1.5``, ``r_1/0.75`` in
    period 0; ``r_0/3``, ``r_1/1.5`` in period 1); ``quality: 80·x_0 + 70·x_1 ≥ 75``."""
    model = build(two_variants(), [0, 1])
    x, r = model.x, model.r
    for p, (a0, a1) in enumerate([(1.5, 0.75), (3.0, 1.5)]):
        assert_row(model, {x[(0, 0, p)]: 1.0, x[(1, 0, p)]: 1.0}, 1.0, 1.0)
        assert_row(model, {int(r[0, p]): 1 / a0, x[(0, 0, p)]: -1.0}, 0.0, INF)
        assert_row(model, {int(r[1, p]): 1 / a1, x[(1, 0, p)]: -1.0}, 0.0, INF)
        assert_row(model, {x[(0, 0, p)]: 80.0, x[(1, 0, p)]: 70.0}, 75.0, INF)


def test_no_quality_row_when_every_variant_meets_the_floor() -> None:
    """A floor of 70 (both variants at or above it): the 2 periods' quality rows are left out, so 2·(demand +
    cover + 2 capacity) + 2 supply = 10 rows."""
    model = build(two_variants(floors=[70.0]), [0, 1])
    assert model.num_row == 10
    assert not [row for row in rows(model) if row[1] == 70.0]


def test_the_union_keeps_the_strongest_column_and_the_cheapest_constant() -> None:
    """Both variants deploy class 0 on hardware 0 at TP 1: the union keeps variant 1's column (loads
    ``0.75 + 1.5`` below ``1.5 + 3``), so its cover row is ``r/0.75 ≥ 1``; its constant is the least of
    ``2.5 + 0.7 + 0.4 + 0.6 = 4.2`` and ``0.5 + 0.2 + 0.1 + 0.3 = 1.1``."""
    model = build(two_variants(), [0, 1], union=True)
    assert model.columns == [1] and model.x == {}
    assert_row(model, {int(model.r[0, 0]): 1 / 0.75}, 1.0, INF)
    assert model.offset == pytest.approx(1.1)


def test_a_union_of_pair_models_is_refused() -> None:
    """The union is defined for co-located columns only (:func:`~planner.optimize.direct.build`)."""
    with_pairs = dataclasses.replace(two_variants(), pairs=cast(Any, SimpleNamespace()))
    with pytest.raises(ValueError, match="co-located columns only"):
        build(with_pairs, [0, 1], union=True)


def bare_model(values: list[float]) -> DirectModel:
    """One row holding ``values`` as its coefficients (what the scaling refusal reads)."""
    n = len(values)
    empty = np.zeros((0, 0), dtype=np.int64)
    return DirectModel(cost=np.zeros(n), offset=0.0, col_lower=np.zeros(n), col_upper=np.ones(n),
                       integrality=np.zeros(n, dtype=np.int32), row_lower=np.zeros(1), row_upper=np.ones(1),
                       starts=np.zeros(1, dtype=np.int32), index=np.arange(n, dtype=np.int32),
                       value=np.array(values, dtype=float), columns=[], offers=[], r=empty, n=empty, spares={}, x={},
                       variants=[0], hardware_of_offer=[])


def test_the_scaling_refusal_is_above_a_range_of_a_billion() -> None:
    """``MAX_COEFFICIENT_RANGE = 1e9``: coefficients ``0.5`` to ``5e8`` (a range of exactly ``1e9``) are
    solved, ``0.5`` to ``1e9`` (``2e9``) refused; a zero coefficient is no coefficient."""
    from planner.optimize.direct import scaling_refusal

    assert bare_model([0.0, 0.5, -5e8]).coefficient_range() == (0.5, 5e8)
    assert scaling_refusal(bare_model([0.5, -5e8])) is None
    refusal = scaling_refusal(bare_model([0.5, 1e9]))
    assert refusal is not None and "too badly scaled" in refusal


# --------------------------------------------------------------------------------------------------
# model_data and pair_data: loads, bounds, discounted costs and caps from the scenario's figures


def profile(served: float, usd_per_million: float, usd_per_month: float, quality: float) -> SimpleNamespace:
    return SimpleNamespace(served_query_fraction=served, recurring_usd_per_million_queries=usd_per_million,
                           recurring_usd_per_month=usd_per_month, quality_score=quality)


def plan_inputs(peak: list[list[float]] | None = None, min_replicas: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    r"""One variant serving ``chat`` (served fraction 0.8, 2 $/M queries, a 100 $/month fee stated by the
    class, quality 80) and ``batch`` (0.5, 3 $/M, 300 $/month, 78); the variant's fee is 300 $/month (what
    ``Variant.monthly_fee_usd`` returns: the largest a class states).  Two quarters discounted at
    ``δ = [0.9, 0.8]``, peaks ``[[3, 5], [2, 4]]`` requests/s, ``[[2, 4], [1, 3]]`` million queries.  A quota
    of 16 GPUs on ``gpu-b``, a 250,000 $ budget, a 40 kW power cap, 2,500 $ one-time cost."""
    variant = SimpleNamespace(profiles={"chat": profile(0.8, 2.0, 100.0, 80.0),
                                        "batch": profile(0.5, 3.0, 300.0, 78.0)},
                              monthly_fee_usd=lambda: 300.0)
    cs = SimpleNamespace(workloads=["chat", "batch"], variants=[variant],
                         hardware=[SimpleNamespace(slug="gpu-a"), SimpleNamespace(slug="gpu-b")])
    scenario = SimpleNamespace(workload=[SimpleNamespace(min_replicas=m) for m in min_replicas],
                               market=SimpleNamespace(quota_gpus={"gpu-b": 16, "gpu-z": 4}, budget_usd=250_000.0,
                                                      power_cap_kw=40.0))
    years = np.array([0.0, 0.25])
    periods = Periods(count=2, months=3, start_years=years, mid_years=years + 0.125, end_years=years + 0.25,
                      discount_mid=np.array([0.9, 0.8]), discount_start=np.ones(2), rate_per_year=0.0)
    demand = Demand(peak_rps=np.array(peak if peak is not None else [[3.0, 5.0], [2.0, 4.0]]),
                    queries=np.array([[2e6, 4e6], [1e6, 3e6]]))
    return {"scenario": scenario, "cs": cs, "periods": periods, "demand": demand}


def colocated_data(with_caps: bool = True, **kwargs: Any) -> ModelData:
    """:func:`plan_inputs` through ``model_data``: ``chat`` on ``gpu-a`` at TP 1 serving 2 requests/s a
    replica, ``batch`` on ``gpu-b`` at TP 2 serving 5."""
    from planner.optimize.direct import model_data

    i = plan_inputs(**kwargs)
    columns = [Column(row=0, variant=0, workload=0, hardware=0, tp=1, batch=1, capacity_rps=2.0, ttft_ms=1.0,
                      tpot_ms=1.0),
               Column(row=1, variant=0, workload=1, hardware=1, tp=2, batch=1, capacity_rps=5.0, ttft_ms=1.0,
                      tpot_ms=1.0)]
    return model_data(cast(Any, i["scenario"]), cast(Any, i["cs"]), columns, [], i["periods"], i["demand"],
                      {0: 2500.0}, [None, None], with_caps=with_caps)


def test_model_data_loads_and_replica_bounds() -> None:
    """``a_{j,p} = peak·served/capacity``: chat ``3·0.8/2 = 1.2`` and ``5·0.8/2 = 2.0`` (whole: ``⌈2.0⌉ = 2``
    replicas, not 3), batch ``2·0.5/5 = 0.2`` and ``4·0.5/5 = 0.4``; bounds ``max(1, ⌈a⌉)`` = ``[2, 2]`` and
    ``[1, 1]``.  With ``min_replicas = 3`` on chat its bound is ``max(1, 3, ⌈a⌉) = 3``."""
    data = colocated_data()
    assert data.load[0] == pytest.approx([1.2, 2.0], rel=1e-12)
    assert data.load[1] == pytest.approx([0.2, 0.4], rel=1e-12)
    assert data.replica_ub.tolist() == [[2.0, 2.0], [1.0, 1.0]]
    assert colocated_data(min_replicas=(3, 0)).replica_ub.tolist() == [[3.0, 3.0], [1.0, 1.0]]


def test_model_data_lifts_a_tiny_load_to_the_least_replica_load_and_keeps_no_traffic_at_zero() -> None:
    """A peak of ``1e-7`` requests/s gives ``a = 1e-7·0.8/2 = 4e-8``, lifted to ``MIN_LOAD_PER_REPLICA =
    1e-6`` (one replica carries it, and the cover coefficient stays ``1e6``); a zero peak stays 0."""
    data = colocated_data(peak=[[1e-7, 0.0], [2.0, 4.0]])
    assert data.load[0].tolist() == [1e-6, 0.0]
    assert data.replica_ub[0].tolist() == [1.0, 1.0]


def test_model_data_discounts_the_running_costs() -> None:
    r"""Traffic ``ρ_{c,p} = rate·queries/10⁶·δ_p/1000`` k$: chat ``2·2·0.9 = 3.6`` and ``2·4·0.8 = 6.4`` $,
    batch ``3·1·0.9 = 2.7`` and ``3·3·0.8 = 7.2`` $ (in k$, /1000).  The fixed fee over the horizon:
    ``300 $ × Σ_p months·δ_p = 300 × (3·0.9 + 3·0.8) = 1,530 $``; one-time ``2,500 $ = 2.5`` k$."""
    data = colocated_data()
    assert data.traffic_kusd[0] == pytest.approx(np.array([[3.6, 6.4], [2.7, 7.2]]) / 1000, rel=1e-12)
    assert data.fixed_kusd[0] == pytest.approx(1.53, rel=1e-12)
    assert data.one_time_kusd == {0: pytest.approx(2.5)}
    assert data.quality == {0: [80.0, 78.0]}


def test_model_data_caps_only_with_caps() -> None:
    """The quota of ``gpu-b`` (hardware 1; ``gpu-z`` is not in the plan), the budget in k$ and the power cap
    are read with ``with_caps``, and all three left out without."""
    data = colocated_data()
    assert data.quota_gpus == {1: 16.0} and data.budget_kusd == pytest.approx(250.0) and data.power_cap_kw == 40.0
    bare = colocated_data(with_caps=False)
    assert bare.quota_gpus == {} and bare.budget_kusd is None and bare.power_cap_kw is None


def test_dominance_bounds_cut_each_tp_below_the_next_whole_multiple() -> None:
    """Columns given as TP 4, 2, 1 of one group (bounds 9): sorted by TP, TP 1 ``≤ 2/1 − 1 = 1`` and TP 2
    ``≤ 4/2 − 1 = 1``, TP 4 keeps 9.  TP 2 and 3 (``3/2`` not whole) cut nothing; a column of another
    hardware type is a group of its own; a class with ``min_replicas`` keeps its full bounds."""
    from planner.optimize.direct import _dominance_bounds

    def bounds(spec: list[tuple[int, int, int]], minimum: int = 0) -> list[float]:
        cols = [column(0, c, h, tp) for c, h, tp in spec]
        tp = np.array([float(t) for _c, _h, t in spec])
        return _dominance_bounds(cols, tp, np.full((len(spec), 1), 9.0), [minimum])[:, 0].tolist()

    assert bounds([(0, 0, 4), (0, 0, 2), (0, 0, 1), (0, 1, 1)]) == [9.0, 1.0, 1.0, 9.0]
    assert bounds([(0, 0, 2), (0, 0, 3)]) == [9.0, 9.0]
    assert bounds([(0, 0, 4), (0, 0, 2), (0, 0, 1)], minimum=1) == [9.0, 9.0, 9.0]


def pair(workload: int, prefill_rps: float, decode_rps: float, unit: tuple[int, int] | None = None,
         unit_gpus: int = 0) -> Any:
    from planner.optimize.disagg_columns import PairColumn

    return PairColumn(variant=0, workload=workload, prefill_hardware=0, prefill_tp=1, prefill_batch=1,
                      prefill_rps=prefill_rps, decode_hardware=0, decode_tp=1, decode_batch=1, decode_rps=decode_rps,
                      link="nvlink", link_utilisation=0.0, ttft_ms=1.0, tpot_ms=1.0, kv_bytes_per_request=0.0,
                      unit=unit, unit_gpus=unit_gpus)


def test_pair_data_loads_and_pool_bounds() -> None:
    """A free chat pair, prefill 0.5 and decode 1.6 requests/s a replica: ``a^P = 3·0.8/0.5 = 4.8`` and
    ``5·0.8/0.5 = 8.0``, ``a^D = 2.4/1.6 = 1.5`` and ``4/1.6 = 2.5``; bounds ``max(1, ⌈a⌉)`` = P ``[5, 8]``,
    D ``[2, 3]``.  With ``min_replicas = 6`` on chat, ``max(1, 6, ⌈a⌉)`` = P ``[6, 8]``, D ``[6, 6]``."""
    from planner.optimize.direct import pair_data

    i = plan_inputs()
    pd = pair_data(cast(Any, i["cs"]), [pair(0, 0.5, 1.6)], i["demand"], 2, [0, 0])
    assert pd.load[0, 0] == pytest.approx([4.8, 8.0], rel=1e-12)
    assert pd.load[0, 1] == pytest.approx([1.5, 2.5], rel=1e-12)
    assert pd.replica_ub[0].tolist() == [[5.0, 8.0], [2.0, 3.0]]
    assert pd.unit[0].tolist() == [0.0, 0.0] and pd.idle.tolist() == [0.0]
    floored = pair_data(cast(Any, i["cs"]), [pair(0, 0.5, 1.6)], i["demand"], 2, [6, 0])
    assert floored.replica_ub[0].tolist() == [[6.0, 8.0], [6.0, 6.0]]


def test_pair_data_lifts_a_tiny_pool_load() -> None:
    """A chat peak of ``1e-8`` requests/s: ``a^P = 1e-8·0.8/0.5 = 1.6e-8`` is lifted to ``1e-6``, as a
    co-located load is."""
    from planner.optimize.direct import pair_data

    i = plan_inputs(peak=[[1e-8, 5.0], [2.0, 4.0]])
    pd = pair_data(cast(Any, i["cs"]), [pair(0, 0.5, 1.6)], i["demand"], 2, [0, 0])
    assert pd.load[0, 0, 0] == 1e-6 and pd.load[0, 1, 0] == 1e-6


def test_pair_data_scale_up_domains() -> None:
    r"""A batch pair of 1 prefill and 2 decode replicas per domain (4 GPUs, so ``4 − 1 − 2 = 1`` idle):
    ``a^P = 2·0.5/1 = 1`` and ``2``, ``a^D = 1/0.25 = 4`` and ``8``; domains ``a^U = max(a^P/1, a^D/2) =
    [2, 4]``, bound ``⌈a^U⌉ = [2, 4]``; the pools are bounded by whole domains, P ``1·U = [2, 4]``, D ``2·U =
    [4, 8]`` (not ``⌈a^P⌉ = [1, 2]``)."""
    from planner.optimize.direct import pair_data

    i = plan_inputs()
    pd = pair_data(cast(Any, i["cs"]), [pair(1, 1.0, 0.25, unit=(1, 2), unit_gpus=4)], i["demand"], 2, [0, 0])
    assert pd.unit[0].tolist() == [1.0, 2.0] and pd.idle.tolist() == [1.0]
    assert pd.unit_load[0].tolist() == [2.0, 4.0] and pd.unit_ub[0].tolist() == [2.0, 4.0]
    assert pd.replica_ub[0].tolist() == [[2.0, 4.0], [4.0, 8.0]]


# --------------------------------------------------------------------------------------------------
# disaggregated pairs: a free pair over two hardware types and a pair in scale-up domains


def pair_model_data() -> ModelData:
    r"""Class 0 (``min_replicas = 2``), variant 0: a co-located TP-1 column on hardware 0 (``a = [1.5, 3]``,
    bound ``max(1, 2, ⌈a⌉) = [2, 3]``); pair 0 with free pools, prefill at TP 2 on hardware 0 (``a^P =
    [0.5, 2.5]``, bound ``[2, 3]``) and decode at TP 1 on hardware 1 (``a^D = [1.5, 3]``, ``[2, 3]``); pair 1 in
    scale-up domains of 1 prefill and 2 decode TP-1 replicas on hardware 0 with 1 idle GPU (``a^P = [1,
    2]``, ``a^D = [4, 8]``, ``a^U = [2, 4]``, ``U ≤ [2, 4]``, P ``≤ [2, 4]``, D ``≤ [4, 8]``).  On-demand GPUs
    of both types."""
    from planner.optimize.direct import PairData

    pairs = [pair(0, 1.0, 1.0), pair(0, 1.0, 1.0, unit=(1, 2), unit_gpus=4)]  # what the arrays say
    pd = PairData(pairs=pairs, variant=np.array([0, 0], dtype=np.int64), workload=np.array([0, 0], dtype=np.int64),
                  hardware=np.array([[0, 1], [0, 0]], dtype=np.int64), tp=np.array([[2.0, 1.0], [1.0, 1.0]]),
                  load=np.array([[[0.5, 2.5], [1.5, 3.0]], [[1.0, 2.0], [4.0, 8.0]]]),
                  replica_ub=np.array([[[2.0, 3.0], [2.0, 3.0]], [[2.0, 4.0], [4.0, 8.0]]]),
                  unit=np.array([[0.0, 0.0], [1.0, 2.0]]), unit_load=np.array([[0.0, 0.0], [2.0, 4.0]]),
                  unit_ub=np.array([[0.0, 0.0], [2.0, 4.0]]), idle=np.array([0.0, 1.0]))
    return ModelData(columns=[column(0, 0, 0, 1)], variant=np.zeros(1, dtype=np.int64),
                     workload=np.zeros(1, dtype=np.int64), hardware=np.zeros(1, dtype=np.int64), tp=np.array([1.0]),
                     load=np.array([[1.5, 3.0]]), replica_ub=np.array([[2.0, 3.0]]),
                     offers=[ON_DEMAND, offer(1, "on-demand", [800.0, 800.0], [[T, F], [F, T]])],
                     one_time_kusd={0: 0.0}, traffic_kusd={0: np.array([[0.4, 0.6]])}, fixed_kusd={0: 0.0},
                     quality={0: [None]}, floors=[None], min_replicas=[2], quota_gpus={}, power_cap_kw=None,
                     budget_kusd=None, periods=2, classes=1, pairs=pd)


def test_a_pairs_share_joins_the_cover_row_and_is_carried_by_its_pools() -> None:
    r"""Cover: ``r/1.5 + x_0 + x_1 ≥ 1`` (period 0), ``r/3 + x_0 + x_1 ≥ 1`` (period 1), shares in ``[0, 1]``.
    Pair 0's pools, ``x − P/a ≤ 0`` with the cuts: prefill ``a = 0.5 < 1``: ``x − 2P ≤ 0`` and ``x − P ≤ 0``;
    decode ``a = 1.5``: ``x − D/1.5 ≤ 0`` and the rounding facet ``D − x/(1 − f) ≥ ⌊a⌋ − f/(1 − f)``, ``f =
    1/1.5 = 2/3``: ``D − 3x ≥ 1 − 2 = −1``.  Period 1, prefill ``a = 2.5``: ``x − 0.4P ≤ 0``, ``f = 2/2.5 =
    0.8``: ``P − 5x ≥ 2 − 4 = −2``; decode ``a = 3`` (whole): ``x − D/3 ≤ 0`` alone."""
    model = build(pair_model_data(), [0])
    x, pools, r = model.pair_x, model.pair_pools, model.r
    for p, a in enumerate([1.5, 3.0]):
        assert_row(model, {int(r[0, p]): 1 / a, int(x[0, p]): 1.0, int(x[1, p]): 1.0}, 1.0, INF)
    assert all(model.col_upper[j] == 1.0 and model.integrality[j] == 0 for j in x.ravel().tolist())
    x0, x1 = int(x[0, 0]), int(x[0, 1])
    P0, P1, D0, D1 = (int(pools[0, pool, p]) for pool, p in ((0, 0), (0, 1), (1, 0), (1, 1)))
    assert_row(model, {x0: 1.0, P0: -2.0}, -INF, 0.0)
    assert_row(model, {x0: 1.0, P0: -1.0}, -INF, 0.0)
    assert_row(model, {x0: 1.0, D0: -1 / 1.5}, -INF, 0.0)
    assert_row(model, {D0: 1.0, x0: -3.0}, -1.0, INF)
    assert_row(model, {x1: 1.0, P1: -0.4}, -INF, 0.0)
    assert_row(model, {P1: 1.0, x1: -5.0}, -2.0, INF)
    assert_row(model, {x1: 1.0, D1: -1 / 3}, -INF, 0.0)
    # period 1: the cover row, prefill's share row and facet, decode's share row (a whole load: no facet)
    assert len(rows_on(model, x1)) == 1 + 2 + 1


def test_a_scale_up_domain_ties_its_pools_and_carries_the_share() -> None:
    """Pair 1: ``P = 1·U``, ``D = 2·U`` and ``x − U/a^U ≤ 0`` (``a^U = 2`` then ``4``), beside ``x − P/a^P ≤ 0``
    and ``x − D/a^D ≤ 0``; its domains are whole, ``U ≤ [2, 4]``."""
    model = build(pair_model_data(), [0])
    for p, (aP, aD, aU) in enumerate([(1.0, 4.0, 2.0), (2.0, 8.0, 4.0)]):
        x, P, D = int(model.pair_x[1, p]), int(model.pair_pools[1, 0, p]), int(model.pair_pools[1, 1, p])
        U = model.pair_units[(1, p)]
        assert_row(model, {P: 1.0, U: -1.0}, 0.0, 0.0)
        assert_row(model, {D: 1.0, U: -2.0}, 0.0, 0.0)
        assert_row(model, {x: 1.0, U: -1 / aU}, -INF, 0.0)
        assert_row(model, {x: 1.0, P: -1 / aP}, -INF, 0.0)
        assert_row(model, {x: 1.0, D: -1 / aD}, -INF, 0.0)
        assert model.col_upper[U] == [2.0, 4.0][p] and model.integrality[U] == 1
        assert [model.col_upper[P], model.col_upper[D]] == [[2.0, 4.0][p], [4.0, 8.0][p]]


def test_min_replicas_count_each_phase_with_the_colocated_replicas() -> None:
    """``min_replicas = 2``, once per phase: ``r + P_0 + P_1 ≥ 2`` and ``r + D_0 + D_1 ≥ 2`` in each period."""
    model = build(pair_model_data(), [0])
    for p in range(2):
        r, pools = int(model.r[0, p]), model.pair_pools[:, :, p]
        assert_row(model, {r: 1.0, int(pools[0, 0]): 1.0, int(pools[1, 0]): 1.0}, 2.0, INF)
        assert_row(model, {r: 1.0, int(pools[0, 1]): 1.0, int(pools[1, 1]): 1.0}, 2.0, INF)


def test_the_pools_gpus_enter_the_supply_rows_of_their_hardware() -> None:
    """Hardware 0 in period 0: ``r + 2·P_0 + P_1 + D_1 + 1·U − od ≤ 0`` (the co-located TP 1, pair 0's prefill
    TP 2, pair 1's pools and its idle GPU per domain); hardware 1: ``D_0 − od' ≤ 0``.  The acquisitions'
    bound is the GPUs at every column's and pool's peak: hardware 0 ``1·max(1, 2, 3) + 2·3 + 1·4 + 1·8 +
    1·4 (idle, 4 domains) = 25``, hardware 1 ``1·3 = 3``."""
    model = build(pair_model_data(), [0])
    pools, od, od1 = model.pair_pools, model.n[0].tolist(), model.n[1].tolist()
    U = model.pair_units[(1, 0)]
    assert_row(model, {int(model.r[0, 0]): 1.0, int(pools[0, 0, 0]): 2.0, int(pools[1, 0, 0]): 1.0,
                       int(pools[1, 1, 0]): 1.0, U: 1.0, od[0]: -1.0}, -INF, 0.0)
    assert_row(model, {int(pools[0, 1, 0]): 1.0, od1[0]: -1.0}, -INF, 0.0)
    assert [model.col_upper[j] for j in od] == [25.0, 25.0]
    assert [model.col_upper[j] for j in od1] == [3.0, 3.0]


# --------------------------------------------------------------------------------------------------
# the period-split start on a model of six columns


RESERVE_BOTH = offer(0, "reserved-1y", [1200.0, 600.0], [[T, T], [F, T]])


def linked(**changes: Any) -> ModelData:
    """Class 0 on hardware 0 at TP 1 with ``a = [1, 2]`` (``r ≤ [1, 2]``); on demand 1,000 $ a GPU in each
    period; a reservation started in period 0 serves both periods for 1,200 $, one started in period 1
    serves it for 600 $.  One-time 0.5 k$, traffic 0.1 and 0.2 k$: a constant of 0.8 k$."""
    data = ModelData(columns=[column(0, 0, 0, 1)], variant=np.zeros(1, dtype=np.int64),
                     workload=np.zeros(1, dtype=np.int64), hardware=np.zeros(1, dtype=np.int64), tp=np.array([1.0]),
                     load=np.array([[1.0, 2.0]]), replica_ub=np.array([[1.0, 2.0]]),
                     offers=[offer(0, "on-demand", [1000.0, 1000.0], [[T, F], [F, T]]), RESERVE_BOTH],
                     one_time_kusd={0: 0.5}, traffic_kusd={0: np.array([[0.1, 0.2]])}, fixed_kusd={0: 0.0},
                     quality={0: [None]}, floors=[None], min_replicas=[0], quota_gpus={}, power_cap_kw=None,
                     budget_kusd=None, periods=2, classes=1)
    return dataclasses.replace(data, **changes)


def relaxed_at(model: DirectModel, values: dict[int, float]) -> NDArray[np.float64]:
    out = np.zeros(model.num_col)
    for j, v in values.items():
        out[j] = v
    return out


def test_column_periods_place_spares_and_shares_in_their_period() -> None:
    """Every column belongs to its period: replicas, acquisitions and spares (one variant), traffic shares
    (two variants)."""
    from planner.optimize.period_start import column_periods

    model = build(one_variant(), [0])
    period = column_periods(model)
    for p in range(2):
        assert period[model.spares[(0, p)]] == p
        assert (period[model.r[:, p]] == p).all() and (period[model.n[:, p]] == p).all()
    several = build(two_variants(), [0, 1])
    period = column_periods(several)
    assert all(period[j] == p for (_v, _c, p), j in several.x.items())


def test_only_an_acquisition_serving_a_later_period_is_fixed_at_its_rounded_value() -> None:
    """The reservation started in period 0 is in period 1's supply row: it links the periods and is fixed
    at ``rint(1.4) = 1``; on-demand GPUs and the reservation of period 1 serve their own period only and
    stay free.  A relaxed value beyond the bound (2.6 against ``n ≤ 2``) is fixed within it, at 2."""
    from planner.optimize.period_start import column_periods, linking_values

    model = build(linked(), [0])
    res0 = int(model.n[1, 0])
    units = np.ones(len(model.offers))
    period = column_periods(model)
    assert linking_values(model, relaxed_at(model, {res0: 1.4}), units, period) == {res0: 1.0}
    assert model.col_upper[res0] == 2.0
    assert linking_values(model, relaxed_at(model, {res0: 2.6}), units, period) == {res0: 2.0}


@pytest.mark.parametrize(("relaxed", "reserved", "expected"), [
    # rint(1.4) = 1: period 0 needs nothing more; period 1 needs 2 − 1 = 1 GPU, reserved at 0.6 k$
    (1.4, 1.0, 1.2 + 0.6 + 0.8),
    # rint(1.6) = 2: both periods covered by the two reservations
    (1.6, 2.0, 2 * 1.2 + 0.8),
    # rint(0.4) = 0: period 0 rents 1 GPU (1.0 k$), period 1 reserves 2 (2·0.6 k$)
    (0.4, 0.0, 1.0 + 2 * 0.6 + 0.8),
], ids=["1.4 rounds to 1", "1.6 rounds to 2", "0.4 rounds to 0"])
def test_the_split_start_rounds_the_link_and_costs_the_hand_figure(relaxed: float, reserved: float,
                                                                   expected: float) -> None:
    """The start fixes the reservation of period 0 at its rounded relaxation, solves each period alone, and
    costs ``c·x + offset`` k$ (the offset 0.8 included); its plan holds every row of the whole model."""
    from planner.optimize.period_start import period_split_start
    from planner.optimize.union import holds

    model = build(linked(), [0])
    res0 = int(model.n[1, 0])
    start = period_split_start(model, relaxed_at(model, {res0: relaxed}), np.ones(len(model.offers)), 30.0, 0.0, None)
    assert start is not None and start.values is not None and start.objective is not None
    assert start.values[res0] == reserved
    assert start.objective == pytest.approx(expected, rel=1e-9)
    assert holds(model, start.values)


def test_the_split_start_refuses_a_plan_that_breaks_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Periods that come back with no replicas and no GPUs (a search's answer read wrongly) break the cover
    rows ``r/1 ≥ 1``: the start is refused, never handed on as an incumbent."""
    from planner.optimize import period_start
    from planner.optimize.direct_solve import DirectOutcome
    from planner.optimize.solver import SolveStatus

    def nothing(part: DirectModel, *args: Any, **kwargs: Any) -> DirectOutcome:
        return DirectOutcome(SolveStatus.FEASIBLE, 0.0, 0.0, None, None, np.zeros(part.num_col), "scripted")

    monkeypatch.setattr(period_start, "run_highs", nothing)
    model = build(linked(), [0])
    relaxed = relaxed_at(model, {int(model.n[1, 0]): 1.4})
    assert period_start.period_split_start(model, relaxed, np.ones(len(model.offers)), 30.0, 0.0, None) is None


def test_the_split_start_refuses_a_fixed_row_broken_by_rounding_before_any_search(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A single GPU bought in period 0 (10 kW, serving both periods) under a 15 kW cap: its relaxation 1.5
    rounds to 2, and ``10·2 = 20 > 15`` breaks period 0's power row, whose columns are all fixed.  The
    start is refused without searching a period."""
    from planner.optimize import period_start
    from planner.optimize.direct_solve import DirectOutcome
    from planner.optimize.solver import SolveStatus

    bought = offer(0, "buy", [3000.0, 3000.0], [[T, T], [F, T]], power_kw=10.0)
    model = build(linked(offers=[*linked().offers, bought], power_cap_kw=15.0), [0])
    searched: list[int] = []

    def search(part: DirectModel, *args: Any, **kwargs: Any) -> DirectOutcome:
        searched.append(part.num_col)
        return DirectOutcome(SolveStatus.NO_SOLUTION, 0.0, None, None, None, None, "scripted")

    monkeypatch.setattr(period_start, "run_highs", search)
    relaxed = relaxed_at(model, {int(model.n[2, 0]): 1.5})
    assert period_start.period_split_start(model, relaxed, np.ones(len(model.offers)), 30.0, 0.0, None) is None
    assert searched == []


def test_a_column_of_no_period_declines_the_split() -> None:
    """A column the model ties to no period (here one appended by hand) cannot be given to a period's
    MILP: no split start."""
    from planner.optimize.period_start import period_split_start

    model = build(linked(), [0])
    extra = dataclasses.replace(model, cost=np.append(model.cost, 0.0), col_lower=np.append(model.col_lower, 0.0),
                                col_upper=np.append(model.col_upper, 1.0),
                                integrality=np.append(model.integrality, 1).astype(np.int32))
    relaxed = relaxed_at(extra, {int(model.n[1, 0]): 1.4})
    assert period_split_start(extra, relaxed, np.ones(len(model.offers)), 30.0, 0.0, None) is None


def test_each_period_gets_at_most_the_period_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's node limit above ``PERIOD_NODES = 50`` leaves each period's search at 50 nodes (the
    smaller of the two), one search per period."""
    from planner.optimize import period_start
    from planner.optimize.direct_solve import run_highs

    limits: list[int | None] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        limits.append(kwargs["node_limit"])
        return run_highs(*args, **kwargs)

    monkeypatch.setattr(period_start, "run_highs", spy)
    model = build(linked(), [0])
    relaxed = relaxed_at(model, {int(model.n[1, 0]): 1.4})
    start = period_start.period_split_start(model, relaxed, np.ones(len(model.offers)), 30.0, 0.0, None, 1000)
    assert start is not None and limits == [50, 50]


# --------------------------------------------------------------------------------------------------
# direct_path: which scenarios take the numpy-built path, and the status over singles and pairs


def plan_settings(**plan: Any) -> Any:
    return SimpleNamespace(plan=SimpleNamespace(**({"split_granularity": None, "pooled_capacity": False,
                                                    "max_variants": 2} | plan)))


def test_the_direct_path_takes_highs_with_whole_shares_and_at_most_two_variants() -> None:
    """HiGHS, no split granularity, no pooled capacity, ``max_variants ≤ 2``; anything else goes to PuLP."""
    from planner.optimize.direct_path import direct_applies

    assert direct_applies(plan_settings(), "highs")
    assert direct_applies(plan_settings(max_variants=1), "highs")
    assert not direct_applies(plan_settings(), "cbc")
    assert not direct_applies(plan_settings(split_granularity=4), "highs")
    assert not direct_applies(plan_settings(pooled_capacity=True), "highs")
    assert not direct_applies(plan_settings(max_variants=3), "highs")


def pair_search(proven: bool, lowest_open_bound: float | None) -> Any:
    return SimpleNamespace(proven=proven, lowest_open_bound=lowest_open_bound)


def single(status: Any, objective: float | None, bound: float | None) -> Any:
    from planner.optimize.direct_solve import DirectOutcome

    values = None if objective is None else np.zeros(2)
    return DirectOutcome(status, 1.0, objective, bound, 0.0, values, str(status))


def test_the_plan_is_optimal_as_is_when_singles_and_pairs_are_proven() -> None:
    from planner.optimize import solver as solvers
    from planner.optimize.direct_path import _pair_status
    from planner.optimize.solver import SolveStatus

    proven = single(SolveStatus.OPTIMAL, 128.0, 128.0)
    assert _pair_status(proven, pair_search(True, None), None, 1e-4, solvers.Deadline(60.0)) is proven


def test_an_open_pair_bound_within_the_gap_proves_the_plan_and_is_its_bound() -> None:
    """A proven single plan of 128 k$ with a pair left open at a bound of 127: the lowest bound left is 127,
    the gap ``1 − 127/128 = 1/128 = 0.78125 %``; requested 0.78125 % (at the gap: proven) the plan is optimal
    with bound 127; requested 0.5 % it is feasible, bound 127, gap 1/128, with the limit named."""
    from planner.optimize import solver as solvers
    from planner.optimize.direct_path import _pair_status
    from planner.optimize.solver import SolveStatus

    plan = single(SolveStatus.OPTIMAL, 128.0, 128.0)
    at_gap = _pair_status(plan, pair_search(False, 127.0), None, 1 / 128, solvers.Deadline(60.0))
    assert at_gap.status == SolveStatus.OPTIMAL and at_gap.bound == 127.0 and at_gap.gap == 1 / 128
    assert at_gap.objective == 128.0 and at_gap.message.startswith("optimal within the gap")
    outside = _pair_status(plan, pair_search(False, 127.0), None, 0.005, solvers.Deadline(60.0))
    assert outside.status == SolveStatus.FEASIBLE and outside.bound == 127.0 and outside.gap == 1 / 128
    assert outside.message.startswith("time limit reached") and "while screening variant pairs" in outside.message


def test_a_plan_without_an_objective_is_passed_on_unchanged() -> None:
    """No single-variant plan and no pair plan: nothing to measure a gap from, the outcome stands."""
    from planner.optimize import solver as solvers
    from planner.optimize.direct_path import _pair_status
    from planner.optimize.solver import SolveStatus

    none = single(SolveStatus.NO_SOLUTION, None, None)
    assert _pair_status(none, pair_search(False, None), None, 1e-4, solvers.Deadline(60.0)) is none
