"""Sweeps and Monte Carlo: specs, identical rows on every executor, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.errors import InputError
from planner.insight.sweeps import sweep
from planner.report.sweep_view import text as sweep_text
from planner.scenario.sweep_spec import apply_point, draw, grid, parse_spec

VOLATILE = ("solver_seconds",)


def tiny(**over: Any) -> planner.Scenario:
    data: dict[str, Any] = {
        "schema_version": 1, "name": "sweep", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 5e5, "input_tokens": 500, "output_tokens": 150,
                      "ttft_ms": 1500, "tpot_ms": 60}],
        "horizon": {"months": 6, "period_months": 3, "growth_per_year": 0.5},
        "market": {"hardware": ["l40s", "h100-sxm"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]},
        "uncertainty": {"market.price_scale": {"dist": "triangular", "low": 0.7, "mode": 1.0, "high": 1.3},
                        "workload.chat.queries_per_day": {"dist": "lognormal", "median": 5e5, "sigma": 0.5}},
    }
    data.update(over)
    return planner.scenario_from_dict(data)


VARY = {"workload.chat.queries_per_day": "1e5..3e6:log:4", "market.price_scale": "0.8,1.2"}


def stable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in sorted(rows, key=lambda r: r["index"])]


def test_specs() -> None:
    assert parse_spec("p", "1,2,3") == [1, 2, 3]
    assert parse_spec("p", "0..10:3") == [0.0, 5.0, 10.0]
    assert parse_spec("p", "1..100:log:3") == pytest.approx([1.0, 10.0, 100.0])
    assert parse_spec("p", '"a","b"') == ["a", "b"]
    assert len(grid({"a": "1,2", "b": "1,2,3"}, zipped=False)) == 6
    assert grid({"a": "1,2", "b": "3,4"}, zipped=True) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]


@pytest.mark.parametrize(("spec", "words"), [("5..1:3", "above its high end"), ("1..2:x", "lo..hi:n"),
                                             ("0..10:log:3", "positive low end"), ("1..2:0", "[1, 100000]")])
def test_bad_specs(spec: str, words: str) -> None:
    with pytest.raises(InputError, match=words.replace("[", r"\[")):
        parse_spec("p", spec)


def test_same_rows_on_every_executor_and_worker_count(tmp_path: Path) -> None:
    sc = tiny()
    inline = sweep(sc, vary=VARY, executor="inline").rows
    assert len(inline) == 8 and all(r["status"] == "optimal" for r in inline)
    one = sweep(sc, vary=VARY, workers=1).rows
    two = sweep(sc, vary=VARY, workers=2, batch_size=1).rows
    assert stable(one) == stable(two) == stable(inline)
    pytest.importorskip("distributed")
    dask = sweep(sc, vary=VARY, workers=2, executor="dask").rows
    assert stable(dask) == stable(one)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_resume_completes_an_interrupted_sweep(tmp_path: Path, suffix: str) -> None:
    sc = tiny()
    out = tmp_path / f"rows{suffix}"
    full = sweep(sc, vary=VARY, executor="inline", output=out)
    text = out.read_text()
    lines = text.splitlines(keepends=True)
    keep = 4 if suffix == ".csv" else 3  # header + 3 rows for CSV
    out.write_text("".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])  # killed mid-write
    resumed = sweep(sc, vary=VARY, executor="inline", output=out, resume=True)
    indices = [r["index"] for r in resumed.rows]
    assert indices == list(range(8))  # none missing, none twice
    on_disk = out.read_text().splitlines()
    assert len(on_disk) == 8 + (1 if suffix == ".csv" else 0)
    if suffix == ".jsonl":
        assert sorted(json.loads(line)["index"] for line in on_disk) == list(range(8))
    assert [round(r["lifetime_cost_usd"], 6) for r in resumed.rows] == [round(r["lifetime_cost_usd"], 6)
                                                                         for r in full.rows]


def test_an_existing_output_needs_resume(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    out.write_text("")
    with pytest.raises(InputError, match="--resume"):
        sweep(tiny(), vary=VARY, executor="inline", output=out)


def test_monte_carlo_reports_cost_percentiles_and_decision_stability() -> None:
    sc = tiny()
    a = sweep(sc, samples=12, seed=3, executor="inline")
    b = sweep(sc, samples=12, seed=3, executor="inline")
    assert stable(a.rows) == stable(b.rows)  # same seed, same draws, same plans
    mc = a.monte_carlo
    assert mc is not None and mc.samples == 12
    p = mc.nominal_variant_cost_percentiles_usd
    assert p["p10"] <= p["p50"] <= p["p90"]
    assert sum(mc.decision_stability.values()) == pytest.approx(1.0)
    assert {r["seed"] for r in a.rows} == {3}
    assert mc.unproven == 0 and mc.nominal_variant_cost_percentiles_lower_usd == p  # every sample proven
    draws = draw(sc.uncertainty, 500, 1)
    assert all(0.7 <= d["market.price_scale"] <= 1.3 for d in draws)
    assert mc.nominal_variant_unserved == 0


def test_monte_carlo_counts_the_samples_the_nominal_variant_cannot_serve() -> None:
    """A drawn quality floor the nominal variant (fp8) breaks leaves that sample without a nominal
    cost; the percentiles were said to be over every sample while such samples were left out."""
    # the nominal plan is fp8 (0.35 points below the base model), half the base model's cost at 5e6 a day
    # (at tiny()'s 5e5 a day both run on one GPU, and the base model is $0.009 cheaper)
    chat = {"name": "chat", "queries_per_day": 5e6, "input_tokens": 500, "output_tokens": 150, "ttft_ms": 1500,
            "tpot_ms": 60}
    sc = tiny(quality={"max_drop": 2.0}, workload=[chat],
              uncertainty={"quality.max_drop": {"dist": "uniform", "low": 0.0, "high": 0.7}})
    result = sweep(sc, samples=8, seed=1, executor="inline")
    mc = result.monte_carlo
    assert mc is not None and mc.samples == 8 and mc.failed == 0
    unserved = [r for r in result.rows if r.get("nominal_variant_cost_usd") is None]
    assert mc.nominal_variant_unserved == len(unserved) > 0
    assert f"over {8 - len(unserved)} of 8 samples" in sweep_text(result)
    assert f"{len(unserved)} of 8 samples the nominal variant cannot serve" in sweep_text(result)


@pytest.mark.parametrize(("dist", "words"), [
    ({"dist": "lognormal", "median": 2e6, "sigma": 0.5, "low": 1.5e6, "high": 2.5e6}, "not low, high"),
    ({"dist": "uniform", "low": 1.0, "high": 2.0, "sd": 0.1}, "not sd"),
])
def test_a_distribution_parameter_it_does_not_take_is_refused(dist, words) -> None:  # type: ignore[no-untyped-def]
    """A lognormal's low/high read as bounds it does not have (its draws went past them)."""
    with pytest.raises(InputError, match=words):
        tiny(uncertainty={"workload.chat.queries_per_day": dist})


def test_a_failed_point_is_recorded_and_the_sweep_goes_on() -> None:
    """Each value is valid on its own; 9 months in periods of 2 is not (values alone are checked first)."""
    rows = sweep(tiny(), vary={"horizon.months": "6,9", "horizon.period_months": "3,2"}, executor="inline").rows
    assert [r["status"] for r in rows] == ["optimal", "optimal", "optimal", "error"]
    assert "period_months" in rows[3]["error"]


@pytest.mark.parametrize("values", ["-5,60", "60,-5"])
def test_a_bad_value_is_exit_2_wherever_it_sits_and_nothing_is_written(whatif, tmp_path, values) -> None:  # type: ignore[no-untyped-def]
    """Once only the first point was validated: "60,-5" solved a point, then exited 5 with an error row."""
    path, out = tmp_path / "s.json", tmp_path / "rows.csv"
    path.write_text(tiny().model_dump_json())
    r = whatif("sweep", str(path), "--vary", f"workload.chat.tpot_ms={values}", "-o", str(out))
    assert r.code == 2 and "tpot_ms" in r.err and "Traceback" not in r.err, r.err
    assert list(tmp_path.iterdir()) == [path]


def test_a_bad_executor_writes_nothing(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The output (rows and sidecar) was claimed before the executor was checked: a refused run left
    them behind and the corrected command was refused for an existing file."""
    path, out = tmp_path / "s.json", tmp_path / "rows.csv"
    path.write_text(tiny().model_dump_json())
    r = whatif("sweep", str(path), "--vary", "market.price_scale=1,1.1", "--executor", "bogus", "-o", str(out))
    assert r.code == 2 and "unknown executor" in r.err
    assert list(tmp_path.iterdir()) == [path]


def test_ranges_on_whole_number_fields_and_new_keys_of_free_tables() -> None:
    """A range gives floats (12.0): on a whole-number field they are rounded (they were refused), and a
    key --set accepts (market.quota_gpus.h100-sxm) may be swept before it is set."""
    rows = sweep(tiny(), vary={"workload.chat.input_tokens": "400..600:3", "market.quota_gpus.h100-sxm": "64..128:2"},
                 executor="inline").rows
    assert [r["status"] for r in rows] == ["optimal"] * 6
    assert [r["inputs"]["workload.chat.input_tokens"] for r in rows[::2]] == [400.0, 500.0, 600.0]
    # a row records the value planned: 400..500:4 plans 400, 433, 467 and 500 tokens (it read 433.333…)
    planned = sweep(tiny(), vary={"workload.chat.input_tokens": "400..500:4"}, executor="inline").rows
    assert [r["inputs"]["workload.chat.input_tokens"] for r in planned] == [400, 433, 467, 500]
    assert all(isinstance(r["inputs"]["workload.chat.input_tokens"], int) for r in planned)
    rounded = apply_point(tiny().model_dump_json(), {"horizon.months": 9.0, "horizon.period_months": 3.0})
    assert rounded.horizon.months == 9
    # a free table of fractions takes new keys too, and its values are not rounded (0.4 once became 0)
    discounted = apply_point(tiny().model_dump_json(), {"market.reserved_discount.reserved-1y": 0.4})
    assert discounted.market.reserved_discount == {"reserved-1y": 0.4}


@pytest.mark.parametrize(("args", "words"), [
    (["--vary", "workload.chat.nope=1,2"], "unknown scenario path"),
    (["--vary", "workload.chat.queries_per_day=9..1:3"], "above its high end"),
    (["--vary", "workload.chat.queries_per_day"], "PATH=SPEC"),
    (["--samples", "3", "--seed", "-1"], "whole number >= 0"),
    (["--vary", "market.price_scale=1,2", "--seed", "-1"], "whole number >= 0"),
    (["--vary", "market.price_scale=1,2", "--samples", "3"], "give one"),
    (["--vary", "market.price_scale=1,2", "--executor", "dask://127.0.0.1:9"], "cannot reach the Dask scheduler"),
])
def test_bad_sweep_input_is_exit_2_before_any_work(whatif, tmp_path, args, words) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.json"
    path.write_text(tiny().model_dump_json())
    r = whatif("sweep", str(path), *args)
    assert r.code == 2, r.err
    assert words in r.err and "Traceback" not in r.err


def test_cli_sweep_writes_rows_and_a_plot(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.json"
    path.write_text(tiny().model_dump_json())
    out, plot = tmp_path / "rows.csv", tmp_path / "cost.svg"
    r = whatif("sweep", str(path), "--vary", "workload.chat.queries_per_day=1e5..1e7:log:3", "--executor", "inline",
               "-o", str(out), "--plot", str(plot))
    assert r.code == 0, r.err
    assert len(out.read_text().splitlines()) == 4
    assert "<svg" in plot.read_text() and "<path" in plot.read_text()


def test_a_point_stopped_at_a_limit_carries_its_proven_bound(tmp_path: Path) -> None:
    """A plan stopped by its node limit is an interval, never a fact: its row carries ``bound_usd``, the
    optimum found without the limit lies in ``[bound_usd, lifetime_cost_usd]``, and the table and the
    chart show the interval; a proven row has no bound."""
    from planner.report.sweep_view import figure, text

    vary = {"workload.chat.queries_per_day": "1e6,2e6"}  # below 1e6 the 12-month demo is proven at the root
    demo = ["horizon.months=12"]
    stopped = sweep(planner.load_scenario(planner.demo_scenario_path(), [*demo, "solver.node_limit=1"]), vary=vary,
                    executor="inline")
    proven = sweep(planner.load_scenario(planner.demo_scenario_path(), demo), vary=vary, executor="inline").rows
    for limited, exact in zip(stopped.rows, proven, strict=True):
        assert limited["status"] == "feasible" and exact["status"] == "optimal" and exact["bound_usd"] is None
        assert limited["bound_usd"] < limited["lifetime_cost_usd"]
        assert limited["bound_usd"] <= exact["lifetime_cost_usd"] * (1 + 1e-9)
        assert exact["lifetime_cost_usd"] <= limited["lifetime_cost_usd"] * (1 + 1e-9)
        assert f"[${limited['bound_usd']:,.0f}, ${limited['lifetime_cost_usd']:,.0f}]" in text(stopped)
    svg = tmp_path / "cost.svg"
    fig = figure(stopped)
    fig.savefig(svg, format="svg")
    assert "not proven optimal" in svg.read_text()


def test_monte_carlo_percentiles_of_samples_stopped_at_a_limit_are_intervals() -> None:
    """Samples stopped at a node limit count as unproven, and each percentile gets the same percentile
    of the samples' proven bounds below it (percentiles are monotone in every sample)."""
    from planner.report.sweep_view import text

    sc = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12", "solver.node_limit=1"])
    # chat at about the demo's 2 M queries a day: a few hundred thousand are proven at the root
    busy = {"dist": "lognormal", "median": 2e6, "sigma": 0.3}
    sc = sc.model_copy(update={"uncertainty": tiny(uncertainty={
        **tiny().model_dump(mode="json")["uncertainty"], "workload.chat.queries_per_day": busy}).uncertainty})
    result = sweep(sc, samples=3, seed=1, executor="inline")
    mc = result.monte_carlo
    assert mc is not None and 0 < mc.unproven <= 3
    high, low = mc.nominal_variant_cost_percentiles_usd, mc.nominal_variant_cost_percentiles_lower_usd
    assert set(low) == set(high) and all(low[k] <= high[k] for k in high) and any(low[k] < high[k] for k in high)
    assert f"{mc.unproven} of 3 samples stopped at a limit" in text(result)


def test_an_invalid_distribution_is_exit_2(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(tiny().model_dump_json())
    data["uncertainty"]["market.price_scale"] = {"dist": "uniform", "low": 2.0, "high": 1.0}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    r = whatif("sweep", str(path), "--samples", "5")
    assert r.code == 2 and "low (2.0) must be below high (1.0)" in r.err
    data["uncertainty"]["market.price_scale"] = {"dist": "lognormal", "median": 1.0, "sigma": -1.0}
    path.write_text(json.dumps(data))
    r = whatif("sweep", str(path), "--samples", "5")
    assert r.code == 2 and "sigma" in r.err


def test_monte_carlo_draws_the_owned_hardware_conventions() -> None:
    """useful_life_years and resale_fraction default to the catalog (None in the file) and can still be drawn."""
    sc = planner.scenario_from_dict({
        "schema_version": 1, "name": "mc-econ", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 6, "terminal_value": "salvage"},
        "market": {"hardware": ["h100-sxm"], "modes": ["buy"], "lead_time_months": {"buy": 0}},
        "techniques": {"quantization": ["none"], "caching": ["none"]},
        "uncertainty": {"market.useful_life_years": {"dist": "triangular", "low": 3, "mode": 5, "high": 6},
                        "market.resale_fraction": {"dist": "uniform", "low": 0.2, "high": 0.6}},
    })
    result = planner.sweep(sc, samples=3, seed=1, executor="inline")
    assert [r["status"] for r in result.rows] == ["optimal"] * 3
    for row in result.rows:
        assert 3 <= row["inputs"]["market.useful_life_years"] <= 6
        assert 0.2 <= row["inputs"]["market.resale_fraction"] <= 0.6
    assert len({r["lifetime_cost_usd"] for r in result.rows}) == 3  # the draws change the cost


# ------------------------------------------------------------- resumes continue only their own sweep


def test_resume_refuses_a_file_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "mine.csv"
    out.write_text("name,value\nalpha,1\n")  # an unrelated CSV
    with pytest.raises(InputError, match="not written by a whatif sweep"):
        sweep(tiny(), vary=VARY, executor="inline", output=out, resume=True)
    assert out.read_text() == "name,value\nalpha,1\n"


def test_resume_refuses_another_sweeps_file(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    sweep(tiny(), vary={"market.price_scale": "0.8,1.2"}, executor="inline", output=out)
    before = out.read_text()
    with pytest.raises(InputError, match="holds another sweep"):
        sweep(tiny(), vary={"market.price_scale": "0.9,1.1"}, executor="inline", output=out, resume=True)
    with pytest.raises(InputError, match="holds another sweep"):  # other paths: refused too, not a KeyError
        sweep(tiny(), vary={"horizon.growth_per_year": "0.1,0.2"}, executor="inline", output=out, resume=True)
    assert out.read_text() == before


def test_a_row_torn_inside_its_last_value_is_recomputed(tmp_path: Path) -> None:
    vary = {"workload.chat.queries_per_day": "64280.7,1e5"}
    out = tmp_path / "rows.csv"
    full = sweep(tiny(), vary=vary, executor="inline", output=out)
    text = out.read_text()
    torn = text[: text.index("64280.7") + 2]  # the process died after writing "...,64"
    out.write_text(torn)
    resumed = sweep(tiny(), vary=vary, executor="inline", output=out, resume=True)
    assert [r["inputs"]["workload.chat.queries_per_day"] for r in resumed.rows] == [64280.7, 1e5]
    assert [round(r["lifetime_cost_usd"], 6) for r in resumed.rows] == [round(r["lifetime_cost_usd"], 6)
                                                                         for r in full.rows]
    # even with its newline, a row whose input is not its point's is not kept
    lines = out.read_text().splitlines(keepends=True)
    out.write_text(lines[0] + lines[1].replace("64280.7", "64.0"))
    again = sweep(tiny(), vary=vary, executor="inline", output=out, resume=True)
    assert [r["inputs"]["workload.chat.queries_per_day"] for r in again.rows] == [64280.7, 1e5]


def test_the_resume_rewrite_never_follows_a_planted_link(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    sweep(tiny(), vary={"market.price_scale": "0.8,1.2"}, executor="inline", output=out)
    out.write_text(out.read_text()[:-5])  # torn: the resume rewrites the file
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / ".rows.csv.tmp").symlink_to(victim)  # the old fixed temp name
    sweep(tiny(), vary={"market.price_scale": "0.8,1.2"}, executor="inline", output=out, resume=True)
    assert victim.read_text() == "keep me"


def test_string_and_boolean_fields_can_be_swept() -> None:
    from planner.scenario.sweep_spec import apply_point

    sc = tiny()
    assert apply_point(sc.model_dump_json(), {"solver.name": "cbc"}).solver.name == "cbc"
    assert apply_point(sc.model_dump_json(), {"plan.pooled_capacity": True}).plan.pooled_capacity is True
    rows = sweep(sc, vary={"solver.name": "highs,cbc"}, executor="inline").rows
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert rows[0]["lifetime_cost_usd"] == pytest.approx(rows[1]["lifetime_cost_usd"], rel=1e-4)


def test_grids_and_truncated_normals_are_bounded() -> None:
    with pytest.raises(InputError, match="at most 1,000,000"):
        grid({"a": "1..2:100000", "b": "1..2:100000"}, zipped=False)
    from planner.scenario.schema import Distribution

    narrow = {"market.price_scale": Distribution(dist="normal", mean=1.0, sd=1.0, low=1.0, high=1.0 + 1e-9)}
    with pytest.raises(InputError, match="too rarely"):
        draw(narrow, 1, 0)


def test_market_hardware_validation_is_linear() -> None:
    """A generated list of 100,001 slugs is refused in linear time: by its length since the sixteenth
    session (``MAX_MARKET_HARDWARE``, 100), by the duplicate check before."""
    import time

    start = time.perf_counter()
    with pytest.raises(Exception, match="market.hardware: List should have at most 100 items"):
        planner.scenario_from_dict({**json.loads(tiny().model_dump_json()),
                                    "market": {"hardware": [f"gpu-{i}" for i in range(100_000)] + ["gpu-1"]}})
    assert time.perf_counter() - start < 10


def test_ctrl_c_while_the_pool_shuts_down_after_the_last_row_says_how_to_resume(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C that lands after the last row, while the worker pool is being shut down, is the same
    answer as one mid-sweep (rows kept, how to resume), not a bare interrupt (a race seen in CI)."""
    import contextlib

    from planner.errors import SweepInterrupted
    from planner.insight import sweeps

    real = sweeps.make_executor

    @contextlib.contextmanager
    def interrupted_on_exit(*args: Any, **kwargs: Any) -> Any:
        with real(*args, **kwargs) as pool:
            yield pool
        raise KeyboardInterrupt  # the signal arrives as the pool's shutdown ends

    monkeypatch.setattr(sweeps, "make_executor", interrupted_on_exit)
    out = tmp_path / "rows.csv"
    with pytest.raises(SweepInterrupted, match=r"interrupted after 2 of 2 points.*--resume") as info:
        sweep(tiny(), vary={"market.price_scale": "0.8,1.2"}, workers=1, output=out)
    assert info.value.exit_code == 130
    assert len(out.read_text().splitlines()) == 3  # header + both rows, kept


def test_a_sweep_over_what_the_candidates_read_rebuilds_them() -> None:
    """The candidate table is reused across points that share it; its key once left out plan.engine
    (and measured rows, plan.expert_parallel), so a sweep over the engine priced every point alike."""
    sc = tiny(market={"hardware": ["h200"], "modes": ["on-demand"]},
              workload=[{"name": "chat", "queries_per_day": 5e7, "input_tokens": 500, "output_tokens": 150,
                         "ttft_ms": 1500, "tpot_ms": 60}])
    rows = sweep(sc, vary={"plan.engine": '"tensorrt-llm","vllm"'}, executor="inline").rows
    alone = [planner.plan(apply_point(sc.model_dump_json(), r["inputs"])).lifetime_cost_usd for r in rows]
    assert [r["lifetime_cost_usd"] for r in rows] == pytest.approx(alone, rel=1e-9)
    assert alone[0] != pytest.approx(alone[1], rel=1e-6)
