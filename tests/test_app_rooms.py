"""Class games on the server (sim.app.rooms), without a browser: joining with the code,
guessing refused and rate-limited, roles claimed and rejoined with the team token, commits,
the day resolving, the instructor's override and injects, the public view keeping private
things private, and a room's game being the terminal's game with the same decisions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.app import config, rooms
from sim.app.rooms import Room, RoomError
from sim.classroom.game import BY_HOLD, BY_INJECT, Game, InjectRecord
from sim.classroom.play import menu
from sim.inputs.library import resolve
from sim.inputs.scenario import load_scenario

CODE = "ACDEFG"


class Clock:
    """A clock the test moves by hand (the limiter's window without waiting)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(resolve("caribbean-2025"))


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(config.CONFIG, "join_code", CODE)
    monkeypatch.setattr(config, "ATTEMPTS", config.Attempts(clock=clock))
    return clock


@pytest.fixture
def room(scenario, clock, tmp_path):
    deck = (InjectRecord(id="talks", headline="Washington proposes talks", actor="USA",
                         action="engage_in_negotiation", target="VEN"),)
    return Room(Game.new(scenario, ["VEN", "USA"], seed=5, days=8, deck=deck),
                save_to=tmp_path / "games" / "class.yaml")


def hold(room: Room, role: str) -> int:
    """The place of 'hold' in ``role``'s menu."""
    return next(k for k, o in enumerate(menu(room.game, role)) if o["action"] is None)


def hostile(room: Room, role: str) -> int:
    """The place of the menu's highest-rung move (a move the rule rarely draws)."""
    options = menu(room.game, role)
    return max(range(len(options)), key=lambda k: options[k]["rung"])


def test_teams_join_with_the_code_and_claim_free_roles_only(room):
    """The right code gives a team token for a free role; a role taken or unknown is refused
    and says which roles are free."""
    assert room.free_roles() == ["VEN", "USA"]
    token = room.claim("phone-1", CODE.lower(), "VEN")  # typed in lower case: still right
    assert len(token) >= 16
    assert room.free_roles() == ["USA"]
    with pytest.raises(RoomError, match="VEN is taken by another team.*USA"):
        room.claim("phone-2", CODE, "VEN")
    with pytest.raises(RoomError, match="not a role of this game"):
        room.claim("phone-2", CODE, "RUS")


def test_wrong_codes_are_refused_then_rate_limited_per_client(room, clock):
    """A wrong code is refused; after WRONG_PER_CLIENT wrong ones even the right code is
    refused for that client (not for another) until the window has passed."""
    for _ in range(config.WRONG_PER_CLIENT):
        with pytest.raises(RoomError, match="wrong join code"):
            room.claim("guesser", "XXXXXX", "VEN")
    with pytest.raises(RoomError, match=r"too many wrong codes: try again in \d+ s"):
        room.claim("guesser", CODE, "VEN")
    assert room.free_roles() == ["VEN", "USA"]
    room.claim("honest", CODE, "USA")
    clock.now += config.WINDOW + 1
    room.claim("guesser", CODE, "VEN")
    assert room.free_roles() == []


def test_a_team_rejoins_its_role_with_the_code_and_its_token_only(room):
    """After a dropped connection the team's token (with the code) gives its role back; a
    wrong token or another role's token does not, and the code is still checked."""
    ven = room.claim("a", CODE, "VEN")
    usa = room.claim("b", CODE, "USA")
    room.rejoin("a-again", CODE, "VEN", ven)
    with pytest.raises(RoomError, match="not VEN's team"):
        room.rejoin("b", CODE, "VEN", usa)
    with pytest.raises(RoomError, match="not VEN's team"):
        room.rejoin("c", CODE, "VEN", "made-up")
    with pytest.raises(RoomError, match="wrong join code"):
        room.rejoin("a", "WRONG1", "VEN", ven)
    with pytest.raises(RoomError, match="not VEN's team"):
        room.private("VEN", usa)


def test_the_day_resolves_when_every_role_has_committed_and_undo_works_before(room, tmp_path):
    """Commits are counted (who, not what); an undo reopens the choice; the last commit
    resolves the day and the game is saved to its file."""
    ven = room.claim("a", CODE, "VEN")
    usa = room.claim("b", CODE, "USA")
    assert room.deciding() == ["VEN", "USA"]
    assert room.commit("VEN", ven, hold(room, "VEN")) is False
    assert room.public().committed == ["VEN"] and room.deciding() == ["USA"]
    room.uncommit("VEN", ven)
    assert room.deciding() == ["VEN", "USA"]
    with pytest.raises(RoomError, match="nothing to undo"):
        room.uncommit("VEN", ven)
    with pytest.raises(RoomError, match="not USA's team"):
        room.commit("USA", ven, 0)
    room.commit("VEN", ven, hold(room, "VEN"))
    assert room.game.day == 0
    assert room.commit("USA", usa, hold(room, "USA")) is True
    assert room.game.day == 1 and room.deciding() == ["VEN", "USA"]
    saved = Game.load(tmp_path / "games" / "class.yaml")
    assert [(d.day, d.actor, d.action) for d in saved.decisions] == \
        [(1, "VEN", None), (1, "USA", None)]


def test_the_instructor_resolves_now_and_says_what_undecided_roles_did(room, scenario):
    """Resolve now with 'hold': the undecided role holds (recorded as a hold, not as the
    team's choice); with 'model': its move is the rule's, as in a game where no one chose it
    that day."""
    ven = room.claim("a", CODE, "VEN")
    k = hostile(room, "VEN")
    move = (menu(room.game, "VEN")[k]["action"], menu(room.game, "VEN")[k]["target"])
    room.commit("VEN", ven, k)
    assert room.resolve_now("hold") == ["USA"]
    held = room.game.given(1, "USA")
    assert (held.action, held.by) == (None, BY_HOLD)
    assert "USA held (undecided)" in room.log[-1]
    assert room.resolve_now("model") == ["VEN", "USA"]
    assert "VEN, USA moved by the model's rule (undecided)" in room.log[-1]
    assert room.game.given(2, "VEN") is None and room.game.given(2, "USA") is None
    alone = Game.new(scenario, ["VEN", "USA"], seed=5, days=8)
    alone.advance({"VEN": move, "USA": (None, None)})
    alone.advance({})
    assert np.array_equal(alone.model.world.level, room.game.model.world.level)
    assert np.array_equal(alone.model.history[1].action, room.game.model.history[1].action)
    with pytest.raises(RoomError, match="not 'later'"):
        room.resolve_now("later")


def test_injects_from_the_deck_or_typed_give_their_actor_s_move(room):
    """A deck card played for tomorrow takes its role off the deciding list and tells the
    team why; a typed card is checked like a deck file (did you mean); a role that has
    committed must undo before an inject can take its move."""
    ven = room.claim("a", CODE, "VEN")
    usa = room.claim("b", CODE, "USA")
    room.commit("VEN", ven, hold(room, "VEN"))
    with pytest.raises(RoomError, match="must undo"):
        room.inject(actor="VEN", action="engage_in_negotiation", target="USA",
                    headline="Caracas asks for talks")
    room.uncommit("VEN", ven)
    room.inject("talks")
    assert room.private("USA", usa).given == "an inject gives your move today"
    assert room.deciding() == ["VEN"]
    assert room.public().log[-1] == "day 1: INJECT Washington proposes talks"
    room.commit("VEN", ven, hold(room, "VEN"))
    assert room.game.day == 1
    played = room.game.given(1, "USA")
    assert (played.action, played.by, played.inject) == ("engage_in_negotiation", BY_INJECT,
                                                         "talks")
    with pytest.raises(RoomError, match="played already"):
        room.inject("talks")
    with pytest.raises(RoomError, match="unknown action 'engage_in_negotation'.*did you mean"):
        room.inject(actor="RUS", action="engage_in_negotation", target="USA", headline="x")
    with pytest.raises(RoomError, match="cannot target itself"):
        room.inject(actor="RUS", action="engage_in_negotiation", target="RUS", headline="x")
    card = room.inject(actor="RUS", action="deploy_naval_force", target="USA",
                       headline="A Russian naval group sails")
    assert card.id == "typed-1" and room.game.given(2, "RUS").inject == "typed-1"


def test_the_public_view_holds_nothing_private(room):
    """The public view has no brief, menu or pending move, and a team's commit changes it
    only in who has committed: the move itself does not show before the day resolves."""
    fields = {f.name for f in dataclasses.fields(rooms.Public)}
    assert not fields & {"brief", "options", "pending", "tokens"}
    ven = room.claim("a", CODE, "VEN")
    brief = room.private("VEN", ven).brief
    before = dataclasses.asdict(room.public())
    room.commit("VEN", ven, hostile(room, "VEN"))
    after = dataclasses.asdict(room.public())
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"committed", "deciding", "version"}
    text = repr(after)
    assert ven not in text
    assert not any(line.strip() in text for line in brief[1:])


def test_a_room_s_game_is_the_terminal_s_game_with_the_same_decisions(room, scenario):
    """Three days committed in a room give the same world, bit for bit, as a Game advanced
    with the same choices (the one engine), and its saved file replays to it."""
    ven = room.claim("a", CODE, "VEN")
    usa = room.claim("b", CODE, "USA")
    choices = []
    for _ in range(3):
        k_ven, k_usa = hostile(room, "VEN"), hold(room, "USA")
        today = {"VEN": menu(room.game, "VEN")[k_ven], "USA": menu(room.game, "USA")[k_usa]}
        choices.append({r: (o["action"], o["target"]) for r, o in today.items()})
        room.commit("USA", usa, k_usa)
        room.commit("VEN", ven, k_ven)
    assert room.game.day == 3
    terminal = Game.new(scenario, ["VEN", "USA"], seed=5, days=8)
    for day in choices:
        terminal.advance(day)
        terminal.rest_of_turn()
    replayed = Game.load(room.save_to).replay()
    for name, a, b, c in zip(terminal.model.world._fields, room.game.model.world,
                             terminal.model.world, replayed.world, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c), name
    assert any(c["VEN"][0] is not None for c in choices)  # a real move, not only holds


def test_turns_of_several_days_resolve_the_turn_and_registry_keeps_the_latest(scenario,
                                                                             clock):
    """With two days a turn, one commit round resolves two days; the registry finds rooms
    by id and the latest opened is the current one."""
    registry = rooms.Rooms()
    first = registry.open(Game.new(scenario, ["VEN"], seed=2, days=6, turn_days=2))
    second = registry.open(Game.new(scenario, ["VEN"], seed=2, days=6))
    assert registry.current is second and registry.get(first.id) is first
    assert registry.get("nope") is None
    ven = first.claim("a", CODE, "VEN")
    first.commit("VEN", ven, hold(first, "VEN"))
    assert first.game.day == 2
