"""Technique plug-ins as plain dicts (JSON) and terminal text."""

from __future__ import annotations

from typing import Any

from planner.catalog.store import Catalog
from planner.report.render import _kv_table, _table_text
from techniques.base import OptionInfo, Technique
from techniques.registry import Registry


def technique_dict(t: Technique, catalog: Catalog) -> dict[str, Any]:
    params = [row.model_dump(mode="json") for key, row in sorted(catalog.technique_params.items()) if key[0] == t.name]
    infos = t.describe(catalog)
    if not isinstance(infos, list | tuple) or not all(isinstance(o, OptionInfo) for o in infos):
        raise TypeError(f"describe() must return a list of OptionInfo, got {type(infos).__name__}")
    return {
        "name": t.name,
        "order": t.order,
        "summary": t.summary,
        "module": type(t).__module__,
        "options": [{"name": "none", "summary": "leave the model as it is", "effects": []}]
        + [{"name": o.name, "summary": o.summary, "effects": sorted(o.effects)} for o in infos],
        "settings_schema": t.Settings.model_json_schema(),
        "catalog_parameters": params,
    }


def registry_dict(registry: Registry, catalog: Catalog) -> dict[str, Any]:
    """Every technique's listing; one whose ``describe`` fails (third-party code) is listed under
    ``load_errors`` with the reason instead of taking the whole listing down."""
    listed, errors = [], dict(registry.load_errors)
    for t in registry.ordered():
        try:
            listed.append(technique_dict(t, catalog))
        except Exception as exc:  # noqa: BLE001  (a plug-in's failure names the plug-in)
            errors[f"{t.name} ({type(t).__module__})"] = f"describe() failed: {type(exc).__name__}: {exc}"
    return {"techniques": listed, "load_errors": dict(sorted(errors.items()))}


def registry_text(data: dict[str, Any]) -> str:
    lines = []
    for t in data["techniques"]:
        lines.append(f"{t['name']}  (order {t['order']}) — {t['summary']}")
        for o in t["options"]:
            effects = f"  [{', '.join(o['effects'])}]" if o["effects"] else ""
            lines.append(f"    {o['name']:<16} {o['summary']}{effects}")
    for label, reason in data["load_errors"].items():
        lines.append(f"skipped plug-in {label}: {reason}")
    return "\n".join(lines) + "\n"


def technique_text(t: dict[str, Any]) -> str:
    rows = [("technique", t["name"]), ("summary", t["summary"]), ("order", str(t["order"])), ("module", t["module"])]
    rows += [(f"option {o['name']}", f"{o['summary']}" + (f" [{', '.join(o['effects'])}]" if o["effects"] else ""))
             for o in t["options"]]
    settings = t["settings_schema"].get("properties", {})
    rows += [(f"setting {k}", v.get("description", v.get("title", ""))) for k, v in settings.items()]
    rows += [(f"catalog {p['option']}/{p['key']}/{p['applies_to']}", f"{p['value']:g} {p['unit']} — {p['source']}")
             for p in t["catalog_parameters"]]
    return _table_text(_kv_table(f"technique {t['name']}", rows))
