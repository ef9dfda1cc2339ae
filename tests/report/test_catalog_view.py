"""How `whatif catalog list` prints a number."""

from __future__ import annotations

import pytest

from planner.report.catalog_view import _fmt


@pytest.mark.parametrize(("value", "shown"), [
    (24875.0, "24,875"),        # a buy price per GPU: grouped, never 2.488e+04
    (131072.0, "131,072"),      # memory MiB, every digit
    (1835.5, "1,835.5"),
    (3.4309, "3.431"),          # an hourly price: four significant digits
    (0.0167, "0.0167"),
    (70.6e9, "7.0600e+10"),     # a parameter count stays scientific
    (None, "-"),
])
def test_numbers_read_as_written(value: float | None, shown: str) -> None:
    assert _fmt(value) == shown
