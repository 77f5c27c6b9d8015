"""Compiled decision step of a state (numba): the same numbers as the numpy code, faster.

:meth:`sim.agents.StateAgent.decide` has two implementations. The numpy one
(``utility``, ``feasible`` and :func:`sim.decision.choose`) is the reference:
readable, and the definition of the model. This module computes the same
thing one run at a time, with every floating-point operation in the same
order as numpy's element-wise code, so the utilities and choices are
bit-identical (``tests/test_kernels.py`` checks whole ensembles). What it
saves is memory traffic: numpy builds some twenty (runs x candidates)
temporaries per agent and day, while here the terms that depend only on
(run, target) are computed once per run and each candidate costs a few
multiply-adds.

The kernel is used when numba is installed and ``ESCSIM_KERNEL`` is not
``numpy``; ``ESCSIM_KERNEL=numpy`` forces the reference path.
"""

from __future__ import annotations

import os

import numpy as np

try:  # numba is optional: without it the numpy path runs
    from numba import njit
except ImportError:  # pragma: no cover - exercised when numba is absent
    njit = None

REQUIREMENTS = ("min_level", "min_level_against_actor", "min_level_by_target",
                "target_under_pressure")
"""Columns of the candidate table's level requirements (-1: none)."""
MIN_LEVEL, AGAINST_ACTOR, BY_TARGET, UNDER_PRESSURE = range(4)
FLAGS = ("holds_assets", "no_pending_meeting", "meeting_due", "in_session", "once_per_session")
"""Bits of the candidate table's procedural requirements, in this order."""
HOLDS_ASSETS, NO_PENDING_MEETING, MEETING_DUE, IN_SESSION, ONCE_PER_SESSION = (
    1 << k for k in range(len(FLAGS)))


def enabled() -> bool:
    """Whether the compiled kernel runs (numba present, not switched off)."""
    return njit is not None and os.environ.get("ESCSIM_KERNEL", "numba") != "numpy"


def _state_choice(i, cand_action, cand_target, safe_target, tone, host, coop, rung7, rung,
                  req, flags, need_military, to_state, to_inst, real, m_pressure, m_commit,
                  commitment, is_state, reciprocity, resolve, risk_aversion, audience_cost,
                  inertia, rationality, hostility, cooperation, military, view_pair,
                  view_pressed, view_pressing, level, threat_until, assets, casualties,
                  inst_pressure, meeting_day, session_until, voted, day, uniform):
    runs, n = hostility.shape[0], hostility.shape[1]
    n_cand = cand_action.shape[0]
    out = np.empty(runs, dtype=np.int64)
    tau = np.empty(n)
    weak = np.empty(n)
    backing = np.empty(n)
    z = np.empty(n_cand)
    ok = np.empty(n_cand, dtype=np.bool_)
    for r in range(runs):
        # ---- terms that depend on the run and the target only -----------------------
        for j in range(n):
            received = hostility[r, i, j]
            for k in range(n):
                received = received + commitment[i, k] * hostility[r, k, j]
            tau[j] = min(max(cooperation[r, i, j] - received, -1.0), 1.0)
            b = military[r, j]
            for k in range(n):
                b = b + military[r, k] * commitment[k, j]
            backing[j] = b
        for j in range(n):
            weak[j] = backing[j] / (military[r, i] + backing[j] + 1e-9)
        pressed_me = view_pressed[r, i] / 7.0
        calm = min(1.0, casualties[r] / 1000.0)
        free = meeting_day[r] < day and session_until[r] < day
        # ---- every candidate: feasibility and utility, as in StateAgent.utility ------
        best = -np.inf
        for c in range(n_cand):
            t = safe_target[c]
            # a requirement of -1 is none: every level is >= 0
            feasible = (view_pair[r, i, t] >= req[c, MIN_LEVEL]
                        and view_pressing[r, t] >= req[c, BY_TARGET]
                        and view_pressed[r, t] >= req[c, UNDER_PRESSURE]
                        and military[r, i] >= need_military[c])
            if feasible and req[c, AGAINST_ACTOR] >= 0:
                if is_state[t] and cand_target[c] >= 0:
                    feasible = level[r, t, i] >= req[c, AGAINST_ACTOR]
                else:
                    feasible = view_pressed[r, i] >= req[c, AGAINST_ACTOR]
            if feasible and flags[c]:
                f = flags[c]
                if (f & HOLDS_ASSETS) and not assets[r, i, t] > 0:
                    feasible = False
                elif (f & NO_PENDING_MEETING) and not free:
                    feasible = False
                elif (f & MEETING_DUE) and meeting_day[r] != day:
                    feasible = False
                elif (f & IN_SESSION) and session_until[r] < day:
                    feasible = False
                elif (f & ONCE_PER_SESSION) and voted[r, t]:
                    feasible = False
            ok[c] = feasible
            if not feasible:
                continue
            pair = view_pair[r, i, t] / 7.0
            half = (rung7[c] + pair) / 2
            u = reciprocity * (2 * tone[c] * tau[t] - tone[c] * tone[c])
            u = u + m_pressure[t] * host[c]
            u = u - (1 - resolve) * 2 * weak[t] * (rung7[c] * rung7[c])
            u = u - risk_aversion * 4 * weak[t] * (half * half * half) * (1.0 if rung[c] > 0
                                                                         else 0.0)
            u = u - 0.5 * max(0.0, rung[c] - 7 * pair - 1)
            u = u + m_commit[t] * (coop[c] * (view_pressed[r, t] / 7.0) - 2 * host[c])
            u = u + risk_aversion * 2 * coop[c] * (pair * pair)
            u = u + coop[c] * (1 - resolve) * calm
            u = u - audience_cost * coop[c] * (1.0 if threat_until[r, i, t] >= day else 0.0)
            u = u - rung7[c] * inst_pressure[r]
            if not to_state[c]:
                u = 0.0
            if to_inst[c]:
                u = u + (pressed_me * (1 + coop[c]) - 0.3)
            if not real[c] and cand_action[c] != -1:
                u = u + 0.1
            if cand_action[c] != -1:
                u = u - inertia
            z[c] = rationality * u
            if z[c] > best:
                best = z[c]
        # ---- logit draw, as decision.choose -----------------------------------------
        total = 0.0
        for c in range(n_cand):
            z[c] = np.exp(z[c] - best) if ok[c] else 0.0
            total = total + z[c]
        target = uniform[r] * total
        cumulative = 0.0
        pick = 0
        for c in range(n_cand):
            cumulative = cumulative + z[c]
            if cumulative <= target:
                pick += 1
        out[r] = min(pick, n_cand - 1)
    return out


def candidate_tables(req: dict, flags: dict) -> tuple[np.ndarray, np.ndarray]:
    """An agent's requirements as the kernel reads them: levels (-1: none), flag bits."""
    levels = np.stack([np.nan_to_num(req[name], nan=-1.0) for name in REQUIREMENTS], axis=1)
    bits = np.zeros(len(levels), dtype=np.int64)
    for k, name in enumerate(FLAGS):
        bits |= flags[name].astype(np.int64) << k
    return levels, bits


state_choice = (njit(cache=True, nogil=True, error_model="numpy")(_state_choice)
                if njit is not None else None)
