"""The ensemble engine: results never depend on chunks, workers or batches."""

from __future__ import annotations

import gc
import io
import tracemalloc

import numpy as np
import pytest

from sim.ensemble import engine
from sim.ensemble.backends import InlineBackend, ProcessBackend
from sim.ensemble.montecarlo import run_ensemble, simulate
from sim.ensemble.progress import Progress
from sim.inputs.catalogue import SCHEMES
from sim.stats import wilson_interval
from tests.conftest import BASELINE, run_cli


def collect(scenario, **kwargs):
    rows = []
    ensemble = run_ensemble(scenario, on_rows=rows.append, **kwargs)
    return "".join(rows), ensemble


@pytest.fixture(scope="module")
def reference(baseline):
    return collect(baseline, runs=900, seed=3, chunk_size=900, keep=12)


def test_chunks_and_workers_do_not_change_results(baseline, reference):
    rows, ens = reference
    backend = ProcessBackend(2)
    try:
        rows2, ens2 = collect(baseline, runs=900, seed=3, chunk_size=77, keep=12,
                              backend=backend)
    finally:
        backend.close()
    assert rows2 == rows
    for name in ("outcomes", "first", "index", "levels", "moves"):
        assert np.array_equal(getattr(ens2.aggregate, name), getattr(ens.aggregate, name))
    assert ens2.aggregate.casualties == ens.aggregate.casualties
    assert ens2.aggregate.paths == ens.aggregate.paths
    assert sorted(ens2.trajectories) == list(range(12))
    for run, path in ens.trajectories.items():
        assert np.array_equal(ens2.trajectories[run].index, path.index)
        assert np.array_equal(ens2.trajectories[run].levels, path.levels)


def test_model_batches_inside_a_chunk_do_not_change_results(baseline, reference, monkeypatch):
    rows, ens = reference
    monkeypatch.setattr(engine, "MODEL_BATCH", 37)  # and not a multiple of the day's BLOCK
    rows2, ens2 = collect(baseline, runs=900, seed=3, chunk_size=900, keep=12)
    assert rows2 == rows
    for name in ("outcomes", "first", "index", "levels", "moves"):
        assert np.array_equal(getattr(ens2.aggregate, name), getattr(ens.aggregate, name))
    assert ens2.aggregate.paths == ens.aggregate.paths


def test_engine_rows_are_the_models_runs(baseline, reference):
    """The streamed rows and kept paths are exactly the in-memory simulation's."""
    rows, ens = reference
    sim = simulate(baseline, runs=900, seed=3)
    summary = {"run": sim.run, "outcome": sim.outcome, "first": sim.first, "peak": sim.peak,
               "casualties": sim.casualties, "peak_index": sim.peak_index,
               "final_index": sim.final_index, "peak_by_scheme": sim.peak_by_scheme,
               "path": sim.path, "success": sim.success}
    assert engine.csv_rows(summary, sim.state_pairs) == rows
    scheme = SCHEMES.index(baseline.spec.scoring)
    for run, path in ens.trajectories.items():
        assert np.array_equal(path.index[:, scheme], sim.index_by_day[run])
    assert ens.aggregate.outcome_counts() == sim.outcome_counts()


def test_histogram_quantiles_are_within_a_bin_of_exact(baseline, reference):
    _, ens = reference
    sim = simulate(baseline, runs=900, seed=3)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    scheme = SCHEMES.index(baseline.spec.scoring)
    approx = ens.aggregate.index_quantiles(qs, scheme)
    exact = np.quantile(sim.index_by_day, qs, axis=0, method="inverted_cdf").T
    edges = ens.aggregate.edges[scheme]
    width = np.diff(edges)[np.clip(np.searchsorted(edges, exact) - 1, 0, len(edges) - 2)]
    assert (np.abs(approx - exact) <= width + 1e-9).all()


def peak_traced_bytes(scenario, runs: int) -> int:
    """Peak bytes traced by tracemalloc (numpy's buffers included) over one in-process
    ensemble whose rows are thrown away. The sink collects cyclic garbage after every chunk,
    so the peak counts what the engine keeps reachable, not how late CPython's collector
    runs."""
    gc.collect()
    tracemalloc.start()
    try:
        run_ensemble(scenario, runs=runs, seed=1, days=5, keep=5, chunk_size=500,
                     on_rows=lambda rows: gc.collect())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_runs(baseline):
    """Peak memory of a 20,000-run ensemble is that of a 1,000-run one: at most 1.5 times,
    and less than 16 bytes more per extra run. Keeping the rows (88 bytes of CSV a run) or
    the per-run arrays of past chunks would break both bounds; so does every model kept
    alive. Same chunk size in both, so the working set of one chunk is the same."""
    peak_traced_bytes(baseline, 500)  # first use: imports, compiled kernels, caches
    small, large = (peak_traced_bytes(baseline, runs) for runs in (1_000, 20_000))
    assert large < 1.5 * small, (small, large)
    assert (large - small) / 19_000 < 16, (small, large)



def test_until_ci_stops_at_the_first_batch_that_is_precise_enough(baseline):
    target, batch = 0.03, 300
    rows, ens = collect(baseline, runs=batch, seed=9, days=20, until_ci=target,
                        max_runs=6000, backend=InlineBackend())
    n = ens.n_runs
    assert n % batch == 0 and ens.max_half_width() < target
    before = run_ensemble(baseline, runs=n - batch, seed=9, days=20)
    assert before.max_half_width() >= target
    plain, _ = collect(baseline, runs=n, seed=9, days=20)
    assert plain == rows  # the same runs as asking for n runs at once


def test_until_ci_respects_the_cap(baseline):
    ens = run_ensemble(baseline, runs=100, seed=9, days=5, until_ci=0.001, max_runs=250)
    assert ens.n_runs == 250


def test_wilson_interval_known_values():
    # Wilson (1927) interval for 0 of 10 and 5 of 10 at 95%
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(0.27753, abs=1e-5)
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))


def test_plain_progress_lines_when_not_a_terminal():
    out = io.StringIO()
    progress = Progress(1000, every=0.0, stream=out)
    progress.update(400)
    progress.update(600)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("400/1,000 runs (40%)") and "runs/s" in lines[0]
    assert lines[-1].startswith("1,000/1,000 runs (100%)")


def test_quiet_progress_says_nothing():
    out = io.StringIO()
    progress = Progress(10, quiet=True, every=0.0, stream=out)
    progress.update(10)
    assert out.getvalue() == ""


def test_cli_workers_and_chunks_give_identical_folders(tmp_path):
    outs = []
    for args in (["--workers", 1, "--chunk-size", 500], ["--workers", 2, "--chunk-size", 61]):
        out = tmp_path / str(len(outs))
        proc = run_cli("run", BASELINE, "--runs", 500, "--seed", 4, "--days", 30, "--out", out,
                       "--quiet", *args, check=0)
        assert proc.stderr == ""  # --quiet: no progress output
        outs.append(next((out / "caribbean-2025").iterdir()))
    for name in ("runs.csv", "summary.json", "trajectories.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_cli_until_ci_says_how_many_runs(tmp_path):
    proc = run_cli("run", BASELINE, "--runs", 400, "--days", 10, "--until-ci", "0.04",
                   "--out", tmp_path, "--quiet", check=0)
    assert "every 95% interval within +/-0.04: reached after" in proc.stdout


@pytest.mark.slow
def test_ctrl_c_stops_workers_and_leaves_no_folder(tmp_path):
    """SIGINT to a two-worker `escsim run` once chunks arrive: exit 130, one line, no
    traceback, no folder at all (not even the empty scenario folder or the --out the run
    created, which used to stay), and no worker, forkserver or resource tracker left."""
    import signal

    from tests.test_signals import stop_and_check
    stop_and_check(tmp_path, signal.SIGINT, 130, "interrupted")


def test_compiled_bin_counts_are_searchsorted():
    """The index histogram's compiled counter puts every value in numpy's bin
    (searchsorted(side="right") - 1, clipped), edges and values beyond them included."""
    from sim.ensemble.aggregate import _bin_counter, index_edges
    edges = index_edges(np.array([-2.0, 0.0, 4.0, 12.0, 28.0, 60.0]), 4, 15, 0.85, 36.4)
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(10, 40, 100_000), edges, np.nextafter(edges, -np.inf),
                             [edges[0] - 5, edges[-1] + 5]])
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    _bin_counter()(values, edges, counts)
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(counts) - 1)
    assert np.array_equal(counts, np.bincount(bins, minlength=len(counts)))
