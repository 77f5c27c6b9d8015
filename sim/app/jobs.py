"""The ensemble queue: one job at a time, in order, on one worker thread.

A class of thirty browsers each asking for "run 1,000" would otherwise start thirty
ensembles on a laptop's two cores. Jobs wait their turn; every page can show the queue
(:meth:`Queue.snapshot`) and a job's place in it (:attr:`Ticket.position`). A job that
fails reports its error on its ticket and the queue goes on with the next one.
Ensembles run inside a job use the local backend with at most ``MAX_WORKERS`` workers.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_WORKERS = 2  # processes one ensemble job may use: the laptop's cores, not more
MAX_WAITING = 50  # jobs that may wait at once; more are refused (a class is ~10 teams)


@dataclass(eq=False)
class Ticket:
    """One submitted job: where it stands and, once done, its result or error."""

    label: str
    fn: Callable[..., Any]
    args: tuple
    queue: Queue
    result: Any = None
    error: BaseException | None = None
    state: str = "waiting"  # waiting, running, done, failed
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def done(self) -> bool:
        """Whether the job has ended (with a result or an error)."""
        return self.finished.is_set()

    @property
    def position(self) -> int | None:
        """0 while running, n while n-th in line (behind n jobs once one runs), None once ended."""
        return self.queue.position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (or ``timeout`` seconds); whether it ended."""
        return self.finished.wait(timeout)


class Queue:
    """Jobs run one at a time, first come first served, on a daemon worker thread."""

    def __init__(self, max_waiting: int = MAX_WAITING):
        self.max_waiting = max_waiting
        self._lock = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._running: Ticket | None = None
        self._version = 0  # bumped on every change, for pages that wait for one
        self._worker: threading.Thread | None = None

    def submit(self, label: str, fn: Callable[..., Any], *args) -> Ticket:
        """Queue ``fn(*args)`` under ``label`` (shown in the queue); return its ticket.

        Raises :class:`sim.errors.ResourceError` when ``max_waiting`` jobs already wait.
        """
        from sim.errors import ResourceError
        with self._lock:
            if len(self._waiting) >= self.max_waiting:
                raise ResourceError(f"the queue is full ({self.max_waiting} jobs wait); "
                                    f"try again when some have run")
            ticket = Ticket(label, fn, args, self)
            self._waiting.append(ticket)
            self._changed()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="escsim-jobs",
                                                daemon=True)
                self._worker.start()
        return ticket

    def position(self, ticket: Ticket) -> int | None:
        """0 for the running job, n for the n-th in line, None for one that ended.

        The first in line is 1 even in the instant before the worker takes it, so 0
        always means running.
        """
        with self._lock:
            if ticket is self._running:
                return 0
            try:
                return self._waiting.index(ticket) + 1
            except ValueError:
                return None

    def snapshot(self) -> list[tuple[str, str]]:
        """(label, state) of the running job, then of each waiting one in order."""
        with self._lock:
            running = [(self._running.label, "running")] if self._running else []
            return running + [(t.label, f"waiting, {n} ahead")
                              for n, t in enumerate(self._waiting, start=len(running))]

    def changed(self, seen: int, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for a change after version ``seen``; the version."""
        with self._lock:
            self._lock.wait_for(lambda: self._version != seen, timeout)
            return self._version

    def _changed(self) -> None:
        self._version += 1
        self._lock.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._worker = None
                    return
                ticket = self._running = self._waiting.popleft()
                ticket.state = "running"
                self._changed()
            try:
                ticket.result = ticket.fn(*ticket.args)
                ticket.state = "done"
            except Exception as err:  # the job's error goes to its page; the queue goes on
                ticket.error = err
                ticket.state = "failed"
            with self._lock:
                self._running = None
                ticket.finished.set()
                self._changed()


QUEUE = Queue()
