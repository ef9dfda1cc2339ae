r"""Fit the roofline's efficiency factors to measurements (``whatif calibrate``).

Measurements are ``[[case]]`` rows (:class:`MeasuredCase`; README "Calibration
input"; ``planner/data/calibration-example.toml`` ships as an example, printed by
``whatif calibrate --example``): model, hardware, precision, optional kv_precision, tp, gpus,
batch (else the largest that fits, capped at ``max_batch``), input/output tokens, ``metric`` —
``output_tokens_per_s``, ``ttft_ms``, ``tpot_ms``, ``prefill_ms`` or ``decode_step_ms`` —
``published`` = the measured value, and ``source``.  They are validated like a scenario: an unknown
key is refused naming its row and field (``m.toml: case[c1].max_batchh``).

For each (hardware, precision) group the two factors ``compute`` and ``memory`` minimise the sum
of squared log errors ``Σ log(predicted / measured)²`` (coordinate descent on a grid, then a finer
grid around the best point; both in ``(0, MAX_FACTOR]``).  ``MAX_FACTOR`` is 1, the physical
bound, and not the 0.90 ceiling of the shipped catalog's own fit (``benchmarks/fit_efficiency.py``):
that fit pools several publications per row and keeps every factor below a claim of near-perfect use
of a peak, while here the user's own measurements of their own engine are the evidence, and a factor
that needs more than 0.90 to meet them is what they measured (it is reported; at 1 it is a warning).

A factor the measurements do not constrain is not fitted: when no measurement's prediction moves
by more than ``MIN_SENSITIVITY`` (relative) as the factor changes by ``±SENSITIVITY_STEP``, the
factor keeps its catalog value and the report says so (e.g. only memory-bound decode measurements
say nothing about compute), and the other factor is fitted again beside that value (until the
sixteenth session it kept the value fitted beside the discarded one: a decode step still moves a
little with compute, so the pair reported was not the best pair with compute at the catalog's).  A fitted factor that ends at a bound of its range (``MAX_FACTOR``
or the grid's lowest value) is reported as a warning: the measurements ask for more (or less) than
the roofline can give, and the error left says how much.  The result is written as a catalog
overlay of ``[[efficiency]]`` rows (``--catalog`` applies it), with the errors before and after
per row.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.catalog.schema import EfficiencyRow
from planner.catalog.store import Catalog
from planner.errors import FitError, InputError
from planner.inputs import read_bounded, toml_error
from planner.physics.deployment import estimate, model_is_file

MAX_FACTOR = 1.0
COARSE_GRID = np.round(np.arange(0.05, MAX_FACTOR + 1e-9, 0.05), 3)
FINE_STEP = 0.005
SENSITIVITY_STEP = 0.2
MIN_SENSITIVITY = 0.02
#: Coordinate-descent passes per grid (coarse, then fine).
PASSES = 2
#: the two factors of a row, in the order the descent visits them
FACTORS = ("compute", "memory")
METRICS = ("output_tokens_per_s", "ttft_ms", "tpot_ms", "prefill_ms", "decode_step_ms")


PositiveInt = Annotated[int, Field(ge=1, le=10_000_000)]


class MeasuredCase(BaseModel):
    """One ``[[case]]`` row of ``whatif calibrate`` input; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: Annotated[str, Field(min_length=1, max_length=256)]
    model: Annotated[str, Field(min_length=1, max_length=4096, description="catalog slug or config.json path")]
    hardware: str
    precision: str
    kv_precision: str | None = None
    tp: PositiveInt
    gpus: PositiveInt | None = None
    batch: PositiveInt | None = Field(None, description="concurrent sequences; omitted = largest that fits")
    max_batch: PositiveInt | None = Field(None, description="the engine's cap on concurrent sequences")
    input_tokens: PositiveInt
    output_tokens: PositiveInt
    metric: Literal["output_tokens_per_s", "ttft_ms", "tpot_ms", "prefill_ms", "decode_step_ms"]
    published: Annotated[float, Field(gt=0, allow_inf_nan=False)]  # a number: "6500" (a string) is refused
    source: str | None = None
    # the publication, when several cases' `source` texts name one (leave-one-source-out; validation only)
    source_key: str | None = None
    tolerance: Annotated[float, Field(ge=0, strict=False)] | None = None  # read by the validation cases only
    assumption: str | None = None


class MeasurementsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    case: Annotated[list[dict[str, Any]], Field(min_length=1)]


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
    engine: str | None = None  # the engine of the row it replaces (the fit ran the roofline with its factors)


class Calibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    kind: str = "calibration"
    factors: list[FittedFactor]
    rows: list[RowError]
    median_abs_error_before: float
    median_abs_error_after: float
    warnings: list[str] = []


def read_measurements(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[case]]`` rows of ``path``, each validated (:class:`MeasuredCase`; absent keys dropped)."""
    p = Path(path)
    raw = read_bounded(p, "calibration measurements", InputError)
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {toml_error(exc, text)}", str(p)) from None
    try:
        cases = MeasurementsFile.model_validate(data).case
    except ValidationError as exc:
        raise _named(exc, p.name, "") from None
    rows = []
    for i, row in enumerate(cases):
        label = row.get("id") if isinstance(row.get("id"), str) and row.get("id") else i
        try:
            rows.append(MeasuredCase.model_validate(row).model_dump(exclude_none=True))
        except ValidationError as exc:
            raise _named(exc, p.name, f"case[{label}].") from None
    return rows


def _named(exc: ValidationError, file: str, prefix: str) -> InputError:
    """The first problem of ``exc`` as ``file: prefix.field: reason`` (as a scenario's are)."""
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or "file"
    reason = {"extra_forbidden": "unknown key (typo?)", "missing": "required field missing"}.get(err["type"], err["msg"])
    if field == "case" and err["type"] == "too_short":
        reason = "no [[case]] rows"
    if err["type"] == "literal_error":
        reason = f"must be one of {err.get('ctx', {}).get('expected', '')}"
    if field == "published":
        reason = "must be a positive number"
    return InputError(reason, f"{file}: {prefix}{field}")


def _with_factor(catalog: Catalog, hardware: str, precision: str, compute: float, memory: float) -> Catalog:
    rows = dict(catalog.efficiency)
    rows[(hardware, precision)] = EfficiencyRow(hardware=hardware, precision=precision, compute=float(compute),
                                                memory=float(memory),
                                                note="calibrating", source="whatif calibrate", source_date="2026-01-01",
                                                engine=catalog.efficiency_for(hardware, precision).engine)
    return dataclasses.replace(catalog, efficiency=rows)


def _with_max_batch(catalog: Catalog, row: dict[str, Any]) -> Catalog:
    """The catalog with the row's engine cap on concurrent sequences (``max_batch``), if it has one."""
    if "max_batch" not in row:
        return catalog
    return dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_batch": row["max_batch"]}))


def case_model_files(path: str | Path) -> list[str]:
    """The Hugging Face ``config.json`` files the cases of ``path`` name as their model, resolved as
    :func:`_predict` reads them (a relative ``.json`` path from the measurements file's folder, a
    folder as its ``config.json``): ``calibrate -o`` must not replace one (it did until the sixteenth
    session, writing the overlay over the config)."""
    base = Path(path).resolve().parent
    try:  # the file as written: its errors are calibrate's to report, with their fields
        cases = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("case", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    out: list[str] = []
    for row in cases if isinstance(cases, list) else []:
        model = row.get("model") if isinstance(row, dict) else None
        if not isinstance(model, str) or not model_is_file(model):
            continue
        resolved = Path(_model_ref(model, base))
        out.append(str(resolved / "config.json" if resolved.is_dir() else resolved))
    return out


def _model_ref(model: str, base: Path) -> str:
    """A case's model as the estimator reads it: a relative ``.json`` path from the measurements
    file's folder ``base``; anything else (a slug, an absolute path, a folder) as written."""
    return str((base / model).resolve()) if model.endswith(".json") and not Path(model).is_absolute() else model


def _predict(row: dict[str, Any], catalog: Catalog, base: Path) -> float | None:
    catalog = _with_max_batch(catalog, row)
    model = _model_ref(row["model"], base)
    try:
        est = estimate(model, row["hardware"], precision=row["precision"], kv_precision=row.get("kv_precision"),
                       tp=row["tp"], gpus=row.get("gpus"), batch=row.get("batch"),
                       input_tokens=row["input_tokens"], output_tokens=row["output_tokens"], catalog=catalog)
    except FitError:
        return None
    return float(getattr(est, row["metric"]))


def _check_case(row: dict[str, Any], catalog: Catalog, base: Path, where: str) -> None:
    """A case the estimator refuses whatever the factors (a TP the model or the board cannot take, a
    deployment that does not fit memory — the factors do not move the fit) is bad input naming the case:
    it once printed ``median |error|: inf%`` and wrote an overlay."""
    try:
        if _predict(row, catalog, base) is None:
            raise InputError("does not fit the hardware's memory at this TP and batch (no factor changes that)", where)
    except InputError as exc:
        if exc.field.startswith(where):
            raise
        raise InputError(exc.reason, f"{where}.{exc.field}" if exc.field else where) from None


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


def _descend(rows: list[dict[str, Any]], catalog: Catalog, base: Path, hw: str, prec: str, compute: float,
             memory: float, free: tuple[str, ...]) -> tuple[float, float]:
    """Coordinate descent over the ``free`` factors (module docstring): ``PASSES`` passes over the
    coarse grid, then over a fine grid around the best point; the other factor stays as given."""
    for grid in (COARSE_GRID, None):
        for _ in range(PASSES):
            for which in free:
                center = compute if which == "compute" else memory
                values = grid if grid is not None else np.unique(np.clip(
                    np.round(center + FINE_STEP * np.arange(-8, 9), 4), COARSE_GRID[0], MAX_FACTOR))

                def loss_of(v: float, which: str = which, compute: float = compute, memory: float = memory) -> float:
                    c, m = (v, memory) if which == "compute" else (compute, v)
                    return _loss(rows, _with_factor(catalog, hw, prec, c, m), base)

                best = float(min(values, key=loss_of))
                compute, memory = (best, memory) if which == "compute" else (compute, best)
    return compute, memory


def calibrate(path: str | Path, catalog: Catalog) -> Calibration:
    rows = read_measurements(path)
    base = Path(path).resolve().parent
    name = Path(path).name
    for row in rows:  # errors name the file, as read_measurements' do (m.toml: case[c1].hardware: ...)
        catalog.get_hardware(row["hardware"], f"{name}: case[{row['id']}].hardware")
        catalog.get_precision(row["precision"], f"{name}: case[{row['id']}].precision")
        _check_case(row, catalog, base, f"{name}: case[{row['id']}]")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["hardware"], row["precision"])].append(row)
    fitted = catalog
    factors: list[FittedFactor] = []
    for (hw, prec), members in sorted(groups.items()):
        start = catalog.efficiency_for(hw, prec)
        compute, memory = _descend(members, catalog, base, hw, prec, start.compute, start.memory, FACTORS)
        compute_ok = _sensitive(members, catalog, base, hw, prec, compute, memory, "compute")
        memory_ok = _sensitive(members, catalog, base, hw, prec, compute, memory, "memory")
        unfitted = [name for name, ok in (("compute", compute_ok), ("memory", memory_ok)) if not ok]
        if unfitted:  # kept from the catalog, and the other factor fitted beside that value, not the moved one
            compute, memory = _descend(members, catalog, base, hw, prec, compute if compute_ok else start.compute,
                                       memory if memory_ok else start.memory,
                                       tuple(f for f in FACTORS if f not in unfitted))
        note = (f"least squares (log error) over {len(members)} measurement(s)"
                + (f"; not constrained by these measurements, kept from the catalog: {', '.join(unfitted)}"
                   if unfitted else ""))
        factors.append(FittedFactor(hardware=hw, precision=prec, compute=compute, memory=memory,
                                    compute_fitted=compute_ok, memory_fitted=memory_ok, measurements=len(members),
                                    note=note, engine=start.engine))
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
                       median_abs_error_after=median("after"), warnings=_bound_warnings(factors, errors, rows))


def _bound_warnings(factors: list[FittedFactor], errors: list[RowError], rows: list[dict[str, Any]]) -> list[str]:
    """One line per fitted factor that ended at a bound of its range, with the error left in its group."""
    group_of = {row["id"]: (row["hardware"], row["precision"]) for row in rows}
    out = []
    for f in factors:
        left = [abs(e.after / e.measured - 1) for e in errors
                if e.after is not None and group_of[e.id] == (f.hardware, f.precision)]
        error_left = f"{float(np.median(left)):.0%}" if left else "no prediction"
        for which, value, fitted in (("compute", f.compute, f.compute_fitted), ("memory", f.memory, f.memory_fitted)):
            at_top, at_bottom = value >= MAX_FACTOR - 1e-9, value <= COARSE_GRID[0] + 1e-9
            if fitted and (at_top or at_bottom):
                out.append(f"{f.hardware} {f.precision}: the fitted {which} factor {value:.3f} sits at its "
                           f"{'upper' if at_top else 'lower'} bound, median |error| left {error_left}: the "
                           f"measurements ask for a {'faster' if at_top else 'slower'} machine than the roofline "
                           "can model — check their units, batch and max_batch, or the hardware's peak figures")
    return out


def overlay_toml(result: Calibration, source: str, date: str) -> str:
    """The fitted factors as a catalog overlay (``--catalog FILE`` applies it)."""
    lines = ["# Efficiency factors fitted by `whatif calibrate`. Apply with: whatif --catalog THIS_FILE ...",
             *(f"# warning: {w}" for w in result.warnings), "schema_version = 1", ""]
    for f in result.factors:
        # the row keeps the engine it was fitted with: without it the overlay read as tensorrt-llm's and
        # refused --engine vllm on an MI300X row fitted on vLLM
        engine = [f'engine = "{f.engine}"'] if f.engine else []
        lines += ["[[efficiency]]", f'hardware = "{f.hardware}"', f'precision = "{f.precision}"', *engine,
                  f"compute = {f.compute:.4f}", f"memory = {f.memory:.4f}", f'note = "{f.note}"',
                  f'source = "whatif calibrate on {source}"', f'source_date = "{date}"', ""]
    return "\n".join(lines)
