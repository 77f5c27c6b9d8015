"""The one way experiments run parameter sets: ranges, blocks of sets, resume, folders.

``escsim sweep``, ``escsim sensitivity`` and ``escsim discover`` each turn
their options into a table of parameter sets (:func:`parse_ranges` checks
the ranges), run ``runs`` runs of every set on common random numbers
(:func:`run_sets`, the mechanism of ``escsim run --sets``) and write their
outputs into the folder before :func:`finish` gives it its final name.

Sets run in blocks; each finished block is saved in the folder, which is
named ``<id>.incomplete`` and holds an ``INCOMPLETE`` marker until
:func:`finish`. An interrupted experiment keeps its finished blocks and
``--resume DIR`` completes it with the folder's own settings. Run r of every
set draws the same numbers whatever block or chunk it falls in, so a resumed
experiment equals an uninterrupted one, count for count.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs.scenario import Scenario
from sim.limits import MAX_RUNS
from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.model.params import MAX_SETS, ParameterSets, parameter_paths
from sim.results.folders import INCOMPLETE_MARKER, INCOMPLETE_SUFFIX
from sim.stats import wilson_interval
from sim.version import __version__

MAX_POINTS = 1_000
"""Most grid points of one ``--vary`` (N of ``PATH=LO:HI:N``)."""
BLOCKS = 20
"""An experiment is saved in about this many blocks of sets: an interruption loses at most
about 1/20 of the work."""
BLOCK_RUNS = 1_000_000
"""Most runs in one block (a block's counts are small, its runs need not be)."""
# the marks of an unfinished experiment folder, which every reader of results refuses
MARKER, SUFFIX = INCOMPLETE_MARKER, INCOMPLETE_SUFFIX


@dataclass(frozen=True)
class Range:
    """A parameter path and its range: ``n`` grid points (sweep) or None (a continuous range)."""

    path: str
    lo: float
    hi: float
    n: int | None = None
    integer: bool = False  # the path takes whole numbers only (samples must be rounded)

    def grid(self) -> np.ndarray:
        """The ``n`` evenly spaced values from ``lo`` to ``hi``."""
        return np.linspace(self.lo, self.hi, self.n)


def parse_ranges(texts: list[str], scenario: Scenario, kind: str) -> list[Range]:
    """``PATH=LO:HI:N`` (``kind`` "grid") or ``PATH=LO:HI`` ("range") texts, checked.

    Paths must be parameters of ``scenario`` (with a did-you-mean hint), each
    at most once; both bounds and, for a grid, every point must be values the
    path accepts. One problem per bad text, all of them in one InputError.
    """
    option, form = ("--vary", "PATH=LO:HI:N") if kind == "grid" else ("--params", "PATH=LO:HI")
    known = parameter_paths(scenario)
    ranges, problems, seen = [], [], set()
    for text in texts:
        where = Path(f"{option} {text}")
        name, eq, spec = text.partition("=")
        name = name.strip()
        parts = spec.split(":")
        if not eq or not name or len(parts) != (3 if kind == "grid" else 2):
            problems.append(Problem(where, None, "", f"expected {form}, e.g. "
                                    f"actors.USA.resolve=0.2:0.8{':4' if kind == 'grid' else ''}"))
            continue
        if name not in known:
            problems.append(Problem(where, None, name, "not a parameter of this scenario",
                                    did_you_mean(name, known)))
            continue
        if name in seen:
            problems.append(Problem(where, None, name, f"is given twice; give each parameter "
                                    f"one {option}"))
            continue
        try:
            lo, hi = float(parts[0]), float(parts[1])
        except ValueError:
            problems.append(Problem(where, None, name, f"LO and HI must be numbers, got "
                                    f"'{parts[0]}' and '{parts[1]}'"))
            continue
        n = None
        if kind == "grid":
            try:
                n = int(parts[2])
            except ValueError:
                n = 0
            if not 2 <= n <= MAX_POINTS:
                problems.append(Problem(where, None, name, f"N must be a whole number from 2 "
                                        f"to {MAX_POINTS:,}, got '{parts[2]}'"))
                continue
        if not lo < hi:
            problems.append(Problem(where, None, name, f"LO must be below HI, got {lo:g} and "
                                    f"{hi:g}"))
            continue
        limits = known[name]
        values = np.linspace(lo, hi, n) if n else np.array([lo, hi])
        why = next((w for w in map(limits.check, values.tolist()) if w), None)
        if why:
            problems.append(Problem(where, None, name, why + (" (a grid point)" if n and
                                    "whole" in why else "")))
            continue
        seen.add(name)
        ranges.append(Range(name, lo, hi, n, limits.integer))
    if problems:
        raise InputError(problems)
    return ranges


@dataclass
class SetResults:
    """Every set's counts: outcomes (sets, 5) and first crossings (sets, 4)."""

    counts: np.ndarray  # (sets, outcomes) runs per outcome, OUTCOME_CLASSES order
    first_day_mean: np.ndarray  # (sets, thresholds) mean first day of runs crossing; NaN: none
    crossed: np.ndarray  # (sets, thresholds) runs that crossed each threshold
    runs: int  # runs per set
    table: dict[str, np.ndarray]

    @property
    def probability(self) -> np.ndarray:
        """Each set's share of runs ending in each outcome (sets, outcomes)."""
        return self.counts / self.runs

    def interval(self) -> np.ndarray:
        """95% Wilson intervals of :attr:`probability`: (sets, outcomes, 2)."""
        return np.array([[wilson_interval(int(c), self.runs) for c in row]
                         for row in self.counts.tolist()])


# ------------------------------------------------------------------------- folders ---

def _claim(base: Path, seed: int) -> Path:
    """Make a fresh ``base/<UTC time>-seed<seed>[-k].incomplete`` (one process gets each)."""
    base.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    k = 1
    while True:
        name = f"{stamp}-seed{seed}" + (f"-{k}" if k > 1 else "")
        folder = base / (name + SUFFIX)
        if not (base / name).exists():
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                pass
        k += 1


def _write_json(path: Path, data: dict):
    """Write ``data`` to ``path`` in one step (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def start(kind: str, out: Path, scenario: Scenario, seed: int, runs: int, days: int,
          settings: dict, argv: list[str] | None = None) -> Path:
    """Create ``out/<kind>/<id>.incomplete`` with its marker and manifest; return it.

    ``settings`` are the command's own (e.g. the ``--vary`` texts): with the
    scenario, seed, runs and days they are what ``--resume`` runs again.
    """
    import matplotlib
    import mesa
    folder = _claim(Path(out) / kind, seed)
    manifest = {
        "kind": kind, "complete": False,
        "scenario": str(scenario.path),
        "scenario_sha256": scenario.file_sha256[scenario.path],
        "inputs_sha256": scenario.sha256,
        "files": {str(f): scenario.file_sha256[f] for f in scenario.files},
        "seed": seed, "runs_per_set": runs, "days": days, "settings": settings,
        "versions": {"escsim": __version__, "mesa": mesa.__version__, "numpy": np.__version__,
                     "matplotlib": matplotlib.__version__,
                     "python": platform.python_version()},
        "command": list(sys.argv if argv is None else argv),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write_json(folder / "manifest.json", manifest)
    (folder / MARKER).write_text(
        f"This {kind} was interrupted before it finished: its numbers are not a result.\n"
        f"Complete it with: escsim {kind} --resume {folder}\n", encoding="utf-8")
    return folder


def read_manifest(folder: Path, kind: str | None = None) -> dict:
    """The manifest of an *incomplete* experiment folder, for ``--resume``.

    Refuses (InputError, one line) a folder that is not an experiment's, is
    another command's, or is already complete.
    """
    folder = Path(folder)
    where = Path("--resume")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError([Problem(where, None, "", f"{folder} is not an experiment's folder "
                                  "(no readable manifest.json)")]) from None
    if not isinstance(manifest, dict) or "kind" not in manifest:
        raise InputError([Problem(where, None, "", f"{folder} is not an experiment's folder")])
    if kind is not None and manifest["kind"] != kind:
        raise InputError([Problem(where, None, "", f"{folder} is a {manifest['kind']}, not a "
                                  f"{kind}; resume it with escsim {manifest['kind']} --resume")])
    if manifest.get("complete") or not (folder / MARKER).exists():
        raise InputError([Problem(where, None, "", f"{folder} is complete; nothing to resume")])
    return manifest


def finish(folder: Path) -> Path:
    """Mark ``folder`` complete: manifest ``complete: true``, no marker or blocks, final name."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["complete"] = True
    _write_json(folder / "manifest.json", manifest)
    (folder / MARKER).unlink()
    shutil.rmtree(folder / "blocks", ignore_errors=True)  # the outputs now hold the counts
    final = folder.with_name(folder.name.removesuffix(SUFFIX))
    os.replace(folder, final)  # onto nothing, or an empty folder: one step
    return final


def interrupted(exc: BaseException, folder: Path, kind: str) -> int:
    """After Ctrl-C or SIGTERM: say what is kept and how to resume; the exit status.

    Any other exception is raised again.
    """
    if isinstance(exc, Exception | SystemExit | GeneratorExit):
        raise exc
    done = len(list((Path(folder) / "blocks").glob("block-*.npz")))
    what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
    print(f"{what}; {done} finished block{'s' * (done != 1)} of parameter sets kept in the "
          f"incomplete folder {folder}; complete it with: escsim {kind} --resume {folder}",
          file=sys.stderr)
    return 128 + (signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM)


# ----------------------------------------------------------------------- running ---

def check_size(n_sets: int, runs: int, where: Path):
    """Refuse a table of more than MAX_SETS sets or more than MAX_RUNS runs in all."""
    if n_sets > MAX_SETS or n_sets * runs > MAX_RUNS:
        raise InputError([Problem(where, None, "", f"{n_sets:,} parameter sets x {runs:,} runs "
                                  f"is more than {MAX_SETS:,} sets or {MAX_RUNS:,} runs")])


def block_sets(n_sets: int, runs: int) -> int:
    """Sets per block: about BLOCKS blocks, at most BLOCK_RUNS runs each (at least one set)."""
    return max(1, min(BLOCK_RUNS // runs, math.ceil(n_sets / BLOCKS)))


def prepare(args, scenario: Scenario, n_sets: int, runs: int, days: int, base: Path) -> int:
    """Refuse, before any work, what cannot succeed; return the worker count to use.

    As ``escsim run`` does (:func:`sim.results.folders.prepare`), for one block of sets.
    """
    from sim.results.folders import prepare as check
    block = block_sets(n_sets, runs) * runs
    workers, _ = check(args.scheduler, args.workers, args.chunk_size, block, block, days,
                       scenario, base, base)
    return workers


def _block_counts(ensemble, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's (sets, outcomes) counts and (sets, 2, thresholds) crossings and day sums."""
    if ensemble.set_outcomes is not None:
        return ensemble.set_outcomes, ensemble.set_first
    # one set: its runs are the ensemble's; the aggregate counts first days by day
    first = ensemble.aggregate.first[:, :-1]
    days = np.arange(first.shape[1])
    return (ensemble.aggregate.outcomes[None, :].copy(),
            np.stack([first.sum(axis=1), first @ days])[None])


def run_sets(scenario: Scenario, table: dict[str, np.ndarray], runs: int, seed: int,
             days: int, folder: Path, args, progress=None, workers: int | None = None
             ) -> SetResults:
    """``runs`` runs of every set of ``table`` (common random numbers), block by block.

    Finished blocks are saved in ``folder/blocks`` and found again on a
    resume: only the missing ones run. The table itself is saved on the first
    call, and a resume with another table is refused. ``args`` gives
    ``--workers``, ``--backend``, ``--scheduler`` and ``--chunk-size``.
    """
    from sim.ensemble.backends import make_backend
    from sim.ensemble.montecarlo import run_ensemble
    sets = ParameterSets(scenario, table, source=str(folder))
    n = sets.n_sets
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    started = (manifest.get("inputs_sha256"), manifest.get("seed"),
               manifest.get("runs_per_set"), manifest.get("days"))
    if started != (scenario.sha256, seed, runs, days):
        # blocks of another scenario or seed would be mixed into these results
        raise InputError([Problem(Path(folder), None, "", "was started with other inputs "
                                  "(the scenario's files changed, or its seed, runs or days "
                                  "differ); start a new experiment instead")])
    blocks = Path(folder) / "blocks"
    blocks.mkdir(exist_ok=True)
    saved = blocks / "table.npz"
    names = list(sets.table)
    if saved.exists():
        with np.load(saved) as old:
            same = (list(old["paths"]) == names and old["values"].shape == (len(names), n)
                    and np.array_equal(old["values"], np.array([sets.table[k] for k in names])))
        if not same:
            raise InputError([Problem(Path(folder), None, "", "its parameter sets differ from "
                                      "these settings; start a new experiment instead")])
    else:
        tmp = blocks / f".table.tmp-{os.getpid()}.npz"
        np.savez(tmp, paths=np.array(names), values=np.array([sets.table[k] for k in names]))
        os.replace(tmp, saved)
    size = int(manifest.get("block_sets") or block_sets(n, runs))
    _record_block_size(Path(folder), size)
    counts = np.zeros((n, len(OUTCOMES)), dtype=np.int64)
    first = np.zeros((n, 2, len(THRESHOLDS)), dtype=np.int64)
    todo = []
    for a in range(0, n, size):
        b = min(a + size, n)
        path = blocks / f"block-{a:07d}.npz"
        if path.exists():
            with np.load(path) as part:
                counts[a:b], first[a:b] = part["counts"], part["first"]
        else:
            todo.append((a, b, path))
    if progress is not None:
        progress.extend(-(n - sum(b - a for a, b, _ in todo)) * runs)  # done before a resume
    backend = make_backend(args.backend, workers or args.workers, args.scheduler)
    try:
        for a, b, path in todo:
            ensemble = run_ensemble(scenario, runs, seed, days, backend=backend,
                                    chunk_size=args.chunk_size, keep=0, progress=progress,
                                    parameters=sets.subset(a, b))
            counts[a:b], first[a:b] = _block_counts(ensemble, b - a)
            tmp = blocks / f".{path.stem}.tmp-{os.getpid()}.npz"
            np.savez(tmp, counts=counts[a:b], first=first[a:b])
            os.replace(tmp, path)
    except BaseException:
        backend.close(abort=True)
        raise
    backend.close()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(first[:, 0] > 0, first[:, 1] / first[:, 0], np.nan)
    return SetResults(counts, mean, first[:, 0].copy(), runs, dict(sets.table))


def _record_block_size(folder: Path, size: int):
    """Keep the block size in the manifest, so a resume cuts the sets the same way."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("block_sets") != size:
        manifest["block_sets"] = size
        _write_json(folder / "manifest.json", manifest)
