"""Atomic output (a failed run leaves no half-written file) and the JSON text of a result."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

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


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` (a unique name, created exclusively: a
    planted link is never followed), then rename it into place."""
    p = check_writable(path, force=True)  # read-only and input checks are the command's, before any work
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror}", f"-o {p}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(result: BaseModel) -> str:
    """A result model as indented JSON (every command's ``--format json``)."""
    return result.model_dump_json(indent=2) + "\n"
