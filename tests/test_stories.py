"""Findings the model should reproduce, each stated in its test's docstring.

Scenarios are compared on common random numbers (same seed, same run
indices), so each comparison is paired: the tolerance is three standard errors
of the mean per-run difference, from the sample itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re

import numpy as np
import pytest

from sim.ensemble.montecarlo import simulate
from sim.inputs.scenario import load_scenario
from sim.model import story
from sim.model.outcomes import OUTCOMES
from tests.conftest import ROOT

RUNS = 2000
SEED = 11
GPC = OUTCOMES.index("great-power confrontation")
CLASH = OUTCOMES.index("militarized clash")


def paired_increase(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of b - a and its standard error."""
    d = b.astype(float) - a.astype(float)
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


@functools.cache
def run(name):
    return simulate(load_scenario(ROOT / "scenarios" / name), runs=RUNS, seed=SEED)


def test_firmer_russian_commitment_raises_great_power_confrontation():
    """A stronger Russian commitment to Venezuela raises the share of runs that end in a
    US-Russia confrontation: Russia answers US pressure on its client as pressure on
    itself, and the US answers Russian moves in kind."""
    base = run("caribbean-2025.yaml")
    firm = run("caribbean-2025-strong-russia.yaml")
    mean, se = paired_increase(base.outcome == GPC, firm.outcome == GPC)
    assert mean > 3 * se, (mean, se)


def test_without_the_airstrikes_the_first_week_is_calmer():
    """Dropping the airstrikes from the seed events lowers the escalation generated in
    the first week (the index added by days 1-7, net of the seed events' decayed share):
    Venezuela and its Russian backer have less to answer."""
    def first_week(results):
        decay = results.scenario.spec.memory.decay
        return results.index_by_day[:, 7] - results.index_by_day[:, 0] * decay**7
    base = run("caribbean-2025.yaml")
    calm = run("caribbean-2025-no-airstrikes.yaml")
    mean, se = paired_increase(first_week(calm), first_week(base))
    assert mean > 3 * se, (mean, se)


def test_a_more_risk_averse_washington_clashes_less(variant):
    """Raising US risk aversion lowers the chance of a militarized clash: strikes on
    state forces weigh the risk of war more heavily."""
    cautious = variant("actors:\n  USA:\n    risk_aversion: 2.0\n")
    base = run("caribbean-2025.yaml")
    low = simulate(load_scenario(cautious), runs=RUNS, seed=SEED)
    mean, se = paired_increase(low.first[:, 1] >= 0, base.first[:, 1] >= 0)
    assert mean > 3 * se, (mean, se)


def test_without_a_council_meeting_request_nothing_convenes(variant):
    """Remove Venezuela's request and the scheduled meeting: over 30 days (many times the
    meeting delay) the Council convenes in a run exactly on the days some state of that run
    asked for a meeting `meeting_delay_days` earlier, and never otherwise."""
    from sim.model.model import EscalationModel
    quiet = load_scenario(variant("exclude_events: [e08-venezuela-requests-council]\n"
                                  "schedule: []\n"))
    days = 30
    model = EscalationModel(quiet, runs=300, seed=SEED, days=days, record=True)
    fx, index = model.catalogue.effects, model.catalogue.index
    assert not any(fx["request_meeting"][index[ev.action]] > 0 for ev in quiet.events), \
        "a seed event still asks for a meeting"
    delay = quiet.spec.actors["UNSC"].council.meeting_delay_days
    assert 0 < delay < days
    model.run()
    council = model.council.index
    requests, sessions = set(), set()
    for day, rec in enumerate(model.history, start=1):
        moved = rec.action >= 0  # HOLD is -1
        asked = moved & (fx["request_meeting"][rec.action] > 0)
        requests |= {(int(run), day) for run in np.nonzero(asked.any(axis=1))[0]}
        met = moved[:, council] & (fx["convene"][rec.action[:, council]] > 0)
        sessions |= {(int(run), day) for run in np.nonzero(met)[0]}
    assert len(sessions) >= 10, "too few sessions to test the rule"
    assert sessions == {(run, day + delay) for run, day in requests if day + delay <= days}


# ------------------------------------------------------------------ the story's telling ----

def story_days(text: str) -> dict[int, str]:
    """The header line of each day the story tells, by day number."""
    return {int(m.group(1)): line for line in text.splitlines()
            if (m := re.search(r"(?:^|  )day +(\d+)  \(index", line))}


def test_story_tells_days_past_the_calendar_by_number():
    """A story whose days run past 31 December 9999 dates the days it can and tells the
    rest by their number alone, instead of failing on the calendar."""
    scenario = load_scenario(ROOT / "scenarios" / "caribbean-2025.yaml")
    spec = scenario.spec
    # in 9999 only the permanent seats sit: five votes can pass a draft
    unsc = spec.actors["UNSC"]
    council = unsc.council.model_copy(update={"votes_to_pass": 5})
    actors = {**spec.actors, "UNSC": unsc.model_copy(update={"council": council})}
    late = dataclasses.replace(scenario, spec=spec.model_copy(
        update={"start_date": dt.date(9999, 12, 25), "actors": actors}))
    days = story_days(story.tell(late, run=0, days=20))
    assert max(days) > 6, "the run is too quiet to test the calendar's end"
    for day, line in days.items():
        if day <= 6:  # 9999-12-25 + 6 days is the last date there is
            date = dt.date(9999, 12, 25) + dt.timedelta(days=day)
            assert line.startswith(f"{date.isoformat()} {date.strftime('%a')}  day"), line
        else:
            assert line.startswith("day "), line


def test_story_at_the_latest_start_date_and_longest_horizon(variant):
    """The latest start date and the longest horizon the schema accepts: the story runs to
    the end and its last day is dated on or before 31 December 9999."""
    from sim.inputs.scenario import LAST_START_DATE
    from sim.limits import MAX_HORIZON_DAYS
    # in 9990 only the permanent seats sit: five votes can pass a draft
    path = variant(f"start_date: {LAST_START_DATE.isoformat()}\n"
                   f"horizon_days: {MAX_HORIZON_DAYS}\n"
                   "actors:\n  UNSC:\n    council:\n      votes_to_pass: 5\n")
    text = story.tell(load_scenario(path), run=1)
    days = story_days(text)
    assert max(days) <= MAX_HORIZON_DAYS and "Outcome:" in text
    last = LAST_START_DATE + dt.timedelta(days=max(days))
    assert days[max(days)].startswith(last.isoformat())


def test_story_refuses_a_horizon_past_the_limit():
    """A horizon beyond the documented limit is an input problem, not an int16 overflow."""
    from sim.errors import InputError
    scenario = load_scenario(ROOT / "scenarios" / "caribbean-2025.yaml")
    with pytest.raises(InputError, match="between 1 and 3,650 days"):
        story.tell(scenario, run=0, days=10**9)


def test_story_council_tally_matches_the_recorded_votes():
    """Every vote the story prints gives the yes count of the model's record, names the
    vetoing seats, and says "adopted" exactly when yes >= votes_to_pass and no seat vetoed."""
    from sim.model.model import EscalationModel
    scenario = load_scenario(ROOT / "scenarios" / "caribbean-2025.yaml")
    days, runs = 30, 60
    model = EscalationModel(scenario, runs=list(range(runs)), seed=SEED, days=days, record=True)
    model.run()
    needed = scenario.spec.actors["UNSC"].council.votes_to_pass
    seats = model.council.members
    ids = model.actor_ids
    expected: dict[int, list] = {}  # run -> [(day, target, yes, verdict)]
    for day, rec in enumerate(model.history, start=1):
        for run in np.nonzero(rec.vote[:, 0] >= 0)[0]:
            target, yes, _ = (int(x) for x in rec.vote[run])
            vetoes = [seats[k] for k in range(len(seats)) if rec.vetoed[run, k]]
            verdict = ("adopted" if yes >= needed and not vetoes else
                       f"vetoed by {', '.join(vetoes)}" if vetoes else "not adopted")
            expected.setdefault(int(run), []).append((day, ids[target], yes, verdict))
    verdicts = {v[3].split(" by")[0] for votes in expected.values() for v in votes}
    assert {"adopted", "vetoed"} <= verdicts or {"not adopted", "vetoed"} <= verdicts, verdicts
    checked = 0
    for run, votes in sorted(expected.items())[:8]:
        text = story.tell(scenario, run=run, seed=SEED, days=days)
        told, day = [], None
        for line in text.splitlines():
            if m := re.search(r"day +(\d+)  \(index", line):
                day = int(m.group(1))
            elif m := re.fullmatch(r" +vote on a draft demanding restraint from (\w+): "
                                   r"(\d+) in favour, (.+)", line):
                told.append((day, m.group(1), int(m.group(2)), m.group(3)))
        assert told == votes, run
        checked += len(votes)
    assert checked >= 3


def test_why_terms_sum_to_the_utility_and_probabilities_to_one(baseline):
    """The Python API's reasons add up: for every actor on every day of 20 runs, each open
    move's terms (inertia included) sum to its utility, and the probabilities of the
    open moves sum to 1 (closed moves have none)."""
    from sim.model.model import EscalationModel
    model = EscalationModel(baseline, runs=20, seed=5, days=20)
    checked = 0
    while model.day < model.horizon:
        for r in range(model.n_runs):
            for agent in model.agents_by_index.values():
                options = agent.options(r)
                open_ = [o for o in options if o["feasible"]]
                assert sum(o["probability"] for o in open_) == pytest.approx(1.0, abs=1e-9)
                assert all(o["probability"] == 0 for o in options if not o["feasible"])
                for o in open_:
                    assert sum(o["terms"].values()) == pytest.approx(o["utility"], abs=1e-12)
                    checked += 1
        model.step()
    assert checked > 10_000


def test_story_why_gives_a_reason_for_every_chosen_move(baseline):
    """With --why, every move of the story is followed by its reason: the scheduled meeting
    says it was given, every other move names at least one term and a share of the choice."""
    text = story.tell(baseline, run=3, days=30, why=True)
    lines = text.splitlines()
    moves = [k for k, line in enumerate(lines)
             if line.startswith("    ") and not line.startswith("      ")
             and not line.strip().startswith("vote")]
    assert len(moves) > 5
    for k in moves:
        why = lines[k + 1].strip()
        assert why.startswith("why: "), lines[k]
        assert why == "why: scheduled (a given move, not the actor's choice)" or re.search(
            r"why: .*[+-]\d+\.\d\d.*; (<1|\d+)% of the choice$", why), why
    assert "why: scheduled" in text  # the Council's meeting "on Tuesday" (day 1)


def test_story_tells_when_an_aim_is_reached(baseline):
    """A government's fall is told on its day, and the closing lines give the same day
    and kind as the model's record of the coercer's success."""
    told = 0
    for run in range(12):
        text = story.tell(baseline, run=run, days=30)
        fell = re.search(r"day +(\d+) .*\n(?:    .*\n)*?    VEN's government falls", text)
        closing = re.search(r"coercer's aim: (not reached|reached on day (\d+) \((.*)\))", text)
        assert closing, text
        if fell:
            told += 1
            assert closing.group(2) == fell.group(1)
            assert closing.group(3) == "the target's government fell"
            assert "USA's aim against VEN is reached: its government fell" in text
    assert told  # some run of twelve tells a fall
