"""The action catalogue: every move an actor may make, loaded from ``data/actions.yaml``.

Each action declares its event codes (CAMEO, PLOVER), its Goldstein weight,
its severity under every scoring scheme, who may take it, its preconditions
and its effects. The model reads behaviour only from these declarations, so
what an action claims is what it does (``tests/test_catalogue.py`` checks it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.errors import InputError
from sim.inputs import yamlio
from sim.inputs.schema import Bool, Int, Num, Record, Str, validate

PLOVER_TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)
CATEGORIES = ("cooperation", "diplomacy", "institutional", "coercion", "force")
"""Kinds of action, from most cooperative to most forceful (for charts of the action mix)."""
SCHEMES = ("goldstein", "rivera", "mid", "ladder")
"""Scoring schemes: each maps an action to a severity (higher is more escalatory)."""

RIVERA_CLASSES = (-2, 0, 4, 12, 28, 60)
MAX_LEVEL = 7


class Severity(Record):
    """The action's score under schemes other than Goldstein."""

    mid: Int = Field(ge=1, le=5, description="MID hostility level, 1 none .. 5 war")
    ladder: Int = Field(ge=0, le=44, description="Kahn escalation-ladder rung (0: below it)")
    rivera: Int = Field(description="Rivera et al. 2024 class: -2, 0, 4, 12, 28 or 60")

    @model_validator(mode="after")
    def _rivera_class(self):
        if self.rivera not in RIVERA_CLASSES:
            raise ValueError(f"severity.rivera must be one of {RIVERA_CLASSES}")
        return self


class Requires(Record):
    """Preconditions; every one given must hold for the action to be available."""

    min_level: Int | None = Field(None, ge=0, le=MAX_LEVEL)
    min_level_against_actor: Int | None = Field(None, ge=0, le=MAX_LEVEL)
    min_level_by_target: Int | None = Field(None, ge=0, le=MAX_LEVEL)
    target_under_pressure: Int | None = Field(None, ge=0, le=MAX_LEVEL)
    commitment: Num | None = Field(None, ge=0, le=1)
    capability: dict[Str, Num] = {}
    holds_assets: Bool = False
    no_pending_meeting: Bool = False
    meeting_due: Bool = False
    in_session: Bool = False
    once_per_session: Bool = False
    vote_only: Bool = False
    demanded: Bool = False
    """The target has an open demand on the actor (only then can the actor yield to it)."""


MAX_SEIZE = 5
"""Most assets one act may seize: held assets are counted in int16 (at most 32,767), and
at most 3,650 days of play plus 1,000 seed acts each add one act's seizure."""
MAX_MEAN_CASUALTIES = 1_000
"""Largest mean deaths per act (each draw is at most about 37 times the mean)."""


class Effects(Record):
    """What taking the action changes, beyond memory and the pair's level."""

    seize_assets: Int = Field(0, ge=0, le=MAX_SEIZE)
    release_assets: Bool = False
    casualties: Num = Field(0.0, ge=0, le=MAX_MEAN_CASUALTIES)
    threat: Bool = False
    lower_level: Int = Field(0, ge=0, le=MAX_LEVEL)
    ceasefire: Int | None = Field(None, ge=0, le=MAX_LEVEL)
    capability_transfer: Num = Field(0.0, ge=0, le=1)
    third_party_hostility: Num = Field(0.0, ge=0, le=1)
    request_meeting: Bool = False
    convene: Bool = False
    restraint: Num = Field(0.0, ge=0, le=1)
    mediation: Num = Field(0.0, ge=0, le=1)
    fact_finding: Num = Field(0.0, ge=0, le=1)
    resolution: Bool = False
    topple: Num = Field(0.0, ge=0, le=1)
    """Chance the target's government falls (the model scales it by the local balance)."""
    deadline_days: Int | None = Field(None, ge=1, le=365)
    """Days a threat binds, instead of ``memory.threat_days`` (an ultimatum's deadline)."""
    offer: Bool = False
    """An offer of terms to the target."""
    comply: Bool = False
    """The actor yields to the target's demands (the target's coercion succeeds)."""


class Action(Record):
    """One row of the catalogue."""

    id: Str
    name: Str
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    cameo: Str = Field(pattern=r"^(0[1-9]|1[0-9]|20)[0-9]{1,2}$")
    plover: Literal[PLOVER_TYPES] | None  # type: ignore[valid-type]
    goldstein: Num = Field(ge=-10, le=10)
    level: Int = Field(ge=0, le=MAX_LEVEL)
    severity: Severity
    actors: tuple[Literal["state", "institution"], ...] = Field(min_length=1)
    target: Literal["state", "institution", "none"]
    requires: Requires = Requires()
    effects: Effects = Effects()

    def score(self, scheme: str) -> float:
        """Severity of this action under ``scheme`` (higher is more escalatory)."""
        if scheme == "goldstein":
            return -self.goldstein
        if scheme == "mid":
            return float(self.severity.mid - 1)
        return float(getattr(self.severity, scheme))


class CatalogueFile(Record):
    """The catalogue file: ladder level names and the actions."""

    levels: dict[Int, Str]
    actions: tuple[Action, ...]


class Catalogue:
    """The loaded catalogue, with per-action numpy columns for the vectorized model."""

    def __init__(self, actions: tuple[Action, ...], levels: dict[int, str]):
        self.actions = actions
        self.levels = levels
        self.index = {a.id: i for i, a in enumerate(actions)}
        self.goldstein = np.array([a.goldstein for a in actions])
        self.tone = self.goldstein / 10.0
        self.hostility = np.maximum(0.0, -self.tone)
        self.cooperation = np.maximum(0.0, self.tone)
        self.level = np.array([a.level for a in actions], dtype=np.int8)
        self.category = np.array([CATEGORIES.index(a.category) for a in actions])
        # per-action effect columns keyed by effect name (ceasefire -1: none; deadline_days
        # 0: the threat binds memory.threat_days)
        self.effects = {name: self.column(f"effects.{name}") for name in Effects.model_fields}
        self.effects["ceasefire"] = self.column("effects.ceasefire", default=-1)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, action_id: str) -> Action:
        return self.actions[self.index[action_id]]

    def scores(self, scheme: str) -> np.ndarray:
        """Severity of every action under ``scheme``, as an array."""
        return np.array([a.score(scheme) for a in self.actions])

    def column(self, attr: str, default=0.0) -> np.ndarray:
        """Array of ``effects.<attr>`` (or ``requires.<attr>``) over actions."""
        part, name = attr.split(".")
        values = [getattr(getattr(a, part), name) for a in self.actions]
        return np.array([default if v is None else v for v in values], dtype=float)


def default_path() -> Path:
    """Path of the catalogue shipped inside the package."""
    return Path(str(resources.files("sim.inputs") / "data" / "actions.yaml"))


@cache
def load(path: Path | str | None = None) -> Catalogue:
    """Load and validate the catalogue (the shipped one by default)."""
    doc = yamlio.load(path or default_path())
    parsed = validate(CatalogueFile, doc)
    problems = []
    seen: dict[str, int] = {}
    for i, action in enumerate(parsed.actions):
        if action.id in seen:
            problems.append(doc.problem(("actions", i, "id"),
                                        f"duplicate action id '{action.id}'"))
        seen[action.id] = i
        if action.level > 0 and action.goldstein >= 0:
            problems.append(doc.problem(("actions", i, "level"),
                                        "a hostile level needs a negative Goldstein weight"))
        if action.effects.deadline_days is not None and not action.effects.threat:
            problems.append(doc.problem(("actions", i, "effects", "deadline_days"),
                                        "a deadline needs threat: true"))
    if problems:
        raise InputError(problems)
    return Catalogue(parsed.actions, dict(parsed.levels))
