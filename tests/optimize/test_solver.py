"""HiGHS's thread count (:mod:`planner.optimize.solver`): a constant where the scenario names none,
switched between runs of one process, refused while another run uses the scheduler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from planner.optimize import solver as solvers
from planner.optimize.direct import build
from planner.optimize.direct_solve import run_highs
from planner.optimize.solver import SolveStatus
from tests.optimize.test_direct import synthetic


def test_one_solver_thread_means_one_proof_at_a_time() -> None:
    """``solver.threads = 1`` (what sweep and explain workers set) keeps the proofs one after the other;
    the default and two or more threads allow two at once."""
    from planner.optimize.solver import PROOF_WAVE, proofs_at_once

    assert PROOF_WAVE == 2
    assert not proofs_at_once(1)
    assert proofs_at_once(None) and proofs_at_once(2) and proofs_at_once(8)


def test_highs_threads_default_is_a_constant_not_the_machine() -> None:
    """Without ``solver.threads`` HiGHS runs with ``DEFAULT_HIGHS_THREADS``, not HiGHS's machine-sized
    default (its search, and so a plan within the gap, depends on the count), and it stays that even
    after the process ran with another count."""
    from planner.optimize.solver import highs_threads

    with highs_threads(None) as first:
        pass
    with highs_threads(1) as one:
        pass
    with highs_threads(None) as again:
        pass
    assert solvers.DEFAULT_HIGHS_THREADS == 2
    assert first == again == {"threads": 2} and one == {"threads": 1}


def test_a_process_plans_with_one_thread_count_after_another() -> None:
    """HiGHS's scheduler is process-global: a run with another count than the process started with
    returned "Not Solved" (``plan`` printed an error) until the scheduler was restarted between runs.
    In one fresh process a scenario is planned with ``solver.threads`` 2, 1, unset and 3 — as ``plan()``,
    an ``explain`` worker's ``threads = 1`` and ``plan()`` again would — each optimal at the same cost,
    and the unset one runs with the default count, not the one used before it."""
    code = ("import planner\n"
            "from planner.optimize import solver\n"
            "from tests.optimize.test_optimizer import scenario\n"
            "for t in (2, 1, None, 3):\n"
            "    p = planner.plan(scenario(solver={'threads': t}))\n"
            "    print(t, p.status, round(p.lifetime_cost_usd, 2), solver._SCHEDULER.threads)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    rows = [line.split() for line in out.splitlines() if line]
    assert [(r[0], r[1], r[3]) for r in rows] == [("2", "optimal", "2"), ("1", "optimal", "1"),
                                                 ("None", "optimal", "2"), ("3", "optimal", "3")]
    assert len({r[2] for r in rows}) == 1


def test_another_thread_count_is_refused_while_a_run_is_active() -> None:
    """Restarting the scheduler is not safe while another run uses it: a different count then is
    refused (a typed error outcome), the same count is not."""
    from planner.optimize.solver import highs_threads

    model = build(synthetic(np.random.default_rng(3), periods=2), [0])
    with highs_threads(2):
        with highs_threads(2) as same:
            assert same == {"threads": 2}
        with pytest.raises(RuntimeError, match="threads=2 in another thread"):
            with highs_threads(1):
                pass
        outcome = run_highs(model, 10.0, 1e-4, threads=1, mip=False)
        assert outcome.status == SolveStatus.ERROR and "another thread" in outcome.message
    assert run_highs(model, 10.0, 1e-4, threads=1, mip=False).status == SolveStatus.OPTIMAL
