"""Measured capacity rows: the forms a row may take, several TPs per pair, and rows read from a CSV."""

from __future__ import annotations

import json
from typing import Any

import pytest

import planner
from planner.units import HOURS_PER_MONTH
from tests.optimize.test_melange import E1_SHARES, E1_T, MELANGE, scenario

#: Output tokens of E1's bucket classes: each class sits at its bucket's upper bound (25 or 100).
E1_OUTPUT_TOKENS = [25, 100, 25, 100]


@pytest.fixture(scope="module")
def melange_catalog() -> planner.Catalog:
    return planner.load_catalogs([MELANGE / "prices.toml"], use_env=False)


def e1(**plan: Any) -> dict[str, Any]:
    data = scenario(E1_SHARES, E1_T, 30, 4).model_dump(mode="json")
    data.pop("measured_file")
    data["plan"].update(plan)
    return data


def usd_per_hour(plan: planner.Plan) -> float:
    assert plan.status == "optimal", plan.message
    return plan.lifetime_cost_usd / HOURS_PER_MONTH


def test_output_tokens_per_s_is_requests_per_s_times_output_tokens(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    data = e1()
    classes = [w["name"] for w in data["workload"]]
    assert [w["output_tokens"] for w in data["workload"]] == E1_OUTPUT_TOKENS
    tokens = dict(zip(classes, E1_OUTPUT_TOKENS, strict=True))
    for row in data["measured"]:
        row["output_tokens_per_s"] = row.pop("requests_per_s") * tokens[row["workload"]]
    plan = planner.plan(planner.scenario_from_dict(data), catalog=melange_catalog)
    assert usd_per_hour(plan) == pytest.approx(5.69, rel=1e-6)  # E1 at k = 4, as with requests/s


def test_a_row_that_cannot_meet_the_slo_excludes_the_pair(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    """E1 at k = 4 puts A10Gs to use; with no A10G able to meet any SLO only A100s remain."""
    data = e1()
    for row in data["measured"]:
        if row["hardware"] == "a10g":
            row.pop("requests_per_s")
            row["meets_slo"] = False
    plan = planner.plan(planner.scenario_from_dict(data), catalog=melange_catalog)
    assert {s.hardware for s in plan.serving} == {"a100-80gb"}
    # every class on A100s alone: load 6/20 + 3/20 + 15/40 + 6/20 = 1.125 -> 2 GPUs
    assert usd_per_hour(plan) == pytest.approx(2 * 3.67, rel=1e-6)


def test_every_measured_tp_of_a_pair_stays_available(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    """A second row for the same hardware and class at another TP adds a deployment, whatever the order."""
    base = e1()
    fast_tp2 = [{**row, "tp": 2, "requests_per_s": row["requests_per_s"] * 4}
                for row in base["measured"] if row["hardware"] == "a100-80gb"]
    costs = []
    for rows in (fast_tp2 + base["measured"], base["measured"] + fast_tp2):
        data = {**base, "measured": rows}
        plan = planner.plan(planner.scenario_from_dict(data), catalog=melange_catalog)
        assert any(s.hardware == "a100-80gb" and s.tp == 2 for s in plan.serving)
        costs.append(usd_per_hour(plan))
    assert costs[0] == pytest.approx(costs[1], rel=1e-9)
    assert costs[0] < 5.69  # twice the GPUs for four times the rate beats E1's optimum


@pytest.mark.parametrize(("row", "words"), [
    ({"requests_per_s": 2.0, "output_tokens_per_s": 50.0}, "exactly one of requests_per_s or output_tokens_per_s"),
    ({}, "exactly one of requests_per_s or output_tokens_per_s"),
    ({"requests_per_s": 2.0, "meets_slo": False}, "meets_slo = false takes no capacity"),
    ({"output_tokens_per_s": 0.0}, "greater than 0"),
])
def test_a_row_gives_one_capacity_or_none(whatif, tmp_path, row, words) -> None:  # type: ignore[no-untyped-def]
    data = e1()
    first = {k: v for k, v in data["measured"][0].items() if k not in ("requests_per_s", "output_tokens_per_s",
                                                                       "meets_slo")}
    data["measured"][0] = {**first, **row}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    r = whatif("plan", str(path))
    assert r.code == 2 and words in r.err and "measured" in r.err and "Traceback" not in r.err


def test_cannot_meet_and_a_capacity_for_the_same_row_disagree() -> None:
    data = e1()
    data["measured"].append({**{k: v for k, v in data["measured"][0].items() if k != "requests_per_s"},
                             "meets_slo": False})
    with pytest.raises(planner.ScenarioError, match="disagrees with an earlier row: 2 requests/s vs cannot meet"):
        planner.scenario_from_dict(data)


def write_csv(path, rows: list[dict[str, Any]], columns: list[str]) -> None:  # type: ignore[no-untyped-def]
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def test_rows_from_a_csv_plan_like_the_same_rows_inline(melange_catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = e1()
    rows = data.pop("measured")
    write_csv(tmp_path / "bench.csv", rows, ["hardware", "workload", "requests_per_s", "tp", "precision", "source"])
    (tmp_path / "s.json").write_text(json.dumps({**data, "measured_file": "bench.csv"}))
    loaded = planner.load_scenario(tmp_path / "s.json")
    assert loaded.measured_file is None and len(loaded.measured) == len(rows)  # merged, self-contained
    inline = planner.scenario_from_dict({**data, "measured": rows})
    assert loaded.measured == inline.measured
    assert usd_per_hour(planner.plan(loaded, catalog=melange_catalog)) == pytest.approx(5.69, rel=1e-6)
    # a dumped scenario validates again as it is (no file to re-read)
    assert planner.scenario_from_dict(loaded.model_dump(mode="json")) == loaded


@pytest.mark.parametrize(("csv_text", "words"), [
    ("hardware,workload,rps,source\na10g,x,1,s\n", "not one: column(s) 3 of line 1"),
    ("hardware,workload,requests_per_s,source\na10g,{c},fast,s\n", "line 2: requests_per_s: not a number"),
    ("hardware,workload,requests_per_s,source\na10g,{c},2,s\na10g,{c},0,s\n", "line 3: requests_per_s"),
    # a blank line and a quoted cell over two lines count (the line was once the record's number + 1)
    ("hardware,workload,requests_per_s,source\n\na10g,{c},2,\"two\nlines\"\na10g,{c},0,s\n", "line 5: requests_per_s"),
    ("hardware,workload,meets_slo,source\na10g,{c},maybe,s\n", "line 2: meets_slo: expected true or false"),
    ("hardware,workload,requests_per_s,source\na10g,{c},2,s,extra\n", "line 2: more cells than header columns"),
    ("hardware,workload,requests_per_s,source\nh200,{c},2,s\n", "'h200' is not in market.hardware"),
    ("hardware,workload,requests_per_s,source\n\"" + "a" * 200_000 + "\",{c},2,s\n", "line 2: not valid CSV"),
])
def test_bad_csv_rows_are_exit_2_naming_file_and_line(whatif, tmp_path, csv_text, words) -> None:  # type: ignore[no-untyped-def]
    data = e1()
    data.pop("measured")
    cls = data["workload"][0]["name"]
    (tmp_path / "bench.csv").write_text(csv_text.replace("{c}", cls))
    (tmp_path / "s.json").write_text(json.dumps({**data, "measured_file": "bench.csv"}))
    r = whatif("plan", str(tmp_path / "s.json"))
    assert r.code == 2, r.err
    assert words in r.err and "measured" in r.err and "Traceback" not in r.err


def test_a_missing_csv_is_exit_2(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "s.json").write_text(json.dumps({**e1(), "measured_file": "nowhere.csv"}))
    r = whatif("plan", str(tmp_path / "s.json"))
    assert r.code == 2 and "measured_file" in r.err and "nowhere.csv" in r.err


def test_measured_file_is_refused_by_the_bare_model() -> None:
    with pytest.raises(Exception, match="read when a scenario is loaded"):
        planner.Scenario.model_validate({**e1(), "measured_file": "bench.csv"})


def test_a_speculative_variant_is_modelled_not_measured(melange_catalog) -> None:  # type: ignore[no-untyped-def]
    """A measurement without a draft says nothing about decoding with one: that variant uses the roofline."""
    data = e1()
    data["model"] = {"base": "llama-3.1-70b"}
    data["techniques"]["speculative"] = ["none", "llama-3.1-8b-draft4"]
    data["technique_settings"] = {"speculative": {"drafts": [{"model": "llama-3.1-8b", "draft_tokens": [4]}]}}
    cs = planner.optimize.candidates.build_candidates(planner.scenario_from_dict(data), melange_catalog)
    measured = cs.deployments.measured
    spec = next(v.index for v in cs.variants if v.options["speculative"] != "none")
    assert measured.any() and not measured[cs.deployments.variant == spec].any()


def test_a_measured_capacity_is_not_capped_by_the_queueing_model() -> None:
    """Measured at the class's SLO, P99 targets included: 100 requests/s on replicas measured at 10 take
    10 H100s. It once took the replaced roofline row's ρ_max (that row missed the 30 ms mean TTFT):
    0.002, and the plan bought 4,953 H100s."""
    sc = planner.scenario_from_dict({
        "schema_version": 1, "name": "m", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 8_640_000, "input_tokens": 800, "output_tokens": 250,
                      "ttft_ms": 30, "ttft_p99_ms": 30, "tpot_ms": 100}],
        "horizon": {"months": 1, "period_months": 1, "peak_to_average": 1.0},
        "market": {"hardware": ["h100-sxm", "a100-80gb"], "modes": ["on-demand"]},
        "techniques": {t: ["none"] for t in ("quantization", "kv_quantization", "distillation", "caching", "moe")},
        "measured": [{"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 10, "source": "bench"},
                     {"hardware": "a100-80gb", "workload": "chat", "meets_slo": False, "source": "bench"}]})
    plan = planner.plan(sc)
    assert plan.status == "optimal", plan.message
    assert {f.hardware: f.gpus_in_service for f in plan.fleet} == {"h100-sxm": 10}


def test_the_estimator_view_says_what_was_measured() -> None:
    """A measured capacity shows no modelled batch and its latencies as at most the targets it was
    measured at; a hardware whose only row does not meet the SLO is refused as measured, not as a
    latency miss quoting the replaced roofline's (better) latencies."""
    from planner.insight.preview import preview
    from planner.report.render import preview_table

    sc = planner.scenario_from_dict({
        "schema_version": 1, "name": "m", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 8_640_000, "input_tokens": 800, "output_tokens": 250,
                      "ttft_ms": 300, "tpot_ms": 100}],
        "horizon": {"months": 1, "period_months": 1, "peak_to_average": 1.0},
        "market": {"hardware": ["h100-sxm", "a100-80gb"], "modes": ["on-demand"]},
        "techniques": {t: ["none"] for t in ("quantization", "kv_quantization", "distillation", "caching", "moe")},
        "measured": [{"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 10, "source": "bench"},
                     {"hardware": "a100-80gb", "workload": "chat", "meets_slo": False, "source": "bench"}]})
    view = preview(sc, planner.load_catalogs())
    row = next(r for r in view.rows if r.hardware == "h100-sxm")
    assert row.measured and row.bound == "measured" and row.gpus == 10  # 100 req/s at 10 per GPU
    assert (row.ttft_ms, row.tpot_ms) == (300.0, 100.0)
    miss = next(m for m in view.infeasible if m.hardware == "a100-80gb")
    assert miss.reason.startswith("measured:") and "misses the latency targets" not in miss.reason
    text = preview_table(view)
    assert "measured" in text and "≤300" in text
