r"""Tail latency of one replica: a queueing model that turns P99 TTFT / TPOT targets into a
maximum utilisation ``ρ_max ∈ [0, 1]`` of the replica's saturated capacity.

Vectorised with numpy over rows (one row = one deployment, the roofline's figures at its batch).

**Model** (per replica; ``R`` saturated capacity, requests/s; ``c`` batch slots; ``T_p`` a prefill
alone; ``G_p`` its GPU time inside a busy replica; ``T_1``/``T_c`` the decode step at batch 1 / ``c``;
all from :mod:`planner.physics.roofline`).  At utilisation ``ρ`` the replica receives Poisson
arrivals at ``λ = ρR``.

1. *Slots: M/G/c.*  Each request holds one of the ``c`` batch slots for its whole generation.
   The holding time is fixed at its saturated value ``S = c/R`` (Little's law at full batch), so
   the offered load is ``a = λS = ρc`` and the slot utilisation is ``ρ`` itself.  Probability of
   waiting for a slot: Erlang C,

   ``C(c, a) = B / (1 − ρ(1 − B))`` with Erlang B by the recursion ``B₀ = 1``,
   ``B_k = a·B_{k−1} / (k + a·B_{k−1})`` (Erlang 1917; e.g. Kleinrock, *Queueing Systems* I, §3.6).

   Wait tail, M/G/c by the Allen–Cunneen / Kingman scaling of the M/M/c tail
   (Allen, *Probability, Statistics and Queueing Theory*, 1990, §6; Kingman 1961):

   ``P(W > t) ≈ C · exp(−θt)``, ``θ = 2(c/S − λ) / (1 + c_s²) = 2R(1 − ρ) / (1 + c_s²)``,

   ``c_s`` the coefficient of variation of the holding time (catalog default
   ``slot_holding_time_cv``).  Exact for M/M/1 and M/M/c (``c_s = 1``); its mean ``C/θ`` is the
   Pollaczek–Khinchine mean ``ρ(1 + c_s²) / (2μ(1 − ρ))`` at ``c = 1`` for any ``c_s``.
   ``W₉₉ = max(0, ln(C / (1 − q)) / θ)`` with ``q = 0.99``.

2. *Iterations (continuous batching).*  A request joins the batch at the next iteration
   boundary; its first token comes at the end of the iteration that runs its prefill, next to the
   other prompts that arrived meanwhile.  With ``n`` sequences decoding, an iteration lasts
   ``T_it = T(n) / (1 − φ)``, ``φ = λG_p`` the prefill share of GPU time (the roofline's TPOT at
   load ``λ``), where the step at occupancy ``n`` is the chord
   ``T(n) = T_1 + (T_c − T_1)(n − 1)/(c − 1)`` between the roofline's batch-1 and batch-``c``
   steps.  A Poisson arrival finds an iteration running with probability ``p_b = 1 − e^{−a}``
   (at least one busy slot, Poisson occupancy), waits for its residual ``U·T_it``
   (``U ~ Uniform(0, 1)``), then for one iteration holding ``N ~ Poisson(λT_it)`` other prefills:

   ``D = T_p + p_b·[U·T_it + T(n) + G_p·N]``,  mean ``m = T_p + 1.5·p_b·T_it``,
   variance ``v = p_b·(T_it²/12 + G_p²·λ·T_it)``  (means of ``T(n)`` at ``n = a``),

   ``D₉₉ ≈ m + z₉₉·√v`` (normal approximation), ``z₉₉ = Φ⁻¹(0.99)``.

   **P99 TTFT** ``≈ W₉₉ + D₉₉`` (the sum of the two quantiles: an upper bound of the quantile of
   the sum when they are comonotone, the conservative side).

3. *TPOT.*  The number of busy slots is Poisson(``a``) truncated at ``c`` (the M/G/c/c occupancy,
   insensitive to the holding-time distribution); its P99 by the normal approximation is
   ``n₉₉ = min(c, a + z₉₉·√a)``, and **P99 TPOT** ``≈ T(n₉₉) / (1 − φ)``.

4. ``ρ_max`` = the largest ``ρ`` with P99 TTFT ≤ target and P99 TPOT ≤ target (each only when
   set), by vectorised bisection (both are non-decreasing in ``ρ``).  At ``ρ → 0`` the P99s are the
   unloaded ``T_p`` and ``T_1``: a target below them gives ``ρ_max = 0`` (infeasible).  A TTFT
   target always leaves ``ρ_max < 1`` (the slot wait diverges at ``ρ = 1``).

**Approximations** (stated, not hidden): the slot holding time stays at its saturated value at
every load (conservative: at lower occupancy the decode step is shorter, so real slots free up
sooner); prompt and output lengths are the class's means (their spread enters only through
``c_s``); iteration lengths are independent (no carry-over of a long iteration's arrivals);
per-request TPOT is the step at the P99 occupancy, not averaged over the request's life.
Measured against MLPerf v4.1 server runs (README, accuracy; ``tests/physics/test_queueing.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: The percentile the P99 targets name.
P99: float = 0.99
#: Standard normal quantile Φ⁻¹(0.99) (Abramowitz & Stegun, table 26.5).
Z_P99: float = 2.3263478740408408
#: Mean of the residual of a uniformly sampled iteration plus one full iteration, in iterations.
RESIDUAL_PLUS_ONE_ITERATION: float = 1.5
#: Variance of Uniform(0, 1) (the residual share of the iteration in progress).
UNIFORM_VARIANCE: float = 1.0 / 12.0
#: Bisection steps for ρ_max: 2⁻⁴⁰ ≈ 1e-12 of the unit interval.
BISECTION_STEPS: int = 40


@dataclass(frozen=True)
class ReplicaQueue:
    """Struct of arrays (seconds, requests/s): one replica per row; build with :meth:`broadcast`."""

    capacity_rps: FloatArray  # R, saturated requests/s
    slots: FloatArray  # c, batch slots (≥ 1)
    prefill_s: FloatArray  # T_p, a prefill alone
    prefill_gpu_s: FloatArray  # G_p, a prefill's GPU time inside a busy replica
    step_s: FloatArray  # T_c, decode step at batch c
    step_one_s: FloatArray  # T_1, decode step at batch 1
    holding_cv: FloatArray  # c_s, coefficient of variation of the slot holding time

    @classmethod
    def broadcast(cls, **columns: ArrayLike) -> ReplicaQueue:
        """Broadcast scalars and arrays to one common length (float64)."""
        names = [f.name for f in fields(cls)]
        missing, extra = sorted(set(names) - set(columns)), sorted(set(columns) - set(names))
        if missing or extra:
            raise TypeError(f"ReplicaQueue: missing {missing}, unexpected {extra}")
        arrays = np.broadcast_arrays(*(np.asarray(columns[n], dtype=np.float64) for n in names))
        return cls(**{n: np.ascontiguousarray(np.atleast_1d(a)) for n, a in zip(names, arrays, strict=True)})

    def __len__(self) -> int:
        return int(self.capacity_rps.shape[0])


@dataclass(frozen=True)
class TailLatency:
    """P99 and mean TTFT/TPOT (seconds) at one utilisation per row, and the slot-wait probability."""

    ttft_p99_s: FloatArray
    tpot_p99_s: FloatArray
    ttft_mean_s: FloatArray
    tpot_mean_s: FloatArray
    wait_probability: FloatArray


def erlang_c(slots: ArrayLike, offered: ArrayLike) -> FloatArray:
    """Erlang C: probability that an arrival waits in an M/M/c queue (1 when ``a ≥ c``).

    >>> float(erlang_c(1, 0.5)[0])  # M/M/1: ρ
    0.5
    >>> round(float(erlang_c(2, 1.0)[0]), 6)  # (a²/2·c/(c−a)) / (1 + a + a²/2·c/(c−a)) = 1/3
    0.333333
    """
    c = np.atleast_1d(np.asarray(slots, dtype=np.float64))
    a = np.atleast_1d(np.asarray(offered, dtype=np.float64))
    c, a = np.broadcast_arrays(c, a)
    b = np.ones_like(a)
    top = int(np.max(c)) if c.size else 0
    for k in range(1, top + 1):
        active = k <= c
        b = np.where(active, a * b / (k + a * b), b)
    rho = a / c
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = b / (1.0 - rho * (1.0 - b))
    return np.where(rho >= 1.0, 1.0, np.clip(wait, 0.0, 1.0))


def _chord_step(q: ReplicaQueue, n: FloatArray) -> FloatArray:
    """``T(n)``: the decode step at occupancy ``n`` on the chord between batch 1 and batch ``c``."""
    span = np.maximum(q.slots - 1.0, 1.0)
    share = np.clip((n - 1.0) / span, 0.0, 1.0)
    return q.step_one_s + (q.step_s - q.step_one_s) * share


def tail_latency(q: ReplicaQueue, utilisation: ArrayLike) -> TailLatency:
    """P99 and mean TTFT and TPOT of every row at utilisation ``ρ`` (scalar or per row), formulas
    in the module docstring.  ``ρ ≥ 1`` gives an infinite TTFT (the slot queue is unstable)."""
    rho = np.broadcast_to(np.asarray(utilisation, dtype=np.float64), q.capacity_rps.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lam = rho * q.capacity_rps
        offered = rho * q.slots
        phi = lam * q.prefill_gpu_s
        mean_step = _chord_step(q, np.maximum(offered, 1.0))
        iteration = mean_step / (1.0 - phi)
        busy = 1.0 - np.exp(-offered)
        d_mean = q.prefill_s + RESIDUAL_PLUS_ONE_ITERATION * busy * iteration
        d_var = busy * (UNIFORM_VARIANCE * iteration**2 + q.prefill_gpu_s**2 * lam * iteration)
        d_p99 = d_mean + Z_P99 * np.sqrt(d_var)
        wait_p = erlang_c(q.slots, offered)
        theta = 2.0 * q.capacity_rps * (1.0 - rho) / (1.0 + q.holding_cv**2)
        stable = rho < 1.0
        w_p99 = np.where(stable, np.maximum(0.0, np.log(wait_p / (1.0 - P99))) / theta, np.inf)
        w_mean = np.where(stable, wait_p / theta, np.inf)
        n_p99 = np.minimum(q.slots, offered + Z_P99 * np.sqrt(offered))
        tpot_p99 = _chord_step(q, n_p99) / (1.0 - phi)
    return TailLatency(ttft_p99_s=w_p99 + d_p99, tpot_p99_s=tpot_p99, ttft_mean_s=w_mean + d_mean,
                       tpot_mean_s=iteration, wait_probability=wait_p)


def _meets(q: ReplicaQueue, rho: FloatArray, ttft_p99_s: FloatArray, tpot_p99_s: FloatArray) -> NDArray[np.bool_]:
    """Rows meeting every set target (NaN = no target) at ``ρ``."""
    tail = tail_latency(q, rho)
    ok_ttft = np.isnan(ttft_p99_s) | (tail.ttft_p99_s <= ttft_p99_s)
    ok_tpot = np.isnan(tpot_p99_s) | (tail.tpot_p99_s <= tpot_p99_s)
    return ok_ttft & ok_tpot


def max_utilisation(q: ReplicaQueue, ttft_p99_s: ArrayLike, tpot_p99_s: ArrayLike) -> FloatArray:
    """``ρ_max``: the largest utilisation whose P99 TTFT and TPOT meet the targets (seconds; NaN =
    no target), by bisection.  1 when no target binds; 0 when even an idle replica misses one
    (a target below the unloaded ``T_p`` or ``T_1``)."""
    shape = q.capacity_rps.shape
    ttft = np.broadcast_to(np.asarray(ttft_p99_s, dtype=np.float64), shape)
    tpot = np.broadcast_to(np.asarray(tpot_p99_s, dtype=np.float64), shape)
    valid = np.isfinite(q.capacity_rps) & (q.capacity_rps > 0) & (q.slots >= 1.0)
    lo = np.zeros(shape)
    hi = np.ones(shape)
    full = valid & _meets(q, hi, ttft, tpot)
    idle = valid & _meets(q, lo, ttft, tpot)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        ok = _meets(q, mid, ttft, tpot)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return np.where(full, 1.0, np.where(idle, lo, 0.0))


def unloaded_p99(q: ReplicaQueue) -> tuple[FloatArray, FloatArray]:
    """P99 TTFT and TPOT of an idle replica (``ρ → 0``): ``T_p`` and ``T_1`` — the floor under any target."""
    tail = tail_latency(q, 0.0)
    return tail.ttft_p99_s, tail.tpot_p99_s

