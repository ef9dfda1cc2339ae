"""Sweep specs, draws, rows, batches and rows files checked by hand: what a mutation review of
``planner.scenario.sweep_spec``, ``planner.insight.sweeps`` and ``planner.insight.sweep_files`` found
unchecked.  No solver runs: the per-point plan (``plan_scenario``), the candidate table and the
worker pool are stand-ins, so every test takes milliseconds.  Every expected figure follows from a
module docstring or the README's sweep section, with its arithmetic written out."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import json
import math
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import planner
from planner.errors import InputError
from planner.insight import sweeps
from planner.insight.sweep_files import (
    FIXED_COLUMNS,
    INFRASTRUCTURE_ERROR,
    append,
    claim_output,
    fingerprint,
    from_csv,
    read_done,
    sidecar,
)
from planner.insight.sweeps import (
    _BatchRun,
    _monte_carlo_summary,
    _nominal_techniques,
    run_batch,
)
from planner.optimize import planning
from planner.scenario import sweep_spec
from planner.scenario.loading import parse_value
from planner.scenario.schema import Distribution
from planner.scenario.sweep_spec import (
    apply_point,
    check_paths,
    draw,
    parse_spec,
    toml_literal,
)


def scenario_dict(**over: Any) -> dict[str, Any]:
    """One request class (500 in, 150 out, 5e5 a day), 6 months in quarters, H100 (on demand,
    reserved or bought)."""
    data: dict[str, Any] = {
        "schema_version": 1, "name": "hand", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 5e5, "input_tokens": 500, "output_tokens": 150,
                      "ttft_ms": 1500, "tpot_ms": 60}],
        "horizon": {"months": 6, "period_months": 3},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand", "reserved-1y", "buy"]},
        "techniques": {"quantization": ["none", "fp8"]},
    }
    data.update(over)
    return data


def scenario(**over: Any) -> planner.Scenario:
    return planner.scenario_from_dict(scenario_dict(**over))


def plan_like(cost: float = 1_000.0, *, status: str = "optimal", variants: tuple[str, ...] = ("quantization:fp8",),
              solve_s: float = 0.25, variant: dict[str, str] | None = None, message: str = "") -> SimpleNamespace:
    """A Plan-like stand-in with what ``run_batch``, ``open_bound`` and ``_nominal_techniques`` read."""
    return SimpleNamespace(status=status, lifetime_cost_usd=cost, one_time_cost_usd=0.0, recurring_cost_usd=cost,
                           variant_names=list(variants), fleet=[], timings={"solve_s": solve_s}, message=message,
                           solver=None, variant=variant)


def stub_plans(monkeypatch: pytest.MonkeyPatch, **plan: Any) -> list[planner.Scenario]:
    """Every point plans instantly (cost $1,000 x price scale); returns the scenarios planned."""
    seen: list[planner.Scenario] = []

    def fake_plan_scenario(sc: planner.Scenario, catalog: Any, candidates: Any = None) -> SimpleNamespace:
        seen.append(sc)
        return plan_like(1_000.0 * sc.market.price_scale, **plan)

    monkeypatch.setattr(planning, "plan_scenario", fake_plan_scenario)
    monkeypatch.setattr(sweeps, "_catalog", lambda overlays: None)
    monkeypatch.setattr(sweeps, "_candidates", lambda sc, overlays: None)
    return seen


# --------------------------------------------------------------------------- specs


def test_a_comma_list_holding_two_dots_is_a_list_even_unquoted() -> None:
    """The spec docstring: a spec with a comma is a list, so an unquoted relative path beside a slug
    is two values, not a malformed range."""
    assert parse_spec("model.base", "../m/config.json,llama-3.1-8b") == ["../m/config.json", "llama-3.1-8b"]


def test_a_quoted_spec_is_a_list_with_spaces_around_it() -> None:
    """A spec is read without the spaces around it, so `` "../m/config.json" `` starts with a quote:
    one string, not a range."""
    assert parse_spec("model.base", ' "../m/config.json" ') == ["../m/config.json"]


def test_a_range_has_at_most_100000_points() -> None:
    """100,000 points from 0 to 1 step 1/99,999 and keep both ends; 100,001 are refused."""
    values = parse_spec("p", "0..1:100000")
    assert len(values) == 100_000 and values[0] == 0.0 and values[-1] == 1.0
    assert values[1] == pytest.approx(1 / 99_999, rel=1e-12)
    with pytest.raises(InputError, match=r"must be in \[1, 100000\], got 100001"):
        parse_spec("p", "0..1:100001")


# --------------------------------------------------------------------------- Monte Carlo draws


def test_draws_follow_numpy_default_rng_in_sorted_path_order_sample_after_sample() -> None:
    """The module's contract: one ``numpy.random.default_rng(seed)``, each sample drawing every path in
    sorted order (not the table's order) - uniform(low, high), triangular(low, mode, high),
    median x exp(normal(0, sigma)), and normal(mean, sd) redrawn until it lies in [low, high].
    The table lists the paths in reverse; the draws are replayed here with the same generator."""
    u = {"workload.chat.tpot_ms": Distribution(dist="normal", mean=60.0, sd=40.0, low=40.0, high=100.0),
         "workload.chat.queries_per_day": Distribution(dist="lognormal", median=5e5, sigma=0.5),
         "market.price_scale": Distribution(dist="uniform", low=0.5, high=1.5),
         "horizon.growth_per_year": Distribution(dist="triangular", low=0.0, mode=0.1, high=1.0)}
    rng = np.random.default_rng(11)
    expected = []
    for _ in range(6):
        # sorted: horizon.growth_per_year < market.price_scale < workload.chat.queries_per_day < ...tpot_ms
        growth = rng.triangular(0.0, 0.1, 1.0)
        scale = rng.uniform(0.5, 1.5)
        qpd = 5e5 * math.exp(rng.normal(0.0, 0.5))
        tpot = rng.normal(60.0, 40.0)
        while not 40.0 <= tpot <= 100.0:  # sd 40 around 60: about half the draws fall outside
            tpot = rng.normal(60.0, 40.0)
        expected.append({"horizon.growth_per_year": growth, "market.price_scale": scale,
                         "workload.chat.queries_per_day": qpd, "workload.chat.tpot_ms": tpot})
    assert draw(u, 6, 11) == expected
    assert draw(u, 6, 11) == draw(u, 6, 11)  # the same seed, the same points


def test_more_than_a_million_samples_are_refused() -> None:
    u = {"market.price_scale": Distribution(dist="uniform", low=0.5, high=1.5)}
    with pytest.raises(InputError, match=r"must be in \[1, 1000000\], got 1000001"):
        draw(u, 1_000_001, 0)


class _ScriptedRng:
    """A generator whose ``normal`` returns the given values in turn (and counts the calls)."""

    def __init__(self, values: list[float]) -> None:
        self.values, self.calls = list(values), 0

    def normal(self, mean: float, sd: float) -> float:
        self.calls += 1
        return self.values.pop(0)


@pytest.mark.parametrize(("values", "accepted"), [
    ([-9.0, -9.0, -9.0, -9.0, 1.0], True),       # the 5th and last allowed draw lands in [0, 2]
    ([-9.0, -9.0, -9.0, -9.0, -9.0, 1.0], False),  # 5 draws outside: refused before a 6th
])
def test_a_truncated_normal_takes_at_most_the_allowed_draws(monkeypatch: pytest.MonkeyPatch,
                                                             values: list[float], accepted: bool) -> None:
    """With ``MAX_TRUNCATION_ATTEMPTS`` = 5, a value is drawn at most 5 times: a draw in bounds at
    the 5th is kept; 5 draws outside are "no draw in 5" (the 6th value is never drawn)."""
    rng = _ScriptedRng(values)
    monkeypatch.setattr(sweep_spec, "MAX_TRUNCATION_ATTEMPTS", 5)
    monkeypatch.setattr(np.random, "default_rng", lambda seed: rng)
    u = {"market.price_scale": Distribution(dist="normal", mean=1.0, sd=1.0, low=0.0, high=2.0)}
    if accepted:
        assert draw(u, 1, 0) == [{"market.price_scale": 1.0}]
    else:
        with pytest.raises(InputError, match="no draw in 5") as info:
            draw(u, 1, 0)
        assert info.value.field == "uncertainty.market.price_scale"
    assert rng.calls == 5


# --------------------------------------------------------------------------- applying and checking points


@pytest.mark.parametrize("text", ['say "hi"', "C:\\models\\m.json", "tab\there"])
def test_a_string_is_written_as_toml_that_reads_back_the_same(text: str) -> None:
    """``toml_literal``: strings quoted once, with their quotes and backslashes escaped, so ``--set``
    (``parse_value``) reads back exactly the string."""
    assert parse_value(toml_literal(text)) == text


@pytest.mark.parametrize("whole", [None, sweeps.whole_number])
def test_a_fractional_technique_setting_written_as_an_integer_is_not_rounded(whole: Any) -> None:
    """``CachingSettings.store_usd_per_gb_month`` is a float; a file may write it ``1`` (a TOML integer).
    The range 0.5..2:4 is 0.5, 1.0, 1.5, 2.0 (step 1.5 / 3 = 0.5) and each point must plan that value
    (it planned 0, 1, 2, 2: the value the file held decided, not the declaration)."""
    sc = scenario(techniques={"caching": ["none", "response"]},
                  technique_settings={"caching": {"store_usd_per_gb_month": 1}})
    points = sweep_spec.grid({"technique_settings.caching.store_usd_per_gb_month": "0.5..2:4"}, zipped=False)
    planned = [apply_point(sc.model_dump_json(), p, whole).technique_settings["caching"]["store_usd_per_gb_month"]
               for p in points]
    assert planned == [0.5, 1.0, 1.5, 2.0]


def test_a_technique_setting_declared_a_whole_number_is_rounded_by_the_sweep() -> None:
    """``MoeSettings.upcycle_experts`` is an int: 3.6 plans 4; ``upcycle_tokens`` is a float and stays.
    The scenario types technique_settings as a free-form table, so only the plug-in's model says which."""
    assert sweeps.whole_number("technique_settings.moe.upcycle_experts")
    assert not sweeps.whole_number("technique_settings.moe.upcycle_tokens")
    assert not sweeps.whole_number("technique_settings.moe.no_such_setting")
    assert not sweeps.whole_number("technique_settings.no_such_technique.upcycle_experts")
    assert sweeps.whole_number("horizon.months") and not sweeps.whole_number("horizon.discount_rate_per_year")
    sc = scenario(technique_settings={"moe": {"upcycle_experts": 8, "upcycle_tokens": 1e11}})
    at = apply_point(sc.model_dump_json(), {"technique_settings.moe.upcycle_experts": 3.6,
                                            "technique_settings.moe.upcycle_tokens": 2.5e10}, sweeps.whole_number)
    assert at.technique_settings["moe"] == {"upcycle_experts": 4, "upcycle_tokens": 2.5e10}


def test_a_sweep_of_no_points_is_refused() -> None:
    with pytest.raises(InputError, match="the sweep has no points") as info:
        check_paths(scenario(), [])
    assert info.value.field == "--vary"


@pytest.mark.parametrize("where", ["--vary", "uncertainty"])
def test_a_first_point_invalid_only_as_a_whole_is_refused_before_any_work(where: str) -> None:
    """9 months in periods of 2 is not a whole number of periods, though 9 (in quarters: 9 = 3 x 3) and
    2 (of 6 months: 6 = 3 x 2) are each valid alone: the first point itself is checked, for a grid and
    for Monte Carlo."""
    sc = scenario()
    check_paths(sc, [{"horizon.months": 9}])  # alone, each is a valid scenario
    check_paths(sc, [{"horizon.period_months": 2}])
    with pytest.raises(InputError, match="the first point is not a valid scenario") as info:
        check_paths(sc, [{"horizon.months": 9, "horizon.period_months": 2}], where)
    assert info.value.field == where


@pytest.mark.parametrize(("path", "value"), [
    ("market.reserved_discount.reserved-1y", 0.25),
    ("market.lead_time_months.buy", 2),
    ("market.gpus_per_unit.buy", 8),
    ("market.quota_gpus.h100-sxm", 64),
])
def test_a_new_key_of_each_free_table_may_be_swept(path: str, value: float) -> None:
    """The four free-key tables take a key the scenario has not set, as ``--set`` does; elsewhere a
    new key is an unknown path."""
    check_paths(scenario(), [{path: value}])


def test_a_new_key_elsewhere_is_an_unknown_path() -> None:
    for path in ("horizon.extra", "market.price_scale.x", "market.quota_gpus.h100-sxm.x"):
        with pytest.raises(InputError, match="unknown scenario path") as refused:
            check_paths(scenario(), [{path: 1}])
        assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize(("path", "close"), [("horizon.month", "'months'"), ("market.price_scal", "'price_scale'")])
def test_an_unknown_path_suggests_the_close_keys_of_its_table(path: str, close: str) -> None:
    """As ``--set`` and a file do: the first part its table does not hold gets that table's close keys."""
    with pytest.raises(InputError, match=f"unknown scenario path .*; did you mean {close}\\?"):
        check_paths(scenario(), [{path: 1}])


# --------------------------------------------------------------------------- candidate reuse


def test_the_candidate_table_is_built_once_for_demand_prices_horizon_and_solver(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweeps docstring: "a sweep over demand or prices evaluates the roofline once per process".
    Points that differ in
    queries_per_day, price_scale, the horizon or the solver share one table; a change the table reads
    (input tokens) builds another, and only the last is kept (the first is built again after it)."""
    from planner.optimize import candidates

    built: list[planner.Scenario] = []

    def build(sc: planner.Scenario, catalog: Any) -> str:
        built.append(sc)
        return "table"

    monkeypatch.setattr(candidates, "build_candidates", build)
    monkeypatch.setattr(sweeps, "_catalog", lambda overlays: None)
    monkeypatch.setattr(sweeps, "_CANDIDATES", {})
    base = scenario().model_dump_json()
    same_table: list[dict[str, Any]] = [{}, {"workload.chat.queries_per_day": 2e6}, {"market.price_scale": 1.3},
                  {"horizon.months": 12}, {"solver.node_limit": 50}]
    for point in same_table:
        sweeps._candidates(apply_point(base, point), ())
    assert len(built) == 1
    sweeps._candidates(apply_point(base, {"workload.chat.input_tokens": 900}), ())
    sweeps._candidates(apply_point(base, {}), ())
    assert len(built) == 3


# --------------------------------------------------------------------------- rows of a batch


def test_a_rows_variants_seconds_and_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan with two variants lists both ("; " between them, each "technique:option"); the row
    carries the plan's solve seconds; a worker's thread count reaches the scenario planned."""
    seen = stub_plans(monkeypatch, variants=("quantization:fp8", "caching:prefix"), solve_s=0.25)
    (row,) = run_batch(scenario().model_dump_json(), (), [(0, {"market.price_scale": 1.2})], None, None, 1)
    assert row["variant"] == "quantization:fp8; caching:prefix"
    assert row["solver_seconds"] == 0.25
    assert row["lifetime_cost_usd"] == pytest.approx(1_200.0)  # $1,000 x 1.2
    assert seen[0].solver.threads == 1


def test_an_error_row_keeps_its_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Monte Carlo row that fails still says which seed drew it (seed 7, index 3)."""
    stub_plans(monkeypatch)
    (row,) = run_batch(scenario().model_dump_json(), (), [(3, {"horizon.months": 9, "horizon.period_months": 2})],
                       7, None, None)
    assert (row["index"], row["seed"], row["status"]) == (3, 7, "error")


# --------------------------------------------------------------------------- the driver


def test_grid_rows_have_no_seed_and_plan_with_one_solver_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid's rows carry seed None (only Monte Carlo has one); every point, inline too, is planned
    with one solver thread, as in a worker."""
    seen = stub_plans(monkeypatch)
    result = sweeps.sweep(scenario(), vary={"market.price_scale": "1,2"}, seed=5, executor="inline")
    assert [r["seed"] for r in result.rows] == [None, None]
    assert [sc.solver.threads for sc in seen] == [1, 1]
    assert [r["lifetime_cost_usd"] for r in result.rows] == pytest.approx([1_000.0, 2_000.0])


def test_a_sweep_table_zips_its_own_axes_but_not_those_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """``[sweep] zip = true`` pairs the table's two axes (2 points); axes given as ``vary`` are crossed
    (2 x 2 = 4 points) unless ``zip_axes`` is asked for."""
    stub_plans(monkeypatch)
    sc = scenario(sweep={"vary": {"market.price_scale": "1,2", "horizon.growth_per_year": "0.1,0.2"}, "zip": True})
    table = sweeps.sweep(sc, executor="inline").rows
    assert [r["inputs"] for r in table] == [{"market.price_scale": 1, "horizon.growth_per_year": 0.1},
                                            {"market.price_scale": 2, "horizon.growth_per_year": 0.2}]
    given = sweeps.sweep(sc, vary={"market.price_scale": "1,2", "horizon.growth_per_year": "0.1,0.2"},
                         executor="inline").rows
    assert len(given) == 4


@pytest.mark.parametrize(("points", "workers", "sizes"), [
    (10, 1, [1, 3, 3, 3]),        # ceil(10 / (1 x 4)) = 3 a batch: 3 + 3 + 3 + 1
    (10, 2, [2, 2, 2, 2, 2]),     # ceil(10 / (2 x 4)) = 2
    (40, 1, [8, 8, 8, 8, 8]),     # ceil(40 / 4) = 10, at most 8
])
def test_batches_are_a_quarter_of_a_workers_points_at_most_8(monkeypatch: pytest.MonkeyPatch, points: int,
                                                              workers: int, sizes: list[int]) -> None:
    """Batch size = min(8, ceil(points / (workers x 4))), at least 1; progress counts points as each
    batch finishes.  (Batches that finish together are reported in either order, so the steps are
    compared sorted.)"""
    stub_plans(monkeypatch)
    seen: list[tuple[int, int]] = []
    sweeps.sweep(scenario(), vary={"market.price_scale": f"1..2:{points}"}, executor="inline", workers=workers,
                 progress=lambda done, total: seen.append((done, total)))
    done = [d for d, _ in seen]
    assert {total for _, total in seen} == {points} and done[-1] == points
    assert sorted(b - a for a, b in zip([0, *done], done, strict=False)) == sizes


def test_the_result_names_the_overlays_every_point_was_planned_with(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    stub_plans(monkeypatch)
    overlay = tmp_path / "extra.toml"
    overlay.write_text("schema_version = 1\n")
    result = sweeps.sweep(scenario(), vary={"market.price_scale": "1"}, executor="inline", overlays=[str(overlay)])
    assert result.catalog_overlays == [str(overlay)]


def test_an_interrupt_says_how_many_points_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after 2 of 4 one-point batches: "interrupted after 2 of 4 points"; without an output file
    there is nothing to resume, so no --resume hint."""
    from planner.errors import SweepInterrupted

    stub_plans(monkeypatch)

    def ctrl_c_at_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        sweeps.sweep(scenario(), vary={"market.price_scale": "1..2:4"}, executor="inline", batch_size=1,
                     progress=ctrl_c_at_two)
    assert "interrupted after 2 of 4 points; their rows are kept" in str(info.value)
    assert "--resume" not in str(info.value)


def test_a_later_monte_carlo_draw_that_is_invalid_is_an_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Monte Carlo checks its first point only: a later draw of price_scale -1 (not > 0) is that sample's
    error row, not a refusal of the whole run."""
    stub_plans(monkeypatch)
    monkeypatch.setattr(sweeps, "draw", lambda uncertainty, samples, seed: [{"market.price_scale": 1.0},
                                                                           {"market.price_scale": -1.0}])
    monkeypatch.setattr(sweeps, "_nominal_techniques", lambda sc, overlays: {"quantization": ["fp8"]})
    sc = scenario(uncertainty={"market.price_scale": {"dist": "uniform", "low": 0.5, "high": 1.5}})
    result = sweeps.sweep(sc, samples=2, seed=4, executor="inline")
    assert [r["status"] for r in result.rows] == ["optimal", "error"]
    assert [r["seed"] for r in result.rows] == [4, 4]
    assert result.monte_carlo is not None and result.monte_carlo.failed == 1


def test_a_nominal_plan_without_a_single_variant_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Monte Carlo prices the nominal plan's variant: an infeasible nominal plan has none (exit 2); a
    feasible one gives each technique its one option."""
    stub_plans(monkeypatch, status="infeasible", variant=None, message="no hardware serves chat")
    with pytest.raises(InputError, match=r"no single-variant plan \(infeasible\): no hardware serves chat"):
        _nominal_techniques(scenario(), ())
    stub_plans(monkeypatch, variant={"quantization": "fp8", "caching": "none"})
    assert _nominal_techniques(scenario(), ()) == {"quantization": ["fp8"], "caching": ["none"]}


def test_the_nominal_plan_reads_the_sweeps_overlays(monkeypatch: pytest.MonkeyPatch) -> None:
    """The nominal variant is chosen with the catalog every sample is priced with (its overlays)."""
    from planner.catalog import store

    stub_plans(monkeypatch, variant={"quantization": "fp8"})
    loaded: list[list[str]] = []
    monkeypatch.setattr(store, "load_catalogs", lambda overlays, use_env: loaded.append(list(overlays)))
    _nominal_techniques(scenario(), ["prices.toml"])
    assert loaded == [["prices.toml"]]


# --------------------------------------------------------------------------- batches in flight


class FakePool:
    """What ``_BatchRun`` asks of a ``RestartablePool``.  ``answer(batch_key, attempt, rows)`` gives a
    batch's future: its rows, an exception to raise, or None (a future that never finishes)."""

    def __init__(self, answer: Any, broken: bool = False, unreachable: str | None = None) -> None:
        self.answer, self.broken, self.reason = answer, broken, unreachable
        self.run: _BatchRun | None = None
        self.submitted: list[int] = []  # first point index of each batch, in order
        self.pending_at_submit: list[int] = []
        self.restarts = 0
        self.started = time.monotonic()

    def submit(self, fn: Any, scenario_json: str, overlays: Any, batch: list[tuple[int, Any]], seed: Any,
               nominal: Any, threads: Any) -> cf.Future[Any]:
        assert self.run is not None
        self.pending_at_submit.append(len(self.run.pending))
        key = batch[0][0]
        attempt = self.submitted.count(key)
        self.submitted.append(key)
        future: cf.Future[Any] = cf.Future()
        outcome = self.answer(key, attempt, [{"index": i, "seed": seed, "inputs": p, "status": "optimal"}
                                             for i, p in batch])
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        elif outcome is not None:
            future.set_result(outcome)
        return future

    def unreachable(self) -> str | None:
        assert time.monotonic() - self.started < 10, "the lost cluster was never given up"
        return self.reason

    def restart(self) -> None:
        if self.broken:
            self.restarts += 1


def batch_run(pool: FakePool, points: int, workers: int, seed: int | None = None) -> _BatchRun:
    """``points`` points in batches of one: point i is batch i."""
    batches = [[(i, {"market.price_scale": 1.0 + i / 10})] for i in range(points)]
    job = (None, "{}", (), seed, None, 1)
    run = _BatchRun(pool, job, batches, workers, None, [], None, points)  # type: ignore[arg-type]
    pool.run = run
    return run


def test_at_most_two_batches_per_worker_are_in_flight_first_batch_first() -> None:
    """``IN_FLIGHT_PER_WORKER`` = 2: with 2 workers, 4 batches are out before any is collected (3 already
    pending when the 4th is sent), and batches are sent in order."""
    pool = FakePool(lambda key, attempt, rows: rows)
    run = batch_run(pool, 6, workers=2)
    run.until_done()
    assert max(pool.pending_at_submit) + 1 == 4  # 2 per worker x 2 workers
    assert pool.pending_at_submit[:4] == [0, 1, 2, 3]
    assert pool.submitted == [0, 1, 2, 3, 4, 5]
    assert sorted(r["index"] for r in run.rows) == list(range(6))


def test_a_batch_lost_three_times_becomes_worker_lost_rows() -> None:
    """A lost batch is resubmitted at most ``MAX_BATCH_RETRIES`` = 2 times: 3 attempts, then each of
    its points is an error row ``worker lost: <why>`` that keeps the sweep's seed."""
    pool = FakePool(lambda key, attempt, rows: RuntimeError("killed"))
    run = batch_run(pool, 1, workers=1, seed=7)
    run.until_done()
    assert pool.submitted == [0, 0, 0]
    assert run.rows == [{"index": 0, "seed": 7, "inputs": {"market.price_scale": 1.0}, "status": "error",
                         "error": f"{INFRASTRUCTURE_ERROR}: RuntimeError: killed"}]
    assert pool.restarts == 0  # not a broken pool


def test_a_broken_pool_is_restarted_and_its_bystanders_are_never_lost() -> None:
    """Batch 0 always breaks the pool; batch 1, in flight beside it, never finishes on a broken pool
    until its 4th submission.  Batch 0 becomes worker-lost rows after 3 attempts; batch 1, resubmitted
    with the pool each time (beyond the retry count, since its own work never failed), finishes: no
    point is lost.  The pool is restarted after each of the 3 breaks."""

    def answer(key: int, attempt: int, rows: list[dict[str, Any]]) -> Any:
        if key == 0:
            return BrokenProcessPool("a worker died")
        return rows if attempt == 3 else None

    pool = FakePool(answer, broken=True)
    run = batch_run(pool, 2, workers=1)
    run.until_done()
    assert sorted(r["index"] for r in run.rows) == [0, 1]
    assert [r["status"] for r in sorted(run.rows, key=lambda r: r["index"])] == ["error", "optimal"]
    assert pool.restarts == 3


def test_a_lost_cluster_fails_every_point_out_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing finishes and the cluster is unreachable: after ``CLUSTER_LOST_AFTER_S`` (0.3 s here) of
    that, the batches in flight (2) and the one never sent are ``worker lost`` rows, not sooner."""
    monkeypatch.setattr(sweeps, "STALL_CHECK_S", 0.02)
    monkeypatch.setattr(sweeps, "CLUSTER_LOST_AFTER_S", 0.3)
    pool = FakePool(lambda key, attempt, rows: None, unreachable="the Dask scheduler is unreachable (client closed)")
    run = batch_run(pool, 3, workers=1)
    start = time.monotonic()
    run.until_done()
    assert time.monotonic() - start >= 0.3
    assert pool.submitted == [0, 1]
    assert sorted(r["index"] for r in run.rows) == [0, 1, 2]
    assert {r["error"] for r in run.rows} == {"worker lost: the Dask scheduler is unreachable (client closed)"}


# --------------------------------------------------------------------------- Monte Carlo summary


def test_decision_stability_lists_the_most_common_variant_first() -> None:
    """2 samples of caching:prefix after 1 of quantization:fp8: shares 2/3 and 1/3, most common first."""
    rows = [{"status": "optimal", "variant": "quantization:fp8", "nominal_variant_cost_usd": 1.0},
            {"status": "optimal", "variant": "caching:prefix", "nominal_variant_cost_usd": 2.0},
            {"status": "optimal", "variant": "caching:prefix", "nominal_variant_cost_usd": 3.0}]
    mc = _monte_carlo_summary(rows, None)
    assert list(mc.decision_stability) == ["caching:prefix", "quantization:fp8"]
    assert mc.decision_stability["caching:prefix"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- rows files

PATHS = ["market.price_scale", "horizon.months"]
POINTS = [{"market.price_scale": 0.8, "horizon.months": 6}, {"market.price_scale": 1.2, "horizon.months": 12}]


def row_of(i: int, **over: Any) -> dict[str, Any]:
    return {"index": i, "seed": 3, "inputs": dict(POINTS[i]), "status": "optimal", "lifetime_cost_usd": 100.0 + i,
            "bound_usd": None, "one_time_cost_usd": 0.0, "recurring_cost_usd": 100.0 + i, "variant": None,
            "fleet": "h100-sxm on-demand x2", "solver_seconds": 0.1, "error": None, **over}


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_csv_row_holds_every_swept_input_and_reads_back_as_written(tmp_path: Path) -> None:
    """Each swept path is a column; an empty cell reads back as None (not ""), the seed as the whole
    number 3, a missing variant as None."""
    handle = io.StringIO()
    append(handle, ".csv", [row_of(1)], PATHS, header=True)
    (cells,) = list(csv.DictReader(io.StringIO(handle.getvalue())))
    assert list(cells) == [*FIXED_COLUMNS, *PATHS]
    assert (cells["market.price_scale"], cells["horizon.months"]) == ("1.2", "12")
    back = from_csv(cells, PATHS)
    assert back["inputs"] == {"market.price_scale": 1.2, "horizon.months": 12.0}
    assert back["bound_usd"] is None and back["nominal_variant_cost_usd"] is None
    assert back["variant"] is None and back["error"] is None and back["fleet"] == "h100-sxm on-demand x2"
    assert back["seed"] == 3 and type(back["seed"]) is int


def test_a_full_disk_is_an_output_error_naming_the_file() -> None:
    from planner.errors import OutputError

    class FullDisk(io.StringIO):
        name = "rows.jsonl"

        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="cannot write rows: No space left on device") as info:
        append(FullDisk(), ".jsonl", [row_of(0)], PATHS, header=False)
    assert info.value.field == "-o rows.jsonl"


def test_a_jsonl_row_is_written_with_sorted_keys() -> None:
    handle = io.StringIO()
    append(handle, ".jsonl", [{"status": "optimal", "index": 0, "inputs": {}}], [], header=False)
    assert handle.getvalue() == '{"index": 0, "inputs": {}, "status": "optimal"}\n'


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_last_row_without_its_newline_is_dropped_and_the_file_ends_whole(tmp_path: Path, suffix: str) -> None:
    """A whole-looking last row with no newline may be cut short: it is dropped, and the file is
    rewritten to end with a newline (the next row starts its own line)."""
    out = tmp_path / f"rows{suffix}"
    if suffix == ".jsonl":
        out.write_text(jsonl([row_of(0), row_of(1)])[:-1])
    else:
        handle = io.StringIO()
        append(handle, ".csv", [row_of(0), row_of(1)], PATHS, header=True)
        out.write_text(handle.getvalue().rstrip("\r\n"))
    done = read_done(out, PATHS, POINTS)
    assert [r["index"] for r in done] == [0]
    assert out.read_text().endswith("\n") and out.read_text().count("\n") == (1 if suffix == ".jsonl" else 2)


def test_a_jsonl_line_that_is_not_json_is_dropped_alone(tmp_path: Path) -> None:
    """A foreign line between two whole rows: row 1 after it is kept, as in a CSV file (reading
    stopped at the bad line, so row 1 was dropped and planned again), and the file is rewritten
    without the bad line."""
    out = tmp_path / "rows.jsonl"
    out.write_text(json.dumps(row_of(0)) + "\n" + "not json\n" + json.dumps(row_of(1)) + "\n")
    assert [r["index"] for r in read_done(out, PATHS, POINTS)] == [0, 1]
    assert "not json" not in out.read_text() and out.read_text().count("\n") == 2


def test_a_csv_row_with_an_extra_cell_is_not_whole(tmp_path: Path) -> None:
    handle = io.StringIO()
    append(handle, ".csv", [row_of(0), row_of(1)], PATHS, header=True)
    lines = handle.getvalue().splitlines(keepends=True)
    out = tmp_path / "rows.csv"
    out.write_text(lines[0] + lines[1].rstrip("\r\n") + ",extra\r\n" + lines[2])
    assert [r["index"] for r in read_done(out, PATHS, POINTS)] == [1]


@pytest.mark.parametrize(("bad", "why"), [
    ({**row_of(0), "index": 2}, "index 2 of 2 points (0 and 1)"),
    ({**row_of(0), "index": 0.5}, "not a whole index"),
    ({**row_of(0), "inputs": {**POINTS[0], "solver.name": "cbc"}}, "an input the point does not have"),
    ({**row_of(0), "inputs": {**POINTS[0], "market.price_scale": 0.8 * (1 + 1e-6)}}, "another input value"),
])
def test_a_row_that_is_not_its_points_finished_result_is_recomputed(tmp_path: Path, bad: dict[str, Any],
                                                                    why: str) -> None:
    """--resume keeps a row only when it is a finished result of its point (inputs equal to 1e-12
    relative); the file is rewritten without the others even though it ends in a newline."""
    out = tmp_path / "rows.jsonl"
    out.write_text(jsonl([bad, row_of(1)]))
    assert [r["index"] for r in read_done(out, PATHS, POINTS)] == [1], why
    assert [json.loads(line)["index"] for line in out.read_text().splitlines()] == [1]


def test_resume_recomputes_worker_lost_rows_and_keeps_the_points_own_errors(tmp_path: Path) -> None:
    """A ``worker lost`` row was the infrastructure's fault: --resume drops it (and rewrites the file
    without it); a point's own error is its answer and is kept."""
    out = tmp_path / "rows.jsonl"
    lost = row_of(0, status="error", error=f"{INFRASTRUCTURE_ERROR}: BrokenProcessPool: a worker died")
    own = row_of(1, status="error", error="horizon: months 12 is not a multiple of period_months 5")
    out.write_text(jsonl([lost, own]))
    assert [r["index"] for r in read_done(out, PATHS, POINTS)] == [1]
    assert [json.loads(line)["index"] for line in out.read_text().splitlines()] == [1]


def test_a_row_without_inputs_is_recomputed_and_a_missing_file_has_no_rows(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    assert read_done(out, PATHS, POINTS) == []  # nothing written yet: every point to do
    out.write_text(jsonl([{**row_of(0), "inputs": None}, row_of(1)]))
    assert [r["index"] for r in read_done(out, PATHS, POINTS)] == [1]


def test_a_boolean_input_read_back_from_csv_matches_its_point(tmp_path: Path) -> None:
    """CSV writes True as ``True`` and reads it back as that text: it is still the point's value."""
    points = [{"plan.pooled_capacity": True}, {"plan.pooled_capacity": False}]
    rows = [{**row_of(i), "inputs": p} for i, p in enumerate(points)]
    out = tmp_path / "rows.csv"
    handle = io.StringIO()
    append(handle, ".csv", rows, ["plan.pooled_capacity"], header=True)
    out.write_text(handle.getvalue())
    assert [r["index"] for r in read_done(out, ["plan.pooled_capacity"], points)] == [0, 1]


def test_the_fingerprint_reads_the_overlays_contents(tmp_path: Path) -> None:
    """The same overlay file with other contents is another sweep (its prices differ)."""
    overlay = tmp_path / "prices.toml"
    overlay.write_text("schema_version = 1\n")
    before = fingerprint("{}", POINTS, [str(overlay)], None)
    overlay.write_text("schema_version = 1\n# edited\n")
    assert fingerprint("{}", POINTS, [str(overlay)], None) != before


def test_resume_onto_a_file_not_yet_written_starts_it(tmp_path: Path) -> None:
    """--resume with no output yet is a fresh sweep: the fingerprint is written beside it."""
    out = tmp_path / "rows.csv"
    claim_output(out, "abc", resume=True)
    assert json.loads(sidecar(out).read_text())["fingerprint"] == "abc"


def test_an_unreadable_fingerprint_is_another_sweeps(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("")
    sidecar(out).write_text("not json")
    with pytest.raises(InputError, match="holds another sweep"):
        claim_output(out, "abc", resume=True)


def test_a_whole_number_field_rounds_halves_up() -> None:
    """0.5, 1.5, 2.5, 3.5 replicas plan 1, 2, 3, 4 (Python's round gave 0, 2, 2, 4: two rows of one point);
    a fraction field is left alone."""
    from planner.scenario.sweep_spec import planned_point

    got = [planned_point({"workload.chat.min_replicas": v})["workload.chat.min_replicas"] for v in (0.5, 1.5, 2.5, 3.5)]
    assert got == [1, 2, 3, 4] and all(isinstance(v, int) for v in got)
    assert planned_point({"market.price_scale": 2.5}) == {"market.price_scale": 2.5}
