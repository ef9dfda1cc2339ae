"""Tables fit the terminal: ``COLUMNS``, else the terminal's width, else a fixed 100 columns."""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import termios

import pytest

from planner.report.render import MIN_TABLE_WIDTH_COLUMNS, TABLE_WIDTH_COLUMNS, table_width_columns


def _widest_table_line(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines() if line[:1] in "┏┃┡│└┌├")


@pytest.mark.parametrize("columns", [80, 60])
def test_tables_fit_columns(whatif, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", str(columns))
    for args in (["plan", "--estimator-view"],
                 ["estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "10",
                  "--output-tokens", "10"]):
        result = whatif(*args)
        assert result.code == 0, result.err
        assert _widest_table_line(result.out) <= columns, args
        assert "…" not in result.out, args  # cells wrap; nothing is cut


def test_not_a_terminal_and_no_columns_is_a_fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert table_width_columns() == TABLE_WIDTH_COLUMNS
    monkeypatch.setenv("COLUMNS", "wide")
    assert table_width_columns() == TABLE_WIDTH_COLUMNS
    monkeypatch.setenv("COLUMNS", "12")
    assert table_width_columns() == MIN_TABLE_WIDTH_COLUMNS


def test_a_terminal_gives_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    leader, follower = os.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 72, 0, 0))
        with os.fdopen(os.dup(follower), "w") as terminal:
            monkeypatch.setattr(sys, "stdout", terminal)
            assert table_width_columns() == 72
    finally:
        os.close(leader)
        os.close(follower)


@pytest.mark.parametrize("args", [["catalog", "list", "hardware"], ["catalog", "list", "prices"],
                                  ["catalog", "list", "defaults"], ["catalog", "show", "h100-sxm"]])
def test_catalog_tables_fit_columns(whatif, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")  # `catalog list` was laid out in a fixed 200 columns
    result = whatif(*args)
    assert result.code == 0, result.err
    assert _widest_table_line(result.out) <= 80, args
    assert "…" not in result.out, args
