"""Start-up: what a plain ``whatif plan`` does not import (it loads on first use; issue 15)."""

from __future__ import annotations

import subprocess
import sys

import planner

#: Modules only other commands (or two-variant plans) need; importing the CLI must not load them.
LAZY_MODULES = ("planner.insight.preview", "planner.insight.explanation", "planner.insight.sweeps",
                "planner.insight.break_even", "planner.optimize.pairs")


def test_the_command_line_does_not_import_what_a_plain_plan_never_uses() -> None:
    code = ("import sys, planner.cli.app\n"
            f"print(','.join(m for m in {LAZY_MODULES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == ""


def test_the_lazily_imported_preview_type_is_the_real_class() -> None:
    from planner.insight.preview import Preview

    assert planner.Preview is Preview
