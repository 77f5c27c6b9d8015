"""``escsim debrief GAME_FILE...``: a class's game placed among the runs it could have been.

For each game the page shows the baseline ensemble (``--runs`` runs of the
scenario from day 0 with the game's seed and horizon, the instructor's
injects forced as world events) with the class's path drawn over its fan
chart; where the class's outcome and peak rung fall in it; and, for each
decision a player made, ``--runs`` continuations of the game's run from the
day before, with the players' move forced and with each of the moves the
model found likeliest there (docs/debrief.md). Every number comes from the
ensemble engine of ``escsim run`` through :func:`run_ensemble` and
:func:`~sim.results.folders.summary`, so it equals the ``summary.json`` of
the plain ``escsim run ... --from ... --force ...`` command printed beside it
(run from the debrief folder, where the state files are).
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.classroom import debrief_page as page
from sim.classroom.game import BY_INJECT, Decision, Game, scenario_ref
from sim.classroom.predictions import Sheet, read_sheets
from sim.errors import InputError
from sim.inputs import catalogue as cat
from sim.inputs.forced import forced_texts
from sim.limits import DEFAULT_KEEP
from sim.model import state as saved
from sim.model.outcomes import OUTCOMES
from sim.results import folders

ALTERNATIVES = 3
"""Moves the model found likeliest, besides the players' own, continued from each decision."""


@dataclass
class Move:
    """One set of continuations from a decision: the move forced on its day, and its numbers."""

    action: str | None
    target: str | None
    probability: float  # under the model's rule at that state
    players: bool  # the players' own move
    forced: dict
    command: str = ""
    numbers: dict = field(default_factory=dict)  # summary.json's numbers


@dataclass
class Choice:
    """A player's decision and its continuations."""

    decision: Decision
    state_file: str  # relative to the debrief folder
    moves: list[Move]


@dataclass
class Debriefed:
    """One game's debrief: the game, its baseline ensemble and its decisions' continuations."""

    number: int  # the game's place on the page, from 1
    path: Path
    game: Game
    injects: dict
    choices: list[Choice]
    index: list[float]  # the class's escalation index, day 0 to the game's day
    tops: list[int]  # the class's highest state-pair rung each day
    outcome: str | None  # None until the game is finished
    baseline_command: str = ""
    baseline: dict = field(default_factory=dict)
    peaks: np.ndarray | None = None  # baseline runs per peak rung
    manifest: dict = field(default_factory=dict)
    chart: Path | None = None

    @property
    def peak(self) -> int:
        """The class's peak rung."""
        return max(self.tops)


def main(args) -> int:
    """Write OUT/debrief/<id>/ for the games of ``args``; print ``debrief: PATH``."""
    from sim.ensemble.backends import default_workers, make_backend
    from sim.ensemble.montecarlo import check_resources
    from sim.ensemble.progress import Progress
    problems, games = [], []
    for path in args.games:
        try:
            games.append((path, Game.load(path)))
        except InputError as exc:
            problems += exc.problems
    try:
        sheets = read_sheets(args.predictions)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    base = Path(args.out) / "debrief"
    folders.check_writable(base)
    days = max(g.days for _, g in games)
    actors = max(len(g.scenario.actor_ids) for _, g in games)
    check_resources(args.runs, days, actors, args.out, workers=1, folders=len(games))
    final = base / folders.new_folder_name(base, games[0][1].seed)
    plans = [plan(k, path, game, several=len(games) > 1)
             for k, (path, game) in enumerate(games, start=1)]
    total = args.runs * sum(1 + sum(len(c.moves) for c in p.choices) for p in plans)
    workers = min(args.workers or default_workers(), -(-args.runs // 100))
    backend = make_backend("local", workers, None)
    progress = Progress(total, quiet=args.quiet)
    try:
        with folders.staging(final) as tmp:
            for p in plans:
                run(p, tmp, args.runs, backend, progress)
            write(plans, sheets, tmp, args.runs)
    except BaseException:
        progress.close()
        backend.close(abort=True)
        raise
    progress.close()
    backend.close()
    print(f"debrief: {final / 'debrief.html'}")
    # the command behind every number, as commands.txt holds them with their labels
    commands = (final / "commands.txt").read_text(encoding="utf-8").splitlines()
    print(f"commands: {final / 'commands.txt'} (run them in {final}; each one's "
          "summary.json holds the numbers of one table row)")
    for line in commands:
        if line and not line.startswith("#"):
            print(f"  {line}")
    return 0


def plan(number: int, path: Path, game: Game, several: bool) -> Debriefed:
    """What to simulate for ``game``: its injects, and each decision's state and moves."""
    model = game.replay()
    choices = []
    for d in game.human_decisions():
        before = game.replay(d.day - 1)
        agent = before.agents_by_index[before.actor_index[d.actor]]
        options = [o for o in agent.options(0) if o["feasible"]]
        mine = (d.action, d.target)
        p_mine = sum(o["probability"] for o in options if (o["action"], o["target"]) == mine)
        others = sorted((o for o in options if (o["action"], o["target"]) != mine),
                        key=lambda o: -o["probability"])[:ALTERNATIVES]
        stem = f"game-{number}/" if several else ""
        name = f"states/{stem}day-{d.day - 1:03d}.npz"
        moves = [Move(d.action, d.target, p_mine, True, _forced(game, d, mine))]
        moves += [Move(o["action"], o["target"], o["probability"], False,
                       _forced(game, d, (o["action"], o["target"]))) for o in others]
        choices.append(Choice(d, name, moves))
    summary = model.summary()
    index = [float(model.on_day(t)[0][0, model.scheme]) for t in range(model.day + 1)]
    return Debriefed(number, path, game, _injects(game), choices, index,
                     [int(t) for t in model.tops()[0]],
                     OUTCOMES[int(summary["outcome"][0])] if game.finished else None)



def _injects(game: Game) -> dict:
    """The instructor's injects, forced in the baseline as world events."""
    return {(d.day, d.actor): (d.action, d.target) for d in game.decisions if d.by == BY_INJECT}


def _forced(game: Game, decision: Decision, move: tuple) -> dict:
    """The moves forced in continuations of ``decision`` with ``move`` as the player's.

    The other decisions of its day (other players, holds, injects) stand, as
    do injects of later days; every later move follows the model's rule.
    """
    forced = {(d.day, d.actor): (d.action, d.target) for d in game.decisions
              if (d.day == decision.day and d.actor != decision.actor)
              or (d.by == BY_INJECT and d.day > decision.day)}
    forced[(decision.day, decision.actor)] = move
    return forced


def _command(words: list[str], forced: dict) -> str:
    for text in forced_texts(forced):
        words += ["--force", text]
    return shlex.join(words)


def run(d: Debriefed, folder: Path, runs: int, backend, progress):
    """Simulate ``d``'s baseline and every decision's continuations into ``folder``."""
    from sim.ensemble.montecarlo import run_ensemble
    from sim.results.plots import save
    from sim.results.resultset import ResultSet
    game = d.game
    scenario = game.scenario
    where = scenario_ref(scenario.path, folder / "debrief.html")
    head = ["escsim", "run", where, "--seed", str(game.seed), "--days", str(game.days)]
    options = {"runs": runs, "seed": game.seed, "days": game.days, "backend": backend,
               "progress": progress}
    ensemble = run_ensemble(scenario, forced=d.injects or None, keep=DEFAULT_KEEP, **options)
    d.baseline_command = _command([*head, "--runs", str(runs)], d.injects)
    d.baseline = folders.summary(ensemble)
    d.manifest = folders.manifest(ensemble, ["escsim", *sys.argv[1:]])
    d.peaks = _peak_counts(ensemble.aggregate.paths)
    rs = ResultSet.from_ensemble(ensemble, d.baseline_command)
    (folder / "charts").mkdir(exist_ok=True)
    d.chart = save(page.class_over_fan(rs, d), folder / "charts",
                   f"fan-game-{d.number}")[0]
    for choice in d.choices:
        path = folder / choice.state_file
        if not path.exists():  # two players deciding on one day share a state
            path.parent.mkdir(parents=True, exist_ok=True)
            saved.save(path, game.state(choice.decision.day - 1), scenario)
        origin = saved.load(path, scenario, runs=[game.run])  # as `escsim run --from` reads it
        origin = origin.select([origin.position(game.run)])
        for move in choice.moves:
            ensemble = run_ensemble(scenario, origin=origin, forced=move.forced, **options)
            move.numbers = folders.summary(ensemble)
            move.command = _command([*head, "--from", choice.state_file, "--run",
                                     str(game.run), "--runs", str(runs)], move.forced)


def _peak_counts(paths) -> np.ndarray:
    """Runs per peak rung (0-7): a run's peak is the highest digit of its path."""
    counts = np.zeros(len(cat.load().levels), dtype=np.int64)
    for path, n in paths.items():
        counts[max(int(x) for x in path.split("-"))] += n
    return counts


def write(plans: list[Debriefed], sheets: list[Sheet], folder: Path, runs: int):
    """debrief.html, debrief.json, commands.txt and manifest.json into ``folder``."""
    numbers = {"runs": runs, "games": [page.game_numbers(d, sheets) for d in plans]}
    (folder / "debrief.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    lines = ["# Every number of debrief.html, recomputed by a plain `escsim run` (its",
             "# summary.json). Run these from this folder: the state files are here.", ""]
    for k, d in enumerate(plans, start=1):
        lines += [f"# game {k}: {d.path}", "# baseline ensemble", d.baseline_command]
        for c in d.choices:
            for m in c.moves:
                lines += [f"# day {c.decision.day}, {c.decision.actor}: "
                          f"{page.move_label(d.game, m.action, m.target)}"
                          + (" (the players' move)" if m.players else ""), m.command]
        lines.append("")
    (folder / "commands.txt").write_text("\n".join(lines), encoding="utf-8")
    first = plans[0].manifest
    manifest = {
        "games": [{"file": str(d.path), "sha256": folders.file_sha256(d.path),
                   "baseline": {k: v for k, v in d.manifest.items()
                                if k not in ("versions", "command", "created")},
                   "state_files": {c.state_file: folders.file_sha256(folder / c.state_file)
                                   for c in d.choices}} for d in plans],
        "predictions": [{"file": str(s.path), "sha256": folders.file_sha256(s.path)}
                        for s in sheets],
        "runs": runs,
        **{k: first[k] for k in ("versions", "command", "created")},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                          encoding="utf-8")
    page.write(plans, sheets, numbers, folder / "debrief.html")
