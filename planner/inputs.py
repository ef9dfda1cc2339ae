"""Bounded input files: only regular files are read, and none larger than its kind's limit.

Checked with ``stat`` before anything is opened, so a FIFO never blocks and ``/dev/zero`` is never
read; at most ``limit + 1`` bytes are read, so a file that grows meanwhile is still refused.  An
error names the file and the reason — never the file's content.

``-`` names standard input: read through the same limit (at most ``limit + 1`` bytes), so a
pipe that never ends is refused once past it rather than filling memory.

Limits (bytes), far above any real input of each kind and far below what would exhaust memory:
scenario files and catalog overlays 16 MiB, measurement CSVs 64 MiB, calibration measurements and
Hugging Face ``config.json`` files 16 MiB.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import sys
import tomllib
from pathlib import Path
from typing import Any

from planner.errors import PlannerError

#: The path that names standard input.
STDIN_PATH = "-"
MIB = 1024 * 1024
#: Largest accepted file per kind, bytes (module docstring).
LIMIT_BYTES = {"scenario": 16 * MIB, "catalog overlay": 16 * MIB, "measurements CSV": 64 * MIB,
               "calibration measurements": 16 * MIB, "config.json": 16 * MIB}


def read_bounded(path: str | Path, kind: str, error: type[PlannerError], where: str | None = None) -> bytes:
    """The bytes of ``path``, a regular file of at most ``LIMIT_BYTES[kind]``; else ``error``."""
    if str(path) == STDIN_PATH:
        return _read_stdin(kind, error, where or "stdin (-)")
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
        raise error(f"is {info.st_size / MIB:,.1f} MiB ({info.st_size:,} bytes): a {kind} file may hold at most "
                    f"{limit // MIB} MiB ({limit:,} bytes)", where)  # 16 MiB + 1 byte reads 16.0 MiB alone
    try:
        with p.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", where) from None
    if len(data) > limit:
        raise error(f"grew past {limit // MIB} MiB while being read", where)
    return data


def _read_stdin(kind: str, error: type[PlannerError], where: str) -> bytes:
    """Standard input's bytes, at most ``LIMIT_BYTES[kind]``; else ``error``."""
    limit = LIMIT_BYTES[kind]
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode("utf-8")
    except (OSError, ValueError) as exc:  # closed or unreadable stdin
        raise error(f"cannot read standard input: {exc}", where) from None
    if len(data) > limit:
        raise error(f"holds more than {limit // MIB} MiB: a {kind} may hold at most {limit // MIB} MiB", where)
    return data


#: The longest key an error message repeats from a file (a longer one is cut: a message never echoes
#: the file's content at length, e.g. a 200,000-character table name declared twice).
MAX_ECHOED_KEY = 80
#: A key is named in an error only when it looks like one (bare or dotted, printable, short):
#: the line of a file that is not TOML at all is never echoed.
_KEY_SHAPE = re.compile(rf"[A-Za-z0-9_.\- ]{{1,{MAX_ECHOED_KEY}}}")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_DECLARED_TWICE = re.compile(r"Cannot declare (\(.*\)) twice \(at line (\d+), column \d+\)$")


def toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """``tomllib``'s message for ``exc``, with a key defined twice named: ``key 'workload.ttft_ms'
    defined twice (line 14)`` instead of ``Cannot overwrite a value (at line 14, column 20)``.

    ``tomllib`` (3.11) reports where the parser stood, not which key, and for a key on the last line
    "at end of document".  The first line at which a prefix of the text stops parsing with that
    same complaint ends the duplicate statement (a prefix cannot fail with it any earlier, so a
    bisection finds it); the statement is the shortest run of lines ending there that parses on
    its own, and its one leaf, under the last table header before it, is the key.
    """
    message = _bounded(str(exc))
    declared = _DECLARED_TWICE.match(str(exc))
    if declared:
        table = ".".join(ast.literal_eval(declared.group(1)))
        return f"table '{table}' declared twice (line {declared.group(2)})" if _KEY_SHAPE.fullmatch(table) else message
    if not message.startswith("Cannot overwrite a value"):
        return message
    lines = text.splitlines(keepends=True)
    end = _first_failing_prefix(lines)
    if end is None:
        return message
    key = _statement_key(lines, end)
    if key is None:
        return message
    return f"key '{key}' defined twice (line {end})"


def _bounded(message: str) -> str:
    """``tomllib``'s message with each quoted key longer than ``MAX_ECHOED_KEY`` characters cut to that
    many, its length said (``'xxx…' (200,000 characters)``)."""
    def cut(match: re.Match[str]) -> str:
        quote, body = match.group(0)[0], match.group(1) if match.group(1) is not None else match.group(2)
        if len(body) <= MAX_ECHOED_KEY:
            return match.group(0)
        return f"{quote}{body[:MAX_ECHOED_KEY]}…{quote} ({len(body):,} characters)"

    return _QUOTED.sub(cut, message)


def _fails_as_duplicate(lines: list[str], count: int) -> bool:
    try:
        tomllib.loads("".join(lines[:count]))
    except tomllib.TOMLDecodeError as exc:
        return str(exc).startswith("Cannot overwrite a value")
    except (RecursionError, ValueError):
        return False
    return False


def _first_failing_prefix(lines: list[str]) -> int | None:
    """The fewest leading lines that fail as a duplicate (1-based: the duplicate's last line)."""
    lo, hi = 1, len(lines)
    if not _fails_as_duplicate(lines, hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if _fails_as_duplicate(lines, mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


#: Lines a duplicate statement (a multi-line array or string) may span for its key to be named.
MAX_STATEMENT_LINES = 200


def _statement_key(lines: list[str], end: int) -> str | None:
    for start in range(end, max(0, end - MAX_STATEMENT_LINES), -1):
        try:
            parsed = tomllib.loads("".join(lines[start - 1:end]))
        except (tomllib.TOMLDecodeError, RecursionError, ValueError):
            continue
        path = _single_leaf(parsed)
        if path is None:
            return None
        header = None if _HEADER.match(lines[start - 1]) else _table_before(lines, start)
        key = ".".join(([header] if header else []) + path)
        return key if _KEY_SHAPE.fullmatch(key) else None
    return None


def _single_leaf(parsed: dict[str, Any]) -> list[str] | None:
    """The key path of a document holding exactly one key at each level (``a.b = 1``)."""
    path: list[str] = []
    node: Any = parsed
    while isinstance(node, dict):
        if len(node) != 1:
            return None if not path or node else path
        key, node = next(iter(node.items()))
        path.append(key)
    return path


_HEADER = re.compile(r"\s*\[\[?\s*([^\]\[#]+?)\s*\]\]?\s*(#.*)?$")


def _table_before(lines: list[str], start: int) -> str | None:
    """The table (``[horizon]``) or array of tables (``[[workload]]``) that line ``start`` belongs to."""
    for line in reversed(lines[:start - 1]):
        match = _HEADER.match(line)
        if match:
            return match.group(1).replace('"', "").replace(" ", "")
    return None
