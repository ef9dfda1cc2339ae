"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

import click

from planner import api
from planner.catalog.store import CATALOG_ENV_VAR, Catalog, overlay_files
from planner.output import check_writable, write_atomic


class FormatChoice(click.Choice):  # type: ignore[type-arg]
    """``--format``'s choices, with ``md`` read as ``markdown`` (the file suffix people type)."""

    ALIASES = {"md": "markdown"}

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        return super().convert(self.ALIASES.get(value, value) if isinstance(value, str) else value, param, ctx)


def overlay_paths(ctx: click.Context) -> list[str]:
    """The catalog overlays of this invocation, in the order they apply: ``$WHATIF_CATALOG``'s
    entries, then every ``--catalog`` — one list for every command (sweep workers get it too)."""
    env = [p for p in os.environ.get(CATALOG_ENV_VAR, "").split(os.pathsep) if p]
    return [*env, *(ctx.ensure_object(dict).get("catalog_paths") or [])]


def load_catalog(ctx: click.Context) -> Catalog:
    """The catalog for this invocation (shipped + $WHATIF_CATALOG + --catalog), loaded once."""
    obj = ctx.ensure_object(dict)
    if "catalog" not in obj:
        obj["catalog"] = api.load_catalogs(overlay_paths(ctx), use_env=False)
    catalog: Catalog = obj["catalog"]
    return catalog


def run_inputs(ctx: click.Context, *paths: str | None) -> list[str]:
    """The files this invocation reads: the given paths and every catalog overlay file."""
    return [*(str(p) for p in paths if p), *(str(f) for f in overlay_files(overlay_paths(ctx)))]


def scenario_inputs(path: str, overrides: Sequence[str] = ()) -> list[str]:
    """The scenario file and the files it names (a model config, a measurements CSV): an output must
    replace none of them (:func:`planner.scenario.loading.files_named`)."""
    from planner.scenario.loading import files_named

    return [path, *files_named(path, overrides)]


def guard_scenario_output(ctx: click.Context, output: str | None, path: str, overrides: Sequence[str]) -> None:
    """:func:`guard_output` against the scenario (the built-in demo too) and every file it names; the
    scenario is read for them only when there is an output to guard."""
    if output:
        guard_output(ctx, output, *scenario_inputs(path, overrides))


def guard_output(ctx: click.Context, output: str | None, *inputs: str | None, flag: str = "-o") -> None:
    """Refuse, before any work, an output that cannot be written or would replace an input, a
    non-regular file, or a read-only file (without ``--force``)."""
    if output:
        check_writable(output, flag, inputs=run_inputs(ctx, *inputs), force=ctx.ensure_object(dict).get("force", False))


def _store_force(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.ensure_object(dict)["force"] = bool(value)
    return value


#: ``--force`` for every command that writes a file (the flag lands in ``ctx.obj``).
force_option = click.option("--force", is_flag=True, expose_value=False, callback=_store_force,
                            help="Replace an existing read-only output file.")


def emit(text: str, output: str | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output:
        write_atomic(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@contextlib.contextmanager
def busy(label: str) -> Iterator[None]:
    """A spinner on stderr while ``label`` runs — only on a terminal, so
    pipes, files and scripts see nothing extra (and rich is not even imported for them)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console  # interactive use only: keeps a scripted call's start-up short

    with Console(stderr=True).status(f"{label}…"):
        yield
