"""Load profiles, calibration, validation, error bands, training cost and speculative decoding, by hand.

Each test pins a term a mutation-testing review found unguarded by the other tests in this directory:
the hardware columns of a profile (the one-way link bandwidth, the engine speed ``s`` capping the
efficiency factors at 1 and dividing the fixed per-pass times, the KV stream read from the hardware's own
row), the MLA value width and the draft's columns (:mod:`planner.physics.profile`); the trace of
:meth:`ServingProfile.changed`; and the smaller helpers of :mod:`planner.physics.calibrate`,
:mod:`planner.physics.validation`, :mod:`planner.physics.error_bands`, :mod:`planner.physics.training`
and :mod:`planner.physics.speculation`.  No test runs a plan; the fits run on one or two rows.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.catalog.schema import EfficiencyRow
from planner.catalog.store import Catalog
from planner.errors import InputError, NotApplicable
from planner.physics.calibrate import Calibration, FittedFactor, calibrate, overlay_toml, read_measurements
from planner.physics.error_bands import (
    band_scale,
    centre_half,
    cross_validated_coverage,
    publication_scores,
    widened,
)
from planner.physics.profile import (
    base_profile,
    draft_columns,
    hardware_columns,
    model_columns,
)
from planner.physics.speculation import PAPER, tokens_per_pass, with_draft
from planner.physics.training import flops_from_gpu_time, price_training
from planner.physics.validation import (
    CaseResult,
    case_engine,
    case_source,
    load_cases,
    median_abs_error,
    resolve_inputs,
    run_case_list,
    run_cases,
)

# ------------------------------------------------------------------------------------------- profile.py


def test_hardware_columns_of_h100_fp8_by_hand(catalog: Catalog) -> None:
    """H100 SXM at FP8 on the row's own engine (s = 1): the FP8 dense peak, the one-way half of the quoted
    bidirectional NVLink bandwidth, the catalog's factors and fixed times in seconds."""
    h100 = catalog.hardware["h100-sxm"]
    assert (h100.peak_fp8_dense_tflops, h100.peak_bf16_dense_tflops) == (1978.9, 989.4)
    assert (h100.scaleup_bandwidth_gb_s, h100.memory_bandwidth_gb_s) == (900.0, 3350.0)
    row = catalog.efficiency_for("h100-sxm", "fp8")
    assert (row.hardware, row.precision, row.compute, row.memory) == ("h100-sxm", "*", 0.57, 0.74)
    d = catalog.defaults
    assert (d.allreduce_latency_us, d.decode_step_fixed_us, d.layer_fixed_us, d.moe_layer_fixed_us) == (
        6.0, 15.0, 31.0, 21.0)
    cols = hardware_columns(h100, base_profile(catalog.models["llama-3.1-8b"], "fp8", None, catalog), catalog)
    assert cols["peak_flops_per_s"] == pytest.approx(1978.9e12)  # FP8 has tensor cores on H100
    assert cols["memory_bandwidth_bytes_per_s"] == pytest.approx(3350e9)
    assert cols["link_bytes_per_s"] == pytest.approx(450e9)  # 900 GB/s both ways -> 450 GB/s one way
    assert (cols["compute_efficiency"], cols["memory_efficiency"], cols["kv_memory_efficiency"]) == pytest.approx(
        (0.57, 0.74, 0.74))
    assert cols["allreduce_latency_s"] == pytest.approx(6e-6)
    assert (cols["step_fixed_s"], cols["layer_fixed_s"], cols["moe_layer_fixed_s"]) == pytest.approx(
        (15e-6, 31e-6, 21e-6))


def test_kv_stream_reads_the_hardwares_own_row(catalog: Catalog) -> None:
    """A100 at INT8 has a row of its own (compute 0.20, memory 0.72) for the weights' GEMMs; the KV-cache
    stream reads the hardware's own row (``efficiency_for(hw, "*")``, the ``(a100-80gb, *)`` row): 0.73."""
    own = catalog.efficiency[("a100-80gb", "int8")]
    kv = catalog.efficiency[("a100-80gb", "*")]
    assert (own.compute, own.memory, kv.memory) == (0.2, 0.72, 0.73)
    a100 = catalog.hardware["a100-80gb"]
    cols = hardware_columns(a100, base_profile(catalog.models["llama-3.1-8b"], "int8", None, catalog), catalog)
    assert cols["compute_efficiency"] == pytest.approx(0.20)
    assert cols["memory_efficiency"] == pytest.approx(0.72)
    assert cols["kv_memory_efficiency"] == pytest.approx(0.73)
    assert cols["peak_flops_per_s"] == pytest.approx(624e12)  # A100's INT8 tensor-core peak


def test_engine_speed_caps_factors_at_one_and_divides_fixed_times(catalog: Catalog) -> None:
    """vLLM on H200 at s = 1.499 relative to TensorRT-LLM (the H200 row's engine; compute 0.63, memory 0.70):
    η_c = min(1, 0.63·1.499) = 0.94437, η_m = η_kv = min(1, 0.70·1.499 = 1.0493) = 1, τ ← τ / 1.499; the
    all-reduce latency is the link's, not the engine's, and is not scaled.  At s = 2 the compute factor is
    capped too: min(1, 1.26) = 1."""
    h200 = catalog.hardware["h200"]
    row = catalog.efficiency_for("h200", "fp8")
    speed = catalog.engines[("vllm", "h200")]
    assert (row.compute, row.memory, row.engine, speed.relative_to, speed.speed) == (
        0.63, 0.7, "tensorrt-llm", "tensorrt-llm", 1.499)
    profile = base_profile(catalog.models["llama-3.1-8b"], "fp8", None, catalog)
    cols = hardware_columns(h200, profile, catalog, engine="vllm")
    assert cols["compute_efficiency"] == pytest.approx(0.94437)
    assert cols["memory_efficiency"] == 1.0 and cols["kv_memory_efficiency"] == 1.0
    assert cols["step_fixed_s"] == pytest.approx(15e-6 / 1.499)
    assert cols["layer_fixed_s"] == pytest.approx(31e-6 / 1.499)
    assert cols["moe_layer_fixed_s"] == pytest.approx(21e-6 / 1.499)
    assert cols["allreduce_latency_s"] == pytest.approx(6e-6)
    faster = dataclasses.replace(catalog, engines={**catalog.engines,
                                                   ("vllm", "h200"): speed.model_copy(update={"speed": 2.0})})
    cols = hardware_columns(h200, profile, faster, engine="vllm")
    assert cols["compute_efficiency"] == 1.0 and cols["step_fixed_s"] == pytest.approx(7.5e-6)


def test_model_columns_of_mla_and_extra_memory(catalog: Catalog) -> None:
    """DeepSeek-V3 caches 576 latent elements per token per layer, 64 of them the decoupled RoPE key: values
    are read from the other 576 − 64 = 512.  A dense model has neither.  1.5 GB of extra memory per replica
    is 1.5e9 bytes (decimal GB)."""
    ds = base_profile(catalog.models["deepseek-v3"], "fp8", None, catalog)
    cols = model_columns(ds)
    assert (cols["kv_latent_dim"], cols["kv_latent_value_dim"]) == (576.0, 512.0)
    dense = base_profile(catalog.models["llama-3.1-8b"], "fp8", None, catalog)
    cols = model_columns(dense.model_copy(update={"extra_memory_gb_per_replica": 1.5}))
    assert (cols["kv_latent_dim"], cols["kv_latent_value_dim"]) == (0.0, 0.0)
    assert cols["extra_memory_bytes"] == pytest.approx(1.5e9)


def test_base_profile_takes_the_kv_precision_given(catalog: Catalog) -> None:
    """W4A8 weights default to an INT4 KV cache; an FP8 KV cache asked for is the one served (8 bits)."""
    model = catalog.models["llama-3.1-8b"]
    default = base_profile(model, "w4a8", None, catalog)
    assert (default.kv_precision, default.kv_bits, default.weight_bits) == ("int4", 4.0, 4.125)
    given = base_profile(model, "w4a8", "fp8", catalog)
    assert (given.kv_precision, given.kv_bits, given.weight_bits) == ("fp8", 8.0, 4.125)


def test_draft_columns_zero_without_draft_tokens_and_of_an_mla_draft(catalog: Catalog) -> None:
    """A draft with γ = 0 drafts nothing: every draft column is 0 (nor is it loaded).  An MLA draft caches
    its latent, ``kv_latent_dim`` per layer: DeepSeek-V3's 61 layers × 576 = 35,136 elements per token (not
    K and V per head).  Llama-3.1-8B as a draft: 32 layers of width 4096."""
    base = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    idle = draft_columns(base.model_copy(update={"draft": catalog.models["llama-3.1-8b"], "acceptance_rate": 0.7}))
    assert set(idle.values()) == {0.0} and len(idle) == 8
    small = draft_columns(base.model_copy(update={"draft": catalog.models["llama-3.1-8b"], "draft_tokens": 3,
                                                  "acceptance_rate": 0.7}))
    assert (small["draft_layers"], small["draft_d_model"], small["draft_tokens"]) == (32.0, 4096.0, 3.0)
    ds = catalog.models["deepseek-v3"]
    assert (ds.layers, ds.kv_latent_dim) == (61, 576)
    mla = draft_columns(base.model_copy(update={"draft": ds, "draft_tokens": 2, "acceptance_rate": 0.5}))
    assert mla["draft_kv_elems_per_token"] == 61 * 576 == 35_136


def test_changed_traces_each_changed_field_in_order(catalog: Catalog) -> None:
    """One trace entry per changed field, appended after the earlier ones; an architecture by its slug
    (``none`` when absent); an unchanged field leaves no entry."""
    base = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    same = base.changed("t", "o", "s", kv_bits=base.kv_bits)
    assert same.trace == ()
    one = base.changed("t", "a", "src-a", draft=catalog.models["llama-3.1-8b"])
    [entry] = one.trace
    assert (entry.field, entry.before, entry.after, entry.source) == ("draft", "none", "llama-3.1-8b", "src-a")
    two = one.changed("t", "b", "src-b", draft=catalog.models["llama-3-8b"], kv_bits=4.0)
    assert [(e.option, e.field) for e in two.trace] == [("a", "draft"), ("b", "draft"), ("b", "kv_bits")]
    assert (two.trace[1].before, two.trace[1].after) == ("llama-3.1-8b", "llama-3-8b")
    assert (two.trace[2].before, two.trace[2].after) == (8.0, 4.0)
    # a score set where there was none is applied and traced from "none" (it left no entry before)
    scored = base.changed("t", "q", "s", quality_score=80.0)
    assert scored.quality_score == 80.0
    assert [(e.field, e.before, e.after) for e in scored.trace] == [("quality_score", "none", 80.0)]
    assert [(e.before, e.after) for e in scored.changed("t", "r", "s", quality_score=None).trace[1:]] == [(80.0, "none")]


# ----------------------------------------------------------------------------------------- calibrate.py


def _write_cases(path: Path, rows: list[dict[str, Any]], table: str = "case") -> Path:
    lines = []
    for row in rows:
        lines.append(f"[[{table}]]")
        lines += [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v!r}" for k, v in row.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _with_row(catalog: Catalog, hardware: str, precision: str, compute: float, memory: float) -> Catalog:
    row = EfficiencyRow(hardware=hardware, precision=precision, compute=compute, memory=memory, note="test",
                        source="test", source_date="2026-01-01")
    return dataclasses.replace(catalog, efficiency={**catalog.efficiency, (hardware, precision): row})


def _case(case_id: str, hardware: str, metric: str, published: float, **shape: Any) -> dict[str, Any]:
    """A Llama-3.1-8B FP8 case at TP 1, batch 1 (500 in, 200 out unless ``shape`` says otherwise)."""
    return {"id": case_id, "model": "llama-3.1-8b", "hardware": hardware, "precision": "fp8", "tp": 1, "batch": 1,
            "input_tokens": 500, "output_tokens": 200, "metric": metric, "published": published, **shape}


def _predicted(catalog: Catalog, hardware: str, metric: str, **shape: Any) -> float:
    kw: dict[str, Any] = {"batch": 1, "input_tokens": 500, "output_tokens": 200, **shape}
    return float(getattr(planner.estimate("llama-3.1-8b", hardware, precision="fp8", catalog=catalog, **kw), metric))


def test_the_fine_grid_resolves_a_factor_to_half_a_percent(catalog: Catalog, tmp_path: Path) -> None:
    """One batch-1 decode step measured as the roofline gives it at a memory factor of 0.613 (compute as the
    catalog's 0.63).  The coarse grid (steps of 0.05) ends at 0.60 (|log 0.613/0.60| = 0.021 against
    |log 0.65/0.613| = 0.059); the fine grid around it (steps of 0.005) at 0.615, the nearest point
    (0.002 away, against 0.003 for 0.610).  A batch-1 decode step does not constrain compute: kept at 0.63."""
    truth = _with_row(catalog, "h200", "fp8", 0.63, 0.613)
    assert catalog.efficiency_for("h200", "fp8").compute == 0.63
    published = _predicted(truth, "h200", "decode_step_ms")
    result = calibrate(_write_cases(tmp_path / "m.toml", [_case("d1", "h200", "decode_step_ms", published)]), catalog)
    [f] = result.factors
    assert f.memory == pytest.approx(0.615) and f.memory_fitted
    assert f.compute == 0.63 and not f.compute_fitted and f.measurements == 1


def test_coordinate_descent_recovers_both_factors_from_a_far_start(catalog: Catalog, tmp_path: Path) -> None:
    """Measured exactly as the roofline gives them at (compute 0.62, memory 0.81): a batch-64 throughput (it
    moves with both factors) and a batch-1 decode step (memory).  Two figures, two unknowns, and the truth on
    the fine grid: the loss is 0 there, and the descent reaches it from a catalog row far off (0.20, 0.30) —
    it needs its second pass over each grid, the first one leaving compute where memory 0.30 put it."""
    truth = _with_row(catalog, "h200", "fp8", 0.62, 0.81)
    throughput = {"batch": 64, "input_tokens": 2000, "output_tokens": 200}
    rows = [_case("tp", "h200", "output_tokens_per_s", _predicted(truth, "h200", "output_tokens_per_s", **throughput),
                  **throughput),
            _case("d1", "h200", "decode_step_ms", _predicted(truth, "h200", "decode_step_ms"))]
    result = calibrate(_write_cases(tmp_path / "m.toml", rows), _with_row(catalog, "h200", "fp8", 0.20, 0.30))
    [f] = result.factors
    assert (f.compute, f.memory) == pytest.approx((0.62, 0.81)) and f.compute_fitted and f.memory_fitted
    assert result.median_abs_error_after == pytest.approx(0.0, abs=1e-9)


def test_a_factor_at_its_lower_bound_is_warned_per_group(catalog: Catalog, tmp_path: Path) -> None:
    """An H200 decode step measured 30x slower than the catalog's roofline: the memory factor falls to the
    grid's lowest value, 0.05, and is warned about with the error left in *its* group (an H100 case that the
    catalog already matches is fitted beside it and leaves ~0 error in its own).  The H200 compute factor,
    not constrained by a decode step, is kept at the overlay's 1.0 and is not warned about: it was not fitted.
    Before the fit the H200 case's error is P / 30P − 1 = −29/30 and the H100 one's 0: median |error| over
    the two is (29/30 + 0) / 2."""
    start = _with_row(catalog, "h200", "fp8", 1.0, 0.70)
    slow = 30 * _predicted(start, "h200", "decode_step_ms")
    exact = _predicted(start, "h100-sxm", "decode_step_ms")
    path = _write_cases(tmp_path / "m.toml", [_case("slow", "h200", "decode_step_ms", slow),
                                              _case("exact", "h100-sxm", "decode_step_ms", exact)])
    result = calibrate(path, start)
    h100, h200 = result.factors
    assert (h100.hardware, h200.hardware) == ("h100-sxm", "h200")
    assert h200.memory == pytest.approx(0.05) and h200.memory_fitted
    assert h200.compute == 1.0 and not h200.compute_fitted
    assert result.median_abs_error_before == pytest.approx(29 / 30 / 2)
    after = {r.id: r.after / r.measured - 1 for r in result.rows}
    assert abs(after["exact"]) < 0.005 and after["slow"] < -0.2
    [warning] = result.warnings
    left = f"{abs(after['slow']):.0%}"
    assert warning.startswith(f"h200 fp8: the fitted memory factor 0.050 sits at its lower bound, median |error| "
                              f"left {left}: the measurements ask for a slower machine")
    assert re.search(r"left \d+%:", warning)


def test_each_group_is_fitted_and_kept_apart(catalog: Catalog, tmp_path: Path) -> None:
    """Two groups, sorted by (hardware, precision): an H100 decode step 1.25x the catalog's (memory fitted,
    compute kept) and an H200 4000-token prefill 1.1x (compute fitted; a prefill this long does not move
    with the memory factor, which is kept at the catalog's 0.70).  Each row's error before is 1/1.25 − 1 =
    −0.20 and 1/1.1 − 1 = −0.091; after, both groups' fits apply (each within the fine grid's 0.5 %)."""
    prefill = {"input_tokens": 4000, "output_tokens": 1}
    rows = [_case("pre", "h200", "prefill_ms", 1.1 * _predicted(catalog, "h200", "prefill_ms", **prefill), **prefill),
            _case("dec", "h100-sxm", "decode_step_ms", 1.25 * _predicted(catalog, "h100-sxm", "decode_step_ms"))]
    result = calibrate(_write_cases(tmp_path / "m.toml", rows), catalog)
    h100, h200 = result.factors
    assert [(f.hardware, f.measurements) for f in result.factors] == [("h100-sxm", 1), ("h200", 1)]
    assert h100.memory_fitted and not h100.compute_fitted and h100.compute == 0.57
    assert h200.compute_fitted and not h200.memory_fitted and h200.memory == 0.70
    assert h200.note.endswith("kept from the catalog: memory")
    by_id = {r.id: r for r in result.rows}
    assert by_id["dec"].before / by_id["dec"].measured - 1 == pytest.approx(-0.20)
    assert by_id["pre"].before / by_id["pre"].measured - 1 == pytest.approx(1 / 1.1 - 1)
    assert all(abs(r.after / r.measured - 1) < 0.01 for r in result.rows)
    assert result.warnings == []


def test_a_relative_config_path_starts_at_the_measurements_file(catalog: Catalog, tmp_path: Path) -> None:
    """``model = "cfg/config.json"`` in ``tmp/m.toml`` is ``tmp/cfg/config.json``, whatever the working
    directory: the prediction before the fit is the estimate of that file."""
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "config.json"
    shutil.copy(Path(__file__).parents[1] / "data" / "gpt-13b-ft" / "config.json", config)
    row = {"id": "j1", "model": "cfg/config.json", "hardware": "h100-sxm", "precision": "fp8", "tp": 1, "batch": 1,
           "input_tokens": 500, "output_tokens": 200, "metric": "decode_step_ms", "published": 10.0}
    result = calibrate(_write_cases(tmp_path / "m.toml", [row]), catalog)
    expected = planner.estimate(str(config), "h100-sxm", precision="fp8", batch=1, input_tokens=500,
                                output_tokens=200, catalog=catalog).decode_step_ms
    assert result.rows[0].before == pytest.approx(expected)


def test_calibration_input_errors_name_the_exact_place(catalog: Catalog, tmp_path: Path) -> None:
    """An empty ``case`` array is "no [[case]] rows"; a case that cannot fit names the case itself
    (``m.toml: case[big]``), a refused TP the case's field (``m.toml: case[t16].tp``)."""
    empty = tmp_path / "e.toml"
    empty.write_text("case = []\n")
    with pytest.raises(InputError) as exc:
        read_measurements(empty)
    assert (exc.value.field, exc.value.reason) == ("e.toml: case", "no [[case]] rows")
    big = {**_case("big", "a10g", "decode_step_ms", 1.0), "model": "llama-3.1-70b", "precision": "bf16"}
    with pytest.raises(InputError) as exc:
        calibrate(_write_cases(tmp_path / "m.toml", [big]), catalog)
    assert exc.value.field == "m.toml: case[big]" and exc.value.reason.startswith("does not fit")
    with pytest.raises(InputError) as exc:
        calibrate(_write_cases(tmp_path / "m.toml", [{**_case("t16", "h100-sxm", "decode_step_ms", 1.0), "tp": 16}]),
                  catalog)
    assert exc.value.field == "m.toml: case[t16].tp"


def test_overlay_writes_each_factor_to_four_places() -> None:
    """The overlay's rows: the row's engine, compute and memory to 4 decimals, the note, the source and date;
    the warnings as comments above."""
    factor = FittedFactor(hardware="h200", precision="fp8", compute=0.61234, memory=0.8, compute_fitted=True,
                          memory_fitted=True, measurements=3, note="least squares", engine="vllm")
    text = overlay_toml(Calibration(factors=[factor], rows=[], median_abs_error_before=0.1,
                                    median_abs_error_after=0.01, warnings=["w1"]), "m.toml", "2026-02-03")
    assert "# warning: w1" in text.splitlines()
    lines = text.split("[[efficiency]]\n")[1].splitlines()
    assert lines[:8] == ['hardware = "h200"', 'precision = "fp8"', 'engine = "vllm"', "compute = 0.6123",
                         "memory = 0.8000", 'note = "least squares"', 'source = "whatif calibrate on m.toml"',
                         'source_date = "2026-02-03"']


# ------------------------------------------------------------------------------------------ training.py


def test_price_training_at_fp8_and_full_mfu_by_hand(catalog: Catalog) -> None:
    """6e18 FLOPs on H100 at its FP8 dense peak (1978.9 TFLOP/s) and MFU 1 (allowed: the range is (0, 1]):
    6e18 / 1978.9e12 / 3600 = 0.84222 GPU-hours, priced at the cheapest on-demand rate, whose provider, source
    and date are named; the params and tokens given are carried through, as are the catalog's overlays."""
    price = catalog.price("h100-sxm", "on-demand")
    assert price is not None and price.usd_per_gpu_hour
    cat = dataclasses.replace(catalog, overlays=("mine.toml",))
    job = price_training(6e18, hardware="h100-sxm", catalog=cat, mfu=1.0, dtype="fp8", params=1e9, tokens=2e9,
                         note="n")
    assert job.gpu_hours == pytest.approx(6e18 / 1978.9e12 / 3600) == pytest.approx(0.84222, rel=1e-4)
    assert (job.peak_tflops, job.mfu, job.dtype) == (1978.9, 1.0, "fp8")
    assert job.cost_usd == pytest.approx(job.gpu_hours * price.usd_per_gpu_hour)
    assert job.price_source == f"{price.provider}: {price.source} ({price.source_date})"
    assert (job.params, job.tokens, job.note, job.catalog_overlays) == (1e9, 2e9, "n", ["mine.toml"])


def test_price_training_refusals_and_an_unpriced_chip(catalog: Catalog) -> None:
    """MFU 0 is refused (not read as "use the default"), as is a dtype the chip has no tensor cores for
    (FP8 on A100).  Gaudi 3 has no on-demand price: the hours are counted (1e18 / (1835e12 · 0.4) / 3600 =
    0.37847 at the default MFU 0.4), the cost is not."""
    with pytest.raises(InputError) as exc:
        price_training(1e18, hardware="h100-sxm", catalog=catalog, mfu=0.0)
    assert exc.value.field == "mfu"
    with pytest.raises(InputError) as exc:
        price_training(1e18, hardware="a100-80gb", catalog=catalog, dtype="fp8")
    assert exc.value.field == "dtype"
    assert catalog.price("gaudi3", "on-demand") is None and catalog.defaults.training_mfu == 0.4
    job = price_training(1e18, hardware="gaudi3", catalog=catalog)
    assert job.gpu_hours == pytest.approx(1e18 / (1835e12 * 0.4) / 3600) == pytest.approx(0.37847, rel=1e-4)
    assert (job.cost_usd, job.price_usd_per_gpu_hour, job.price_source) == (None, None, None)


def test_flops_from_gpu_time_by_hand() -> None:
    """Vaswani et al. 2017's base Transformer: 8 GPUs × 12 h × 3600 s × 9.5e12 FLOP/s = 3.2832e18 FLOPs."""
    assert flops_from_gpu_time(8, 12, 9.5) == pytest.approx(3.2832e18)


# ---------------------------------------------------------------------------------------- validation.py


def _deployment_case(case_id: str, metric: str, published: float, **more: Any) -> dict[str, Any]:
    """Llama-3.1-8B FP8 on one H100 at batch 8, 100 output tokens (input tokens in ``more``)."""
    return {"id": case_id, "model": "llama-3.1-8b", "hardware": "h100-sxm", "precision": "fp8", "tp": 1, "batch": 8,
            "output_tokens": 100, "metric": metric, "published": published, "tolerance": 0.1, "source": "test",
            **more}


def _run(case: dict[str, Any], catalog: Catalog, base: Path) -> CaseResult:
    [result] = run_case_list([(case, base)], catalog)
    return result


def _throughput(catalog: Catalog, input_tokens: int) -> float:
    return planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", batch=8, input_tokens=input_tokens,
                            output_tokens=100, catalog=catalog).output_tokens_per_s


def test_case_source_by_hand() -> None:
    """The publication of a case: its ``source_key`` when given; ``C3`` for ``C3-128/128`` (C or T and digits
    only); the two parts after the hardware for an MLPerf id; else the part after the hardware."""
    assert case_source({"id": "C3-128/128", "source_key": "mine"}) == "mine"
    assert case_source({"id": "C3-128/128"}) == "C3"
    assert case_source({"id": "T2-gpt3"}) == "T2"
    assert case_source({"id": "C2b-pub-run"}) == "pub"  # "2b" is not a case number
    assert case_source({"id": "H100-mlperf51-redhat-vllm-x"}) == "mlperf51-redhat"
    assert case_source({"id": "H100-mlperf51-redhat"}) == "mlperf51-redhat"
    assert case_source({"id": "H200-trtllm10-llama"}) == "trtllm10"


def test_median_abs_error_leaves_out_fits_and_solved_cases() -> None:
    """|error| of the predicted figures: 0.2, 0.1, 0.3 → median 0.2; a 'fits' case and a case whose input was
    solved for (error 0 by construction) are not predictions; no figure at all gives 0."""
    def result(error: float, metric: str = "tpot_ms", free: bool = False) -> CaseResult:
        return CaseResult(id="x", metric=metric, published=1.0, predicted=1.0 + error, error=error, tolerance=0.1,
                          within=True, source="s", assumption="", detail="", free_parameter=free)
    results = [result(-0.2), result(0.1), result(0.3), result(5.0, metric="fits"), result(0.0, free=True)]
    assert median_abs_error(results) == pytest.approx(0.2)
    assert median_abs_error([result(0.0, free=True)]) == 0.0


def test_training_cases_by_hand(catalog: Catalog, tmp_path: Path) -> None:
    """``gpu_hours``: 6 · N_active · D at the catalog's MFU 0.4 of H100's BF16 peak: 6 × 8,030,261,248 × 1e12 =
    4.8182e22 FLOPs / (989.4e12 × 0.4) / 3600 = 33,817.8 GPU-hours; published 30,000 → error +12.73 %, within a
    tolerance of 0.13.  ``flops_gpu_time``: 8 × 12 h × 3600 × 9.5e12 = 3.2832e18 FLOPs, published 4e18 → −17.92 %."""
    assert catalog.models["llama-3.1-8b"].params_active == 8_030_261_248
    hours = 6 * 8_030_261_248 * 1e12 / (989.4e12 * 0.4) / 3600
    assert hours == pytest.approx(33_817.8, rel=1e-5)
    rows = [{"id": "T9", "metric": "gpu_hours", "model": "llama-3.1-8b", "tokens": 1e12, "hardware": "h100-sxm",
             "published": 30_000.0, "tolerance": 0.13, "source": "s"},
            {"id": "T8", "metric": "flops_gpu_time", "gpus": 8, "hours": 12, "sustained_tflops": 9.5, "params": 65e6,
             "tokens": 1e9, "published": 4e18, "tolerance": 0.1, "source": "s"}]
    hours_case, flops_case = run_cases(_write_cases(tmp_path / "t.toml", rows, table="training_case"), catalog)
    assert hours_case.predicted == pytest.approx(hours) and hours_case.error == pytest.approx(hours / 30_000 - 1)
    assert hours_case.within and hours_case.detail == "4.82e+22 FLOPs at MFU 0.40 of 989.4 TFLOPS"
    assert flops_case.predicted == pytest.approx(3.2832e18) and flops_case.error == pytest.approx(3.2832 / 4 - 1)
    assert not flops_case.within
    with pytest.raises(ValueError, match="unknown metric"):
        run_cases(_write_cases(tmp_path / "u.toml", [{"id": "T7", "metric": "usd", "published": 1.0}],
                               table="training_case"), catalog)


def test_estimate_cases_fits_and_errors(catalog: Catalog, tmp_path: Path) -> None:
    """A figure: error = predicted / published − 1 (published twice the estimate → −0.5).  A deployment that
    does not fit: predicted 0, error −1, never within (even at a tolerance of 2) and flagged.  A 'fits' case
    is right when the estimator's verdict matches the published one (1 fits, 0 does not)."""
    x = _throughput(catalog, 500)
    r = _run(_deployment_case("a", "output_tokens_per_s", 2 * x, input_tokens=500), catalog, tmp_path)
    assert r.predicted == pytest.approx(x) and r.error == pytest.approx(-0.5) and not r.within and r.fits_memory
    big = {"model": "llama-3.1-70b", "hardware": "a10g", "precision": "bf16", "input_tokens": 500}
    r = _run(_deployment_case("b", "tpot_ms", 10.0, **{**big, "tolerance": 2.0}), catalog, tmp_path)
    assert (r.predicted, r.error, r.within, r.fits_memory) == (0.0, -1.0, False, False)
    r = _run(_deployment_case("c", "fits", 0.0, **big), catalog, tmp_path)
    assert (r.predicted, r.error, r.within, r.fits_memory) == (0.0, 0.0, True, True)
    r = _run(_deployment_case("d", "fits", 1.0, input_tokens=500), catalog, tmp_path)
    assert (r.predicted, r.error, r.within) == (1.0, 0.0, True)
    with pytest.raises(ValueError, match="unknown metric"):
        _run(_deployment_case("e", "usd", 1.0, input_tokens=500), catalog, tmp_path)


def test_case_engine_runs_only_an_engine_with_a_speed_on_the_row_engine(catalog: Catalog) -> None:
    """The H200 row was fitted on TensorRT-LLM: that engine runs as itself, vLLM through its H200 speed row;
    SGLang on an A100 has no speed row there: the estimate runs the row's own engine (None)."""
    assert case_engine({"hardware": "h200", "precision": "fp8", "engine": "tensorrt-llm"}, catalog) == "tensorrt-llm"
    assert case_engine({"hardware": "h200", "precision": "fp8", "engine": "vllm"}, catalog) == "vllm"
    assert case_engine({"hardware": "a100-80gb", "precision": "bf16", "engine": "sglang"}, catalog) is None
    assert case_engine({"hardware": "h200", "precision": "fp8"}, catalog) is None


def test_free_input_picks_the_nearer_of_the_two_lengths(catalog: Catalog, tmp_path: Path) -> None:
    """At batch 8 throughput falls as the input grows (each prompt token is more prefill work).  Published
    70 % of the way from the 20-token figure up to the 19-token one: the bisection stops at 20 (the first length
    not faster than published), and 19, at 30 % of the gap, is the nearer: the implied input.  Published exactly
    at the 20-token figure: 20, error 0, within a tolerance of 0.  No length fits: predicted 0, error −1."""
    at19, at20 = _throughput(catalog, 19), _throughput(catalog, 20)
    assert at19 > at20
    between = at20 + 0.7 * (at19 - at20)
    r = _run(_deployment_case("f", "output_tokens_per_s", between, free_input_range=[19, 64]),
                           catalog, tmp_path)
    assert r.detail == "implied mean input 19 tokens (free in [19, 64])" and r.free_parameter
    assert r.predicted == pytest.approx(at19) and r.error == pytest.approx(at19 / between - 1) and r.within
    r = _run(_deployment_case("g", "output_tokens_per_s", at20, free_input_range=[1, 64],
                                            tolerance=0.0), catalog, tmp_path)
    assert r.detail == "implied mean input 20 tokens (free in [1, 64])" and r.error == 0.0 and r.within
    none = _deployment_case("h", "output_tokens_per_s", 100.0, free_input_range=[1, 8], model="llama-3.1-70b",
                            hardware="a10g", precision="bf16")
    r = _run(none, catalog, tmp_path)
    assert (r.predicted, r.error, r.within) == (0.0, -1.0, False)


def test_input_from_takes_the_reference_cases_implied_input(catalog: Catalog, tmp_path: Path) -> None:
    """A case with ``input_from = "R"`` runs at the input R implies (20 tokens, as above), from the reference
    pool when one is given; its own free range and ``input_from`` are dropped.  ``unsupported`` cases are not
    loaded; the base directory of a file under ``tests/`` is the repository root, else the file's folder."""
    ref = _deployment_case("R", "output_tokens_per_s", _throughput(catalog, 20), free_input_range=[1, 64])
    dep = _deployment_case("D", "tpot_ms", 1.0, free_input_range=[1, 64], input_from="R")
    [(case, _)] = resolve_inputs([(dep, tmp_path)], catalog, reference=[(ref, tmp_path)])
    assert case["input_tokens"] == 20 and case["input_from_resolved"] == "R"
    assert "free_input_range" not in case and "input_from" not in case
    [result] = run_case_list([(dep, tmp_path)], catalog, reference=[(ref, tmp_path)])
    assert not result.free_parameter and result.detail.startswith("batch 8")
    with pytest.raises(ValueError, match="does not solve"):
        resolve_inputs([({**dep, "input_from": "D2"}, tmp_path)], catalog,
                       reference=[(_deployment_case("D2", "tpot_ms", 1.0, input_tokens=5), tmp_path)])
    rows = [{"id": "k", "metric": "tpot_ms"}, {"id": "u", "metric": "tpot_ms", "unsupported": "TP across nodes"}]
    (tmp_path / "repo" / "tests" / "data").mkdir(parents=True)
    in_tests = _write_cases(tmp_path / "repo" / "tests" / "data" / "c.toml", rows)
    elsewhere = _write_cases(tmp_path / "c.toml", rows)
    assert [(c["id"], base) for c, base in load_cases([in_tests, elsewhere])] == [("k", tmp_path / "repo"),
                                                                                  ("k", tmp_path)]


# --------------------------------------------------------------------------------------- speculation.py


def test_tokens_per_pass_by_hand() -> None:
    """``(1 − α^{γ+1}) / (1 − α)``: α = 0.8, γ = 4 → (1 − 0.32768) / 0.2 = 3.3616; α = 0.5, γ = 1 → 0.75 / 0.5 =
    1.5; α = 0 (every drafted token rejected) → 1, the target's own token."""
    assert tokens_per_pass(0.8, 4) == pytest.approx(3.3616)
    assert tokens_per_pass(0.5, 1) == pytest.approx(1.5)
    assert tokens_per_pass(0.0, 3) == 1.0


def test_with_draft_sets_and_traces_the_three_fields(catalog: Catalog) -> None:
    """Llama-3.1-8B drafting γ = 3 tokens at α = 0.7 for Llama-3.1-70B: the draft (on the draft's own source),
    α (on the source given) and γ (on the paper's eq. 1) are set and traced in that order.  A draft as large as
    the served model (Llama-3-8B for Llama-3.1-8B: both 8.03e9) or with another vocabulary (Llama-2-7B's 32,000
    for Llama-3.1-70B's 128,256) is not applicable; γ above 16 is refused as a typo."""
    target = base_profile(catalog.models["llama-3.1-70b"], "fp8", None, catalog)
    draft = catalog.models["llama-3.1-8b"]
    out = with_draft(target, draft, 3, 0.7, option="opt", source="measured")
    assert (out.draft.slug if out.draft else None, out.draft_tokens, out.acceptance_rate) == ("llama-3.1-8b", 3, 0.7)
    assert [(e.field, e.before, e.after, e.source) for e in out.trace] == [
        ("draft", "none", "llama-3.1-8b", draft.source), ("acceptance_rate", 0.0, 0.7, "measured"),
        ("draft_tokens", 0, 3, f"tokens per pass (1 - α^(γ+1)) / (1 - α), {PAPER} eq. 1")]
    same = catalog.models["llama-3-8b"]
    assert same.params_total == draft.params_total
    with pytest.raises(NotApplicable, match="not smaller"):
        with_draft(base_profile(draft, "fp8", None, catalog), same, 3, 0.7, option="o", source="s")
    with pytest.raises(NotApplicable, match="another tokenizer"):
        with_draft(target, catalog.models["llama-2-7b"], 3, 0.7, option="o", source="s")
    with pytest.raises(InputError) as exc:
        planner.estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=4, batch=1, input_tokens=100,
                         output_tokens=10, draft="llama-3.1-8b", acceptance_rate=0.7, draft_tokens=17,
                         catalog=catalog)
    assert exc.value.field == "draft_tokens"


# --------------------------------------------------------------------------------------- error_bands.py


def test_band_quantiles_and_scale_by_hand() -> None:
    """P10..P90 of 0, 1, …, 10 (linear interpolation) is 1..9: centre 5, half-width 4.  k is the 80 % quantile
    of the scores, at position 0.8 × 5 = 4 of 0..5 → 4; no scores → 1 (never narrowed)."""
    assert centre_half([float(i) for i in range(11)]) == pytest.approx((5.0, 4.0))
    assert band_scale([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(4.0)
    assert band_scale([]) == 1.0
    assert widened(0.1, 0.3, 3.0) == pytest.approx((-0.1, 0.5))


def test_scores_of_single_error_publications_by_hand() -> None:
    """Three publications of one error each: a's band is P10..P90 of b's and c's {0.3, 0.5} = 0.32..0.48,
    centre 0.4, half 0.08 → |0.1 − 0.4| / 0.08 = 3.75.  With two publications each band is one point (half
    0, floored at 1e-9): 0.2 apart scores 0.2 / 1e-9 = 2e8; agreeing exactly scores 0."""
    three = publication_scores({"a": [0.1], "b": [0.3], "c": [0.5]})
    assert three["a"] == pytest.approx([3.75])
    assert three["c"] == pytest.approx([3.75]) and three["b"] == pytest.approx([0.0])
    assert publication_scores({"a": [0.1], "b": [0.3]})["a"] == pytest.approx([2e8])
    assert publication_scores({"a": [0.3], "b": [0.3]}) == {"a": [0.0], "b": [0.0]}


def test_a_score_equal_to_k_is_inside() -> None:
    """Two rows sharing no case: each row's k comes from the other's single score, max(1, 2.0) = 2.0, and a
    score of exactly k is inside its band (|e − m| ≤ k·w)."""
    cv = cross_validated_coverage({"r1": [("x", 2.0)], "r2": [("y", 2.0)]})
    assert cv == {"r1": (1, 1, 2.0), "r2": (1, 1, 2.0)}
