"""A scenario as the compiled day reads it, and parameter sets that vary it run by run.

:func:`tables` gives the structure (actors' candidate moves, the
catalogue's declared effects, the Council's seats); :func:`base_params`
every numeric parameter as one parameter set. :class:`ParameterSets` is a
table of *parameter paths* (``actors.USA.resolve``,
``actors.RUS.commitments.VEN``, ``memory.decay``: the field's place in the
scenario file) to values, one row per set, validated like a scenario file.

Actors are kept in the order of their ids, whatever their order in the
file: sums over actors then run in one fixed order, so a permuted scenario
gives the same bits.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs import catalogue as cat
from sim.inputs.scenario import (
    Actor,
    Capabilities,
    Council,
    CouncilMember,
    Deescalated,
    GreatPowerThreshold,
    LevelThreshold,
    Memory,
    Scenario,
    WarThreshold,
)
from sim.model import day as D
from sim.model.rng import slot_key

MAX_SETS = 1_000_000
"""Most parameter sets in one ensemble."""
INSTITUTION_READS = ("rationality", "inertia", "military")
"""The decision parameters and capabilities an institution's choices depend on."""


def tables(scenario: Scenario) -> D.Tables:
    """The structure of ``scenario`` (what no parameter set changes) as the day reads it."""
    spec, catalogue = scenario.spec, cat.load()
    ids = scenario.actor_ids
    actors = [spec.actors[a] for a in ids]
    is_state = np.array([a.kind == "state" for a in actors])
    act = np.zeros((len(catalogue), len(D.ACT_COLUMNS)))
    act[:, D.A_LEVEL] = catalogue.level
    act[:, D.A_HOST] = catalogue.hostility
    act[:, D.A_COOP] = catalogue.cooperation
    for k, name in enumerate(D.ACT_COLUMNS[3:], start=3):
        act[:, k] = catalogue.effects[name]
    rows, starts, nest_of, nests = [], [0], [], []
    for i, actor in enumerate(actors):
        moves = [(None, D.NO_TARGET)]  # hold
        for action in catalogue.actions:
            if actor.kind not in action.actors or action.requires.vote_only:
                continue
            if action.target == "none":
                moves.append((action, D.NO_TARGET))
                continue
            moves += [(action, j) for j, other in enumerate(actors)
                      if j != i and other.kind == action.target]
        local: dict = {}
        for action, j in moves:
            rows.append(_candidate(catalogue, action, j))
            nest_of.append(local.setdefault(_nest(actor, action), len(local)))
        starts.append(len(rows))
        nests.append(len(local))
    cand = np.array(rows, dtype=np.float64).reshape(-1, len(D.CAND_COLUMNS))
    cand_nest = np.array(nest_of, dtype=np.int64)
    feas = _groups(cand, starts, lambda c: tuple(cand[c, [D.C_TARGET, *FEASIBILITY_COLUMNS]]))
    util = _groups(cand, starts, lambda c: (
        cand[c, D.C_ACTION] == D.HOLD, cand[c, D.C_TARGET], cand[c, D.C_TONE],
        cand[c, D.C_WEIGHT],
        -1 if cand[c, D.C_ACTION] == D.HOLD else act[int(cand[c, D.C_ACTION]), D.A_LEVEL],
        int(cand[c, D.C_FLAGS]) & D.MEETING_DUE, cand_nest[c],
        0 if cand[c, D.C_ACTION] == D.HOLD else act[int(cand[c, D.C_ACTION]), D.A_TOPPLE],
        0 if cand[c, D.C_ACTION] == D.HOLD else act[int(cand[c, D.C_ACTION]), D.A_COMPLY],
        0 if cand[c, D.C_ACTION] == D.HOLD else act[int(cand[c, D.C_ACTION]), D.A_RESOLUTION]))
    council = next((i for i, a in enumerate(actors) if a.kind == "institution"), -1)
    seats = sorted(actors[council].council.members) if council >= 0 else []
    members = actors[council].council.members if council >= 0 else {}
    terms = scenario.seat_days()
    open_targets = np.zeros((len(ids), len(ids)), dtype=np.bool_)
    for i, actor in enumerate(actors):
        if actor.targets == "all":
            open_targets[i] = True
        elif actor.targets:
            open_targets[i, [ids.index(x) for x in actor.targets]] = True
    gp = spec.outcomes.great_power_confrontation
    schemes = np.stack([catalogue.scores(s) for s in cat.SCHEMES], axis=1)
    return D.Tables(
        is_state=is_state,
        key=np.array([slot_key(a) for a in ids], dtype=np.uint64),
        cand_start=np.array(starts, dtype=np.int64),
        cand=cand, cand_feas=feas[0], feas_start=feas[1], feas_rep=feas[2],
        cand_util=util[0], util_start=util[1], util_rep=util[2],
        act=act,
        score=schemes,
        veto_score=schemes[catalogue.index["veto"]].copy(),
        seat_agent=np.array([ids.index(m) if m in ids else -1 for m in seats], dtype=np.int64),
        seat_permanent=np.array([members[m].permanent for m in seats], dtype=np.bool_),
        seat_key=np.array([slot_key(m) for m in seats], dtype=np.uint64),
        seat_from=np.array([D.NEVER if a is None else a for a, _ in terms], dtype=np.int64),
        seat_until=np.array([-D.NEVER if b is None else b for _, b in terms], dtype=np.int64),
        cand_nest=cand_nest, nests=np.array(nests, dtype=np.int64), open_targets=open_targets,
        council=np.int64(council),
        gp=np.array([ids.index(a) for a in gp.actors] if gp else [-1, -1], dtype=np.int64),
    )


FEASIBILITY_COLUMNS = (D.C_MIN_LEVEL, D.C_AGAINST, D.C_BY_TARGET, D.C_PRESSED, D.C_COMMIT,
                       D.C_MILITARY, D.C_NAVAL, D.C_ECONOMIC, D.C_FLAGS)
"""What a candidate's feasibility depends on, besides its target."""


def _nest(actor: Actor, action) -> tuple:
    """The nest of a move in its actor's choice: a rung of the ladder, or a kind of move.

    A state's hostile acts nest by their rung, its other acts by their
    category; the Council's by action, so no rung, kind or procedure is
    likelier for having more catalogue entries or more targets.
    """
    if action is None:
        return ("hold",)
    if actor.kind != "state":
        return ("action", action.id)
    return ("rung", action.level) if action.level > 0 else ("kind", action.category)


def _groups(cand: np.ndarray, starts: list[int], key) -> tuple[np.ndarray, ...]:
    """Group each actor's candidates (row numbers) by ``key``.

    Returns the group of each candidate, the first group of each actor and a
    candidate of each group; groups are numbered in order of appearance.
    """
    of, first, rep = np.empty(len(cand), dtype=np.int64), [0], []
    for i in range(len(starts) - 1):
        seen: dict = {}
        for c in range(starts[i], starts[i + 1]):
            k = key(c)
            if k not in seen:
                seen[k] = len(rep)
                rep.append(c)
            of[c] = seen[k]
        first.append(len(rep))
    return of, np.array(first, dtype=np.int64), np.array(rep, dtype=np.int64)


def _candidate(catalogue, action, target: int) -> list[float]:
    """One row of the candidate table (``action`` None: hold)."""
    if action is None:
        return [D.HOLD, target, 0.0, -1, -1, -1, -1, -1, 0.0, 0.0, 0.0, 0, 0.0]
    req, fx = action.requires, action.effects
    flags = sum(bit for bit, name in zip((1 << k for k in range(len(D.FLAGS))), D.FLAGS,
                                         strict=True) if getattr(req, name))
    level = [-1 if v is None else v for v in (req.min_level, req.min_level_against_actor,
                                              req.min_level_by_target,
                                              req.target_under_pressure)]
    return [catalogue.index[action.id], target, action.goldstein / 10.0, *level,
            -1 if req.commitment is None else req.commitment,
            *(req.capability.get(c, 0.0) for c in ("military", "naval", "economic")),
            flags, fx.restraint + fx.mediation + fx.fact_finding + 0.4 * fx.resolution]


def base_params(scenario: Scenario) -> D.Params:
    """Every numeric parameter of ``scenario``, as one parameter set."""
    spec, ids = scenario.spec, scenario.actor_ids
    n = len(ids)
    actors = [spec.actors[a] for a in ids]
    actor = np.array([[getattr(a, c) for c in D.ACTOR_COLUMNS[:6]]
                      + [getattr(a.capabilities, c) for c in D.ACTOR_COLUMNS[6:]]
                      for a in actors], dtype=np.float64)
    pressure, commitment = np.zeros((n, n)), np.zeros((n, n))
    for i, a in enumerate(actors):
        for other, value in a.pressure.items():
            pressure[i, ids.index(other)] = value
        for other, value in a.commitments.items():
            commitment[i, ids.index(other)] = value
    body = next((a.council for a in actors if a.kind == "institution"), None)
    seats = sorted(body.members) if body else []
    council = np.array([float(getattr(body, c)) if body else 0.0 for c in D.COUNCIL_COLUMNS])
    seat_yes, seat_veto = np.zeros((len(seats), n)), np.zeros((len(seats), n))
    for k, name in enumerate(seats):
        seat = body.members[name]
        seat_yes[k] = [seat.yes_probability_by_target.get(a, seat.yes_probability) for a in ids]
        if seat.permanent:
            seat_veto[k] = [seat.veto_probability_by_target.get(a, seat.veto_probability)
                            for a in ids]
    out = spec.outcomes
    gp = out.great_power_confrontation
    outcome = np.array([out.deescalated.max_level, out.deescalated.sustain_days,
                        out.militarized_clash.min_level, out.war.min_level, out.war.casualties,
                        gp.min_level if gp else cat.MAX_LEVEL + 1], dtype=np.float64)
    memory = np.array([spec.memory.decay, spec.memory.relax_days, spec.memory.threat_days],
                      dtype=np.float64)
    return D.Params(actor[None], pressure[None], commitment[None], council[None],
                    seat_yes[None], seat_veto[None], memory[None], outcome[None])


# ------------------------------------------------------------------ parameter paths ---

@dataclass(frozen=True)
class ParameterPath:
    """Where a parameter path's values go, and which values it accepts."""

    field: str  # a field of Params
    index: tuple  # inside that field, after the set axis
    lo: float | None
    hi: float | None
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    fan_out: bool = False  # a default (yes_probability) that per-target values override

    def check(self, value: float) -> str | None:
        """Why ``value`` is refused here, or None."""
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if self.integer and value != int(value):
            return f"must be a whole number, got {value:g}"
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return f"must be {'above' if self.lo_open else 'at least'} {self.lo:g}, got {value:g}"
        if self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi):
            return f"must be {'below' if self.hi_open else 'at most'} {self.hi:g}, got {value:g}"
        return None


def _limits(model, name: str, **where) -> ParameterPath:
    info = model.model_fields[name]
    lo = hi = None
    lo_open = hi_open = False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    return ParameterPath(lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                 integer=info.annotation is int, **where)


def parameter_paths(scenario: Scenario) -> dict[str, ParameterPath]:
    """Every parameter path of ``scenario``, in the order a table applies them."""
    spec, ids = scenario.spec, scenario.actor_ids
    states = [a for a in ids if spec.actors[a].kind == "state"]
    paths: dict[str, ParameterPath] = {}
    for i, aid in enumerate(ids):
        base = f"actors.{aid}"
        state = spec.actors[aid].kind == "state"
        for k, name in enumerate(D.ACTOR_COLUMNS):
            # the Council's choices read only its rationality and inertia, and its
            # military strength only through the backing it lends
            if not state and name not in INSTITUTION_READS:
                continue
            model, where = (Actor, name) if k < 6 else (Capabilities, f"capabilities.{name}")
            paths[f"{base}.{where}"] = _limits(model, name, field="actor", index=(i, k))
        for field, key in (("pressure", "pressure"), ("commitment", "commitments")):
            if not state and field == "pressure":
                continue
            for other in states:
                if other != aid:
                    paths[f"{base}.{key}.{other}"] = ParameterPath(
                        field, (i, ids.index(other)), 0.0, 1.0)
        body = spec.actors[aid].council
        if body is None:
            continue
        for k, name in enumerate(D.COUNCIL_COLUMNS):
            paths[f"{base}.council.{name}"] = _limits(Council, name, field="council", index=(k,))
        for k, seat in enumerate(sorted(body.members)):
            if seat in spec.actors:  # a state of the scenario votes by its decision rule
                continue
            member = body.members[seat]
            kinds = ("yes", "veto") if member.permanent else ("yes",)
            for kind in kinds:
                paths.update(_seat_paths(f"{base}.council.members.{seat}", kind, k, member, ids,
                                         states))
    for k, name in enumerate(D.MEMORY_COLUMNS):
        paths[f"memory.{name}"] = _limits(Memory, name, field="memory", index=(k,))
    models = {"deescalated": Deescalated, "militarized_clash": LevelThreshold,
              "war": WarThreshold, "great_power_confrontation": GreatPowerThreshold}
    for k, name in enumerate(D.OUTCOME_COLUMNS):
        group, field = name.split(".")
        if group == "great_power_confrontation" and spec.outcomes.great_power_confrontation is None:
            continue
        paths[f"outcomes.{name}"] = _limits(models[group], field, field="outcome", index=(k,))
    return paths


def _seat_paths(at: str, kind: str, k: int, member, ids: list[str], states: list[str]
                ) -> dict[str, ParameterPath]:
    """Seat ``at``'s ``<kind>_probability`` and ``<kind>_probability_by_target.<ID>`` paths.

    The first sets the targets the file gives no value of their own, so a
    table's per-target values override it.
    """
    name, field = f"{kind}_probability", f"seat_{kind}"
    given = getattr(member, f"{name}_by_target")
    rest = np.array([j for j, a in enumerate(ids) if a not in given], dtype=np.int64)
    paths = {f"{at}.{name}": _limits(CouncilMember, name, field=field, index=(k, rest),
                                     fan_out=True)}
    for other in states:
        paths[f"{at}.{name}_by_target.{other}"] = ParameterPath(field, (k, ids.index(other)),
                                                                0.0, 1.0)
    return paths


class ParameterSets:
    """Parameter sets of one ensemble: each path's value in every set.

    ``table`` maps parameter paths to one value per set (all the same
    length); a path not in the table keeps the scenario's value. ``source``
    names where the table came from in error messages (a file, ``--set``),
    ``lines`` the line of each row in it.

    >>> sets = ParameterSets(scenario, {"actors.USA.resolve": [0.3, 0.5, 0.7]})
    >>> sets.n_sets
    3
    """

    def __init__(self, scenario: Scenario, table: Mapping[str, Sequence[float]] | None = None,
                 *, source: str = "parameter table", lines: Sequence[int] | None = None):
        self.scenario = scenario
        table = {str(k): list(v) for k, v in (table or {}).items()}
        known = parameter_paths(scenario)
        sizes = {len(v) for v in table.values()}
        problems = []
        if len(sizes) > 1:
            problems.append(Problem(Path(source), None, "", "every parameter needs one value per "
                                    f"set, got {' and '.join(map(str, sorted(sizes)))} values"))
        n = sizes.pop() if len(sizes) == 1 else 1
        if not 1 <= n <= MAX_SETS:
            problems.append(Problem(Path(source), None, "", f"1 to {MAX_SETS:,} parameter sets, "
                                    f"got {n:,}"))
        for name, values in table.items():
            if name not in known:
                problems.append(Problem(Path(source), None, name, "not a parameter of this "
                                        "scenario", did_you_mean(name, known)))
                continue
            for row, value in enumerate(values):
                try:
                    why = known[name].check(float(value))
                except (TypeError, ValueError):
                    why = f"must be a number, got {value!r}"
                if why:
                    line = lines[row] if lines is not None else None
                    at = "" if lines is not None or n == 1 else f" (set {row})"
                    problems.append(Problem(Path(source), line, name, why + at))
        if problems:
            raise InputError(problems)
        self.table = {k: np.asarray(v, dtype=np.float64) for k, v in table.items()}
        self.n_sets = n
        self._paths = known
        self.params = self._build()
        self._check_votes(source, lines)

    def _build(self) -> D.Params:
        base = base_params(self.scenario)
        fields = {f: np.repeat(getattr(base, f), self.n_sets, axis=0) for f in D.Params._fields}
        # a seat's default yes probability first, so that per-target values override it
        for name in sorted(self.table, key=lambda k: not self._paths[k].fan_out):
            where = self._paths[name]
            values = self.table[name]
            target = fields[where.field]
            target[(slice(None), *where.index)] = (
                values.reshape(-1, 1) if where.fan_out else values)
        return D.Params(**fields)

    def _check_votes(self, source, lines):
        terms = self.scenario.seat_days()
        if not terms:
            return
        # the fewest seats sitting on any day of the run: counted on day 1 and on every
        # day a term starts or ends
        horizon = self.scenario.spec.horizon_days
        days = {1} | {d for a, b in terms for d in (a, None if b is None else b + 1)
                      if d is not None and 1 <= d <= horizon}
        seats = min(sum((a is None or a <= d) and (b is None or d <= b) for a, b in terms)
                    for d in days)
        need = self.params.council[:, D.VOTES]
        bad = np.nonzero(need > seats)[0]
        if bad.size:
            k = int(bad[0])
            raise InputError([Problem(Path(source), lines[k] if lines else None,
                                      "council.votes_to_pass", f"{need[k]:g} votes can never be "
                                      f"reached with {seats} members (set {k})")])

    def subset(self, start: int, stop: int) -> ParameterSets:
        """Sets ``start .. stop - 1`` only (renumbered from 0), e.g. for one chunk's worker."""
        part = object.__new__(ParameterSets)
        part.__dict__.update(self.__dict__)
        part.table = {k: v[start:stop] for k, v in self.table.items()}
        part.n_sets = stop - start
        part.params = D.Params(*(a[start:stop] for a in self.params))
        return part

    def row(self, k: int) -> dict[str, float]:
        """Parameter set ``k`` as {path: value}."""
        return {name: float(values[k]) for name, values in self.table.items()}

    @classmethod
    def single(cls, scenario: Scenario, assignments: Sequence[str] = ()) -> ParameterSets:
        """One set from ``PATH=VALUE`` texts (the command line's ``--set``)."""
        table, problems = {}, []
        for text in assignments:
            name, eq, value = text.partition("=")
            if not eq or not name.strip():
                problems.append(Problem(Path("--set"), None, "", f"'{text}' is not PATH=VALUE"))
                continue
            table[name.strip()] = [value]
        try:
            sets = cls(scenario, table, source="--set")
        except InputError as exc:
            raise InputError(problems + exc.problems) from None
        if problems:
            raise InputError(problems)
        return sets

    @classmethod
    def from_csv(cls, scenario: Scenario, path: Path | str) -> ParameterSets:
        """Sets from a CSV file: a header of parameter paths, one row per set."""
        from sim.inputs.yamlio import read_text
        path = Path(path)
        rows = list(csv.reader(io.StringIO(read_text(path))))
        if not rows:
            raise InputError([Problem(path, None, "", "no header row of parameter paths")])
        header, body = rows[0], rows[1:]
        problems = [Problem(path, k + 2, "", f"{_count(len(row), 'value')} for "
                                             f"{_count(len(header), 'column')}")
                    for k, row in enumerate(body) if len(row) != len(header)]
        if problems:
            raise InputError(problems)
        table = {name: [row[c] for row in body] for c, name in enumerate(header)}
        return cls(scenario, table, source=str(path), lines=[k + 2 for k in range(len(body))])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
