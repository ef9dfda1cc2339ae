"""``-`` reads a scenario from standard input (bounded like a file), and a TOML key or table defined
twice is named with its line."""

from __future__ import annotations

import io
import json
import sys
import tomllib
from pathlib import Path

import pytest

from planner.errors import ScenarioError
from planner.inputs import toml_error
from planner.scenario.loading import read_document

CORPUS = Path(__file__).parents[1] / "corpus"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("as_json", [False, True])
def test_plan_reads_the_scenario_from_stdin(whatif, monkeypatch, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    text = (CORPUS / "valid.toml").read_bytes()
    if as_json:
        text = json.dumps(tomllib.loads(text.decode())).encode()
    _stdin(monkeypatch, text)
    result = whatif("plan", "-", "--estimator-view", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["scenario"] == "corpus-base"


def test_bad_stdin_is_named_stdin(whatif, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, b"name = \n")
    result = whatif("plan", "-")
    assert result.code == 2 and result.err.startswith("whatif: error: stdin (-): not valid TOML")


def test_stdin_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("planner.inputs.LIMIT_BYTES", {"scenario": 64})
    _stdin(monkeypatch, b"# " + b"x" * 100 + b"\n")
    with pytest.raises(ScenarioError, match="stdin"):
        read_document("-")


@pytest.mark.parametrize(("text", "message"), [
    ("a = 1\na = 2", "key 'a' defined twice (line 2)"),  # tomllib says only "at end of document"
    ("[[workload]]\nname = 'chat'\nttft_ms = 1\nttft_ms = 2\n", "key 'workload.ttft_ms' defined twice (line 4)"),
    ("[h]\nm = [\n 1,\n]\nm = [\n 2,\n]\n", "key 'h.m' defined twice (line 7)"),
    ("a.b = 1\na.b = 2\n", "key 'a.b' defined twice (line 2)"),
    ("[horizon]\n[horizon]\n", "table 'horizon' declared twice (line 2)"),
])
def test_a_duplicate_toml_key_is_named(text: str, message: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    assert toml_error(info.value, text) == message


def test_a_file_that_is_not_toml_is_not_echoed() -> None:
    text = "root:$6$c2VjcmV0:19000\nroot:$6$c2VjcmV0:19000\n"
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    assert "c2VjcmV0" not in toml_error(info.value, text)
