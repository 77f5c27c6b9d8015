"""The running page's settings, the scenarios a browser may open, and join codes.

The settings are set by :func:`sim.app.server.main` before the app starts. Join codes
come with a limit on wrong guesses (:func:`attempts`).

The browser names scenarios, never paths: :func:`scenario_path` refuses any name that is
not a shipped scenario (or the one the instructor named on the command line), so no page
can read an arbitrary file of the instructor's laptop.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs import shipped

# Join codes: no 0/O, 1/I/L, 2/Z, 5/S or 8/B, which students misread from a projector.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 6  # 25**6 = 244 million codes; at 30 tries a minute a guess takes ~15 years
WRONG_PER_CLIENT = 5  # wrong join codes one client may try per window...
WRONG_OVERALL = 30  # ...and all clients together, so many clients cannot share the guessing
WINDOW = 60.0  # seconds


def new_code() -> str:
    """A fresh join code: ``CODE_LENGTH`` characters of ``CODE_ALPHABET`` from ``secrets``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass
class Config:
    """The running app's settings (one per server process)."""

    scenarios_dir: Path = field(default_factory=shipped.shipped_dir)
    default_scenario: str = shipped.BASELINE
    extra: dict[str, Path] = field(default_factory=dict)  # a scenario named on the command line
    lan: bool = False
    join_code: str = field(default_factory=new_code)
    instructor_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    outputs: Path = Path("outputs/app")

    def use_scenario(self, path: Path) -> str:
        """Make ``path`` (given on the command line) the default scenario; return its name.

        A shipped file keeps its shipped name; any other file is added under its stem,
        so the browser still names it rather than its path.
        """
        path = Path(path).resolve()
        for name, known in scenarios().items():
            if known.resolve() == path:
                self.default_scenario = name
                return name
        name = path.stem if path.stem not in scenarios() else f"{path.stem} ({path.parent.name})"
        self.extra = {name: path}
        self.default_scenario = name
        return name


CONFIG = Config()


def scenarios() -> dict[str, Path]:
    """Every scenario the page may open, by name.

    The shipped ones, then the one the instructor named on the command line if it is
    not shipped.
    """
    return shipped.shipped() | CONFIG.extra


def scenario_names() -> list[str]:
    """The names the scenario picker offers, in the order of ``escsim scenarios``."""
    return list(scenarios())


def scenario_path(name: str) -> Path:
    """The file of the scenario ``name``.

    Any other text (paths included) is an :class:`InputError` with a "did you mean"
    among the names.
    """
    known = scenarios()
    if name in known:
        return known[name]
    raise InputError([Problem(Path("scenario"), None, "", f"'{name}' is not a scenario of "
                              f"this page", did_you_mean(name, known))])


MAX_CLIENTS = 10_000  # page addresses remembered (the oldest are forgotten first)
_clients: dict[str, str] = {}  # Solara kernel id -> the browser's network address
LOOPBACK = ("127.", "::1", "::ffff:127.")


def remember_client(kernel_id: str, address: str) -> None:
    """Note that the page with Solara kernel ``kernel_id`` is served to ``address``."""
    _clients[kernel_id] = address
    while len(_clients) > MAX_CLIENTS:
        del _clients[next(iter(_clients))]


def client() -> str:
    """The network address of the browser showing the current page (the limits' key).

    "unknown" outside a served page.
    """
    import solara
    try:
        return _clients.get(solara.get_kernel_id(), "unknown")
    except Exception:  # no kernel: a unit test or a script
        return "unknown"


def is_local(address: str | None = None) -> bool:
    """Whether ``address`` (default: the current page's browser) is this machine."""
    return (address or client()).startswith(LOOPBACK)


class Attempts:
    """A sliding-window limit on wrong join codes.

    At most ``per_client`` wrong codes per client and ``overall`` in all within any
    ``window`` seconds. Thread-safe: each browser tab runs in its own thread.
    """

    def __init__(self, per_client=WRONG_PER_CLIENT, overall=WRONG_OVERALL, window=WINDOW,
                 clock=time.monotonic):
        self.per_client, self.overall, self.window, self.clock = (
            per_client, overall, window, clock)
        self._lock = threading.Lock()
        self._wrong: dict[str, deque] = {}
        self._all: deque = deque()

    def _expire(self, now: float) -> None:
        for times in (self._all, *self._wrong.values()):
            while times and times[0] <= now - self.window:
                times.popleft()
        self._wrong = {k: v for k, v in self._wrong.items() if v}

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may try a code again (0: now)."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            limits = ((self._wrong.get(client, ()), self.per_client), (self._all, self.overall))
            # a full window opens again when the oldest of its last `limit` tries expires
            return max((q[-limit] + self.window - now for q, limit in limits
                        if len(q) >= limit), default=0.0)

    def allowed(self, client: str) -> bool:
        """Whether ``client`` may try a join code now."""
        return self.wait(client) <= 0

    def wrong(self, client: str) -> None:
        """Record a wrong code from ``client``."""
        with self._lock:
            now = self.clock()
            self._wrong.setdefault(client, deque()).append(now)
            self._all.append(now)


ATTEMPTS = Attempts()


def attempts(client: str) -> bool:
    """Whether ``client`` (its address, :func:`client`) may try a join code now.

    Call :func:`wrong_code` after a wrong one, :func:`wait_text` to say how long to wait,
    or use :func:`check_code`, which does all three.
    """
    return ATTEMPTS.allowed(client)


def wrong_code(client: str) -> None:
    """Count a wrong join code against ``client`` (and against the overall limit)."""
    ATTEMPTS.wrong(client)


def wait_text(client: str) -> str:
    """The refusal shown to a client over the limit, with the wait in whole seconds."""
    seconds = max(1, round(ATTEMPTS.wait(client) + 0.5))
    return f"too many wrong codes: try again in {seconds} s"


def check_code(client: str, code: str) -> str | None:
    """Check a join code typed by ``client``: None when right, else why it is refused.

    Refused: a wrong code (which counts against the limits), or any code once the
    limits are reached.
    """
    if not attempts(client):
        return wait_text(client)
    typed = "".join(str(code).split()).upper()
    if secrets.compare_digest(typed.encode(), CONFIG.join_code.encode()):
        return None
    wrong_code(client)
    return "wrong join code"
