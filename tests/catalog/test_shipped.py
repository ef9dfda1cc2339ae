"""The shipped catalogs: contents, provenance (every row's source and date), the README documenting every field, table and default, and the README's all-in cost table."""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel

import planner
from planner.catalog import schema as catalog_schema
from planner.catalog.defaults import ServingDefaults
from planner.catalog.store import (
    TABLES,
    Catalog,
    shipped_catalog_files,
)
from tests.catalog.helpers import (
    CATALOG_DIR,
    README,
    REQUIRED_HARDWARE,
    load,
)

REQUIRED_MODELS = (
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.3-70b", "llama-3.1-405b", "mixtral-8x7b", "gpt-j-6b", "deepseek-v3",
)
ROW_MODELS: tuple[type[BaseModel], ...] = (
    catalog_schema.HardwareSpec,
    catalog_schema.PriceRow,
    catalog_schema.ModelSpec,
    catalog_schema.QualityRow,
    catalog_schema.PrecisionSpec,
    catalog_schema.KvPrecisionSpec,
    catalog_schema.EfficiencyRow,
    catalog_schema.EngineRow,
    catalog_schema.DefaultRow,
    catalog_schema.LinkRow,
    catalog_schema.LoadShapeRow,
)


# ---------------------------------------------------------------- shipped contents


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert catalog.hardware and catalog.models and catalog.prices
    assert ("*", "*") in catalog.efficiency


@pytest.mark.parametrize("slug", REQUIRED_HARDWARE)
def test_required_hardware_present(catalog: Catalog, slug: str) -> None:
    assert slug in catalog.hardware


#: MMLU under settings other than 5-shot live under their own metric (catalogs/README.md, [[quality]]).
MMLU_METRICS = ("mmlu", "mmlu-cot", "mmlu-0shot")


@pytest.mark.parametrize("slug", REQUIRED_MODELS)
def test_required_model_present_with_mmlu(catalog: Catalog, slug: str) -> None:
    assert slug in catalog.models
    rows = [r for r in (catalog.quality_of(slug, m) for m in MMLU_METRICS) if r is not None]
    assert rows, f"{slug} has no MMLU quality row"
    assert all(0 < r.score <= 100 for r in rows)


def test_mmlu_holds_five_shot_scores_only(catalog: Catalog) -> None:
    """A 0-shot score beside 5-shot ones compared models no benchmark compared (Llama 3.3 70B's 0-shot
    CoT 86.0 against Llama 3.1 70B's 5-shot 83.6)."""
    rows = [r for r in (catalog.quality_of(slug, "mmlu") for slug in catalog.models) if r is not None]
    assert rows and all("5-shot" in r.setting or "shot count not recorded" in r.setting for r in rows)
    assert not any("0-shot" in r.setting for r in rows)


def test_prices_name_known_hardware_with_one_price_per_mode(catalog: Catalog) -> None:
    # prices name known hardware (also checked by the loader) and hold one price for their mode
    for (hw, mode, _provider), row in catalog.prices.items():
        assert hw in catalog.hardware
        if mode == "buy":
            assert row.usd_per_gpu is not None and row.usd_per_gpu_hour is None
        else:
            assert row.usd_per_gpu_hour is not None and row.usd_per_gpu is None


def test_every_precision_default_kv_exists(catalog: Catalog) -> None:
    for prec in catalog.precisions.values():
        assert prec.default_kv in catalog.kv_precisions


def test_shipped_files_are_the_documented_eight() -> None:
    names = {p.name for p in shipped_catalog_files()}
    assert names == {"hardware.toml", "prices.toml", "platforms.toml", "models.toml", "precisions.toml",
                     "efficiency.toml", "defaults.toml", "techniques.toml", "links.toml", "load_shapes.toml",
                     "engines.toml"}


# ---------------------------------------------------------------- provenance (read the TOML directly)


def _shipped_rows() -> list[tuple[str, str, int, dict[str, object]]]:
    rows = []
    for path in shipped_catalog_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for table, value in data.items():
            if table == "schema_version":
                continue
            assert isinstance(value, list), f"{path.name}: {table} is not an array of tables"
            for index, row in enumerate(value):
                rows.append((path.name, table, index, row))
    return rows


def test_shipped_files_have_schema_version_1() -> None:
    for path in shipped_catalog_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data.get("schema_version") == 1, path.name


def test_shipped_rows_exist() -> None:
    tables = {table for _, table, _, _ in _shipped_rows()}
    assert tables == set(TABLES)


@pytest.mark.parametrize("where", _shipped_rows(), ids=lambda w: f"{w[0]}:{w[1]}[{w[2]}]")
def test_every_shipped_row_has_source_and_iso_date(where: tuple[str, str, int, dict[str, object]]) -> None:
    name, table, index, row = where
    source = row.get("source")
    assert isinstance(source, str) and source.strip(), f"{name} {table}[{index}] has no source"
    date = row.get("source_date")
    assert isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), \
        f"{name} {table}[{index}] source_date {date!r} is not YYYY-MM-DD"
    assert dt.date.fromisoformat(date) <= dt.date(2100, 1, 1)


def test_hardware_rows_quote_no_sparse_peaks(catalog: Catalog) -> None:
    # dense figures only: dense FP8 is about twice dense BF16 (L40S: 733 / 362.05 = 2.02 in its
    # datasheet), FP4 about four times; a 2:4-sparse figure would double the ratio
    for hw in catalog.hardware.values():
        if hw.peak_fp8_dense_tflops is not None:
            assert hw.peak_fp8_dense_tflops <= 2.1 * hw.peak_bf16_dense_tflops, hw.slug
        if hw.peak_int8_dense_tops is not None:
            assert hw.peak_int8_dense_tops <= 2.1 * hw.peak_bf16_dense_tflops, hw.slug
        if hw.peak_fp4_dense_tflops is not None:
            assert hw.peak_fp4_dense_tflops <= 4.2 * hw.peak_bf16_dense_tflops, hw.slug


# ---------------------------------------------------------------- README documents the schema


def _readme() -> str:
    assert README.is_file(), f"{README} is missing"
    return README.read_text(encoding="utf-8")


@pytest.mark.parametrize("model", ROW_MODELS, ids=lambda m: m.__name__)
def test_readme_documents_every_field(model: type[BaseModel]) -> None:
    text = _readme()
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert not missing, f"catalogs/README.md does not document {model.__name__} fields {missing}"


def test_readme_documents_every_default_key() -> None:
    text = _readme()
    missing = [name for name in ServingDefaults.model_fields if f"`{name}`" not in text]
    assert not missing, f"catalogs/README.md does not document default keys {missing}"


#: A field's row in a table of catalogs/README.md: its name and its last cell (the bounds).
FIELD_ROW = re.compile(r"^\| `([a-z_0-9]+)` \|.*\|\s*([^|]*?)\s*\|\s*$")
#: An interval at the start of a bounds cell: ``[1, 100000000]``, ``(0, 1e16]``, ``[1, 10^7]``.
INTERVAL = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])")


def _number(text: str) -> float | None:
    text = text.replace("−", "-").replace("10^", "1e")
    try:
        return float({"∞": "inf", "-∞": "-inf"}.get(text, text))
    except ValueError:
        return None


def _schema_interval(field: Any) -> tuple[str, float, float, str] | None:
    """A field's bounds as ``(bracket, low, high, bracket)``; None when it has none."""
    low, high, opening, closing = -math.inf, math.inf, "(", ")"
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            low, opening = float(meta.ge), "["
        elif isinstance(meta, annotated_types.Gt):
            low, opening = float(meta.gt), "("
        elif isinstance(meta, annotated_types.Le):
            high, closing = float(meta.le), "]"
        elif isinstance(meta, annotated_types.Lt):
            high, closing = float(meta.lt), ")"
    return None if math.isinf(low) and math.isinf(high) else (opening, low, high, closing)


def test_readme_bounds_are_the_schemas() -> None:
    """Every bounded field's row gives the schema's interval (brackets included): ``max_context_tokens``
    read [128, …] in the README for months after its floor became 1 (found by a README audit)."""
    cells: dict[str, list[str]] = {}
    for line in _readme().splitlines():
        if (row := FIELD_ROW.match(line)) is not None:
            cells.setdefault(row.group(1), []).append(row.group(2))
    wrong = []
    for model in (*ROW_MODELS, ServingDefaults):
        for name, field in model.model_fields.items():
            want = _schema_interval(field)
            if want is None:
                continue
            shown = [(m.group(1), _number(m.group(2)), _number(m.group(3)), m.group(4))
                     for m in (INTERVAL.match(cell) for cell in cells.get(name, [])) if m is not None]
            if want not in shown:
                wrong.append(f"{model.__name__}.{name}: schema {want}, README {cells.get(name)}")
    assert not wrong, "\n".join(wrong)


def test_readme_documents_every_table_and_file() -> None:
    text = _readme()
    for table in TABLES:
        assert f"`[[{table}]]`" in text, table
    for path in shipped_catalog_files():
        assert f"`{path.name}`" in text, path.name
    assert "schema_version = 1" in text
    assert "WHATIF_CATALOG" in text and "--catalog" in text


def test_readme_example_overlay_replaces_the_shipped_price(tmp_path: Path) -> None:
    text = _readme()
    block = re.search(r"```toml\n(.*?)```", text[text.index("Example overlay, `tensorwave.toml`"):], re.S)
    assert block is not None, "README has no example overlay"
    path = tmp_path / "tensorwave.toml"
    path.write_text(block.group(1), encoding="utf-8")
    shipped = planner.load_catalogs(use_env=False).price("mi300x", "on-demand")
    row = load(path).price("mi300x", "on-demand")
    assert row.provider == "tensorwave" and row.provider != shipped.provider
    assert row.usd_per_gpu_hour == 1.71 and row.usd_per_gpu_hour < shipped.usd_per_gpu_hour
    assert row.source and row.source_date


def test_readme_all_in_cost_table_matches_the_catalog(catalog: Catalog) -> None:
    """The main README's table of what a deployable GPU costs is the shipped rows' arithmetic."""
    from planner.economics.ownership import owned_gpu

    text = (CATALOG_DIR.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## What an owned GPU costs"):]
    rows = re.findall(r"^\| ([a-z0-9\-]+) \| ([\d,]+)[^|]*\| ([\d,]+|included) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) W",
                      section, re.M)
    assert len(rows) >= 4
    for slug, card, server, network, capex, watts in rows:
        gpu = owned_gpu(catalog.hardware[slug], catalog.price(slug, "buy"), catalog)
        assert not isinstance(gpu, str)
        def num(s: str) -> float:
            return float(s.replace(",", ""))
        assert num(card) == round(gpu.card_usd)
        assert (server == "included" and gpu.server_usd == 0) or num(server) == round(gpu.server_usd)
        assert num(network) == round(gpu.network_usd) and num(capex) == round(gpu.capex_usd)
        assert num(watts) == round(gpu.server_power_w)
