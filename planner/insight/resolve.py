"""Re-solving a scenario under changes, for explanations and break-even: the changed scenario, the
auxiliary solver settings that make every re-solve reproducible, and a :class:`Batch` that runs
independent re-solves in this process or on spawned workers while the caller works on.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
from collections.abc import Callable
from types import TracebackType

from planner.catalog.store import Catalog
from planner.economics.slices import needs_slices
from planner.optimize.planning import plan_scenario
from planner.plan_model import Plan
from planner.scenario.loading import apply_override, validate_scenario
from planner.scenario.schema import Scenario
from techniques.base import NONE_OPTION
from techniques.registry import default_registry

#: Relative gap of the auxiliary re-solves (baseline, alternatives, sensitivity): the plan itself
#: keeps the scenario's gap; what-ifs at ±20 % do not need a tighter proof than 0.5 %, and every
#: figure they print carries its status and, when not proven, its interval.
AUX_GAP_REL = 5e-3
#: Branch-and-bound nodes per auxiliary MILP (HiGHS ``mip_max_nodes``).  This, not a time limit,
#: is what stops a hard re-solve, so the same scenario gives the same explanation under any
#: machine load; a re-solve stopped by it is shown as ``[proven bound, best found]``.
AUX_NODE_LIMIT = 2_000
#: A safety net only (a machine this slow would change the answer): well above any re-solve's
#: time at ``AUX_NODE_LIMIT`` on a 2-core machine.
AUX_TIME_LIMIT_S = 300.0
#: The two limits for scenarios with ``plan.disaggregation``.  A pair model's node costs about 0.1 s
#: (the disaggregated demo's first variant, 3,480 columns, one thread, 2026-12-06: 200 nodes in
#: 21–23 s, the root alone 15–20 s), so 2,000 of them ran into the 300 s safety net — the
#: hardware-prices ×0.8 re-solve stopped by time at 301.7 s, an answer that depends on load
#: ([1,274.5, 1,370.9] k$) — where 200 stop it by nodes in 107–121 s ([1,264.9, 1,373.5] k$; the
#: baseline 45 s against 142 s).  The safety net is raised to keep the same margin over that.
AUX_PAIR_NODE_LIMIT = 200
AUX_PAIR_TIME_LIMIT_S = 900.0
Progress = Callable[[str], None]


def modified(scenario: Scenario, assignments: list[str]) -> Scenario:
    data = json.loads(scenario.model_dump_json())
    for a in assignments:
        apply_override(data, a)
    return validate_scenario(data)


def baseline_scenario(scenario: Scenario) -> Scenario:
    names = [t.name for t in default_registry().ordered()]
    data = json.loads(scenario.model_dump_json())
    data["techniques"] = {n: [NONE_OPTION] for n in names}
    return validate_scenario(data)


def decision(plan: Plan) -> str:
    if plan.lifetime_cost_usd is None:
        return plan.status
    hardware = sorted({f"{f.hardware} {f.mode}" for f in plan.fleet})
    return f"{'; '.join(plan.variant_names) or 'baseline'} on {', '.join(hardware)}"


def has_pair_models(scenario: Scenario) -> bool:
    """Whether ``scenario``'s re-solves search models whose nodes cost about 0.1 s: disaggregated
    pairs, or pairs of variants with time slices (``plan.max_variants = 2``,
    :mod:`planner.optimize.sliced_pairs`: the demo in 4 slices, a pair model's root 17–29 s, its
    nodes 0.05–0.1 s)."""
    return scenario.plan.disaggregation or (scenario.plan.max_variants >= 2
                                            and needs_slices(scenario.workload, scenario.market.modes))


def aux_node_limit(scenario: Scenario) -> int:
    """The node limit of ``scenario``'s auxiliary re-solves: ``AUX_PAIR_NODE_LIMIT`` with pair
    models (:func:`has_pair_models`), else ``AUX_NODE_LIMIT``."""
    return AUX_PAIR_NODE_LIMIT if has_pair_models(scenario) else AUX_NODE_LIMIT


def aux_scenario(scenario: Scenario) -> Scenario:
    """The scenario with the auxiliary gap (``AUX_GAP_REL``) unless its own gap is looser, and the
    auxiliary node and time limits (:func:`aux_node_limit`) unless its own are lower."""
    changes = []
    nodes = aux_node_limit(scenario)
    seconds = AUX_PAIR_TIME_LIMIT_S if has_pair_models(scenario) else AUX_TIME_LIMIT_S
    if scenario.solver.gap_rel is None or scenario.solver.gap_rel < AUX_GAP_REL:
        changes.append(f"solver.gap_rel={AUX_GAP_REL!r}")
    if scenario.solver.time_limit_s is None or scenario.solver.time_limit_s > seconds:
        changes.append(f"solver.time_limit_s={seconds!r}")
    if scenario.solver.node_limit is None or scenario.solver.node_limit > nodes:
        changes.append(f"solver.node_limit={nodes!r}")
    return modified(scenario, changes) if changes else scenario


#: Re-solve processes when the caller names none: the machine's cores, at most 4 (the figures do not
#: depend on the count, :class:`Batch`; more than 4 rarely pays on explain's ~17 re-solves).  Not one
#: core fewer to leave this process's plan chain its own: on the 2-core machine ``whatif explain`` on the
#: demo took 71.2 and 76.0 s with one worker against 49.6 and 40.1 s with two (interleaved, 2026-12-06).
DEFAULT_WORKERS = max(1, min(4, os.cpu_count() or 1))


def noop(label: str) -> None:
    return None


def _plan_job(scenario_json: str, catalog: Catalog, hint_json: str | None = None) -> Plan:
    """One re-solve in a worker process (one solver thread: workers share the machine's cores), never
    dearer than the ``hint`` plan's deployments re-priced where they still serve it
    (:mod:`planner.optimize.plan_hint`)."""
    data = json.loads(scenario_json)
    data.setdefault("solver", {})["threads"] = 1
    hint = None if hint_json is None else Plan.model_validate_json(hint_json)
    return plan_scenario(validate_scenario(data), catalog, hint=hint)


class Batch:
    """Independent re-solves: submitted at once, collected when needed.

    Every submitted job starts at once on ``workers`` spawned processes (one solver thread each,
    proofs one after the other: :func:`_plan_job`), so they run while the caller solves its own
    chain (the plan, the alternatives).  Used as a context manager: SIGTERM stops like Ctrl-C, and no
    worker outlives the block.  A job's result depends neither on when nor on which worker ran it:
    re-solves stop at a node limit (``AUX_NODE_LIMIT``), and every worker solves with the same
    settings.  There is no in-process mode, even for one worker: a job solved here would not run while
    the caller solves its own chain, and with the caller's thread count and side-by-side proofs its
    interval could differ — measured on the demo, ``--workers 1`` (then in process) and ``--workers 2``
    printed different figures in five of the seven sensitivity rows (four costs, two bounds) and three
    different decisions.  (HiGHS's scheduler is process-global: a worker's one thread could not be
    switched to while the caller's searches run, :func:`planner.optimize.solver.highs_threads`.)
    """

    def __init__(self, workers: int, progress: Progress = noop) -> None:
        self.workers = workers
        self.progress = progress
        self.labels: list[str] = []  # per submitted job, for the progress callback
        self.results: dict[int, Plan] = {}
        self.futures: list[cf.Future[Plan]] = []
        self.pool: cf.ProcessPoolExecutor | None = None
        self._interrupt: contextlib.AbstractContextManager[None] | None = None

    def __enter__(self) -> Batch:
        from planner.insight.pools import interruptible, local_pool

        self._interrupt = interruptible()
        self._interrupt.__enter__()
        self.pool = local_pool(self.workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.pool is not None:
            from planner.insight.pools import stop_pool

            if kind is not None:
                stop_pool(self.pool)
            else:
                self.pool.shutdown(wait=True, cancel_futures=True)
        if self._interrupt is not None:
            self._interrupt.__exit__(kind, exc, tb)

    def submit(self, scenario: Scenario, catalog: Catalog, label: str, hint: Plan | None = None) -> int:
        """Start one re-solve on a worker (given the ``hint`` plan, :func:`_plan_job`); its index for
        :meth:`result`."""
        if self.pool is None:
            raise RuntimeError("Batch.submit outside its with-block")
        self.labels.append(label)
        self.futures.append(self.pool.submit(_plan_job, scenario.model_dump_json(), catalog,
                                             None if hint is None else hint.model_dump_json()))
        return len(self.futures) - 1

    def result(self, index: int) -> Plan:
        if index not in self.results:
            self.results[index] = self.futures[index].result()
            self.progress(self.labels[index])
        return self.results[index]
