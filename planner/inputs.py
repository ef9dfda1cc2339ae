"""Bounded input files: only regular files are read, and none larger than its kind's limit.

Checked with ``stat`` before anything is opened, so a FIFO never blocks and ``/dev/zero`` is never
read; at most ``limit + 1`` bytes are read, so a file that grows meanwhile is still refused.  An
error names the file and the reason — never the file's content.

Limits (bytes), far above any real input of each kind and far below what would exhaust memory:
scenario files and catalog overlays 16 MiB, measurement CSVs 64 MiB, calibration measurements and
Hugging Face ``config.json`` files 16 MiB.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from planner.errors import PlannerError

MIB = 1024 * 1024
#: Largest accepted file per kind, bytes (module docstring).
LIMIT_BYTES = {"scenario": 16 * MIB, "catalog overlay": 16 * MIB, "measurements CSV": 64 * MIB,
               "calibration measurements": 16 * MIB, "config.json": 16 * MIB}


def read_bounded(path: str | Path, kind: str, error: type[PlannerError], where: str | None = None) -> bytes:
    """The bytes of ``path``, a regular file of at most ``LIMIT_BYTES[kind]``; else ``error``."""
    p = Path(path)
    where = where or str(p)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        raise error("file not found", where) from None
    except NotADirectoryError:
        raise error("file not found (cannot read: a parent of it is not a directory)", where) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", where) from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"is a directory, expected a {kind} file", where)
    if not stat.S_ISREG(info.st_mode):
        raise error("is not a regular file (a pipe, socket or device?)", where)
    limit = LIMIT_BYTES[kind]
    if info.st_size > limit:
        raise error(f"is {info.st_size / MIB:,.1f} MiB: a {kind} file may hold at most {limit // MIB} MiB", where)
    try:
        with p.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", where) from None
    if len(data) > limit:
        raise error(f"grew past {limit // MIB} MiB while being read", where)
    return data
