"""Pydantic models of catalog rows, with plausibility bounds on every number.

Every row carries ``source`` and ``source_date``; a row without them fails to load
(``CatalogError``).  Field names carry their unit.  These models are the single
definition of each catalog file's schema: ``catalogs/README.md`` documents them and
``tests/catalog/test_shipped.py`` checks that every field here is documented there.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.scenario.schema import AcquisitionMode
from planner.units import BYTES_PER_GB, BYTES_PER_MIB

SLUG_PATTERN = r"^[a-z0-9][a-z0-9.\-]*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64)]
ProviderId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)]

#: Precision families that select a hardware peak (a hardware row lists a peak per family it supports).
ComputeDtype = Literal["bf16", "fp16", "fp8", "int8", "fp4"]


class Row(BaseModel):
    """Common base: strict types, no unknown keys, finite numbers, provenance required."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    source: Annotated[str, Field(min_length=3, description="where the numbers of this row were read")]
    source_date: Annotated[str, Field(description="YYYY-MM-DD: date of the source, or when it was read")]

    @field_validator("source")
    @classmethod
    def _says_something(cls, value: str) -> str:
        if len(value.strip()) < 3:  # "   " passed min_length
            raise ValueError("must say where the numbers were read (it is blank)")
        return value

    @field_validator("source_date")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a YYYY-MM-DD date") from exc
        return value


class HardwareSpec(Row):
    """One accelerator type (per GPU/chip figures, dense tensor throughput)."""

    slug: Slug
    name: str
    vendor: Literal["nvidia", "amd", "intel", "google"]
    memory_gb: Annotated[float, Field(gt=1, le=2_000, description="the vendor's capacity figure, as marketed")]
    memory_mib: Annotated[float | None, Field(gt=1_000, le=2_000_000, description=(
        "total memory as nvidia-smi / rocm-smi reports it, in MiB (2^20 bytes); when given it is the "
        "capacity the estimator uses (an '80 GB' H100 reports 81,559 MiB = 85.5e9 bytes), else memory_gb x 1e9"))] = None
    memory_bandwidth_gb_s: Annotated[float, Field(gt=10, le=50_000)]
    peak_bf16_dense_tflops: Annotated[float, Field(gt=1, le=20_000)]
    peak_fp8_dense_tflops: Annotated[float | None, Field(gt=1, le=40_000)] = None
    peak_int8_dense_tops: Annotated[float | None, Field(gt=1, le=40_000)] = None
    peak_fp4_dense_tflops: Annotated[float | None, Field(gt=1, le=80_000)] = None
    board_power_w: Annotated[float | None, Field(gt=10, le=5_000)] = None
    scaleup_bandwidth_gb_s: Annotated[
        float, Field(gt=1, le=20_000, description="per-GPU scale-up bandwidth, bidirectional total")
    ]
    scaleup_link: str
    scaleup_domain_gpus: Annotated[int, Field(ge=1, le=1024)]

    @property
    def memory_bytes(self) -> float:
        """Capacity in bytes: the reported MiB when the catalog has them (binary), else the decimal GB."""
        return self.memory_mib * BYTES_PER_MIB if self.memory_mib is not None else self.memory_gb * BYTES_PER_GB

    def peak_tflops(self, dtype: ComputeDtype) -> float | None:
        """Dense peak for a compute dtype, or None when the chip has no tensor cores for it."""
        return {
            "bf16": self.peak_bf16_dense_tflops,
            "fp16": self.peak_bf16_dense_tflops,
            "fp8": self.peak_fp8_dense_tflops,
            "int8": self.peak_int8_dense_tops,
            "fp4": self.peak_fp4_dense_tflops,
        }[dtype]


class PriceRow(Row):
    """A price for one hardware type, acquisition mode and provider.

    ``provider`` is an id (``aws``, ``lambda``, ``nvidia-msrp``, …) that ``market.providers`` names;
    ``provider_kind`` selects which published commitment discount applies when a provider publishes
    no reserved price of its own (a discount is taken from the same kind of provider).  A ``buy``
    row prices the card (``includes = "card"``, the default: server and network shares are added
    from the platform row and the defaults) or a whole server per GPU (``includes = "server"``:
    only the network share is added).
    """

    hardware: Slug
    mode: AcquisitionMode
    usd_per_gpu_hour: Annotated[float | None, Field(gt=0, le=200)] = None
    usd_per_gpu: Annotated[float | None, Field(gt=100, le=2_000_000)] = None
    provider: ProviderId
    provider_kind: Literal["hyperscaler", "neocloud", "vendor"]
    region: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    includes: Literal["card", "server"] = "card"

    @model_validator(mode="after")
    def _one_price_for_the_mode(self) -> PriceRow:
        if self.mode == "buy":
            if self.usd_per_gpu is None or self.usd_per_gpu_hour is not None:
                raise ValueError("mode 'buy' needs usd_per_gpu (and no usd_per_gpu_hour)")
        elif self.usd_per_gpu_hour is None or self.usd_per_gpu is not None:
            raise ValueError(f"mode '{self.mode}' needs usd_per_gpu_hour (and no usd_per_gpu)")
        if self.mode != "buy" and self.includes != "card":
            raise ValueError("includes applies to buy rows only")
        return self


class PlatformRow(Row):
    """The server an owned GPU is deployed in: how many GPUs it holds and what it draws.

    Server power per GPU (``server_power_kw / gpus_per_server``) is what energy (at the average
    draw) and colocation (contracted kW) are charged on — not the board power.
    ``server_overhead_fraction`` (optional) is this platform's own server cost over the card
    price; without it the catalog default applies.
    """

    hardware: Slug
    name: str
    gpus_per_server: Annotated[int, Field(ge=1, le=1024)]
    server_power_kw: Annotated[float, Field(gt=0.05, le=500)]
    server_overhead_fraction: Annotated[float | None, Field(ge=0, le=10)] = None


class LinkRow(Row):
    """An interconnect a KV cache or an expert-parallel all-to-all crosses (per GPU, one direction).

    It joins two hardware types when both vendors are in ``vendors`` (and both slugs in ``hardware``
    when that list is given); ``same_hardware_only`` links (NVLink, PCIe peer-to-peer) join GPUs of
    one server board, hence of one type.  ``latency_us`` is the fixed cost of one transfer or
    collective; without it the default ``allreduce_latency_us`` applies.
    """

    slug: Slug
    name: str
    kind: Literal["nvlink", "infiniband", "roce", "pcie", "xgmi"]
    scope: Literal["intra-node", "inter-node"]
    bandwidth_gb_s_per_direction: Annotated[float, Field(gt=0.1, le=10_000, description=(
        "per-GPU bandwidth in one direction, GB/s (a 400 Gb/s NIC per GPU = 50)"))]
    latency_us: Annotated[float | None, Field(gt=0, le=10_000)] = None
    vendors: Annotated[list[Literal["nvidia", "amd", "intel", "google"]], Field(min_length=1)]
    hardware: Annotated[list[Slug] | None, Field(min_length=1)] = None
    same_hardware_only: bool

    @model_validator(mode="after")
    def _one_type_within_a_server(self) -> LinkRow:
        """An intra-node link joins GPUs of one server board, hence of one type: the scale-up domain
        pairs (their servers, their idle GPUs) are built on that assumption."""
        if self.scope == "intra-node" and not self.same_hardware_only:
            raise ValueError("an intra-node link joins GPUs of one server, hence of one type: "
                             "set same_hardware_only = true (or scope = \"inter-node\")")
        return self

    def joins(self, a: HardwareSpec, b: HardwareSpec) -> bool:
        """Whether this link can carry traffic between a GPU of type ``a`` and one of type ``b``."""
        for hw in (a, b):
            if hw.vendor not in self.vendors or (self.hardware is not None and hw.slug not in self.hardware):
                return False
        return not (self.same_hardware_only and a.slug != b.slug)


class LoadShapeRow(Row):
    """A named daily (24 hourly weights) or weekly (168) load shape, relative (any scale; read as
    ``w_h / mean(w)``), hour 0 at 00:00 on ``timezone``'s clock.  A workload names it in ``profile``."""

    name: Slug
    weights: Annotated[list[Annotated[float, Field(ge=0, le=1e6)]], Field(min_length=24, max_length=168)]
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    note: str = ""

    @field_validator("weights")
    @classmethod
    def _cycle(cls, value: list[float]) -> list[float]:
        if len(value) not in (24, 168):
            raise ValueError(f"needs 24 hourly weights (or 168 for a week), got {len(value)}")
        if not any(v > 0 for v in value):
            raise ValueError("every weight is 0")
        return value


class ModelSpec(Row):
    """A model architecture: enough to count FLOPs, bytes and KV cache per token."""

    slug: Slug
    name: str
    params_total: Annotated[float, Field(gt=1e6, le=1e14)]
    params_active: Annotated[float, Field(gt=1e6, le=1e14)]
    layers: Annotated[int, Field(ge=1, le=1_000)]
    d_model: Annotated[int, Field(ge=16, le=131_072)]
    attention_heads: Annotated[int, Field(ge=1, le=4_096)]
    kv_heads: Annotated[int, Field(ge=1, le=4_096)]
    head_dim: Annotated[int, Field(ge=1, le=4_096)]
    ffn_dim: Annotated[int, Field(ge=1, le=1_048_576)]
    vocab_size: Annotated[int, Field(ge=2, le=10_000_000)]
    tied_embeddings: bool = False
    gated_mlp: Annotated[bool, Field(description=(
        "Whether each MLP has three matrices (gate, up, down: SwiGLU/GeGLU as in Llama, Mixtral, DeepSeek) "
        "or two (up, down: GPT-J, OPT, GPT-2, GPT-NeoX, BLOOM, Falcon); up-cycling to experts copies it"))] = True
    experts: Annotated[int, Field(ge=1, le=4_096)] = 1
    experts_per_token: Annotated[int, Field(ge=1, le=4_096)] = 1
    kv_latent_dim: Annotated[
        int | None, Field(ge=1, le=65_536, description="MLA: KV elements cached per token per layer")
    ] = None
    kv_latent_rope_dim: Annotated[
        int | None, Field(ge=0, le=65_536, description=(
            "MLA: the decoupled RoPE key part d_r of kv_latent_dim (the rest, d_c, is what absorbed "
            "attention reads values from); 0 when absent"))
    ] = None
    max_context_tokens: Annotated[int, Field(ge=1, le=100_000_000)]
    training_tokens: Annotated[float | None, Field(gt=0, le=1e16)] = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.params_active > self.params_total:
            raise ValueError("params_active exceeds params_total")
        if self.kv_heads > self.attention_heads:
            raise ValueError("kv_heads exceeds attention_heads")
        if self.experts_per_token > self.experts:
            raise ValueError("experts_per_token exceeds experts")
        if self.experts == 1 and self.params_active != self.params_total:
            raise ValueError("a dense model (experts = 1) must have params_active == params_total")
        if self.experts > 1 and self.params_active >= self.params_total:
            raise ValueError("an MoE model (experts > 1) must have params_active < params_total")
        if self.kv_latent_rope_dim is not None and (self.kv_latent_dim is None
                                                    or self.kv_latent_rope_dim >= self.kv_latent_dim):
            raise ValueError("kv_latent_rope_dim needs a larger kv_latent_dim")
        return self

    @property
    def is_moe(self) -> bool:
        return self.experts > 1


class QualityRow(Row):
    """A measured quality score of a model on a benchmark."""

    model: Slug
    metric: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
    score: Annotated[float, Field(ge=0, le=100)]
    setting: str


class PrecisionSpec(Row):
    """A serving precision: what is stored (weight bits) and which tensor-core peak computes."""

    slug: Slug
    weight_bits: Annotated[float, Field(ge=1, le=32)]
    compute_dtype: ComputeDtype
    default_kv: Slug
    description: str


class KvPrecisionSpec(Row):
    """A KV-cache storage precision."""

    slug: Slug
    bits: Annotated[float, Field(ge=1, le=32)]


class EfficiencyRow(Row):
    """Achieved fraction of peak, per hardware x precision ('*' = any)."""

    hardware: Annotated[str, Field(pattern=r"^(\*|[a-z0-9][a-z0-9.\-]*)$")]
    precision: Annotated[str, Field(pattern=r"^(\*|[a-z0-9][a-z0-9.\-]*)$")]
    compute: Annotated[float, Field(gt=0.01, le=1.0, description="fraction of dense peak FLOP/s")]
    memory: Annotated[float, Field(gt=0.01, le=1.0, description="fraction of memory bandwidth")]
    note: str
    error_p10: Annotated[float | None, Field(ge=-0.99, le=10.0, description=(
        "held-out speed error of estimates using this row, P10 (predicted / published speed - 1; "
        "benchmarks/fit_efficiency.py, leave-one-source-out)"))] = None
    error_p90: Annotated[float | None, Field(ge=-0.99, le=10.0, description="the same, P90")] = None
    held_out: str | None = None  # how the band was measured (cases, sources)
    engine: Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64, description=(
        "the serving engine of the cases this row was fitted on: the default engine of estimates "
        "using it (catalogs/engines.toml gives other engines' speed relative to it)"))] = "tensorrt-llm"

    @model_validator(mode="after")
    def _band_in_order(self) -> EfficiencyRow:
        if (self.error_p10 is None) != (self.error_p90 is None):
            raise ValueError("error_p10 and error_p90 come together")
        if self.error_p10 is not None and self.error_p90 is not None and self.error_p10 > self.error_p90:
            raise ValueError("error_p10 must not exceed error_p90")
        return self


class EngineRow(Row):
    """Speed of a serving engine on one hardware type relative to another engine (``relative_to``).

    ``speed`` multiplies both efficiency factors (capped at 1) and divides the fixed per-pass
    times of an estimate whose efficiency row was fitted on ``relative_to``; it is the geometric
    mean of published same-hardware pairs (``pairs`` of them), fitted by ``benchmarks/fit_engines.py``.
    """

    engine: Slug
    hardware: Slug
    relative_to: Slug
    speed: Annotated[float, Field(gt=0.05, le=20.0, description="published speed of engine / of relative_to")]
    pairs: Annotated[int, Field(ge=1, le=100_000, description="published same-hardware pairs behind speed")]
    spread: Annotated[float, Field(ge=0, le=10, description="P10..P90 half-width of the pair ratios, relative")]
    note: str


class DefaultRow(Row):
    """One named default value with its unit and how it was set."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    value: float
    unit: str
    note: str


class TechniqueParamRow(Row):
    """A number a technique plug-in uses (a quality retention, a calibration set size, a price, ...)."""

    technique: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    option: Annotated[str, Field(pattern=r"^(\*|[a-z0-9][a-z0-9.\-]*)$")]
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    applies_to: Literal["all", "small", "large"] = "all"
    value: Annotated[float, Field(ge=-1e15, le=1e15)]
    unit: str
    note: str


class CatalogFile(BaseModel):
    """Header every catalog file has."""

    model_config = ConfigDict(extra="allow", strict=True)
    schema_version: Literal[1]

    @field_validator("schema_version", mode="before")
    @classmethod
    def _an_integer(cls, value: object) -> object:
        """``Literal[1]`` accepts ``true`` and ``1.0`` (both equal 1) even in strict mode: refused, as
        the scenario's ``schema_version`` refuses them."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be the integer 1, got {value!r}")
        return value
