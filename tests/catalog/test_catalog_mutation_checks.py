"""Catalog behaviour a second mutation review found unpinned (see test_store_hand_figures.py for the first
pass, not repeated here): the keys and refusals of the Hugging Face ``config.json`` import, its counts
when a rank or width is absent or zero, the slug and name of an imported model, row bounds and lookups
of the schema, the bounds of the defaults, and the store's fallbacks, sort orders and error labels.

Every expected figure is written out with its arithmetic; nothing is copied from the code under test.
Counting rules (planner/catalog/hf_config.py): attention per layer ``d·H·h + 2·d·K·h + H·h·d`` (MLA: q, kv
and output projections through their low ranks), gated MLP ``3·d·f`` (plain ``2·d·f``), MoE ``E·3·d·f_e``
routed + shared experts + a ``d·E`` router, embeddings ``V·d`` (twice when untied)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from planner.catalog.defaults import ServingDefaults
from planner.catalog.hf_config import model_from_hf_config
from planner.catalog.schema import (
    EfficiencyRow,
    EngineRow,
    HardwareSpec,
    KvPrecisionSpec,
    LinkRow,
    LoadShapeRow,
    ModelSpec,
    PlatformRow,
    PrecisionSpec,
    PriceRow,
    QualityRow,
    TechniqueParamRow,
)
from planner.catalog.store import Catalog
from planner.errors import CatalogError, InputError
from tests.catalog.helpers import PROV, hardware_row, load, write
from tests.catalog.test_store_hand_figures import DEEPSEEK, DENSE, PROVENANCE, hf

# ---------------------------------------------------------------- Hugging Face config.json

#: DENSE (test_store_hand_figures): d = 128, H = 4, K = 2 (head dim 128 / 4 = 32), f = 512, V = 4000,
#: untied: attention 128·4·32 + 2·128·2·32 + 4·32·128 = 49,152; gated MLP 3·128·512 = 196,608; two
#: layers 2·245,760 = 491,520; embeddings 2·4000·128 = 1,024,000; total 1,515,520.
DENSE_TOTAL = 1_515_520


def without(cfg: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k not in keys}


@pytest.mark.parametrize(("value", "message"), [
    (True, "must be a number"),  # JSON true is a bool, not the width 1
    (float("nan"), "whole number"),  # json.loads reads NaN; it is refused by name, not a ValueError
    (float("inf"), "whole number"),  # Infinity: not an OverflowError from int()
], ids=["bool", "nan", "inf"])
def test_a_width_that_is_no_finite_number_is_refused_by_name(tmp_path: Path, value: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as exc:
        hf(tmp_path, {**DENSE, "hidden_size": value})
    assert exc.value.field.endswith("config.json.hidden_size")


def test_a_json_array_is_no_config(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must hold a JSON object"):
        hf(tmp_path, [DENSE])


def test_a_row_bound_broken_by_the_config_names_the_field(tmp_path: Path) -> None:
    """1,001 layers pass the importer's structural bound (100 M) but not ModelSpec's (at most 1,000):
    the error names the file and the row field, ``…/config.json: layers``."""
    with pytest.raises(InputError) as exc:
        hf(tmp_path, {**DENSE, "num_hidden_layers": 1001})
    assert exc.value.field.endswith("config.json: layers")


def test_tie_word_embeddings_must_be_a_boolean(tmp_path: Path) -> None:
    """The string "false" is truthy: it is refused by the key's name rather than read as tied."""
    with pytest.raises(InputError, match="tie_word_embeddings must be true or false"):
        hf(tmp_path, {**DENSE, "tie_word_embeddings": "false"})


def test_the_first_present_key_of_a_family_wins(tmp_path: Path) -> None:
    """``hidden_size`` is read before ``n_embd``: a stray n_embd of 999 next to it changes nothing."""
    spec = hf(tmp_path, {**DENSE, "n_embd": 999})
    assert spec.d_model == 128 and spec.params_total == DENSE_TOTAL


def test_alternative_key_names(tmp_path: Path) -> None:
    """``d_model`` for the width (same model, 1,515,520); ``seq_length`` for the context (8,192);
    ``ffn_dim`` (OPT's name) for the MLP width: f = 256 makes the gated MLP 3·128·256 = 98,304, so the total
    is 2·(49,152 + 98,304) + 1,024,000 = 1,318,912."""
    assert hf(tmp_path, {**without(DENSE, "hidden_size"), "d_model": 128}).params_total == DENSE_TOTAL
    ctx = hf(tmp_path, {**without(DENSE, "max_position_embeddings"), "seq_length": 8192})
    assert ctx.max_context_tokens == 8192
    spec = hf(tmp_path, {**without(DENSE, "intermediate_size"), "ffn_dim": 256})
    assert spec.ffn_dim == 256 and spec.params_total == 1_318_912


def test_a_null_text_config_is_no_nested_model(tmp_path: Path) -> None:
    """``"text_config": null`` (no nested language model): the top-level keys are the model."""
    assert hf(tmp_path, {**DENSE, "text_config": None}).params_total == DENSE_TOTAL


def test_name_comes_from_name_or_path_else_the_folder(tmp_path: Path) -> None:
    assert hf(tmp_path, {**DENSE, "_name_or_path": "acme/tiny-7b"}, folder="local").name == "acme/tiny-7b"
    assert hf(tmp_path, DENSE, folder="my-folder").name == "my-folder"


@pytest.mark.parametrize(("folder", "slug"), [
    ("Qwen2.5_7B", "qwen2.5-7b"),  # dots are kept (a version), other runs become '-'
    (".Tiny.", "tiny"),  # leading/trailing dots are stripped: a slug starts with a letter or digit
    ("___", "hf-model"),  # nothing left: the documented fallback
])
def test_slug_of_an_imported_model(tmp_path: Path, folder: str, slug: str) -> None:
    assert hf(tmp_path, DENSE, folder=folder).slug == slug


#: Plain MLP with DENSE's shape: attention 49,152; MLP 2·128·512 = 131,072; two layers 2·180,224 = 360,448;
#: untied embeddings 1,024,000; total 1,384,448.
PLAIN_TOTAL = 1_384_448


@pytest.mark.parametrize("model_type", ["falcon", "bloom", "gpt_bigcode", "gpt2", "GPT2", "phi", "starcoder2"])
def test_plain_mlp_model_types(tmp_path: Path, model_type: str) -> None:
    """These types have an up and a down matrix only (model_type compared case-insensitively)."""
    spec = hf(tmp_path, {**DENSE, "model_type": model_type})
    assert not spec.gated_mlp and spec.params_total == PLAIN_TOTAL


@pytest.mark.parametrize(("model_type", "tied", "total"), [
    ("gemma2", True, 1_515_520), ("opt", True, 1_384_448), ("falcon", True, 1_384_448), ("bloom", True, 1_384_448),
    ("llama", False, 2_539_520), ("gptj", False, 2_408_448), ("qwen2", False, 2_539_520),
    ("phi", False, 2_408_448), ("starcoder2", True, 1_384_448), ("phi3", False, 2_539_520),
])
def test_tied_embeddings_default_per_model_type(tmp_path: Path, model_type: str, tied: bool, total: int) -> None:
    """Without ``tie_word_embeddings`` the config class's default applies.  With V = 8000 the embeddings are
    8000·128 = 1,024,000 tied or 2,048,000 untied; two layers are 491,520 gated (DENSE) or 360,448 plain:
    gated tied 1,515,520, plain tied 1,384,448, gated untied 2,539,520, plain untied 2,408,448."""
    spec = hf(tmp_path, {**without(DENSE, "tie_word_embeddings"), "model_type": model_type, "vocab_size": 8000})
    assert spec.tied_embeddings is tied
    assert spec.params_total == total


#: DEEPSEEK (test_store_hand_figures): MLA + MoE, ranks q 48, kv 32; RoPE 8, no-PE 16, value 20.


@pytest.mark.parametrize("q_lora", [None, 0], ids=["null", "zero"])
def test_mla_without_a_query_rank_projects_queries_in_full(tmp_path: Path, q_lora: Any) -> None:
    """DeepSeek-V2-Lite writes ``"q_lora_rank": null``: the query projection is d·H·(nope + rope) =
    128·4·24 = 12,288 (not 128·48 + 48·4·24 = 10,752).  Attention per layer 12,288 + kv 9,728 + out 10,240 =
    32,256, three layers 96,768; MLP total 443,392, active 345,088; embeddings 1,024,000:
    total 96,768 + 443,392 + 1,024,000 = 1,564,160; active 96,768 + 345,088 + 1,024,000 = 1,465,856."""
    spec = hf(tmp_path, {**DEEPSEEK, "q_lora_rank": q_lora})
    assert spec.params_total == 1_564_160
    assert spec.params_active == 1_465_856
    assert (spec.kv_latent_dim, spec.head_dim) == (40, 24)


def test_a_zero_kv_rank_is_no_latent_attention(tmp_path: Path) -> None:
    """``kv_lora_rank: 0`` is read as absent: grouped-query attention, the dense count, no latent cache."""
    spec = hf(tmp_path, {**DENSE, "kv_lora_rank": 0})
    assert spec.params_total == DENSE_TOTAL
    assert spec.kv_latent_dim is None and spec.kv_heads == 2


def test_a_zero_shared_width_is_no_shared_expert(tmp_path: Path) -> None:
    """Qwen-MoE style, 4 experts of width 64, top-1, ``shared_expert_intermediate_size: 0``:
    expert 3·128·64 = 24,576, router 128·4 = 512; per layer total 4·24,576 + 512 = 98,816, active 25,088;
    two layers 197,632 and 50,176; attention (MHA) 2·65,536 = 131,072; embeddings 1,024,000:
    total 131,072 + 197,632 + 1,024,000 = 1,352,704; active 131,072 + 50,176 + 1,024,000 = 1,205,248."""
    cfg = {**DENSE, "num_key_value_heads": 4, "num_experts": 4, "moe_intermediate_size": 64,
           "shared_expert_intermediate_size": 0}
    spec = hf(tmp_path, cfg)
    assert (spec.params_total, spec.params_active) == (1_352_704, 1_205_248)


def test_zero_dense_layers_first_makes_every_layer_moe(tmp_path: Path) -> None:
    """``first_k_dense_replace: 0``: the three layers are MoE layers (total 123,392, active 74,240 each):
    total 92,160 + 3·123,392 + 1,024,000 = 1,486,336; active 92,160 + 3·74,240 + 1,024,000 = 1,338,880."""
    spec = hf(tmp_path, {**DEEPSEEK, "first_k_dense_replace": 0})
    assert (spec.params_total, spec.params_active) == (1_486_336, 1_338_880)


# ---------------------------------------------------------------- schema rows


def hardware(**changes: Any) -> dict[str, Any]:
    return {"slug": "test-gpu", "name": "Test GPU", "vendor": "nvidia", "memory_gb": 80.0,
            "memory_bandwidth_gb_s": 2000.0, "peak_bf16_dense_tflops": 500.0, "peak_fp8_dense_tflops": 1000.0,
            "peak_int8_dense_tops": 1100.0, "peak_fp4_dense_tflops": 2000.0,
            "scaleup_bandwidth_gb_s": 900.0, "scaleup_link": "nvlink4", "scaleup_domain_gpus": 8,
            **PROVENANCE, **changes}




def test_includes_applies_to_buy_rows_only() -> None:
    base = {"hardware": "test-gpu", "provider": "p", "provider_kind": "neocloud", **PROVENANCE}
    server = PriceRow.model_validate({**base, "mode": "buy", "usd_per_gpu": 2e5, "includes": "server"})
    assert server.includes == "server"
    with pytest.raises(ValidationError, match="includes applies to buy rows only"):
        PriceRow.model_validate({**base, "mode": "on-demand", "usd_per_gpu_hour": 2.0, "includes": "server"})


def link(**changes: Any) -> LinkRow:
    return LinkRow.model_validate({"slug": "l", "name": "L", "kind": "infiniband", "scope": "inter-node",
                                   "bandwidth_gb_s_per_direction": 50.0, "vendors": ["nvidia"],
                                   "same_hardware_only": False, **PROVENANCE, **changes})


def test_a_link_joins_only_listed_vendors_and_hardware() -> None:
    """An NVIDIA-only link does not reach an AMD GPU; a link listing hardware does not reach another slug."""
    nv, other_nv = HardwareSpec.model_validate(hardware()), HardwareSpec.model_validate(hardware(slug="gpu-b"))
    amd = HardwareSpec.model_validate(hardware(slug="amd-gpu", vendor="amd"))
    assert link().joins(nv, other_nv)
    assert not link().joins(nv, amd) and not link().joins(amd, nv)
    assert not link(hardware=["test-gpu"]).joins(nv, other_nv)
    assert link(hardware=["test-gpu", "gpu-b"]).joins(nv, other_nv)
    with pytest.raises(ValidationError):
        link(hardware=[])  # an empty list would join nothing: leave the key out instead


def test_a_weekly_load_shape_has_168_weights() -> None:
    """7·24 = 168 hourly weights is a week; 167 is neither a day nor a week."""
    row = {"name": "week", "note": "x", **PROVENANCE}
    assert len(LoadShapeRow.model_validate({**row, "weights": [1.0] * 168}).weights) == 168
    with pytest.raises(ValidationError, match="got 167"):
        LoadShapeRow.model_validate({**row, "weights": [1.0] * 167})



def test_a_technique_param_applies_to_all_sizes_by_default(catalog: Catalog) -> None:
    """A row without applies_to is the (option, all) row: found for a small and for a large model."""
    row = TechniqueParamRow.model_validate({"technique": "t", "option": "o", "key": "k", "value": 7.0,
                                            "unit": "x", "note": "x", **PROVENANCE})
    assert row.applies_to == "all"
    cat = dataclasses.replace(catalog, technique_params={("t", "o", "k", row.applies_to): row})
    assert cat.technique_param("t", "o", "k", "small") is row and cat.technique_param("t", "o", "k", "large") is row


@pytest.mark.parametrize(("model", "row"), [
    (EfficiencyRow, {"hardware": "*", "precision": "*", "compute": 1.01, "memory": 0.5, "note": "x"}),
    (EfficiencyRow, {"hardware": "*", "precision": "*", "compute": 0.5, "memory": 1.01, "note": "x"}),
    (HardwareSpec, hardware(slug="H100")),  # slugs are lower case
    (HardwareSpec, hardware(slug="a" * 65)),  # at most 64 characters
    (QualityRow, {"model": "m", "metric": "mmlu", "score": 100.5, "setting": "x"}),  # a percentage
    (PrecisionSpec, {"slug": "p", "weight_bits": 33.0, "compute_dtype": "bf16", "default_kv": "k",
                     "description": "x"}),  # more than 32 bits per weight
    (KvPrecisionSpec, {"slug": "k", "bits": 0.0}),  # a zero-bit KV cache would be free
    (EngineRow, {"engine": "e", "hardware": "h", "relative_to": "r", "speed": 0.05, "pairs": 1,
                 "spread": 0.1, "note": "x"}),  # must be above 1/20 of the baseline
    (PlatformRow, {"hardware": "h", "name": "x", "gpus_per_server": 0, "server_power_kw": 10.0}),
    (PriceRow, {"hardware": "h", "mode": "buy", "usd_per_gpu": 2e4, "provider": "aws.com",
                "provider_kind": "hyperscaler"}),  # a provider id has no dots
    (LoadShapeRow, {"name": "s", "weights": [1.0] * 24, "timezone": ""}),
    (HardwareSpec, hardware(memory_mib=1_000.0)),  # not above 1,000 MiB
], ids=["compute-over-1", "memory-over-1", "upper-case-slug", "slug-65", "score-over-100", "weight-bits-33",
        "kv-bits-0", "engine-speed-0.05", "zero-gpus-per-server", "provider-with-dot", "blank-timezone",
        "mib-1000"])
def test_implausible_rows_are_refused(model: type[Any], row: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate({**PROVENANCE, **row})


def test_training_tokens_must_be_positive() -> None:
    row = {"slug": "tiny", "name": "Tiny", "params_total": 2e6, "params_active": 2e6, "layers": 2, "d_model": 128,
           "attention_heads": 4, "kv_heads": 2, "head_dim": 32, "ffn_dim": 512, "vocab_size": 4000,
           "max_context_tokens": 4096, **PROVENANCE}
    assert ModelSpec.model_validate({**row, "training_tokens": 1.0}).training_tokens == 1.0
    with pytest.raises(ValidationError, match="training_tokens"):
        ModelSpec.model_validate({**row, "training_tokens": 0.0})


# ---------------------------------------------------------------- defaults


@pytest.mark.parametrize(("key", "value"), [
    ("pue", 0.99),  # a facility cannot draw less than its IT load
    ("decode_overlap_norm", 0.5),
    ("solver_gap_rel", 0.51),
    ("training_mfu", 1.01),
    ("max_batch", 0.0),
    ("average_power_fraction", 0.0),
    ("reserved_3y_discount_neocloud", 1.0),  # a 100 % discount is free capacity
])
def test_default_bounds(catalog: Catalog, key: str, value: float) -> None:
    rows = {**catalog.default_rows, key: catalog.default_rows[key].model_copy(update={"value": value})}
    with pytest.raises(CatalogError) as exc:
        ServingDefaults.from_rows(rows)
    assert exc.value.field == f"default[{key}].value"


def test_a_missing_default_is_named(catalog: Catalog) -> None:
    rows = {k: v for k, v in catalog.default_rows.items() if k != "pue"}
    with pytest.raises(CatalogError, match=r"missing default key\(s\) \['pue'\]"):
        ServingDefaults.from_rows(rows)



# ---------------------------------------------------------------- store: lookups


def test_no_efficiency_row_at_all_is_a_catalog_error(catalog: Catalog) -> None:
    """A catalog built without the ('*', '*') fallback (loading refuses one) fails loudly, not with None."""
    with pytest.raises(CatalogError, match="no efficiency row matches"):
        dataclasses.replace(catalog, efficiency={}).efficiency_for("h100-sxm", "bf16")


def engine_row(engine: str, hw: str, relative_to: str, speed: float = 1.5) -> EngineRow:
    return EngineRow.model_validate({"engine": engine, "hardware": hw, "relative_to": relative_to, "speed": speed,
                                     "pairs": 1, "spread": 0.1, "note": "x", **PROVENANCE})


def eff_row(engine: str) -> EfficiencyRow:
    return EfficiencyRow.model_validate({"hardware": "*", "precision": "*", "compute": 0.5, "memory": 0.5,
                                         "note": "x", "engine": engine, **PROVENANCE})


def engine_catalog(catalog: Catalog) -> Catalog:
    """Engine rows: 'fast' on gpu-a relative to 'base', on gpu-b relative to 'other'; the only efficiency
    row was fitted on 'fitted' (an engine no [[engine]] row names)."""
    engines = {("fast", "gpu-a"): engine_row("fast", "gpu-a", "base", 1.5),
               ("fast", "gpu-b"): engine_row("fast", "gpu-b", "other", 2.0)}
    return dataclasses.replace(catalog, engines=engines, efficiency={("*", "*"): eff_row("fitted")})


def test_engine_names_are_rows_baselines_and_fitted_engines(catalog: Catalog) -> None:
    assert engine_catalog(catalog).engine_names() == {"fast", "base", "other", "fitted"}



def test_an_engine_without_a_factor_lists_the_hardware_it_has_against_that_baseline(catalog: Catalog) -> None:
    """'fast' has a factor relative to 'base' on gpu-a only (gpu-b's is relative to 'other'): the error for
    gpu-z names gpu-a and not gpu-b; an engine nobody names is an unknown slug."""
    cat = engine_catalog(catalog)
    with pytest.raises(InputError) as exc:
        cat.engine_speed("fast", "gpu-z", eff_row("base"))
    assert "it has factors for: gpu-a." in str(exc.value)
    with pytest.raises(InputError, match="unknown engine 'nosuch'"):
        cat.engine_speed("nosuch", "gpu-a", eff_row("base"))


def rent(provider: str, usd: float) -> PriceRow:
    return PriceRow.model_validate({"hardware": "test-gpu", "mode": "on-demand", "usd_per_gpu_hour": usd,
                                    "provider": provider, "provider_kind": "neocloud", **PROVENANCE})


def test_equal_prices_are_ordered_by_provider_and_providers_filter(catalog: Catalog) -> None:
    """Two providers at 2.00 $/GPU-hour, 'zeta' inserted before 'alpha': alpha first (ties by provider id);
    a 1.00 'mid' is cheapest; asking for zeta only gives zeta's row even though others are cheaper."""
    prices = {("test-gpu", "on-demand", p): rent(p, usd) for p, usd in (("zeta", 2.0), ("alpha", 2.0), ("mid", 1.0))}
    cat = dataclasses.replace(catalog, prices=prices)
    assert [r.provider for r in cat.price_rows("test-gpu", "on-demand")] == ["mid", "alpha", "zeta"]
    only = cat.price("test-gpu", "on-demand", providers=["zeta"])
    assert only is not None and only.provider == "zeta"


# ---------------------------------------------------------------- store: files and references


def test_directory_files_are_read_in_name_order_whatever_the_listing_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file system may list b.toml before a.toml: the applied order (and fingerprint) is sorted."""
    folder = tmp_path / "dir"
    a = write(folder / "a.toml", hardware_row("gpu-a"))
    b = write(folder / "b.toml", hardware_row("gpu-b"))
    real_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(sorted(real_glob(self, pattern), reverse=True)))
    assert load(folder).overlays == (str(a), str(b))


def test_an_overlay_that_is_neither_file_nor_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(CatalogError, match="is not a regular file or a directory"):
        load(fifo)


def test_an_overlay_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_bytes(b"schema_version = 1\n# caf\xe9 in Latin-1\n")
    with pytest.raises(CatalogError, match="not UTF-8 text"):
        load(path)


def test_a_table_that_is_not_an_array(tmp_path: Path) -> None:
    """``[hardware]`` (one table) instead of ``[[hardware]]`` (an array of them)."""
    path = write(tmp_path / "o.toml", '[hardware]\nslug = "x"\n')
    with pytest.raises(CatalogError, match=r"must be an array of tables") as exc:
        load(path)
    assert exc.value.field == f"{path}: hardware"


def test_a_row_without_text_key_fields_is_named_by_its_position(tmp_path: Path) -> None:
    """The second hardware row has a number for its slug: it is ``hardware[1]`` (0-based, as TOML arrays)."""
    path = write(tmp_path / "o.toml", hardware_row("gpu-a"), hardware_row("gpu-b").replace('"gpu-b"', "5"))
    with pytest.raises(CatalogError) as exc:
        load(path)
    assert exc.value.field == f"{path}: hardware[1]"


@pytest.mark.parametrize(("row", "message"), [
    ('[[platform]]\nhardware = "ghost-gpu"\nname = "x"\ngpus_per_server = 8\nserver_power_kw = 10.0\n',
     "platform[ghost-gpu]"),
    ('[[efficiency]]\nhardware = "ghost-gpu"\nprecision = "bf16"\ncompute = 0.5\nmemory = 0.5\nnote = "x"\n',
     "efficiency[ghost-gpu/bf16]"),  # unknown hardware with a known precision
    ('[[efficiency]]\nhardware = "h100-sxm"\nprecision = "ghost-prec"\ncompute = 0.5\nmemory = 0.5\nnote = "x"\n',
     "efficiency[h100-sxm/ghost-prec]"),  # unknown precision with known hardware
    (('[[link]]\nslug = "two-link"\nname = "x"\nkind = "infiniband"\nscope = "inter-node"\n'
      'bandwidth_gb_s_per_direction = 50.0\nvendors = ["nvidia"]\nhardware = ["h100-sxm", "ghost-gpu"]\n'
      'same_hardware_only = false\n'), "link[two-link].hardware"),  # the second listed slug is unknown
], ids=["platform", "efficiency-hardware", "efficiency-precision", "link-second-hardware"])
def test_more_rows_naming_unknown_rows_are_refused(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(CatalogError) as exc:
        load(write(tmp_path / "o.toml", row + PROV))
    assert message in str(exc.value) and "ghost-" in str(exc.value)


def test_an_overlay_load_shape_is_in_the_catalog(tmp_path: Path) -> None:
    row = '[[load_shape]]\nname = "test-shape"\nweights = [' + ", ".join(["1.0"] * 24) + ']\nnote = "x"\n'
    cat = load(write(tmp_path / "o.toml", row + PROV))
    assert cat.load_shapes["test-shape"].weights == [1.0] * 24



FALCON_7B = {"model_type": "falcon", "hidden_size": 4544, "num_attention_heads": 71, "num_hidden_layers": 32,
             "vocab_size": 65024}


@pytest.mark.parametrize(("config", "kv_heads", "params"), [
    # Falcon-7B: multi-query by default; per layer 2·4544² (Q, out) + 2·4544·64 (one K, one V head of 64)
    # + 2·4544·18,176 (plain MLP, 4·d), tied embedding 65,024·4544: 6,921,420,800 (published ~7 B)
    (FALCON_7B, 1, 32 * (2 * 4544**2 + 2 * 4544 * 64 + 2 * 4544 * 18_176) + 65_024 * 4544),
    ({**FALCON_7B, "multi_query": False}, 71, 32 * (4 * 4544**2 + 2 * 4544 * 18_176) + 65_024 * 4544),
    # Falcon-40B's new decoder architecture: num_kv_heads = 8 of 128 heads of 64
    ({"model_type": "falcon", "hidden_size": 8192, "num_attention_heads": 128, "num_hidden_layers": 60,
      "vocab_size": 65024, "new_decoder_architecture": True, "num_kv_heads": 8}, 8,
     60 * (2 * 8192**2 + 2 * 8192 * 8 * 64 + 2 * 8192 * 32_768) + 65_024 * 8192),
    # StarCoder (gpt_bigcode): multi-query by default, n_inner 24,576: ~15.5 B published
    ({"model_type": "gpt_bigcode", "n_embd": 6144, "n_head": 48, "n_layer": 40, "n_inner": 24576,
      "n_positions": 8192, "vocab_size": 49152}, 1,
     40 * (2 * 6144**2 + 2 * 6144 * 128 + 2 * 6144 * 24_576) + 49_152 * 6144),
    # num_key_value_heads, where given, wins
    ({**FALCON_7B, "num_key_value_heads": 71}, 71, 32 * (4 * 4544**2 + 2 * 4544 * 18_176) + 65_024 * 4544),
], ids=["falcon-7b", "falcon-mha", "falcon-40b", "starcoder", "explicit"])
def test_multi_query_models_read_their_kv_heads_as_their_config_class_does(
        tmp_path: Path, config: dict[str, Any], kv_heads: int, params: int) -> None:
    path = tmp_path / "m" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    spec = model_from_hf_config(path)
    assert (spec.kv_heads, spec.params_total) == (kv_heads, params)


@pytest.mark.parametrize(("config", "params", "published"), [
    # microsoft/phi-2 config.json: 32 layers of 2560, 32 heads, intermediate 10,240, vocabulary 51,200,
    # untied; per layer 4·2560² + 2·2560·10,240; model card: 2.7 B parameters
    ({"model_type": "phi", "hidden_size": 2560, "num_attention_heads": 32, "num_hidden_layers": 32,
      "intermediate_size": 10240, "vocab_size": 51200, "tie_word_embeddings": False},
     32 * (4 * 2560**2 + 2 * 2560 * 10_240) + 2 * 51_200 * 2560, 2.7e9),
    # bigcode/starcoder2-15b: 40 layers of 6144, 48 heads, 4 KV heads of 128, intermediate 24,576,
    # vocabulary 49,152; its model card: "a 15B parameter model"
    ({"model_type": "starcoder2", "hidden_size": 6144, "num_attention_heads": 48, "num_key_value_heads": 4,
      "num_hidden_layers": 40, "intermediate_size": 24576, "vocab_size": 49152},
     40 * (2 * 6144**2 + 2 * 6144 * 4 * 128 + 2 * 6144 * 24_576) + 49_152 * 6144, 15e9),
], ids=["phi-2", "starcoder2-15b"])
def test_phi_and_starcoder2_count_a_plain_mlp(tmp_path: Path, config: dict[str, Any], params: int,
                                             published: float) -> None:
    """Both MLPs are an up and a down matrix (``fc1``/``fc2``, ``c_fc``/``c_proj``); counted gated they read
    3.62 B and 21.4 B.  Against the published sizes, which are rounded (2.78 B and 15.65 B counted;
    biases and norms are not counted, < 0.1 %), within 5 %."""
    path = tmp_path / "m" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    spec = model_from_hf_config(path)
    assert not spec.gated_mlp and spec.params_total == params
    assert spec.params_total == pytest.approx(published, rel=0.05)


def test_a_multi_query_flag_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "m" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({**FALCON_7B, "multi_query": "false"}))
    with pytest.raises(InputError, match="multi_query must be true or false, got a str"):
        model_from_hf_config(path)


def test_a_check_across_fields_names_the_file_alone(tmp_path: Path) -> None:
    """Every layer's MoE block replaced by dense ones (first_k_dense_replace = layers): active equals total,
    refused by ModelSpec's check across fields, which has no field path: the error names the file (no
    trailing ': ') and gives the reason without pydantic's 'Value error, ' prefix."""
    path = tmp_path / "m" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"hidden_size": 512, "num_attention_heads": 8, "num_hidden_layers": 4,
                                "vocab_size": 32000, "intermediate_size": 1024, "n_routed_experts": 4,
                                "num_experts_per_tok": 2, "moe_intermediate_size": 256, "first_k_dense_replace": 4}))
    with pytest.raises(InputError) as info:
        model_from_hf_config(path)
    assert info.value.field == str(path)
    assert info.value.reason.startswith("an MoE model (experts > 1) must have params_active < params_total")


@pytest.mark.parametrize("version", ["true", "1.0"])
def test_a_catalog_file_version_must_be_the_integer_1(tmp_path: Path, version: str) -> None:
    """``true`` and ``1.0`` equal 1 in Python, and ``Literal[1]`` took them; the version is an integer."""
    path = tmp_path / "o.toml"
    path.write_text(f"schema_version = {version}\n")
    with pytest.raises(CatalogError, match="schema_version must be 1"):
        load(path)
