"""Time slices: the quantised load-duration curve, per-class peaks and volumes, and the catalog shapes."""

from __future__ import annotations

import numpy as np
import pytest

from planner.economics.slices import (
    _group_sorted,
    needs_slices,
    slice_keep_probability,
    time_slices,
)
from planner.errors import ScenarioError
from planner.scenario.schema import Horizon, Workload

DAY = [1.0] * 24


def workload(name: str = "chat", **over: object) -> Workload:
    data: dict[str, object] = {"name": name, "queries_per_day": 1e6, "input_tokens": 500, "output_tokens": 200,
                               "ttft_ms": 1000, "tpot_ms": 50, **over}
    return Workload.model_validate(data)


def test_no_profile_is_one_slice_at_peak_to_average() -> None:
    sl = time_slices([workload()], Horizon(peak_to_average=2.5), 4, {})
    assert sl.count == 1 and sl.hours.tolist() == [24.0]
    assert sl.peak.tolist() == [[2.5]] and sl.volume.tolist() == [[1.0]]
    assert not sl.shaped


def test_a_flat_profile_is_one_slice() -> None:
    sl = time_slices([workload(profile=[3.0] * 24)], Horizon(), 4, {})
    assert sl.count == 1
    assert sl.peak.tolist() == [[1.0]] and sl.volume.tolist() == [[1.0]]


def test_two_level_day_is_two_slices_with_peak_and_volume_by_hand() -> None:
    weights = [1.0] * 8 + [3.0] * 8 + [2.0] * 8  # mean 2: relative 0.5 / 1.5 / 1.0
    sl = time_slices([workload(profile=weights)], Horizon(), 2, {})
    assert sl.count == 2
    # busiest group first: the 1.5 hours alone idle nothing at the top; 1.0 and 0.5 share a slice
    # (idle 8 × 0.5 = 4 load-hours) rather than 1.5 with 1.0 (idle 8 × 0.5 too, but then 0.5 is alone:
    # tie broken by the dynamic programme's first minimum)
    assert sorted(sl.hours.tolist()) == [8.0, 16.0]
    assert sl.hours.sum() == 24
    np.testing.assert_allclose(sl.volume.sum(axis=1), 1.0)
    top = int(np.argmax(sl.peak[0]))
    assert sl.peak[0, top] == pytest.approx(1.5)


def test_group_sorted_minimises_idle_capacity() -> None:
    load = np.array([10.0, 9.0, 2.0, 1.0])
    assert _group_sorted(load, 2) == [0, 2]  # {10, 9} idle 1, {2, 1} idle 1
    assert _group_sorted(load, 4) == [0, 1, 2, 3]
    assert _group_sorted(np.array([5.0, 5.0, 5.0]), 3) == [0]  # the fewest groups reaching zero idle


def test_volume_and_peak_per_class_over_four_slices() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.uniform(0.2, 2.0, 24).tolist(), rng.uniform(0.2, 2.0, 24).tolist()
    sl = time_slices([workload("a", profile=a), workload("b", profile=b)], Horizon(), 4, {})
    assert sl.count <= 4 and sl.hours.sum() == 24
    np.testing.assert_allclose(sl.volume.sum(axis=1), 1.0)
    for c, w in enumerate((a, b)):
        rel = np.array(w) / np.mean(w)
        for s in range(sl.count):
            hours = sl.hour_slice == s
            assert sl.peak[c, s] == pytest.approx(rel[hours].max())
            assert sl.volume[c, s] == pytest.approx(rel[hours].sum() / 24)


def test_weekly_profile_tiles_daily_classes() -> None:
    week = ([1.0] * 24) * 5 + ([0.2] * 24) * 2
    sl = time_slices([workload("a", profile=week), workload("b", profile=DAY)], Horizon(), 3, {})
    assert sl.cycle_hours == 168 and sl.hours.sum() == 168
    assert sl.weights.shape == (2, 168)
    assert "Mon" in sl.labels[0] or "Sat" in sl.labels[-1]


def test_named_catalog_shape_and_unknown_name(catalog) -> None:  # type: ignore[no-untyped-def]
    name = min(catalog.load_shapes)
    sl = time_slices([workload(profile=name)], Horizon(), 4, catalog.load_shapes)
    rel = np.array(catalog.load_shapes[name].weights) / np.mean(catalog.load_shapes[name].weights)
    assert sl.peak[0].max() == pytest.approx(rel.max())
    with pytest.raises(ScenarioError) as err:
        time_slices([workload(profile="no-such-shape")], Horizon(), 4, catalog.load_shapes)
    assert err.value.field == "workload[chat].profile"


def test_every_catalog_shape_has_mean_one_and_a_source(catalog) -> None:  # type: ignore[no-untyped-def]
    assert catalog.load_shapes
    for row in catalog.load_shapes.values():
        assert np.mean(row.weights) == pytest.approx(1.0, abs=5e-3)
        assert row.source and row.note


def test_needs_slices() -> None:
    assert not needs_slices([workload()], ["on-demand"])
    assert needs_slices([workload(profile=DAY)], ["on-demand"])
    assert needs_slices([workload(deadline_hours=24)], ["on-demand"])
    assert needs_slices([workload()], ["spot"])


def test_keep_probability() -> None:
    np.testing.assert_allclose(slice_keep_probability(0.0, np.array([6.0])), [1.0])
    np.testing.assert_allclose(slice_keep_probability(1.0, np.array([6.0])), [0.0])
    np.testing.assert_allclose(slice_keep_probability(0.1, np.array([2.0])), [0.81])
