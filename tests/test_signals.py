"""Signals sent to a real `escsim run` with two worker processes.

SIGINT (Ctrl-C) and SIGTERM stop it cleanly: exit 130 or 143, one line, no
results, partial or empty folder, and no process left behind (workers, the
forkserver, the resource tracker). After SIGKILL nothing can clean up, but
the workers and helpers still exit by themselves within seconds, and the next
run into the same folder removes what the killed one left.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import BASELINE, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start_working_run(out: Path):
    """Start `escsim run --workers 2` and return (process, its descendants) once the
    workers have delivered a chunk (rows beyond the header in the staging runs.csv)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "200000", "--days", "60",
         "--workers", "2", "--chunk-size", "100", "--out", str(out), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        staged = list(out.glob("*/.*partial*/runs.csv"))
        if staged and staged[0].read_text().count("\n") > 1:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the run delivered no chunk within 120 s")
    family = psutil.Process(proc.pid).children(recursive=True)
    assert len(family) >= 2, family  # at least the two workers
    return proc, family


def assert_all_gone(family, seconds: float = 10):
    """Every process in ``family`` has exited within ``seconds``."""
    _, alive = psutil.wait_procs(family, timeout=seconds)
    assert not [(p.pid, " ".join(p.cmdline())[:80]) for p in alive if p.is_running()]


@contextlib.contextmanager
def no_leftovers(family):
    """Whatever the test finds, kill what is left of ``family`` afterwards."""
    try:
        yield
    finally:
        for p in family:
            with contextlib.suppress(psutil.Error):
                p.kill()


def stop_and_check(tmp_path, signum, status: int, word: str):
    """Send ``signum`` mid-run; check the exit status, the one line, that no folder at
    all is left (--out was created by the run, so it goes too) and no process either."""
    out = tmp_path / "out"
    proc, family = start_working_run(out)
    with no_leftovers(family):
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == status, err
        assert err.strip() == f"{word}; no results were written"
        assert not out.exists(), sorted(out.rglob("*"))
        assert_all_gone(family)


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """SIGTERM mid-run: exit 143, one line, no folder, no orphaned worker, forkserver or
    resource tracker. It used to kill the run outright, leaving a hidden partial folder
    and orphaned workers. (SIGINT: tests/test_engine.py.)"""
    stop_and_check(tmp_path, signal.SIGTERM, 143, "terminated")


@pytest.mark.slow
def test_workers_exit_by_themselves_after_sigkill(tmp_path):
    """SIGKILL gives the run no chance to clean up; its workers, forkserver and resource
    tracker notice their parent is gone and exit within seconds (they used to linger
    for over a minute)."""
    out = tmp_path / "out"
    proc, family = start_working_run(out)
    with no_leftovers(family):
        proc.kill()
        proc.communicate(timeout=30)
        assert_all_gone(family, seconds=10)
    scenario = out / BASELINE.stem
    assert [p.name for p in scenario.glob(".*partial*")], "the killed run left its staging"
    # the next run into the same folder removes what the killed one left; its own stays
    subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "20",
                    "--days", "5", "--workers", "1", "--out", str(out), "--quiet"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    kept = list(scenario.iterdir())
    assert len(kept) == 1 and (kept[0] / "runs.csv").is_file(), kept
