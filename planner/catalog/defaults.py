"""Typed view of the ``[[default]]`` rows of ``catalogs/defaults.toml``.

Each field is one tunable number of the physics or economics.  Its value, unit, source
and a note of how it was set live in the catalog row; this model only names the keys,
their types and their plausibility bounds, so a typo or an absurd overlay fails on load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.catalog.schema import DefaultRow
from planner.errors import CatalogError


class ServingDefaults(BaseModel):
    """Defaults used by the roofline, the training-cost model, the economics and the solver."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kv_free_memory_fraction: Annotated[float, Field(gt=0.1, le=1.0)]
    spot_discount: Annotated[float, Field(ge=0, lt=1)]
    spot_preemption_per_hour: Annotated[float, Field(ge=0, le=1)]
    spot_restart_hours: Annotated[float, Field(ge=0, le=24)]
    elastic_min_billed_hours: Annotated[float, Field(ge=0, le=24)]
    kv_reserved_output_fraction: Annotated[float, Field(ge=0, le=1)]
    max_batch: Annotated[int, Field(ge=1, le=100_000)]
    allreduce_latency_us: Annotated[float, Field(ge=0, le=10_000)]
    decode_step_fixed_us: Annotated[float, Field(ge=0, le=100_000)]
    layer_fixed_us: Annotated[float, Field(ge=0, le=10_000)]
    moe_layer_fixed_us: Annotated[float, Field(ge=0, le=10_000)]
    decode_overlap_norm: Annotated[float, Field(ge=1.0, le=64.0)]
    comm_efficiency: Annotated[float, Field(gt=0.01, le=1.0)]
    comm_activation_bits: Annotated[float, Field(ge=4, le=32)]
    unquantized_embedding_bits: Annotated[float, Field(ge=4, le=32)]
    training_mfu: Annotated[float, Field(gt=0.01, le=1.0)]
    pue: Annotated[float, Field(ge=1.0, le=5.0)]
    electricity_usd_per_kwh: Annotated[float, Field(ge=0, le=10)]
    hosting_usd_per_kw_month: Annotated[float, Field(ge=0, le=10_000)]
    hardware_useful_life_years: Annotated[float, Field(gt=0, le=30)]
    reserved_1y_discount_hyperscaler: Annotated[float, Field(ge=0, lt=1)]
    reserved_3y_discount_hyperscaler: Annotated[float, Field(ge=0, lt=1)]
    reserved_1y_discount_neocloud: Annotated[float, Field(ge=0, lt=1)]
    reserved_3y_discount_neocloud: Annotated[float, Field(ge=0, lt=1)]
    server_overhead_fraction: Annotated[float, Field(ge=0, le=10)]
    cluster_network_fraction: Annotated[float, Field(ge=0, lt=1)]
    average_power_fraction: Annotated[float, Field(gt=0, le=1)]
    resale_fraction: Annotated[float, Field(ge=0, le=1)]
    annual_failure_rate: Annotated[float, Field(ge=0, le=1)]
    repair_days: Annotated[float, Field(ge=0, le=365)]
    lead_time_months_buy: Annotated[int, Field(ge=0, le=240)]
    operations_fraction_per_year: Annotated[float, Field(ge=0, le=1)]
    solver_time_limit_s: Annotated[float, Field(gt=0, le=86_400)]
    solver_gap_rel: Annotated[float, Field(ge=0, le=0.5)]
    max_periods: Annotated[int, Field(ge=1, le=10_000)]
    max_variant_combinations: Annotated[int, Field(ge=1, le=10_000_000)]
    max_deployment_rows: Annotated[int, Field(ge=1, le=1_000_000_000)]
    max_sliced_mixed_variables: Annotated[int, Field(ge=1, le=1_000_000_000)]
    slot_holding_time_cv: Annotated[float, Field(ge=0, le=10)]

    @classmethod
    def from_rows(cls, rows: Mapping[str, DefaultRow]) -> ServingDefaults:
        known = set(cls.model_fields)
        unknown = sorted(set(rows) - known)
        if unknown:
            raise CatalogError(f"unknown default key(s) {unknown}; known: {sorted(known)}", "default")
        missing = sorted(known - set(rows))
        if missing:
            raise CatalogError(f"missing default key(s) {missing}", "default")
        values: dict[str, float | int] = {}
        for key, row in rows.items():
            annotation = cls.model_fields[key].annotation
            if annotation is int:
                if row.value != int(row.value):
                    raise CatalogError(f"must be a whole number, got {row.value}", f"default[{key}].value")
                values[key] = int(row.value)
            else:
                values[key] = row.value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise CatalogError(first["msg"], f"default[{first['loc'][0]}].value") from None
