"""Catalog rows as plain dicts (for JSON) and as terminal tables."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from planner.catalog.store import Catalog
from planner.errors import UnknownSlugError
from planner.report.render import TABLE_WIDTH_COLUMNS

TABLE_KINDS = ("hardware", "models", "prices", "quality", "precisions", "efficiency", "defaults")
#: Columns shown in the terminal table per kind (JSON shows every field).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "hardware": ("slug", "memory_gb", "memory_bandwidth_gb_s", "peak_bf16_dense_tflops", "peak_fp8_dense_tflops",
                 "scaleup_domain_gpus", "source_date"),
    "models": ("slug", "params_total", "params_active", "layers", "d_model", "kv_heads", "experts", "source_date"),
    "prices": ("hardware", "mode", "usd_per_gpu_hour", "usd_per_gpu", "provider", "source_date"),
    "quality": ("model", "metric", "score", "setting", "source_date"),
    "precisions": ("slug", "weight_bits", "compute_dtype", "default_kv", "description"),
    "efficiency": ("hardware", "precision", "compute", "memory", "source_date"),
    "defaults": ("key", "value", "unit"),
    "show": ("field", "value"),
}


def catalog_rows(catalog: Catalog, kind: str) -> list[dict[str, Any]]:
    source: Any = {
        "hardware": catalog.hardware,
        "models": catalog.models,
        "prices": catalog.prices,
        "quality": catalog.quality,
        "precisions": catalog.precisions,
        "efficiency": catalog.efficiency,
        "defaults": catalog.default_rows,
    }[kind]
    return [row.model_dump(mode="json") for _, row in sorted(source.items())]


def show_item(catalog: Catalog, slug: str) -> dict[str, Any]:
    if slug in catalog.hardware:
        item = catalog.hardware[slug].model_dump(mode="json")
        item["prices"] = [p.model_dump(mode="json") for (hw, _), p in sorted(catalog.prices.items()) if hw == slug]
        return item
    if slug in catalog.models:
        item = catalog.models[slug].model_dump(mode="json")
        item["quality"] = [q.model_dump(mode="json") for (m, _), q in sorted(catalog.quality.items()) if m == slug]
        return item
    raise UnknownSlugError("hardware or model", slug, [*catalog.hardware, *catalog.models], "slug")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.4e}"
    if isinstance(value, list):
        return "\n".join(", ".join(f"{k}={_fmt(v)}" for k, v in item.items() if k not in ("source",))
                         for item in value)
    return str(value)


def render_rows(kind: str, rows: Sequence[dict[str, Any]]) -> str:
    table = Table(title=f"catalog: {kind}", title_justify="left")
    if kind == "show":
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in rows[0].items():
            table.add_row(key, _fmt(value))
    else:
        for col in TABLE_COLUMNS[kind]:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*(_fmt(row.get(col)) for col in TABLE_COLUMNS[kind]))
    buffer = io.StringIO()
    Console(file=buffer, width=TABLE_WIDTH_COLUMNS * 2 if kind != "show" else TABLE_WIDTH_COLUMNS,
            force_terminal=False, color_system=None).print(table)
    return buffer.getvalue()
