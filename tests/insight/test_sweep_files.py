"""A sweep's rows file (``planner.insight.sweep_files``): rewrites honour the umask and keep the file's mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from planner.insight.sweep_files import read_done, write_all
from tests.conftest import file_mode

PATHS = ["market.price_scale"]
POINTS = [{"market.price_scale": 0.8}, {"market.price_scale": 1.2}]


def _rows() -> list[dict[str, Any]]:
    return [{"index": i, "seed": None, "status": "optimal", "lifetime_cost_usd": 100.0 + i, "one_time_cost_usd": 0.0,
             "recurring_cost_usd": 100.0 + i, "nominal_variant_cost_usd": None, "variant": "none", "fleet": "1x l40s",
             "solver_seconds": 0.1, "error": None, "inputs": dict(p)} for i, p in enumerate(POINTS)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_new_rows_file_gets_0666_less_the_umask(tmp_path: Path, umask_022: None, suffix: str) -> None:
    out = tmp_path / f"rows{suffix}"
    write_all(out, _rows(), PATHS)
    assert file_mode(out) == 0o644
    os.umask(0o077)
    private = tmp_path / f"private{suffix}"
    write_all(private, _rows(), PATHS)
    assert file_mode(private) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_the_resume_rewrite_keeps_the_filesfile_mode(tmp_path: Path, umask_022: None, mode: int) -> None:
    out = tmp_path / "rows.csv"
    write_all(out, _rows(), PATHS)
    out.write_text(out.read_text()[:-5])  # torn last row: read_done rewrites the file without it
    out.chmod(mode)
    done = read_done(out, PATHS, POINTS)
    assert [r["index"] for r in done] == [0]
    assert out.read_text().count("\n") == 2  # header and the whole row
    assert file_mode(out) == mode
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
