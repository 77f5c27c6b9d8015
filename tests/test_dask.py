"""The Dask backend on a real LocalCluster: identical results, even when a worker dies."""

from __future__ import annotations

import os
import signal

import pytest

from sim.ensemble.montecarlo import run_ensemble
from tests.conftest import BASELINE, run_cli

try:
    import distributed  # noqa: F401  (installed by the dev extra)
except ImportError:
    why = "Dask tests need the 'distributed' package: pip install -e '.[dev]'"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why} (CI is set, so they must run)", pytrace=False)
    pytest.skip(why, allow_module_level=True)

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
    from sim.ensemble.dask_backend import DaskBackend
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


def test_parameter_sets_and_continuations_on_a_cluster_match_the_local_backend(baseline):
    """An ensemble of parameter sets, and continuations of a saved run, give the same rows
    on a two-worker cluster as in this process."""
    from sim.ensemble.dask_backend import DaskBackend
    from sim.model.model import EscalationModel
    from sim.model.params import ParameterSets
    from sim.model.state import SavedState
    sets = ParameterSets(baseline, {"actors.USA.resolve": [0.3, 0.6, 0.9]})
    model = EscalationModel(baseline, runs=[4], seed=5, days=30)
    for _ in range(8):
        model.step()
    origin = SavedState.of(model)
    jobs = [dict(runs=120, parameters=sets), dict(runs=150, origin=origin)]
    expected = [collect(baseline, seed=5, days=30, **job)[0] for job in jobs]
    backend = DaskBackend(workers=2)
    try:
        got = [collect(baseline, backend=backend, seed=5, days=30, chunk_size=35, **job)[0]
               for job in jobs]
    finally:
        backend.close()
    assert got == expected


def test_killing_a_worker_mid_run_changes_nothing(baseline):
    """A worker process is killed after the first chunk arrives; its tasks are computed
    again elsewhere and the rows are still byte-identical."""
    from sim.ensemble.dask_backend import DaskBackend
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


def test_backends_give_byte_identical_folders_through_the_cli(tmp_path):
    """The same `escsim run` in this process (--workers 1), in two local worker processes
    and on a Dask LocalCluster writes the same runs.csv, summary.json and
    trajectories.csv, byte for byte."""
    folders = []
    for name, args in (("inline", ["--workers", 1]),
                       ("local", ["--workers", 2, "--chunk-size", 70]),
                       ("dask", ["--backend", "dask", "--workers", 2, "--chunk-size", 90])):
        out = tmp_path / name
        run_cli("run", BASELINE, "--runs", 300, "--days", 20, "--seed", 11, "--quiet",
                "--out", out, *args, check=0)
        folders.append(next((out / "caribbean-2025").iterdir()))
    for file in ("runs.csv", "summary.json", "trajectories.csv"):
        contents = [(f / file).read_bytes() for f in folders]
        assert contents[1] == contents[0] and contents[2] == contents[0], file
