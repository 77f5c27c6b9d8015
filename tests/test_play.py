"""escsim play: a game in a real terminal, hot seat, scripted input, save and resume."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pexpect
import pytest
import yaml

from sim.classroom.game import Game
from sim.cli import main
from sim.inputs.library import resolve
from sim.inputs.scenario import load_scenario
from sim.model.model import EscalationModel

ESCSIM = [sys.executable, "-m", "sim"]
BASELINE = "caribbean-2025"


def play(monkeypatch, capsys, script: str, *args: str) -> tuple[int, str, str]:
    """Run `escsim play ARGS` in this process with ``script`` as its (non-terminal) stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    status = main(["play", *args])
    out, err = capsys.readouterr()
    return status, out, err


def spawn(*args: str, cwd: Path) -> pexpect.spawn:
    """`escsim play ARGS` in a real pseudo-terminal."""
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    return pexpect.spawn(ESCSIM[0], [*ESCSIM[1:], "play", *args], cwd=str(cwd), env=env,
                         encoding="utf-8", timeout=60, dimensions=(50, 120))


def choose(child: pexpect.spawn, role: str, day: int, label: str = "hold (do nothing)"):
    """At ``role``'s prompt for ``day``, pick the menu entry whose move is ``label``."""
    child.expect(f"{role} day {day}> ")
    number = re.search(rf"(\d+)  {re.escape(label)}", child.before)
    assert number, f"no '{label}' in the menu of {role} on day {day}"
    child.sendline(number.group(1))


def test_a_game_as_venezuela_in_a_real_terminal_saves_resumes_and_finishes(tmp_path):
    """Five days played at a real pseudo-terminal, saved with s, quit; resumed from the file,
    the game says where it stands and f lets the model finish it to the horizon."""
    game_file = tmp_path / "class.yaml"
    child = spawn(BASELINE, "--as", "VEN", "--days", "12", "--seed", "5", "--save",
                  str(game_file), cwd=tmp_path)
    for day in range(1, 6):
        choose(child, "VEN", day, "criticize or denounce -> USA" if day == 2 else
               "hold (do nothing)")
        child.expect(f"day {day}: Enter resolves the day> ")
        child.sendline("")
    child.expect("VEN day 6> ")
    child.sendline("s")
    child.expect(r"saved: .*class\.yaml \(end of day 5")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = yaml.safe_load(game_file.read_text())
    assert saved["day"] == 5 and not saved["finished"]
    assert [(d["day"], d["action"]) for d in saved["decisions"]] == [
        (1, None), (2, "criticize_or_denounce"), (3, None), (4, None), (5, None)]

    child = spawn("--resume", str(game_file), cwd=tmp_path)
    child.expect("Resumed at the end of day 5")
    child.expect("VEN day 6> ")
    child.sendline("f")
    child.expect("The crisis after 12 days")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    done = Game.load(game_file)
    assert done.finished and done.day == 12
    assert len(done.human_decisions()) == 5  # after f, every actor moved by the rule


def test_hot_seat_hides_each_roles_brief_and_choice_from_the_other(tmp_path):
    """With --as USA --as RUS at a terminal, each role is asked in that order after a
    cleared screen and a hand-over; the second role's screen shows neither the first role's
    brief nor its choice, and both choices are recorded for the day."""
    game_file = tmp_path / "hot.yaml"
    child = spawn(BASELINE, "--as", "USA", "--as", "RUS", "--days", "3", "--save",
                  str(game_file), cwd=tmp_path)
    for day in (1, 2):
        child.expect("Pass the keyboard to USA's team")
        child.sendline("")
        choose(child, "USA", day, "impose embargo, boycott or sanctions -> VEN" if day == 1 else
               "hold (do nothing)")
        child.expect("USA has chosen")
        child.expect("Pass the keyboard to RUS's team")
        child.sendline("")
        child.expect(f"RUS day {day}> ")
        rus_screen = child.before.split("\x1b[2J")[-1]
        assert "Your brief (RUS" in rus_screen
        assert "Your brief (USA" not in rus_screen and "sanctions -> VEN" not in rus_screen.split(
            "Your moves")[0]
        number = re.search(r"(\d+)  hold \(do nothing\)", rus_screen).group(1)
        child.sendline(number)
        child.expect(f"day {day}: Enter resolves the day> ")
        child.sendline("")
    child.expect("Pass the keyboard to USA's team")
    child.sendline("")
    child.expect("USA day 3> ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    decisions = yaml.safe_load(game_file.read_text())["decisions"]
    assert [(d["day"], d["actor"], d["action"]) for d in decisions] == [
        (1, "USA", "impose_sanctions"), (1, "RUS", None), (2, "USA", None), (2, "RUS", None)]


def test_scripted_input_reads_one_command_per_line_and_saves_at_the_end(tmp_path):
    """The contract scripts rely on: without a terminal, `escsim play ... --save FILE` reads
    one command per line, echoes each after its prompt, and at end of input saves the game
    to FILE and exits 0."""
    game_file = tmp_path / "scripted.yaml"
    proc = subprocess.run([*ESCSIM, "play", BASELINE, "--as", "VEN", "--seed", "9", "--save",
                           str(game_file)], input="1\n\n1\n\n", capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "VEN day 1> 1" in proc.stdout and "VEN day 2> 1" in proc.stdout
    assert "end of input" in proc.stdout and f"saved: {game_file}" in proc.stdout
    game = Game.load(game_file)
    assert game.day == 2 and [d.action for d in game.human_decisions()] == [None, None]


def test_undo_takes_back_a_choice_before_the_day_resolves(monkeypatch, capsys, tmp_path):
    """The command u after a choice asks again; the day resolves with the second choice only."""
    game_file = tmp_path / "undo.yaml"
    status, out, _ = play(monkeypatch, capsys, "1\nu\n2\n\n", BASELINE, "--as", "VEN",
                          "--save", str(game_file))
    assert status == 0 and "undone: VEN chooses again" in out
    game = Game.load(game_file)
    (decision,) = game.human_decisions()
    assert decision.day == 1 and decision.action is not None  # entry 2 is a move, 1 is hold


def test_a_saved_game_replays_bit_for_bit_and_equals_the_ensembles_run(monkeypatch, capsys,
                                                                       tmp_path):
    """Resume identity: the game rebuilt from its file has exactly the world the live game
    had. And a game in which the players left every move to the model is run K of `escsim
    run` with the same seed: same outcome, peak levels and casualties as that run."""
    game_file = tmp_path / "g.yaml"
    play(monkeypatch, capsys, "1\n\n", BASELINE, "--as", "VEN", "--seed", "11", "--run", "4",
         "--days", "10", "--save", str(game_file))
    game = Game.load(game_file)
    live = game.model  # replayed once
    game.finish()
    again = Game(game.scenario, game.humans, game.seed, game.run, game.days,
                 decisions=game.decisions, day=game.day).replay()
    for name, a, b in zip(live.world._fields, game.model.world, again.world, strict=True):
        assert np.array_equal(a, b), name

    scenario = load_scenario(resolve(BASELINE))
    untouched = Game.new(scenario, ["VEN"], seed=11, run=4, days=10)
    untouched.finish()
    ensemble = EscalationModel(scenario, runs=np.arange(6), seed=11, days=10)
    summary = ensemble.run()
    mine = untouched.model.summary()
    assert summary["outcome"][4] == mine["outcome"][0]
    assert np.array_equal(summary["peak"][4], mine["peak"][0])
    assert summary["casualties"][4] == mine["casualties"][0]


def test_injects_play_on_their_day_or_from_the_prompt_and_enter_the_game_file(
        monkeypatch, capsys, tmp_path):
    """A deck card with a day plays by itself that day; one in hand plays with `i N`. Both
    become moves of their actor, told to the players, and are kept in the game file."""
    deck = tmp_path / "deck.yaml"
    deck.write_text(
        "injects:\n"
        "  - id: flotilla\n    headline: A Russian naval group sails for La Guaira\n"
        "    day: 2\n    actor: RUS\n    action: deploy_naval_force\n    target: USA\n"
        "  - id: talks\n    headline: Washington proposes talks\n"
        "    actor: USA\n    action: engage_in_negotiation\n    target: VEN\n")
    game_file = tmp_path / "inj.yaml"
    status, out, _ = play(monkeypatch, capsys, "1\n\ni\ni 2\n1\n\n1\n\n", BASELINE, "--as",
                          "VEN", "--injects", str(deck), "--days", "4", "--save",
                          str(game_file))
    assert status == 0
    assert "INJECT: A Russian naval group sails for La Guaira" in out
    assert "INJECT for day 2: Washington proposes talks" in out
    game = Game.load(game_file)
    given = {(d.day, d.actor): (d.action, d.by) for d in game.decisions}
    assert given[(2, "RUS")] == ("deploy_naval_force", "inject")
    assert given[(2, "USA")] == ("engage_in_negotiation", "inject")
    assert game.model.history[1].action[0, game.model.actor_index["RUS"]] == \
        game.model.catalogue.index["deploy_naval_force"]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda t: t.replace("version: 1", "version: 7"), "version: game format version 7"),
    (lambda t: t.replace("- VEN", "- VNE"), "humans[0]: unknown actor 'VNE' (did you mean 'VEN'?)"),
    (lambda t: t.replace("turn_days: 1", "turn_days: zero"), "turn_days:"),
    (lambda t: t.replace("scenario_sha256: ", "scenario_sha256: 0"), "scenario_sha256:"),
])
def test_bad_game_files_get_one_located_line_and_exit_2(monkeypatch, capsys, tmp_path, edit,
                                                        expected):
    """A damaged game file is refused with its file, line and field, exit 2, and the file is
    left as it was."""
    game_file = tmp_path / "bad.yaml"
    play(monkeypatch, capsys, "1\n\n", BASELINE, "--as", "VEN", "--save", str(game_file))
    text = edit(game_file.read_text())
    game_file.write_text(text)
    status, out, err = play(monkeypatch, capsys, "", "--resume", str(game_file))
    assert status == 2 and out == ""
    assert re.search(rf"bad\.yaml:\d+: {re.escape(expected)}", err), err
    assert game_file.read_text() == text


def test_a_changed_scenario_is_refused_by_its_hash(monkeypatch, capsys, tmp_path):
    """A game replays only on the scenario it was played on: edit the scenario and the game
    file's scenario_sha256 line says so."""
    base = resolve(BASELINE)
    own = tmp_path / "mine.yaml"
    own.write_text(f"extends: {base}\ntitle: my variant\n")
    game_file = tmp_path / "g.yaml"
    play(monkeypatch, capsys, "1\n\n", str(own), "--as", "VEN", "--save", str(game_file))
    assert yaml.safe_load(game_file.read_text())["scenario"] == "mine.yaml"
    own.write_text(f"extends: {base}\ntitle: my variant, edited\n")
    status, _, err = play(monkeypatch, capsys, "", "--resume", str(game_file))
    assert status == 2 and "scenario_sha256: the scenario" in err and "has changed" in err


@pytest.mark.parametrize(("args", "expected"), [
    (["--as", "VNE"], "--as: unknown actor 'VNE'"),
    ([], "--as: name the actor you play"),
    (["--as", "VEN", "--save", "{existing}"], "exists; continue it with --resume"),
    (["--as", "VEN", "--injects", "{deck}"], "deck.yaml:3: injects[0].action: unknown action"),
])
def test_bad_play_options_are_refused_before_any_play(monkeypatch, capsys, tmp_path, args,
                                                      expected):
    """Unknown roles (with a hint), a missing role, a game file that would be overwritten and a
    bad inject deck each get one clear line and exit 2; nothing is written."""
    existing = tmp_path / "old.yaml"
    existing.write_text("keep me\n")
    deck = tmp_path / "deck.yaml"
    deck.write_text("injects:\n  - {id: a, headline: x,\n     action: deploy_navy, actor: RUS}\n")
    args = [a.format(existing=existing, deck=deck) for a in args]
    status, out, err = play(monkeypatch, capsys, "1\n", BASELINE, *args)
    assert status == 2 and expected in err, err
    assert existing.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.yaml", "old.yaml"]


def test_resume_refuses_settings_of_a_new_game(monkeypatch, capsys, tmp_path):
    """--resume continues a game with its own settings: --as or --seed beside it is an error."""
    game_file = tmp_path / "g.yaml"
    play(monkeypatch, capsys, "1\n\n", BASELINE, "--as", "VEN", "--save", str(game_file))
    status, _, err = play(monkeypatch, capsys, "", "--resume", str(game_file), "--as", "USA",
                          "--seed", "3")
    assert status == 2 and "drop --seed, --as" in err
