"""`escsim run` with per-run parameters (--set, --sets), saved states (--save-day, --from)
and forced moves (--force), through the real command line."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shlex
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT, results_folder, run_cli

from sim.cli import main
from sim.inputs import catalogue

RUNS, DAYS, SAVE_DAY = 8, 20, 10
COMMON = ["--runs", RUNS, "--days", DAYS, "--workers", 1, "--quiet"]


def rows(folder: Path) -> list[list[str]]:
    """runs.csv of a results folder, header first."""
    with open(folder / "runs.csv", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def plain(out):
    """The baseline, uninterrupted, with every run's state saved at the end of day 10."""
    proc = run_cli("run", BASELINE, *COMMON, "--save-day", SAVE_DAY, "--out", out, check=0)
    return proc, results_folder(proc)


@pytest.fixture(scope="module")
def state(plain) -> Path:
    match = re.search(r"^state: (.+)$", plain[0].stdout, re.M)
    assert match, plain[0].stdout
    return ROOT / match.group(1)


def test_save_day_writes_the_state_into_the_results_folder(plain, state):
    """--save-day prints `state: PATH` after `results:`; the file is in the results folder
    and the manifest names it and its day."""
    proc, folder = plain
    lines = proc.stdout.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("results: "))
    assert lines[at + 1].startswith("state: ")
    assert state.parent == folder and state.name == f"state-day{SAVE_DAY}.npz"
    assert state.is_file()
    assert manifest(folder)["saved_state"] == {"file": state.name, "day": SAVE_DAY}


def test_set_equals_editing_the_file(plain, out, variant):
    """--set gives the runs.csv of a copy of the scenario with that value edited, and it
    differs from the scenario's own runs."""
    value = 0.95  # the baseline's USA resolve is 0.7
    proc = run_cli("run", BASELINE, *COMMON, "--set", f"actors.USA.resolve={value}",
                   "--out", out, check=0)
    edited = variant(f"actors:\n  USA:\n    resolve: {value}\n")
    by_file = results_folder(run_cli("run", edited, *COMMON, "--out", out, check=0))
    by_set = results_folder(proc)
    assert rows(by_set) == rows(by_file)
    assert rows(by_set) != rows(plain[1])
    assert manifest(by_set)["parameters"]["overrides"] == {"actors.USA.resolve": value}


def test_sets_rows_equal_plain_runs_of_each_set(out, tmp_path):
    """Rows of set k in a --sets ensemble equal a plain run with set k's values as --set
    (common random numbers), apart from the set column; sets.csv counts each set's runs."""
    table = tmp_path / "sets.csv"
    sets = [{"actors.VEN.resolve": "0.2", "memory.decay": "0.5"},
            {"actors.VEN.resolve": "0.9", "memory.decay": "0.8"}]
    table.write_text("actors.VEN.resolve,memory.decay\n"
                     + "".join(f"{s['actors.VEN.resolve']},{s['memory.decay']}\n" for s in sets))
    folder = results_folder(run_cli("run", BASELINE, *COMMON, "--sets", table, "--out", out,
                                    check=0))
    header, *body = rows(folder)
    assert header[0] == "set"
    with open(folder / "sets.csv", encoding="utf-8", newline="") as fh:
        summary = list(csv.DictReader(fh))
    for k, values in enumerate(sets):
        alone = rows(results_folder(run_cli(
            "run", BASELINE, *COMMON, "--out", out,
            *(a for p, v in values.items() for a in ("--set", f"{p}={v}")), check=0)))
        mine = [row[1:] for row in body if row[0] == str(k)]
        assert [header[1:], *mine] == alone
        assert summary[k]["set"] == str(k) and int(summary[k]["runs"]) == RUNS
        assert {p: float(summary[k][p]) for p in values} == {p: float(v)
                                                             for p, v in values.items()}
        wars = sum(row[header.index("outcome")] == "war" for row in body if row[0] == str(k))
        assert float(summary[k]["war"]) == pytest.approx(wars / RUNS, abs=1e-6)
        assert float(summary[k]["war_ci95_low"]) <= wars / RUNS <= float(
            summary[k]["war_ci95_high"])
    assert manifest(folder)["runs_per_set"] == RUNS


@pytest.fixture(scope="module")
def continuation(state, out):
    """Five continuations of run 3 of the saved baseline."""
    proc = run_cli("run", BASELINE, "--from", state, "--run", 3, "--runs", 5, "--days", DAYS,
                   "--workers", 1, "--quiet", "--out", out, check=0)
    return proc, results_folder(proc)


def test_continuation_zero_is_the_saved_run(plain, state, out, continuation):
    """--from STATE --run 3: continuation 0's row equals run 3's row of the uninterrupted run
    apart from the run number; the manifest records the state file, its hash, day and run;
    the reproduce line gives the same runs.csv again."""
    proc, folder = continuation
    header, *body = rows(folder)
    _, *uninterrupted = rows(plain[1])
    assert len(body) == 5
    assert body[0][0] == "0" and uninterrupted[3][0] == "3"
    assert body[0][1:] == uninterrupted[3][1:]
    assert "what-if" not in proc.stdout
    origin = manifest(folder)["from_state"]
    assert origin["sha256"] == hashlib.sha256(state.read_bytes()).hexdigest()
    assert (origin["day"], origin["run"], origin["same_scenario"]) == (SAVE_DAY, 3, True)
    command = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))["command"]
    words = shlex.split(command)
    assert words[:2] == ["escsim", "run"] and "--from" in words
    again = run_cli(*words[1:], "--workers", 1, "--quiet", "--out", out, check=0)
    assert rows(results_folder(again)) == [header, *body]


def test_continuation_folder_can_be_replotted(continuation):
    """`escsim plot` redraws a folder of continuations like any results folder (their move
    counts start after the saved state's day)."""
    proc = run_cli("plot", continuation[1])
    assert proc.returncode == 0, proc.stderr


def test_force_imposes_the_move_in_every_continuation(plain, state, out):
    """--force 11:VEN:strike_military_targets:USA from a day-10 state of another scenario
    with the same actors (a what-if): every continuation has Venezuela at the strike's rung
    against the US, which no run of the unforced baseline reaches; a note says it is a
    what-if."""
    rung = catalogue.load()["strike_military_targets"].level  # 6 in actions.yaml
    other = ROOT / "scenarios" / "caribbean-2025-strong-russia.yaml"
    proc = run_cli("run", other, "--from", state, "--run", 3, "--runs", 4, "--days", DAYS,
                   "--force", "11:VEN:strike_military_targets:USA", "--workers", 1,
                   "--quiet", "--out", out, check=0)
    assert "what-if" in proc.stdout
    folder = results_folder(proc)
    header, *body = rows(folder)
    column = header.index("peak_VEN_USA")
    assert all(int(row[column]) >= rung for row in body)
    assert all(int(row[column]) < rung for row in rows(plain[1])[1:])
    record = manifest(folder)
    assert record["forced"] == ["11:VEN:strike_military_targets:USA"]
    assert record["from_state"]["same_scenario"] is False


def _bad_sets(tmp: Path) -> Path:
    path = tmp / "bad.csv"
    path.write_text("actors.USA.resolve\n0.5\n2\n")
    return path


def _damaged(tmp: Path, state: Path) -> Path:
    path = tmp / "damaged.npz"
    path.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    return path


BAD = [  # (arguments, words the one message must hold)
    (["--set", "actors.USA.resolv=0.9"], ["actors.USA.resolv", "did you mean "
                                          "'actors.USA.resolve'"]),
    (["--set", "memory.decay=7"], ["--set", "memory.decay"]),
    (["--set", "memory.decay"], ["--set", "PATH=VALUE"]),
    (["--sets", "{tmp}/missing.csv"], ["missing.csv"]),
    (["--sets", "{bad_sets}"], ["bad.csv:3", "actors.USA.resolve"]),
    (["--sets", "{bad_sets}", "--until-ci", "0.1"], ["--until-ci", "--sets"]),
    (["--save-day", str(DAYS)], ["--save-day", f"0 to {DAYS - 1}"]),
    (["--run", "3"], ["--run", "--from"]),
    (["--from", "{tmp}/missing.npz", "--run", "3"], ["missing.npz", "no such file"]),
    (["--from", "{damaged}", "--run", "3"], ["damaged.npz", "not a state file"]),
    (["--from", "{state}", "--run", "99"], ["run 99"]),
    (["--from", "{state}", "--run", "3", "--days", str(SAVE_DAY)], ["--days", "after"]),
    (["--from", "{state}", "--run", "3", "--force", "5:VEN:hold"], ["5:VEN:hold", "day"]),
    (["--force", "12:VEM:hold"], ["VEM", "did you mean 'VEN'"]),
    (["--force", "3:VEN:strike_military_targets:UNSC"], ["target", "UNSC"]),
    (["--force", "3:VEN:strike_militar_targets:USA"], ["did you mean "
                                                       "'strike_military_targets'"]),
]


@pytest.mark.parametrize("args, words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_message_and_no_folder(args, words, state, tmp_path, capsys):
    """Each bad option value: exit 2, one stderr line naming the problem, no results folder."""
    names = {"tmp": tmp_path, "state": state, "bad_sets": _bad_sets(tmp_path),
             "damaged": _damaged(tmp_path, state)}
    where = tmp_path / "out"
    status = main(["run", str(BASELINE), "--runs", "3", "--days", str(DAYS), "--quiet",
                   "--workers", "1", "--out", str(where), *(a.format(**names) for a in args)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert all(w in err for w in words), err
    assert "Traceback" not in err
    assert not where.exists()


def test_state_of_other_actors_is_refused(state, tmp_path, capsys):
    """A scenario whose actors differ from the saved state's: exit 2, one line naming them."""
    other = ROOT / "scenarios" / "caribbean-2025-china.yaml"
    status = main(["run", str(other), "--from", str(state), "--run", "3", "--runs", "2",
                   "--quiet", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "actors" in err and "CHN" in err
    assert not (tmp_path / "out").exists()
