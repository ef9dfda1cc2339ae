"""whatif-planner: lifetime-cost planning for serving AI models.

Public API (everything else is importable but may change)::

    planner.load_catalogs(overlays)        -> Catalog
    planner.load_scenario(path, overrides) -> Scenario
    planner.estimate(model, hardware, ...) -> Estimate
    planner.plan(scenario)                 -> Plan      (lowest lifetime cost, or why none exists)
    planner.open_bound(plan)               -> float | None (a plan stopped at a limit: its proven lower bound)
    planner.preview(scenario)              -> Preview   (the estimator's view, no optimisation)
    planner.explain(scenario)              -> Explanation (baseline, binding, shadow prices, alternatives, sensitivity)
    planner.breakeven(scenario, "T:O")     -> BreakEven
    planner.sweep(scenario, vary={...})    -> SweepResult (rows as plain dicts)
    planner.training_cost(...)             -> TrainingCost
"""

from __future__ import annotations

import importlib
import os
import sys
import typing


def _drop_working_directory_for_python_m() -> None:
    """``python -m planner`` puts the working directory first on ``sys.path``: take it off before
    the plug-ins are imported, so a ``techniques/`` package lying there is never run in place of
    the installed one (as with the ``whatif`` command).  Nothing changes for any other way of
    running Python, nor when the working directory is this source tree."""
    argv = getattr(sys, "orig_argv", [])
    launched = "-m" in argv and argv.index("-m") + 1 < len(argv) and argv[argv.index("-m") + 1] == "planner"
    here = os.getcwd()
    if launched and sys.path and os.path.abspath(sys.path[0] or os.curdir) == here and \
            not os.path.isfile(os.path.join(here, "planner", "__init__.py")):
        del sys.path[0]


_drop_working_directory_for_python_m()

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
from planner.catalog.store import Catalog
from planner.errors import CatalogError, FitError, InputError, PlannerError, ScenarioError, UnknownSlugError
from planner.physics.deployment import Estimate
from planner.physics.training import TrainingCost
from planner.plan_model import Plan, open_bound
from planner.scenario.schema import Scenario

if typing.TYPE_CHECKING:
    from planner.insight.break_even import BreakEven
    from planner.insight.explanation import Explanation
    from planner.insight.preview import Preview
    from planner.insight.sweeps import SweepResult

#: Result types of the commands a plain ``whatif plan`` does not run, imported on first use
#: (PEP 562) so that the command line starts with what planning needs only.
_LAZY = {"BreakEven": "planner.insight.break_even", "Explanation": "planner.insight.explanation",
         "Preview": "planner.insight.preview", "SweepResult": "planner.insight.sweeps"}


def __getattr__(name: str) -> typing.Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "open_bound",
    "plan",
    "preview",
    "scenario_from_dict",
    "sweep",
    "training_cost",
]
