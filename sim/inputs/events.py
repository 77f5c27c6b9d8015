"""Seed events: the article's events, coded with provenance.

A seed-events file lists what happened before the simulation starts (day
offsets <= 0, relative to the article's date). Every event names the
catalogue action it is coded as and repeats that action's codes and weights so
a reader can check them against the text. A file built from one article
(``source``) quotes the sentence fragment each event was coded from; a file
without one (a historical case) gives each event the ``url`` of a public
record instead, with an optional short quote from it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs import catalogue as cat
from sim.inputs import yamlio
from sim.inputs.schema import Int, Num, Record, Str, validate

MAX_EVENT_CASUALTIES = 10_000_000
"""Most deaths one seed event may report (with :data:`MAX_SEED_ACTS`, the seeds' total
stays far below what the int64 casualty sums over 10^8 runs can hold)."""

MAX_SEED_ACTS = 1_000
"""Most acts (events times their ``count``) a seed file may hold: every run replays them
all before day 0, so they bound the start-up cost of every batch of runs."""


class EventSeverity(Record):
    """The event's severity, as declared by its catalogue action."""

    level: Int = Field(ge=0, le=cat.MAX_LEVEL)
    mid: Int = Field(ge=1, le=5)
    ladder: Int = Field(ge=0, le=44)
    rivera: Int


class SeedEvent(Record):
    """One coded event from the source text."""

    id: Str
    day: Int = Field(le=0, ge=-3650, description="offset from the article's date (day 0)")
    actor: Str
    target: Str | None
    action: Str
    cameo: Str
    plover: Str | None
    goldstein: Num = Field(ge=-10, le=10)
    severity: EventSeverity
    count: Int = Field(1, ge=1, le=100, description="how many times it happened that day")
    casualties: Num = Field(0, ge=0, le=MAX_EVENT_CASUALTIES,
                            description="deaths reported for this event")
    quote: Str | None = Field(None, min_length=3)
    url: Str | None = Field(None, pattern=r"^https?://\S+$",
                            description="public record of the event (required without a source)")
    note: Str | None = None


class SeedFile(Record):
    """A seed-events file: its source text (if any) and the coded events."""

    source: Str | None = None
    source_date: dt.date | None = None
    description: Str | None = None
    events: tuple[SeedEvent, ...] = Field(min_length=1, max_length=MAX_SEED_ACTS)


def load(path: Path | str, catalogue: cat.Catalogue | None = None
         ) -> tuple[SeedFile, list[Problem], yamlio.Document]:
    """Load a seed-events file; return it, its problems, and its document.

    The problems are codes that disagree with the catalogue; the document
    locates problems found later (unknown actors, quotes).
    """
    catalogue = catalogue or cat.load()
    doc = yamlio.load(path)
    seeds = validate(SeedFile, doc)
    problems: list[Problem] = []
    acts = sum(ev.count for ev in seeds.events)
    if acts > MAX_SEED_ACTS:
        problems.append(doc.problem(("events",), f"the events' counts add up to {acts:,}, more "
                                    f"than the {MAX_SEED_ACTS:,} acts a history may hold"))
    ids: set[str] = set()
    for i, ev in enumerate(seeds.events):
        where = ("events", i)
        if ev.id in ids:
            problems.append(doc.problem((*where, "id"), f"duplicate event id '{ev.id}'"))
        ids.add(ev.id)
        if ev.action not in catalogue.index:
            problems.append(doc.problem((*where, "action"), f"unknown action '{ev.action}'",
                                        did_you_mean(ev.action, catalogue.index)))
            continue
        action = catalogue[ev.action]
        declared = {"cameo": ev.cameo, "plover": ev.plover, "goldstein": ev.goldstein,
                    **{f"severity.{k}": v for k, v in ev.severity.model_dump().items()}}
        expected = {"cameo": action.cameo, "plover": action.plover,
                    "goldstein": action.goldstein, "severity.level": action.level,
                    **{f"severity.{k}": v for k, v in action.severity.model_dump().items()}}
        for key, value in declared.items():
            if value != expected[key]:
                problems.append(doc.problem(
                    (*where, *key.split(".")),
                    f"{value!r} disagrees with the catalogue's {expected[key]!r} "
                    f"for action '{ev.action}'"))
    return seeds, problems, doc


def check_quotes(seeds: SeedFile, doc: yamlio.Document, source_dir: Path) -> list[Problem]:
    """Check provenance: every event quotes the source text, or names its record without one.

    With a ``source``, every event needs a quote that occurs in it verbatim;
    without one, every event needs the ``url`` of the public record it was
    coded from (its quote, if any, is a short excerpt of that record).
    """
    if seeds.source is None:
        return [doc.problem(("events", i), "an event needs a 'url' when the file has no "
                            "'source' text to quote") for i, ev in enumerate(seeds.events)
                if ev.url is None]
    try:
        with yamlio.named_by(doc, ("source",), seeds.source):
            text = yamlio.read_text(source_dir / seeds.source)
    except InputError as exc:
        return exc.problems
    return [doc.problem(("events", i, "quote"), f"quote not found in {seeds.source}")
            if ev.quote is not None else
            doc.problem(("events", i), f"an event needs a 'quote' from {seeds.source}")
            for i, ev in enumerate(seeds.events) if ev.quote is None or ev.quote not in text]
