"""The bad-input corpus: every case in ``tests/corpus/cases.toml`` must be refused cleanly.

Each case runs ``whatif`` in-process (the ``whatif`` fixture) on a minimal variation of a valid
input and checks the README's contract for bad input ("Exit codes and errors"): the expected exit
code (2), one ``whatif: error: <field path>: <reason>`` line per problem naming the field, no
traceback, nothing on stdout, nothing written (``no_write``), no temporary file left behind.

A case that shows a real bug carries ``xfail = "reason"`` and ``xfail_checks`` (the checks the bug
breaks) and runs as ``xfail(strict=True, raises=KnownBug)``: it fails the suite as soon as the bug
is fixed (remove the marker with the fix), and also when any *other* check fails.
"""

from __future__ import annotations

import os
import socket
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parents[1] / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]

#: Every kind of bad input the corpus covers (the corpus must use exactly these).
KINDS = frozenset({
    "malformed-toml", "malformed-json", "duplicate-keys", "wrong-type", "nan-inf", "non-positive",
    "absurd-magnitude", "unknown-slug", "unknown-technique", "unknown-option", "unknown-key", "empty-workload",
    "duplicate-class", "overlay-no-source", "overlay-contradiction", "hf-config-missing-keys",
    "directory-for-file", "unreadable-input", "unwritable-output", "set-error", "estimate-fit", "estimate-tp",
    "sweep-error", "breakeven-option", "cross-field", "economics",
})
MIN_CASES = 45
CASE_KEYS = frozenset({"id", "kind", "args", "exit", "stderr", "setup", "target", "no_write", "xfail", "xfail_checks",
                       "note"})
#: What a case checks; ``xfail_checks`` names some of these.
CHECKS = frozenset({"exit", "stderr", "format", "traceback", "lines", "stdout", "no_write", "tmp", "hang"})
SETUPS = frozenset({"unreadable", "fifo"})
ERROR_PREFIX = "whatif: error:"
#: At most five problems are listed, plus "... and N more problem(s)" (planner.scenario.loading).
MAX_STDERR_LINES = 6
#: A command still blocked on a FIFO after this long is taken to hang; the test then unblocks it.
FIFO_PATIENCE_S = 1.0

#: Commands on the valid bases of the corpus: each must succeed, so every case differs from
#: something valid by its one change.
VALID_BASES = {
    "scenario-toml": ["plan", "{corpus}/valid.toml", "--estimator-view"],
    "scenario-json": ["plan", "{corpus}/valid.json", "--estimator-view"],
    "overlay": ["catalog", "validate", "{corpus}/overlay-valid.toml"],
    "overlay-hardware": ["--catalog", "{corpus}/overlay-valid.toml", "estimate", "--model", "llama-3.1-8b",
                         "--hardware", "corpus-accel", "--tp", "2", "--input-tokens", "800", "--output-tokens", "250"],
    "hf-config": ["estimate", "--model", "{corpus}/hf-valid.json", "--hardware", "h100-sxm",
                  "--input-tokens", "800", "--output-tokens", "250"],
    "hf-config-in-dir": ["training-cost", "--model", "{corpus}/hf-dir/config.json", "--tokens", "1e12",
                         "--hardware", "h100-sxm"],
}


def _expand(text: str, tmp: Path) -> str:
    return text.replace("{corpus}", str(CORPUS)).replace("{tmp}", str(tmp))


class KnownBug(AssertionError):
    """Only the checks a case's ``xfail_checks`` names failed: the documented bug, nothing else."""


def _params() -> list[Any]:
    return [pytest.param(case, id=case["id"],
                         marks=[pytest.mark.xfail(reason=case["xfail"], strict=True, raises=KnownBug)]
                         if case.get("xfail") else [])
            for case in CASES]


class _FifoUnblocker(threading.Thread):
    """After ``patience`` seconds, opens the FIFO for writing (and closes it) whenever a reader waits.

    A reader blocked in ``open()`` then sees end-of-file; ``fired`` records that it was needed.
    """

    def __init__(self, path: Path, patience: float) -> None:
        super().__init__(daemon=True)
        self.path, self.patience = path, patience
        self.done = threading.Event()
        self.fired = False

    def run(self) -> None:
        if self.done.wait(self.patience):
            return
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody is reading (yet)
                self.done.wait(0.02)
                continue
            os.close(fd)
            self.fired = True
            self.done.wait(0.02)


Problem = tuple[str, str]  # (check, message)


@contextmanager
def _prepared(case: dict[str, Any], tmp: Path) -> Iterator[Callable[[], list[Problem]]]:
    """Apply the case's ``setup``; yields a function returning the problems the setup saw."""
    setup = case.get("setup")
    if setup is None:
        yield list
        return
    target = Path(_expand(case["target"], tmp))
    if setup == "unreadable":
        # A Unix-domain socket: exists, is not a directory, and open() fails (ENXIO) even for root.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        cwd = Path.cwd()
        try:
            os.chdir(target.parent)  # bind a short relative name: AF_UNIX paths are limited to ~107 bytes
            sock.bind(target.name)
        finally:
            os.chdir(cwd)
        try:
            yield list
        finally:
            sock.close()
    elif setup == "fifo":
        os.mkfifo(target)
        unblocker = _FifoUnblocker(target, FIFO_PATIENCE_S)
        unblocker.start()
        try:
            yield lambda: ([("hang", f"blocked reading the FIFO {target} for more than {FIFO_PATIENCE_S} s "
                                     "(it would hang without the test unblocking it)")] if unblocker.fired else [])
        finally:
            unblocker.done.set()
            unblocker.join()
    else:  # pragma: no cover - guarded by test_corpus_is_well_formed
        raise ValueError(f"unknown setup {setup!r}")


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_refused(whatif, case: dict[str, Any], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = [_expand(a, tmp_path) for a in case["args"]]
    with _prepared(case, tmp_path) as setup_problems:
        result = whatif(*args)
        problems = setup_problems()
    problems += _contract_problems(case, result, tmp_path)
    report = "\n".join([f"whatif {' '.join(args)}", *(f"[{check}] {msg}" for check, msg in problems),
                        "--- stderr:", result.err])
    if not problems:
        return  # an xfail case passing here is an XPASS: strict, so the suite fails until the marker goes
    if case.get("xfail") and {check for check, _ in problems} <= set(case["xfail_checks"]):
        raise KnownBug(report)
    raise AssertionError(report)


def _contract_problems(case: dict[str, Any], result: Any, tmp_path: Path) -> list[Problem]:
    problems: list[Problem] = []
    err_lines = result.err.splitlines()
    if result.code != case["exit"]:
        problems.append(("exit", f"exit code {result.code}, expected {case['exit']}"))
    problems += [("stderr", f"stderr lacks {needle!r}") for needle in case["stderr"] if needle not in result.err]
    if not err_lines:
        problems.append(("format", "stderr is empty"))
    problems += [("format", f"stderr line does not start with {ERROR_PREFIX!r}: {line!r}")
                 for line in err_lines if not line.startswith(ERROR_PREFIX)]
    if "Traceback" in result.err:
        problems.append(("traceback", "stderr holds a traceback"))
    if len(err_lines) > MAX_STDERR_LINES:
        problems.append(("lines", f"{len(err_lines)} stderr lines (at most {MAX_STDERR_LINES})"))
    if case["exit"] == 2 and result.out:
        problems.append(("stdout", f"stdout is not empty: {result.out[:200]!r}"))
    if case.get("no_write") and Path(_expand(case["no_write"], tmp_path)).exists():
        problems.append(("no_write", f"{_expand(case['no_write'], tmp_path)} was written"))
    strays = sorted(str(p) for root in (tmp_path, CORPUS) for p in root.rglob(".*.tmp"))
    if strays:
        problems.append(("tmp", f"temporary files left behind: {strays}"))
    return problems


@pytest.mark.parametrize("name", sorted(VALID_BASES))
def test_corpus_bases_are_valid(whatif, name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = whatif(*[_expand(a, tmp_path) for a in VALID_BASES[name]])
    assert result.code == 0, result.err
    assert result.out


def test_corpus_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for case in CASES:
        assert {"id", "kind", "args", "exit", "stderr"} <= set(case), case["id"]
        assert set(case) <= CASE_KEYS, (case["id"], set(case) - CASE_KEYS)
        assert case["args"] and all(isinstance(a, str) for a in case["args"]), case["id"]
        assert isinstance(case["exit"], int), case["id"]
        assert case["stderr"] and all(isinstance(s, str) and s for s in case["stderr"]), case["id"]
        assert case.get("setup") in SETUPS | {None}, case["id"]
        assert ("target" in case) == ("setup" in case), case["id"]
        assert case.get("xfail", "x").strip(), f"{case['id']}: xfail needs a reason"
        assert ("xfail" in case) == ("xfail_checks" in case), f"{case['id']}: xfail and xfail_checks go together"
        assert set(case.get("xfail_checks", [])) <= CHECKS, case["id"]


def test_corpus_covers_every_kind() -> None:
    kinds = Counter(c["kind"] for c in CASES)
    assert len(CASES) >= MIN_CASES
    assert set(kinds) == KINDS, (sorted(KINDS - set(kinds)), sorted(set(kinds) - KINDS))


def test_every_corpus_file_is_used() -> None:
    """No orphan inputs: each file is named by a case, a valid base, or another corpus file."""
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.name != "cases.toml"]
    texts = [(CORPUS / "cases.toml").read_text(encoding="utf-8"), repr(VALID_BASES)]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in files]
    for path in files:
        rel = path.relative_to(CORPUS).as_posix()
        names = {rel, rel.split("/")[0]}
        assert any(f"{{corpus}}/{n}" in t or f'"{n}"' in t or f'"./{n}"' in t for n in names for t in texts), rel
