"""Load, validate and overlay the catalogs.

The shipped catalogs are package data of the ``catalogs`` package (read with
``importlib.resources``).  A user overlay — a TOML file, or a directory of them, given
with ``--catalog PATH`` or the ``WHATIF_CATALOG`` environment variable (several paths
separated by ``os.pathsep``) — extends or overrides the shipped rows:

* any file may hold any of the row arrays (``[[hardware]]``, ``[[price]]``, ``[[model]]``,
  ``[[quality]]``, ``[[precision]]``, ``[[kv_precision]]``, ``[[efficiency]]``, ``[[default]]``,
  ``[[load_shape]]``, ``[[link]]``, ``[[engine]]``);
* a row whose key equals a shipped row's key replaces it; other rows are added;
* the same key twice within one layer is an error (an overlay that contradicts itself);
* after merging, cross references are checked (a price names known hardware, …).

Every row is validated by the models of :mod:`planner.catalog.schema`; a bad row fails
the whole load with a :class:`~planner.errors.CatalogError` naming file, row and field.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.catalog.defaults import ServingDefaults
from planner.catalog.schema import (
    CatalogFile,
    DefaultRow,
    EfficiencyRow,
    EngineRow,
    HardwareSpec,
    KvPrecisionSpec,
    LoadShapeRow,
    LinkRow,
    ModelSpec,
    PlatformRow,
    PrecisionSpec,
    PriceRow,
    QualityRow,
    TechniqueParamRow,
)
from planner.errors import CatalogError, InputError, UnknownSlugError
from planner.inputs import read_bounded, toml_error

CATALOG_ENV_VAR = "WHATIF_CATALOG"


@dataclass(frozen=True)
class _Table:
    """A catalog table: its row model and the fields that identify a row (its key: a later file's row
    with the same key replaces an earlier one; an error names the row by them)."""

    model: type[BaseModel]
    key_fields: tuple[str, ...]

    def key(self, row: Any) -> tuple[str, ...]:
        return tuple(getattr(row, f) for f in self.key_fields)


TABLES: Mapping[str, _Table] = {
    "hardware": _Table(HardwareSpec, ("slug",)),
    "price": _Table(PriceRow, ("hardware", "mode", "provider")),
    "platform": _Table(PlatformRow, ("hardware",)),
    "link": _Table(LinkRow, ("slug",)),
    "load_shape": _Table(LoadShapeRow, ("name",)),
    "model": _Table(ModelSpec, ("slug",)),
    "quality": _Table(QualityRow, ("model", "metric")),
    "precision": _Table(PrecisionSpec, ("slug",)),
    "kv_precision": _Table(KvPrecisionSpec, ("slug",)),
    "engine": _Table(EngineRow, ("engine", "hardware")),
    "efficiency": _Table(EfficiencyRow, ("hardware", "precision")),
    "default": _Table(DefaultRow, ("key",)),
    "technique_param": _Table(TechniqueParamRow, ("technique", "option", "key", "applies_to")),
}


@dataclass(frozen=True)
class Catalog:
    """All catalog rows after overlays, keyed for lookup.  Immutable."""

    hardware: Mapping[str, HardwareSpec]
    prices: Mapping[tuple[str, str, str], PriceRow]  # (hardware, mode, provider)
    models: Mapping[str, ModelSpec]
    quality: Mapping[tuple[str, str], QualityRow]
    precisions: Mapping[str, PrecisionSpec]
    kv_precisions: Mapping[str, KvPrecisionSpec]
    efficiency: Mapping[tuple[str, str], EfficiencyRow]
    defaults: ServingDefaults
    default_rows: Mapping[str, DefaultRow]
    technique_params: Mapping[tuple[str, str, str, str], TechniqueParamRow] = field(default_factory=dict)
    platforms: Mapping[str, PlatformRow] = field(default_factory=dict)
    links: Mapping[str, LinkRow] = field(default_factory=dict)  # interconnects between pools
    load_shapes: Mapping[str, LoadShapeRow] = field(default_factory=dict)
    engines: Mapping[tuple[str, str], EngineRow] = field(default_factory=dict)  # (engine, hardware)
    overlays: tuple[str, ...] = ()  # overlay files applied over the shipped catalog, in order
    origins: Mapping[str, Sequence[str]] = field(default_factory=dict)

    # -- lookups that name the closest valid slug on a miss --------------------------
    def get_hardware(self, slug: str, field_path: str = "hardware") -> HardwareSpec:
        if slug not in self.hardware:
            raise UnknownSlugError("hardware", slug, self.hardware, field_path)
        return self.hardware[slug]

    def get_model(self, slug: str, field_path: str = "model") -> ModelSpec:
        if slug not in self.models:
            raise UnknownSlugError("model", slug, self.models, field_path)
        return self.models[slug]

    def get_precision(self, slug: str, field_path: str = "precision") -> PrecisionSpec:
        if slug not in self.precisions:
            raise UnknownSlugError("precision", slug, self.precisions, field_path)
        return self.precisions[slug]

    def get_kv_precision(self, slug: str, field_path: str = "kv_precision") -> KvPrecisionSpec:
        if slug not in self.kv_precisions:
            raise UnknownSlugError("kv precision", slug, self.kv_precisions, field_path)
        return self.kv_precisions[slug]

    def efficiency_for(self, hardware: str, precision: str) -> EfficiencyRow:
        """Most specific efficiency row: (hw, prec) → (hw, *) → (*, prec) → (*, *).

        What was measured on the hardware beats what was pooled across hardware: a quantized
        format's kernels (dequantizing GEMMs, INT8 GEMMs) get rows per architecture generation,
        (hw, prec), where published cases exist; a hardware's own row, fitted on its native
        formats, comes next; only hardware without its own row falls to a pooled row, per
        precision family where one is fitted (``("*", "fp8")``: FP8 peaks are sustained at a lower
        fraction than 16-bit ones), else ``("*", "*")``.
        ``precision="*"`` gives the hardware's own row (used for KV-cache streams).
        """
        for key in ((hardware, precision), (hardware, "*"), ("*", precision), ("*", "*")):
            if key in self.efficiency:
                return self.efficiency[key]
        raise CatalogError("no efficiency row matches and no ('*', '*') fallback", "efficiency")

    def engine_names(self) -> set[str]:
        """Every engine the catalog knows: those with speed rows and those efficiency rows were fitted on."""
        return {e for e, _ in self.engines} | {r.relative_to for r in self.engines.values()} | {
            r.engine for r in self.efficiency.values()}

    def engine_speed(self, engine: str | None, hardware: str, eff: EfficiencyRow,
                     field_path: str = "engine") -> tuple[str, float]:
        """The engine an estimate runs and its speed relative to the engine ``eff`` was fitted on.

        ``engine=None`` is that engine (speed 1).  Another engine needs an ``[[engine]]`` row for
        ``hardware`` relative to it; without one the error names the engine, the hardware and the
        hardware the engine has factors for.
        """
        if engine is None or engine == eff.engine:
            return eff.engine, 1.0
        if engine not in self.engine_names():
            raise UnknownSlugError("engine", engine, self.engine_names(), field_path)
        row = self.engines.get((engine, hardware))
        if row is None or row.relative_to != eff.engine:
            have = sorted(hw for (e, hw), r in self.engines.items() if e == engine and r.relative_to == eff.engine)
            raise InputError(
                f"engine '{engine}' has no speed factor for hardware '{hardware}' relative to '{eff.engine}' "
                f"(the engine its efficiency row {eff.hardware}/{eff.precision} was fitted on); it has factors "
                f"for: {', '.join(have) or 'no hardware'}. Add an [[engine]] row (catalogs/engines.toml) or "
                f"use '{eff.engine}'", field_path)
        return engine, row.speed

    def price_rows(self, hardware: str, mode: str, providers: Sequence[str] | None = None) -> list[PriceRow]:
        """Every price of (hardware, mode), cheapest first (then by provider id); only ``providers``
        when given."""
        rows = [r for (hw, m, prov), r in self.prices.items()
                if hw == hardware and m == mode and (providers is None or prov in providers)]
        return sorted(rows, key=lambda r: (r.usd_per_gpu if r.mode == "buy" else r.usd_per_gpu_hour or 0.0, r.provider))

    def price(self, hardware: str, mode: str, providers: Sequence[str] | None = None) -> PriceRow | None:
        """The cheapest price of (hardware, mode) among ``providers`` (all when None), or None."""
        rows = self.price_rows(hardware, mode, providers)
        return rows[0] if rows else None

    @property
    def rental_providers(self) -> list[str]:
        """Every provider id with an on-demand or reserved price (what ``market.providers`` may name)."""
        return sorted({row.provider for row in self.prices.values() if row.mode != "buy"})

    def quality_of(self, model: str, metric: str) -> QualityRow | None:
        return self.quality.get((model, metric))

    def technique_param(
        self, technique: str, option: str, key: str, size_class: str = "all"
    ) -> TechniqueParamRow | None:
        """Most specific row: (option, size class) → (option, all) → (*, size class) → (*, all)."""
        for opt in (option, "*"):
            for applies in dict.fromkeys((size_class, "all")):
                row = self.technique_params.get((technique, opt, key, applies))
                if row is not None:
                    return row
        return None


def file_label(path: Path) -> str:
    """A catalog file as errors name it: a shipped file by its name (``hardware.toml``), an overlay by
    the path it was given (``team/a.toml``: two overlay folders may both hold an ``a.toml``)."""
    shipped = Path(str(resources.files("catalogs")))
    return path.name if path.parent.resolve() == shipped.resolve() else str(path)


def shipped_catalog_files() -> list[Path]:
    """The TOML files of the shipped catalog, sorted by name."""
    root = resources.files("catalogs")
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml"))


def overlay_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The TOML files of overlay ``paths`` (a directory contributes its ``*.toml``, sorted), in order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise CatalogError(f"directory '{path}' holds no .toml catalog file", "catalog")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise CatalogError(f"'{path}' is not a regular file or a directory", "catalog")
        else:
            raise CatalogError(f"'{path}' does not exist", "catalog")
    return files


def _read_toml(path: Path) -> dict[str, Any]:
    raw = read_bounded(path, "catalog overlay", CatalogError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8 text", str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a key defined twice is named, with its line (as for scenarios)
        raise CatalogError(f"not valid TOML: {toml_error(exc, text)}", str(path)) from None


def _format_validation(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    return f"{loc}: {first['msg']}" if loc else first["msg"]


#: Fields that identify a row in error messages, in order of preference.
def _row_label(table: _Table, raw: dict[str, Any], index: int) -> str:
    """The row as an error names it: its key fields that the raw row gives as text
    (``technique_param[quantization/fp8/retention]``), else its position in the file."""
    parts = [raw[f] for f in table.key_fields if isinstance(raw.get(f), str)]
    return "/".join(parts) if parts else str(index)


def _rows_of_file(path: Path) -> dict[str, dict[tuple[str, ...], BaseModel]]:
    data = _read_toml(path)
    try:
        CatalogFile.model_validate(data)
    except ValidationError:
        raise CatalogError("schema_version must be 1", f"{file_label(path)}: schema_version") from None
    unknown = sorted(set(data) - set(TABLES) - {"schema_version"})
    if unknown:
        raise CatalogError(f"unknown table(s) {unknown}; known: {sorted(TABLES)}", file_label(path))
    out: dict[str, dict[tuple[str, ...], BaseModel]] = {}
    for name, raw_rows in data.items():
        if name == "schema_version":
            continue
        table = TABLES[name]
        if not isinstance(raw_rows, list):
            raise CatalogError("must be an array of tables ([[...]])", f"{file_label(path)}: {name}")
        rows: dict[tuple[str, ...], BaseModel] = {}
        for index, raw in enumerate(raw_rows):
            if not isinstance(raw, dict):
                raise CatalogError("every row must be a table ([[...]])", f"{file_label(path)}: {name}[{index}]")
            where = f"{file_label(path)}: {name}[{_row_label(table, raw, index)}]"
            try:
                row = table.model.model_validate(raw)
            except ValidationError as exc:
                raise CatalogError(_format_validation(exc), where) from None
            key = table.key(row)
            if key in rows:
                raise CatalogError(f"duplicate row {key} in the same file", where)
            rows[key] = row
        out[name] = rows
    return out


def _merge_layer(
    merged: dict[str, dict[tuple[str, ...], BaseModel]],
    origins: dict[str, list[str]],
    layer: Sequence[Path],
) -> None:
    seen_in_layer: dict[tuple[str, tuple[str, ...]], str] = {}
    for path in layer:
        for name, rows in _rows_of_file(path).items():
            for key, row in rows.items():
                if (name, key) in seen_in_layer:
                    raise CatalogError(
                        f"row {key} is defined in both {seen_in_layer[(name, key)]} and {file_label(path)}",
                        name,
                    )
                seen_in_layer[(name, key)] = file_label(path)
                merged.setdefault(name, {})[key] = row
                origins.setdefault(f"{name}:{'/'.join(key)}", []).append(str(path))


def _check_references(merged: Mapping[str, Mapping[tuple[str, ...], Any]],
                      origins: Mapping[str, Sequence[str]]) -> None:
    """Every row's references resolve in the merged catalog; an error names the file the row came from
    (an overlay's price for unknown hardware once said only ``price[h999/on-demand/acme]``)."""

    def at(table: str, key: tuple[str, ...], label: str) -> str:
        files = origins.get(f"{table}:{'/'.join(key)}")
        return f"{file_label(Path(files[-1]))}: {label}" if files else label

    hardware = {k[0] for k in merged.get("hardware", {})}
    models = {k[0] for k in merged.get("model", {})}
    precisions = {k[0] for k in merged.get("precision", {})}
    kv = {k[0] for k in merged.get("kv_precision", {})}
    for (hw, mode, provider) in merged.get("price", {}):
        if hw not in hardware:
            raise CatalogError(f"names unknown hardware '{hw}'",
                               at("price", (hw, mode, provider), f"price[{hw}/{mode}/{provider}]"))
    for (hw,) in merged.get("platform", {}):
        if hw not in hardware:
            raise CatalogError(f"names unknown hardware '{hw}'", at("platform", (hw,), f"platform[{hw}]"))
    for (slug,), row in merged.get("link", {}).items():
        for hw in row.hardware or ():
            if hw not in hardware:
                raise CatalogError(f"names unknown hardware '{hw}'", at("link", (slug,), f"link[{slug}].hardware"))
    for (model, metric) in merged.get("quality", {}):
        if model not in models:
            raise CatalogError(f"names unknown model '{model}'",
                               at("quality", (model, metric), f"quality[{model}/{metric}]"))
    for (slug,), row in merged.get("precision", {}).items():
        if row.default_kv not in kv:
            raise CatalogError(f"default_kv '{row.default_kv}' is not a kv_precision",
                               at("precision", (slug,), f"precision[{slug}]"))
    for (hw, prec) in merged.get("efficiency", {}):
        if hw != "*" and hw not in hardware:
            raise CatalogError(f"names unknown hardware '{hw}'",
                               at("efficiency", (hw, prec), f"efficiency[{hw}/{prec}]"))
        if prec != "*" and prec not in precisions:
            raise CatalogError(f"names unknown precision '{prec}'",
                               at("efficiency", (hw, prec), f"efficiency[{hw}/{prec}]"))
    for (engine, hw) in merged.get("engine", {}):
        if hw not in hardware:
            raise CatalogError(f"names unknown hardware '{hw}'", at("engine", (engine, hw), f"engine[{engine}/{hw}]"))
    if ("*", "*") not in merged.get("efficiency", {}):
        raise CatalogError("a fallback row hardware='*', precision='*' is required", "efficiency")


def load_catalogs(
    overlays: Iterable[str | os.PathLike[str]] | None = None, *, use_env: bool = True
) -> Catalog:
    """Load the shipped catalog, then each overlay path (file or directory) in order.

    ``WHATIF_CATALOG`` (when ``use_env``) is applied before explicit ``overlays``.
    """
    merged: dict[str, dict[tuple[str, ...], BaseModel]] = {}
    origins: dict[str, list[str]] = {}
    _merge_layer(merged, origins, shipped_catalog_files())
    layers: list[str | os.PathLike[str]] = []
    env = os.environ.get(CATALOG_ENV_VAR, "") if use_env else ""
    layers.extend(p for p in env.split(os.pathsep) if p)
    layers.extend(overlays or [])
    applied: list[str] = []
    for overlay in layers:
        files = overlay_files([overlay])
        _merge_layer(merged, origins, files)
        applied += [str(f) for f in files]
    _check_references(merged, origins)
    default_rows: dict[str, DefaultRow] = {k[0]: v for k, v in merged.get("default", {}).items()}  # type: ignore[misc]
    defaults = ServingDefaults.from_rows(default_rows)

    def flat(name: str) -> dict[str, Any]:
        return {k[0]: v for k, v in merged.get(name, {}).items()}

    return Catalog(
        hardware=flat("hardware"),
        prices=dict(merged.get("price", {})),  # type: ignore[arg-type]
        models=flat("model"),
        quality=dict(merged.get("quality", {})),  # type: ignore[arg-type]
        precisions=flat("precision"),
        kv_precisions=flat("kv_precision"),
        efficiency=dict(merged.get("efficiency", {})),  # type: ignore[arg-type]
        defaults=defaults,
        default_rows=default_rows,
        technique_params=dict(merged.get("technique_param", {})),  # type: ignore[arg-type]
        platforms=flat("platform"),
        links=flat("link"),
        load_shapes=flat("load_shape"),
        engines=dict(merged.get("engine", {})),  # type: ignore[arg-type]
        overlays=tuple(applied),
        origins={k: tuple(v) for k, v in origins.items()},
    )
