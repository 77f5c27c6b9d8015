"""The agents: one :class:`mesa.Agent` per actor, a window on the compiled model.

An agent exposes its parameters (:meth:`~ActorAgent.parameters`), its view
of the state (:meth:`~ActorAgent.view`), its options for the next day with
their utilities and logit probabilities (:meth:`~ActorAgent.options`), and
the move it made today (:attr:`~ActorAgent.choice`). The choosing itself
happens in the compiled day (:mod:`sim.model.day`), for every run at once.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model import day as D


class ActorAgent(mesa.Agent):
    """What states and the Council share: identity, parameters, view, options, choice."""

    kind = ""

    def __init__(self, model, actor_id: str, index: int, spec):
        super().__init__(model)
        self.actor_id = actor_id
        self.index = index
        self.spec = spec
        """The actor's record in the scenario file (its parameters before any set)."""

    # ------------------------------------------------------------ parameters -----------

    def parameters(self, run: int = 0) -> dict:
        """The actor's numeric parameters in the parameter set of run position ``run``."""
        m = self.model
        s, i, ids = m.set_of[run], self.index, m.actor_ids
        p = m.params
        out = {name: float(p.actor[s, i, k]) for k, name in enumerate(D.ACTOR_COLUMNS)}
        out["pressure"] = {ids[j]: float(v) for j, v in enumerate(p.pressure[s, i]) if v}
        out["commitments"] = {ids[j]: float(v) for j, v in enumerate(p.commitment[s, i]) if v}
        return out

    # ------------------------------------------------------------ view -----------------

    def view(self, run: int = 0) -> dict:
        """The state as this actor sees it at the end of the current day, in run ``run``."""
        m, w, i = self.model, self.model.world, self.index
        ids = m.actor_ids
        others = [j for j in range(m.n_actors) if j != i]
        return {
            "day": m.day,
            "level_against": {ids[j]: int(w.level[run, i, j]) for j in others},
            "level_from": {ids[j]: int(w.level[run, j, i]) for j in others},
            "hostility_from": {ids[j]: float(w.hostility[run, i, j]) for j in others},
            "cooperation_from": {ids[j]: float(w.cooperation[run, i, j]) for j in others},
            "assets_held": {ids[j]: int(w.assets[run, i, j]) for j in others
                            if w.assets[run, i, j]},
            "threat_binds_until": {ids[j]: int(w.threat_until[run, i, j]) for j in others
                                   if w.threat_until[run, i, j] >= m.day},
            "military": float(w.military[run, i]),
            "casualties": float(w.casualties[run]),
            "council": {"meeting_day": _day(w.meeting_day[run]),
                        "session_until": _day(w.session_until[run]),
                        "restraint_until": _day(w.restraint_until[run]),
                        "resolution_against_me": bool(w.resolution[run, i])},
        }

    # ------------------------------------------------------------ options and choice ---

    def options(self, run: int = 0) -> list[dict]:
        """Every candidate move for the next day in run ``run``.

        Each entry: action id (None for hold), target id, rung, whether the
        catalogue's preconditions hold, its utility, its probability under
        the decision rule (the nested logit) and ``terms``: the utility split
        into its terms (docs/model.md, "The decision rule"), the nonzero ones
        by name, so one can say why the actor leans to a move.
        """
        m, i = self.model, self.index
        s = m.set_of[run]
        u, ok, terms = D.explain(m.world, m.params, m.tables, m.set_of, run, i, m.day + 1)
        first, last = m.tables.cand_start[i], m.tables.cand_start[i + 1]
        probability = D.choice_probabilities(u, ok, m.tables.cand_nest[first:last],
                                             m.params.actor[s, i, D.RATIONALITY])
        out = []
        for k, row in enumerate(m.tables.cand[first:last]):
            a, j = int(row[D.C_ACTION]), int(row[D.C_TARGET])
            out.append({"action": None if a == D.HOLD else m.catalogue.actions[a].id,
                        "target": None if j < 0 else m.actor_ids[j],
                        "rung": 0 if a == D.HOLD else int(m.catalogue.level[a]),
                        "feasible": bool(ok[k]), "utility": float(u[k]),
                        "probability": float(probability[k]),
                        "terms": {name: float(x) for name, x in zip(D.TERMS, terms[k],
                                                                    strict=True) if x != 0}})
        return out

    def feasible_moves(self, run: int = 0) -> list[tuple[str | None, str | None]]:
        """(action id, target id) of every move open to this actor next day in run ``run``."""
        return [(o["action"], o["target"]) for o in self.options(run) if o["feasible"]]

    @property
    def cand_action(self) -> np.ndarray:
        """Action index (HOLD for hold) of each of this actor's candidate moves."""
        t = self.model.tables
        return t.cand[t.cand_start[self.index]:t.cand_start[self.index + 1], D.C_ACTION].astype(int)

    @property
    def cand_target(self) -> np.ndarray:
        """Target actor index (NO_TARGET for none) of each candidate move."""
        t = self.model.tables
        return t.cand[t.cand_start[self.index]:t.cand_start[self.index + 1], D.C_TARGET].astype(int)

    def feasible(self) -> np.ndarray:
        """Which candidates are open next day, (runs, candidates): one run at a time."""
        m = self.model
        return np.stack([D.explain(m.world, m.params, m.tables, m.set_of, r, self.index,
                                   m.day + 1)[1] for r in range(m.n_runs)])

    @property
    def choice(self) -> tuple[np.ndarray, np.ndarray]:
        """Today's move in every run: (action index or HOLD, target index or NO_TARGET)."""
        rec = self.model.records
        return rec.action[:, self.index].copy(), rec.target[:, self.index].copy()


def _day(value) -> int | None:
    return None if value == D.NEVER else int(value)


class StateAgent(ActorAgent):
    """A state: reciprocates, pursues its aims, weighs costs, risk and audience costs."""

    kind = "state"


class CouncilAgent(ActorAgent):
    """The Security Council: meets on request, then calls, drafts, mediates, inquires."""

    kind = "institution"

    @property
    def members(self) -> list[str]:
        """The Council's seats, in the order of their ids."""
        return self.model.seats
