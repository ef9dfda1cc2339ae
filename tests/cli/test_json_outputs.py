"""Every ``--format json`` output is an object that starts with its ``schema_version``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "corpus"

COMMANDS = {
    "plan": ["plan", str(CORPUS / "valid.toml"), "--estimator-view"],
    "estimate": ["estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "100",
                 "--output-tokens", "100"],
    "training-cost": ["training-cost", "--params", "1e9", "--tokens", "1e9", "--hardware", "h100-sxm"],
    "sweep": ["sweep", str(CORPUS / "valid.toml"), "--vary", "market.price_scale=1", "--executor", "inline"],
    "catalog list": ["catalog", "list", "models"],
    "catalog show": ["catalog", "show", "h100-sxm"],
    "techniques list": ["techniques", "list"],
    "techniques show": ["techniques", "show", "caching"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_json_output_names_its_schema_version(whatif, name: str) -> None:  # type: ignore[no-untyped-def]
    result = whatif(*COMMANDS[name], "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert isinstance(document, dict)
    assert next(iter(document)) == "schema_version" and document["schema_version"] >= 1


def test_catalog_list_keeps_its_rows_under_rows(whatif) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(whatif("catalog", "list", "models", "--format", "json").out)
    assert document["kind"] == "models"
    assert document["rows"] and all("slug" in row for row in document["rows"])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_json_output_says_what_it_is(whatif, name: str) -> None:  # type: ignore[no-untyped-def]
    """A script reading any --format json output can tell them apart by ``kind`` (second key)."""
    document = json.loads(whatif(*COMMANDS[name], "--format", "json").out)
    expected = {"plan": "preview", "estimate": "estimate", "training-cost": "training-cost", "sweep": "sweep",
                "catalog list": "models", "catalog show": "catalog-row", "techniques list": "techniques",
                "techniques show": "technique"}[name]
    assert document["kind"] == expected and list(document)[1] == "kind"
