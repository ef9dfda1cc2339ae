"""The public Python API.  The CLI is a thin layer over these functions.

>>> import planner
>>> est = planner.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", tp=1, batch=256,
...                        input_tokens=2048, output_tokens=128)
>>> est.bound
'compute'
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from planner.catalog.schema import ComputeDtype, ModelSpec
from planner.catalog.store import Catalog
from planner.catalog.store import load_catalogs as _load_catalogs
from planner.errors import InputError
from planner.physics.deployment import Estimate, resolve_model
from planner.physics.deployment import estimate as _estimate
from planner.physics.training import TrainingCost, distillation_flops, price_training, training_flops
from planner.plan_model import Plan
from planner.scenario.loading import load_scenario as _load_scenario
from planner.scenario.loading import scenario_from_dict
from planner.scenario.schema import Scenario

if TYPE_CHECKING:  # imported where used, so that a plain `whatif plan` never loads them (start-up time)
    from planner.insight.break_even import BreakEven
    from planner.insight.explanation import Explanation
    from planner.insight.preview import Preview
    from planner.insight.sweeps import SweepResult

_DEFAULT_CATALOG: Catalog | None = None


def load_catalogs(overlays: Iterable[str | os.PathLike[str]] | None = None, *, use_env: bool = True) -> Catalog:
    """The shipped catalog plus overlays (files or directories; ``WHATIF_CATALOG`` first)."""
    return _load_catalogs(overlays, use_env=use_env)


def _catalog(catalog: Catalog | None) -> Catalog:
    global _DEFAULT_CATALOG
    if catalog is not None:
        return catalog
    if _DEFAULT_CATALOG is None:
        _DEFAULT_CATALOG = _load_catalogs()
    return _DEFAULT_CATALOG


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read a TOML/JSON scenario file, apply ``PATH=VALUE`` overrides, validate."""
    return _load_scenario(path, _override_list(overrides))


def _override_list(overrides: Iterable[str]) -> list[str]:
    """``overrides`` as a list of ``PATH=VALUE`` strings; one bare string (iterated as characters, it
    would read as ``w``, ``o``, …) is refused with what to write instead."""
    if isinstance(overrides, str | bytes):
        raise InputError(f"overrides must be a list of 'PATH=VALUE' strings, e.g. [{str(overrides)!r}]", "overrides")
    items = list(overrides)
    if not all(isinstance(item, str) for item in items):
        raise InputError("overrides must be a list of 'PATH=VALUE' strings", "overrides")
    return items


def _scenario_with(scenario: Scenario | str | Path, overrides: Iterable[str]) -> Scenario:
    """A scenario from a path or a ``Scenario``, with ``overrides`` applied either way."""
    items = _override_list(overrides)
    if not isinstance(scenario, Scenario):
        return _load_scenario(scenario, items)
    if not items:
        return scenario
    return scenario_from_dict(scenario.model_dump(mode="json"), items)


def demo_scenario_path() -> Path:
    """Path of the built-in demo scenario (package data)."""
    return Path(__file__).parent / "data" / "demo.toml"


def estimate(
    model: str | ModelSpec,
    hardware: str,
    *,
    precision: str = "bf16",
    kv_precision: str | None = None,
    tp: int = 1,
    batch: int | None = None,
    input_tokens: int,
    output_tokens: int,
    gpus: int | None = None,
    draft: str | None = None,
    acceptance_rate: float | None = None,
    draft_tokens: int | None = None,
    catalog: Catalog | None = None,
    engine: str | None = None,
) -> Estimate:
    """Roofline figures of one deployment; ``batch=None`` = largest batch that fits memory.

    ``draft``, ``acceptance_rate`` and ``draft_tokens`` (together) decode speculatively with a
    smaller model of the same tokenizer (see :mod:`techniques.speculative`).  ``engine`` names the
    serving engine (``tensorrt-llm``, ``vllm``, ``sglang``, … as ``catalogs/engines.toml`` has
    factors for the hardware); default: the engine the hardware's efficiency row was fitted on.
    """
    return _estimate(
        model, hardware, catalog=_catalog(catalog), precision=precision, kv_precision=kv_precision,
        tp=tp, batch=batch, input_tokens=input_tokens, output_tokens=output_tokens, gpus=gpus,
        draft=draft, acceptance_rate=acceptance_rate, draft_tokens=draft_tokens, engine=engine,
    )


def preview(scenario: Scenario | str | Path, *, catalog: Catalog | None = None) -> Preview:
    """The estimator's view of a scenario (see :mod:`planner.insight.preview`), after the refusals the
    plan meets before it builds a model (:mod:`planner.optimize.input_checks`), so that a scenario the
    view answers is one the plan accepts."""
    from planner.insight.preview import preview as _preview
    from planner.optimize.candidates import build_candidates
    from planner.optimize.input_checks import check_before_model

    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    resolved = _catalog(catalog)
    cs = build_candidates(scenario, resolved)
    check_before_model(scenario, resolved, cs.hardware)
    return _preview(scenario, resolved, cs)


def plan(scenario: Scenario | str | Path, *, catalog: Catalog | None = None,
         overrides: Iterable[str] = ()) -> Plan:
    """The lowest lifetime-cost plan of a scenario (or the reason none exists) — see :mod:`planner.optimize.planning`."""
    from planner.optimize.planning import plan_scenario  # the optimiser (PuLP, HiGHS) loads when a plan is asked for

    return plan_scenario(_scenario_with(scenario, overrides), _catalog(catalog))


def explain(scenario: Scenario | str | Path, *, catalog: Catalog | None = None, alternatives: int = 3,
            sensitivity_delta: float | None = 0.2, workers: int | None = None) -> Explanation:
    """The plan with why: baseline saving, binding constraints, shadow prices, alternatives, sensitivity.
    ``workers``: processes for the independent re-solves (default: the machine's cores, at most 4); the
    figures do not depend on it."""
    from planner.insight.explanation import MAX_ALTERNATIVES
    from planner.insight.explanation import explain as _explain
    from planner.insight.resolve import DEFAULT_WORKERS
    from planner.insight.sensitivity import MAX_SENSITIVITY_DELTA

    if isinstance(alternatives, bool) or not isinstance(alternatives, int) or not 0 <= alternatives <= MAX_ALTERNATIVES:
        raise InputError(f"must be a whole number in [0, {MAX_ALTERNATIVES}] (as the CLI's --alternatives), "
                         f"got {alternatives!r}", "alternatives")
    if sensitivity_delta is not None and not 0 < sensitivity_delta <= MAX_SENSITIVITY_DELTA:
        raise InputError(f"must be in (0, {MAX_SENSITIVITY_DELTA:g}] or None, got {sensitivity_delta!r}",
                         "sensitivity_delta")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"must be a whole number >= 1, got {workers!r}", "workers")

    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return _explain(scenario, _catalog(catalog), alternatives=alternatives, sensitivity_delta=sensitivity_delta,
                    workers=workers or DEFAULT_WORKERS)


def breakeven(scenario: Scenario | str | Path, option: str, *, over: str | None = None,
              catalog: Catalog | None = None) -> BreakEven:
    """Where ``option`` (``TECH:OPTION``) starts paying for itself, found by re-solving."""
    from planner.insight.break_even import breakeven as _breakeven

    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return _breakeven(scenario, _catalog(catalog), option, over)


def sweep(scenario: Scenario | str | Path, *, vary: dict[str, str] | None = None, zip_axes: bool = False,
          samples: int | None = None, seed: int = 0, workers: int = 1, executor: str | None = None,
          output: str | Path | None = None, resume: bool = False) -> SweepResult:
    """Plan many points (a grid or Monte Carlo draws); rows are plain dicts — see :mod:`planner.insight.sweeps`."""
    from planner.insight.sweeps import sweep as _sweep

    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return _sweep(scenario, vary=vary, zip_axes=zip_axes, samples=samples, seed=seed, workers=workers,
                  executor=executor, output=output, resume=resume)


def training_cost(
    *,
    tokens: float,
    hardware: str,
    model: str | ModelSpec | None = None,
    params: float | None = None,
    active_params: float | None = None,
    mfu: float | None = None,
    dtype: ComputeDtype = "bf16",
    catalog: Catalog | None = None,
) -> TrainingCost:
    """One-time training compute ``6·N_active·D`` priced on ``hardware``.

    Give ``model`` (catalog slug or config.json: its active parameters are used) or ``params``
    (with ``active_params`` for a mixture of experts).
    """
    cat = _catalog(catalog)
    if (model is None) == (params is None):
        raise InputError("give exactly one of --model or --params", "model")
    if model is not None:
        if active_params is not None:  # it was ignored: the model's own active parameters are used
            raise InputError("goes with --params, not --model (a model's active parameters are its own)",
                             "active_params")
        n_active = resolve_model(model, cat).params_active
        label = f"6*N_active*D with N_active of {model if isinstance(model, str) else model.slug}"
    else:
        total = float(params or 0.0)
        n_active = active_params if active_params is not None else total
        if active_params is not None and not 0 < active_params <= total:
            raise InputError(f"must be in (0, --params], got {active_params}", "active_params")
        label = "6*N_active*D"
    if dtype not in typing.get_args(ComputeDtype):
        raise InputError(f"must be one of {list(typing.get_args(ComputeDtype))}, got {dtype!r}", "dtype")
    if not 0 < tokens <= 1e16:
        raise InputError(f"must be in (0, 1e16], got {tokens}", "tokens")
    if not 0 < n_active <= 1e14:
        raise InputError(f"must be in (0, 1e14], got {n_active}", "params")
    flops = training_flops(n_active, tokens)
    return price_training(flops, hardware=hardware, catalog=cat, mfu=mfu, dtype=dtype,
                          params=n_active, tokens=tokens, note=label)


__all__ = [
    "breakeven",
    "demo_scenario_path",
    "distillation_flops",
    "estimate",
    "explain",
    "load_catalogs",
    "load_scenario",
    "plan",
    "preview",
    "scenario_from_dict",
    "sweep",
    "training_cost",
]
