"""`escsim debrief`: its numbers equal plain `escsim run` runs, prediction sheets are checked
and scored, several games share one page, and bad input writes nothing."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE

from sim.classroom.game import Game, InjectRecord
from sim.classroom.predictions import OUTCOME_IDS, read_sheet, score
from sim.cli import main
from sim.model import state as saved
from sim.model.model import EscalationModel

RUNS, DAYS, SEED, RUN = 200, 8, 11, 2
HEADER = "name," + ",".join(OUTCOME_IDS)


def play(path: Path, seed: int = SEED, until: int | None = None) -> Path:
    """A short game as Venezuela: a strike on day 1, a Russian inject on day 3, the model after.

    ``until``: stop on that day (an unfinished game).
    """
    from sim.inputs.scenario import load_scenario
    flotilla = InjectRecord(id="flotilla", headline="A Russian flotilla sails", actor="RUS",
                            action="deploy_naval_force", target="USA", day=3)
    game = Game.new(load_scenario(BASELINE), ["VEN"], seed=seed, run=RUN, days=DAYS,
                    deck=(flotilla,))
    game.advance({"VEN": ("strike_military_targets", "USA")})
    while not game.finished and (until is None or game.day < until):
        game.advance({})
    return game.save(path)


def debrief(*args) -> Path:
    """Run `escsim debrief ARGS` in this process; return the folder of the page it printed,
    after checking that it printed every command of its commands.txt."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["debrief", *map(str, args), "--workers", "1", "--quiet"]) == 0
    match = re.search(r"^debrief: (.+)$", out.getvalue(), re.M)
    assert match
    page = Path(match.group(1))
    assert page.name == "debrief.html" and page.is_file()
    listed = [line for line in (page.parent / "commands.txt").read_text().splitlines()
              if line.startswith("escsim run")]
    printed = re.findall(r"^  (escsim run .+)$", out.getvalue(), re.M)
    assert listed and printed == listed
    return page.parent


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    """A finished game's debrief with one prediction sheet (percentages)."""
    tmp = tmp_path_factory.mktemp("one")
    game = play(tmp / "game.yaml")
    sheet = tmp / "class.csv"
    sheet.write_text(f"{HEADER}\nAna,10,40,30,20,0\nBo,0,0,0,100,0\n", encoding="utf-8")
    folder = debrief(game, "--predictions", sheet, "--runs", RUNS, "--out", tmp / "out")
    return folder, json.loads((folder / "debrief.json").read_text(encoding="utf-8"))


def test_every_number_equals_the_plain_run_it_prints(one, tmp_path, monkeypatch, capsys):
    """The baseline's and every continuation's outcome counts and intervals are the
    summary.json of the `escsim run` command printed beside them, run from the folder."""
    folder, numbers = one
    game = numbers["games"][0]
    commands = [(game["baseline"]["command"], game["baseline"]["outcomes"])]
    commands += [(m["command"], m["outcomes"]) for x in game["decisions"] for m in x["moves"]]
    assert len(commands) >= 3  # the baseline, the players' move and alternatives
    listed = (folder / "commands.txt").read_text(encoding="utf-8")
    monkeypatch.chdir(folder)
    for k, (command, outcomes) in enumerate(commands):
        assert command in listed
        words = shlex.split(command)
        assert words[:2] == ["escsim", "run"]
        assert main([*words[1:], "--out", str(tmp_path / str(k)), "--quiet",
                     "--workers", "1"]) == 0
        result = re.search(r"^results: (.+)$", capsys.readouterr().out, re.M).group(1)
        plain = json.loads((Path(result) / "summary.json").read_text(encoding="utf-8"))
        assert plain["runs"] == RUNS
        assert plain["outcomes"] == outcomes, command


def test_continuations_follow_the_game_from_the_day_before(one):
    """A decision's continuations start from the state at the end of the day before, force
    the players' move on its day and the inject of a later day, and nothing else."""
    folder, numbers = one
    game = numbers["games"][0]
    (decision,) = game["decisions"]
    assert (decision["day"], decision["actor"], decision["state_file"]) == (
        1, "VEN", "states/day-000.npz")
    mine = decision["moves"][0]
    assert mine["players"] and mine["action"] == "strike_military_targets"
    for move in decision["moves"]:
        forces = re.findall(r"--force (\S+)", move["command"])
        action = move["action"] or "hold"
        assert forces == sorted([f"1:VEN:{action}" + (f":{move['target']}" if move["target"]
                                                      else ""),
                                 "3:RUS:deploy_naval_force:USA"])
        assert f"--from {decision['state_file']} --run {RUN}" in move["command"]
    assert game["baseline"]["command"].endswith("--force 3:RUS:deploy_naval_force:USA")
    state = saved.load(folder / decision["state_file"])
    assert (state.day, state.seed, state.runs.tolist()) == (0, SEED, [RUN])


def test_alternatives_are_the_likeliest_other_moves(one, baseline):
    """The alternatives are the feasible moves the rule gives the highest probability at the
    saved state (read back from the state file), other than the players' move, likeliest first."""
    folder, numbers = one
    (decision,) = numbers["games"][0]["decisions"]
    state = saved.load(folder / decision["state_file"])
    model = EscalationModel(baseline, runs=[RUN], seed=SEED, days=DAYS, state=state)
    options = model.agents_by_index[model.actor_index["VEN"]].options(0)
    feasible = {(o["action"], o["target"]): o["probability"] for o in options if o["feasible"]}
    mine, *others = decision["moves"]
    chosen = [(m["action"], m["target"]) for m in others]
    assert 2 <= len(chosen) <= 3 and (mine["action"], mine["target"]) not in chosen
    assert [m["model_probability"] for m in others] == sorted(
        (round(feasible[c], 6) for c in chosen), reverse=True)
    left = [p for move, p in feasible.items()
            if move not in chosen and move != (mine["action"], mine["target"])]
    assert max(left, default=0) <= min(feasible[c] for c in chosen)


def test_page_shows_the_numbers_and_the_class_placement(one):
    """The page carries each decision's sentence, the class's outcome share among the runs,
    the peak's place, every prediction's Brier score and the six debrief phases."""
    folder, numbers = one
    game = numbers["games"][0]
    html = (folder / "debrief.html").read_text(encoding="utf-8")
    assert "<script" not in html and 'src="data:image/png;base64,' in html
    (decision,) = game["decisions"]
    assert decision["sentence"].startswith("Your day-1 move as Venezuela, air or missile")
    assert html_escape(decision["sentence"]) in html
    cls = game["class"]
    assert cls["outcome"] in ("de-escalated", "frozen crisis", "militarized clash", "war",
                              "great-power confrontation")
    share = game["baseline"]["outcomes"][cls["outcome"]]
    assert f"{100 * share['probability']:.1f}% of the {RUNS} runs" in html
    peaks = game["baseline"]["peak_rungs"]
    below = sum(v for r, v in peaks.items() if int(r) < cls["peak_rung"])
    assert game["baseline"]["peak_lower"] == round(below / RUNS, 6)
    assert sum(peaks.values()) == RUNS
    for student in game["predictions"][0]["students"]:
        assert f"{student['brier']:.3f}" in html
    for k, phase in enumerate(["How do you feel?", "What happened?", "What did you learn?",
                               "How does this relate?", "What if?", "What next?"], start=1):
        assert f"{k}. {phase}" in html
    assert "@media print" in html
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"] == RUNS and manifest["games"][0]["baseline"]["seed"] == SEED
    assert set(manifest["games"][0]["state_files"]) == {"states/day-000.npz"}


def test_prediction_scores_by_hand(one):
    """Brier and distance of the sheet's rows, computed by hand from their definitions:
    Brier sums (p - o)^2 over the classes, the distance is half the L1 gap to the ensemble."""
    _, numbers = one
    game = numbers["games"][0]
    observed = game["class"]["outcome"]
    ids = dict(zip(("de-escalated", "frozen crisis", "militarized clash", "war",
                    "great-power confrontation"), OUTCOME_IDS, strict=True))
    ensemble = {ids[o]: v["runs"] / RUNS for o, v in game["baseline"]["outcomes"].items()}
    ana, bo = game["predictions"][0]["students"]
    assert ana["p"] == {"de_escalated": 0.1, "frozen_crisis": 0.4, "militarized_clash": 0.3,
                        "war": 0.2, "great_power_confrontation": 0.0}
    for student in (ana, bo):
        by_hand = sum((p - (o == ids[observed])) ** 2 for o, p in student["p"].items())
        assert student["brier"] == pytest.approx(by_hand, abs=1e-6)
        gap = sum(abs(student["p"][o] - ensemble[o]) for o in OUTCOME_IDS) / 2
        assert student["distance"] == pytest.approx(gap, abs=1e-6)
    own = sum((p - (o == ids[observed])) ** 2 for o, p in ensemble.items())
    assert game["predictions"][0]["ensemble_brier"] == pytest.approx(own, abs=1e-6)


def test_percentages_read_as_probabilities(tmp_path):
    """A row summing to 100 is read as percentages, one summing to 1 as probabilities:
    both give the same forecast, and a certain right forecast scores Brier 0."""
    path = tmp_path / "s.csv"
    path.write_text("name,war,de-escalated,frozen crisis,militarized_clash,"
                    "great_power_confrontation\nA,50,25,25,0,0\nB,0.5,0.25,0.25,0,0\n"
                    "C,1,0,0,0,0\n", encoding="utf-8")
    sheet = read_sheet(path)
    assert np.allclose(sheet.p[0], [0.25, 0.25, 0, 0.5, 0]) and np.allclose(sheet.p[0],
                                                                          sheet.p[1])
    scores = score(sheet, np.full(5, 0.2), observed=3)
    assert scores.brier[2] == 0 and scores.brier[0] == pytest.approx(0.25 ** 2 * 2 + 0.25)


def test_columns_may_use_the_scenarios_outcome_ids(tmp_path):
    """A sheet headed with the ids a scenario's outcomes use (deescalated, frozen) reads the
    same as one headed with the sheet's own ids, whatever the column order."""
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    ours.write_text(f"{HEADER}\nA,0.1,0.4,0.3,0.15,0.05\n", encoding="utf-8")
    theirs.write_text("name,frozen,deescalated,militarized_clash,war,great_power_confrontation"
                      "\nA,0.4,0.1,0.3,0.15,0.05\n", encoding="utf-8")
    assert np.array_equal(read_sheet(ours).p, read_sheet(theirs).p)


BAD_SHEETS = {
    # columns: one misspelt, one missing
    "cols.csv": ("name,de_escalated,frozen_crisis,militarized_clash,warr\nA,0.2,0.2,0.2,0.4\n",
                 ["cols.csv:1: warr: not an outcome class", "did you mean 'war'?",
                  "cols.csv:1: missing outcome columns: war, great_power_confrontation"]),
    "rows.csv": (f"{HEADER}\nA,0.2,0.2,0.2,0.2,0.3\nB,x,0.2,0.2,0.2,0.2\nA,0.2,0.2,0.2,0.2,0.2\n"
                 ",0.2,0.2,0.2,0.2,0.2\nE,0.2,0.2\nF,-0.1,0.3,0.3,0.3,0.2\n",
                 ["rows.csv:2: the probabilities sum to 1.1",
                  "rows.csv:3: de_escalated: expected a number, got 'x'",
                  "rows.csv:4: name: 'A' is also on line 2",
                  "rows.csv:5: name: empty",
                  "rows.csv:6: 3 cells; the header has 6",
                  "rows.csv:7: de_escalated: must be a probability"]),
    "empty.csv": ("\n", ["empty.csv: empty; expected a header"]),
}


def test_bad_sheets_and_games_are_every_problem_and_nothing_written(tmp_path, capsys):
    """Every problem of every sheet and game file is one FILE:LINE: field: message line;
    the exit status is 2 and no debrief folder is created."""
    game = play(tmp_path / "game.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text(game.read_text(encoding="utf-8").replace("seed: 11", "seed: eleven"),
                      encoding="utf-8")
    args = ["debrief", str(game), str(broken), "--runs", "10", "--out", str(tmp_path / "out")]
    for name, (text, _) in BAD_SHEETS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        args += ["--predictions", str(tmp_path / name)]
    assert main([*args, "--predictions", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    for _, expected in BAD_SHEETS.values():
        for message in expected:
            assert message in err, message
    assert "missing.csv: no such file" in err
    assert re.search(r"broken\.yaml:\d+: seed: ", err)
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_several_games_on_one_page(tmp_path):
    """Two games (one unfinished) get a section each and a summary row each; an unfinished
    game has no outcome, so sheets get distances but no Brier score against it."""
    first = play(tmp_path / "a.yaml")
    second = play(tmp_path / "b.yaml", seed=SEED + 1, until=4)
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"{HEADER}\nA,0.2,0.2,0.2,0.2,0.2\n", encoding="utf-8")
    folder = debrief(first, second, "--predictions", sheet, "--runs", 50,
                     "--out", tmp_path / "out")
    numbers = json.loads((folder / "debrief.json").read_text(encoding="utf-8"))
    a, b = numbers["games"]
    assert (a["finished"], b["finished"], b["day"]) == (True, False, 4)
    assert b["class"]["outcome"] is None and b["predictions"][0]["ensemble_brier"] is None
    assert b["predictions"][0]["students"][0]["brier"] is None
    assert a["predictions"][0]["students"][0]["brier"] is not None
    assert (folder / "states/game-1/day-000.npz").is_file()
    assert (folder / "states/game-2/day-000.npz").is_file()
    html = (folder / "debrief.html").read_text(encoding="utf-8")
    assert 'id="summary"' in html and 'id="game-1"' in html and 'id="game-2"' in html
    assert "unfinished (day 4)" in html and "not finished" in html
    assert html.count("<h4>1. How do you feel?</h4>") == 2
