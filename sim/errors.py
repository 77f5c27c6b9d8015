"""Input problems: one message per problem, naming file, line and field."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file."""

    file: Path
    line: int | None
    field: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        # one line whatever the input held (a newline in an id or a file name)
        return printable(f"{where}: {what}" + (f" ({self.hint})" if self.hint else ""), None)


class InputError(Exception):
    """Raised with every problem found in the input, never only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ResourceError(Exception):
    """A request that cannot fit in memory or on disk, refused before any work starts."""


def did_you_mean(name: str, choices) -> str | None:
    """Return a 'did you mean' hint when ``name`` is a near miss of a choice.

    Case is ignored when comparing, so ``usa`` finds ``USA``.
    """
    folded: dict[str, str] = {}
    for choice in map(str, choices):
        folded.setdefault(choice.casefold(), choice)
    close = difflib.get_close_matches(str(name).casefold(), list(folded), n=1, cutoff=0.6)
    return f"did you mean '{folded[close[0]]}'?" if close else None


def printable(text: str, width: int | None = 80) -> str:
    """``text`` as it can be printed on one line: control characters escaped, cut to ``width``."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if width is None or len(out) <= width else out[:width - 3] + "..."


def field_path(parts) -> str:
    """Render a path like ``actors.USA.commitments.VEN`` or ``schedule[0].day``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + printable(part)
    return out
