"""``whatif sweep`` paper cuts: missing extras named before any work, chart format from the suffix,
log sweeps on a log axis, and an all-infeasible sweep that keeps its rows."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from planner.cli import sweep as sweep_cli
from planner.report import sweep_view

VALID = str(Path(__file__).parents[1] / "corpus" / "valid.toml")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any sweep started fails loudly: the refusal must come before the work."""

    def started(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the sweep ran before the refusal")

    monkeypatch.setattr(sweep_cli, "run_sweep", started)


def test_missing_plot_extra_names_plot_before_any_work(whatif, monkeypatch, no_work, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails and find_spec finds nothing
    result = whatif("sweep", VALID, "--vary", "market.price_scale=1", "--plot", str(tmp_path / "c.svg"))
    assert result.code == 2, result.err
    assert "whatif: error: --plot: needs the [plot] extra" in result.err
    assert "--format html" not in result.err


def test_missing_dask_extra_is_named_before_any_work(whatif, monkeypatch, no_work) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = whatif("sweep", VALID, "--vary", "market.price_scale=1", "--executor", "dask")
    assert result.code == 2 and "--executor dask: needs the [dask] extra" in result.err


def test_a_plot_suffix_without_a_format_is_refused_before_any_work(whatif, no_work, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = whatif("sweep", VALID, "--vary", "market.price_scale=1", "--plot", str(tmp_path / "c.jpg"))
    assert result.code == 2 and "--plot: must end in .svg, .png, .pdf" in result.err


def test_pdf_plot_is_pdf(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = whatif("sweep", VALID, "--vary", "market.price_scale=1,2", "--executor", "inline",
                    "--plot", str(tmp_path / "c.pdf"))
    assert result.code == 0, result.err
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("spec", "log_x"), [("0.5..2:log:3", True), ("0.5..2:3", False)])
def test_a_log_sweep_asks_for_a_log_axis(whatif, monkeypatch, tmp_path, spec: str, log_x: bool) -> None:  # type: ignore[no-untyped-def]
    seen: list[bool | None] = []
    real = sweep_view.plot

    def spy(result: Any, path: str, *, log_x: bool | None = None) -> None:
        seen.append(log_x)
        real(result, path, log_x=log_x)

    monkeypatch.setattr(sweep_view, "plot", spy)
    result = whatif("sweep", VALID, "--vary", f"market.price_scale={spec}", "--executor", "inline",
                    "--plot", str(tmp_path / "c.svg"))
    assert result.code == 0, result.err
    assert seen == [log_x] and (tmp_path / "c.svg").exists()


def test_an_all_infeasible_sweep_prints_its_rows_and_one_clear_line(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chart = tmp_path / "c.svg"
    result = whatif("sweep", VALID, "--vary", "workload.chat.tpot_ms=0.2,0.3", "--executor", "inline",
                    "--plot", str(chart))
    assert result.code == 3, result.err
    assert result.out.count("infeasible") == 2
    line = f"whatif: --plot: no point of the sweep has a plan (2 infeasible): nothing to draw, {chart} not written"
    assert result.err.splitlines() == [line]
    assert not chart.exists()
