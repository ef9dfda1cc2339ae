"""Without the ``[plot]`` extra, HTML output is refused before any work, naming the option passed."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import planner.api
from planner.cli import explain as explain_cli


def _must_not_run(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("work started before the missing extra was detected")


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_explain_html_without_matplotlib_fails_before_the_re_solves(whatif, monkeypatch, no_matplotlib) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(explain_cli, "explain", _must_not_run)
    result = whatif("explain", "--format", "html")
    assert result.code == 2, result.err
    assert result.err == ("whatif: error: --format html: needs the [plot] extra (matplotlib): "
                          "pip install 'whatif-planner[plot]'\n")


def test_plan_html_without_matplotlib_fails_before_planning(whatif, monkeypatch, no_matplotlib) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(planner.api, "plan", _must_not_run)
    result = whatif("plan", "--format", "html")
    assert result.code == 2 and "--format html: needs the [plot] extra" in result.err


def test_other_formats_do_not_need_matplotlib(whatif, no_matplotlib) -> None:  # type: ignore[no-untyped-def]
    result = whatif("plan", "--estimator-view", "--format", "html")
    assert result.code == 0, result.err
