"""Where the shipped scenarios are, and their names.

The repository's ``scenarios/`` and ``seeds/`` folders install inside the package as
``sim/scenarios/`` and ``sim/seeds/`` (``pyproject.toml``), so a teacher who installed
with pip has them, and relative names such as ``../seeds/...`` work in both places.
A shipped scenario is named by its file name without ``.yaml`` (``caribbean-2025``);
a historical case by ``history/`` and its name (``history/pueblo-1968``).

Kept apart from :mod:`sim.inputs.library` (which loads scenarios to list them) so that
the scenario loader can give a "did you mean" among these names.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import did_you_mean

BASELINE = "caribbean-2025"
HISTORY = "history"


def shipped_dir() -> Path:
    """The folder of shipped scenarios.

    It is ``sim/scenarios`` in an installed package, else the ``scenarios/`` folder of
    the checkout the package runs from (an editable install). The folder is recognized
    by the baseline in it, so that an unrelated folder of the same name next to an
    installed package is never taken for it.
    """
    package = Path(__file__).resolve().parent.parent  # sim/
    candidates = (package / "scenarios", package.parent / "scenarios")
    return next((c for c in candidates if (c / f"{BASELINE}.yaml").is_file()), candidates[0])


def scenario_files(folder: Path) -> list[Path]:
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
    names = {p.stem: p for p in scenario_files(folder)}
    if history:
        names |= {f"{HISTORY}/{p.stem}": p for p in scenario_files(folder / HISTORY)}
    return names


def as_name(text: str) -> str:
    """``text`` as a shipped name: ``scenarios/x.yaml``, ``x.yaml`` and ``x`` all name ``x``."""
    return str(text).replace("\\", "/").removeprefix("scenarios/").removesuffix(".yaml")


def hint(text: str) -> str | None:
    """A "did you mean" among the shipped names for a scenario that cannot be found."""
    return did_you_mean(as_name(text), shipped())
