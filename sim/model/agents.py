"""The agents: states and the Security Council, each deciding for every run at once.

A :class:`StateAgent` scores every (action, target) candidate open to it with
the utility below and draws one by the logit rule (:mod:`sim.model.decision`). The
:class:`CouncilAgent` follows the Council's procedure: a request leads to a
meeting after a delay; in session it chooses among its institutional actions;
a draft resolution is put to the vote of its members. The utility terms are
described in docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.model import decision, kernels

HOLD = -1
NO_TARGET = -1


@dataclass(frozen=True)
class Seat:
    """A Council seat: an agent's (``agent`` is its index) or a parameterised one."""

    name: str
    permanent: bool
    agent: int | None
    p_yes: np.ndarray  # chance of a yes vote, by draft target
    p_veto: float


@dataclass
class VoteRecord:
    """The drafts put to the vote on one day, one entry per run that voted."""

    rows: np.ndarray
    target: np.ndarray
    yes: np.ndarray
    vetoed: np.ndarray  # (runs that voted, seats)
    passed: np.ndarray

    def entries(self, seats):
        """Per run: (run position, target, yes votes, vetoing seats, adopted)."""
        for n, r in enumerate(self.rows):
            vetoes = tuple(seats[k].name for k in np.nonzero(self.vetoed[n])[0])
            yield int(r), int(self.target[n]), int(self.yes[n]), vetoes, bool(self.passed[n])


class _Actor(mesa.Agent):
    """What states and the Council share: identity, candidates, the daily choice."""

    kind = ""

    def __init__(self, model, actor_id: str, index: int, params):
        super().__init__(model)
        self.actor_id = actor_id
        self.index = index
        self.params = params
        cat = model.catalogue
        actions, targets = [HOLD], [NO_TARGET]
        for a, action in enumerate(cat.actions):
            if self.kind not in action.actors or action.requires.vote_only:
                continue
            for j in self._targets(action.target):
                if self._statically_feasible(action, j):
                    actions.append(a)
                    targets.append(j)
        self.cand_action = np.array(actions)
        self.cand_target = np.array(targets)
        self.safe_target = np.where(self.cand_target < 0, index, self.cand_target)
        real = np.maximum(self.cand_action, 0)
        self.tone = np.where(self.cand_action < 0, 0.0, cat.tone[real])
        self.host = np.where(self.cand_action < 0, 0.0, cat.hostility[real])
        self.coop = np.where(self.cand_action < 0, 0.0, cat.cooperation[real])
        self.rung = np.where(self.cand_action < 0, 0, cat.level[real]).astype(float)
        self.req = {name: np.where(self.cand_action < 0, np.nan, cat.column(f"requires.{name}",
                                                                           np.nan)[real])
                    for name in ("min_level", "min_level_against_actor", "min_level_by_target",
                                 "target_under_pressure", "commitment")}
        self.flags = {name: np.where(self.cand_action < 0, 0.0,
                                     cat.column(f"requires.{name}")[real]) > 0
                      for name in ("holds_assets", "no_pending_meeting", "meeting_due",
                                   "in_session", "once_per_session")}
        need_mil = [0.0] + [cat.actions[a].requires.capability.get("military", 0.0)
                            for a in actions[1:]]
        self.need_military = np.array(need_mil)
        self._tables = None  # the compiled kernel's per-candidate constants, made on first use

    def _targets(self, target_kind: str):
        m = self.model
        if target_kind == "none":
            return [NO_TARGET]
        want_state = target_kind == "state"
        return [j for j in range(m.n_actors) if j != self.index and m.is_state[j] == want_state]

    def _statically_feasible(self, action, j) -> bool:
        m = self.model
        caps = action.requires.capability
        if caps.get("naval", 0) > m.naval[self.index]:
            return False
        if caps.get("economic", 0) > m.economic[self.index]:
            return False
        if action.requires.commitment is not None:
            return j >= 0 and m.commitment[self.index, j] >= action.requires.commitment
        return True

    def feasible(self) -> np.ndarray:
        """Which candidates each run may choose today (the catalogue's preconditions)."""
        m, i = self.model, self.index
        t = self.safe_target
        pair = m.view_pair
        ok = np.ones((m.n_runs, len(self.cand_action)), dtype=bool)
        for name, value in self.req.items():
            need = ~np.isnan(value)
            if not need.any() or name == "commitment":
                continue
            if name == "min_level":
                have = pair[:, i, t]
            elif name == "min_level_against_actor":
                against_me = m.view_pressed[:, [i]]
                have = np.where(m.is_state[t] & (self.cand_target >= 0), m.level[:, t, i],
                                against_me)
            elif name == "min_level_by_target":
                have = m.view_pressing[:, t]
            else:  # target_under_pressure
                have = m.view_pressed[:, t]
            ok &= ~need | (have >= np.nan_to_num(value))
        ok &= m.military[:, [i]] >= self.need_military
        if self.flags["holds_assets"].any():
            ok &= ~self.flags["holds_assets"] | (m.assets[:, i, t] > 0)
        if self.flags["no_pending_meeting"].any():
            free = (m.meeting_day < m.day) & (m.session_until < m.day)
            ok &= ~self.flags["no_pending_meeting"] | free[:, None]
        if self.flags["meeting_due"].any():
            ok &= ~self.flags["meeting_due"] | (m.meeting_day == m.day)[:, None]
        if self.flags["in_session"].any():
            ok &= ~self.flags["in_session"] | (m.session_until >= m.day)[:, None]
        if self.flags["once_per_session"].any():
            ok &= ~self.flags["once_per_session"] | ~m.voted_this_session[:, t]
        return ok

    def decide(self):
        """Choose today's move in every run (scheduled events override the choice)."""
        m = self.model
        forced = m.forced_move(self.index)
        if forced is not None:
            a, j = forced
            m.choices[self.index] = (np.full(m.n_runs, a), np.full(m.n_runs, j))
            return
        k = self.choose(m.uniform(self.index, 0))
        m.choices[self.index] = (self.cand_action[k], self.cand_target[k])

    def choose(self, uniform: np.ndarray) -> np.ndarray:
        """Index of today's candidate in every run: the logit rule over feasible ones."""
        utility = self.utility() - self.params.inertia * (self.cand_action != HOLD)
        return decision.choose(utility, self.feasible(), self.params.rationality, uniform)


class StateAgent(_Actor):
    """A state: reciprocates, pursues its aims, weighs costs, risk and audience costs."""

    kind = "state"

    def choose(self, uniform: np.ndarray) -> np.ndarray:
        """The logit choice; compiled (bit-identical) when :mod:`sim.model.kernels` is enabled."""
        if not kernels.enabled():
            return super().choose(uniform)
        m, p, i = self.model, self.params, self.index
        if self._tables is None:  # per-candidate constants, as utility() derives them
            real = self.cand_target >= 0
            to_state = real & m.is_state[self.safe_target]
            self._tables = (*kernels.candidate_tables(self.req, self.flags), self.rung / 7.0,
                            to_state, real & ~to_state, real)
        req, flags, rung7, to_state, to_inst, real = self._tables
        return kernels.state_choice(
            i, self.cand_action, self.cand_target, self.safe_target, self.tone, self.host,
            self.coop, rung7, self.rung, req, flags, self.need_military, to_state, to_inst,
            real, self.m_pressure, self.m_commit, m.commitment, m.is_state, p.reciprocity,
            p.resolve, p.risk_aversion, p.audience_cost, p.inertia, p.rationality, m.hostility,
            m.cooperation, m.military, m.view_pair, m.view_pressed, m.view_pressing, m.level,
            m.threat_until, m.assets, m.casualties, self._institutional_pressure(),
            m.meeting_day, m.session_until, m.voted_this_session, m.day, uniform)

    def utility(self) -> np.ndarray:
        """Utility of every candidate in every run, shape (runs, candidates)."""
        m, p, i = self.model, self.params, self.index
        t, real = self.safe_target, self.cand_target >= 0
        to_state = real & m.is_state[t]
        to_inst = real & ~m.is_state[t]
        # Sums are explicit loops in a fixed order (not einsum, whose order may
        # change with the array's size), so a run's utilities never depend on
        # the batch it is in.
        # Perceived provocation: hostility received from each actor, plus what my
        # allies received, in proportion to my commitment to them.
        received = m.hostility[:, i, :].copy()
        for k in range(m.n_actors):
            received += m.commitment[i, k] * m.hostility[:, k, :]
        tau = np.minimum(np.maximum(m.cooperation[:, i, :] - received, -1.0), 1.0)[:, t]
        pair = m.view_pair[:, i, t] / 7.0
        rung = self.rung / 7.0
        # Who backs the target: its own strength plus its allies', by commitment.
        backing_all = m.military.copy()
        for k in range(m.n_actors):
            backing_all += m.military[:, [k]] * m.commitment[k]
        backing = backing_all[:, t]
        weak = backing / (m.military[:, [i]] + backing + 1e-9)
        pressed_target = m.view_pressed[:, t] / 7.0
        pressed_me = m.view_pressed[:, [i]] / 7.0
        half = (rung + pair) / 2

        u = p.reciprocity * (2 * self.tone * tau - self.tone * self.tone)
        u += self.m_pressure[t] * self.host
        u -= (1 - p.resolve) * 2 * weak * (rung * rung)
        u -= p.risk_aversion * 4 * weak * (half * half * half) * (self.rung > 0)
        u -= 0.5 * np.maximum(0.0, self.rung - 7 * pair - 1)
        u += self.m_commit[t] * (self.coop * pressed_target - 2 * self.host)
        u += p.risk_aversion * 2 * self.coop * (pair * pair)
        u += self.coop * (1 - p.resolve) * np.minimum(1.0, m.casualties / 1000.0)[:, None]
        u -= p.audience_cost * self.coop * (m.threat_until[:, i, t] >= m.day)
        u -= rung * self._institutional_pressure()[:, None]
        u = np.where(to_state, u, 0.0)
        u += np.where(to_inst, pressed_me * (1 + self.coop) - 0.3, 0.0)
        u += np.where(real, 0.0, 0.1 * (self.cand_action != HOLD))
        return u

    def _institutional_pressure(self) -> np.ndarray:
        m, i = self.model, self.index
        if m.council is None:
            return np.zeros(m.n_runs)
        c = m.council.procedure
        restraint = (m.restraint_until >= m.day) * m.restraint
        return restraint + m.resolution[:, i] * c.resolution_cost + m.inquiry[:, i]

    @property
    def m_pressure(self):
        """How much this state wants to coerce each actor (its ``pressure`` aims)."""
        return self.model.pressure[self.index]

    @property
    def m_commit(self):
        """Commitment of this state to each actor."""
        return self.model.commitment[self.index]

    def vote(self, rows: np.ndarray, target: np.ndarray, permanent: bool, u: np.ndarray):
        """Vote on a draft demanding restraint from ``target``: (yes, veto) per run."""
        m, p, i = self.model, self.params, self.index
        stake = np.where(target == i, 1.0, m.commitment[i, target])
        against = m.pressure[i, target] + m.level[rows, i, target] / 7.0
        options = [against - 2 * stake, np.zeros(len(rows))]
        if permanent:
            options.append(2 * stake - m.council.procedure.veto_cost - 0.5)
        utility = np.stack(options, axis=1)
        feasible = np.ones_like(utility, dtype=bool)
        pick = decision.choose(utility, feasible, p.rationality, u)
        return pick == 0, pick == 2


class CouncilAgent(_Actor):
    """The Security Council: meets on request, then calls, drafts, mediates, inquires."""

    kind = "institution"

    def __init__(self, model, actor_id, index, params):
        super().__init__(model, actor_id, index, params)
        self.procedure = params.council
        ids = model.actor_ids
        self.members = [
            Seat(name, seat.permanent, ids.index(name) if name in ids else None,
                 np.array([seat.yes_probability_by_target.get(a, seat.yes_probability)
                           for a in ids]),
                 seat.veto_probability if seat.permanent else 0.0)
            for name, seat in self.procedure.members.items()]

    def utility(self) -> np.ndarray:
        """Each institutional action is worth its effect times how tense things are."""
        m, c = self.model, self.procedure
        t, real = self.safe_target, self.cand_target >= 0
        crisis = m.view_top[:, None] / 7.0
        by_target = m.view_pressing[:, t] / 7.0
        fx = m.catalogue.effects
        a = np.maximum(self.cand_action, 0)
        weight = np.where(self.cand_action < 0, 0.0,
                          fx["restraint"][a] + fx["mediation"][a] + fx["fact_finding"][a]
                          + 0.4 * fx["resolution"][a])
        severity = np.where(real, by_target, crisis)
        u = c.activism * severity * weight * 3
        u += np.where(self.flags["meeting_due"], 10.0, 0.0)
        u += np.where((self.cand_action >= 0) & (weight == 0) & ~self.flags["meeting_due"],
                      0.1, 0.0)
        return u

    def apply(self, rows, action, j, to_state, day):
        """Carry out the Council's institutional effects for the runs in ``rows``."""
        m, c = self.model, self.procedure
        fx = m.catalogue.effects
        sel = fx["convene"][action] > 0
        m.session_until[rows[sel]] = day + c.session_days
        m.voted_this_session[rows[sel]] = False
        m.meeting_day[rows[sel]] = -1
        sel = fx["restraint"][action] > 0
        m.restraint_until[rows[sel]] = day + c.restraint_days
        m.restraint[rows[sel]] = fx["restraint"][action[sel]]
        sel = fx["mediation"][action] > 0
        if sel.any():
            r = rows[sel]
            keep = 1 - fx["mediation"][action[sel]][:, None, None] * m.state_pairs
            m.hostility[r] *= keep
        sel = to_state & (fx["fact_finding"][action] > 0)
        m.inquiry[rows[sel], j[sel]] += fx["fact_finding"][action[sel]]
        sel = to_state & (fx["resolution"][action] > 0)
        if sel.any():
            self.vote(rows[sel], j[sel], day)

    def vote(self, rows, target, day):
        """Put a draft demanding restraint from ``target`` to the vote; record the tally."""
        m, c = self.model, self.procedure
        yes = np.zeros(len(rows), dtype=np.int16)
        vetoed = np.zeros((len(rows), len(self.members)), dtype=bool)
        veto_score = m.score_table[m.catalogue.index["veto"]]
        for k, seat in enumerate(self.members):
            u = m.uniform(self.index, 2 + k)[rows]
            if seat.agent is not None:
                said_yes, veto = m.agents_by_index[seat.agent].vote(rows, target, seat.permanent,
                                                                    u)
                m.indices[rows[veto]] += veto_score  # a veto is the vetoer's act (CAMEO 129)
            else:
                said_yes = u < seat.p_yes[target]
                veto = ~said_yes & (u >= 1 - seat.p_veto)
            yes += said_yes
            vetoed[:, k] = veto
        passed = (yes >= c.votes_to_pass) & ~vetoed.any(axis=1)
        m.resolution[rows[passed], target[passed]] = True
        m.voted_this_session[rows, target] = True
        if m.record:
            m.votes.append(VoteRecord(rows, target, yes, vetoed, passed))
