"""One-time compute: 6·N·D, distillation, GPU-hours and price."""

from __future__ import annotations

import pytest

import planner
from planner.errors import InputError
from planner.physics.training import distillation_flops, gpu_hours, training_flops


def test_moe_training_scales_with_active_parameters(catalog) -> None:  # type: ignore[no-untyped-def]
    moe = planner.training_cost(model="deepseek-v3", tokens=1e12, hardware="h100-sxm", catalog=catalog)
    assert moe.flops == pytest.approx(6 * catalog.models["deepseek-v3"].params_active * 1e12)
    by_params = planner.training_cost(params=671e9, active_params=37e9, tokens=1e12, hardware="h100-sxm",
                                      catalog=catalog)
    assert by_params.flops == pytest.approx(6 * 37e9 * 1e12)


def test_gpu_hours_and_cost(catalog) -> None:  # type: ignore[no-untyped-def]
    t = planner.training_cost(params=1e9, tokens=1e9, hardware="h100-sxm", mfu=0.5, catalog=catalog)
    hours = 6e18 / (989.4e12 * 0.5) / 3600
    assert t.gpu_hours == pytest.approx(hours)
    price = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour
    assert t.cost_usd == pytest.approx(hours * price)
    assert t.mfu == 0.5


def test_default_mfu_comes_from_the_catalog(catalog) -> None:  # type: ignore[no-untyped-def]
    t = planner.training_cost(params=1e9, tokens=1e9, hardware="a100-80gb", catalog=catalog)
    assert t.mfu == catalog.defaults.training_mfu


def test_distillation_counts_student_training_and_teacher_forward() -> None:
    assert distillation_flops(1e9, 8e9, 70e9) == pytest.approx(1e9 * (6 * 8e9 + 2 * 70e9))
    assert training_flops(1.0, 1.0) == 6.0
    assert gpu_hours(3600e12, 1.0, 1.0) == pytest.approx(1.0)


def test_bad_arguments(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        planner.training_cost(model="llama-2-7b", params=1e9, tokens=1e9, hardware="h100-sxm", catalog=catalog)
    with pytest.raises(InputError):
        planner.training_cost(params=1e9, active_params=2e9, tokens=1e9, hardware="h100-sxm", catalog=catalog)
    with pytest.raises(InputError):
        planner.training_cost(params=1e9, tokens=-1, hardware="h100-sxm", catalog=catalog)
    with pytest.raises(InputError):
        planner.training_cost(params=1e9, tokens=1e9, hardware="h100-sxm", mfu=1.5, catalog=catalog)
