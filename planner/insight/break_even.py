r"""Break-even: at what demand (or other input) does an option's one-time cost pay for itself?

For an option ``TECH:OPTION`` and an input ``z`` (default: a factor ``k`` on every class's
``queries_per_day``; or any numeric scenario field given with ``--over PATH``), two plans are
solved at each ``z``: *with* the option (``techniques.TECH = [OPTION]``) and *without* the
technique (``techniques.TECH = ["none"]``), all other choices free.  The break-even is the
smallest ``z`` at which ``cost_with ≤ cost_without`` — found by re-solving (bracketing by doubling,
then bisection to ``RELATIVE_TOLERANCE``), so integrality is honoured.  It assumes the saving grows
with ``z`` (true for demand: the one-time cost is fixed while the per-query saving scales); when the
option does not pay even at ``MAX_FACTOR`` times the current value the answer says so.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog
from planner.errors import InputError, ScenarioError
from planner.insight.explanation import aux_scenario
from planner.optimize.planning import plan_scenario
from planner.scenario.loading import apply_override, validate_scenario
from planner.scenario.schema import Scenario
from techniques.base import NONE_OPTION

MAX_FACTOR = 1024.0
MIN_FACTOR = 1.0 / 1024.0
RELATIVE_TOLERANCE = 0.02
DEMAND = "demand"


class BreakEvenPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float
    cost_with_usd: float | None
    cost_without_usd: float | None


class BreakEven(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    kind: str = "breakeven"
    option: str
    over: str  # "demand" (factor on every class's queries/day) or a scenario path
    current_value: float
    pays_at_current: bool
    breakeven_value: float | None
    lifetime_queries_at_breakeven: float | None
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


def breakeven(scenario: Scenario, catalog: Catalog, option: str, over: str | None = None) -> BreakEven:
    tech, sep, opt = option.partition(":")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", tech) or not re.fullmatch(r"[a-z0-9][a-z0-9.+\-]*", opt):
        raise InputError(f"expected TECH:OPTION (e.g. quantization:fp8), got '{option}'", "--option")
    from planner.optimize.variants import build_variants  # validates the technique and option names

    base = json.loads(scenario.model_dump_json())
    with_option = json.loads(scenario.model_dump_json())
    with_option.setdefault("techniques", {})[tech] = [opt]
    build_variants(validate_scenario(with_option), catalog)
    path = over or DEMAND
    current = 1.0 if path == DEMAND else _numeric_at(base, path)
    if path != DEMAND and isinstance(_lookup_raw(base, path), int):
        raise InputError(f"'{path}' is a whole-number field; break-even searches continuous fields "
                         "(e.g. workload.<class>.queries_per_day, market.price_scale, horizon.growth_per_year)", "--over")
    if current <= 0:
        raise InputError(f"'{path}' is {current:g}; a break-even search needs a positive value", "--over")
    evaluations: list[BreakEvenPoint] = []

    def scenario_at(value: float, choice: list[str]) -> Scenario:
        data = json.loads(json.dumps(base))
        data.setdefault("techniques", {})[tech] = choice
        if path == DEMAND:
            for w in data["workload"]:
                w["queries_per_day"] = w["queries_per_day"] * value
        else:
            apply_override(data, f"{path}={value!r}")
        return aux_scenario(validate_scenario(data))

    def saving(value: float) -> float:
        """cost_without − cost_with at ``value``; NaN when the value is outside the field's valid range."""
        try:
            at_with, at_without = scenario_at(value, [opt]), scenario_at(value, [NONE_OPTION])
        except ScenarioError:
            return math.nan
        cost_with = plan_scenario(at_with, catalog).lifetime_cost_usd
        cost_without = plan_scenario(at_without, catalog).lifetime_cost_usd
        evaluations.append(BreakEvenPoint(value=value, cost_with_usd=cost_with, cost_without_usd=cost_without))
        if cost_with is None:
            return -math.inf
        if cost_without is None:
            return math.inf
        return cost_without - cost_with

    now = saving(current)
    if now >= 0:
        lo, hi = current * MIN_FACTOR, current
        if not saving(lo) < 0:  # pays (or the field cannot go that low)
            return _result(option, path, current, True, lo, evaluations, scenario,
                           f"{option} already pays at {lo:g} ({MIN_FACTOR:g}x the current value)")
    else:
        lo, hi = current, current * 2
        while True:
            gain = saving(hi)
            if gain >= 0:
                break
            if math.isnan(gain) or hi * 2 > current * MAX_FACTOR:
                limit = "the field's valid range" if math.isnan(gain) else f"{MAX_FACTOR:g}x the current value"
                return _result(option, path, current, False, None, evaluations, scenario,
                               f"{option} does not pay for itself within the horizon, up to {limit} of {path}")
            lo, hi = hi, hi * 2
    while hi / lo - 1 > RELATIVE_TOLERANCE:
        mid = math.sqrt(lo * hi)
        if saving(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return _result(option, path, current, now >= 0, hi, evaluations, scenario,
                   f"{option} pays for itself from {path} = {hi:.4g} (currently {current:g})")


def _lookup_raw(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = (next(el for el in node if el.get("name") == part) if isinstance(node, list) else node[part])
    return node


def _result(option: str, path: str, current: float, pays: bool, value: float | None, evaluations: list[BreakEvenPoint],
            scenario: Scenario, message: str) -> BreakEven:
    queries = None
    if value is not None and path == DEMAND:
        from planner.economics.periods import demand_of, periods_of

        periods = periods_of(scenario.horizon)
        queries = float(demand_of(scenario.workload, scenario.horizon, periods).queries.sum()) * value
    return BreakEven(option=option, over=path, current_value=current, pays_at_current=pays, breakeven_value=value,
                     lifetime_queries_at_breakeven=queries, evaluations=sorted(evaluations, key=lambda e: e.value),
                     message=message)
