"""Fault injection on real `whatif sweep` processes: Ctrl-C, SIGTERM and SIGKILL of the parent, a
killed worker.  Each ends with no row lost (compared with an uninterrupted run) and no process left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import planner
from planner.insight.sweeps import sweep
from tests.insight.test_sweep import tiny

#: Enough points that rows keep arriving for about a second after the first ones: the small scenario's
#: points solve in milliseconds, and with 24 all rows could land (and the sweep exit 0) between
#: seeing two rows and sending the signal.
POINTS = 480
VARY = f"workload.chat.queries_per_day=1e5..3e6:log:{POINTS}"
SCENARIO = tiny().model_dump(mode="json")  # the sweep tests' small scenario
WHATIF = [sys.executable, "-c", "from planner.cli import main; main()"]


@pytest.fixture(scope="module")
def reference() -> dict[int, float]:
    sc = planner.scenario_from_dict(SCENARIO)
    rows = sweep(sc, vary={VARY.split("=")[0]: VARY.split("=")[1]}, executor="inline").rows
    return {r["index"]: round(r["lifetime_cost_usd"], 6) for r in rows}


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def start(tmp_path: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(SCENARIO))
    return subprocess.Popen([*WHATIF, "sweep", str(scenario), "--vary", VARY, "--workers", "2", "-o", str(out),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_rows(out: Path, rows: int, proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) > rows and proc.poll() is None:
            return
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be interrupted: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    pytest.fail("no rows appeared")


def wait_gone(pgid: int, timeout_s: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and group_members(pgid):
        time.sleep(0.1)
    return group_members(pgid)


def costs(out: Path) -> dict[int, float]:
    import csv

    with out.open() as handle:
        return {int(r["index"]): round(float(r["lifetime_cost_usd"]), 6) for r in csv.DictReader(handle)}


def resume(tmp_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WHATIF, "sweep", str(tmp_path / "s.json"), "--vary", VARY, "--workers", "2",
                           "-o", str(out), "--resume"], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sweep_keeps_its_rows_and_resumes_to_the_same_answer(
        tmp_path: Path, reference: dict[int, float], sig: signal.Signals) -> None:
    out = tmp_path / "rows.csv"
    proc = start(tmp_path, out)
    wait_for_rows(out, 2, proc)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole foreground group
    else:
        os.kill(proc.pid, sig)  # a service manager stops the parent only
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "interrupted after" in err
    assert wait_gone(proc.pid) == []  # no worker left behind
    kept = costs(out)
    assert kept and all(reference[i] == c for i, c in kept.items())
    done = resume(tmp_path, out)
    assert done.returncode == 0, done.stderr
    assert costs(out) == reference


def test_a_killed_worker_is_replaced_and_no_point_is_lost(tmp_path: Path, reference: dict[int, float]) -> None:
    out = tmp_path / "rows.csv"
    proc = start(tmp_path, out)
    wait_for_rows(out, 1, proc)
    workers = [p for p in children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert costs(out) == reference
    assert wait_gone(proc.pid) == []


def test_workers_end_when_the_parent_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    proc = start(tmp_path, out)
    wait_for_rows(out, 1, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert wait_gone(proc.pid, timeout_s=20) == []  # the watchdog ends them within seconds


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dask_cluster() -> Iterator[tuple[int, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """An external Dask scheduler and two workers (processes of their own), killed on the way out."""
    pytest.importorskip("distributed")
    port = _free_port()
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                               "--nthreads", "1", "--nworkers", "2", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield port, scheduler, worker
    finally:
        for process in (scheduler, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_a_killed_dask_scheduler_ends_the_sweep_and_resume_recovers(tmp_path: Path,
                                                                     reference: dict[int, float]) -> None:
    out = tmp_path / "rows.csv"
    with dask_cluster() as (port, scheduler, _worker):
        proc = start(tmp_path, out, "--executor", f"dask://127.0.0.1:{port}")
        wait_for_rows(out, 1, proc, timeout_s=180)
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=180)  # ends, never hangs
        assert proc.returncode == 5 and "point(s) failed" in err, err  # the lost points are error rows
        kept = {i: c for i, c in costs_or_errors(out).items() if c is not None}
        assert all(reference[i] == c for i, c in kept.items())
    done = resume(tmp_path, out)  # on a local pool now: the lost points are recomputed
    assert done.returncode == 0, done.stderr
    assert costs(out) == reference


def costs_or_errors(out: Path) -> dict[int, float | None]:
    import csv

    with out.open() as handle:
        return {int(r["index"]): (round(float(r["lifetime_cost_usd"]), 6) if r["lifetime_cost_usd"] else None)
                for r in csv.DictReader(handle)}


def test_a_killed_dask_worker_loses_no_point(tmp_path: Path, reference: dict[int, float]) -> None:
    out = tmp_path / "rows.csv"
    with dask_cluster() as (port, _scheduler, worker):
        proc = start(tmp_path, out, "--executor", f"dask://127.0.0.1:{port}")
        wait_for_rows(out, 1, proc, timeout_s=180)
        nanny_children = [c for n in children(worker.pid) for c in children(n)] or children(worker.pid)
        assert nanny_children
        os.kill(nanny_children[0], signal.SIGKILL)  # a worker process dies mid-batch
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert costs(out) == reference


def test_explain_workers_end_when_explain_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen([*WHATIF, "explain", "--alternatives", "0", "--workers", "2", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    workers: list[int] = []
    while time.monotonic() < deadline and not workers and proc.poll() is None:
        workers = [p for p in children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        time.sleep(0.2)
    assert workers, "explain never started its sensitivity workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert wait_gone(proc.pid, timeout_s=20) == []  # the watchdog ends them


def test_a_full_disk_ends_the_sweep_with_exit_2_and_keeps_the_rows_written(
        whatif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    from planner.insight import sweep_files

    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(SCENARIO))
    real = sweep_files._append
    calls = {"n": 0}

    def filling_up(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 2:  # the header and the first batch fit, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_files, "_append", filling_up)
    out = tmp_path / "rows.csv"
    result = whatif("sweep", str(scenario), "--vary", VARY, "--executor", "inline", "-o", str(out))
    assert result.code == 2 and "No space left on device" in result.err and "--resume" in result.err
    assert len(out.read_text().splitlines()) > 1  # header + the first batch stay
