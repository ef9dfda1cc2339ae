"""Atomic output (a failed run leaves no half-written file) and the JSON text of a result."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from planner.errors import OutputError


def check_writable(path: str | Path, flag: str = "-o", *, inputs: Iterable[str | Path] = (),
                   force: bool = False) -> Path:
    """Fail early (before any work) when ``path`` cannot or must not be written; ``flag`` names the option.

    Besides a missing or unwritable directory, refused: a path that is (or resolves to) one of the
    run's ``inputs`` (writing would destroy it), an existing path that is not a regular file (a
    device, pipe or socket is never replaced by a file), and an existing read-only file unless
    ``force``.
    """
    p = Path(path)
    where = f"{flag} {p}"
    if p.is_dir():
        raise OutputError("is a directory, expected a file path", where)
    if p.exists():
        for source in inputs:
            if Path(source).exists() and os.path.samefile(p, source):
                raise OutputError(f"is an input of this run ({source}): writing would destroy it", where)
        mode = p.stat().st_mode
        if not stat.S_ISREG(mode):
            raise OutputError("exists and is not a regular file (a device, pipe or socket): refusing to replace it",
                              where)
        if not force and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise OutputError("is read-only: pass --force to replace it", where)
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"'{parent}' is a file, not a directory", where)
    if not parent.is_dir():
        raise OutputError(f"directory '{parent}' does not exist", where)
    if not os.access(parent, os.W_OK):
        raise OutputError(f"directory '{parent}' is not writable", where)
    return p


#: Mode of a new output file before the umask is applied (what ``open()`` and shell redirection use).
NEW_FILE_MODE = 0o666


def current_umask() -> int:
    """The process umask, read from ``/proc/self/status`` where the kernel reports it (Linux ≥ 4.7);
    elsewhere by setting and restoring it — that brief window is why the file is preferred."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(path: Path) -> int:
    """Permission bits for ``path``: an existing regular file keeps its own (replacing a 0644 report
    keeps it readable by others, a 0600 one stays private); a new file gets ``0666`` less the umask,
    as ``>`` in a shell would — never ``mkstemp``'s private 0600."""
    try:
        info = os.stat(path)
    except OSError:
        return NEW_FILE_MODE & ~current_umask()
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else NEW_FILE_MODE & ~current_umask()


def write_atomic(path: str | Path, data: str | bytes, flag: str = "-o") -> None:
    """Write ``data`` (text as UTF-8, or bytes) to a temporary file beside ``path`` (a unique name,
    created exclusively: a planted link is never followed), give it :func:`output_mode`, then rename
    it into place; ``flag`` names the option in an error."""
    p = check_writable(path, flag, force=True)  # read-only and input checks are the command's, before any work
    mode = output_mode(p)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror}", f"{flag} {p}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: ``schema_version`` of a JSON output whose result type does not carry its own (training cost, sweep,
#: catalog and techniques listings): every JSON document a command prints names its version.
DEFAULT_SCHEMA_VERSION = 1


#: What each result type is, as its JSON's ``kind`` (a script reading any ``--format json`` output can
#: tell them apart); types with a ``kind`` field of their own (the plan) keep theirs.
RESULT_KINDS = {"Estimate": "estimate", "TrainingCost": "training-cost",
                "Explanation": "explanation", "BreakEven": "breakeven", "Calibration": "calibration",
                "SweepResult": "sweep"}


def to_json(result: BaseModel) -> str:
    """A result model as indented JSON (every command's ``--format json``), ``schema_version`` first
    when the model has no such field, then ``kind`` (:data:`RESULT_KINDS`) when it has none (its own
    fields keep pydantic's rendering byte for byte)."""
    text = result.model_dump_json(indent=2)
    if not text.startswith("{\n"):
        return text + "\n"
    fields = type(result).model_fields
    kind = RESULT_KINDS.get(type(result).__name__)
    head, body = "{\n", text[2:]
    if "schema_version" in fields and body.startswith('  "schema_version": '):
        line, _, body = body.partition("\n")
        head += line + "\n"
    elif "schema_version" not in fields:
        head += f'  "schema_version": {DEFAULT_SCHEMA_VERSION},\n'
    if kind is not None and "kind" not in fields:
        head += f'  "kind": "{kind}",\n'
    return head + body + "\n"


def json_document(data: dict[str, Any] | list[Any], key: str = "rows", kind: str | None = None) -> str:
    """Plain data as an indented JSON object with ``schema_version`` first (then ``kind`` when given);
    a list goes under ``key``."""
    body = {key: data} if isinstance(data, list) else data
    head: dict[str, Any] = {"schema_version": DEFAULT_SCHEMA_VERSION} | ({"kind": kind} if kind else {})
    return json.dumps({**head, **body}, indent=2) + "\n"
