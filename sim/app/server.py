"""``escsim app [SCENARIO] [--port P] [--lan]``: serve the page with Solara on uvicorn.

Solara is configured before it is imported (it reads its settings from the environment
at import): production mode (no dev reloader, no check that calls solara.dev), telemetry
off (Solara's server telemetry, mixpanel, is on by default), and every asset served from
the local ``solara-assets`` package under ``/_solara/cdn``. The CDN address Solara falls
back to for an asset it lacks points at a closed local port, so a missing asset fails
at once instead of reaching the internet.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import socket
import sys
import threading
import warnings
from pathlib import Path

import uvicorn

from sim.app.config import CONFIG, remember_client, scenario_path
from sim.errors import ResourceError

LOCAL = "127.0.0.1"
EVERYWHERE = "0.0.0.0"
NO_CDN = "http://127.0.0.1:9/"  # the discard port: nothing listens, nothing leaves
SHUTDOWN_GRACE = 2  # seconds open pages get to close when the server stops
# A private address to "connect" a UDP socket to: connect() on UDP sends nothing, it only
# asks the kernel which interface would be used, i.e. this machine's address on the room's
# network (RFC 1918 private range, so even a wrong guess stays on the local network).
PROBE = ("10.255.255.255", 1)

SOLARA_ENV = {
    "SOLARA_APP": "sim.app.pages",
    "SOLARA_MODE": "production",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": NO_CDN,
    "SOLARA_THEME_TITLE": "escsim",
    "SOLARA_THEME_SHOW_BANNER": "False",
}


class Server(uvicorn.Server):
    """uvicorn's server, stopping on the first SIGINT or SIGTERM and remembering which.

    uvicorn re-raises the signal after shutdown, which would print a traceback; this
    one does not, and :func:`main` returns 128 + the signal's number instead.
    """

    stopped_by: int | None = None
    banner: tuple[str, ...] = ()
    """Printed once the server listens and catches signals: a script that reads ``app:``
    may stop it at once, and gets the quiet exit, not the CLI's handler's traceback."""

    async def startup(self, sockets=None):
        """Start as uvicorn does, then print :attr:`banner`."""
        await super().startup(sockets=sockets)
        for line in self.banner:
            print(line, flush=True)

    def handle_exit(self, sig, frame):
        """Remember the first signal, then stop as uvicorn does."""
        self.stopped_by = self.stopped_by or sig
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self):
        """SIGINT and SIGTERM stop the server while it runs (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {s: signal.signal(s, self.handle_exit) for s in signals}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def configure_solara() -> None:
    """Set Solara's settings; call before anything imports ``solara``."""
    os.environ.update(SOLARA_ENV)
    # the session cookie is signed; Solara's default key is the public "change me"
    os.environ.setdefault("SOLARA_SESSION_SECRET_KEY", secrets.token_urlsafe(32))
    # Solara warns on every page load that it cannot set a cross-site cookie over http;
    # the page is never embedded in another site, so the same-site cookie it falls back to
    # is the right one
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    import solara.server.settings as server_settings
    import solara.settings
    # again on the objects, in case something imported Solara before the environment was set
    server_settings.main.mode = "production"
    server_settings.telemetry.mixpanel_enable = False
    solara.settings.assets.proxy = True
    solara.settings.assets.cdn = NO_CDN


def room_address() -> str | None:
    """The machine's first non-loopback IPv4 address, found without sending anything."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE)
            address = probe.getsockname()[0]
    except OSError:
        address = None
    if address and not address.startswith("127.") and address != EVERYWHERE:
        return address
    try:
        import psutil
    except ImportError:
        return None
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    A port that is taken or not allowed is a one-line :class:`ResourceError`.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # reuse a port in TIME_WAIT; on Windows this would share a live one
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ResourceError(f"port {port} is in use (another escsim app?); choose another "
                                f"with --port, or --port 0 for a free one") from None
        if err.errno == errno.EACCES:
            raise ResourceError(f"port {port} needs administrator rights; choose one above "
                                f"1023 with --port") from None
        raise ResourceError(f"cannot serve on {host}:{port}: {err.strerror}") from None
    return sock


# Solara's Markdown loads KaTeX to typeset formulas, but the local assets package lacks
# KaTeX, so the browser would ask for it in vain. The page's texts hold no formulas (a "$"
# is a dollar): these stand-ins leave them as written.
KATEX = "/_solara/cdn/katex@0.16.9/dist/"
STAND_INS = {
    KATEX + "contrib/auto-render.min.js": (b"text/javascript",
                                           b"define([], function () { return function () {}; });"),
    KATEX + "katex.min.css": (b"text/css", b""),
}


def local_app(app):
    """``app`` (ASGI), answering the KaTeX requests locally and noting each page's address.

    Solara does not tell a page who its browser is; the join-code limiter needs it (one
    student's guesses must not lock out the class), so the websocket that opens a page's
    kernel (``/jupyter/api/kernels/ID/channels``) is looked at on its way in.
    """
    async def wrapped(scope, receive, send):
        if scope["type"] == "websocket" and scope.get("client"):
            parts = scope["path"].split("/")
            if "kernels" in parts[:-1]:
                remember_client(parts[parts.index("kernels") + 1], scope["client"][0])
        elif scope["type"] == "http" and scope["path"] in STAND_INS:
            kind, body = STAND_INS[scope["path"]]
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", kind), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)
    return wrapped


def banner(port: int, lan: bool) -> list[str]:
    """The lines printed once the page is served.

    Its address; with --lan the room's address and the join code; and the instructor's
    class page with its key.
    """
    lines = [f"app: http://{LOCAL}:{port}/"]
    if lan:
        room = room_address()
        lines.append(f"room: http://{room}:{port}/" if room else
                     "room: no network address found (is this computer on the room's network?)")
        lines.append(f"code: {CONFIG.join_code}")
    lines.append(f"instructor: http://{LOCAL}:{port}/class?key={CONFIG.instructor_key}")
    return lines


def warm_up(path: Path) -> None:
    """Run the compiled day once (a crisis, an agent's options, a tiny ensemble).

    numba compiles it on first use and caches the result: cold, that takes half a
    minute or more, which the first student to press Step would otherwise wait.
    """
    from sim.ensemble.montecarlo import run_ensemble
    from sim.inputs.scenario import load_scenario
    from sim.model.model import EscalationModel
    scenario = load_scenario(path)
    model = EscalationModel(scenario, runs=1, days=1, record=True)
    model.step()
    model.agents_by_index[0].options(0)
    run_ensemble(scenario, runs=2, days=2)


def main(args) -> int:
    """Serve the page until Ctrl-C (exit 130) or SIGTERM (exit 143)."""
    if args.file is not None:
        from sim.inputs.scenario import load_scenario
        load_scenario(args.file)  # a bad file: the usual located errors, before serving
        CONFIG.use_scenario(args.file)
    CONFIG.lan = bool(args.lan)
    CONFIG.outputs = Path(CONFIG.outputs).resolve()
    sock = bind(EVERYWHERE if args.lan else LOCAL, args.port)
    print("escsim app: preparing the model (the first start compiles it, about a minute)",
          file=sys.stderr, flush=True)
    warm_up(scenario_path(CONFIG.default_scenario))
    configure_solara()
    from solara.server.starlette import app
    config = uvicorn.Config(local_app(app), log_level="warning", proxy_headers=False,
                            timeout_graceful_shutdown=SHUTDOWN_GRACE, lifespan="on",
                            ws_ping_interval=20, ws_ping_timeout=20)
    server = Server(config)
    server.banner = tuple(banner(sock.getsockname()[1], args.lan))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if server.stopped_by is not None:
        return 128 + server.stopped_by
    return 0
