"""The Dask backend on a real LocalCluster: identical results, even when a worker dies."""

from __future__ import annotations

import os
import signal

import pytest

from sim.montecarlo import run_ensemble

pytest.importorskip("distributed")  # installed by the dev extra; CI always has it

pytestmark = pytest.mark.slow


def collect(scenario, backend=None, on_rows=None, **kwargs):
    rows = []

    def sink(text):
        rows.append(text)
        if on_rows:
            on_rows(len(rows))
    ensemble = run_ensemble(scenario, on_rows=sink, backend=backend, **kwargs)
    return "".join(rows), ensemble


def test_local_cluster_matches_the_local_backend(baseline):
    from sim.dask_backend import DaskBackend
    expected, ens = collect(baseline, runs=600, seed=5, days=30)
    backend = DaskBackend(workers=2)
    try:
        assert len(backend.client.scheduler_info()["workers"]) == 2
        rows, ens2 = collect(baseline, backend=backend, runs=600, seed=5, days=30,
                             chunk_size=50)
    finally:
        backend.close()
    assert rows == expected
    assert (ens2.aggregate.index == ens.aggregate.index).all()


def test_killing_a_worker_mid_run_changes_nothing(baseline):
    """A worker process is killed after the first chunk arrives; its tasks are computed
    again elsewhere and the rows are still byte-identical."""
    from sim.dask_backend import DaskBackend
    expected, _ = collect(baseline, runs=800, seed=6, days=30)
    backend = DaskBackend(workers=2)
    killed = []

    pids = backend.client.run(os.getpid)  # worker address -> process id

    def kill_one(chunks_seen):
        if chunks_seen == 1 and not killed:
            victim = pids[sorted(pids)[0]]
            killed.append(victim)
            os.kill(victim, signal.SIGKILL)
    try:
        rows, _ = collect(baseline, backend=backend, on_rows=kill_one, runs=800, seed=6,
                          days=30, chunk_size=40)
    finally:
        backend.close()
    assert killed
    assert rows == expected
