"""The tail-latency model (planner/physics/queueing.py): textbook limits, monotonicity, bad input,
and MLPerf v4.1 server runs C1/C2 (mean and P99 TTFT/TPOT at the published server load)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from planner.catalog.store import Catalog
from planner.physics.deployment import resolve_model
from planner.physics.profile import base_profile, hardware_columns, model_columns
from planner.physics.queueing import (
    P99,
    ReplicaQueue,
    erlang_c,
    max_utilisation,
    tail_latency,
    unloaded_p99,
)
from planner.physics.roofline import RooflineInputs, evaluate
from planner.physics.validation import (
    implied_input,
    load_cases,
    run_case_list,
    shown_not_fitted,
)
from tests.conftest import DATA_DIR


def _queue(**over: float) -> ReplicaQueue:
    """One replica: 10 req/s saturated, 8 slots, 50 ms prefill (40 ms of GPU), 20→60 ms steps."""
    base = {"capacity_rps": 10.0, "slots": 8.0, "prefill_s": 0.05, "prefill_gpu_s": 0.04, "step_s": 0.06,
            "step_one_s": 0.02, "holding_cv": 1.0}
    return ReplicaQueue.broadcast(**{**base, **over})


# ----------------------------------------------------------------------------- textbook limits

def test_erlang_c_textbook_values() -> None:
    assert erlang_c(1, 0.7)[0] == pytest.approx(0.7)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0)[0] == pytest.approx(1 / 3)  # (a²/2 · c/(c−a)) / (1 + a + a²/2 · c/(c−a))
    # c = 3, a = 2: B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19; C = B / (1 − ρ(1 − B)) = (4/19) / (1 − 2/3 · 15/19)
    assert erlang_c(3, 2.0)[0] == pytest.approx((4 / 19) / (1 - 2 / 3 * 15 / 19))
    assert erlang_c(4, 4.0)[0] == 1.0  # unstable: always waits


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9])
def test_mm1_wait_quantile(rho: float) -> None:
    """c = 1, c_s = 1 and no iteration terms: P(W > t) = ρ e^{−μ(1−ρ)t}, so W₉₉ = ln(ρ/0.01)/(μ(1−ρ))."""
    mu = 10.0
    q = _queue(capacity_rps=mu, slots=1.0, prefill_s=0.0, prefill_gpu_s=0.0, step_s=0.0, step_one_s=0.0)
    expected = max(0.0, math.log(rho / (1 - P99))) / (mu * (1 - rho))
    assert tail_latency(q, rho).ttft_p99_s[0] == pytest.approx(expected)
    assert tail_latency(q, rho).ttft_mean_s[0] == pytest.approx(rho / (mu * (1 - rho)))  # M/M/1 mean wait


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_md1_mean_wait_is_pollaczek_khinchine(rho: float) -> None:
    """c = 1, c_s = 0 (deterministic holding): mean wait ρ/(2μ(1−ρ)), the M/D/1 P-K mean."""
    mu = 4.0
    q = _queue(capacity_rps=mu, slots=1.0, prefill_s=0.0, prefill_gpu_s=0.0, step_s=0.0, step_one_s=0.0,
               holding_cv=0.0)
    assert tail_latency(q, rho).ttft_mean_s[0] == pytest.approx(rho / (2 * mu * (1 - rho)))


def test_idle_replica_sees_its_unloaded_latency() -> None:
    ttft, tpot = unloaded_p99(_queue())
    assert ttft[0] == pytest.approx(0.05) and tpot[0] == pytest.approx(0.02)


# ------------------------------------------------------------------------------- ρ_max

def test_rho_max_is_monotone_in_the_target() -> None:
    q = ReplicaQueue.broadcast(**{f.name: np.repeat(getattr(_queue(), f.name), 6) for f in dataclasses.fields(ReplicaQueue)})
    targets = np.array([0.06, 0.1, 0.2, 0.4, 1.0, 5.0])
    rho = max_utilisation(q, targets, np.nan)
    assert np.all(np.diff(rho) >= 0) and rho[0] > 0 and rho[-1] < 1
    tpot = max_utilisation(q, np.nan, np.array([0.021, 0.03, 0.05, 0.08, 0.1, 1.0]))
    assert np.all(np.diff(tpot) >= 0) and tpot[-1] == 1.0


def test_rho_max_meets_the_target_and_is_tight() -> None:
    q, target = _queue(), 0.3
    rho = max_utilisation(q, target, np.nan)[0]
    assert tail_latency(q, rho).ttft_p99_s[0] <= target
    assert tail_latency(q, min(1.0, rho + 1e-6)).ttft_p99_s[0] > target


def test_two_targets_take_the_tighter() -> None:
    q = _queue()
    both = max_utilisation(q, 0.3, 0.05)[0]
    assert both == pytest.approx(min(max_utilisation(q, 0.3, np.nan)[0], max_utilisation(q, np.nan, 0.05)[0]))


def test_a_target_below_the_unloaded_latency_gives_zero() -> None:
    q = _queue()
    assert max_utilisation(q, 0.049, np.nan)[0] == 0.0  # below T_p = 50 ms
    assert max_utilisation(q, np.nan, 0.019)[0] == 0.0  # below T_1 = 20 ms
    assert max_utilisation(q, np.nan, np.nan)[0] == 1.0  # no target


def test_a_replica_that_does_not_fit_gives_zero() -> None:
    assert max_utilisation(_queue(capacity_rps=np.nan), 1.0, np.nan)[0] == 0.0


# --------------------------------------------------------------------------- MLPerf C1 / C2

#: MLPerf Inference v4.1, closed/NVIDIA/results/DGX-H100_H100-SXM-80GBx8_TRT (calibration-cases.md C1, C2):
#: (model, TP, output tokens, offline tok/s, server tok/s, TTFT mean, TTFT P99, TPOT mean, TPOT P99 in ms).
#: The mean input is the one the offline result implies under the catalog (the README accuracy table's C1, C2).
MLPERF_SERVER = {
    "C1": ("llama-2-70b", 2, 290, 24_525.0, 21_606.0, 276.0, 461.0, 155.0, 175.4),
    "C2": ("mixtral-8x7b", 1, 146, 52_416.0, 50_796.0, 180.0, 629.0, 102.6, 123.1),
}
#: The submission's cap on concurrent sequences (max_batch_size 896).
MLPERF_MAX_BATCH = 896
#: Stated errors (README): predicted / measured − 1 must stay inside these bands, the model is not
#: tuned per case.  P99 TTFT at C2's 97 % load sits on the slot queue's knee (hence its band);
#: ρ_max at the measured P99s must be within UTILISATION_BAND of the load MLPerf ran at.
P99_ERROR_BANDS = {("C1", "ttft"): (-0.45, -0.15), ("C1", "tpot"): (-0.40, -0.15),
                   ("C2", "ttft"): (2.0, 4.5), ("C2", "tpot"): (-0.25, 0.0)}
UTILISATION_BAND = 0.06


def _mlperf_queue(catalog: Catalog, case: str) -> tuple[ReplicaQueue, float]:
    model, tp, o, offline, server = MLPERF_SERVER[case][:5]
    i = implied_input(case, load_cases([DATA_DIR / "calibration_cases.toml"]), catalog)
    cat = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_batch": MLPERF_MAX_BATCH}))
    profile = base_profile(resolve_model(model, cat), "fp8", None, cat)
    hw = cat.get_hardware("h100-sxm")
    cols = {**model_columns(profile), **hardware_columns(hw, profile, cat), "tp": tp, "input_tokens": i,
            "output_tokens": o}
    r = evaluate(RooflineInputs.broadcast(**cols, batch=np.array([0.0, 1.0])))  # largest batch, batch 1
    q = ReplicaQueue.broadcast(capacity_rps=r.requests_per_s[0], slots=r.batch[0], prefill_s=r.prefill_s[0],
                               prefill_gpu_s=r.prefill_gpu_s[0], step_s=r.step_s[0], step_one_s=r.step_s[1],
                               holding_cv=catalog.defaults.slot_holding_time_cv)
    return q, server / offline


@pytest.mark.parametrize("case", sorted(MLPERF_SERVER))
def test_mlperf_server_p99_within_stated_error(catalog: Catalog, case: str) -> None:
    q, rho = _mlperf_queue(catalog, case)
    tail = tail_latency(q, rho)
    ttft_p99, tpot_p99 = MLPERF_SERVER[case][6], MLPERF_SERVER[case][8]
    for metric, predicted, measured in (("ttft", tail.ttft_p99_s[0] * 1e3, ttft_p99),
                                        ("tpot", tail.tpot_p99_s[0] * 1e3, tpot_p99)):
        lo, hi = P99_ERROR_BANDS[(case, metric)]
        assert lo <= predicted / measured - 1 <= hi, (case, metric, predicted, measured)


@pytest.mark.parametrize("case", sorted(MLPERF_SERVER))
def test_mlperf_rho_max_at_the_measured_p99_is_near_the_published_load(catalog: Catalog, case: str) -> None:
    """The planning question: given the P99s MLPerf measured, which load does the model allow?"""
    q, rho = _mlperf_queue(catalog, case)
    ttft_p99, tpot_p99 = MLPERF_SERVER[case][6] / 1e3, MLPERF_SERVER[case][8] / 1e3
    assert abs(max_utilisation(q, ttft_p99, tpot_p99)[0] - rho) <= UTILISATION_BAND


def test_a_closed_loop_benchmarks_ttft_is_not_the_open_loop_wait(catalog: Catalog) -> None:
    """Why NIM's TTFTs under load are shown, not fitted (C4; ``tests/data/calibration/nim_dli.toml``): in
    NVIDIA's own closed-loop genai-perf runs (Llama-3-70B FP8 on 4x H100, 2,000 tokens in and out) TTFT
    grows 7.5x from concurrency 1 to 10, where prefills take 2.8 % of the GPU time (0.246 requests/s x
    115 ms, the dataset's own figures): clients kept in step queue behind one another.  The open-loop
    wait the estimate charges at its own load at batch 10 adds under 5 %.  Every such case is marked
    ``fit = false`` and the measured TTFT is always the longer one."""
    every = load_cases([DATA_DIR / "calibration" / "nim_dli.toml"])
    assert every and all(shown_not_fitted(c) and c.get("not_fitted") for c, _ in every)
    results = {r.id: r for r in run_case_list(every, catalog)}
    one, ten = (results[f"H100-nimdli-llama-3-70b-fp8-tp4-2000/2000-c{c}-ttft"] for c in (1, 10))
    assert ten.published / one.published > 5.0
    assert ten.predicted / one.predicted < 1.05
    assert all(r.predicted < r.published for r in results.values() if r.metric == "ttft_ms" and "-c1-" not in r.id)
