"""The sweep chart: format from the suffix, log axis for log sweeps, a clear refusal with nothing to draw."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.insight.sweeps import MonteCarloSummary, SweepResult
from planner.report import sweep_view


def _result(costs: list[float | None], xs: list[float]) -> SweepResult:
    rows = [{"index": i, "inputs": {"market.price_scale": x}, "status": "optimal" if c else "infeasible",
             "lifetime_cost_usd": c, "variant": "quantization:fp8" if c else None}
            for i, (c, x) in enumerate(zip(costs, xs, strict=True))]
    return SweepResult(rows=rows)


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_the_suffix_chooses_the_format(tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = tmp_path / f"chart{suffix.upper()}"
    sweep_view.plot(_result([1e6, 2e6], [1.0, 2.0]), str(path))
    assert path.read_bytes().startswith(magic)


def test_a_re_run_writes_the_same_bytes(tmp_path: Path) -> None:
    for name in ("a.pdf", "b.pdf"):
        sweep_view.plot(_result([1e6, 2e6], [1.0, 2.0]), str(tmp_path / name))
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.svg.txt"])
def test_another_suffix_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="--plot: must end in .svg, .png, .pdf"):
        sweep_view.plot(_result([1e6], [1.0]), str(tmp_path / name))
    assert not (tmp_path / name).exists()


def test_a_log_sweep_is_drawn_on_a_log_axis() -> None:
    narrow = _result([1e6, 2e6, 3e6], [1.0, 2.0, 4.0])  # spans 4x: the old heuristic drew it linear
    assert sweep_view.figure(narrow, log_x=True).axes[0].get_xscale() == "log"
    assert sweep_view.figure(narrow, log_x=False).axes[0].get_xscale() == "linear"
    assert sweep_view.figure(narrow).axes[0].get_xscale() == "linear"
    wide = _result([1e6, 2e6], [1.0, 1e4])
    assert sweep_view.figure(wide).axes[0].get_xscale() == "log"


def test_nothing_to_draw_is_a_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(sweep_view.NothingToPlot, match=r"no point of the sweep has a plan \(2 infeasible\)"):
        sweep_view.plot(_result([None, None], [1.0, 2.0]), str(tmp_path / "c.svg"))
    assert not (tmp_path / "c.svg").exists()


def _grid(points: list[tuple[float, float, float | None]]) -> SweepResult:
    rows = [{"index": i, "inputs": {"market.price_scale": x, "workload.chat.queries_per_day": q},
             "status": "optimal" if c else "infeasible", "lifetime_cost_usd": c, "variant": "fp8" if c else None}
            for i, (x, q, c) in enumerate(points)]
    return SweepResult(rows=rows)


def test_a_two_input_grid_draws_one_line_per_value_of_the_other_input() -> None:
    """Price 1 and 2 at demand 1e6 and 4e6: two lines of two points each, labelled by the demand, each in
    price order (it was one saw-tooth through all four); the costs print whole (no offset)."""
    ax = sweep_view.figure(_grid([(2.0, 1e6, 3e6), (1.0, 4e6, 5e6), (1.0, 1e6, 2e6), (2.0, 4e6, 7e6)])).axes[0]
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}
    assert lines == {"workload.chat.queries_per_day=1e+06": ([1.0, 2.0], [2.0, 3.0]),
                     "workload.chat.queries_per_day=4e+06": ([1.0, 2.0], [5.0, 7.0])}
    assert not ax.yaxis.get_major_formatter().get_useOffset()


def test_monte_carlo_draws_are_points_and_points_without_a_plan_are_marked() -> None:
    """Draws are not joined (each moves every uncertain input); a point without a plan is an ``x`` at the
    lowest cost drawn, labelled "no plan", not left out."""
    draws = _result([2e6, 1e6, None], [1.2, 0.8, 1.0]).model_copy(update={"monte_carlo": MonteCarloSummary(
        samples=3, nominal_variant="fp8", nominal_variant_cost_percentiles_usd={}, decision_stability={}, failed=0)})
    ax = sweep_view.figure(draws).axes[0]
    [points, unplanned] = ax.get_lines()
    assert points.get_linestyle() == "None" and list(points.get_xdata()) == [0.8, 1.2]
    assert unplanned.get_marker() == "x" and unplanned.get_label().startswith("no plan")
    assert (list(unplanned.get_xdata()), list(unplanned.get_ydata())) == ([1.0], [1.0])
    joined = sweep_view.figure(_result([2e6, 1e6], [1.2, 0.8])).axes[0].get_lines()[0]
    assert joined.get_linestyle() == "-" and list(joined.get_xdata()) == [0.8, 1.2]


def test_the_summary_says_no_plan_for_samples_without_one() -> None:
    """A sample without a plan counts under its status: "no plan in 25% of samples (infeasible)", not
    "optimal in 25% of samples: infeasible"."""
    summary = MonteCarloSummary(samples=4, nominal_variant="fp8", nominal_variant_cost_percentiles_usd={},
                                decision_stability={"fp8": 0.75, "infeasible": 0.25}, failed=0)
    text = sweep_view.text(SweepResult(rows=[], monte_carlo=summary))
    assert "  optimal in 75% of samples: fp8" in text and "  no plan in 25% of samples (infeasible)" in text
    assert "samples: infeasible" not in text
