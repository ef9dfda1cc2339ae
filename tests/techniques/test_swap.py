"""Model swap: another off-the-shelf model with its own published score and no training bill,
offered only when the scenario lists it."""

from __future__ import annotations

import pytest

import planner
from planner.errors import ScenarioError
from planner.optimize.variants import build_variants
from tests.techniques.test_techniques import scenario


def test_swap_is_not_offered_unless_listed(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()  # swap left out of [techniques]: unlike other techniques, that offers nothing
    assert "swap" not in sc.techniques
    _, _, variants, _, exclusions = build_variants(sc, catalog)
    assert all(v.options["swap"] == "none" for v in variants)
    assert not any(e.subject.startswith("swap:") for e in exclusions)


def test_a_listed_swap_serves_that_model_with_its_own_score_and_no_bill(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(techniques={"swap": ["none", "llama-3.1-8b"]})
    _, base_score, variants, _, _ = build_variants(sc, catalog)
    assert [v.name for v in variants] == ["baseline", "swap:llama-3.1-8b"]
    swapped = variants[1].profiles["chat"]
    row = catalog.quality_of("llama-3.1-8b", "mmlu")
    assert swapped.model == catalog.models["llama-3.1-8b"]
    assert swapped.quality_score == row.score != base_score
    assert swapped.one_time_flops == 0
    [quality] = [t for t in swapped.trace if t.field == "quality_score"]
    assert quality.technique == "swap" and row.source in quality.source and row.source_date in quality.source


def test_swap_and_distillation_do_not_combine(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "mixtral-8x7b"},
                  techniques={"swap": ["none", "llama-3.1-8b"], "distillation": ["none", "llama-3.1-8b"]})
    _, _, variants, _, exclusions = build_variants(sc, catalog)
    assert {v.name for v in variants} == {"baseline", "swap:llama-3.1-8b", "distillation:llama-3.1-8b"}
    assert any(e.family == "conflict" and e.subject == "swap:llama-3.1-8b + distillation:llama-3.1-8b"
               for e in exclusions)


@pytest.mark.parametrize(("listed", "words"), [
    ("llama-3.1-70b", "is the base model"),
    ("no-such-model", "unknown option 'no-such-model'"),
])
def test_bad_swaps_name_the_field(catalog, listed: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as err:
        build_variants(scenario(techniques={"swap": ["none", listed]}), catalog)
    assert err.value.field == "techniques.swap" and words in err.value.reason


def test_a_swap_without_a_score_on_the_metric_is_refused(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(techniques={"swap": ["none", "llama-2-7b"]}, quality={"metric": "mmlu-cot", "base_score": 86.0})
    with pytest.raises(ScenarioError, match="no mmlu-cot score for llama-2-7b") as err:
        build_variants(sc, catalog)
    assert err.value.field == "techniques.swap"


def test_swap_via_cli_is_exit_2_with_the_field(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.toml"
    path.write_text(planner.demo_scenario_path().read_text().replace(
        'caching = ["none", "prefix", "response"]', 'caching = ["none", "prefix", "response"]\nswap = ["llama-3.1-7b"]'))
    result = whatif("plan", str(path))
    assert result.code == 2
    assert "techniques.swap" in result.err and "unknown option 'llama-3.1-7b'" in result.err


def test_a_score_measured_in_another_setting_is_flagged(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(model={"base": "deepseek-v3"}, techniques={"swap": ["none", "llama-3.1-70b"]})
    _, _, variants, _, _ = build_variants(sc, catalog)
    swapped = next(v for v in variants if v.name == "swap:llama-3.1-70b").profiles["chat"]
    [quality] = [t for t in swapped.trace if t.field == "quality_score"]
    assert "5-shot, instruct" in quality.source and "not the base's setting (5-shot, base" in quality.source


def test_a_model_without_a_five_shot_mmlu_is_not_offered_under_mmlu(catalog) -> None:  # type: ignore[no-untyped-def]
    """Llama 3.3 70B publishes MMLU only as 0-shot CoT (catalog metric mmlu-cot): under mmlu a swap to it
    once scored 86.0 against Llama 3.1 70B's 5-shot 83.6; it is offered under mmlu-cot, where both are 86.0."""
    with pytest.raises(ScenarioError, match="no mmlu score for llama-3.3-70b") as err:
        build_variants(scenario(techniques={"swap": ["none", "llama-3.3-70b"]}), catalog)
    assert err.value.field == "techniques.swap"
    cot = scenario(techniques={"swap": ["none", "llama-3.3-70b"]}, quality={"metric": "mmlu-cot", "max_drop": 1.0})
    _, score, variants, _, _ = build_variants(cot, catalog)
    swapped = next(v for v in variants if v.name == "swap:llama-3.3-70b").profiles["chat"]
    assert score == swapped.quality_score == 86.0
