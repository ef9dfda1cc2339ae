"""Bounded inputs: only regular files are read, within a size limit, and an error about a file names
the file (and line, column) but never echoes its content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import planner
from planner.errors import PlannerError, ScenarioError
from planner.inputs import LIMIT_BYTES, read_bounded

CORPUS = Path(__file__).parents[1] / "corpus"
SECRET = "root:$6$c2VjcmV0:19000:0:99999:7:::"


def scenario_with_measured(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(f'measured_file = "{target}"\n' + (CORPUS / "valid.toml").read_text())  # top level
    return path


def test_a_wrong_measured_file_is_named_but_never_echoed(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text(SECRET + "\nbin:*:19000:0:99999:7:::\n")
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(scenario_with_measured(tmp_path, str(secret)))
    message = str(info.value)
    assert str(secret) in message and "line 1" in message
    assert "root:" not in message and "c2VjcmV0" not in message and "bin:" not in message


def test_a_bad_cell_names_its_line_and_column_not_its_value(tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("hardware,workload,requests_per_s,source\nh100-sxm,chat,s3cr3t-token,bench\n")
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(scenario_with_measured(tmp_path, str(csv)))
    assert "line 2" in str(info.value) and "requests_per_s" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_a_duplicate_csv_column_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("hardware,workload,requests_per_s,requests_per_s,source\nh100-sxm,chat,1,2,bench\n")
    with pytest.raises(ScenarioError, match="appears twice"):
        planner.load_scenario(scenario_with_measured(tmp_path, str(csv)))


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_devices_and_pipes_are_never_read(tmp_path: Path, target: str) -> None:
    if target == "fifo":
        target = str(tmp_path / "pipe.csv")
        os.mkfifo(target)  # opening it would block forever: it must not be opened
    with pytest.raises(ScenarioError, match="not a regular file"):
        planner.load_scenario(scenario_with_measured(tmp_path, target))


def test_an_overlay_directory_entry_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "overlay-valid.toml", tmp_path / "a.toml")
    os.mkfifo(tmp_path / "b.toml")
    with pytest.raises(PlannerError, match="not a regular file"):
        planner.load_catalogs([tmp_path], use_env=False)


def test_files_over_their_kinds_limit_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as handle:  # a sparse file: its size, not its content, is what is checked
        handle.truncate(LIMIT_BYTES["scenario"] + 1)
    with pytest.raises(ScenarioError, match="at most 16 MiB"):
        planner.load_scenario(big)
    small = tmp_path / "ok.txt"
    small.write_bytes(b"x" * 10)
    assert read_bounded(small, "scenario", ScenarioError) == b"x" * 10
