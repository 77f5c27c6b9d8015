"""The Dask backend: chunks of runs as tasks on a Dask distributed cluster.

``--backend dask`` starts a :class:`distributed.LocalCluster` on this machine
(one single-threaded worker process per ``--workers``); ``--scheduler
tcp://HOST:PORT`` connects to an existing cluster instead, which is how runs
go past one machine (``dask-scheduler`` / ``dask-worker`` by hand, or
dask-jobqueue on an HPC system; every worker needs escsim installed). A task
is a pure function of its arguments, so a chunk lost with a dying worker is
simply computed again elsewhere and the results do not change.

A scheduler address must read ``tcp://HOST:PORT`` (or ``tls://``); one that
does not answer within :data:`CONNECT_TIMEOUT` seconds is refused with one
line, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from sim.ensemble.runorder import RunOrderWindow
from sim.errors import ResourceError

CONNECT_TIMEOUT = 10  # seconds to wait for --scheduler to answer
_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)"
                      r":(\d{1,5})")


def check_address(address: str):
    """Refuse a ``--scheduler`` value that is not ``tcp://HOST:PORT`` (or ``tls://``)."""
    match = _ADDRESS.fullmatch(address)
    if not match or not 1 <= int(match.group(4)) <= 65535:
        raise ResourceError(f"--scheduler {address!r} is not a scheduler address; expected "
                            f"tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")


class DaskBackend:
    """Map chunks over a Dask cluster, at most two tasks per worker in flight or waiting."""

    def __init__(self, workers: int = 2, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ResourceError("--backend dask needs the 'distributed' package: "
                                "pip install 'escsim[dask]'") from None
        self.cluster = None
        if scheduler:
            check_address(scheduler)
            try:
                self.client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
            except (OSError, TimeoutError) as exc:
                raise ResourceError(f"cannot reach the Dask scheduler at {scheduler} within "
                                    f"{CONNECT_TIMEOUT} s") from exc
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*task)`` for each task as the cluster finishes them (any order).

        No task starts more than two per worker past the earliest unfinished one.
        """
        from distributed import as_completed
        tasks = list(tasks)
        window = RunOrderWindow(2 * self.workers)
        number: dict = {}  # future -> task number

        def start():
            for k in window.startable(len(tasks)):
                future = self.client.submit(fn, *tasks[k], pure=False)
                number[future] = k
                yield future
        pending = as_completed(list(start()))
        for future in pending:
            result = future.result()
            window.finish(number.pop(future))
            future.release()
            pending.update(start())
            yield result

    def close(self, abort: bool = False):
        """Disconnect, and stop the local cluster if this backend started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
