"""The escalation model: a Mesa model of a batch of runs, advanced by the compiled day.

One crisis is a batch of one run; a Monte Carlo chunk is a bigger batch; both
run :func:`sim.model.day.advance`, the one definition of a crisis day. The
model holds the world state (arrays with a leading runs axis), each run's
parameter set, and one decision rule and one :class:`mesa.Agent` per actor.
``step()`` advances one day; Mesa's ``DataCollector`` records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.inputs import catalogue as cat
from sim.inputs.scenario import Scenario
from sim.limits import MAX_HORIZON_DAYS
from sim.model import day as D
from sim.model import outcomes as oc
from sim.model.agents import CouncilAgent, StateAgent
from sim.model.params import ParameterSets, tables
from sim.model.rng import run_keys
from sim.model.rules import LOGIT, DecisionRule, ScheduledRule

HOLD, NO_TARGET = D.HOLD, D.NO_TARGET


@dataclass
class DayRecord:
    """What happened on one day in every run of the batch (stories, players)."""

    action: np.ndarray  # (runs, actors) action index or HOLD
    target: np.ndarray  # (runs, actors) target actor index or NO_TARGET
    level: np.ndarray  # (runs, actors, actors) levels after the day's moves
    casualties: np.ndarray  # (runs,)
    index: np.ndarray  # (runs,)
    vote: np.ndarray  # (runs, 3): draft target (-1 no vote), yes votes, adopted
    vetoed: np.ndarray  # (runs, seats)


def empty_world(runs: int, n: int, schemes: int) -> D.World:
    """A world before any event: calm, no memories, no agenda."""
    never = np.full(runs, D.NEVER, dtype=np.int32)
    return D.World(
        hostility=np.zeros((runs, n, n)), cooperation=np.zeros((runs, n, n)),
        level=np.zeros((runs, n, n), dtype=np.int8), since=np.zeros((runs, n, n), np.int16),
        assets=np.zeros((runs, n, n), dtype=np.int16),
        threat_until=np.full((runs, n, n), -1, dtype=np.int16),
        military=np.zeros((runs, n)), casualties=np.zeros(runs),
        indices=np.zeros((runs, schemes)), meeting_day=never.copy(),
        session_until=never.copy(), restraint_until=never.copy(), restraint=np.zeros(runs),
        resolution=np.zeros((runs, n), dtype=np.bool_), voted=np.zeros((runs, n), np.bool_),
        inquiry=np.zeros((runs, n)),
        first=np.full((runs, len(oc.THRESHOLDS)), -1, dtype=np.int32),
        calm=np.zeros(runs, dtype=np.int32), peak=np.zeros((runs, n, n), dtype=np.int8),
        peak_indices=np.full((runs, schemes), -np.inf), top=np.zeros(runs, dtype=np.int8),
        achieved=np.zeros((runs, n, n), dtype=np.bool_),
        offer_until=np.full((runs, n, n), -1, dtype=np.int16),
        fallen=np.full((runs, n), -1, dtype=np.int32),
        success=np.tile(np.array([-1, D.SUCCESS_NONE], dtype=np.int32), (runs, 1)))


def take(world: D.World, rows) -> D.World:
    """The runs ``rows`` of ``world`` (copies)."""
    return D.World(*(np.ascontiguousarray(a[rows]) for a in world))


class EscalationModel(mesa.Model):
    """A batch of independent runs of one scenario.

    Parameters
    ----------
    scenario:
        A loaded :class:`~sim.inputs.scenario.Scenario`.
    runs:
        Run numbers simulated in this batch (an int ``n`` means ``range(n)``).
        Run K's randomness depends only on (seed, K), never on the batch.
    seed:
        Master seed (default: the scenario's Monte Carlo seed).
    days:
        Horizon (default: the scenario's).
    record:
        Keep every day's :class:`DayRecord` in ``history`` (stories, players).
    parameters, sets:
        :class:`~sim.model.params.ParameterSets` and each run's set (default:
        the scenario's own values in every run).
    rules:
        A :class:`~sim.model.rules.DecisionRule` per actor id (default: the
        logit rule). The scenario's schedule overrides any rule on its days.
    forced:
        Extra scheduled moves, ``{(day, actor id): (action id or None, target id or None)}``.
    state:
        A :class:`~sim.model.state.SavedState` to continue from (its day and
        world), with one row per run of this batch.
    streams:
        Numbers that key each run's random numbers (default: ``runs``).
    past:
        Keep every day's index and levels (for saved states and their charts).

    """

    def __init__(self, scenario: Scenario, runs=1, seed: int | None = None,
                 days: int | None = None, record: bool = False, *,
                 parameters: ParameterSets | None = None, sets=None,
                 rules: dict[str, DecisionRule] | None = None, forced: dict | None = None,
                 state=None, streams=None, past: bool = True):
        seed = scenario.spec.montecarlo.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.crisis = scenario  # not `scenario`: Mesa 3.5 reserves that name
        self.spec = spec = scenario.spec
        self.seed = seed
        self.run_ids = np.arange(runs) if np.isscalar(runs) else np.asarray(runs, dtype=np.int64)
        self.n_runs = len(self.run_ids)
        self.horizon = spec.horizon_days if days is None else int(days)
        if not 1 <= self.horizon <= MAX_HORIZON_DAYS:  # day counters are int16
            raise ValueError(f"horizon must be 1..{MAX_HORIZON_DAYS} days, got {self.horizon}")
        self.catalogue = cat.load()
        self.actor_ids = scenario.actor_ids
        self.actor_index = {a: i for i, a in enumerate(self.actor_ids)}
        self.n_actors = n = len(self.actor_ids)
        self.tables = tables(scenario)
        self.is_state = self.tables.is_state
        self.state_pairs = self.is_state[:, None] & self.is_state[None, :] & ~np.eye(n, dtype=bool)
        self.seats = sorted(next((a.council.members for a in spec.actors.values()
                                  if a.council), {}))
        self.scheme = cat.SCHEMES.index(spec.scoring)
        self.parameters = parameters or ParameterSets(scenario)
        self.params = self.parameters.params
        self.set_of = (np.zeros(self.n_runs, dtype=np.int64) if sets is None
                       else np.asarray(sets, dtype=np.int64))
        self.streams = self.run_ids if streams is None else np.asarray(streams, dtype=np.uint64)
        self.keys = run_keys(seed, self.streams)
        self.keep_past = past
        self.record = record
        self.history: list[DayRecord] = []
        if state is None:
            self.day = 0
            self.world = take(self._seeded(), self.set_of)
            self._tops = [self.world.top[:, None].copy()]
            self._past: list[tuple[np.ndarray, np.ndarray]] = []
        else:
            state.check(scenario, self.n_runs)
            self.day = state.day
            self.world = D.World(*(np.array(a) for a in state.world))
            self._tops = [np.array(state.tops, dtype=np.int8)]
            self._past = ([] if state.index_days is None else
                          [(state.index_days[:, d], state.level_days[:, d])
                           for d in range(state.day)])
        seats = len(self.seats)
        self.records = D.Records(np.full((self.n_runs, n), HOLD, dtype=np.int64),
                                 np.full((self.n_runs, n), NO_TARGET, dtype=np.int64),
                                 np.zeros((self.n_runs, 3), dtype=np.int64),
                                 np.zeros((self.n_runs, seats), dtype=np.bool_))

        # --- agents and their rules ------------------------------------------------------
        self.council = None
        self.agents_by_index = {}
        for i, aid in enumerate(self.actor_ids):
            actor = spec.actors[aid]
            agent_class = CouncilAgent if actor.kind == "institution" else StateAgent
            self.agents_by_index[i] = agent_class(self, aid, i, actor)
            if actor.kind == "institution":
                self.council = self.agents_by_index[i]
        # Mesa 3.3 numbers agents per model in a class-level dict keyed by the model
        # (Agent._ids), which keeps every model alive as long as the process
        # (https://github.com/mesa/mesa/issues/3179). All agents exist now: drop the key.
        ids = vars(mesa.Agent).get("_ids")
        if isinstance(ids, dict):
            ids.pop(self, None)
        schedule: dict[str, dict[int, tuple[int, int]]] = {a: {} for a in self.actor_ids}
        for ev in spec.schedule:
            schedule[ev.actor][ev.day] = self._move(ev.action, ev.target)
        for (day, actor), (action, target) in (forced or {}).items():
            schedule[actor][day] = self._move(action, target)
        rules = rules or {}
        self.rules = [ScheduledRule(schedule[a], then=rules.get(a, LOGIT))
                      for a in self.actor_ids]
        self._forced: dict[int, tuple[int, int]] = {}

        self.datacollector = mesa.DataCollector(model_reporters={
            "day": "day",
            "mean_index": lambda m: float(m.index.mean()),
            "mean_max_level": lambda m: float(m.world.top.mean()),
            "mean_casualties": lambda m: float(m.world.casualties.mean()),
        })
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up ---------

    def _move(self, action: str | None, target: str | None) -> tuple[int, int]:
        return (HOLD if action is None else self.catalogue.index[action],
                NO_TARGET if target is None else self.actor_index[target])

    def _seeded(self) -> D.World:
        """Day 0 of every parameter set: the seed events' effects (one run per set)."""
        sets = self.parameters.n_sets
        world = empty_world(sets, self.n_actors, len(cat.SCHEMES))
        world.military[:] = self.params.actor[:, :, D.MILITARY]
        events = sorted(self.crisis.events, key=lambda e: e.day)
        rows = [(ev.day, self.actor_index[ev.actor], self.catalogue.index[ev.action],
                 NO_TARGET if ev.target is None else self.actor_index[ev.target],
                 ev.casualties if k == ev.count - 1 else 0.0)
                for ev in events for k in range(ev.count)]
        cols = list(zip(*rows, strict=True)) if rows else [[]] * 5
        D.seed(world, self.params, self.tables, *(np.array(c, dtype=t) for c, t in zip(
            cols, (np.int64, np.int64, np.int64, np.int64, np.float64), strict=True)))
        return world

    # ------------------------------------------------------------------ views ----------

    def __getattr__(self, name):
        # the world's arrays read as the model's own: model.level, model.casualties, ...
        if name in D.World._fields and "world" in self.__dict__:
            return getattr(self.__dict__["world"], name)
        raise AttributeError(name)

    @property
    def index(self) -> np.ndarray:
        """Escalation index under the scenario's scoring scheme, per run (a view)."""
        return self.world.indices[:, self.scheme]

    def on_day(self, day: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(index under every scheme, levels) of every run at the end of ``day``, if known."""
        if day == self.day:
            return self.world.indices, self.world.level
        return self._past[day] if day < len(self._past) else None

    def forget_past(self):
        """Stop keeping each day's index and levels, and drop those kept (to save memory)."""
        self.keep_past = False
        self._past = [None] * len(self._past)

    def tops(self) -> np.ndarray:
        """Every day's highest state-pair level so far, (runs, day + 1) from day 0."""
        return np.concatenate(self._tops, axis=1)

    # ------------------------------------------------------------------ play -----------

    def force(self, actor: str, action: str | None, target: str | None = None):
        """Impose ``actor``'s move in the next step, in every run (``None``: hold).

        The move replaces the actor's own choice for one day, preconditions
        or not; everything else follows the rules.
        """
        self._forced[self.actor_index[actor]] = self._move(action, target)

    def given_moves(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The day's table of given moves: every actor's rule fills its column."""
        action = np.full((self.n_runs, self.n_actors), D.UNSET, dtype=np.int64)
        target = np.full((self.n_runs, self.n_actors), NO_TARGET, dtype=np.int64)
        for i, rule in enumerate(self.rules):
            rule.give(self, i, day, action[:, i], target[:, i])
        for i, (a, j) in self._forced.items():
            action[:, i], target[:, i] = a, j
        self._forced.clear()
        return action, target

    def step(self):
        """One day: every actor chooses on yesterday's state, then all moves apply together."""
        day = self.day + 1
        if day > MAX_HORIZON_DAYS:
            raise ValueError(f"a crisis lasts at most {MAX_HORIZON_DAYS} days")
        action, target = self.given_moves(day)
        if self.keep_past:
            self._past.append((self.world.indices.copy(), self.world.level.copy()))
        D.advance(self.world, self.params, self.tables, self.set_of, self.keys, day, action,
                  target, self.records)
        self.day = day
        self._tops.append(self.world.top[:, None].copy())
        if self.record:
            rec = self.records
            self.history.append(DayRecord(rec.action.copy(), rec.target.copy(),
                                          self.world.level.copy(),
                                          self.world.casualties.copy(), self.index.copy(),
                                          rec.vote.copy(), rec.vetoed.copy()))
        self.datacollector.collect(self)
        self.running = self.day < self.horizon  # lets mesa.batch_run stop at the horizon

    def run(self):
        """Simulate every day to the horizon; return the per-run summary."""
        while self.day < self.horizon:
            self.step()
        return self.summary()

    def vote_log(self):
        """Every recorded vote: (day, run position, target, yes, vetoing seats, adopted)."""
        for day, rec in enumerate(self.history, start=self.day - len(self.history) + 1):
            for r in np.nonzero(rec.vote[:, 0] >= 0)[0]:
                vetoes = tuple(self.seats[k] for k in np.nonzero(rec.vetoed[r])[0])
                yield (day, int(r), int(rec.vote[r, 0]), int(rec.vote[r, 1]), vetoes,
                       bool(rec.vote[r, 2]))

    def summary(self) -> dict:
        """Per-run results as arrays (one entry per run of the batch)."""
        w = self.world
        sustain = self.params.outcome[self.set_of, D.CALM_DAYS]
        return {
            "run": self.run_ids,
            "outcome": oc.classify(w.first, w.calm, sustain),
            "first": w.first.copy(),
            "peak": w.peak.copy(),
            "casualties": w.casualties.copy(),
            "final_index": self.index.copy(),
            "peak_index": w.peak_indices[:, self.scheme].copy(),
            "peak_by_scheme": w.peak_indices.copy(),
            "path": oc.paths(self.tops()),
            "success": w.success.copy(),  # first day a coercer's aim was reached, and how
        }
