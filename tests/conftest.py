"""Shared helpers: paths, scenario variants written to a temp folder, CLI runner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "caribbean-2025.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="session")
def baseline():
    from sim.inputs.scenario import load_scenario
    return load_scenario(BASELINE)


def run_cli(*args, cwd=None, check=None):
    """Run ``python -m sim ARGS`` in a subprocess; return the CompletedProcess."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    proc = subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, env=env, timeout=600)
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


def results_folder(proc) -> Path:
    """The folder an `escsim run` or `escsim compare` printed (``results: PATH``)."""
    match = re.search(r"^results: (.+)$", proc.stdout, re.M)
    assert match, proc.stdout + proc.stderr
    return ROOT / match.group(1)  # relative paths are relative to ROOT, the CLI's cwd


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in text")


@pytest.fixture
def variant(tmp_path):
    """Write a scenario that extends the baseline with the given YAML text."""
    def write(body: str, name: str = "variant.yaml") -> Path:
        path = tmp_path / name
        path.write_text(f"extends: {BASELINE}\n{body}", encoding="utf-8")
        return path
    return write


# A browser for the report tests, found the way a user's machine has one.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
# The first three keep Chromium working as root and without a display; the rest stop it
# from calling update, sync and field-trial services, which hang on a closed network.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
BROWSER_INSTALL_TIMEOUT = 600  # seconds for `playwright install chromium`, a one-off download
_install_tried: list[str] = []  # the outcome of the one install attempt per session


def no_browser(reason: str):
    """Skip for want of a browser, loudly; fail instead when ESCSIM_REQUIRE_BROWSER=1 (CI)."""
    reason = f"NO BROWSER, browser tests not run: {reason}"
    if os.environ.get("ESCSIM_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(reason + " (ESCSIM_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(reason + "; set ESCSIM_CHROMIUM=/path/to/chromium or install one")


def find_browser(playwright) -> str:
    """Path of a Chromium: ``ESCSIM_CHROMIUM``, one on PATH, Playwright's own, or one that
    ``python -m playwright install chromium`` fetches (tried once per session)."""
    named = os.environ.get("ESCSIM_CHROMIUM")
    if named:
        if not os.access(named, os.X_OK) or os.path.isdir(named):
            no_browser(f"ESCSIM_CHROMIUM={named} is not an executable file")
        return named
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    own = Path(playwright.chromium.executable_path)
    if not own.is_file() and not _install_tried:
        try:
            proc = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                                  capture_output=True, text=True,
                                  timeout=BROWSER_INSTALL_TIMEOUT)
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            _install_tried.append(f"exit {proc.returncode}: {lines[0] if lines else ''}")
        except subprocess.TimeoutExpired:
            _install_tried.append(f"no answer in {BROWSER_INSTALL_TIMEOUT} s")
    if own.is_file():
        return str(own)
    no_browser(f"no {'/'.join(BROWSER_NAMES)} on PATH, and `python -m playwright install "
               f"chromium` failed ({_install_tried[0]})")


def launch_browser(playwright):
    """A headless Chromium launched through Playwright, or a skip (a failure in CI) saying why."""
    path = find_browser(playwright)
    try:
        return playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS)
    except Exception as err:  # a browser that cannot start (missing libraries) is no browser
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        no_browser(f"{path} did not start: {first}")
