"""Command-line behaviour a second mutation review found unpinned: exit codes by result status
(plan, explain, breakeven), what each option passes on by default and when given, the ranges of
explain's options at their exact ends, the field and text of error lines (usage errors, internal
errors and interruptions, ``--format json`` records), ``-o``/``--plot`` guards of sweep, where
``wrote FILE`` and warnings go, the calibration summary text, ``catalog validate``'s summary and
refusal, ``init``'s default path, the top-level help listing, and that every help example parses.
Every expensive call (plan, explain, breakeven, sweep, calibrate, estimate) is stubbed with
monkeypatch, so no model is solved; expected texts are written out by hand from the code's
documented formats, not copied from a run.  The tests at the end pin a defect this review found
and the sixteenth session fixed (``-o`` onto a model config named outside ``--model``)."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.cli import app as app_cli
from planner.cli import calibrate as calibrate_cli
from planner.cli import catalog as catalog_cli
from planner.cli import explain as explain_cli
from planner.cli import sweep as sweep_cli
from planner.cli.failures import Failures
from planner.errors import InputError
from planner.insight.break_even import BreakEven
from planner.insight.sweeps import SweepResult
from planner.physics.calibrate import Calibration, FittedFactor, RowError
from tests.conftest import CliResult, error_lines

CORPUS = Path(__file__).parents[1] / "corpus"
VALID = str(CORPUS / "valid.toml")


class Stop(InputError):
    """Raised by a spy once it has recorded its arguments: the command stops with exit 2."""

    def __init__(self) -> None:
        super().__init__("stub stopped the run", "stub")


def bad_input(r: CliResult, *needles: str) -> None:
    """Exit 2, only ``whatif: error:`` lines, nothing on stdout."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == "" and "Traceback" not in r.err
    lines = error_lines(r)
    assert lines and all(line.startswith("whatif: error:") for line in lines), r.err
    for needle in needles:
        assert needle in "\n".join(lines), (needle, r.err)


def records(r: CliResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in r.err.splitlines() if line.strip()]


# --------------------------------------------------------------------------- plan


def _stub_plan(monkeypatch: pytest.MonkeyPatch, status: str, cost: float | None) -> None:
    """``api.plan`` returns a bare result with ``status`` and ``lifetime_cost_usd``; its JSON is a stub."""
    monkeypatch.setattr(planner.api, "plan", lambda *_a, **_k: SimpleNamespace(status=status, lifetime_cost_usd=cost))
    monkeypatch.setattr(app_cli, "to_json", lambda result: f'{{"status": "{result.status}"}}\n')


@pytest.mark.parametrize(("status", "cost", "code"), [("optimal", 1.0, 0), ("feasible", 1.0, 0),
                                                      ("infeasible", None, 3), ("not solved", None, 4)])
def test_plan_exit_code_follows_the_result(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                           status: str, cost: float | None, code: int) -> None:
    """README: 0 a plan (optimal, or feasible at the time limit), 3 infeasible, 4 no plan — and the
    document is printed in every case (stdout is the stubbed JSON)."""
    _stub_plan(monkeypatch, status, cost)
    r = whatif("plan", VALID, "--format", "json")
    assert r.code == code, r.err
    assert json.loads(r.out) == {"status": status}


def test_plan_trace_is_appended_to_a_text_report_only_when_asked(whatif,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is followed by the trace text with ``--trace`` and by nothing without it."""
    from planner.report import documents, plan_view

    _stub_plan(monkeypatch, "optimal", 1.0)
    monkeypatch.setattr(documents, "plan_document", lambda fmt, *_a: f"REPORT {fmt}\n")
    monkeypatch.setattr(plan_view, "trace_text", lambda _result: "TRACE\n")
    assert whatif("plan", VALID).out == "REPORT table\n"
    assert whatif("plan", VALID, "--trace").out == "REPORT table\nTRACE\n"
    assert whatif("plan", VALID, "--trace", "--format", "markdown").out == "REPORT markdown\nTRACE\n"


def test_plan_solver_flag_is_an_override_only_when_given(whatif,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``--solver`` the scenario's own solver stands (no override is added); with it,
    ``solver.name=cbc`` follows the ``--set`` overrides."""
    seen: list[list[str]] = []

    def spy(_path: Any, overrides: Any = ()) -> None:
        seen.append(list(overrides))
        raise Stop

    monkeypatch.setattr(planner.api, "load_scenario", spy)
    assert whatif("plan", VALID, "--set", "market.price_scale=2").code == 2
    assert whatif("plan", VALID, "--set", "market.price_scale=2", "--solver", "cbc").code == 2
    assert seen == [["market.price_scale=2"], ["market.price_scale=2", "solver.name=cbc"]]


def test_plan_estimator_view_in_html_needs_no_plot_extra(whatif,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimator view's HTML draws no chart: it is printed even when matplotlib is missing."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(app_cli, "PREVIEW_RENDERERS", {**app_cli.PREVIEW_RENDERERS, "html": ("render", "stub")})
    from planner.report import render

    monkeypatch.setattr(render, "stub", lambda _view: "<html>view</html>\n", raising=False)
    monkeypatch.setattr(planner.api, "preview", lambda *_a, **_k: "VIEW")
    r = whatif("plan", VALID, "--estimator-view", "--format", "html")
    assert r.code == 0, r.err
    assert r.out == "<html>view</html>\n"


def test_plan_estimator_view_json_and_markdown(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """``--format json`` prints ``to_json(view)``; markdown prints ``preview_markdown(view)``."""
    from planner.report import render

    monkeypatch.setattr(planner.api, "preview", lambda *_a, **_k: "VIEW")
    monkeypatch.setattr(app_cli, "to_json", lambda view: f'{{"view": "{view}"}}\n')
    monkeypatch.setattr(render, "preview_markdown", lambda view: f"# {view}\n")
    assert whatif("plan", VALID, "--estimator-view", "--format", "json").out == '{"view": "VIEW"}\n'
    assert whatif("plan", VALID, "--estimator-view", "--format", "markdown").out == "# VIEW\n"


def test_wrote_file_goes_to_stderr_and_the_document_to_the_file_verbatim(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``-o FILE``: stdout stays empty, stderr says ``wrote FILE``; without ``-o`` the text is printed
    as is (no newline added after its own)."""
    monkeypatch.setattr(planner.api, "preview", lambda *_a, **_k: "VIEW")
    monkeypatch.setattr(app_cli, "to_json", lambda _view: '{"a": 1}\n')
    target = tmp_path / "view.json"
    r = whatif("plan", VALID, "--estimator-view", "--format", "json", "-o", str(target))
    assert (r.code, r.out, r.err) == (0, "", f"wrote {target}\n")
    assert target.read_text() == '{"a": 1}\n'
    assert whatif("plan", VALID, "--estimator-view", "--format", "json").out == '{"a": 1}\n'


# --------------------------------------------------------------------------- estimate and training cost


ESTIMATE = ("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "100",
            "--output-tokens", "20")


def _spy_estimate(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def spy(model: str, hardware: str, **kw: Any) -> None:
        seen.append({"model": model, "hardware": hardware, **kw})
        raise Stop

    monkeypatch.setattr(planner.api, "estimate", spy)
    return seen


def test_estimate_option_defaults(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Documented defaults: precision bf16, KV precision the precision's default (None here), tp 1,
    gpus = tp (None here), batch auto (None), no draft, engine from the efficiency row (None)."""
    seen = _spy_estimate(monkeypatch)
    assert whatif(*ESTIMATE).code == 2
    [kw] = seen
    assert kw["precision"] == "bf16" and kw["kv_precision"] is None and kw["tp"] == 1 and kw["gpus"] is None
    assert kw["batch"] is None and kw["engine"] is None
    assert (kw["draft"], kw["acceptance_rate"], kw["draft_tokens"]) == (None, None, None)
    assert (kw["input_tokens"], kw["output_tokens"]) == (100, 20)


def test_estimate_options_reach_the_estimate(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    seen = _spy_estimate(monkeypatch)
    assert whatif(*ESTIMATE, "--precision", "fp8", "--kv-precision", "fp8", "--tp", "2", "--gpus", "4",
                  "--batch", "16", "--draft", "llama-3.2-1b", "--acceptance-rate", "0.7", "--draft-tokens", "3",
                  "--engine", "vllm").code == 2
    [kw] = seen
    assert (kw["precision"], kw["kv_precision"], kw["tp"], kw["gpus"], kw["batch"]) == ("fp8", "fp8", 2, 4, 16)
    assert (kw["draft"], kw["acceptance_rate"], kw["draft_tokens"], kw["engine"]) == ("llama-3.2-1b", 0.7, 3, "vllm")


def test_estimate_batch_error_names_the_field_batch(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _spy_estimate(monkeypatch)
    r = whatif(*ESTIMATE, "--batch", "Auto")
    assert r.code == 2
    assert r.err == "whatif: error: batch: must be a whole number or 'auto', got 'Auto'\n"


def test_estimate_output_named_like_a_missing_model_file_is_not_an_input(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A catalog slug is no file: a file in the working directory that happens to be called ``None``
    is not an input of the run (the slug's absent path must not become the text ``None``)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "None").write_text("old\n")
    monkeypatch.setattr(planner.api, "estimate", lambda *_a, **_k: "EST")
    monkeypatch.setattr(app_cli, "to_json", lambda _r: '{"e": 1}\n')
    r = whatif(*ESTIMATE, "--format", "json", "-o", "None")
    assert r.code == 0, r.err
    assert (tmp_path / "None").read_text() == '{"e": 1}\n'


def test_training_cost_json_is_printed_as_is(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(planner.api, "training_cost", lambda **_k: "T")
    monkeypatch.setattr(app_cli, "to_json", lambda _r: '{"t": 1}\n')
    r = whatif("training-cost", "--params", "1e9", "--tokens", "1e9", "--hardware", "h100-sxm", "--format", "json")
    assert (r.code, r.out) == (0, '{"t": 1}\n')


# --------------------------------------------------------------------------- schema and init


def test_schema_is_two_space_indented_json_ending_in_a_newline(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("schema")
    assert r.code == 0
    assert r.out == json.dumps(json.loads(r.out), indent=2) + "\n"


def test_init_writes_scenario_toml_by_default_and_says_so_on_stderr(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Default PATH ``scenario.toml``: the demo's text, stdout empty, the next step on stderr; a second
    run refuses (exit 2 naming the path), ``--force`` replaces."""
    monkeypatch.chdir(tmp_path)
    r = whatif("init")
    assert (r.code, r.out, r.err) == (0, "", "wrote scenario.toml; run: whatif plan scenario.toml\n")
    demo = planner.demo_scenario_path().read_text(encoding="utf-8")
    assert (tmp_path / "scenario.toml").read_text(encoding="utf-8") == demo
    (tmp_path / "scenario.toml").write_text("mine\n")
    bad_input(whatif("init"), "scenario.toml: already exists; pass --force to overwrite")
    assert (tmp_path / "scenario.toml").read_text() == "mine\n"
    assert whatif("init", "--force").code == 0
    assert (tmp_path / "scenario.toml").read_text(encoding="utf-8") == demo


# --------------------------------------------------------------------------- error lines


def test_a_usage_error_ends_with_the_help_hint_of_its_command(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("explain", "--workers", "0")
    assert r.code == 2
    assert r.err == ("whatif: error: Invalid value for '--workers': 0 is not in the range 1<=x<=256. "
                     "(see 'whatif explain --help')\n")


def test_a_usage_error_record_is_bad_input(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("explain", "--format", "json", "--alternatives", "11")
    [record] = records(r)
    assert r.code == 2 and record["error"] == "bad-input" and record["exit_code"] == 2
    assert record["field"] == "--alternatives"
    assert record["reason"] == "Invalid value for '--alternatives': 11 is not in the range 0<=x<=10."


def test_bare_group_prints_its_help(whatif) -> None:  # type: ignore[no-untyped-def]
    """``whatif catalog`` with no subcommand prints the group's help (its commands), no error line."""
    r = whatif("catalog")
    assert "whatif: error" not in r.err
    assert "Usage: whatif catalog" in r.out + r.err and "validate" in r.out + r.err


def test_an_internal_error_record_gives_the_exception_as_reason(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise ValueError("bad state")

    monkeypatch.delenv("WHATIF_DEBUG", raising=False)
    monkeypatch.setattr(planner.api, "plan", boom)
    [record] = records(whatif("plan", VALID, "--format", "json"))
    assert record == {"schema_version": 1, "kind": "error", "error": "internal", "exit_code": 1, "field": "",
                      "reason": "ValueError: bad state",
                      "message": "whatif: internal error: ValueError: bad state (set WHATIF_DEBUG=1 for the traceback)"}


def test_an_interrupt_outside_click_still_exits_130(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Click turns Ctrl-C inside a command into ``Abort``; one that reaches ``main`` bare (outside
    click's handling) gets the same line and exit code 130, not a traceback or exit 1."""
    def interrupted(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(app_cli.cli, "main", interrupted)
    r = whatif("plan")
    assert (r.code, r.out, r.err) == (130, "", "whatif: interrupted\n")


def test_a_record_keeps_non_ascii_text_as_is() -> None:
    """``ensure_ascii=False``: an em dash in a message is written as the character, not ``\\u2014``;
    a report without a reason uses the message as its reason."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        Failures(as_json=True).report("whatif: error: x — y", kind="bad-input", exit_code=2)
    line = err.getvalue()
    assert "—" in line and "\\u2014" not in line
    assert json.loads(line)["reason"] == "whatif: error: x — y"


# --------------------------------------------------------------------------- sweep


def _row(index: int, status: str, cost: float | None, **extra: Any) -> dict[str, Any]:
    return {"index": index, "inputs": {"market.price_scale": 1.0 + index}, "status": status,
            "lifetime_cost_usd": cost, **extra}


def _stub_sweep(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``run_sweep`` records its keyword arguments and returns ``rows``."""
    seen: list[dict[str, Any]] = []

    def stub(_sc: Any, **kw: Any) -> SweepResult:
        seen.append(kw)
        return SweepResult(rows=rows)

    monkeypatch.setattr(sweep_cli, "run_sweep", stub)
    return seen


def test_sweep_option_defaults(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Documented defaults: seed 0, one worker, a local pool (None), no Monte Carlo, crossed axes, no
    resume; no ``--vary`` passes None (the scenario's [sweep] table is then used)."""
    seen = _stub_sweep(monkeypatch, [_row(0, "optimal", 100.0)])
    assert whatif("sweep", VALID).code == 0
    [kw] = seen
    assert (kw["vary"], kw["zip_axes"], kw["samples"], kw["seed"], kw["workers"]) == (None, False, None, 0, 1)
    assert (kw["executor"], kw["output"], kw["resume"], kw["overlays"]) == (None, None, False, [])


def test_sweep_options_reach_the_sweep(whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each option is passed on; ``--vary`` entries are split at the first ``=`` and trimmed."""
    seen = _stub_sweep(monkeypatch, [_row(0, "optimal", 100.0)])
    out = tmp_path / "rows.csv"
    r = whatif("sweep", VALID, "--vary", " market.price_scale = 1,2 ", "--vary", "horizon.months=12,24",
               "--zip", "--seed", "7", "--workers", "3", "--executor", "inline", "-o", str(out), "--resume")
    assert r.code == 0, r.err
    [kw] = seen
    assert kw["vary"] == {"market.price_scale": "1,2", "horizon.months": "12,24"}
    assert (kw["zip_axes"], kw["seed"], kw["workers"], kw["executor"]) == (True, 7, 3, "inline")
    assert (kw["output"], kw["resume"]) == (str(out), True)


@pytest.mark.parametrize("item", ["market.price_scale", "=1,2", " =1", "market.price_scale=  "])
def test_a_vary_item_without_path_or_values_is_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                     item: str) -> None:
    _stub_sweep(monkeypatch, [])
    r = whatif("sweep", VALID, "--vary", item)
    bad_input(r)
    assert r.err == f"whatif: error: --vary: expected PATH=SPEC, got '{item}'\n"


SWEEP_TABLE = """
[sweep]
vary = {{ "market.price_scale" = "{spec}" }}
"""


@pytest.mark.parametrize(("spec", "extra", "log_x"), [("0.5..2:log:3", [], True), ("0.5..2:3", [], False),
                                                      ("0.5..2:log:3", ["--samples", "4"], None)])
def test_the_plot_axis_comes_from_the_scenarios_sweep_table_and_not_for_monte_carlo(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spec: str, extra: list[str],
        log_x: bool | None) -> None:
    """No ``--vary``: the scenario's own ``[sweep] vary`` decides the axis (log for ``lo..hi:log:n``);
    Monte Carlo draws have no swept spec: the chart decides (None)."""
    from planner.report import sweep_view

    path = tmp_path / "s.toml"
    path.write_text(Path(VALID).read_text(encoding="utf-8") + SWEEP_TABLE.format(spec=spec), encoding="utf-8")
    _stub_sweep(monkeypatch, [_row(0, "optimal", 100.0)])
    seen: list[bool | None] = []
    monkeypatch.setattr(sweep_view, "plot", lambda _r, _p, *, log_x=None: seen.append(log_x))
    r = whatif("sweep", str(path), *extra, "--plot", str(tmp_path / "c.svg"))
    assert r.code == 0, r.err
    assert seen == [log_x]


def test_first_spec_is_log() -> None:
    assert sweep_cli._first_spec_is_log({"a": "1..100:log:3", "b": "1,2"}) is True
    assert sweep_cli._first_spec_is_log({"a": "1,2", "b": "1..100:log:3"}) is False
    assert sweep_cli._first_spec_is_log({"a": "1..100:3"}) is False
    assert sweep_cli._first_spec_is_log({}) is False


def test_sweep_output_onto_the_scenario_is_refused_before_any_work(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = _stub_sweep(monkeypatch, [])
    scenario = tmp_path / "s.toml"
    scenario.write_text(Path(VALID).read_text(encoding="utf-8"), encoding="utf-8")
    before = scenario.read_bytes()
    bad_input(whatif("sweep", str(scenario), "-o", str(scenario)), f"-o {scenario}: is an input of this run")
    assert scenario.read_bytes() == before and seen == []


def test_sweep_plot_onto_the_rows_file_is_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    """``--resume`` reads ``--output``: the chart must not replace it."""
    seen = _stub_sweep(monkeypatch, [])
    rows = tmp_path / "rows.svg"
    rows.write_text("index\n")
    bad_input(whatif("sweep", VALID, "-o", str(rows), "--plot", str(rows)), f"--plot {rows}: is an input of this run")
    assert rows.read_text() == "index\n" and seen == []


# --------------------------------------------------------------------------- explain and breakeven


def _spy_explain(monkeypatch: pytest.MonkeyPatch, plan: Any = None) -> list[dict[str, Any]]:
    """``explain`` records its keyword arguments; it stops the run, or returns ``plan`` as its plan."""
    seen: list[dict[str, Any]] = []

    def spy(_sc: Any, _cat: Any, **kw: Any) -> Any:
        seen.append(kw)
        if plan is None:
            raise Stop
        return SimpleNamespace(plan=plan)

    monkeypatch.setattr(explain_cli, "explain_steps", lambda *_a: 1)
    monkeypatch.setattr(explain_cli, "explain", spy)
    monkeypatch.setattr(explain_cli, "to_json", lambda _r: "{}\n")
    return seen


def test_explain_defaults(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from planner.insight.explanation import ALTERNATIVES, DEFAULT_SENSITIVITY
    from planner.insight.resolve import DEFAULT_WORKERS

    seen = _spy_explain(monkeypatch)
    assert whatif("explain", VALID).code == 2
    assert seen == [{"alternatives": ALTERNATIVES, "sensitivity_delta": DEFAULT_SENSITIVITY,
                     "workers": DEFAULT_WORKERS, "progress": seen[0]["progress"]}]


@pytest.mark.parametrize(("option", "value", "key", "passed"), [
    ("--alternatives", "0", "alternatives", 0), ("--alternatives", "10", "alternatives", 10),
    ("--sensitivity", "0.9", "sensitivity_delta", 0.9), ("--sensitivity", "0.001", "sensitivity_delta", 0.001),
    ("--workers", "1", "workers", 1), ("--workers", "256", "workers", 256)])
def test_explain_options_accept_their_ends(whatif, monkeypatch: pytest.MonkeyPatch, option: str,  # type: ignore[no-untyped-def]
                                          value: str, key: str, passed: float) -> None:
    """Ranges: alternatives 0..10 (MAX_ALTERNATIVES), sensitivity (0, 0.9], workers 1..256 — each end
    that is in the range reaches the explanation as given."""
    seen = _spy_explain(monkeypatch)
    assert whatif("explain", VALID, option, value).code == 2  # the spy's stop, not a usage error
    assert seen[0][key] == passed


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--alternatives", "-1", "-1 is not in the range 0<=x<=10."),
    ("--alternatives", "11", "11 is not in the range 0<=x<=10."),
    ("--sensitivity", "0", "0.0 is not in the range 0<x<=0.9."),
    ("--sensitivity", "0.91", "0.91 is not in the range 0<x<=0.9."),
    ("--workers", "0", "0 is not in the range 1<=x<=256."),
    ("--workers", "257", "257 is not in the range 1<=x<=256.")])
def test_explain_options_refuse_beyond_their_ends(whatif, monkeypatch: pytest.MonkeyPatch, option: str,  # type: ignore[no-untyped-def]
                                                 value: str, reason: str) -> None:
    seen = _spy_explain(monkeypatch)
    r = whatif("explain", VALID, option, value)
    assert r.code == 2 and seen == []
    assert r.err == f"whatif: error: Invalid value for '{option}': {reason} (see 'whatif explain --help')\n"


@pytest.mark.parametrize(("status", "cost", "code"), [("optimal", 5.0, 0), ("infeasible", None, 3),
                                                      ("not solved", None, 4)])
def test_explain_exit_code_follows_its_plan(whatif, monkeypatch: pytest.MonkeyPatch, status: str,  # type: ignore[no-untyped-def]
                                           cost: float | None, code: int) -> None:
    """As ``whatif plan``: 3 infeasible, 4 no plan; the document is printed either way."""
    _spy_explain(monkeypatch, SimpleNamespace(status=status, lifetime_cost_usd=cost))
    r = whatif("explain", VALID, "--format", "json")
    assert (r.code, r.out) == (code, "{}\n")


def test_explain_and_breakeven_apply_set_overrides(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[list[str]] = []

    def spy(_path: Any, overrides: Any = ()) -> None:
        seen.append(list(overrides))
        raise Stop

    monkeypatch.setattr(planner.api, "load_scenario", spy)
    whatif("explain", VALID, "--set", "market.price_scale=2")
    whatif("breakeven", VALID, "--option", "caching:prefix", "--set", "market.price_scale=3")
    assert seen == [["market.price_scale=2"], ["market.price_scale=3"]]


def _breakeven(verdict: str) -> BreakEven:
    return BreakEven(option="caching:prefix", over="demand", current_value=1.0, verdict=verdict,  # type: ignore[arg-type]
                     pays_at_current=False, breakeven_value=None, lifetime_queries_at_breakeven=None, proven=True,
                     infeasibility=[], evaluations=[], message=f"verdict {verdict}")


def _stub_breakeven(monkeypatch: pytest.MonkeyPatch, verdict: str) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []

    def stub(_sc: Any, _cat: Any, option: str, over: str | None) -> BreakEven:
        seen.append((option, over))
        return _breakeven(verdict)

    monkeypatch.setattr(explain_cli, "run_breakeven", stub)
    return seen


@pytest.mark.parametrize(("verdict", "code"), [("pays_now", 0), ("pays_from", 0), ("never_pays", 0),
                                               ("infeasible", 3), ("undetermined", 4)])
def test_breakeven_exit_code_by_verdict(whatif, monkeypatch: pytest.MonkeyPatch, verdict: str,  # type: ignore[no-untyped-def]
                                       code: int) -> None:
    """README: 0 with an answer, 3 when the plan with the option is infeasible, 4 when a solve gave no plan."""
    _stub_breakeven(monkeypatch, verdict)
    r = whatif("breakeven", VALID, "--option", "caching:prefix", "--format", "json")
    assert r.code == code
    assert json.loads(r.out)["verdict"] == verdict


def test_breakeven_over_and_formats(whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--over`` reaches the break-even (default None: demand); table and markdown use their own
    renderers; ``-o`` writes the file, not stdout."""
    from planner.report import breakeven_view

    seen = _stub_breakeven(monkeypatch, "never_pays")
    monkeypatch.setattr(breakeven_view, "breakeven_text", lambda r: f"TEXT {r.verdict}\n")
    monkeypatch.setattr(breakeven_view, "breakeven_markdown", lambda r: f"MD {r.verdict}\n")
    assert whatif("breakeven", VALID, "--option", "caching:prefix").out == "TEXT never_pays\n"
    md = whatif("breakeven", VALID, "--option", "caching:prefix", "--over", "market.price_scale",
                "--format", "markdown")
    assert md.out == "MD never_pays\n"
    target = tmp_path / "b.md"
    r = whatif("breakeven", VALID, "--option", "caching:prefix", "--format", "markdown", "-o", str(target))
    assert (r.code, r.out, target.read_text()) == (0, "", "MD never_pays\n")
    assert seen == [("caching:prefix", None), ("caching:prefix", "market.price_scale"), ("caching:prefix", None)]


# --------------------------------------------------------------------------- top-level help


def test_top_level_help_lists_each_command_on_one_untruncated_line_when_it_fits(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a wide terminal the help is 100 columns at most (``max_content_width``), so the text column
    is 100 - 2 (click's margin) - 6 - 13 (``training-cost``, the longest name) = 79 characters: the
    79-character summary of ``techniques`` and the 75-character one of ``calibrate`` are shown whole;
    the summaries of ``explain`` and ``plan`` are longer and end in ``...`` on the same line."""
    monkeypatch.setenv("COLUMNS", "200")
    r = whatif("--help")
    assert r.code == 0
    rows = r.out.split("Commands:\n", 1)[1].splitlines()
    assert len(rows) >= 11 and all(len(row) <= 98 and row[2] != " " for row in rows)  # no wrapped rows
    by_name = {row.split()[0]: row.split(None, 1)[1] for row in rows}
    assert by_name["techniques"] == "The technique plug-ins (entry-point group whatif.techniques) and their options."
    assert len(by_name["techniques"]) == 79
    assert by_name["calibrate"] == "Fit efficiency factors (per hardware x precision) to your own measurements."
    assert by_name["explain"].startswith("Why this plan: savings against the baseline, binding constraints")
    assert by_name["explain"].endswith("...") and len(by_name["explain"]) <= 79


# --------------------------------------------------------------------------- catalog


def test_catalog_list_lists_hardware_by_default(whatif) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(whatif("catalog", "list", "--format", "json").out)
    assert document["kind"] == "hardware" and any(row["slug"] == "h100-sxm" for row in document["rows"])


def test_catalog_validate_counts_the_catalog_flag_overlay(whatif) -> None:  # type: ignore[no-untyped-def]
    """``whatif --catalog FILE catalog validate`` validates the overlay too: the corpus overlay adds one
    accelerator (``corpus-accel``), so the hardware count is the shipped count + 1.  The summary is
    ``catalog OK: <n> <kind>, ...`` in the order of the kinds, on stdout."""
    from planner.report.catalog_view import TABLE_KINDS, catalog_rows

    overlay = CORPUS / "overlay-valid.toml"
    shipped = planner.load_catalogs(use_env=False)
    merged = planner.load_catalogs([overlay], use_env=False)
    assert len(catalog_rows(merged, "hardware")) == len(catalog_rows(shipped, "hardware")) + 1
    r = whatif("--catalog", str(overlay), "catalog", "validate")
    assert (r.code, r.err) == (0, "")
    summary = ", ".join(f"{len(catalog_rows(merged, k))} {k}" for k in TABLE_KINDS)
    assert r.out == f"catalog OK: {summary}\n"


def test_catalog_validate_refuses_a_catalog_without_models(whatif, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Hardware but no models is as useless as neither: refused naming the field ``catalog``."""
    real = catalog_cli.catalog_rows
    monkeypatch.setattr(catalog_cli, "catalog_rows", lambda cat, kind: [] if kind == "models" else real(cat, kind))
    r = whatif("catalog", "validate")
    assert (r.code, r.out) == (2, "")
    assert r.err == "whatif: error: catalog: the catalog has no hardware or no models\n"


# --------------------------------------------------------------------------- calibrate


CALIBRATION = Calibration(
    factors=[FittedFactor(hardware="h100-sxm", precision="fp8", compute=0.61249, memory=0.8, compute_fitted=True,
                          memory_fitted=True, measurements=2, note="fitted to 2 rows")],
    rows=[RowError(id="r1", metric="output_tokens_per_s", measured=2500.0, before=1800.0, after=2400.0),
          RowError(id="r2", metric="ttft_ms", measured=90.0, before=None, after=None)],
    median_abs_error_before=0.1234, median_abs_error_after=0.0456, warnings=["r2: no fit"])


def _stub_calibrate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(calibrate_cli, "calibrate", lambda *_a: CALIBRATION)
    measurements = tmp_path / "m.toml"
    measurements.write_text("[[case]]\n")
    return measurements


def test_calibrate_summary_text(whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Factor ``compute`` 0.61249 → ``0.612``, ``memory`` 0.8 → ``0.800`` (3 decimals); figures in 4
    significant digits with thousands separators (2500 → ``2,500``); a missing figure is ``-``;
    medians as percent with one decimal (0.1234 → ``12.3%``, 0.0456 → ``4.6%``).  Warnings go to stderr."""
    r = whatif("calibrate", str(_stub_calibrate(monkeypatch, tmp_path)))
    assert r.code == 0, r.err
    assert r.out == ("h100-sxm fp8: compute 0.612, memory 0.800 — fitted to 2 rows\n"
                     "  r1 output_tokens_per_s: measured 2,500, before 1,800, after 2,400\n"
                     "  r2 ttft_ms: measured 90, before -, after -\n"
                     "median |error|: 12.3% before, 4.6% after\n")
    assert r.err == "whatif: warning: r2: no fit\n"


def test_calibrate_output_writes_a_dated_overlay_and_prints_the_json(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``-o`` writes the overlay TOML (dated today) and, under ``--format json``, the JSON still goes to
    stdout; the text summary ends with where the overlay went."""
    measurements = _stub_calibrate(monkeypatch, tmp_path)
    out = tmp_path / "eff.toml"
    r = whatif("calibrate", str(measurements), "-o", str(out), "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["kind"] == "calibration"
    overlay = out.read_text()
    assert f'source_date = "{dt.date.today().isoformat()}"' in overlay and "compute = 0.6125" in overlay
    text = whatif("calibrate", str(measurements), "-o", str(out), "--force")
    assert text.out.endswith(f"median |error|: 12.3% before, 4.6% after\noverlay written to {out}\n")


# --------------------------------------------------------------------------- techniques


def test_a_plugin_whose_describe_fails_is_named_with_its_exception(  # type: ignore[no-untyped-def]
        whatif, monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.cli import techniques as techniques_cli

    def broken(*_a: Any) -> None:
        raise ValueError("no catalog row")

    monkeypatch.setattr(techniques_cli, "technique_dict", broken)
    r = whatif("techniques", "show", "caching")
    assert (r.code, r.out) == (2, "")
    assert r.err == "whatif: error: caching: describe() failed: ValueError: no catalog row\n"


# --------------------------------------------------------------------------- defects found by this review
# A model may be named by a Hugging Face config.json path in more places than ``estimate --model``
# (``--draft``, a scenario's ``model.base``, a calibration case's ``model``) and a scenario names a
# measurements CSV (``measured_file``); ``-o`` onto such a file was not refused and replaced it with
# the output (exit 0).  The guard now holds every file a run reads (planner.scenario.loading.files_named,
# planner.physics.calibrate.case_model_files).

HF_CONFIG = Path(__file__).parents[1] / "data" / "hf" / "llama-3.1-8b.json"


def config_copy(path: Path) -> Path:
    """A copy of ``HF_CONFIG`` at ``path``: a model config.json a run reads."""
    path.write_bytes(HF_CONFIG.read_bytes())
    return path


def test_estimate_output_onto_its_draft_config_is_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    draft = config_copy(tmp_path / "draft.json")
    monkeypatch.setattr(planner.api, "estimate", lambda *_a, **_k: "EST")
    monkeypatch.setattr(app_cli, "to_json", lambda _r: '{"e": 1}\n')
    r = whatif(*ESTIMATE, "--draft", str(draft), "--acceptance-rate", "0.7", "--draft-tokens", "3",
               "--format", "json", "-o", str(draft))
    assert draft.read_bytes() == HF_CONFIG.read_bytes()
    bad_input(r, "is an input of this run")


def test_plan_output_onto_the_scenarios_model_config_is_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    config = config_copy(tmp_path / "cfg.json")
    scenario = tmp_path / "s.toml"
    scenario.write_text(Path(VALID).read_text(encoding="utf-8").replace('base = "llama-3.1-8b"',
                                                                        f'base = "{config}"'), encoding="utf-8")
    assert str(config) in scenario.read_text(encoding="utf-8")
    monkeypatch.setattr(planner.api, "preview", lambda *_a, **_k: "VIEW")
    monkeypatch.setattr(app_cli, "to_json", lambda _r: '{"v": 1}\n')
    r = whatif("plan", str(scenario), "--estimator-view", "--format", "json", "-o", str(config))
    assert config.read_bytes() == HF_CONFIG.read_bytes()
    bad_input(r, "is an input of this run")


def test_calibrate_output_onto_a_cases_model_config_is_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    config = config_copy(tmp_path / "cfg.json")
    measurements = tmp_path / "m.toml"
    measurements.write_text(f'schema_version = 1\n\n[[case]]\nid = "a"\nmodel = "{config}"\nhardware = "h100-sxm"\n'
                            'precision = "fp8"\ntp = 1\ninput_tokens = 128\noutput_tokens = 128\n'
                            'metric = "output_tokens_per_s"\npublished = 28312.0\n')
    monkeypatch.setattr(calibrate_cli, "calibrate", lambda *_a: CALIBRATION)
    r = whatif("calibrate", str(measurements), "-o", str(config))
    assert config.read_bytes() == HF_CONFIG.read_bytes()
    bad_input(r, "is an input of this run")


def test_outputs_onto_files_a_scenario_names_relative_to_it_are_refused(whatif, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    """``model.base = "cfg.json"`` and ``measured_file = "bench.csv"`` are read from the scenario's folder
    (``load_scenario``): explain's ``-o`` onto the config and sweep's ``-o`` onto the CSV are refused
    before any work, and neither file changes.  The built-in demo names neither: its ``-o`` is free."""
    config, bench = config_copy(tmp_path / "cfg.json"), tmp_path / "bench.csv"
    bench.write_text("hardware,workload,precision,tp,requests_per_s,source\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    text = Path(VALID).read_text(encoding="utf-8").replace('base = "llama-3.1-8b"', 'base = "cfg.json"')
    scenario.write_text(text.replace('name = "corpus-base"\n', 'name = "corpus-base"\nmeasured_file = "bench.csv"\n'),
                        encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)  # relative to the scenario, not to the working directory
    r = whatif("explain", str(scenario), "--format", "json", "-o", str(config))
    bad_input(r, "is an input of this run")
    r = whatif("sweep", str(scenario), "--vary", "market.price_scale=1,2", "-o", str(bench))
    bad_input(r, "is an input of this run")
    assert config.read_bytes() == HF_CONFIG.read_bytes() and bench.read_text(encoding="utf-8").startswith("hardware,")


# --------------------------------------------------------------------------- help examples


HELP_COMMANDS = [[], ["plan"], ["estimate"], ["training-cost"], ["explain"], ["breakeven"], ["sweep"], ["schema"],
                 ["init"], ["calibrate"], ["catalog", "list"], ["catalog", "show"], ["catalog", "validate"],
                 ["techniques", "list"], ["techniques", "show"]]


def _example_lines(help_text: str) -> list[list[str]]:
    """The ``whatif …`` command lines of a help's Example(s) block: ``\\`` continuations joined, a
    trailing ``# comment`` and a ``> file`` redirection dropped, ``a && b`` split in two."""
    import shlex

    block = help_text.split("Example", 1)[1].splitlines()[1:]
    joined, current = [], ""
    for line in block:
        text = line.strip()
        if not text:
            break
        current += " " + text.removesuffix("\\")
        if not text.endswith("\\"):
            joined.append(current)
            current = ""
    commands = []
    for line in joined:
        for part in line.split(" #", 1)[0].split("&&"):
            commands.append(shlex.split(part.split(" > ", 1)[0]))
    return commands


def _parse(args: list[str]) -> None:
    """Parse ``args`` exactly as ``whatif`` would (options, choices, ranges, required options) without
    running anything."""
    import click

    from planner.cli.app import cli

    def remaining(ctx: click.Context) -> list[str]:
        with warnings.catch_warnings():  # click 8.2+: protected_args is deprecated (merged into args in 9)
            warnings.simplefilter("ignore", DeprecationWarning)
            return [*getattr(ctx, "protected_args", []), *ctx.args]

    ctx = cli.make_context("whatif", list(args))
    command: click.Command = cli
    rest = remaining(ctx)
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command = sub
        ctx = command.make_context(name, rest, parent=ctx)
        rest = remaining(ctx)


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "whatif")
def test_every_help_example_is_a_valid_command_line(whatif, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Each example printed by ``--help`` names real commands and options with accepted values (a
    renamed option or a narrowed range would leave a stale example)."""
    r = whatif(*command, "--help")
    assert r.code == 0
    examples = _example_lines(r.out)
    assert examples and all(example[0] == "whatif" for example in examples), examples
    for example in examples:
        _parse(example[1:])


def test_the_example_parser_refuses_what_whatif_refuses() -> None:
    import click

    for bad in (["explain", "--workers", "0"], ["breakeven"], ["estimate", "--model", "m", "--bogus"]):
        with pytest.raises(click.UsageError):
            _parse(bad)
