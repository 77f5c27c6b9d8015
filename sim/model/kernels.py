"""Compiled decision step of a state (numba): the same numbers as the numpy code, faster.

:meth:`sim.model.agents.StateAgent.decide` has two implementations. The numpy one
(``utility``, ``feasible`` and :func:`sim.model.decision.choose`) is the reference:
readable, and the definition of the model. This module computes the same
thing one run at a time, with every floating-point operation in the same
order as numpy's element-wise code, so the utilities and choices are
bit-identical (``tests/test_kernels.py`` checks whole ensembles). What it
saves is memory traffic: numpy builds some twenty (runs x candidates)
temporaries per agent and day, while here the terms that depend only on
(run, target) are computed once per run, and each candidate's utility is
computed for a block of 64 runs in a loop the compiler vectorizes, from
buffers that stay in the first-level cache.

The kernel is used when numba is installed and ``ESCSIM_KERNEL`` is not
``numpy``; ``ESCSIM_KERNEL=numpy`` forces the reference path.
"""

from __future__ import annotations

import os

import numpy as np

# Intel's SVML would vectorize exp with results that may differ from the C
# library's in the last bit; the kernel must match numpy's exp exactly.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

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


BLOCK = 64
"""Runs decided together: each candidate's utility is computed for a block of runs
in one loop that the compiler turns into vector instructions (every lane does the
same scalar operations in the same order, so results do not change)."""


def _state_choice(i, cand_action, cand_target, safe_target, tone, host, coop, rung7, rung,
                  req, flags, need_military, to_state, to_inst, real, m_pressure, m_commit,
                  commitment, is_state, reciprocity, resolve, risk_aversion, audience_cost,
                  inertia, rationality, hostility, cooperation, military, view_pair,
                  view_pressed, view_pressing, level, threat_until, assets, casualties,
                  inst_pressure, meeting_day, session_until, voted, day, uniform):
    runs, n = hostility.shape[0], hostility.shape[1]
    n_cand = cand_action.shape[0]
    out = np.empty(runs, dtype=np.int64)
    # (target, run in block) terms, and per-run terms
    tau, weak, pair, pressed_t = (np.empty((n, BLOCK)), np.empty((n, BLOCK)),
                                  np.empty((n, BLOCK)), np.empty((n, BLOCK)))
    pair_level, pressing, pressed, against = (np.empty((n, BLOCK)), np.empty((n, BLOCK)),
                                              np.empty((n, BLOCK)), np.empty((n, BLOCK)))
    threat = np.empty((n, BLOCK))
    has_assets = np.empty((n, BLOCK), dtype=np.bool_)
    not_voted = np.empty((n, BLOCK), dtype=np.bool_)
    my_military, pressed_me, my_pressed = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    calm, pressure = np.empty(BLOCK), np.empty(BLOCK)
    free = np.empty(BLOCK, dtype=np.bool_)
    due = np.empty(BLOCK, dtype=np.bool_)
    in_session = np.empty(BLOCK, dtype=np.bool_)
    backing = np.empty(n)
    z = np.empty((n_cand, BLOCK))
    best = np.empty(BLOCK)
    ok = np.empty(BLOCK, dtype=np.bool_)
    u = np.empty(BLOCK)
    for start in range(0, runs, BLOCK):
        size = min(BLOCK, runs - start)
        # ---- terms that depend on the run and the target only -----------------------
        for k in range(size):
            r = start + k
            for j in range(n):
                received = hostility[r, i, j]
                for m in range(n):
                    received = received + commitment[i, m] * hostility[r, m, j]
                tau[j, k] = min(max(cooperation[r, i, j] - received, -1.0), 1.0)
                b = military[r, j]
                for m in range(n):
                    b = b + military[r, m] * commitment[m, j]
                backing[j] = b
            for j in range(n):
                weak[j, k] = backing[j] / (military[r, i] + backing[j] + 1e-9)
                pair[j, k] = view_pair[r, i, j] / 7.0
                pressed_t[j, k] = view_pressed[r, j] / 7.0
                pair_level[j, k] = view_pair[r, i, j]
                pressing[j, k] = view_pressing[r, j]
                pressed[j, k] = view_pressed[r, j]
                against[j, k] = level[r, j, i]
                threat[j, k] = 1.0 if threat_until[r, i, j] >= day else 0.0
                has_assets[j, k] = assets[r, i, j] > 0
                not_voted[j, k] = not voted[r, j]
            my_military[k] = military[r, i]
            pressed_me[k] = view_pressed[r, i] / 7.0
            my_pressed[k] = view_pressed[r, i]
            calm[k] = min(1.0, casualties[r] / 1000.0)
            pressure[k] = inst_pressure[r]
            free[k] = meeting_day[r] < day and session_until[r] < day
            due[k] = meeting_day[r] == day
            in_session[k] = session_until[r] >= day
            best[k] = -np.inf
        # ---- every candidate, for the whole block: as StateAgent.utility and .feasible
        for c in range(n_cand):
            t = safe_target[c]
            need_pair, need_against = req[c, MIN_LEVEL], req[c, AGAINST_ACTOR]
            need_pressing, need_pressed = req[c, BY_TARGET], req[c, UNDER_PRESSURE]
            need_mil, f = need_military[c], flags[c]
            have_against = against[t] if is_state[t] and cand_target[c] >= 0 else my_pressed
            two_tone, tone2 = 2 * tone[c], tone[c] * tone[c]
            push = m_pressure[t] * host[c]
            weak_cost, rung2 = (1 - resolve) * 2, rung7[c] * rung7[c]
            risk4, climbs = risk_aversion * 4, 1.0 if rung[c] > 0 else 0.0
            ally, host2 = m_commit[t], 2 * host[c]
            risk_coop, coop_res = risk_aversion * 2 * coop[c], coop[c] * (1 - resolve)
            audience = audience_cost * coop[c]
            # one simple loop per step, so that each one compiles to vector instructions
            for k in range(size):
                ok[k] = ((pair_level[t, k] >= need_pair) & (pressing[t, k] >= need_pressing)
                         & (pressed[t, k] >= need_pressed) & (my_military[k] >= need_mil)
                         & ((need_against < 0) | (have_against[k] >= need_against)))
            if f & HOLDS_ASSETS:
                for k in range(size):
                    ok[k] = ok[k] & has_assets[t, k]
            if f & NO_PENDING_MEETING:
                for k in range(size):
                    ok[k] = ok[k] & free[k]
            if f & MEETING_DUE:
                for k in range(size):
                    ok[k] = ok[k] & due[k]
            if f & IN_SESSION:
                for k in range(size):
                    ok[k] = ok[k] & in_session[k]
            if f & ONCE_PER_SESSION:
                for k in range(size):
                    ok[k] = ok[k] & not_voted[t, k]
            if to_state[c]:
                for k in range(size):
                    p = pair[t, k]
                    half = (rung7[c] + p) / 2
                    x = reciprocity * (two_tone * tau[t, k] - tone2)
                    x = x + push
                    x = x - weak_cost * weak[t, k] * rung2
                    x = x - risk4 * weak[t, k] * (half * half * half) * climbs
                    x = x - 0.5 * max(0.0, rung[c] - 7 * p - 1)
                    x = x + ally * (coop[c] * pressed_t[t, k] - host2)
                    x = x + risk_coop * (p * p)
                    x = x + coop_res * calm[k]
                    x = x - audience * threat[t, k]
                    u[k] = x - rung7[c] * pressure[k]
            else:
                u[:size] = 0.0
            if to_inst[c]:
                for k in range(size):
                    u[k] = u[k] + (pressed_me[k] * (1 + coop[c]) - 0.3)
            if not real[c] and cand_action[c] != -1:
                for k in range(size):
                    u[k] = u[k] + 0.1
            if cand_action[c] != -1:
                for k in range(size):
                    u[k] = u[k] - inertia
            for k in range(size):
                zk = rationality * u[k] if ok[k] else -np.inf
                z[c, k] = zk
                best[k] = zk if zk > best[k] else best[k]
        # ---- logit draw, as decision.choose -------------------------------------------
        for k in range(size):
            total = 0.0
            for c in range(n_cand):
                z[c, k] = np.exp(z[c, k] - best[k]) if z[c, k] > -np.inf else 0.0
                total = total + z[c, k]
            target = uniform[start + k] * total
            cumulative = 0.0
            pick = 0
            for c in range(n_cand):
                cumulative = cumulative + z[c, k]
                if cumulative <= target:
                    pick += 1
            out[start + k] = min(pick, n_cand - 1)
    return out


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _uniforms(run_keys, counter):
    """sim.model.rng.RunStreams.uniform for one (day, slot) counter, one run at a time."""
    out = np.empty(run_keys.shape[0])
    for r in range(run_keys.shape[0]):
        x = run_keys[r] ^ counter
        for _ in range(2):
            x = x ^ (x >> _S30)
            x = x * _M1
            x = x ^ (x >> _S27)
            x = x * _M2
            x = x ^ (x >> _S31)
            if _ == 0:
                x = x + _GOLDEN
        out[r] = np.float64(x >> _S11) * (1.0 / 9007199254740992.0)
    return out


def _bin_counts(values, edges, counts):
    """Add the histogram of ``values`` over ``edges`` to ``counts``.

    A value falls in the bin before the first edge above it, clipped to the
    bins: numpy's ``searchsorted(side="right") - 1``, as Aggregate.observe_day does.
    """
    bins = counts.shape[0]
    for v in values:
        lo, hi = 0, edges.shape[0]
        while lo < hi:  # first edge > v
            mid = (lo + hi) // 2
            if v < edges[mid]:
                hi = mid
            else:
                lo = mid + 1
        counts[min(max(lo - 1, 0), bins - 1)] += 1


def candidate_tables(req: dict, flags: dict) -> tuple[np.ndarray, np.ndarray]:
    """An agent's requirements as the kernel reads them: levels (-1: none), flag bits."""
    levels = np.stack([np.nan_to_num(req[name], nan=-1.0) for name in REQUIREMENTS], axis=1)
    bits = np.zeros(len(levels), dtype=np.int64)
    for k, name in enumerate(FLAGS):
        bits |= flags[name].astype(np.int64) << k
    return levels, bits


def _compile(fn):
    return njit(cache=True, nogil=True, error_model="numpy")(fn) if njit is not None else None


state_choice = _compile(_state_choice)
uniforms = _compile(_uniforms)
bin_counts = _compile(_bin_counts)
