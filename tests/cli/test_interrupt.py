"""Ctrl-C in any command prints the documented ``whatif: interrupted`` and exits 130 (never click's
``Aborted.``); an interrupted sweep says so on the same line, with how to resume."""

from __future__ import annotations

from typing import Any

import pytest

import planner.api
from planner.cli import catalog as catalog_cli
from planner.cli import sweep as sweep_cli
from planner.cli.app import EXIT_INTERRUPTED, INTERRUPTED_MESSAGE
from planner.errors import SweepInterrupted


def _ctrl_c(*_args: Any, **_kwargs: Any) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(("target", "args"), [
    ((planner.api, "load_scenario"), ["plan"]),
    ((planner.api, "estimate"), ["estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm",
                                 "--input-tokens", "10", "--output-tokens", "10"]),
    ((planner.api, "training_cost"), ["training-cost", "--params", "1e9", "--tokens", "1e9", "--hardware", "h100-sxm"]),
    ((planner.api, "load_scenario"), ["explain"]),
    ((catalog_cli, "catalog_rows"), ["catalog", "list"]),
    ((planner.api, "demo_scenario_path"), ["init", "/nonexistent-dir-whatif/s.toml"]),
])
def test_ctrl_c_prints_the_documented_message(whatif, monkeypatch, target: tuple[Any, str], args: list[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(*target, _ctrl_c)
    result = whatif(*args)
    assert result.code == EXIT_INTERRUPTED
    assert result.err.strip() == INTERRUPTED_MESSAGE == "whatif: interrupted"
    assert "Aborted" not in result.err


def test_an_interrupted_sweep_says_how_to_resume(whatif, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def stopped(*_args: Any, **_kwargs: Any) -> None:
        raise SweepInterrupted("interrupted after 3 of 8 points; run the same command with --resume to continue",
                               "sweep")

    monkeypatch.setattr(sweep_cli, "run_sweep", stopped)
    result = whatif("sweep", "--vary", "market.price_scale=1,2")
    assert result.code == EXIT_INTERRUPTED
    assert result.err.startswith("whatif: interrupted: sweep: interrupted after 3 of 8 points")
    assert "--resume" in result.err
