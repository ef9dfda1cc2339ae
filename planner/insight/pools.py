"""Where parallel plans run, and workers that never outlive their command.

* ``make_executor``: a local process pool, this process (``inline``), a local Dask cluster or an
  existing one (connected with a hard timeout);
* spawned local pools whose workers ignore Ctrl-C (the parent stops them) and end themselves when
  the parent dies; SIGTERM turned into the same clean stop as Ctrl-C;
* ``RestartablePool``: a sweep's executor, replaced when a local worker is lost, asked whether a
  Dask cluster can still run anything, and stopped at once on an interrupt.

Used by sweeps and by ``explain``'s sensitivity re-solves."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from planner.errors import InputError

#: How often a worker checks that its parent is alive, seconds.
WATCHDOG_PERIOD_S = 1.0
#: Seconds a Dask client may take to reach its scheduler (the whole attempt is cut at twice this).
DASK_CONNECT_TIMEOUT_S = 5


def local_pool(workers: int) -> cf.ProcessPoolExecutor:
    """Spawned workers (never fork after HiGHS has run) that ignore Ctrl-C (the parent stops them)
    and end themselves when the parent dies (a watchdog thread), so no worker outlives its sweep."""
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=worker_init, initargs=(os.getpid(),))


def worker_init(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_PERIOD_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="whatif-parent-watchdog", daemon=True).start()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM stops a sweep like Ctrl-C (finished rows kept, workers ended), in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def to_interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, to_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_pool(pool: cf.Executor) -> None:
    """End a local pool's workers now and drop what has not started (their work is lost); any other
    executor is just shut down without waiting."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()
    shutdown_executor(pool, wait=False)


@contextlib.contextmanager
def make_executor(spec: str | None, workers: int) -> Iterator[cf.Executor]:
    if workers < 1:
        raise InputError(f"must be at least 1, got {workers}", "--workers")
    if spec in (None, "local"):
        pool = local_pool(workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if spec == "inline":
        with _InlineExecutor() as inline:
            yield inline
        return
    if spec == "dask" or spec.startswith("dask://"):
        _require_dask()
        from distributed import Client, LocalCluster
        if spec == "dask":
            # ":0": the scheduler's HTTP server on a free port. With None it still tries 8787 first, and
            # when another cluster holds that port its retry leaks a socket (a ResourceWarning that failed
            # a clean-clone test run once)
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, \
                    Client(cluster) as client:
                yield client.get_executor(pure=False)
            return
        address = "tcp://" + spec.removeprefix("dask://")
        client = _connect(Client, address)
        try:
            yield client.get_executor(pure=False)
        finally:
            with contextlib.suppress(Exception):  # a scheduler that died must not hang the way out
                client.close(timeout=DASK_CONNECT_TIMEOUT_S)
        return
    raise _unknown(spec)


def _unknown(spec: str) -> InputError:
    return InputError(f"unknown executor '{spec}'; use local, inline, dask or dask://HOST:PORT", "--executor")


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("Dask is not installed: pip install 'whatif-planner[dask]'", "--executor") from None


def check_executor(spec: str | None) -> None:
    """Refuse, before a sweep writes anything, an executor :func:`make_executor` would refuse: an
    unknown name, Dask not installed, a scheduler that does not answer (connected to and closed)."""
    if spec in (None, "local", "inline"):
        return
    if spec != "dask" and not spec.startswith("dask://"):
        raise _unknown(spec)
    _require_dask()
    from distributed import Client

    if spec.startswith("dask://"):
        client = _connect(Client, "tcp://" + spec.removeprefix("dask://"))
        with contextlib.suppress(Exception):
            client.close(timeout=DASK_CONNECT_TIMEOUT_S)


def _connect(client_type: Any, address: str) -> Any:
    """A Dask client, or a clear error within ``2 × DASK_CONNECT_TIMEOUT_S``: a server that accepts
    the connection but never answers, or speaks another protocol (an HTTP server's reply read as a
    message length asks for exabytes), is refused like an address nobody listens on."""
    result: dict[str, Any] = {}

    def attempt() -> None:
        try:
            result["client"] = client_type(address, timeout=f"{DASK_CONNECT_TIMEOUT_S}s")
        except BaseException as exc:  # noqa: BLE001  (reported below, on the caller's thread)
            result["error"] = exc

    thread = threading.Thread(target=attempt, name="whatif-dask-connect", daemon=True)
    thread.start()
    thread.join(2 * DASK_CONNECT_TIMEOUT_S)
    if "client" in result:
        return result["client"]
    why = (f"no answer within {2 * DASK_CONNECT_TIMEOUT_S} s" if thread.is_alive()
           else f"{type(result['error']).__name__}: {result['error']}"[:300])
    raise InputError(f"cannot reach the Dask scheduler at {address}: {why}", "--executor")


class _InlineExecutor(cf.Executor):
    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001
            future.set_exception(exc)
        return future


class RestartablePool:
    """The executor of a sweep, replaced by a fresh local pool when a worker is lost."""

    def __init__(self, executor: cf.Executor, spec: str | None, workers: int) -> None:
        self.executor, self.spec, self.workers = executor, spec, workers
        self.extra: list[cf.Executor] = []

    @property
    def broken(self) -> bool:
        return bool(getattr(self.executor, "_broken", False))

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        return self.executor.submit(fn, *args)

    def unreachable(self) -> str | None:
        """Why a Dask cluster can run nothing now (scheduler gone, no workers), else None."""
        client = getattr(self.executor, "_client", None)
        if client is None:
            return None
        if client.status not in ("running", "connecting", "newly-created"):
            return f"the Dask scheduler is unreachable (client {client.status})"
        try:
            workers = client.scheduler_info().get("workers", {})
        except Exception as exc:  # noqa: BLE001  (a dead scheduler may fail the query itself)
            return f"the Dask scheduler is unreachable ({type(exc).__name__})"
        return None if workers else "the Dask cluster has no workers left"

    def restart(self) -> None:
        if not self.broken:
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = local_pool(self.workers)
        self.extra.append(self.executor)

    def stop(self) -> None:
        """Cancel what has not started and end the local workers now (their batches are lost)."""
        for executor in [self.executor, *self.extra]:
            stop_pool(executor)

    def close_replacements(self) -> None:
        """Shut the pools made by :meth:`restart` (the first one belongs to ``make_executor``)."""
        for executor in self.extra:
            shutdown_executor(executor, wait=True)


def shutdown_executor(executor: cf.Executor, wait: bool) -> None:
    """Shut ``executor`` down, dropping queued work where the executor can (Dask's cannot)."""
    try:
        executor.shutdown(wait=wait, cancel_futures=True)
    except TypeError:  # executors without cancel_futures (Dask's)
        executor.shutdown(wait=wait)
