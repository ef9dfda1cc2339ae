"""The ``whatif`` command line: parse → call :mod:`planner.api` → render.  No arithmetic here.

Exit codes: 0 success; 2 bad input (one line per problem: ``field: reason``); 1 internal
error (set ``WHATIF_DEBUG=1`` for the traceback); 130 interrupted (``whatif: interrupted`` on stderr).
Under ``--format json`` each of those lines is a JSON record instead (:mod:`planner.cli.failures`).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from planner import api
from planner.cli.common import (
    FormatChoice,
    busy,
    emit,
    force_option,
    guard_output,
    guard_scenario_output,
    load_catalog,
)
from planner.cli.failures import Failures, wants_json
from planner.errors import InputError, PlannerError
from planner.output import to_json, write_atomic
from planner.physics.deployment import model_is_file
from planner.scenario.schema import scenario_json_schema

EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130
#: What every command prints on Ctrl-C (README, exit codes), then exits ``EXIT_INTERRUPTED``.
INTERRUPTED_MESSAGE = "whatif: interrupted"
DEBUG_ENV_VAR = "WHATIF_DEBUG"
#: Failures as text lines (the form every format but ``--format json`` uses).
TEXT_FAILURES = Failures(as_json=False)

FORMAT_CHOICE = click.Choice(["table", "json"])
#: Commands in their own modules, imported when run (or listed): `whatif plan` does not pay for
#: the explanation, sweep, calibration and catalog code, nor for rich when it prints JSON.
LAZY_COMMANDS = {
    "breakeven": "planner.cli.explain:breakeven_cmd",
    "calibrate": "planner.cli.calibrate:calibrate_cmd",
    "catalog": "planner.cli.catalog:catalog_group",
    "explain": "planner.cli.explain:explain_cmd",
    "sweep": "planner.cli.sweep:sweep_cmd",
    "techniques": "planner.cli.techniques:techniques_group",
}


#: The first paragraph of each lazy command's help, for ``whatif --help`` to list it without
#: importing it (a test checks each against the command's own help).
LAZY_HELP = {
    "breakeven": "The demand (or other input) at which OPTION's one-time cost is repaid, by re-solving.",
    "calibrate": "Fit efficiency factors (per hardware x precision) to your own measurements.",
    "catalog": "Inspect and validate the catalogs (shipped + overlays).",
    "explain": "Why this plan: savings against the baseline, binding constraints, shadow prices, alternatives "
               "and sensitivity (re-solves the plan about 20 times on the demo; shows progress).",
    "sweep": "Plan a scenario at many points: a grid of inputs or Monte Carlo draws, in parallel.",
    "techniques": "The technique plug-ins (entry-point group whatif.techniques) and their options.",
}


class LazyGroup(click.Group):
    """A group whose commands in ``LAZY_COMMANDS`` are imported on first use (the pattern of
    click's documentation, "Lazily Loading Subcommands"); its help lists them from ``LAZY_HELP``,
    so ``whatif --help`` imports none of them (the optimiser among them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing of the commands, with the lazy ones' short help taken from ``LAZY_HELP``."""
        eager = {n: c for n in super().list_commands(ctx)
                 if n not in LAZY_HELP and (c := click.Group.get_command(self, ctx, n)) is not None and not c.hidden}
        names = [n for n in self.list_commands(ctx) if n in LAZY_HELP or n in eager]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            command = eager.get(name)
            text = (command.get_short_help_str(limit) if command is not None
                    else click.Command(name, help=LAZY_HELP[name]).get_short_help_str(limit))
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--catalog", "catalog_paths", multiple=True, type=click.Path(),
              help="Catalog overlay file or directory (repeatable; also $WHATIF_CATALOG).")
@click.version_option(package_name="whatif-planner")
@click.pass_context
def cli(ctx: click.Context, catalog_paths: Sequence[str]) -> None:
    """whatif: which techniques and which hardware serve a model at the lowest lifetime cost.

    \b
    Examples:
      whatif plan                          # the built-in demo scenario
      whatif plan my.toml --set workload.chat.queries_per_day=5e6 --format json
      whatif estimate --model llama-3.1-70b --hardware h100-sxm --precision fp8 \\
                      --tp 2 --batch auto --input-tokens 800 --output-tokens 250
      whatif training-cost --model llama-3.1-8b --tokens 15e12 --hardware h100-sxm
      whatif catalog list hardware
    """
    ctx.ensure_object(dict)["catalog_paths"] = list(catalog_paths)


#: (module in planner.report, function) per text format, imported only when used (tables load rich).
#: The plan's table, Markdown and HTML are one report rendered three ways (planner.report.documents).
PREVIEW_RENDERERS = {"markdown": ("render", "preview_markdown"), "table": ("render", "preview_table"),
                     "html": ("documents", "preview_html")}

#: Exit codes of ``whatif plan`` beyond 0/1/2 (documented in the README).
EXIT_INFEASIBLE = 3
EXIT_NO_PLAN = 4


@cli.command()
@click.argument("scenario", required=False, type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="Override a scenario field, e.g. workload.chat.ttft_ms=500 (repeatable).")
@click.option("--format", "fmt", type=FormatChoice(["table", "json", "markdown", "html"]), default="table",
              show_default=True)
@click.option("--solver", "solver_name", type=click.Choice(["highs", "cbc"]), default=None,
              help="MILP solver [default: the scenario's, else highs].")
@click.option("--trace", is_flag=True, help="Also print which option changed which quantity (always in JSON).")
@click.option("--estimator-view", is_flag=True,
              help="Print the estimator's per-class view (no optimisation) instead of the plan; also a quick "
                   "check of a scenario (every field and catalog reference, in about a second).")
@click.option("-o", "--output", type=click.Path(), help="Write to FILE (atomically) instead of stdout.")
@force_option
@click.pass_context
def plan(ctx: click.Context, scenario: str | None, overrides: Sequence[str], fmt: str, solver_name: str | None,
         trace: bool, estimator_view: bool, output: str | None) -> None:
    """Plan SCENARIO (TOML or JSON; - reads stdin; default: the built-in demo) at the lowest lifetime cost.

    Exit code 0 when a plan is found (status optimal, or feasible at the time limit), 3 when the
    scenario is infeasible (the output says which requirement and the closest achievable value),
    4 when the solver gave no plan.

    \b
    Examples:
      whatif plan
      whatif plan scenario.toml --set horizon.peak_to_average=3 --format markdown -o plan.md
      whatif plan scenario.toml --solver cbc --format json
      whatif plan examples/daily-load.toml --set plan.time_slices=1   # the peak provisioned all day
    """
    path = scenario or str(api.demo_scenario_path())
    if fmt == "html" and not estimator_view:  # the plan's HTML draws charts; the estimator view's has none
        importlib.import_module("planner.report.charts").require_plot_extra("--format html")
    extra = [f"solver.name={solver_name}"] if solver_name else []
    guard_scenario_output(ctx, output, path, [*overrides, *extra])
    sc = api.load_scenario(path, [*overrides, *extra])
    if estimator_view:
        view = api.preview(sc, catalog=load_catalog(ctx))
        emit(to_json(view) if fmt == "json" else _text(*PREVIEW_RENDERERS[fmt], view), output)
        return
    with busy(f"planning {sc.name}"):
        result = api.plan(sc, catalog=load_catalog(ctx))
    text = (to_json(result) if fmt == "json" else importlib.import_module("planner.report.documents").plan_document(
        fmt, result, sc, load_catalog(ctx)))
    if trace and fmt != "json":
        text += _text("plan_view", "trace_text", result)
    emit(text, output)
    if result.status == "infeasible":
        ctx.exit(EXIT_INFEASIBLE)
    if result.lifetime_cost_usd is None:
        ctx.exit(EXIT_NO_PLAN)


def _text(module: str, renderer: str, result: Any) -> str:
    """``planner.report.<module>.<renderer>(result)``, imported only when text (tables: rich) is wanted."""
    text: str = getattr(importlib.import_module(f"planner.report.{module}"), renderer)(result)
    return text


def _batch(value: str) -> int | None:
    if value == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"must be a whole number or 'auto', got '{value}'", "batch") from None


@cli.command()
@click.option("--model", required=True, help="Catalog slug or path to a Hugging Face config.json.")
@click.option("--hardware", required=True, help="Hardware slug (whatif catalog list hardware).")
@click.option("--precision", default="bf16", show_default=True, help="bf16 fp16 fp8 int8 w4a16 w4a8 fp4.")
@click.option("--kv-precision", default=None,
              help="KV-cache precision [default: the precision's default_kv, whatif catalog list precisions].")
@click.option("--tp", type=int, default=1, show_default=True, help="Tensor-parallel degree (GPUs per replica).")
@click.option("--gpus", type=int, default=None, help="GPUs in total (gpus/tp replicas) [default: tp].")
@click.option("--batch", "batch_text", default="auto", show_default=True,
              help="Max concurrent sequences per replica, or 'auto' (largest that fits memory).")
@click.option("--input-tokens", type=int, required=True, help="Prompt tokens per request.")
@click.option("--output-tokens", type=int, required=True, help="Generated tokens per request.")
@click.option("--draft", default=None, help="Speculative decoding: the draft model's slug (same tokenizer, smaller).")
@click.option("--acceptance-rate", type=float, default=None, help="Speculative decoding: per-token acceptance (0-1).")
@click.option("--draft-tokens", type=int, default=None, help="Speculative decoding: tokens drafted per pass.")
@click.option("--engine", default=None,
              help="Serving engine: tensorrt-llm, vllm, sglang (catalogs/engines.toml) [default: the engine the "
                   "hardware's efficiency factors were fitted on].")
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="Write to FILE (atomically) instead of stdout.")
@force_option
@click.pass_context
def estimate(ctx: click.Context, model: str, hardware: str, precision: str, kv_precision: str | None, tp: int,
             gpus: int | None, batch_text: str, input_tokens: int, output_tokens: int, draft: str | None,
             acceptance_rate: float | None, draft_tokens: int | None, engine: str | None, fmt: str,
             output: str | None) -> None:
    """Roofline figures of one deployment: TTFT, TPOT, throughput, memory, bound.

    \b
    Examples:
      whatif estimate --model llama-3.3-70b --hardware h100-sxm --precision fp8 --tp 2 \\
                      --batch 1 --input-tokens 5000 --output-tokens 500 --format json
      whatif estimate --model llama-3.1-70b --hardware h100-sxm --tp 2 --batch 1 \\
                      --input-tokens 800 --output-tokens 300 \\
                      --draft llama-3.1-8b --acceptance-rate 0.75 --draft-tokens 3
    """
    guard_output(ctx, output, *(m for m in (model, draft) if m is not None and model_is_file(m)))
    result = api.estimate(model, hardware, precision=precision, kv_precision=kv_precision, tp=tp,
                          batch=_batch(batch_text), input_tokens=input_tokens, output_tokens=output_tokens,
                          gpus=gpus, draft=draft, acceptance_rate=acceptance_rate, draft_tokens=draft_tokens,
                          catalog=load_catalog(ctx), engine=engine)
    emit(to_json(result) if fmt == "json" else _text("render", "estimate_table", result), output)


@cli.command("training-cost")
@click.option("--model", default=None, help="Catalog slug or config.json (its active parameters are used).")
@click.option("--params", type=float, default=None, help="Parameter count (instead of --model).")
@click.option("--active-params", type=float, default=None, help="Active parameters per token (MoE).")
@click.option("--tokens", type=float, required=True, help="Training tokens, e.g. 15e12.")
@click.option("--hardware", required=True, help="Training hardware slug.")
@click.option("--mfu", type=float, default=None, help="Model FLOPs utilisation [default: catalog training_mfu].")
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="table", show_default=True)
@click.pass_context
def training_cost(ctx: click.Context, model: str | None, params: float | None, active_params: float | None,
                  tokens: float, hardware: str, mfu: float | None, fmt: str) -> None:
    """One-time training compute (6·N_active·D), GPU-hours and cost.

    \b
    Example:
      whatif training-cost --model llama-2-70b --tokens 2e12 --hardware a100-80gb --format json
    """
    result = api.training_cost(tokens=tokens, hardware=hardware, model=model, params=params,
                               active_params=active_params, mfu=mfu, catalog=load_catalog(ctx))
    click.echo(to_json(result) if fmt == "json" else _text("render", "training_table", result), nl=False)


@cli.command()
@click.option("-o", "--output", type=click.Path(), help="Write to FILE instead of stdout.")
@force_option
@click.pass_context
def schema(ctx: click.Context, output: str | None) -> None:
    """Print the JSON Schema of a scenario file (for editors and validators).

    \b
    Example:
      whatif schema -o scenario.schema.json
    """
    guard_output(ctx, output)
    emit(json.dumps(scenario_json_schema(), indent=2) + "\n", output)


@cli.command()
@click.argument("path", default="scenario.toml", type=click.Path())
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter scenario to PATH (default: scenario.toml).

    \b
    Example:
      whatif init my-service.toml && whatif plan my-service.toml
    """
    if Path(path).is_dir():
        raise InputError("is a directory, expected a file path", path)
    if Path(path).exists() and not force:
        raise InputError("already exists; pass --force to overwrite", path)
    write_atomic(path, api.demo_scenario_path().read_text(encoding="utf-8"), flag="PATH")
    click.echo(f"wrote {path}; run: whatif plan {path}", err=True)




def _run(func: Callable[[], Any], failures: Failures = TEXT_FAILURES) -> int:
    """Run the command; every failure becomes an exit code and its stderr lines (:mod:`planner.cli.failures`)."""
    try:
        returned = func()
        if isinstance(returned, int) and not isinstance(returned, bool):  # ctx.exit(n) under standalone_mode=False
            return returned
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `whatif` / `whatif catalog`: print the help
        exc.show()
        return int(exc.exit_code)
    except click.ClickException as exc:
        # Usage errors (bad option value, missing option, unknown command) follow the same
        # contract as every other bad input: one `whatif: error: ...` line per problem.
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        param = getattr(exc, "param", None)
        field = (param.opts[0] if param.opts else param.name or "") if isinstance(param, click.Parameter) else ""
        field = field or getattr(exc, "option_name", None) or ""  # "-o requires an argument", "no such option"
        lines = exc.format_message().splitlines() or [type(exc).__name__]
        for i, line in enumerate(lines):
            failures.report(f"whatif: error: {line}{hint if i == len(lines) - 1 else ''}", kind="bad-input",
                            exit_code=int(exc.exit_code), field=field, reason=line)
        return int(exc.exit_code)
    except click.Abort:  # click turns Ctrl-C (KeyboardInterrupt) inside a command into Abort
        failures.report(INTERRUPTED_MESSAGE, kind="interrupted", exit_code=EXIT_INTERRUPTED, reason="interrupted")
        return EXIT_INTERRUPTED
    except PlannerError as exc:
        if exc.exit_code == EXIT_INTERRUPTED:  # a sweep stopped by Ctrl-C or SIGTERM: says how to resume
            failures.report(f"{INTERRUPTED_MESSAGE}: {exc}", kind="interrupted", exit_code=EXIT_INTERRUPTED,
                            field=exc.field, reason=exc.reason)
            return EXIT_INTERRUPTED
        lines = str(exc).splitlines()
        parts = exc.problems if len(exc.problems) > 1 else ((exc.field, exc.reason),)
        for i, line in enumerate(lines):  # a multi-line reason of one problem: its field on the first line
            field, reason = parts[i] if i < len(parts) else ("", line)
            if len(lines) != len(parts):  # the line itself, less the field it starts with
                reason = line.removeprefix(f"{field}: ") if field else line
            failures.report(f"whatif: error: {line}", kind="bad-input", exit_code=exc.exit_code, field=field,
                            reason=reason)
        return exc.exit_code
    except KeyboardInterrupt:
        failures.report(INTERRUPTED_MESSAGE, kind="interrupted", exit_code=EXIT_INTERRUPTED, reason="interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001  (last resort: a clear line, traceback on request)
        if os.environ.get(DEBUG_ENV_VAR):
            traceback.print_exc()
        failures.report(f"whatif: internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV_VAR}=1 for the "
                        "traceback)", kind="internal", exit_code=EXIT_INTERNAL_ERROR,
                        reason=f"{type(exc).__name__}: {exc}")
        return EXIT_INTERNAL_ERROR
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(argv) if argv is not None else sys.argv[1:]
    code = _run(lambda: cli.main(args=args, prog_name="whatif", standalone_mode=False), Failures(wants_json(args)))
    sys.exit(code)

