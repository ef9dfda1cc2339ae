"""Scenario files: reading (TOML/JSON), ``--set`` overrides, validation and error messages.

Every bad input must raise a :class:`planner.ScenarioError` (a :class:`planner.PlannerError`)
whose ``str()`` names the field path, with array tables addressed by their ``name``
(``workload[chat].ttft_ms``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

import planner
from planner.errors import EXIT_BAD_INPUT, InputError, PlannerError, ScenarioError
from planner.scenario.loading import MAX_REPORTED_ERRORS, apply_override, parse_value, read_document, scenario_from_dict

# A small self-contained scenario: two request classes so errors must name the right one.
VALID = """\
schema_version = 1
name = "unit-test"

[model]
base = "llama-3.1-8b"

[[workload]]
name = "chat"
queries_per_day = 2e6
input_tokens = 800
output_tokens = 250
ttft_ms = 800
tpot_ms = 60

[[workload]]
name = "batch"
queries_per_day = 1e5
input_tokens = 4000
output_tokens = 300
ttft_ms = 3000
tpot_ms = 80

[horizon]
months = 36
period_months = 3
"""


def variant(old: str, new: str) -> str:
    """VALID with exactly one occurrence of ``old`` replaced by ``new``."""
    assert VALID.count(old) == 1, f"test bug: {old!r} must occur exactly once"
    return VALID.replace(old, new)


def write(tmp_path: Path, text: str | bytes, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(path, overrides)
    err = info.value
    assert isinstance(err, PlannerError) and isinstance(err, InputError)
    assert err.exit_code == EXIT_BAD_INPUT
    assert "Traceback" not in str(err)
    return err


# --------------------------------------------------------------------------- loading


def test_demo_scenario_loads() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path())
    assert isinstance(sc, planner.Scenario)
    assert sc.schema_version == 1
    assert sc.name == "support-assistant"
    assert [w.name for w in sc.workload] == ["chat", "summarise"]
    assert sc.horizon.months % sc.horizon.period_months == 0


def test_valid_fixture_loads(tmp_path: Path) -> None:
    sc = planner.load_scenario(write(tmp_path, VALID))
    assert [w.name for w in sc.workload] == ["chat", "batch"]
    chat = sc.workload[0]
    assert (chat.queries_per_day, chat.input_tokens, chat.output_tokens) == (2e6, 800, 250)
    assert (chat.ttft_ms, chat.tpot_ms, chat.shared_prefix_tokens, chat.repeat_rate) == (800, 60, 0, 0.0)
    assert sc.market.modes == ["on-demand"]  # defaults fill what the file leaves out


def test_json_scenario_loads_like_toml(tmp_path: Path) -> None:
    data = tomllib.loads(VALID)
    from_json = planner.load_scenario(write(tmp_path, json.dumps(data), "scenario.json"))
    from_toml = planner.load_scenario(write(tmp_path, VALID))
    assert from_json == from_toml


def test_json_suffix_is_case_insensitive(tmp_path: Path) -> None:
    sc = planner.load_scenario(write(tmp_path, json.dumps(tomllib.loads(VALID)), "SCENARIO.JSON"))
    assert sc.name == "unit-test"


def test_scenario_is_frozen() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path())
    with pytest.raises(ValidationError, match="frozen"):
        sc.workload[0].ttft_ms = 1.0  # type: ignore[misc]


# --------------------------------------------------------------------------- overrides


def test_override_changes_only_the_named_class() -> None:
    demo = planner.demo_scenario_path()
    before = planner.load_scenario(demo)
    after = planner.load_scenario(demo, ["workload.chat.queries_per_day=5e6"])
    assert before.workload[0].queries_per_day != 5e6
    assert after.workload[0].name == "chat"
    assert after.workload[0].queries_per_day == 5e6
    # every other field of chat, the other class, and the rest of the scenario are untouched
    assert after.workload[0].model_copy(update={"queries_per_day": before.workload[0].queries_per_day}) == before.workload[0]
    assert after.workload[1] == before.workload[1]
    assert after.model_copy(update={"workload": before.workload}) == before


def test_override_second_class_by_name() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path(), ["workload.summarise.ttft_ms=1234"])
    assert sc.workload[1].ttft_ms == 1234
    assert sc.workload[0].ttft_ms == 800


def test_override_horizon_months() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=24"])
    assert sc.horizon.months == 24
    assert sc.horizon.period_months == 3


def test_override_does_not_touch_the_file() -> None:
    demo = planner.demo_scenario_path()
    text = demo.read_text(encoding="utf-8")
    planner.load_scenario(demo, ["horizon.months=24"])
    assert demo.read_text(encoding="utf-8") == text
    assert planner.load_scenario(demo).horizon.months == 36


def test_overrides_apply_in_order_last_wins() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12", "horizon.months=24"])
    assert sc.horizon.months == 24


def test_override_unknown_class_names_the_available_ones() -> None:
    err = load_error(planner.demo_scenario_path(), ("workload.chta.ttft_ms=500",))
    text = str(err)
    assert "chta" in text
    assert "chat" in text and "summarise" in text
    assert err.field.startswith("--set") and "workload" in err.field


def test_override_class_by_index_is_not_a_name() -> None:
    err = load_error(planner.demo_scenario_path(), ("workload.0.ttft_ms=500",))
    assert "no element named '0'" in str(err)


def test_non_toml_value_is_taken_as_a_string() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path(), ["model.base=llama-3.1-8b"])
    assert sc.model.base == "llama-3.1-8b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5e6", 5e6),
        ("24", 24),
        ("true", True),
        ('"quoted text"', "quoted text"),
        ('["h100-sxm", "h200"]', ["h100-sxm", "h200"]),
        ("llama-3.1-8b", "llama-3.1-8b"),
        ("path/to/config.json", "path/to/config.json"),
        ("", ""),
    ],
)
def test_parse_value(text: str, expected: object) -> None:
    value = parse_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_override_value_may_contain_equals_sign() -> None:
    data = tomllib.loads(VALID)
    apply_override(data, "model.base=a=b")
    assert data["model"]["base"] == "a=b"


def test_override_list_value() -> None:
    sc = planner.load_scenario(planner.demo_scenario_path(), ['market.hardware=["h100-sxm"]'])
    assert sc.market.hardware == ["h100-sxm"]


def test_override_string_for_number_is_a_validation_error() -> None:
    err = load_error(planner.demo_scenario_path(), ("workload.chat.ttft_ms=abc",))
    assert str(err).startswith("workload[chat].ttft_ms: ")


def test_override_nan_is_refused() -> None:
    err = load_error(planner.demo_scenario_path(), ("workload.chat.ttft_ms=nan",))
    assert str(err).startswith("workload[chat].ttft_ms: ")
    assert "finite" in str(err)


def test_override_unknown_key_is_reported_as_typo() -> None:
    err = load_error(planner.demo_scenario_path(), ("horizon.monthz=3",))
    assert str(err) == "horizon.monthz: unknown key (typo?); did you mean 'months'?"


@pytest.mark.parametrize(("override", "message"), [
    ("workload.chat.queries_per_dya=1", "workload[chat].queries_per_dya: unknown key (typo?); "
                                        "did you mean 'queries_per_day'?"),
    ("workload.chat.tpot_msec=1", "workload[chat].tpot_msec: unknown key (typo?); did you mean 'tpot_ms'?"),
    ("market.quota=1", "market.quota: unknown key (typo?); did you mean 'quota_gpus'?"),  # a truncation
    ("plan.zzz=1", "plan.zzz: unknown key (typo?)"),  # nothing close: no suggestion
    ("zzz=1", "zzz: unknown key (typo?)"),
])
def test_an_unknown_key_suggests_the_close_keys_of_its_own_table(override: str, message: str) -> None:
    """The suggestions come from the table the key is in (a workload's keys inside ``[[workload]]``,
    the market's inside ``[market]``), never from another table's."""
    assert str(load_error(planner.demo_scenario_path(), (override,))) == message


@pytest.mark.parametrize(
    ("assignment", "fragment"),
    [
        ("horizon.months", "expected PATH=VALUE"),
        ("=3", "empty path segment"),
        ("horizon..months=3", "empty path segment"),
        ("workload.chat=3", "cannot replace a whole array element"),
        ("name.x=3", "'name' is a value, not a table"),
    ],
)
def test_malformed_override(assignment: str, fragment: str) -> None:
    err = load_error(planner.demo_scenario_path(), (assignment,))
    assert fragment in str(err)
    assert err.field.startswith("--set")


def test_scenario_from_dict_applies_overrides_without_mutating_input() -> None:
    data = tomllib.loads(VALID)
    snapshot = json.dumps(data, sort_keys=True)
    sc = scenario_from_dict(data, ["workload.batch.output_tokens=7"])
    assert sc.workload[1].output_tokens == 7
    assert json.dumps(data, sort_keys=True) == snapshot


# --------------------------------------------------------------------------- validation errors

BAD_FIELDS = [
    # id, old, new, error text must start with, reason fragment
    ("typo-key", "ttft_ms = 800", "ttft_msx = 800", "workload[chat].ttft_msx", "unknown key"),
    ("string-for-number", "queries_per_day = 2e6", 'queries_per_day = "2e6"', "workload[chat].queries_per_day",
     "valid number"),
    ("nan", "ttft_ms = 800", "ttft_ms = nan", "workload[chat].ttft_ms", "finite"),
    ("inf", "tpot_ms = 80", "tpot_ms = inf", "workload[batch].tpot_ms", "finite"),
    ("minus-inf", "queries_per_day = 1e5", "queries_per_day = -inf", "workload[batch].queries_per_day", "finite"),
    ("negative-qpd", "queries_per_day = 2e6", "queries_per_day = -2e6", "workload[chat].queries_per_day",
     "greater than 0"),
    ("zero-qpd", "queries_per_day = 2e6", "queries_per_day = 0", "workload[chat].queries_per_day", "greater than 0"),
    ("zero-output", "output_tokens = 300", "output_tokens = 0", "workload[batch].output_tokens",
     "greater than or equal to 1"),
    ("huge-qpd", "queries_per_day = 2e6", "queries_per_day = 1e30", "workload[chat].queries_per_day",
     "less than or equal to"),
    ("tiny-tpot", "tpot_ms = 60", "tpot_ms = 0.001", "workload[chat].tpot_ms", "greater than or equal to 0.1"),
    ("float-for-int", "input_tokens = 800", "input_tokens = 800.5", "workload[chat].input_tokens", "integer"),
    ("bool-for-number", "ttft_ms = 3000", "ttft_ms = true", "workload[batch].ttft_ms", "valid number"),
    ("bad-name", 'name = "batch"', 'name = "Batch Jobs"', "workload[Batch Jobs].name", "pattern"),
    ("prefix-exceeds-prompt", "input_tokens = 800", "input_tokens = 800\nshared_prefix_tokens = 900",
     "workload[chat]", "shared_prefix_tokens (900) exceeds input_tokens (800)"),
    ("period-not-dividing", "period_months = 3", "period_months = 5", "horizon", "must divide months"),
    ("months-zero", "months = 36", "months = 0", "horizon.months", "greater than or equal to 1"),
    ("schema-version", "schema_version = 1", "schema_version = 2", "schema_version", "1"),
    ("missing-model", '[model]\nbase = "llama-3.1-8b"\n', "", "model", "required field missing"),
    ("unknown-top-level", 'name = "unit-test"', 'name = "unit-test"\nnmae = "x"', "nmae", "unknown key"),
]


@pytest.mark.parametrize(("old", "new", "field", "reason"), [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS])
def test_bad_field_names_its_path(tmp_path: Path, old: str, new: str, field: str, reason: str) -> None:
    err = load_error(write(tmp_path, variant(old, new)))
    lines = str(err).splitlines()
    assert any(line.startswith(f"{field}: ") and reason in line for line in lines), str(err)


def test_typo_key_also_reports_the_missing_field(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, variant("ttft_ms = 800", "ttft_msx = 800")))
    lines = str(err).splitlines()
    assert "workload[chat].ttft_msx: unknown key (typo?); did you mean 'ttft_ms'?" in lines
    assert "workload[chat].ttft_ms: required field missing" in lines
    assert not any("batch" in line for line in lines)


def test_empty_workload_list(tmp_path: Path) -> None:
    text = 'name = "x"\nworkload = []\n\n[model]\nbase = "llama-3.1-8b"\n'
    err = load_error(write(tmp_path, text))
    assert str(err).startswith("workload: ")
    assert "at least 1" in str(err)


def test_duplicate_workload_names(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, variant('name = "batch"', 'name = "chat"')))
    assert "duplicate workload names: ['chat']" in str(err)


def test_errors_in_array_of_tables_use_the_element_name(tmp_path: Path) -> None:
    text = variant("output_tokens = 300", "output_tokens = -3")
    err = load_error(write(tmp_path, text))
    assert str(err).startswith("workload[batch].output_tokens: ")
    assert "workload[1]" not in str(err)
    assert err.field == "workload[batch].output_tokens"


def test_element_without_a_name_is_addressed_by_index(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, variant('name = "batch"\n', "")))
    assert str(err) == "workload[1].name: required field missing"


def test_non_string_name_is_not_mistaken_for_an_index(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, variant('name = "batch"', "name = 0")))
    assert str(err).startswith("workload[1].name: "), str(err)


def test_several_errors_one_line_each_with_its_path(tmp_path: Path) -> None:
    text = variant("tpot_ms = 60", "tpot_ms = -1").replace("months = 36", "months = 0")
    err = load_error(write(tmp_path, text))
    lines = str(err).splitlines()
    assert len(lines) == 2
    assert any(line.startswith("workload[chat].tpot_ms: ") for line in lines)
    assert any(line.startswith("horizon.months: ") for line in lines)


def test_number_of_reported_errors_is_bounded(tmp_path: Path) -> None:
    extra = "\n".join(f"bogus_{i} = 1" for i in range(MAX_REPORTED_ERRORS + 5))
    err = load_error(write(tmp_path, variant('name = "unit-test"', f'name = "unit-test"\n{extra}')))
    lines = str(err).splitlines()
    assert len(lines) == MAX_REPORTED_ERRORS + 1
    assert lines[-1] == "... and 5 more problem(s)"


# --------------------------------------------------------------------------- bad files


def test_file_that_is_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "this is = not [toml\n")
    err = load_error(path)
    assert err.field == str(path)
    assert "not valid TOML" in str(err)
    assert "line 1" in str(err)


def test_json_with_duplicate_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '{"name": "a", "name": "b"}', "scenario.json")
    err = load_error(path)
    assert err.field == str(path)
    assert "duplicate key 'name'" in str(err)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_with_non_finite_constant(tmp_path: Path, constant: str) -> None:
    data = tomllib.loads(VALID)
    text = json.dumps(data).replace('"ttft_ms": 800', f'"ttft_ms": {constant}')
    assert constant in text
    path = write(tmp_path, text, "scenario.json")
    err = load_error(path)
    assert err.field == str(path)
    assert "not valid JSON" in str(err) and constant in str(err)


def test_json_overflowing_number_is_refused(tmp_path: Path) -> None:
    text = json.dumps(tomllib.loads(VALID)).replace('"ttft_ms": 800', '"ttft_ms": 1e400')
    err = load_error(write(tmp_path, text, "scenario.json"))
    assert str(err).startswith("workload[chat].ttft_ms: ")


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, "[1, 2]", "scenario.json"))
    assert "JSON object" in str(err)


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    err = load_error(tmp_path)
    assert err.field == str(tmp_path)
    assert "is a directory" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    err = load_error(path)
    assert err.field == str(path)
    assert "not found" in str(err)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, b'name = "caf\xe9"\n')
    err = load_error(path)
    assert err.field == str(path)
    assert "UTF-8" in str(err)


def test_unknown_schema_version(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, variant("schema_version = 1", "schema_version = 99")))
    assert err.field == "schema_version"
    assert str(err).startswith("schema_version: ")


def test_read_document_returns_plain_dict(tmp_path: Path) -> None:
    data = read_document(write(tmp_path, VALID))
    assert data["workload"][1]["name"] == "batch"
    assert data["horizon"] == {"months": 36, "period_months": 3}
