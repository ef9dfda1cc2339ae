"""Catalog overlays (files, directories, the environment variable) and every validation error they can raise, named with file, row and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import planner
from planner.catalog.store import (
    CATALOG_ENV_VAR,
    Catalog,
)
from planner.errors import CatalogError
from tests.catalog.helpers import (
    PROV,
    h100_row_with_bandwidth,
    hardware_row,
    load,
    price_row,
    write,
)

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


def test_a_blank_source_is_no_source(tmp_path: Path) -> None:
    """Three spaces passed the length check: provenance in name only."""
    path = write(tmp_path / "o.toml", hardware_row(provenance='source = "   "\nsource_date = "2026-01-01"\n'))
    with pytest.raises(CatalogError, match="blank"):
        load(path)


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
    with pytest.raises(CatalogError, match="unknown hardware 'no-such-gpu'") as exc:
        load(write(tmp_path / "o.toml", price_row("no-such-gpu")))
    # the file the row came from, as the path it was given (two overlay folders may both hold an o.toml)
    assert str(exc.value).startswith(f"{tmp_path / 'o.toml'}: price[no-such-gpu/")
    from planner.catalog.store import file_label, shipped_catalog_files

    for path in shipped_catalog_files():  # a shipped file is named by its name alone
        assert file_label(path) == path.name


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
