"""The scenario format: actors, seed events, schedule, outcomes, Monte Carlo defaults.

A scenario is a YAML file validated into frozen records. ``extends: other.yaml``
makes a variant: the parent is loaded first, then the variant's mappings are
merged into it key by key (a list, or a scalar, replaces the inherited value;
``null`` removes an inherited key). A variant describes itself: its parent's
info card (``card:``) is not inherited. The full format is in
``docs/scenario-format.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_serializer,
)

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs import catalogue as cat
from sim.inputs import events as seedmod
from sim.inputs import shipped, yamlio
from sim.inputs.schema import Bool, Fraction, Id, Int, Num, Record, Str, validate
from sim.limits import MAX_HORIZON_DAYS, MAX_RUNS

Unit = Field(ge=0.0, le=1.0)

MAX_ACTORS = 100
"""Most actors in a scenario (the model holds actor-by-actor arrays for every run)."""
MAX_COUNCIL_SEATS = 200
"""Most Council members (the UN has 193 member states)."""
MAX_WAR_CASUALTIES = 1_000_000_000
"""Largest ``outcomes.war.casualties`` threshold."""
LAST_START_DATE = dt.date.max - dt.timedelta(days=MAX_HORIZON_DAYS)
"""Latest ``start_date``: every day of the longest horizon must have a calendar date."""


class Capabilities(Record):
    """Relative capabilities on a 0..1 scale (1 = the strongest actor in the scenario)."""

    military: Num = Unit
    naval: Num = Unit
    economic: Num = Unit
    reach: Num = Field(1.0, ge=0.0, le=1.0)
    """Share of the military strength the actor can bring to bear in the crisis theatre
    (extended deterrence depends on the local balance of forces: Huth 1988)."""


class CouncilMember(Record):
    """A Council seat whose holder is not an agent: its votes are parameters."""

    permanent: Bool = False
    yes_probability: Num = Field(0.5, ge=0, le=1)
    yes_probability_by_target: dict[Str, Fraction] = {}
    veto_probability: Num = Field(0.0, ge=0, le=1)
    veto_probability_by_target: dict[Str, Fraction] = {}
    from_: dt.date | None = Field(None, alias="from")
    """First day of the seat's term (inclusive); None: sitting from the start."""
    until: dt.date | None = None
    """Last day of the seat's term (inclusive); None: sitting to the end."""

    @model_serializer(mode="wrap")
    def _dump_from(self, handler):
        """Dump ``from_`` as ``from``, the name a file uses, so that a dump reads back."""
        data = handler(self)
        if isinstance(data, dict) and "from_" in data:
            data["from"] = data.pop("from_")
        return data

    def sits(self, day: dt.date) -> bool:
        """Whether the seat's term includes ``day``."""
        return (self.from_ is None or self.from_ <= day) and (self.until is None
                                                               or day <= self.until)


class Council(Record):
    """The Security Council's procedure."""

    meeting_delay_days: Int = Field(2, ge=0, le=60)
    session_days: Int = Field(3, ge=1, le=60)
    votes_to_pass: Int = Field(9, ge=1, le=MAX_COUNCIL_SEATS)
    members: dict[Id, CouncilMember] = Field(min_length=1, max_length=MAX_COUNCIL_SEATS)
    activism: Num = Field(1.0, ge=0, le=10)
    resolution_cost: Num = Field(0.5, ge=0, le=10)
    restraint_days: Int = Field(7, ge=1, le=365)
    veto_cost: Num = Field(0.3, ge=0, le=10)
    foresight: Num = Field(1.0, ge=0, le=1)


class DecisionParameters(Record):
    """The decision parameters an actor sets itself or takes from a role preset."""

    resolve: Num = Field(0.5, ge=0, le=1)
    reciprocity: Num = Field(0.5, ge=0, le=5)
    risk_aversion: Num = Field(0.5, ge=0, le=5)
    rationality: Num = Field(3.0, ge=0, le=100)
    audience_cost: Num = Field(0.5, ge=0, le=5)
    inertia: Num = Field(1.0, ge=0, le=10)


class PresetsFile(Record):
    """The role presets file: decision parameters by role."""

    presets: dict[Str, DecisionParameters] = Field(min_length=1)


class Actor(DecisionParameters):
    """One agent: a state or an institution."""

    name: Str
    kind: Literal["state", "institution"]
    preset: Str | None = None
    capabilities: Capabilities = Capabilities(military=0.0, naval=0.0, economic=0.0)
    targets: Literal["all"] | tuple[Str, ...] | None = None
    """Whom the actor may act against: ``all``, these actors, or (None) the relevant ones."""
    pressure: dict[Str, Fraction] = {}
    commitments: dict[Str, Fraction] = {}
    council: Council | None = None

    @field_validator("targets", mode="wrap")
    @classmethod
    def _one_targets_message(cls, value, handler):
        """One message for a bad ``targets``, not one per member of the union."""
        try:
            return handler(value)
        except ValidationError:
            hint = did_you_mean(value, ["all"]) if isinstance(value, str) else None
            raise ValueError("must be 'all' or a list of actor ids, got "
                             f"{value!r}{f' ({hint})' if hint else ''}") from None


class ScheduledEvent(Record):
    """An exogenous event: on ``day`` the actor takes ``action`` whatever it would choose."""

    day: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    actor: Str
    action: Str
    target: Str | None = None
    quote: Str | None = None
    note: Str | None = None


class Deescalated(Record):
    """Settled: every state pair at or below ``max_level`` for ``sustain_days``."""

    max_level: Int = Field(1, ge=0, le=cat.MAX_LEVEL)
    sustain_days: Int = Field(14, ge=1, le=MAX_HORIZON_DAYS)


class LevelThreshold(Record):
    """Crossed when any state pair reaches ``min_level``."""

    min_level: Int = Field(ge=1, le=cat.MAX_LEVEL)


class WarThreshold(Record):
    """Crossed at ``min_level`` on a state pair or at ``casualties`` deaths."""

    min_level: Int = Field(7, ge=1, le=cat.MAX_LEVEL)
    casualties: Num = Field(1000, ge=1, le=MAX_WAR_CASUALTIES)


class GreatPowerThreshold(Record):
    """Crossed when the two named powers reach ``min_level`` against each other."""

    actors: tuple[Str, Str]
    min_level: Int = Field(4, ge=1, le=cat.MAX_LEVEL)


class Outcomes(Record):
    """Thresholds that classify each run."""

    deescalated: Deescalated = Deescalated()
    militarized_clash: LevelThreshold = LevelThreshold(min_level=6)
    war: WarThreshold = WarThreshold()
    great_power_confrontation: GreatPowerThreshold | None = None


class Memory(Record):
    """How fast memories fade and levels relax."""

    decay: Num = Field(0.85, gt=0, lt=1)
    relax_days: Int = Field(7, ge=1, le=365)
    threat_days: Int = Field(30, ge=1, le=365)


class MonteCarlo(Record):
    """Defaults for ``escsim run``."""

    runs: Int = Field(1000, ge=1, le=MAX_RUNS)
    seed: Int = Field(0, ge=0, le=2**63 - 1)


OUTCOME_CLASSES = ("deescalated", "frozen", "militarized_clash", "war",
                   "great_power_confrontation")
"""Ids of the five outcome classes, in the order of :data:`sim.model.outcomes.OUTCOMES`."""
OutcomeClass = Literal[OUTCOME_CLASSES]  # type: ignore[valid-type]


def _check_url(url: str) -> str:
    """A source must be a web address a reader can open."""
    if url.startswith(("https://", "http://")) and len(url) > len("https://"):
        return url
    raise ValueError(f"must be a web address starting with https:// or http://, got {url!r}")


class ObservedSource(Record):
    """Where a historical case's coding comes from."""

    url: Annotated[str, Strict(), AfterValidator(_check_url)]
    title: Str = ""


class FirstDays(Record):
    """Day (after ``start_date``) each threshold was first crossed; absent if never."""

    deescalated: Int | None = Field(None, ge=0, le=MAX_HORIZON_DAYS)
    militarized_clash: Int | None = Field(None, ge=0, le=MAX_HORIZON_DAYS)
    war: Int | None = Field(None, ge=0, le=MAX_HORIZON_DAYS)
    great_power_confrontation: Int | None = Field(None, ge=0, le=MAX_HORIZON_DAYS)


class Observed(Record):
    """What happened in a historical case (scored by ``escsim backtest``, ignored by runs)."""

    outcome: OutcomeClass
    alternative: OutcomeClass | None = None
    first_days: FirstDays = FirstDays()
    coercion: Literal["none", "complied", "government_fell"] = "none"
    coercion_day: Int | None = Field(None, ge=0, le=MAX_HORIZON_DAYS)
    icb: Int | None = Field(None, ge=1)
    note: Str = ""
    sources: tuple[ObservedSource, ...]


def _not_blank(value):
    """A card section must say something: no empty value, no text of spaces only."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("must not be empty")
    return value


CardText = Annotated[str, BeforeValidator(_not_blank), Strict()]


class Card(Record):
    """A scenario's info card.

    Its sections are those of the NetLogo Models Library's info tab
    (https://ccl.northwestern.edu/netlogo/docs/infotab.html).
    """

    what_is_it: CardText
    how_it_works: CardText
    how_to_use_it: CardText
    things_to_notice: CardText
    things_to_try: tuple[CardText, ...]
    """Questions for students, at least one."""
    extending_the_model: CardText

    @field_validator("things_to_try", mode="before")
    @classmethod
    def _questions(cls, value):
        """A list of at least one question.

        A lone string would otherwise be refused as 'not a valid tuple', which does not
        say what to write.
        """
        if isinstance(value, str):
            raise ValueError("must be a list of questions, one '- ' line each")
        if value is None or value == []:
            raise ValueError("needs at least one question (a list, one '- ' line each)")
        return value


CARD_SECTIONS = (("what_is_it", "What is it?"), ("how_it_works", "How it works"),
                 ("how_to_use_it", "How to use it"), ("things_to_notice", "Things to notice"),
                 ("things_to_try", "Things to try"),
                 ("extending_the_model", "Extending the model"))
"""The card's sections in display order: (field, title as the NetLogo info tab names it)."""


class ScenarioSpec(Record):
    """Everything a scenario file may say."""

    title: Str
    description: Str = ""
    start_date: dt.date = Field(le=LAST_START_DATE)
    horizon_days: Int = Field(60, ge=1, le=MAX_HORIZON_DAYS)
    seed_events: Str
    exclude_events: tuple[Str, ...] = ()
    actors: dict[Id, Actor] = Field(min_length=2, max_length=MAX_ACTORS)
    schedule: tuple[ScheduledEvent, ...] = ()
    outcomes: Outcomes = Outcomes()
    scoring: Literal[cat.SCHEMES] = "rivera"  # type: ignore[valid-type]
    memory: Memory = Memory()
    montecarlo: MonteCarlo = MonteCarlo()
    observed: Observed | None = None
    # prose, not parameters: kept out of dumps, so out of a results folder's assumptions
    card: Card | None = Field(None, exclude=True)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, its seed events and where it came from."""

    name: str
    path: Path
    spec: ScenarioSpec
    events: tuple[seedmod.SeedEvent, ...]
    files: tuple[Path, ...]
    sha256: str
    """SHA-256 of the bytes of ``files`` concatenated in that order."""
    where: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """(file, line) of every value set in the scenario files, keyed by field path."""
    file_sha256: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """SHA-256 of each file in ``files``, of the bytes that were read and validated."""

    def seat_days(self) -> list[tuple[int | None, int | None]]:
        """Each Council seat's first and last day of its term relative to day 0 (None: open).

        Seats come in the order of their ids, the order of the model's seat axis;
        no Council gives an empty list.
        """
        council = next((a.council for a in self.spec.actors.values() if a.council), None)
        if council is None:
            return []
        start = self.spec.start_date
        return [(_day(council.members[m].from_, start), _day(council.members[m].until, start))
                for m in sorted(council.members)]

    @property
    def actor_ids(self) -> list[str]:
        """Actor ids in the order of the ids (the model's actor axis), whatever the file's order.

        A fixed order makes every sum over actors, and so every result, the same
        for a scenario whose actors are listed in another order.
        """
        return sorted(self.spec.actors)


def _day(date: dt.date | None, start: dt.date) -> int | None:
    """Days from ``start`` to ``date`` (None stays None)."""
    return None if date is None else (date - start).days


# ---------------------------------------------------------------- loading ---

def _realpath(path: Path) -> Path:
    """``path`` with symbolic links resolved; as it is if the OS cannot say (NUL byte, loop).

    Such a path is refused, with a clear message, when it is read.
    """
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return path


def _read_with_extends(path: Path, stack: tuple[Path, ...]
                       ) -> tuple[yamlio.Document, list[yamlio.Document]]:
    """Load ``path`` and, recursively, what it extends; return the merged document.

    The second value lists the documents read, the scenario's own first.
    """
    doc = yamlio.load(path)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "a scenario must be a mapping of fields")])
    for key in ("seed_events",):  # paths inside a file are relative to that file
        if isinstance(doc.data.get(key), str):
            doc.data[key] = str(_realpath(path.parent / doc.data[key]))
    parent_name = doc.data.pop("extends", None)
    if parent_name is None:
        return doc, [doc]
    if not isinstance(parent_name, str):
        raise InputError([doc.problem(("extends",), "must be a file name")])
    here, parent_path = _realpath(path), _realpath(path.parent / parent_name)
    if parent_path in stack or parent_path == here:
        chain = " -> ".join(p.name for p in (*stack, here, parent_path))
        raise InputError([doc.problem(("extends",), f"cyclic extends: {chain}")])
    with yamlio.named_by(doc, ("extends",), parent_name):
        parent, parent_docs = _read_with_extends(parent_path, (*stack, here))
    # a variant describes itself: the parent's info card is not inherited
    parent.data.pop("card", None)
    replaced: list[tuple] = [("card",)]
    data = _merge(parent.data, doc.data, (), replaced)
    # inherited positions under a replaced value would point at lines that no longer apply
    where = {k: v for k, v in parent.where.items()
             if not any(k[:len(r)] == r for r in replaced)}
    where.update(doc.where)
    return yamlio.Document(path, data, where, doc.raw), [doc, *parent_docs]


def _merge(base, override, path: tuple, replaced: list):
    """Merge ``override`` into ``base``: mappings key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
                replaced.append((*path, key))
            else:
                out[key] = _merge(base.get(key), value, (*path, key), replaced)
        return out
    replaced.append(path)
    return override


@cache
def load_presets() -> tuple[PresetsFile, yamlio.Document]:
    """The role presets shipped inside the package (``data/presets.yaml``), validated."""
    doc = yamlio.load(Path(str(resources.files("sim.inputs") / "data" / "presets.yaml")))
    return validate(PresetsFile, doc), doc


def _apply_presets(doc: yamlio.Document) -> None:
    """Give each actor that names a preset the preset's values for the fields it leaves out.

    The merged document holds every value set in the file or the files it extends, so
    an explicit value anywhere in the chain keeps it. A filled value's position is its
    line in the presets file, whose comment says where the value comes from. An unknown
    preset is left to :func:`_cross_check`.
    """
    presets, presets_doc = load_presets()
    actors = doc.data.get("actors")
    for aid, actor in (actors.items() if isinstance(actors, dict) else ()):
        name = actor.get("preset") if isinstance(actor, dict) else None
        if not isinstance(name, str) or name not in presets.presets:
            continue
        for field, value in presets_doc.data["presets"][name].items():
            if field not in actor:
                actor[field] = value
                doc.where[("actors", aid, field)] = presets_doc.where[("presets", name, field)]


def load_scenario(path: Path | str) -> Scenario:
    """Load, merge and validate a scenario file; raise :class:`InputError` on any problem."""
    path = Path(path)
    catalogue = cat.load()
    try:
        doc, docs = _read_with_extends(path, ())
    except yamlio.FileRefused as exc:  # the file named on the command line
        if not exc.missing:
            raise
        raise InputError([Problem(path, None, "", exc.reason, shipped.hint(str(path)))]
                         ) from None
    _apply_presets(doc)
    spec = validate(ScenarioSpec, doc)
    problems = _cross_check(spec, doc, catalogue)
    seed_path = Path(spec.seed_events)
    try:
        with yamlio.named_by(doc, ("seed_events",), spec.seed_events):
            seeds, seed_problems, seed_doc = seedmod.load(seed_path, catalogue)
    except InputError as exc:
        raise InputError(problems + exc.problems) from None
    problems += seed_problems
    problems += seedmod.check_quotes(seeds, seed_doc, seed_path.parent)
    for i, ev in enumerate(seeds.events):
        if ev.id not in spec.exclude_events:  # a scenario may drop an actor with its events
            problems += check_move(ev, spec.actors, catalogue, seed_doc, ("events", i))
    ids = {ev.id for ev in seeds.events}
    for i, ev_id in enumerate(spec.exclude_events):
        if ev_id not in ids:
            problems.append(doc.problem(("exclude_events", i), f"unknown event id '{ev_id}'",
                                        did_you_mean(ev_id, ids)))
    if problems:
        raise InputError(problems)
    events = tuple(ev for ev in seeds.events if ev.id not in spec.exclude_events)
    read = [(d.path, d.raw) for d in docs]
    read.append((seed_path, seed_doc.raw))
    digest = hashlib.sha256()
    for _, raw in read:
        digest.update(raw)
    return Scenario(path.stem, path, spec, events, tuple(f for f, _ in read), digest.hexdigest(),
                    dict(doc.where),
                    {f: hashlib.sha256(raw).hexdigest() for f, raw in read})


def _actor_problems(actors: dict, doc: yamlio.Document, name: str, where: tuple,
                    kind: str | None = None) -> list[Problem]:
    """``name`` must be an actor (of ``kind``, if given)."""
    if name not in actors:
        return [doc.problem(where, f"unknown actor '{name}'", did_you_mean(name, actors))]
    if kind and actors[name].kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        return [doc.problem(where, f"'{name}' is a {actors[name].kind}, "
                            f"expected {article} {kind}")]
    return []


def check_move(ev, actors: dict, catalogue, doc: yamlio.Document, where: tuple
               ) -> list[Problem]:
    """Who may take ``ev.action`` against whom (a scheduled or a seed event).

    An unknown action is left to the caller, which reports it with a hint.
    """
    problems = _actor_problems(actors, doc, ev.actor, (*where, "actor"))
    if ev.action not in catalogue.index:
        return problems
    action = catalogue[ev.action]
    if ev.actor in actors and actors[ev.actor].kind not in action.actors:
        problems.append(doc.problem((*where, "action"), f"a {actors[ev.actor].kind} "
                                    f"cannot take '{ev.action}'"))
    if action.target == "none":
        if ev.target is not None:
            problems.append(doc.problem((*where, "target"), f"'{ev.action}' takes no target"))
    elif ev.target is None:
        problems.append(doc.problem(where, f"'{ev.action}' needs a target (a {action.target})"))
    elif ev.target == ev.actor:
        problems.append(doc.problem((*where, "target"), "an actor cannot target itself"))
    else:
        problems += _actor_problems(actors, doc, ev.target, (*where, "target"), action.target)
    return problems


def _cross_check(spec: ScenarioSpec, doc: yamlio.Document, catalogue) -> list[Problem]:
    """Checks that span fields: names that must refer to actors, actions and kinds."""
    problems: list[Problem] = []
    actors = spec.actors

    def need_actor(name, where, kind=None):
        problems.extend(_actor_problems(actors, doc, name, where, kind))

    institutions = [k for k, a in actors.items() if a.kind == "institution"]
    if len(institutions) > 1:
        problems.append(doc.problem(("actors",), "at most one institution (the Council) "
                                    f"is supported, got {', '.join(institutions)}"))
    if not any(a.kind == "state" for a in actors.values()):
        problems.append(doc.problem(("actors",), "at least one state is needed"))
    for aid, actor in actors.items():
        base = ("actors", aid)
        if actor.kind == "institution" and actor.council is None:
            problems.append(doc.problem((*base, "kind"), "an institution needs a 'council' "
                                        "section (its procedure and members)"))
        if actor.kind == "state" and actor.council is not None:
            problems.append(doc.problem((*base, "council"), "only an institution has a council"))
        for field in ("pressure", "commitments"):
            for other in getattr(actor, field):
                need_actor(other, (*base, field, other), "state")
                if other == aid:
                    problems.append(doc.problem((*base, field, other), "an actor cannot "
                                                f"name itself in {field}"))
        if actor.council:
            members = actor.council.members
            for member, seat in members.items():
                if member in actors and actors[member].kind != "state":
                    problems.append(doc.problem((*base, "council", "members", member),
                                                "a Council member must be a state"))
                for field in ("yes_probability_by_target", "veto_probability_by_target"):
                    for target in getattr(seat, field):
                        need_actor(target, (*base, "council", "members", member, field,
                                            target), "state")
            problems += _council_problems(spec, actor.council, doc, (*base, "council"))
        problems += _choice_problems(aid, actors, doc, base)
    for i, ev in enumerate(spec.schedule):
        where = ("schedule", i)
        if ev.action not in catalogue.index:
            problems.append(doc.problem((*where, "action"), f"unknown action '{ev.action}'",
                                        did_you_mean(ev.action, catalogue.index)))
        problems += check_move(ev, actors, catalogue, doc, where)
        if ev.day > spec.horizon_days:
            problems.append(doc.problem((*where, "day"), f"day {ev.day} is after the "
                                        f"horizon ({spec.horizon_days} days)"))
    if spec.observed:
        problems += _observed_problems(spec, doc)
    gp = spec.outcomes.great_power_confrontation
    if gp:
        for j, name in enumerate(gp.actors):
            need_actor(name, ("outcomes", "great_power_confrontation", "actors", j), "state")
        if gp.actors[0] == gp.actors[1]:  # a pair with itself never rises above level 0
            problems.append(doc.problem(("outcomes", "great_power_confrontation", "actors", 1),
                                        "the two great powers must be different actors"))
    return problems


def _choice_problems(aid: str, actors: dict, doc: yamlio.Document, base: tuple
                     ) -> list[Problem]:
    """An actor's ``preset`` must exist and its ``targets`` must name other actors, once."""
    problems, actor = [], actors[aid]
    presets = load_presets()[0].presets
    if actor.preset is not None and actor.preset not in presets:
        problems.append(doc.problem((*base, "preset"), f"unknown preset '{actor.preset}' "
                                    f"(one of {', '.join(presets)})",
                                    did_you_mean(actor.preset, presets)))
    if isinstance(actor.targets, tuple):
        for k, target in enumerate(actor.targets):
            where = (*base, "targets", k)
            if target == aid:
                problems.append(doc.problem(where, "an actor cannot target itself"))
            elif target in actor.targets[:k]:
                problems.append(doc.problem(where, f"'{target}' is listed twice"))
            else:
                problems += _actor_problems(actors, doc, target, where)
    return problems


def _council_problems(spec: ScenarioSpec, council: Council, doc: yamlio.Document, base: tuple
                      ) -> list[Problem]:
    """Terms of office must be in order, and a draft must be able to pass on every day.

    The sitting seats are counted on day 1 and on every day a term starts or ends
    within the horizon, the only days the count changes.
    """
    problems = []
    members = council.members
    for member, seat in members.items():
        if seat.from_ and seat.until and seat.from_ > seat.until:
            problems.append(doc.problem((*base, "members", member, "until"),
                                        f"the term ends ({seat.until}) before it starts "
                                        f"({seat.from_})"))
    start, need = spec.start_date, council.votes_to_pass
    last = start + dt.timedelta(days=spec.horizon_days)
    changes = {s.from_ for s in members.values() if s.from_} | {
        s.until + dt.timedelta(days=1) for s in members.values() if s.until and s.until < last}
    days = sorted({start + dt.timedelta(days=1)} | {d for d in changes if start < d <= last})
    for day in days:
        sitting = sum(seat.sits(day) for seat in members.values())
        if sitting < need:
            message = f"{need} votes can never be reached with {sitting} members"
            if changes:  # terms of office: say when
                message += f" sitting on day {(day - start).days} ({day})"
            problems.append(doc.problem((*base, "votes_to_pass"), message))
            break
    return problems


def _observed_problems(spec: ScenarioSpec, doc: yamlio.Document) -> list[Problem]:
    """An ``observed:`` coding must be one the scenario's runs could produce."""
    obs, base = spec.observed, ("observed",)
    problems = []
    if not obs.sources:
        problems.append(doc.problem((*base, "sources"), "needs at least one source (url, title)"))
    if obs.alternative == obs.outcome:
        problems.append(doc.problem((*base, "alternative"), "must differ from outcome"))
    for name, day in obs.first_days:
        if day is not None and day > spec.horizon_days:
            problems.append(doc.problem((*base, "first_days", name), f"day {day} is after "
                                        f"the horizon ({spec.horizon_days} days)"))
    if obs.coercion_day is not None and obs.coercion == "none":
        problems.append(doc.problem((*base, "coercion_day"), "needs coercion: complied or "
                                    "government_fell"))
    gp = "great_power_confrontation"
    if spec.outcomes.great_power_confrontation is None:
        # without the threshold no run can reach the class, so scoring it would be meaningless
        named = [field for field in ("outcome", "alternative") if getattr(obs, field) == gp]
        if obs.first_days.great_power_confrontation is not None:
            named.append(f"first_days.{gp}")
        problems += [doc.problem((*base, *field.split(".")), f"needs outcomes.{gp} "
                                 "(the two great powers)") for field in named]
    return problems


def observed_classes(cases: list[Scenario], alternative: bool = False) -> np.ndarray:
    """Index (in :data:`OUTCOME_CLASSES`) of each historical case's observed class.

    With ``alternative``, a case's alternative coding where it gives one.
    """
    def coded(obs):
        return obs.alternative if alternative and obs.alternative else obs.outcome
    return np.array([OUTCOME_CLASSES.index(coded(c.spec.observed)) for c in cases])
