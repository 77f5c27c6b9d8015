"""The README's commands run as written, and its usage section matches the CLI."""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys
import tomllib

import pytest

from sim.cli import build_parser
from tests.conftest import ROOT, results_folder, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh)?\n(.*?)```", text, re.S)


def section(title: str) -> str:
    """The README's text under ``## title`` (its ``###`` subsections included)."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def commands(text: str) -> list[str]:
    return [ln.strip() for block in code_blocks(text) for ln in block.splitlines() if ln.strip()]


def test_quick_start_has_exactly_two_commands():
    before_subsections = section("Quick start").split("\n### ", 1)[0]
    assert commands(before_subsections) == ["make run", "make test"]


def test_without_make_gives_the_plain_pip_path_and_it_matches_the_package():
    """The pip path installs the package that declares the `escsim` command and the `dev`
    extra it names, and tests with the same pytest call as `make test`."""
    pip_path = commands(section("Quick start").split("\n### Without make\n", 1)[1])
    assert pip_path == ["python -m venv .venv", "source .venv/bin/activate",
                        "python -m pip install .", "escsim run scenarios/caribbean-2025.yaml",
                        'python -m pip install -e ".[dev]"', "python -m pytest"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["escsim"] == "sim.cli:main"
    assert "pytest>=8" in project["optional-dependencies"]["dev"]
    assert "$(BIN)/python -m pytest" in MAKEFILE.split("\ntest:", 1)[1].split("\n\n", 1)[0]


def test_ci_runs_the_readme_commands_and_adds_only_a_browser():
    """`.ci/run` calls the README's test command (never pytest or pip itself), makes the
    browser tests mandatory, and installs nothing but Debian's chromium."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    code = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert "make test" in code and "make lint" in code
    assert "export ESCSIM_REQUIRE_BROWSER=1" in code
    assert not [ln for ln in code if re.search(r"\bpytest\b|\bpip3?\b", ln)]
    installs = [ln for ln in code if "install" in ln]
    assert installs and all(re.search(r"apt-get install -y -qq chromium\b", ln)
                            for ln in installs), installs
    # the second pass skips the slow tests the way the README documents
    slow = "PYTEST_ARGS=\"-m 'not slow'\""
    assert re.search(r"^make test PYTHON=\S+ VENV=\.venv-py312 " + re.escape(slow) + "$",
                     "\n".join(code), re.M)
    assert f"make test PYTHON=python3.12 VENV=.venv-py312 {slow}" in section("Running the tests")


def run_browser_tests(require: bool) -> subprocess.CompletedProcess:
    """The browser tests in a child pytest, with a browser path that does not exist."""
    env = {k: v for k, v in os.environ.items() if k != "ESCSIM_REQUIRE_BROWSER"}
    env["ESCSIM_CHROMIUM"] = "/nonexistent/chromium"
    if require:
        env["ESCSIM_REQUIRE_BROWSER"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "tests/test_report_browser.py",
                           "-q", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_without_a_browser_the_browser_tests_are_skipped_with_the_reason():
    """As the README says: a machine with no browser passes, and the summary says why."""
    proc = run_browser_tests(require=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^SKIPPED \[\d+\] .*NO BROWSER, browser tests not run: "
                     r"ESCSIM_CHROMIUM=/nonexistent/chromium is not an executable file",
                     proc.stdout, re.M), proc.stdout
    assert re.search(r"^\d+ skipped in ", proc.stdout, re.M), proc.stdout  # and nothing else


def test_escsim_require_browser_makes_a_missing_browser_a_failure():
    """With ESCSIM_REQUIRE_BROWSER=1 (as CI sets it) the same run fails, saying why."""
    proc = run_browser_tests(require=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^\d+ errors in ", proc.stdout, re.M), proc.stdout  # none skipped
    assert "ESCSIM_REQUIRE_BROWSER is set" in proc.stdout


EXAMPLES = [ln for block in code_blocks(README)
            for ln in block.splitlines() if ln.startswith("escsim ") and "COMMAND" not in ln]


@pytest.mark.parametrize("line", EXAMPLES)
def test_usage_examples_run(line, tmp_path):
    args = []
    for word in shlex.split(line)[1:]:
        args.extend(sorted(glob.glob(str(ROOT / word))) if "*" in word else [word])
    if args[0] in ("run", "compare", "backtest", "sweep", "sensitivity", "discover"):
        if "--out" in args:
            args[args.index("--out") + 1] = str(tmp_path)
        else:
            args += ["--out", str(tmp_path)]
    if args[0] == "plot":  # the example names a folder of an earlier run: make one
        made = run_cli("run", ROOT / "scenarios" / "caribbean-2025.yaml", "--runs", 50,
                       "--days", 10, "--out", tmp_path, "--quiet", check=0)
        args[1] = str(results_folder(made))
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr


def test_usage_section_documents_every_option():
    parser = build_parser()
    usage = README.split("## Usage", 1)[1].split("\n## ", 1)[0]
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        assert f"### `escsim {name}" in usage, name
        for action in subparser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in usage, (name, flag)


def test_readme_outcome_table_is_the_real_run(baseline):
    """The README's table is what `escsim run scenarios/caribbean-2025.yaml` gives."""
    from sim.ensemble.montecarlo import run_ensemble
    from sim.results.folders import summary
    table = dict(re.findall(r"^\| ([a-z -]+) \| ([\d.]+)% \|", README, re.M))
    outcomes = summary(run_ensemble(baseline))["outcomes"]
    assert set(table) == set(outcomes)
    for name, row in outcomes.items():
        assert table[name] == f"{100 * row['probability']:.1f}", name


def test_the_layout_table_names_every_module():
    """The README's layout table lists every module of the package, subpackages included,
    and every subpackage folder, so a newcomer finds each file there; every path it names
    exists."""
    table = section("Layout")
    listed = set(re.findall(r"`(sim/[\w/]+\.(?:py|yaml))`", table))
    folders = set(re.findall(r"`(sim/[\w/]+/)`", table))
    sim = ROOT / "sim"
    modules = {p.relative_to(ROOT).as_posix() for p in sim.rglob("*.py")
               if p.name != "__init__.py" or p.parent == sim}
    modules |= {p.relative_to(ROOT).as_posix() for p in sim.rglob("data/*.yaml")}
    packages = {f"{p.parent.relative_to(ROOT).as_posix()}/" for p in sim.glob("*/__init__.py")}
    assert modules <= listed, sorted(modules - listed)
    assert packages <= folders, sorted(packages - folders)
    assert all((ROOT / name).exists() for name in listed | folders), sorted(listed | folders)


def test_the_python_example_runs(monkeypatch):
    """The README's Python example (parameter sets, Mesa steps, a branch from a saved day)
    runs as written and gives what its comments say."""
    block = README.split("From Python:\n\n```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    names: dict = {}
    exec(compile(block, "README.md", "exec"), names)
    assert names["runs"].n_runs == 1000 and names["model"].day == 10
    assert names["what_if"].n_runs == 500
