"""A sweep's output file: CSV or JSON Lines rows streamed as batches complete, and read back for
``--resume`` (a torn last line from an interrupted run is dropped and the file rewritten).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.output import check_writable

FIXED_COLUMNS = ("index", "seed", "status", "lifetime_cost_usd", "one_time_cost_usd", "recurring_cost_usd",
                 "nominal_variant_cost_usd", "variant", "fleet", "solver_seconds", "error")


def flatten(row: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    flat = {k: row.get(k) for k in FIXED_COLUMNS}
    flat.update({p: row.get("inputs", {}).get(p) for p in paths})
    return flat


def read_done(path: Path, paths: Sequence[str]) -> list[dict[str, Any]]:
    """Rows already in ``path`` (for --resume); a torn last line is dropped and the file rewritten."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = []
    if path.suffix == ".csv":
        reader = list(csv.DictReader(io.StringIO(text)))
        expected = len(FIXED_COLUMNS) + len(paths)
        complete = [r for r in reader if len(r) == expected and None not in r.values() and r.get("error") is not None]
        rows = [from_csv(r, paths) for r in complete]
        if len(complete) != len(reader) or (text and not text.endswith("\n")):
            write_all(path, rows, paths)
        return rows
    lines = text.splitlines()
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if len(rows) != len(lines) or (text and not text.endswith("\n")):
        write_all(path, rows, paths)
    return rows


def number(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def from_csv(r: dict[str, str], paths: Sequence[str]) -> dict[str, Any]:
    """A CSV row back in the in-memory shape (inputs nested, numbers as numbers)."""
    row: dict[str, Any] = {k: number(r[k]) for k in FIXED_COLUMNS}
    row["index"] = int(r["index"])
    row["seed"] = None if r["seed"] == "" else int(float(r["seed"]))
    for key in ("status", "variant", "fleet", "error"):
        row[key] = r[key] or None
    row["inputs"] = {p: number(r[p]) for p in paths}
    return row


def write_all(path: Path, rows: list[dict[str, Any]], paths: Sequence[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        append(handle, path.suffix, rows, paths, header=True)
    os.replace(tmp, path)


def append(handle, suffix: str, rows: list[dict[str, Any]], paths: Sequence[str], header: bool) -> None:  # type: ignore[no-untyped-def]
    if suffix == ".csv":
        writer = csv.DictWriter(handle, fieldnames=[*FIXED_COLUMNS, *paths])
        if header:
            writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in (row if "inputs" not in row
                                                                      else flatten(row, paths)).items()})
    else:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True) + "\n")
    handle.flush()




def check_output(out_path: Path, resume: bool) -> None:
    """A sweep output is a writable .csv or .jsonl that is new, or that ``resume`` continues."""
    check_writable(out_path)
    if out_path.suffix not in (".csv", ".jsonl"):
        raise InputError("output must end in .csv or .jsonl", "-o")
    if out_path.exists() and not resume:
        raise InputError("exists; pass --resume to continue it, or choose another file", "-o")
