"""The scenario's shared vocabulary: names, slugs, modes and the strict base model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCENARIO_SCHEMA_VERSION = 1
#: Most request classes a scenario holds (``[[workload]]`` entries, or a ``[buckets]`` table's
#: positive shares).
MAX_CLASSES = 100
#: Largest daily query volume of one class (a bound against typos, e.g. a rate given per ms).
MAX_QUERIES_PER_DAY = 1e13
NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
#: How GPUs are acquired (the catalog prices each; the scenario picks which are allowed).
AcquisitionMode = Literal["on-demand", "spot", "reserved-1y", "reserved-3y", "buy"]
#: Modes whose GPU count may differ between the time slices of a period (billed per hour used).
ELASTIC_MODES: tuple[str, ...] = ("on-demand", "spot")
#: How time beyond the horizon is priced (see :mod:`planner.economics.offers`).
TerminalValue = Literal["annuity", "salvage"]
#: A provider id of the price catalog (``aws``, ``lambda``, …).
ProviderRef = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
SlugRef = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9.\-]*$")]
#: A technique option: a slug, or slugs joined by '+' for a combined option (e.g. prefix+response).
OptionRef = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9.\-]*(\+[a-z0-9][a-z0-9.\-]*)*$")]
TechniqueName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
