"""The technique plug-in contract.

A **technique** (quantization, distillation, caching, …) is an object with:

* ``name`` — a slug, unique in the registry (the key in a scenario's ``[techniques]`` table);
* ``summary`` — one line for ``whatif techniques list``;
* ``order`` — where it applies in a variant (lower first: the served model is chosen before its
  precision, the precision before per-class caching);
* ``Settings`` — a pydantic model (``extra="forbid"``) of what a scenario may say about it in
  ``[technique_settings.<name>]``;
* ``describe(catalog)`` — the options it can offer, as :class:`OptionInfo` (static, for listings);
* ``options(ctx)`` — the options it offers for one scenario, as an :class:`OptionSet`: concrete
  :class:`Option` objects plus the options it cannot offer here, each with the reason.

An **option** is a pure transform ``(ServingProfile, Workload) -> ServingProfile`` (raising
:class:`NotApplicable` with a reason when the profile it is given cannot take it) plus what it
declares: the quantities it changes (``effects``), hardware requirements, and conflicts with
other options.  ``none`` is always an option (added by the registry).  One-time work, recurring
cost and quality are fields of the returned profile, each change recorded in ``profile.trace``
with the catalog source behind the number.  No option invents a number: every figure comes from
``catalogs/techniques.toml`` (``catalog.technique_param``) or from the scenario.

Plug-ins are discovered through the entry-point group ``whatif.techniques``; the built-ins
register through that same group (see ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import ComputeDtype, ModelSpec
from planner.catalog.store import Catalog
from planner.errors import NotApplicable as NotApplicable  # re-exported: plug-ins raise it from here
from planner.physics.profile import ServingProfile
from planner.scenario.schema import Scenario, Workload

NONE_OPTION = "none"
ENTRY_POINT_GROUP = "whatif.techniques"


class Effect(StrEnum):
    """Quantities an option may change (declared, shown by ``whatif techniques show``)."""

    MODEL = "model"  # the served architecture (parameters, layers, experts)
    WEIGHT_BYTES = "weight_bytes"
    COMPUTE_DTYPE = "compute_dtype"
    KV_BYTES = "kv_bytes"
    PREFILL_FLOPS = "prefill_flops"
    SERVED_QUERIES = "served_queries"
    DECODE_STEPS = "decode_steps"  # target passes per output token (speculative decoding)
    MEMORY = "memory"
    QUALITY = "quality"
    ONE_TIME_COST = "one_time_cost"
    RECURRING_COST = "recurring_cost"


class TechniqueSettings(BaseModel):
    """Base of every technique's scenario settings: unknown keys refused, numbers finite."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


Transform = Callable[[ServingProfile, Workload], ServingProfile]


@dataclass(frozen=True)
class OptionInfo:
    """What an option does, for listings (no scenario needed)."""

    name: str
    summary: str
    effects: frozenset[Effect]


@dataclass(frozen=True)
class Option:
    """One choice of a technique, ready to apply."""

    technique: str
    name: str
    summary: str
    effects: frozenset[Effect]
    apply: Transform
    #: the option runs only on these vendors' hardware (None = any)
    vendors: frozenset[str] | None = None
    #: tensor-core dtypes the option needs natively when the scenario forbids precision fallback
    native_dtypes: frozenset[ComputeDtype] = frozenset()
    #: other options it cannot be combined with: "technique:option" or "technique:*"
    conflicts_with: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.technique}:{self.name}"


@dataclass(frozen=True)
class OptionSet:
    """The options a technique offers for one scenario, and those it cannot offer (with reasons)."""

    options: tuple[Option, ...]
    unavailable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TechniqueContext:
    """What a technique may read when it builds its options for a scenario."""

    scenario: Scenario
    catalog: Catalog
    base_model: ModelSpec
    settings: TechniqueSettings


@runtime_checkable
class Technique(Protocol):
    """The plug-in contract (see the module docstring)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    order: ClassVar[int]
    Settings: ClassVar[type[TechniqueSettings]]

    def describe(self, catalog: Catalog) -> list[OptionInfo]: ...

    def options(self, ctx: TechniqueContext) -> OptionSet: ...


def size_class(model: ModelSpec, catalog: Catalog, technique: str) -> str:
    """'small' or 'large' by the catalog's size-class threshold for ``technique`` (else 'all')."""
    row = catalog.technique_param(technique, "*", "size_class_threshold_params")
    if row is None:
        return "all"
    return "small" if model.params_total < row.value else "large"
