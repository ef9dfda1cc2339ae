"""Catalog rows as plain dicts (for JSON) and as terminal tables."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from planner.catalog.store import Catalog
from planner.economics.ownership import owned_gpu
from planner.errors import UnknownSlugError
from planner.report.render import table_width_columns

TABLE_KINDS = ("hardware", "models", "prices", "platforms", "quality", "precisions", "efficiency", "engines",
               "defaults", "load_shapes")
#: Columns shown in the terminal table per kind (JSON shows every field).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "hardware": ("slug", "memory_gb", "memory_bandwidth_gb_s", "peak_bf16_dense_tflops", "peak_fp8_dense_tflops",
                 "scaleup_domain_gpus", "source_date"),
    "models": ("slug", "params_total", "params_active", "layers", "d_model", "kv_heads", "experts", "source_date"),
    "prices": ("hardware", "mode", "provider", "provider_kind", "region", "usd_per_gpu_hour", "usd_per_gpu",
               "source_date"),
    "platforms": ("hardware", "name", "gpus_per_server", "server_power_kw", "server_overhead_fraction", "source_date"),
    "quality": ("model", "metric", "score", "setting", "source_date"),
    "precisions": ("slug", "weight_bits", "compute_dtype", "default_kv", "description"),
    "efficiency": ("hardware", "precision", "engine", "compute", "memory", "error_p10", "error_p90", "source_date"),
    "engines": ("engine", "hardware", "relative_to", "speed", "pairs", "spread", "source_date"),
    "defaults": ("key", "value", "unit"),
    "load_shapes": ("name", "timezone", "peak_to_average", "source_date"),
    "show": ("field", "value"),
}


def catalog_rows(catalog: Catalog, kind: str) -> list[dict[str, Any]]:
    source: Any = {
        "hardware": catalog.hardware,
        "models": catalog.models,
        "prices": catalog.prices,
        "platforms": catalog.platforms,
        "quality": catalog.quality,
        "precisions": catalog.precisions,
        "efficiency": catalog.efficiency,
        "engines": catalog.engines,
        "defaults": catalog.default_rows,
        "load_shapes": catalog.load_shapes,
    }[kind]
    rows = [row.model_dump(mode="json") for _, row in sorted(source.items())]
    if kind == "load_shapes":  # the figure a reader compares shapes by
        for row in rows:
            row["peak_to_average"] = round(max(row["weights"]) * len(row["weights"]) / sum(row["weights"]), 3)
    return rows


def show_item(catalog: Catalog, slug: str) -> dict[str, Any]:
    if slug in catalog.hardware:
        item = catalog.hardware[slug].model_dump(mode="json")
        item["prices"] = [p.model_dump(mode="json") for (hw, _, _), p in sorted(catalog.prices.items()) if hw == slug]
        item["owned_cost"] = owned_cost_components(catalog, slug)
        return item
    if slug in catalog.models:
        item = catalog.models[slug].model_dump(mode="json")
        item["quality"] = [q.model_dump(mode="json") for (m, _), q in sorted(catalog.quality.items()) if m == slug]
        return item
    raise UnknownSlugError("hardware or model", slug, [*catalog.hardware, *catalog.models], "slug")


def owned_cost_components(catalog: Catalog, slug: str) -> list[dict[str, Any]]:
    """What one owned GPU of ``slug`` costs, component by component, each with its source (empty
    when it cannot be bought: no buy price or no platform row)."""
    row, platform = catalog.price(slug, "buy"), catalog.platforms.get(slug)
    if row is None or platform is None:
        return []
    gpu = owned_gpu(catalog.hardware[slug], row, catalog)
    if isinstance(gpu, str):
        return []
    d = catalog.default_rows

    def src(key: str) -> str:
        return f"default {key} = {d[key].value:g}: {d[key].source} ({d[key].source_date})"

    server_src = (f"included in the {row.provider} price" if row.includes == "server" else
                  f"platform {platform.name}: {platform.server_overhead_fraction:g} x card: {platform.source}"
                  if platform.server_overhead_fraction is not None else src("server_overhead_fraction") + " x card")
    return [
        {"component": "card", "usd_per_gpu": gpu.card_usd, "source": f"{row.provider}: {row.source} ({row.source_date})"},
        {"component": "server share", "usd_per_gpu": gpu.server_usd, "source": server_src},
        {"component": "network share", "usd_per_gpu": gpu.network_usd,
         "source": src("cluster_network_fraction") + " of the cluster: (card + server) x f / (1 - f)"},
        {"component": "all-in capex", "usd_per_gpu": gpu.capex_usd, "source": "card + server + network"},
        {"component": "server power (contracted)", "w_per_gpu": gpu.server_power_w,
         "source": f"{platform.name}: {platform.server_power_kw:g} kW / {platform.gpus_per_server} GPUs: "
                   f"{platform.source} ({platform.source_date})"},
        {"component": "average draw (energy)", "w_per_gpu": gpu.server_power_w * catalog.defaults.average_power_fraction,
         "source": src("average_power_fraction")},
    ]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) < 1e3:
            return f"{value:.4g}"
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:.4e}"  # 24,875 (a price), not 2.488e+04
    if isinstance(value, list):
        return "\n".join(", ".join(f"{k}={_fmt(v)}" for k, v in item.items() if k not in ("source",))
                         for item in value)
    return str(value)


def render_rows(kind: str, rows: Sequence[dict[str, Any]]) -> str:
    table = Table(title=f"catalog: {kind}", title_justify="left")
    if kind == "show":
        table.add_column("field", style="bold", overflow="fold")
        table.add_column("value", overflow="fold")
        for key, value in rows[0].items():
            if key == "owned_cost":  # each component with where it comes from
                value = "\n".join(f"{c['component']}: {_fmt(c.get('usd_per_gpu', c.get('w_per_gpu')))} "
                                   f"{'USD' if 'usd_per_gpu' in c else 'W'} per GPU; source: {c['source']}" for c in value)
            table.add_row(key, _fmt(value))
    else:
        for col in TABLE_COLUMNS[kind]:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*(_fmt(row.get(col)) for col in TABLE_COLUMNS[kind]))
    buffer = io.StringIO()
    # laid out in the terminal's width like every other table; cells wrap (``fold``), never cut
    Console(file=buffer, width=table_width_columns(), force_terminal=False, color_system=None).print(table)
    return buffer.getvalue()
