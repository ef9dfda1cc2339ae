"""Shared fixtures: the shipped catalog (no environment overlay) and an in-process CLI runner."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.catalog.store import CATALOG_ENV_VAR, Catalog
from planner.cli.app import main

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _no_catalog_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a user's WHATIF_CATALOG unless they set it themselves."""
    monkeypatch.delenv(CATALOG_ENV_VAR, raising=False)
    yield


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A umask of 022 for the test (outputs must honour it), restored afterwards."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def file_mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return planner.load_catalogs(use_env=False)


@pytest.fixture()
def whatif(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the ``whatif`` CLI in-process, exactly as the console script does (``main``)."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code) if exc.code is not None else 0
        else:  # main always exits
            code = 0
        captured = capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    return run


def error_lines(result: CliResult) -> list[str]:
    """A failed run's stderr as the text lines of the README's contract (``whatif: error: …``): under
    ``--format json`` each line is a JSON record and its ``message`` is that text line."""
    return [json.loads(line)["message"] if line.startswith("{") else line for line in result.err.strip().splitlines()]


def merged_scenario(data: dict[str, Any], **over: Any) -> planner.Scenario:
    """``data`` with ``over`` merged in: tables are updated key by key, ``workload`` updates the
    first class, anything else replaces the value."""
    out = json.loads(json.dumps(data))
    for key, value in over.items():
        if key == "workload":
            out["workload"][0].update(value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return planner.scenario_from_dict(out)
