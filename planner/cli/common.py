"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from planner import api
from planner.catalog.store import Catalog
from planner.output import write_atomic


def load_catalog(ctx: click.Context) -> Catalog:
    """The catalog for this invocation (shipped + $WHATIF_CATALOG + --catalog), loaded once."""
    obj = ctx.ensure_object(dict)
    if "catalog" not in obj:
        obj["catalog"] = api.load_catalogs(obj.get("catalog_paths") or [])
    catalog: Catalog = obj["catalog"]
    return catalog


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
