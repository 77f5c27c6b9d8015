"""Results folders: written only inside --out, under safe unique names, or not at all.

A bad --out (a file, under a file, read-only, unwritable), a full disk, an
unreachable scheduler or a flag past its limit give one clear line and exit
2 before any work, and leave nothing behind.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.ensemble import engine
from sim.ensemble.montecarlo import check_resources
from sim.inputs.catalogue import SCHEMES
from sim.model.outcomes import THRESHOLDS
from sim.results import folders
from tests.conftest import BASELINE, ROOT, results_folder, run_cli

SMALL = ("--runs", 20, "--days", 3, "--workers", 1, "--quiet")


def assert_refused(proc, *words):
    """Exit 2, one line on stderr holding ``words``, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def tree(folder: Path) -> list[str]:
    """Everything under ``folder`` (hidden entries too), as sorted relative paths."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    """A real tmpfs mounted at ``where`` (root with mount rights only, else a loud skip)."""
    where.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; run as root to test a full or read-only "
                    "file system")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# ------------------------------------------------------------------ limits ---

@pytest.mark.parametrize("args, words", [
    (["run", BASELINE, "--days", 3651], ["--days", "3,650", "3651"]),
    (["run", BASELINE, "--days", 100000], ["--days", "3,650"]),
    (["compare", BASELINE, BASELINE, "--days", 3651], ["--days", "3,650"]),
    (["story", BASELINE, "--run", 0, "--days", 1_000_000_000], ["--days", "3,650"]),
    (["run", BASELINE, "--runs", 100_000_001], ["--runs", "100,000,000"]),
    (["compare", BASELINE, BASELINE, "--runs", 100_000_001], ["--runs", "100,000,000"]),
    (["run", BASELINE, "--until-ci", "0.01", "--max-runs", 10**13], ["--max-runs"]),
])
def test_flags_have_the_limits_of_the_fields_they_override(tmp_path, args, words):
    """--days is bounded like horizon_days (3,650 days) and --runs like montecarlo.runs
    (100,000,000), in every command that takes them; story --days 1e9 used to overflow."""
    out = tmp_path / "out"
    proc = run_cli(*args, "--out", out) if args[0] != "story" else run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert not out.exists()


def test_the_limits_are_the_schemas():
    """The CLI's numbers are the ones the scenario schema enforces."""
    from sim import limits
    from sim.inputs import scenario
    fields = scenario.ScenarioSpec.model_fields
    mc = scenario.MonteCarlo.model_fields
    assert {m.le for m in fields["horizon_days"].metadata if hasattr(m, "le")} \
        == {limits.MAX_HORIZON_DAYS}
    assert {m.le for m in mc["runs"].metadata if hasattr(m, "le")} == {limits.MAX_RUNS}


# ------------------------------------------------------------------ memory ---

def test_memory_check_counts_every_worker(monkeypatch):
    """64 workers need at least 64 processes of about 128 MiB each (measured), 8 GiB in all:
    with 8 GiB free, 2 workers pass and 64 are refused with the number."""
    from sim.ensemble import montecarlo
    monkeypatch.setattr(montecarlo, "available_memory", lambda: 8 * 2**30)
    check_resources(100_000, 60, 4, n_pairs=6, workers=2)
    with pytest.raises(montecarlo.ResourceError, match=r"64 worker processes need about "
                                                       r"\d+\.\d GiB"):
        check_resources(100_000, 60, 4, n_pairs=6, workers=64)


def test_cli_refuses_workers_that_do_not_fit(tmp_path, monkeypatch, capsys):
    """At 3,650 days each worker holds at least one day-by-day histogram of
    3,651 x 4 schemes x 4,000 bins x 8 B = 467 MB, so 64 of them need 30 GB or more:
    with 24 GiB free, refused before any work (the check used to assume 2 workers)."""
    from sim.cli import main
    from sim.ensemble import montecarlo
    monkeypatch.setattr(montecarlo, "available_memory", lambda: 24 * 2**30)
    out = tmp_path / "out"
    status = main(["run", str(BASELINE), "--runs", "1000000", "--days", "3650",
                   "--workers", "64", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert "64 worker processes" in err and "GiB of memory" in err, err
    assert not out.exists()


# --------------------------------------------------------------- scheduler ---

def test_malformed_scheduler_is_one_line(tmp_path):
    """A --scheduler that is not tcp://HOST:PORT: one line, exit 2, nothing written."""
    out = tmp_path / "out"
    proc = run_cli("run", BASELINE, *SMALL, "--scheduler", "not a url", "--out", out)
    assert_refused(proc, "'not a url'", "tcp://HOST:PORT")
    assert not out.exists()


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line(tmp_path):
    """Nothing listens on port 1: after the documented 10 s, one line, exit 2, nothing
    written."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    proc = run_cli("run", BASELINE, *SMALL, "--scheduler", "tcp://127.0.0.1:1", "--out", out)
    assert_refused(proc, "cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 10 s")
    assert not out.exists()


# --------------------------------------------------------------------- --out --

def test_out_that_is_a_file(tmp_path):
    """--out naming a file, or a folder under a file: one line, exit 2, the file intact."""
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    for out in (blocker, blocker / "below"):
        proc = run_cli("run", BASELINE, *SMALL, "--out", out)
        assert_refused(proc, "is a file, not a folder")
    assert blocker.read_text() == "keep me"
    assert tree(tmp_path) == ["a-file"]


@pytest.mark.skipif(sys.platform != "linux", reason="uses Linux's /proc and /sys")
@pytest.mark.parametrize("out", ["/proc/escsim-out", "/sys/escsim-out/deeper"])
def test_out_where_nothing_can_be_created(out):
    """Folders cannot be made in /proc or /sys, even by root: one line, exit 2."""
    proc = run_cli("run", BASELINE, *SMALL, "--out", out)
    assert_refused(proc, f"cannot write results under {out}")


def test_read_only_out(tmp_path):
    """A read-only --out (a read-only tmpfs as root, mode 555 otherwise): one line,
    exit 2, nothing written, checked before the runs."""
    if os.name == "posix" and os.geteuid() == 0:
        context = tmpfs(tmp_path / "ro", "ro,size=1m")
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        context = contextlib.nullcontext(tmp_path / "ro")
    with context as out:
        proc = run_cli("run", BASELINE, *SMALL, "--out", out)
        assert_refused(proc, f"cannot write results under {out}")
        assert tree(out) == []


def test_estimate_counts_charts_and_report(tmp_path):
    """50 runs x 3,650 days make an 18 MB folder (measured), almost all of it charts,
    report and day-by-day counts; on a 10 MB disk that is refused up front, not
    discovered by a traceback halfway (the estimate used to say 2 MB)."""
    with tmpfs(tmp_path / "small", "size=10m") as disk:
        out = disk / "out"
        proc = run_cli("run", BASELINE, "--runs", 50, "--days", 3650, "--workers", 1,
                       "--quiet", "--out", out)
        assert_refused(proc, "MiB free")
        assert tree(disk) == []


def test_disk_filling_up_during_the_run(tmp_path):
    """The disk fills up while a run writes (a real tmpfs filled by another file once
    runs.csv is being written): one clear line, exit 2, staging folder and every folder
    the run created removed."""
    with tmpfs(tmp_path / "disk", "size=16m") as disk:
        out = disk / "out"
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "3000", "--days", "60",
             "--workers", "1", "--chunk-size", "100", "--quiet", "--out", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any(out.glob("*/.*partial*/runs.csv")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        with open(disk / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 2**16)
        _, err = proc.communicate(timeout=300)
        (disk / "filler").unlink()
        assert proc.returncode == 2, err
        assert "Traceback" not in err
        assert "filled up" in err and len(err.strip().splitlines()) == 1, err
        assert tree(disk) == []


# ------------------------------------------------------------------ names ---

@pytest.mark.parametrize("file_name, folder", [
    ("...yaml", "scenario"),  # stem "..": used to write into the parent of --out
    (".yaml", "yaml"),  # stem ".yaml": would be a hidden folder
    ("a b$c\u00e9.yaml", "a_b_c_"),
    ("x\n,y.yaml", "x__y"),
])
def test_scenario_file_names_give_safe_folders(tmp_path, file_name, folder):
    """Whatever the scenario file is called, results land in one plain folder inside
    --out."""
    path = tmp_path / "in" / file_name
    path.parent.mkdir()
    path.write_text(f"extends: {BASELINE}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("run", path, *SMALL, "--out", out, check=0)
    made = results_folder(proc)
    assert made.resolve().parent == (out / folder).resolve()
    assert [p.name for p in out.iterdir()] == [folder]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]
    # the name heads the printed table on one line, control characters escaped
    assert proc.stdout.splitlines()[0].endswith(": 20 runs x 3 days, seed 20251222"), proc.stdout


def test_safe_name():
    """Only letters, digits, '.', '_' and '-'; no leading dot; never empty."""
    assert folders.safe_name("caribbean-2025") == "caribbean-2025"
    assert folders.safe_name("..") == "scenario"
    assert folders.safe_name("../etc") == "_etc"
    assert folders.safe_name("a/b\\c\0d\ne") == "a_b_c_d_e"
    assert len(folders.safe_name("x" * 1000)) == 100


def test_folder_claims_in_the_same_second_differ(tmp_path, baseline):
    """Two results for the same scenario and seed claimed in the same second get two
    folders, and both are kept (the old exists-check gave both the same name)."""
    base = tmp_path / "out" / "caribbean-2025"
    first, second = folders.new_folder_name(base, 7), folders.new_folder_name(base, 7)
    assert first != second
    for name in (first, second):
        with folders.staging(base / name) as tmp:
            (tmp / "runs.csv").write_text(name)
    assert sorted(p.name for p in base.iterdir()) == sorted([first, second])
    assert {(base / n / "runs.csv").read_text() for n in (first, second)} == {first, second}


@pytest.mark.slow
def test_simultaneous_runs_keep_both_results(tmp_path):
    """Three real processes with the same scenario and seed, started together: every one
    ends with exit 0 in its own complete folder, and the folders hold the same runs."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "30", "--days", "3",
           "--seed", "7", "--workers", "1", "--quiet", "--out", str(out)]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
    folders = {Path(stdout.split("results: ")[1].split("\n")[0]) for stdout, _ in outputs}
    assert len(folders) == 3
    assert sorted(folders) == sorted((out / "caribbean-2025").iterdir())
    assert len({(f / "runs.csv").read_bytes() for f in folders}) == 1


def test_interrupted_run_leaves_no_folder_it_created(tmp_path, baseline, monkeypatch):
    """A failure after the folder was claimed removes the staging folder, the claimed
    name, the scenario folder and --out itself, all of which the run created; folders
    that existed before stay."""
    keep = tmp_path / "existing"
    keep.mkdir()

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(folders, "draw", interrupted)
    with pytest.raises(KeyboardInterrupt):
        folders.run_to_folder(baseline, keep / "new" / "out", runs=5, seed=1, days=2)
    assert tree(tmp_path) == ["existing"]


# ---------------------------------------------------------------- contents ---

def test_runs_csv_header_goes_through_the_csv_module():
    """A name holding a comma, quote or newline is quoted, so the header still parses
    into the same columns (the header used to be joined with ',')."""
    ids = ["A,B", 'C"D', "E\nF"]
    header = engine.csv_header(ids, [(0, 1), (2, 0)])
    columns = next(csv.reader(io.StringIO(header)))
    assert 'peak_A,B_C"D' in columns and "peak_E\nF_A,B" in columns
    # run, outcome, thresholds, coerced and its day, two pairs, three numbers, schemes, path
    assert len(columns) == 2 + len(THRESHOLDS) + 2 + 2 + 3 + len(SCHEMES) + 1


def test_manifest_hashes_say_what_they_cover(tmp_path):
    """scenario_sha256 is the scenario file's own SHA-256 (the same as its entry under
    files); inputs_sha256 is that of every listed file's bytes, concatenated in order.
    Both checked with hashlib against the files themselves."""
    out = tmp_path / "out"
    variant = tmp_path / "variant.yaml"
    variant.write_text(f"extends: {BASELINE}\nhorizon_days: 30\n", encoding="utf-8")
    folder = results_folder(run_cli("run", variant, *SMALL, "--out", out, check=0))
    manifest = json.loads((folder / "manifest.json").read_text())
    own = hashlib.sha256(variant.read_bytes()).hexdigest()
    assert manifest["scenario_sha256"] == own == manifest["files"][str(variant)]
    listed = [Path(f) for f in manifest["files"]]
    assert listed[:2] == [variant, BASELINE] and listed[2].name.endswith(".yaml")
    for path in listed:
        assert manifest["files"][str(path)] == hashlib.sha256(path.read_bytes()).hexdigest()
    everything = hashlib.sha256(b"".join(p.read_bytes() for p in listed)).hexdigest()
    assert manifest["inputs_sha256"] == everything


def test_a_vanished_scenario_folder_is_made_again(tmp_path, monkeypatch):
    """Another run's writability check may remove the empty scenario folder between this
    run's check and its claim: the claim makes the folder again instead of failing."""
    base = tmp_path / "out" / "caribbean-2025"
    real = folders._make_dirs
    calls = []

    def racing(folder):
        made = real(folder)
        if not calls:  # the other run removes what it made, right after this run looked
            for path in made:
                path.rmdir()
        calls.append(folder)
        return made
    monkeypatch.setattr(folders, "_make_dirs", racing)
    name = folders.new_folder_name(base, 7)
    assert (base / name).is_dir() and len(calls) == 2


def test_staging_of_another_host_is_never_swept(tmp_path):
    """Folders shared between machines: a staging folder named for another host is left
    alone even though no process here has its pid; this host's dead one goes."""
    base = tmp_path / "scenario"
    base.mkdir()
    here = folders._host()
    dead = 2**22 + 12345  # above Linux's pid_max default: no such process here
    mine, theirs = f".a.partial-{here}.{dead}", f".b.partial-otherhost.{dead}"
    for name in (mine, theirs, "a"):
        (base / name).mkdir()
    folders.new_folder_name(base, 1)
    left = {p.name for p in base.iterdir()}
    assert theirs in left and mine not in left and "a" not in left


def test_writability_check_survives_a_concurrent_check(tmp_path, monkeypatch):
    """Two runs checking the same new --out at once: the other run's check removes the
    empty folders it made, this one's included, before this one writes its probe. The
    check tries again instead of refusing a writable folder (seen with three runs)."""
    folder = tmp_path / "out" / "caribbean-2025"
    real = folders._make_dirs
    calls = []

    def racing(path):
        made = real(path)
        if not calls:
            for made_path in made:
                made_path.rmdir()
        calls.append(path)
        return made
    monkeypatch.setattr(folders, "_make_dirs", racing)
    folders.check_writable(folder)
    assert len(calls) == 2 and not (tmp_path / "out").exists()
