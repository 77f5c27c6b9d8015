"""What charts and reports are drawn from: a results folder's counts and context.

A :class:`ResultSet` is built from a finished ensemble, saved into the results
folder (``aggregate.npz``, ``trajectories.csv``, ``scenario.json``) and loaded
back by ``escsim plot``, so charts and the report can be redrawn, under any
scoring scheme, without re-running anything and without the scenario files.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sim.aggregate import Aggregate
from sim.catalogue import SCHEMES
from sim.catalogue import load as load_catalogue
from sim.engine import Trajectory, state_pairs
from sim.errors import InputError, Problem

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
                   "quote": ev.quote, "count": ev.count}
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
        """Read a results folder written by ``escsim run`` (exit 2 if it is not one)."""
        folder = Path(folder)
        missing = [n for n in ("scenario.json", "aggregate.npz", "trajectories.csv")
                   if not (folder / n).is_file()]
        if missing:
            raise InputError([Problem(folder, None, None,
                                      f"not a results folder of escsim run: missing "
                                      f"{', '.join(missing)}")])
        context = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        context["levels"] = {int(k): v for k, v in context["levels"].items()}
        aggregate = Aggregate.load(folder / "aggregate.npz")
        trajectories = read_trajectories(folder / "trajectories.csv", len(context["pairs"]))
        return cls(**context, scheme=context["run_scheme"], aggregate=aggregate,
                   trajectories=trajectories)


def write_trajectories(trajectories: dict[int, Trajectory], pairs: list[str], path: Path):
    """Kept runs day by day: the index under every scheme and every pair's level."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(["run", "day", *(f"index_{s}" for s in SCHEMES),
                           *(f"level_{p}" for p in pairs)]) + "\n")
        for run in sorted(trajectories):
            t = trajectories[run]
            for day in range(len(t.index)):
                fh.write(",".join([str(run), str(day), *(f"{v:.4f}" for v in t.index[day]),
                                   *(str(int(v)) for v in t.levels[day])]) + "\n")


def read_trajectories(path: Path, n_pairs: int) -> dict[int, Trajectory]:
    """Read ``trajectories.csv`` back (index values to the 4 decimals written)."""
    rows: dict[int, list[list[str]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            rows.setdefault(int(row[0]), []).append(row[2:])
    n = len(SCHEMES)
    out = {}
    for run, days in rows.items():
        table = np.array(days, dtype=float).reshape(len(days), n + n_pairs)
        out[run] = Trajectory(table[:, :n], table[:, n:].astype(np.int8))
    return out


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
    spec = scenario.spec.model_dump(mode="json", exclude={"schedule"})
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
            text = lines.setdefault(file, Path(file).read_text(encoding="utf-8").splitlines())
            source = trailing_comment(text[line - 1]) if line else ""
            source = source or "stated in the comments above this field in the scenario file"
        rows.append({"parameter": ".".join(str(p) for p in path), "value": value,
                     "source": source})
    return rows
