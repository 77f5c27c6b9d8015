"""Results folders: ``outputs/<scenario>/<id>/`` with manifest, runs, summary and charts.

A folder is assembled under a hidden temporary name and renamed into place
only when complete, so an error or Ctrl-C never leaves a half-written folder.
``runs.csv`` is written while the runs are produced, in run order, so memory
does not grow with the number of runs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import hashlib
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.ensemble.aggregate import SUCCESS_KINDS
from sim.errors import InputError, Problem, ResourceError
from sim.inputs.forced import forced_texts
from sim.limits import DEFAULT_KEEP
from sim.model.outcomes import OUTCOMES, THRESHOLDS, state_pairs
from sim.results.headline import checkpoints, coercion, first_day_quantile, share
from sim.results.resultset import ResultSet
from sim.stats import wilson_interval
from sim.version import __version__

if TYPE_CHECKING:  # the model and the engine are loaded only to run: `escsim plot` needs neither
    from sim.ensemble.montecarlo import Ensemble

TOP_PATHS = 10
MAX_NAME = 100  # characters of a scenario's folder name


INCOMPLETE_MARKER = "INCOMPLETE"
"""The file an experiment's folder holds until it completes (``sim.experiments.runner``)."""
INCOMPLETE_SUFFIX = ".incomplete"
"""The end of an unfinished experiment folder's name."""


def check_complete(folder: Path):
    """Refuse (InputError) a folder that an interrupted experiment left incomplete."""
    folder = Path(folder)
    if (folder / INCOMPLETE_MARKER).exists() or folder.name.endswith(INCOMPLETE_SUFFIX):
        raise InputError([Problem(folder, None, "", "an interrupted experiment, not a result; "
                                  "complete it with --resume (see its INCOMPLETE file)")])


def summary(ensemble: Ensemble) -> dict:
    """Headline numbers: outcomes with 95% Wilson intervals, crossings, success, paths.

    The same numbers the report shows, for machines. Everything is computed
    from integer counts, so the file is byte-identical however the runs were split.
    """
    agg = ensemble.aggregate
    n = agg.runs
    outcomes = {name: share(count, n) for name, count in agg.outcome_counts().items()}
    crossing = {}
    curves = agg.crossing_curves()
    for k, name in enumerate(THRESHOLDS):
        counts = agg.first[k, :-1]  # the last column counts runs that never crossed
        hit = int(counts.sum())
        crossing[name] = {"runs": hit, "probability": round(hit / n, 6),
                          "median_first_day": first_day_quantile(counts, 0.5),
                          "by_day": {str(d): round(float(curves[k, d]), 6)
                                     for d in checkpoints(ensemble.days)}}
    paths = [{"path": path, "runs": count, "probability": round(count / n, 6)}
             for path, count in agg.top_paths(TOP_PATHS)]
    return {"scenario": ensemble.scenario.name, "runs": n, "seed": ensemble.seed,
            "days": ensemble.days, "scoring": ensemble.scenario.spec.scoring,
            "outcomes": outcomes, "thresholds": crossing,
            "coercion": coercion(agg, ensemble.days),
            "max_ci95_half_width": round(ensemble.max_half_width(), 6),
            "mean_casualties": round(float(agg.casualties) / n, 4),
            "distinct_paths": len(agg.paths), "top_paths": paths}


@dataclass(frozen=True)
class Given:
    """What a run was given beside its scenario: ``--set`` overrides and the files it read.

    The ensemble's job holds the parameter values, the saved run and the
    forced moves; this says where they came from, for the manifest and the
    command that reproduces the folder.
    """

    overrides: dict[str, float] = field(default_factory=dict)  # --set PATH=VALUE
    sets: Path | None = None  # --sets TABLE.csv
    state: Path | None = None  # --from STATE


def state_file_name(day: int) -> str:
    """Name of the saved state of ``day`` in a results folder."""
    return f"state-day{day}.npz"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a state file may be large)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def manifest(ensemble: Ensemble, argv: list[str], given: Given = Given()) -> dict:
    """What is needed to reproduce the folder: inputs and their hashes, versions, command.

    ``files`` gives the SHA-256 of every input file (the scenario, what it
    extends, the seed events); ``scenario_sha256`` is the scenario file's own
    (its entry in ``files``); ``inputs_sha256`` covers all of them at once: the
    SHA-256 of their bytes concatenated in the order ``files`` lists them.
    ``runs`` counts every run; with parameter sets, ``runs_per_set`` of each.
    Per-run parameters, a saved state continued or written, and forced moves
    are recorded when used (docs/results.md describes every field).
    """
    import matplotlib
    import mesa
    scen = ensemble.scenario  # hashes of the bytes validated, not a second read of the files
    job = ensemble.job
    out = {
        "scenario": str(scen.path),
        "scenario_sha256": scen.file_sha256[scen.path],
        "inputs_sha256": scen.sha256,
        "files": {str(f): scen.file_sha256[f] for f in scen.files},
        "seed": ensemble.seed,
        "runs": ensemble.n_runs,
        "days": ensemble.days,
    }
    if job is not None and job.runs_per_set:
        out["runs_per_set"] = job.runs_per_set
    if job is not None and job.parameters is not None:
        out["parameters"] = {"sets": job.parameters.n_sets,
                             "paths": list(job.parameters.table),
                             "overrides": dict(given.overrides)}
        if given.sets is not None:
            out["parameters"].update(table=str(given.sets), table_sha256=file_sha256(given.sets))
    if job is not None and job.origin is not None:
        origin = job.origin
        out["from_state"] = {
            "file": str(given.state) if given.state else None,
            "sha256": file_sha256(given.state) if given.state else None,
            "day": origin.day, "run": int(origin.runs[0]), "seed": origin.seed,
            "scenario_sha256": origin.scenario_sha256,
            # the state records the hash of all its scenario's inputs (inputs_sha256 here)
            "same_scenario": origin.scenario_sha256 == scen.sha256}
    if job is not None and job.forced:
        out["forced"] = forced_texts(job.forced)
    if job is not None and job.save_day is not None:
        out["saved_state"] = {"file": state_file_name(job.save_day), "day": job.save_day}
    out.update({
        "versions": {"escsim": __version__, "mesa": mesa.__version__,
                     "numpy": np.__version__, "matplotlib": matplotlib.__version__,
                     "python": platform.python_version()},
        "command": argv,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    return out


def safe_name(name: str) -> str:
    """``name`` as one safe folder name: letters, digits, ``.``, ``_`` and ``-`` only.

    Any other character becomes ``_`` and leading dots are dropped, so a
    scenario file called ``...yaml`` or ``.yaml`` can neither climb out of
    ``--out`` nor hide its results; an empty result becomes ``scenario``.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:MAX_NAME].lstrip(".")
    return cleaned or "scenario"


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created, deepest first."""
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    created = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another run made it meanwhile: not ours to remove
            continue
        created.append(path)
    return created[::-1]


def _remove_empty(folders: list[Path]):
    """Remove the folders this run created (deepest first) unless something is in them."""
    for path in folders:
        try:
            path.rmdir()
        except OSError:
            return


_CLAIMED: dict[Path, list[Path]] = {}  # claimed folder -> parents its claim created


def new_folder_name(base: Path, seed: int) -> str:
    """Claim a fresh folder ``base/<UTC time>-seed<seed>[-k]``; return its name.

    The claim is an ``os.mkdir`` of an empty placeholder, which succeeds for one
    process only, so two runs started in the same second with the same seed
    get different folders (``-2``, ``-3``...). :func:`staging` replaces the
    placeholder with the finished folder, or removes it.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    created = _make_dirs(base)
    _sweep_killed(base)
    k, vanished = 1, 0
    while True:
        name = f"{stamp}-seed{seed}" + (f"-{k}" if k > 1 else "")
        try:
            (base / name).mkdir()
        except FileExistsError:
            k += 1
            continue
        except FileNotFoundError:
            # another run's writability check removed the empty folder it had made: make
            # it again (ours now), a few times at most
            vanished += 1
            if vanished <= 10:
                created = _make_dirs(base) or created
                continue
            _remove_empty(created)
            raise
        except BaseException:
            _remove_empty(created)
            raise
        _CLAIMED[(base / name).absolute()] = created
        return name


_PARTIAL = re.compile(r"\.(?P<name>.+)\.partial-(?P<host>[^.]*)\.(?P<pid>\d+)(-\d+)?")


def _host() -> str:
    """The machine's name as a staging folder's name holds it (no dots)."""
    return safe_name(socket.gethostname()).replace(".", "_")


def _staging_tag() -> str:
    """``HOST.PID`` of this process, for its staging folder's name.

    The host is there because results folders may be shared between machines,
    whose process ids say nothing about each other.
    """
    return f"{_host()}.{os.getpid()}"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (if unsure, say yes: its folder is then left alone)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _sweep_killed(base: Path):
    """Remove what runs killed outright (SIGKILL, power loss) left in ``base``.

    Such a run cannot clean up after itself: its hidden
    ``.NAME.partial-HOST.PID`` folder and the empty placeholder ``NAME`` stay.
    They are removed here once process PID of this host no longer exists; a
    live run's folders, and those of other hosts, are never touched.
    """
    try:
        entries = [e.name for e in os.scandir(base)]
    except OSError:
        return
    host = _host()
    for entry in entries:
        match = _PARTIAL.fullmatch(entry)
        if match is None or match["host"] != host or _alive(int(match["pid"])):
            continue
        shutil.rmtree(base / entry, ignore_errors=True)
        _remove_empty([base / match["name"]])


def _place(tmp: Path, final: Path):
    """Move the finished ``tmp`` onto the empty placeholder ``final`` in one step."""
    try:
        os.replace(tmp, final)  # POSIX: atomically replaces an empty folder
    except OSError:
        final.rmdir()  # Windows cannot replace a folder; the placeholder is ours and empty
        tmp.rename(final)


@contextlib.contextmanager
def staging(final: Path):
    """Yield a hidden temporary folder beside ``final``; move it into place only on success.

    On any failure or interruption (Ctrl-C, SIGTERM) the temporary folder, the
    placeholder of ``final`` and any parent folder this run created are
    removed when empty: nothing is left behind. A write that fails for lack of
    room or rights becomes a :class:`~sim.errors.ResourceError`.
    """
    final = Path(final)
    created = _CLAIMED.pop(final.absolute(), None)
    if created is None:  # the name was not claimed by new_folder_name: claim it now
        created = _make_dirs(final.parent)
        final.mkdir()
    cleanup = [final, *created]
    tmp = None
    try:
        for k in itertools.count():
            tmp = final.parent / (f".{final.name}.partial-{_staging_tag()}"
                                  + (f"-{k}" if k else ""))
            try:
                tmp.mkdir()
                break
            except FileExistsError:  # left by an earlier process with this pid
                continue
        yield tmp
        _place(tmp, final)
    except OSError as exc:
        _discard(tmp, cleanup)
        raise ResourceError(_write_problem(final.parent, exc)) from exc
    except BaseException:
        _discard(tmp, cleanup)
        raise


def _discard(tmp: Path | None, cleanup: list[Path]):
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_empty(cleanup)


def _write_problem(where: Path, exc: OSError) -> str:
    """One line for a failed write: the disk filled up, or the folder is not writable."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (f"the disk under {where} filled up while the results were written; nothing "
                f"was kept (free some space or use --out elsewhere)")
    return f"cannot write the results under {where}: {exc.strerror or exc}; nothing was kept"


def check_writable(folder: Path):
    """Refuse, before any work, a results folder that cannot be created or written.

    Creates ``folder`` (and missing parents), writes and removes a probe file,
    then removes what it created: a file in the way, a read-only file system or
    missing rights are reported now, not after the runs.
    """
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise ResourceError(f"cannot write results under {folder}: {parent} is a "
                                    f"file, not a folder")
            break
    for attempt in range(10):
        created = []
        try:
            created = _make_dirs(folder)
            probe = folder / f".escsim-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            return
        except FileNotFoundError:
            # a concurrent run's own check removed the empty folders it had just made
            # (this one's included): check again, a few times at most
            if attempt == 9:
                raise ResourceError(f"cannot write results under {folder}: folders "
                                    f"vanished while they were checked") from None
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ResourceError(f"cannot write results under {folder}: {reason}") from None
        finally:
            _remove_empty(created)


def reproduce_command(ensemble: Ensemble, keep: int = DEFAULT_KEEP,
                      given: Given = Given()) -> str:
    """The ``escsim run`` command that gives the same folder (runs and kept trajectories)."""
    job = ensemble.job
    runs = job.runs_per_set if job is not None and job.runs_per_set else ensemble.n_runs
    words = ["escsim", "run", str(ensemble.scenario.path), "--runs", str(runs),
             "--days", str(ensemble.days), "--seed", str(ensemble.seed)]
    if keep != DEFAULT_KEEP:
        words += ["--keep-trajectories", str(keep)]
    for name, value in given.overrides.items():
        words += ["--set", f"{name}={value!r}"]  # repr: the shortest text of the same float
    if given.sets is not None:
        words += ["--sets", str(given.sets)]
    if job is not None and job.origin is not None:
        words += ["--from", str(given.state), "--run", str(int(job.origin.runs[0]))]
    for text in forced_texts(job.forced) if job is not None and job.forced else []:
        words += ["--force", text]
    if job is not None and job.save_day is not None:
        words += ["--save-day", str(job.save_day)]
    return shlex.join(words)


def write_sets(ensemble: Ensemble, path: Path):
    """``sets.csv``: each parameter set's values, runs and outcome shares with 95% intervals.

    Then the shares of runs where the coercer's aim was reached
    (``coerced_complied``, ``coerced_government_fell``, ``coerced_any``). Shares are
    of the set's own runs; intervals are Wilson score intervals.
    """
    params = ensemble.job.parameters
    if ensemble.set_outcomes is not None:
        outcomes, coerced = ensemble.set_outcomes, ensemble.set_coerced
    else:  # one set: its runs are the ensemble's
        outcomes = ensemble.aggregate.outcomes[None, :]
        coerced = ensemble.aggregate.coerced_counts()[None, :]
    # each kind of success, then any kind: every run but those with none
    counts = np.hstack([outcomes, coerced[:, 1:], coerced[:, 1:].sum(axis=1, keepdims=True)])
    names = [re.sub(r"[^a-z]+", "_", o) for o in OUTCOMES]  # "de-escalated" -> de_escalated
    names += [f"coerced_{kind}" for kind in (*SUCCESS_KINDS, "any")]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["set", *params.table, "runs",
                      *(f"{n}{end}" for n in names for end in ("", "_ci95_low", "_ci95_high"))])
        for k, row in enumerate(counts.tolist()):
            n = sum(row[:len(OUTCOMES)])
            shares = []
            for c in row:
                lo, hi = wilson_interval(c, n)
                shares += [f"{c / n:.6f}", f"{lo:.6f}", f"{hi:.6f}"]
            out.writerow([k, *(repr(float(v[k])) for v in params.table.values()), n, *shares])


def draw(rs: ResultSet, folder: Path, summary_numbers: dict) -> Path:
    """Charts (``charts/*.png|svg``) and ``report.html`` of ``rs`` into ``folder``."""
    from sim.results import plots, report
    charts = plots.draw_all(plots.CHARTS, folder / "charts", rs)
    return report.write(rs, summary_numbers, charts, folder / "report.html")


@contextlib.contextmanager
def _state_writer(folder: Path, scenario, seed: int | None, day: int | None):
    """Yield the ``on_state`` callback writing ``folder/state-dayD.npz`` (None: no state)."""
    if day is None:
        yield None
        return
    from sim.model.state import StateWriter
    writer = StateWriter(folder / state_file_name(day), scenario,
                         scenario.spec.montecarlo.seed if seed is None else seed, day)
    try:
        yield writer.add
    except BaseException:
        with contextlib.suppress(Exception):  # the staging folder is discarded anyway
            writer.close()
        raise
    writer.close()


def write_results(scenario, folder: Path, argv: list[str], given: Given = Given(),
                  **ensemble_options) -> Ensemble:
    """Run an ensemble and write its whole results folder into ``folder`` (which exists).

    ``ensemble_options`` go to :func:`~sim.ensemble.montecarlo.run_ensemble`;
    with ``save_day``, the state file is written beside runs.csv as the runs finish.
    """
    from sim.ensemble import engine
    from sim.ensemble.montecarlo import run_ensemble
    parameters = ensemble_options.get("parameters")
    with (open(folder / "runs.csv", "w", encoding="utf-8", newline="\n") as fh,
          _state_writer(folder, scenario, ensemble_options.get("seed"),
                        ensemble_options.get("save_day")) as on_state):
        fh.write(engine.csv_header(scenario.actor_ids, state_pairs(scenario),
                                   sets=parameters is not None and parameters.n_sets > 1))
        ensemble = run_ensemble(scenario, on_rows=fh.write, on_state=on_state,
                                **ensemble_options)
    if parameters is not None:
        write_sets(ensemble, folder / "sets.csv")
    numbers = summary(ensemble)
    (folder / "summary.json").write_text(json.dumps(numbers, indent=2) + "\n")
    (folder / "manifest.json").write_text(
        json.dumps(manifest(ensemble, argv, given), indent=2) + "\n")
    rs = ResultSet.from_ensemble(
        ensemble, reproduce_command(ensemble, ensemble_options.get("keep", DEFAULT_KEEP), given))
    rs.save(folder)
    draw(rs, folder, numbers)
    return ensemble


def run_to_folder(scenario, out: Path | None = None, argv: list[str] | None = None,
                  **ensemble_options) -> tuple[Path, Ensemble]:
    """Run an ensemble straight into a new results folder; return its path and summary.

    ``ensemble_options`` are those of :func:`write_results` (``given`` included).
    """
    seed = ensemble_options.get("seed")
    seed = scenario.spec.montecarlo.seed if seed is None else seed
    out = Path(out) if out else Path("outputs")
    base = out / safe_name(scenario.name)
    final = base / new_folder_name(base, seed)
    # safe_name leaves no separator and no "..", so this holds; checked because a folder
    # outside --out is the one mistake a results writer must never make
    inside = Path(os.path.normpath(final.absolute()))
    assert inside.is_relative_to(os.path.normpath(out.absolute())), final
    argv = list(sys.argv if argv is None else argv)
    with staging(final) as tmp:
        ensemble = write_results(scenario, tmp, argv, **ensemble_options)
    return final, ensemble


def prepare(scheduler: str | None, workers: int | None, chunk_size: int | None, runs: int,
            total: int, days: int, scenario, out: Path, base: Path, *, keep: int = 0,
            folders: int = 1) -> tuple[int, int]:
    """Refuse, before any work, what cannot succeed; return (workers to use, chunk size).

    Checks the ``scheduler`` address, that results can be written under ``base``,
    and that memory and disk suffice for ``total`` runs in batches of ``runs``, on
    the workers that will really run: never more than a batch has chunks of work.
    """
    from sim.ensemble.backends import default_workers
    from sim.ensemble.montecarlo import auto_chunk, check_resources
    from sim.model.outcomes import state_pairs
    if scheduler:
        from sim.ensemble.dask_backend import check_address
        check_address(scheduler)
    check_writable(base)
    workers = workers or default_workers()
    chunk = chunk_size or auto_chunk(runs, workers)
    workers = min(workers, -(-runs // chunk))
    check_resources(total, days, len(scenario.spec.actors), out, keep,
                    n_pairs=len(state_pairs(scenario)), chunk=chunk,
                    workers=1 if scheduler else workers, folders=folders)
    return workers, chunk
