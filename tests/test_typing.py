"""The package type-checks: mypy over ``planner`` and ``techniques`` (configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_errors(tmp_path: Path) -> None:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path),
                                      str(ROOT / "planner"), str(ROOT / "techniques")])
    assert status == 0, stdout + stderr
