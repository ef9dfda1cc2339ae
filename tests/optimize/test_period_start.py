"""The period-split start of disaggregated pair models (:mod:`planner.optimize.period_start`)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.optimize import direct_path
from planner.optimize.direct import DirectModel, ModelData, build
from planner.optimize.direct_rows import pair_key
from planner.optimize.direct_solve import run_highs
from planner.optimize.period_start import (
    NO_PERIOD,
    column_periods,
    linking_values,
    period_split_start,
)
from planner.optimize.screening import offer_unit_sizes
from planner.optimize.solver import SolveStatus
from planner.optimize.union import carry_over, holds
from tests.optimize.test_direct import fake_clock
from tests.optimize.test_disaggregation import LONG_PROMPTS


def pair_model_data(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, quantization: tuple[str, ...] = ("fp8",),
                    **market: Any) -> ModelData:
    """The model data the planner builds for long prompts over four quarters, with whole servers,
    one-year reservations and on-demand GPUs, disaggregation allowed (captured from the planner)."""
    data = json.loads(json.dumps(LONG_PROMPTS))
    data["techniques"]["quantization"] = list(quantization)
    data["plan"] = {"disaggregation": True}
    data["horizon"] = {"months": 12, "period_months": 3, "growth_per_year": 1.0}
    data["market"] |= {"modes": ["on-demand", "reserved-1y", "buy"], **market}
    data["solver"] = {"time_limit_s": 1}  # only the model is wanted, not the plan
    captured: list[ModelData] = []
    real = direct_path.model_data

    def capture(*args: Any, **kwargs: Any) -> ModelData:
        captured.append(real(*args, **kwargs))
        return captured[-1]

    monkeypatch.setattr(direct_path, "model_data", capture)
    planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert captured[0].pairs is not None
    return captured[0]


def _pair_model(catalog: Catalog, monkeypatch: pytest.MonkeyPatch, **market: Any) -> tuple[ModelData, DirectModel]:
    """:func:`pair_model_data` and its first variant's model."""
    data = pair_model_data(catalog, monkeypatch, **market)
    assert data.pairs is not None
    return data, build(data, [int(data.pairs.variant[0])])


def test_the_split_start_is_the_whole_model_with_its_links_fixed(catalog: Catalog,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving each period alone with the links fixed gives exactly the optimum of the whole model with
    the same links fixed (the decomposition is exact), a plan of the model no cheaper than its optimum."""
    data, model = _pair_model(catalog, monkeypatch)
    relaxed = run_highs(model, 60.0, 0.0, mip=False)
    assert relaxed.values is not None
    units = offer_unit_sizes(data, model)
    period = column_periods(model)
    assert (period != NO_PERIOD).all()
    fixed = linking_values(model, relaxed.values, units, period)
    servers = {j for k in range(len(model.offers)) if units[k] > 1 for j in model.n[k].tolist()}
    assert servers and set(fixed) > servers  # the servers and some reservation columns link periods

    start = period_split_start(model, relaxed.values, units, 120.0, 0.0, None)
    assert start is not None and start.values is not None and start.objective is not None
    assert holds(model, start.values)
    assert start.objective == pytest.approx(float(model.cost @ start.values) + model.offset, rel=1e-12)
    at = np.array(list(fixed))
    assert np.array_equal(start.values[at], np.array(list(fixed.values())))

    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    lower[at] = upper[at] = np.array(list(fixed.values()))
    fixed_whole = run_highs(dataclasses.replace(model, col_lower=lower, col_upper=upper), 120.0, 0.0)
    assert fixed_whole.status == SolveStatus.OPTIMAL and fixed_whole.objective is not None
    assert start.objective == pytest.approx(fixed_whole.objective, rel=1e-6)
    # a plan is never below the whole model's proven bound (a node-limited search's bound is one)
    searched = run_highs(model, 120.0, 1e-4, node_limit=1)
    assert searched.bound is not None and searched.bound <= start.objective * (1 + 1e-9)


def test_a_budget_row_joins_the_periods_and_the_split_declines(catalog: Catalog,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget spans every period: with the links fixed the periods are still joined, so no split
    start is offered (the caller falls back to the rounded-server start)."""
    data, model = _pair_model(catalog, monkeypatch, budget_usd=1e12)
    assert data.budget_kusd is not None
    relaxed = run_highs(model, 60.0, 0.0, mip=False)
    assert relaxed.values is not None
    units = offer_unit_sizes(data, model)
    fixed = linking_values(model, relaxed.values, units, column_periods(model))
    single_period = [k for k, o in enumerate(model.offers) if data.offers[o].covers.sum(axis=1).max() == 1]
    assert single_period and not set(fixed) & {j for k in single_period for j in model.n[k].tolist()}
    assert period_split_start(model, relaxed.values, units, 60.0, 1e-4, None) is None


def test_a_pair_plan_carried_to_a_twin_keeps_each_pairs_share_and_pools(catalog: Catalog,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`~planner.optimize.union.carry_over` with disaggregated pairs: the FP8 variant's split
    start carried to the INT8 variant's model puts each pair's share and pools on the INT8 pair of the
    same class, hardware, TPs and link, keeps the GPUs, and every row of the INT8 model holds there; a
    model without the pairs the plan uses gets nothing."""
    data = pair_model_data(catalog, monkeypatch, quantization=("fp8", "int8"))
    assert data.pairs is not None
    first, second = sorted(set(data.pairs.variant.tolist()))[:2]
    source, target = build(data, [first]), build(data, [second])
    relaxed = run_highs(source, 60.0, 0.0, mip=False)
    assert relaxed.values is not None
    start = period_split_start(source, relaxed.values, offer_unit_sizes(data, source), 120.0, 1e-4, None)
    assert start is not None and start.values is not None
    used = [i for i in range(len(source.pairs)) if start.values[source.pair_pools[i]].any()]
    assert used  # the plan deploys pairs
    carried = carry_over(data, source, target, start.values)
    assert carried is not None and carried.values is not None  # INT8 runs on Hopper's FP8 rows: the same pairs
    assert holds(target, carried.values)
    assert carried.objective == pytest.approx(float(target.cost @ carried.values) + target.offset)
    at = {pair_key(data, k): i for i, k in enumerate(target.pairs)}
    for i in used:
        own = at[pair_key(data, source.pairs[i])]
        assert np.array_equal(carried.values[target.pair_pools[own]], start.values[source.pair_pools[i]])
        assert np.array_equal(carried.values[target.pair_x[own]], start.values[source.pair_x[i]])
    assert np.allclose(target.acquisitions(carried.values), source.acquisitions(start.values))
    without = dataclasses.replace(target, pairs=[], pair_x=target.pair_x[:0], pair_pools=target.pair_pools[:0])
    assert carry_over(data, source, without, start.values) is None


def test_the_start_fallbacks_share_one_time_limit(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the split start finds nothing, the rounded-server and restricted-support starts get only
    the time it left (a fake clock: each start takes 4 s of a 10 s limit), so a start never outlasts
    its share of the deadline."""
    from planner.optimize import direct_solve, period_start

    data, model = _pair_model(catalog, monkeypatch)
    relaxed = run_highs(model, 60.0, 0.0, mip=False)
    assert relaxed.values is not None
    clock = fake_clock(monkeypatch)
    limits: list[tuple[str, float]] = []

    def fails(name: str) -> Any:
        def start(model: DirectModel, relaxed: Any, *args: Any) -> None:
            limit = args[1] if name != "restricted" else args[0]
            limits.append((name, limit))
            clock[0] += 4.0
        return start

    monkeypatch.setattr(period_start, "period_split_start", fails("split"))
    monkeypatch.setattr(direct_solve, "rounded_server_start", fails("rounded"))
    monkeypatch.setattr(direct_solve, "restricted_start", fails("restricted"))
    assert direct_solve.primal_start(model, relaxed.values, offer_unit_sizes(data, model), 10.0, 1e-4, None) is None
    assert limits == [("split", 10.0), ("rounded", 6.0), ("restricted", 2.0)]


def test_each_period_is_searched_for_a_few_nodes_without_restarts(catalog: Catalog,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The periods' searches are node-limited (PERIOD_NODES, or the caller's smaller limit) and run
    without root restarts, so the start does not depend on how much of the time share is left."""
    from planner.optimize import period_start

    data, model = _pair_model(catalog, monkeypatch)
    relaxed = run_highs(model, 60.0, 0.0, mip=False)
    assert relaxed.values is not None
    calls: list[dict[str, Any]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return run_highs(*args, **kwargs)

    monkeypatch.setattr(period_start, "run_highs", spy)
    for limit, nodes in ((None, period_start.PERIOD_NODES), (7, 7)):
        calls.clear()
        start = period_split_start(model, relaxed.values, offer_unit_sizes(data, model), 120.0, 1e-4, None, limit)
        assert start is not None and len(calls) == model.r.shape[1]  # one search per period
        assert all(c["node_limit"] == nodes and c["restarts"] is False for c in calls)
    assert start is not None and start.values is not None
    with pytest.raises(ValueError, match="without a start"):
        run_highs(model, 10.0, 1e-4, start=start.values, restarts=False)
