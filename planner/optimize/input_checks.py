"""Scenario refusals found before any model is built, shared by ``whatif plan`` and the estimator view.

Each raises :class:`~planner.errors.ScenarioError` (exit 2) naming the field: more periods than the
planner takes, ``spot`` allowed where no allowed hardware has a spot price, a spot-only market for a
class that stays off spot, and, where the plan is cut
into time slices (a profile, a deferrable class or spot), the options the time-sliced model does not
hold and a deadline shorter than a slice over which its class's load varies; with
``plan.disaggregation``, what disaggregated columns are not modelled with.  The estimator view runs
them so that a scenario it accepts is one the plan accepts (until 2026-12-08 it printed an empty table
with exit 0 for spot without a spot price, which the plan refuses).  No PuLP here: the view stays quick.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.catalog.schema import HardwareSpec
from planner.catalog.store import Catalog
from planner.economics.offers import ModeOffer, mode_offers
from planner.economics.periods import Periods, periods_of
from planner.economics.slices import TimeSlices, needs_slices, runs_on_spot, time_slices
from planner.errors import ScenarioError
from planner.scenario.schema import Scenario


def check_periods(periods: Periods, catalog: Catalog) -> None:
    if periods.count > catalog.defaults.max_periods:
        raise ScenarioError(
            f"{periods.count} periods exceed the planner's limit of {catalog.defaults.max_periods} (solve time grows "
            f"steeply with periods); use a longer period_months or a shorter horizon", "horizon")


def check_spot_priced(scenario: Scenario, offers: list[ModeOffer]) -> None:
    """``spot`` allowed but priced for no allowed hardware is an input error (exit 2), not a silent drop."""
    if "spot" in scenario.market.modes and not any(o.mode == "spot" for o in offers):
        raise ScenarioError("'spot' is allowed but no allowed hardware has a spot price (a provider's spot row, or "
                            "an on-demand row to derive it from)", "market.modes")


def check_spot_only(scenario: Scenario, offers: list[ModeOffer]) -> None:
    """A market whose only priced mode is spot cannot serve a class that stays off spot (an interactive
    class unless ``allow_spot = true``): refused on that class's ``allow_spot`` (exit 2) rather than
    reported as an infeasible model (until 2026-12-08 exit 3, "no plan meets every constraint in every
    time slice (quota, power, budget, min_replicas or a deadline)", none of which was the cause)."""
    if not offers or any(o.mode != "spot" for o in offers):
        return
    for w in scenario.workload:
        if not runs_on_spot(w):
            raise ScenarioError("the market's only priced mode is spot, and this class stays off spot (an "
                                "interactive class unless allow_spot = true): allow it, or add on-demand or "
                                "reserved capacity to market.modes", f"workload[{w.name}].allow_spot")


def check_slices(scenario: Scenario, slices: TimeSlices) -> None:
    """What the time-sliced model refuses: options it does not hold, and a deadline shorter than the
    shortest slice over which its class's load varies (served at a constant rate through the slice,
    the work cannot meet it)."""
    for option in ("split_granularity", "pooled_capacity"):
        if getattr(scenario.plan, option):
            raise ScenarioError("is not available with time slices, deferrable classes or spot capacity (the "
                                "time-sliced model holds whole replicas and any traffic split)", f"plan.{option}")
    shortest = float(slices.hours.min())
    for c, w in enumerate(scenario.workload):
        if w.deadline_hours is not None and w.deadline_hours < shortest and slices.uneven(c):
            raise ScenarioError(f"{w.deadline_hours:g} h is shorter than the shortest time slice ({shortest:g} h): "
                                "work served at a constant rate through a slice cannot meet it; raise the deadline "
                                "or plan.time_slices", f"workload[{w.name}].deadline_hours")


def check_offers(scenario: Scenario, offers: list[ModeOffer]) -> None:
    """The refusals of the priced offers: :func:`check_spot_priced`, then :func:`check_spot_only`."""
    check_spot_priced(scenario, offers)
    check_spot_only(scenario, offers)


def check_sliced_scenario(scenario: Scenario, catalog: Catalog) -> None:
    """:func:`check_slices` on the scenario's own slices, where its plan is time-sliced."""
    if needs_slices(scenario.workload, scenario.market.modes):
        check_slices(scenario, time_slices(scenario.workload, scenario.horizon, scenario.plan.time_slices,
                                           catalog.load_shapes))


def check_disaggregation(scenario: Scenario) -> None:
    """Refuse, naming the field, what disaggregated columns are not modelled with (exit 2)."""
    if not scenario.plan.disaggregation:
        return
    refusals = [
        (scenario.plan.split_granularity is not None, "plan.split_granularity"),
        (scenario.plan.pooled_capacity, "plan.pooled_capacity"),
    ]
    for bad, name in refusals:
        if bad:
            raise ScenarioError("is not supported together with plan.disaggregation = true", name)
    for w in scenario.workload:
        for attr in ("profile", "deadline_hours"):
            if getattr(w, attr, None) is not None:
                raise ScenarioError("is not supported together with plan.disaggregation = true",
                                    f"workload[{w.name}].{attr}")
    if "spot" in scenario.market.modes:
        raise ScenarioError("spot is not supported together with plan.disaggregation = true", "market.modes")


def check_before_model(scenario: Scenario, catalog: Catalog, hardware: Sequence[HardwareSpec]) -> None:
    """Every refusal above, as the plan meets them before it builds a model (``hardware``: the allowed
    hardware, the candidate set's)."""
    check_disaggregation(scenario)
    periods = periods_of(scenario.horizon)
    check_periods(periods, catalog)
    check_offers(scenario, mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(hardware),
                                       periods)[0])
    check_sliced_scenario(scenario, catalog)
