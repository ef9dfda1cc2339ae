r"""Sweep points: grids and zips of ``PATH=SPEC`` values, and Monte Carlo draws.

SPEC is one of

* a list ``a,b,c`` — each item read as a TOML value (``5e6``, ``true``, ``"text"``);
* a linear range ``lo..hi:n`` — ``n`` evenly spaced values from ``lo`` to ``hi`` inclusive;
* a log range ``lo..hi:log:n`` — ``n`` values evenly spaced in ``log``.

A spec with a comma, or one that starts with a quote, is a list (``"../m/config.json",llama-3.1-8b``
holds ``..`` and is still two values).  A range of one point must have equal ends: ``1..5:1`` is
refused (its high end would silently be dropped).  On a field declared a whole number a range's
values are rounded to the nearest one (:func:`apply_point`).

Several ``--vary`` make the Cartesian product (a grid); ``--zip`` pairs them instead (equal lengths).
Monte Carlo draws each ``[uncertainty]`` field independently with ``numpy.random.default_rng(seed)``
in sorted path order, sample after sample — the same seed gives the same points everywhere.
Every path is checked against the scenario before any work starts.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
import types
import typing
from typing import Any

import numpy as np
from pydantic import BaseModel

from planner.errors import InputError, ScenarioError
from planner.scenario.loading import apply_override, parse_value, unknown_key_reason, validate_scenario
from planner.scenario.schema import Distribution, Scenario

Point = dict[str, Any]


#: Most points a grid may have (a 10^5 x 10^5 grid would fill memory before any row is written).
MAX_GRID_POINTS = 1_000_000
#: Tables of the scenario whose keys are free (hardware slugs, modes, terms): a sweep may add a key to
#: them, as ``--set`` may.  Whether a range or a draw on one is rounded follows its declared value type
#: (:func:`holds_whole_number`): GPU counts and months are, per-term discounts are not.
FREE_KEY_TABLES = frozenset({"market.quota_gpus", "market.lead_time_months", "market.gpus_per_unit",
                             "market.reserved_discount"})
#: Distinct axis values a grid checks one by one before it starts (each is a scenario validation, ~1 ms).
MAX_CHECKED_VALUES = 10_000
#: Draws a truncated normal may reject for one value before the distribution is called unusable.
MAX_TRUNCATION_ATTEMPTS = 100_000


def parse_spec(path: str, spec: str) -> list[Any]:
    where = f"--vary {path}"
    text = spec.strip()
    if ".." in text and "," not in text and not text.startswith(('"', "'")):  # '"../m/config.json",x' is a list
        lo_text, _, rest = text.partition("..")
        parts = rest.split(":")
        try:
            lo, hi = float(lo_text), float(parts[0])
            log = len(parts) == 3 and parts[1] == "log"
            if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
                raise ValueError
            n = int(parts[-1])
        except ValueError:
            raise InputError(f"'{spec}' is not lo..hi:n or lo..hi:log:n", where) from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InputError("range ends must be finite numbers", where)
        if lo > hi:
            raise InputError(f"range low end {lo:g} is above its high end {hi:g}", where)
        if not 1 <= n <= 100_000:
            raise InputError(f"number of points must be in [1, 100000], got {n}", where)
        if n == 1 and lo != hi:
            raise InputError(f"one point cannot span {lo:g}..{hi:g} (the ends are included): give n >= 2, "
                             f"or {lo:g}..{lo:g}:1", where)
        if log:
            if lo <= 0:
                raise InputError("a log range needs a positive low end", where)
            return [float(v) for v in np.geomspace(lo, hi, n)]
        return [float(v) for v in np.linspace(lo, hi, n)]
    values = [parse_value(item.strip()) for item in text.split(",") if item.strip()]
    if not values:
        raise InputError(f"'{spec}' has no values", where)
    return values


def grid(vary: Mapping[str, str], zipped: bool) -> list[Point]:
    axes = {path: parse_spec(path, spec) for path, spec in vary.items()}
    if not axes:
        raise InputError("nothing to sweep: give --vary PATH=SPEC (or a [sweep] table), or --samples N", "--vary")
    if zipped:
        lengths = {len(v) for v in axes.values()}
        if len(lengths) != 1:
            raise InputError(f"--zip needs equal lengths, got {sorted(lengths)}", "--zip")
        return [dict(zip(axes, values, strict=True)) for values in zip(*axes.values(), strict=True)]
    size = math.prod(len(v) for v in axes.values())
    if size > MAX_GRID_POINTS:
        sizes = " x ".join(f"{path} ({len(v)})" for path, v in axes.items())
        raise InputError(f"the grid has {size:,} points ({sizes}); at most {MAX_GRID_POINTS:,}: use fewer values "
                         "or --zip", "--vary")
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def draw(uncertainty: Mapping[str, Distribution], samples: int, seed: int) -> list[Point]:
    if not uncertainty:
        raise InputError("--samples needs an [uncertainty] table in the scenario", "uncertainty")
    if not 1 <= samples <= 1_000_000:
        raise InputError(f"must be in [1, 1000000], got {samples}", "--samples")
    rng = np.random.default_rng(seed)
    points: list[Point] = []
    for _ in range(samples):
        point: Point = {}
        for path in sorted(uncertainty):
            d = uncertainty[path]
            if d.dist == "uniform":
                value = rng.uniform(d.param("low"), d.param("high"))
            elif d.dist == "triangular":
                value = rng.triangular(d.param("low"), d.param("mode"), d.param("high"))
            elif d.dist == "lognormal":
                value = d.param("median") * math.exp(rng.normal(0.0, d.param("sigma")))
            else:  # normal truncated to [low, high] by resampling
                mean, sd, low, high = d.param("mean"), d.param("sd"), d.param("low"), d.param("high")
                value = rng.normal(mean, sd)
                attempts = 1
                while not low <= value <= high:
                    if attempts >= MAX_TRUNCATION_ATTEMPTS:
                        raise InputError(f"normal(mean {mean:g}, sd {sd:g}) falls in [{low:g}, {high:g}] too rarely "
                                         f"(no draw in {MAX_TRUNCATION_ATTEMPTS:,}): widen the bounds or the sd",
                                         f"uncertainty.{path}")
                    value = rng.normal(mean, sd)
                    attempts += 1
            point[path] = float(value)
        points.append(point)
    return points


def toml_literal(value: Any) -> str:
    """``value`` as the TOML text ``--set`` parses back to the same value (strings quoted once,
    booleans ``true``/``false``, numbers at full precision)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


#: Whether the scenario field at a path is declared a whole number (:func:`holds_whole_number`; the
#: sweep passes one that also reads the technique plug-ins' settings, which this stage cannot import).
WholeNumber = Callable[[str], bool]


def apply_point(scenario_json: str, point: Point, whole_number: WholeNumber | None = None) -> Scenario:
    """The scenario at ``point``.  A range or a draw gives floats; on a field declared a whole number
    (``horizon.months``, ``workload.<name>.input_tokens``, an unset ``plan.split_granularity``:
    ``whole_number``, default :func:`holds_whole_number`) the value is rounded to the nearest one.
    The declaration decides, not the value the file holds: a float setting written ``1`` in TOML (an
    integer, kept as one in the free-form ``technique_settings``) was rounded, so 0.5..2:4 planned
    0, 1, 2, 2 while the rows said 0.5, 1.0, 1.5, 2.0."""
    data = json.loads(scenario_json)
    for path, value in planned_point(point, whole_number).items():
        apply_override(data, f"{path}={toml_literal(value)}")
    return validate_scenario(data)


#: Rounding a range's point to a whole number: halves go up (0.5 → 1, 2.5 → 3), not to the even
#: neighbour as Python's ``round`` does (0.5,1.5,2.5,3.5 planned 0, 2, 2, 4: two rows of one point).
HALF = 0.5


def planned_point(point: Point, whole_number: WholeNumber | None = None) -> Point:
    """``point`` as it is planned: a float on a field declared a whole number rounded to the nearest one,
    halves up (:func:`apply_point`).  The sweep records these values, so a row's inputs are the ones its plan used
    and can be passed back with ``--set`` (until the twenty-first session a row read 866.6666666666666
    where 867 tokens were planned, and ``horizon.months`` read 6.0)."""
    whole = whole_number or holds_whole_number
    return {path: math.floor(value + HALF) if isinstance(value, float) and whole(path) else value
            for path, value in point.items()}


def holds_whole_number(path: str) -> bool:
    """Whether the scenario field at ``path`` is declared a whole number — also when it is unset
    (``plan.split_granularity``, ``solver.node_limit``: ``int | None``, holding None) and for a new key
    of a table of whole numbers (``market.quota_gpus.h200``).  Each part of the path steps one level
    down the declared types from :class:`Scenario`: a model's field, a list's element (addressed by
    its name), a table's value (addressed by its key)."""
    node: Any = Scenario
    for part in path.split("."):
        node = declared(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return False
            node = field.annotation
        elif typing.get_origin(node) in (list, dict):
            node = typing.get_args(node)[-1]
        else:
            return False
    return declared(node) is int


def declared(node: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` as ``X``; any other type as it is."""
    while True:
        args = [a for a in typing.get_args(node) if a is not type(None)]
        origin = typing.get_origin(node)
        if origin is typing.Annotated or (origin in (typing.Union, types.UnionType) and len(args) == 1):
            node = args[0]
        else:
            return node


def check_paths(scenario: Scenario, points: Sequence[Point], where: str = "--vary",
                whole_number: WholeNumber | None = None) -> None:
    """Every swept path exists, the first point validates, and so does each value of a grid's axes
    on its own (a bad value is exit 2 wherever it sits in the grid; up to ``MAX_CHECKED_VALUES``
    distinct values, beyond which a bad one is an error row) — before any work starts.
    ``where`` names the input in errors: ``--vary`` or ``uncertainty`` (Monte Carlo)."""
    if not points:
        raise InputError("the sweep has no points", where)
    text = scenario.model_dump_json()
    base = json.loads(text)
    for path in points[0]:
        if not _exists(base, path):
            raise InputError(f"unknown scenario path (array tables are addressed by name){_close_keys(base, path)}",
                             f"{where} {path}")
    try:
        apply_point(text, points[0], whole_number)
    except ScenarioError as exc:
        raise InputError(f"the first point is not a valid scenario: {exc}", where) from None
    if where != "--vary":
        return
    axes = {(path, json.dumps(value)): (path, value) for point in points for path, value in point.items()}
    if len(axes) > MAX_CHECKED_VALUES:
        return
    for path, value in axes.values():
        try:
            apply_point(text, {path: value}, whole_number)
        except ScenarioError as exc:
            raise InputError(f"{path} = {toml_literal(value)} is not a valid value: {exc}", f"{where} {path}") from None


def _close_keys(data: Any, path: str) -> str:
    """``; did you mean 'deadline_hours'?`` for the first part of ``path`` its table does not hold, with
    the keys ``--set`` and a file would suggest (:func:`planner.scenario.loading.unknown_key_reason`);
    empty where none is close or an array table has no element of that name."""
    loc = _missing(data, path)
    _, _, hint = unknown_key_reason(loc).partition(";") if loc else ("", "", "")
    return f";{hint}" if hint else ""


def _exists(data: Any, path: str) -> bool:
    """``path`` names a field of the scenario; an optional field left unset (``None``, its default
    taken from the catalog, e.g. ``market.useful_life_years``) exists too, and so does a new key of a
    table of free keys (``market.quota_gpus.h200``), as ``--set`` accepts it."""
    return _missing(data, path) is None


def _missing(data: Any, path: str) -> list[int | str] | None:
    """None where ``path`` exists (:func:`_exists`); else the location of its first part the scenario
    does not hold (array elements by index, as pydantic's), or ``[]`` for an array table with no element
    of that name."""
    node: Any = data
    loc: list[int | str] = []
    parts = path.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index = next((k for k, el in enumerate(node) if isinstance(el, dict) and el.get("name") == part), None)
            if index is None:
                return None if last else []
            node, loc = node[index], [*loc, index]
        elif isinstance(node, dict) and part in node:
            node, loc = node[part], [*loc, part]
        elif isinstance(node, dict) and last and path.rpartition(".")[0] in FREE_KEY_TABLES:
            return None
        else:
            return [*loc, part]
        if node is None and not last:
            return [*loc, parts[i + 1]]
    return None
