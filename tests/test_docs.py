"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import planner

from planner.insight.explanation import AUX_GAP_REL

README = Path(__file__).parent.parent / "README.md"


def test_readme_python_blocks_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each block as a user runs it: saved to a file and run by Python (worker processes of explain
    re-import the script, which a block run with exec() inside pytest never shows); the plug-in
    example is registered and offers its option on the demo."""
    import subprocess
    import sys

    from planner.optimize.variants import build_variants
    from techniques.registry import Registry, default_registry

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2, "README has no python example"
    outputs = []
    for i, block in enumerate(blocks):
        script = tmp_path / f"block{i}.py"
        script.write_text(block, encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    out = "".join(outputs)
    assert "tok/s at batch" in out and "GPU-hours" in out and "optimal" in out and "against the baseline" in out
    plugin = next(b for b in blocks if "[project.entry-points" not in b and "class PromptCompression" in b)
    namespace: dict[str, object] = {"__name__": "readme_plugin"}
    exec(compile(plugin, str(README), "exec"), namespace)
    registry = Registry(techniques=dict(default_registry().techniques))
    registry.register(namespace["PromptCompression"], "readme example")
    scenario = planner.load_scenario(planner.demo_scenario_path(), ['techniques.prompt_compression=["none", "half"]'])
    _, _, variants, _, _ = build_variants(scenario, planner.load_catalogs(), registry)
    by_options = {tuple(sorted(v.options.items())): v for v in variants}
    halved = [v for v in variants if v.options.get("prompt_compression") == "half"]
    assert halved
    for v in halved:
        twin = by_options[tuple(sorted({**v.options, "prompt_compression": "none"}.items()))]
        for name, profile in v.profiles.items():
            assert profile.prefill_token_fraction == pytest.approx(0.5 * twin.profiles[name].prefill_token_fraction)


def test_readme_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert [c.strip() for c in commands] == ['pip install . && whatif plan', 'pip install ".[test]" && python -m pytest']


def test_readme_estimate_example_matches_the_tool(whatif) -> None:  # type: ignore[no-untyped-def]
    import json
    import shlex

    text = README.read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ whatif (estimate .*?)\s*\| grep .*?\n(.*?)\n```", text, flags=re.S)
    assert block
    args = shlex.split(block.group(1).replace("\\\n", " ").rstrip(" \\"))
    shown = json.loads("{" + block.group(2).strip().rstrip(",") + "}")  # the lines grep printed, as printed
    result = json.loads(whatif(*args).out)
    assert len(shown) == 4
    for key, value in shown.items():
        assert result[key] == value, key


def test_readme_accuracy_table_is_current(capsys) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.calibration_table import main

    main(str(Path(__file__).parent / "data" / "calibration_cases.toml"))
    table = capsys.readouterr().out
    assert table.strip() in README.read_text(encoding="utf-8"), "re-run benchmarks/calibration_table.py into README"


def test_examples_demo_is_the_packaged_demo() -> None:
    import planner

    example = Path(__file__).parent.parent / "examples" / "support-assistant.toml"
    assert example.read_text(encoding="utf-8") == planner.demo_scenario_path().read_text(encoding="utf-8")


def test_every_command_has_help_with_an_example(whatif) -> None:  # type: ignore[no-untyped-def]
    commands = [["plan"], ["estimate"], ["training-cost"], ["explain"], ["breakeven"], ["catalog", "list"],
                ["catalog", "show"], ["catalog", "validate"], ["techniques", "list"], ["techniques", "show"],
                ["schema"], ["init"], ["sweep"], ["calibrate"]]
    for command in commands:
        r = whatif(*command, "--help")
        assert r.code == 0, command
        assert "Example" in r.out, command


def test_readme_breakeven_example_runs_as_printed(whatif) -> None:  # type: ignore[no-untyped-def]
    """The README's break-even command is complete (no elisions) and prints what the README shows:
    the verdict line exactly, the same evaluated values, each cost within the re-solves' gap."""
    import shlex

    text = README.read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ whatif (breakeven .*?)\n(distillation.*?)\n```", text, flags=re.S)
    assert block, "README has no break-even console example"
    command = block.group(1).replace("\\\n", " ")
    assert "..." not in command and "…" not in command
    shown = block.group(2).splitlines()
    r = whatif(*shlex.split(command))
    assert r.code == 0, r.err
    printed = r.out.splitlines()
    assert printed[0] == shown[0]
    assert len(printed) == len(shown)
    money = re.compile(r"\$([\d,]+)")
    for got, want in zip(printed[1:], shown[1:], strict=True):
        assert money.sub("$", got) == money.sub("$", want)
        for a, b in zip(money.findall(got), money.findall(want), strict=True):
            assert float(a.replace(",", "")) == pytest.approx(float(b.replace(",", "")), rel=AUX_GAP_REL)


def test_readme_per_hardware_accuracy_table_is_current(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.calibration_groups import main

    monkeypatch.chdir(Path(__file__).parent.parent)
    main()
    table = capsys.readouterr().out
    assert table.strip() in README.read_text(encoding="utf-8"), "re-run benchmarks/calibration_groups.py into README"


def test_readme_daily_load_table_is_current() -> None:
    """The README's daily-load table: the example and its peak-all-day twin re-solve to the printed costs."""
    import planner
    from benchmarks.daily_load import CONVENTIONS, _scenario

    text = README.read_text(encoding="utf-8")
    for label, overrides in CONVENTIONS[:2]:
        row = re.search(re.escape(f"| {label} | ") + r"(\w+) \| \$([\d,]+) \|", text)
        assert row, label
        plan = planner.plan(_scenario(overrides))
        assert plan.status == row.group(1) == "optimal"
        assert plan.lifetime_cost_usd == pytest.approx(float(row.group(2).replace(",", "")), abs=1.0)


@pytest.mark.parametrize("count", [24, 96, 192])
def test_scaling_benchmark_variant_sets_have_the_counts_it_names(count: int) -> None:
    """``benchmarks/scaling.py`` labels its rows 24, 96 and 192 variants (the speed issue's axis): its
    technique lists must still give that many candidate variants, every one past the quality floor."""
    import planner
    from benchmarks.scaling import VARIANTS
    from planner.optimize.candidates import build_candidates

    scenario = planner.load_scenario(planner.demo_scenario_path(), ["quality.max_drop=100", *VARIANTS[count]])
    cs = build_candidates(scenario, planner.load_catalogs(use_env=False))
    assert len(cs.variants) == count
    floor = cs.base_score - scenario.quality.max_drop if cs.base_score is not None else None
    assert floor is not None
    assert all(p.quality_score is None or p.quality_score >= floor for v in cs.variants for p in v.profiles.values())


def test_readme_corpus_table_counts_the_corpus() -> None:
    """The README's bad-input corpus figures are the corpus file's own counts."""
    import tomllib
    from collections import Counter

    cases = tomllib.loads((Path(__file__).parent / "corpus" / "cases.toml").read_text(encoding="utf-8"))["case"]
    kinds = Counter(c["kind"] for c in cases)
    text = README.read_text(encoding="utf-8")
    assert f"`tests/corpus/cases.toml`, {len(cases)} cases over {len(kinds)} kinds" in text
    for kind, n in kinds.items():
        assert f"| {kind} | {n} |" in text, kind
