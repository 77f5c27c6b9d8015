"""What charts and reports are drawn from: a results folder's counts and context.

A :class:`ResultSet` is built from a finished ensemble, saved into the results
folder (``aggregate.npz``, ``trajectories.csv``, ``scenario.json``) and loaded
back by ``escsim plot``, so charts and the report can be redrawn, under any
scoring scheme, without re-running anything and without the scenario files.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.ensemble.aggregate import MAX_LEVEL, Aggregate, Trajectory
from sim.errors import InputError, Problem, field_path
from sim.inputs.catalogue import SCHEMES
from sim.inputs.catalogue import load as load_catalogue
from sim.inputs.schema import Fraction, Int, Record, Str, error_message
from sim.inputs.yamlio import decode, read_bytes, read_text
from sim.limits import MAX_HORIZON_DAYS, MAX_RUNS
from sim.model.outcomes import THRESHOLDS, state_pairs

TEXT_FIELDS = {"title", "description", "seed_events", "quote", "name", "extends"}
"""Scenario fields that are prose or file names, not parameters (left out of the
assumptions table)."""


@dataclass
class ResultSet:
    """One ensemble's results and everything needed to explain them."""

    name: str  # scenario name (file stem)
    title: str
    description: str
    seed: int
    days: int
    scheme: str  # the scoring scheme charts are drawn under
    run_scheme: str  # the scheme the scenario itself uses
    start_date: str
    actors: dict[str, str]  # id -> name
    pairs: list[str]  # directed state pairs "USA-VEN", in runs.csv order
    levels: dict[int, str]  # ladder rung -> description
    thresholds: dict[str, str]  # threshold -> plain-language definition
    events: list[dict]  # seed events with quotes
    schedule: list[dict]  # moves the scenario imposes on given days
    assumptions: list[dict]  # parameter, value, source
    command: str
    aggregate: Aggregate
    trajectories: dict[int, Trajectory]

    @property
    def runs(self) -> int:
        """Number of runs."""
        return self.aggregate.runs

    @property
    def scheme_row(self) -> int:
        """Row of :attr:`scheme` in the aggregate's index histograms."""
        return SCHEMES.index(self.scheme)

    def rescored(self, scheme: str) -> ResultSet:
        """The same results, with charts to be drawn under ``scheme``."""
        return replace(self, scheme=scheme)

    # ---------------------------------------------------------------- building ------

    @classmethod
    def from_ensemble(cls, ensemble, command: str) -> ResultSet:
        """Gather an ensemble's counts with its scenario's context."""
        scen = ensemble.scenario
        spec = scen.spec
        ids = scen.actor_ids
        out = spec.outcomes
        thresholds = {
            "deescalated": f"every state pair at rung {out.deescalated.max_level} or below "
                           f"for {out.deescalated.sustain_days} days in a row",
            "militarized_clash": f"a state pair reaches rung {out.militarized_clash.min_level}",
            "war": f"a state pair reaches rung {out.war.min_level} or "
                   f"{out.war.casualties:,.0f} deaths",
            "great_power_confrontation": "not defined in this scenario",
        }
        gp = out.great_power_confrontation
        if gp is not None:
            thresholds["great_power_confrontation"] = (
                f"{gp.actors[0]} and {gp.actors[1]} at rung {gp.min_level} against each other")
        catalogue = load_catalogue()
        events = [{"day": ev.day, "actor": ev.actor, "target": ev.target,
                   "action": catalogue[ev.action].name, "cameo": ev.cameo,
                   "quote": ev.quote or ev.note or ev.url or "", "count": ev.count}
                  for ev in sorted(scen.events, key=lambda e: e.day)]
        schedule = [{"day": ev.day, "actor": ev.actor, "target": ev.target,
                     "action": catalogue[ev.action].name, "quote": ev.quote or ev.note or ""}
                    for ev in spec.schedule]
        return cls(
            name=scen.name, title=spec.title, description=(spec.description or "").strip(),
            seed=ensemble.seed, days=ensemble.days, scheme=spec.scoring,
            run_scheme=spec.scoring, start_date=spec.start_date.isoformat(),
            actors={a: spec.actors[a].name for a in ids},
            pairs=[f"{ids[i]}-{ids[j]}" for i, j in state_pairs(scen)],
            levels=dict(catalogue.levels), thresholds=thresholds, events=events, schedule=schedule,
            assumptions=assumptions(scen), command=command,
            aggregate=ensemble.aggregate, trajectories=dict(ensemble.trajectories))

    # ---------------------------------------------------------------- files ---------

    CONTEXT = ("name", "title", "description", "seed", "days", "run_scheme", "start_date",
               "actors", "pairs", "levels", "thresholds", "events", "schedule", "assumptions",
               "command")

    def save(self, folder: Path):
        """Write ``scenario.json``, ``aggregate.npz`` and ``trajectories.csv`` into ``folder``."""
        context = {key: getattr(self, key) for key in self.CONTEXT}
        (folder / "scenario.json").write_text(json.dumps(context, indent=2, ensure_ascii=False)
                                              + "\n", encoding="utf-8")
        self.aggregate.save(folder / "aggregate.npz")
        write_trajectories(self.trajectories, self.pairs, folder / "trajectories.csv")

    @classmethod
    def load(cls, folder: Path) -> ResultSet:
        """Read a results folder written by ``escsim run`` (see :func:`load_results`)."""
        return load_results(folder)[0]


# ------------------------------------------------------------------ reading back -----
# A results folder may be damaged, truncated or not ours at all: every file is read
# as a regular file of bounded size, checked field by field and against the others,
# and every problem reported as one line before anything is drawn.

MAX_JSON_BYTES = 64 * 2**20
"""Largest ``scenario.json``, ``summary.json`` or ``comparison.json`` read back."""
MAX_PROBLEMS = 10
"""Problems listed per file; a garbage file is summed up, not printed line by line."""
CELL_CHARS = 40
"""Widest cell of ``trajectories.csv`` read back (written: at most 21 characters)."""
FILES = ("scenario.json", "summary.json", "aggregate.npz", "trajectories.csv")


class Event(Record):
    """A seed event as ``scenario.json`` lists it."""

    day: Int
    actor: Str
    target: Str | None
    action: Str
    cameo: Str
    quote: Str
    count: Int = Field(ge=1)


class Move(Record):
    """A scheduled move as ``scenario.json`` lists it."""

    day: Int
    actor: Str
    target: Str | None
    action: Str
    quote: Str


class Assumption(Record):
    """One row of the assumptions table."""

    parameter: Str
    value: Any
    source: Str


class Thresholds(Record):
    """The plain-language definition of every threshold."""

    deescalated: Str
    militarized_clash: Str
    war: Str
    great_power_confrontation: Str


class Context(Record):
    """``scenario.json``: everything but the counts (field names: :attr:`ResultSet.CONTEXT`)."""

    name: Str
    title: Str
    description: Str
    seed: Int = Field(ge=0)
    days: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    run_scheme: Literal[SCHEMES]
    start_date: Str
    actors: dict[Str, Str]
    pairs: list[Str]
    levels: dict[Str, Str]
    thresholds: Thresholds
    events: list[Event]
    schedule: list[Move]
    assumptions: list[Assumption]
    command: Str


class Crossing(BaseModel):
    """What the report reads of one threshold in ``summary.json``."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
    runs: Int = Field(ge=0)
    probability: Fraction
    median_first_day: Int | None = Field(ge=0)


class Crossings(BaseModel):
    """Every threshold's row in ``summary.json``."""

    model_config = ConfigDict(frozen=True)
    deescalated: Crossing
    militarized_clash: Crossing
    war: Crossing
    great_power_confrontation: Crossing


class Coercion(BaseModel):
    """The coercer's success in ``summary.json``: a row per kind and one for any kind."""

    model_config = ConfigDict(frozen=True)
    complied: Crossing
    government_fell: Crossing
    any: Crossing


class Summary(BaseModel):
    """What ``escsim plot`` reads of ``summary.json`` (other keys are for machines).

    ``coercion`` is absent from the results of an escsim that did not record it.
    """

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
    scenario: Str
    runs: Int = Field(ge=1, le=MAX_RUNS)
    days: Int = Field(ge=1, le=MAX_HORIZON_DAYS)
    scoring: Literal[SCHEMES]
    thresholds: Crossings
    coercion: Coercion | None = None


def read_json(path: Path, model: type[BaseModel], problems: list[Problem]):
    """``path`` parsed as JSON and validated as ``model``; ``None`` after adding problems."""
    try:
        text = decode(path, read_bytes(path, MAX_JSON_BYTES))
    except InputError as exc:
        problems += exc.problems
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(path, exc.lineno, "", f"not valid JSON: {exc.msg}"))
        return None
    except (ValueError, RecursionError) as exc:  # too many digits, too deeply nested
        problems.append(Problem(path, None, "", f"not valid JSON: {exc}"))
        return None
    try:  # a lone surrogate escape ("\ud800") parses, but cannot be written out again
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        problems.append(Problem(path, None, "", "a string holds an escaped lone surrogate "
                                                "(\\ud800-\\udfff), which is not text"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_url=False):
            loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]
            found.append(Problem(path, None, field_path(loc), *error_message(err)))
        problems += capped(path, found)
        return None


def capped(path: Path, found: list[Problem]) -> list[Problem]:
    """At most :data:`MAX_PROBLEMS` of one file's problems, and a line saying if more."""
    if len(found) <= MAX_PROBLEMS:
        return found
    return [*found[:MAX_PROBLEMS],
            Problem(path, None, "", f"{len(found) - MAX_PROBLEMS:,} more problems not shown")]


def check_folder(folder: Path):
    """Refuse a results folder that does not exist or is not a folder."""
    try:
        mode = os.stat(folder).st_mode
    except ValueError:
        raise InputError([Problem(folder, None, "", "the name contains a NUL byte")]) from None
    except OSError as exc:
        raise InputError([Problem(folder, None, "", f"cannot open folder: {exc.strerror}")]
                         ) from None
    if not stat.S_ISDIR(mode):
        raise InputError([Problem(folder, None, "", "not a folder: give the results folder "
                                                    "that escsim run or compare printed")])


def check_context(path: Path, ctx: Context) -> list[Problem]:
    """Cross-field checks of ``scenario.json``: pairs of known actors, ladder rungs."""
    found = []
    seen = set()
    for k, pair in enumerate(ctx.pairs):
        ends = pair.split("-")
        if len(ends) != 2 or ends[0] == ends[1] or not set(ends) <= set(ctx.actors):
            found.append(Problem(path, None, f"pairs[{k}]",
                                 f"'{pair}' is not two different actors of 'actors' "
                                 "joined by '-'"))
        elif pair in seen:
            found.append(Problem(path, None, f"pairs[{k}]", f"'{pair}' is listed twice"))
        seen.add(pair)
    rungs = {str(k) for k in range(MAX_LEVEL + 1)}
    if set(ctx.levels) != rungs:
        found.append(Problem(path, None, "levels",
                             f"must describe exactly the rungs 0 to {MAX_LEVEL}, "
                             f"got {', '.join(sorted(ctx.levels)) or 'none'}"))
    return found


def check_summary(path: Path, numbers: Summary, ctx: Context, agg: Aggregate) -> list[Problem]:
    """``summary.json`` against the scenario and the counts the charts are drawn from."""
    found = []
    for field, got, want in (("scenario", numbers.scenario, ctx.name),
                             ("runs", numbers.runs, agg.runs),
                             ("days", numbers.days, ctx.days),
                             ("scoring", numbers.scoring, ctx.run_scheme)):
        if got != want:
            found.append(Problem(path, None, field,
                                 f"is {got!r}, but the results are for {want!r}"))
    rows = [(f"thresholds.{name}", getattr(numbers.thresholds, name), agg.first[k])
            for k, name in enumerate(THRESHOLDS)]
    if (numbers.coercion is None) != (agg.success is None):
        # written by two versions of escsim: one of the files was replaced
        has, lacks = (("summary.json", "aggregate.npz") if agg.success is None
                      else ("aggregate.npz", "summary.json"))
        found.append(Problem(path, None, "coercion",
                             f"{has} records the coercer's success but {lacks} does not: "
                             "the two files come from different runs"))
    elif agg.success is not None:
        rows += [(f"coercion.{name}", getattr(numbers.coercion, name), counts)
                 for name, counts in agg.success_counts().items()]
    for field, row, counts in rows:
        crossed = int(counts[:-1].sum())  # the last column counts runs without it
        if row.runs != crossed or abs(row.probability - crossed / agg.runs) > 5e-7:
            found.append(Problem(path, None, field,
                                 f"says {row.runs} runs ({row.probability:g}), but "
                                 f"aggregate.npz counts {crossed} of {agg.runs}"))
        if row.median_first_day is not None and row.median_first_day > ctx.days:
            found.append(Problem(path, None, f"{field}.median_first_day",
                                 f"must be at most the horizon, {ctx.days}"))
    return found


def load_results(folder: Path) -> tuple[ResultSet, dict]:
    """Read and check a results folder of ``escsim run``: the result set and summary.json.

    Raises :class:`InputError` with one problem per line for anything missing,
    damaged or inconsistent, before anything is drawn.
    """
    folder = Path(folder)
    check_folder(folder)
    missing = [n for n in FILES if not os.path.lexists(folder / n)]
    if missing:
        raise InputError([Problem(folder, None, "", f"not a results folder of escsim run: "
                                                    f"missing {', '.join(missing)}")])
    problems: list[Problem] = []
    ctx = read_json(folder / "scenario.json", Context, problems)
    numbers = read_json(folder / "summary.json", Summary, problems)
    if ctx is not None:
        problems += check_context(folder / "scenario.json", ctx)
    if problems:
        raise InputError(problems)
    agg = trajectories = None
    try:
        agg = Aggregate.load(folder / "aggregate.npz", ctx.days, len(ctx.pairs),
                             len(ctx.actors), numbers.runs)
    except InputError as exc:
        problems += capped(folder / "aggregate.npz", exc.problems)
    else:
        problems += check_summary(folder / "summary.json", numbers, ctx, agg)
    try:
        trajectories = read_trajectories(folder / "trajectories.csv", ctx.pairs, ctx.days,
                                         numbers.runs)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    context = ctx.model_dump()
    context["levels"] = {int(k): v for k, v in context["levels"].items()}
    rs = ResultSet(**context, scheme=ctx.run_scheme, aggregate=agg, trajectories=trajectories)
    return rs, numbers.model_dump()


def trajectories_header(pairs: list[str]) -> list[str]:
    """The columns of ``trajectories.csv``."""
    return ["run", "day", *(f"index_{s}" for s in SCHEMES), *(f"level_{p}" for p in pairs)]


def write_trajectories(trajectories: dict[int, Trajectory], pairs: list[str], path: Path):
    """Kept runs day by day: the index under every scheme and every pair's level."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(trajectories_header(pairs))
        for run in sorted(trajectories):
            t = trajectories[run]
            for day in range(len(t.index)):
                out.writerow([run, day, *(f"{v:.4f}" for v in t.index[day]),
                              *(int(v) for v in t.levels[day])])


WHOLE = re.compile(r"[0-9]{1,19}\Z")
DECIMAL = re.compile(r"-?[0-9]{1,16}(\.[0-9]{1,16})?\Z")


def read_trajectories(path: Path, pairs: list[str], days: int, runs: int
                      ) -> dict[int, Trajectory]:
    """Read ``trajectories.csv`` back and check it: columns, numbers, runs, days, rungs.

    Each kept run has one row for each day 0..``days``, runs in increasing
    order below ``runs``; the file cannot be larger than that many rows of
    :data:`CELL_CHARS`-wide cells (read no further).
    """
    header = trajectories_header(pairs)
    limit = (runs * (days + 1) + 1) * (CELL_CHARS + 1) * len(header)
    lines = decode(path, read_bytes(path, limit)).split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines or next(csv.reader(lines[:1]), None) != header:
        raise InputError([Problem(path, 1, "", f"expected the header "
                                               f"{','.join(header)[:200]}")])
    rows: dict[int, tuple[list, list]] = {}
    found: list[Problem] = []
    last = None  # (run, day) of the previous row
    for number, row in enumerate(csv.reader(lines[1:]), start=2):
        if len(found) > MAX_PROBLEMS:
            break
        problem = check_row(row, header, runs, days, last)
        if problem:
            found.append(Problem(path, number, *problem))
            # read on as if this row had been the one expected, so one bad row is one problem
            if last is not None and last[1] < days:
                last = last[0], last[1] + 1
            else:
                run = int(row[0]) if row and WHOLE.match(row[0]) else -1
                last = max(run, last[0] + 1 if last else 0), 0
            continue
        last = int(row[0]), int(row[1])
        index, level = rows.setdefault(last[0], ([], []))
        index.append([float(c) for c in row[2:2 + len(SCHEMES)]])
        level.append([int(c) for c in row[2 + len(SCHEMES):]])
    short = [run for run, (index, _) in rows.items() if len(index) != days + 1]
    if short and not found:
        found.append(Problem(path, None, "day", f"run {short[0]} has {len(rows[short[0]][0])}"
                                                f" days, expected {days + 1} (days 0-{days})"))
    if found:
        raise InputError(capped(path, found))
    return {run: Trajectory(np.array(index, dtype=float).reshape(-1, len(SCHEMES)),
                            np.array(level, dtype=np.int8).reshape(-1, len(pairs)))
            for run, (index, level) in rows.items()}


def check_row(row: list[str], header: list[str], runs: int, days: int,
              last: tuple[int, int] | None) -> tuple[str, str] | None:
    """The first problem of one row of ``trajectories.csv`` as (column, message), or None."""
    if len(row) != len(header):
        return "", f"expected {len(header)} columns, got {len(row)}"
    for col, cell in zip(header, row, strict=True):
        decimal = col.startswith("index_")
        if not (DECIMAL if decimal else WHOLE).match(cell):
            kind = "a decimal number" if decimal else "a whole number"
            return col, f"must be {kind}, got {cell[:CELL_CHARS]!r}"
    run, day = int(row[0]), int(row[1])
    if run >= runs:
        return "run", f"must be below the number of runs, {runs:,}, got {run}"
    if day > days:
        return "day", f"must be at most the horizon, {days}, got {day}"
    for col, cell in zip(header[2 + len(SCHEMES):], row[2 + len(SCHEMES):], strict=True):
        if int(cell) > MAX_LEVEL:
            return col, f"must be a rung of the ladder, 0 to {MAX_LEVEL}, got {cell}"
    if last is not None and last[1] < days:
        if (run, day) != (last[0], last[1] + 1):
            return "day", f"expected run {last[0]} day {last[1] + 1}, got run {run} day {day}"
    elif day != 0 or (last is not None and run <= last[0]):
        after = f" after run {last[0]}" if last else ""
        return "run", f"expected day 0 of a new run{after}, got run {run} day {day}"
    return None


# ------------------------------------------------------------------ assumptions ------

def trailing_comment(line: str) -> str:
    """The comment at the end of a YAML line (a ``#`` outside quotes), or ''."""
    quote = None
    for k, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1] in " \t"):
            return line[k + 1:].strip()
    return ""


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            yield from _leaves(item, (*path, k))
    else:
        yield path, value


def assumptions(scenario) -> list[dict]:
    """Every parameter of the scenario with its value and its stated source.

    The source is the comment on the line that sets the value (in whichever
    file of an ``extends:`` chain set it); a parameter no file sets is the
    built-in default.
    """
    spec = scenario.spec.model_dump(mode="json", exclude={"schedule", "observed"})
    lines: dict[Path, list[str]] = {}
    rows = []
    for path, value in _leaves(spec):
        if not path or any(str(p) in TEXT_FIELDS for p in path) or value is None:
            continue
        where = scenario.where.get(path)
        if where is None:
            source = "escsim default (docs/scenario-format.md)"
        else:
            file, line = where
            text = lines.setdefault(file, read_text(file).splitlines())
            source = trailing_comment(text[line - 1]) if line else ""
            source = source or "stated in the comments above this field in the scenario file"
        rows.append({"parameter": ".".join(str(p) for p in path), "value": value,
                     "source": source})
    return rows
