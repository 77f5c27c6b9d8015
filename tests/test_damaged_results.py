"""`escsim plot` on damaged results folders: one clear line per problem, exit 2, no
traceback, and the folder's charts and report left exactly as they were.

One real `escsim run` (and one `escsim compare`) writes the folders; each case copies
one, damages one file in one way and runs `escsim plot` on the copy.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import cli
from sim.results.resultset import CELL_CHARS, MAX_JSON_BYTES
from tests.conftest import BASELINE, ROOT, results_folder, run_cli

RUNS, DAYS = 30, 8
PAIRS = 6  # directed state pairs of the baseline: RUS, USA and VEN (in the order of ids)
OPTIONS = ("--runs", RUNS, "--days", DAYS, "--workers", 1, "--quiet")


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    proc = run_cli("run", BASELINE, *OPTIONS, "--out", tmp_path_factory.mktemp("run"),
                   check=0)
    return results_folder(proc)


@pytest.fixture(scope="module")
def original_comparison(tmp_path_factory) -> Path:
    proc = run_cli("compare", BASELINE, ROOT / "scenarios" / "caribbean-2025-no-airstrikes.yaml",
                   *OPTIONS, "--out", tmp_path_factory.mktemp("compare"), check=0)
    return results_folder(proc)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_fifo()}


def plot(capsys, folder: Path) -> tuple[int, list[str]]:
    """Run `escsim plot FOLDER` in this process; its exit status and stderr lines."""
    status = cli.main(["plot", str(folder)])
    return status, capsys.readouterr().err.splitlines()


# ------------------------------------------------------------------ ways to damage -------

def rewrite_npz(path: Path, **changes):
    """Write ``path`` again with some arrays replaced (``None``: left out)."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value(arrays[name]) if callable(value) else value
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def edit_json(path: Path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def edit_csv_line(path: Path, line: int, text: str):
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def shifted(counts: np.ndarray, at: tuple, by: int) -> np.ndarray:
    counts = counts.copy()
    counts[at] += by
    return counts


def truncate(path: Path, keep: float):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def flip_crc_protected_byte(path: Path):
    """Change one stored byte of the ``runs`` array: the zip's CRC no longer matches."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("runs.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x01
    path.write_bytes(bytes(data))


def object_array(_):
    return np.array([{"not": "counts"}] * 5, dtype=object)


def del_key(key):
    return lambda d: d.pop(key)


def set_key(key, value):
    return lambda d: d.__setitem__(key, value)


A, S, T = "aggregate.npz", "summary.json", "trajectories.csv"
C = "scenario.json"
HEADER_COLS = 2 + 4 + PAIRS
SPARSE = 4 * 2**30  # a 4 GiB file, sparse: it takes no disk space

CASES = {
    "npz is text": (A, lambda p: p.write_text("not a zip"),
                    ["{f}/aggregate.npz: not a valid .npz (zip) file: File is not a zip file"]),
    "npz truncated": (A, lambda p: truncate(p, 0.5),
                      ["{f}/aggregate.npz: not a valid .npz (zip) file: File is not a zip file"]),
    "npz bad CRC": (A, flip_crc_protected_byte,
                    ["{f}/aggregate.npz: runs: cannot be read: Bad CRC-32 for file 'runs.npy'"]),
    "npz array missing": (A, lambda p: rewrite_npz(p, moves=None),
                          ["{f}/aggregate.npz: missing arrays: moves"]),
    "npz wrong shape": (A, lambda p: rewrite_npz(p, levels=lambda a: a[:, :5]),
                        [f"{{f}}/aggregate.npz: levels: is int64 of shape ({DAYS + 1}, 5, 8), "
                         f"expected int64 of shape ({DAYS + 1}, {PAIRS}, 8)"]),
    "npz wrong dtype": (A, lambda p: rewrite_npz(p, outcomes=lambda a: a.astype(float)),
                        ["{f}/aggregate.npz: outcomes: is float64 of shape (5,), "
                         "expected int64 of shape (5,)"]),
    "npz pickled objects": (A, lambda p: rewrite_npz(p, outcomes=object_array),
                            ["{f}/aggregate.npz: outcomes: is object of shape (5,), "
                             "expected int64 of shape (5,)"]),
    "npz negative count": (A, lambda p: rewrite_npz(
        p, outcomes=lambda a: shifted(shifted(a, 0, -a[0] - 1), 1, a[0] + 1)),
        [f"{{f}}/aggregate.npz: outcomes: counts must be between 0 and the {RUNS} runs"]),
    "npz sums disagree": (A, lambda p: rewrite_npz(p, levels=lambda a: shifted(a, (3, 2, 0), 1)),
                          [f"{{f}}/aggregate.npz: levels: counts at [3, 2] add up to "
                           f"{RUNS + 1}, expected {RUNS}"]),
    "npz success of another horizon": (A, lambda p: rewrite_npz(p, success=lambda a: a[:, 1:]),
                                       [f"{{f}}/aggregate.npz: success: is int64 of shape (2, "
                                        f"{DAYS + 1}), expected int64 of shape (2, {DAYS + 2})"]),
    "npz success sums disagree": (A, lambda p: rewrite_npz(
        p, success=lambda a: shifted(a, (1, 0), 1)),
        [f"{{f}}/aggregate.npz: success: counts at [1] add up to {RUNS + 1}, "
         f"expected {RUNS}"]),
    "npz without success, summary with it": (A, lambda p: rewrite_npz(p, success=None),
                                             ["{f}/summary.json: coercion: summary.json records "
                                              "the coercer's success but aggregate.npz does not: "
                                              "the two files come from different runs"]),
    "npz is a FIFO": (A, lambda p: (p.unlink(), os.mkfifo(p)),
                      ["{f}/aggregate.npz: is a FIFO (named pipe), not a regular file"]),
    "summary not JSON": (S, lambda p: p.write_text('{"runs": 30,\n  oops}'),
                         ["{f}/summary.json:2: not valid JSON: Expecting property name "
                          "enclosed in double quotes"]),
    "summary wrong type": (S, lambda p: edit_json(p, set_key("runs", "30")),
                           ["{f}/summary.json: runs: must be a valid integer, got str '30'"]),
    "summary disagrees": (S, lambda p: edit_json(p, set_key("days", DAYS - 1)),
                          [f"{{f}}/summary.json: days: is {DAYS - 1}, but the results are for "
                           f"{DAYS}"]),
    "summary without coercion": (S, lambda p: edit_json(p, del_key("coercion")),
                                 ["{f}/summary.json: coercion: aggregate.npz records the "
                                  "coercer's success but summary.json does not: the two files "
                                  "come from different runs"]),
    "summary coercion disagrees": (S, lambda p: edit_json(
        p, lambda d: d["coercion"]["any"].__setitem__("runs", RUNS + 1)), None),
    "scenario key missing": (C, lambda p: edit_json(p, del_key("pairs")),
                             ["{f}/scenario.json: pairs: required field is missing"]),
    "scenario unknown scheme": (C, lambda p: edit_json(p, set_key("run_scheme", "rivra")),
                                ["{f}/scenario.json: run_scheme: must be one of goldstein, "
                                 "rivera, mid, ladder, got 'rivra' (did you mean 'rivera'?)"]),
    "scenario pairs disagree": (C, lambda p: edit_json(
        p, lambda d: d.__setitem__("pairs", d["pairs"][:-1])),
        [f"{{f}}/aggregate.npz: levels: is int64 of shape ({DAYS + 1}, {PAIRS}, 8), "
         f"expected int64 of shape ({DAYS + 1}, {PAIRS - 1}, 8)",
         "{f}/trajectories.csv:1: expected the header run,day,index_goldstein,index_rivera,"
         "index_mid,index_ladder,level_RUS-USA,level_RUS-VEN,level_USA-RUS,level_USA-VEN,"
         "level_VEN-RUS"]),
    "scenario lone surrogate": (C, lambda p: p.write_text(p.read_text(encoding="utf-8").replace(
        '"title": "', '"title": "\\ud800', 1), encoding="utf-8"),
        ["{f}/scenario.json: a string holds an escaped lone surrogate (\\ud800-\\udfff), "
         "which is not text"]),
    "scenario pair of unknown actors": (C, lambda p: edit_json(
        p, lambda d: d["pairs"].__setitem__(0, "USA-XYZ")),
        ["{f}/scenario.json: pairs[0]: 'USA-XYZ' is not two different actors of 'actors' "
         "joined by '-'"]),
    "csv column missing": (T, lambda p: edit_csv_line(p, 5, "0,3,1.0,2.0,3.0,4.0,1,1,1,1,1"),
                           [f"{{f}}/trajectories.csv:5: expected {HEADER_COLS} columns, got 11"]),
    "csv not a number": (T, lambda p: edit_csv_line(p, 5, "0,3,1.0,two,3.0,4.0,1,1,1,1,1,1"),
                         ["{f}/trajectories.csv:5: index_rivera: must be a decimal number, "
                          "got 'two'"]),
    "csv level off the ladder": (T, lambda p: edit_csv_line(
        p, 5, "0,3,1.0,2.0,3.0,4.0,1,9,1,1,1,1"),
        ["{f}/trajectories.csv:5: level_RUS-VEN: must be a rung of the ladder, 0 to 7, "
         "got 9"]),
    "csv run out of range": (T, lambda p: edit_csv_line(
        p, 5, f"{RUNS},3,1.0,2.0,3.0,4.0,1,1,1,1,1,1"),
        [f"{{f}}/trajectories.csv:5: run: must be below the number of runs, {RUNS}, "
         f"got {RUNS}"]),
    "csv day out of range": (T, lambda p: edit_csv_line(p, 5, "0,42,1.0,2.0,3.0,4.0,1,1,1,1,1,1"),
                             [f"{{f}}/trajectories.csv:5: day: must be at most the horizon, "
                              f"{DAYS}, got 42"]),
    "csv day skipped": (T, lambda p: edit_csv_line(p, 5, "0,4,1.0,2.0,3.0,4.0,1,1,1,1,1,1"),
                        ["{f}/trajectories.csv:5: day: expected run 0 day 3, got run 0 day 4"]),
    "csv truncated mid-run": (T, lambda p: truncate(p, 0.5), None),
    "csv of 4 GiB": (T, lambda p: os.truncate(p, SPARSE), None),
    "file missing": (T, lambda p: p.unlink(),
                     ["{f}: not a results folder of escsim run: missing trajectories.csv"]),
}


@pytest.mark.parametrize("case", CASES)
def test_damaged_results_folder_gives_one_clear_line_per_problem(original, tmp_path, capsys,
                                                                 case):
    """Each damage gives exactly its problem lines (file, line, field), exit 2, no
    traceback, and neither the charts nor the report change."""
    name, damage, expected = CASES[case]
    folder = tmp_path / "results"
    shutil.copytree(original, folder)
    damage(folder / name)
    before = snapshot(folder)
    status, err = plot(capsys, folder)
    assert status == 2, err
    assert "Traceback" not in "\n".join(err)
    if expected is None:
        expected = EXPECTED_LATE[case](folder)
    assert err == [line.format(f=folder) for line in expected]
    assert snapshot(folder) == before
    assert not list(folder.glob(".replot*"))


def _truncated_csv(folder: Path) -> list[str]:
    """Half the file: the last whole line is cut mid-row or mid-run (computed from the
    damaged file itself, read independently of escsim)."""
    lines = (folder / T).read_text(encoding="utf-8").split("\n")
    last, n = lines[-1], len(lines)
    cells = last.split(",")
    if len(cells) != HEADER_COLS:
        return [f"{folder}/{T}:{n}: expected {HEADER_COLS} columns, got {len(cells)}"]
    run, day = cells[0], int(cells[1])
    return [f"{folder}/{T}: day: run {run} has {day + 1} days, expected {DAYS + 1} "
            f"(days 0-{DAYS})"]


def _huge_csv(folder: Path) -> list[str]:
    # the limit: RUNS runs of DAYS + 1 rows, plus the header, of CELL_CHARS-wide cells
    limit = (RUNS * (DAYS + 1) + 1) * (CELL_CHARS + 1) * HEADER_COLS
    return [f"{folder}/{T}: file is larger than the {limit:,}-byte limit"]


def _coercion_disagrees(folder: Path) -> list[str]:
    """The runs with a coercer's success, counted in runs.csv (not read by escsim plot)."""
    with open(folder / "runs.csv", encoding="utf-8", newline="") as fh:
        reached = sum(row["coerced"] != "none" for row in csv.DictReader(fh))
    share = json.loads((folder / S).read_text(encoding="utf-8"))["coercion"]["any"]
    return [f"{folder}/{S}: coercion.any: says {RUNS + 1} runs ({share['probability']:g}), "
            f"but aggregate.npz counts {reached} of {RUNS}"]


EXPECTED_LATE = {"csv truncated mid-run": _truncated_csv, "csv of 4 GiB": _huge_csv,
                 "summary coercion disagrees": _coercion_disagrees}


def test_oversized_json_is_refused_before_it_is_parsed(original, tmp_path, capsys):
    """A scenario.json past the stated limit is refused by its size, not read whole."""
    folder = tmp_path / "results"
    shutil.copytree(original, folder)
    os.truncate(folder / C, MAX_JSON_BYTES + 1)
    status, err = plot(capsys, folder)
    assert status == 2
    assert err == [f"{folder}/{C}: file is larger than the {MAX_JSON_BYTES:,}-byte limit"]


def test_a_folder_that_is_a_file_or_missing_is_a_clear_error(original, tmp_path):
    """`escsim plot` on a file, or on nothing, names it in one line (real CLI, exit 2)."""
    proc = run_cli("plot", original / S, check=2)
    assert proc.stderr.splitlines() == [
        f"{original / S}: not a folder: give the results folder that escsim run or compare "
        "printed"]
    proc = run_cli("plot", tmp_path / "nowhere", check=2)
    assert proc.stderr.splitlines() == [
        f"{tmp_path / 'nowhere'}: cannot open folder: No such file or directory"]


COMPARISON_CASES = {
    "comparison.json not JSON": (lambda f: (f / "comparison.json").write_text("[1, 2"),
                                 ["{f}/comparison.json:1: not valid JSON: Expecting ',' "
                                  "delimiter"]),
    "scenario folder missing": (lambda f: shutil.rmtree(f / "2-caribbean-2025-no-airstrikes"),
                                ["{f}/comparison.json: folders[1]: the scenario's folder "
                                 "'2-caribbean-2025-no-airstrikes' is missing"]),
    "folder outside": (lambda f: edit_json(f / "comparison.json", lambda d: d["folders"]
                                           .__setitem__(0, "../../etc")),
                       ["{f}/comparison.json: folders[0]: '../../etc' is not the folder name "
                        "of scenario 1 ('1-NAME')"]),
    "lists disagree": (lambda f: edit_json(f / "comparison.json", lambda d: d["outcomes"]
                                           ["war"]["probability"].pop()),
                       ["{f}/comparison.json: outcomes.war.probability: must have one entry "
                        "per scenario (2)"]),
    "runs disagree": (lambda f: edit_json(f / "comparison.json", set_key("runs", RUNS + 1)),
                      [f"{{f}}/comparison.json: runs: is {RUNS + 1}, but "
                       f"'1-caribbean-2025' has {RUNS}",
                       f"{{f}}/comparison.json: runs: is {RUNS + 1}, but "
                       f"'2-caribbean-2025-no-airstrikes' has {RUNS}"]),
    "damaged scenario inside": (lambda f: (f / "1-caribbean-2025" / A).write_bytes(b""),
                                ["{f}/1-caribbean-2025/aggregate.npz: not a valid .npz (zip) "
                                 "file: File is not a zip file"]),
}


@pytest.mark.parametrize("case", COMPARISON_CASES)
def test_damaged_comparison_folder_gives_one_clear_line_per_problem(
        original_comparison, tmp_path, capsys, case):
    """A damaged comparison.json or scenario folder of a comparison: its problem lines,
    exit 2, nothing drawn or changed."""
    damage, expected = COMPARISON_CASES[case]
    folder = tmp_path / "compare"
    shutil.copytree(original_comparison, folder)
    damage(folder)
    before = snapshot(folder)
    status, err = plot(capsys, folder)
    assert status == 2, err
    assert err == [line.format(f=folder) for line in expected]
    assert snapshot(folder) == before


def test_an_undamaged_copy_plots(original, tmp_path, capsys):
    """The checks accept what escsim itself writes: plot on an intact copy succeeds and
    writes the report again."""
    folder = tmp_path / "results"
    shutil.copytree(original, folder)
    (folder / "report.html").unlink()
    assert cli.main(["plot", str(folder)]) == 0
    assert (folder / "report.html").stat().st_size > 10_000


# ------------------------------------------------------------------ random damage ---------

FILES_READ = (A, S, C, T)
EXAMPLES = 200 if os.environ.get("CI") else 25


@st.composite
def damages(draw):
    """One file of the folder, and a damage: new random bytes, a cut, or flipped bytes."""
    name = draw(st.sampled_from(FILES_READ))
    kind = draw(st.sampled_from(("bytes", "cut", "flip")))
    if kind == "bytes":
        return name, kind, draw(st.binary(max_size=4096))
    if kind == "cut":
        return name, kind, draw(st.floats(0, 1, exclude_max=True))
    return name, kind, draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                               st.integers(1, 255)), min_size=1, max_size=8))


def damage_file(path: Path, kind: str, arg):
    data = bytearray(path.read_bytes())
    if kind == "bytes":
        data = bytearray(arg)
    elif kind == "cut":
        data = data[:int(len(data) * arg)]
    else:
        for where, mask in arg:
            data[int(len(data) * where)] ^= mask
    path.write_bytes(bytes(data))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(damage=damages())
def test_random_damage_gives_a_result_or_clean_problem_lines(original, damage):
    """Random bytes, cuts and byte flips in any file `escsim plot` reads: it either draws
    (exit 0, a report) or reports problem lines naming the folder's files (exit 2), never
    a traceback or another exit status."""
    name, kind, arg = damage
    with tempfile.TemporaryDirectory(dir=original.parent.parent) as tmp:
        folder = Path(tmp) / "results"
        shutil.copytree(original, folder)
        damage_file(folder / name, kind, arg)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["plot", str(folder)])
        lines = err.getvalue().splitlines()
        assert status in (0, 2), lines
        if status == 0:
            assert (folder / "report.html").is_file()
        else:
            assert lines and all(line.startswith(f"{folder}/") for line in lines), lines
