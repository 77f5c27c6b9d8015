"""Class games: the server-side state of a game played by teams from their own browsers.

A :class:`Room` holds one :class:`sim.classroom.game.Game` (the one engine of
``escsim play``) and who plays which role. Teams join with the page's join code
(checked and rate-limited by :func:`sim.app.config.check_code`), claim a free role
and get a team token; the token lets a team whose browser dropped rejoin its role.
A day resolves when every role asked that day has committed its move, or when the
instructor resolves it now (undecided roles hold, or move by the model's rule).

What a room shows is split in two: :meth:`Room.public` (the projector and every
browser: days told, levels, Council, who has committed) and :meth:`Room.private`
(one team's brief, menu and pending move, given only for that team's token).
Pure Python and thread-safe (each browser tab calls in from its own thread);
unit-tested without a browser.
"""

from __future__ import annotations

import io
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.app import config
from sim.classroom import game as games
from sim.classroom.game import BY_HOLD, BY_INJECT, Decision, Game, InjectRecord
from sim.classroom.play import (
    Console,
    Session,
    brief_lines,
    council_lines,
    hint,
    levels_table,
    menu,
    move_text,
    threat_lines,
)
from sim.errors import InputError, printable
from sim.inputs import yamlio
from sim.model.story import outcome_lines

UNDECIDED = ("model", "hold")
"""What the instructor's "resolve now" does with undecided roles: the model's rule, or hold."""
RECENT_DAYS = 3
"""Days told on a screen (at least a turn), as ``escsim play`` tells them."""


class RoomError(Exception):
    """A request a room refuses (wrong code, role taken, wrong token, move not open)."""


# ---------------------------------------------------------------------- text --------------

def screen(game: Game, what: str, *args) -> list[str]:
    """The lines ``escsim play``'s session writes for ``what`` (a :class:`Session` method).

    The page tells a game in the terminal's own words.
    """
    out = io.StringIO()
    getattr(Session(game, Console(io.StringIO(), out), None), what)(*args)
    return out.getvalue().splitlines()


def told(game: Game, days: int = RECENT_DAYS) -> list[str]:
    """The last ``days`` days (at least a turn), public, as the terminal tells them."""
    if not game.day:
        return []
    return screen(game, "days_told", game.day - max(days, game.turn_days) + 1, game.day)


def options_of(game: Game, role: str) -> list[dict]:
    """``role``'s feasible moves for the next day, each with its words, rung and hint."""
    model = game.model
    i = model.actor_index[role]
    rungs = model.catalogue.levels
    return [{"action": o["action"], "target": o["target"], "rung": o["rung"],
             "rung_name": rungs[o["rung"]], "text": move_text(model, o["action"], o["target"]),
             "hint": hint(model, i, o)} for o in menu(game, role)]


def situation(game: Game) -> list[str]:
    """The shared part of a day's screen: levels, Council, threats, casualties."""
    model = game.model
    council = council_lines(model)
    threats = threat_lines(model)
    return [*levels_table(model),
            "Security Council: " + ("; ".join(council) if council else "nothing on its agenda"),
            "Threats that bind: " + ("; ".join(threats) if threats else "none"),
            f"Casualties so far: {int(model.world.casualties[0])}; escalation index "
            f"{float(model.index[0]):.1f}"]


def ending(game: Game) -> list[str]:
    """The outcome of a finished game, as ``escsim play`` closes it."""
    model = game.model
    return outcome_lines(model, model.summary())


def levels(model) -> list:
    """Every day's levels from day 0, (days + 1, actors, actors), as nested lists."""
    return np.stack([model.on_day(d)[1][0] for d in range(model.day + 1)]).tolist()


def check_inject(game: Game, card: InjectRecord) -> None:
    """Refuse a typed inject its actor may not take (the deck file's own checks)."""
    doc = yamlio.Document(Path("inject"), card.model_dump())
    problems = games.deck_problems([card], game.scenario, doc, ())
    if problems:
        raise RoomError("; ".join(f"{p.message}" + (f" ({p.hint})" if p.hint else "")
                                  for p in problems))


# ---------------------------------------------------------------------- a room ------------

@dataclass
class Public:
    """What every browser and the projector may see: nothing private."""

    room: str
    title: str
    scenario: str
    day: int
    days: int
    finished: bool
    roles: list[str]
    joined: list[str]
    committed: list[str]  # who has committed today (not what)
    deciding: list[str]  # who is still deciding today
    story: list[str]
    situation: list[str]
    log: list[str]
    outcome: list[str]
    index: list[float]  # the escalation index, days 1 to today
    levels: list  # every day's levels from day 0: (days + 1, actors, actors)
    version: int


@dataclass
class Private:
    """One team's own view: its brief, its menu and its pending move."""

    role: str
    brief: list[str]
    options: list[dict]
    pending: int | None  # the chosen option's place in ``options``
    asked: bool  # whether the team chooses today
    given: str | None = None  # why not: its move today is given (an inject, the schedule)


@dataclass
class Room:
    """One class game: the game, the teams' tokens, today's commitments."""

    game: Game
    save_to: Path | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(4))
    tokens: dict[str, str] = field(default_factory=dict)
    committed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self):
        self._advance_while_nobody_asked()

    # ------------------------------------------------------------------ teams ---------

    def free_roles(self) -> list[str]:
        """The roles no team has claimed yet."""
        return [r for r in self.game.humans if r not in self.tokens]

    def claim(self, client: str, code: str, role: str) -> str:
        """A team joins with the page's join code and claims ``role``: its team token."""
        self._check_code(client, code)
        with self.lock:
            if role not in self.game.humans:
                raise RoomError(f"'{printable(role, 20)}' is not a role of this game "
                                f"({', '.join(self.game.humans)})")
            if role in self.tokens:
                raise RoomError(f"{role} is taken by another team; choose a free role "
                                f"({', '.join(self.free_roles()) or 'none left'})")
            token = secrets.token_urlsafe(16)
            self.tokens[role] = token
            self._changed()
            return token

    def rejoin(self, client: str, code: str, role: str, token: str) -> None:
        """A team whose browser dropped takes its role back with the code and its token."""
        self._check_code(client, code)
        self.team(role, token)

    def team(self, role: str, token: str) -> None:
        """Refuse a token that is not ``role``'s."""
        known = self.tokens.get(role)
        if known is None or not secrets.compare_digest(known.encode(), str(token).encode()):
            raise RoomError(f"this browser is not {printable(role, 20)}'s team in this game; "
                            "join with the code")

    @staticmethod
    def _check_code(client: str, code: str) -> None:
        refused = config.check_code(client, code)
        if refused:
            raise RoomError(refused)

    # ------------------------------------------------------------------ the day -------

    @property
    def next_day(self) -> int:
        """The day the teams are choosing for."""
        return self.game.day + 1

    def given(self, role: str) -> str | None:
        """Why ``role`` does not choose today (its move is given), or None."""
        game, day = self.game, self.next_day
        if game.finished or not game.turn_starts(day):
            return None
        card = next((c for c in game.due_injects(day) if c.actor == role), None)
        decision = game.given(day, role)
        if card or (decision and decision.by == BY_INJECT):
            return "an inject gives your move today"
        if game.scheduled(day, role):
            return "the scenario's schedule gives your move today"
        return None

    def asked(self) -> list[str]:
        """The roles that choose today."""
        if self.game.finished:
            return []
        due = {c.actor for c in self.game.due_injects(self.next_day)}
        return [r for r in self.game.asked(self.next_day) if r not in due]

    def deciding(self) -> list[str]:
        """The roles asked today that have not committed yet."""
        return [r for r in self.asked() if r not in self.committed]

    def commit(self, role: str, token: str, k: int) -> bool:
        """``role`` commits option ``k`` of its menu; True when that resolved the day."""
        with self.lock:
            self.team(role, token)
            if role not in self.asked():
                raise RoomError(f"{role} has no move to choose today")
            options = menu(self.game, role)
            if not 0 <= k < len(options):
                raise RoomError(f"no move {k + 1}: choose 1 to {len(options)}")
            self.committed[role] = (options[k]["action"], options[k]["target"])
            self._changed()
            if self.deciding():
                return False
            self._resolve()
            return True

    def uncommit(self, role: str, token: str) -> None:
        """``role`` takes its move back (only before the day resolves)."""
        with self.lock:
            self.team(role, token)
            if self.committed.pop(role, None) is None:
                raise RoomError("nothing to undo today (resolved days are final)")
            self._changed()

    def resolve_now(self, undecided: str = "model") -> list[str]:
        """The instructor resolves the day: undecided roles hold or move by the model's rule.

        Returns the undecided roles (the log says what they did).
        """
        if undecided not in UNDECIDED:
            raise RoomError(f"undecided roles {' or '.join(UNDECIDED)}, not {undecided!r}")
        with self.lock:
            if self.game.finished:
                raise RoomError("the game is over")
            late = self.deciding()
            day = self.next_day
            for role in late if undecided == "hold" else ():
                self.game.decisions.append(Decision(day, role, None, None, BY_HOLD))
            if late:
                how = "held" if undecided == "hold" else "moved by the model's rule"
                self.log.append(f"day {day}: the instructor resolved the day; "
                                f"{', '.join(late)} {how} (undecided)")
            else:
                self.log.append(f"day {day}: the instructor resolved the day")
            self._resolve()
            return late

    def finish(self) -> None:
        """The instructor lets the model play every actor to the horizon."""
        with self.lock:
            if not self.game.finished:
                self.log.append(f"day {self.next_day}: the instructor let the model finish "
                                "the game")
                self.committed.clear()
                self.game.finish()
                self._saved()
                self._changed()

    def inject(self, card_id: str | None = None, *, actor: str = "", action: str = "",
               target: str | None = None, headline: str = "") -> InjectRecord:
        """Play a deck card (``card_id``) or a typed one on the next day."""
        with self.lock:
            game, day = self.game, self.next_day
            if game.finished:
                raise RoomError("the game is over")
            if card_id is not None:
                card = next((c for c in game.deck if c.id == card_id), None)
                if card is None:
                    raise RoomError(f"no card '{printable(card_id, 40)}' in the deck")
                if any(d.inject == card.id for d in game.decisions):
                    raise RoomError(f"card {card.id} was played already")
            else:
                used = {c.id for c in game.deck}
                n = next(n for n in range(1, len(used) + 2) if f"typed-{n}" not in used)
                try:
                    card = InjectRecord(id=f"typed-{n}", headline=headline.strip() or
                                        f"{actor} acts", actor=actor, action=action,
                                        target=target or None)
                except ValueError as exc:  # pydantic's: an empty or too long field
                    raise RoomError(f"not an inject: {exc.errors()[0]['msg']}") from None
                check_inject(game, card)
            if card.actor in self.committed:
                raise RoomError(f"{card.actor} has committed its move for day {day}; "
                                "its team must undo it first")
            if game.given(day, card.actor) or game.scheduled(day, card.actor):
                raise RoomError(f"{card.actor} already has a move on day {day}")
            if card_id is None:
                game.deck = (*game.deck, card)
            game.play_inject(card, day)
            self.log.append(f"day {day}: INJECT {printable(card.headline, None)}")
            self._changed()
            if not self.deciding():  # the card gave the last undecided role's move
                self._resolve()
            return card

    def _resolve(self) -> None:
        """Today's commitments resolve the day, then the turn's other days."""
        self.game.advance(dict(self.committed))
        self.committed.clear()
        self.game.rest_of_turn()
        self._advance_while_nobody_asked()
        self._saved()
        self._changed()

    def _advance_while_nobody_asked(self) -> None:
        # a day whose human moves the schedule gives resolves at once, as in the terminal
        while not self.game.finished and not self.asked():
            self.game.advance({})
            self.game.rest_of_turn()

    def _saved(self) -> None:
        # a crashed laptop loses at most the day being chosen
        if self.save_to is not None:
            self.save_to.parent.mkdir(parents=True, exist_ok=True)
            self.game.save(self.save_to)

    def _changed(self) -> None:
        self.version += 1

    # ------------------------------------------------------------------ views ---------

    def public(self) -> Public:
        """The shared game: no brief, no pending move."""
        with self.lock:
            game = self.game
            history = game.model.history
            return Public(
                room=self.id, title=game.scenario.spec.title, scenario=game.scenario.name,
                day=game.day, days=game.days, finished=game.finished, roles=list(game.humans),
                joined=[r for r in game.humans if r in self.tokens],
                committed=[r for r in game.humans if r in self.committed],
                deciding=self.deciding(), story=told(game), situation=situation(game),
                log=list(self.log), outcome=ending(game) if game.finished else [],
                index=[float(rec.index[0]) for rec in history], levels=levels(game.model),
                version=self.version)

    def private(self, role: str, token: str) -> Private:
        """``role``'s own view, for its token only."""
        with self.lock:
            self.team(role, token)
            game = self.game
            asked = role in self.asked()
            options = menu(game, role) if asked else []
            mine = self.committed.get(role)
            pending = next((k for k, o in enumerate(options)
                            if (o["action"], o["target"]) == mine), None)
            return Private(role=role, brief=brief_lines(game, role),
                           options=options_of(game, role) if asked else [], pending=pending,
                           asked=asked, given=self.given(role))


# ---------------------------------------------------------------------- the registry ------

class Rooms:
    """The server's class games by id; the instructor's latest is the current one."""

    def __init__(self):
        self._rooms: dict[str, Room] = {}
        self.current: Room | None = None
        self._lock = threading.Lock()

    def open(self, game: Game, save_to: Path | None = None) -> Room:
        """Open a class game (it becomes the current one)."""
        room = Room(game, save_to)
        with self._lock:
            self._rooms[room.id] = room
            self.current = room
        return room

    def get(self, room_id: str | None) -> Room | None:
        """The room ``room_id``, or None."""
        return self._rooms.get(room_id or "")


ROOMS = Rooms()


def load_deck_text(text: bytes, game_scenario, name: str = "deck.yaml") -> tuple:
    """An uploaded inject deck, checked as ``escsim play --injects`` checks a file."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(text)
        try:
            return games.load_deck(path, game_scenario)
        except InputError as exc:
            raise RoomError("; ".join(str(p) for p in exc.problems)) from None
