"""Moves imposed from the command line: ``--force DAY:ACTOR:ACTION[:TARGET]``.

``escsim run FILE --force 11:VEN:strike_military_targets:USA`` makes Venezuela
strike the United States on day 11 in every run (or every continuation of a
saved run), whatever its decision rule would have chosen: the classroom's
"what if Venezuela had struck on day 11". ``ACTION`` may be ``hold`` (the
actor does nothing that day). A forced move obeys the same rules as a
scheduled move of the scenario file (who may take an action, against whom).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.errors import InputError, Problem, did_you_mean, field_path
from sim.inputs import catalogue as cat
from sim.inputs.scenario import Scenario, check_move

HOLD = "hold"
"""The ``ACTION`` that makes an actor do nothing on the day."""

Forced = dict[tuple[int, str], tuple[str | None, str | None]]
"""{(day, actor id): (action id or None for hold, target id or None)}."""


class _Move:
    """One ``--force`` text split into the fields of a scheduled move."""

    def __init__(self, actor: str, action: str, target: str | None):
        self.actor, self.action, self.target = actor, action, target


class _Where:
    """Locates problems of one ``--force`` text the way a scenario file's are located.

    :func:`~sim.inputs.scenario.check_move` reports through a document's
    ``problem``; here the "file" is the option as typed and there is no line.
    """

    def __init__(self, text: str):
        self.file = Path(f"--force {text}")

    def problem(self, parts, message: str, hint: str | None = None) -> Problem:
        return Problem(self.file, None, field_path(parts), message, hint)


def parse_forced(texts: Sequence[str], scenario: Scenario, days: int,
                 after: int = 0) -> Forced:
    """Check ``DAY:ACTOR:ACTION[:TARGET]`` texts against ``scenario``; return the forced moves.

    ``DAY`` must lie in ``after + 1 .. days`` (``after``: the day a saved
    state was taken, whose moves are past). Every problem of every text is
    reported, one line each, with a "did you mean" hint for near misses.
    """
    catalogue = cat.load()
    actors = scenario.spec.actors
    forced: Forced = {}
    problems: list[Problem] = []
    for text in texts:
        where = _Where(text)
        parts = text.split(":")
        if len(parts) not in (3, 4) or not all(p.strip() for p in parts):
            problems.append(where.problem((), "expected DAY:ACTOR:ACTION or "
                                          "DAY:ACTOR:ACTION:TARGET"))
            continue
        day_text, actor, action, *rest = (p.strip() for p in parts)
        target = rest[0] if rest else None
        found = []
        try:
            day = int(day_text)
        except ValueError:
            found.append(where.problem(("day",), f"expected a whole number, got '{day_text}'"))
            day = None
        if day is not None and not after < day <= days:
            why = f" (the saved state is of day {after})" if after else ""
            found.append(where.problem(("day",), f"a move can be forced on days {after + 1} "
                                       f"to {days}, not day {day}{why}"))
        # the actor, and for a catalogue action who may take it against whom
        found += check_move(_Move(actor, action, target), actors, catalogue, where, ())
        if action == HOLD:
            if target is not None:
                found.append(where.problem(("target",), f"'{HOLD}' takes no target"))
        elif action not in catalogue.index:
            found.append(where.problem(("action",), f"unknown action '{action}'",
                                       did_you_mean(action, [HOLD, *catalogue.index])))
        elif catalogue[action].requires.vote_only:
            found.append(where.problem(("action",), f"'{action}' happens only in a Council "
                                       "vote; it cannot be forced"))
        if not found and (day, actor) in forced:
            found.append(where.problem((), f"{actor} already has a move forced on day {day}"))
        problems += found
        if not found:
            forced[(day, actor)] = (None, None) if action == HOLD else (action, target)
    if problems:
        raise InputError(problems)
    return forced


def forced_texts(forced: Forced) -> list[str]:
    """The ``--force`` texts of ``forced``, by day then actor (for manifests and commands)."""
    return [":".join([str(day), actor, action or HOLD] + ([target] if target else []))
            for (day, actor), (action, target) in sorted(forced.items())]
