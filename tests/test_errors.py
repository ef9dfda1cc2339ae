"""Typo suggestions prefer a known slug that starts with what was typed (``planner.errors``)."""

from __future__ import annotations

import pytest

from planner.errors import UnknownSlugError, suggestions

HARDWARE = ["a100-40gb", "a100-80gb", "a10g", "b200", "h100-sxm", "h200", "l4", "l40s", "mi300x"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("h100", ["h100-sxm"]),                      # h200 is one letter off, but h100 is a truncation
    ("a100", ["a100-40gb", "a100-80gb"]),
    ("H100", ["h100-sxm"]),
    ("h201", ["h200"]),                          # no prefix match: similarity decides
    ("zzz", []),
])
def test_prefix_matches_come_first(typed: str, expected: list[str]) -> None:
    assert suggestions(typed, HARDWARE) == expected


def test_the_message_names_the_prefix_match(whatif) -> None:  # type: ignore[no-untyped-def]
    result = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100", "--input-tokens", "10",
                    "--output-tokens", "10")
    assert result.code == 2
    assert result.err == "whatif: error: hardware: unknown hardware 'h100'; did you mean 'h100-sxm'?\n"


def test_several_prefix_matches_are_listed() -> None:
    error = UnknownSlugError("hardware", "a100", HARDWARE)
    assert error.suggestion == "a100-40gb"
    assert "did you mean 'a100-40gb' (or 'a100-80gb')?" in str(error)
