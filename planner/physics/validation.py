"""Run the estimator on published measurements and report the error of each.

A cases file (TOML, see ``tests/data/calibration_cases.toml``) holds ``[[case]]`` rows (a
deployment, one metric, the published value, a tolerance, a source and the assumptions made)
and ``[[training_case]]`` rows.  :func:`run_cases` returns one :class:`CaseResult` per row;
the test suite asserts each within its tolerance and ``benchmarks/calibration_table.py``
prints the README's error table from the same function.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog, load_catalogs
from planner.errors import FitError
from planner.physics.deployment import estimate, resolve_model
from planner.physics.training import flops_from_gpu_time, price_training, training_flops

ESTIMATE_METRICS = ("output_tokens_per_s", "ttft_ms", "tpot_ms", "prefill_ms", "decode_step_ms", "fits")


class CaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    metric: str
    published: float
    predicted: float
    error: float  # predicted / published - 1 (0 for a matching 'fits' case)
    tolerance: float
    within: bool
    source: str
    assumption: str
    detail: str  # e.g. the 6ND comparison of a training case
    free_parameter: bool = False  # the input length was solved for (error 0 by construction)
    # the published deployment fits the modelled memory; when it does not, predicted is 0 and error −1
    fits_memory: bool = True


def _deployment(case: dict[str, Any], base: Path) -> dict[str, Any]:
    model = case["model"]
    if model.endswith(".json"):
        model = str((base / model).resolve()) if not Path(model).is_absolute() else model
    return {
        "model": model,
        "hardware": case["hardware"],
        "precision": case["precision"],
        "kv_precision": case.get("kv_precision"),
        "tp": case["tp"],
        "gpus": case.get("gpus"),
        "batch": case.get("batch"),
        "input_tokens": case.get("input_tokens", case.get("free_input_range", [0, 0])[0]),
        "output_tokens": case["output_tokens"],
    }


def case_engine(case: dict[str, Any], catalog: Catalog) -> str | None:
    """The case's engine when the catalog has its speed factor on the case's hardware (relative to the
    engine of the efficiency row used there), else None: the estimate runs the row's own engine and
    the case's engine difference is left in its error (the README's table groups cases by engine)."""
    engine = case.get("engine")
    if engine is None:
        return None
    eff = catalog.efficiency_for(case["hardware"], case["precision"])
    row = catalog.engines.get((engine, case["hardware"]))
    return engine if engine == eff.engine or (row is not None and row.relative_to == eff.engine) else None


def _case_catalog(case: dict[str, Any], catalog: Catalog) -> Catalog:
    """The catalog with the case's engine cap on concurrent sequences (``max_batch``), if any."""
    if "max_batch" not in case:
        return catalog
    defaults = catalog.defaults.model_copy(update={"max_batch": int(case["max_batch"])})
    return dataclasses.replace(catalog, defaults=defaults)


def _predict(case: dict[str, Any], base: Path, catalog: Catalog, input_tokens: int) -> float | None:
    """The case's metric at ``input_tokens`` (None when the deployment does not fit)."""
    catalog = _case_catalog(case, catalog)
    try:
        est = estimate(**{**_deployment(case, base), "input_tokens": input_tokens}, catalog=catalog,
                       engine=case_engine(case, catalog))
    except FitError:
        return None
    return float(getattr(est, case["metric"]))


def _solve_free_input(case: dict[str, Any], base: Path, catalog: Catalog) -> CaseResult:
    """Find the mean input length reproducing the published value (throughput falls as input grows).

    Bisection over the integer range; rows where the deployment does not fit count as too long.
    Within tolerance when some input in the range gives a prediction within tolerance.
    """
    lo, hi = (int(v) for v in case["free_input_range"])
    published = float(case["published"])

    def too_fast(n: int) -> bool:
        value = _predict(case, base, catalog, n)
        return value is not None and value > published

    a, b = lo, hi
    while a < b:  # smallest n where prediction <= published (or does not fit)
        mid = (a + b) // 2
        if too_fast(mid):
            a = mid + 1
        else:
            b = mid
    candidates = [n for n in (a - 1, a) if lo <= n <= hi]
    best_n, best_err = lo, math.inf
    for n in candidates:
        value = _predict(case, base, catalog, n)
        if value is not None and abs(value / published - 1.0) < abs(best_err):
            best_n, best_err = n, value / published - 1.0
    predicted = published * (1.0 + best_err) if math.isfinite(best_err) else 0.0
    return CaseResult(
        id=case["id"], metric=case["metric"], published=published, predicted=predicted,
        error=best_err if math.isfinite(best_err) else -1.0, tolerance=case["tolerance"],
        within=math.isfinite(best_err) and abs(best_err) <= case["tolerance"],
        source=case["source"], assumption=case.get("assumption", ""),
        detail=f"implied mean input {best_n} tokens (free in [{lo}, {hi}])",
        free_parameter=True,
    )


def _run_estimate_case(case: dict[str, Any], base: Path, catalog: Catalog) -> CaseResult:
    metric = case["metric"]
    if metric not in ESTIMATE_METRICS:
        raise ValueError(f"case {case['id']}: unknown metric {metric}")
    if "free_input_range" in case:
        return _solve_free_input(case, base, catalog)
    try:
        est = estimate(**_deployment(case, base), catalog=_case_catalog(case, catalog),
                       engine=case_engine(case, catalog))
    except FitError as exc:
        fits, predicted, detail = False, 0.0, str(exc)
    else:
        # the whole request's bound, not that of the phase the metric measures
        fits, detail = True, f"batch {est.batch}, request bound {est.bound}"
        predicted = 1.0 if metric == "fits" else float(getattr(est, metric))
    published = float(case["published"])
    if metric == "fits":
        error = 0.0 if fits == bool(published) else 1.0
        within = error == 0.0
    else:
        error = predicted / published - 1.0 if fits else -1.0
        within = fits and abs(error) <= case["tolerance"]
    return CaseResult(id=case["id"], metric=metric, published=published, predicted=predicted, error=error,
                      tolerance=case["tolerance"], within=within, source=case["source"],
                      assumption=case.get("assumption", ""), detail=detail, fits_memory=fits or metric == "fits")


def _run_training_case(case: dict[str, Any], catalog: Catalog) -> CaseResult:
    metric = case["metric"]
    if metric == "flops_gpu_time":
        predicted = flops_from_gpu_time(case["gpus"], case["hours"], case["sustained_tflops"])
        six_nd = training_flops(case["params"], case["tokens"])
        detail = f"6ND convention: {six_nd:.2e} FLOPs ({six_nd / predicted:.0%} of the GPU-time figure)"
    elif metric == "gpu_hours":
        n_active = resolve_model(case["model"], catalog).params_active
        cost = price_training(training_flops(n_active, case["tokens"]), hardware=case["hardware"], catalog=catalog,
                              mfu=None, dtype="bf16", params=n_active, tokens=case["tokens"], note="6*N_active*D")
        predicted = cost.gpu_hours
        detail = f"{cost.flops:.2e} FLOPs at MFU {cost.mfu:.2f} of {cost.peak_tflops:g} TFLOPS"
    else:
        raise ValueError(f"training case {case['id']}: unknown metric {metric}")
    published = float(case["published"])
    error = predicted / published - 1.0
    return CaseResult(id=case["id"], metric=metric, published=published, predicted=predicted, error=error,
                      tolerance=case["tolerance"], within=abs(error) <= case["tolerance"], source=case["source"],
                      assumption=case.get("assumption", ""), detail=detail)


def _base_dir(p: Path) -> Path:
    """Where a case file's relative model paths start (the repository root for tests/data files)."""
    for parent in p.parents:
        if parent.name == "tests":
            return parent.parent
    return p.parent


def load_cases(paths: list[Path]) -> list[tuple[dict[str, Any], Path]]:
    """Every estimate case of ``paths`` with its base directory; cases marked ``unsupported`` (a
    deployment the estimator does not describe, e.g. TP across nodes) are left out."""
    out = []
    for p in paths:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        out += [(c, _base_dir(p)) for c in data.get("case", []) if "unsupported" not in c]
    return out


def implied_input(case_id: str, cases: list[tuple[dict[str, Any], Path]], catalog: Catalog) -> int:
    """The mean input length a free-input case implies (``_solve_free_input``) under ``catalog``."""
    for case, base in cases:
        if case["id"] == case_id:
            if "free_input_range" not in case:
                raise ValueError(f"case {case_id} does not solve for its input length")
            detail = _solve_free_input(case, base, catalog).detail
            return int(detail.split("implied mean input ")[1].split()[0])
    raise ValueError(f"input_from names case {case_id}, which is not among the cases run")


def resolve_inputs(cases: list[tuple[dict[str, Any], Path]], catalog: Catalog,
                   reference: list[tuple[dict[str, Any], Path]] | None = None) -> list[tuple[dict[str, Any], Path]]:
    """Cases with ``input_from = "<id>"`` get the mean input length the case ``<id>`` implies (same
    benchmark dataset measured on reference hardware, e.g. MLPerf's OpenOrca set whose mean input is
    not published): they are then scored as ratios to that case, insensitive to the input length
    assumed.  Their ``free_input_range`` is dropped.  ``reference`` (default: ``cases``) holds ``<id>``."""
    pool = reference if reference is not None else cases
    memo: dict[str, int] = {}
    out = []
    for case, base in cases:
        ref = case.get("input_from")
        if ref is not None:
            if ref not in memo:
                memo[ref] = implied_input(ref, pool, catalog)
            case = {k: v for k, v in case.items() if k not in ("free_input_range", "input_from")} | {
                "input_tokens": memo[ref], "input_from_resolved": ref}
        out.append((case, base))
    return out


def run_case_list(cases: list[tuple[dict[str, Any], Path]], catalog: Catalog,
                  reference: list[tuple[dict[str, Any], Path]] | None = None) -> list[CaseResult]:
    return [_run_estimate_case(c, base, catalog) for c, base in resolve_inputs(cases, catalog, reference)]


def shown_not_fitted(case: dict[str, Any]) -> bool:
    """A case marked ``fit = false``: shown beside the fit, never fitted (it says why in ``not_fitted``)."""
    return case.get("fit", True) is False


def case_source(case: dict[str, Any]) -> str:
    """The publication a case comes from, for leave-one-source-out errors: ``source_key`` when
    given; ``C3`` for ``C3-128/128``; ``mlperf51-redhat`` for ``H100-mlperf51-redhat-vllm-…``;
    ``trtllm10`` for ``H200-trtllm10-…``."""
    if "source_key" in case:
        return str(case["source_key"])
    parts = str(case["id"]).split("-")
    if parts[0][:1] in ("C", "T") and parts[0][1:].isdigit():
        return parts[0]
    return "-".join(parts[1:3]) if len(parts) > 2 and parts[1].startswith("mlperf") else parts[1]


def run_cases(path: str | Path, catalog: Catalog | None = None) -> list[CaseResult]:
    p = Path(path)
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    cat = catalog or load_catalogs(use_env=False)
    results = run_case_list(load_cases([p]), cat)
    results += [_run_training_case(c, cat) for c in data.get("training_case", [])]
    return results


def median_abs_error(results: list[CaseResult]) -> float:
    """Median |error| over the figures that were predicted (not 'fits', not solved-for)."""
    values = [abs(r.error) for r in results if r.metric != "fits" and not r.free_parameter]
    return statistics.median(values) if values else 0.0
