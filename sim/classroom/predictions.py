"""Students' prediction sheets: read, check and score them against a game's outcome.

A sheet is a CSV file: a header ``name`` then the five outcome classes (ids as
in ``sets.csv``: ``de_escalated``, ``frozen_crisis``, ``militarized_clash``,
``war``, ``great_power_confrontation``; the classes' own names, such as
``frozen crisis``, are accepted too), in any order, all of them and nothing
else; then one row per student. A row holds probabilities from 0 to 1 summing
to 1 (within :data:`SUM_TOLERANCE`), or percentages from 0 to 100 summing to
100 (within 100 x :data:`SUM_TOLERANCE`): a row whose numbers sum to about 100
is read as percentages, any other row as probabilities.

Every sheet is scored with the multiclass Brier score
(:func:`sim.results.scoring.brier`), beside the ensemble's own score, and
placed by its total variation distance from the ensemble's probabilities:
half the sum of the absolute differences, the largest difference the two
give to any set of outcomes (0: the same forecast, 1: no outcome in common).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs.scenario import OUTCOME_CLASSES
from sim.model.outcomes import OUTCOMES
from sim.results.scoring import brier

SUM_TOLERANCE = 0.01
"""How far from 1 a row's probabilities may sum (rounding on a paper sheet)."""
MAX_STUDENTS = 1000
"""Rows per sheet: a class, or a school's sections, never a data set."""
MAX_SHEET_BYTES = 1_000_000
"""A sheet's size on disk: far more than 1,000 rows take."""


def outcome_id(name: str) -> str:
    """The column id of an outcome class: ``frozen crisis`` -> ``frozen_crisis``."""
    return re.sub(r"[^a-z]+", "_", name.strip().lower()).strip("_")


OUTCOME_IDS = tuple(outcome_id(o) for o in OUTCOMES)
"""The sheet's outcome columns, in :data:`OUTCOMES` order (as in ``sets.csv``)."""

ALIASES = dict(zip(OUTCOME_CLASSES, OUTCOME_IDS, strict=True))
"""A column may also use the ids of a scenario's outcomes: ``frozen`` is ``frozen_crisis``."""


@dataclass(frozen=True)
class Sheet:
    """One prediction sheet: the students' names and probabilities (in OUTCOMES order)."""

    path: Path
    names: list[str]
    lines: list[int]
    p: np.ndarray  # (students, outcomes), each row sums to 1


def read_sheets(paths: list[Path]) -> list[Sheet]:
    """Read and check every sheet; raise one :class:`InputError` with every problem of all."""
    sheets, problems = [], []
    for path in paths:
        try:
            sheets.append(read_sheet(path))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return sheets


def read_sheet(path: Path) -> Sheet:
    """Read one sheet, reporting every problem as ``FILE:LINE: field: message``."""
    path = Path(path)

    def problem(line, field, message, hint=None):
        return Problem(path, line, field, message, hint)
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            raise InputError([problem(None, "", f"larger than {MAX_SHEET_BYTES:,} bytes; a "
                                      "prediction sheet holds one short row per student")])
        text = path.read_bytes().decode("utf-8-sig")  # a spreadsheet's BOM is not a name
    except FileNotFoundError:
        raise InputError([problem(None, "", "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([problem(None, "", f"not UTF-8 text ({exc.reason} at byte "
                                  f"{exc.start}); save the sheet as CSV UTF-8")]) from None
    except OSError as exc:
        raise InputError([problem(None, "", f"cannot read: {exc.strerror or exc}")]) from None
    rows = csv.reader(text.splitlines())
    records = [(rows.line_num, row) for row in rows if any(cell.strip() for cell in row)]
    if not records:
        raise InputError([problem(None, "", "empty; expected a header: name," +
                                  ",".join(OUTCOME_IDS))])
    (head_line, header), body = records[0], records[1:]
    columns, problems = _columns(header, head_line, problem)
    if problems:
        raise InputError(problems)
    if not body:
        raise InputError([problem(head_line, "", "no student rows below the header")])
    if len(body) > MAX_STUDENTS:
        raise InputError([problem(body[MAX_STUDENTS][0], "", f"more than {MAX_STUDENTS:,} "
                                  "students in one sheet")])
    names, lines, table, seen = [], [], [], {}
    for line, row in body:
        found = _row(row, line, header, columns, problem)
        name = row[0].strip() if row else ""
        if name and name in seen:
            found.append(problem(line, "name", f"'{name}' is also on line {seen[name]}; give "
                                 "each student a distinct name"))
        seen.setdefault(name, line)
        problems += found
        if not found:
            names.append(name)
            lines.append(line)
            table.append(_as_probabilities([float(row[k]) for k in columns]))
    if problems:
        raise InputError(problems)
    return Sheet(path, names, lines, np.array(table))


def _columns(header: list[str], line: int, problem) -> tuple[list[int], list[Problem]]:
    """Column of each outcome in OUTCOMES order, and the header's problems."""
    problems, where = [], {}
    if not header or header[0].strip().lower() != "name":
        problems.append(problem(line, "name", f"the first column must be 'name', got "
                                f"'{header[0].strip() if header else ''}'"))
    for k, text in enumerate(header[1:], start=1):
        oid = outcome_id(text)
        oid = ALIASES.get(oid, oid)
        if oid not in OUTCOME_IDS:
            problems.append(problem(line, text.strip() or f"column {k + 1}",
                                    "not an outcome class; the columns after name are "
                                    + ", ".join(OUTCOME_IDS),
                                    did_you_mean(oid, OUTCOME_IDS)))
        elif oid in where:
            problems.append(problem(line, text.strip(), f"appears twice (columns "
                                    f"{where[oid] + 1} and {k + 1})"))
        else:
            where[oid] = k
    missing = [o for o in OUTCOME_IDS if o not in where]
    if missing:
        problems.append(problem(line, "", "missing outcome column" + "s" * (len(missing) > 1)
                                + ": " + ", ".join(missing)))
    return [where.get(o, 0) for o in OUTCOME_IDS], problems


def _row(row: list[str], line: int, header: list[str], columns: list[int],
         problem) -> list[Problem]:
    """Problems of one student's row (empty when it is a valid forecast)."""
    if len(row) != len(header):
        return [problem(line, "", f"{len(row)} cells; the header has {len(header)}")]
    found = [] if row[0].strip() else [problem(line, "name", "empty; give the student's name")]
    values = []
    for k in columns:
        field = header[k].strip()
        try:
            value = float(row[k])
        except ValueError:
            found.append(problem(line, field, f"expected a number, got '{row[k].strip()}'"))
            continue
        if not math.isfinite(value) or value < 0:
            found.append(problem(line, field, f"must be a probability (0 to 1) or a "
                                 f"percentage (0 to 100), got {row[k].strip()}"))
            continue
        values.append(value)
    if found:
        return found
    total = sum(values)
    if abs(total - 100) <= 100 * SUM_TOLERANCE:
        return []  # percentages
    if max(values) > 1:
        return [problem(line, header[columns[int(np.argmax(values))]].strip(),
                        f"{max(values):g} is above 1, but the row sums to {total:g}: give "
                        "probabilities summing to 1 or percentages summing to 100")]
    if abs(total - 1) > SUM_TOLERANCE:
        return [problem(line, "", f"the probabilities sum to {total:g}; they must sum to 1 "
                        f"(within {SUM_TOLERANCE:g}), or percentages to 100")]
    return []


def _as_probabilities(values: list[float]) -> list[float]:
    """A checked row as probabilities summing exactly to 1 (percentages divided by 100)."""
    total = sum(values)
    return [v / total for v in values]


@dataclass(frozen=True)
class Scores:
    """A sheet scored against one outcome."""

    brier: np.ndarray  # per student
    distance: np.ndarray  # per student: total variation distance from the ensemble
    ensemble_brier: float


def score(sheet: Sheet, ensemble_p: np.ndarray, observed: int) -> Scores:
    """Brier scores of the students and of the ensemble, and each student's distance."""
    ensemble_p = np.asarray(ensemble_p, dtype=float)
    n = len(sheet.names)
    return Scores(brier(sheet.p, np.full(n, observed)), distance(sheet.p, ensemble_p),
                  float(brier(ensemble_p[None, :], np.array([observed]))[0]))


def distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance of each row of ``p`` from ``q``: half the L1 distance."""
    return 0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum(axis=-1)
