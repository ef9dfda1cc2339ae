"""Error bands, calibration groups and memory units of an estimate."""

from __future__ import annotations

import dataclasses
import re

import pytest

import planner
from planner.catalog.schema import EfficiencyRow
from planner.physics.deployment import error_ranges, estimate
from planner.units import BYTES_PER_GB, BYTES_PER_MIB


def _row(**band: float) -> EfficiencyRow:
    return EfficiencyRow(hardware="h100-sxm", precision="*", compute=0.5, memory=0.7, note="test",
                         source="test", source_date="2026-12-04", **band)


def test_error_ranges_by_hand() -> None:
    # speed over-predicted by 10..40 %: the published throughput lies in [x/1.4, x/1.1]
    ranges = error_ranges(_row(error_p10=0.1, error_p90=0.4), 1000.0, 50.0, 20.0)
    assert ranges["output_tokens_per_s_range"] == pytest.approx((1000 / 1.4, 1000 / 1.1))
    assert ranges["ttft_ms_range"] == pytest.approx((55.0, 70.0))
    assert ranges["tpot_ms_range"] == pytest.approx((22.0, 28.0))
    assert error_ranges(_row(), 1000.0, 50.0, 20.0) == {}


def test_a_band_must_come_whole_and_in_order() -> None:
    with pytest.raises(ValueError, match="together"):
        _row(error_p10=0.1)
    with pytest.raises(ValueError, match="exceed"):
        _row(error_p10=0.3, error_p90=0.1)


def test_an_estimate_names_its_calibration_group(catalog) -> None:  # type: ignore[no-untyped-def]
    pooled = dataclasses.replace(catalog, efficiency={k: v for k, v in catalog.efficiency.items() if k == ("*", "*")})
    e = estimate(model="llama-3.1-8b", hardware="l4", precision="bf16", input_tokens=500, output_tokens=200,
                 catalog=pooled)
    assert e.calibration_group == "*/*" and not e.calibrated
    own = {**catalog.efficiency, ("h100-sxm", "*"): _row(error_p10=-0.1, error_p90=0.2)}
    e = estimate(model="llama-3.1-8b", hardware="h100-sxm", precision="fp8", input_tokens=500, output_tokens=200,
                 catalog=dataclasses.replace(catalog, efficiency=own))
    assert e.calibrated and e.calibration_group == "h100-sxm/*"
    assert e.output_tokens_per_s_range is not None
    lo, hi = e.output_tokens_per_s_range
    assert lo < e.output_tokens_per_s < hi


def test_reported_mib_set_the_capacity(catalog) -> None:  # type: ignore[no-untyped-def]
    hw = catalog.hardware["h100-sxm"]
    assert hw.model_copy(update={"memory_mib": None}).memory_bytes == hw.memory_gb * BYTES_PER_GB
    reported = hw.model_copy(update={"memory_mib": 81_559.0})
    assert reported.memory_bytes == 81_559.0 * BYTES_PER_MIB
    small = estimate(model="llama-3.1-70b", hardware="h100-sxm", precision="fp8", tp=1, input_tokens=2000,
                     output_tokens=500, catalog=dataclasses.replace(
                         catalog, hardware={**catalog.hardware, "h100-sxm": hw.model_copy(update={"memory_mib": None})}))
    large = estimate(model="llama-3.1-70b", hardware="h100-sxm", precision="fp8", tp=1, input_tokens=2000,
                     output_tokens=500, catalog=dataclasses.replace(
                         catalog, hardware={**catalog.hardware, "h100-sxm": reported}))
    assert large.max_batch > small.max_batch


def test_a_plan_on_uncalibrated_hardware_says_so(catalog) -> None:  # type: ignore[no-untyped-def]
    pooled = dataclasses.replace(catalog, efficiency={k: v for k, v in catalog.efficiency.items() if k == ("*", "*")})
    plan = planner.plan(planner.load_scenario(planner.demo_scenario_path()), catalog=pooled)
    assert any("uncalibrated" in w for w in plan.warnings)


#: What a P10-P90 band promises: 80 % of held-out cases inside it.
BAND_COVERAGE_PROMISED = 0.80
#: Tolerance on that share: quantiles of groups of 7-40 cases are interpolated, and a group's errors
#: at its own P10/P90 sit on the edge.
BAND_COVERAGE_TOLERANCE = 0.10


def test_held_out_cases_fall_inside_their_band_as_promised(catalog) -> None:  # type: ignore[no-untyped-def]
    """Every case of a row fitted leave-one-source-out, predicted with the row refitted without its
    source (tests/data/calibration/held_out_errors.toml, written by benchmarks/fit_efficiency.py): the
    share inside the shipped row's P10..P90 is what the band promises (80 %), within tolerance; and the
    file is the one the shipped bands were computed from."""
    import tomllib

    import numpy as np

    from planner.physics.validation import load_cases
    from tests.conftest import DATA_DIR

    held = tomllib.loads((DATA_DIR / "calibration" / "held_out_errors.toml").read_text())["held_out"]
    known = {c["id"] for c, _ in load_cases([DATA_DIR / "calibration_cases.toml",
                                            *sorted((DATA_DIR / "calibration").glob("*.toml"))])}
    inside = 0
    rows: dict[str, list[float]] = {}
    for h in held:
        assert h["id"] in known, h["id"]
        rows.setdefault(h["row"], []).append(h["speed_error"])
    assert len(held) >= 50 and len(rows) >= 3
    for key, errors in rows.items():
        hw, prec = key.split("/")
        row = catalog.efficiency[(hw, prec)]
        assert row.held_out is not None and row.held_out.startswith("leave-one-source-out")
        expected = tuple(np.quantile(errors, [0.1, 0.9]))
        if "widened" in row.held_out:  # one model only: at least its pooled row's band (fit_efficiency.py)
            family = re.search(r"band of the pooled row (\S+)/(\S+):", row.held_out)
            assert family is not None, row.held_out
            pooled = catalog.efficiency[family.groups()]
            assert pooled.error_p10 is not None and pooled.error_p90 is not None
            expected = (min(expected[0], pooled.error_p10), max(expected[1], pooled.error_p90))
        assert (row.error_p10, row.error_p90) == pytest.approx(expected, abs=1e-3)
        inside += sum(row.error_p10 - 1e-9 <= e <= row.error_p90 + 1e-9 for e in errors)
    share = inside / len(held)
    assert abs(share - BAND_COVERAGE_PROMISED) <= BAND_COVERAGE_TOLERANCE, share
