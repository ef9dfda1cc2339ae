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


def test_bad_arguments_of_the_api_are_input_errors_naming_the_argument() -> None:
    import json

    import pytest

    demo = planner.demo_scenario_path()
    for kw, field in ((dict(alternatives=-1), "alternatives"), (dict(sensitivity_delta=2.0), "sensitivity_delta"),
                      (dict(workers=0), "workers")):
        with pytest.raises(planner.InputError) as err:
            planner.explain(demo, **kw)  # type: ignore[arg-type]
        assert err.value.field == field
    with pytest.raises(planner.InputError) as err:
        planner.training_cost(model="llama-2-70b", tokens=1e12, hardware="h100-sxm", dtype="fp3")  # type: ignore[arg-type]
    assert err.value.field == "dtype"
    # a plan's status is typed: a JSON document with another status does not read back as a Plan
    plan = planner.plan(demo, overrides=["horizon.months=12", "solver.node_limit=1"])
    data = json.loads(plan.model_dump_json())
    assert planner.Plan.model_validate(data).status == plan.status
    with pytest.raises(ValueError):
        planner.Plan.model_validate({**data, "status": "banana"})
