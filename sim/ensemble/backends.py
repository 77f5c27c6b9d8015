"""Where chunks of runs are computed: in this process, in local worker processes, or on Dask.

A backend maps a function over tasks and yields results as they complete, in
any order; the Monte Carlo driver puts them back in run order. Swapping the
backend never changes results, because each chunk is a pure function of its
task.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from sim.ensemble.runorder import RunOrderWindow

# concurrent.futures refuses more than 61 worker processes on Windows (its wait limit)
MAX_WINDOWS_WORKERS = 61


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # sched_getaffinity exists on Linux only
        return os.cpu_count() or 1


def start_method() -> str:
    """``forkserver`` where the platform has it (Linux, macOS), else ``spawn`` (Windows).

    Both start workers from a clean interpreter, never by forking a process
    that may hold threads or locks.
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _watch_parent(lifeline) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and exit when the parent is gone.

    ``lifeline`` is the read end of a pipe whose only write end the parent
    holds; when the parent dies in any way (even SIGKILL) the operating
    system closes it, ``recv`` fails, and this worker exits at once instead
    of waiting forever for work that will never come. This is portable, and
    unlike a parent-pid check it does not depend on who forked the worker (the
    forkserver, with that start method).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers itself

    def watch():
        try:
            lifeline.recv()
        except (EOFError, OSError):
            pass
        os._exit(1)
    threading.Thread(target=watch, name="escsim-parent-watch", daemon=True).start()


class InlineBackend:
    """Compute every chunk here, one after another (``--workers 1``)."""

    workers = 1

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*task)`` for each task, in order."""
        for task in tasks:
            yield fn(*task)

    def close(self, abort: bool = False):
        """Nothing to release."""


class ProcessBackend:
    """Local worker processes; at most two chunks per worker in flight or waiting."""

    def __init__(self, workers: int):
        if sys.platform == "win32":
            workers = min(workers, MAX_WINDOWS_WORKERS)
        self.workers = workers
        context = multiprocessing.get_context(start_method())
        lifeline, self._lifeline = context.Pipe(duplex=False)
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                        initializer=_watch_parent, initargs=(lifeline,))

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*task)`` for each task as workers finish them (any order).

        No task starts more than two per worker past the earliest unfinished one.
        """
        tasks = list(tasks)
        window = RunOrderWindow(2 * self.workers)
        running: dict = {}  # future -> task number
        while True:
            for k in window.startable(len(tasks)):
                running[self.pool.submit(fn, *tasks[k])] = k
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                window.finish(running.pop(future))
                yield future.result()

    def close(self, abort: bool = False):
        """Stop the workers and drop queued work.

        With ``abort`` (Ctrl-C, SIGTERM, an error) the workers are terminated
        at once instead of finishing the chunks they are computing.
        """
        if abort:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
            # A worker terminated while sending a result leaves half a message in the
            # result pipe, and the pool's manager thread would wait for the rest forever
            # (and shutdown with it). With every worker gone, closing this process's own
            # write end of that pipe turns the wait into end-of-file, which the manager
            # thread handles as a broken pool.
            writer = getattr(getattr(self.pool, "_result_queue", None), "_writer", None)
            if writer is not None:
                writer.close()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._lifeline.close()


def make_backend(name: str = "local", workers: int | None = None,
                 scheduler: str | None = None):
    """The backend for ``--backend`` / ``--workers`` / ``--scheduler``."""
    workers = workers or default_workers()
    if name == "dask" or scheduler:
        from sim.ensemble.dask_backend import DaskBackend
        return DaskBackend(workers=workers, scheduler=scheduler)
    return InlineBackend() if workers == 1 else ProcessBackend(workers)
