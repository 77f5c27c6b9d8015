"""The compiled crisis day agrees with a plain-Python oracle written from docs/model.md.

The oracle (tests/oracle.py) executes the formula block of docs/model.md for
every utility, so a formula changed in the code but not in the document (or
the other way round) makes these tests fail.

Floats are compared to 1e-12 relative. They come out bit-identical here: both
sides do the same IEEE operations in the same order and call the C library's
exp and log1p; the tolerance only leaves room for a C library or compiler that
rounds a last bit differently.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.scenario import load_scenario
from sim.model import day as D
from sim.model.model import EscalationModel, take
from sim.model.params import ParameterSets, parameter_paths
from tests.conftest import BASELINE, SCENARIOS
from tests.oracle import NEVER, UNSET, Oracle, formula_block, load_formulas

FLOATS = ("hostility", "cooperation", "military", "casualties", "indices", "restraint",
          "inquiry", "peak_indices")
# Ranges for scrambled parameter sets where the scenario format's bounds would make a
# mechanism unreachable within a day (a threshold of 10^9 deaths, a 365-day memory).
SMALL = {"relax_days": (1, 8), "threat_days": (1, 30), "meeting_delay_days": (0, 4),
         "session_days": (1, 5), "restraint_days": (1, 10), "sustain_days": (1, 20),
         "casualties": (1, 3000)}


def random_sets(scenario, rng, n_sets: int) -> ParameterSets:
    """``n_sets`` parameter sets with every parameter path drawn within its valid range."""
    terms = scenario.seat_days()  # the fewest seats sitting on any day of the horizon
    seats = min((sum((a is None or a <= d) and (b is None or d <= b) for a, b in terms)
                 for d in range(1, scenario.spec.horizon_days + 1)), default=0)
    table = {}
    for name, where in parameter_paths(scenario).items():
        last = name.rsplit(".", 1)[-1]
        lo, hi = SMALL.get(last, (where.lo, where.hi))
        if last == "votes_to_pass":
            hi = seats
        if where.integer:
            values = rng.integers(int(lo), int(hi) + 1, n_sets).astype(float)
        else:
            values = lo + (hi - lo) * rng.uniform(0.001, 0.999, n_sets)  # open bounds too
        table[name] = values.tolist()
    return ParameterSets(scenario, table)


def scramble(model, rng, day: int):
    """Overwrite the model's world with random states that the day can start from."""
    w, runs, n = model.world, model.n_runs, model.n_actors
    pairs = model.state_pairs[None]
    shape = (runs, n, n)
    w.level[:] = np.where(pairs, rng.integers(0, 8, shape), 0)
    w.since[:] = rng.integers(0, 12, shape)
    w.assets[:] = np.where(pairs, rng.integers(0, 3, shape) * (rng.random(shape) < 0.3), 0)
    w.threat_until[:] = rng.integers(-1, day + 20, shape)
    w.hostility[:] = rng.exponential(0.5, shape)
    w.cooperation[:] = rng.exponential(0.5, shape)
    w.military[:] = rng.random((runs, n))
    w.casualties[:] = np.floor(rng.exponential(300, runs))
    w.indices[:] = rng.normal(20, 20, w.indices.shape)
    w.peak_indices[:] = w.indices + rng.exponential(10, w.indices.shape)
    w.meeting_day[:] = rng.choice([NEVER, day - 3, day - 1, day, day, day + 1, day + 2], runs)
    w.session_until[:] = rng.choice([NEVER, day - 1, day, day + 1, day + 3], runs)
    w.restraint_until[:] = rng.choice([NEVER, day - 1, day, day + 4], runs)
    w.restraint[:] = rng.random(runs) * 0.5
    w.resolution[:] = rng.random((runs, n)) < 0.3
    w.voted[:] = rng.random((runs, n)) < 0.3
    w.inquiry[:] = rng.random((runs, n)) * (rng.random((runs, n)) < 0.3)
    w.first[:] = np.where(rng.random(w.first.shape) < 0.3, rng.integers(0, day, w.first.shape),
                          -1)
    w.calm[:] = rng.integers(0, 20, runs)
    w.peak[:] = np.maximum(w.level, rng.integers(0, 8, shape) * pairs)
    w.achieved[:] = rng.random(shape) < 0.2
    w.offer_until[:] = rng.integers(-1, day + 20, shape)
    w.fallen[:] = np.where(rng.random((runs, n)) < 0.1, rng.integers(0, day, (runs, n)), -1)
    # a few runs whose coercer succeeded (some today: a fall then outranks compliance)
    when = np.where(rng.random(runs) < 0.2, rng.choice([day - 5, day], runs), -1)
    w.success[:] = np.stack([when, np.where(when >= 0, rng.integers(1, 3, runs), 0)], axis=1)


def given_moves(oracle, rng, runs: int):
    """A table of moves chosen outside: in a third of the runs, each actor half the time
    takes a random candidate of its own, feasible or not (forced moves bypass preconditions),
    so every effect and every same-day conflict gets played."""
    n = oracle.n
    action = np.full((runs, n), UNSET, dtype=np.int64)
    target = np.full((runs, n), -1, dtype=np.int64)
    for r in range(0, runs, 3):
        for i in range(n):
            if rng.random() < 0.5:
                action[r, i], target[r, i] = oracle.candidates[i][
                    rng.integers(len(oracle.candidates[i]))]
    return action, target


def disagreements(model, oracle, day, action, target, limit=None) -> list[str]:
    """Advance ``model`` by ``day`` with the compiled day and every run with the oracle;
    return what differs (moves, vote, integer state exactly, floats to 1e-12)."""
    before = take(model.world, np.arange(model.n_runs))
    D.advance(model.world, model.params, model.tables, model.set_of, model.keys, day, action,
              target, model.records)
    rec, found = model.records, []
    for r in range(model.n_runs):
        want, moves, vote, vetoed = oracle.day(before, model.params, int(model.set_of[r]), r,
                                               model.keys[r], day, action[r], target[r])
        got = [(int(a), int(j)) for a, j in zip(rec.action[r], rec.target[r], strict=True)]
        if got != moves:
            found.append(f"run {r}: moves {got} != oracle {moves}")
        elif tuple(rec.vote[r]) != vote or rec.vetoed[r].tolist() != vetoed:
            found.append(f"run {r}: vote {tuple(rec.vote[r])} != oracle {vote}")
        for name in D.World._fields:
            a, b = getattr(model.world, name)[r], getattr(want, name)[0]
            same = (np.allclose(a, b, rtol=1e-12, atol=0) if name in FLOATS
                    else np.array_equal(a, b))
            if not same:
                found.append(f"run {r}: {name} {a.tolist()} != oracle {b.tolist()}")
        if limit and len(found) >= limit:
            break
    return found


def scrambled_model(scenario, seed: int, runs: int = 120, n_sets: int = 4):
    """A batch of ``runs`` runs spread over random parameter sets, scrambled at a random day."""
    rng = np.random.default_rng(seed)
    sets = random_sets(scenario, rng, n_sets)
    model = EscalationModel(scenario, runs=runs, parameters=sets, past=False,
                            sets=np.arange(runs) % n_sets)
    day = int(rng.integers(1, 60))
    scramble(model, rng, day)
    return model, rng, day


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_compiled_day_equals_oracle_on_scrambled_states(path):
    """On random states, random valid parameter sets and forced moves of every kind, the
    compiled day and the oracle built from docs/model.md make the same moves, the same
    vote, the same integer state, and the same floats."""
    scenario = load_scenario(path)
    oracle = Oracle(scenario)
    for seed in (1, 2):
        model, rng, day = scrambled_model(scenario, seed)
        action, target = given_moves(oracle, rng, model.n_runs)
        assert disagreements(model, oracle, day, action, target, limit=5) == []


def test_baseline_runs_equal_oracle_day_by_day():
    """200 runs of the baseline over 30 days: each day, the oracle restarted from the
    compiled state yesterday gives the compiled state today."""
    scenario = load_scenario(BASELINE)
    oracle = Oracle(scenario)
    model = EscalationModel(scenario, runs=200, days=30, past=False)
    unset = np.full((model.n_runs, model.n_actors), UNSET, dtype=np.int64)
    acted = 0
    for day in range(1, 31):
        assert disagreements(model, oracle, day, unset, unset.copy(), limit=5) == [], day
        acted += int((model.records.action >= 0).sum())
    assert acted > 1000  # the runs did something to compare


def test_oracle_comparison_detects_a_changed_utility_term():
    """A copy of the docs' formula block with the weight of one term changed (aims:
    coercion, times 1.5) makes the comparison fail: the test has teeth."""
    term = "x += aim * (1 - weak)"
    block = formula_block()
    assert block.count(term) == 1
    scenario = load_scenario(BASELINE)
    changed = Oracle(scenario, load_formulas(block.replace(term, "x += 1.5 * aim * (1 - weak)")))
    # the scenario's own parameters (rationality about 3: a 1.5-fold aim shifts many
    # choices), on scrambled states
    rng, day = np.random.default_rng(3), 20
    model = EscalationModel(scenario, runs=200, past=False)
    scramble(model, rng, day)
    unset = np.full((model.n_runs, model.n_actors), UNSET, dtype=np.int64)
    assert disagreements(model, changed, day, unset, unset.copy())


def play(scenario, moves: dict, level: dict, since: int = 0):
    """One day from a calm state with the given ``level``s, every actor's move given;
    the compiled day's and the oracle's next state (one run each)."""
    model = EscalationModel(scenario, runs=1, past=False)
    oracle = Oracle(scenario)
    ids, index = model.actor_ids, model.catalogue.index
    w = model.world
    w.level[:] = 0
    w.since[:] = since
    w.assets[:] = 0
    for (a, b), value in level.items():
        w.level[0, ids.index(a), ids.index(b)] = value
    action = np.full((1, len(ids)), D.HOLD, dtype=np.int64)
    target = np.full((1, len(ids)), -1, dtype=np.int64)
    for actor, (act, aim) in moves.items():
        action[0, ids.index(actor)], target[0, ids.index(actor)] = index[act], ids.index(aim)
    assert disagreements(model, oracle, 1, action, target) == []
    return model.world, ids


def test_strike_on_the_day_of_a_ceasefire_prevails():
    """docs/model.md, "Simultaneous moves": Venezuela declares a ceasefire (cap 3, both
    directions) while the US strikes (rung 6): the US level ends at 6, Venezuela's at 3,
    whichever actor comes first in the file."""
    scenario = load_scenario(BASELINE)
    w, ids = play(scenario, {"VEN": ("declare_ceasefire", "USA"),
                             "USA": ("strike_military_targets", "VEN")},
                  {("USA", "VEN"): 6, ("VEN", "USA"): 5})
    usa, ven = ids.index("USA"), ids.index("VEN")
    assert (w.level[0, usa, ven], w.level[0, ven, usa]) == (6, 3)


def test_two_seizures_of_the_same_state_both_count():
    """Two states seize a ship of the same state on one day: each holds one (the model
    keeps no finite pool of assets)."""
    scenario = load_scenario(BASELINE)
    w, ids = play(scenario, {"USA": ("seize_tanker", "VEN"), "RUS": ("seize_tanker", "VEN")},
                  {("USA", "VEN"): 4, ("VEN", "USA"): 4, ("RUS", "VEN"): 4, ("VEN", "RUS"): 4})
    ven = ids.index("VEN")
    assert (w.assets[0, ids.index("USA"), ven], w.assets[0, ids.index("RUS"), ven]) == (1, 1)
