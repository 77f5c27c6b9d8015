"""The scenarios shipped with escsim: where they are, their names, and ``escsim scenarios``.

The repository's ``scenarios/`` and ``seeds/`` folders install inside the package as
``sim/scenarios/`` and ``sim/seeds/`` (``pyproject.toml``), so a teacher who installed
with pip has them, and relative names such as ``../seeds/...`` work in both places.
A shipped scenario is named by its file name without ``.yaml`` (``caribbean-2025``);
a historical case by ``history/`` and its name (``history/pueblo-1968``).

This module imports nothing of the model, so that the scenario loader can use its hint.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import sim
from sim.errors import did_you_mean, printable

BASELINE = "caribbean-2025"
HISTORY = "history"
_WIDTH = 100  # the listing wraps at the line length the docs use


def shipped_dir() -> Path:
    """The folder of shipped scenarios.

    It is ``sim/scenarios`` in an installed package, else the ``scenarios/`` folder of
    the checkout the package runs from (an editable install). The folder is recognized
    by the baseline in it, so that an unrelated folder of the same name next to an
    installed package is never taken for it.
    """
    package = Path(sim.__file__).resolve().parent
    candidates = (package / "scenarios", package.parent / "scenarios")
    return next((c for c in candidates if (c / f"{BASELINE}.yaml").is_file()), candidates[0])


def _scenario_files(folder: Path) -> list[Path]:
    """Scenario files of ``folder`` by name (seed-event files are not scenarios)."""
    try:
        return sorted((p for p in folder.glob("*.yaml") if not p.name.endswith(".events.yaml")),
                      key=lambda p: p.stem)  # the baseline before its variants
    except OSError:
        return []


def shipped(history: bool = True) -> dict[str, Path]:
    """Every shipped scenario by name.

    The teaching scenarios come first, then (with ``history``) the historical cases as
    ``history/NAME``.
    """
    folder = shipped_dir()
    names = {p.stem: p for p in _scenario_files(folder)}
    if history:
        names |= {f"{HISTORY}/{p.stem}": p for p in _scenario_files(folder / HISTORY)}
    return names


def _as_name(text: str) -> str:
    """``text`` as a shipped name: ``scenarios/x.yaml``, ``x.yaml`` and ``x`` all name ``x``."""
    return text.replace("\\", "/").removeprefix("scenarios/").removesuffix(".yaml")


def resolve(text: str) -> Path:
    """A scenario argument as a path (the argparse type of every scenario argument).

    An existing path wins; else the shipped scenario of that name; else ``text``
    unchanged, so that reading it gives the usual "file not found" (with :func:`hint`
    among the shipped names).
    """
    path = Path(text)
    try:
        if path.exists():
            return path
    except (OSError, ValueError):  # a NUL byte or a name too long: refused when read
        return path
    return shipped().get(_as_name(str(text)), path)


def hint(text: str) -> str | None:
    """A "did you mean" among the shipped names for a scenario that cannot be found."""
    return did_you_mean(_as_name(str(text)), shipped())


# ---------------------------------------------------------------- listing ---

def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it if it has no sentence end), on one line."""
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _entry(name: str, path: Path) -> tuple[str, str, str]:
    """(name, title, one line) of a shipped scenario; a file that does not load says so."""
    from sim.errors import InputError
    from sim.inputs.scenario import load_scenario
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
    elif not args.all:
        out += ["", f"escsim scenarios --all also lists the "
                    f"{len(_scenario_files(folder / HISTORY))} historical cases."]
    out += ["", f"The files are in {folder} (copy one to make your own)."]
    print("\n".join(out))
    return 0
