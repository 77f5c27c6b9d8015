"""The README's commands run as written, and its usage section matches the CLI."""

from __future__ import annotations

import glob
import re
import shlex

import pytest

from sim.cli import build_parser
from tests.conftest import ROOT, results_folder, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh)?\n(.*?)```", text, re.S)


def test_quick_start_has_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = code_blocks(section)
    assert len(blocks) == 1
    commands = [ln for ln in blocks[0].splitlines() if ln.strip()]
    assert commands == ["make run", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


EXAMPLES = [ln for block in code_blocks(README.split("## Usage", 1)[1])
            for ln in block.splitlines() if ln.startswith("escsim ") and "COMMAND" not in ln]


@pytest.mark.parametrize("line", EXAMPLES)
def test_usage_examples_run(line, tmp_path):
    args = []
    for word in shlex.split(line)[1:]:
        args.extend(sorted(glob.glob(str(ROOT / word))) if "*" in word else [word])
    if args[0] in ("run", "compare"):
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
    from sim.montecarlo import run_ensemble
    from sim.results import summary
    table = dict(re.findall(r"^\| ([a-z -]+) \| ([\d.]+)% \|", README, re.M))
    outcomes = summary(run_ensemble(baseline))["outcomes"]
    assert set(table) == set(outcomes)
    for name, row in outcomes.items():
        assert table[name] == f"{100 * row['probability']:.1f}", name
