"""``whatif calibrate``: recovers known factors, refuses unconstrained ones, improves the cases."""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.catalog.schema import EfficiencyRow
from planner.physics.calibrate import calibrate
from planner.physics.validation import shown_not_fitted
from tests.conftest import DATA_DIR

SHAPES = [(128, 128, None), (2048, 128, None), (128, 2048, None), (1000, 1000, None), (500, 200, 1), (4000, 100, 1)]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    lines = []
    for row in rows:
        lines.append("[[case]]")
        for k, v in row.items():
            lines.append(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"')
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _synthetic(catalog, compute: float, memory: float, shapes, metric_for) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    truth = dict(catalog.efficiency)
    truth[("h200", "fp8")] = EfficiencyRow(hardware="h200", precision="fp8", compute=compute, memory=memory,
                                          note="truth", source="test", source_date="2026-01-01")
    true_catalog = dataclasses.replace(catalog, efficiency=truth)
    rows = []
    for i, (inp, out, batch) in enumerate(shapes):
        metric = metric_for(batch)
        est = planner.estimate("llama-3.1-8b", "h200", precision="fp8", batch=batch, input_tokens=inp,
                               output_tokens=out, catalog=true_catalog)
        noise = 1 + 0.02 * (-1) ** i  # ±2 %, deterministic
        row = {"id": f"s{i}", "model": "llama-3.1-8b", "hardware": "h200", "precision": "fp8", "tp": 1,
               "input_tokens": inp, "output_tokens": out, "metric": metric,
               "published": getattr(est, metric) * noise, "source": "synthetic"}
        if batch is not None:
            row["batch"] = batch
        rows.append(row)
    return rows


def test_recovers_known_factors_from_noisy_measurements(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _synthetic(catalog, 0.62, 0.81, SHAPES,
                      lambda b: "decode_step_ms" if b == 1 else "output_tokens_per_s")
    rows += _synthetic(catalog, 0.62, 0.81, [(3000, 10, 1)], lambda b: "prefill_ms")
    result = calibrate(_write(tmp_path / "m.toml", rows), catalog)
    [f] = result.factors
    assert f.compute_fitted and f.memory_fitted
    assert f.compute == pytest.approx(0.62, abs=0.03) and f.memory == pytest.approx(0.81, abs=0.03)
    assert result.median_abs_error_after < 0.03 <= result.median_abs_error_before


def test_refuses_a_factor_the_measurements_do_not_constrain(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    decode_only = _synthetic(catalog, 0.62, 0.81, [(64, 256, 1), (128, 256, 1), (256, 128, 1)],
                             lambda b: "decode_step_ms")
    result = calibrate(_write(tmp_path / "m.toml", decode_only), catalog)
    [f] = result.factors
    assert f.memory_fitted and not f.compute_fitted
    assert f.compute == catalog.efficiency_for("h200", "fp8").compute
    assert "not constrained" in f.note and "compute" in f.note


def test_calibrating_on_the_h100_cases_improves_or_keeps_them(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = tomllib.loads((DATA_DIR / "calibration_cases.toml").read_text())["case"]
    h100 = [c for c in cases if c["hardware"] == "h100-sxm" and "input_tokens" in c and not shown_not_fitted(c)]
    result = calibrate(_write(tmp_path / "h100.toml", h100), catalog)
    # the fit's objective, the sum of squared log errors, never gets worse (the median may move either
    # way by a fraction of a point: it is not what least squares minimises)
    def sq_log(which: str) -> float:
        return sum(math.log(getattr(r, which) / r.measured) ** 2 for r in result.rows)
    assert all(r.before and r.after for r in result.rows)
    assert sq_log("after") <= sq_log("before") + 1e-9


def test_cli_writes_an_overlay_that_catalog_accepts(whatif, catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _synthetic(catalog, 0.55, 0.75, SHAPES, lambda b: "decode_step_ms" if b == 1 else "output_tokens_per_s")
    measurements = _write(tmp_path / "m.toml", rows)
    overlay = tmp_path / "eff.toml"
    r = whatif("calibrate", str(measurements), "-o", str(overlay))
    assert r.code == 0, r.err
    assert whatif("--catalog", str(overlay), "catalog", "validate").code == 0
    assert "median |error|" in r.out
    # the row keeps the engine it was fitted with (the overlay once dropped it: tensorrt-llm by default)
    hardware, precision = rows[0]["hardware"], rows[0]["precision"]
    fitted = planner.load_catalogs([overlay], use_env=False).efficiency_for(hardware, precision)
    assert fitted.engine == catalog.efficiency_for(hardware, precision).engine and f'engine = "{fitted.engine}"' in \
        overlay.read_text()


@pytest.mark.parametrize(("row", "words"), [
    ({"metric": "fits"}, "case[s0].metric: must be one of 'output_tokens_per_s'"), ({"published": -3.0}, "positive number"),
    ({"hardware": "h201"}, "did you mean 'h200'"),
    ({"hardware": "h999"}, "m.toml: case[s0].hardware: unknown hardware"),
    # the estimator's refusals name the file and case (a case that cannot fit once gave "inf%" and an overlay)
    ({"tp": 16}, "m.toml: case[s0].tp:"),
    ({"model": "llama-3.1-70b", "hardware": "a10g", "precision": "bf16", "tp": 1}, "m.toml: case[s0]: does not fit"),
    ({"published": "6500"}, "m.toml: case[s0].published"),
])
def test_bad_measurements_name_the_row(whatif, catalog, tmp_path, row, words) -> None:  # type: ignore[no-untyped-def]
    base = _synthetic(catalog, 0.6, 0.8, SHAPES[:1], lambda b: "output_tokens_per_s")[0]
    r = whatif("calibrate", str(_write(tmp_path / "m.toml", [{**base, **row}])))
    assert r.code == 2 and words in r.err and "Traceback" not in r.err


@pytest.mark.parametrize(("row", "words"), [
    ({"max_batchh": 8}, "m.toml: case[s0].max_batchh: unknown key"),
    ({"tp": 1.5}, "m.toml: case[s0].tp:"),
    ({"input_tokens": None}, "m.toml: case[s0].input_tokens: required field missing"),
])
def test_calibration_input_is_validated_like_a_scenario(whatif, catalog, tmp_path, row, words) -> None:  # type: ignore[no-untyped-def]
    base = _synthetic(catalog, 0.6, 0.8, SHAPES[:1], lambda b: "output_tokens_per_s")[0]
    merged = {k: v for k, v in {**base, **row}.items() if v is not None}
    r = whatif("calibrate", str(_write(tmp_path / "m.toml", [merged])))
    assert r.code == 2 and words in r.err and "Traceback" not in r.err, r.err


def test_an_unknown_table_is_refused(whatif, catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path / "m.toml", _synthetic(catalog, 0.6, 0.8, SHAPES[:1], lambda b: "output_tokens_per_s"))
    path.write_text(path.read_text() + '\n[[training_case]]\nid = "T1"\n')
    r = whatif("calibrate", str(path))
    assert r.code == 2 and "m.toml: training_case: unknown key" in r.err


def test_max_batch_caps_the_batch_of_a_case(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    row = {"id": "capped", "model": "llama-3.1-8b", "hardware": "h200", "precision": "fp8", "tp": 1,
           "input_tokens": 500, "output_tokens": 200, "metric": "output_tokens_per_s", "published": 1000.0,
           "max_batch": 8, "source": "synthetic"}
    capped = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_batch": 8}))
    expected = planner.estimate("llama-3.1-8b", "h200", precision="fp8", input_tokens=500, output_tokens=200,
                                catalog=capped).output_tokens_per_s
    uncapped = planner.estimate("llama-3.1-8b", "h200", precision="fp8", input_tokens=500, output_tokens=200,
                                catalog=catalog).output_tokens_per_s
    result = calibrate(_write(tmp_path / "m.toml", [row]), catalog)
    assert result.rows[0].before == pytest.approx(expected) and expected < uncapped / 2


def test_a_factor_at_its_bound_is_warned(whatif, catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Measurements 3x faster than any factor <= 1 can model: the fit pins at 1.000 and says so."""
    rows = _synthetic(catalog, 1.0, 1.0, SHAPES, lambda b: "decode_step_ms" if b == 1 else "output_tokens_per_s")
    for row in rows:
        row["published"] = row["published"] / 3 if row["metric"] == "decode_step_ms" else row["published"] * 3
    overlay = tmp_path / "eff.toml"
    r = whatif("calibrate", str(_write(tmp_path / "m.toml", rows)), "-o", str(overlay))
    assert r.code == 0, r.err
    assert "whatif: warning: h200 fp8: the fitted memory factor 1.000 sits at its upper bound" in r.err
    assert "median |error| left" in r.err
    assert "# warning: h200 fp8: the fitted memory factor 1.000" in overlay.read_text()


def test_the_example_ships_and_calibrates(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["planner"]
    assert any(fnmatch.fnmatch("data/calibration-example.toml", p) for p in patterns), "not in the wheel"
    example = whatif("calibrate", "--example")
    assert example.code == 0 and "[[case]]" in example.out
    path = tmp_path / "example.toml"
    path.write_text(example.out)
    r = whatif("calibrate", str(path))
    assert r.code == 0, r.err
    assert "median |error|" in r.out


def test_a_factor_kept_from_the_catalog_has_the_other_fitted_beside_it(catalog, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A prediction that moves a little with compute (under 2 % for ±20 %, so compute is "not
    constrained") and in inverse proportion to memory, ``P(c, m) = K (1 + c/20) / m``, measured as it
    is at the catalog's compute c₀ = 0.63 and memory 0.6123.  Every (c, m) on the line
    ``m = 0.6123 (1 + c/20) / (1 + c₀/20)`` meets it, and the descent ends on it at compute 0.215,
    memory 0.600.  Compute is kept at c₀, so memory must be the fine-grid point that fits beside c₀:
    0.610 (0.6123 is 0.0023 from it, 0.0027 from 0.615), error 0.6123/0.610 − 1 = 0.38 %.  The pair
    fitted beside the moved compute kept memory 0.600: error 0.6123/0.600 − 1 = 2.05 %."""
    from planner.physics import calibrate as module

    c0 = catalog.efficiency_for("h200", "fp8").compute
    assert c0 == 0.63

    def fake(row: dict[str, Any], cat: Any, base: Path) -> float:
        f = cat.efficiency_for(row["hardware"], row["precision"])
        return 100.0 * (1 + f.compute / 20) / f.memory

    monkeypatch.setattr(module, "_predict", fake)
    monkeypatch.setattr(module, "_check_case", lambda *args: None)
    row = {"id": "d1", "model": "llama-3.1-8b", "hardware": "h200", "precision": "fp8", "tp": 1, "batch": 1,
           "input_tokens": 500, "output_tokens": 200, "metric": "decode_step_ms",
           "published": 100.0 * (1 + c0 / 20) / 0.6123, "source": "synthetic"}
    result = calibrate(_write(tmp_path / "m.toml", [row]), catalog)
    [f] = result.factors
    assert not f.compute_fitted and f.compute == c0 and f.memory_fitted
    assert f.memory == pytest.approx(0.610)
    assert result.median_abs_error_after == pytest.approx(0.6123 / 0.610 - 1, rel=1e-6)
