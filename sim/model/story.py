"""One run told day by day: who did what to whom, the resulting levels, Council votes.

The story re-simulates run K alone with the day-by-day record switched on.
Because run K's randomness depends only on (seed, K), it is the same run K as
in ``escsim run`` with the same seed, and its closing lines repeat that run's
row of ``runs.csv``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.errors import InputError, Problem
from sim.inputs.scenario import Scenario
from sim.limits import MAX_HORIZON_DAYS
from sim.model.day import UNSET
from sim.model.model import HOLD, NO_TARGET, EscalationModel
from sim.model.outcomes import OUTCOMES, THRESHOLDS, state_pairs


def tell(scenario: Scenario, run: int, seed: int | None = None, days: int | None = None,
         why: bool = False) -> str:
    """Return run ``run``'s narrative as text.

    ``days`` may be any horizon up to :data:`~sim.limits.MAX_HORIZON_DAYS`; a
    day past the last calendar date (31 December 9999) is told by its number alone.
    With ``why``, each move chosen by the decision rule comes with the terms of
    the choice that drove it and its probability (:func:`reasons`).
    """
    if days is not None and not 1 <= days <= MAX_HORIZON_DAYS:
        raise InputError([Problem(scenario.path, None, "days", f"the horizon must be between 1 "
                                                               f"and {MAX_HORIZON_DAYS:,} days, "
                                                               f"got {days:,}")])
    model = EscalationModel(scenario, runs=[run], seed=seed, days=days, record=True)
    why_of, reached = [], []
    while model.day < model.horizon:
        why_of.append(reasons(model) if why else {})
        before = model.world.achieved[0].copy()
        model.step()
        reached.append(aims_reached(model, before))
    summary = model.summary()
    cat = model.catalogue
    spec = scenario.spec
    lines = [f"{spec.title}",
             f"scenario {scenario.name}, run {run}, seed {model.seed}, {model.horizon} days "
             f"from {spec.start_date.isoformat()}", ""]
    lines.append("Before day 0 (seed events):")
    for ev in sorted(scenario.events, key=lambda e: e.day):
        target = f" -> {ev.target}" if ev.target else ""
        # an article's events carry their quote; a historical case's may carry only a source
        said = f"\u201c{ev.quote}\u201d" if ev.quote else f"({ev.note or ev.url})"
        lines.append(f"  day {ev.day:>3}  {ev.actor}{target}: {cat[ev.action].name}  {said}")
    lines.append("")
    for day, rec in enumerate(model.history, start=1):
        entries = day_lines(model, rec, reached[day - 1], why_of[day - 1] if why else None)
        if entries:
            lines.append(f"{calendar(spec.start_date, day)}day {day:>2}  "
                         f"(index {rec.index[0]:.1f}, casualties {int(rec.casualties[0])})")
            lines.extend(f"    {e}" for e in entries)
    lines.append("")
    lines.extend(outcome_lines(model, summary))
    return "\n".join(lines) + "\n"


def day_lines(model: EscalationModel, rec, reached: list[str], why: dict | None = None,
              run: int = 0) -> list[str]:
    """One day of run ``run`` told: each move, the aims reached, the Council's vote.

    ``rec`` is the day's :class:`~sim.model.model.DayRecord`; with ``why`` (the
    day's :func:`reasons`), each chosen move comes with the terms behind it.
    """
    ids, cat = model.actor_ids, model.catalogue
    entries = []
    for i, aid in enumerate(ids):
        a, t = int(rec.action[run, i]), int(rec.target[run, i])
        if a == HOLD:
            continue
        action = cat.actions[a]
        if t == NO_TARGET:
            entries.append(f"{aid}: {action.name}")
        elif model.is_state[i] and model.is_state[t]:
            entries.append(f"{aid} -> {ids[t]}: {action.name}  "
                           f"[{aid}->{ids[t]} level {rec.level[run, i, t]}]")
        else:
            entries.append(f"{aid} -> {ids[t]}: {action.name}")
        if why is not None:
            entries.append("  why: " + because(why, i, action.id,
                                                None if t == NO_TARGET else ids[t]))
    entries.extend(reached)
    target, yes, passed = (int(x) for x in rec.vote[run])
    if target >= 0:
        vetoes = [model.seats[k] for k in np.nonzero(rec.vetoed[run])[0]]
        verdict = "adopted" if passed else (
            f"vetoed by {', '.join(vetoes)}" if vetoes else "not adopted")
        entries.append(f"  vote on a draft demanding restraint from {ids[target]}: "
                       f"{yes} in favour, {verdict}")
    return entries


def aims_reached(model: EscalationModel, before: np.ndarray, run: int = 0) -> list[str]:
    """The aims reached in run ``run`` today (``before``: yesterday's ``achieved``)."""
    ids, w, day = model.actor_ids, model.world, model.day
    out = [f"{ids[j]}'s government falls" for j in np.nonzero(w.fallen[run] == day)[0]]
    for i, j in zip(*np.nonzero(w.achieved[run] & ~before), strict=True):
        how = "its government fell" if w.fallen[run, j] == day else f"{ids[j]} complied"
        out.append(f"{ids[i]}'s aim against {ids[j]} is reached: {how}")
    return out


def reasons(model: EscalationModel, run: int = 0) -> dict:
    """Why each actor of run ``run`` would make each move tomorrow.

    Maps an actor's index to "scheduled" if a rule other than its own choice
    gives tomorrow's move, else to {(action id, target id): option} with the
    option's probability and its utility's terms (``StateAgent.options``).
    """
    day = model.day + 1
    out: dict = {}
    for i, rule in enumerate(model.rules):
        action = np.full(1, UNSET, dtype=np.int64)
        rule.give(model, i, day, action, np.full(1, NO_TARGET, dtype=np.int64))
        if action[0] != UNSET:
            out[i] = "scheduled"
            continue
        out[i] = {(o["action"], o["target"]): o for o in model.agents_by_index[i].options(run)}
    return out


def because(why: dict, i: int, action: str, target: str | None, shown: int = 3) -> str:
    """The terms that drove actor ``i``'s move, largest first, and its share of the choice."""
    options = why.get(i)
    if options == "scheduled":
        return "scheduled (a given move, not the actor's choice)"
    option = options[(action, target)]
    terms = sorted(((name, x) for name, x in option["terms"].items()
                    if name != "inertia" and abs(x) >= 0.005), key=lambda item: -abs(item[1]))
    said = ", ".join(f"{name} {x:+.2f}" for name, x in terms[:shown]) or "no term"
    share = 100 * option["probability"]
    return f"{said}; {'<1' if share < 0.5 else f'{share:.0f}'}% of the choice"


def calendar(start: dt.date, day: int) -> str:
    """``day``'s date and weekday as the story's line starts with them, or '' past 9999."""
    try:
        date = start + dt.timedelta(days=day)
    except OverflowError:
        return ""
    return f"{date.isoformat()} {date.strftime('%a')}  "


SUCCESS = {1: "the target complied", 2: "the target's government fell"}


def outcome_lines(model: EscalationModel, summary: dict, n: int = 0) -> list[str]:
    """The closing block: the same values as the run's row in runs.csv."""
    ids = model.actor_ids
    out = [f"Outcome: {OUTCOMES[summary['outcome'][n]]}"]
    for k, name in enumerate(THRESHOLDS):
        d = int(summary["first"][n, k])
        out.append(f"  first day {name}: {'never (censored at the horizon)' if d < 0 else d}")
    peaks = [f"{ids[i]}->{ids[j]} {int(summary['peak'][n, i, j])}"
             for i, j in state_pairs(model.crisis)]
    out.append("  peak levels: " + ", ".join(peaks))
    out.append(f"  casualties: {int(summary['casualties'][n])}")
    day, how = (int(x) for x in model.world.success[n])
    out.append("  coercer's aim: " + ("not reached" if day < 0 else
                                      f"reached on day {day} ({SUCCESS[how]})"))
    out.append(f"  peak index: {summary['peak_index'][n]:.4f}, "
               f"final index: {summary['final_index'][n]:.4f}")
    return out
