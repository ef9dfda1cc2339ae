"""A sweep's output file: CSV or JSON Lines rows streamed as batches complete, and read back for
``--resume`` (a torn or foreign row is dropped and the file rewritten).  Beside it,
``NAME.sweep.json`` records the sweep's fingerprint: ``--resume`` continues only a file written by
the same sweep (scenario, points, seed, catalog overlays) and never rewrites another file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from planner.catalog.store import overlay_files
from planner.errors import InputError, OutputError
from planner.output import check_writable, output_mode, write_atomic

SIDECAR_SUFFIX = ".sweep.json"
#: Error rows that start with this were infrastructure faults (a lost worker or scheduler), not the
#: scenario's: ``--resume`` recomputes them.
INFRASTRUCTURE_ERROR = "worker lost"

FIXED_COLUMNS = ("index", "seed", "status", "lifetime_cost_usd", "bound_usd", "one_time_cost_usd", "recurring_cost_usd",
                 "nominal_variant_cost_usd", "nominal_variant_bound_usd", "variant", "fleet", "solver_seconds", "error")


def flatten(row: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    flat = {k: row.get(k) for k in FIXED_COLUMNS}
    flat.update({p: row.get("inputs", {}).get(p) for p in paths})
    return flat


def read_done(path: Path, paths: Sequence[str], points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows already in ``path`` (for --resume), but for infrastructure failures (retried).  A row is
    kept only when it is whole: the file's last
    line without its newline is torn and dropped, and every row must hold ``index`` of a point of
    this sweep with exactly that point's inputs (a row torn inside a value parses as a number, but
    not as its point's).  When rows are dropped the file is rewritten without them."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # the unfinished last line
    rows: list[dict[str, Any]] = []
    if path.suffix == ".csv":
        reader = list(csv.DictReader(io.StringIO(text)))
        expected = len(FIXED_COLUMNS) + len(paths)
        parsed = [_csv_row(r, paths) for r in reader
                  if len(r) == expected and None not in r.values() and r.get("error") is not None]
        candidates = [r for r in parsed if r is not None]
        total = len(reader)
    else:
        lines = text.splitlines()
        candidates = []
        for line in lines:  # a line that is not JSON is dropped alone, as a CSV row is (reading
            try:            # stopped there, and every whole row after it was planned again)
                candidates.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        total = len(lines)
    rows = [r for r in candidates if _matches_point(r, points)
            and not str(r.get("error") or "").startswith(INFRASTRUCTURE_ERROR)]
    if len(rows) != total or text != path.read_text(encoding="utf-8"):
        write_all(path, rows, paths)
    return rows


def _csv_row(r: dict[str, str], paths: Sequence[str]) -> dict[str, Any] | None:
    try:
        return from_csv(r, paths)
    except (ValueError, KeyError):
        return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        return bool(a == b or str(a) == str(b))
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)


def _matches_point(row: Mapping[str, Any], points: Sequence[Mapping[str, Any]]) -> bool:
    """``row`` is a result of this sweep's point ``row["index"]``, with that point's inputs."""
    index = row.get("index")
    if not isinstance(index, int | float) or isinstance(index, bool) or int(index) != index:
        return False
    if not 0 <= int(index) < len(points) or not isinstance(row.get("inputs"), dict):
        return False
    point = points[int(index)]
    return set(row["inputs"]) == set(point) and all(_same(row["inputs"][k], v) for k, v in point.items())


def fingerprint(scenario_json: str, points: Sequence[Mapping[str, Any]], overlays: Sequence[str],
                monte_carlo_seed: int | None) -> str:
    """A digest of what a sweep computes: the scenario, every point, the seed and the overlays' contents."""
    digest = hashlib.sha256()
    digest.update(scenario_json.encode())
    digest.update(json.dumps([dict(p) for p in points], sort_keys=True, default=str).encode())
    digest.update(repr(monte_carlo_seed).encode())
    for file in overlay_files(overlays):
        digest.update(str(file).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def sidecar(path: Path) -> Path:
    """Where a sweep output's fingerprint lives: ``NAME.sweep.json`` beside it."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def claim_output(path: Path, fp: str, resume: bool) -> None:
    """A new output gets its fingerprint; a resumed one must carry this sweep's."""
    marker = sidecar(path)
    if resume and path.exists():
        if not marker.is_file():
            raise InputError(f"was not written by a whatif sweep (no {marker.name} beside it): --resume continues "
                             "only its own sweep's file", "-o")
        try:
            recorded = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if recorded != fp:
            raise InputError(f"holds another sweep ({marker.name}: its scenario, points, seed or catalog overlays "
                             "differ from this one); choose another file", "-o")
        return
    write_atomic(marker, json.dumps({"fingerprint": fp, "tool": "whatif sweep"}) + "\n")


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
    """Rewrite ``path`` with ``rows`` through a uniquely named temporary file created exclusively
    beside it (a planted link at a predictable name is never followed).  The file gets
    :func:`planner.output.output_mode`: an existing file keeps its mode, a new one honours the umask
    (never ``mkstemp``'s private 0600)."""
    mode = output_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), mode)
            append(handle, path.suffix, rows, paths, header=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append(handle, suffix: str, rows: list[dict[str, Any]], paths: Sequence[str], header: bool) -> None:  # type: ignore[no-untyped-def]
    """Write ``rows`` to the open output; a failed write (a full disk) is an :class:`OutputError`
    naming the file — the rows written before it stay, and ``--resume`` continues from them."""
    try:
        _append(handle, suffix, rows, paths, header)
    except OSError as exc:
        raise OutputError(f"cannot write rows: {exc.strerror or exc}; the rows written so far are kept, "
                          "--resume continues once there is room", f"-o {getattr(handle, 'name', '')}") from None


def _append(handle, suffix: str, rows: list[dict[str, Any]], paths: Sequence[str], header: bool) -> None:  # type: ignore[no-untyped-def]
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
