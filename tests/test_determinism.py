"""The same scenario gives byte-identical JSON (``timings`` aside), whatever the order in its file."""

from __future__ import annotations

import json

import planner


def _json(plan: planner.Plan) -> str:
    data = json.loads(plan.model_dump_json())
    data.pop("timings")
    return json.dumps(data, sort_keys=True)


def test_runs_and_file_order_do_not_change_the_plan(catalog) -> None:  # type: ignore[no-untyped-def]
    base = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12"])
    data = json.loads(base.model_dump_json())
    shuffled = json.loads(base.model_dump_json())
    shuffled["market"]["hardware"] = list(reversed(data["market"]["hardware"]))
    shuffled["market"]["modes"] = list(reversed(data["market"]["modes"]))
    shuffled["techniques"] = {k: list(reversed(v)) for k, v in reversed(list(data["techniques"].items()))}
    first = _json(planner.plan(base, catalog=catalog))
    again = _json(planner.plan(base, catalog=catalog))
    reordered = _json(planner.plan(planner.scenario_from_dict(shuffled), catalog=catalog))
    assert first == again == reordered


def test_only_timings_vary(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=6"]), catalog=catalog)
    assert set(plan.timings) == {"solve_s"}
    assert "seconds" not in plan.solver.model_dump()
