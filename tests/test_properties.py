"""Property-based tests: random valid scenarios and random damage to the shipped files.

The example budget comes from the hypothesis profile loaded by ``tests/strategies.py``
(``dev`` locally, ``ci`` when the ``CI`` variable is set).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from unittest import mock

import pytest
import strategies as gen
from hypothesis import event, example, given, note, settings
from hypothesis import strategies as st

from sim import cli
from sim.ensemble.backends import InlineBackend, ProcessBackend
from sim.inputs.scenario import load_scenario
from sim.model import story
from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.results import folders as res

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [*sorted((ROOT / "scenarios").glob("*.yaml")),
           *sorted((ROOT / "seeds").glob("*.events.yaml"))]
BASELINE = "scenarios/caribbean-2025.yaml"
DATA_FILES = ("runs.csv", "summary.json", "trajectories.csv")
PROBLEM_LINE = re.compile(r"(?:/|[A-Za-z]:[\\/])[^\n]*?(:[1-9]\d*)?: \S.*")
"""An error line as promised: an absolute FILE, an optional :LINE, then ': message'."""
CLASS_OF = {"great_power_confrontation": "great-power confrontation", "war": "war",
            "militarized_clash": "militarized clash"}
"""Threshold -> the class a run that crossed it gets, most severe first."""


@contextlib.contextmanager
def no_charts():
    """Skip drawing charts and the report: these properties are about the data files."""
    with mock.patch.object(res, "draw", lambda rs, folder, numbers: folder / "report.html"):
        yield


def read_runs(folder: Path) -> list[dict]:
    with open(folder / "runs.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def check_folder(folder: Path, scenario, runs: int, days: int, keep: int):
    """Assert the invariants of a results folder against the scenario that made it."""
    spec = scenario.spec
    states = [a for a in scenario.actor_ids if spec.actors[a].kind == "state"]  # ids' order
    pairs = [(a, b) for a in states for b in states if a != b]
    cfg = spec.outcomes
    rows = read_runs(folder)
    assert [int(r["run"]) for r in rows] == list(range(runs)), "one row per run, in order"
    peak_cols = [c for c in rows[0] if c.startswith("peak_") and not
                 c.startswith("peak_index")] if rows else []
    assert peak_cols == [f"peak_{a}_{b}" for a, b in pairs]
    for r in rows:
        assert r["outcome"] in OUTCOMES
        peaks = {(a, b): int(r[f"peak_{a}_{b}"]) for a, b in pairs}
        assert all(0 <= p <= gen.MAX_LEVEL for p in peaks.values()), r
        first = {t: int(r[f"first_{t}"]) if r[f"first_{t}"] else None for t in THRESHOLDS}
        assert all(d is None or 0 <= d <= days for d in first.values()), r
        assert re.fullmatch(r"[0-7](-[0-7])*", r["path"]), r["path"]
        assert int(r["casualties"]) >= 0
        top = max(peaks.values())
        assert (first["militarized_clash"] is not None) == (top >= cfg.militarized_clash.min_level)
        if top >= cfg.war.min_level or int(r["casualties"]) >= cfg.war.casualties:
            assert first["war"] is not None, r
        gp = cfg.great_power_confrontation
        if gp is None:
            assert first["great_power_confrontation"] is None
        else:
            a, b = gp.actors
            assert (first["great_power_confrontation"] is not None) == (
                max(peaks[a, b], peaks[b, a]) >= gp.min_level), r
        crossed = [t for t in CLASS_OF if first[t] is not None]
        if crossed:
            assert r["outcome"] == CLASS_OF[crossed[0]], r
        else:
            assert r["outcome"] in ("de-escalated", "frozen crisis"), r
            if r["outcome"] == "de-escalated":
                assert first["deescalated"] is not None, r

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["runs"] == runs and summary["days"] == days
    probabilities = [o["probability"] for o in summary["outcomes"].values()]
    # each probability is rounded to 6 decimals: the sum is 1 within 5 half-units
    assert math.isclose(sum(probabilities), 1.0, abs_tol=len(probabilities) * 5e-7)
    for name, o in summary["outcomes"].items():
        assert o["runs"] == sum(r["outcome"] == name for r in rows)
        assert o["ci95"][0] <= o["probability"] <= o["ci95"][1]
    for t, block in summary["thresholds"].items():
        assert block["runs"] == sum(r[f"first_{t}"] != "" for r in rows), t

    with open(folder / "trajectories.csv", encoding="utf-8", newline="") as fh:
        traj = list(csv.DictReader(fh))
    kept = min(keep, runs)
    assert len(traj) == kept * (days + 1)
    assert {(int(t["run"]), int(t["day"])) for t in traj} == {
        (k, d) for k in range(kept) for d in range(days + 1)}
    for a, b in pairs:
        levels: dict[int, int] = {}
        for t in traj:
            level = int(t[f"level_{a}-{b}"])
            assert 0 <= level <= gen.MAX_LEVEL
            levels[int(t["run"])] = max(level, levels.get(int(t["run"]), 0))
        for k, level in levels.items():
            assert int(rows[k][f"peak_{a}_{b}"]) == level, (k, a, b)


def run_folder(scenario, out: Path, runs: int, keep: int, **options) -> Path:
    with no_charts():
        folder, _ = res.run_to_folder(scenario, out, argv=["escsim"], runs=runs, keep=keep,
                                      **options)
    return folder


@given(case=gen.scenarios(), runs=st.integers(5, 40), data=st.data())
def test_random_valid_scenarios_keep_the_invariants(case, runs, data):
    """Any scenario within the documented ranges loads and runs; runs.csv has one row per
    run with outcomes, first-crossing days and peak levels consistent with the thresholds;
    summary.json's probabilities sum to 1 and its counts match runs.csv; every level is a
    rung 0..7 and a kept trajectory's highest level is the run's peak; another chunk
    size gives the same bytes; and the story of any run ends with that run's row."""
    keep = data.draw(st.integers(0, runs + 2), label="keep")
    chunk = data.draw(st.integers(1, runs), label="chunk_size")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        scenario = load_scenario(gen.write_case(tmp, case))
        days = scenario.spec.horizon_days
        one = run_folder(scenario, tmp / "one", runs, keep, backend=InlineBackend())
        check_folder(one, scenario, runs, days, keep)
        other = run_folder(scenario, tmp / "other", runs, keep, backend=InlineBackend(),
                           chunk_size=chunk)
        for name in DATA_FILES:
            assert (one / name).read_bytes() == (other / name).read_bytes(), name
        run = data.draw(st.integers(0, runs - 1), label="story run")
        assert_story_matches(story.tell(scenario, run), read_runs(one)[run], scenario)


def assert_story_matches(text: str, row: dict, scenario):
    """The story of run K closes with run K's row of runs.csv (module docstring of
    sim/model/story.py): outcome, first-crossing days, peak levels and casualties."""
    closing = text[text.rindex("Outcome: "):]
    assert closing.startswith(f"Outcome: {row['outcome']}\n"), closing
    for t in THRESHOLDS:
        day = row[f"first_{t}"] or "never (censored at the horizon)"
        assert f"  first day {t}: {day}\n" in closing, (t, closing)
    states = [a for a in scenario.actor_ids if scenario.spec.actors[a].kind == "state"]
    peaks = ", ".join(f"{a}->{b} {row[f'peak_{a}_{b}']}" for a in states for b in states
                      if a != b)
    assert f"  peak levels: {peaks}\n" in closing, closing
    assert f"  casualties: {row['casualties']}\n" in closing, closing


@pytest.fixture(scope="module")
def two_workers():
    """One pool of two worker processes for every example (starting one takes seconds)."""
    backend = ProcessBackend(2)
    yield backend
    backend.close()


@settings(max_examples=4 if gen.PROFILE == "dev" else 20)
@given(case=gen.scenarios(max_days=15), runs=st.integers(5, 40), data=st.data())
def test_random_valid_scenarios_give_the_same_bytes_with_two_workers(two_workers, case, runs,
                                                                     data):
    """Two worker processes, with chunks that come back in any order, write the same
    runs.csv, summary.json and trajectories.csv as one process."""
    chunk = data.draw(st.integers(1, max(1, runs // 3)), label="chunk_size")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        scenario = load_scenario(gen.write_case(tmp, case))
        one = run_folder(scenario, tmp / "one", runs, runs, backend=InlineBackend())
        two = run_folder(scenario, tmp / "two", runs, runs, backend=two_workers,
                         chunk_size=chunk)
        for name in DATA_FILES:
            assert (one / name).read_bytes() == (two / name).read_bytes(), name


# ------------------------------------------------------------------ mutations ---------

def special_files(folder: Path) -> dict[str, str]:
    """Special files for the ``@name`` entries of :data:`strategies.SPECIAL_PATHS`, those
    this OS can make (an entry left out stays a plain name of a missing file)."""
    folder.mkdir()
    (folder / "folder").mkdir()
    (folder / "empty").write_bytes(b"")
    def bind_socket():
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(folder / "socket"))

    makers = [lambda: os.mkfifo(folder / "fifo"), bind_socket,
              lambda: (folder / "loop").symlink_to(folder / "loop"),
              lambda: (folder / "zero-link").symlink_to("/dev/zero")]
    for make in makers:
        with contextlib.suppress(AttributeError, OSError, NotImplementedError):
            make()
    return {f"@{p.name}": str(p) for p in folder.iterdir()}


@contextlib.contextmanager
def fifo_guard(fifo: Path, seconds: float = 10.0):
    """Unblock anything still reading ``fifo`` after ``seconds``; yield a list that says
    whether that happened (a hang). Threads, not SIGALRM, so it works anywhere."""
    fired: list[bool] = []
    stop = threading.Event()

    def watch():
        if stop.wait(seconds):
            return
        while not stop.is_set():
            try:  # succeeds only while a reader has the FIFO open
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                pass
            else:
                fired.append(True)
                os.close(fd)
            stop.wait(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield fired
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def bounded_memory(extra: int = 1 << 30):
    """Cap this process's address space at its current size plus ``extra`` bytes, so a
    read without bound (of /dev/zero, say) fails with MemoryError instead of filling the
    machine. Only where the OS offers it (Linux)."""
    try:
        import resource
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (ImportError, OSError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def tree(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder`` with its type, size and modification time."""
    out = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            st_ = os.lstat(os.path.join(base, name))
            out[os.path.relpath(os.path.join(base, name), folder)] = (
                st_.st_mode, st_.st_size, st_.st_mtime_ns)
    return out


def escsim(*argv) -> tuple[int, str, str]:
    """``escsim ARGV`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def assert_clear_error(status: int, stdout: str, stderr: str):
    assert status == 2
    assert stderr.strip(), "exit 2 without a message"
    for line in stderr.splitlines():
        assert PROBLEM_LINE.fullmatch(line), f"not FILE:LINE: message: {line!r}"
        assert line.isprintable(), f"control characters in an error line: {line!r}"
    assert "Traceback" not in stdout + stderr


def _line(path: Path, needle: bytes) -> int:
    return next(k for k, line in enumerate(path.read_bytes().splitlines()) if needle in line)


SEEDS = ROOT / "seeds" / "caribbean-2025.events.yaml"
VARIANT = ROOT / "scenarios" / "caribbean-2025-china.yaml"
REGRESSIONS = [  # cases of the fuzzing campaign in issue 8, tried on every run
    *((ROOT / BASELINE, [("path", 0, p)]) for p in ("/dev/zero", "@fifo", "@folder")),
    *((SEEDS, [("path", 0, p)]) for p in ("@zero-link", "/proc/self/mem", "x\x00y.yaml",
                                          "a" * 300 + ".yaml", "@loop")),
    (VARIANT, [("path", 0, "/dev/urandom")]),
    (SEEDS, [("number", _line(SEEDS, b"casualties:"), b"1e20")]),
    (ROOT / BASELINE, [("bytes", 0, 0, b"\x00")]),
    (ROOT / BASELINE, [("bytes", 0, 0, b"\x07")]),
    (ROOT / BASELINE, [("actor", "USA", "U,SA")]),
    (ROOT / BASELINE, [("actor", "VEN", "V\nEN")]),
    (ROOT / BASELINE, [("filename", "...yaml")]),
]


def with_regressions(test):
    """Add every case of :data:`REGRESSIONS` as an explicit example of ``test``."""
    for target, edits in REGRESSIONS:
        test = example(target=target, edits=edits)(test)
    return test


@with_regressions
@given(target=st.sampled_from(SHIPPED), edits=st.lists(gen.mutations(), min_size=1,
                                                      max_size=3))
def test_mutated_files_give_a_result_or_a_clear_error(target, edits):
    """Damage to a shipped scenario or seed file (lines deleted, duplicated or replaced,
    odd numbers, misspelt keys, wrong types, odd bytes, special files in path fields, odd
    actor ids, odd file names) ends either in a valid results folder, or in the promised
    clear error from both validate and run: exit 2, one FILE:LINE: message line per
    problem, no traceback, nothing written, no hang. (Charts are left out: they are tested
    on their own, and drawing them would take most of the time.)"""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for folder in ("scenarios", "seeds"):
            shutil.copytree(ROOT / folder, tmp / folder)
        special = special_files(tmp / "special")
        mutated = tmp / target.relative_to(ROOT)
        for edit in edits:
            if edit[0] == "actor":
                for path in [*tmp.glob("scenarios/*.yaml"), *tmp.glob("seeds/*.yaml")]:
                    path.write_bytes(gen.rename_actor(path.read_bytes(), edit[1], edit[2]))
            elif edit[0] == "filename":
                mutated = mutated.rename(mutated.with_name(edit[1]))
            else:
                mutated.write_bytes(gen.apply(edit, mutated.read_bytes(), special))
        note(f"{mutated.name} after the edits:\n"
             + mutated.read_bytes().decode("utf-8", "backslashreplace"))
        scenario_path = mutated if mutated.parent.name == "scenarios" else tmp / BASELINE
        out = tmp / "out"
        before = tree(tmp)
        fifo = Path(special.get("@fifo", tmp / "no-fifo"))
        with fifo_guard(fifo) as hung, bounded_memory(), no_charts():
            checked = escsim("validate", scenario_path)
            ran = escsim("run", scenario_path, "--runs", 3, "--days", 3, "--workers", 1,
                         "--quiet", "--out", out)
        assert not hung, "escsim blocked reading a FIFO"
        note(f"validate: {checked}\nrun: {ran}")
        assert checked[0] == ran[0], "validate and run disagree about the file"
        written = {k: v for k, v in tree(tmp).items() if k != "out" and
                   not k.startswith("out" + os.sep)}
        assert written == before, "files changed outside --out"
        event("refused" if checked[0] else "accepted")
        if checked[0] != 0:
            assert_clear_error(*checked)
            assert_clear_error(*ran)
            assert not out.exists() or not any(out.iterdir()), "a failed run left files"
            return
        assert "Traceback" not in "".join(checked[1:] + ran[1:])
        folders = list(out.glob("*/*"))
        assert len(folders) == 1
        scenario = load_scenario(scenario_path)
        check_folder(folders[0], scenario, 3, 3, 20)
