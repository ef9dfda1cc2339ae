"""Helpers for built-in techniques: read a sourced number from the catalog or the scenario."""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.units import BITS_PER_BYTE


@dataclass(frozen=True)
class Sourced:
    """A number and where it came from."""

    value: float
    source: str


def catalog_value(catalog: Catalog, technique: str, option: str, key: str, size: str = "all") -> Sourced | None:
    row = catalog.technique_param(technique, option, key, size)
    if row is None:
        return None
    return Sourced(row.value, f"catalogs/techniques.toml {technique}/{row.option}/{key}/{row.applies_to}: "
                              f"{row.note} [{row.source}, {row.source_date}]")


def setting_or_catalog(
    setting: float | None, setting_path: str, catalog: Catalog, technique: str, option: str, key: str, size: str = "all"
) -> Sourced | None:
    """The scenario's setting when given, else the catalog row, else None."""
    if setting is not None:
        return Sourced(float(setting), f"scenario {setting_path}")
    return catalog_value(catalog, technique, option, key, size)


def kv_bytes_per_token(model: ModelSpec, kv_bits: float) -> float:
    """KV-cache bytes per token of context, whole model (all layers, all KV heads)."""
    per_layer = model.kv_latent_dim if model.kv_latent_dim else 2 * model.kv_heads * model.head_dim
    return model.layers * per_layer * kv_bits / BITS_PER_BYTE
