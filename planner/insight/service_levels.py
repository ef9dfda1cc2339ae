"""What each service level and each load-following choice costs: the plan re-solved without it.

One line per choice the scenario makes (each re-solve on the auxiliary settings of
:mod:`planner.insight.resolve`, so the figures are reproducible and carry their status):

* a class's **P99 targets** (``ttft_p99_ms``/``tpot_p99_ms``) → the same class with its mean targets only;
* a class's **minimum replicas** (N+1) → none;
* **time slices** (a daily profile) → the peak provisioned all day (``plan.time_slices = 1``; a class
  whose deadline is shorter than the day, which one slice cannot plan, served as it arrives there);
* a **deferrable** class (``deadline_hours``) → served as it arrives (interactive), on spot if it was
  (the spot line prices spot; before the eleventh session this line counted the spot saving too);
* **spot** capacity → no spot;
* **disaggregated serving** (``plan.disaggregation = true``) → co-located deployments only
  (``plan.disaggregation = false``): the best co-located plan's cost beside the disaggregated one.

``usd`` = the plan's cost − the re-solved cost: positive, what the level costs; negative, what the
choice saves.  When the re-solve is not proven optimal its proven bound is kept, so the line is an
interval, never a bare time-limited figure.
"""

from __future__ import annotations

import json
import math

from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog
from planner.economics.slices import time_slices
from planner.insight.resolve import Batch, aux_scenario
from planner.optimize.milp_slices import runs_on_spot
from planner.plan_model import Plan, open_bound
from planner.scenario.loading import validate_scenario
from planner.scenario.schema import Scenario


class ServiceLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str  # "chat: TTFT P99 900 ms (vs the mean targets only)"
    cost_without_usd: float | None  # the re-solved plan's cost
    status: str
    bound_without_usd: float | None  # its proven lower bound when not optimal
    usd: float | None  # plan cost - cost without: > 0 what the level costs, < 0 what the choice saves


def _without(scenario: Scenario, edit: dict[str, object], workload: str | None = None) -> Scenario:
    data = json.loads(scenario.model_dump_json())
    if workload is None:
        for section, values in edit.items():
            data.setdefault(section, {}).update(values)  # type: ignore[call-overload]
    else:
        for w in data["workload"]:
            if w["name"] == workload:
                w.update(edit)
    return validate_scenario(data)


def service_level_cases(scenario: Scenario, catalog: Catalog) -> list[tuple[str, Scenario]]:
    """Each choice of the module docstring the scenario makes, with the scenario without it."""
    cases: list[tuple[str, Scenario]] = []
    for w in scenario.workload:
        tails = [f"{n} P99 {v:.10g} ms" for n, v in (("TTFT", w.ttft_p99_ms), ("TPOT", w.tpot_p99_ms)) if v is not None]
        if tails:
            cases.append((f"{w.name}: {', '.join(tails)} (vs the mean targets only)",
                          _without(scenario, {"ttft_p99_ms": None, "tpot_p99_ms": None}, w.name)))
        if w.min_replicas:
            plural = "s" if w.min_replicas > 1 else ""
            cases.append((f"{w.name}: at least {w.min_replicas} replica{plural} (vs no floor)",
                          _without(scenario, {"min_replicas": 0}, w.name)))
        if w.deadline_hours is not None:  # spot stays as the class had it: the spot line prices that
            whole = math.floor(w.deadline_hours)  # the plan counts whole hours (milp_slices.deadline_windows)
            counted = "" if whole == w.deadline_hours else f", {w.deadline_hours:g} h counted in whole hours"
            cases.append((f"{w.name}: deferrable within {whole} h{counted} (vs served as it arrives)",
                          _without(scenario, {"deadline_hours": None, "allow_spot": runs_on_spot(w)}, w.name)))
    if any(w.profile is not None for w in scenario.workload) and scenario.plan.time_slices > 1:
        cases.append(_one_slice(scenario, catalog))
    if "spot" in scenario.market.modes and len(scenario.market.modes) > 1:
        modes = [m for m in scenario.market.modes if m != "spot"]
        cases.append(("spot capacity (vs none)", _without(scenario, {"market": {"modes": modes}})))
    if scenario.plan.disaggregation:
        cases.append(("disaggregated serving (vs co-located only)",
                      _without(scenario, {"plan": {"disaggregation": False}})))
    return cases


def _one_slice(scenario: Scenario, catalog: Catalog) -> tuple[str, Scenario]:
    """The peak provisioned all day (``plan.time_slices = 1``).  One slice is the whole cycle, which a
    deadline shorter than the cycle over an uneven profile cannot be planned in
    (:mod:`planner.optimize.sliced_path`), so such a class is served as it arrives there, keeping its
    spot permission: no load is followed at all."""
    whole = time_slices(scenario.workload, scenario.horizon, 1, catalog.load_shapes)  # the baseline's one slice
    short = [w for c, w in enumerate(scenario.workload)
             if w.deadline_hours is not None and w.deadline_hours < whole.cycle_hours and whole.uneven(c)]
    label = (f"following the daily load in up to {scenario.plan.time_slices} slices (vs the peak provisioned all "
             f"day{''.join(f'; {w.name} served as it arrives' for w in short)})")
    changed = _without(scenario, {"plan": {"time_slices": 1}})
    for w in short:
        changed = _without(changed, {"deadline_hours": None, "allow_spot": runs_on_spot(w)}, w.name)
    return label, changed


def submit_service_levels(batch: Batch, scenario: Scenario, catalog: Catalog,
                          plan: Plan | None = None) -> list[tuple[str, int]]:
    """Queue each case; given the ``plan`` (it meets every looser requirement), no case comes back dearer
    than its deployments re-priced (:mod:`planner.optimize.plan_hint`), so no saving is negative."""
    return [(label, batch.submit(aux_scenario(changed), catalog, f"service level: {label}", plan))
            for label, changed in service_level_cases(scenario, catalog)]


def collect_service_levels(batch: Batch, plan: Plan, jobs: list[tuple[str, int]]) -> list[ServiceLevel]:
    out = []
    for label, job in jobs:
        other = batch.result(job)
        cost = other.lifetime_cost_usd
        usd = plan.lifetime_cost_usd - cost if plan.lifetime_cost_usd is not None and cost is not None else None
        out.append(ServiceLevel(what=label, cost_without_usd=cost, status=other.status,
                                bound_without_usd=open_bound(other), usd=usd))
    return out
