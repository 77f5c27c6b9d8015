"""How far ahead of the earliest unfinished chunk a backend may start work.

Shared by the local backends (:mod:`sim.ensemble.backends`) and the Dask one
(:mod:`sim.ensemble.dask_backend`); it lives on its own so that neither backend
module imports the other.
"""

from __future__ import annotations


class RunOrderWindow:
    """Which tasks may start: none more than ``size`` places past the earliest unfinished one.

    The driver writes results in task (run) order, so a chunk that finishes
    before an earlier one waits in memory. Starting no task more than
    ``size`` past the earliest unfinished task bounds both the chunks in
    flight and those waiting to ``size``, even behind one slow chunk (before,
    the other workers went on and the waiting chunks piled up).
    """

    def __init__(self, size: int):
        self.size = size
        self.low = 0  # earliest task not finished yet
        self.next = 0  # next task to start
        self.finished: set[int] = set()

    def startable(self, n_tasks: int) -> range:
        """The tasks that may start now (they count as started)."""
        tasks = range(self.next, max(self.next, min(n_tasks, self.low + self.size)))
        self.next = tasks.stop
        return tasks

    def finish(self, task: int):
        """Record that ``task`` finished."""
        self.finished.add(task)
        while self.low in self.finished:
            self.finished.remove(self.low)
            self.low += 1
