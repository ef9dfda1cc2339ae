from __future__ import annotations

import planner


def test_all_is_sorted_and_complete() -> None:
    assert planner.__all__ == sorted(planner.__all__)
    public = {n for n in dir(planner) if not n.startswith("_")}
    modules = {"api", "catalog", "catalog_schema", "defaults", "errors", "deployment_estimate", "hf_config", "scenario_view",
               "profile", "roofline", "scenario_io", "schema", "training", "units", "validation", "report",
               "cli", "cli_catalog", "cli_common", "cli_techniques", "candidates", "finance", "optimizer", "plan_model", "planning", "solver"}
    assert public - modules - {"annotations"} == set(planner.__all__)


def test_results_are_pydantic_with_json(catalog) -> None:  # type: ignore[no-untyped-def]
    est = planner.estimate("llama-3.1-8b", "l4", precision="fp8", input_tokens=200, output_tokens=50,
                           catalog=catalog)
    assert '"ttft_ms"' in est.model_dump_json()
