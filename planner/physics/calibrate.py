r"""Fit the roofline's efficiency factors to measurements (``whatif calibrate``).

Measurements use the calibration-case format (``[[case]]`` rows: model, hardware, precision,
optional kv_precision, tp, gpus, batch, input/output tokens, ``metric`` — ``output_tokens_per_s``,
``ttft_ms``, ``tpot_ms``, ``prefill_ms`` or ``decode_step_ms`` — ``published`` = the measured value,
and ``source``).  For each (hardware, precision) group the two factors ``compute`` and ``memory``
minimise the sum of squared log errors ``Σ log(predicted / measured)²`` (coordinate descent on a
grid, then a finer grid around the best point; both in ``(0, MAX_FACTOR]``).

A factor the measurements do not constrain is not fitted: when no measurement's prediction moves
by more than ``MIN_SENSITIVITY`` (relative) as the factor changes by ``±SENSITIVITY_STEP``, the
factor keeps its catalog value and the report says so (e.g. only memory-bound decode measurements
say nothing about compute).  The result is written as a catalog overlay of ``[[efficiency]]`` rows
(``--catalog`` applies it), with the errors before and after per row.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import EfficiencyRow
from planner.catalog.store import Catalog
from planner.errors import FitError, InputError
from planner.inputs import read_bounded
from planner.physics.deployment import estimate

MAX_FACTOR = 1.0
COARSE_GRID = np.round(np.arange(0.05, MAX_FACTOR + 1e-9, 0.05), 3)
FINE_STEP = 0.005
SENSITIVITY_STEP = 0.2
MIN_SENSITIVITY = 0.02
#: Coordinate-descent passes per grid (coarse, then fine).
PASSES = 2
METRICS = ("output_tokens_per_s", "ttft_ms", "tpot_ms", "prefill_ms", "decode_step_ms")


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    metric: str
    measured: float
    before: float | None
    after: float | None


class FittedFactor(BaseModel):
    model_config = ConfigDict(frozen=True)

    hardware: str
    precision: str
    compute: float
    memory: float
    compute_fitted: bool
    memory_fitted: bool
    measurements: int
    note: str


class Calibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    kind: str = "calibration"
    factors: list[FittedFactor]
    rows: list[RowError]
    median_abs_error_before: float
    median_abs_error_after: float


def read_measurements(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    try:
        data = tomllib.loads(read_bounded(p, "calibration measurements", InputError).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", str(p)) from None
    rows = data.get("case")
    if not isinstance(rows, list) or not rows:
        raise InputError("no [[case]] rows", str(p))
    required = ("id", "model", "hardware", "precision", "tp", "input_tokens", "output_tokens", "metric", "published")
    for i, row in enumerate(rows):
        missing = [k for k in required if k not in row]
        if missing:
            raise InputError(f"missing {', '.join(missing)}", f"{p.name}: case[{row.get('id', i)}]")
        if row["metric"] not in METRICS:
            raise InputError(f"metric must be one of {', '.join(METRICS)}", f"{p.name}: case[{row['id']}].metric")
        value = row["published"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InputError("must be a positive number", f"{p.name}: case[{row['id']}].published")
    return rows


def _with_factor(catalog: Catalog, hardware: str, precision: str, compute: float, memory: float) -> Catalog:
    rows = dict(catalog.efficiency)
    rows[(hardware, precision)] = EfficiencyRow(hardware=hardware, precision=precision, compute=float(compute),
                                                memory=float(memory),
                                                note="calibrating", source="whatif calibrate", source_date="2026-01-01")
    return dataclasses.replace(catalog, efficiency=rows)


def _predict(row: dict[str, Any], catalog: Catalog, base: Path) -> float | None:
    model = row["model"]
    if model.endswith(".json") and not Path(model).is_absolute():
        model = str((base / model).resolve())
    try:
        est = estimate(model, row["hardware"], precision=row["precision"], kv_precision=row.get("kv_precision"),
                       tp=row["tp"], gpus=row.get("gpus"), batch=row.get("batch"),
                       input_tokens=row["input_tokens"], output_tokens=row["output_tokens"], catalog=catalog)
    except FitError:
        return None
    return float(getattr(est, row["metric"]))


def _loss(rows: list[dict[str, Any]], catalog: Catalog, base: Path) -> float:
    total = 0.0
    for row in rows:
        pred = _predict(row, catalog, base)
        total += 1e6 if pred is None or pred <= 0 else math.log(pred / row["published"]) ** 2
    return total


def _sensitive(rows: list[dict[str, Any]], catalog: Catalog, base: Path, hw: str, prec: str, compute: float,
               memory: float, which: str) -> bool:
    """Does any prediction move by MIN_SENSITIVITY when ``which`` changes by ±SENSITIVITY_STEP?"""
    for row in rows:
        at = _predict(row, _with_factor(catalog, hw, prec, compute, memory), base)
        for f in (1 - SENSITIVITY_STEP, 1 + SENSITIVITY_STEP):
            c, m = (min(MAX_FACTOR, compute * f), memory) if which == "compute" else (compute, min(MAX_FACTOR, memory * f))
            moved = _predict(row, _with_factor(catalog, hw, prec, c, m), base)
            if at and moved and abs(moved / at - 1) > MIN_SENSITIVITY:
                return True
    return False


def calibrate(path: str | Path, catalog: Catalog) -> Calibration:
    rows = read_measurements(path)
    base = Path(path).resolve().parent
    for row in rows:
        catalog.get_hardware(row["hardware"], f"case[{row['id']}].hardware")
        catalog.get_precision(row["precision"], f"case[{row['id']}].precision")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["hardware"], row["precision"])].append(row)
    fitted = catalog
    factors: list[FittedFactor] = []
    for (hw, prec), members in sorted(groups.items()):
        start = catalog.efficiency_for(hw, prec)
        compute, memory = start.compute, start.memory
        for grid in (COARSE_GRID, None):
            for _ in range(PASSES):
                for which in ("compute", "memory"):
                    center = compute if which == "compute" else memory
                    values = grid if grid is not None else np.unique(np.clip(
                        np.round(center + FINE_STEP * np.arange(-8, 9), 4), COARSE_GRID[0], MAX_FACTOR))
                    def loss_of(v: float) -> float:
                        c, m = (v, memory) if which == "compute" else (compute, v)
                        return _loss(members, _with_factor(catalog, hw, prec, c, m), base)
                    best = min(values, key=loss_of)
                    compute, memory = (float(best), memory) if which == "compute" else (compute, float(best))
        compute_ok = _sensitive(members, catalog, base, hw, prec, compute, memory, "compute")
        memory_ok = _sensitive(members, catalog, base, hw, prec, compute, memory, "memory")
        unfitted = [name for name, ok in (("compute", compute_ok), ("memory", memory_ok)) if not ok]
        compute = compute if compute_ok else start.compute
        memory = memory if memory_ok else start.memory
        note = (f"least squares (log error) over {len(members)} measurement(s)"
                + (f"; not constrained by these measurements, kept from the catalog: {', '.join(unfitted)}"
                   if unfitted else ""))
        factors.append(FittedFactor(hardware=hw, precision=prec, compute=compute, memory=memory,
                                    compute_fitted=compute_ok, memory_fitted=memory_ok, measurements=len(members),
                                    note=note))
        fitted = _with_factor(fitted, hw, prec, compute, memory)
    errors = []
    for row in rows:
        before, after = _predict(row, catalog, base), _predict(row, fitted, base)
        errors.append(RowError(id=row["id"], metric=row["metric"], measured=float(row["published"]),
                               before=before, after=after))

    def median(which: str) -> float:
        vals = [abs(getattr(e, which) / e.measured - 1) for e in errors if getattr(e, which) is not None]
        return float(np.median(vals)) if vals else math.inf

    return Calibration(factors=factors, rows=errors, median_abs_error_before=median("before"),
                       median_abs_error_after=median("after"))


def overlay_toml(result: Calibration, source: str, date: str) -> str:
    """The fitted factors as a catalog overlay (``--catalog FILE`` applies it)."""
    lines = ["# Efficiency factors fitted by `whatif calibrate`. Apply with: whatif --catalog THIS_FILE ...",
             "schema_version = 1", ""]
    for f in result.factors:
        lines += ["[[efficiency]]", f'hardware = "{f.hardware}"', f'precision = "{f.precision}"',
                  f"compute = {f.compute:.4f}", f"memory = {f.memory:.4f}", f'note = "{f.note}"',
                  f'source = "whatif calibrate on {source}"', f'source_date = "{date}"', ""]
    return "\n".join(lines)
