r"""Run many plans: grid sweeps and Monte Carlo, on local processes or a Dask cluster.

Everything goes through a :class:`concurrent.futures.Executor`:

* ``executor=None`` / ``"local"`` — a ``ProcessPoolExecutor`` with the *spawn* start method (never
  fork after HiGHS has run) and ``workers`` processes, each solving with one HiGHS thread;
* ``"dask"`` — a local Dask cluster of ``workers`` single-threaded processes;
* ``"dask://HOST:PORT"`` — an existing Dask scheduler (checked before any work starts);
* ``"inline"`` — this process (for debugging; no parallelism), with the workers' one solver thread
  (:func:`planner.optimize.solver.highs_threads` switches HiGHS's process-global count), so its rows
  are the workers' rows even where a search depends on the count.

A point whose plan stops at a limit (``feasible``) carries its proven lower bound, ``bound_usd``
(:func:`planner.plan_model.open_bound`: the optimum lies in ``[bound_usd, lifetime_cost_usd]``; empty
when optimal), and likewise ``nominal_variant_bound_usd`` for Monte Carlo's nominal variant.

Points travel in batches (``batch_size``; not one task per plan) with at most
``IN_FLIGHT_PER_WORKER × workers`` batches in flight.  Each row is streamed to ``output`` (CSV or
JSON Lines, by suffix) as its batch completes; ``resume=True`` reads the file first and skips the
points already there (a torn last line from an interrupted run is dropped).  A point that fails
records its error and the sweep goes on.  Rows carry ``index`` (the point's position), ``seed``,
the inputs (as planned: a whole-number field's value rounded), the status, costs, variant, a fleet
summary (``fleet``: each hardware and mode with its largest GPU count in service over the horizon,
``h200 buy x64; h100-sxm reserved-1y x8`` — peaks of different months, not one month's fleet) and solver
seconds.  A file holds the rows in the order they finished (so an interrupted sweep keeps every finished
one); sorted by ``index``, they are identical whichever worker count, local pool or Dask cluster ran them
(``solver_seconds`` aside), and the result's ``rows`` are in that order.

Worker processes cache catalogs and candidate sets (candidates depend only on the model, the
request shapes, the hardware and the techniques, not on demand, prices or horizon), so a sweep
over demand or prices evaluates the roofline once per process.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import BaseModel, ConfigDict

from planner.errors import InputError, PlannerError, SweepInterrupted
from planner.insight.pools import RestartablePool, check_executor, interruptible, make_executor
from planner.insight.sweep_files import INFRASTRUCTURE_ERROR, append, check_output, claim_output, fingerprint, read_done
from planner.scenario.loading import validate_scenario
from planner.scenario.schema import Scenario
from planner.scenario.sweep_spec import (
    Point,
    apply_point,
    check_paths,
    declared,
    draw,
    grid,
    holds_whole_number,
    planned_point,
)

IN_FLIGHT_PER_WORKER = 2
TECHNIQUE_SETTINGS = "technique_settings"
#: Most points per batch: rows reach the output at least this often per worker, so an interrupt
#: loses little and a lost worker little work.
MAX_BATCH_POINTS = 8
#: Resubmissions of a batch whose worker was lost before its points become error rows.
MAX_BATCH_RETRIES = 2
#: How often a sweep waiting on its batches checks that its Dask cluster is still there, seconds.
STALL_CHECK_S = 2.0
#: A Dask cluster unreachable (or without workers) this long fails the points in flight and those
#: not yet sent as infrastructure errors ("worker lost": --resume retries them); seconds.
CLUSTER_LOST_AFTER_S = 20.0
#: Target batches per worker over a sweep (bigger batches amortise task overhead; more keep all busy).
BATCHES_PER_WORKER = 4
SWEEP_THREADS_PER_PROCESS = 1
PERCENTILES = (10, 50, 90)


class MonteCarloSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    samples: int
    nominal_variant: str
    nominal_variant_cost_percentiles_usd: dict[str, float]  # "p10", "p50", "p90"
    decision_stability: dict[str, float]  # variant -> share of samples where it is optimal
    failed: int
    #: Samples whose plan or nominal plan stopped at a limit (not proven optimal).
    unproven: int = 0
    #: The same percentiles of each sample's proven lower bound (its cost where proven): a percentile is
    #: monotone in every sample, so the true one lies in [this, ``nominal_variant_cost_percentiles_usd``].
    nominal_variant_cost_percentiles_lower_usd: dict[str, float] = {}
    #: Samples the nominal variant cannot serve (its plan is infeasible there: a drawn input breaks its
    #: quality floor or a target); they have no cost and are not in the percentiles, which are over
    #: ``samples − failed − nominal_variant_unserved`` samples.
    nominal_variant_unserved: int = 0


class SweepResult(BaseModel):
    """The answer of ``whatif sweep`` / :func:`planner.sweep`: one plain dict per point (``index``,
    ``inputs`` as planned, ``status``, ``lifetime_cost_usd`` present value, ``bound_usd`` where not
    proven, ``variant``, …: the CSV's columns), in point order, and the Monte Carlo summary for draws."""

    model_config = ConfigDict(frozen=True)

    rows: list[dict[str, Any]]
    monte_carlo: MonteCarloSummary | None = None
    output: str | None = None
    catalog_overlays: list[str] = []  # overlays every point was planned with


# ----------------------------------------------------------------------------------- worker side

@functools.cache
def _catalog(overlays: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from planner.catalog.store import load_catalogs

    return load_catalogs(list(overlays), use_env=False)


_CANDIDATES: dict[str, Any] = {}
#: Scenario sections the candidate table does not read (only the optimiser and the sweep do).
CANDIDATE_FREE_KEYS = frozenset({"name", "horizon", "solver", "sweep", "uncertainty", "market"})


def _candidates(scenario: Scenario, overlays: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from planner.optimize.candidates import build_candidates

    data = json.loads(scenario.model_dump_json())
    for w in data["workload"]:
        w.pop("queries_per_day", None)
    # everything the candidate table may read: all but what only the optimiser prices (demand volume,
    # the horizon, market prices and caps, the solver); it once left out measured rows, plan.engine and
    # plan.expert_parallel, and a sweep over them reused the first point's capacities
    market = {k: data["market"][k] for k in ("hardware", "providers", "quota_gpus")}
    key = json.dumps({k: v for k, v in data.items() if k not in CANDIDATE_FREE_KEYS} | {"market": market,
                     "overlays": overlays}, sort_keys=True)
    if key not in _CANDIDATES:
        _CANDIDATES.clear()  # keep one: sweeps vary one thing at a time far more often than not
        _CANDIDATES[key] = build_candidates(scenario, _catalog(overlays))
    return _CANDIDATES[key]


def _fleet_summary(plan) -> str:  # type: ignore[no-untyped-def]
    """Each hardware and mode with its largest GPU count in service over the horizon (module docstring)."""
    peak: Counter[str] = Counter()
    for f in plan.fleet:
        key = f"{f.hardware} {f.mode}"
        peak[key] = max(peak[key], f.gpus_in_service)
    return "; ".join(f"{k} x{v}" for k, v in sorted(peak.items()))


def run_batch(scenario_json: str, overlays: tuple[str, ...], points: list[tuple[int, Point]], seed: int | None,
              nominal_techniques: dict[str, list[str]] | None, threads: int | None) -> list[dict[str, Any]]:
    """Plan each point (and, for Monte Carlo, the nominal variant alone); one row per point."""
    from planner.optimize.planning import plan_scenario
    from planner.plan_model import open_bound

    rows = []
    for index, point in points:
        row: dict[str, Any] = {"index": index, "seed": seed, "inputs": point}
        try:
            scenario = apply_point(scenario_json, {**point, **({"solver.threads": threads} if threads else {})},
                                   whole_number)
            plan = plan_scenario(scenario, _catalog(overlays), candidates=_candidates(scenario, overlays))
            row.update(status=plan.status, lifetime_cost_usd=plan.lifetime_cost_usd, bound_usd=open_bound(plan),
                       one_time_cost_usd=plan.one_time_cost_usd, recurring_cost_usd=plan.recurring_cost_usd,
                       variant="; ".join(plan.variant_names), fleet=_fleet_summary(plan),
                       solver_seconds=plan.timings.get("solve_s", 0.0),
                       error=None if plan.lifetime_cost_usd is not None else plan.message)  # infeasible: why
            if nominal_techniques is not None:
                fixed_data = json.loads(scenario.model_dump_json())
                fixed_data["techniques"] = nominal_techniques
                fixed = validate_scenario(fixed_data)
                nominal = plan_scenario(fixed, _catalog(overlays), candidates=_candidates(fixed, overlays))
                row["nominal_variant_cost_usd"] = nominal.lifetime_cost_usd
                row["nominal_variant_bound_usd"] = open_bound(nominal)
        except Exception as exc:  # noqa: BLE001  (one failed point must not stop the sweep)
            # an error row carries no figures: a nominal re-solve that fails after the point's own plan
            # does not leave that plan's costs on a row counted as failed
            reason = str(exc) if isinstance(exc, PlannerError) else f"{type(exc).__name__}: {exc}"
            row = {"index": index, "seed": seed, "inputs": point, "status": "error", "error": reason}
        rows.append(row)
    return rows


def whole_number(path: str) -> bool:
    """Whether the field at ``path`` is declared a whole number: the scenario's own fields
    (:func:`~planner.scenario.sweep_spec.holds_whole_number`), and under ``technique_settings.<name>``
    the field of that technique's ``Settings`` model (``moe.upcycle_experts``: yes;
    ``caching.store_usd_per_gb_month``: no, whatever the file wrote), which the scenario types as a
    free-form table.  An unknown technique or setting is no whole number: its own validation names it."""
    parts = path.split(".")
    if parts[0] != TECHNIQUE_SETTINGS:
        return holds_whole_number(path)
    from techniques.registry import default_registry

    technique = default_registry().get(parts[1]) if len(parts) == 3 else None
    field = technique.Settings.model_fields.get(parts[2]) if technique is not None else None
    return field is not None and declared(field.annotation) is int


# ----------------------------------------------------------------------------------- driver

def _preflight(scenario: Scenario, first: Point, overlays: Sequence[str]) -> None:
    """Catalog references and techniques of the first point, checked before any work is sent."""
    from planner.catalog.store import load_catalogs
    from planner.optimize.candidates import check_references
    from planner.optimize.variants import build_variants

    catalog = load_catalogs(list(overlays), use_env=False)
    at_first = apply_point(scenario.model_dump_json(), first, whole_number)
    check_references(at_first, catalog)
    build_variants(at_first, catalog)



def sweep(
    scenario: Scenario,
    *,
    vary: dict[str, str] | None = None,
    zip_axes: bool = False,
    samples: int | None = None,
    seed: int = 0,
    workers: int = 1,
    executor: str | None = None,
    output: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overlays: Sequence[str] = (),
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Plan every point of a grid (``vary``) or ``samples`` Monte Carlo draws; see the module docstring."""
    monte_carlo = samples is not None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"must be a whole number >= 0, got {seed!r}", "--seed")
    if monte_carlo and vary:
        raise InputError("--vary and --samples are two kinds of sweep (a grid, Monte Carlo draws from "
                         "[uncertainty]): give one", "--samples")
    if monte_carlo:
        points = draw(scenario.uncertainty, int(samples or 0), seed)
    else:
        axes = vary or dict(scenario.sweep.vary)
        points = grid(axes, zip_axes or (not vary and scenario.sweep.zip))
    check_paths(scenario, points, "uncertainty" if monte_carlo else "--vary", whole_number)
    points = [planned_point(p, whole_number) for p in points]  # rows record the values planned
    _preflight(scenario, points[0], overlays)
    check_executor(executor)
    paths = list(points[0])
    out_path = Path(output) if output is not None else None
    scenario_json = scenario.model_dump_json()
    if out_path is not None:
        check_output(out_path, resume)
    nominal_techniques = _nominal_techniques(scenario, overlays) if monte_carlo else None
    if out_path is not None:  # claimed only once every input is known good: exit 2 writes nothing
        claim_output(out_path, fingerprint(scenario_json, points, overlays, seed if monte_carlo else None), resume)
    done = read_done(out_path, paths, points) if out_path is not None and resume else []
    done_index = {int(r["index"]) for r in done}
    todo = [(i, p) for i, p in enumerate(points) if i not in done_index]
    size = batch_size or max(1, min(MAX_BATCH_POINTS, math.ceil(len(todo) / max(1, workers * BATCHES_PER_WORKER))))
    batches = [todo[k:k + size] for k in range(0, len(todo), size)]
    threads = SWEEP_THREADS_PER_PROCESS  # every point, in a worker or inline, with one solver thread
    rows: list[dict[str, Any]] = list(done)
    handle = None
    if out_path is not None:
        new_file = not out_path.exists()
        handle = out_path.open("a", encoding="utf-8", newline="")
        if new_file and out_path.suffix == ".csv":
            append(handle, ".csv", [], paths, header=True)
    try:
        rows.extend(_run_batches(batches, executor, workers, scenario_json, overlays,
                                 seed if monte_carlo else None, nominal_techniques, threads, handle, paths,
                                 progress, len(todo)))
    finally:
        if handle is not None:
            handle.close()
    rows.sort(key=lambda r: int(r["index"]))
    summary = _monte_carlo_summary(rows, nominal_techniques) if monte_carlo else None
    return SweepResult(rows=rows, monte_carlo=summary, output=str(out_path) if out_path else None,
                       catalog_overlays=[str(o) for o in overlays])


def _nominal_techniques(scenario: Scenario, overlays: Sequence[str]) -> dict[str, list[str]]:
    """The variant the nominal scenario picks: Monte Carlo draws price that decision (and re-plan)."""
    from planner.catalog.store import load_catalogs
    from planner.optimize.planning import plan_scenario

    nominal = plan_scenario(scenario, load_catalogs(list(overlays), use_env=False))
    if nominal.variant is None:
        raise InputError(f"the nominal scenario has no single-variant plan ({nominal.status}): {nominal.message}",
                         "scenario")
    return {t: [o] for t, o in nominal.variant.items()}


Batch = list[tuple[int, Point]]


def _run_batches(batches: list[Batch], executor: str | None, workers: int,  # noqa: PLR0913
                 scenario_json: str, overlays: Sequence[str], seed: int | None,
                 nominal_techniques: dict[str, list[str]] | None, threads: int | None, handle: TextIO | None,
                 paths: list[str], progress: Callable[[int, int], None] | None, total: int) -> list[dict[str, Any]]:
    """Run the batches with at most ``IN_FLIGHT_PER_WORKER`` per worker in flight, appending each
    finished batch to ``handle`` as it arrives.

    * A batch whose worker is lost (killed, out of memory, a broken pool) is resubmitted — on a new
      pool when the old one broke — up to ``MAX_BATCH_RETRIES`` times; after that its points become
      error rows marked as infrastructure failures, which ``--resume`` retries.
    * A Dask cluster that can run nothing for ``CLUSTER_LOST_AFTER_S`` fails every point still out
      the same way.
    * Ctrl-C or SIGTERM stops submitting, cancels what has not started, stops the workers, keeps
      every finished row and raises :class:`SweepInterrupted` (exit 130) saying how to resume.
    """
    job = (run_batch, scenario_json, tuple(overlays), seed, nominal_techniques, threads)
    run: _BatchRun | None = None
    try:
        with interruptible(), make_executor(executor, workers) as first_pool:
            run = _BatchRun(RestartablePool(first_pool, executor, workers), job, batches, workers, handle, paths,
                            progress, total)
            try:
                run.until_done()
            except BaseException:  # Ctrl-C, a write that failed (a full disk), a bug: end the workers, keep the rows
                run.pool.stop()
                raise
            finally:
                run.pool.close_replacements()
    except KeyboardInterrupt:  # also while the pool shuts down after the last row: the same answer
        where = f" in {handle.name}" if handle is not None else ""
        raise SweepInterrupted(f"interrupted after {run.finished if run else 0} of {total} points; their rows are "
                               f"kept{where}" + ("; run the same command with --resume to continue" if handle else ""),
                               "sweep") from None
    return run.rows


class _BatchRun:
    """The state of one sweep's batches: queued, in flight (each with its retry count), and done."""

    def __init__(self, pool: RestartablePool, job: tuple[Any, ...], batches: list[Batch], workers: int,  # noqa: PLR0913
                 handle: TextIO | None, paths: list[str], progress: Callable[[int, int], None] | None,
                 total: int) -> None:
        self.pool, self.job, self.handle, self.paths = pool, job, handle, paths
        self.progress, self.total = progress, total
        self.in_flight = IN_FLIGHT_PER_WORKER * workers
        self.queue: list[tuple[int, Batch]] = list(enumerate(batches))[::-1]  # pop() takes the first
        self.pending: dict[cf.Future[list[dict[str, Any]]], tuple[int, Batch]] = {}
        self.attempts: dict[int, int] = {}
        self.rows: list[dict[str, Any]] = []
        self.finished = 0

    def until_done(self) -> None:
        self.fill()
        unreachable_since: float | None = None
        while self.pending:
            completed, _ = cf.wait(self.pending, timeout=STALL_CHECK_S, return_when=cf.FIRST_COMPLETED)
            if completed:
                unreachable_since = None
                self.collect(completed)
                self.fill()
                continue
            reason = self.pool.unreachable()  # nothing finished lately: is the cluster still there?
            unreachable_since = None if reason is None else (unreachable_since or time.monotonic())
            if reason is not None and time.monotonic() - (unreachable_since or 0.0) > CLUSTER_LOST_AFTER_S:
                lost = [batch for _, batch in [*self.pending.values(), *self.queue]]
                self.pending.clear()
                self.queue.clear()
                self.record([row for batch in lost for row in self.failed_rows(batch, reason)])

    def fill(self) -> None:
        while len(self.pending) < self.in_flight and self.queue:
            key, batch = self.queue.pop()
            fn, scenario_json, overlays, seed, nominal, threads = self.job
            try:
                future = self.pool.submit(fn, scenario_json, overlays, batch, seed, nominal, threads)
            except Exception as exc:  # noqa: BLE001  (a cluster gone mid-sweep cannot take more work)
                future = cf.Future()
                future.set_exception(exc)
            self.pending[future] = (key, batch)

    def collect(self, completed: set[cf.Future[list[dict[str, Any]]]]) -> None:
        lost_pool = False
        for future in completed:
            key, batch = self.pending.pop(future)
            try:
                self.record(future.result())
            except Exception as exc:  # noqa: BLE001  (a lost worker fails its batch, not the sweep)
                lost_pool = lost_pool or isinstance(exc, BrokenProcessPool)
                if self.retry(key, batch):
                    continue
                self.record(self.failed_rows(batch, f"{type(exc).__name__}: {exc}"))
        if lost_pool:  # every batch still in flight on a broken pool is lost with it
            for future, (key, batch) in list(self.pending.items()):
                if future.done() or self.pool.broken:
                    self.pending.pop(future)
                    self.retry(key, batch, always=True)
            self.pool.restart()

    def retry(self, key: int, batch: Batch, always: bool = False) -> bool:
        """Queue ``batch`` again unless it has been lost ``MAX_BATCH_RETRIES`` times already."""
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if always or self.attempts[key] <= MAX_BATCH_RETRIES:
            self.queue.append((key, batch))
            return True
        return False

    def failed_rows(self, batch: Batch, reason: str) -> list[dict[str, Any]]:
        seed = self.job[3]
        return [{"index": i, "seed": seed, "inputs": p, "status": "error", "error": f"{INFRASTRUCTURE_ERROR}: {reason}"}
                for i, p in batch]

    def record(self, batch_rows: list[dict[str, Any]]) -> None:
        self.rows.extend(batch_rows)
        if self.handle is not None:
            append(self.handle, Path(self.handle.name).suffix, batch_rows, self.paths, header=False)
        self.finished += len(batch_rows)
        if self.progress is not None:
            self.progress(self.finished, self.total)


def _monte_carlo_summary(rows: list[dict[str, Any]], nominal: dict[str, list[str]] | None) -> MonteCarloSummary:
    priced = [r for r in rows if r.get("nominal_variant_cost_usd") not in (None, "")]
    costs = [float(r["nominal_variant_cost_usd"]) for r in priced]
    lows = [float(r["nominal_variant_cost_usd"] if r.get("nominal_variant_bound_usd") in (None, "")
                  else r["nominal_variant_bound_usd"]) for r in priced]
    variants = Counter(r.get("variant") or r.get("status") for r in rows)
    name = " + ".join(f"{t}:{o[0]}" for t, o in (nominal or {}).items() if o[0] != "none") or "baseline"
    pct = {f"p{q}": float(np.percentile(costs, q)) for q in PERCENTILES} if costs else {}
    low = {f"p{q}": float(np.percentile(lows, q)) for q in PERCENTILES} if lows else {}
    unproven = sum(1 for r in rows if r.get("bound_usd") not in (None, "") or r.get("nominal_variant_bound_usd")
                   not in (None, ""))
    failed = sum(1 for r in rows if r.get("status") == "error")
    return MonteCarloSummary(samples=len(rows), nominal_variant=name, nominal_variant_cost_percentiles_usd=pct,
                             decision_stability={str(k): v / len(rows) for k, v in variants.most_common()},
                             failed=failed, unproven=unproven, nominal_variant_cost_percentiles_lower_usd=low,
                             nominal_variant_unserved=len(rows) - failed - len(priced))
