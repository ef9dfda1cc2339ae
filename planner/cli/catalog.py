"""``whatif catalog list|show|validate``."""

from __future__ import annotations

from collections.abc import Sequence

import click

from planner import api
from planner.catalog.store import Catalog
from planner.cli.common import load_catalog
from planner.errors import InputError
from planner.output import json_document
from planner.report.catalog_view import TABLE_KINDS, catalog_rows, render_rows, show_item


@click.group("catalog")
def catalog_group() -> None:
    """Inspect and validate the catalogs (shipped + overlays)."""


def _load(ctx: click.Context) -> Catalog:
    return load_catalog(ctx)


@catalog_group.command("list")
@click.argument("kind", type=click.Choice(TABLE_KINDS), default="hardware", metavar="[KIND]")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def list_cmd(ctx: click.Context, kind: str, fmt: str) -> None:
    """List catalog rows of KIND (hardware, models, prices, platforms, quality, precisions, efficiency, engines,
    defaults, load_shapes).

    \b
    Example:
      whatif catalog list models --format json
    """
    rows = catalog_rows(_load(ctx), kind)
    click.echo(json_document({"kind": kind, "rows": rows}) if fmt == "json" else render_rows(kind, rows), nl=False)


@catalog_group.command("show")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def show_cmd(ctx: click.Context, slug: str, fmt: str) -> None:
    """Show one hardware or model row with its prices / quality scores and sources.

    \b
    Example:
      whatif catalog show h100-sxm --format json
    """
    item = show_item(_load(ctx), slug)
    click.echo(json_document(item, kind="catalog-row") if fmt == "json" else render_rows("show", [item]), nl=False)


@catalog_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def validate_cmd(ctx: click.Context, paths: Sequence[str]) -> None:
    """Validate the shipped catalog plus PATHS (overlay files or directories).

    \b
    Example:
      whatif catalog validate my-catalog/
    """
    base = ctx.ensure_object(dict).get("catalog_paths") or []
    cat = api.load_catalogs([*base, *paths])
    counts = {k: len(catalog_rows(cat, k)) for k in TABLE_KINDS}
    if not counts["hardware"] or not counts["models"]:
        raise InputError("the catalog has no hardware or no models", "catalog")
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    click.echo(f"catalog OK: {summary}")
