"""Helpers for the page's tests: a real ``escsim app`` process, and Chromium with the network cut.

- :func:`serve` starts ``python -m sim app --port 0 ARGS`` as a subprocess and returns its
  address once it printed ``app: URL``; every process it started is stopped when the test
  session ends (or earlier with :func:`stop`).
- The ``browser`` fixture (import it into the test module) is a headless Chromium found
  as :mod:`tests.conftest` finds one: a loud skip without one, a failure in CI.
- :func:`offline_context` is a browser context in which every request to another host
  than this machine is aborted and recorded, so a page that needs the internet shows it.
- :func:`open_page` opens a URL and waits until Solara has drawn the page.
"""

from __future__ import annotations

import atexit
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import launch_browser, no_browser

# seconds for `escsim app` to print its address: it imports Solara and runs the model once,
# which on a fresh checkout compiles it (numba; a minute or more on a busy 2-core machine)
START_TIMEOUT = 240
STOP_TIMEOUT = 10  # seconds for it to exit after SIGTERM
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# Solara's page draws its widgets inside #app once the websocket runs; before that the
# body holds a loader, and on an error Solara shows a traceback in a <pre>.
DRAWN = ".escsim-page"
_running: list[subprocess.Popen] = []


class Served(subprocess.Popen):
    """The app's process, with what it printed: ``banner`` maps each key of the printed
    ``key: value`` lines (app, room, code, instructor) to its value; ``stderr_path``."""

    banner: dict[str, str]
    stderr_path: Path


def serve(tmp_path: Path, *args, timeout: float = START_TIMEOUT) -> tuple[str, Served]:
    """Start ``python -m sim app --port 0 ARGS`` (cwd ``tmp_path``); return (URL, process).

    Waits for the ``instructor:`` line, the last one it prints before serving, and fails
    with the process's stderr if it exits or says nothing within ``timeout`` seconds.
    """
    stderr_path = tmp_path / f"app-{len(_running)}.stderr"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", "0",
                                 *map(str, args)], cwd=tmp_path, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
    proc.__class__ = Served
    proc.stderr_path = stderr_path
    proc.banner = {}
    _running.append(proc)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while "instructor" not in proc.banner:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            status = proc.poll()
            stop(proc)
            pytest.fail(f"escsim app {'exited ' + str(status) if status is not None else ''}"
                        f"without printing its address within {timeout} s:\n"
                        f"{stderr_path.read_text(errors='replace')}")
        if match := re.match(r"(\w+): (.*)$", line.rstrip("\n")):
            proc.banner[match.group(1)] = match.group(2)
    return proc.banner["app"], proc


def _drain(proc: subprocess.Popen, lines: queue.Queue) -> None:
    """Read the app's stdout to its end (a full pipe would block the server)."""
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Send ``sig`` to the app and wait for it to end; its exit status (killed if stuck)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@atexit.register
def _stop_all() -> None:
    for proc in _running:
        stop(proc)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's tests (a loud skip, or a failure in CI, without)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is missing (python -m pip install -e '.[dev]')")
    with sync_playwright() as p:
        chromium = launch_browser(p)
        yield chromium
        chromium.close()


def offline_context(browser, **options):
    """(context, external): a context whose requests to any host but this machine are
    aborted, their URLs appended to ``external``; ``options`` go to ``new_context``."""
    context = browser.new_context(**options)
    external: list[str] = []

    def route(r):
        if urlparse(r.request.url).hostname in LOCAL_HOSTS or r.request.url.startswith(
                ("data:", "blob:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, external


def open_page(context, url: str, drawn: str = DRAWN, timeout: float = 20):
    """Open ``url`` in a new page of ``context`` and wait until ``drawn`` (a CSS selector;
    by default the layout's page area) is visible; the page, and its console errors in
    ``page.errors``."""
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(drawn, state="visible", timeout=timeout * 1000)
    return page
