"""A slow, plain-Python reference of one crisis day for one run, written from docs/model.md.

It shares no code with the compiled day (:mod:`sim.model.day`) except the random
numbers (:func:`sim.model.rng.uniform` and the actors' stream keys) and the
record types it reads and returns (``World``, ``Params``). The utilities, the
logit draw and the casualty draw are the functions of the ``python`` block in
docs/model.md, executed from the document itself, so the test that compares
this oracle with the compiled day checks the documentation as much as the code.

Everything else (candidates, preconditions, the Council's vote, every effect,
levels, outcome tracking) follows the prose of docs/model.md, one step at a
time, over Python lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sim.inputs import catalogue as cat
from sim.model.day import World
from sim.model.params import tables
from sim.model.rng import uniform

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"
NEVER = -1_000_000  # docs/model.md, "State": no meeting, no session, no call for restraint
CHOICE, CASUALTIES, VOTE, TOPPLE = 0, 1, 2, 3  # purposes: the low byte of a stream key
COMPLIED, FELL = 1, 2  # how a coercer's aim was reached
CALM_CAP = 1  # docs/model.md: after compliance a pair holds words at most
HOLD, NONE = -1, -1
FORCE = 5  # docs/model.md: the first rung of force
UNSET = -2  # in a table of given moves: the actor's logit rule chooses


def formula_block(text: str | None = None) -> str:
    """The ``python`` block of docs/model.md that defines the utilities."""
    text = DOC.read_text(encoding="utf-8") if text is None else text
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S)
              if "def state_utility(" in b]
    assert len(blocks) == 1, f"docs/model.md needs one python block of utilities, has {len(blocks)}"
    return blocks[0]


def load_formulas(block: str | None = None) -> dict:
    """Execute the formula block (of docs/model.md by default); return its functions."""
    namespace: dict = {}
    exec(compile(formula_block() if block is None else block, str(DOC), "exec"), namespace)
    return namespace


class Oracle:
    """One day of one run of ``scenario``, step by step as docs/model.md describes it."""

    def __init__(self, scenario, formulas: dict | None = None):
        self.f = formulas or load_formulas()
        spec, catalogue = scenario.spec, cat.load()
        self.catalogue = catalogue
        self.ids = sorted(spec.actors)  # the actor axis: ids in sorted order
        self.n = len(self.ids)
        self.kind = [spec.actors[a].kind for a in self.ids]
        self.is_state = [k == "state" for k in self.kind]
        self.actions = catalogue.actions
        self.council = next((i for i, k in enumerate(self.kind) if k == "institution"), -1)
        body = spec.actors[self.ids[self.council]].council if self.council >= 0 else None
        self.seats = sorted(body.members) if body else []
        self.seat_actor = [self.ids.index(m) if m in self.ids else -1 for m in self.seats]
        self.seat_permanent = [body.members[m].permanent for m in self.seats]
        self.seat_term = scenario.seat_days()  # (first, last) day of each seat's term
        structure = tables(scenario)  # only for the stream keys (made from the ids)
        self.key = [int(k) for k in structure.key]
        self.seat_key = [int(k) for k in structure.seat_key]
        self.gp = ([self.ids.index(a) for a in spec.outcomes.great_power_confrontation.actors]
                   if spec.outcomes.great_power_confrontation else None)
        self.schemes = [catalogue.scores(s).tolist() for s in cat.SCHEMES]
        # candidates: hold, then every action the actor's kind may take (not vote-only) in
        # catalogue order, with each target of the action's kind in the order of the ids
        self.candidates, self.nests = [], []
        for i, kind in enumerate(self.kind):
            rows = [(HOLD, NONE)]
            for a, action in enumerate(self.actions):
                if kind not in action.actors or action.requires.vote_only:
                    continue
                if action.target == "none":
                    rows.append((a, NONE))
                else:
                    rows += [(a, j) for j in range(self.n)
                             if j != i and self.kind[j] == action.target]
            self.candidates.append(rows)
            # nests: a state's hostile acts by rung, its others by category; the
            # Council's by action
            self.nests.append([("hold",) if a == HOLD else
                               ("action", a) if kind != "state" else
                               ("rung", self.actions[a].level) if self.actions[a].level > 0
                               else ("kind", self.actions[a].category) for a, _ in rows])
        targets = [spec.actors[a].targets for a in self.ids]
        self.open_targets = [[t == "all" or bool(t and self.ids[j] in t) for j in range(self.n)]
                             for t in targets]

    # ------------------------------------------------------------------ choices ---

    def feasible(self, s, i, a, j, day) -> bool:
        """The catalogue's ``requires`` of action ``a`` by ``i`` against ``j`` today."""
        if a == HOLD:
            return True
        req, lv = self.actions[a].requires, s["level"]
        t = i if j == NONE else j  # a move without a target is checked against the actor
        pair = max(lv[i][t], lv[t][i])
        pressing, pressed = s["pressing"][t], s["pressed"][t]
        against = lv[j][i] if j != NONE and self.is_state[j] else s["pressed"][i]
        checks = [
            req.min_level is None or pair >= req.min_level,
            req.min_level_by_target is None or pressing >= req.min_level_by_target,
            req.target_under_pressure is None or pressed >= req.target_under_pressure,
            req.min_level_against_actor is None or against >= req.min_level_against_actor,
            req.commitment is None or (j != NONE and s["commitment"][i][t] >= req.commitment),
            s["military"][i] >= req.capability.get("military", 0.0),
            s["naval"][i] >= req.capability.get("naval", 0.0),
            s["economic"][i] >= req.capability.get("economic", 0.0),
            not req.holds_assets or s["assets"][i][t] > 0,
            not req.no_pending_meeting or (s["meeting_day"] < day and s["session_until"] < day),
            not req.meeting_due or s["meeting_day"] == day,
            not req.in_session or s["session_until"] >= day,
            not req.once_per_session or not s["voted"][t],
            not req.demanded or (j != NONE and self.demand(s, j, i) > 0),
            not (self.is_state[i] and j != NONE and self.is_state[j]) or self.relevant(s, i, j),
        ]
        return all(checks)

    def demand(self, s, i, j) -> float:
        """The open demand of i on j: its pressure until j complies or falls."""
        reached = s["achieved"][i][j] or s["fallen"][j] >= 0
        return 0.0 if reached else s["pressure"][i][j]

    def relevant(self, s, i, j) -> bool:
        """Whether i may act against state j: aims, allies, who presses i or its allies."""
        lv, com = s["level"], s["commitment"]
        return (self.open_targets[i][j] or self.demand(s, i, j) > 0 or com[i][j] > 0
                or lv[j][i] > 0 or lv[i][j] > 0
                or any(com[i][m] > 0 and lv[j][m] > 0 for m in range(self.n)))

    def backing(self, s, j) -> float:
        """The force that defends j where it stands (the formula block's ``backing``)."""
        return self.f["backing"](s["military"][j], [(s["military"][m], s["actor"][m]["reach"],
                                                     s["commitment"][m][j])
                                                    for m in range(self.n)])

    def sits(self, k, day) -> bool:
        """Whether Council seat k sits on ``day``."""
        start, end = self.seat_term[k]
        return (start is None or start <= day) and (end is None or day <= end)

    def vote_utilities(self, s, a, target):
        """Member a's (yes, abstain, veto) utilities on a draft against ``target``."""
        stake = 1.0 if target == a else s["commitment"][a][target]
        return self.f["vote_utilities"](s["pressure"][a][target], float(s["level"][a][target]),
                                        stake, s["veto_cost"])

    def veto_free(self, s, target, day) -> float:
        """The chance that no sitting permanent member vetoes a draft against ``target``."""
        free = 1.0
        for k, a in enumerate(self.seat_actor):
            if not self.seat_permanent[k] or not self.sits(k, day):
                continue
            if a >= 0:
                chance = self.f["veto_chance"](self.vote_utilities(s, a, target),
                                               s["actor"][a]["rationality"])
            else:
                chance = self.f["seat_veto_chance"](s["seat_yes"][k][target],
                                                    s["seat_veto"][k][target])
            free *= 1.0 - chance
        return free

    def utility(self, s, i, a, j, day) -> float:
        """U of candidate (a, j) of actor i: the formula block's functions."""
        f, lv, n = self.f, s["level"], self.n
        if a == HOLD:
            return 0.0
        action = self.actions[a]
        tone = action.goldstein / 10.0
        inertia = s["actor"][i]["inertia"]
        if not self.is_state[i]:
            fx = action.effects
            weight = f["council_weight"](fx.restraint, fx.mediation, fx.fact_finding,
                                         fx.resolution)
            tension = s["pressing"][j] if j != NONE else s["top_start"]
            passes = (f["anticipated"](self.veto_free(s, j, day), s["foresight"])
                      if fx.resolution and j != NONE else 1.0)
            return f["council_utility"](s["activism"], tension, weight,
                                        action.requires.meeting_due, inertia, passes)
        if j == NONE:
            return f["statement_utility"](inertia)
        if not self.is_state[j]:
            return f["request_utility"](float(s["pressed"][i]), tone, inertia)
        h, c, mil, com = s["hostility"], s["cooperation"], s["military"], s["commitment"]
        p = s["actor"][i]
        if action.effects.comply:
            demand = self.demand(s, j, i)
            exposed = f["exposure"](mil[j], s["actor"][j]["reach"], self.backing(s, i))
            threatened = 1.0 if s["threat_until"][j][i] >= day and demand > 0 else 0.0
            offered = 1.0 if s["offer_until"][j][i] >= day else 0.0
            return f["comply_utility"](demand, float(max(lv[i][j], lv[j][i])), exposed, threatened,
                                       offered, p["resolve"], p["audience_cost"], inertia)
        tau = f["provocation_tone"](c[i][j], h[i][j], [(com[i][m], h[m][j]) for m in range(n)])
        weak = f["weakness"](mil[i], p["reach"], self.backing(s, j))
        aim = self.demand(s, i, j)
        inst = 0.0
        if self.council >= 0:
            inst = f["institutional_weight"](s["restraint_until"] >= day, s["restraint"],
                                             s["resolution"][i], s["resolution_cost"],
                                             s["inquiry"][i])
        binds = 1.0 if s["threat_until"][i][j] >= day and aim > 0 else 0.0
        return f["state_utility"](
            tone, float(action.level), action.effects.topple, float(max(lv[i][j], lv[j][i])),
            tau, weak, aim, com[i][j], float(s["pressed"][j]),
            f["war_weariness"](s["casualties"]), binds,
            inst, p["resolve"], p["reciprocity"], p["risk_aversion"], p["audience_cost"],
            inertia)

    def choose(self, s, i, day, run_key):
        """Actor i's move by the logit rule, with its own uniform number of the day."""
        rows = self.candidates[i]
        ok = [self.feasible(s, i, a, j, day) for a, j in rows]
        # an infeasible move is never drawn, whatever its utility
        u = [self.utility(s, i, a, j, day) if good else 0.0
             for (a, j), good in zip(rows, ok, strict=True)]
        draw = float(uniform(np.uint64(run_key), day, np.uint64(self.key[i] | CHOICE)))
        return rows[self.f["nested_logit_choice"](u, ok, self.nests[i],
                                                  s["actor"][i]["rationality"], draw)]

    def top(self, lv) -> int:
        """The highest level between two different states."""
        return max([lv[i][j] for i in range(self.n) for j in range(self.n)
                    if i != j and self.is_state[i] and self.is_state[j]] or [0])

    def vote(self, s, target, day, run_key):
        """The Council's vote on a draft against ``target``: (yes, adopted, vetoed per seat)."""
        yes, vetoed = 0, []
        for k, a in enumerate(self.seat_actor):
            if not self.sits(k, day):  # only the seats sitting today vote
                vetoed.append(False)
                continue
            draw = float(uniform(np.uint64(run_key), day, np.uint64(self.seat_key[k] | VOTE)))
            if a >= 0:
                u = self.vote_utilities(s, a, target)
                options = 3 if self.seat_permanent[k] else 2
                pick = self.f["logit_choice"](list(u[:options]), [True] * options,
                                              s["actor"][a]["rationality"], draw)
                said_yes, veto = pick == 0, pick == 2
            else:
                said_yes = draw < s["seat_yes"][k][target]
                veto = (self.seat_permanent[k] and not said_yes
                        and draw >= 1 - s["seat_veto"][k][target])
            yes += said_yes
            vetoed.append(veto)
        return yes, yes >= s["votes_to_pass"] and not any(vetoed), vetoed

    # ------------------------------------------------------------------ the day ---

    def day(self, world: World, params, set_index: int, run: int, run_key, day: int,
            given_action=None, given_target=None):
        """Play ``day`` in run ``run`` of ``world`` with parameter set ``set_index``.

        ``given_action``/``given_target`` (one entry per actor, :data:`UNSET`
        for the logit rule) are moves chosen outside. Returns (the run's next
        state as a one-run ``World``, moves, targets, (draft target, yes,
        adopted), vetoed per seat).
        """
        s = self.read(world, params, set_index, run)
        n, lv = self.n, s["level"]
        for j in range(n):  # the morning after a fall, the successor starts with a clean slate
            if s["fallen"][j] == day - 1:
                for m in range(n):
                    for x, y in ((j, m), (m, j)):
                        lv[x][y] = s["since"][x][y] = 0
                        s["hostility"][x][y] = s["cooperation"][x][y] = 0.0
                        s["threat_until"][x][y] = s["offer_until"][x][y] = -1
        # what the choices read: the highest level anyone holds against each actor, and
        # each actor holds against anyone, and between two states
        s["pressed"] = [max(lv[m][j] for m in range(n)) for j in range(n)]
        s["pressing"] = [max(lv[j][m] for m in range(n)) for j in range(n)]
        s["top_start"] = self.top(lv)
        given_action = [UNSET] * n if given_action is None else list(given_action)
        given_target = [NONE] * n if given_target is None else list(given_target)
        # ---- 1. every actor chooses on yesterday's state --------------------------------
        moves = []
        for i in range(n):
            if given_action[i] == UNSET:
                moves.append(self.choose(s, i, day, run_key))
            else:
                moves.append((given_action[i], given_target[i]))
        c = self.council
        drafting = (c >= 0 and moves[c][0] != HOLD and moves[c][1] != NONE
                    and self.actions[moves[c][0]].effects.resolution)
        vote, vetoed = (-1, 0, 0), [False] * len(self.seats)
        if drafting:  # on the day's starting state
            yes, adopted, vetoed = self.vote(s, moves[c][1], day, run_key)
            vote = (moves[c][1], yes, int(adopted))
        # ---- 2. every move takes effect together -----------------------------------------
        start = [row[:] for row in s["level"]]
        self.topple(s, moves, day, run_key)  # on the day's starting balance
        convenes = c >= 0 and moves[c][0] != HOLD and self.actions[moves[c][0]].effects.convene
        start_meeting = day if convenes else s["meeting_day"]  # a session takes up requests
        decay = s["decay"]
        for name in ("hostility", "cooperation"):
            s[name] = [[x * decay for x in row] for row in s[name]]
        s["indices"] = [x * decay for x in s["indices"]]
        if c >= 0 and moves[c][0] != HOLD and self.actions[moves[c][0]].effects.mediation > 0:
            keep = 1 - self.actions[moves[c][0]].effects.mediation
            for i in range(n):
                for j in range(n):
                    if i != j and self.is_state[i] and self.is_state[j]:
                        s["hostility"][i][j] *= keep
        for i in range(n):  # in the order of the ids
            if moves[i][0] != HOLD:
                self.effects(s, i, moves[i][0], moves[i][1], day, run_key, start, start_meeting)
        if drafting:
            target = moves[c][1]
            s["voted"][target] = True
            if vote[2]:
                s["resolution"][target] = True
            veto = self.actions[self.catalogue.index["veto"]]
            for k, a in enumerate(self.seat_actor):
                if vetoed[k] and a >= 0:  # an actor's veto is its act: it scores on the index
                    for q, scheme in enumerate(cat.SCHEMES):
                        s["indices"][q] += veto.score(scheme)
        self.levels(s, moves, start, day)
        self.track(s, day)
        return self.write(s, world), moves, vote, vetoed

    def topple(self, s, moves, day, run_key):
        """Raids and invasions that bring down their target's government (docs/model.md)."""
        for i, (a, j) in enumerate(moves):
            if a == HOLD or j == NONE or not self.is_state[j] or s["fallen"][j] >= 0:
                continue
            chance = self.actions[a].effects.topple
            if chance <= 0:
                continue
            weak = self.f["weakness"](s["military"][i], s["actor"][i]["reach"], self.backing(s, j))
            draw = float(uniform(np.uint64(run_key), day, np.uint64(self.key[i] | TOPPLE)))
            if draw < chance * (1 - weak):
                s["fallen"][j] = day
        for j in range(self.n):
            if s["fallen"][j] == day:
                for m in range(self.n):
                    if s["pressure"][m][j] > 0:
                        s["achieved"][m][j] = True
                self.succeed(s, day, FELL)

    @staticmethod
    def succeed(s, day, how):
        """Record a coercer's success: its first day, a fall outranking compliance that day."""
        day0, kind = s["success"]
        if day0 < 0 or day0 == day:
            s["success"] = [day, max(kind, how)]

    def effects(self, s, i, a, j, day, run_key, start, start_meeting):
        """Everything one act adds (memories, index, holdings, threats, aid, deaths, agenda)."""
        action, n = self.actions[a], self.n
        fx = action.effects
        tone = action.goldstein / 10.0
        host, coop = max(0.0, -tone), max(0.0, tone)
        for q in range(len(s["indices"])):
            s["indices"][q] += self.schemes[q][a]
        if j != NONE and self.is_state[j]:
            h = s["hostility"]
            h[j][i] += host
            s["cooperation"][j][i] += coop
            for k in range(n):  # j's allies feel it by their commitment to j
                if k != i:
                    h[k][i] += s["commitment"][k][j] * host
            if fx.third_party_hostility > 0:  # support for j angers those pressing j
                for k in range(n):
                    if self.is_state[k] and k not in (i, j) and start[k][j] >= 3:
                        h[k][i] += fx.third_party_hostility * coop
            if fx.seize_assets:
                s["assets"][i][j] += fx.seize_assets
            if fx.release_assets:
                s["assets"][i][j] = 0
            if fx.threat:  # an ultimatum binds until its own deadline
                s["threat_until"][i][j] = day + (fx.deadline_days or s["threat_days"])
            if fx.offer:
                s["offer_until"][i][j] = day + s["threat_days"]
            if fx.comply and not s["achieved"][j][i]:
                s["achieved"][j][i] = True
                self.succeed(s, day, COMPLIED)
            if fx.capability_transfer > 0:
                s["military"][j] = min(1.0, s["military"][j] + fx.capability_transfer)
            if fx.fact_finding > 0:
                s["inquiry"][j] += fx.fact_finding
        if fx.casualties > 0:
            draw = float(uniform(np.uint64(run_key), day, np.uint64(self.key[i] | CASUALTIES)))
            s["casualties"] += self.f["casualty_draw"](fx.casualties, draw)
        if self.council >= 0:
            if fx.request_meeting and start_meeting < day:  # none pending when the day began
                s["meeting_day"] = day + s["meeting_delay_days"]
            if fx.convene:
                s["session_until"] = day + s["session_days"]
                s["meeting_day"] = NEVER
                s["voted"] = [False] * n
            if fx.restraint > 0:
                s["restraint_until"] = day + s["restraint_days"]
                s["restraint"] = fx.restraint

    def levels(self, s, moves, start, day):
        """De-escalation of the starting levels, then force, then relaxation below force."""
        n, lv = self.n, s["level"]
        reduce = [[0] * n for _ in range(n)]
        cap = [[cat.MAX_LEVEL] * n for _ in range(n)]
        for i, (a, j) in enumerate(moves):
            if a == HOLD or j == NONE or not self.is_state[j]:
                continue
            fx = self.actions[a].effects
            for x, y in ((i, j), (j, i)):  # both directions
                reduce[x][y] += fx.lower_level
                if fx.ceasefire is not None:
                    cap[x][y] = min(cap[x][y], fx.ceasefire)
                if fx.comply:  # yielding ends the coercion between the two
                    cap[x][y] = min(cap[x][y], CALM_CAP)
        for x in range(n):
            for y in range(n):
                lv[x][y] = min(max(0, start[x][y] - reduce[x][y]), cap[x][y])
        acted = [[False] * n for _ in range(n)]
        for i, (a, j) in enumerate(moves):
            if a == HOLD or j == NONE or not self.is_state[j]:
                continue
            rung = self.actions[a].level
            if rung > 0 and rung >= lv[i][j]:
                lv[i][j] = rung
                acted[i][j] = True
        for x in range(n):
            for y in range(n):
                # force ends only by decisions: its clock does not run
                days = 0 if acted[x][y] or lv[x][y] >= FORCE else s["since"][x][y] + 1
                if days >= s["relax_days"] and lv[x][y] > 0:
                    lv[x][y] -= 1
                    days = 0
                s["since"][x][y] = days

    def track(self, s, day):
        """Peaks, the calm spell and the first day each outcome threshold is crossed."""
        n, lv = self.n, s["level"]
        top = self.top(lv)
        s["top"] = top
        for x in range(n):
            for y in range(n):
                s["peak"][x][y] = max(s["peak"][x][y], lv[x][y])
        s["calm"] = s["calm"] + 1 if top <= s["calm_max"] else 0
        gp = self.gp is not None and max(lv[self.gp[0]][self.gp[1]],
                                         lv[self.gp[1]][self.gp[0]]) >= s["gp_level"]
        crossed = (s["calm"] >= s["calm_days"], top >= s["clash_level"],
                   top >= s["war_level"] or s["casualties"] >= s["war_casualties"], gp)
        for k, now in enumerate(crossed):
            if now and s["first"][k] < 0:
                s["first"][k] = day
        s["peak_indices"] = [max(p, x) for p, x in zip(s["peak_indices"], s["indices"],
                                                       strict=True)]

    # ------------------------------------------------------------------ reading ---

    def read(self, world: World, params, set_index: int, run: int) -> dict:
        """Run ``run`` of ``world`` and parameter set ``set_index`` as plain Python values."""
        s = {name: getattr(world, name)[run].tolist() for name in World._fields}
        p = {name: getattr(params, name)[set_index].tolist() for name in params._fields}
        names = ("resolve", "reciprocity", "risk_aversion", "rationality", "audience_cost",
                 "inertia", "military", "naval", "economic", "reach")
        s["actor"] = [dict(zip(names, row, strict=True)) for row in p["actor"]]
        s["naval"] = [row["naval"] for row in s["actor"]]
        s["economic"] = [row["economic"] for row in s["actor"]]
        s.update(pressure=p["pressure"], commitment=p["commitment"], seat_yes=p["seat_yes"],
                 seat_veto=p["seat_veto"])
        council = dict(zip(("meeting_delay_days", "session_days", "votes_to_pass", "activism",
                            "resolution_cost", "restraint_days", "veto_cost", "foresight"),
                           p["council"],
                           strict=True))
        for name in ("meeting_delay_days", "session_days", "restraint_days"):
            council[name] = int(council[name])
        s.update(council)
        decay, relax, threat = p["memory"]
        s.update(decay=decay, relax_days=int(relax), threat_days=int(threat))
        s.update(zip(("calm_max", "calm_days", "clash_level", "war_level", "war_casualties",
                      "gp_level"), p["outcome"], strict=True))
        return s

    def write(self, s: dict, like: World) -> World:
        """``s`` as a one-run ``World`` with the dtypes of ``like``."""
        return World(*(np.array([s[name]], dtype=getattr(like, name).dtype)
                       for name in World._fields))
