"""Discover, validate and hold technique plug-ins.

Discovery reads the entry-point group ``whatif.techniques`` (the built-ins are registered there
too).  Each entry point names a class (instantiated without arguments) or an instance.  Every
plug-in is validated when it registers — name, summary, order, ``Settings`` model, methods — and
any error names the plug-in.

Policy for a broken third-party plug-in: it is **skipped**, and the reason is kept in
``Registry.load_errors`` (shown by ``whatif techniques list`` and as a warning by commands that
use techniques); the built-ins keep working.  A scenario that names a skipped technique then
fails with "unknown technique" and the load error beside it.  The built-ins (this distribution's
own entry points) register first, so a third-party plug-in that takes a built-in's name is the one
skipped, whatever order the installed packages are listed in.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from pydantic import BaseModel

from planner.errors import PluginError
from techniques.base import ENTRY_POINT_GROUP, Technique, TechniqueSettings

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: The distribution whose entry points are the built-in techniques (pyproject.toml ``[project] name``).
BUILTIN_DISTRIBUTION = "whatif-planner"
REQUIRED_METHODS = ("describe", "options")


@dataclass
class Registry:
    """Techniques by name, in application order; plug-ins that failed to load, with reasons."""

    techniques: dict[str, Technique] = field(default_factory=dict)
    load_errors: dict[str, str] = field(default_factory=dict)

    def register(self, plugin: object, label: str = "") -> Technique:
        """Validate ``plugin`` and add it; raises :class:`PluginError` naming it."""
        technique = validate_plugin(plugin, label)
        if technique.name in self.techniques:
            raise PluginError(f"a technique named '{technique.name}' is already registered", label or technique.name)
        self.techniques[technique.name] = technique
        return technique

    def unregister(self, name: str) -> None:
        self.techniques.pop(name, None)

    def ordered(self) -> list[Technique]:
        return sorted(self.techniques.values(), key=lambda t: (t.order, t.name))

    def get(self, name: str) -> Technique | None:
        return self.techniques.get(name)


def validate_plugin(plugin: object, label: str = "") -> Technique:
    """Check the contract of ``techniques.base.Technique``; instantiate a class."""
    who = label or getattr(plugin, "name", None) or repr(plugin)
    if inspect.isclass(plugin):
        try:
            plugin = plugin()
        except Exception as exc:  # noqa: BLE001  (any failure of third-party code is reported)
            raise PluginError(f"cannot be instantiated: {type(exc).__name__}: {exc}", who) from None
    name = getattr(plugin, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise PluginError(f"'name' must be a lowercase slug matching {NAME_RE.pattern}, got {name!r}", who)
    who = label or name
    if not isinstance(getattr(plugin, "summary", None), str) or not plugin.summary.strip():  # type: ignore[attr-defined]
        raise PluginError("'summary' must be a non-empty string", who)
    order = getattr(plugin, "order", None)
    if isinstance(order, bool) or not isinstance(order, int):
        raise PluginError(f"'order' must be an integer, got {order!r}", who)
    settings = getattr(plugin, "Settings", None)
    if not (inspect.isclass(settings) and issubclass(settings, BaseModel)):
        raise PluginError("'Settings' must be a pydantic model class", who)
    if not issubclass(settings, TechniqueSettings) and settings.model_config.get("extra") != "forbid":
        raise PluginError("'Settings' must forbid unknown keys (subclass techniques.base.TechniqueSettings)", who)
    try:
        settings()
    except Exception:  # noqa: BLE001
        raise PluginError("'Settings' must be constructible with no arguments (every field needs a default)", who) from None
    try:
        settings.model_json_schema()  # `whatif techniques show` and the scenario's JSON Schema print it
    except Exception as exc:  # noqa: BLE001
        raise PluginError(f"'Settings' has no JSON Schema: {type(exc).__name__}: {exc}", who) from None
    for method in REQUIRED_METHODS:
        if not callable(getattr(plugin, method, None)):
            raise PluginError(f"missing method '{method}'", who)
    if not isinstance(plugin, Technique):
        raise PluginError("does not satisfy the Technique protocol", who)
    return plugin


def _load_entry_point(ep: EntryPoint) -> object:
    return ep.load()


def load_registry() -> Registry:
    """A fresh registry from the ``whatif.techniques`` entry points (broken plug-ins skipped)."""
    registry = Registry()
    def builtin_first(ep: EntryPoint) -> tuple[bool, str]:
        dist = getattr(ep, "dist", None)
        return (dist is None or dist.name != BUILTIN_DISTRIBUTION, ep.name)

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=builtin_first):
        label = f"{ep.name} ({ep.value})"
        if ep.name in registry.techniques:
            registry.load_errors[label] = f"duplicate technique name '{ep.name}' (another package registers it)"
            continue
        try:
            plugin = _load_entry_point(ep)
            technique = registry.register(plugin, label)
        except PluginError as exc:
            registry.load_errors[label] = exc.reason
            continue
        except Exception as exc:  # noqa: BLE001  (a broken plug-in must not break the built-ins)
            registry.load_errors[label] = f"failed to import: {type(exc).__name__}: {exc}"
            continue
        if technique.name != ep.name:
            registry.unregister(technique.name)
            registry.load_errors[label] = f"entry point name '{ep.name}' differs from the technique's name '{technique.name}'"
    return registry


@functools.cache
def default_registry() -> Registry:
    """The process-wide registry (entry points read once)."""
    return load_registry()


__all__ = ["Registry", "default_registry", "load_registry", "validate_plugin", "TechniqueSettings"]
