"""whatif-planner: lifetime-cost planning for serving AI models.

Public API (everything else is importable but may change)::

    planner.load_catalogs(overlays)        -> Catalog
    planner.load_scenario(path, overrides) -> Scenario
    planner.estimate(model, hardware, ...) -> Estimate
    planner.plan(scenario)                 -> Plan      (lowest lifetime cost, or why none exists)
    planner.preview(scenario)              -> Preview   (the estimator's view, no optimisation)
    planner.explain(scenario)              -> Explanation (baseline, binding, shadow prices, alternatives, sensitivity)
    planner.breakeven(scenario, "T:O")     -> BreakEven
    planner.sweep(scenario, vary={...})    -> SweepResult (rows as plain dicts)
    planner.training_cost(...)             -> TrainingCost
"""

from __future__ import annotations

from planner.api import (
    breakeven,
    demo_scenario_path,
    estimate,
    explain,
    load_catalogs,
    load_scenario,
    plan,
    preview,
    scenario_from_dict,
    sweep,
    training_cost,
)
from planner.breakeven import BreakEven
from planner.catalog import Catalog
from planner.errors import CatalogError, FitError, InputError, PlannerError, ScenarioError, UnknownSlugError
from planner.deployment_estimate import Estimate
from planner.explain import Explanation
from planner.plan_model import Plan
from planner.scenario_view import Preview
from planner.schema import Scenario
from planner.sweep import SweepResult
from planner.training import TrainingCost

__version__ = "0.1.0"

__all__ = [
    "BreakEven",
    "Catalog",
    "CatalogError",
    "Estimate",
    "Explanation",
    "FitError",
    "InputError",
    "Plan",
    "PlannerError",
    "Preview",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "TrainingCost",
    "UnknownSlugError",
    "breakeven",
    "demo_scenario_path",
    "estimate",
    "explain",
    "load_catalogs",
    "load_scenario",
    "plan",
    "preview",
    "scenario_from_dict",
    "sweep",
    "training_cost",
]
