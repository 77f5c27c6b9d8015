"""Shared helpers: paths, scenario variants written to a temp folder, CLI runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "caribbean-2025.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="session")
def baseline():
    from sim.scenario import load_scenario
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
