"""`whatif catalog`: validate, list, show; bad catalogs exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.catalog.store import (
    CATALOG_ENV_VAR,
)
from tests.catalog.helpers import (
    REQUIRED_HARDWARE,
    hardware_row,
    price_row,
    write,
)

# ---------------------------------------------------------------- CLI


def test_cli_validate_shipped(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "validate")
    assert r.code == 0, r.err
    assert "catalog OK" in r.out


def test_cli_validate_overlay_path(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "o.toml", hardware_row(), price_row())
    r = whatif("catalog", "validate", str(path))
    assert r.code == 0, r.err
    assert "13 hardware" in r.out


@pytest.mark.parametrize(
    "content",
    [
        hardware_row(bandwidth="1e9"),
        hardware_row(provenance='source_date = "2026-01-01"\n'),
        price_row("no-such-gpu"),
    ],
    ids=["implausible", "no-source", "unknown-hardware"],
)
def test_cli_bad_catalog_exits_2_with_one_line(whatif, tmp_path: Path, content: str) -> None:  # type: ignore[no-untyped-def]
    bad = write(tmp_path / "bad.toml", content)
    r = whatif("--catalog", str(bad), "catalog", "validate")
    assert r.code == 2
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert r.err.startswith("whatif: error:")


def test_cli_bad_catalog_via_env_exits_2(whatif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CATALOG_ENV_VAR, str(write(tmp_path / "bad.toml", hardware_row(bandwidth="nan"))))
    r = whatif("catalog", "list", "hardware")
    assert r.code == 2
    assert "memory_bandwidth_gb_s" in r.err and "Traceback" not in r.err


def test_cli_list_hardware_json(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "list", "hardware", "--format", "json")
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert document["schema_version"] == 1 and document["kind"] == "hardware"
    rows = document["rows"]
    assert len(rows) >= 12
    assert set(REQUIRED_HARDWARE) <= {row["slug"] for row in rows}
    assert all(row["source"] and row["source_date"] for row in rows)


def test_cli_list_includes_overlay_rows(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "o.toml", hardware_row())
    r = whatif("--catalog", str(path), "catalog", "list", "hardware", "--format", "json")
    assert r.code == 0, r.err
    assert "test-gpu" in {row["slug"] for row in json.loads(r.out)["rows"]}


def test_cli_show_hardware_includes_prices(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "h100-sxm", "--format", "json")
    assert r.code == 0, r.err
    item = json.loads(r.out)
    assert item["slug"] == "h100-sxm"
    modes = {p["mode"] for p in item["prices"]}
    assert {"on-demand", "buy"} <= modes
    assert all(p["hardware"] == "h100-sxm" for p in item["prices"])


def test_cli_show_model_includes_quality(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "llama-3.1-70b", "--format", "json")
    assert r.code == 0, r.err
    assert "mmlu" in {q["metric"] for q in json.loads(r.out)["quality"]}


def test_cli_show_unknown_slug_suggests(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "h100-sxn")
    assert r.code == 2
    assert "h100-sxm" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_cli_list_an_unknown_kind_names_the_argument_kind(whatif) -> None:  # type: ignore[no-untyped-def]
    """The argument is KIND in the usage line and in the refusal (click named it by its ten choices)."""
    r = whatif("catalog", "list", "bogus")
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("whatif: error: Invalid value for '[KIND]': 'bogus' is not one of 'hardware', ")
    assert "Usage: whatif catalog list [OPTIONS] [KIND]" in whatif("catalog", "list", "--help").out
