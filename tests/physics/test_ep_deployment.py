"""Expert parallelism in a co-located deployment (planner.physics.ep_deployment), checked by hand on
Mixtral-8x7B and DeepSeek-V3 numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.physics.ep_deployment import ScaleUpLink, evaluate_expert_parallel
from planner.physics.profile import base_profile, hardware_columns, model_columns
from planner.physics.roofline import RooflineInputs, evaluate
from planner.report.build import build_report
from planner.report.layouts import report_markdown
from planner.units import BITS_PER_BYTE, BYTES_PER_GB, US_PER_SECOND


def _rows(catalog: Catalog, model: str, hw: str, precision: str, tp: int, batch: int,
          i: int = 2000, o: int = 300) -> tuple[RooflineInputs, ScaleUpLink]:
    profile = base_profile(catalog.models[model], precision, None, catalog)
    h = catalog.hardware[hw]
    inp = RooflineInputs.broadcast(**{**model_columns(profile), **hardware_columns(h, profile, catalog),
                                      "tp": tp, "batch": batch, "input_tokens": i, "output_tokens": o})
    return inp, ScaleUpLink.of([h], np.zeros(1, dtype=np.int64), catalog)


@pytest.mark.parametrize(("model", "hw", "precision"), [("mixtral-8x7b", "h100-sxm", "bf16"),
                                                       ("deepseek-v3", "h200", "fp8")])
@pytest.mark.parametrize(("tp", "batch"), [(1, 1), (2, 64), (4, 256), (8, 0)])
def test_one_rank_is_the_roofline_row(catalog: Catalog, model: str, hw: str, precision: str, tp: int,
                                      batch: int) -> None:
    """E_p = 1 reproduces the roofline exactly (memory- and compute-bound rows, fitting or not)."""
    inp, link = _rows(catalog, model, hw, precision, tp, batch)
    plain, ep1 = evaluate(inp), evaluate_expert_parallel(inp, np.ones(1), link)
    for name in ("fits", "max_batch", "weight_gb_per_gpu", "step_s", "prefill_s", "prefill_gpu_s", "tpot_s",
                 "ttft_s", "requests_per_s"):
        np.testing.assert_allclose(getattr(ep1, name), getattr(plain, name), rtol=1e-12, equal_nan=True)


def test_deepseek_v3_on_eight_h200_by_hand(catalog: Catalog) -> None:
    """DeepSeek-V3 FP8 (671 B, 256 experts, top-8) does not fit one H200 at TP1, fits 8 at TP1 x EP8."""
    inp, link = _rows(catalog, "deepseek-v3", "h200", "fp8", 1, 8)
    assert not evaluate(inp).fits[0]
    r = evaluate_expert_parallel(inp, np.full(1, 8.0), link)
    assert r.fits[0] and r.batch[0] == 64  # 8 sequences per attention group, 8 groups
    m = catalog.models["deepseek-v3"]
    wbits, ebits = float(inp.weight_bits[0]), float(inp.embedding_bits[0])
    embed = 2 * m.vocab_size * m.d_model  # untied
    routed = (m.params_total - m.params_active) / (1 - m.experts_per_token / m.experts)
    other = m.params_total - embed - routed
    by_hand = (other * wbits + embed * ebits + routed * wbits / 8) / BITS_PER_BYTE / BYTES_PER_GB
    assert r.weight_gb_per_gpu[0] == pytest.approx(by_hand, rel=1e-12)
    # the all-to-all: 64 tokens over 8 ranks, 8 copies each, 7/8 remote, dispatch + combine at comm bits
    d = catalog.defaults
    row = catalog.links["nvlink4"]
    per_gpu = 64 / 8 * 8 * 7 / 8 * m.d_model * float(inp.comm_bits[0]) / BITS_PER_BYTE
    alpha = (row.latency_us if row.latency_us is not None else d.allreduce_latency_us) / US_PER_SECOND
    a2a_step = m.layers * 2 * (alpha + per_gpu / (row.bandwidth_gb_s_per_direction * BYTES_PER_GB
                                                  * d.comm_efficiency))
    # the step is the compute/memory roof plus the all-to-all (TP1: no all-reduce) and the fixed time
    no_link = ScaleUpLink(np.full(1, np.inf), np.zeros(1), np.ones(1))
    assert r.step_s[0] - evaluate_expert_parallel(inp, np.full(1, 8.0), no_link).step_s[0] == pytest.approx(
        a2a_step, rel=1e-9)


def test_mixtral_ep_reads_fewer_weights_per_gpu_than_its_tp_group(catalog: Catalog) -> None:
    """Mixtral-8x7B BF16 at TP2: spreading the experts over 4 groups (8 GPUs) cuts each GPU's weights to
    W_o/2 + W_r/8 and its step below the TP2 replica's at the same per-group batch."""
    inp, link = _rows(catalog, "mixtral-8x7b", "h100-sxm", "bf16", 2, 64)
    tp2, ep4 = evaluate(inp), evaluate_expert_parallel(inp, np.full(1, 4.0), link)
    m = catalog.models["mixtral-8x7b"]
    routed_gb = ((m.params_total - m.params_active) / (1 - m.experts_per_token / m.experts)
                 * float(inp.weight_bits[0]) / BITS_PER_BYTE / BYTES_PER_GB)
    assert ep4.weight_gb_per_gpu[0] == pytest.approx(tp2.weight_gb_per_gpu[0] - routed_gb / 2 * (1 - 1 / 4))
    assert ep4.step_s[0] < tp2.step_s[0] and ep4.requests_per_s[0] > 4 * tp2.requests_per_s[0] * 0.99
    # TP2 x EP8 = 16 GPUs exceeds the 8-GPU NVLink domain
    assert not evaluate_expert_parallel(inp, np.full(1, 8.0), link).fits[0]


def test_plan_with_expert_parallel_counts_tp_times_ep_gpus(catalog: Catalog) -> None:
    data = {"schema_version": 1, "name": "moe", "model": {"base": "mixtral-8x7b"},
            "workload": [{"name": "chat", "queries_per_day": 3_000_000, "input_tokens": 1000, "output_tokens": 300,
                          "ttft_ms": 1500, "tpot_ms": 40}],
            "horizon": {"months": 12, "period_months": 12},
            "market": {"hardware": ["h100-sxm", "h200"], "modes": ["on-demand"]},
            "techniques": {"quantization": ["none"], "distillation": ["none"]}, "plan": {"expert_parallel": 8}}
    plan = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert plan.status == "optimal"
    for s in plan.serving:
        assert s.tp % 8 == 0 and s.gpus == s.tp * s.replicas  # replicas of t x 8 GPUs
        assert s.expert_parallel == 8 and s.parallelism == f"TP{s.tp // 8}×EP8"
        assert s.model_dump()["expert_parallel"] == 8
    report = build_report(plan, planner.scenario_from_dict(data), catalog)
    assert all(d.expert_parallel == 8 for d in report.deployments)
    assert "×EP8" in report_markdown(report)


def test_plan_without_expert_parallel_keeps_its_json(catalog: Catalog) -> None:
    """A plan line without expert parallelism has no ``expert_parallel`` key (nor its report row)."""
    data = {"schema_version": 1, "name": "dense", "model": {"base": "llama-3.1-8b"},
            "workload": [{"name": "chat", "queries_per_day": 300_000, "input_tokens": 1000, "output_tokens": 300,
                          "ttft_ms": 1500, "tpot_ms": 40}],
            "horizon": {"months": 12, "period_months": 12},
            "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
            "techniques": {"quantization": ["none"]}}
    plan = planner.plan(planner.scenario_from_dict(data), catalog=catalog)
    assert plan.serving and all("expert_parallel" not in s.model_dump() for s in plan.serving)
    assert all(s.parallelism == f"TP{s.tp}" for s in plan.serving)
    report = build_report(plan, planner.scenario_from_dict(data), catalog)
    assert all("expert_parallel" not in d.model_dump() for d in report.deployments)


def test_speculative_rows_are_refused_not_approximated(catalog: Catalog) -> None:
    inp, link = _rows(catalog, "mixtral-8x7b", "h100-sxm", "bf16", 1, 8)
    drafted = dataclasses.replace(inp, draft_tokens=np.full(1, 4.0))
    with pytest.raises(ScenarioError, match="speculative"):
        evaluate_expert_parallel(drafted, np.full(1, 2.0), link)
