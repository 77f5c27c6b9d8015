"""Class mode: the instructor's page, the teams' pages and the projector view.

``/class?key=INSTRUCTOR_KEY`` (the address ``escsim app`` prints as ``instructor:``)
opens a class game (:mod:`sim.app.rooms`) and runs it: who is still deciding, resolve
now, injects, finish, debrief. ``/class`` without the key is a team's page: the join
code, a free role, then the team's own brief and menu. The team's role and token go
into the address (``?room=&role=&token=``), so a team whose browser dropped rejoins its
role with the code. Every browser tab is its own Solara session: a team's brief and
pending move live only in its own tab's components and are never put in a shared
reactive variable. ``/projector`` shows the shared game only (:meth:`Room.public`).
Pages follow the room by polling its version every :data:`POLL` seconds.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode

import numpy as np
import solara

from sim.app import config, play, rooms, widgets
from sim.app.config import CONFIG
from sim.app.play import Lines, Menu, Problem
from sim.app.rooms import ROOMS, Room, RoomError
from sim.classroom.game import Game
from sim.errors import InputError, printable
from sim.inputs.scenario import load_scenario

POLL = 0.5  # seconds between looks at the room's version


def use_version(room: Room | None) -> int:
    """The room's version, followed from a thread: the component redraws on a change."""
    version, set_version = solara.use_state(room.version if room else -1)

    def follow(cancel):
        while room is not None and not cancel.wait(POLL):
            if room.version != version:
                set_version(room.version)
                return  # the redraw starts a new follower

    solara.use_thread(follow, [room, version], intrusive_cancel=False)
    return version


def use_room(room_id: str | None) -> Room | None:
    """The room of the address, else the current one, followed as the instructor opens games."""
    found, set_found = solara.use_state(ROOMS.get(room_id) or ROOMS.current)

    def follow(cancel):
        while not cancel.wait(POLL):
            now = ROOMS.get(room_id) or ROOMS.current
            if now is not found:
                set_found(now)
                return

    solara.use_thread(follow, [room_id, found], intrusive_cancel=False)
    return found


def query() -> dict[str, str]:
    """The page address's query, one value per key."""
    return {k: v[0] for k, v in parse_qs(solara.use_router().search or "").items()}


# ---------------------------------------------------------------------- shared view -------

@solara.component
def PublicView(room: Room, big: bool = False):
    """The shared game: day, chart, who has committed (not what), the days told.

    Also the Council and levels, the instructor's log, and the outcome at the end.
    """
    use_version(room)
    view = room.public()
    size = "1.4rem" if big else "1rem"
    state = "the game is over" if view.finished else f"choosing day {view.day + 1}"
    with solara.Div(classes=["escsim-day"]):
        solara.Markdown(f"### {printable(view.title, 200)}: day {view.day} of {view.days}, "
                        f"{state}")
    if not view.finished:
        marks = [f"{r}: {'committed' if r in view.committed else 'deciding'}"
                 for r in view.roles if r in view.committed or r in view.deciding]
        solara.Text(f"{len(view.deciding)} of {len(view.committed) + len(view.deciding)} "
                    f"still deciding - " + "; ".join(marks),
                    classes=["escsim-deciding"], style={"font-size": size})
    widgets.LevelsChart(room.game.scenario, np.array(view.levels), view.days,
                        f"{view.scenario}, seed {room.game.seed}")
    if view.outcome:
        Lines([f"=== The crisis after {view.days} days ===", *view.outcome],
              classes=["escsim-ending"])
    Lines(view.story or ["nothing has happened yet"], classes=["escsim-story"])
    Lines(view.situation, classes=["escsim-situation"])
    if view.log:
        Lines(view.log, classes=["escsim-log"])


# ---------------------------------------------------------------------- instructor --------

@solara.component
def OpenGame(on_open):
    """The instructor's form: scenario, roles played by teams, turn days, injects deck."""
    name, set_name = solara.use_state(CONFIG.default_scenario)
    humans, set_humans = solara.use_state([])
    seed, set_seed = solara.use_state(None)
    days, set_days = solara.use_state(None)
    turn_days, set_turn_days = solara.use_state(1)
    deck, set_deck = solara.use_state(())
    problem, set_problem = solara.use_state(None)
    scenario = solara.use_memo(lambda: load_scenario(config.scenario_path(name)), [name])
    spec = scenario.spec

    def upload(f):
        try:
            set_deck(rooms.load_deck_text(f["data"], scenario, f["name"]))
            set_problem(None)
        except RoomError as exc:
            set_problem(str(exc))

    def start():
        try:
            game = Game.new(scenario, humans, seed=spec.montecarlo.seed if seed is None else
                            seed, days=spec.horizon_days if days is None else days,
                            turn_days=turn_days, deck=deck)
            on_open(ROOMS.open(game, play.new_game_path(game, "class")))
        except InputError as exc:
            set_problem("; ".join(p.message for p in exc.problems))

    with solara.Card("Open a class game"):
        widgets.ScenarioPicker(name, lambda n: (set_name(n), set_humans([]), set_deck(())))
        solara.SelectMultiple("roles played by teams", values=humans,
                              all_values=scenario.actor_ids, on_value=set_humans,
                              classes=["escsim-roles"])
        solara.InputInt("seed", value=spec.montecarlo.seed if seed is None else seed,
                        on_value=set_seed)
        solara.InputInt("days", value=spec.horizon_days if days is None else days,
                        on_value=set_days)
        solara.InputInt("days per turn", value=turn_days, on_value=set_turn_days)
        solara.FileDrop("Drop an inject deck here (optional; as escsim play --injects)",
                        lazy=False, on_file=upload)
        if deck:
            solara.Text(f"deck: {len(deck)} card(s)")
        solara.Button("Open the game", on_click=start, color="primary",
                      classes=["escsim-open"])
    Problem(problem)


@solara.component
def Injects(room: Room, on_problem):
    """Drop an inject on the next day: a deck card, or one typed."""
    game = room.game
    actor, set_actor = solara.use_state(game.scenario.actor_ids[0])
    action, set_action = solara.use_state(None)
    target, set_target = solara.use_state("none")
    headline, set_headline = solara.use_state("")
    actions = [a.id for a in game.model.catalogue.actions if not a.requires.vote_only]

    def drop(**card):
        try:
            room.inject(**card)
            on_problem(None)
        except RoomError as exc:
            on_problem(str(exc))

    with solara.Card("Drop an inject on the next day"):
        played = {d.inject for d in game.decisions}
        for card in game.deck:
            if card.id not in played and not card.id.startswith("typed-"):
                solara.Button(f"{card.id}: {printable(card.headline, 80)}",
                              on_click=lambda c=card.id: drop(card_id=c), text=True)
        solara.Select("actor", values=game.scenario.actor_ids, value=actor, on_value=set_actor)
        solara.Select("action", values=actions, value=action, on_value=set_action)
        solara.Select("target", values=["none", *game.scenario.actor_ids], value=target,
                      on_value=set_target)
        solara.InputText("headline", value=headline, on_value=set_headline,
                         continuous_update=True)
        solara.Button("Drop it", disabled=action is None, classes=["escsim-inject"],
                      on_click=lambda: drop(actor=actor, action=action or "",
                                            target=None if target == "none" else target,
                                            headline=headline))


@solara.component
def Instructor():
    """The instructor's screen: the join code, the game, its override, injects, debrief."""
    room, set_room = solara.use_state(ROOMS.current)
    problem, set_problem = solara.use_state(None)
    use_version(room)
    with solara.Div(classes=["escsim-join-code"]):
        solara.Markdown(f"## Class game\nJoin code: **`{CONFIG.join_code}`** (teams open "
                        "/class on this page's address)")
    if room is None:
        OpenGame(set_room)
        return

    def act(fn, *args):
        try:
            fn(*args)
            set_problem(None)
        except RoomError as exc:
            set_problem(str(exc))

    view = room.public()
    solara.Text(f"teams joined: {', '.join(view.joined) or 'none yet'}; free roles: "
                f"{', '.join(room.free_roles()) or 'none'}", classes=["escsim-joined"])
    if not view.finished:
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button("Resolve now (undecided roles hold)", classes=["escsim-hold"],
                          on_click=lambda: act(room.resolve_now, "hold"))
            solara.Button("Resolve now (undecided roles follow the model's rule)",
                          classes=["escsim-rule"], on_click=lambda: act(room.resolve_now,
                                                                        "model"))
            solara.Button("Let the model finish", on_click=lambda: act(room.finish))
    Problem(problem)
    solara.Button("Open another game", text=True, on_click=lambda: set_room(None))
    if not view.finished:
        Injects(room, set_problem)
    else:
        play.Debrief(room.save_to, f"class game {room.id}")
    PublicView(room)


# ---------------------------------------------------------------------- teams -------------

@solara.component
def Join(room: Room, asked: dict, on_joined):
    """The join code and a free role (or, with a token in the address, the team's role)."""
    code, set_code = solara.use_state("")
    role, set_role = solara.use_state(None)
    problem, set_problem = solara.use_state(None)
    use_version(room)
    rejoining = asked.get("room") == room.id and asked.get("role") and asked.get("token")

    def join():
        try:
            if rejoining:
                room.rejoin(config.client(), code, asked["role"], asked["token"])
                on_joined(asked["role"], asked["token"])
            else:
                chosen = role or (room.free_roles() or [""])[0]
                on_joined(chosen, room.claim(config.client(), code, chosen))
        except RoomError as exc:
            set_problem(str(exc))

    title = f"Rejoin as {asked['role']}" if rejoining else "Join the class game"
    with solara.Card(title):
        solara.InputText("join code", value=code, on_value=set_code, continuous_update=True,
                         classes=["escsim-code"])
        if not rejoining:
            free = room.free_roles()
            solara.Select("your role", values=free, value=role if role in free else
                          (free[0] if free else None), on_value=set_role,
                          classes=["escsim-role"])
        solara.Button("Join", on_click=join, color="primary", classes=["escsim-join"])
    Problem(problem)


@solara.component
def Team(room: Room, role: str, token: str):
    """A team's own page: its brief, its menu, its pending move, and the shared game."""
    problem, set_problem = solara.use_state(None)
    use_version(room)
    try:
        mine = room.private(role, token)
    except RoomError as exc:
        return solara.Error(str(exc))

    def act(fn, *args):
        try:
            fn(role, token, *args)
            set_problem(None)
        except RoomError as exc:
            set_problem(str(exc))

    with solara.Div(classes=["escsim-team"]):
        solara.Markdown(f"## You play {role}")
    Lines(mine.brief, classes=["escsim-brief"])
    if mine.given:
        solara.Info(mine.given)
    elif mine.asked and mine.pending is None:
        solara.Markdown(f"**Your moves for day {room.next_day}** (choose one; it stays "
                        "hidden from the other teams):")
        Menu(mine.options, None, lambda k: act(room.commit, k))
    elif mine.asked:
        solara.Success(f"You committed: {mine.options[mine.pending]['text']} (hidden from "
                       "the other teams until the day resolves)", classes=["escsim-committed"])
        solara.Button("Undo", on_click=lambda: act(room.uncommit), classes=["escsim-undo"])
    elif not room.game.finished:
        solara.Info("No move to choose today: your actor follows the turn's rule.")
    Problem(problem)
    PublicView(room)


@solara.component
def Class():
    """``/class``: the instructor's page with the key, otherwise a team's page."""
    asked = query()
    router = solara.use_router()
    joined, set_joined = solara.use_state(None)
    room = use_room(asked.get("room"))
    key = asked.get("key", "")
    if key and secrets.compare_digest(key.encode(), CONFIG.instructor_key.encode()):
        return Instructor()
    if room is None:
        return solara.Info("No class game is open yet: this page shows it when the instructor "
                           "opens one.")
    if joined is None or joined[0] is not room:
        def on_joined(role, token):
            set_joined((room, role, token))
            router.push("/class?" + urlencode({"room": room.id, "role": role,
                                                "token": token}))
        return Join(room, asked, on_joined)
    return Team(room, joined[1], joined[2])


@solara.component
def Projector():
    """``/projector``: the class game for the room's screen, nothing private."""
    room = use_room(query().get("room"))
    if room is None:
        return solara.Info("No class game is open yet.")
    PublicView(room, big=True)

