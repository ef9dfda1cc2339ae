"""Output files honour the umask and keep an existing file's mode (``planner.output``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.output import write_atomic
from tests.conftest import file_mode


def test_a_new_file_gets_0666_less_the_umask(tmp_path: Path, umask_022: None) -> None:
    write_atomic(tmp_path / "report.md", "text\n")
    assert file_mode(tmp_path / "report.md") == 0o644
    os.umask(0o077)
    write_atomic(tmp_path / "private.md", "text\n")
    assert file_mode(tmp_path / "private.md") == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_replacing_a_file_keeps_itsfile_mode(tmp_path: Path, umask_022: None, mode: int) -> None:
    target = tmp_path / "report.md"
    target.write_text("old\n")
    target.chmod(mode)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert file_mode(target) == mode


def test_bytes_are_written_as_given(tmp_path: Path, umask_022: None) -> None:
    write_atomic(tmp_path / "chart.png", b"\x89PNG\r\n")
    assert (tmp_path / "chart.png").read_bytes() == b"\x89PNG\r\n"
    assert file_mode(tmp_path / "chart.png") == 0o644


def test_cli_outputs_are_readable_by_others(whatif, tmp_path: Path, umask_022: None) -> None:  # type: ignore[no-untyped-def]
    """`-o` and `init` (the report from the issue: 0644 before, 0644 after)."""
    report = tmp_path / "plan.txt"
    report.write_text("old\n")
    report.chmod(0o644)
    assert whatif("plan", "--estimator-view", "-o", str(report)).code == 0
    assert file_mode(report) == 0o644
    assert whatif("init", str(tmp_path / "new.toml")).code == 0
    assert file_mode(tmp_path / "new.toml") == 0o644


def test_schema_refuses_a_read_only_output_without_force(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``whatif schema -o`` replaced a read-only file without --force, unlike every other command."""
    target = tmp_path / "ro.json"
    target.write_text("keep")
    target.chmod(0o444)
    r = whatif("schema", "-o", str(target))
    assert r.code == 2 and "read-only" in r.err and target.read_text() == "keep"
    assert whatif("schema", "-o", str(target), "--force").code == 0
    assert '"properties"' in target.read_text()
