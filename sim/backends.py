"""Where chunks of runs are computed: in this process, in local worker processes, or on Dask.

A backend maps a function over tasks and yields results as they complete, in
any order; the Monte Carlo driver puts them back in run order. Swapping the
backend never changes results, because each chunk is a pure function of its
task.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    """Local worker processes; at most two chunks per worker in flight (bounded memory)."""

    def __init__(self, workers: int):
        self.workers = workers
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
            else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=workers,
                                        mp_context=multiprocessing.get_context(method))

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*task)`` for each task as workers finish them (any order)."""
        todo = iter(tasks)
        running = set()
        while True:
            while len(running) < 2 * self.workers:
                task = next(todo, None)
                if task is None:
                    break
                running.add(self.pool.submit(fn, *task))
            if not running:
                return
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self, abort: bool = False):
        """Stop the workers and drop queued work.

        With ``abort`` (Ctrl-C, an error) the workers are terminated at once
        instead of finishing the chunks they are computing.
        """
        if abort:
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_backend(name: str = "local", workers: int | None = None,
                 scheduler: str | None = None):
    """The backend for ``--backend`` / ``--workers`` / ``--scheduler``."""
    workers = workers or default_workers()
    if name == "dask" or scheduler:
        from sim.dask_backend import DaskBackend
        return DaskBackend(workers=workers, scheduler=scheduler)
    return InlineBackend() if workers == 1 else ProcessBackend(workers)
