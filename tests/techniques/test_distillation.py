"""Distillation: the student keeps a published share of the teacher's score at that result's token
budget (or the scenario's figures) — never the independently trained model's own score."""

from __future__ import annotations

from typing import Any

import pytest

import planner
from planner.errors import ScenarioError
from planner.optimize.candidates import build_candidates
from planner.optimize.variants import build_variants
from planner.physics.training import distillation_flops
from techniques._params import Sourced
from techniques.distillation import PublishedResult, applicable_result, published_results
from tests.conftest import DATA_DIR
from tests.techniques.test_techniques import scenario

ONLY_DISTILLATION = {"quantization": ["none"], "kv_quantization": ["none"], "caching": ["none"], "moe": ["none"]}


def result_row(catalog, slug: str, key: str):  # type: ignore[no-untyped-def]
    return catalog.technique_params[("distillation", slug, key, "all")]


def student_profile(sc: planner.Scenario, catalog, option: str):  # type: ignore[no-untyped-def]
    _, base_score, variants, _, _ = build_variants(sc, catalog)
    return base_score, next(v for v in variants if v.name == f"distillation:{option}").profiles["chat"]


def test_a_mixtral_student_keeps_the_published_retention_not_its_own_score(catalog) -> None:  # type: ignore[no-untyped-def]
    """Mixtral 8x7B (46.7B) -> an 8B student is f = 0.172: the closest published run compressed at least
    that far is Llama 3.2 1B from Llama 3.1 8B (f = 0.1532, MMLU 32.2 / 66.7, up to 9T tokens)."""
    sc = scenario(model={"base": "mixtral-8x7b"}, techniques={"distillation": ["none", "llama-3.1-8b"]})
    teacher, student = student_profile(sc, catalog, "llama-3.1-8b")
    retention = result_row(catalog, "llama-3.2-1b", "quality_retention")
    assert teacher == catalog.quality_of("mixtral-8x7b", "mmlu").score == 70.6
    assert retention.value == pytest.approx(32.2 / 66.7, abs=1e-4)
    assert student.quality_score == pytest.approx(70.6 * retention.value)
    assert student.quality_score != catalog.quality_of("llama-3.1-8b", "mmlu").score  # not Meta's 15T-token model
    assert student.model.slug == "llama-3.1-8b"  # the architecture
    tokens = result_row(catalog, "llama-3.2-1b", "tokens").value
    assert tokens == 9e12
    assert student.one_time_flops == pytest.approx(distillation_flops(
        tokens, catalog.models["llama-3.1-8b"].params_active, catalog.models["mixtral-8x7b"].params_active))
    [quality] = [t for t in student.trace if t.field == "quality_score"]
    assert quality.before == 70.6 and quality.after == pytest.approx(student.quality_score)
    for words in ("llama-3.2-1b", "retention 0.4828", "catalogs/techniques.toml", "llama3_2/MODEL_CARD.md",
                  retention.source_date):
        assert words in quality.source
    [bill] = [t for t in student.trace if t.field == "one_time_flops"]
    assert "distillation/llama-3.2-1b/tokens" in bill.source


def test_the_result_applied_is_the_closest_compression_at_least_as_strong(catalog) -> None:  # type: ignore[no-untyped-def]
    results = published_results(catalog)
    assert {r.slug for r in results} == {"llama-3.1-minitron-4b-width", "mn-minitron-8b", "llama-3.2-3b", "llama-3.2-1b"}
    by_fraction = {round(r.fraction, 4): r.slug for r in results}
    assert by_fraction == {0.5625: "llama-3.1-minitron-4b-width", 0.6885: "mn-minitron-8b", 0.3997: "llama-3.2-3b",
                           0.1532: "llama-3.2-1b"}
    pick = {f: getattr(applicable_result(results, f), "slug", None) for f in (0.1, 0.2, 0.45, 0.6, 0.95)}
    assert pick == {0.1: None, 0.2: "llama-3.2-1b", 0.45: "llama-3.2-3b", 0.6: "llama-3.1-minitron-4b-width",
                    0.95: "mn-minitron-8b"}
    # a scenario budget below a result's tokens rules that result out (its retention was not shown with fewer)
    assert applicable_result(results, 0.95, 1e11).slug == "llama-3.1-minitron-4b-width"  # 380B > 1e11 >= 94B
    assert applicable_result(results, 0.95, 1e10) is None
    tie = [PublishedResult("b", Sourced(0.9, "x"), 0.5, Sourced(2e11, "x")),
           PublishedResult("a", Sourced(0.8, "x"), 0.5, Sourced(1e11, "x"))]
    assert applicable_result(tie, 0.6).slug == "a"  # same compression: the smaller budget


def test_an_8b_student_of_a_dense_8b_uses_the_mn_minitron_result(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "llama-3.1-8b"}, techniques={"distillation": ["none", "llama-2-7b"]})
    teacher, student = student_profile(sc, catalog, "llama-2-7b")  # 6.74B / 8.03B = 0.839
    assert student.quality_score == pytest.approx(teacher * result_row(catalog, "mn-minitron-8b",
                                                                       "quality_retention").value)
    assert student.one_time_flops == pytest.approx(distillation_flops(
        3.8e11, catalog.models["llama-2-7b"].params_active, catalog.models["llama-3.1-8b"].params_active))


def test_no_published_result_compresses_70b_into_8b(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(techniques={"distillation": ["none", "llama-3.1-8b"]})  # 8.03 / 70.55 = 0.114 < 0.1532
    with pytest.raises(ScenarioError) as err:
        build_variants(sc, catalog)
    assert err.value.field == "techniques.distillation"
    assert "0.1138" in err.value.reason and "llama-3.2-1b at 0.1532" in err.value.reason
    assert "technique_settings.distillation.quality_retention" in err.value.reason
    # not listed: reported among the exclusions, not offered
    _, _, variants, _, exclusions = build_variants(scenario(techniques={"distillation": ["none"]}), catalog)
    assert [v.name for v in variants] == ["baseline"]
    omitted = scenario().model_dump(mode="json", exclude_none=True)
    omitted["techniques"] = ONLY_DISTILLATION  # distillation left out: all its options allowed
    _, _, variants, _, exclusions = build_variants(planner.scenario_from_dict(omitted), catalog)
    assert "distillation:llama-3.1-8b" not in {v.name for v in variants}
    assert any(e.subject == "distillation:llama-3.1-8b" and "no published distillation result" in e.reason
               for e in exclusions)


def test_the_scenarios_retention_and_budget(catalog) -> None:  # type: ignore[no-untyped-def]
    settings = {"distillation": {"quality_retention": 0.9, "tokens": 2e11}}
    sc = scenario(techniques={"distillation": ["none", "llama-3.1-8b"]}, technique_settings=settings)
    teacher, student = student_profile(sc, catalog, "llama-3.1-8b")
    assert student.quality_score == pytest.approx(teacher * 0.9)
    [quality] = [t for t in student.trace if t.field == "quality_score"]
    assert "scenario technique_settings.distillation.quality_retention" in quality.source
    assert student.one_time_flops == pytest.approx(distillation_flops(
        2e11, catalog.models["llama-3.1-8b"].params_active, catalog.models["llama-3.1-70b"].params_active))


@pytest.mark.parametrize(("settings", "words"), [
    ({"quality_retention": 0.9}, "set technique_settings.distillation.tokens"),
    ({"tokens": 1e10}, "no published distillation result with at most 1e+10 tokens"),  # below every published budget
])
def test_a_figure_without_its_pair_is_refused(catalog, settings: dict[str, Any], words: str) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "mixtral-8x7b"}, techniques={"distillation": ["llama-3.1-8b"]},
                  technique_settings={"distillation": settings})
    with pytest.raises(ScenarioError, match="techniques.distillation") as err:
        build_variants(sc, catalog)
    assert words in err.value.reason


def test_a_larger_scenario_budget_replaces_the_bill_not_the_retention(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "mixtral-8x7b"}, techniques={"distillation": ["llama-3.1-8b"]},
                  technique_settings={"distillation": {"tokens": 1e13}})
    _, student = student_profile(sc, catalog, "llama-3.1-8b")
    assert student.quality_score == pytest.approx(70.6 * result_row(catalog, "llama-3.2-1b", "quality_retention").value)
    assert student.one_time_flops == pytest.approx(distillation_flops(
        1e13, catalog.models["llama-3.1-8b"].params_active, catalog.models["mixtral-8x7b"].params_active))


def test_a_scenario_student_from_a_config_file(catalog) -> None:  # type: ignore[no-untyped-def]
    student = {"name": "my-8b", "config": str(DATA_DIR / "hf" / "llama-3.1-8b.json"), "score": 70.0}
    sc = scenario(techniques={"distillation": ["none", "my-8b"]},
                  technique_settings={"distillation": {"students": [student], "tokens": 1e9}})
    _, v = student_profile(sc, catalog, "my-8b")
    assert v.model.slug == "my-8b" and v.quality_score == 70.0
    assert v.one_time_flops == pytest.approx(distillation_flops(1e9, v.model.params_active,
                                                                catalog.models["llama-3.1-70b"].params_active))
    without_tokens = scenario(techniques={"distillation": ["none", "my-8b"]},
                              technique_settings={"distillation": {"students": [student]}})
    with pytest.raises(ScenarioError, match="set technique_settings.distillation.tokens"):
        build_variants(without_tokens, catalog)


def test_an_incomplete_published_result_is_a_catalog_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    overlay = tmp_path / "o.toml"
    overlay.write_text('schema_version = 1\n[[technique_param]]\ntechnique = "distillation"\noption = "half"\n'
                       'key = "student_params_fraction"\nvalue = 0.5\nunit = "fraction"\nnote = "n"\n'
                       'source = "test"\nsource_date = "2024-01-01"\n')
    catalog = planner.load_catalogs([overlay], use_env=False)
    with pytest.raises(ScenarioError) as err:
        build_variants(scenario(model={"base": "mixtral-8x7b"}), catalog)
    assert "technique_param[distillation/half]" in err.value.reason and "quality_retention, tokens" in err.value.reason


# -- plans ------------------------------------------------------------------------------------------------------

def mixtral(**over: Any) -> planner.Scenario:
    """A small Mixtral scenario whose quality floor (5 points) an off-the-shelf Llama 3.1 8B (MMLU 69.4 vs 70.6)
    would pass: the old semantics served it as a 'distilled' student."""
    data: dict[str, Any] = {
        "schema_version": 1, "name": "mixtral", "model": {"base": "mixtral-8x7b"},
        "workload": [{"name": "chat", "queries_per_day": 2e6, "input_tokens": 800, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 80}],
        "horizon": {"months": 12, "period_months": 12}, "quality": {"max_drop": 5.0},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
        "techniques": {"quantization": ["none"], "kv_quantization": ["none"], "caching": ["none"]},
    }
    for key, value in over.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return planner.scenario_from_dict(data)


def served_models(sc: planner.Scenario, catalog) -> tuple[Any, set[str]]:  # type: ignore[no-untyped-def]
    cs = build_candidates(sc, catalog)
    plan = planner.plan(sc, catalog=catalog)
    return plan, {v.profiles["chat"].model.slug for v in cs.variants if v.name in plan.variant_names}


def test_a_mixtral_plan_with_the_defaults_serves_mixtral(catalog) -> None:  # type: ignore[no-untyped-def]
    plan, models = served_models(mixtral(), catalog)
    assert plan.status in ("optimal", "feasible")
    assert models == {"mixtral-8x7b"}
    assert all(v["distillation"] == "none" and v["swap"] == "none" for v in plan.variants)


def test_a_mixtral_plan_serves_a_swap_only_when_the_scenario_names_it(catalog) -> None:  # type: ignore[no-untyped-def]
    plan, models = served_models(mixtral(techniques={"swap": ["none", "llama-3.1-8b"]}), catalog)
    assert models == {"llama-3.1-8b"}  # 69.4 >= 65.6 and far cheaper: the named swap wins
    assert plan.variant_names == ["swap:llama-3.1-8b"] and plan.one_time_cost_usd == 0
    [quality] = [t for t in plan.trace["swap:llama-3.1-8b"]["chat"] if t.field == "quality_score"]
    assert quality.after == 69.4 and "catalog quality llama-3.1-8b/mmlu" in quality.source


def test_a_chosen_distillation_carries_the_teacher_retention_quality(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = mixtral(techniques={"distillation": ["llama-3.1-8b"]}, quality={"max_drop": 100.0})
    plan, models = served_models(sc, catalog)
    assert plan.variant_names == ["distillation:llama-3.1-8b"] and models == {"llama-3.1-8b"}
    retention = result_row(catalog, "llama-3.2-1b", "quality_retention")
    [quality] = [t for t in plan.trace["distillation:llama-3.1-8b"]["chat"] if t.field == "quality_score"]
    assert quality.after == pytest.approx(70.6 * retention.value)
    assert "llama-3.2-1b" in quality.source and retention.source in quality.source
    assert plan.classes[0].quality_score == pytest.approx(70.6 * retention.value)
    assert plan.one_time_cost_usd > 0
