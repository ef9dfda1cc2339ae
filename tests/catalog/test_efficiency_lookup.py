"""Which efficiency row an estimate uses: exact row, format row, hardware row, pooled row; precision fallback."""

from __future__ import annotations

from pathlib import Path

import planner
from planner.catalog.store import (
    Catalog,
)
from tests.catalog.helpers import (
    PROV,
    load,
    write,
)

# ---------------------------------------------------------------- efficiency lookup order


def test_hardware_row_beats_a_pooled_format_row(catalog: Catalog) -> None:
    # what was measured on the hardware beats what was pooled across hardware: a pooled ("*", fp8) row
    # is for hardware without its own row, never over H100's own (which is fitted on FP8 cases)
    import dataclasses

    assert ("*", "fp8") in catalog.efficiency
    assert ("a100-80gb", "*") in catalog.efficiency
    row = catalog.efficiency_for("h100-sxm", "fp8")
    assert (row.hardware, row.precision) == ("h100-sxm", "*")
    fmt = catalog.efficiency[("a100-80gb", "w4a16")].model_copy(update={"hardware": "*"})
    rows = {k: v for k, v in catalog.efficiency.items() if k[1] != "w4a16"} | {("*", "w4a16"): fmt}
    cat = dataclasses.replace(catalog, efficiency=rows)
    assert (cat.efficiency_for("a100-80gb", "w4a16").hardware, cat.efficiency_for("a100-80gb", "w4a16").precision) \
        == ("a100-80gb", "*")
    assert cat.efficiency_for("l4", "w4a16") is fmt  # no L4 row: the pooled format row


def test_pooled_rows_per_precision_family(catalog: Catalog) -> None:
    # hardware without its own row: FP8 on the pooled FP8 row (fitted on Hopper FP8 cases only), anything
    # else on the pooled 16-bit row (fitted on 16-bit cases only)
    fp8, other = catalog.efficiency_for("l4", "fp8"), catalog.efficiency_for("l4", "int8")
    assert (fp8.hardware, fp8.precision) == ("*", "fp8")
    assert (other.hardware, other.precision) == ("*", "*")
    assert "FP8" in fp8.note and "FP16/BF16" in other.note
    assert (fp8.compute, fp8.memory) != (other.compute, other.memory)


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
