"""Build a :class:`ModelSpec` from a Hugging Face ``config.json``, offline.

Supported key families (the parameter count is computed from the architecture):

* Llama / Mistral / Qwen2 / Gemma style: ``num_hidden_layers``, ``hidden_size``,
  ``num_attention_heads``, ``num_key_value_heads`` (default: MHA), ``head_dim`` (default
  ``hidden_size / heads``), ``intermediate_size``, ``vocab_size``, ``tie_word_embeddings``,
  ``max_position_embeddings``; gated MLP (3 matrices).
* Mixtral style MoE: ``num_local_experts``, ``num_experts_per_tok``.
* Qwen-MoE style: ``num_experts``, ``num_experts_per_tok``, ``moe_intermediate_size``,
  ``shared_expert_intermediate_size``.
* DeepSeek-V2/V3 (MLA + MoE): ``n_routed_experts``, ``n_shared_experts``,
  ``moe_intermediate_size``, ``first_k_dense_replace``, ``kv_lora_rank``, ``q_lora_rank``,
  ``qk_rope_head_dim``, ``qk_nope_head_dim``, ``v_head_dim``.
* GPT-2 / GPT-J style: ``n_layer``, ``n_embd``, ``n_head``, ``n_inner`` (default 4·d),
  ``n_positions``; plain (2-matrix) MLP, as Phi-1/1.5/2 and StarCoder2 have (:data:`PLAIN_MLP_TYPES`).
* Falcon and GPT-BigCode (StarCoder): multi-query attention by default (``multi_query``; Falcon's
  new decoder architecture ``num_kv_heads``), read as their config classes read them.
* Multimodal (vision-language) configs: the language model is ``text_config`` (vLLM serves the text
  part from it whole, ``get_hf_text_config``); a top-level key is read only where ``text_config`` lacks it.

Parameter counting per layer: attention ``d·H·h + 2·d·K·h + H·h·d``; MLP ``3·d·f`` (gated)
or ``2·d·f``; MoE ``E·3·d·f_e`` routed + shared experts + a ``d·E`` router; embeddings
``V·d`` (twice when untied).  Norm and bias vectors are omitted (< 0.01 % of a model).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.catalog.schema import ModelSpec
from planner.errors import InputError
from planner.inputs import read_bounded
from planner.scenario.loading import _no_duplicate_keys

#: Matrices in a gated MLP (gate, up, down) and in a plain one (up, down).
GATED_MLP_MATRICES = 3
PLAIN_MLP_MATRICES = 2
#: model_type values whose MLP has no gate (transformers' modelling: GPT-style ``c_fc``/``c_proj``,
#: Phi-1/1.5/2's ``fc1``/``fc2``, StarCoder2's ``c_fc``/``c_proj``; Phi-3's ``phi3`` is gated).  Until
#: 2026-12-07 ``phi`` and ``starcoder2`` were counted gated: Phi-2 3.62 B against its published 2.7 B.
PLAIN_MLP_TYPES = frozenset({"gpt2", "gptj", "gpt_neox", "opt", "bloom", "falcon", "gpt_bigcode", "phi",
                             "starcoder2"})
#: ``model_type``s whose config class ties the LM head to the embedding when ``tie_word_embeddings`` is
#: absent (transformers' config defaults: GemmaConfig and Gemma2Config ``True``, GPTJConfig,
#: GPTNeoXConfig and PhiConfig ``False``; the plain GPT-style classes and Starcoder2Config inherit
#: PretrainedConfig's ``True``).  Gemma's were counted untied (google/gemma-7b: 9.32 B against its
#: published 8.54 B) and GPT-NeoX's tied.
TIED_BY_DEFAULT = (PLAIN_MLP_TYPES - {"gptj", "gpt_neox", "phi"}) | {"gemma", "gemma2"}
#: ``model_type``s whose config class defaults to multi-query attention (``_kv_heads``).
MULTI_QUERY_TYPES = frozenset({"falcon", "gpt_bigcode"})
#: GPT-2 style default FFN width as a multiple of d_model.
GPT2_DEFAULT_FFN_MULTIPLE = 4


#: Largest value a structural count (layers, widths, heads, experts, vocabulary) may take.
MAX_STRUCTURAL_COUNT = 100_000_000


def _get(cfg: dict[str, Any], where: str, *names: str, default: Any = None, required: bool = True,
         minimum: int = 1) -> Any:
    """A whole-number key (the first present of ``names``), finite and within bounds."""
    for name in names:
        value = cfg.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"'{name}' must be a number, got {value!r}", f"{where}.{name}")
            if not math.isfinite(value) or value != int(value):
                raise InputError(f"'{name}' must be a whole number, got {value!r}", f"{where}.{name}")
            if not minimum <= value <= MAX_STRUCTURAL_COUNT:
                raise InputError(f"'{name}' must be in [{minimum}, {MAX_STRUCTURAL_COUNT:,}], got {value!r}",
                                 f"{where}.{name}")
            return int(value)
    if required and default is None:
        raise InputError(f"missing key (one of: {', '.join(names)})", f"{where}.{names[0]}")
    return default


def _slug_for(path: Path) -> str:
    """The folder's name for ``…/<model>/config.json``, else the file's stem."""
    raw = path.parent.name if path.name == "config.json" else path.stem
    return re.sub(r"[^a-z0-9.]+", "-", raw.lower()).strip("-.")[:64] or "hf-model"


def model_from_hf_config(path: str | Path) -> ModelSpec:
    """Read ``path`` (a config.json file) into a ModelSpec; raises :class:`InputError`."""
    p = Path(path)
    where = str(p)
    raw = read_bounded(p, "config.json", InputError)
    try:
        # NaN/Infinity are read (and then refused by name in _get); duplicate keys are refused here
        cfg = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, or a duplicate key
        raise InputError(f"not valid JSON: {exc}", where) from None
    if not isinstance(cfg, dict):
        raise InputError("config.json must hold a JSON object", where)
    if "text_config" in cfg and isinstance(cfg["text_config"], dict):
        # a multimodal config: its language model is text_config, as vLLM reads it (get_hf_text_config
        # returns the text_config whole); top-level keys only fill what text_config lacks (e.g. torch_dtype)
        cfg = {**{k: v for k, v in cfg.items() if k != "text_config"}, **cfg["text_config"]}
    spec = _spec_from_dict(cfg, where)
    mtime = dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
    try:
        return ModelSpec.model_validate({**spec, "source": f"Hugging Face config {p}", "source_date": mtime})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])  # empty for a check across fields (an MoE's active share)
        raise InputError(first["msg"].removeprefix("Value error, "), f"{where}: {loc}" if loc else where) from None


def _kv_heads(cfg: dict[str, Any], where: str, model_type: str, heads: int) -> int:
    """KV heads: ``num_key_value_heads`` where given (GQA), else as the config class reads them —
    Falcon (``FalconConfig``: ``multi_query = true``, ``new_decoder_architecture = false`` and
    ``num_kv_heads`` = the attention heads by default) has ``num_kv_heads`` in its new decoder
    architecture, one KV head when ``multi_query``, else MHA; GPT-BigCode (``GPTBigCodeConfig``:
    ``multi_query = true`` by default, StarCoder) one KV head when ``multi_query``; any other model MHA.
    Until 2026-12-07 only ``num_key_value_heads`` was read: Falcon-7B (71 heads, multi-query) counted
    8.22 B parameters and a KV cache 71 times its size, against 6.92 B and one head."""
    if "num_key_value_heads" in cfg or model_type not in MULTI_QUERY_TYPES:
        return int(_get(cfg, where, "num_key_value_heads", default=heads, required=False))
    flags = {key: cfg.get(key, default)
             for key, default in (("multi_query", True), ("new_decoder_architecture", False))}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise InputError(f"{key} must be true or false, got a {type(flag).__name__}", where)
    if model_type == "falcon" and flags["new_decoder_architecture"]:
        return int(_get(cfg, where, "num_kv_heads", default=heads, required=False))
    return 1 if flags["multi_query"] else heads


def _spec_from_dict(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    model_type = str(cfg.get("model_type", "")).lower()
    layers = int(_get(cfg, where, "num_hidden_layers", "n_layer"))
    d = int(_get(cfg, where, "hidden_size", "n_embd", "d_model"))
    heads = int(_get(cfg, where, "num_attention_heads", "n_head"))
    kv_heads = _kv_heads(cfg, where, model_type, heads)
    vocab = int(_get(cfg, where, "vocab_size"))
    tied = cfg.get("tie_word_embeddings", model_type in TIED_BY_DEFAULT)
    if not isinstance(tied, bool):  # "false" (a string) must not read as true
        raise InputError(f"tie_word_embeddings must be true or false, got a {type(tied).__name__}", where)
    max_ctx = int(_get(cfg, where, "max_position_embeddings", "n_positions", "seq_length", default=2048, required=False))
    gated = model_type not in PLAIN_MLP_TYPES
    mlp_mats = GATED_MLP_MATRICES if gated else PLAIN_MLP_MATRICES
    ffn = int(_get(cfg, where, "intermediate_size", "n_inner", "ffn_dim", default=GPT2_DEFAULT_FFN_MULTIPLE * d, required=False))

    attn, head_dim, kv_heads, kv_latent, kv_latent_rope = _attention(cfg, where, d, heads, kv_heads)
    total_mlp, active_mlp, experts, top_k, ffn_out = _mlp(cfg, where, layers, d, ffn, mlp_mats)
    embed = vocab * d * (1 if tied else 2)
    total = layers * attn + total_mlp + embed
    active = layers * attn + active_mlp + embed
    return {
        "slug": _slug_for(Path(where)),
        "name": str(cfg.get("_name_or_path") or Path(where).parent.name or "Hugging Face model"),
        "params_total": float(total),
        "params_active": float(active),
        "layers": layers,
        "d_model": d,
        "attention_heads": heads,
        "kv_heads": kv_heads,
        "head_dim": head_dim,
        "ffn_dim": ffn_out,
        "vocab_size": vocab,
        "tied_embeddings": tied,
        "gated_mlp": gated,
        "experts": experts,
        "experts_per_token": top_k,
        "kv_latent_dim": kv_latent,
        "kv_latent_rope_dim": kv_latent_rope,
        "max_context_tokens": max_ctx,  # as given (it was raised to 128, so 110 tokens passed a 64-token model)
    }


def _attention(cfg: dict[str, Any], where: str, d: int, heads: int,
               kv_heads: int) -> tuple[int, int, int, int | None, int | None]:
    """Attention parameters per layer, head dim, KV heads and (MLA) the latent and its RoPE part:
    DeepSeek's multi-head latent attention when ``kv_lora_rank`` is set, else (grouped-query) MHA."""
    kv_lora = _get(cfg, where, "kv_lora_rank", default=None, required=False) if cfg.get("kv_lora_rank") else None
    if not kv_lora:
        head_dim = int(_get(cfg, where, "head_dim", default=d // heads, required=False))
        return d * heads * head_dim + 2 * d * kv_heads * head_dim + heads * head_dim * d, head_dim, kv_heads, None, None
    # DeepSeek MLA (its keys checked like every other: numbers, in range)
    rope = int(_get(cfg, where, "qk_rope_head_dim"))
    nope = int(_get(cfg, where, "qk_nope_head_dim"))
    v_head = int(_get(cfg, where, "v_head_dim"))
    q_lora = _get(cfg, where, "q_lora_rank", default=None, required=False) if cfg.get("q_lora_rank") else None
    head_dim = nope + rope
    q_params = (d * int(q_lora) + int(q_lora) * heads * head_dim) if q_lora else d * heads * head_dim
    kv_params = d * (int(kv_lora) + rope) + int(kv_lora) * heads * (nope + v_head)
    return q_params + kv_params + heads * v_head * d, head_dim, heads, int(kv_lora) + rope, rope


def _mlp(cfg: dict[str, Any], where: str, layers: int, d: int, ffn: int,
         mlp_mats: int) -> tuple[int, int, int, int, int]:
    """MLP parameters of all layers (total, active per token), experts, experts per token and the
    FFN width reported (the expert width for MoE)."""
    experts = int(_get(cfg, where, "n_routed_experts", "num_local_experts", "num_experts", default=1, required=False))
    dense_mlp = mlp_mats * d * ffn
    if experts <= 1:
        return layers * dense_mlp, layers * dense_mlp, experts, 1, ffn
    top_k = int(_get(cfg, where, "num_experts_per_tok", default=1, required=False))
    expert_ffn = int(_get(cfg, where, "moe_intermediate_size", default=ffn, required=False))
    shared = int(_get(cfg, where, "n_shared_experts", default=0, required=False, minimum=0)) * mlp_mats * d * expert_ffn
    shared += mlp_mats * d * int(_get(cfg, where, "shared_expert_intermediate_size", default=0, required=False,
                                      minimum=0))
    first_dense = int(_get(cfg, where, "first_k_dense_replace", default=0, required=False, minimum=0))
    if first_dense > layers:
        raise InputError(f"{first_dense} dense layers but only {layers} layers", f"{where}.first_k_dense_replace")
    if top_k > experts:
        raise InputError(f"{top_k} experts per token but only {experts} experts", f"{where}.num_experts_per_tok")
    one_expert = mlp_mats * d * expert_ffn
    router = d * experts
    moe_layers = layers - first_dense
    total_mlp = first_dense * dense_mlp + moe_layers * (experts * one_expert + shared + router)
    active_mlp = first_dense * dense_mlp + moe_layers * (top_k * one_expert + shared + router)
    return total_mlp, active_mlp, experts, top_k, expert_ffn
