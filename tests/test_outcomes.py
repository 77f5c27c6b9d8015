"""Outcome classes as docs/scenario-format.md#outcomes states them, on constructed days.

Each run is a list of days; a day names the levels of some directed pairs (every other
pair is at 0) and, optionally, the deaths so far. The compiled day's tracking sees them
exactly as it sees a model's state at the end of each day, from day 0 on.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.scenario import Deescalated, GreatPowerThreshold, Outcomes
from sim.model import day as D
from sim.model.model import empty_world
from sim.model.outcomes import OUTCOMES, THRESHOLDS, classify

ACTORS = ("USA", "RUS", "VEN", "UNSC")
IS_STATE = np.array([True, True, True, False])
# the documented defaults (clash at 6, war at 7 or 1,000 deaths, great powers at 4), with a
# short calm spell: every state pair at or below 1 for 3 days in a row
RULES = Outcomes(deescalated=Deescalated(max_level=1, sustain_days=3),
                 great_power_confrontation=GreatPowerThreshold(actors=("USA", "RUS")))
CALM = {}


def structure():
    """The day's parameters and structure as far as outcomes read them."""
    n, rules = len(ACTORS), RULES
    outcome = np.array([[rules.deescalated.max_level, rules.deescalated.sustain_days,
                         rules.militarized_clash.min_level, rules.war.min_level,
                         rules.war.casualties, rules.great_power_confrontation.min_level]],
                       dtype=float)
    params = D.Params(np.zeros((1, n, len(D.ACTOR_COLUMNS))), np.zeros((1, n, n)),
                      np.zeros((1, n, n)), np.zeros((1, len(D.COUNCIL_COLUMNS))),
                      np.zeros((1, 0, n)), np.zeros((1, 0, n)), np.zeros((1, 3)), outcome)
    none = np.zeros(0)
    empty, starts = np.zeros(0, np.int64), np.zeros(n + 1, np.int64)
    tables = D.Tables(
        is_state=IS_STATE, key=np.zeros(n, np.uint64), cand_start=starts,
        cand=np.zeros((0, len(D.CAND_COLUMNS))), cand_feas=empty, feas_start=starts,
        feas_rep=empty, cand_util=empty, util_start=starts, util_rep=empty,
        act=np.zeros((0, len(D.ACT_COLUMNS))), score=np.zeros((0, 1)), veto_score=none,
        seat_agent=empty, seat_permanent=np.zeros(0, np.bool_), seat_key=np.zeros(0, np.uint64),
        seat_from=empty, seat_until=empty, cand_nest=empty, nests=np.zeros(n, np.int64),
        open_targets=np.zeros((n, n), np.bool_), council=np.int64(-1),
        gp=np.array([ACTORS.index(a) for a in rules.great_power_confrontation.actors]))
    return params, tables


def track(*runs):
    """The world of the given runs (all of the same length) after tracking them day by day,
    as the compiled day tracks a model's state at the end of each day, from day 0 on."""
    n_runs, n = len(runs), len(ACTORS)
    world = empty_world(n_runs, n, 1)
    params, tables = structure()
    for day in range(len(runs[0])):
        world.level[:] = 0
        for r, run in enumerate(runs):
            for key, value in run[day].items():
                if key == "deaths":
                    world.casualties[r] = value
                else:
                    world.level[r, ACTORS.index(key[0]), ACTORS.index(key[1])] = value
        D._track(world, params, tables, np.zeros(n_runs, np.int64), 0, n_runs, day)
    return world


def outcome_of(world) -> np.ndarray:
    sustain = np.full(len(world.calm), RULES.deescalated.sustain_days)
    return classify(world.first, world.calm, sustain)


def classes(*runs):
    return [OUTCOMES[k] for k in outcome_of(track(*runs))]


def test_the_most_severe_threshold_crossed_wins_whatever_the_order():
    """Great-power confrontation > war > militarized clash, whichever came first, and any
    crossed threshold beats a calm spell at the end."""
    clash = {("USA", "VEN"): 6}
    war = {("VEN", "USA"): 7}
    great = {("USA", "RUS"): 4}
    cases = [
        ("militarized clash", [clash] + [CALM] * 5),  # then a 5-day calm spell
        ("war", [clash, war, CALM, CALM, CALM, CALM]),
        ("great-power confrontation", [war, great, CALM, CALM, CALM, CALM]),
        ("great-power confrontation", [great, clash, CALM, CALM, CALM, war]),
    ]
    assert classes(*(run for _, run in cases)) == [expected for expected, _ in cases]


def test_war_is_also_crossed_by_deaths_alone():
    """At 1,000 deaths in all (the default), a run is a war though no pair passed rung 5;
    at 999 it is a frozen crisis."""
    coercion = {("USA", "VEN"): 5}
    run = [coercion, coercion, {**coercion, "deaths": 400}, {**coercion, "deaths": 1000}]
    short = [coercion, coercion, {**coercion, "deaths": 400}, {**coercion, "deaths": 999}]
    assert classes(run, short) == ["war", "frozen crisis"]


def test_great_power_confrontation_counts_either_direction_of_the_named_pair_only():
    """Rung 4 between the two named powers, in either direction, is a confrontation; rung 3
    between them, or rung 4 held by or against anyone else, is not."""
    runs = [
        [{("RUS", "USA"): 4}] + [CALM] * 3,
        [{("USA", "RUS"): 3}] * 4,
        [{("VEN", "USA"): 4}] * 4,
        [{("RUS", "VEN"): 4}] * 4,
    ]
    assert classes(*runs) == ["great-power confrontation"] + ["frozen crisis"] * 3


def test_first_crossing_days_are_recorded_and_never_moved():
    """The day each threshold is first crossed, from day 0; a threshold never crossed is
    censored (-1 here, an empty cell in runs.csv)."""
    run = [{("USA", "VEN"): 3}, {("USA", "VEN"): 3}, {("USA", "VEN"): 6}, CALM,
           {("USA", "VEN"): 7}, {("USA", "VEN"): 6}]
    first = track(run).first[0]
    assert dict(zip(THRESHOLDS, first.tolist(), strict=True)) == {
        "deescalated": -1, "militarized_clash": 2, "war": 4, "great_power_confrontation": -1}


@pytest.mark.parametrize("days, expected, first_calm", [
    # rung 1 is max_level: at or below it is calm, from day 0 on
    ([{("USA", "VEN"): 1}] * 6, "de-escalated", 2),
    # the spell reaches 3 days on the last day
    ([{("USA", "VEN"): 3}] * 3 + [CALM] * 3, "de-escalated", 5),
    # 2 calm days at the end are too few
    ([{("USA", "VEN"): 2}] * 4 + [CALM] * 2, "frozen crisis", -1),
    # a 3-day spell that is broken does not count: the run must end in one
    ([CALM] * 3 + [{("RUS", "VEN"): 2}] + [CALM] * 2, "frozen crisis", 2),
    # every state pair must be calm: one pair above 1 keeps the crisis frozen
    ([{("USA", "VEN"): 0, ("VEN", "RUS"): 2}] * 6, "frozen crisis", -1),
    # levels held by the institution are not state pairs
    ([{("UNSC", "VEN"): 7}] * 6, "de-escalated", 2),
])
def test_de_escalated_needs_a_calm_spell_of_sustain_days_at_the_end(days, expected,
                                                                     first_calm):
    """De-escalated only after every state pair has been at or below max_level for
    sustain_days days in a row, at the horizon; the spell's first completion is the
    de-escalation threshold's first day."""
    world = track(days)
    assert OUTCOMES[outcome_of(world)[0]] == expected
    assert world.first[0, THRESHOLDS.index("deescalated")] == first_calm
