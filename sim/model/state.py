"""A saved world state: every run of a batch at the end of a day, to restore and branch from.

A state file is a zip of numpy arrays (``.npz``, read without pickle) with a
JSON header: the format name and version, the SHA-256 of the scenario that
made it, the actors, the seed and the day. Runs are stored in parts (one per
chunk of the ensemble that wrote them), so a file of many runs is written
as the chunks finish, and one run is read without loading the others.

Restoring is exact: a run's randomness depends only on (seed, run, day,
actor), and the file holds everything else a run carries from one day to
the next, so a restored run continues bit for bit as if never stopped.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem
from sim.model import day as D

FORMAT = "escsim-state"
VERSION = 2


@dataclass
class SavedState:
    """Runs of a batch at the end of ``day``."""

    scenario_sha256: str
    actor_ids: list[str]
    seed: int
    day: int
    runs: np.ndarray  # run numbers
    streams: np.ndarray  # the numbers keying each run's random numbers
    world: D.World
    tops: np.ndarray  # (runs, day + 1): every day's highest state-pair level
    index_days: np.ndarray | None = None  # (runs, day + 1, schemes), if the model kept them
    level_days: np.ndarray | None = None  # (runs, day + 1, actors, actors)

    @classmethod
    def of(cls, model, rows=None) -> SavedState:
        """The state of ``model`` now (runs at positions ``rows``, default all)."""
        from sim.model.model import take
        rows = np.arange(model.n_runs) if rows is None else np.asarray(rows)
        days = [model.on_day(d) for d in range(model.day + 1)]
        known = all(d is not None for d in days)
        return cls(model.crisis.sha256, list(model.actor_ids), model.seed, model.day,
                   model.run_ids[rows].copy(), model.streams[rows].copy(),
                   take(model.world, rows), model.tops()[rows],
                   np.stack([d[0][rows] for d in days], axis=1) if known else None,
                   np.stack([d[1][rows] for d in days], axis=1) if known else None)

    def select(self, rows) -> SavedState:
        """Runs at positions ``rows``, repeated as often as listed."""
        from sim.model.model import take
        rows = np.asarray(rows)
        past = self.index_days is not None
        return SavedState(self.scenario_sha256, self.actor_ids, self.seed, self.day,
                          self.runs[rows], self.streams[rows], take(self.world, rows),
                          self.tops[rows], self.index_days[rows] if past else None,
                          self.level_days[rows] if past else None)

    def position(self, run: int, where: str = "--run") -> int:
        """Where run number ``run`` is in this state."""
        found = np.nonzero(self.runs == run)[0]
        if not found.size:
            first, last = int(self.runs.min()), int(self.runs.max())
            raise InputError([Problem(Path(where), None, "", f"run {run} is not in the saved "
                                      f"state (it holds runs {first} to {last})")])
        return int(found[0])

    def check(self, scenario, runs: int):
        """Refuse to continue ``scenario`` from this state if their actors differ."""
        if list(scenario.actor_ids) != list(self.actor_ids):
            raise InputError([Problem(scenario.path, None, "actors", "the saved state has actors "
                                      f"{', '.join(self.actor_ids)}, the scenario "
                                      f"{', '.join(scenario.actor_ids)}")])
        if len(self.runs) != runs:
            raise ValueError(f"the state holds {len(self.runs)} runs, the model {runs}")


class StateWriter:
    """Writes a state file part by part (runs in order), then its header."""

    def __init__(self, path: Path, scenario, seed: int, day: int):
        self.path = Path(path)
        self.meta = {"format": FORMAT, "version": VERSION, "scenario_sha256": scenario.sha256,
                     "scenario": scenario.name, "actor_ids": list(scenario.actor_ids),
                     "seed": int(seed), "day": int(day), "parts": []}
        self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def add(self, part: SavedState):
        """Append the runs of ``part``."""
        k = len(self.meta["parts"])
        arrays = {"runs": part.runs, "streams": part.streams, "tops": part.tops,
                  **part.world._asdict()}
        if part.index_days is not None:
            arrays.update(index_days=part.index_days, level_days=part.level_days)
        for name, array in arrays.items():
            with self._zip.open(_member(f"part{k}/{name}.npy"), "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.ascontiguousarray(array), allow_pickle=False)
        self.meta["parts"].append([int(part.runs.min()), int(part.runs.max()), len(part.runs)])

    def close(self):
        """Write the header and close the file."""
        self._zip.writestr(_member("meta.json"), json.dumps(self.meta, indent=1))
        self._zip.close()


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed date, so the same state always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def save(path: Path | str, state: SavedState, scenario) -> Path:
    """Write ``state`` (of ``scenario``) to ``path``."""
    writer = StateWriter(Path(path), scenario, state.seed, state.day)
    writer.add(state)
    writer.close()
    return Path(path)


def load(path: Path | str, scenario=None, runs=None) -> SavedState:
    """Read a state file (only the parts holding ``runs``, if given).

    With ``scenario``, its actors must be the state's; a scenario whose bytes
    differ from the one that saved the state is a what-if and is allowed.
    """
    path = Path(path)
    problem = _problem_reader(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise problem(f"not a state file ({exc})") from None
    with zf:
        try:
            meta = json.loads(zf.read("meta.json"))
        except (KeyError, ValueError) as exc:
            raise problem(f"not a state file: no readable header ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise problem("not an escsim state file")
        if meta.get("version") != VERSION:
            raise problem(f"state format version {meta.get('version')}; this escsim reads "
                          f"version {VERSION}")
        wanted = None if runs is None else set(np.atleast_1d(runs).tolist())
        parts = []
        for k, (first, last, _) in enumerate(meta["parts"]):
            if wanted is not None and not any(first <= r <= last for r in wanted):
                continue
            names = ["runs", "streams", "tops", *D.World._fields]
            if f"part{k}/index_days.npy" in zf.namelist():
                names += ["index_days", "level_days"]
            try:
                arrays = {name: np.lib.format.read_array(zf.open(f"part{k}/{name}.npy"),
                                                         allow_pickle=False)
                          for name in names}
            except (KeyError, ValueError, OSError) as exc:
                raise problem(f"damaged state file: part {k} ({exc})") from None
            parts.append(arrays)
    if not parts:
        raise problem("the state file holds no runs" if wanted is None else
                      f"run {min(wanted)} is not in the saved state")
    joined = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    state = SavedState(meta["scenario_sha256"], list(meta["actor_ids"]), int(meta["seed"]),
                       int(meta["day"]), joined["runs"], joined["streams"],
                       D.World(*(joined[f] for f in D.World._fields)), joined["tops"],
                       joined.get("index_days"), joined.get("level_days"))
    if scenario is not None:
        state.check(scenario, len(state.runs))
    return state


def _problem_reader(path: Path):
    def problem(message: str) -> InputError:
        return InputError([Problem(path, None, "", message)])
    return problem
