"""Hand checks for the command line, output and input helpers a mutation review found unpinned: the
size limits at their exact boundary (file, growing file, stdin), keys named in a duplicate-TOML
message, the unwritable-directory refusal, ``kind`` written once, the order in which catalog
overlays apply, the inputs ``-o`` must never overwrite, the ``--solver`` flag against ``--set``,
``--trace`` with JSON, internal-error exit codes, the argument checks of the public API, and the
sweep, explain and calibrate refusals.  Every expected figure is written out with its arithmetic;
nothing is copied from the code under test.  Only three tiny plans are solved (one class, one
hardware type, every technique off)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.catalog.store import CATALOG_ENV_VAR, Catalog
from planner.errors import InputError, ScenarioError
from planner.inputs import LIMIT_BYTES, MIB, read_bounded, toml_error
from planner.output import to_json
from tests.conftest import CliResult, error_lines

CORPUS = Path(__file__).parents[1] / "corpus"
DATA = Path(__file__).parents[1] / "data"

#: One class on one hardware type for one quarter, every technique off: a plan solves in well under a second.
TINY = """schema_version = 1
name = "tiny"

[model]
base = "llama-3.1-8b"

[[workload]]
name = "chat"
queries_per_day = 100_000
input_tokens = 800
output_tokens = 250
ttft_ms = 800
tpot_ms = 60

[horizon]
months = 3
period_months = 3

[market]
hardware = ["l40s"]
modes = ["on-demand"]

[techniques]
quantization = ["none"]
kv_quantization = ["none"]
distillation = ["none"]
caching = ["none"]
moe = ["none"]
"""


def tiny(tmp_path: Path) -> Path:
    """The tiny scenario as a file in ``tmp_path``."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def bad_input(r: CliResult, *needles: str) -> None:
    """The bad-input contract: exit 2, only ``whatif: error:`` lines, no traceback, nothing on stdout."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err and r.out == ""
    lines = error_lines(r)
    assert lines and all(line.startswith("whatif: error:") for line in lines), r.err
    for needle in needles:
        assert needle in "\n".join(lines), (needle, r.err)


def _refuse(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("work started before the refusal")


# --------------------------------------------------------------------------- bounded inputs


def test_a_file_of_exactly_its_kinds_limit_is_read_one_byte_more_is_not(tmp_path: Path) -> None:
    """"At most 16 MiB": a (sparse) scenario file of 16 × 1,048,576 = 16,777,216 bytes is read whole;
    one of 16,777,217 bytes is refused before it is opened."""
    limit = LIMIT_BYTES["scenario"]
    assert limit == 16 * 1_048_576 == 16_777_216
    exact = tmp_path / "exact.toml"
    with exact.open("wb") as handle:
        handle.truncate(16_777_216)
    assert len(read_bounded(exact, "scenario", ScenarioError)) == 16_777_216
    over = tmp_path / "over.toml"
    with over.open("wb") as handle:
        handle.truncate(16_777_217)
    with pytest.raises(ScenarioError, match="at most 16 MiB"):
        read_bounded(over, "scenario", ScenarioError)


def test_a_file_that_grows_past_the_limit_after_its_size_was_checked_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stat says 10 bytes, but 16 MiB + 1 byte are there when it is read: at most limit + 1 bytes are
    read, and limit + 1 > limit is refused — never a silently truncated 16 MiB prefix."""
    path = tmp_path / "growing.toml"
    with path.open("wb") as handle:
        handle.truncate(16 * MIB + 1)
    real_stat = os.stat

    def small_stat(p: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        st = real_stat(p, *args, **kwargs)
        if Path(p) != path:
            return st
        fields = list(st[:10])
        fields[6] = 10  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", small_stat)
    with pytest.raises(ScenarioError, match="grew past 16 MiB"):
        read_bounded(path, "scenario", ScenarioError)


@pytest.mark.parametrize(("size", "accepted"), [(16 * MIB, True), (16 * MIB + 1, False)])
def test_stdin_of_exactly_the_limit_is_read(monkeypatch: pytest.MonkeyPatch, size: int, accepted: bool) -> None:
    """Standard input is bounded like a file: 16,777,216 bytes are accepted, 16,777,217 refused."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"#" * size)))
    if accepted:
        assert len(read_bounded("-", "scenario", ScenarioError)) == size
    else:
        with pytest.raises(ScenarioError, match="stdin"):
            read_bounded("-", "scenario", ScenarioError)


def _toml_message(text: str) -> tuple[str, str]:
    """(tomllib's own message, the message the planner prints) for a text that fails to parse."""
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    return str(info.value), toml_error(info.value, text)


def test_a_duplicate_header_is_named_once_not_under_the_table_before_it() -> None:
    """``[a]`` holds ``b = 1``; line 3 declares ``[a.b]``: the key defined twice is ``a.b`` (the header
    names its whole path) — not ``a.a.b`` (the header under the table before it)."""
    assert _toml_message("[a]\nb = 1\n[a.b]\n")[1] == "key 'a.b' defined twice (line 3)"


def test_a_duplicate_whose_value_is_a_nested_table_names_no_wrong_key() -> None:
    """Line 2 redefines ``a`` with ``{b = {c, d}}``: the leaf below ``a`` is not one key, so no key is
    named (tomllib's message is kept) — naming ``a.b`` would be wrong, ``a.b`` was defined once."""
    own, shown = _toml_message("a = 1\na = {b = {c = 1, d = 2}}\n")
    assert shown == own and "a.b" not in shown


# --------------------------------------------------------------------------- outputs


def test_an_unwritable_output_directory_is_refused_before_any_work(
        whatif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A directory the user may not write (``os.access(dir, W_OK)`` false — root could write it
    anyway, so the check is faked) is refused with exit 2 naming ``-o``; nothing is written."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if Path(p) == tmp_path and mode == os.W_OK
                        else real_access(p, mode, *a, **k))
    monkeypatch.setattr(planner.api, "estimate", _refuse)
    r = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "10",
               "--output-tokens", "10", "-o", str(tmp_path / "est.json"))
    bad_input(r, "-o", "is not writable")
    assert list(tmp_path.iterdir()) == []


def test_a_result_with_its_own_kind_says_it_once() -> None:
    """A calibration carries ``kind = "calibration"`` itself: its JSON has the key once (a second,
    added ``"kind"`` line would make a document with a duplicate key), second after ``schema_version``."""
    from planner.physics.calibrate import Calibration

    text = to_json(Calibration(factors=[], rows=[], median_abs_error_before=0.1, median_abs_error_after=0.05))
    assert text.count('"kind"') == 1 and text.count('"schema_version"') == 1
    assert list(json.loads(text))[:2] == ["schema_version", "kind"]


def test_estimate_output_onto_its_model_config_is_refused(  # type: ignore[no-untyped-def]
        whatif, tmp_path: Path) -> None:
    """``--model config.json -o config.json`` would replace the input with the estimate: refused, the
    config kept byte for byte."""
    config = tmp_path / "config.json"
    shutil.copy(DATA / "gpt-13b-ft" / "config.json", config)
    before = config.read_bytes()
    r = whatif("estimate", "--model", str(config), "--hardware", "h100-sxm", "--input-tokens", "10",
               "--output-tokens", "10", "--format", "json", "-o", str(config))
    bad_input(r, "-o", "is an input of this run")
    assert config.read_bytes() == before


# --------------------------------------------------------------------------- overlays and training cost


def test_overlays_apply_environment_first_then_catalog_flags(whatif, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """$WHATIF_CATALOG (the corpus accelerator: 400 bf16 TFLOPS at $2/GPU-hour) applies first, then
    ``--catalog`` re-prices the same row at $3: the later layer wins.

    1e9 params × 1e12 tokens: 6 × 1e9 × 1e12 = 6e21 FLOPs; at 400e12 × 0.5 = 2e14 FLOP/s that is
    3e7 GPU-s = 8,333.33 GPU-hours; × $3 = $25,000 (at $2 it would be $16,666.67)."""
    env = CORPUS / "overlay-valid.toml"
    flag = tmp_path / "reprice.toml"
    flag.write_text('schema_version = 1\n\n[[price]]\nhardware = "corpus-accel"\nmode = "on-demand"\n'
                    'usd_per_gpu_hour = 3.0\nprovider = "corpus-cloud"\nprovider_kind = "neocloud"\n'
                    'source = "test re-price"\nsource_date = "2026-01-16"\n', encoding="utf-8")
    monkeypatch.setenv(CATALOG_ENV_VAR, str(env))
    r = whatif("--catalog", str(flag), "training-cost", "--params", "1e9", "--tokens", "1e12",
               "--hardware", "corpus-accel", "--mfu", "0.5", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["catalog_overlays"] == [str(env), str(flag)]
    assert data["flops"] == pytest.approx(6e21)
    assert data["gpu_hours"] == pytest.approx(3e7 / 3600)
    assert data["price_usd_per_gpu_hour"] == 3.0
    assert data["cost_usd"] == pytest.approx(25_000.0)


def test_training_cost_bounds_are_inclusive(catalog: Catalog) -> None:
    """Documented ranges: active in (0, params], tokens in (0, 1e16], parameters in (0, 1e14] — each
    upper end itself is accepted (active = params is a dense model: 6 × 7e9 × 1e12 = 4.2e22 FLOPs),
    the next float above it refused naming its argument."""
    kw: dict[str, Any] = {"hardware": "h100-sxm", "catalog": catalog}
    dense = planner.training_cost(params=7e9, active_params=7e9, tokens=1e12, **kw)
    assert dense.flops == pytest.approx(4.2e22)
    assert planner.training_cost(params=1e9, tokens=1e16, **kw).flops == pytest.approx(6e25)
    assert planner.training_cost(params=1e14, tokens=1e9, **kw).flops == pytest.approx(6e23)
    refused: list[tuple[dict[str, Any], str]] = [
        ({"params": 7e9, "active_params": 7.000001e9, "tokens": 1e12}, "active_params"),
        ({"params": 1e9, "tokens": 1.000001e16}, "tokens"),
        ({"params": 1.000001e14, "tokens": 1e9}, "params")]
    for args, field in refused:
        with pytest.raises(InputError) as err:
            planner.training_cost(**args, **kw)
        assert err.value.field == field


# --------------------------------------------------------------------------- plan (three tiny solves)


def test_the_solver_flag_wins_over_a_set_override(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--solver cbc`` picks the solver even when ``--set solver.name=highs`` says otherwise (the flag
    is the last override)."""
    path = tiny(tmp_path)
    r = whatif("plan", str(path), "--set", "solver.name=highs", "--solver", "cbc", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["solver"]["name"] == "cbc"


def test_trace_with_json_is_still_one_json_document(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The JSON always carries the trace; ``--trace`` must not append the text trace after it (that
    would no longer parse)."""
    r = whatif("plan", str(tiny(tmp_path)), "--trace", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["kind"] == "plan" and "trace" in data


# --------------------------------------------------------------------------- exit codes


def test_an_internal_error_exits_1_with_one_line_traceback_on_request(
        whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """README: 1 = internal error, one line naming the exception and how to see the traceback;
    ``WHATIF_DEBUG=1`` prints the traceback (still exit 1)."""
    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(planner.api, "estimate", boom)
    args = ("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "1",
            "--output-tokens", "1")
    monkeypatch.delenv("WHATIF_DEBUG", raising=False)
    r = whatif(*args)
    assert r.code == 1
    assert r.err == "whatif: internal error: RuntimeError: boom (set WHATIF_DEBUG=1 for the traceback)\n"
    monkeypatch.setenv("WHATIF_DEBUG", "1")
    r = whatif(*args)
    assert r.code == 1 and "Traceback" in r.err and "RuntimeError: boom" in r.err


def test_init_into_a_directory_says_so_not_pass_force(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A directory is no file to overwrite: the refusal says what it is (``--force`` would not help)."""
    r = whatif("init", str(tmp_path))
    bad_input(r, "is a directory, expected a file path")
    assert "--force" not in r.err and list(tmp_path.iterdir()) == []


def test_an_unknown_technique_suggests_the_close_name(whatif) -> None:  # type: ignore[no-untyped-def]
    """``cachng`` is one letter from ``caching``: named as an unknown technique with the suggestion, not
    reported as a plug-in whose ``describe()`` failed."""
    r = whatif("techniques", "show", "cachng")
    bad_input(r)
    assert r.err == "whatif: error: name: unknown technique 'cachng'; did you mean 'caching'?\n"


def test_calibrate_without_a_measurements_file_names_the_argument(whatif) -> None:  # type: ignore[no-untyped-def]
    bad_input(whatif("calibrate"), "MEASUREMENTS: missing", "--example")


# --------------------------------------------------------------------------- public API arguments


def test_explain_accepts_each_arguments_boundary_and_refuses_a_bool(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """``alternatives >= 0`` (0 = none), ``sensitivity_delta`` in (0, 0.9] (0.9 itself allowed),
    ``workers`` a whole number >= 1 — ``True`` is a bool, not a worker count.  The explanation itself
    is stubbed: only the argument checks and what reaches it are under test."""
    from planner.insight import explanation
    from planner.insight.resolve import DEFAULT_WORKERS

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(explanation, "explain", lambda _sc, _cat, **kw: seen.append(kw))
    sc = planner.scenario_from_dict(tomllib.loads(TINY))
    planner.explain(sc, catalog=catalog, alternatives=0, sensitivity_delta=0.9)
    assert seen == [{"alternatives": 0, "sensitivity_delta": 0.9, "workers": DEFAULT_WORKERS}]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"workers": True}, "workers"), ({"alternatives": True}, "alternatives"),
        ({"sensitivity_delta": 0.0}, "sensitivity_delta"), ({"sensitivity_delta": 0.900001}, "sensitivity_delta")]
    for kw, field in refused:
        with pytest.raises(InputError) as err:
            planner.explain(sc, catalog=catalog, **kw)  # type: ignore[arg-type]
        assert err.value.field == field
    assert len(seen) == 1


def test_explain_no_sensitivity_reaches_the_explanation_as_none(whatif, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``--sensitivity 0.3`` passes 0.3; adding ``--no-sensitivity`` passes None (no re-solves).  The
    re-solves are stubbed: a stub records its arguments and stops the command."""
    from planner.cli import explain as explain_cli

    seen: list[float | None] = []

    def stop(_sc: Any, _cat: Any, **kw: Any) -> None:
        seen.append(kw["sensitivity_delta"])
        raise InputError("stub", "stub")

    monkeypatch.setattr(explain_cli, "explain_steps", lambda *_a: 1)
    monkeypatch.setattr(explain_cli, "explain", stop)
    path = str(tiny(tmp_path))
    assert whatif("explain", path, "--sensitivity", "0.3").code == 2
    assert whatif("explain", path, "--sensitivity", "0.3", "--no-sensitivity").code == 2
    assert seen == [0.3, None]


# --------------------------------------------------------------------------- sweep


def test_a_vary_without_values_is_refused_before_any_work(whatif, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.cli import sweep as sweep_cli

    monkeypatch.setattr(sweep_cli, "run_sweep", _refuse)
    bad_input(whatif("sweep", str(tiny(tmp_path)), "--vary", "market.price_scale= "),
              "--vary: expected PATH=SPEC", "market.price_scale=")


def test_resume_without_output_is_refused_before_any_work(whatif, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.cli import sweep as sweep_cli

    monkeypatch.setattr(sweep_cli, "run_sweep", _refuse)
    bad_input(whatif("sweep", str(tiny(tmp_path)), "--vary", "market.price_scale=1", "--resume"),
              "--resume: --resume needs --output")


def test_a_sweep_with_a_failed_point_exits_5_and_counts_it(  # type: ignore[no-untyped-def]
        whatif, tmp_path: Path) -> None:
    """Zipped: (12 months, quarters) plans; (9 months, periods of 4) is an error row — 9 is not a
    multiple of 4, though each value alone fits the base (12 = 4 × 3, 9 = 3 × 3).  One of two points
    failed: exit 5 and ``1 of 2 point(s) failed``; an infeasible point would not count."""
    r = whatif("sweep", str(tiny(tmp_path)), "--set", "horizon.months=12", "--vary", "horizon.months=12,9",
               "--vary", "horizon.period_months=3,4", "--zip", "--executor", "inline", "--format", "json")
    assert r.code == 5, (r.code, r.err)
    assert [row["status"] for row in json.loads(r.out)["rows"]] == ["optimal", "error"]
    assert "whatif: 1 of 2 point(s) failed" in r.err


# --------------------------------------------------------------------------- defects the mutation pass found


def test_estimate_output_onto_a_model_config_not_named_json_is_refused(  # type: ignore[no-untyped-def]
        whatif, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--model ./cfg`` is read as a Hugging Face config (it holds a ``/``) although it does not end
    in ``.json``: ``-o ./cfg`` would replace it with the estimate table (it did, exit 0)."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "gpt-13b-ft" / "config.json", tmp_path / "cfg")
    before = (tmp_path / "cfg").read_bytes()
    r = whatif("estimate", "--model", "./cfg", "--hardware", "h100-sxm", "--input-tokens", "10",
               "--output-tokens", "10", "-o", "./cfg")
    bad_input(r, "-o", "is an input of this run")
    assert (tmp_path / "cfg").read_bytes() == before


def test_calibrate_example_onto_a_read_only_file_needs_force(  # type: ignore[no-untyped-def]
        whatif, tmp_path: Path) -> None:
    """``calibrate --example -o`` is refused on a read-only file as every other ``-o`` is (it replaced
    it); with ``--force`` the example is written."""
    target = tmp_path / "ro.toml"
    target.write_text("keep\n")
    target.chmod(0o444)
    bad_input(whatif("calibrate", "--example", "-o", str(target)), "read-only", "--force")
    assert target.read_text() == "keep\n"
    assert whatif("calibrate", "--example", "--force", "-o", str(target)).code == 0
    assert "[[case]]" in target.read_text()


@pytest.mark.parametrize("command", [["explain"], ["breakeven", "--option", "caching:prefix"]],
                         ids=["explain", "breakeven"])
def test_the_built_in_demo_is_an_input_of_a_run_without_a_scenario(  # type: ignore[no-untyped-def]
        whatif, command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SCENARIO, ``explain`` and ``breakeven`` read the shipped demo: ``-o`` onto it is refused
    before any solve (it passed the guard, and the demo was replaced after the run).  The work is
    stubbed to fail, so a broken guard fails this test without writing over the shipped demo."""
    from planner.cli import explain as explain_cli

    def stub(*args: Any, **kwargs: Any) -> None:
        raise InputError("the run started: the guard let -o onto the demo through", "stub")

    monkeypatch.setattr(explain_cli, "explain", stub)
    monkeypatch.setattr(explain_cli, "run_breakeven", stub)
    demo = planner.demo_scenario_path()
    before = demo.read_bytes()
    bad_input(whatif(*command, "-o", str(demo)), "is an input of this run")
    assert demo.read_bytes() == before
