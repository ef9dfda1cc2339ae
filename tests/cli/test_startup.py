"""Start-up: what a plain ``whatif plan`` does not import, and what commands that do not plan never
import (each loads on first use; issue 15)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest

import planner
from planner.cli.app import LAZY_COMMANDS, LAZY_HELP

#: Modules only other commands (or two-variant plans) need; importing the CLI must not load them.
LAZY_MODULES = ("planner.insight.preview", "planner.insight.explanation", "planner.insight.sweeps",
                "planner.insight.break_even", "planner.optimize.pairs")
#: The optimiser: loaded when a plan is asked for, not by ``whatif --help``, ``estimate`` or ``catalog``.
OPTIMISER_MODULES = ("planner.optimize.planning", "pulp", "highspy")


def _loaded_after(code: str, modules: tuple[str, ...]) -> str:
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\n"
                           f"print(','.join(m for m in {modules!r} if m in sys.modules))"],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def test_the_command_line_does_not_import_what_a_plain_plan_never_uses() -> None:
    assert _loaded_after("import planner.cli.app", LAZY_MODULES) == ""


def test_the_lazily_imported_preview_type_is_the_real_class() -> None:
    from planner.insight.preview import Preview

    assert planner.Preview is Preview


def test_the_command_line_and_its_help_do_not_import_the_optimiser() -> None:
    assert _loaded_after("import planner.cli.app", OPTIMISER_MODULES) == ""
    help_run = ("from click.testing import CliRunner\nfrom planner.cli.app import cli\n"
                "result = CliRunner().invoke(cli, ['--help'])\nassert result.exit_code == 0, result.output\n"
                "assert 'explain' in result.output and 'sweep' in result.output")
    assert _loaded_after(help_run, OPTIMISER_MODULES + LAZY_MODULES) == ""


def test_a_plan_loads_the_optimiser_on_first_use() -> None:
    assert _loaded_after("import planner\nplanner.plan(planner.demo_scenario_path(), "
                         "overrides=['horizon.months=3'])", OPTIMISER_MODULES) == ",".join(OPTIMISER_MODULES)


@pytest.mark.parametrize("name", sorted(LAZY_HELP))
def test_the_help_listing_of_a_lazy_command_is_its_own(name: str) -> None:
    """``whatif --help`` lists lazy commands from ``LAZY_HELP`` without importing them: each entry
    must be the first paragraph of the command's own help, so the listing is what click would print."""
    module, attr = LAZY_COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module), attr)
    first = " ".join((command.help or "").split("\n\n")[0].split())
    assert " ".join(LAZY_HELP[name].split()) == first
    for limit in (30, 60, 200):
        assert click.Command(name, help=LAZY_HELP[name]).get_short_help_str(limit) == command.get_short_help_str(limit)
