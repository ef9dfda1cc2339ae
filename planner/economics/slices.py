r"""Time slices: a day (or a week) cut into a few blocks of its load-duration curve.

Power-system capacity-expansion models size fixed capacity for the largest block and choose variable
capacity per block, paid for the block's hours (PyPSA's weighted snapshots; see
``reference/economics.md``).  Here a **cycle** of ``L`` hours (24, or 168 when some class gives a
weekly profile) repeats every day (week) of a period.

**Weights.**  Class ``c``'s hourly load relative to its mean, ``w_{c,h}`` with ``mean_h w_{c,h} = 1``:
its ``profile`` (24 or 168 weights, a daily one tiled over a week when the cycle is 168 h), a catalog
shape (``whatif catalog list shapes``), or flat (all 1).

**Slices.**  The cycle's hours are grouped by the *aggregate* interactive load
``a_h = Σ_c ℓ_c w_{c,h}`` with ``ℓ_c`` = the class's daily tokens (queries × (input + output)), a
proxy for the GPUs it needs.  Hours sorted by ``a_h`` (descending; ties by hour) are cut into at
most ``S = plan.time_slices`` consecutive groups minimising the capacity standing idle,
``Σ_groups Σ_{h∈g} (max_g a − a_h)`` — the quantised load-duration curve — by dynamic programming
(``O(S·L²)``); the fewest groups reaching that minimum are kept, so a flat profile is one slice.
Slice ``s`` has ``H_s`` hours per cycle (``Σ_s H_s = L``).

**Per class and slice** (used by :mod:`planner.optimize.milp_slices`):

* ``peak_{c,s} = max_{h∈s} w_{c,h}``: an interactive class is provisioned, all through the slice,
  for its busiest hour in it (hourly means: bursts within an hour are the tail-latency model's);
* ``volume_{c,s} = Σ_{h∈s} w_{c,h} / L``: its share of the cycle's queries arriving in the slice.

**Without any profile** there is one slice of ``L = 24`` hours with ``peak = horizon.peak_to_average``
and ``volume = 1``: today's convention, the peak provisioned all day.

A deferrable class (``deadline_hours``) is not tied to its arrival hours: the optimiser chooses how
much of it runs in each slice, within its deadline (:mod:`planner.optimize.milp_slices`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.catalog.schema import LoadShapeRow
from planner.errors import ScenarioError
from planner.scenario.schema import Horizon, Workload

FloatArray = NDArray[np.float64]
HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
#: Two groupings whose idle capacity differs by less than this share of the total load are equally good.
IDLE_TIE_RELATIVE = 1e-12


@dataclass(frozen=True)
class TimeSlices:
    cycle_hours: int  # L
    hours: FloatArray  # [s] hours of the cycle in slice s
    hour_slice: NDArray[np.int64]  # [L] slice of each hour
    weights: FloatArray  # [c, L] hourly load relative to the class's mean
    peak: FloatArray  # [c, s] provisioning multiplier of an interactive class
    volume: FloatArray  # [c, s] share of the cycle's queries arriving in the slice
    shaped: bool  # some class gave a profile (else: one slice at peak_to_average)
    labels: tuple[str, ...]  # per slice, its clock hours, e.g. "09-12, 14-16"

    @property
    def count(self) -> int:
        return int(self.hours.shape[0])

    def uneven(self, c: int) -> bool:
        """Whether class ``c``'s load varies within any slice (flat within each, a deferrable class is
        served as it arrives at a constant rate per slice, whatever its deadline)."""
        return any(np.ptp(self.weights[c, self.hour_slice == s]) > 0 for s in range(self.count))

    @property
    def cycles_per_day(self) -> float:
        return HOURS_PER_DAY / self.cycle_hours


def needs_slices(workloads: Sequence[Workload], modes: Sequence[str]) -> bool:
    """Whether the time-sliced model is needed: a load profile, a deferrable class, or spot capacity."""
    return "spot" in modes or any(w.profile is not None or w.deadline_hours is not None for w in workloads)


def runs_on_spot(w: Workload) -> bool:
    """Whether a class may be served by spot GPUs: its ``allow_spot``, by default only when deferrable."""
    return w.allow_spot if w.allow_spot is not None else w.deadline_hours is not None


def class_weights(w: Workload, shapes: Mapping[str, LoadShapeRow], field: str) -> FloatArray | None:
    """The class's hourly weights normalised to mean 1 (None: no profile)."""
    if w.profile is None:
        return None
    if isinstance(w.profile, str):
        if w.profile not in shapes:
            raise ScenarioError(f"unknown load shape '{w.profile}'; known: {sorted(shapes)}", field)
        raw = np.asarray(shapes[w.profile].weights, dtype=float)
    else:
        raw = np.asarray(w.profile, dtype=float)
    return raw / raw.mean()


def _group_sorted(load: FloatArray, max_groups: int) -> list[int]:
    """Cut points of ``load`` (sorted descending) into ≤ ``max_groups`` runs minimising
    ``Σ_runs Σ_i (run max − load_i)``; returns the start index of each run."""
    n = load.shape[0]
    prefix = np.concatenate([[0.0], np.cumsum(load)])

    def idle(i: int, j: int) -> float:  # run load[i:j], its max is load[i] (sorted descending)
        return float(load[i] * (j - i) - (prefix[j] - prefix[i]))

    inf = float("inf")
    best = np.full((max_groups + 1, n + 1), inf)
    cut = np.zeros((max_groups + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, max_groups + 1):
        for j in range(1, n + 1):
            for i in range(k - 1, j):
                value = best[k - 1, i] + idle(i, j)
                if value < best[k, j]:
                    best[k, j], cut[k, j] = value, i
    tolerance = IDLE_TIE_RELATIVE * max(1.0, float(prefix[-1]))
    target = float(np.min(best[1:, n]))
    k = next(k for k in range(1, max_groups + 1) if best[k, n] <= target + tolerance)
    starts: list[int] = []
    j = n
    while k > 0:
        i = int(cut[k, j])
        starts.append(i)
        j, k = i, k - 1
    return sorted(starts)


def _label(hours: list[int], cycle: int) -> str:
    """Clock hours as runs, e.g. [9, 10, 11, 14] → "09-12, 14-15" (weekly: "Mon 09-12", and a run over
    several days names its last: "Mon 00-Fri 24")."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    runs: list[tuple[int, int]] = []
    for h in sorted(hours):
        if runs and runs[-1][1] == h:
            runs[-1] = (runs[-1][0], h + 1)
        else:
            runs.append((h, h + 1))

    def clock(h: int) -> str:
        return f"{days[h // 24]} {h % 24:02d}" if cycle == HOURS_PER_WEEK else f"{h:02d}"

    def end(a: int, b: int) -> str:  # the run's last hour b − 1 ends at (b − 1) % 24 + 1 o'clock of its day
        hour = f"{(b - 1) % 24 + 1:02d}"
        return f"{days[(b - 1) // 24]} {hour}" if cycle == HOURS_PER_WEEK and (b - 1) // 24 != a // 24 else hour

    return ", ".join(f"{clock(a)}-{end(a, b)}" for a, b in runs)


def time_slices(workloads: Sequence[Workload], horizon: Horizon, max_slices: int,
                shapes: Mapping[str, LoadShapeRow]) -> TimeSlices:
    """The slices of the module docstring (``max_slices`` = ``plan.time_slices``)."""
    given = [class_weights(w, shapes, f"workload[{w.name}].profile") for w in workloads]
    if all(g is None for g in given):
        C = len(workloads)
        return TimeSlices(cycle_hours=HOURS_PER_DAY, hours=np.array([float(HOURS_PER_DAY)]),
                          hour_slice=np.zeros(HOURS_PER_DAY, dtype=np.int64), weights=np.ones((C, HOURS_PER_DAY)),
                          peak=np.full((C, 1), horizon.peak_to_average), volume=np.ones((C, 1)), shaped=False,
                          labels=("00-24",))
    cycle = HOURS_PER_WEEK if any(g is not None and g.shape[0] == HOURS_PER_WEEK for g in given) else HOURS_PER_DAY
    weights = np.stack([np.ones(cycle) if g is None else np.tile(g, cycle // g.shape[0]) for g in given])
    tokens = np.array([w.queries_per_day * (w.input_tokens + w.output_tokens) for w in workloads], dtype=float)
    interactive = np.array([w.deadline_hours is None for w in workloads])
    basis = interactive if interactive.any() else np.ones_like(interactive)
    aggregate = (tokens[basis, None] * weights[basis]).sum(axis=0)
    order = np.lexsort((np.arange(cycle), -aggregate))  # busiest first, ties by hour
    starts = _group_sorted(aggregate[order], min(max_slices, cycle))
    hour_slice = np.zeros(cycle, dtype=np.int64)
    bounds = [*starts, cycle]
    for s in range(len(starts)):
        hour_slice[order[bounds[s]:bounds[s + 1]]] = s
    S = len(starts)
    hours = np.bincount(hour_slice, minlength=S).astype(float)
    peak = np.stack([weights[:, hour_slice == s].max(axis=1) for s in range(S)], axis=1)
    volume = np.stack([weights[:, hour_slice == s].sum(axis=1) / cycle for s in range(S)], axis=1)
    labels = tuple(_label([int(h) for h in np.flatnonzero(hour_slice == s)], cycle) for s in range(S))
    return TimeSlices(cycle_hours=cycle, hours=hours, hour_slice=hour_slice, weights=weights, peak=peak,
                      volume=volume, shaped=True, labels=labels)


def slice_keep_probability(preemption_per_hour: float, hours: FloatArray) -> FloatArray:
    """``(1 − π)^H``: the chance a spot GPU held through a slice of ``H`` hours is not reclaimed."""
    return np.power(1.0 - preemption_per_hour, hours)
