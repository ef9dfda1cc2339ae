"""The columns a pricing LP holds: the plan's variant(s)' pruned columns, as the plan's model had them."""

from __future__ import annotations

from planner.optimize.candidates import CandidateSet
from planner.optimize.pruning import Column, prune, quality_floors
from planner.plan_model import Plan
from planner.scenario.schema import Scenario


def chosen_columns(scenario: Scenario, cs: CandidateSet, plan: Plan) -> list[Column]:
    """The columns pruning keeps for ``scenario`` (its quality floors, ``plan.max_variants``) whose
    variant is one of ``plan``'s: what the one-slice and the sliced pricing LPs price with."""
    floors = quality_floors(scenario.workload, scenario.quality, cs.base_score)
    columns, _ = prune(cs, scenario.plan.max_variants, floors)
    chosen = set(plan.variant_names)
    return [c for c in columns if cs.variants[c.variant].name in chosen]
