"""Read a scenario file (TOML or JSON), apply ``--set`` overrides, validate.

Errors name the field path with array tables addressed by their ``name``
(``workload[chat].ttft_ms``), never a traceback.

Override syntax: ``PATH=VALUE`` where ``PATH`` is dotted and a segment after an array of
tables picks the element by its ``name`` (``workload.chat.queries_per_day=5e6``).  ``VALUE``
is read as a TOML value (``5e6``, ``true``, ``["a", "b"]``, ``"text"``); anything that is not
valid TOML is taken as a bare string (``model.base=llama-3.1-8b``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import tomllib
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.errors import ScenarioError, suggestions
from planner.inputs import STDIN_PATH, read_bounded, toml_error
from planner.scenario.schema import Measured, Scenario

SCENARIO_SUFFIXES = (".toml", ".json")
#: A validation error lists at most this many problems (the first ones, in file order).
MAX_REPORTED_ERRORS = 5


def _reject_constant(token: str) -> float:
    raise ValueError(f"non-finite number {token} is not allowed")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a TOML or JSON file into a dict (duplicate keys and NaN refused in JSON too).

    ``-`` reads standard input (bounded as a file is); its format is JSON when the text starts
    with ``{``, else TOML (a TOML scenario never starts with a brace), and relative paths in it
    (``measured_file``, ``model.base``) are read from the working directory.
    """
    stdin = str(path) == STDIN_PATH
    p = Path(path)
    where = "stdin (-)" if stdin else str(p)
    raw = read_bounded(path, "scenario", ScenarioError, where)
    try:
        text = raw.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", where) from None
    if text.lstrip().startswith("{") if stdin else p.suffix.lower() == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as exc:
            raise ScenarioError(f"not valid JSON: {exc}", where) from None
        except RecursionError:
            raise ScenarioError("nested too deeply", where) from None
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a JSON object", where)
        return data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {toml_error(exc, text)}", where) from None
    except (RecursionError, ValueError):
        raise ScenarioError("nested too deeply, or a number too long", where) from None


def parse_value(text: str) -> Any:
    """A ``--set`` value: a TOML value when it parses as one, else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except (ValueError, RecursionError):  # a 5,000-digit integer, an absurdly nested array
        raise ScenarioError("value too large or nested too deeply", "--set") from None


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``PATH=VALUE`` in place."""
    if "=" not in assignment:
        raise ScenarioError(f"expected PATH=VALUE, got '{assignment}'", "--set")
    path, _, value_text = assignment.partition("=")
    parts = [p for p in path.strip().split(".")]
    if not path.strip() or any(not p for p in parts):
        raise ScenarioError(f"empty path segment in '{path}'", "--set")
    node: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            match = [el for el in node if isinstance(el, dict) and el.get("name") == part]
            if not match:
                names = [el.get("name") for el in node if isinstance(el, dict)]
                raise ScenarioError(f"no element named '{part}' (have: {names})", f"--set {'.'.join(walked)}")
            if last:
                raise ScenarioError("cannot replace a whole array element; set one of its fields", f"--set {path}")
            node = match[0]
        elif isinstance(node, dict):
            if last:
                node[part] = parse_value(value_text.strip())
                return
            node = node.setdefault(part, {})
        else:
            raise ScenarioError(f"'{'.'.join(walked)}' is a value, not a table", f"--set {path}")
        walked.append(part)


def _field_path(loc: Sequence[int | str], data: dict[str, Any]) -> str:
    out: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            element = node[part] if part < len(node) else None
            name = element.get("name") if isinstance(element, dict) else None
            label = name if isinstance(name, str) and name else part  # `name = 5` must not read as index 5
            out[-1] = f"{out[-1]}[{label}]" if out else f"[{part}]"
            node = element
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def unknown_key_reason(loc: Sequence[int | str], root: type[BaseModel] = Scenario) -> str:
    """Why the key at ``loc`` is refused, with the keys it may have meant: ``unknown key (typo?)``, then
    ``did you mean 'queries_per_day'?`` where one of its table's keys is close
    (:func:`planner.errors.suggestions`: a truncation's completions first, else the most similar)."""
    model: type[BaseModel] | None = root
    keyed = False  # the part before was a field holding a dict of models: this part is one of its keys
    for part in loc[:-1]:
        if isinstance(part, int) or keyed or model is None:
            keyed = False
            continue  # a list element or a dict's key: the same model
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field is not None else None
        keyed = field is not None and _holds_dict(field.annotation)
    key = loc[-1] if loc else ""
    close = suggestions(str(key), model.model_fields) if model is not None and isinstance(key, str) else []
    return "unknown key (typo?)" + (f"; did you mean {' or '.join(repr(k) for k in close)}?" if close else "")


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, itself or in a list, dict or optional (None: a plain value)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _holds_dict(annotation: Any) -> bool:
    """Whether a field is a dict (also inside ``Annotated`` or an optional): its next location part is a key."""
    if typing.get_origin(annotation) is dict:
        return True
    return any(_holds_dict(arg) for arg in typing.get_args(annotation) if typing.get_origin(annotation) is not list)


def validate_scenario(data: dict[str, Any], where: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for err in exc.errors()[:MAX_REPORTED_ERRORS]:
            # pydantic's own markers: validator wrappers, and "[key]" after a dict key that failed
            loc = [p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))]
            reason = (unknown_key_reason(loc) if err["type"] == "extra_forbidden" else
                      {"missing": "required field missing"}.get(err["type"], err["msg"]).removeprefix("Value error, "))
            problems.append((_field_path(loc, data) or where, reason))
        if len(problems) == 1:
            raise ScenarioError(problems[0][1], problems[0][0]) from None
        lines = [f"{field}: {reason}" for field, reason in problems]
        if exc.error_count() > len(problems):
            lines.append(f"... and {exc.error_count() - len(problems)} more problem(s)")
        raise ScenarioError("\n".join(lines), problems=problems) from None


def _resolve_model_path(data: dict[str, Any], scenario_dir: Path) -> None:
    """A relative ``model.base`` path to a config.json is read relative to the scenario file."""
    model = data.get("model")
    if not isinstance(model, dict):
        return
    base = model.get("base")
    if isinstance(base, str) and (base.endswith(".json") or "/" in base) and not Path(base).is_absolute():
        candidate = scenario_dir / base
        if candidate.exists():
            model["base"] = str(candidate)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file."""
    data = read_document(path)
    for assignment in overrides:
        apply_override(data, assignment)
    _resolve_model_path(data, Path(path).parent)
    _merge_measured_file(data, Path(path).parent)
    return validate_scenario(data, str(path))


def files_named(path: str | Path, overrides: Iterable[str] = ()) -> list[str]:
    """The files a scenario file has the planner read, resolved as :func:`load_scenario` resolves them:
    a Hugging Face ``config.json`` given as ``model.base`` (a folder: its ``config.json``) and the
    ``measured_file`` CSV.  An output must not replace one of them (the CLI's ``-o`` guard); until
    the sixteenth session only the scenario file itself was guarded, so ``-o cfg.json`` replaced the
    model config a scenario named.  Standard input (``-``) is read once, by the load: none."""
    if str(path) == "-":
        return []
    data = read_document(path)
    for assignment in overrides:
        apply_override(data, assignment)
    _resolve_model_path(data, Path(path).parent)
    out: list[str] = []
    model = data.get("model")
    base = model.get("base") if isinstance(model, dict) else None
    if isinstance(base, str) and (base.endswith(".json") or "/" in base or Path(base).exists()):
        out.append(str(Path(base) / "config.json") if Path(base).is_dir() else base)
    name = data.get("measured_file")
    if isinstance(name, str) and name:
        out.append(str(_measured_path(name, Path(path).parent)))
    return out


def _measured_path(name: str, scenario_dir: Path) -> Path:
    """``measured_file`` as read: relative to the scenario's folder unless absolute."""
    return Path(name) if Path(name).is_absolute() else scenario_dir / name


def scenario_from_dict(data: dict[str, Any], overrides: Iterable[str] = (),
                       base_dir: str | Path = ".") -> Scenario:
    """Validate a scenario given as a dict (``measured_file`` is read relative to ``base_dir``)."""
    copy = json.loads(json.dumps(data))
    for assignment in overrides:
        apply_override(copy, assignment)
    _merge_measured_file(copy, Path(base_dir))
    return validate_scenario(copy)


#: CSV cells that spell a boolean (``meets_slo``), case-insensitive.
CSV_TRUE, CSV_FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _merge_measured_file(data: dict[str, Any], scenario_dir: Path) -> None:
    """Append the rows of ``measured_file`` (a CSV, relative to the scenario) to ``[[measured]]``.

    The header names the columns of a ``[[measured]]`` row (any order; unknown columns refused);
    an empty cell is an absent value.  Each row is checked on its own here, so a problem names its
    file and line; the merged rows are then checked together (classes, hardware, disagreements)
    with the scenario.  The key is consumed: the validated scenario holds the rows themselves, so
    it stays self-contained when written out or re-validated (sweeps).
    """
    name = data.get("measured_file")
    if name is None:
        return
    if not isinstance(name, str) or not name:
        raise ScenarioError("must be the path of a CSV file", "measured_file")
    path = _measured_path(name, scenario_dir)
    try:
        text = read_bounded(path, "measurements CSV", ScenarioError, f"measured_file {path}").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path} is not UTF-8 text", "measured_file") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = _measured_rows(reader, path)
    except csv.Error as exc:  # malformed quoting, a cell past the csv module's size limit, ...
        raise ScenarioError(f"not valid CSV: {exc}", f"measured_file {path.name} near line {reader.line_num + 1}") \
            from None
    existing = data.get("measured", [])
    if not isinstance(existing, list):  # a [measured] table written for [[measured]]: refused, not dropped
        raise ScenarioError("must be an array of tables ([[measured]] rows)", "measured")
    data["measured"] = existing + rows
    del data["measured_file"]


def _measured_rows(reader: csv.DictReader[str], path: Path) -> list[dict[str, Any]]:
    """The CSV's rows as ``[[measured]]`` tables, each checked on its own (file and line named)."""
    known = set(Measured.model_fields)
    # never echo the file's content: a wrong file's first line may be anything (a password entry)
    unknown = [i + 1 for i, c in enumerate(reader.fieldnames or []) if c not in known]
    if not reader.fieldnames or unknown:
        where = "no header" if not reader.fieldnames else f"column(s) {', '.join(map(str, unknown[:5]))} of line 1"
        raise ScenarioError(f"{path}: header must name columns of a [[measured]] row "
                            f"({', '.join(sorted(known))}); not one: {where}", "measured_file")
    names = list(reader.fieldnames)
    if len(set(names)) != len(names):
        raise ScenarioError(f"{path}: a column appears twice in the header (line 1)", "measured_file")
    rows = []
    for record in reader:  # line_num: the record's last line (blank lines and quoted newlines counted)
        where = f"measured_file {path.name} line {reader.line_num}"
        row = {k: _csv_cell(k, v, where) for k, v in record.items() if k is not None and v not in (None, "")}
        if None in record:
            raise ScenarioError("more cells than header columns", where)
        try:
            Measured.model_validate(row)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            raise ScenarioError(f"{field}: {err['msg'].removeprefix('Value error, ')}", where) from None
        rows.append(row)
    return rows


def _csv_cell(column: str, text: str, where: str) -> Any:
    """A CSV cell typed as its ``[[measured]]`` field expects (strings stay strings)."""
    value = text.strip()
    try:
        if column == "tp":
            return int(value)
        if column in ("requests_per_s", "output_tokens_per_s"):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
    except ValueError:
        raise ScenarioError(f"{column}: not a number", where) from None
    if column == "meets_slo":
        if value.lower() in CSV_TRUE:
            return True
        if value.lower() in CSV_FALSE:
            return False
        raise ScenarioError("meets_slo: expected true or false", where)
    return value
