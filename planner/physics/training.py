r"""One-time compute and its price: pre-training, distillation, conversion.

Conventions (both are reported, so a published figure can be compared in its own terms):

* **Model FLOPs** (the planner's convention): training costs ``6·N·D`` FLOPs for ``N``
  parameters (*active* parameters for a mixture of experts) and ``D`` tokens — forward ``2·N·D``
  plus backward ``4·N·D`` (Kaplan et al. 2020).  Distillation costs
  ``D·(6·N_student + 2·N_teacher)``: the student trains, the teacher runs forward only.
* **Hardware time × sustained peak** (the convention of Vaswani et al. 2017, Table 2):
  ``FLOPs = GPUs × seconds × sustained FLOP/s``; :func:`flops_from_gpu_time`.

GPU-hours at a model FLOPs utilisation ``u`` on a GPU with dense peak ``P``:
``hours = FLOPs / (P · u) / 3600``; cost = hours × the hardware's on-demand price.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import ComputeDtype
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.units import (
    FLOPS_PER_TFLOP,
    FORWARD_FLOPS_PER_PARAM_TOKEN,
    SECONDS_PER_HOUR,
    TRAINING_FLOPS_PER_PARAM_TOKEN,
)


def training_flops(params: float, tokens: float) -> float:
    """``6·N·D``.

    >>> training_flops(70e9, 2e12)
    8.4e+23
    """
    return TRAINING_FLOPS_PER_PARAM_TOKEN * params * tokens


def distillation_flops(tokens: float, student_params: float, teacher_params: float) -> float:
    """``D·(6·N_student + 2·N_teacher)``.

    >>> distillation_flops(1e9, 8e9, 70e9)
    1.88e+20
    """
    return tokens * (TRAINING_FLOPS_PER_PARAM_TOKEN * student_params + FORWARD_FLOPS_PER_PARAM_TOKEN * teacher_params)


def flops_from_gpu_time(gpus: float, hours: float, sustained_tflops: float) -> float:
    """Hardware-time convention: ``GPUs × seconds × sustained FLOP/s``.

    >>> round(flops_from_gpu_time(8, 12, 9.5) / 1e18, 2)  # Transformer base, Vaswani et al. 2017
    3.28
    """
    return gpus * hours * SECONDS_PER_HOUR * sustained_tflops * FLOPS_PER_TFLOP


def gpu_hours(flops: float, peak_tflops: float, mfu: float) -> float:
    """GPU-hours to execute ``flops`` at ``mfu`` of a ``peak_tflops`` dense peak."""
    return flops / (peak_tflops * FLOPS_PER_TFLOP * mfu) / SECONDS_PER_HOUR


class TrainingCost(BaseModel):
    """A priced one-time job."""

    model_config = ConfigDict(frozen=True)

    flops: float
    gpu_hours: float
    cost_usd: float | None
    hardware: str
    dtype: ComputeDtype
    peak_tflops: float
    mfu: float
    price_usd_per_gpu_hour: float | None
    price_source: str | None
    params: float
    tokens: float
    note: str
    catalog_overlays: list[str] = []  # overlay files applied over the shipped catalog


def price_training(
    flops: float,
    *,
    hardware: str,
    catalog: Catalog,
    mfu: float | None = None,
    dtype: ComputeDtype = "bf16",
    params: float = 0.0,
    tokens: float = 0.0,
    note: str = "",
) -> TrainingCost:
    """Price ``flops`` of work on ``hardware`` (on-demand rate when the catalog has one)."""
    hw = catalog.get_hardware(hardware, "hardware")
    peak = hw.peak_tflops(dtype)
    if peak is None:
        raise InputError(f"{hw.slug} has no {dtype} tensor-core peak in the catalog", "dtype")
    use_mfu = catalog.defaults.training_mfu if mfu is None else mfu
    if not 0 < use_mfu <= 1:
        raise InputError(f"must be in (0, 1], got {use_mfu}", "mfu")
    hours = gpu_hours(flops, peak, use_mfu)
    price = catalog.price(hw.slug, "on-demand")
    return TrainingCost(
        flops=flops,
        gpu_hours=hours,
        cost_usd=hours * price.usd_per_gpu_hour if price and price.usd_per_gpu_hour else None,
        hardware=hw.slug,
        dtype=dtype,
        peak_tflops=peak,
        mfu=use_mfu,
        price_usd_per_gpu_hour=price.usd_per_gpu_hour if price else None,
        price_source=f"{price.provider}: {price.source} ({price.source_date})" if price else None,
        params=params,
        tokens=tokens,
        note=note,
        catalog_overlays=list(catalog.overlays),
    )

