"""The escalation model: Mesa agents deciding for a whole batch of runs at once.

State lives in the model as arrays with a leading *runs* axis, so one crisis
is simply a batch of one and a Monte Carlo ensemble is a bigger batch, with
the same semantics. Each day every agent decides on yesterday's state
(simultaneous moves), then all moves are applied together.

Per directed pair (i, j) of actors the model keeps:

- ``hostility[r, i, j]`` / ``cooperation[r, i, j]``: decaying memory of the
  hostility and cooperation *i received from j* (Goldstein weight / 10 per
  event, times the memory decay per day);
- ``level[r, i, j]``: rung of *i's* escalation against *j* on the catalogue's
  0..7 ladder; it rises to the rung of any hostile act and relaxes one rung
  after ``relax_days`` without an act at that rung;
- ``assets[r, i, j]``: property of *j* held by *i* (the seized tankers);
- ``threat_until[r, i, j]``: the last day *i*'s public threat against *j*
  binds (audience costs).

Plus casualties per run, each state's military capability, and the Council's
agenda (requested meeting, session, restraint call, resolutions, inquiries).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.inputs import catalogue as cat
from sim.inputs.scenario import Scenario
from sim.limits import MAX_HORIZON_DAYS
from sim.model import decision
from sim.model import outcomes as oc
from sim.model.agents import CouncilAgent, StateAgent
from sim.model.rng import SLOTS_PER_ACTOR, RunStreams

NO_TARGET = -1
HOLD = -1


@dataclass
class DayRecord:
    """What happened on one day, for the runs being recorded (story, trajectories)."""

    action: np.ndarray  # (runs, actors) action index or HOLD
    target: np.ndarray  # (runs, actors) target actor index or NO_TARGET
    level: np.ndarray  # (runs, actors, actors) levels after the day's moves
    casualties: np.ndarray  # (runs,)
    index: np.ndarray  # (runs,)
    votes: list  # VoteRecord of each vote held that day


class EscalationModel(mesa.Model):
    """A batch of independent runs of one scenario.

    Parameters
    ----------
    scenario:
        A loaded :class:`~sim.inputs.scenario.Scenario`.
    runs:
        Run indices simulated in this batch (an int ``n`` means ``range(n)``).
        Run K's randomness depends only on (seed, K), never on the batch.
    seed:
        Master seed (default: the scenario's Monte Carlo seed).
    record:
        Keep the day-by-day record (actions, levels, votes) for every run of
        the batch: needed for stories and trajectories, not for summaries.

    """

    def __init__(self, scenario: Scenario, runs=1, seed: int | None = None,
                 days: int | None = None, record: bool = False):
        seed = scenario.spec.montecarlo.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.crisis = scenario  # not `scenario`: Mesa 3.5 reserves that name
        self.spec = scenario.spec
        self.seed = seed
        self.run_ids = np.arange(runs) if np.isscalar(runs) else np.asarray(runs, dtype=np.int64)
        self.n_runs = len(self.run_ids)
        self.horizon = self.spec.horizon_days if days is None else int(days)
        if not 1 <= self.horizon <= MAX_HORIZON_DAYS:  # day counters are int16
            raise ValueError(f"horizon must be 1..{MAX_HORIZON_DAYS} days, got {self.horizon}")
        self.streams = RunStreams(seed, self.run_ids)
        self.catalogue = cat.load()
        self.day = 0
        self.record = record
        self.history: list[DayRecord] = []
        self.choices: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.votes: list = []

        spec = self.spec
        self.actor_ids = list(spec.actors)
        n, r = len(self.actor_ids), self.n_runs
        self.n_actors = n
        self.is_state = np.array([a.kind == "state" for a in spec.actors.values()])
        idx = {a: i for i, a in enumerate(self.actor_ids)}
        self.actor_index = idx
        self.commitment = np.zeros((n, n))
        self.pressure = np.zeros((n, n))
        for i, actor in enumerate(spec.actors.values()):
            for other, value in actor.commitments.items():
                self.commitment[i, idx[other]] = value
            for other, value in actor.pressure.items():
                self.pressure[i, idx[other]] = value
        caps = [a.capabilities for a in spec.actors.values()]
        self.naval = np.array([c.naval for c in caps])
        self.economic = np.array([c.economic for c in caps])
        self.state_pairs = self.is_state[:, None] & self.is_state[None, :] & ~np.eye(n, dtype=bool)

        # --- mutable state, leading axis = runs ------------------------------------------
        self.hostility = np.zeros((r, n, n))
        self.cooperation = np.zeros((r, n, n))
        self.level = np.zeros((r, n, n), dtype=np.int8)
        self.since = np.zeros((r, n, n), dtype=np.int16)
        self.assets = np.zeros((r, n, n), dtype=np.int16)
        self.threat_until = np.full((r, n, n), -1, dtype=np.int16)
        self.military = np.tile(np.array([c.military for c in caps]), (r, 1))
        self.casualties = np.zeros(r)
        self.indices = np.zeros((r, len(cat.SCHEMES)))  # escalation index under every scheme
        self.meeting_day = np.full(r, -1, dtype=np.int32)
        self.session_until = np.full(r, -1, dtype=np.int32)
        self.restraint_until = np.full(r, -1, dtype=np.int32)
        self.restraint = np.zeros(r)
        self.resolution = np.zeros((r, n), dtype=bool)
        self.voted_this_session = np.zeros((r, n), dtype=bool)
        self.inquiry = np.zeros((r, n))
        self.scheme = cat.SCHEMES.index(spec.scoring)
        self.score_table = np.stack([self.catalogue.scores(s) for s in cat.SCHEMES], axis=1)
        self.tracker = oc.Tracker(spec.outcomes, self.actor_ids, self.is_state, r,
                                  len(cat.SCHEMES))

        # --- agents ------------------------------------------------------------------------
        self.council = None
        self.agents_by_index = {}
        for i, (aid, actor) in enumerate(spec.actors.items()):
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
        self._forced: dict[int, tuple[int, int]] = {}
        self.schedule_by_day: dict[int, list] = {}
        for ev in spec.schedule:
            self.schedule_by_day.setdefault(ev.day, []).append(ev)

        self.datacollector = mesa.DataCollector(model_reporters={
            "day": "day",
            "mean_index": lambda m: float(m.index.mean()),
            "mean_max_level": lambda m: float(m.tracker.top.mean()),
            "mean_casualties": lambda m: float(m.casualties.mean()),
        })
        self._apply_history()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ helpers --------

    @property
    def index(self) -> np.ndarray:
        """Escalation index under the scenario's scoring scheme, per run (a view)."""
        return self.indices[:, self.scheme]

    def max_state_level(self) -> np.ndarray:
        """Highest level over directed state pairs, per run."""
        return np.where(self.state_pairs, self.level, 0).max(axis=(1, 2))

    def pair_level(self) -> np.ndarray:
        """Undirected pair level max(level[i,j], level[j,i]), shape (runs, n, n)."""
        return np.maximum(self.level, self.level.transpose(0, 2, 1))

    def observe(self):
        """Derived views of yesterday's state that every agent's decision reads."""
        self.view_pair = self.pair_level()
        self.view_top = self.max_state_level()  # [r]: highest level between two states
        self.view_pressed = self.level.max(axis=1)  # [r, j]: highest level anyone holds on j
        self.view_pressing = self.level.max(axis=2)  # [r, j]: highest level j holds on anyone

    def uniform(self, actor: int, purpose: int) -> np.ndarray:
        """Today's uniform draws for ``actor`` and ``purpose``, one per run."""
        return self.streams.uniform(self.day, actor * SLOTS_PER_ACTOR + purpose)

    def force(self, actor: str, action: str | None, target: str | None = None):
        """Impose ``actor``'s move in the next step, in every run (``None``: hold).

        This is how a human player (or a test) plays: the move replaces the
        actor's own choice for one day; everything else follows the rules.
        """
        a = HOLD if action is None else self.catalogue.index[action]
        j = NO_TARGET if target is None else self.actor_index[target]
        self._forced[self.actor_index[actor]] = (a, j)

    def forced_move(self, i: int):
        """The move imposed on actor ``i`` today (by :meth:`force` or the schedule), if any."""
        if i in self._forced:
            return self._forced.pop(i)
        for ev in self.schedule_by_day.get(self.day, []):
            if self.actor_index[ev.actor] == i:
                a = self.catalogue.index[ev.action]
                return a, NO_TARGET if ev.target is None else self.actor_index[ev.target]
        return None

    # ------------------------------------------------------------------ history --------

    def _apply_history(self):
        """Start from the seed events: the same effects as in play, decayed to day 0."""
        decay = self.spec.memory.decay
        idx = self.actor_index
        all_runs = np.arange(self.n_runs)
        for ev in sorted(self.crisis.events, key=lambda e: e.day):
            a = self.catalogue.index[ev.action]
            i = idx[ev.actor]
            j = NO_TARGET if ev.target is None else idx[ev.target]
            weight = decay ** (-ev.day)
            for _ in range(ev.count):
                self._apply_action(all_runs, i, np.full(self.n_runs, a), np.full(self.n_runs, j),
                                   day=ev.day, weight=weight)
            self.casualties += ev.casualties
            self.indices += weight * self.score_table[a] * ev.count
        # levels relax for the days that passed between each event and day 0
        relax_days = self.spec.memory.relax_days
        steps = np.minimum(self.since // relax_days, self.level).astype(np.int8)
        self.level = (self.level - steps).astype(np.int8)
        self.since = (self.since % relax_days).astype(np.int16)
        self.tracker.update(self)

    # ------------------------------------------------------------------ step -----------

    def step(self):
        """One day: every agent decides on yesterday's state, then all moves apply."""
        self.day += 1
        self.choices, self.votes = {}, []
        self.observe()
        self.agents.do("decide")
        self._apply_moves()
        self.datacollector.collect(self)
        self.running = self.day < self.horizon  # lets mesa.batch_run stop at the horizon

    def vote_log(self):
        """Every recorded vote: (day, run position, target, yes, vetoing seats, adopted)."""
        for day, rec in enumerate(self.history, start=1):
            for vote in rec.votes:
                for entry in vote.entries(self.council.members):
                    yield (day, *entry)

    def run(self):
        """Simulate every day to the horizon; return the per-run summary."""
        while self.day < self.horizon:
            self.step()
        return self.tracker.summary(self)

    def _apply_moves(self):
        decay = self.spec.memory.decay
        self.hostility *= decay
        self.cooperation *= decay
        self.indices *= decay
        acted_at_level = np.zeros_like(self.level, dtype=bool)
        for i, (action, target) in sorted(self.choices.items()):
            rows = np.nonzero(action != HOLD)[0]
            if rows.size == 0:
                continue
            self._apply_action(rows, i, action[rows], target[rows], day=self.day, weight=1.0,
                               acted=acted_at_level)
            self.indices[rows] += self.score_table[action[rows]]
        self.since = np.where(acted_at_level, 0, self.since + 1).astype(np.int16)
        self._relax()
        self.tracker.update(self)
        if self.record:
            act = np.full((self.n_runs, self.n_actors), HOLD, dtype=np.int16)
            tgt = np.full((self.n_runs, self.n_actors), NO_TARGET, dtype=np.int16)
            for i, (action, target) in self.choices.items():
                act[:, i], tgt[:, i] = action, target
            self.history.append(DayRecord(act, tgt, self.level.copy(), self.casualties.copy(),
                                          self.index.copy(), list(self.votes)))

    def _relax(self):
        """A level falls one rung after ``relax_days`` without an act at that rung."""
        relax = (self.since >= self.spec.memory.relax_days) & (self.level > 0)
        self.level = np.where(relax, self.level - 1, self.level).astype(np.int8)
        self.since = np.where(relax, 0, self.since).astype(np.int16)

    def _apply_action(self, rows, i, action, target, day, weight, acted=None):
        """Apply actor ``i``'s ``action`` against ``target`` in ``rows`` (all same length)."""
        c = self.catalogue
        has_target = target != NO_TARGET
        j = np.where(has_target, target, i)
        to_state = has_target & self.is_state[j]
        # memory: j remembers what i did to it
        hr, hi, hj = rows[to_state], i, j[to_state]
        self.hostility[hr, hj, hi] += weight * c.hostility[action[to_state]]
        self.cooperation[hr, hj, hi] += weight * c.cooperation[action[to_state]]
        # allies of j feel i's hostility too, in proportion to their commitment
        for k in np.nonzero(self.commitment.any(axis=1))[0]:
            share = self.commitment[k, hj] * (hi != k)
            self.hostility[hr, k, hi] += weight * share * c.hostility[action[to_state]]
        # escalation level of i against j
        lvl = c.level[action]
        hostile = to_state & (lvl > 0)
        hr, hj, hl = rows[hostile], j[hostile], lvl[hostile]
        current = self.level[hr, i, hj]
        self.level[hr, i, hj] = np.maximum(current, hl)
        if acted is not None:
            acted[hr, i, hj] |= hl >= self.level[hr, i, hj]
        else:
            self.since[hr, i, hj] = np.where(hl >= current, -day, self.since[hr, i, hj])
        # declared effects
        self._effects(rows, i, action, j, to_state, day, weight)

    def _effects(self, rows, i, action, j, to_state, day, weight):
        """Apply the catalogue's declared effects of each run's action."""
        fx = self.catalogue.effects
        sel = to_state & (fx["seize_assets"][action] > 0)
        self.assets[rows[sel], i, j[sel]] += fx["seize_assets"][action[sel]].astype(np.int16)
        sel = to_state & (fx["release_assets"][action] > 0)
        self.assets[rows[sel], i, j[sel]] = 0
        sel = to_state & (fx["threat"][action] > 0)
        self.threat_until[rows[sel], i, j[sel]] = day + self.spec.memory.threat_days
        sel = to_state & (fx["lower_level"][action] > 0)
        if sel.any():
            r, t, d = rows[sel], j[sel], fx["lower_level"][action[sel]].astype(np.int8)
            self.level[r, i, t] = np.maximum(0, self.level[r, i, t] - d)
            self.level[r, t, i] = np.maximum(0, self.level[r, t, i] - d)
        sel = to_state & (fx["ceasefire"][action] >= 0)
        if sel.any():
            r, t, cap = rows[sel], j[sel], fx["ceasefire"][action[sel]].astype(np.int8)
            self.level[r, i, t] = np.minimum(self.level[r, i, t], cap)
            self.level[r, t, i] = np.minimum(self.level[r, t, i], cap)
        sel = to_state & (fx["capability_transfer"][action] > 0)
        r, t = rows[sel], j[sel]
        self.military[r, t] = np.minimum(1.0, self.military[r, t]
                                         + fx["capability_transfer"][action[sel]])
        # support for j counts as hostility, against i, by those pressing j (level >= 3)
        sel = to_state & (fx["third_party_hostility"][action] > 0)
        if sel.any():
            r, t, a = rows[sel], j[sel], action[sel]
            amount = weight * fx["third_party_hostility"][a] * self.catalogue.cooperation[a]
            for k in np.nonzero(self.is_state)[0]:
                if k == i:
                    continue
                pressing = (self.level[r, k, t] >= 3) & (t != k)
                self.hostility[r[pressing], k, i] += amount[pressing]
        cas = fx["casualties"][action]
        sel = cas > 0
        if sel.any() and day > 0:
            u = self.uniform(i, 1)[rows[sel]]
            self.casualties[rows[sel]] += decision.exponential(cas[sel], u)
        # the Council's agenda
        sel = fx["request_meeting"][action] > 0
        if sel.any() and self.council is not None:
            r = rows[sel]
            pending = self.meeting_day[r] >= day
            self.meeting_day[r] = np.where(
                pending, self.meeting_day[r], day + self.council.procedure.meeting_delay_days)
        if self.council is not None and i == self.council.index:
            self.council.apply(rows, action, j, to_state, day)
