"""Backends start no chunk far ahead of the earliest unfinished one, so the chunks that
finish early and wait (runs.csv is written in run order) stay few behind a slow chunk."""

from __future__ import annotations

import time

import pytest

from sim.ensemble.backends import ProcessBackend
from sim.ensemble.runorder import RunOrderWindow


def test_window_holds_back_tasks_behind_an_unfinished_one():
    window = RunOrderWindow(4)
    assert list(window.startable(20)) == [0, 1, 2, 3]
    for k in (1, 2, 3):
        window.finish(k)
    assert list(window.startable(20)) == []  # task 0 still runs: 3 wait, none may start
    window.finish(0)
    assert list(window.startable(20)) == [4, 5, 6, 7]
    window.finish(5)
    assert list(window.startable(20)) == []
    window.finish(4)
    assert list(window.startable(20)) == [8, 9]  # earliest unfinished is 6 now
    assert list(window.startable(9)) == []  # never past the last task


def first_is_slow(k: int) -> int:
    """A chunk of work: the first takes a while, the others none."""
    if k == 0:
        time.sleep(1.5)
    return k


def finished_before_the_first(backend, n: int = 30) -> int:
    """How many results arrive before that of the slow first task."""
    order = list(backend.map(first_is_slow, [(k,) for k in range(n)]))
    assert sorted(order) == list(range(n))
    return order.index(0)


def test_process_backend_does_not_run_far_ahead_of_a_slow_chunk():
    """Two workers: at most 2 x 2 - 1 = 3 chunks finish while the first still runs (the
    other worker used to go through all 29)."""
    backend = ProcessBackend(2)
    try:
        assert finished_before_the_first(backend) <= 3
    finally:
        backend.close()


@pytest.mark.slow
def test_dask_backend_does_not_run_far_ahead_of_a_slow_chunk():
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from sim.ensemble.dask_backend import DaskBackend
    backend = DaskBackend(workers=2)
    try:
        assert finished_before_the_first(backend) <= 3
    finally:
        backend.close()
