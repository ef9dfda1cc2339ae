"""MoE up-cycling only adds compute per token: it is offered only where a quality gain is given."""

from __future__ import annotations

from typing import Any

import pytest

import planner
from planner.errors import ScenarioError
from planner.optimize.variants import build_variants
from tests.techniques.test_techniques import scenario

UPCYCLE = {"upcycle_experts": 8, "upcycle_top_k": 2, "upcycle_tokens": 1e11}


def test_upcycle_is_unavailable_without_a_quality_gain(catalog) -> None:  # type: ignore[no-untyped-def]
    omitted = {"moe": ["none", "upcycle"]}
    sc = scenario(model={"base": "llama-3.1-8b"}, techniques={"moe": ["none"]}, technique_settings={"moe": UPCYCLE})
    _, _, variants, _, _ = build_variants(sc, catalog)
    assert all(v.options["moe"] == "none" for v in variants)
    with pytest.raises(ScenarioError) as err:
        build_variants(scenario(model={"base": "llama-3.1-8b"}, techniques=omitted,
                                technique_settings={"moe": UPCYCLE}), catalog)
    assert err.value.field == "techniques.moe"
    assert "offered where a quality gain is given" in err.value.reason
    assert "technique_settings.moe.upcycle_quality_delta" in err.value.reason


@pytest.mark.parametrize("delta", [0.0, -1.5])
def test_upcycle_without_a_positive_gain_is_refused(catalog, delta: float) -> None:  # type: ignore[no-untyped-def]
    settings: dict[str, Any] = {"moe": {**UPCYCLE, "upcycle_quality_delta": delta}}
    with pytest.raises(ScenarioError, match="offered only for a quality gain") as err:
        build_variants(scenario(model={"base": "llama-3.1-8b"}, techniques={"moe": ["upcycle"]},
                                technique_settings=settings), catalog)
    assert f"gives {delta:g} points" in err.value.reason


def test_upcycle_not_listed_is_reported_unavailable_with_the_reason(catalog) -> None:  # type: ignore[no-untyped-def]
    data = scenario(model={"base": "llama-3.1-8b"}).model_dump(mode="json", exclude_none=True)
    del data["techniques"]["moe"]  # omitted: every moe option allowed, so the unavailable ones are reported
    _, _, variants, _, exclusions = build_variants(planner.scenario_from_dict(data), catalog)
    assert all(v.options["moe"] == "none" for v in variants)
    [upcycle] = [e for e in exclusions if e.subject == "moe:upcycle"]
    assert upcycle.family == "unavailable" and "quality gain" in upcycle.reason


def test_a_catalog_row_set_supplies_the_gain(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = "".join(
        f'[[technique_param]]\ntechnique = "moe"\noption = "upcycle"\nkey = "{key}"\nvalue = {value}\n'
        f'unit = "u"\nnote = "test row"\nsource = "test source {key}"\nsource_date = "2024-01-01"\n'
        for key, value in (("experts", 8), ("top_k", 2), ("tokens", 1e11), ("quality_delta", 1.5)))
    overlay = tmp_path / "o.toml"
    overlay.write_text("schema_version = 1\n" + rows)
    cat = planner.load_catalogs([overlay], use_env=False)
    sc = scenario(model={"base": "llama-3.1-8b"}, techniques={"moe": ["none", "upcycle"]})
    _, base_score, variants, _, _ = build_variants(sc, cat)
    up = next(v for v in variants if v.name == "moe:upcycle").profiles["chat"]
    assert up.model.experts == 8 and up.quality_score == pytest.approx(base_score + 1.5)
    [quality] = [t for t in up.trace if t.field == "quality_score"]
    assert "moe/upcycle/quality_delta" in quality.source and "test source quality_delta" in quality.source


def test_upcycle_conflicts_with_a_swap(catalog) -> None:  # type: ignore[no-untyped-def]
    settings = {"moe": {**UPCYCLE, "upcycle_quality_delta": 1.0}}
    sc = scenario(model={"base": "llama-3.1-8b"}, techniques={"moe": ["none", "upcycle"], "swap": ["none", "llama-2-7b"]},
                  technique_settings=settings)
    _, _, variants, _, exclusions = build_variants(sc, catalog)
    assert {v.name for v in variants} == {"baseline", "moe:upcycle", "swap:llama-2-7b"}
    assert any(e.family == "conflict" and "moe:upcycle" in e.subject and "swap:llama-2-7b" in e.subject
               for e in exclusions)
