"""Shared helpers of the catalog tests: overlay rows written as TOML, and loading them."""

from __future__ import annotations

import json
from pathlib import Path

import planner
from planner.catalog import schema as catalog_schema
from planner.catalog.store import (
    Catalog,
)

CATALOG_DIR = Path(catalog_schema.__file__).resolve().parents[2] / "catalogs"
README = CATALOG_DIR / "README.md"

PROV = 'source = "test overlay row"\nsource_date = "2026-01-01"\n'


def hardware_row(slug: str = "test-gpu", bandwidth: str = "2000.0", *, provenance: str = PROV) -> str:
    return (
        "[[hardware]]\n"
        f'slug = "{slug}"\n'
        'name = "Test GPU"\n'
        'vendor = "nvidia"\n'
        "memory_gb = 80.0\n"
        f"memory_bandwidth_gb_s = {bandwidth}\n"
        "peak_bf16_dense_tflops = 500.0\n"
        "scaleup_bandwidth_gb_s = 900.0\n"
        'scaleup_link = "nvlink4"\n'
        "scaleup_domain_gpus = 8\n"
        f"{provenance}\n"
    )


def price_row(hardware: str = "test-gpu", usd: float = 2.0) -> str:
    return (
        "[[price]]\n"
        f'hardware = "{hardware}"\n'
        'mode = "on-demand"\n'
        f"usd_per_gpu_hour = {usd}\n"
        'provider = "test-cloud"\n'
        'provider_kind = "neocloud"\n'
        f"{PROV}\n"
    )


def write(path: Path, *rows: str, header: str = "schema_version = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "\n".join(rows), encoding="utf-8")
    return path


def h100_row_with_bandwidth(bandwidth: float) -> str:
    """The shipped h100-sxm row as TOML, with another memory bandwidth (a whole row: overlays replace rows)."""
    shipped = planner.load_catalogs(use_env=False).hardware["h100-sxm"].model_dump(exclude_none=True)
    shipped["memory_bandwidth_gb_s"] = bandwidth
    lines = ["[[hardware]]"] + [f"{k} = {json.dumps(v)}" for k, v in shipped.items()]
    return "\n".join(lines) + "\n"


def load(*overlays: Path | str) -> Catalog:
    return planner.load_catalogs([str(p) for p in overlays], use_env=False)


#: Hardware every catalog must ship (the catalog tests and `whatif catalog list`).
REQUIRED_HARDWARE = (
    "a100-40gb", "a100-80gb", "h100-sxm", "h200", "b200", "l40s", "l4", "a10g",
    "mi300x", "gaudi3", "tpu-v5e", "tpu-v6e",
)
