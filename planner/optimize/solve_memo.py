r"""What the single-variant models of one scenario have already proven, for re-solves of the same models.

``whatif explain`` re-solves the plan's scenario with variants excluded (the alternatives) and with
looser quality floors.  Each of those screens variants by solving the *same* single-variant models
(:func:`planner.optimize.direct.build`) the plan's own screening solved, so what that screening
proved can be reused exactly.  A model is identified by a fingerprint of all its arrays (costs,
offset, bounds, integrality, rows and matrix): two models with the same fingerprint are the same
optimisation problem, so an answer proven for one is proven for the other.

For each model the memo keeps

* ``lower`` — a proven lower bound on its optimum ``z*`` (k$):

  - ``+∞`` when it was proven infeasible;
  - the LP relaxation's objective when the relaxation alone settled it;
  - ``cutoff·(1 − g)`` when a search with ``objective_bound = cutoff`` at relative gap ``g`` found
    nothing below the cutoff (:attr:`SolveStatus.CUTOFF`) — the factor ``1 − g`` keeps the bound
    valid even if HiGHS prunes nodes whose bound is within the gap of the cutoff;
  - the proven dual bound ``b`` of an optimal answer;

* ``solution`` — the best answer proven optimal within a requested gap ``g₀``: its objective ``o``,
  bound ``b ≥ o·(1 − g₀)`` and column values.

A later solve of the same model with requested gap ``g`` and cutoff ``c`` is decided by the memo when

* ``c`` is given and ``lower ≥ c``: no plan below ``c`` exists, the answer is ``CUTOFF``;
* a solution with ``g₀ ≤ g`` is known: it is optimal within ``g₀``, hence within ``g``.

Otherwise the model is solved and the outcome recorded.  Only finished answers are recorded
(optimal, cut off, infeasible); an answer stopped by a time or node limit is not, so nothing
load-dependent is reused.  The memo never changes what is proven, only how often it is proven; an
answer reused from a tighter proof (the plan's gap) is at least as close as a fresh one.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from planner.optimize.direct import DirectModel
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.solver import SolveStatus


def fingerprint(model: DirectModel) -> bytes:
    """A digest of every array that defines the optimisation problem (not the column labels)."""
    digest = hashlib.blake2b(digest_size=32)
    digest.update(np.float64(model.offset).tobytes())
    for array in (model.cost, model.col_lower, model.col_upper, model.integrality, model.row_lower,
                  model.row_upper, model.starts, model.index, model.value):
        digest.update(str(array.dtype).encode())
        digest.update(np.int64(array.shape[0]).tobytes())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.digest()


@dataclass
class _Entry:
    lower: float = -math.inf  # proven lower bound on the model's optimum, k$
    gap: float = math.inf  # requested gap of ``solution`` (inf: none known)
    solution: DirectOutcome | None = None


@dataclass
class SolveMemo:
    """Proven facts about single-variant models, keyed by :func:`fingerprint` (module docstring)."""

    entries: dict[bytes, _Entry] = field(default_factory=dict)
    reused: int = 0  # solves the memo decided (for tests and timing notes)

    def lookup(self, model: DirectModel, gap: float, cutoff: float | None) -> DirectOutcome | None:
        """The answer the memo proves for ``model`` at ``gap`` below ``cutoff`` (k$), or None."""
        entry = self.entries.get(fingerprint(model))
        if entry is None:
            return None
        if cutoff is not None and entry.lower >= cutoff:
            self.reused += 1
            if math.isinf(entry.lower):
                return DirectOutcome(SolveStatus.INFEASIBLE, 0.0, None, None, None, None,
                                     "no plan satisfies every constraint (proven earlier)", decided_by_relaxation=True)
            return DirectOutcome(SolveStatus.CUTOFF, 0.0, None, entry.lower, None, None,
                                 f"proven earlier: no plan cheaper than {entry.lower * USD_PER_KUSD:,.0f} $ "
                                 f"(cutoff {cutoff * USD_PER_KUSD:,.0f} $)", decided_by_relaxation=True)
        if entry.solution is not None and entry.gap <= gap:
            self.reused += 1
            return entry.solution
        return None

    def solution(self, model: DirectModel, gap: float) -> DirectOutcome | None:
        """A known answer for ``model`` proven optimal within ``gap`` or tighter, or None."""
        entry = self.entries.get(fingerprint(model))
        return entry.solution if entry is not None and entry.solution is not None and entry.gap <= gap else None

    def record(self, model: DirectModel, gap: float, cutoff: float | None, outcome: DirectOutcome) -> None:
        """Keep what ``outcome`` (a solve of ``model`` at ``gap`` below ``cutoff``) proves."""
        entry = self.entries.setdefault(fingerprint(model), _Entry())
        if outcome.status == SolveStatus.INFEASIBLE:
            entry.lower = math.inf
        elif outcome.status == SolveStatus.CUTOFF and cutoff is not None:
            proven = cutoff * (1.0 - gap)
            if outcome.decided_by_relaxation and outcome.bound is not None:
                proven = max(proven, outcome.bound)  # the relaxation's objective, within the gap of the cutoff
            entry.lower = max(entry.lower, proven)
        elif outcome.status == SolveStatus.OPTIMAL and outcome.values is not None and outcome.objective is not None:
            if outcome.bound is not None:  # a proven bound never above the plan found
                entry.lower = max(entry.lower, min(outcome.bound, outcome.objective))
            if gap < entry.gap:
                entry.gap, entry.solution = gap, outcome
