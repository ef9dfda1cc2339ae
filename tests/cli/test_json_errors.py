"""Failures under ``--format json``: one JSON object per problem on stderr (``planner/cli/failures.py``).

The contract: the same exit code and nothing on stdout, as in every other format; each stderr line is a
JSON object of kind ``error`` whose ``message`` is, character for character, the line the text form
prints, and whose ``field`` and ``reason`` are that line's two parts.  (On Ctrl-C, click first writes an
empty line to end the terminal's ``^C``; it is the one line that is not a record.)
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from planner.cli import app
from planner.cli.failures import ERROR_KINDS, wants_json
from tests.conftest import CliResult

CORPUS = Path(__file__).parent.parent / "corpus"
VALID = CORPUS / "valid.toml"

Run = Callable[..., CliResult]


def records(result: CliResult) -> list[dict[str, Any]]:
    """Every non-empty stderr line parsed as JSON (a line that is not JSON fails the test here).  On Ctrl-C
    click first ends the terminal's ``^C`` line with an empty one."""
    lines = [line for line in result.err.splitlines() if line]
    assert lines, "stderr is empty"
    parsed = [json.loads(line) for line in lines]
    for record in parsed:
        assert list(record)[:2] == ["schema_version", "kind"] and record["kind"] == "error", record
        assert record["error"] in ERROR_KINDS and record["exit_code"] == result.code, record
    return parsed


def _accepts_json(args: list[str]) -> bool:
    """Whether the command ``args`` name (a group's sub-command too) has ``--format`` with a ``json`` choice."""
    command: click.Command = app.cli
    ctx = click.Context(app.cli)
    for arg in args:
        if not isinstance(command, click.Group) or arg.startswith("-"):
            break
        found = command.get_command(ctx, arg)
        if found is None:
            return False
        command = found
    return any(isinstance(p, click.Option) and "--format" in p.opts and isinstance(p.type, click.Choice)
               and "json" in p.type.choices for p in command.params)


def _one_case_per_kind() -> list[Any]:
    """The first corpus case of each kind whose command takes ``--format json`` (no FIFO or socket set-up)."""
    cases = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]
    chosen: dict[str, dict[str, Any]] = {}
    for case in cases:
        if case["kind"] in chosen or "setup" in case or "xfail" in case or "--format" in case["args"]:
            continue
        if _accepts_json(case["args"]):
            chosen[case["kind"]] = case
    return [pytest.param(case, id=case["id"]) for case in chosen.values()]


def _expand(args: list[str], tmp: Path) -> list[str]:
    return [a.replace("{corpus}", str(CORPUS)).replace("{tmp}", str(tmp)) for a in args]


@pytest.mark.parametrize("case", _one_case_per_kind())
def test_a_corpus_case_fails_the_same_way_in_json(whatif: Run, case: dict[str, Any], tmp_path: Path) -> None:
    """The text run's stderr lines are exactly the JSON run's ``message`` fields, with the same exit code and
    an empty stdout; where the line is ``whatif: error: <field>: <reason>`` of an input field, the record's
    ``field`` and ``reason`` are those two parts."""
    args = _expand(case["args"], tmp_path)
    text = whatif(*args)
    as_json = whatif(*args, "--format", "json")
    assert as_json.code == text.code == case["exit"]
    assert as_json.out == "" and text.out == ""
    parsed = records(as_json)
    assert [r["message"] for r in parsed] == text.err.splitlines()
    for r in parsed:
        if r["field"] and not r["field"].startswith("-"):
            assert r["message"] == f"whatif: error: {r['field']}: {r['reason']}"


def test_the_corpus_sample_spans_the_kinds() -> None:
    """Most kinds have a case whose command takes ``--format json`` (the overlay kinds run ``--catalog`` first,
    which the sample's command walk does not resolve); a sample of a handful would test little."""
    assert len(_one_case_per_kind()) >= 20


def test_each_problem_of_a_scenario_is_its_own_record(whatif: Run, tmp_path: Path) -> None:
    """Two bad fields in one file are two records, each with its own field path and reason."""
    bad = tmp_path / "two.toml"
    bad.write_text(VALID.read_text(encoding="utf-8").replace("ttft_ms = ", "ttft_ms = -").replace(
        "tpot_ms = ", "tpot_ms = -"), encoding="utf-8")
    result = whatif("plan", str(bad), "--format", "json")
    parsed = records(result)
    assert result.code == 2 and result.out == ""
    assert [r["field"].rsplit(".", 1)[-1] for r in parsed] == ["ttft_ms", "tpot_ms"]
    assert [r["reason"] for r in parsed] == ["Input should be greater than or equal to 1",
                                             "Input should be greater than or equal to 0.1"]


def test_a_usage_error_names_the_option(whatif: Run) -> None:
    """A missing option is a usage error: ``field`` is the option, ``reason`` click's sentence."""
    result = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--format=json")
    [record] = records(result)
    assert result.code == 2 and result.out == ""
    assert record["error"] == "bad-input" and record["field"] == "--input-tokens"
    assert record["reason"] == "Missing option '--input-tokens'."


@pytest.mark.parametrize(("args", "option"), [(["-o"], "-o"), (["--bogus"], "--bogus")])
def test_an_option_without_its_value_or_unknown_is_the_field(whatif: Run, args: list[str], option: str) -> None:
    """Click raises these without a parameter (``BadOptionUsage``, ``NoSuchOption``): the record's
    ``field`` is the option as typed, as for every usage error (it was "")."""
    [record] = records(whatif("plan", "--format", "json", *args))
    assert record["error"] == "bad-input" and record["field"] == option and record["exit_code"] == 2


def test_an_unknown_slug_keeps_its_suggestion(whatif: Run) -> None:
    """``h100`` is not a hardware slug; the reason still suggests ``h100-sxm`` first."""
    result = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100", "--input-tokens", "100",
                    "--output-tokens", "10", "--format", "json")
    [record] = records(result)
    assert result.code == 2 and record["field"] == "hardware"
    assert record["reason"].startswith("unknown hardware 'h100'; did you mean 'h100-sxm'")


@pytest.mark.parametrize(("raised", "kind", "code"), [(RuntimeError("boom"), "internal", 1),
                                                      (KeyboardInterrupt(), "interrupted", 130)])
def test_internal_errors_and_interruptions_are_records_too(whatif: Run, monkeypatch: pytest.MonkeyPatch,
                                                           raised: BaseException, kind: str, code: int) -> None:
    """A failure that is not bad input keeps its exit code (1, 130) and says which it was."""
    import planner.api

    def fail(*_args: Any, **_kwargs: Any) -> None:
        raise raised

    monkeypatch.setattr(planner.api, "plan", fail)
    result = whatif("plan", str(VALID), "--format", "json")
    [record] = records(result)
    assert result.code == code and result.out == "" and record["error"] == kind
    text = whatif("plan", str(VALID))
    assert [line for line in text.err.splitlines() if line] == [record["message"]]


@pytest.mark.parametrize(("argv", "expected"), [
    (["plan", "s.toml", "--format", "json"], True),
    (["plan", "--format=json", "s.toml"], True),
    (["plan", "s.toml", "--format", "table"], False),
    (["plan", "s.toml", "--format"], False),
    (["plan", "--", "--format", "json"], False),
    (["plan", "s.toml"], False),
])
def test_the_format_is_read_from_the_raw_arguments(argv: list[str], expected: bool) -> None:
    """Before ``--`` only, ``--format json`` or ``--format=json``; a dangling ``--format`` asks for nothing."""
    assert wants_json(argv) is expected


def test_a_reason_over_two_lines_keeps_its_field_on_the_first(whatif: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """``plan.x: first`` then ``second``: the first record carries the field and its reason without the
    field's prefix; the second line belongs to no field."""
    import planner.api
    from planner.errors import InputError

    def fail(*_args: Any, **_kwargs: Any) -> None:
        raise InputError("first\nsecond", "plan.x")

    monkeypatch.setattr(planner.api, "plan", fail)
    result = whatif("plan", str(VALID), "--format", "json")
    assert [(r["field"], r["reason"], r["message"]) for r in records(result)] == [
        ("plan.x", "first", "whatif: error: plan.x: first"), ("", "second", "whatif: error: second")]
