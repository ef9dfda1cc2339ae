"""Atomic output (a failed run leaves no half-written file) and the JSON text of a result."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

from planner.errors import OutputError


def check_writable(path: str | Path, flag: str = "-o") -> Path:
    """Fail early (before any work) when ``path`` cannot be written; ``flag`` names the option."""
    p = Path(path)
    where = f"{flag} {p}"
    if p.is_dir():
        raise OutputError("is a directory, expected a file path", where)
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"'{parent}' is a file, not a directory", where)
    if not parent.is_dir():
        raise OutputError(f"directory '{parent}' does not exist", where)
    if not os.access(parent, os.W_OK):
        raise OutputError(f"directory '{parent}' is not writable", where)
    return p


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    p = check_writable(path)
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
