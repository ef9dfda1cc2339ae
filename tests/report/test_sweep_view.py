"""The sweep chart: format from the suffix, log axis for log sweeps, a clear refusal with nothing to draw."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.insight.sweeps import SweepResult
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
