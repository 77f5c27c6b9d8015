"""The Play page: one role of a crisis, each day's move chosen in the browser.

The page is ``escsim play`` for one team: the same :class:`~sim.classroom.game.Game`
(the one engine), the same screen in the terminal's own words (recent days, levels,
Council, threats that bind, the private brief) and the same menu of feasible moves
with rung and hint. A choice can be undone until the day resolves; "let the model
finish" plays every actor by its rule to the horizon. Games save to
``CONFIG.outputs/games`` (and download); a saved or uploaded game file resumes. At the
end, the debrief page (``escsim debrief``'s code) is made through the ensemble queue.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import solara
import yaml

from sim.app import config, jobs, rooms, widgets
from sim.app.config import CONFIG
from sim.classroom.game import Game
from sim.errors import InputError, printable
from sim.inputs.scenario import load_scenario

DEBRIEF_RUNS = 200
"""Runs of the debrief's ensemble and of each decision's continuations from the page
(``escsim debrief`` defaults to 1,000; 200 keeps a class's queue short on 2 cores)."""
MAX_UPLOAD = 1_000_000  # bytes of an uploaded game or deck file


def games_dir() -> Path:
    """Where the page saves games."""
    return Path(CONFIG.outputs) / "games"


def new_game_path(game: Game, stem: str) -> Path:
    """A fresh file for a game in :func:`games_dir` (never an existing one)."""
    folder = games_dir()
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{stem}-{game.scenario.name}-seed{game.seed}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    path, n = folder / f"{base}.yaml", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.yaml"
    return path


def saved_games() -> list[str]:
    """The games saved by the page, newest first (names, not paths)."""
    folder = games_dir()
    files = folder.glob("*.yaml") if folder.is_dir() else []
    return [p.name for p in sorted(files, key=lambda p: -p.stat().st_mtime)]


def open_saved(name: str) -> Game:
    """A game saved by the page, by its file name (nothing outside :func:`games_dir`)."""
    if name not in saved_games():
        raise rooms.RoomError(f"no saved game '{printable(name, 60)}'")
    return Game.load(games_dir() / name)


def open_upload(name: str, data: bytes) -> tuple[Game, Path]:
    """An uploaded game file, kept in :func:`games_dir`.

    Its scenario must be one of the page's scenarios, so a file cannot make the page
    read another file of the laptop.
    """
    if len(data) > MAX_UPLOAD:
        raise rooms.RoomError(f"{printable(name, 60)}: larger than {MAX_UPLOAD:,} bytes")
    try:
        named = yaml.safe_load(data).get("scenario")
    except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
        named = None
    if named not in config.scenario_names():
        raise rooms.RoomError(f"{printable(name, 60)}: not a game of one of this page's "
                              "scenarios (escsim scenarios lists them)")
    folder = games_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"uploaded-{dt.datetime.now():%Y%m%d-%H%M%S-%f}.yaml"
    path.write_bytes(data)
    try:
        return Game.load(path), path
    except InputError as exc:
        path.unlink()
        raise rooms.RoomError("; ".join(str(p).replace(str(path), name)
                                        for p in exc.problems)) from None


def debrief(game_file: Path, runs: int = DEBRIEF_RUNS) -> Path:
    """``escsim debrief GAME_FILE --runs RUNS`` into ``CONFIG.outputs``: its page's path.

    Runs as a job of the ensemble queue (one at a time), so the folder it adds is its own.
    """
    from sim.classroom import debrief as kit
    base = Path(CONFIG.outputs) / "debrief"
    before = set(base.iterdir()) if base.is_dir() else set()
    args = argparse.Namespace(games=[Path(game_file)], predictions=[], runs=runs,
                              out=Path(CONFIG.outputs), workers=jobs.MAX_WORKERS, quiet=True)
    kit.main(args)
    made = sorted(set(base.iterdir()) - before)
    return made[-1] / "debrief.html"


# ---------------------------------------------------------------------- components ---------

@solara.component
def Lines(lines: list[str], classes: list | None = None):
    """Lines in the terminal's words, wrapped to the screen (a phone's too)."""
    solara.Preformatted("\n".join(lines), class_=" ".join(["escsim-lines", *(classes or [])]),
                        style_="white-space: pre-wrap; font-size: 0.85rem;")


@solara.component
def Problem(text: str | None):
    """A refusal or error, said plainly (nothing else on the page is lost)."""
    if text:
        solara.Error(text, classes=["escsim-problem"])


@solara.component
def Menu(options: list[dict], chosen: int | None, on_choose):
    """The feasible moves folded by rung, each with its hint; ``chosen`` is highlighted.

    Every rung starts folded and stays as the player leaves it, so a phone shows eight
    lines, not seventy buttons, and no rung is put before the players' eyes more than
    another; holding stays in view.
    """
    def move(k: int, o: dict):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button(f"{k + 1}. {o['text']}", on_click=lambda: on_choose(k),
                          color="primary" if k == chosen else None, outlined=k != chosen,
                          classes=["escsim-move"], style={"text-transform": "none"})
            solara.Text(o["hint"], style={"font-size": "0.85rem"})

    rungs: dict[int, list[int]] = {}
    for k, o in enumerate(options):
        if o["action"] is None:
            move(k, o)
        else:
            rungs.setdefault(o["rung"], []).append(k)
    for rung, members in rungs.items():
        name = options[members[0]]["rung_name"]
        with solara.Div(classes=["escsim-rung"]):
            with solara.Details(f"rung {rung}: {name} ({len(members)} "
                                f"move{'s' if len(members) > 1 else ''})"):
                for k in members:
                    move(k, options[k])


@solara.component
def Debrief(game_file: Path | None, label: str):
    """A button that makes the debrief page through the queue, then shows and offers it."""
    ticket, set_ticket = solara.use_state(None)
    runs, set_runs = solara.use_state(DEBRIEF_RUNS)
    tick, set_tick = solara.use_state(0)

    def follow(cancel):
        while ticket is not None and not ticket.done and not cancel.wait(0.5):
            set_tick(lambda t: t + 1)
        set_tick(lambda t: t + 1)

    solara.use_thread(follow, [ticket], intrusive_cancel=False)
    if game_file is None:
        return
    with solara.Card("Debrief"):
        solara.InputInt("runs per ensemble", value=runs, on_value=set_runs,
                        classes=["escsim-debrief-runs"])
        solara.Button("Make the debrief page", classes=["escsim-debrief"],
                      disabled=ticket is not None and not ticket.done,
                      on_click=lambda: set_ticket(jobs.QUEUE.submit(
                          f"debrief of {label}", debrief, game_file, max(10, min(runs, 1000)))))
        if ticket is None:
            return
        if not ticket.done:
            where = ticket.position
            solara.Info("making the debrief: " + ("running" if where == 0 else
                                                  f"waiting behind {where} job(s)"))
        elif ticket.error is not None:
            solara.Error(f"no debrief: {printable(str(ticket.error), 300)}")
        else:
            html = Path(ticket.result).read_text(encoding="utf-8")
            solara.FileDownload(html.encode(), filename="debrief.html",
                                label="Download the debrief page", mime_type="text/html")
            solara.HTML(tag="iframe", attributes={"srcdoc": html, "title": "debrief"},
                        style="width: 100%; height: 40rem; border: 1px solid #888;",
                        classes=["escsim-debrief-page"])


@solara.component
def Setup(on_game):
    """A new game (scenario, role, seed, days, turn days), or a saved or uploaded one."""
    name, set_name = solara.use_state(CONFIG.default_scenario)
    role, set_role = solara.use_state(None)
    seed, set_seed = solara.use_state(None)
    days, set_days = solara.use_state(None)
    turn_days, set_turn_days = solara.use_state(1)
    between, set_between = solara.use_state("model")
    problem, set_problem = solara.use_state(None)
    saved, set_saved = solara.use_state(None)
    scenario = solara.use_memo(lambda: load_scenario(config.scenario_path(name)), [name])
    spec = scenario.spec

    def start():
        try:
            game = Game.new(scenario, [role or scenario.actor_ids[0]],
                            seed=spec.montecarlo.seed if seed is None else seed,
                            days=spec.horizon_days if days is None else days,
                            turn_days=turn_days, between=between)
            on_game(game, new_game_path(game, "play"))
        except InputError as exc:
            set_problem("; ".join(str(p) for p in exc.problems))

    def resume(opened):
        try:
            on_game(*opened())
        except (InputError, rooms.RoomError) as exc:
            set_problem(str(exc))

    with solara.Card("A new game"):
        widgets.ScenarioPicker(name, lambda n: (set_name(n), set_role(None)))
        solara.Markdown(printable(" ".join(spec.description.split()), 600))
        solara.Select("your role", values=scenario.actor_ids,
                      value=role or scenario.actor_ids[0], on_value=set_role,
                      classes=["escsim-role"])
        solara.InputInt("seed", value=spec.montecarlo.seed if seed is None else seed,
                        on_value=set_seed)
        solara.InputInt("days", value=spec.horizon_days if days is None else days,
                        on_value=set_days, classes=["escsim-days"])
        solara.InputInt("days per turn", value=turn_days, on_value=set_turn_days)
        solara.Select("between turns your actor", values=["model", "hold"], value=between,
                      on_value=set_between)
        solara.Button("Start", on_click=start, color="primary", classes=["escsim-start"])
    with solara.Card("Resume a game"):
        names = saved_games()
        if names:
            solara.Select("saved games", values=names, value=saved, on_value=set_saved)
            solara.Button("Resume", disabled=saved is None, on_click=lambda: resume(
                lambda: (open_saved(saved), games_dir() / saved)))
        solara.FileDrop("Drop a game file here (escsim play --save or this page's Save)",
                        lazy=False, on_file=lambda f: resume(
                            lambda: open_upload(f["name"], f["data"])))
    Problem(problem)


@solara.component
def GameView(game: Game, path: Path, on_close):
    """One team's game: the terminal's screen, the menu, undo, resolve, finish, save."""
    _, set_version = solara.use_state(0)
    chosen, set_chosen = solara.use_state(None)
    saved, set_saved = solara.use_state(None)
    role = game.humans[0]

    def changed():
        if game.finished:  # the finished game is on disk for its debrief
            game.save(path)
        set_chosen(None)
        set_version(lambda v: v + 1)

    def resolve():
        options = rooms.menu(game, role)
        choice = {role: (options[chosen]["action"], options[chosen]["target"])} \
            if chosen is not None else {}
        game.advance(choice)
        game.rest_of_turn()
        changed()

    def finish():
        if chosen is not None:  # today's choice stands, as `f` in the terminal
            resolve()
        game.finish()
        changed()

    def save():
        game.save(path)
        set_saved(f"saved: {path.name} (end of day {game.day})")

    model = game.model
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Button("Save", on_click=save, classes=["escsim-save"])
        if path.exists():
            solara.FileDownload(lambda: path.read_bytes(), filename=path.name,
                                label="Download the game file", mime_type="application/x-yaml")
        solara.Button("New game", on_click=on_close, text=True)
        if saved:
            solara.Text(saved)
    widgets.LevelsChart(game.scenario, np.array(rooms.levels(model)), game.days,
                        f"{game.scenario.name}, seed {game.seed}")
    if game.finished:
        Lines(["The last days:", *rooms.told(game), f"=== The crisis after {game.days} days "
               "===", *rooms.ending(game)], classes=["escsim-ending"])
        Debrief(path, path.stem)
        return
    Lines(rooms.screen(game, "situation", role), classes=["escsim-situation"])
    day = game.day + 1
    if role in game.asked(day) and not any(c.actor == role for c in game.due_injects(day)):
        options = rooms.options_of(game, role)
        solara.Markdown(f"**Your moves for day {day}:**")
        Menu(options, chosen, set_chosen)
        if chosen is not None:
            solara.Success(f"You chose: {options[chosen]['text']}", classes=["escsim-chosen"])
    else:
        solara.Info(f"Day {day}: your move is given by the scenario or an inject, or it is "
                    "not a turn's first day.")
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.Button("Undo", on_click=lambda: set_chosen(None), disabled=chosen is None,
                      classes=["escsim-undo"])
        solara.Button("Resolve the day", on_click=resolve, color="primary",
                      classes=["escsim-resolve"])
        solara.Button("Let the model finish", on_click=finish, classes=["escsim-finish"])


@solara.component
def Play():
    """The Play page: a setup, then the game."""
    opened, set_opened = solara.use_state(None)
    if opened is None:
        solara.Markdown("## Play\nTake a role and choose its move each day, with the same "
                        "information and rules as `escsim play`.")
        Setup(lambda game, path: set_opened((game, path)))
    else:
        game, path = opened
        solara.Markdown(f"## {printable(game.scenario.spec.title, 200)}: you play "
                        f"{game.humans[0]}")
        GameView(game, path, lambda: set_opened(None))
