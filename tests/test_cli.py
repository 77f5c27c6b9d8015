"""The command line end to end: results folders, byte-identical reruns, stories, help."""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest

from sim.ensemble import engine
from sim.results import folders, plots
from tests.conftest import BASELINE, ROOT, results_folder, run_cli


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """`escsim run --runs 200 --seed 7` twice, into two different folders."""
    folders = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        proc = run_cli("run", BASELINE, "--runs", 200, "--seed", 7, "--out", out, check=0)
        folders.append(results_folder(proc))
    return folders


def test_results_folder_contents(two_runs):
    folder = two_runs[0]
    assert folder.parent.name == "caribbean-2025"
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "runs.csv", "summary.json", "trajectories.csv", "report.html",
            "aggregate.npz", "scenario.json", "charts"} <= names
    charts = {p.name for p in (folder / "charts").iterdir()}
    assert charts == {f"{c.name}.{ext}" for c in plots.CHARTS for ext in ("png", "svg")}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["runs"] == 200 and manifest["days"] == 60
    assert set(manifest["versions"]) >= {"escsim", "mesa", "numpy", "python"}
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["command"][:2] == ["escsim", "run"]
    rows = list(csv.DictReader(open(folder / "runs.csv", encoding="utf-8")))
    assert [int(r["run"]) for r in rows] == list(range(200))
    assert {"first_war", "peak_USA_VEN", "peak_RUS_USA", "casualties"} <= set(rows[0])
    summary = json.loads((folder / "summary.json").read_text())
    assert sum(o["runs"] for o in summary["outcomes"].values()) == 200
    for o in summary["outcomes"].values():
        assert o["ci95"][0] <= o["probability"] <= o["ci95"][1]


def test_same_seed_gives_byte_identical_runs_csv(two_runs):
    a, b = (f / "runs.csv" for f in two_runs)
    assert a.read_bytes() == b.read_bytes()
    a, b = (f / "summary.json" for f in two_runs)
    assert a.read_bytes() == b.read_bytes()


def parse_story_ending(text: str) -> dict:
    out = {"outcome": re.search(r"^Outcome: (.+)$", text, re.M).group(1)}
    for name, value in re.findall(r"first day (\w+): (.+)$", text, re.M):
        out[f"first_{name}"] = "" if value.startswith("never") else value
    peaks = re.search(r"peak levels: (.+)$", text, re.M).group(1)
    for a, b, level in re.findall(r"(\w+)->(\w+) (\d+)", peaks):
        out[f"peak_{a}_{b}"] = level
    out["casualties"] = re.search(r"casualties: (\d+)$", text, re.M).group(1)
    out["peak_index"], out["final_index"] = re.search(
        r"peak index: (-?[\d.]+), final index: (-?[\d.]+)", text).groups()
    return out


@pytest.mark.parametrize("k", [0, 3, 117, 199])
def test_story_matches_its_row(two_runs, k):
    rows = list(csv.DictReader(open(two_runs[0] / "runs.csv", encoding="utf-8")))
    proc = run_cli("story", BASELINE, "--run", k, "--seed", 7, check=0)
    told = parse_story_ending(proc.stdout)
    row = rows[k]
    for key, value in told.items():
        assert row[key] == value, (key, row[key], value)
    assert f"run {k}, seed 7" in proc.stdout
    assert "2025-12-23 Tue  day  1" in proc.stdout  # the Tuesday meeting
    assert "UNSC: convene a Security Council meeting" in proc.stdout


def test_story_lists_the_seed_events_with_quotes():
    proc = run_cli("story", BASELINE, "--run", 0, "--days", 5, check=0)
    assert "\u201cthe seizure of two oil tankers\u201d" in proc.stdout


def test_different_seeds_differ(tmp_path):
    out = tmp_path / "o"
    a = run_cli("run", BASELINE, "--runs", 50, "--seed", 1, "--out", out, check=0)
    b = run_cli("run", BASELINE, "--runs", 50, "--seed", 2, "--out", out, check=0)
    fa, fb = (results_folder(p) for p in (a, b))
    assert fa != fb
    assert (fa / "runs.csv").read_bytes() != (fb / "runs.csv").read_bytes()


@pytest.mark.parametrize("command", ["validate", "run", "story", "actions", "backtest",
                                     "calibrate"])
def test_help_for_every_command(command):
    proc = run_cli(command, "--help", check=0)
    assert f"usage: escsim {command}" in proc.stdout


def test_actions_lists_the_catalogue():
    from sim.inputs import catalogue
    proc = run_cli("actions", check=0)
    for action in catalogue.load().actions:
        assert re.search(rf"^{action.id}\s+{action.cameo}\s", proc.stdout, re.M), action.id


def test_console_script_is_python_dash_m(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "escsim"
    script = str(exe) if exe.exists() else shutil.which("escsim")
    assert script, "the escsim console script is not installed"
    direct = subprocess.run([script, "actions"], capture_output=True, text=True, check=True)
    assert direct.stdout == run_cli("actions", check=0).stdout


@pytest.mark.parametrize("module, name, calls_before", [
    (plots, "save", 2),  # while the charts are being drawn (third chart)
    (engine, "run_chunk", 1),  # while runs are being simulated (second chunk)
])
def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch, baseline, module, name,
                                          calls_before):
    """Ctrl-C at any point: no results folder, no partial folder, and not even the empty
    scenario folder the run created (it used to stay)."""
    original, calls = getattr(module, name), []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) > calls_before:
            raise KeyboardInterrupt
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        folders.run_to_folder(baseline, tmp_path, runs=10, seed=1, days=3, chunk_size=5)
    assert list(tmp_path.iterdir()) == []


def test_summary_probabilities_match_runs_csv(two_runs):
    rows = list(csv.DictReader(open(two_runs[0] / "runs.csv", encoding="utf-8")))
    summary = json.loads((two_runs[0] / "summary.json").read_text())
    for name, o in summary["outcomes"].items():
        assert o["runs"] == sum(r["outcome"] == name for r in rows)
        assert np.isclose(o["probability"], o["runs"] / len(rows))


def test_a_reader_that_stops_early_ends_the_output_quietly():
    """`escsim actions | head -1` prints one line and no BrokenPipeError traceback."""
    proc = subprocess.run(f"{shlex.quote(sys.executable)} -m sim actions | head -1",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr == ""
