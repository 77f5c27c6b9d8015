"""Shipped scenarios named without a path, and ``escsim scenarios`` that lists them.

Where they are and what their names are: :mod:`sim.inputs.shipped`.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from sim.errors import InputError, printable
from sim.inputs.shipped import HISTORY, as_name, scenario_files, shipped, shipped_dir

_WIDTH = 100  # the listing wraps at the line length the docs use


def resolve(text: str) -> Path:
    """A scenario argument as a path (the argparse type of every scenario argument).

    An existing path wins; else the shipped scenario of that name; else ``text``
    unchanged, so that reading it gives the usual "file not found" (with a "did you
    mean" among the shipped names, :func:`sim.inputs.shipped.hint`).
    """
    path = Path(text)
    try:
        if path.exists():
            return path
    except (OSError, ValueError):  # a NUL byte or a name too long: refused when read
        return path
    return shipped().get(as_name(text), path)


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it if it has no sentence end), on one line."""
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _entry(name: str, path: Path) -> tuple[str, str, str]:
    """(name, title, one line) of a shipped scenario; a file that does not load says so."""
    from sim.inputs.scenario import load_scenario  # not at import: resolve() stays light
    try:
        spec = load_scenario(path).spec
    except InputError as exc:
        return name, "(does not validate)", str(exc.problems[0])
    line = spec.card.what_is_it if spec.card else spec.description
    return name, spec.title, first_sentence(line)


def _table(entries: list[tuple[str, str, str]]) -> list[str]:
    """Name and title on one line, the one-line description wrapped under the title."""
    width = max(len(name) for name, _, _ in entries) + 2
    lines = []
    for name, title, line in entries:
        lines.append(f"  {name:<{width}}{printable(title, None)}")
        lines += textwrap.wrap(printable(line, None), _WIDTH,
                               initial_indent=" " * (width + 2),
                               subsequent_indent=" " * (width + 2))
    return lines


def main(args) -> int:
    """``escsim scenarios [--all]``: the shipped scenarios, with the history cases on --all."""
    folder = shipped_dir()
    names = shipped(history=args.all)
    teaching = [(n, p) for n, p in names.items() if not n.startswith(f"{HISTORY}/")]
    cases = [(n, p) for n, p in names.items() if n.startswith(f"{HISTORY}/")]
    out = ["Scenarios (run one by name: escsim run caribbean-2025):",
           *_table([_entry(n, p) for n, p in teaching])]
    if cases:
        out += ["", "Historical cases (coded outcomes, scored by escsim backtest):",
                *_table([_entry(n, p) for n, p in cases])]
    else:
        out += ["", f"escsim scenarios --all also lists the "
                    f"{len(scenario_files(folder / HISTORY))} historical cases."]
    out += ["", f"The files are in {folder} (copy one to make your own)."]
    print("\n".join(out))
    return 0
