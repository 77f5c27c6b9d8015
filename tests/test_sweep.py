"""Experiments over parameter sets: ranges, the block runner, resume, and ``escsim sweep``."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from sim.ensemble.montecarlo import simulate
from sim.errors import InputError
from sim.experiments import runner
from sim.inputs.scenario import OUTCOME_CLASSES
from sim.model.outcomes import THRESHOLDS
from sim.model.params import ParameterSets
from sim.results.folders import check_complete
from tests.conftest import BASELINE, ROOT, results_folder, run_cli

COMMIT = "actors.RUS.commitments.VEN"
RUN_OPTIONS = types.SimpleNamespace(backend="local", workers=1, scheduler=None, chunk_size=None)


def problems_of(texts, scenario, kind="grid") -> list[str]:
    with pytest.raises(InputError) as caught:
        runner.parse_ranges(texts, scenario, kind)
    return [str(p) for p in caught.value.problems]


def test_ranges_parse_to_paths_bounds_and_evenly_spaced_grids(baseline):
    """PATH=LO:HI:N gives N evenly spaced points from LO to HI; PATH=LO:HI a range."""
    grid, = runner.parse_ranges([f"{COMMIT}=0:1:5"], baseline, "grid")
    assert (grid.path, grid.lo, grid.hi, grid.n) == (COMMIT, 0.0, 1.0, 5)
    assert grid.grid().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    span, = runner.parse_ranges(["memory.decay=0.8:0.95"], baseline, "range")
    assert (span.lo, span.hi, span.n) == (0.8, 0.95, None)


def test_bad_ranges_give_one_located_line_each_with_a_hint(baseline):
    """Every bad --vary text gets its own line naming the text; a near-miss path gets a hint;
    a bound the path refuses is refused with the scenario's own limit."""
    lines = problems_of([f"{COMMIT[:-1]}X=0:1:3", "actors.USA.resolve=0:2:3", "nonsense",
                         "memory.decay=0.9:0.5:3", f"{COMMIT}=0:1:1", f"{COMMIT}=0:1:3",
                         f"{COMMIT}=0:1:4"], baseline)
    assert lines == [
        f"--vary {COMMIT[:-1]}X=0:1:3: {COMMIT[:-1]}X: not a parameter of this scenario "
        f"(did you mean '{COMMIT}'?)",
        "--vary actors.USA.resolve=0:2:3: actors.USA.resolve: must be at most 1, got 2",
        "--vary nonsense: expected PATH=LO:HI:N, e.g. actors.USA.resolve=0.2:0.8:4",
        "--vary memory.decay=0.9:0.5:3: memory.decay: LO must be below HI, got 0.9 and 0.5",
        f"--vary {COMMIT}=0:1:1: {COMMIT}: N must be a whole number from 2 to 1,000, got '1'",
        f"--vary {COMMIT}=0:1:4: {COMMIT}: is given twice; give each parameter one --vary"]


def test_a_grid_point_a_whole_number_path_refuses_is_refused(baseline):
    """outcomes.deescalated.sustain_days takes whole days: 1:10:4 (1, 4, 7, 10) is fine,
    1:10:3 would need 5.5 days."""
    path = "outcomes.deescalated.sustain_days"
    ok, = runner.parse_ranges([f"{path}=1:10:4"], baseline, "grid")
    assert ok.integer and ok.grid().tolist() == [1, 4, 7, 10]
    assert problems_of([f"{path}=1:10:3"], baseline) == [
        f"--vary {path}=1:10:3: {path}: must be a whole number, got 5.5 (a grid point)"]


def test_run_sets_counts_equal_each_set_simulated_alone(baseline, tmp_path):
    """Each set's outcome counts and mean first-crossing days equal a plain simulation of
    that set alone with the same seed (common random numbers: run r is run r of every set),
    also when the sets are cut into blocks of one set."""
    values = [0.0, 0.5, 1.0]
    folder = runner.start("sweep", tmp_path, baseline, 7, 50, 10, {})
    got = runner.run_sets(baseline, {COMMIT: np.array(values)}, 50, 7, 10, folder,
                          RUN_OPTIONS)
    assert runner.block_sets(3, 50) == 1  # three blocks: the one-set path is exercised
    for k, value in enumerate(values):
        alone = simulate(baseline, 50, 7, 10,
                         parameters=ParameterSets(baseline, {COMMIT: [value]}))
        assert got.counts[k].tolist() == np.bincount(alone.outcome, minlength=5).tolist()
        hit = alone.first >= 0
        assert got.crossed[k].tolist() == hit.sum(axis=0).tolist()
        for t in range(hit.shape[1]):
            expect = alone.first[hit[:, t], t].mean() if hit[:, t].any() else np.nan
            np.testing.assert_equal(got.first_day_mean[k, t], expect)
    assert got.counts.sum(axis=1).tolist() == [50] * 3


def test_a_resumed_run_reuses_saved_blocks_and_refuses_another_table(baseline, tmp_path):
    """A second call finds every block saved and runs nothing (a doctored saved block shows
    through), and a table other than the saved one is refused."""
    folder = runner.start("sweep", tmp_path, baseline, 3, 20, 5, {})
    table = {COMMIT: np.array([0.2, 0.8])}
    first = runner.run_sets(baseline, table, 20, 3, 5, folder, RUN_OPTIONS)
    block = folder / "blocks" / "block-0000000.npz"
    with np.load(block) as part:
        counts, crossed = part["counts"].copy(), part["first"].copy()
    counts[0, :2] = counts[0, :2][::-1] + 1000  # a change no simulation could produce
    np.savez(block, counts=counts, first=crossed)
    again = runner.run_sets(baseline, table, 20, 3, 5, folder, RUN_OPTIONS)
    assert again.counts[0].tolist() == counts[0].tolist()
    assert again.counts[1].tolist() == first.counts[1].tolist()
    with pytest.raises(InputError, match="parameter sets differ"):
        runner.run_sets(baseline, {COMMIT: np.array([0.2, 0.9])}, 20, 3, 5, folder,
                        RUN_OPTIONS)


def test_finish_renames_and_marks_complete_and_a_complete_folder_cannot_be_resumed(
        baseline, tmp_path):
    """An experiment's folder is <id>.incomplete with an INCOMPLETE marker until finish;
    then it has its final name, manifest complete: true, and --resume refuses it."""
    folder = runner.start("sweep", tmp_path, baseline, 1, 10, 5, {"vary": []})
    assert folder.name.endswith(".incomplete") and (folder / "INCOMPLETE").is_file()
    assert runner.read_manifest(folder, "sweep")["complete"] is False
    with pytest.raises(InputError, match="not a result"):
        check_complete(folder)
    with pytest.raises(InputError, match="is a sweep, not a discover"):
        runner.read_manifest(folder, "discover")
    final = runner.finish(folder)
    assert not folder.exists() and final.name == folder.name.removesuffix(".incomplete")
    assert not (final / "INCOMPLETE").exists()
    with pytest.raises(InputError, match="is complete; nothing to resume"):
        runner.read_manifest(final, "sweep")
    check_complete(final)


def test_escsim_plot_refuses_an_incomplete_experiment_folder(baseline, tmp_path, capsys):
    """An interrupted experiment's folder is never taken for a result: `escsim plot` says
    what it is, exit 2, and leaves it as it was."""
    from sim.cli import main
    folder = runner.start("sweep", tmp_path, baseline, 1, 10, 5, {"vary": []})
    before = sorted(p.name for p in folder.iterdir())
    assert main(["plot", str(folder)]) == 2
    assert "an interrupted experiment, not a result" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == before


# ------------------------------------------------------------------ escsim sweep ---

def sweep_rows(folder) -> list[dict]:
    with open(folder / "sweep.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_sweep_row_equals_escsim_run_with_that_set(tmp_path):
    """Each row of sweep.csv equals `escsim run --set PATH=V` with the same seed, runs and
    days: the same outcome counts (read from its summary.json) and the same mean
    first-crossing days (computed here from its runs.csv)."""
    out = tmp_path / "out"
    proc = run_cli("sweep", BASELINE, "--vary", f"{COMMIT}=0:1:3", "--vary",
                   "actors.USA.resolve=0.3:0.9:2", "--runs", 50, "--days", 10, "--seed", 11,
                   "--out", out, "--workers", 1, "--quiet", check=0)
    folder = results_folder(proc)
    assert folder.parent == out / "sweep" and not folder.name.endswith(".incomplete")
    assert sorted(p.name for p in folder.iterdir()) == ["charts", "manifest.json",
                                                        "report.html", "sweep.csv"]
    assert json.loads((folder / "manifest.json").read_text())["complete"] is True
    rows = sweep_rows(folder)
    assert [(float(r[COMMIT]), float(r["actors.USA.resolve"])) for r in rows] == [
        (0.0, 0.3), (0.0, 0.9), (0.5, 0.3), (0.5, 0.9), (1.0, 0.3), (1.0, 0.9)]
    for row in rows[::3] + [rows[-1]]:  # four of the six sets, each run alone
        alone = results_folder(run_cli(
            "run", BASELINE, "--set", f"{COMMIT}={row[COMMIT]}", "--set",
            f"actors.USA.resolve={row['actors.USA.resolve']}", "--runs", 50, "--days", 10,
            "--seed", 11, "--out", tmp_path / "alone", "--workers", 1, "--quiet", check=0))
        summary = json.loads((alone / "summary.json").read_text())
        for outcome, name in zip(OUTCOME_CLASSES, summary["outcomes"], strict=True):
            assert round(float(row[outcome]) * 50) == summary["outcomes"][name]["runs"]
        with open(alone / "runs.csv", encoding="utf-8", newline="") as fh:
            runs = list(csv.DictReader(fh))
        for threshold in THRESHOLDS:
            days = [int(r[f"first_{threshold}"]) for r in runs if r[f"first_{threshold}"]]
            expect = f"{sum(days) / len(days):.4f}" if days else ""
            assert row[f"first_day_mean_{threshold}"] == expect, threshold
    charts = sorted(p.name for p in (folder / "charts").glob("*.png"))
    assert charts == [f"heatmap-{o}.png" for o in sorted(OUTCOME_CLASSES)]


def test_bad_vary_exits_2_with_one_line_each_and_writes_nothing(tmp_path):
    """Bad --vary texts: exit 2, one located line each (with a did-you-mean), no folder."""
    out = tmp_path / "out"
    proc = run_cli("sweep", BASELINE, "--vary", "actors.RUS.commitment.VEN=0:1:3", "--vary",
                   "memory.decay=0.9:0.5:3", "--out", out, check=2)
    assert proc.stderr.splitlines() == [
        "--vary actors.RUS.commitment.VEN=0:1:3: actors.RUS.commitment.VEN: not a parameter "
        f"of this scenario (did you mean '{COMMIT}'?)",
        "--vary memory.decay=0.9:0.5:3: memory.decay: LO must be below HI, got 0.9 and 0.5"]
    assert proc.stdout == "" and not out.exists()
    missing = run_cli("sweep", "--out", out, check=2)
    assert missing.stderr.splitlines() == [
        "SCENARIO: is needed (or --resume DIR to complete an interrupted sweep)",
        "--vary: is needed: at least one PATH=LO:HI:N, e.g. actors.RUS.commitments.VEN=0:1:11"]


SWEEP = ["--vary", f"{COMMIT}=0:1:8", "--vary", "actors.USA.resolve=0.2:0.8:5", "--runs", 200,
         "--days", 20, "--seed", 5, "--quiet"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_finished_blocks_and_resume_equals_an_uninterrupted_sweep(tmp_path):
    """A real SIGINT to a real `escsim sweep --workers 2` mid-run: exit 130, one line naming
    the incomplete folder, finished blocks kept under <id>.incomplete with its INCOMPLETE
    marker, no finished folder. `--resume DIR` completes it, and its sweep.csv equals, byte for
    byte, an uninterrupted sweep run in one process."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(BASELINE), *map(str, SWEEP),
                             "--workers", "2", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("sweep/*.incomplete/blocks/block-*.npz")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no block finished within 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    folder, = (out / "sweep").iterdir()
    assert folder.name.endswith(".incomplete") and (folder / "INCOMPLETE").is_file()
    kept = len(list((folder / "blocks").glob("block-*.npz")))
    assert 1 <= kept < 20  # 40 sets in blocks of 2: interrupted part way
    assert stderr.splitlines() == [
        f"interrupted; {kept} finished block{'s' * (kept != 1)} of parameter sets kept in the "
        f"incomplete folder {folder}; complete it with: escsim sweep --resume {folder}"]
    assert stdout == "" and json.loads((folder / "manifest.json").read_text())["complete"] is False

    resumed = results_folder(run_cli("sweep", "--resume", folder, "--workers", 1, "--quiet",
                                     check=0))
    assert resumed == folder.with_name(folder.name.removesuffix(".incomplete"))
    assert not folder.exists() and not (resumed / "INCOMPLETE").exists()
    whole = results_folder(run_cli("sweep", BASELINE, *SWEEP, "--workers", 1, "--out",
                                   tmp_path / "whole", check=0))
    assert (resumed / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()
    again = run_cli("sweep", "--resume", resumed, check=2)
    assert again.stderr.strip() == f"--resume: {resumed} is complete; nothing to resume"
