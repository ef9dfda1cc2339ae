"""Worker processes that never outlive their command: spawned local pools whose workers ignore
Ctrl-C (the parent stops them) and end themselves when the parent dies, and SIGTERM turned into
the same clean stop as Ctrl-C.  Used by sweeps and by ``explain``'s sensitivity re-solves."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

#: How often a worker checks that its parent is alive, seconds.
WATCHDOG_PERIOD_S = 1.0


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
    """End a local pool's workers now and drop what has not started (their work is lost)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
