"""Hand-counted parameter figures of small made-up Hugging Face configs, and the catalog rules a mutation
review found unchecked: the bounds of ``config.json`` keys, the slug of an imported model, the overlay
bookkeeping (origins, the applied files in order), the cross references of links, precisions, efficiency
and engine rows, the lookup order of prices, technique parameters and engine factors, the refusals of
inconsistent rows and the bounds of a few defaults.  Every expected figure is written out with its
arithmetic; nothing is copied from the code under test.

Counting rules (planner/catalog/hf_config.py): attention per layer ``d·H·h + 2·d·K·h + H·h·d`` (MLA: the
q, kv and output projections through their low ranks), gated MLP ``3·d·f`` (plain ``2·d·f``), MoE
``E·3·d·f_e`` routed + shared experts + a ``d·E`` router, embeddings ``V·d`` (twice when untied)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from planner.catalog.hf_config import model_from_hf_config
from planner.catalog.schema import (
    EfficiencyRow,
    HardwareSpec,
    LoadShapeRow,
    ModelSpec,
    PriceRow,
    TechniqueParamRow,
)
from planner.catalog.store import Catalog, shipped_catalog_files
from planner.errors import CatalogError, InputError
from tests.catalog.helpers import PROV, h100_row_with_bandwidth, hardware_row, load, write

PROVENANCE = {"source": "hand-made test row", "source_date": "2026-01-01"}

# ---------------------------------------------------------------- Hugging Face config.json: hand counts

#: A Llama-style dense model: d = 128, H = 4, K = 2 KV heads (head dim 128 / 4 = 32), f = 512, V = 4000.
DENSE: dict[str, Any] = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 128,
                         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512,
                         "vocab_size": 4000, "tie_word_embeddings": False, "max_position_embeddings": 4096}


def hf(tmp_path: Path, cfg: dict[str, Any], folder: str = "tiny-model") -> ModelSpec:
    """Write ``cfg`` as ``<tmp>/<folder>/config.json`` and import it."""
    path = tmp_path / folder / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return model_from_hf_config(path)


def test_dense_gqa_count_by_hand(tmp_path: Path) -> None:
    """attention 128·4·32 + 2·128·2·32 + 4·32·128 = 16,384 + 16,384 + 16,384 = 49,152;
    gated MLP 3·128·512 = 196,608; per layer 245,760, two layers 491,520;
    untied embeddings 2·4000·128 = 1,024,000; total 1,515,520, every parameter active (no router: one
    'expert' is a dense MLP, not a 1-expert MoE with a 128-wide router per layer)."""
    spec = hf(tmp_path, DENSE)
    assert spec.params_total == 1_515_520
    assert spec.params_active == spec.params_total
    assert (spec.head_dim, spec.kv_heads, spec.ffn_dim, spec.experts, spec.experts_per_token) == (32, 2, 512, 1, 1)
    assert spec.kv_latent_dim is None and spec.kv_latent_rope_dim is None


def test_one_layer_and_one_kv_head_are_accepted(tmp_path: Path) -> None:
    """The smallest structural count is 1 (a one-layer model, multi-query attention with one KV head):
    attention 16,384 + 2·128·1·32 + 16,384 = 40,960; MLP 196,608; embeddings 1,024,000;
    total 40,960 + 196,608 + 1,024,000 = 1,261,568."""
    spec = hf(tmp_path, {**DENSE, "num_hidden_layers": 1, "num_key_value_heads": 1})
    assert (spec.layers, spec.kv_heads) == (1, 1)
    assert spec.params_total == 1_261_568


def test_structural_count_bounds_and_whole_numbers(tmp_path: Path) -> None:
    """A key may be as large as 100,000,000 (a 100 M-token context is within both the importer's bound and
    ModelSpec's), not one more; 128.0 is the whole number 128, 128.5 is no width."""
    assert hf(tmp_path, {**DENSE, "max_position_embeddings": 100_000_000}).max_context_tokens == 100_000_000
    with pytest.raises(InputError, match="max_position_embeddings"):
        hf(tmp_path, {**DENSE, "max_position_embeddings": 100_000_001})
    assert hf(tmp_path, {**DENSE, "hidden_size": 128.0}).d_model == 128
    with pytest.raises(InputError, match="whole number") as exc:
        hf(tmp_path, {**DENSE, "hidden_size": 128.5})
    assert "hidden_size" in str(exc.value)


def test_context_defaults_to_2048_when_no_key_gives_it(tmp_path: Path) -> None:
    """No max_position_embeddings / n_positions / seq_length: the documented default of 2048 tokens."""
    cfg = {k: v for k, v in DENSE.items() if k != "max_position_embeddings"}
    assert hf(tmp_path, cfg).max_context_tokens == 2048


def test_gpt2_style_defaults_by_hand(tmp_path: Path) -> None:
    """GPT-2 keys without n_inner (FFN 4·128 = 512), plain MLP, tied by default (GPT2Config), no context key:
    attention 4·128² = 65,536; MLP 2·128·512 = 131,072; per layer 196,608, two layers 393,216;
    tied embeddings 8000·128 = 1,024,000; total 1,417,216; context 2048."""
    spec = hf(tmp_path, {"model_type": "gpt2", "n_layer": 2, "n_embd": 128, "n_head": 4, "vocab_size": 8000})
    assert spec.ffn_dim == 512 and spec.tied_embeddings
    assert spec.params_total == 1_417_216
    assert spec.max_context_tokens == 2048


#: Qwen-MoE style: E = 4 experts of width 64, a shared expert of width 256, no num_experts_per_tok (top-1).
QWEN_MOE: dict[str, Any] = {"model_type": "qwen2_moe", "num_hidden_layers": 2, "hidden_size": 128,
                            "num_attention_heads": 4, "num_key_value_heads": 4, "intermediate_size": 512,
                            "num_experts": 4, "moe_intermediate_size": 64, "shared_expert_intermediate_size": 256,
                            "n_shared_experts": 0,  # a config may spell "no DeepSeek-style shared experts" as 0
                            "vocab_size": 4000, "tie_word_embeddings": False}


def test_qwen_moe_count_by_hand(tmp_path: Path) -> None:
    """attention (MHA) 4·128·128 = 65,536 per layer, 131,072 for two;
    one expert 3·128·64 = 24,576; shared expert 3·128·256 = 98,304; router 128·4 = 512;
    MoE MLP per layer: total 4·24,576 + 98,304 + 512 = 197,120, active (top-1) 24,576 + 98,304 + 512 = 123,392;
    two layers: 394,240 and 246,784; embeddings 2·4000·128 = 1,024,000;
    total 131,072 + 394,240 + 1,024,000 = 1,549,312; active 131,072 + 246,784 + 1,024,000 = 1,401,856;
    the FFN width reported is the expert's, 64."""
    spec = hf(tmp_path, QWEN_MOE)
    assert spec.params_total == 1_549_312
    assert spec.params_active == 1_401_856
    assert (spec.experts, spec.experts_per_token, spec.ffn_dim) == (4, 1, 64)


#: DeepSeek-V3 style MLA + MoE: ranks q 48, kv 32; RoPE 8, no-PE 16, value 20 per head; 1 dense layer first.
DEEPSEEK: dict[str, Any] = {"model_type": "deepseek_v3", "num_hidden_layers": 3, "hidden_size": 128,
                            "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 512,
                            "moe_intermediate_size": 64, "n_routed_experts": 4, "n_shared_experts": 1,
                            "num_experts_per_tok": 2, "first_k_dense_replace": 1, "kv_lora_rank": 32,
                            "q_lora_rank": 48, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 20,
                            "vocab_size": 4000, "tie_word_embeddings": False}


def test_deepseek_mla_moe_count_by_hand(tmp_path: Path) -> None:
    """head dim 16 + 8 = 24.  Attention per layer:
    q: 128·48 + 48·4·24 = 6,144 + 4,608 = 10,752; kv: 128·(32 + 8) + 32·4·(16 + 20) = 5,120 + 4,608 = 9,728;
    out: 4·20·128 = 10,240; sum 30,720, three layers 92,160.
    MLP: dense layer 3·128·512 = 196,608; expert 3·128·64 = 24,576; shared 1·24,576; router 128·4 = 512;
    MoE layer total 4·24,576 + 24,576 + 512 = 123,392, active 2·24,576 + 24,576 + 512 = 74,240;
    two MoE layers: total 196,608 + 2·123,392 = 443,392, active 196,608 + 2·74,240 = 345,088.
    Embeddings 2·4000·128 = 1,024,000.  Total 92,160 + 443,392 + 1,024,000 = 1,559,552;
    active 92,160 + 345,088 + 1,024,000 = 1,461,248.  The cache holds the latent 32 + 8 = 40 per token per
    layer, 8 of it RoPE; MLA reads every query head from it, so KV heads = 4 (the config's 1 is not used)."""
    spec = hf(tmp_path, DEEPSEEK)
    assert spec.params_total == 1_559_552
    assert spec.params_active == 1_461_248
    assert (spec.kv_latent_dim, spec.kv_latent_rope_dim) == (40, 8)
    assert (spec.head_dim, spec.kv_heads, spec.ffn_dim, spec.experts, spec.experts_per_token) == (24, 4, 64, 4, 2)


def test_slug_comes_from_the_folder_of_a_config_json(tmp_path: Path) -> None:
    """``My_Model-7B/config.json`` → lower case, runs of other characters → '-': ``my-model-7b``; another file
    name gives its stem (``Other Name.json`` → ``other-name``); a 70-character folder name is cut to the
    64 characters a slug may have."""
    assert hf(tmp_path, DENSE, folder="My_Model-7B").slug == "my-model-7b"
    other = tmp_path / "Other Name.json"
    other.write_text(json.dumps(DENSE), encoding="utf-8")
    assert model_from_hf_config(other).slug == "other-name"
    assert hf(tmp_path, DENSE, folder="a" * 70).slug == "a" * 64


def test_text_config_of_a_multimodal_config_is_read(tmp_path: Path) -> None:
    """A vision-language config nests the language model's keys under ``text_config``: the same counts as
    the bare dense config (1,515,520)."""
    spec = hf(tmp_path, {"model_type": "llava", "text_config": DENSE})
    assert spec.params_total == 1_515_520 and spec.layers == 2


def test_text_config_wins_over_the_top_level_of_a_multimodal_config(tmp_path: Path) -> None:
    """The language model is ``text_config`` (vLLM serves the text part from it whole): a top-level
    ``hidden_size`` or ``num_hidden_layers`` of the composite (here 999 and 40) does not replace the language
    model's own, so the counts stay the bare dense config's (1,515,520, 2 layers); a key only the top level
    has still fills in (``max_position_embeddings`` removed from ``text_config``: 4,096 from the top)."""
    text = {k: v for k, v in DENSE.items() if k != "max_position_embeddings"}
    spec = hf(tmp_path, {"model_type": "llava", "hidden_size": 999, "num_hidden_layers": 40,
                         "max_position_embeddings": 4096, "text_config": text})
    assert spec.params_total == 1_515_520 and spec.layers == 2
    assert spec.max_context_tokens == 4096


# ---------------------------------------------------------------- defaults: whole numbers and bounds


def default_row(key: str, value: str) -> str:
    return f'[[default]]\nkey = "{key}"\nvalue = {value}\nunit = "x"\nnote = "x"\n{PROV}'


@pytest.mark.parametrize(("key", "value", "why"), [
    ("max_batch", "64.5", "a batch is a whole number of sequences (64.5 is not silently 64)"),
    ("spot_discount", "1.0", "a 100 % discount is free spot capacity"),
    ("hardware_useful_life_years", "0.0", "a zero useful life divides the capex by zero"),
    ("kv_free_memory_fraction", "0.05", "5 % of memory left for KV cache is no serving configuration"),
], ids=["max-batch-fraction", "spot-free", "zero-useful-life", "kv-free-5-percent"])
def test_implausible_defaults_are_refused(tmp_path: Path, key: str, value: str, why: str) -> None:
    with pytest.raises(CatalogError, match=f"default\\[{key}\\]"):
        load(write(tmp_path / "o.toml", default_row(key, value)))


# ---------------------------------------------------------------- row validators


def model_row(**changes: Any) -> dict[str, Any]:
    """The dense config above as a catalog row (1,515,520 parameters, all active)."""
    row: dict[str, Any] = {"slug": "tiny", "name": "Tiny", "params_total": 1_515_520.0, "params_active": 1_515_520.0,
                           "layers": 2, "d_model": 128, "attention_heads": 4, "kv_heads": 2, "head_dim": 32,
                           "ffn_dim": 512, "vocab_size": 4000, "max_context_tokens": 4096, **PROVENANCE}
    return {**row, **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"kv_heads": 8}, "kv_heads exceeds attention_heads"),  # 8 KV heads for 4 query heads
    ({"experts": 4, "experts_per_token": 8, "params_active": 1e6 + 1}, "experts_per_token exceeds experts"),
    ({"params_active": 1_500_000.0}, "dense model"),  # one expert: every parameter is active
    ({"experts": 4, "experts_per_token": 2}, "MoE model"),  # 4 experts, top-2, yet active == total
    ({"kv_latent_dim": 40, "kv_latent_rope_dim": 40}, "kv_latent_rope_dim"),  # RoPE part is the whole latent
    ({"kv_latent_rope_dim": 8}, "kv_latent_rope_dim"),  # a RoPE part of no latent
], ids=["kv-heads", "top-k", "dense-active", "moe-active", "rope-whole-latent", "rope-no-latent"])
def test_inconsistent_model_rows_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelSpec.model_validate(model_row(**changes))


def test_consistent_moe_and_mla_rows_are_accepted() -> None:
    """The DeepSeek-style counts above: 1,461,248 of 1,559,552 active, latent 40 with an 8-wide RoPE part."""
    row = ModelSpec.model_validate(model_row(experts=4, experts_per_token=2, params_total=1_559_552.0,
                                             params_active=1_461_248.0, kv_latent_dim=40, kv_latent_rope_dim=8))
    assert row.is_moe and row.kv_latent_rope_dim == 8


def price(**changes: Any) -> dict[str, Any]:
    return {"hardware": "test-gpu", "provider": "p", "provider_kind": "neocloud", **PROVENANCE, **changes}


def test_a_price_row_holds_exactly_the_price_of_its_mode() -> None:
    """A buy row is priced per GPU and a rental per GPU-hour; a row carrying both is ambiguous."""
    assert PriceRow.model_validate(price(mode="buy", usd_per_gpu=25_000.0)).usd_per_gpu == 25_000.0
    with pytest.raises(ValidationError, match="mode 'buy' needs usd_per_gpu"):
        PriceRow.model_validate(price(mode="buy", usd_per_gpu=25_000.0, usd_per_gpu_hour=2.0))
    with pytest.raises(ValidationError, match="mode 'on-demand' needs usd_per_gpu_hour"):
        PriceRow.model_validate(price(mode="on-demand", usd_per_gpu_hour=2.0, usd_per_gpu=25_000.0))


def test_load_shape_weights_are_a_day_or_a_week_and_not_all_zero() -> None:
    """24 hourly weights (or 168): 25 is neither; 24 zeros carry no load; one busy hour is a shape."""
    def shape(weights: list[float]) -> dict[str, Any]:
        return {"name": "s", "weights": weights, **PROVENANCE}

    assert len(LoadShapeRow.model_validate(shape([0.0] * 23 + [1.0])).weights) == 24
    with pytest.raises(ValidationError, match="got 25"):
        LoadShapeRow.model_validate(shape([1.0] * 25))
    with pytest.raises(ValidationError, match="every weight is 0"):
        LoadShapeRow.model_validate(shape([0.0] * 24))


def test_error_band_ends_come_together_and_in_order() -> None:
    """P10 without P90 is half a band; P10 = P90 (a band of zero width) is in order."""
    base = {"hardware": "*", "precision": "*", "compute": 0.5, "memory": 0.5, "note": "x", **PROVENANCE}
    with pytest.raises(ValidationError, match="come together"):
        EfficiencyRow.model_validate({**base, "error_p10": -0.1})
    assert EfficiencyRow.model_validate({**base, "error_p10": 0.1, "error_p90": 0.1}).error_p90 == 0.1
    with pytest.raises(ValidationError, match="must not exceed"):
        EfficiencyRow.model_validate({**base, "error_p10": 0.2, "error_p90": 0.1})


def test_a_source_of_two_characters_padded_with_spaces_is_blank() -> None:
    """' ab ' passes a length-3 check on the raw text but says nothing in three characters once stripped."""
    with pytest.raises(ValidationError, match="blank"):
        PriceRow.model_validate({**price(mode="buy", usd_per_gpu=25_000.0), "source": " ab "})


def hardware(**changes: Any) -> dict[str, Any]:
    return {"slug": "test-gpu", "name": "Test GPU", "vendor": "nvidia", "memory_gb": 80.0,
            "memory_bandwidth_gb_s": 2000.0, "peak_bf16_dense_tflops": 500.0, "peak_fp8_dense_tflops": 1000.0,
            "scaleup_bandwidth_gb_s": 900.0, "scaleup_link": "nvlink4", "scaleup_domain_gpus": 8,
            **PROVENANCE, **changes}


def test_fp16_runs_at_the_bf16_peak_and_mib_are_not_gb() -> None:
    """FP16 and BF16 share the 16-bit tensor-core rate (500, not the FP8 1000); a memory_mib of 80 is the
    GB figure typed into the MiB field (an 80 GB card reports about 81,559 MiB)."""
    assert HardwareSpec.model_validate(hardware()).peak_tflops("fp16") == 500.0
    with pytest.raises(ValidationError, match="memory_mib"):
        HardwareSpec.model_validate(hardware(memory_mib=80.0))


def test_same_hardware_only_links_join_one_type(catalog: Catalog) -> None:
    """NVLink 4 (same_hardware_only, H100 and H200 listed) joins two H100s, never an H100 with an H200."""
    link, h100, h200 = catalog.links["nvlink4"], catalog.hardware["h100-sxm"], catalog.hardware["h200"]
    assert link.same_hardware_only
    assert link.joins(h100, h100)
    assert not link.joins(h100, h200)


# ---------------------------------------------------------------- overlays: bookkeeping and references


def test_origins_keep_every_file_a_row_came_through(tmp_path: Path) -> None:
    """A shipped row replaced by an overlay: its origins are the shipped hardware.toml, then the overlay."""
    overlay = write(tmp_path / "o.toml", h100_row_with_bandwidth(4000.0))
    shipped = next(p for p in shipped_catalog_files() if p.name == "hardware.toml")
    assert load(overlay).origins["hardware:h100-sxm"] == (str(shipped), str(overlay))


def test_applied_overlays_are_every_file_in_sorted_order(tmp_path: Path) -> None:
    """A directory contributes its .toml files sorted by name (b.toml written first still comes after
    a.toml), then the next path: the order the catalog fingerprint hashes them in."""
    folder = tmp_path / "dir"
    b = write(folder / "b.toml", hardware_row("gpu-b"))
    a = write(folder / "a.toml", hardware_row("gpu-a"))
    c = write(tmp_path / "c.toml", hardware_row("gpu-c"))
    assert load(folder, c).overlays == (str(a), str(b), str(c))


def test_an_unknown_reference_names_the_last_file_that_gave_the_row(tmp_path: Path) -> None:
    """Two layers give the same price row for hardware nobody defines: the row in force is the second's."""
    row = ('[[price]]\nhardware = "ghost-gpu"\nmode = "on-demand"\nusd_per_gpu_hour = 2.0\n'
           f'provider = "acme"\nprovider_kind = "neocloud"\n{PROV}')
    first, second = write(tmp_path / "first.toml", row), write(tmp_path / "second.toml", row)
    with pytest.raises(CatalogError, match="unknown hardware 'ghost-gpu'") as exc:
        load(first, second)
    assert str(exc.value).startswith(f"{second}: price[ghost-gpu/")


@pytest.mark.parametrize(("row", "message"), [
    ('[[link]]\nslug = "ghost-link"\nname = "x"\nkind = "infiniband"\nscope = "inter-node"\n'
     'bandwidth_gb_s_per_direction = 50.0\nvendors = ["nvidia"]\nhardware = ["ghost-gpu"]\n'
     'same_hardware_only = false\n', "link[ghost-link].hardware"),
    ('[[precision]]\nslug = "fp3"\nweight_bits = 3.0\ncompute_dtype = "fp8"\ndefault_kv = "ghost-kv"\n'
     'description = "x"\n', "default_kv 'ghost-kv'"),
    ('[[efficiency]]\nhardware = "ghost-gpu"\nprecision = "*"\ncompute = 0.5\nmemory = 0.5\nnote = "x"\n',
     "efficiency[ghost-gpu/*]"),
    ('[[engine]]\nengine = "sglang"\nhardware = "ghost-gpu"\nrelative_to = "vllm"\nspeed = 1.2\npairs = 1\n'
     'spread = 0.1\nnote = "x"\n', "engine[sglang/ghost-gpu]"),
], ids=["link-hardware", "precision-default-kv", "efficiency-hardware", "engine-hardware"])
def test_rows_naming_unknown_rows_are_refused(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(CatalogError) as exc:
        load(write(tmp_path / "o.toml", row + PROV))
    assert message in str(exc.value) and "o.toml" in str(exc.value)


# ---------------------------------------------------------------- lookups


def buy_row(provider: str, usd: float, hw: str = "test-gpu") -> str:
    return (f'[[price]]\nhardware = "{hw}"\nmode = "buy"\nusd_per_gpu = {usd}\nprovider = "{provider}"\n'
            f'provider_kind = "vendor"\n{PROV}')


def test_cheapest_buy_price_wins_and_a_vendor_is_no_rental_provider(tmp_path: Path) -> None:
    """Two purchase prices, 30,000 from 'a-dear' and 20,000 from 'z-cheap': the cheaper one, whatever the
    provider ids' order; a provider that only sells is not one ``market.providers`` can rent from."""
    cat = load(write(tmp_path / "o.toml", hardware_row(), buy_row("a-dear", 30_000.0), buy_row("z-cheap", 20_000.0)))
    assert [r.provider for r in cat.price_rows("test-gpu", "buy")] == ["z-cheap", "a-dear"]
    assert "z-cheap" not in cat.rental_providers and "a-dear" not in cat.rental_providers


def test_technique_parameter_most_specific_row_first(catalog: Catalog) -> None:
    """(option, size class) beats (option, all), which beats (*, size class), which beats (*, all)."""
    def row(option: str, applies: str, value: float) -> TechniqueParamRow:
        return TechniqueParamRow.model_validate({"technique": "t", "option": option, "key": "k", "applies_to": applies,
                                                 "value": value, "unit": "x", "note": "x", **PROVENANCE})

    rows = {("t", o, "k", a): row(o, a, v) for o, a, v in
            (("opt", "small", 1.0), ("opt", "all", 2.0), ("*", "small", 3.0), ("*", "all", 4.0))}
    cat = dataclasses.replace(catalog, technique_params=rows)
    assert cat.technique_param("t", "opt", "k", "small").value == 1.0  # type: ignore[union-attr]
    assert cat.technique_param("t", "opt", "k", "large").value == 2.0  # type: ignore[union-attr]
    assert cat.technique_param("t", "other", "k", "small").value == 3.0  # type: ignore[union-attr]
    assert cat.technique_param("t", "other", "k", "large").value == 4.0  # type: ignore[union-attr]


def test_an_engine_factor_applies_only_against_its_own_baseline(tmp_path: Path) -> None:
    """A factor of 2.0 for 'test-engine' on H100 relative to vLLM scales an estimate whose efficiency row was
    fitted on vLLM; against a row fitted on TensorRT-LLM it is no factor at all (an error naming both)."""
    row = ('[[engine]]\nengine = "test-engine"\nhardware = "h100-sxm"\nrelative_to = "vllm"\nspeed = 2.0\n'
           f'pairs = 1\nspread = 0.1\nnote = "x"\n{PROV}')
    cat = load(write(tmp_path / "o.toml", row))
    eff = cat.efficiency_for("h100-sxm", "*")
    assert cat.engine_speed("test-engine", "h100-sxm", eff.model_copy(update={"engine": "vllm"})) \
        == ("test-engine", 2.0)
    with pytest.raises(InputError, match="relative to 'tensorrt-llm'"):
        cat.engine_speed("test-engine", "h100-sxm", eff.model_copy(update={"engine": "tensorrt-llm"}))


@pytest.mark.parametrize(("row", "label"), [
    ('[[technique_param]]\ntechnique = "quantization"\noption = "fp8"\nkey = "retention"\nvalue = 1e16\n'
     'unit = "x"\nnote = "x"\n', "technique_param[quantization/fp8/retention]"),
    ('[[engine]]\nengine = "sglang"\nhardware = "h100-sxm"\nrelative_to = "vllm"\nspeed = -1.0\npairs = 1\n'
     'spread = 0.1\nnote = "x"\n', "engine[sglang/h100-sxm]"),
    ('[[load_shape]]\nname = "flat-day"\nweights = [1.0]\nnote = "x"\n', "load_shape[flat-day]"),
], ids=["technique-param", "engine", "load-shape"])
def test_an_invalid_row_is_named_by_its_whole_key(tmp_path: Path, row: str, label: str) -> None:
    """A row that fails validation is named by the fields that identify it in its table (the ones a later
    overlay's row must repeat to replace it), not by the first field it happens to share with another
    table: every technique parameter has a ``key``, every engine row a ``hardware``."""
    with pytest.raises(CatalogError) as exc:
        load(write(tmp_path / "o.toml", row + PROV))
    assert str(exc.value).startswith(f"{tmp_path / 'o.toml'}: {label}: ")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"first_k_dense_replace": 3}, "first_k_dense_replace", "3 dense layers but only 2 layers"),
    ({"num_experts_per_tok": 5}, "num_experts_per_tok", "5 experts per token but only 4 experts"),
], ids=["dense-beyond-layers", "top-k-beyond-experts"])
def test_an_impossible_moe_config_names_its_key(tmp_path: Path, changes: dict[str, Any], field: str,
                                                message: str) -> None:
    """Two layers with 4 routed experts: more dense layers than layers, or more experts per token than
    experts, is refused naming the key (it was refused as ``cfg.json: : params_active exceeds
    params_total``, no field named)."""
    cfg = {**DENSE, "num_local_experts": 4, "num_experts_per_tok": 2, **changes}
    with pytest.raises(InputError) as exc:
        hf(tmp_path, cfg)
    assert exc.value.field.endswith(f"config.json.{field}") and message in str(exc.value)


def test_an_intra_node_link_must_join_one_type(tmp_path: Path) -> None:
    """An intra-node link joins GPUs of one server, hence of one type (the scale-up domain pairs assume
    it: their servers and idle GPUs are the prefill type's): ``same_hardware_only = false`` is refused
    with the file and row named; the same link across nodes is accepted."""
    link = ('[[link]]\nslug = "mixed-board"\nname = "x"\nkind = "nvlink"\nscope = "{scope}"\n'
            'bandwidth_gb_s_per_direction = 450.0\nvendors = ["nvidia"]\nsame_hardware_only = false\n')
    with pytest.raises(CatalogError, match="same_hardware_only = true") as exc:
        load(write(tmp_path / "o.toml", link.format(scope="intra-node") + PROV))
    assert "o.toml" in str(exc.value) and "mixed-board" in str(exc.value)
    assert "mixed-board" in load(write(tmp_path / "p.toml", link.format(scope="inter-node") + PROV)).links
