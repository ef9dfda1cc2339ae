from __future__ import annotations

import types

import planner


def test_all_is_sorted_and_complete() -> None:
    assert planner.__all__ == sorted(planner.__all__)
    public = {n for n in dir(planner) if not n.startswith("_") and n != "annotations"
              and not isinstance(getattr(planner, n), types.ModuleType)}
    assert public == set(planner.__all__)


def test_public_functions_are_functions_not_modules() -> None:
    for name in ("plan", "explain", "breakeven", "estimate", "preview", "training_cost", "sweep"):
        assert callable(getattr(planner, name)), name
        assert not isinstance(getattr(planner, name), types.ModuleType), name


def test_lazily_imported_results_resolve() -> None:
    """Result types of explain, breakeven and sweep are imported on first use, and are the real classes."""
    from planner.insight.break_even import BreakEven
    from planner.insight.explanation import Explanation
    from planner.insight.sweeps import SweepResult

    assert (planner.BreakEven, planner.Explanation, planner.SweepResult) == (BreakEven, Explanation, SweepResult)


def test_results_are_pydantic_with_json(catalog) -> None:  # type: ignore[no-untyped-def]
    est = planner.estimate("llama-3.1-8b", "l4", precision="fp8", input_tokens=200, output_tokens=50,
                           catalog=catalog)
    assert '"ttft_ms"' in est.model_dump_json()


def test_overrides_apply_to_a_scenario_object_as_to_a_path(catalog) -> None:  # type: ignore[no-untyped-def]
    """``plan(Scenario, overrides=…)`` applies them (they were silently ignored); one bare string is refused."""
    import pytest

    path = planner.demo_scenario_path()
    tight = ["workload.chat.tpot_ms=0.2"]
    assert planner.plan(planner.load_scenario(path), catalog=catalog, overrides=tight).status == "infeasible"
    assert planner.plan(path, catalog=catalog, overrides=tight).status == "infeasible"
    for bad in ("workload.chat.tpot_ms=0.2", [3]):
        with pytest.raises(planner.InputError) as err:
            planner.load_scenario(path, bad)  # type: ignore[arg-type]
        assert err.value.field == "overrides"
