"""Mergeable ensemble summaries: integer histograms that add up exactly.

Memory must not grow with the number of runs, and results must not depend on
how runs were split between chunks and workers. Everything here is a count
(int64), so merging is exact addition in any order. Quantiles of the
escalation index (for fan charts) are read off fixed-width histograms whose
bins are set by the scenario alone; pair levels are small integers, counted
exactly.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sim.errors import InputError, Problem
from sim.inputs.catalogue import CATEGORIES, SCHEMES
from sim.inputs.yamlio import read_bytes
from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.stats import kaplan_meier

INDEX_BINS = 4000
MAX_LEVEL = 7
MOVES = ("hold", *CATEGORIES)
"""What an actor did on a day, for the action-mix chart: no move, or the action's category."""
COERCED = ("none", "complied", "government_fell")
"""How a run's first coercive success came about, indexed by the code in ``World.success[:, 1]``
(``sim.model.day.SUCCESS_NONE``, ``SUCCESS_COMPLIED``, ``SUCCESS_FELL``): none, the target
complied, or its government fell. Named here so that reading results needs no model."""
SUCCESS_KINDS = COERCED[1:]
"""The kinds of success counted, one row each of :attr:`Aggregate.success`."""


def index_edges(scores: np.ndarray, n_actors: int, n_seats: int, decay: float,
                start: float, bins: int = INDEX_BINS) -> np.ndarray:
    """Histogram edges that contain every reachable value of the escalation index.

    Each day at most every actor and every Council seat adds one act, so the
    index stays within ``start`` plus the geometric sum of the extreme daily
    totals. Bins are equal in asinh(x): about 0.01 wide near zero and 1% of
    the value far from it, so quantiles keep their relative precision.
    """
    per_day = n_actors + n_seats
    hi = max(start, 0.0) + per_day * max(scores.max(), 0.0) / (1 - decay) + 1.0
    lo = min(start, 0.0) + per_day * min(scores.min(), 0.0) / (1 - decay) - 1.0
    return np.sinh(np.linspace(np.arcsinh(lo), np.arcsinh(hi), bins + 1))


def _count_bins(values, edges, counts):
    """Add the histogram of ``values`` over ``edges`` to ``counts``.

    A value falls in the bin before the first edge above it, clipped to the
    bins (numpy's ``searchsorted(side="right") - 1``, clipped). The edges are
    equally spaced in asinh (:func:`index_edges`), which gives a first guess;
    comparisons with the edges themselves then settle the bin exactly.
    """
    bins = counts.shape[0]
    low = np.arcsinh(edges[0])
    step = (np.arcsinh(edges[-1]) - low) / bins
    for v in values:
        k = min(max(int((np.arcsinh(v) - low) / step), 0), bins - 1)
        while k > 0 and v < edges[k]:
            k -= 1
        while k < bins - 1 and v >= edges[k + 1]:
            k += 1
        counts[k] += 1


_compiled = []


def _bin_counter():
    """:func:`_count_bins` compiled (numba), on first use: reading results needs no numba."""
    if not _compiled:
        from numba import njit
        _compiled.append(njit(cache=True, nogil=True)(_count_bins))
    return _compiled[0]


class Trajectory(NamedTuple):
    """One kept run, day by day from day 0."""

    index: np.ndarray  # (days + 1, schemes): escalation index under every scheme
    levels: np.ndarray  # (days + 1, pairs): each directed state pair's level


class Aggregate:
    """Counts over runs: outcomes, crossing days, per-day index, level and move histograms.

    ``edges`` holds one row of bin edges per scoring scheme (:data:`SCHEMES`
    order): the index is counted under every scheme, so charts can be redrawn
    under another one without re-running.
    """

    def __init__(self, days: int, n_pairs: int, edges: np.ndarray, n_actors: int = 0):
        self.days = days
        self.edges = np.atleast_2d(edges)
        self.runs = 0
        self.outcomes = np.zeros(len(OUTCOMES), dtype=np.int64)
        # first-crossing day per threshold; the last column counts runs that never crossed
        self.first = np.zeros((len(THRESHOLDS), days + 2), dtype=np.int64)
        # first day of a coercer's success per kind; the last column counts runs without it.
        # None: counts read back from a results folder written before success was recorded
        self.success: np.ndarray | None = np.zeros((len(SUCCESS_KINDS), days + 2),
                                                   dtype=np.int64)
        self.index = np.zeros((len(self.edges), days + 1, self.edges.shape[1] - 1),
                              dtype=np.int64)
        self.levels = np.zeros((days + 1, n_pairs, MAX_LEVEL + 1), dtype=np.int64)
        self.moves = np.zeros((days + 1, n_actors, len(MOVES)), dtype=np.int64)
        self.paths: Counter[str] = Counter()
        self.casualties = np.int64(0)

    # -------------------------------------------------------------- filling --------

    def observe_day(self, day: int, indices: np.ndarray, pair_levels: np.ndarray,
                    moves: np.ndarray | None = None):
        """Count one day's values over the runs of a batch.

        ``indices`` is the index under every scheme (runs, schemes),
        ``pair_levels`` each pair's level (runs, pairs) and ``moves`` each
        actor's move as a :data:`MOVES` code (runs, actors).
        """
        count = _bin_counter()
        for s, edges in enumerate(self.edges):
            count(np.ascontiguousarray(indices[:, s]), edges, self.index[s, day])
        for p in range(pair_levels.shape[1]):
            self.levels[day, p] += np.bincount(pair_levels[:, p], minlength=MAX_LEVEL + 1)
        if moves is not None:
            for a in range(moves.shape[1]):
                self.moves[day, a] += np.bincount(moves[:, a], minlength=len(MOVES))

    def observe_runs(self, outcome: np.ndarray, first: np.ndarray, success: np.ndarray,
                     casualties: np.ndarray, paths: list[str] = ()):
        """Count per-run results of a finished batch.

        ``success`` is ``World.success`` of the batch (runs, 2): each run's first
        day of a coercer's success (-1 never) and its :data:`COERCED` code.
        """
        self.runs += len(outcome)
        self.outcomes += np.bincount(outcome, minlength=len(OUTCOMES))
        days = np.where(first < 0, self.days + 1, first)
        for k in range(first.shape[1]):
            self.first[k] += np.bincount(days[:, k], minlength=self.days + 2)
        for k in range(len(SUCCESS_KINDS)):
            mine = success[:, 1] == k + 1
            self.success[k] += np.bincount(np.where(mine, success[:, 0], self.days + 1),
                                           minlength=self.days + 2)
        self.casualties += np.int64(casualties.astype(np.int64).sum())
        self.paths.update(paths)

    def merge(self, other: Aggregate) -> Aggregate:
        """Add ``other``'s counts to this one (exact, order-free)."""
        self.runs += other.runs
        self.outcomes += other.outcomes
        self.first += other.first
        self.success += other.success
        self.index += other.index
        self.levels += other.levels
        self.moves += other.moves
        self.paths.update(other.paths)
        self.casualties += other.casualties
        return self

    # -------------------------------------------------------------- saving ---------

    def save(self, path: Path):
        """Write every count to an ``.npz`` file (read back by :meth:`load`)."""
        names = sorted(self.paths)
        np.savez_compressed(
            path, days=self.days, edges=self.edges, runs=self.runs, outcomes=self.outcomes,
            first=self.first, success=self.success, index=self.index, levels=self.levels,
            moves=self.moves,
            path_names=np.array(names, dtype=str),
            path_counts=np.array([self.paths[p] for p in names], dtype=np.int64),
            casualties=self.casualties)

    @classmethod
    def load(cls, path: Path, days: int, n_pairs: int, n_actors: int, runs: int) -> Aggregate:
        """Read an aggregate written by :meth:`save`, checking it against what it must hold.

        ``days``, ``n_pairs`` and ``n_actors`` come from the results folder's
        ``scenario.json`` and ``runs`` from its ``summary.json``: they fix every
        array's shape, so the file is refused beyond the size they allow, each
        array's declared shape is checked before it is read, and the counts must
        be those of ``runs`` runs. Raises :class:`InputError` with one problem
        per line. A file without ``success`` (written before coercive success was
        recorded) is read with :attr:`success` None.
        """
        shapes = {"days": (), "runs": (), "casualties": (), "edges": (len(SCHEMES), INDEX_BINS + 1),
                  "outcomes": (len(OUTCOMES),), "first": (len(THRESHOLDS), days + 2),
                  "success": (len(SUCCESS_KINDS), days + 2),
                  "index": (len(SCHEMES), days + 1, INDEX_BINS),
                  "levels": (days + 1, n_pairs, MAX_LEVEL + 1),
                  "moves": (days + 1, n_actors, len(MOVES))}
        path_chars = 2 * days + 1  # a rung per day, joined by '-', repeats dropped
        limit = 2**20 + 8 * sum(int(np.prod(s)) for s in shapes.values()) + runs * (
            8 + 4 * path_chars)
        raw = read_bytes(path, limit)
        try:
            f = read_npz(raw, shapes, runs, path_chars, optional=("success",))
        except NpzProblem as exc:
            raise InputError([Problem(path, None, exc.field, exc.message)]) from None
        agg = cls(days, n_pairs, f["edges"], n_actors)
        agg.runs = int(f["runs"])
        for name in ("outcomes", "first", "index", "levels", "moves"):
            setattr(agg, name, f[name])
        agg.success = f.get("success")
        agg.paths = Counter(dict(zip(f["path_names"].tolist(), f["path_counts"].tolist(),
                                     strict=True)))
        agg.casualties = np.int64(f["casualties"])
        problems = agg.check(days, runs)
        if problems:
            raise InputError([Problem(path, None, field, message) for field, message in problems])
        return agg

    def check(self, days: int, runs: int) -> list[tuple[str, str]]:
        """What is inconsistent in counts read back, as (array, message) pairs."""
        if self.days != days:
            return [("days", f"is {self.days}, but scenario.json says {days}")]
        if self.runs != runs:
            return [("runs", f"is {self.runs}, but summary.json says {runs}")]
        found = []
        for name, arr in (("outcomes", self.outcomes), ("first", self.first),
                          *((("success", self.success),) if self.success is not None else ()),
                          ("index", self.index), ("levels", self.levels),
                          ("moves", self.moves),
                          ("path_counts", np.array(list(self.paths.values()), dtype=np.int64))):
            if arr.size and (arr.min() < 0 or arr.max() > runs):
                found.append((name, f"counts must be between 0 and the {runs:,} runs"))
                continue
            # each day, pair, actor, threshold and kind of success counts every run once;
            # moves are counted
            # from day 1, or from the day after a saved state the runs continue from
            totals = arr.sum() if name in ("outcomes", "path_counts") else arr.sum(axis=-1)
            want = np.full(np.shape(totals), runs)
            if name == "moves":
                silent = (totals == 0).all(axis=1)
                want[:max(1, int(np.argmin(silent)) if not silent.all() else len(silent))] = 0
            bad = np.argwhere(totals != want)
            if len(bad):
                at = tuple(int(i) for i in bad[0])
                where = f" at {list(at)}" if at else ""
                found.append((name, f"counts{where} add up to {int(totals[at]):,}, "
                                    f"expected {int(want[at]):,}"))
        if self.casualties < 0:
            found.append(("casualties", f"must be at least 0, got {self.casualties}"))
        if not np.isfinite(self.edges).all() or np.any(np.diff(self.edges, axis=1) <= 0):
            found.append(("edges", "bin edges must be finite and increasing"))
        if not all(PATH.fullmatch(p) for p in self.paths):
            found.append(("path_names", f"paths must be rungs 0-{MAX_LEVEL} joined by '-'"))
        return found

    # -------------------------------------------------------------- reading --------

    def index_quantiles(self, qs, scheme: int = 0) -> np.ndarray:
        """Quantiles of the index under ``scheme`` per day, shape (days + 1, len(qs)).

        Each quantile is interpolated linearly inside the histogram bin that holds it.
        """
        qs = np.asarray(qs, dtype=float)
        hist, edges = self.index[scheme], self.edges[scheme]
        cum = np.cumsum(hist, axis=1)
        target = qs[None, :] * cum[:, -1:]
        out = np.empty((hist.shape[0], len(qs)))
        for d in range(hist.shape[0]):
            k = np.searchsorted(cum[d], target[d], side="left")
            k = np.minimum(k, hist.shape[1] - 1)
            below = np.where(k > 0, cum[d][k - 1], 0)
            inside = np.maximum(hist[d][k], 1)
            frac = np.clip((target[d] - below) / inside, 0.0, 1.0)
            out[d] = edges[k] + frac * (edges[k + 1] - edges[k])
        return out

    def level_quantiles(self, qs) -> np.ndarray:
        """Quantiles of each pair's level per day (exact), shape (days + 1, pairs, len(qs))."""
        cum = np.cumsum(self.levels, axis=2)
        target = np.asarray(qs, dtype=float)[None, None, :] * cum[:, :, -1:]
        # smallest level whose cumulative count reaches the target (inverted CDF)
        return (cum[:, :, None, :] < target[..., None]).sum(axis=3)

    def mean_levels(self) -> np.ndarray:
        """Mean level of each pair per day, shape (days + 1, pairs)."""
        totals = np.maximum(self.levels.sum(axis=2), 1)
        return (self.levels * np.arange(MAX_LEVEL + 1)).sum(axis=2) / totals

    def crossing_curves(self, counts: np.ndarray | None = None) -> np.ndarray:
        """Kaplan-Meier probability of having crossed each threshold by each day.

        Shape (thresholds, days + 1); see :func:`kaplan_meier`. ``counts`` (rows
        of first days, the last column never) replaces :attr:`first`, for example
        :meth:`success_counts`: every run is observed to the horizon, where the
        runs that never got there are censored.
        """
        counts = self.first if counts is None else counts
        return np.stack([1 - kaplan_meier(row[:-1], np.eye(1, self.days + 1, self.days,
                                                            dtype=np.int64)[0] * row[-1])
                         for row in counts])

    def success_counts(self) -> dict[str, np.ndarray]:
        """First days of a coercer's success per kind and for any kind (``any``).

        Each is ``days + 2`` counts: runs whose first success of that kind fell
        on day d, then the runs without one. A run succeeds in one way only (its
        first success), so ``any`` is the sum of the kinds' days.
        """
        out = dict(zip(SUCCESS_KINDS, self.success, strict=True))
        days = self.success[:, :-1].sum(axis=0)
        out["any"] = np.append(days, self.runs - days.sum())
        return out

    def coerced_counts(self) -> np.ndarray:
        """Runs per :data:`COERCED` code: no success, the target complied, its government fell."""
        kinds = self.success[:, :-1].sum(axis=1)
        return np.concatenate([[self.runs - kinds.sum()], kinds])

    def top_paths(self, k: int) -> list[tuple[str, int]]:
        """The ``k`` most frequent paths, ties broken by the path itself (stable order)."""
        return sorted(self.paths.items(), key=lambda item: (-item[1], item[0]))[:k]

    def outcome_counts(self) -> dict[str, int]:
        """Runs per outcome class."""
        return {name: int(c) for name, c in zip(OUTCOMES, self.outcomes, strict=True)}


# ------------------------------------------------------------------ reading back -------

PATH = re.compile(f"[0-{MAX_LEVEL}](-[0-{MAX_LEVEL}])*")
"""An escalation path as :meth:`Aggregate.save` writes it."""
INT64, FLOAT64 = np.dtype("<i8"), np.dtype("<f8")
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, KeyError, OSError,
               EOFError, zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError,
               struct.error)
"""What the zip and .npy readers raise on damaged bytes (a bad CRC, a short stream...)."""


class NpzProblem(Exception):
    """One thing wrong with an ``aggregate.npz``: the array it concerns and what."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def read_npz(raw: bytes, shapes: dict[str, tuple], runs: int, path_chars: int,
             optional: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, each checked for its shape and type before it is read.

    ``shapes`` gives the shape of every int64 array (``edges``: float64); the
    paths are two arrays of one entry per distinct path, at most ``runs``, of
    at most ``path_chars`` characters. Arrays named in ``optional`` may be
    absent (then they are not in the result). No pickled objects are ever loaded.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except READ_ERRORS as exc:
        raise NpzProblem("", f"not a valid .npz (zip) file: {one_line(exc)}") from None
    with archive:
        present = {info.filename for info in archive.infolist()}
        wanted = [name for name in (*shapes, "path_names", "path_counts")
                  if name not in optional or f"{name}.npy" in present]
        missing = [name for name in wanted if f"{name}.npy" not in present]
        if missing:
            raise NpzProblem("", f"missing arrays: {', '.join(missing)}")
        arrays = {}
        for name in wanted:
            try:
                with archive.open(f"{name}.npy") as fh:
                    check_header(fh, name, shapes.get(name), runs, path_chars)
                with archive.open(f"{name}.npy") as fh:
                    arrays[name] = np.lib.format.read_array(fh, allow_pickle=False)
                    if fh.read(1):  # reading to the end also checks the CRC
                        raise NpzProblem(name, "has bytes past the end of the array")
            except READ_ERRORS as exc:
                raise NpzProblem(name, f"cannot be read: {one_line(exc)}") from None
    if arrays["path_names"].shape != arrays["path_counts"].shape:
        raise NpzProblem("path_counts", f"has {len(arrays['path_counts'])} entries, but "
                                        f"path_names has {len(arrays['path_names'])}")
    if len(set(arrays["path_names"].tolist())) != len(arrays["path_names"]):
        raise NpzProblem("path_names", "a path is listed twice")
    return arrays


def check_header(fh, name: str, shape: tuple | None, runs: int, path_chars: int):
    """Refuse an array whose declared shape or type is not the expected one."""
    version = np.lib.format.read_magic(fh)
    if version not in ((1, 0), (2, 0)):
        raise NpzProblem(name, f"unsupported .npy format version {version}")
    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
              np.lib.format.read_array_header_2_0)
    got, _, dtype = reader(fh)
    if name == "path_names":
        ok = len(got) == 1 and got[0] <= runs and dtype.kind == "U" \
            and dtype.itemsize <= 4 * path_chars
        expected = f"at most {runs:,} strings of at most {path_chars} characters"
    elif name == "path_counts":
        ok = len(got) == 1 and got[0] <= runs and dtype == INT64
        expected = f"at most {runs:,} int64 counts"
    else:
        want = FLOAT64 if name == "edges" else INT64
        ok = got == shape and dtype == want
        expected = f"{want} of shape {shape}"
    if not ok:
        raise NpzProblem(name, f"is {dtype} of shape {got}, expected {expected}")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, cut to a readable length."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
