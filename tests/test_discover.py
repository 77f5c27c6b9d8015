"""``escsim discover``: PRIM finds a planted box, the command writes its folder, bad input.

PRIM is the EMA Workbench's (Kwakkel 2017, https://doi.org/10.1016/j.envsoft.2017.06.054);
these tests check what escsim does with it: the design it feeds it, the box it
chooses and reports, and what a user sees.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim import cli
from sim.experiments import discover as disc
from sim.experiments.runner import MARKER, SUFFIX, Range
from tests.conftest import ROOT, run_cli

PLANTED = {"a": (0.3, 0.8), "b": (0.5, 1.0)}  # c is free: the box must leave it alone
# One peel removes peel_alpha = 5% of the box's sets, a slab at most 0.05 wide for points
# uniform on [0, 1]: the chosen box may stop one peel short of a planted limit, not more.
TOLERANCE = 0.05
SMALL = ["--params", "actors.RUS.commitments.VEN=0:1", "--params", "actors.USA.resolve=0.2:1",
         "--n", "40", "--runs", "30", "--days", "10"]
# the other supported Python's environment, as `make` and .ci/run name them: CI's second
# pass (Python 3.12) finds the first pass's .venv (3.11), a developer's 3.11 the .venv-py312
OTHER = ROOT / (".venv" if sys.version_info >= (3, 12) else ".venv-py312") / "bin" / "python"


def planted(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The command's own Latin hypercube over [0, 1]^3, and which sets are in the planted box."""
    x = disc.design([Range(p, 0.0, 1.0) for p in "abc"], n, seed)
    inside = np.ones(n, dtype=bool)
    for path, (lo, hi) in PLANTED.items():
        inside &= (x[path] >= lo) & (x[path] <= hi)
    return x, inside


def found_box(n: int = 500, seed: int = 3) -> dict:
    """PRIM's chosen box on the planted data, as plain numbers (to compare across Pythons)."""
    x, inside = planted(n, seed)
    found = disc.discover(x, inside, {p: (0.0, 1.0) for p in "abc"})
    return {"design": {p: v.tolist() for p, v in x.items()}, "chosen": found.chosen,
            "coverage": found.box.coverage, "density": found.box.density,
            "limits": {lim.path: [lim.lower, lim.upper] for lim in found.limits}}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_a_planted_box(seed):
    """Sets are of interest exactly inside a <= 0.3..0.8, b in 0.5..1: the chosen box restricts
    a and b (not c) to within one peel of those limits, with coverage and density above 0.9."""
    x, inside = planted(500, seed)
    found = disc.discover(x, inside, {p: (0.0, 1.0) for p in "abc"})
    limits = {lim.path: (lim.lower, lim.upper) for lim in found.limits}
    assert set(limits) == {"a", "b"}
    for path, (lo, hi) in PLANTED.items():
        assert limits[path][0] == pytest.approx(lo, abs=TOLERANCE), path
        assert limits[path][1] == pytest.approx(hi, abs=TOLERANCE), path
    assert limits["b"][1] == 1.0  # an end the box keeps is the range's, not a sampled value
    assert found.box.coverage > 0.9 and found.box.density > 0.9
    # PRIM's own counts agree with a count of the sets inside the reported limits
    box = np.ones(len(inside), dtype=bool)
    for path, (lo, hi) in limits.items():
        box &= (x[path] >= lo) & (x[path] <= hi)
    assert found.box.sets == box.sum()
    assert found.box.of_interest == (box & inside).sum()


def test_design_is_a_latin_hypercube_reproducible_per_seed():
    """Each of n equal slices of every range holds exactly one set; same seed, same sets."""
    ranges = [Range("p", 2.0, 4.0), Range("q", 0.0, 1.0), Range("k", 1.0, 9.0, integer=True)]
    x = disc.design(ranges, 50, 7)
    for r in ranges[:2]:
        slices = np.floor((x[r.path] - r.lo) / (r.hi - r.lo) * 50).astype(int)
        assert sorted(slices.tolist()) == list(range(50))
    assert np.array_equal(x["k"], np.round(x["k"])) and x["k"].min() >= 1 and x["k"].max() <= 9
    again = disc.design(ranges, 50, 7)
    assert all(np.array_equal(x[p], again[p]) for p in x)
    assert not np.array_equal(x["p"], disc.design(ranges, 50, 8)["p"])


def test_nothing_to_separate_gives_the_whole_box():
    """No set of interest (or all): one step, the whole box, no restricted parameter."""
    x, _ = planted(40, 1)
    for interest, density in ((np.zeros(40, bool), 0.0), (np.ones(40, bool), 1.0)):
        found = disc.discover(x, interest)
        assert len(found.trajectory) == 1 and found.limits == []
        assert found.box.density == density and found.box.mass == 1.0


@pytest.mark.skipif(not OTHER.exists(), reason=f"no environment of the other supported "
                    f"Python ({OTHER.parent.parent.name}) beside this one")
def test_same_boxes_on_python_3_11_and_3_12():
    """The pinned workbench gives the same design and the same box on both Pythons (this
    one and the other's environment, whose version is checked to differ)."""
    code = ("import json; from tests.test_discover import found_box; "
            "print(json.dumps(found_box()))")
    version = subprocess.run([str(OTHER), "-c", "import sys; print(sys.version_info[1])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert int(version) != sys.version_info[1]
    proc = subprocess.run([str(OTHER), "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    assert json.loads(proc.stdout) == json.loads(json.dumps(found_box()))


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_end_to_end_small_discovery_writes_every_file(tmp_path):
    """A real `escsim discover` run prints only its summary (no workbench warning, even with
    PYTHONWARNINGS=default) and writes a complete folder whose box matches its own sets."""
    proc = run_cli("discover", "caribbean-2025", "--outcome", "war", "--above", "0.1", *SMALL,
                   "--out", tmp_path, "--quiet", check=0)
    assert proc.stderr == ""
    folder = Path(proc.stdout.split("results: ")[1].splitlines()[0])
    assert folder.parent == tmp_path / "discover" and not folder.name.endswith(SUFFIX)
    for name in ("sets.csv", "peeling.csv", "boxes.csv", "box.json", "report.html",
                 "manifest.json", "charts/peeling.png", "charts/peeling.svg"):
        assert (folder / name).stat().st_size > 0, name
    assert not (folder / MARKER).exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["settings"]["outcome"] == "war"
    box = json.loads((folder / "box.json").read_text())
    sets = _read_csv(folder / "sets.csv")
    assert len(sets) == 40
    # of interest: the share of the set's 30 runs ending in war exceeds 0.1
    interest = [int(float(r["war"]) > 0.1) for r in sets]
    assert interest == [int(r["of_interest"]) for r in sets]
    assert box["sets_of_interest"] == sum(interest)
    rows = _read_csv(folder / "boxes.csv")
    assert {r["parameter"]: [float(r["lower"]), float(r["upper"])] for r in rows} == {
        p: [v["lower"], v["upper"]] for p, v in box["box"].items()}
    inside = [all(float(r["lower"]) <= float(s[r["parameter"]]) <= float(r["upper"])
                  for r in rows) for s in sets]
    hits = sum(i and k for i, k in zip(inside, interest, strict=True))
    if rows:
        assert box["coverage"] == pytest.approx(hits / sum(interest), abs=1e-6)
        assert box["density"] == pytest.approx(hits / sum(inside), abs=1e-6)
    report = (folder / "report.html").read_text()
    assert "P(war) &gt; 0.1" in report and "data:image/png;base64," in report
    assert f"coverage {box['coverage']:.1%}" in proc.stdout


def test_ctrl_c_keeps_finished_blocks_and_resume_equals_an_uninterrupted_run(tmp_path):
    """SIGINT to a real `escsim discover` exits 130 leaving an incomplete folder; --resume
    completes it to the same sets and box, byte for byte, as a run never interrupted."""
    args = ["discover", "caribbean-2025", "--outcome", "war", "--above", "0.1",
            "--params", "actors.USA.resolve=0.2:1", "--n", "40", "--runs", "300", "--days", "10",
            "--quiet", "--workers", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args, "--out", str(tmp_path / "a")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = tmp_path / "a" / "discover"
    deadline = time.monotonic() + 120
    while not list(base.glob(f"*{SUFFIX}/blocks/block-*.npz")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no block finished in 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    cut = next(base.iterdir())
    assert cut.name.endswith(SUFFIX) and (cut / MARKER).exists(), err
    assert f"--resume {cut}" in err
    kept = len(list((cut / "blocks").glob("block-*.npz")))
    assert 1 <= kept < 20
    assert cli.main(["discover", "--resume", str(cut), "--quiet", "--workers", "1"]) == 0
    assert cli.main([*args, "--out", str(tmp_path / "b")]) == 0
    done = cut.with_name(cut.name.removesuffix(SUFFIX))
    whole = next((tmp_path / "b" / "discover").iterdir())
    for name in ("sets.csv", "peeling.csv", "boxes.csv", "box.json"):
        assert (done / name).read_bytes() == (whole / name).read_bytes(), name


def _refused(capsys, tmp_path, *args) -> str:
    status = cli.main(["discover", "caribbean-2025", *args, "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert not list(tmp_path.iterdir())  # nothing written
    return err


@pytest.mark.parametrize(("args", "expected"), [
    (["--outcome", "wr", "--above", "0.1", *SMALL],
     "--outcome wr: not an outcome; one of deescalated, frozen, militarized_clash, war, "
     "great_power_confrontation (did you mean 'war'?)"),
    (["--outcome", "war", "--above", "1.5", *SMALL], "--above 1.5: must be between 0 and 1"),
    (["--outcome", "war", "--above", "0", *SMALL], "--above 0: must be between 0 and 1"),
    (["--above", "0.1", *SMALL], "--outcome: is needed"),
    (["--outcome", "war", "--above", "0.1"], "--params: is needed"),
    (["--outcome", "war", "--above", "0.1", *SMALL, "--n", "5"], "--n 5: must be at least 20"),
    (["--outcome", "war", "--above", "0.1", "--params", "actors.RUS.comitments.VEN=0:1"],
     "did you mean 'actors.RUS.commitments.VEN'?"),
    (["--outcome", "war", "--above", "0.1", "--params", "actors.USA.resolve=0.5:3"],
     "actors.USA.resolve: must be at most 1"),
])
def test_bad_arguments_are_refused_with_one_line_each(capsys, tmp_path, args, expected):
    """Each wrong option is named on its own line, with a hint, exit 2, nothing written."""
    assert expected in _refused(capsys, tmp_path, *args)


def test_without_the_workbench_the_command_says_what_to_install(capsys, tmp_path, monkeypatch):
    """With the workbench's modules hidden (as if not installed), one line: the pip command."""
    for name in [m for m in sys.modules if m.split(".")[0] == "ema_workbench"]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("ema_workbench", "ema_workbench.analysis", "ema_workbench.analysis.prim"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    err = _refused(capsys, tmp_path, "--outcome", "war", "--above", "0.1", *SMALL)
    assert err == ("escsim discover needs the EMA Workbench: "
                   "python -m pip install 'escsim[discover]'\n")
