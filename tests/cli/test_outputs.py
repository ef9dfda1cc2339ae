"""Outputs cannot destroy inputs: -o/--plot onto the scenario or an overlay, onto a device, onto a
read-only file (without --force) are refused before any work, and every command reads the same
overlays ($WHATIF_CATALOG, then --catalog)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    shutil.copy(CORPUS / "valid.toml", path)
    return path


@pytest.mark.parametrize("command", [["plan", "--estimator-view"], ["explain", "--no-sensitivity",
                                                                    "--alternatives", "0"]])
def test_output_onto_the_scenario_is_refused(whatif, scenario: Path, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    before = scenario.read_bytes()
    result = whatif(command[0], str(scenario), *command[1:], "-o", str(scenario))
    assert result.code == 2 and "is an input of this run" in result.err
    assert scenario.read_bytes() == before


def test_output_through_a_link_to_the_scenario_is_refused(whatif, scenario: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "out.txt"
    link.symlink_to(scenario)
    result = whatif("plan", str(scenario), "--estimator-view", "-o", str(link))
    assert result.code == 2 and "is an input of this run" in result.err


def test_sweep_plot_onto_the_scenario_or_an_overlay_is_refused(whatif, scenario: Path,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    overlay = tmp_path / "overlay-valid.toml"  # a copy: a broken guard must not overwrite the corpus file
    shutil.copy(CORPUS / "overlay-valid.toml", overlay)
    result = whatif("sweep", str(scenario), "--vary", "market.price_scale=1", "--plot", str(scenario))
    assert result.code == 2 and "--plot" in result.err and "input" in result.err
    result = whatif("--catalog", str(overlay), "plan", str(scenario), "--estimator-view", "-o", str(overlay))
    assert result.code == 2 and "is an input of this run" in result.err


def test_calibrate_output_onto_its_measurements_is_refused(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = tmp_path / "cases.toml"
    shutil.copy(Path(__file__).parents[1] / "data" / "calibration_cases.toml", cases)
    before = cases.read_bytes()
    result = whatif("calibrate", str(cases), "-o", str(cases))
    assert result.code == 2 and cases.read_bytes() == before


def test_a_device_node_is_never_replaced(whatif, scenario: Path) -> None:  # type: ignore[no-untyped-def]
    result = whatif("plan", str(scenario), "--estimator-view", "-o", os.devnull)
    assert result.code == 2 and "not a regular file" in result.err
    assert not Path(os.devnull).is_file()


def test_a_read_only_output_needs_force(whatif, scenario: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "plan.json"
    out.write_text("old")
    out.chmod(0o444)
    result = whatif("plan", str(scenario), "--estimator-view", "--format", "json", "-o", str(out))
    assert result.code == 2 and "read-only" in result.err and "--force" in result.err
    assert out.read_text() == "old"
    result = whatif("plan", str(scenario), "--estimator-view", "--format", "json", "-o", str(out), "--force")
    assert result.code == 0, result.err
    assert json.loads(out.read_text())


def test_sweep_reads_the_environment_overlay_like_plan(whatif, scenario: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = tmp_path / "cheap.toml"
    overlay.write_text('schema_version = 1\n\n[[price]]\nhardware = "l40s"\nmode = "on-demand"\n'
                       'usd_per_gpu_hour = 0.01\nprovider = "aws"\nprovider_kind = "hyperscaler"\n'
                       'source = "test overlay"\nsource_date = "2026-12-04"\n')
    monkeypatch.setenv("WHATIF_CATALOG", str(overlay))
    plan = whatif("plan", str(scenario), "--format", "json")
    assert plan.code == 0, plan.err
    swept = whatif("sweep", str(scenario), "--vary", "market.price_scale=1", "--executor", "inline",
                   "--format", "json")
    assert swept.code == 0, swept.err
    cost = json.loads(plan.out)["lifetime_cost_usd"]
    assert json.loads(swept.out)["rows"][0]["lifetime_cost_usd"] == pytest.approx(cost, rel=1e-9)


def test_python_m_planner_does_not_run_a_techniques_package_from_the_working_directory(tmp_path: Path) -> None:
    import subprocess
    import sys

    evil = tmp_path / "techniques"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    result = subprocess.run([sys.executable, "-m", "planner", "techniques", "list", "--format", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_outputs_name_the_overlays_they_used(whatif, scenario: Path) -> None:  # type: ignore[no-untyped-def]
    overlay = CORPUS / "overlay-valid.toml"
    plan = whatif("--catalog", str(overlay), "plan", str(scenario), "--format", "json")
    assert plan.code == 0, plan.err
    assert json.loads(plan.out)["catalog_overlays"] == [str(overlay)]
    table = whatif("--catalog", str(overlay), "plan", str(scenario))
    assert f"catalog overlays: {overlay}" in table.out
    swept = whatif("--catalog", str(overlay), "sweep", str(scenario), "--vary", "market.price_scale=1",
                   "--executor", "inline", "--format", "json")
    assert json.loads(swept.out)["catalog_overlays"] == [str(overlay)]
    for command in (["estimate", "--model", "llama-3.1-8b", "--hardware", "corpus-accel", "--input-tokens", "100",
                     "--output-tokens", "100", "--tp", "2"],
                    ["training-cost", "--params", "1e9", "--tokens", "1e9", "--hardware", "corpus-accel"],
                    ["plan", str(scenario), "--estimator-view"]):
        as_json = whatif("--catalog", str(overlay), *command, "--format", "json")
        assert as_json.code == 0, as_json.err
        assert json.loads(as_json.out)["catalog_overlays"] == [str(overlay)], command
        as_text = whatif("--catalog", str(overlay), *command)
        assert f"catalog overlays: {overlay}" in as_text.out, command


def test_a_dask_address_that_never_answers_is_refused_in_seconds(whatif) -> None:  # type: ignore[no-untyped-def]
    import socket
    import time

    pytest.importorskip("distributed")
    with socket.socket() as server:  # accepts connections, never says a word
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        start = time.perf_counter()
        result = whatif("sweep", str(CORPUS / "valid.toml"), "--vary", "market.price_scale=1",
                        "--executor", f"dask://127.0.0.1:{port}")
        assert result.code == 2 and "cannot reach the Dask scheduler" in result.err
        assert time.perf_counter() - start < 30


def test_a_dask_address_that_speaks_http_is_refused(whatif) -> None:  # type: ignore[no-untyped-def]
    import socket
    import threading

    pytest.importorskip("distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok" * 64)
                conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        result = whatif("sweep", str(CORPUS / "valid.toml"), "--vary", "market.price_scale=1",
                        "--executor", f"dask://127.0.0.1:{port}")
    finally:
        server.close()
    assert result.code == 2 and "cannot reach the Dask scheduler" in result.err


def test_md_is_read_as_markdown(whatif, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``--format md`` (the suffix people type) gives the Markdown document; another value is still exit 2."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the same generation time in both documents
    args = ("plan", "--set", "horizon.months=6", "--set", 'market.hardware=["h100-sxm"]')
    md, markdown = whatif(*args, "--format", "md"), whatif(*args, "--format", "markdown")
    assert md.code == markdown.code == 0 and md.out == markdown.out and md.out.startswith("## ")
    assert whatif(*args, "--format", "mdx").code == 2
