"""The estimator against published measurements (tests/data/calibration_cases.toml).

Every case must be within its stated tolerance with the catalog's efficiency factors as
shipped; the README's accuracy table is printed from the same function
(``benchmarks/calibration_table.py``).
"""

from __future__ import annotations

import pytest

from planner.physics.validation import (
    CaseResult,
    median_abs_error,
    run_cases,
    shown_not_fitted,
)
from tests.conftest import DATA_DIR

CASES_FILE = DATA_DIR / "calibration_cases.toml"
#: Median |error| over all cases the README states; the test keeps it honest.
README_MEDIAN_ABS_ERROR_BOUND = 0.15


@pytest.fixture(scope="module")
def results(catalog) -> dict[str, CaseResult]:  # type: ignore[no-untyped-def]
    return {r.id: r for r in run_cases(CASES_FILE, catalog)}


def _ids() -> list[str]:
    import tomllib

    data = tomllib.loads(CASES_FILE.read_text())
    return [c["id"] for c in data["case"]] + [c["id"] for c in data["training_case"]]


def _not_fitted() -> set[str]:
    """Cases shown, not fitted (``fit = false``; each says why in ``not_fitted``)."""
    import tomllib

    return {c["id"] for c in tomllib.loads(CASES_FILE.read_text())["case"] if shown_not_fitted(c)}


NOT_FITTED = _not_fitted()


@pytest.mark.parametrize("case_id", _ids())
def test_case_within_tolerance(results: dict[str, CaseResult], case_id: str) -> None:
    r = results[case_id]
    if case_id in NOT_FITTED:  # TinyChat's host-bound batch-1 decode, NIM's closed-loop TTFTs, QServe's unstated
        # 13B FP16 batch: the measurement holds what the estimate leaves out (host dispatch; a harness that keeps its
        # clients in step; a smaller batch than fits), so it is never faster than the estimate
        slower = r.predicted < r.published if r.metric.endswith("_ms") else r.predicted > r.published
        assert slower, (case_id, r.error)
        return
    assert r.within, f"{case_id}: predicted {r.predicted:.4g} vs published {r.published:.4g} ({r.error:+.1%}); {r.detail}"


def test_the_13b_fp16_row_left_out_contradicts_its_own_publication(results: dict[str, CaseResult]) -> None:
    """C6-llama-2-13b-fp16 is shown, not fitted, because QServe's own table disagrees with it: the 13B/7B
    throughput ratio is 0.315 at FP16 against 0.547 (INT8) and 0.562 (W4A16) on the same engine (TensorRT-LLM),
    GPU and request shape, and 0.599 for QServe's W4A8.  The estimator reproduces those three ratios (within 3 %
    on TensorRT-LLM, 11 % on QServe's engine); at FP16 it is 60 % above the published one."""
    ratio = {p: results[f"C6-llama-2-13b-{p}"].published / results[f"C6-llama-2-7b-{p}"].published
             for p in ("fp16", "int8", "w4a16", "w4a8")}
    assert ratio["fp16"] < 0.6 * min(ratio["int8"], ratio["w4a16"], ratio["w4a8"])
    for p, within in (("int8", 0.05), ("w4a16", 0.05), ("w4a8", 0.15)):
        predicted = results[f"C6-llama-2-13b-{p}"].predicted / results[f"C6-llama-2-7b-{p}"].predicted
        assert abs(predicted / ratio[p] - 1) < within, (p, predicted, ratio[p])
    fp16 = results["C6-llama-2-13b-fp16"].predicted / results["C6-llama-2-7b-fp16"].predicted
    assert fp16 / ratio["fp16"] - 1 > 0.35 and "C6-llama-2-13b-fp16" in NOT_FITTED


def test_every_published_case_is_covered(results: dict[str, CaseResult]) -> None:
    prefixes = {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "T1", "T2", "T3", "T4"}
    assert prefixes <= {r.id.split("-")[0] for r in results.values()}


def test_median_error(results: dict[str, CaseResult]) -> None:
    assert median_abs_error(list(results.values())) < README_MEDIAN_ABS_ERROR_BOUND


def test_free_input_cases_imply_inputs_inside_dataset_bounds(results: dict[str, CaseResult]) -> None:
    for case_id in ("C1", "C2"):
        implied = int(results[case_id].detail.split("implied mean input ")[1].split()[0])
        assert 1 < implied < (1024 if case_id == "C1" else 2048)


def test_moe_needs_fewer_gpus_per_token_than_dense(results: dict[str, CaseResult]) -> None:
    """C2/C1 on the same 8x H100 system: Mixtral out-serves Llama-2-70B (published 2.14x)."""
    assert results["C2"].predicted > 1.5 * results["C1"].predicted


def test_quantization_flips_with_batch(catalog) -> None:  # type: ignore[no-untyped-def]
    """C6/C7: W4A16 halves batch-1 decode time but does not help a compute-bound large batch."""
    import planner

    kw = dict(catalog=catalog, input_tokens=1024, output_tokens=512)
    fp16_b1 = planner.estimate("llama-2-7b", "a100-80gb", precision="fp16", batch=1, **kw)
    w4_b1 = planner.estimate("llama-2-7b", "a100-80gb", precision="w4a16", batch=1, **kw)
    assert w4_b1.decode_step_ms < 0.7 * fp16_b1.decode_step_ms
    fp16_big = planner.estimate("llama-3-8b", "a100-80gb", precision="fp16", **kw)
    w4_big = planner.estimate("llama-3-8b", "a100-80gb", precision="w4a16", **kw)
    # at the largest batch W4A16 is compute-bound (its dequantizing GEMMs), FP16 at the compute/KV-stream edge
    assert w4_big.bound == "compute" and fp16_big.batch == w4_big.batch
    assert w4_big.output_tokens_per_s < 1.2 * fp16_big.output_tokens_per_s
