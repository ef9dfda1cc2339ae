"""The ``whatif`` command line: commands, output formats, atomic ``-o`` and the bad-input contract.

Contract for bad input: exit code 2, every stderr line starts with ``whatif: error:``, no
traceback, and the offending field is named.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import planner
from planner.catalog.store import Catalog
from tests.conftest import CliResult, error_lines

ESTIMATE_ARGS = ("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm",
                 "--input-tokens", "128", "--output-tokens", "64")
DEMO_CLASSES = {"chat", "summarise"}
# Generous safety net so a hung subprocess cannot stall the suite; nothing is timed.
SUBPROCESS_TIMEOUT_S = 600


def assert_bad_input(r: CliResult, *needles: str) -> list[str]:
    """Exit 2, only `whatif: error:` lines on stderr (under ``--format json`` each line's ``message``), no
    traceback, nothing on stdout."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err
    lines = error_lines(r)
    assert lines, "expected an error line on stderr"
    assert all(line.startswith("whatif: error:") for line in lines), r.err
    assert r.out == ""
    for needle in needles:
        assert needle in "\n".join(lines), (needle, r.err)
    return lines


def write_scenario(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def demo_text() -> str:
    return planner.demo_scenario_path().read_text(encoding="utf-8")


# --------------------------------------------------------------------------- help


def test_top_level_help_lists_every_command(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("--help")
    assert r.code == 0, r.err
    commands = r.out.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"plan", "estimate", "training-cost", "schema", "init", "catalog"} <= listed


def test_estimate_help_shows_an_example(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("estimate", "--help")
    assert r.code == 0, r.err
    assert "Example" in r.out
    assert re.search(r"^\s+whatif estimate --model \S+ --hardware \S+", r.out, re.MULTILINE), r.out


def test_short_help_flag(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view", "-h")
    assert r.code == 0
    assert "--set" in r.out and "--format" in r.out


# --------------------------------------------------------------------------- plan


def test_plan_demo_prints_a_table(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view")
    assert r.code == 0, r.err
    assert "support-assistant" in r.out
    header = next(line for line in r.out.splitlines() if "class" in line and "hardware" in line)
    for column in ("TTFT ms", "TPOT ms", "GPUs", "$/h"):
        assert column in header
    for cls in DEMO_CLASSES:
        assert cls in r.out
    assert "h100-sxm" in r.out


def test_plan_json(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {"schema_version", "rows"} <= data.keys()
    assert data["schema_version"] == 1
    assert data["rows"], "the demo has feasible deployments"
    assert {row["workload"] for row in data["rows"]} == DEMO_CLASSES
    demo_hardware = set(planner.load_scenario(planner.demo_scenario_path()).market.hardware or [])
    assert {row["hardware"] for row in data["rows"]} <= demo_hardware
    for row in data["rows"]:
        assert row["gpus"] == row["replicas"] * row["tp"]
        assert row["usd_per_hour"] > 0


def test_plan_markdown(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view", "--format", "markdown")
    assert r.code == 0, r.err
    assert r.out.startswith("## ")
    assert "| class |" in r.out


def test_plan_output_file_json(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out.json"
    r = whatif("plan", "--estimator-view", "--format", "json", "-o", str(out))
    assert r.code == 0, r.err
    assert r.out == ""
    assert str(out) in r.err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"schema_version", "rows"} <= data.keys()
    # atomic: written via a temporary file that is renamed away, so nothing else is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_plan_output_replaces_an_existing_file(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "plan.md"
    out.write_text("old content\n", encoding="utf-8")
    r = whatif("plan", "--estimator-view", "--format", "markdown", "-o", str(out))
    assert r.code == 0, r.err
    assert out.read_text(encoding="utf-8").startswith("## ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.md"]


def test_plan_with_unreachable_ttft_explains_best_achievable(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("plan", "--estimator-view", str(planner.demo_scenario_path()), "--set", "workload.chat.ttft_ms=1", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {row["workload"] for row in data["rows"]} == {"summarise"}
    chat = [m for m in data["infeasible"] if m["workload"] == "chat"]
    demo_hardware = planner.load_scenario(planner.demo_scenario_path()).market.hardware or []
    assert {m["hardware"] for m in chat} == set(demo_hardware)
    for miss in chat:
        match = re.search(r"best TTFT ([\d.,]+) ms \(target 1\)", miss["reason"])
        assert match, miss["reason"]
        assert float(match.group(1).replace(",", "")) > 1


def test_plan_set_override_changes_the_result(whatif) -> None:  # type: ignore[no-untyped-def]
    base = json.loads(whatif("plan", "--estimator-view", "--format", "json").out)
    r = whatif("plan", "--estimator-view", "--set", "workload.chat.queries_per_day=2e7", "--format", "json")
    assert r.code == 0, r.err
    more = json.loads(r.out)

    def gpus(data: dict, cls: str) -> dict[str, int]:  # type: ignore[type-arg]
        return {row["hardware"]: row["gpus"] for row in data["rows"] if row["workload"] == cls}

    assert gpus(more, "summarise") == gpus(base, "summarise")
    assert all(more_g > gpus(base, "chat")[hw] for hw, more_g in gpus(more, "chat").items())


def test_plan_json_scenario_file(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import tomllib

    path = write_scenario(tmp_path, json.dumps(tomllib.loads(demo_text())), "demo.json")
    r = whatif("plan", "--estimator-view", str(path), "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["scenario"] == "support-assistant"


# --------------------------------------------------------------------------- bad input: estimate


def test_unknown_hardware_suggests_the_close_one(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sx",
               "--input-tokens", "10", "--output-tokens", "10")
    lines = assert_bad_input(r, "hardware", "h100-sx", "did you mean 'h100-sxm'")
    assert len(lines) == 1


def test_unknown_precision(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif(*ESTIMATE_ARGS, "--precision", "fp9")
    assert_bad_input(r, "precision", "fp9")


def test_negative_input_tokens(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm",
               "--input-tokens", "-5", "--output-tokens", "10")
    assert_bad_input(r, "input_tokens", "-5")


def test_gpus_not_a_multiple_of_tp(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif(*ESTIMATE_ARGS, "--tp", "3", "--gpus", "4")
    assert_bad_input(r, "gpus", "multiple of tp")


def test_tp_beyond_scaleup_domain(whatif, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    domain = catalog.hardware["h100-sxm"].scaleup_domain_gpus
    assert domain == 8
    r = whatif(*ESTIMATE_ARGS, "--tp", "16")
    lines = assert_bad_input(r, "tp", "16")
    assert str(domain) in lines[0]


def test_batch_that_does_not_fit_names_the_largest(whatif) -> None:  # type: ignore[no-untyped-def]
    args = ("estimate", "--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--tp", "2",
            "--input-tokens", "1000", "--output-tokens", "100")
    largest = planner.estimate("llama-3.1-70b", "h100-sxm", tp=2, input_tokens=1000, output_tokens=100).max_batch
    assert 1 <= largest < 100000
    r = whatif(*args, "--batch", "100000")
    assert_bad_input(r, "batch", "does not fit", f"largest: {largest}")
    # ... and the largest one it names does fit
    ok = whatif(*args, "--batch", str(largest), "--format", "json")
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["batch"] == largest


def test_batch_not_a_number(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif(*ESTIMATE_ARGS, "--batch", "abc")
    assert_bad_input(r, "batch", "abc")


def test_model_config_missing_num_hidden_layers(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = {
        "model_type": "llama",
        "hidden_size": 4096,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "max_position_embeddings": 8192,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    r = whatif("estimate", "--model", str(path), "--hardware", "h100-sxm",
               "--input-tokens", "10", "--output-tokens", "10")
    assert_bad_input(r, "num_hidden_layers")


def test_model_config_that_works(whatif) -> None:  # type: ignore[no-untyped-def]
    path = Path(__file__).parents[1] / "data" / "gpt-13b-ft" / "config.json"
    r = whatif("estimate", "--model", str(path), "--hardware", "h100-sxm",
               "--input-tokens", "10", "--output-tokens", "10", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["model"] == "gpt-13b-ft"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--tp", "abc"), "--tp"),
        (("--format", "xml"), "--format"),
        (("--bogus",), "--bogus"),
    ],
)
def test_click_usage_errors_follow_the_contract(whatif, args: tuple[str, ...], needle: str) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif(*ESTIMATE_ARGS, *args), needle)


def test_missing_required_option(whatif) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif("estimate", "--hardware", "h100-sxm", "--input-tokens", "1", "--output-tokens", "1"),
                     "--model")


def test_unknown_command(whatif) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif("plna"), "plna")


# --------------------------------------------------------------------------- bad input: plan


def test_scenario_with_typo_key(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_scenario(tmp_path, demo_text().replace("ttft_ms = 800", "ttft_msx = 800", 1))
    assert_bad_input(whatif("plan", "--estimator-view", str(path)), "workload[chat].ttft_msx", "unknown key")


def test_scenario_not_toml(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_scenario(tmp_path, "this is = not [toml\n")
    assert_bad_input(whatif("plan", "--estimator-view", str(path)), str(path), "not valid TOML")


def test_scenario_path_is_a_directory(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif("plan", "--estimator-view", str(tmp_path)), str(tmp_path), "is a directory")


def test_scenario_missing(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nope.toml"
    assert_bad_input(whatif("plan", "--estimator-view", str(path)), str(path), "not found")


def test_bad_set_override(whatif) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif("plan", "--estimator-view", "--set", "workload.nope.ttft_ms=5"), "--set", "nope", "chat", "summarise")


def test_several_scenario_errors_one_line_each(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = demo_text().replace("ttft_ms = 800", "ttft_ms = -1", 1).replace("months = 36", "months = 0", 1)
    lines = assert_bad_input(whatif("plan", "--estimator-view", str(write_scenario(tmp_path, text))))
    assert len(lines) == 2
    assert any("workload[chat].ttft_ms" in line for line in lines)
    assert any("horizon.months" in line for line in lines)


def test_output_into_missing_directory_creates_nothing(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "nodir" / "out.json"
    r = whatif("plan", "--estimator-view", "--format", "json", "-o", str(target))
    assert_bad_input(r, "-o", "nodir", "does not exist")
    assert not target.parent.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_to_a_directory(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif(*ESTIMATE_ARGS, "-o", str(tmp_path)), "-o", "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_failing_run_leaves_no_output_file(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = write_scenario(tmp_path, demo_text().replace('base = "llama-3.1-70b"', 'base = "llama-3.1-70x"', 1))
    out = tmp_path / "plan.json"
    r = whatif("plan", "--estimator-view", str(bad), "--format", "json", "-o", str(out))
    assert_bad_input(r, "model.base", "llama-3.1-70x")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_failing_estimate_leaves_no_output_file(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "est.json"
    r = whatif(*ESTIMATE_ARGS, "--batch", "abc", "--format", "json", "-o", str(out))
    assert_bad_input(r, "batch")
    assert not out.exists()


def test_failing_run_keeps_an_existing_output_file(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "plan.json"
    out.write_text("previous\n", encoding="utf-8")
    r = whatif("plan", "--estimator-view", str(tmp_path / "missing.toml"), "-o", str(out))
    assert_bad_input(r, "not found")
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_write_failure_leaves_no_temporary_file(whatif, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.output as output

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(output.os, "replace", refuse)
    out = tmp_path / "plan.json"
    out.write_text("previous\n", encoding="utf-8")
    r = whatif("plan", "--estimator-view", "--format", "json", "-o", str(out))
    assert_bad_input(r, "-o", "cannot write")
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


# --------------------------------------------------------------------------- schema, init


def test_schema_prints_json_schema(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("schema")
    assert r.code == 0, r.err
    schema = json.loads(r.out)
    assert "workload" in schema["properties"]
    assert {"name", "model"} <= set(schema["required"])  # workload, or buckets: checked by the model
    assert "buckets" in schema["properties"] and "measured" in schema["properties"]
    # tables of free keys are closed: a key off the pattern is refused by the schema as by the loader
    quota = schema["$defs"]["Market"]["properties"]["quota_gpus"]
    assert quota["additionalProperties"] is False and quota["patternProperties"]
    assert schema["properties"]["techniques"]["additionalProperties"] is False


def test_init_writes_a_scenario_plan_accepts(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "my.toml"
    r = whatif("init", str(path))
    assert r.code == 0, r.err
    assert path.is_file()
    assert str(path) in r.err
    planned = whatif("plan", "--estimator-view", str(path), "--format", "json")
    assert planned.code == 0, planned.err
    assert json.loads(planned.out)["rows"]


def test_init_refuses_to_overwrite(whatif, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "my.toml"
    path.write_text("# mine\n", encoding="utf-8")
    assert_bad_input(whatif("init", str(path)), str(path), "--force")
    assert path.read_text(encoding="utf-8") == "# mine\n"
    r = whatif("init", str(path), "--force")
    assert r.code == 0, r.err
    assert path.read_text(encoding="utf-8") == demo_text()


# --------------------------------------------------------------------------- training-cost


def test_training_cost_json(whatif, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    r = whatif("training-cost", "--model", "llama-2-70b", "--tokens", "2e12", "--hardware", "a100-80gb",
               "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {"flops", "gpu_hours", "cost_usd"} <= data.keys()
    params = catalog.models["llama-2-70b"].params_active
    assert data["flops"] == pytest.approx(6 * params * 2e12)
    assert data["gpu_hours"] > 0
    assert data["cost_usd"] == pytest.approx(data["gpu_hours"] * data["price_usd_per_gpu_hour"])


def test_training_cost_model_and_params_conflict(whatif) -> None:  # type: ignore[no-untyped-def]
    r = whatif("training-cost", "--model", "llama-2-70b", "--params", "7e10", "--tokens", "2e12",
               "--hardware", "a100-80gb")
    assert_bad_input(r, "--model", "--params")


def test_training_cost_active_params_go_with_params_only(whatif) -> None:  # type: ignore[no-untyped-def]
    """With --model they were silently ignored (the model's own active parameters were used)."""
    r = whatif("training-cost", "--model", "mixtral-8x7b", "--active-params", "5e9", "--tokens", "1e12",
               "--hardware", "h100-sxm")
    assert_bad_input(r, "active_params", "--params")


def test_training_cost_needs_model_or_params(whatif) -> None:  # type: ignore[no-untyped-def]
    assert_bad_input(whatif("training-cost", "--tokens", "2e12", "--hardware", "a100-80gb"), "--params")


# --------------------------------------------------------------------------- real processes


def test_python_dash_m_planner_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "planner", "--help"], capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert "plan" in proc.stdout and "estimate" in proc.stdout


def test_console_script_estimate_json() -> None:
    exe = shutil.which("whatif")
    if exe is None:
        pytest.skip("the whatif console script is not on PATH")
    proc = subprocess.run([exe, *ESTIMATE_ARGS, "--format", "json"], capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["model"] == "llama-3.1-8b" and data["hardware"] == "h100-sxm"
    assert data["ttft_ms"] > 0 and data["tpot_ms"] > 0


def test_console_script_bad_input_exit_code() -> None:
    exe = shutil.which("whatif")
    if exe is None:
        pytest.skip("the whatif console script is not on PATH")
    proc = subprocess.run([exe, *ESTIMATE_ARGS, "--precision", "fp9"], capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT_S, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("whatif: error: precision:")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_command_shows_a_spinner_on_a_terminal_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from planner.cli.common import busy

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with busy("planning demo"):
        time.sleep(0.3)
    assert "planning demo" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with busy("planning demo"):
        pass
    assert pipe.getvalue() == ""


def test_the_json_schema_accepts_and_refuses_what_the_loader_does(whatif, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The shipped examples and the demo validate against `whatif schema`; single-field rules the loader
    checks in validators (profile length and weights, duplicate or empty lists) are refused by the
    schema too; a scenario whose classes come from [buckets] alone needs no workload."""
    import tomllib
    from pathlib import Path

    import jsonschema

    import planner

    schema = json.loads(whatif("schema").out)
    validator = jsonschema.Draft202012Validator(schema)
    examples = [*sorted((Path(__file__).parents[2] / "examples").glob("*.toml")), planner.demo_scenario_path()]
    for path in examples:
        errors = [e.message for e in validator.iter_errors(tomllib.loads(path.read_text(encoding="utf-8")))]
        assert not errors, (path.name, errors[:3])
    demo = tomllib.loads(planner.demo_scenario_path().read_text(encoding="utf-8"))

    def with_chat(**extra: object) -> dict:  # type: ignore[type-arg]
        doc = json.loads(json.dumps(demo))
        doc["workload"][0].update(extra)
        doc.get("horizon", {}).pop("peak_to_average", None)
        return doc

    refused = {
        "3 weights": with_chat(profile=[1.0, 2.0, 3.0]),
        "negative weight": with_chat(profile=[-1.0] + [1.0] * 23),
        "all zero": with_chat(profile=[0.0] * 24),
        "bad shape name": with_chat(profile="Not A Shape!"),
        "duplicate modes": {**demo, "market": {**demo["market"], "modes": ["on-demand", "on-demand"]}},
        "empty hardware": {**demo, "market": {**demo["market"], "hardware": []}},
        "no classes": {k: v for k, v in demo.items() if k != "workload"},
    }
    for label, doc in refused.items():
        assert not validator.is_valid(doc), label
        path = tmp_path / f"{label.replace(' ', '_')}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        assert whatif("plan", str(path), "--estimator-view").code == 2, label
    assert validator.is_valid(with_chat(profile=[1.0] * 24)) and validator.is_valid(with_chat(profile="chat-regional"))
    buckets_only = {k: v for k, v in demo.items() if k != "workload"}
    buckets_only["buckets"] = {"total_rate_rps": 20.0, "input_edges": [1, 1000, 8000], "output_edges": [1, 500],
                               "shares": [[0.8], [0.2]], "ttft_ms": 2000, "tpot_ms": 80}
    assert validator.is_valid(buckets_only), [e.message for e in validator.iter_errors(buckets_only)][:3]
    path = tmp_path / "buckets_only.json"
    path.write_text(json.dumps(buckets_only), encoding="utf-8")
    assert whatif("plan", str(path), "--estimator-view").code == 0
