"""Hand-checked behaviour of the scenario loader, the sweep specs and the field validators that a
mutation review found unchecked: ``--set`` values and field paths, the measurements CSV (merging,
empty cells, boolean spellings), sweep ranges and lists (exact points, malformed specs, bounds),
rounding of swept whole numbers, Monte Carlo draws, ``[buckets]`` classes and the boundaries of the
field validators (a valid value at a bound is accepted, one past it refused naming the field).
Every expected figure is written out with its arithmetic; nothing is copied from the code under test."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.errors import EXIT_BAD_INPUT, InputError, ScenarioError
from planner.scenario import sweep_spec
from planner.scenario.loading import apply_override
from planner.scenario.schema import Buckets, Distribution
from planner.scenario.sweep_spec import apply_point, check_paths, draw, grid, parse_spec, toml_literal


def chat(**over: Any) -> dict[str, Any]:
    """One request class: 500 prompt + 150 output tokens, 5e5 a day."""
    return {"name": "chat", "queries_per_day": 5e5, "input_tokens": 500, "output_tokens": 150,
            "ttft_ms": 1500, "tpot_ms": 60, **over}


def data(**over: Any) -> dict[str, Any]:
    """A small scenario as a dict: one class, 6 months in quarters, H100 only."""
    out: dict[str, Any] = {"schema_version": 1, "name": "hand", "model": {"base": "llama-3.1-8b"},
                           "workload": [chat()], "horizon": {"months": 6, "period_months": 3},
                           "market": {"hardware": ["h100-sxm"]}}
    out.update(over)
    return out


def scenario(**over: Any) -> planner.Scenario:
    return planner.scenario_from_dict(data(**over))


def refused(raw: dict[str, Any], base_dir: Path | str = ".") -> ScenarioError:
    """The error a scenario dict is refused with (exit 2, never a traceback)."""
    with pytest.raises(ScenarioError) as info:
        planner.scenario_from_dict(raw, base_dir=base_dir)
    assert info.value.exit_code == EXIT_BAD_INPUT
    return info.value


def as_json(sc: planner.Scenario) -> str:
    return sc.model_dump_json()


# --------------------------------------------------------------------------- --set and field paths


def test_a_set_value_is_read_without_the_spaces_around_it() -> None:
    """``PATH = VALUE`` with spaces: the bare string ``llama-3.1-70b`` (not TOML) is kept as typed,
    without the two leading spaces and the trailing one."""
    raw = data()
    apply_override(raw, "model.base =  llama-3.1-70b ")
    assert raw["model"]["base"] == "llama-3.1-70b"


def test_an_empty_element_name_is_addressed_by_its_index() -> None:
    """A class named "" is the second element: its path is ``workload[1]``, never ``workload[]``."""
    err = refused(data(workload=[chat(), chat(name="")]))
    assert err.field == "workload[1].name"


def test_a_bad_key_of_a_free_table_is_named_by_the_key() -> None:
    """``quota_gpus = {H100 = 8}``: the key breaks the slug pattern; the path is the key itself,
    without pydantic's ``[key]`` marker."""
    err = refused(data(market={"hardware": ["h100-sxm"], "quota_gpus": {"H100": 8}}))
    assert err.field == "market.quota_gpus.H100"
    assert "[key]" not in str(err)


def test_a_relative_model_path_is_rewritten_only_when_it_exists_next_to_the_scenario(tmp_path: Path) -> None:
    """``model.base = "cfg/config.json"`` in ``sc/s.json``: kept as written while ``sc/cfg/config.json``
    does not exist; once it does, the base is that file."""
    folder = tmp_path / "sc"
    folder.mkdir()
    path = folder / "s.json"
    path.write_text(json.dumps(data(model={"base": "cfg/config.json"})))
    assert planner.load_scenario(path).model.base == "cfg/config.json"
    (folder / "cfg").mkdir()
    (folder / "cfg" / "config.json").write_text("{}")
    assert planner.load_scenario(path).model.base == str(folder / "cfg" / "config.json")


# --------------------------------------------------------------------------- the measurements CSV


def measured_row(**over: Any) -> dict[str, Any]:
    return {"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 3.0, "source": "inline", **over}


def test_an_empty_measured_file_name_is_refused_as_such(tmp_path: Path) -> None:
    err = refused(data(measured_file=""), tmp_path)
    assert err.field == "measured_file"
    assert "must be the path of a CSV file" in str(err)


def test_csv_rows_are_appended_to_the_inline_rows(tmp_path: Path) -> None:
    """One inline row (TP1, 3 req/s) plus one CSV row (TP2, 2.5 req/s): two rows, inline first."""
    (tmp_path / "m.csv").write_text("hardware,workload,tp,requests_per_s,source\nh100-sxm,chat,2,2.5,csv\n")
    sc = planner.scenario_from_dict(data(measured=[measured_row()], measured_file="m.csv"), base_dir=tmp_path)
    assert [(m.tp, m.requests_per_s, m.source) for m in sc.measured] == [(1, 3.0, "inline"), (2, 2.5, "csv")]


def test_an_empty_csv_cell_is_an_absent_value(tmp_path: Path) -> None:
    """Both capacity columns in the header, each row filling one: row 1 gives 4 req/s, row 2 gives
    600 output tokens/s (the other cell empty, i.e. not given)."""
    (tmp_path / "m.csv").write_text("hardware,workload,tp,requests_per_s,output_tokens_per_s,source\n"
                                    "h100-sxm,chat,1,4,,a\nh100-sxm,chat,2,,600,b\n")
    sc = planner.scenario_from_dict(data(measured_file="m.csv"), base_dir=tmp_path)
    assert [(m.requests_per_s, m.output_tokens_per_s) for m in sc.measured] == [(4.0, None), (None, 600.0)]


def test_meets_slo_cells_are_spelled_any_case_and_as_yes_no_1_0(tmp_path: Path) -> None:
    """FALSE and 0 read as false (no capacity given); 1 and Yes read as true (with a capacity)."""
    (tmp_path / "m.csv").write_text("hardware,workload,tp,meets_slo,requests_per_s,source\n"
                                    "h100-sxm,chat,1,FALSE,,s\nh100-sxm,chat,2,0,,s\n"
                                    "h100-sxm,chat,4,1,2,s\nh100-sxm,chat,8,Yes,3,s\n")
    sc = planner.scenario_from_dict(data(measured_file="m.csv"), base_dir=tmp_path)
    assert [(m.tp, m.meets_slo) for m in sc.measured] == [(1, False), (2, False), (4, True), (8, True)]


# --------------------------------------------------------------------------- sweep specs


@pytest.mark.parametrize(("spec", "points"), [
    ("2..2:1", [2.0]),                 # one point where lo = hi
    ("3..3:2", [3.0, 3.0]),            # lo = hi is not "above its high end"
    ("10..20:3", [10.0, 15.0, 20.0]),  # step (20 - 10) / (3 - 1) = 5
])
def test_a_range_gives_exactly_its_points(spec: str, points: list[float]) -> None:
    assert parse_spec("p", spec) == points


@pytest.mark.parametrize("spec", ["1..2:3:4", "1..2:lin:3", "1..2:log:3:4"])
def test_a_malformed_range_is_refused(spec: str) -> None:
    """Only ``lo..hi:n`` and ``lo..hi:log:n``: a fourth part, or a middle part other than ``log``."""
    with pytest.raises(InputError, match="is not lo..hi:n or lo..hi:log:n") as info:
        parse_spec("p", spec)
    assert info.value.field == "--vary p"


def test_blank_list_items_are_skipped() -> None:
    """``1,,2,`` is the two values 1 and 2 (the empty items are no values)."""
    assert parse_spec("p", "1,,2,") == [1, 2]


def test_a_list_of_nothing_is_refused() -> None:
    with pytest.raises(InputError, match="has no values") as info:
        parse_spec("p", " , ")
    assert info.value.field == "--vary p"


def test_zipped_axes_of_unequal_lengths_are_refused() -> None:
    """Two values beside three cannot be paired."""
    with pytest.raises(InputError, match=r"--zip needs equal lengths, got \[2, 3\]") as info:
        grid({"a": "1,2", "b": "1,2,3"}, zipped=True)
    assert info.value.field == "--zip"


def test_a_grid_of_exactly_the_most_points_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the limit at 6: 2 x 3 = 6 points are accepted (in product order), 1 x 7 = 7 refused."""
    monkeypatch.setattr(sweep_spec, "MAX_GRID_POINTS", 6)
    points = grid({"a": "1,2", "b": "1..3:3"}, zipped=False)
    assert points == [{"a": a, "b": b} for a in (1, 2) for b in (1.0, 2.0, 3.0)]
    with pytest.raises(InputError, match="the grid has 7 points"):
        grid({"a": "1", "b": "1..7:7"}, zipped=False)


# --------------------------------------------------------------------------- Monte Carlo draws


def test_samples_are_at_least_one() -> None:
    u = {"market.price_scale": Distribution(dist="uniform", low=0.5, high=1.5)}
    with pytest.raises(InputError, match=r"must be in \[1, 1000000\], got 0") as info:
        draw(u, 0, 1)
    assert info.value.field == "--samples"
    assert len(draw(u, 1, 1)) == 1


def test_lognormal_draws_have_the_stated_median_and_log_sigma() -> None:
    """lognormal(median 100, sigma 0.5): ln(draw) ~ normal(ln 100, 0.5).  Over 4,000 draws the sample
    sd of ln(draw) has standard error 0.5 / sqrt(2 x 4000) = 0.0056, so it lies in 0.5 +- 0.03; the
    sample median of ln(draw) has standard error 1.2533 x 0.5 / sqrt(4000) = 0.0099, so it lies in
    ln(100) +- 0.05.  (A sigma of 0.25 gives an sd near 0.25.)"""
    u = {"workload.chat.queries_per_day": Distribution(dist="lognormal", median=100.0, sigma=0.5)}
    logs = [math.log(p["workload.chat.queries_per_day"]) for p in draw(u, 4000, 7)]
    assert statistics.stdev(logs) == pytest.approx(0.5, abs=0.03)
    assert statistics.median(logs) == pytest.approx(math.log(100.0), abs=0.05)


@pytest.mark.parametrize(("params", "words"), [
    ({"dist": "uniform", "low": 1.0, "high": 1.0}, "low (1.0) must be below high (1.0)"),
    ({"dist": "normal", "mean": 2.0, "sd": 0.1, "low": 0.5, "high": 1.5}, "mean must lie between low and high"),
])
def test_a_distribution_without_room_is_refused_naming_its_path(params: dict[str, Any], words: str) -> None:
    err = refused(data(uncertainty={"market.price_scale": params}))
    assert err.field == "uncertainty.market.price_scale"
    assert words in str(err)


@pytest.mark.parametrize("mode", [0.5, 1.5])
def test_a_triangular_mode_at_either_bound_is_accepted(mode: float) -> None:
    """low <= mode <= high: a mode at low (0.5) or at high (1.5) is a valid triangle."""
    sc = scenario(uncertainty={"market.price_scale": {"dist": "triangular", "low": 0.5, "mode": mode, "high": 1.5}})
    assert sc.uncertainty["market.price_scale"].mode == mode


def test_monte_carlo_checks_only_the_first_draw_before_any_work() -> None:
    """check_paths: a grid's values are each checked up front; a Monte Carlo run checks only its first
    point (a later bad draw becomes an error row).  Point 2's price_scale of -1 is invalid alone."""
    sc = scenario()
    points = [{"market.price_scale": 1.0}, {"market.price_scale": -1.0}]
    check_paths(sc, points, "uncertainty")  # no error
    with pytest.raises(InputError, match="market.price_scale = -1.0 is not a valid value"):
        check_paths(sc, points, "--vary")


def test_each_axis_value_is_checked_up_to_the_most_checked_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the limit at 2: two distinct values (1.0 valid, -1.0 not) are still checked one by one, so
    the bad second value is refused before any work; three distinct values are beyond the limit."""
    monkeypatch.setattr(sweep_spec, "MAX_CHECKED_VALUES", 2)
    sc = scenario()
    with pytest.raises(InputError, match="-1.0 is not a valid value"):
        check_paths(sc, [{"market.price_scale": 1.0}, {"market.price_scale": -1.0}])
    check_paths(sc, [{"market.price_scale": v} for v in (1.0, 1.1, -1.0)])  # only the first point is checked


# --------------------------------------------------------------------------- applying a point


def test_false_is_written_as_false() -> None:
    """A boolean swept to false on a scenario where it is true reads back false."""
    assert toml_literal(False) == "false" and toml_literal(True) == "true"
    sc = scenario(plan={"pooled_capacity": True})
    assert apply_point(as_json(sc), {"plan.pooled_capacity": False}).plan.pooled_capacity is False


@pytest.mark.parametrize(("value", "tokens"), [(400.7, 401), (400.2, 400), (399.6, 400)])
def test_a_float_on_a_whole_number_field_is_rounded_to_the_nearest(value: float, tokens: int) -> None:
    """400.7 -> 401 and 399.6 -> 400 (nearest, not truncated); 400.2 -> 400."""
    point = apply_point(as_json(scenario()), {"workload.chat.input_tokens": value})
    assert point.workload[0].input_tokens == tokens


def test_a_new_lead_time_key_is_a_whole_number() -> None:
    """``market.lead_time_months.buy`` is not set (no value to read its type from): its table holds
    whole numbers, so 2.0 (from a range) becomes 2 months (< the 6-month horizon)."""
    sc = scenario(market={"hardware": ["h100-sxm"], "modes": ["on-demand", "buy"]})
    assert sc.market.lead_time_months == {}
    point = apply_point(as_json(sc), {"market.lead_time_months.buy": 2.0})
    assert point.market.lead_time_months == {"buy": 2}
    assert type(point.market.lead_time_months["buy"]) is int


# --------------------------------------------------------------------------- [buckets]


def buckets(**over: Any) -> dict[str, Any]:
    """Input ranges 1-25 and 26-100, one output range 1-50; shares 0.25 and 0.75 of 2 requests/s."""
    return {"input_edges": [1, 25, 100], "output_edges": [1, 50], "shares": [[0.25], [0.75]],
            "total_rate_rps": 2.0, "ttft_ms": 1000, "tpot_ms": 100, **over}


def test_bucket_classes_are_named_by_their_ranges_at_their_upper_bounds() -> None:
    """Ranges 1-25 and 26-100 (the second starts one past the first's edge); tokens at the upper
    bound (25 and 100 in, 50 out); volume share x 2 req/s x 86,400 s: 0.25 -> 43,200 and
    0.75 -> 129,600 a day."""
    classes = Buckets.model_validate(buckets()).classes()
    assert [(c["name"], c["input_tokens"], c["output_tokens"]) for c in classes] == [
        ("in1-25-out1-50", 25, 50), ("in26-100-out1-50", 100, 50)]
    assert [c["queries_per_day"] for c in classes] == pytest.approx([43_200.0, 129_600.0])


def test_bucket_edges_must_increase_strictly() -> None:
    """[1, 100, 100]: the second range would be 101-100."""
    raw = data(buckets=buckets(input_edges=[1, 100, 100]))
    del raw["workload"]
    err = refused(raw)
    assert err.field == "buckets" and "input_edges must increase strictly" in str(err)


def test_buckets_beside_other_workload_classes_are_refused() -> None:
    """[buckets] defines the classes in1-25-out1-50 and in26-100-out1-50; a [[workload]] chat beside it
    is not those classes."""
    assert "not both" in str(refused(data(buckets=buckets())))


# --------------------------------------------------------------------------- field validators at their bounds


def test_an_hour_of_zero_load_is_a_valid_weight() -> None:
    """Weights are relative loads in [0, 1e6]: 8 night hours of 0, 16 day hours of 1."""
    sc = scenario(workload=[chat(profile=[0.0] * 8 + [1.0] * 16)])
    assert sc.workload[0].profile == [0.0] * 8 + [1.0] * 16


def test_a_shape_name_of_64_characters_is_accepted_and_65_refused() -> None:
    assert scenario(workload=[chat(profile="a" * 64)]).workload[0].profile == "a" * 64
    assert refused(data(workload=[chat(profile="a" * 65)])).field == "workload[chat].profile"


def test_a_prefix_as_long_as_the_prompt_is_accepted() -> None:
    """shared_prefix_tokens = input_tokens = 500: the whole prompt shared; 501 exceeds it."""
    assert scenario(workload=[chat(shared_prefix_tokens=500)]).workload[0].shared_prefix_tokens == 500
    assert "exceeds input_tokens" in str(refused(data(workload=[chat(shared_prefix_tokens=501)])))


def test_a_profile_and_a_peak_to_average_are_two_load_shapes() -> None:
    raw = data(workload=[chat(profile=[1.0] * 24)], horizon={"months": 6, "period_months": 3, "peak_to_average": 1.5})
    assert "give one load shape, not both" in str(refused(raw))


def test_schema_version_true_is_not_the_integer_1() -> None:
    """TOML ``schema_version = true``: a boolean, refused though True == 1 in Python."""
    err = refused(data(schema_version=True))
    assert err.field == "schema_version" and "must be the integer 1" in str(err)


def test_a_training_cost_and_training_tokens_are_refused_together() -> None:
    err = refused(data(model={"base": "llama-3.1-8b", "training_cost_usd": 1e6, "training_tokens": 1e12}))
    assert err.field == "model" and "not both" in str(err)


# --------------------------------------------------------------------------- defects the mutation pass found


@pytest.mark.parametrize(("path", "value", "read"), [
    ("plan.split_granularity", 2.6, lambda sc: sc.plan.split_granularity),
    ("solver.node_limit", 1999.5, lambda sc: sc.solver.node_limit),
    ("solver.threads", 1.2, lambda sc: sc.solver.threads),
])
def test_a_range_on_an_unset_whole_number_field_is_rounded(path: str, value: float, read: Any) -> None:
    """These fields are ``int | None`` and unset (None), so the value they hold gives no type to round
    to; their declared type does: 2.6 -> 3, 1999.5 -> 2000 (round half to even), 1.2 -> 1.  They were
    refused ("Input should be a valid integer"), while the list form ``1,2,3,4`` ran."""
    sc = scenario()
    assert read(sc) is None
    assert read(apply_point(as_json(sc), {path: value})) == round(value)


def test_a_range_over_an_unset_whole_number_field_runs_from_the_command_line() -> None:
    """``--vary plan.split_granularity=1..4:4`` gives the four points 1, 2, 3 and 4, each checked."""
    sc = scenario()
    points = grid({"plan.split_granularity": "1..4:4"}, zipped=False)
    check_paths(sc, points)
    assert [apply_point(as_json(sc), p).plan.split_granularity for p in points] == [1, 2, 3, 4]


def test_a_fraction_of_a_free_key_table_is_not_rounded() -> None:
    """``market.reserved_discount`` holds fractions per term: 0.4 stays 0.4 (not the whole number 0)."""
    point = apply_point(as_json(scenario()), {"market.reserved_discount.reserved-1y": 0.4})
    assert point.market.reserved_discount["reserved-1y"] == 0.4


@pytest.mark.parametrize(("spec", "values"), [
    ('"../x/config.json","llama-3.1-8b"', ["../x/config.json", "llama-3.1-8b"]),
    ('"../models/tiny/config.json"', ["../models/tiny/config.json"]),
])
def test_a_list_item_holding_two_dots_is_a_list_not_a_range(spec: str, values: list[str]) -> None:
    """A spec with a comma, or one starting with a quote, is a list: a relative model path holds ``..``."""
    assert parse_spec("model.base", spec) == values


@pytest.mark.parametrize("spec", ["1..5:1", "1..5:log:1"])
def test_one_point_cannot_span_two_different_ends(spec: str) -> None:
    """``lo..hi:n`` is n values from lo to hi, both included: one value cannot be both 1 and 5 (it was
    [1.0], the high end silently dropped)."""
    with pytest.raises(InputError, match="one point cannot span 1..5"):
        parse_spec("market.price_scale", spec)


def test_a_measured_table_written_for_rows_is_refused_beside_a_csv(tmp_path: Path) -> None:
    """``[measured]`` (one table) where ``[[measured]]`` (rows) is meant: refused as without a CSV, not
    dropped in favour of the CSV's rows."""
    (tmp_path / "m.csv").write_text("hardware,workload,requests_per_s,source\nh100-sxm,chat,2.5,csv\n")
    err = refused(data(measured=measured_row(), measured_file="m.csv"), tmp_path)
    assert err.field == "measured"
    assert "[[measured]]" in str(err)
