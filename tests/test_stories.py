"""Findings the model should reproduce, each stated in its test's docstring.

Scenarios are compared on common random numbers (same seed, same run
indices), so each comparison is paired: the tolerance is three standard errors
of the mean per-run difference, from the sample itself.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.montecarlo import simulate
from sim.outcomes import OUTCOMES
from sim.scenario import load_scenario
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
    from sim.model import EscalationModel
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
