"""The crisis day, defined once and compiled: decisions, simultaneous moves, the Council, outcomes.

Everything the model does in a day is in this module, as numba functions over
blocks of runs (each run computed on its own, the block sharing only loops);
:class:`sim.model.model.EscalationModel` calls :func:`advance` once per day
for a whole batch of runs. The three inputs are

- the **world state** (:class:`World`): arrays with a leading *runs* axis;
- the **parameters** (:class:`Params`): arrays with a leading *parameter set*
  axis, and each run's set in ``set_of``, so parameters may differ run by run;
- the **structure** (:class:`Tables`): what never varies within an ensemble,
  the actors' candidate moves and the catalogue's declared effects.

A day has two phases. First every actor chooses, on yesterday's state, by
the logit rule or as told from outside (``given``: scheduled, forced or
human moves); the Council's members vote on a draft the same way. Then all
moves take effect together, combined so that no actor's move is applied
"before" another's (docs/model.md, "Simultaneous moves"):

1. memories and the index decay; the Council's good offices then scale the
   remembered hostility between states;
2. every act adds to memories, the index, casualties, holdings, threats,
   capabilities and the Council's agenda; sums run over actors in the order
   of their ids, so the bits never depend on the scenario file's order;
3. levels: de-escalating acts (a ceasefire cap, lowering by a rung) apply to
   the levels the day started with, then every hostile act raises its pair
   to its rung, so force used the same day prevails over a ceasefire;
   a level relaxes one rung after ``relax_days`` without an act at it;
4. outcome thresholds are checked.

Random numbers are a pure function of (seed, run, day, actor id, purpose)
(:mod:`sim.model.rng`), so run K is run K in any batch, chunk or order.
"""

from __future__ import annotations

import math
import os
from collections import namedtuple

import numpy as np

# Intel's SVML would vectorize exp with results that may differ from the C
# library's in the last bit; runs must not depend on the machine's vector unit.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

from numba import njit  # noqa: E402

from sim.model.rng import uniform  # noqa: E402

HOLD = -1
"""Action index of "hold" (no new act)."""
NO_TARGET = -1
UNSET = -2
"""In a table of given moves: no move given, the actor's logit rule chooses."""
MAX_LEVEL = 7

NEVER = -1_000_000
"""A day that is no day: no meeting requested, no session, no call for restraint."""

# ---- purposes of an actor's random numbers (the low byte of its stream key) ----------
DRAW_CHOICE, DRAW_CASUALTIES, DRAW_VOTE, DRAW_TOPPLE = (np.uint64(0), np.uint64(1), np.uint64(2),
                                                      np.uint64(3))

# ---- columns of Params.actor ----------------------------------------------------------
ACTOR_COLUMNS = ("resolve", "reciprocity", "risk_aversion", "rationality", "audience_cost",
                 "inertia", "military", "naval", "economic", "reach")
(RESOLVE, RECIPROCITY, RISK, RATIONALITY, AUDIENCE, INERTIA, MILITARY, NAVAL, ECONOMIC,
 REACH) = range(10)
# ---- columns of Params.council ----------------------------------------------------------
COUNCIL_COLUMNS = ("meeting_delay_days", "session_days", "votes_to_pass", "activism",
                   "resolution_cost", "restraint_days", "veto_cost", "foresight")
DELAY, SESSION, VOTES, ACTIVISM, RESOLUTION_COST, RESTRAINT_DAYS, VETO_COST, FORESIGHT = range(8)
# ---- columns of Params.memory and Params.outcome ----------------------------------------
MEMORY_COLUMNS = ("decay", "relax_days", "threat_days")
DECAY, RELAX, THREAT_DAYS = range(3)
OUTCOME_COLUMNS = ("deescalated.max_level", "deescalated.sustain_days",
                   "militarized_clash.min_level", "war.min_level", "war.casualties",
                   "great_power_confrontation.min_level")
CALM_MAX, CALM_DAYS, CLASH_LEVEL, WAR_LEVEL, WAR_CASUALTIES, GP_LEVEL = range(6)

# ---- columns of Tables.act: what the catalogue declares for each action -----------------
ACT_COLUMNS = ("level", "hostility", "cooperation", "seize_assets", "release_assets",
               "casualties", "threat", "lower_level", "ceasefire", "capability_transfer",
               "third_party_hostility", "request_meeting", "convene", "restraint",
               "mediation", "fact_finding", "resolution", "topple", "deadline_days", "offer",
               "comply")
(A_LEVEL, A_HOST, A_COOP, A_SEIZE, A_RELEASE, A_CASUALTIES, A_THREAT, A_LOWER, A_CEASEFIRE,
 A_TRANSFER, A_THIRD, A_REQUEST, A_CONVENE, A_RESTRAINT, A_MEDIATION, A_FACTS,
 A_RESOLUTION, A_TOPPLE, A_DEADLINE, A_OFFER, A_COMPLY) = range(21)
FORCE = 5
"""The first rung of force (coercive use of force): carrying out a threat, and levels that
only decisions end."""
CALM_CAP = 1
"""A pair's level after the target complies: words at most."""
# ---- columns of Tables.cand: each candidate move's constants -----------------------------
CAND_COLUMNS = ("action", "target", "tone", "min_level", "min_level_against_actor",
                "min_level_by_target", "target_under_pressure", "commitment", "military",
                "naval", "economic", "flags", "council_weight")
(C_ACTION, C_TARGET, C_TONE, C_MIN_LEVEL, C_AGAINST, C_BY_TARGET, C_PRESSED, C_COMMIT,
 C_MILITARY, C_NAVAL, C_ECONOMIC, C_FLAGS, C_WEIGHT) = range(13)
FLAGS = ("holds_assets", "no_pending_meeting", "meeting_due", "in_session", "once_per_session",
         "demanded")
HOLDS_ASSETS, NO_PENDING_MEETING, MEETING_DUE, IN_SESSION, ONCE_PER_SESSION, DEMANDED = (
    1 << k for k in range(len(FLAGS)))
"""``demanded``: the target has an open demand on the actor (compliance is a yield to it)."""

World = namedtuple("World", [
    "hostility",  # f8[r, n, n]: hostility i remembers receiving from j
    "cooperation",  # f8[r, n, n]: cooperation i remembers receiving from j
    "level",  # i1[r, n, n]: rung of i's escalation against j
    "since",  # i2[r, n, n]: days since i last acted against j at its level
    "assets",  # i2[r, n, n]: assets of j held by i
    "threat_until",  # i2[r, n, n]: last day i's public threat against j binds
    "military",  # f8[r, n]: military capability (grows with aid)
    "casualties",  # f8[r]
    "indices",  # f8[r, schemes]: escalation index under every scoring scheme
    "meeting_day",  # i4[r]: day of a requested Council meeting, NEVER none
    "session_until",  # i4[r]: last day of the Council's session, NEVER none
    "restraint_until",  # i4[r]: last day of the Council's call for restraint
    "restraint",  # f8[r]: strength of that call
    "resolution",  # b1[r, n]: an adopted resolution demands restraint from actor j
    "voted",  # b1[r, n]: a draft on actor j was voted on in this session
    "inquiry",  # f8[r, n]: fact-finding weight on actor j
    "first",  # i4[r, thresholds]: first day each outcome threshold was crossed, -1 never
    "calm",  # i4[r]: current calm spell in days
    "peak",  # i1[r, n, n]: highest level so far
    "peak_indices",  # f8[r, schemes]
    "top",  # i1[r]: today's highest level between two states
    "achieved",  # b1[r, n, n]: i's aim against j is reached (j complied, or its government fell)
    "offer_until",  # i2[r, n, n]: last day i's deal offer to j stands
    "fallen",  # i4[r, n]: day actor j's government fell, -1 never
    "success",  # i4[r, 2]: first day a coercer's aim was reached (-1 never), and how (SUCCESS_*)
])
"""The state of a batch of runs at the end of a day: everything a run needs to go on."""
SUCCESS_NONE, SUCCESS_COMPLIED, SUCCESS_FELL = 0, 1, 2

Params = namedtuple("Params", [
    "actor",  # f8[sets, n, ACTOR_COLUMNS]
    "pressure",  # f8[sets, n, n]: how much i wants to coerce j
    "commitment",  # f8[sets, n, n]: i's commitment to j
    "council",  # f8[sets, COUNCIL_COLUMNS]
    "seat_yes",  # f8[sets, seats, n]: a non-agent seat's chance of yes, by draft target
    "seat_veto",  # f8[sets, seats, n]: a permanent non-agent seat's veto chance, by target
    "memory",  # f8[sets, MEMORY_COLUMNS]
    "outcome",  # f8[sets, OUTCOME_COLUMNS]
])
"""Every numeric parameter, one row per parameter set."""

Tables = namedtuple("Tables", [
    "is_state",  # b1[n]
    "key",  # u8[n]: each actor's stream key (from its id)
    "cand_start",  # i8[n + 1]: actor i's candidates are rows cand_start[i] .. cand_start[i+1]-1
    "cand",  # f8[candidates, CAND_COLUMNS]
    "cand_feas",  # i8[candidates]: the candidate's feasibility group (same requirements)
    "feas_start",  # i8[n + 1]: actor i's feasibility groups
    "feas_rep",  # i8[groups]: a candidate of each feasibility group
    "cand_util",  # i8[candidates]: the candidate's utility group (same utility terms)
    "util_start",  # i8[n + 1]: actor i's utility groups
    "util_rep",  # i8[groups]: a candidate of each utility group
    "act",  # f8[actions, ACT_COLUMNS]
    "score",  # f8[actions, schemes]: severity of every action under every scheme
    "veto_score",  # f8[schemes]: severity of a veto (the vetoer's act)
    "seat_agent",  # i8[seats]: the actor holding the seat, -1 a parameterised seat
    "seat_permanent",  # b1[seats]
    "seat_key",  # u8[seats]: each seat's stream key (from its id)
    "seat_from",  # i8[seats]: first day the seat sits (NEVER: from the start)
    "seat_until",  # i8[seats]: last day the seat sits (-NEVER: to the end)
    "cand_nest",  # i8[candidates]: the candidate's nest among its actor's (rung or kind)
    "nests",  # i8[n]: how many nests each actor's candidates form
    "open_targets",  # b1[n, n]: the scenario lets i act against j whether or not j is relevant
    "council",  # i8: the Council's actor index, -1 none
    "gp",  # i8[2]: the great-power pair, -1 none
])
"""What does not vary within an ensemble: candidates, the catalogue, seats."""

Records = namedtuple("Records", [
    "action",  # i8[r, n]: today's move of every actor, HOLD for none
    "target",  # i8[r, n]
    "vote",  # i8[r, 3]: draft target (-1: no vote), yes votes, adopted (0/1)
    "vetoed",  # b1[r, seats]
])
"""What happened today in every run (for stories, charts and players)."""


# ====================================================================== views ========

# Each function reads the fields of the World, Params and Tables tuples into local
# names in its first lines: numba counts references to an array taken from a tuple
# inside a branch or loop on every pass (measured: 30 times slower per candidate).
# The helpers are inlined into the day: a call passes some sixty arrays (measured:
# the day took 50% longer with calls).

BLOCK = 64
"""Runs whose choices are computed together: for each candidate move, its
feasibility and utility are computed for a block of runs in one simple loop,
which the compiler turns into vector instructions (every lane does the same
operations in the same order, so a run's numbers do not depend on its block)."""

# rows of the (target, run) scratch table of one actor's decision
(TAU, WEAK, AGAINST, THREAT, ASSETS, VOTED, COMMIT, PRESSURE, RELEVANT, DEMAND_ON_ME, EXPOSED,
 OFFERED, THREATENED, PASSES) = range(14)
TARGET_ROWS = 14
FORCE_NORM = 1.0
"""Part of the cost of force that does not depend on the target's strength (norms, own losses)."""
DISCIPLINE = 0.5
"""Cost of each rung skipped above the pair's level plus one (ladder discipline: a cost)."""
RESISTANCE = 4.0
"""Weight of the demand, times the target's resolve, in the cost of complying."""
# rows of the per-run scratch table
(RES, RECIP, RISK_, AUD, INERT, NAV, ECON, MIL, CALM, INST, FREE, DUE, SESSION_ON, ACTIVE,
 ME, TOP, BACKED) = range(17)
RUN_ROWS = 17


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _backing(military, actor, commitment, r, s, j):
    """The force that defends ``j`` where it stands: its own, and its backers' by their reach.

    Extended deterrence depends on the local balance of forces (Huth 1988): a
    patron counts with the share of its strength it can bring to the theatre.
    """
    backing = military[r, j]
    for m in range(military.shape[1]):
        backing += military[r, m] * actor[s, m, REACH] * commitment[s, m, j]
    return backing


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _exp(x):
    """exp(x) for x <= 0 by the same arithmetic as :func:`_block_draw` (same bits everywhere)."""
    x = min(max(x, -700.0), 0.0)
    n = np.floor(x * _LOG2E + 0.5)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    return math.ldexp(_taylor(r), int(n))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sits(t, k, day):
    """Whether Council seat ``k`` sits on ``day`` (its term, if the scenario gives one)."""
    return t.seat_from[k] <= day <= t.seat_until[k]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _vote_utilities(level, actor, commitment, pressure, r, s, a, target, veto_cost, u3):
    """U of (yes, abstain, veto) of member ``a`` (an actor) on a draft against ``target``."""
    stake = 1.0 if target == a else commitment[s, a, target]
    u3[0, 0] = pressure[s, a, target] + level[r, a, target] / 7.0 - 2 * stake
    u3[1, 0] = 0.0
    u3[2, 0] = 2 * stake - veto_cost - 0.5


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _veto_free(w, p, t, r, s, day, target, u3):
    """The chance that no permanent member sitting on ``day`` vetoes a draft against ``target``.

    The Council anticipates vetoes: each permanent member's veto chance is the
    one its vote would be drawn with (:func:`_vote`).
    """
    level, actor, commitment, pressure = w.level, p.actor, p.commitment, p.pressure
    seat_agent, seat_permanent = t.seat_agent, t.seat_permanent
    seat_yes, seat_veto, veto_cost = p.seat_yes, p.seat_veto, p.council[s, VETO_COST]
    free = 1.0
    for k in range(seat_agent.shape[0]):
        if not seat_permanent[k] or not _sits(t, k, day):
            continue
        a = seat_agent[k]
        if a >= 0:
            _vote_utilities(level, actor, commitment, pressure, r, s, a, target, veto_cost, u3)
            rho = actor[s, a, RATIONALITY]
            top = max(rho * u3[0, 0], max(rho * u3[1, 0], rho * u3[2, 0]))
            e0, e1 = _exp(rho * u3[0, 0] - top), _exp(rho * u3[1, 0] - top)
            e2 = _exp(rho * u3[2, 0] - top)
            free *= 1.0 - e2 / (e0 + e1 + e2)
        else:
            free *= 1.0 - min(1.0 - seat_yes[s, k, target], seat_veto[s, k, target])
    return free


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _views(w, t, base, size, pair, pressed, pressing, top):
    """Yesterday's state as every decision reads it, for runs ``base .. base + size - 1``.

    ``pair[i, j, k]`` is max(level[i, j], level[j, i]) in the block's run k;
    ``pressed[j, k]`` the highest level anyone holds against j; ``pressing[j, k]``
    the highest j holds on anyone; ``top[k]`` the highest between two states.
    """
    level, is_state = w.level, t.is_state
    n = level.shape[1]
    for k in range(size):
        r = base + k
        best = 0
        for j in range(n):
            pressed[j, k] = 0.0
            pressing[j, k] = 0.0
        for i in range(n):
            for j in range(n):
                a, b = level[r, i, j], level[r, j, i]
                pair[i, j, k] = a if a > b else b
                if a > pressed[j, k]:
                    pressed[j, k] = a
                if a > pressing[i, k]:
                    pressing[i, k] = a
                if i != j and is_state[i] and is_state[j] and a > best:
                    best = a
        top[k] = best


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _utilities(w, p, t, set_of, base, size, i, day, pair, pressed, pressing, top, per_target,
               per_run, per_group, u, ok, opened, wanted, u3):
    """Feasibility ``ok[c, k]`` of actor ``i``'s candidates and their utilities.

    Row c of ``ok`` is the actor's own candidate c, column k the block's run k;
    ``opened[c]`` says whether it is open in any run of the block. Row g of
    ``u`` is the actor's utility group g (``Tables.cand_util``), computed when
    ``wanted[g]``: one of its candidates is open somewhere in the block.
    Feasibility is the catalogue's ``requires``; the utility terms are those of
    docs/model.md, "The decision rule"; the Council values its institutional
    moves by how tense things are. Only open moves get a utility.
    """
    level, hostility, cooperation, military = w.level, w.hostility, w.cooperation, w.military
    assets, threat_until, voted = w.assets, w.threat_until, w.voted
    achieved, offer_until, fallen = w.achieved, w.offer_until, w.fallen
    actor, commitment, pressure = p.actor, p.commitment, p.pressure
    open_targets, council_p = t.open_targets, p.council
    cand, act, is_state = t.cand, t.act, t.is_state
    n = level.shape[1]
    has_council = t.council >= 0
    g, v = per_target, per_run
    # ---- what depends on the run (and the target) only ----------------------------------
    for k in range(size):
        r, s = base + k, set_of[base + k]
        v[RES, k], v[RECIP, k] = actor[s, i, RESOLVE], actor[s, i, RECIPROCITY]
        v[RISK_, k], v[AUD, k] = actor[s, i, RISK], actor[s, i, AUDIENCE]
        v[INERT, k], v[NAV, k], v[ECON, k] = (actor[s, i, INERTIA], actor[s, i, NAVAL],
                                              actor[s, i, ECONOMIC])
        v[MIL, k] = military[r, i]
        v[CALM, k] = min(1.0, w.casualties[r] / 1000.0)
        inst = 0.0
        if has_council:  # the Council's weight on i's escalation
            if w.restraint_until[r] >= day:
                inst = w.restraint[r]
            if w.resolution[r, i]:
                inst += p.council[s, RESOLUTION_COST]
            inst += w.inquiry[r, i]
        v[INST, k] = inst
        v[ACTIVE, k] = p.council[s, ACTIVISM] if has_council else 0.0
        meeting, session = w.meeting_day[r], w.session_until[r]
        v[FREE, k] = 1.0 if meeting < day and session < day else 0.0
        v[DUE, k] = 1.0 if meeting == day else 0.0
        v[SESSION_ON, k] = 1.0 if session >= day else 0.0
        v[ME, k] = pressed[i, k]
        v[TOP, k] = top[k]
        v[BACKED, k] = _backing(military, actor, commitment, r, s, i)
        local = military[r, i] * actor[s, i, REACH]
        for j in range(n):
            received = hostility[r, i, j]
            for m in range(n):  # allies answer for each other
                received += commitment[s, i, m] * hostility[r, m, j]
            x = cooperation[r, i, j] - received
            g[TAU, j, k] = -1.0 if x < -1.0 else (1.0 if x > 1.0 else x)
            backing = _backing(military, actor, commitment, r, s, j)
            g[WEAK, j, k] = backing / (local + backing + 1e-9)
            theirs = military[r, j] * actor[s, j, REACH]
            g[EXPOSED, j, k] = 1.0 - v[BACKED, k] / (theirs + v[BACKED, k] + 1e-9)
            g[AGAINST, j, k] = level[r, j, i] if is_state[j] else pressed[i, k]
            # an aim is open until it is reached (compliance, or the target's fall)
            aim_open = not achieved[r, i, j] and fallen[r, j] < 0
            g[PRESSURE, j, k] = pressure[s, i, j] if aim_open else 0.0
            g[THREAT, j, k] = 1.0 if threat_until[r, i, j] >= day and g[PRESSURE, j, k] > 0 else 0.0
            their_open = not achieved[r, j, i] and fallen[r, i] < 0
            g[DEMAND_ON_ME, j, k] = pressure[s, j, i] if their_open else 0.0
            g[OFFERED, j, k] = 1.0 if offer_until[r, j, i] >= day else 0.0
            g[THREATENED, j, k] = 1.0 if threat_until[r, j, i] >= day and their_open else 0.0
            g[ASSETS, j, k] = assets[r, i, j]
            g[VOTED, j, k] = 1.0 if voted[r, j] else 0.0
            g[COMMIT, j, k] = commitment[s, i, j]
            # relevant targets: my aims and allies, who acts against me or my allies
            relevant = (open_targets[i, j] or g[PRESSURE, j, k] > 0 or commitment[s, i, j] > 0
                        or level[r, j, i] > 0 or level[r, i, j] > 0)
            for m in range(n):
                relevant = relevant or (commitment[s, i, m] > 0 and level[r, j, m] > 0)
            g[RELEVANT, j, k] = 1.0 if relevant else 0.0
            g[PASSES, j, k] = 1.0
            # the Council anticipates vetoes (drafts are tabled only in session)
            if not is_state[i] and is_state[j] and v[SESSION_ON, k] > 0:
                free = _veto_free(w, p, t, r, s, day, j, u3)
                g[PASSES, j, k] = 1.0 - council_p[s, FORESIGHT] * (1.0 - free)
    # ---- every group of candidates for the whole block: one simple loop per step ------
    # Candidates with the same requirements share their feasibility, and those with the
    # same target, tone, rung and procedure share their utility: each is computed once.
    gok = per_group
    fs, fe = t.feas_start[i], t.feas_start[i + 1]
    for group in range(fs, fe):
        c = t.feas_rep[group]
        row = group - fs
        j = int(cand[c, C_TARGET])
        tt = i if j < 0 else j  # a move without a target is checked against the actor
        need_level, need_by, need_pressed = (cand[c, C_MIN_LEVEL], cand[c, C_BY_TARGET],
                                             cand[c, C_PRESSED])
        need_against, need_commit = cand[c, C_AGAINST], cand[c, C_COMMIT]
        need_mil, need_naval, need_econ = cand[c, C_MILITARY], cand[c, C_NAVAL], cand[c, C_ECONOMIC]
        f = int(cand[c, C_FLAGS])
        any_assets, any_meeting = (f & HOLDS_ASSETS) == 0, (f & NO_PENDING_MEETING) == 0
        any_day, any_time = (f & MEETING_DUE) == 0, (f & IN_SESSION) == 0
        any_votes = (f & ONCE_PER_SESSION) == 0
        any_demand = (f & DEMANDED) == 0
        any_one = not (is_state[i] and j >= 0 and is_state[j])  # acts on states: relevant ones
        for k in range(size):
            against = g[AGAINST, tt, k] if j >= 0 else pressed[i, k]
            gok[row, k] = ((pair[i, tt, k] >= need_level) & (pressing[tt, k] >= need_by)
                           & (pressed[tt, k] >= need_pressed) & (against >= need_against)
                           & ((need_commit < 0) | ((j >= 0) & (g[COMMIT, tt, k] >= need_commit)))
                           & (v[MIL, k] >= need_mil) & (v[NAV, k] >= need_naval)
                           & (v[ECON, k] >= need_econ)
                           & (any_assets | (g[ASSETS, tt, k] > 0))
                           & (any_meeting | (v[FREE, k] > 0)) & (any_day | (v[DUE, k] > 0))
                           & (any_time | (v[SESSION_ON, k] > 0))
                           & (any_votes | (g[VOTED, tt, k] == 0))
                           & (any_demand | (g[DEMAND_ON_ME, tt, k] > 0))
                           & (any_one | (g[RELEVANT, tt, k] > 0)))
    us, ue = t.util_start[i], t.util_start[i + 1]
    for group in range(ue - us):
        wanted[group] = False
    first, last = t.cand_start[i], t.cand_start[i + 1]
    for c in range(first, last):
        row, feasible = c - first, t.cand_feas[c] - fs
        opens = False
        for k in range(size):
            ok[row, k] = gok[feasible, k]
            opens |= gok[feasible, k]
        opened[row] = opens
        if opens:  # a move closed in every run of the block needs no utility
            wanted[t.cand_util[c] - us] = True
    for group in range(us, ue):
        row = group - us
        if not wanted[row]:
            continue
        c = t.util_rep[group]
        a, j = int(cand[c, C_ACTION]), int(cand[c, C_TARGET])
        if a == HOLD:
            for k in range(size):
                u[row, k] = 0.0
            continue
        tone = cand[c, C_TONE]
        coop = tone if tone > 0 else 0.0
        if not is_state[i]:  # the Council
            weight = cand[c, C_WEIGHT]
            bonus = 10.0 if int(cand[c, C_FLAGS]) & MEETING_DUE else (0.1 if weight == 0 else 0.0)
            draft = act[a, A_RESOLUTION] > 0 and j >= 0
            for k in range(size):
                severity = pressing[j, k] / 7.0 if j >= 0 else v[TOP, k] / 7.0
                passes = g[PASSES, j, k] if draft else 1.0
                u[row, k] = (v[ACTIVE, k] * severity * weight * 3 * passes + bonus
                             - v[INERT, k])
        elif j < 0:  # a statement to no one
            for k in range(size):
                u[row, k] = 0.1 - v[INERT, k]
        elif not is_state[j]:  # a request to the Council
            for k in range(size):
                u[row, k] = v[ME, k] / 7.0 * (1 + coop) - 0.3 - v[INERT, k]
        elif act[a, A_COMPLY] > 0:  # yield to j's demand
            for k in range(size):
                e = _comply_terms(g, v, pair, i, j, k)
                x = e[0]
                x += e[1]
                x += e[2]
                x += e[3]
                u[row, k] = x - v[INERT, k]
        else:
            rung_level = act[a, A_LEVEL]
            host, coop = (-tone if tone < 0 else 0.0), (tone if tone > 0 else 0.0)
            rung = rung_level / 7.0
            climbs = 1.0 if rung_level > 0 else 0.0
            follows = 1.0 if rung_level >= FORCE else 0.0
            topple = act[a, A_TOPPLE]
            for k in range(size):
                q = pair[i, j, k] / 7.0
                half = (rung + q) / 2
                res, risk, weak, aim = v[RES, k], v[RISK_, k], g[WEAK, j, k], g[PRESSURE, j, k]
                x = v[RECIP, k] * (2 * tone * g[TAU, j, k] - tone * tone)
                x += aim * (1 - weak) * (2 * rung + 2 * topple)
                x -= aim * coop
                x -= (1 - res) * 2 * (weak + FORCE_NORM) * (rung * rung)
                x -= risk * 4 * weak * (half * half * half) * climbs
                x -= DISCIPLINE * max(0.0, rung_level - pair[i, j, k] - 1)
                x += g[COMMIT, j, k] * (coop * pressed[j, k] / 7.0 - 2 * host)
                x += risk * coop * (q * q)
                x += coop * (1 - res) * v[CALM, k]
                x += v[AUD, k] * g[THREAT, j, k] * (follows - coop)
                x -= rung * v[INST, k]
                u[row, k] = x - v[INERT, k]


STATE_TERMS = ("reciprocity", "coercion", "concession", "cost of force", "risk of war",
               "ladder discipline", "alliance", "de-escalation", "war weariness",
               "audience cost", "institutions")
"""The terms of a state's act against a state, in the order :func:`_state_terms` gives them."""
COMPLY_TERMS = ("hurt avoided", "deal offered", "resistance", "audience at home")
"""The terms of yielding to a demand, in the order :func:`_comply_terms` gives them."""
TERMS = (*STATE_TERMS, *COMPLY_TERMS, "seeking scrutiny", "statement", "Council's purpose",
         "inertia")
"""Every term a utility is made of (the columns of :func:`explain`)."""


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _state_terms(g, v, pair, pressed, i, j, k, tone, rung_level, topple):
    """The terms of state i's act (tone, rung) against state j in the block's run k.

    The utility is their sum, in this order, less the inertia (docs/model.md,
    ``state_utility``); a subtracted term is given negated. :func:`_utilities`
    sums the same expressions inline, where they vectorize (returned as a
    tuple they would not: the day took 30% longer); ``tests/test_stories.py``
    checks that the two agree.
    """
    host, coop = (-tone if tone < 0 else 0.0), (tone if tone > 0 else 0.0)
    rung = rung_level / 7.0
    climbs = 1.0 if rung_level > 0 else 0.0
    follows = 1.0 if rung_level >= FORCE else 0.0
    q = pair[i, j, k] / 7.0
    half = (rung + q) / 2
    res, risk, weak, aim = v[RES, k], v[RISK_, k], g[WEAK, j, k], g[PRESSURE, j, k]
    return (v[RECIP, k] * (2 * tone * g[TAU, j, k] - tone * tone),
            aim * (1 - weak) * (2 * rung + 2 * topple),
            -(aim * coop),
            -((1 - res) * 2 * (weak + FORCE_NORM) * (rung * rung)),
            -(risk * 4 * weak * (half * half * half) * climbs),
            -(DISCIPLINE * max(0.0, rung_level - pair[i, j, k] - 1)),
            g[COMMIT, j, k] * (coop * pressed[j, k] / 7.0 - 2 * host),
            risk * coop * (q * q),
            coop * (1 - res) * v[CALM, k],
            v[AUD, k] * g[THREAT, j, k] * (follows - coop),
            -(rung * v[INST, k]))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _comply_terms(g, v, pair, i, j, k):
    """The terms of state i's yielding to j's demand in the block's run k (``comply_utility``)."""
    demand = g[DEMAND_ON_ME, j, k]
    return (g[EXPOSED, j, k] * (2 * pair[i, j, k] / 7.0 + g[THREATENED, j, k]),
            g[OFFERED, j, k] * demand,
            -(RESISTANCE * demand * v[RES, k]),
            -v[AUD, k])


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 = _LN2_HI + _LN2_LO, the first part exact
_LN2_LO = 1.90821492927058770002e-10
_T = tuple(1.0 / math.factorial(m) for m in range(14))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _taylor(r):
    """exp(r) as the sum of r^m / m! for m = 0..13 (Horner).

    The series' remainder is below 1e-17 of the value for |r| <= ln 2 / 2.
    """
    return (((((((((((((_T[13] * r + _T[12]) * r + _T[11]) * r + _T[10]) * r + _T[9]) * r
                      + _T[8]) * r + _T[7]) * r + _T[6]) * r + _T[5]) * r + _T[4]) * r
                 + _T[3]) * r + _T[2]) * r + _T[1]) * r + _T[0])


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _vexp(u, g, size, bits, scale):
    """u[g, k] = exp(u[g, k]) for x <= 0, k < size, in loops the compiler vectorizes.

    x = n ln 2 + r (Cody and Waite 1980, "Software Manual for the Elementary
    Functions"), exp(r) by its Taylor series to the 13th power (relative error
    below 1e-16), times 2^n made from the bits of n. Being plain arithmetic, it
    gives the same bits on every machine, which a C library's exp does not promise.
    """
    for k in range(size):
        x = min(max(u[g, k], -700.0), 0.0)
        n = np.floor(x * _LOG2E + 0.5)
        r = (x - n * _LN2_HI) - n * _LN2_LO
        u[g, k] = _taylor(r)
        bits[k] = (np.int64(n) + 1023) << 52
    for k in range(size):
        u[g, k] *= scale[k]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _block_draw(u, ok, opened, group, wanted, count, groups, size, rationality, draws, picks,
                best, total, bits, nest, nests, top, within):
    """The nested logit choice of every run ``k`` of a block.

    Rows (of ``count``) fall into nests (``nest[g]`` of their utility group:
    a rung of the ladder, or a kind of move). A nest is drawn with probability
    proportional to exp(rationality[k] M), M the best utility of its rows open
    in that run, and a row within it with probability proportional to
    exp(rationality[k] u) over its open rows (McKelvey and Palfrey 1995): so a
    rung is no likelier for having more catalogue entries (the limit of the
    nested logit as a nest's dissimilarity goes to 0, Train 2009, "Discrete
    Choice Methods with Simulation", ch. 4). Both steps are one inverse-CDF
    draw with ``draws[k]``: row c weighs E(nest) e(c) / S(nest), E the nest's
    weight, e the row's within it and S their sum, and the pick is the first
    open row whose running sum of weights exceeds ``draws[k]`` times their
    total. Rows share a utility through ``group``; only ``wanted`` groups are
    read. ``u`` is overwritten with the weights.
    """
    scale = bits.view(np.float64)
    for m in range(nests):
        for k in range(size):
            top[m, k] = -np.inf
            within[m, k] = 0.0
    for c in range(count):
        if not opened[c]:
            continue
        g = group[c]
        m = nest[g]
        for k in range(size):
            z = rationality[k] * u[g, k]
            top[m, k] = z if ok[c, k] and z > top[m, k] else top[m, k]
    for k in range(size):
        best[k] = -np.inf
    for m in range(nests):
        for k in range(size):
            best[k] = top[m, k] if top[m, k] > best[k] else best[k]
    for g in range(groups):
        if not wanted[g]:
            continue
        m = nest[g]
        for k in range(size):  # <= 0 where a row of the group is open
            u[g, k] = rationality[k] * u[g, k] - top[m, k]
        _vexp(u, g, size, bits, scale)
    for c in range(count):
        if not opened[c]:
            continue
        g = group[c]
        m = nest[g]
        for k in range(size):
            within[m, k] += u[g, k] if ok[c, k] else 0.0
    for m in range(nests):
        for k in range(size):
            top[m, k] = top[m, k] - best[k]
        _vexp(top, m, size, bits, scale)
    for g in range(groups):
        if not wanted[g]:
            continue
        m = nest[g]
        for k in range(size):
            u[g, k] = top[m, k] * u[g, k] / within[m, k] if within[m, k] > 0 else 0.0
    # the pick: the first open row whose running sum of weights exceeds draw x total
    # (the last open row if rounding leaves none), found for the whole block in one pass
    for k in range(size):
        total[k] = 0.0
    for c in range(count):
        if not opened[c]:
            continue
        g = group[c]
        for k in range(size):
            total[k] += u[g, k] if ok[c, k] else 0.0
    goal, running, last = best, total, bits
    for k in range(size):
        goal[k] = draws[k] * total[k]
        running[k] = 0.0
        picks[k] = -1
        last[k] = 0
    for c in range(count):
        if not opened[c]:
            continue
        g = group[c]
        for k in range(size):
            running[k] += u[g, k] if ok[c, k] else 0.0
            hit = ok[c, k] and picks[k] < 0 and running[k] > goal[k]
            picks[k] = c if hit else picks[k]
            last[k] = c if ok[c, k] else last[k]
    for k in range(size):
        picks[k] = last[k] if picks[k] < 0 else picks[k]


def choice_probabilities(utility, feasible, nests, rationality):
    """Each candidate's probability under the nested choice of :func:`_block_draw`.

    For reading (players, stories, the web page), with numpy's exponential: a
    nest's share is proportional to exp(rationality x its best feasible
    utility), a candidate's share within its nest to exp(rationality x U).
    """
    utility, feasible, nests = np.asarray(utility), np.asarray(feasible), np.asarray(nests)
    z = np.where(feasible, rationality * utility, -np.inf)
    top = np.full(nests.max() + 1, -np.inf)
    np.maximum.at(top, nests, z)
    with np.errstate(invalid="ignore", divide="ignore"):  # nests with no open move
        inner = np.where(feasible, np.exp(z - top[nests]), 0.0)
        within = np.zeros_like(top)
        np.add.at(within, nests, inner)
        share = np.exp(top - top.max())
        share /= share.sum()
        return np.where(feasible, share[nests] * inner / within[nests], 0.0)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _vote(w, p, t, r, s, day, key, target, vetoed, u3):
    """The Council's members vote on a draft demanding restraint from ``target``.

    Returns (yes votes, adopted). A member that is an actor weighs yes
    (restrain the target), abstain and, if permanent, veto (protect itself or
    an ally) by the logit rule; other seats follow their probabilities. Only
    the seats sitting on ``day`` vote.
    """
    level, actor, commitment, pressure = w.level, p.actor, p.commitment, p.pressure
    seat_agent, seat_permanent, seat_key = t.seat_agent, t.seat_permanent, t.seat_key
    seat_yes, seat_veto = p.seat_yes, p.seat_veto
    veto_cost, votes = p.council[s, VETO_COST], p.council[s, VOTES]
    yes = 0
    any_veto = False
    ok3, opened3 = np.ones((3, 1), dtype=np.bool_), np.ones(3, dtype=np.bool_)
    group3 = np.arange(3)  # each option its own nest: a plain logit
    rationality, draws, pick = np.empty(1), np.empty(1), np.empty(1, dtype=np.int64)
    best, total, bits = np.empty(1), np.empty(1), np.empty(1, dtype=np.int64)
    top3, within3 = np.empty((3, 1)), np.empty((3, 1))
    for k in range(seat_agent.shape[0]):
        vetoed[k] = False
        if not _sits(t, k, day):
            continue
        draw = uniform(key, day, seat_key[k] | DRAW_VOTE)
        a = seat_agent[k]
        if a >= 0:
            _vote_utilities(level, actor, commitment, pressure, r, s, a, target, veto_cost, u3)
            rationality[0], draws[0] = actor[s, a, RATIONALITY], draw
            options = 3 if seat_permanent[k] else 2
            _block_draw(u3, ok3, opened3, group3, opened3, options, options, 1, rationality,
                        draws, pick, best, total, bits, group3, options, top3, within3)
            said_yes, veto = pick[0] == 0, pick[0] == 2
        else:
            said_yes = draw < seat_yes[s, k, target]
            veto = seat_permanent[k] and not said_yes and draw >= 1 - seat_veto[s, k, target]
        yes += said_yes
        vetoed[k] = veto
        any_veto |= veto
    return yes, (yes >= votes) and not any_veto


# ====================================================================== effects =====

@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _act(wf, wi, p, t, r, s, i, a, j, day, weight, key, play, start_meeting):
    """Memories, index, holdings, threats, capability, casualties and agenda of one act.

    Everything here is a sum or a per-actor setting, so acts combine in any
    order; the third parties' reading of levels is the day's starting level
    (levels change only after every act, in :func:`_levels`). ``wf`` and ``wi``
    are the world's arrays, read from the tuple once by the caller (:func:`_fields`).
    """
    hostility, cooperation, indices, military, inquiry, casualties, restraint = wf
    (level, assets, threat_until, meeting_day, session_until, restraint_until, voted, achieved,
     offer_until, success) = wi
    commitment, memory, council_p = p
    is_state, score, act, keys, council = t
    n = level.shape[1]
    for q in range(indices.shape[1]):
        indices[r, q] += weight * score[a, q]
    if j >= 0 and is_state[j]:
        host, coop = act[a, A_HOST], act[a, A_COOP]
        hostility[r, j, i] += weight * host  # j remembers what i did to it
        cooperation[r, j, i] += weight * coop
        for k in range(n):  # allies of j feel it too, by their commitment
            if k != i:
                hostility[r, k, i] += weight * commitment[s, k, j] * host
        if act[a, A_THIRD] > 0:  # support for j angers those pressing j
            amount = weight * act[a, A_THIRD] * coop
            for k in range(n):
                if is_state[k] and k != i and k != j and level[r, k, j] >= 3:
                    hostility[r, k, i] += amount
        if act[a, A_SEIZE] > 0:
            assets[r, i, j] += int(act[a, A_SEIZE])
        if act[a, A_RELEASE] > 0:
            assets[r, i, j] = 0
        if act[a, A_THREAT] > 0:  # an ultimatum binds until its own deadline
            deadline = act[a, A_DEADLINE] if act[a, A_DEADLINE] > 0 else memory[s, THREAT_DAYS]
            threat_until[r, i, j] = day + int(deadline)
        if act[a, A_OFFER] > 0:
            offer_until[r, i, j] = day + int(memory[s, THREAT_DAYS])
        if act[a, A_COMPLY] > 0 and not achieved[r, j, i]:  # j's aim against i is reached
            achieved[r, j, i] = True
            if play:
                _succeed(success, r, day, SUCCESS_COMPLIED)
        if act[a, A_TRANSFER] > 0:
            military[r, j] = min(1.0, military[r, j] + act[a, A_TRANSFER])
        if act[a, A_FACTS] > 0:
            inquiry[r, j] += act[a, A_FACTS]
    if act[a, A_CASUALTIES] > 0 and play:  # the seed events say their casualties
        draw = uniform(key, day, keys[i] | DRAW_CASUALTIES)
        casualties[r] += np.floor(-act[a, A_CASUALTIES] * np.log1p(-draw))
    if council >= 0:
        if act[a, A_REQUEST] > 0 and start_meeting < day:  # none pending when the day began
            meeting_day[r] = day + int(council_p[s, DELAY])
        if act[a, A_CONVENE] > 0:
            session_until[r] = day + int(council_p[s, SESSION])
            meeting_day[r] = NEVER
            for k in range(n):
                voted[r, k] = False
        if act[a, A_RESTRAINT] > 0:
            restraint_until[r] = day + int(council_p[s, RESTRAINT_DAYS])
            restraint[r] = act[a, A_RESTRAINT]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _succeed(success, r, day, kind):
    """Record a coercer's success: its first day, and how (a fall outranks compliance that day)."""
    if success[r, 0] < 0 or success[r, 0] == day:
        success[r, 0] = day
        success[r, 1] = max(success[r, 1], kind)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _fields(w, p, t):
    """The arrays :func:`_act` reads, out of the World, Params and Tables tuples.

    Read once per block: each read of a tuple's field costs a reference count.
    """
    return ((w.hostility, w.cooperation, w.indices, w.military, w.inquiry, w.casualties,
             w.restraint),
            (w.level, w.assets, w.threat_until, w.meeting_day, w.session_until,
             w.restraint_until, w.voted, w.achieved, w.offer_until, w.success),
            (p.commitment, p.memory, p.council),
            (t.is_state, t.score, t.act, t.key, t.council))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _lower(act, is_state, i, a, j, reduce, cap):
    """Collect one act's de-escalation of its pair (both directions) into ``reduce``/``cap``."""
    if j < 0 or not is_state[j]:
        return
    down, ceiling = int(act[a, A_LOWER]), int(act[a, A_CEASEFIRE])
    if act[a, A_COMPLY] > 0:  # yielding ends the coercion between the two
        ceiling = CALM_CAP if ceiling < 0 else min(ceiling, CALM_CAP)
    if down > 0:
        reduce[i, j] += down
        reduce[j, i] += down
    if ceiling >= 0:
        cap[i, j] = min(cap[i, j], ceiling)
        cap[j, i] = min(cap[j, i], ceiling)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _levels(w, p, t, set_of, base, size, day, moves, targets, reduce, cap, acted):
    """The day's levels in runs ``base ..`` (moves[i, k] of run base + k).

    De-escalation of the starting levels, then force, then relaxation of
    levels below force.
    """
    level, since, act, is_state, memory = w.level, w.since, t.act, t.is_state, p.memory
    n = level.shape[1]
    for k in range(size):
        r = base + k
        relax = int(memory[set_of[r], RELAX])
        reduce[:] = 0
        cap[:] = MAX_LEVEL
        acted[:] = False
        for i in range(n):
            if moves[i, k] >= 0:
                _lower(act, is_state, i, moves[i, k], targets[i, k], reduce, cap)
        for i in range(n):
            for j in range(n):
                level[r, i, j] = min(max(0, level[r, i, j] - reduce[i, j]), cap[i, j])
        for i in range(n):
            a, j = moves[i, k], targets[i, k]
            if a >= 0 and j >= 0 and is_state[j]:
                rung = int(act[a, A_LEVEL])
                if rung > 0 and rung >= level[r, i, j]:
                    level[r, i, j] = rung
                    acted[i, j] = True
        for i in range(n):
            for j in range(n):
                days = 0 if acted[i, j] or level[r, i, j] >= FORCE else since[r, i, j] + 1
                if days >= relax and level[r, i, j] > 0:
                    level[r, i, j] -= 1
                    days = 0
                since[r, i, j] = days


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _track(w, p, t, set_of, base, size, day):
    """Outcome thresholds crossed today, calm spells, peaks: runs ``base .. base + size - 1``."""
    level, peak, first, is_state = w.level, w.peak, w.first, t.is_state
    indices, peak_indices, outcome = w.indices, w.peak_indices, p.outcome
    tops, calms, casualties = w.top, w.calm, w.casualties
    a, b = t.gp[0], t.gp[1]
    n = level.shape[1]
    for k in range(size):
        r, s = base + k, set_of[base + k]
        top = 0
        for i in range(n):
            for j in range(n):
                x = level[r, i, j]
                if i != j and is_state[i] and is_state[j] and x > top:
                    top = x
                if x > peak[r, i, j]:
                    peak[r, i, j] = x
        tops[r] = top
        calm = calms[r] + 1 if top <= outcome[s, CALM_MAX] else 0
        calms[r] = calm
        gp = a >= 0 and max(level[r, a, b], level[r, b, a]) >= outcome[s, GP_LEVEL]
        war = top >= outcome[s, WAR_LEVEL] or casualties[r] >= outcome[s, WAR_CASUALTIES]
        for m, crossed in enumerate((calm >= outcome[s, CALM_DAYS],
                                     top >= outcome[s, CLASH_LEVEL], war, gp)):
            if crossed and first[r, m] < 0:
                first[r, m] = day
        for q in range(indices.shape[1]):
            if indices[r, q] > peak_indices[r, q]:
                peak_indices[r, q] = indices[r, q]


# ====================================================================== the day =====

@njit(cache=True, nogil=True, error_model="numpy")
def advance(w, p, t, set_of, run_keys, day, given_action, given_target, rec):
    """Play ``day`` in every run of the batch: choose, then apply every move together.

    ``given_action``/``given_target`` (runs x actors) hold moves chosen
    outside the logit rule (scheduled, forced, a player's), :data:`UNSET`
    where the actor's own rule chooses. ``rec`` receives what happened.
    """
    actor, cand, cand_start, keys = p.actor, t.cand, t.cand_start, t.key
    runs, n = w.level.shape[0], w.level.shape[1]
    seats = t.seat_agent.shape[0]
    widest = 1
    for i in range(n):
        widest = max(widest, cand_start[i + 1] - cand_start[i])
    pair, top = np.empty((n, n, BLOCK)), np.empty(BLOCK)
    pressed, pressing = np.empty((n, BLOCK)), np.empty((n, BLOCK))
    per_target, per_run = np.empty((TARGET_ROWS, n, BLOCK)), np.empty((RUN_ROWS, BLOCK))
    u, ok = np.empty((widest, BLOCK)), np.empty((widest, BLOCK), dtype=np.bool_)
    opened, wanted = np.empty(widest, dtype=np.bool_), np.empty(widest, dtype=np.bool_)
    per_group, group = np.empty((widest, BLOCK), dtype=np.bool_), np.empty(widest, np.int64)
    nests = max(1, t.nests.max())
    gnest, top_nest, within = (np.empty(widest, np.int64), np.empty((nests, BLOCK)),
                               np.empty((nests, BLOCK)))
    rationality, draws, best, total = (np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK),
                                       np.empty(BLOCK))
    picks, bits = np.empty(BLOCK, dtype=np.int64), np.empty(BLOCK, dtype=np.int64)
    u3 = np.empty((3, 1))  # a vote's options
    moves, targets = np.empty((n, BLOCK), dtype=np.int64), np.empty((n, BLOCK), dtype=np.int64)
    reduce, cap = np.empty((n, n), dtype=np.int64), np.empty((n, n), dtype=np.int64)
    acted = np.empty((n, n), dtype=np.bool_)
    vetoed = np.zeros(seats, dtype=np.bool_)
    for base in range(0, runs, BLOCK):
        size = min(BLOCK, runs - base)
        _clean_slate(w, base, size, day - 1)
        # ---- 1. choices, all on yesterday's state ----------------------------------------
        _views(w, t, base, size, pair, pressed, pressing, top)
        for i in range(n):
            chooses = False
            for k in range(size):
                moves[i, k], targets[i, k] = given_action[base + k, i], given_target[base + k, i]
                chooses |= moves[i, k] == UNSET
            if not chooses:
                continue
            _utilities(w, p, t, set_of, base, size, i, day, pair, pressed, pressing, top,
                       per_target, per_run, per_group, u, ok, opened, wanted, u3)
            count = cand_start[i + 1] - cand_start[i]
            us = t.util_start[i]
            for c in range(count):
                group[c] = t.cand_util[cand_start[i] + c] - us
                gnest[group[c]] = t.cand_nest[cand_start[i] + c]
            for k in range(size):
                r = base + k
                rationality[k] = actor[set_of[r], i, RATIONALITY]
                draws[k] = uniform(run_keys[r], day, keys[i] | DRAW_CHOICE)
            _block_draw(u, ok, opened, group, wanted, count, t.util_start[i + 1] - us, size,
                        rationality, draws, picks, best, total, bits, gnest, t.nests[i], top_nest,
                        within)
            for k in range(size):
                if moves[i, k] == UNSET:
                    c = cand_start[i] + picks[k]
                    moves[i, k], targets[i, k] = int(cand[c, C_ACTION]), int(cand[c, C_TARGET])
        _resolve(w, p, t, set_of, run_keys, base, size, day, moves, targets, rec, vetoed, u3)
        _levels(w, p, t, set_of, base, size, day, moves, targets, reduce, cap, acted)
        _track(w, p, t, set_of, base, size, day)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _clean_slate(w, base, size, day):
    """A government that fell on ``day`` leaves its successor a clean slate the next morning.

    Before anyone chooses on the day after the fall, its pairs return to calm,
    and the memories, threats and offers between it and everyone are
    cleared: the new government inherits neither the old one's quarrels nor
    its coercers' aims (reached), so nothing but a new act brings it back into
    the crisis. (The day of the fall ends with its levels as they were, so
    the day's trajectory, peaks and a state saved that evening agree.)
    """
    fallen, level, since, hostility, cooperation = (w.fallen, w.level, w.since, w.hostility,
                                                    w.cooperation)
    threat_until, offer_until = w.threat_until, w.offer_until
    n = level.shape[1]
    for k in range(size):
        r = base + k
        for j in range(n):
            if fallen[r, j] != day:
                continue
            for m in range(n):
                level[r, j, m], level[r, m, j] = 0, 0
                since[r, j, m], since[r, m, j] = 0, 0
                hostility[r, j, m], hostility[r, m, j] = 0.0, 0.0
                cooperation[r, j, m], cooperation[r, m, j] = 0.0, 0.0
                threat_until[r, j, m], threat_until[r, m, j] = -1, -1
                offer_until[r, j, m], offer_until[r, m, j] = -1, -1


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _topple(w, p, t, r, s, key, day, moves, targets):
    """Raids and invasions that may bring down their target's government, on the day's start.

    Act ``a`` against state ``j`` topples it with chance topple(a) x (1 - w),
    w the target's share of the local balance of force (its own and its
    backers' by their reach), drawn with the actor's own number. Every chance
    reads the day's starting state, so the acts of the day combine in any order;
    the falls take effect together. Every aim against a fallen government is reached.
    """
    military, fallen, achieved, success = w.military, w.fallen, w.achieved, w.success
    actor, commitment, pressure = p.actor, p.commitment, p.pressure
    act, is_state, keys = t.act, t.is_state, t.key
    n = military.shape[1]
    for i in range(n):
        a, j = moves[i], targets[i]
        if a < 0 or j < 0 or not is_state[j] or act[a, A_TOPPLE] <= 0 or fallen[r, j] >= 0:
            continue
        backing = _backing(military, actor, commitment, r, s, j)
        weak = backing / (military[r, i] * actor[s, i, REACH] + backing + 1e-9)
        if uniform(key, day, keys[i] | DRAW_TOPPLE) < act[a, A_TOPPLE] * (1 - weak):
            fallen[r, j] = day  # a second attempt on j today changes nothing: it has fallen
    for j in range(n):
        if fallen[r, j] == day:
            fallen[r, j] = day
            for m in range(n):
                if pressure[s, m, j] > 0:
                    achieved[r, m, j] = True
            _succeed(success, r, day, SUCCESS_FELL)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _resolve(w, p, t, set_of, run_keys, base, size, day, moves, targets, rec, vetoed, u3):
    """Runs ``base ..`` once every actor has chosen (moves[i, k] of run base + k).

    The Council's members vote on a draft, then every move takes effect together
    (levels and outcomes follow in :func:`_levels` and :func:`_track`).
    """
    wf, wi, pf, tf = _fields(w, p, t)
    hostility, cooperation, indices = w.hostility, w.cooperation, w.indices
    meeting_day, voted, resolution = w.meeting_day, w.voted, w.resolution
    memory, act, is_state = p.memory, t.act, t.is_state
    rec_action, rec_target, rec_vote, rec_vetoed = rec.action, rec.target, rec.vote, rec.vetoed
    council, seat_agent, veto_score = t.council, t.seat_agent, t.veto_score
    n, seats = hostility.shape[1], seat_agent.shape[0]
    for k in range(size):
        r, s, key = base + k, set_of[base + k], run_keys[base + k]
        rec_vote[r, 0], rec_vote[r, 1], rec_vote[r, 2] = -1, 0, 0
        for m in range(seats):
            rec_vetoed[r, m] = False
        drafting = (council >= 0 and moves[council, k] >= 0 and targets[council, k] >= 0
                    and act[moves[council, k], A_RESOLUTION] > 0)
        if drafting:
            target = targets[council, k]
            yes, adopted = _vote(w, p, t, r, s, day, key, target, vetoed, u3)
            rec_vote[r, 0], rec_vote[r, 1], rec_vote[r, 2] = target, yes, adopted
            for m in range(seats):
                rec_vetoed[r, m] = vetoed[m]
        for i in range(n):
            rec_action[r, i], rec_target[r, i] = moves[i, k], targets[i, k]
        # ---- 2. every move takes effect together --------------------------------------
        decay = memory[s, DECAY]
        for i in range(n):
            for j in range(n):
                hostility[r, i, j] *= decay
                cooperation[r, i, j] *= decay
        for q in range(indices.shape[1]):
            indices[r, q] *= decay
        mine = moves[council, k] if council >= 0 else HOLD
        if mine >= 0 and act[mine, A_MEDIATION] > 0:
            keep = 1 - act[mine, A_MEDIATION]  # good offices calm the states
            for i in range(n):
                for j in range(n):
                    if i != j and is_state[i] and is_state[j]:
                        hostility[r, i, j] *= keep
        _topple(w, p, t, r, s, key, day, moves[:, k], targets[:, k])
        # a request counts only if no meeting was pending when the day began; one made on
        # a day the Council convenes is taken up by that session
        start_meeting = day if mine >= 0 and act[mine, A_CONVENE] > 0 else meeting_day[r]
        for i in range(n):
            if moves[i, k] >= 0:
                _act(wf, wi, pf, tf, r, s, i, moves[i, k], targets[i, k], day, 1.0, key, True,
                     start_meeting)
        if drafting:
            target = targets[council, k]
            voted[r, target] = True
            if rec_vote[r, 2]:
                resolution[r, target] = True
            for m in range(seats):
                if vetoed[m] and seat_agent[m] >= 0:  # a veto is its holder's act
                    for q in range(indices.shape[1]):
                        indices[r, q] += veto_score[q]


@njit(cache=True, nogil=True, error_model="numpy")
def seed(w, p, t, ev_day, ev_actor, ev_action, ev_target, ev_casualties):
    """The state at day 0 of every run (one run per parameter set): the seed events' effects.

    Each event takes effect as in play, one after another in the given order,
    with weight decay^(-day) so that it has decayed to day 0; a level it
    raised then relaxes for the days that passed. Nothing is drawn.
    """
    level, since, memory, act, is_state = w.level, w.since, p.memory, t.act, t.is_state
    runs, n = level.shape[0], level.shape[1]
    key = np.uint64(0)  # nothing is drawn
    wf, wi, pf, tf = _fields(w, p, t)
    sets = np.arange(runs)  # run r is parameter set r
    reduce, cap = np.empty((n, n), dtype=np.int64), np.empty((n, n), dtype=np.int64)
    for r in range(runs):
        s = r
        decay, relax = memory[s, DECAY], int(memory[s, RELAX])
        for e in range(ev_day.shape[0]):
            i, a, j, day = ev_actor[e], ev_action[e], ev_target[e], ev_day[e]
            _act(wf, wi, pf, tf, r, s, i, a, j, day, decay ** (-day), key, False,
                 w.meeting_day[r])
            w.casualties[r] += ev_casualties[e]
            reduce[:] = 0
            cap[:] = MAX_LEVEL
            _lower(act, is_state, i, a, j, reduce, cap)
            for x in range(n):
                for y in range(n):
                    level[r, x, y] = min(max(0, level[r, x, y] - reduce[x, y]), cap[x, y])
            if j >= 0 and is_state[j]:
                rung = int(act[a, A_LEVEL])
                if rung > 0 and rung >= level[r, i, j]:
                    level[r, i, j] = rung
                    since[r, i, j] = -day
        for x in range(n):
            for y in range(n):
                if level[r, x, y] >= FORCE:  # force ends only by decisions
                    since[r, x, y] = 0
                    continue
                steps = min(since[r, x, y] // relax, level[r, x, y])
                level[r, x, y] -= steps
                since[r, x, y] = since[r, x, y] % relax
        _track(w, p, t, sets, r, 1, 0)


@njit(cache=True, nogil=True, error_model="numpy")
def explain(w, p, t, set_of, r, i, day):
    """Why actor ``i`` would choose as it does in run ``r`` on ``day``, candidate by candidate.

    The same computation as the day's own choice, for one run (players, tests,
    stories). Returns (utility, feasible, terms): ``terms[c]`` holds candidate c's
    utility split into the columns of :data:`TERMS`, the expressions the day's
    choice sums (``tests/test_stories.py`` checks that a feasible candidate's
    terms add up to its utility). A move closed today has utility and terms 0.
    """
    n = w.level.shape[1]
    cand, act, is_state = t.cand, t.act, t.is_state
    first, count = t.cand_start[i], t.cand_start[i + 1] - t.cand_start[i]
    pair, top = np.empty((n, n, 1)), np.empty(1)
    pressed, pressing = np.empty((n, 1)), np.empty((n, 1))
    g, v = np.empty((TARGET_ROWS, n, 1)), np.empty((RUN_ROWS, 1))
    u, ok = np.empty((count, 1)), np.empty((count, 1), dtype=np.bool_)
    opened, wanted = np.empty(count, dtype=np.bool_), np.empty(count, dtype=np.bool_)
    _views(w, t, r, 1, pair, pressed, pressing, top)
    _utilities(w, p, t, set_of, r, 1, i, day, pair, pressed, pressing, top, g, v,
               np.empty((count, 1), dtype=np.bool_), u, ok, opened, wanted, np.empty((3, 1)))
    utility, terms = np.zeros(count), np.zeros((count, len(TERMS)))
    n_state, n_comply = len(STATE_TERMS), len(COMPLY_TERMS)
    for c in range(count):
        if not ok[c, 0]:
            continue
        utility[c] = u[t.cand_util[first + c] - t.util_start[i], 0]
        a, j = int(cand[first + c, C_ACTION]), int(cand[first + c, C_TARGET])
        if a == HOLD:
            continue
        terms[c, len(TERMS) - 1] = -v[INERT, 0]
        if not is_state[i]:
            terms[c, n_state + n_comply + 2] = utility[c] + v[INERT, 0]
        elif j < 0:
            terms[c, n_state + n_comply + 1] = utility[c] + v[INERT, 0]
        elif not is_state[j]:
            terms[c, n_state + n_comply] = utility[c] + v[INERT, 0]
        elif act[a, A_COMPLY] > 0:
            e = _comply_terms(g, v, pair, i, j, 0)
            for q in range(n_comply):
                terms[c, n_state + q] = e[q]
        else:
            e = _state_terms(g, v, pair, pressed, i, j, 0, cand[first + c, C_TONE],
                             act[a, A_LEVEL], act[a, A_TOPPLE])
            for q in range(n_state):
                terms[c, q] = e[q]
    return utility, ok[:, 0].copy(), terms
