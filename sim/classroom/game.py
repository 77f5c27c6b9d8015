"""A game: one run of the model in which people choose some actors' moves.

The game is run K of ``escsim run --seed S`` (a batch of one run of the
compiled day) until a player's move differs from what the decision rule
would have drawn. Every move not left to the rule is a :class:`Decision`:
a player's choice, a player's actor holding between turns, an instructor's
inject. Replayed as forced moves, the decisions reproduce the game bit for
bit (a run's random numbers depend only on the seed, the run, the day and
the actor), so a game file holds decisions, not arrays, and any day's
state can be rebuilt and continued with ``escsim run --from``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs import catalogue as cat
from sim.inputs import yamlio
from sim.inputs.scenario import Scenario, check_move, load_scenario
from sim.inputs.schema import Bool, Int, Record, Str, validate
from sim.limits import MAX_HORIZON_DAYS
from sim.model.model import EscalationModel
from sim.model.state import SavedState
from sim.model.story import aims_reached
from sim.version import __version__

FORMAT = "escsim-game"
VERSION = 1
MAX_HUMANS = 8
"""Most roles one game seats (hot-seat play on one screen)."""

BY_HUMAN, BY_HOLD, BY_INJECT = "human", "hold", "inject"


# ---------------------------------------------------------------------- file records ------

class InjectRecord(Record):
    """One card of the instructor's deck: an event that happens on a day."""

    id: Str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    headline: Str = Field(min_length=1, max_length=300)
    actor: Str
    action: Str
    target: Str | None = None
    day: Int | None = Field(None, ge=1, le=MAX_HORIZON_DAYS)
    """The day it is played on by itself; without one the instructor plays it (``i``)."""


class DeckFile(Record):
    """An inject deck file: ``injects:`` and a list of cards."""

    injects: tuple[InjectRecord, ...] = Field(min_length=1)


class DecisionRecord(Record):
    """One move not left to the decision rule."""

    day: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    actor: Str
    action: Str | None
    target: Str | None = None
    by: Literal[BY_HUMAN, BY_HOLD, BY_INJECT]  # type: ignore[valid-type]
    inject: Str | None = None


class GameRecord(Record):
    """A game file."""

    format: Literal[FORMAT]  # type: ignore[valid-type]
    version: Int
    escsim: Str
    scenario: Str
    scenario_sha256: Str = Field(pattern=r"^[0-9a-f]{64}$")
    seed: Int = Field(ge=0, lt=2**63)
    run: Int = Field(ge=0, lt=2**63)
    days: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    turn_days: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    between: Literal["model", "hold"]
    humans: tuple[Str, ...] = Field(min_length=1, max_length=MAX_HUMANS)
    deck: tuple[InjectRecord, ...] = ()
    decisions: tuple[DecisionRecord, ...] = ()
    day: Int = Field(ge=0, le=MAX_HORIZON_DAYS)
    finished: Bool


@dataclass(frozen=True)
class Decision:
    """A move given to the model on ``day``: ``action`` None is a hold."""

    day: int
    actor: str
    action: str | None
    target: str | None
    by: str
    inject: str | None = None


# ---------------------------------------------------------------------- checks ------------

def _move_problems(move, actors: dict, catalogue, doc, where: tuple) -> list[Problem]:
    """Who may take the move's action against whom; a hold (action None) takes no target."""
    problems = check_move(move, actors, catalogue, doc, where)  # for a hold: the actor only
    if move.action is None:
        if move.target is not None:
            problems.append(doc.problem((*where, "target"), "a hold takes no target"))
        return problems
    if move.action not in catalogue.index:
        problems.append(doc.problem((*where, "action"), f"unknown action '{move.action}'",
                                    did_you_mean(move.action, catalogue.index)))
    elif catalogue[move.action].requires.vote_only:
        problems.append(doc.problem((*where, "action"), f"'{move.action}' happens only in a "
                                    "Council vote; it cannot be chosen"))
    return problems


def deck_problems(deck, scenario: Scenario, doc, where: tuple) -> list[Problem]:
    """Every problem of inject cards against ``scenario``, located at ``where`` in ``doc``."""
    catalogue = cat.load()
    problems: list[Problem] = []
    seen: set[str] = set()
    for k, card in enumerate(deck):
        problems += _move_problems(card, scenario.spec.actors, catalogue, doc, (*where, k))
        if card.id in seen:
            problems.append(doc.problem((*where, k, "id"), f"inject id '{card.id}' is used "
                                        "twice"))
        seen.add(card.id)
    return problems


def load_deck(path: Path, scenario: Scenario) -> tuple[InjectRecord, ...]:
    """Read and check an inject deck against ``scenario`` (every problem, located)."""
    doc = yamlio.load(path)
    deck = validate(DeckFile, doc).injects
    problems = deck_problems(deck, scenario, doc, ("injects",))
    if problems:
        raise InputError(problems)
    return deck


# ---------------------------------------------------------------------- the game ----------

class Game:
    """A game's settings and decisions, and the model that plays it."""

    def __init__(self, scenario: Scenario, humans, seed: int, run: int, days: int,
                 turn_days: int = 1, between: str = "model", deck=(), decisions=(),
                 day: int = 0, finished: bool = False):
        self.scenario = scenario
        self.humans = list(humans)
        self.seed, self.run, self.days = int(seed), int(run), int(days)
        self.turn_days, self.between = int(turn_days), between
        self.deck = tuple(deck)
        self.decisions: list[Decision] = list(decisions)
        self.day = int(day)
        self.finished = bool(finished)
        self.news: dict[int, list[str]] = {}
        """Aims reached and governments fallen, by day (filled as days resolve)."""
        self._model: EscalationModel | None = None

    @classmethod
    def new(cls, scenario: Scenario, humans, seed: int | None = None, run: int = 0,
            days: int | None = None, turn_days: int = 1, between: str = "model",
            deck=()) -> Game:
        """A game at day 0; ``humans`` are the actors people play, in the order asked."""
        ids = scenario.actor_ids
        problems = []
        for h in humans:
            if h not in ids:
                problems.append(Problem(Path("--as"), None, "", f"unknown actor '{h}' (the "
                                        f"scenario's actors: {', '.join(ids)})",
                                        did_you_mean(h, ids)))
        if len(set(humans)) != len(humans):
            problems.append(Problem(Path("--as"), None, "", "an actor is named twice"))
        if not humans:
            problems.append(Problem(Path("--as"), None, "", "name at least one actor to play "
                                    f"({', '.join(ids)})"))
        if len(humans) > MAX_HUMANS:
            problems.append(Problem(Path("--as"), None, "", f"at most {MAX_HUMANS} roles"))
        if problems:
            raise InputError(problems)
        spec = scenario.spec
        return cls(scenario, humans, spec.montecarlo.seed if seed is None else seed, run,
                   spec.horizon_days if days is None else days, turn_days, between, deck)

    # ------------------------------------------------------------------ file ----------

    @classmethod
    def load(cls, path: Path | str) -> Game:
        """Read a game file; every problem is reported with its line and field."""
        path = Path(path)
        doc = yamlio.load(path)
        data = doc.data
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError([doc.problem(("format",), f"not an escsim game file (expected "
                                          f"format: {FORMAT})")])
        if data.get("version") != VERSION:
            raise InputError([doc.problem(("version",), f"game format version "
                                          f"{data.get('version')!r}; this escsim reads "
                                          f"version {VERSION}")])
        record = validate(GameRecord, doc)
        scenario = _scenario_of(record.scenario, path, doc)
        if scenario.sha256 != record.scenario_sha256:
            raise InputError([doc.problem(("scenario_sha256",), f"the scenario "
                                          f"{scenario.path} has changed since the game was "
                                          "played; a game replays only on the same scenario "
                                          "(restore that file, or start a new game)")])
        problems = _record_problems(record, scenario, doc)
        if problems:
            raise InputError(problems)
        decisions = [Decision(d.day, d.actor, d.action, d.target, d.by, d.inject)
                     for d in record.decisions]
        return cls(scenario, record.humans, record.seed, record.run, record.days,
                   record.turn_days, record.between, record.deck, decisions, record.day,
                   record.finished)

    def save(self, path: Path | str) -> Path:
        """Write the game file (atomically: a crash leaves the old file whole)."""
        path = Path(path)
        data = {"format": FORMAT, "version": VERSION, "escsim": __version__,
                "scenario": scenario_ref(self.scenario.path, path),
                "scenario_sha256": self.scenario.sha256, "seed": self.seed, "run": self.run,
                "days": self.days, "turn_days": self.turn_days, "between": self.between,
                "humans": list(self.humans),
                "deck": [c.model_dump(exclude_none=True) for c in self.deck],
                # a day's choices count once it resolves (an inject played for it too)
                "decisions": [{k: v for k, v in vars(d).items()
                               if v is not None or k in ("action", "target")}
                              for d in self.decisions if d.day <= self.day],
                "day": self.day, "finished": self.finished}
        text = (f"# An escsim game: `escsim play --resume {path.name}` continues it, "
                f"`escsim debrief {path.name}` debriefs it.\n"
                + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            staging.write_text(text, encoding="utf-8")
            os.replace(staging, path)
        finally:
            staging.unlink(missing_ok=True)
        return path

    # ------------------------------------------------------------------ rules ---------

    def turn_starts(self, day: int) -> bool:
        """Whether players choose on ``day`` (a turn's first day)."""
        return (day - 1) % self.turn_days == 0

    def scheduled(self, day: int, actor: str) -> bool:
        """Whether the scenario's own schedule gives ``actor``'s move on ``day``."""
        return any(ev.day == day and ev.actor == actor for ev in self.scenario.spec.schedule)

    def given(self, day: int, actor: str) -> Decision | None:
        """The decision already made for ``actor`` on ``day``, if any."""
        return next((d for d in self.decisions if d.day == day and d.actor == actor), None)

    def asked(self, day: int) -> list[str]:
        """The roles asked to choose on ``day``, in the order of ``--as``.

        None on the days between turns, and not a role whose move that day
        the scenario's schedule or an inject already gives.
        """
        if not self.turn_starts(day):
            return []
        return [h for h in self.humans if not self.scheduled(day, h) and not self.given(day, h)]

    def due_injects(self, day: int) -> list[InjectRecord]:
        """The deck's cards planned for ``day`` and not played yet."""
        played = {d.inject for d in self.decisions if d.by == BY_INJECT}
        return [c for c in self.deck if c.day == day and c.id not in played]

    def play_inject(self, card: InjectRecord, day: int) -> Decision:
        """Play ``card`` on ``day``: its actor's move that day is the card's."""
        if self.given(day, card.actor):
            raise ValueError(f"{card.actor} already has a move on day {day}")
        decision = Decision(day, card.actor, card.action, card.target, BY_INJECT, card.id)
        self.decisions.append(decision)
        return decision

    # ------------------------------------------------------------------ model ---------

    @property
    def model(self) -> EscalationModel:
        """The game's run at its current day (built by replaying the decisions)."""
        if self._model is None or self._model.day != self.day:
            self._model = self.replay()
        return self._model

    def forced(self, after: int = 0) -> dict:
        """Every decision after day ``after``, as ``{(day, actor): (action, target)}``."""
        return {(d.day, d.actor): (d.action, d.target) for d in self.decisions if d.day > after}

    def replay(self, until: int | None = None) -> EscalationModel:
        """The game's run replayed from day 0 to ``until`` (default: the game's day)."""
        until = self.day if until is None else until
        model = EscalationModel(self.scenario, runs=[self.run], seed=self.seed, days=self.days,
                                record=True, forced=self.forced())
        while model.day < until:
            self._step(model)
        return model

    def _step(self, model: EscalationModel):
        """One day of the game's run, noting the aims it reached."""
        before = model.world.achieved[0].copy()
        model.step()
        self.news[model.day] = aims_reached(model, before)

    def state(self, day: int) -> SavedState:
        """The game's run at the end of ``day``, to save and continue with ``--from``."""
        return SavedState.of(self.replay(day))

    def human_decisions(self) -> list[Decision]:
        """The players' own choices, by day."""
        return [d for d in self.decisions if d.by == BY_HUMAN]

    def advance(self, choices: dict[str, tuple[str | None, str | None]], by: str = BY_HUMAN):
        """Resolve the next day.

        ``choices`` are the players' moves (or holds); the deck's cards due
        that day are played, and every other actor moves by the decision rule.
        """
        model = self.model
        day = self.day + 1
        for actor, (action, target) in choices.items():
            self.decisions.append(Decision(day, actor, action, target, by))
        for card in self.due_injects(day):
            if not self.given(day, card.actor):
                self.play_inject(card, day)
        for d in self.decisions:
            if d.day == day:
                model.force(d.actor, d.action, d.target)
        self._step(model)
        self.day = day
        self.finished = day >= self.days

    def rest_of_turn(self):
        """Resolve the turn's other days: players' actors by the rule, or holding."""
        while not self.finished and not self.turn_starts(self.day + 1):
            day = self.day + 1
            holds = {h: (None, None) for h in self.humans
                     if self.between == "hold" and not self.scheduled(day, h)
                     and not self.given(day, h)}
            self.advance(holds, by=BY_HOLD)

    def finish(self):
        """Let the decision rule play every actor to the horizon (planned injects still fire)."""
        while not self.finished:
            self.advance({})


# ---------------------------------------------------------------------- helpers -----------

def _record_problems(record: GameRecord, scenario: Scenario, doc) -> list[Problem]:
    """Names and days of a game file that must agree with its scenario and with each other."""
    catalogue = cat.load()
    actors = scenario.spec.actors
    problems = []
    for k, h in enumerate(record.humans):
        if h not in actors:
            problems.append(doc.problem(("humans", k), f"unknown actor '{h}'",
                                        did_you_mean(h, actors)))
    problems += deck_problems(record.deck, scenario, doc, ("deck",))
    if record.day > record.days:
        problems.append(doc.problem(("day",), f"day {record.day} is past the game's "
                                    f"{record.days} days"))
    if record.finished != (record.day >= record.days):
        problems.append(doc.problem(("finished",), f"must be {record.day >= record.days} "
                                    f"at day {record.day} of {record.days}"))
    cards = {c.id for c in record.deck}
    seen = set()
    for k, d in enumerate(record.decisions):
        where = ("decisions", k)
        problems += _move_problems(d, actors, catalogue, doc, where)
        if d.day > record.day:
            problems.append(doc.problem((*where, "day"), f"day {d.day} is after the game's "
                                        f"day {record.day}"))
        if (d.day, d.actor) in seen:
            problems.append(doc.problem(where, f"{d.actor} has two moves on day {d.day}"))
        seen.add((d.day, d.actor))
        if (d.by == BY_INJECT) != (d.inject is not None):
            problems.append(doc.problem((*where, "inject"), "an inject's move names its card "
                                        "(inject:), and only an inject's"))
        elif d.inject is not None and d.inject not in cards:
            problems.append(doc.problem((*where, "inject"), f"no card '{d.inject}' in the "
                                        "deck", did_you_mean(d.inject, cards)))
    return problems


def scenario_ref(scenario_path: Path, game_path: Path) -> str:
    """How a game file names its scenario: a shipped name, else a path from the game's folder."""
    from sim.inputs import library
    shipped = library.shipped_dir().resolve()
    where = Path(scenario_path).resolve()
    if where.is_relative_to(shipped) and where.suffix == ".yaml":
        return where.relative_to(shipped).with_suffix("").as_posix()
    return Path(os.path.relpath(where, Path(game_path).resolve().parent)).as_posix()


def _scenario_of(ref: str, game_path: Path, doc) -> Scenario:
    """Load the scenario a game file names (relative to the game file, or shipped)."""
    from sim.inputs import library
    here = game_path.parent / ref
    path = here if here.is_file() else library.resolve(ref)
    with yamlio.named_by(doc, ("scenario",), ref):
        return load_scenario(path)
