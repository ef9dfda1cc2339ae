"""Issue 14 physics: per-pass fixed time, MLA in absorbed form, MoE expert load at small batch,
INT8 per architecture generation, serving engines."""

from __future__ import annotations

import dataclasses
import json

import pytest

import planner
from planner.errors import InputError, UnknownSlugError
from planner.physics.validation import case_source, load_cases, run_case_list
from tests.conftest import DATA_DIR
from tests.physics.test_roofline import toy


def test_fixed_time_adds_once_per_pass_and_per_layer() -> None:
    base = toy()
    fixed = toy(step_fixed_s=20e-6, layer_fixed_s=30e-6)
    # T_f = tau_step + L * tau_layer, L = 10 layers
    assert fixed.layers[0] == 10
    assert evaluate_step(fixed) - evaluate_step(base) == pytest.approx(20e-6 + 10 * 30e-6, rel=1e-9)
    assert evaluate_prefill(fixed) - evaluate_prefill(base) == pytest.approx(20e-6 + 10 * 30e-6, rel=1e-9)


def test_moe_layers_add_their_own_fixed_time() -> None:
    moe = {"params_total": 8e9, "params_active": 2.5e9, "experts": 8, "experts_per_token": 2, "vocab_size": 2}
    plain = evaluate_step(toy(**moe, layer_fixed_s=30e-6))
    with_moe = evaluate_step(toy(**moe, layer_fixed_s=30e-6, moe_layer_fixed_s=20e-6))
    assert with_moe - plain == pytest.approx(10 * 20e-6, rel=1e-9)
    # a dense model ignores the MoE term
    assert evaluate_step(toy(moe_layer_fixed_s=20e-6)) == pytest.approx(evaluate_step(toy()), rel=1e-12)


def test_moe_expert_load_at_small_batch_by_hand() -> None:
    # E = 8, k = 2, batch 3: E*(1-(1-k/E)^b) = 8*(1-0.75^3) = 4.625 distinct experts per layer are read
    moe = {"params_total": 8e9, "params_active": 2.5e9, "experts": 8, "experts_per_token": 2, "vocab_size": 2,
               "input_tokens": 1, "output_tokens": 1, "batch": 3}
    routed = (8e9 - 2.5e9) / (1 - 2 / 8)
    dense_part = 8e9 - 2 * 2 * 1000 - routed
    touched = dense_part + routed * (8 * (1 - 0.75**3)) / 8
    r = evaluate_step(toy(**moe, kv_bits=1e-9))
    assert r == pytest.approx(touched * 2 / 1e12, rel=1e-5)


def test_absorbed_mla_decode_attention_flops_by_hand() -> None:
    # latent d_c + d_r = 576 (d_c = 512): 2*H*(d_c + d_r + d_c) FLOPs per context token per layer,
    # 2.8x the 4*H*h of the un-absorbed count at H = 128, h = 192 (DeepSeek-V3)
    common = {"attention_heads": 128, "kv_heads": 128, "head_dim": 192, "d_model": 7168, "batch": 64,
                  "input_tokens": 4000, "output_tokens": 2, "weight_bits": 1e-6, "memory_bandwidth_bytes_per_s": 1e30,
                  "params_total": 1e7, "params_active": 1e7, "vocab_size": 2, "tied_embeddings": 1.0, "memory_bytes": 1e15}
    mla = evaluate_step(toy(**common, kv_latent_dim=576, kv_latent_value_dim=512))
    flops = 64 * (2 * (1e7 - 0) + 10 * 2 * 128 * (576 + 512) * 4001)  # b * (2 N_c + L a s), s = I + O/2
    assert mla == pytest.approx(flops / 100e12, rel=1e-6)
    gqa = evaluate_step(toy(**common))
    assert mla / gqa == pytest.approx(2 * 128 * 1088 / (4 * 128 * 192), rel=0.01)


def evaluate_step(inp: planner.physics.roofline.RooflineInputs) -> float:  # type: ignore[name-defined]
    from planner.physics.roofline import evaluate

    return float(evaluate(inp).step_s[0])


def evaluate_prefill(inp: planner.physics.roofline.RooflineInputs) -> float:  # type: ignore[name-defined]
    from planner.physics.roofline import evaluate

    return float(evaluate(inp).prefill_s[0])


def test_small_model_at_tp8_has_a_decode_floor(catalog) -> None:  # type: ignore[no-untyped-def]
    # Llama-3.1-8B at TP8 decoded at 0.82 ms per token before the fixed time; now at least
    # tau_step + L * tau_layer (32 layers) above the bandwidth-bound part
    d = catalog.defaults
    e = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", tp=8, batch=1, input_tokens=500,
                         output_tokens=200, catalog=catalog)
    floor_ms = (d.decode_step_fixed_us + 32 * d.layer_fixed_us) / 1000
    assert e.decode_step_ms > 1.5 and e.decode_step_ms > floor_ms
    no_fixed = dataclasses.replace(catalog, defaults=d.model_copy(
        update={"decode_step_fixed_us": 0.0, "layer_fixed_us": 0.0, "moe_layer_fixed_us": 0.0}))
    bare = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", tp=8, batch=1, input_tokens=500,
                            output_tokens=200, catalog=no_fixed)
    assert bare.decode_step_ms < 1.0
    assert e.decode_step_ms - bare.decode_step_ms == pytest.approx(floor_ms, rel=1e-6)
    assert e.prefill_ms - bare.prefill_ms == pytest.approx(floor_ms, rel=1e-6)


def test_int8_and_fp8_on_h100_agree_at_large_batch(catalog) -> None:  # type: ignore[no-untyped-def]
    # same tensor-core peak: INT8 must not come out 2.1x slower than FP8 (issue 14: within 15 %)
    kw = {"catalog": catalog, "tp": 2, "input_tokens": 1000, "output_tokens": 1000}
    fp8 = planner.estimate("llama-3.1-70b", "h100-sxm", precision="fp8", **kw)
    int8 = planner.estimate("llama-3.1-70b", "h100-sxm", precision="int8", **kw)
    assert fp8.batch == int8.batch >= 128
    assert int8.output_tokens_per_s == pytest.approx(fp8.output_tokens_per_s, rel=0.15)
    assert fp8.calibrated and not int8.calibrated  # no published INT8 case on Hopper: said, not hidden
    a100 = planner.estimate("llama-2-7b", "a100-80gb", precision="int8", input_tokens=1024, output_tokens=512,
                            catalog=catalog)
    assert a100.calibrated and a100.calibration_group == "a100-80gb/int8"


#: DeepSeek-R1 TPOT on 8xH200 published by two InferenceX runs (SGLang v0.5.7, 2026-03-05, issue #870;
#: SGLang v0.5.12, the 2026-05-17 published baseline, PRs #3173/#3288), concurrency 4-64: no fit uses them.
DEEPSEEK_H200_HELD_OUT = {
    "inferencex": tuple(f"H200-inferencex-dsr1-sglang-c{c}-tpot" for c in (8, 16, 32, 64)),
    "inferencex-v0.5.12": tuple(f"H200-inferencex0512-dsr1-sglang-{shape}-c{c}-tpot"
                                for shape in ("1k1k", "8k1k") for c in (4, 8, 16, 32, 64)),
}


@pytest.mark.parametrize("run", sorted(DEEPSEEK_H200_HELD_OUT))
def test_deepseek_tpot_on_8xh200_held_out(catalog, run: str) -> None:  # type: ignore[no-untyped-def]
    """DeepSeek-R1 TPOT at concurrency 4-64 on 8xH200, each published run never used by a fit: within
    30 % (issue 14 asks two runs; absorbed MLA, expert load at small batch and the per-layer kernel
    floor; 58-91 % too fast before them)."""
    # the roofline with the default engine's factors (TensorRT-LLM-class, fitted on dense models): the
    # physics under test; the SGLang speed factor (fitted on 2025 DeepSeek pairs where TensorRT-LLM ran
    # at defaults) is the engine dimension's, reported in the README beside it
    ids = DEEPSEEK_H200_HELD_OUT[run]
    cases = [({k: v for k, v in c.items() if k != "engine"}, base)
             for c, base in load_cases(sorted((DATA_DIR / "calibration").glob("*.toml")))
             if c["id"] in ids]
    assert len(cases) == len(ids)
    assert {case_source(c) for c, _ in cases} == {run}
    for r in run_case_list(cases, catalog):
        assert abs(r.error) <= 0.30, (r.id, r.error)


def test_engine_factors_and_refusals(catalog) -> None:  # type: ignore[no-untyped-def]
    kw = {"catalog": catalog, "precision": "fp8", "tp": 8, "input_tokens": 1024, "output_tokens": 1024, "batch": 8}
    default = planner.estimate("deepseek-v3", "h200", **kw)
    assert default.engine == catalog.efficiency_for("h200", "fp8").engine == "tensorrt-llm"
    assert default.engine_speed == 1.0
    same = planner.estimate("deepseek-v3", "h200", engine="tensorrt-llm", **kw)
    assert same.tpot_ms == default.tpot_ms
    row = catalog.engines[("sglang", "h200")]
    sglang = planner.estimate("deepseek-v3", "h200", engine="sglang", **kw)
    assert sglang.engine == "sglang" and sglang.engine_speed == row.speed
    assert sglang.tpot_ms < default.tpot_ms  # faster engine on these published pairs
    # its band widens by the engine factor's own spread
    assert sglang.tpot_ms_range is not None and default.tpot_ms_range is not None
    assert sglang.tpot_ms_range[1] / sglang.tpot_ms > default.tpot_ms_range[1] / default.tpot_ms
    with pytest.raises(UnknownSlugError, match="did you mean 'vllm'"):
        planner.estimate("deepseek-v3", "h200", engine="vlm", **kw)
    with pytest.raises(InputError, match="no speed factor for hardware 'b200'") as info:
        planner.estimate("llama-3.1-70b", "b200", catalog=catalog, precision="fp8", tp=2, input_tokens=100,
                         output_tokens=100, engine="vllm")
    assert info.value.field == "engine"


def test_cli_engine_option(whatif) -> None:  # type: ignore[no-untyped-def]
    args = ["estimate", "--model", "llama-3.1-70b", "--hardware", "h200", "--precision", "fp8", "--tp", "4",
            "--input-tokens", "1000", "--output-tokens", "500", "--format", "json"]
    out = whatif(*args, "--engine", "vllm")
    assert out.code == 0, out.err
    est = json.loads(out.out)
    assert est["engine"] == "vllm" and est["engine_speed"] > 1 and est["output_tokens_per_s_range"]
    # the efficiencies shown are the ones the roofline ran at: the row's × the engine's speed, at most 1
    for part in ("compute", "memory"):
        assert est[f"{part}_efficiency"] == pytest.approx(min(1.0, est[f"row_{part}_efficiency"] * est["engine_speed"]))
    assert est["memory_efficiency"] == 1.0  # H200's 0.70 × 1.50 is capped
    table = whatif(*args[:-2], "--engine", "vllm")
    assert "memory 1.00 (the row's" in table.out
    assert est["calibration_group"] == "h200/*@vllm"
    bad = whatif(*args[:4], "b200", *args[5:], "--engine", "vllm")
    assert bad.code == 2 and "engine" in bad.err and "b200" in bad.err


def test_scenario_engine_moves_the_deployment_table_or_is_refused(catalog) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from planner.optimize.candidates import build_candidates

    demo = planner.load_scenario(planner.demo_scenario_path())
    on_h200 = demo.model_copy(update={"market": demo.market.model_copy(update={"hardware": ["h200"]})})
    default = build_candidates(on_h200, catalog).deployments
    sglang = build_candidates(on_h200.model_copy(update={"plan": on_h200.plan.model_copy(update={"engine": "sglang"})}),
                              catalog).deployments
    ok = default.result.fits & sglang.result.fits
    assert ok.any()
    assert np.all(sglang.result.tpot_s[ok] < default.result.tpot_s[ok])
    with pytest.raises(InputError, match="no speed factor for hardware") as info:
        planner.plan(demo.model_copy(update={"plan": demo.plan.model_copy(update={"engine": "vllm"})}), catalog=catalog)
    assert info.value.field == "plan.engine"


def test_mi300x_over_h100_on_mlperf_llama2_70b(catalog) -> None:  # type: ignore[no-untyped-def]
    """MLPerf Inference v4.1 Offline, Llama-2-70B, 8 GPUs: MI300X (vLLM) 23,514.8 vs H100 (TensorRT-LLM, C1)
    24,525 tok/s, a ratio of 0.96 (about parity; the pooled row made MI300X 1.9x H100). Both at the mean input
    C1 implies; the MI300X row is fitted on these cases (in-sample within 15 %); held out (its source left
    out of the fit) the ratio's error is in tests/data/calibration/held_out_errors.toml, within 15 % too."""
    import tomllib

    from tests.conftest import DATA_DIR

    files = [DATA_DIR / "calibration_cases.toml", *sorted((DATA_DIR / "calibration").glob("*.toml"))]
    every = load_cases(files)
    by_id = {c["id"]: (c, base) for c, base in every}
    h100, mi300x = run_case_list([by_id["C1"], by_id["MI300X-mlperf41-llama2-70b-offline"]], catalog, every)
    published = mi300x.published / h100.published
    assert published == pytest.approx(0.96, abs=0.01)
    assert mi300x.predicted / h100.predicted == pytest.approx(published, rel=0.15)
    held = {h["id"]: h["speed_error"] for h in
            tomllib.loads((DATA_DIR / "calibration" / "held_out_errors.toml").read_text())["held_out"]}
    assert abs(held["MI300X-mlperf41-llama2-70b-offline"]) <= 0.15
    assert catalog.efficiency_for("mi300x", "fp8").engine == "vllm"
