"""Decision rules: how an actor's move is chosen each day, behind one interface.

The compiled day (:func:`sim.model.day.advance`) takes, for every run and
actor, either a given move or :data:`~sim.model.day.UNSET`, meaning "choose
by the logit rule". A rule only fills its actor's column of that table, so
the model never asks which kind of rule drives an actor, and moves chosen
outside (a player's, a test script's, a web page's) stay on the fast path.

- :class:`LogitRule`: the model's own choice (the default);
- :class:`ScheduledRule`: fixed moves on given days (the scenario's
  ``schedule``, ``--force``), another rule on the other days;
- :class:`ExternalRule`: moves handed in from outside, run by run.
"""

from __future__ import annotations

import numpy as np

from sim.model.day import HOLD, NO_TARGET, UNSET


class DecisionRule:
    """Fills one actor's column of the day's table of given moves."""

    def give(self, model, actor: int, day: int, action: np.ndarray, target: np.ndarray):
        """Write the moves this rule gives for ``day`` into ``action``/``target`` (runs,).

        Entries left at :data:`UNSET` are chosen by the logit rule.
        """
        raise NotImplementedError


class LogitRule(DecisionRule):
    """The logit (quantal response) choice of docs/model.md, computed in the compiled day."""

    def give(self, model, actor, day, action, target):
        """Gives nothing: the compiled day chooses."""


LOGIT = LogitRule()
"""The default rule."""


class ScheduledRule(DecisionRule):
    """Fixed moves on given days, the same in every run; ``then`` decides the other days.

    ``moves`` maps a day to (action index or HOLD, target index or NO_TARGET).
    """

    def __init__(self, moves: dict[int, tuple[int, int]], then: DecisionRule | None = None):
        self.moves = dict(moves)
        self.then = then or LOGIT

    def give(self, model, actor, day, action, target):
        """The scheduled move on its day, else whatever ``then`` gives."""
        if day in self.moves:
            action[:], target[:] = self.moves[day]
        else:
            self.then.give(model, actor, day, action, target)


class ExternalRule(DecisionRule):
    """Moves handed in from outside: a human player, a script, a web page.

    Call :meth:`submit` before each :meth:`~sim.model.model.EscalationModel.step`.
    Runs given no move for a day are decided by ``fallback`` (the logit rule
    by default; ``None`` makes a missing move an error).
    """

    def __init__(self, fallback: DecisionRule | None = LOGIT):
        self.fallback = fallback
        self._action: np.ndarray | None = None
        self._target: np.ndarray | None = None

    def submit(self, model, action: str | None, target: str | None = None, runs=None):
        """Tomorrow's move of this actor (``None``: hold), in ``runs`` (default: all)."""
        if self._action is None:
            self._action = np.full(model.n_runs, UNSET, dtype=np.int64)
            self._target = np.full(model.n_runs, NO_TARGET, dtype=np.int64)
        rows = slice(None) if runs is None else np.asarray(runs)
        self._action[rows] = HOLD if action is None else model.catalogue.index[action]
        self._target[rows] = NO_TARGET if target is None else model.actor_index[target]

    def give(self, model, actor, day, action, target):
        """The submitted moves (then forgotten); the fallback for runs without one."""
        if self._action is not None:
            action[:], target[:] = self._action, self._target
            self._action = self._target = None
        missing = action == UNSET
        if not missing.any():
            return
        if self.fallback is None:
            raise ValueError(f"no move submitted for {model.actor_ids[actor]} on day {day} "
                             f"in {int(missing.sum())} run(s)")
        chosen, aimed = action.copy(), target.copy()
        self.fallback.give(model, actor, day, chosen, aimed)
        action[missing], target[missing] = chosen[missing], aimed[missing]
