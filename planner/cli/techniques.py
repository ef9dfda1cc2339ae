"""``whatif techniques list|show``."""

from __future__ import annotations

import click

from planner.cli.common import load_catalog
from planner.errors import PluginError, UnknownSlugError
from planner.output import json_document
from planner.report.techniques_view import registry_dict, registry_text, technique_dict, technique_text
from techniques.registry import default_registry

FORMAT = click.Choice(["table", "json"])


@click.group("techniques")
def techniques_group() -> None:
    """The technique plug-ins (entry-point group whatif.techniques) and their options."""


@techniques_group.command("list")
@click.option("--format", "fmt", type=FORMAT, default="table", show_default=True)
@click.pass_context
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """List techniques with their options and what each option changes.

    \b
    Example:
      whatif techniques list --format json
    """
    data = registry_dict(default_registry(), load_catalog(ctx))
    click.echo(json_document(data, kind="techniques") if fmt == "json" else registry_text(data), nl=False)


@techniques_group.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT, default="table", show_default=True)
@click.pass_context
def show_cmd(ctx: click.Context, name: str, fmt: str) -> None:
    """Show one technique: options, scenario settings, catalog numbers with sources.

    \b
    Example:
      whatif techniques show quantization
    """
    registry = default_registry()
    technique = registry.get(name)
    if technique is None:
        raise UnknownSlugError("technique", name, registry.techniques, "name")
    try:
        data = technique_dict(technique, load_catalog(ctx))
    except Exception as exc:  # noqa: BLE001  (a plug-in's own failure: exit 2 naming it, no traceback)
        raise PluginError(f"describe() failed: {type(exc).__name__}: {exc}", name) from None
    click.echo(json_document(data, kind="technique") if fmt == "json" else technique_text(data), nl=False)
