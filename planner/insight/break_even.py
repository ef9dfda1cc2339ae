r"""Break-even: at what demand (or other input) does an option's one-time cost pay for itself?

For an option ``TECH:OPTION`` and an input ``z`` (default: a factor ``k`` on every class's
``queries_per_day``; or any numeric scenario field given with ``--over PATH``), two plans are
solved at each ``z``: *with* the option (``techniques.TECH = [OPTION]``) and *without* the
technique (``techniques.TECH = ["none"]``), all other choices free.  The break-even is the
smallest ``z`` at which ``cost_with ≤ cost_without`` — found by re-solving (bracketing by doubling,
then bisection to ``RELATIVE_TOLERANCE``), so integrality is honoured.  It assumes the saving grows
with ``z`` (true for demand: the one-time cost is fixed while the per-query saving scales); when the
option does not pay even at ``MAX_FACTOR`` times the current value the answer says so.  A value the field
cannot take (a repeat rate of 1 or more, a peak-to-average below 1) is never read as an answer: the
bracket closes in on the field's bound by geometric bisection to ``RELATIVE_TOLERANCE``, and a search
that ends there says how far it tried.

Decisions (issue 18, "break-even that says why"):

* Every evaluation carries the status (and gap) of both solves.  A time-limited solve
  (``feasible``) is used for the search with its best-found cost, and the answer says the point
  is not proven; a solve that stopped without any plan (``no_solution``, ``error``) ends the search
  as *undetermined* at that value — it is never read as "does not pay".
* An option whose plan is *infeasible* is not a cost question: the answer carries the plan's
  infeasibility findings (e.g. the quality floor) and its message names them.  With the default
  input (demand) a finding of the pre-solve checks (memory, latency, quality) does not depend on
  demand, so the search stops at once (``verdict = "infeasible"``); for another input the search
  goes on (the input may be the very requirement) and the findings are reported when the option
  never becomes feasible.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog
from planner.errors import InputError, ScenarioError
from planner.insight.resolve import AUX_GAP_REL, aux_scenario
from planner.insight.sweeps import whole_number
from planner.optimize.planning import plan_scenario
from planner.plan_model import Infeasibility, Plan
from planner.scenario.loading import apply_override, validate_scenario
from planner.scenario.schema import Scenario
from techniques.base import NONE_OPTION

BREAKEVEN_SCHEMA_VERSION = 2  # 2: per-evaluation status/gap/findings, verdict, infeasibility, proven
MAX_FACTOR = 1024.0
MIN_FACTOR = 1.0 / 1024.0
RELATIVE_TOLERANCE = 0.02
DEMAND = "demand"
#: Findings of the pre-solve checks: they depend on the model, hardware, targets and floors, not on demand.
DEMAND_INDEPENDENT_FAMILIES = frozenset({"memory", "latency", "quality"})
#: Solve statuses that give a plan (``feasible``: stopped at a node or time limit, best found, not proven).
WITH_PLAN = frozenset({"optimal", "feasible"})

Verdict = Literal["pays_now", "pays_from", "never_pays", "infeasible", "undetermined", "no_difference"]


class BreakEvenPoint(BaseModel):
    """Both solves at one value of the input: costs (present value), status, gap and, when a side
    is infeasible, the requirement it breaks (the plan's findings, as messages)."""

    model_config = ConfigDict(frozen=True)

    value: float
    cost_with_usd: float | None
    cost_without_usd: float | None
    status_with: str = "optimal"
    status_without: str = "optimal"
    gap_with: float | None = None
    gap_without: float | None = None
    infeasible_with: list[str] = []
    infeasible_without: list[str] = []

    @property
    def proven(self) -> bool:
        """Both sides optimal or infeasible (a proven answer either way)."""
        return {self.status_with, self.status_without} <= {"optimal", "infeasible"}


class BreakEven(BaseModel):
    """The answer of ``whatif breakeven`` / :func:`planner.breakeven` (module docstring): ``current_value``
    and ``breakeven_value`` are in the unit of the input searched — a factor on every class's queries/day
    for ``over = "demand"``, else the scenario field's own unit (its name says it: ``…_ms``, ``…_usd``);
    each evaluation's costs are lifetime USD, present value."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = BREAKEVEN_SCHEMA_VERSION
    kind: str = "breakeven"
    option: str
    over: str  # "demand" (factor on every class's queries/day) or a scenario path
    current_value: float
    verdict: Verdict
    pays_at_current: bool
    breakeven_value: float | None  # None: none found (never pays, or pays at the lowest value tried)
    lifetime_queries_at_breakeven: float | None
    proven: bool  # every evaluation optimal or infeasible (no time-limited figure behind the answer)
    infeasibility: list[Infeasibility]  # why the plan with the option is infeasible (first value where it was)
    evaluations: list[BreakEvenPoint]
    message: str


def _numeric_at(data: dict[str, Any], path: str) -> float:
    node: Any = data
    for part in path.split("."):
        if isinstance(node, list):
            node = next((el for el in node if isinstance(el, dict) and el.get("name") == part), None)
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
        if node is None:
            raise InputError(f"'{path}' is not a field of the scenario", "--over")
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise InputError(f"'{path}' is {type(node).__name__}, not a number field", "--over")
    return float(node)


#: How a finding's family reads in "the plan breaks ..." (others read as their family name).
REQUIREMENT_WORDS = {"quality": "the quality floor", "latency": "the latency targets", "memory": "fitting in memory"}


def findings_text(findings: list[Infeasibility]) -> str:
    """The requirements the findings name, grouped by family, with the best achievable value, e.g.
    ``the quality floor (chat: mmlu >= 82.60, best achievable 69.40)``; the full messages stay in
    :attr:`BreakEven.infeasibility`."""
    groups: dict[str, list[str]] = {}
    for f in findings:
        where = f"{f.workload}: " if f.workload else ""
        groups.setdefault(REQUIREMENT_WORDS.get(f.family, f.family), []).append(
            f"{where}{f.requirement}, best achievable {f.best_achievable}")
    return " and ".join(f"{words} ({'; '.join(dict.fromkeys(items))})" for words, items in groups.items())


class _Stop(Exception):
    """Ends the search early with a verdict (infeasible regardless of the input, or undetermined)."""

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict: Verdict = verdict
        self.message = message


class _Search:
    """Both plans at each value of the input; the saving ``cost_without − cost_with`` drives the search."""

    def __init__(self, scenario: Scenario, catalog: Catalog, tech: str, opt: str, path: str) -> None:
        self.base = json.loads(scenario.model_dump_json())
        self.catalog, self.tech, self.opt, self.path = catalog, tech, opt, path
        self.evaluations: list[BreakEvenPoint] = []
        self.infeasibility: list[Infeasibility] = []

    def scenario_at(self, value: float, choice: list[str]) -> Scenario:
        data = json.loads(json.dumps(self.base))
        data.setdefault("techniques", {})[self.tech] = choice
        if self.path == DEMAND:
            for w in data["workload"]:
                w["queries_per_day"] = w["queries_per_day"] * value
        else:
            apply_override(data, f"{self.path}={value!r}")
        return aux_scenario(validate_scenario(data))

    def saving(self, value: float, current: bool = False) -> float:
        """cost_without − cost_with at ``value``: ±inf when one side is infeasible, NaN when the value is
        outside the field's valid range or no plan exists on either side there (away from the ``current``
        value: the search then closes in on the values where the question has an answer, as on a field's
        bound); raises :class:`_Stop` when it cannot be decided.  Until the twenty-first session a value
        infeasible both ways stopped the whole search as "infeasible": a prefix cache that paid at the
        current 800 ms TTFT target read "infeasible, does not pay now" because the search, going down,
        reached 4.4 ms, where no plan meets the target."""
        try:
            at_with, at_without = self.scenario_at(value, [self.opt]), self.scenario_at(value, [NONE_OPTION])
        except ScenarioError:
            return math.nan
        with_plan, without_plan = plan_scenario(at_with, self.catalog), plan_scenario(at_without, self.catalog)
        self.evaluations.append(_point(value, with_plan, without_plan))
        where = f"{self.path} = {value:.4g}"
        for side, p in (("with", with_plan), ("without", without_plan)):
            if p.status not in WITH_PLAN and p.status != "infeasible":
                raise _Stop("undetermined", f"cannot decide at {where}: the plan {side} the option ended "
                                            f"'{p.status}' without a plan ({p.message})")
        if with_plan.status == "infeasible":
            self.infeasibility = self.infeasibility or list(with_plan.infeasibility)
            if without_plan.status == "infeasible":
                if not current:
                    return math.nan
                raise _Stop("infeasible", f"the scenario is infeasible at {where} with or without the option: "
                                          f"it breaks {findings_text(without_plan.infeasibility)}")
            if self.path == DEMAND and all(f.family in DEMAND_INDEPENDENT_FAMILIES for f in with_plan.infeasibility):
                raise _Stop("infeasible", f"{self.tech}:{self.opt} is infeasible, not a cost question: with it the "
                                          f"plan breaks {findings_text(with_plan.infeasibility)} at any demand")
            return -math.inf
        if without_plan.status == "infeasible":
            return math.inf
        assert with_plan.lifetime_cost_usd is not None and without_plan.lifetime_cost_usd is not None
        return without_plan.lifetime_cost_usd - with_plan.lifetime_cost_usd


def _point(value: float, with_plan: Plan, without_plan: Plan) -> BreakEvenPoint:
    return BreakEvenPoint(
        value=value, cost_with_usd=with_plan.lifetime_cost_usd, cost_without_usd=without_plan.lifetime_cost_usd,
        status_with=with_plan.status, status_without=without_plan.status,
        gap_with=with_plan.solver.gap if with_plan.solver else None,
        gap_without=without_plan.solver.gap if without_plan.solver else None,
        infeasible_with=list(dict.fromkeys(f.message for f in with_plan.infeasibility)),
        infeasible_without=list(dict.fromkeys(f.message for f in without_plan.infeasibility)))


def breakeven(scenario: Scenario, catalog: Catalog, option: str, over: str | None = None) -> BreakEven:
    tech, sep, opt = option.partition(":")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", tech) or not re.fullmatch(r"[a-z0-9][a-z0-9.+\-]*", opt):
        raise InputError(f"expected TECH:OPTION (e.g. quantization:fp8), got '{option}'", "--option")
    from planner.optimize.variants import build_variants  # validates the technique and option names

    base = json.loads(scenario.model_dump_json())
    with_option = json.loads(scenario.model_dump_json())
    with_option.setdefault("techniques", {})[tech] = [opt]
    if opt == NONE_OPTION:
        raise InputError(f"'{option}' is what the option is compared with (the plan without {tech}); name one of "
                         f"{tech}'s options", "--option")
    build_variants(validate_scenario(with_option), catalog)
    path = over or DEMAND
    current = 1.0 if path == DEMAND else _numeric_at(base, path)
    if path != DEMAND and whole_number(path):  # as declared, not as the file wrote it (a float setting
        # written `1` in TOML, kept an int in the free-form technique_settings, was refused here)
        raise InputError(f"'{path}' is a whole-number field; break-even searches continuous fields "
                         "(e.g. workload.<class>.queries_per_day, market.price_scale, horizon.growth_per_year)", "--over")
    if current <= 0:
        raise InputError(f"'{path}' is {current:g}; a break-even search needs a positive value", "--over")
    search = _Search(scenario, catalog, tech, opt, path)
    try:
        verdict, value, message = _bracket_and_bisect(search, option, path, current)
    except _Stop as stop:
        verdict, value, message = stop.verdict, None, stop.message
    return _result(option, path, current, verdict, value, search, scenario, message)


def _bracket_and_bisect(search: _Search, option: str, path: str, current: float) -> tuple[Verdict, float | None, str]:
    """Bracket the break-even by halving (the option pays now) or doubling (it does not), then bisect.
    A value outside the field's valid range (``saving`` NaN) is not an answer: the bracket closes in on
    the range's bound instead (:func:`_toward_bound`); until the sixteenth session a value below the
    range read as "already pays" and one above it as "does not pay up to the valid range", so a
    break-even inside the range was never searched (``horizon.peak_to_average`` at 2 whose option paid
    only from 1.5 read "already pays at 0.00195", a value that was never solved)."""
    now = search.saving(current, current=True)
    if now >= 0:
        lo, hi = current * MIN_FACTOR, current
        low = search.saving(lo)
        if math.isnan(low):  # below the field's valid range
            edge, low, above = _toward_bound(search, current, lo, lambda g: g < 0)
            lo, hi = edge, above
            if not low < 0:
                return _ties(search, f"{option} already pays at {edge:g} ({edge / current:g}x the current value), "
                                     "the lowest value found with a valid, feasible scenario: no break-even above it")
        if not low < 0:  # pays at the lowest value tried: no break-even was found
            return _ties(search, f"{option} already pays at {lo:g} ({MIN_FACTOR:g}x the current value), the lowest "
                                 "value tried: no break-even above it")
    else:
        lo, hi = current, current * 2
        while True:
            gain = search.saving(hi)
            if math.isnan(gain):  # above the field's valid range
                edge, gain, below = _toward_bound(search, lo, hi, lambda g: g >= 0)
                if not gain >= 0:
                    return _never_pays(search, option, path, f"the field's valid range (tried up to {edge:.4g})")
                lo, hi = below, edge
            if gain >= 0:
                break
            if hi * 2 > current * MAX_FACTOR:
                return _never_pays(search, option, path, f"{MAX_FACTOR:g}x the current value")
            lo, hi = hi, hi * 2
    while hi / lo - 1 > RELATIVE_TOLERANCE:
        mid = math.sqrt(lo * hi)
        if search.saving(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return ("pays_now" if now >= 0 else "pays_from", hi,
            f"{option} pays for itself from {path} = {hi:.4g} (currently {current:g})")


def _ties(search: _Search, message: str) -> tuple[Verdict, float | None, str]:
    """``pays_now`` with ``message``, unless with and without cost the same at every value solved (the option
    changes nothing the plan buys, e.g. a prefix cache for classes without a shared prefix): then
    ``no_difference``, saying so instead of "pays" (until the twenty-first session it read "already pays")."""
    costs = [(e.cost_with_usd, e.cost_without_usd) for e in search.evaluations]
    if costs and all(w is not None and w == wo for w, wo in costs):
        values = sorted(e.value for e in search.evaluations)
        return "no_difference", None, (f"{search.tech}:{search.opt} costs the same as the plan without {search.tech} "
                                       f"at every value of {search.path} tried ({values[0]:.4g} to {values[-1]:.4g}): "
                                       "it changes nothing the plan buys")
    return "pays_now", None, message


def _toward_bound(search: _Search, valid: float, invalid: float,
                  found: Callable[[float], bool]) -> tuple[float, float, float]:
    """Geometric bisection from a ``valid`` value (solved, its saving not ``found``) toward an
    ``invalid`` one, to ``RELATIVE_TOLERANCE``: the first valid value whose saving is ``found`` (a
    sign change lies between it and the valid value before it), else the valid value nearest the
    bound.  Returns ``(value, its saving, the valid value before it)``; a saving never solved on the
    way (the bound within tolerance of ``valid``) is NaN."""
    before, saving = valid, math.nan
    while max(valid, invalid) / min(valid, invalid) - 1 > RELATIVE_TOLERANCE:
        mid = math.sqrt(valid * invalid)
        gain = search.saving(mid)
        if math.isnan(gain):
            invalid = mid
            continue
        if found(gain):
            return mid, gain, valid
        before, valid, saving = valid, mid, gain
    return valid, saving, before


def _never_pays(search: _Search, option: str, path: str, limit: str) -> tuple[Verdict, float | None, str]:
    """No value up to ``limit`` pays: a cost answer only where the option was feasible."""
    infeasible = [e for e in search.evaluations if e.status_with == "infeasible"]
    why = findings_text(search.infeasibility)
    if infeasible and len(infeasible) == len(search.evaluations):
        return "infeasible", None, f"{option} is infeasible at every value of {path} tried, up to {limit}: it breaks {why}"
    message = f"{option} does not pay for itself within the horizon, up to {limit} of {path}"
    if infeasible:
        values = ", ".join(f"{e.value:.4g}" for e in sorted(infeasible, key=lambda e: e.value))
        message += f"; with it the plan is infeasible at {path} = {values}: it breaks {why}"
    return "never_pays", None, message


def _gap_note(evaluations: list[BreakEvenPoint], value: float) -> str:
    """A clause when the saving just below the break-even is within the re-solves' gap (``AUX_GAP_REL``):
    each side is proven only that close to its optimum, so the sign there, and the point, are uncertain
    by more than the search's step.  A review found "pays from 0.004325" where whole-gap plans paid from
    below 0.003125: the two sides differed by $460 on $469,000, inside the 0.5 %."""
    below = [e for e in evaluations
             if e.value < value and e.cost_with_usd is not None and e.cost_without_usd is not None]
    if not below:
        return ""
    e = max(below, key=lambda e: e.value)
    assert e.cost_with_usd is not None and e.cost_without_usd is not None
    if abs(e.cost_without_usd - e.cost_with_usd) > AUX_GAP_REL * max(e.cost_with_usd, e.cost_without_usd):
        return ""
    saving = e.cost_without_usd - e.cost_with_usd
    return (f"; the saving just below it ({saving:+,.{0 if abs(saving) >= 100 else 2}f} $ at {e.value:.4g}) is within "
            f"the re-solves' {AUX_GAP_REL:.1%} gap, so where the option starts to pay is uncertain by more than "
            "the search's step")


def _result(option: str, path: str, current: float, verdict: Verdict, value: float | None, search: _Search,
            scenario: Scenario, message: str) -> BreakEven:
    queries = None
    if value is not None and path == DEMAND:
        from planner.economics.periods import demand_of, periods_of

        periods = periods_of(scenario.horizon)
        queries = float(demand_of(scenario.workload, scenario.horizon, periods).queries.sum()) * value
    evaluations = sorted(search.evaluations, key=lambda e: e.value)
    proven = all(e.proven for e in evaluations)
    if value is not None:
        message += _gap_note(evaluations, value)
    if not proven:
        stopped = sum(not e.proven for e in evaluations)
        message += (f" — not proven: {stopped} evaluation(s) stopped at a solver limit (the re-solves' node limit, "
                    "or the time limit; their status is shown; costs there are the best found)")
    return BreakEven(option=option, over=path, current_value=current, verdict=verdict,
                     pays_at_current=verdict == "pays_now", breakeven_value=value,
                     lifetime_queries_at_breakeven=queries, proven=proven, infeasibility=search.infeasibility,
                     evaluations=evaluations, message=message)
