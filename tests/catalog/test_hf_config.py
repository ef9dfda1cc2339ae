"""Hugging Face config.json import (offline): parameter counts match published figures."""

from __future__ import annotations

import pytest

import planner
from planner.catalog.hf_config import model_from_hf_config
from planner.errors import InputError
from tests.conftest import DATA_DIR

HF = DATA_DIR / "hf"


def test_dense_llama_matches_the_published_parameter_count(catalog) -> None:  # type: ignore[no-untyped-def]
    spec = model_from_hf_config(HF / "llama-3.1-8b.json")
    assert spec.params_total == pytest.approx(catalog.models["llama-3.1-8b"].params_total, rel=1e-3)
    assert (spec.layers, spec.kv_heads, spec.head_dim, spec.experts) == (32, 8, 128, 1)
    assert spec.params_active == spec.params_total


def test_mixtral_moe_total_and_active() -> None:
    spec = model_from_hf_config(HF / "mixtral-8x7b.json")
    assert spec.params_total == pytest.approx(46.7e9, rel=5e-3)
    assert spec.params_active == pytest.approx(12.9e9, rel=2e-2)
    assert (spec.experts, spec.experts_per_token) == (8, 2)


def test_deepseek_v3_mla_and_moe() -> None:
    spec = model_from_hf_config(HF / "deepseek-v3.json")
    assert spec.params_total == pytest.approx(671e9, rel=1e-2)
    assert spec.params_active == pytest.approx(37e9, rel=5e-2)
    assert spec.kv_latent_dim == 512 + 64


def test_gpt_style_keys_and_estimate_through_a_path() -> None:
    path = DATA_DIR / "gpt-13b-ft" / "config.json"
    spec = model_from_hf_config(path)
    assert spec.params_total == pytest.approx(12.85e9, rel=1e-2)  # 40 x 12 x 5120^2 + 50272 x 5120
    est = planner.estimate(str(path), "a100-40gb", precision="fp16", batch=1, input_tokens=512, output_tokens=10)
    assert est.bound in {"compute", "memory"}


def test_missing_key_names_the_key() -> None:
    with pytest.raises(InputError) as err:
        model_from_hf_config(HF / "missing-layers.json")
    assert "num_hidden_layers" in str(err.value)


def test_directory_and_bad_json_are_input_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="directory"):
        model_from_hf_config(tmp_path)
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        model_from_hf_config(bad)
    bad.write_text('{"num_hidden_layers": "thirty"}')
    with pytest.raises(InputError, match="must be a number"):
        model_from_hf_config(bad)


GEMMA_7B = {"model_type": "gemma", "num_hidden_layers": 28, "hidden_size": 3072, "num_attention_heads": 16,
            "num_key_value_heads": 16, "head_dim": 256, "intermediate_size": 24576, "vocab_size": 256000,
            "max_position_embeddings": 8192}  # google/gemma-7b's config.json: no tie_word_embeddings key


def test_a_gemma_config_without_the_key_is_tied_as_its_config_class_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """GemmaConfig ties the embeddings by default: 28·(4·3072·4096 + 3·3072·24576) + 256000·3072 = 8.538 B,
    the published 8.54 B (counted untied it was 9.32 B); GPT-NeoX's default is untied."""
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps(GEMMA_7B))
    spec = model_from_hf_config(path)
    assert spec.tied_embeddings and spec.params_total == pytest.approx(8.538e9, rel=1e-3)
    path.write_text(json.dumps({**GEMMA_7B, "model_type": "gpt_neox", "intermediate_size": 4 * 3072}))
    assert not model_from_hf_config(path).tied_embeddings


@pytest.mark.parametrize(("model_type", "gated"), [("gemma", True), ("llama", True), ("gptj", False),
                                                 ("opt", False), ("gpt_neox", False)])
def test_the_mlp_kind_follows_the_model_type(tmp_path, model_type: str, gated: bool) -> None:  # type: ignore[no-untyped-def]
    """``gated_mlp`` records what the count used (3 matrices per MLP or 2), for up-cycling's experts:
    28·3072·24576 is 3/2 more parameters per gated MLP than per plain one."""
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps({**GEMMA_7B, "model_type": model_type, "tie_word_embeddings": True}))
    spec = model_from_hf_config(path)
    assert spec.gated_mlp is gated
    plain_mlp = 28 * 2 * 3072 * 24576
    assert spec.params_total == 28 * 4 * 3072 * 4096 + plain_mlp * (3 if gated else 2) // 2 + 256000 * 3072


def test_a_short_context_is_kept_and_enforced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A 64-token model was raised to 128 tokens of context, so 110-token requests passed."""
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps({**GEMMA_7B, "max_position_embeddings": 64}))
    assert model_from_hf_config(path).max_context_tokens == 64
    with pytest.raises(InputError, match="exceeds the model's context"):
        planner.estimate(str(path), "h100-sxm", batch=1, input_tokens=100, output_tokens=10)
