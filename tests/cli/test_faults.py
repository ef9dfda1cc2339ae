"""Faults: oversized inputs refused up-front, no temporary files or child processes left behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.errors import ScenarioError
from planner.insight.sweeps import sweep

HARDWARE = sorted(["h100-sxm", "h200", "l40s", "a100-80gb", "b200", "mi300x", "l4", "a10g", "a100-40gb", "gaudi3",
                   "tpu-v5e", "tpu-v6e"])


def big(months: int, period: int, hardware: list[str]) -> planner.Scenario:
    classes: list[dict[str, Any]] = [
        {"name": f"c{i}", "queries_per_day": 2e5 * (i + 1), "input_tokens": 300 + 200 * i, "output_tokens": 100 + 30 * i,
         "ttft_ms": 2000, "tpot_ms": 100, "shared_prefix_tokens": 100 + 20 * i, "repeat_rate": 0.05} for i in range(10)]
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "large", "model": {"base": "llama-3.1-70b"}, "workload": classes,
        "horizon": {"months": months, "period_months": period},
        "market": {"hardware": hardware, "modes": ["on-demand", "reserved-1y", "reserved-3y", "buy"]},
        "quality": {"max_drop": 20},
        "technique_settings": {"quantization": {"quality_retention": {"w4a8": 0.97, "fp4": 0.97}},
                               "kv_quantization": {"quality_retention": {"kv-int4": 0.98}},
                               "caching": {"semantic_hit_rate": 0.2},
                               # every smaller catalog model as a student (test figures): no published run
                               # compresses a 70B as far as the 7-8B students
                               "distillation": {"quality_retention": 0.9, "tokens": 1e11}}})


def test_too_many_periods_is_refused_before_any_work(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as err:
        planner.plan(big(60, 1, HARDWARE[:4]), catalog=catalog)
    assert err.value.field == "horizon" and "60 periods" in str(err.value)


def test_too_many_deployment_rows_is_refused_naming_the_dimension(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as err:
        planner.plan(big(36, 3, HARDWARE), catalog=catalog)
    assert "deployment rows" in str(err.value) and "reduce the" in str(err.value)


def test_too_many_option_combinations_is_refused(catalog) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    small = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_variant_combinations": 10}))
    with pytest.raises(ScenarioError) as err:
        planner.plan(big(12, 3, HARDWARE[:2]), catalog=small)
    assert err.value.field == "techniques" and "allow fewer options" in str(err.value)


def test_cbc_time_limit_leaves_no_temporary_files(tmp_path: Path, monkeypatch, catalog) -> None:  # type: ignore[no-untyped-def]
    from pulp.apis.core import LpSolver_CMD

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("TMP", str(tmp_path))
    created: list[str] = []
    original = LpSolver_CMD.create_tmp_files

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        files = tuple(original(self, *args, **kwargs))
        created.extend(files)
        return files

    monkeypatch.setattr(LpSolver_CMD, "create_tmp_files", spy)
    scenario = planner.load_scenario(planner.demo_scenario_path(), ["solver.name=cbc", "solver.time_limit_s=0.5",
                                                                    "horizon.months=12"])
    plan = planner.plan(scenario, catalog=catalog)
    assert plan.status in ("feasible", "no_solution", "optimal")
    assert created and all(f.startswith(str(tmp_path)) for f in created)  # CBC did write its files there
    assert list(tmp_path.iterdir()) == []  # and none is left


def _children() -> list[int]:
    me = str(os.getpid())
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes() if fields[1] == me else b""
            # multiprocessing's resource tracker lives as long as its parent by design: not a leak
            if fields[1] == me and fields[0] != "Z" and b"resource_tracker" not in cmdline:
                kids.append(int(entry))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_failing_sweep_leaves_no_child_processes() -> None:
    before = set(_children())
    scenario = planner.scenario_from_dict({
        "schema_version": 1, "name": "f", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 1e5, "input_tokens": 200, "output_tokens": 50,
                      "ttft_ms": 2000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3}, "market": {"hardware": ["l4"]},
        "techniques": {"quantization": ["none"], "kv_quantization": ["none"], "distillation": ["none"],
                       "caching": ["none"], "moe": ["none"]}})
    # each value is valid alone (a bad one is refused before any work); 9 months in periods of 4 is not
    rows = sweep(scenario, vary={"horizon.months": "12,9", "horizon.period_months": "3,4"}, workers=2).rows
    assert [r["status"] for r in rows] == ["optimal", "optimal", "optimal", "error"]
    assert set(_children()) <= before
