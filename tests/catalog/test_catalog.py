"""The catalogs: shipped contents, provenance, documentation, overlays and the catalog CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

import planner
from planner.catalog import schema as catalog_schema
from planner.catalog.defaults import ServingDefaults
from planner.catalog.store import CATALOG_ENV_VAR, TABLES, Catalog, shipped_catalog_files
from planner.errors import CatalogError

CATALOG_DIR = Path(catalog_schema.__file__).resolve().parents[2] / "catalogs"
README = CATALOG_DIR / "README.md"

REQUIRED_HARDWARE = (
    "a100-40gb", "a100-80gb", "h100-sxm", "h200", "b200", "l40s", "l4", "a10g",
    "mi300x", "gaudi3", "tpu-v5e", "tpu-v6e",
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


# ---------------------------------------------------------------- shipped contents


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert catalog.hardware and catalog.models and catalog.prices
    assert ("*", "*") in catalog.efficiency


@pytest.mark.parametrize("slug", REQUIRED_HARDWARE)
def test_required_hardware_present(catalog: Catalog, slug: str) -> None:
    assert slug in catalog.hardware


@pytest.mark.parametrize("slug", REQUIRED_MODELS)
def test_required_model_present_with_mmlu(catalog: Catalog, slug: str) -> None:
    assert slug in catalog.models
    row = catalog.quality_of(slug, "mmlu")
    assert row is not None, f"{slug} has no mmlu quality row"
    assert 0 < row.score <= 100


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


# ---------------------------------------------------------------- overlays


def test_overlay_replaces_a_shipped_row_and_adds_a_new_one(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path / "o.toml", h100_row_with_bandwidth(4000.0), hardware_row(), price_row())
    cat = load(path)
    assert catalog.hardware["h100-sxm"].memory_bandwidth_gb_s == 3350.0
    assert cat.hardware["h100-sxm"].memory_bandwidth_gb_s == 4000.0
    assert cat.hardware["h100-sxm"].peak_fp8_dense_tflops == catalog.hardware["h100-sxm"].peak_fp8_dense_tflops
    assert "test-gpu" in cat.hardware
    assert cat.price("test-gpu", "on-demand").usd_per_gpu_hour == 2.0
    assert set(catalog.hardware) < set(cat.hardware)
    assert str(path) in cat.origins["hardware:test-gpu"]


def test_overlay_row_replaces_the_whole_row(tmp_path: Path) -> None:
    partial = '[[hardware]]\nslug = "h100-sxm"\nmemory_bandwidth_gb_s = 4000.0\n' + PROV
    with pytest.raises(CatalogError, match="Field required"):
        load(write(tmp_path / "o.toml", partial))


def test_overlay_changes_estimates(tmp_path: Path) -> None:
    slow = load(write(tmp_path / "o.toml", h100_row_with_bandwidth(1000.0)))
    kwargs = dict(precision="fp8", batch=1, input_tokens=128, output_tokens=128)
    base = planner.estimate("llama-3.1-8b", "h100-sxm", catalog=planner.load_catalogs(use_env=False), **kwargs)
    changed = planner.estimate("llama-3.1-8b", "h100-sxm", catalog=slow, **kwargs)
    assert changed.tpot_ms > 2 * base.tpot_ms  # batch-1 decode is memory bound


def test_env_var_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write(tmp_path / "a.toml", hardware_row("env-gpu-a"))
    b = write(tmp_path / "b.toml", hardware_row("env-gpu-b"))
    monkeypatch.setenv(CATALOG_ENV_VAR, os.pathsep.join([str(a), str(b)]))
    cat = planner.load_catalogs()
    assert {"env-gpu-a", "env-gpu-b"} <= set(cat.hardware)
    assert "env-gpu-a" not in planner.load_catalogs(use_env=False).hardware


def test_env_var_is_applied_before_explicit_overlays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write(tmp_path / "env.toml", hardware_row(bandwidth="1000.0"))
    cli = write(tmp_path / "cli.toml", hardware_row(bandwidth="3000.0"))
    monkeypatch.setenv(CATALOG_ENV_VAR, str(env))
    assert planner.load_catalogs([cli]).hardware["test-gpu"].memory_bandwidth_gb_s == 3000.0


def test_later_layer_replaces_earlier_layer(tmp_path: Path) -> None:
    first = write(tmp_path / "1.toml", hardware_row(bandwidth="1000.0"))
    second = write(tmp_path / "2.toml", hardware_row(bandwidth="3000.0"))
    assert load(first, second).hardware["test-gpu"].memory_bandwidth_gb_s == 3000.0
    assert load(second, first).hardware["test-gpu"].memory_bandwidth_gb_s == 1000.0


def test_directory_overlay(tmp_path: Path) -> None:
    d = tmp_path / "overlay"
    write(d / "hw.toml", hardware_row())
    write(d / "price.toml", price_row())
    (d / "notes.txt").write_text("not a catalog", encoding="utf-8")
    cat = load(d)
    assert "test-gpu" in cat.hardware
    assert ("test-gpu", "on-demand", "test-cloud") in cat.prices


def test_cross_references_are_checked_after_merging_layers(tmp_path: Path) -> None:
    # the price comes in a layer before the hardware it names: fine once both are merged
    price = write(tmp_path / "price.toml", price_row())
    hw = write(tmp_path / "hw.toml", hardware_row())
    assert ("test-gpu", "on-demand", "test-cloud") in load(price, hw).prices


def test_same_key_in_two_files_of_one_directory_is_an_error(tmp_path: Path) -> None:
    d = tmp_path / "overlay"
    write(d / "a.toml", hardware_row(bandwidth="1000.0"))
    write(d / "b.toml", hardware_row(bandwidth="3000.0"))
    with pytest.raises(CatalogError) as exc:
        load(d)
    assert "test-gpu" in str(exc.value)
    assert "a.toml" in str(exc.value) and "b.toml" in str(exc.value)


def test_same_key_twice_in_one_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row(), hardware_row(bandwidth="3000.0"))
    with pytest.raises(CatalogError, match="test-gpu") as exc:
        load(path)
    assert "duplicate" in str(exc.value)


def test_a_key_defined_twice_in_an_overlay_is_named_with_its_line(tmp_path: Path) -> None:
    row = hardware_row().replace("memory_bandwidth_gb_s", "memory_gb = 96.0\nmemory_bandwidth_gb_s")
    path = write(tmp_path / "o.toml", row)  # schema_version, blank, [[hardware]], slug, name, vendor, memory_gb x2
    with pytest.raises(CatalogError) as exc:
        load(path)
    message = str(exc.value)
    assert "key 'hardware.memory_gb' defined twice (line 8)" in message and "o.toml" in message
    assert "Cannot overwrite a value" not in message


def test_row_without_source_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row(provenance='source_date = "2026-01-01"\n'))
    with pytest.raises(CatalogError) as exc:
        load(path)
    message = str(exc.value)
    assert "source" in message and "o.toml" in message and "test-gpu" in message


def test_row_without_source_date_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row(provenance='source = "somewhere"\n'))
    with pytest.raises(CatalogError, match="source_date"):
        load(path)


@pytest.mark.parametrize("date", ['"2026-13-01"', '"yesterday"', "2026-01-01"])
def test_bad_source_date_is_rejected(tmp_path: Path, date: str) -> None:
    path = write(tmp_path / "o.toml", hardware_row(provenance=f'source = "somewhere"\nsource_date = {date}\n'))
    with pytest.raises(CatalogError, match="source_date"):
        load(path)


def test_price_for_unknown_hardware_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown hardware 'no-such-gpu'"):
        load(write(tmp_path / "o.toml", price_row("no-such-gpu")))


def test_quality_for_unknown_model_is_an_error(tmp_path: Path) -> None:
    row = '[[quality]]\nmodel = "no-such-model"\nmetric = "mmlu"\nscore = 50.0\nsetting = "x"\n' + PROV
    with pytest.raises(CatalogError, match="unknown model 'no-such-model'"):
        load(write(tmp_path / "o.toml", row))


def test_efficiency_for_unknown_precision_is_an_error(tmp_path: Path) -> None:
    row = ('[[efficiency]]\nhardware = "*"\nprecision = "fp3"\ncompute = 0.5\nmemory = 0.5\n'
           'note = "x"\n' + PROV)
    with pytest.raises(CatalogError, match="unknown precision 'fp3'"):
        load(write(tmp_path / "o.toml", row))


def test_unknown_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row().replace("[[hardware]]", "[[hardwares]]"))
    with pytest.raises(CatalogError, match="hardwares"):
        load(path)


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row().replace("memory_gb = 80.0", "memory_gb = 80.0\nmemory_gib = 80.0"))
    with pytest.raises(CatalogError, match="memory_gib"):
        load(path)


def test_unknown_default_key_is_an_error(tmp_path: Path) -> None:
    row = '[[default]]\nkey = "max_batchh"\nvalue = 1.0\nunit = "x"\nnote = "x"\n' + PROV
    with pytest.raises(CatalogError, match="max_batchh"):
        load(write(tmp_path / "o.toml", row))


def test_default_out_of_bounds_is_an_error(tmp_path: Path) -> None:
    row = '[[default]]\nkey = "comm_efficiency"\nvalue = 1.5\nunit = "x"\nnote = "x"\n' + PROV
    with pytest.raises(CatalogError, match="comm_efficiency"):
        load(write(tmp_path / "o.toml", row))


def test_default_overlay_replaces_value(tmp_path: Path) -> None:
    row = '[[default]]\nkey = "max_batch"\nvalue = 64\nunit = "sequences"\nnote = "x"\n' + PROV
    cat = load(write(tmp_path / "o.toml", row))
    assert cat.defaults.max_batch == 64 and isinstance(cat.defaults.max_batch, int)


@pytest.mark.parametrize("header", ["schema_version = 2\n", "", 'schema_version = "1"\n'])
def test_bad_schema_version_is_an_error(tmp_path: Path, header: str) -> None:
    with pytest.raises(CatalogError, match="schema_version"):
        load(write(tmp_path / "o.toml", hardware_row(), header=header))


@pytest.mark.parametrize(
    ("bandwidth", "message"),
    [
        ("1e9", "less than or equal"),
        ("5.0", "greater than"),
        ("nan", "finite"),
        ("inf", "finite"),
        ('"2000"', "valid number"),
        ("true", "valid number"),
    ],
)
def test_implausible_or_mistyped_number_is_an_error(tmp_path: Path, bandwidth: str, message: str) -> None:
    path = write(tmp_path / "o.toml", hardware_row(bandwidth=bandwidth))
    with pytest.raises(CatalogError, match=message) as exc:
        load(path)
    assert "memory_bandwidth_gb_s" in str(exc.value)


def test_float_for_integer_field_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", hardware_row().replace("scaleup_domain_gpus = 8", "scaleup_domain_gpus = 8.0"))
    with pytest.raises(CatalogError, match="scaleup_domain_gpus"):
        load(path)


def test_model_consistency_rules(tmp_path: Path) -> None:
    row = ('[[model]]\nslug = "bad-moe"\nname = "x"\nparams_total = 1e9\nparams_active = 2e9\nlayers = 2\n'
           'd_model = 64\nattention_heads = 4\nkv_heads = 4\nhead_dim = 16\nffn_dim = 256\nvocab_size = 100\n'
           'max_context_tokens = 1024\n' + PROV)
    with pytest.raises(CatalogError, match="params_active exceeds params_total"):
        load(write(tmp_path / "o.toml", row))


def test_price_mode_needs_its_own_price_field(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="mode 'buy' needs usd_per_gpu"):
        load(write(tmp_path / "o.toml", price_row("h100-sxm").replace('"on-demand"', '"buy"')))


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text("schema_version = 1\n[[hardware]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load(path)


def test_missing_path_and_empty_directory_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load(tmp_path / "nope.toml")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="no .toml"):
        load(tmp_path / "empty")


def test_efficiency_lookup_falls_back_to_pooled_row(catalog: Catalog) -> None:
    # overlays only add or replace rows and (*, *) is required, so a lookup never fails
    assert catalog.efficiency_for("no-such-hardware", "no-such-precision").hardware == "*"


def test_array_of_non_tables_is_a_catalog_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.toml", "hardware = [1, 2]\n")
    with pytest.raises(CatalogError):
        load(path)


# ---------------------------------------------------------------- efficiency lookup order


def test_efficiency_format_row_beats_hardware_row(catalog: Catalog) -> None:
    import dataclasses

    fmt = catalog.efficiency[("a100-80gb", "w4a16")].model_copy(update={"hardware": "*"})
    rows = {k: v for k, v in catalog.efficiency.items() if k[1] != "w4a16"} | {("*", "w4a16"): fmt}
    cat = dataclasses.replace(catalog, efficiency=rows)
    assert ("a100-80gb", "*") in cat.efficiency
    row = cat.efficiency_for("a100-80gb", "w4a16")
    assert (row.hardware, row.precision) == ("*", "w4a16")


def test_quantized_formats_have_rows_per_generation(catalog: Catalog) -> None:
    # INT8 and W4A16 were measured on Ampere only: A100 has its own rows; Hopper's INT8 runs on the
    # H100 row (same tensor-core peak as FP8), never on a factor fitted on A100 kernels
    for prec in ("int8", "w4a16", "w4a8"):
        assert ("*", prec) not in catalog.efficiency
        assert catalog.efficiency_for("a100-80gb", prec).hardware == "a100-80gb"
    assert (catalog.efficiency_for("h100-sxm", "int8").hardware,
            catalog.efficiency_for("h100-sxm", "int8").precision) == ("h100-sxm", "*")


def test_efficiency_hardware_without_rows_uses_pooled_row(catalog: Catalog) -> None:
    row = catalog.efficiency_for("l4", "bf16")  # no published L4 serving figure: pooled
    assert (row.hardware, row.precision) == ("*", "*")


def test_efficiency_hardware_row_for_native_precision(catalog: Catalog) -> None:
    row = catalog.efficiency_for("h100-sxm", "fp8")
    assert (row.hardware, row.precision) == ("h100-sxm", "*")
    kv = catalog.efficiency_for("a100-80gb", "*")  # KV-cache streams: the hardware's own row
    assert (kv.hardware, kv.precision) == ("a100-80gb", "*")


def test_efficiency_exact_row_wins(tmp_path: Path) -> None:
    row = ('[[efficiency]]\nhardware = "a100-80gb"\nprecision = "w4a16"\ncompute = 0.3\nmemory = 0.3\n'
           'note = "test"\n' + PROV)
    cat = load(write(tmp_path / "o.toml", row))
    found = cat.efficiency_for("a100-80gb", "w4a16")
    assert (found.hardware, found.precision, found.compute) == ("a100-80gb", "w4a16", 0.3)


def test_shipped_efficiency_rows_were_fitted(catalog: Catalog) -> None:
    for row in catalog.efficiency.values():
        assert "fit_efficiency.py" in row.source
        assert row.compute <= 0.9 and row.memory <= 0.9  # the fit grid stops at 0.90


# ---------------------------------------------------------------- precision fallback


def test_fp8_on_a100_falls_back_to_bf16_compute(catalog: Catalog) -> None:
    est = planner.estimate("llama-3.1-8b", "a100-80gb", precision="fp8", batch=1,
                           input_tokens=128, output_tokens=128, catalog=catalog)
    assert est.precision_fallback and est.compute_dtype_used == "bf16"
    native = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", batch=1,
                              input_tokens=128, output_tokens=128, catalog=catalog)
    assert not native.precision_fallback and native.compute_dtype_used == "fp8"
    bf16 = planner.estimate("llama-3.1-8b", "a100-80gb", precision="bf16", batch=1,
                            input_tokens=128, output_tokens=128, catalog=catalog)
    assert est.weight_gb_per_gpu < 0.7 * bf16.weight_gb_per_gpu  # weights still stored at 8 bits


# ---------------------------------------------------------------- CLI


def test_cli_validate_shipped(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "validate")
    assert r.code == 0, r.err
    assert "catalog OK" in r.out


def test_cli_validate_overlay_path(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "o.toml", hardware_row(), price_row())
    r = whatif("catalog", "validate", str(path))
    assert r.code == 0, r.err
    assert "13 hardware" in r.out


@pytest.mark.parametrize(
    "content",
    [
        hardware_row(bandwidth="1e9"),
        hardware_row(provenance='source_date = "2026-01-01"\n'),
        price_row("no-such-gpu"),
    ],
    ids=["implausible", "no-source", "unknown-hardware"],
)
def test_cli_bad_catalog_exits_2_with_one_line(whatif, tmp_path: Path, content: str) -> None:  # type: ignore[no-untyped-def]
    bad = write(tmp_path / "bad.toml", content)
    r = whatif("--catalog", str(bad), "catalog", "validate")
    assert r.code == 2
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert r.err.startswith("whatif: error:")


def test_cli_bad_catalog_via_env_exits_2(whatif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CATALOG_ENV_VAR, str(write(tmp_path / "bad.toml", hardware_row(bandwidth="nan"))))
    r = whatif("catalog", "list", "hardware")
    assert r.code == 2
    assert "memory_bandwidth_gb_s" in r.err and "Traceback" not in r.err


def test_cli_list_hardware_json(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "list", "hardware", "--format", "json")
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert document["schema_version"] == 1 and document["kind"] == "hardware"
    rows = document["rows"]
    assert len(rows) >= 12
    assert set(REQUIRED_HARDWARE) <= {row["slug"] for row in rows}
    assert all(row["source"] and row["source_date"] for row in rows)


def test_cli_list_includes_overlay_rows(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "o.toml", hardware_row())
    r = whatif("--catalog", str(path), "catalog", "list", "hardware", "--format", "json")
    assert r.code == 0, r.err
    assert "test-gpu" in {row["slug"] for row in json.loads(r.out)["rows"]}


def test_cli_show_hardware_includes_prices(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "h100-sxm", "--format", "json")
    assert r.code == 0, r.err
    item = json.loads(r.out)
    assert item["slug"] == "h100-sxm"
    modes = {p["mode"] for p in item["prices"]}
    assert {"on-demand", "buy"} <= modes
    assert all(p["hardware"] == "h100-sxm" for p in item["prices"])


def test_cli_show_model_includes_quality(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "llama-3.1-70b", "--format", "json")
    assert r.code == 0, r.err
    assert "mmlu" in {q["metric"] for q in json.loads(r.out)["quality"]}


def test_cli_show_unknown_slug_suggests(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("catalog", "show", "h100-sxn")
    assert r.code == 2
    assert "h100-sxm" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


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
