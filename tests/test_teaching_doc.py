"""docs/teaching.md says what escsim does: its commands parse, its scenarios and examples exist."""

from __future__ import annotations

import csv
import io
import math
import re
import shlex

import pytest
import yaml

from sim.cli import build_parser
from sim.inputs import catalogue as cat
from sim.inputs.scenario import CARD_SECTIONS, OUTCOME_CLASSES, load_scenario
from tests.conftest import BASELINE, ROOT

DOC = ROOT / "docs" / "teaching.md"
TEXT = DOC.read_text(encoding="utf-8")
SCENARIO_COMMANDS = ("validate", "run", "compare", "story", "play", "handout")
STUDENT_FOLDER = "class/"  # where the doc's exercise puts the students' own scenarios


def fenced(lang: str = r"\w*") -> list[str]:
    """The text of every fenced code block whose language matches ``lang``."""
    return re.findall(rf"^```{lang}\n(.*?)^```", TEXT, re.S | re.M)


def block_commands() -> list[str]:
    """Every `escsim ...` line of a code block, continuation lines joined."""
    lines = []
    for block in fenced():
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("escsim "):
                lines.append(line)
    return lines


def inline_commands() -> list[str]:
    """Every inline code span that starts with `escsim `."""
    return re.findall(r"(?<!`)`(escsim [^`]+)`(?!`)", TEXT)


def parse(line: str):
    """The argparse namespace of a command line, or a test failure with argparse's message."""
    try:
        return build_parser().parse_args(shlex.split(line)[1:])
    except SystemExit:
        pytest.fail(f"docs/teaching.md: `{line}` does not parse", pytrace=False)


def subparsers() -> dict:
    """The subcommands of escsim by name, with their parsers."""
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")  # the subparsers
    return dict(action.choices)


def subcommands() -> set[str]:
    return set(subparsers())


def section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start:end if end >= 0 else None]


def test_the_doc_has_commands_to_check():
    """The checks below run on something: the doc's blocks hold the lesson's commands."""
    words = {shlex.split(line)[1] for line in block_commands()}
    assert {"handout", "play", "debrief", "validate", "compare", "scenarios"} <= words, words


@pytest.mark.parametrize("line", block_commands() + [c for c in inline_commands()
                                                     if len(c.split()) > 2])
def test_every_command_line_parses(line):
    """Every escsim command line of the doc is accepted by the real command-line parser,
    with every option spelled in full (argparse would also take an abbreviation)."""
    parse(line)
    words = shlex.split(line)
    known = subparsers()[words[1]]._option_string_actions
    assert [w for w in words[2:] if w.startswith("--") and w not in known] == [], line


@pytest.mark.parametrize("mention", [c for c in inline_commands() if len(c.split()) == 2])
def test_every_command_named_exists(mention):
    """A command named in the text (`escsim validate`) is a subcommand of escsim."""
    assert mention.split()[1] in subcommands(), mention


def scenario_arguments() -> list[str]:
    """The scenario arguments of the doc's command lines, as written (the parser itself
    may turn a shipped name into its path)."""
    found = []
    for line in block_commands() + inline_commands():
        words = shlex.split(line)
        if len(words) < 3 or words[1] not in SCENARIO_COMMANDS:
            continue
        args = parse(line)
        files = args.files if hasattr(args, "files") else [args.file]
        count = sum(f is not None for f in files)
        found += [w for w in words[2:] if not w.startswith("-")][:count]
    return found


def library_table_names() -> list[str]:
    """The scenario names in the first column of the teaching library's table."""
    return re.findall(r"^\| `([^`]+)` \|", section("The teaching library"), re.M)


def test_every_scenario_the_doc_names_is_shipped():
    """Every scenario named without a path (commands, the library table) is a file under
    scenarios/, and every path is one of the repository's or the exercise's own file."""
    assert len(library_table_names()) >= 7, "the library table lists the teaching scenarios"
    named = scenario_arguments() + library_table_names()
    assert "caribbean-2025" in named and any(n.startswith(STUDENT_FOLDER) for n in named)
    missing = []
    for name in named:
        if "/" not in name and not name.endswith(".yaml"):
            if not (ROOT / "scenarios" / f"{name}.yaml").is_file():
                missing.append(name)
        elif not name.startswith(STUDENT_FOLDER) and not (ROOT / name).is_file():
            missing.append(name)
    assert not missing, f"docs/teaching.md names scenarios that are not shipped: {missing}"


def student_variant() -> tuple[str, str]:
    """(file name, text) of the exercise's example variant."""
    blocks = [b for b in fenced("yaml") if b.startswith(f"# {STUDENT_FOLDER}")]
    assert len(blocks) == 1, "the exercise shows one variant file"
    name = blocks[0].split(":", 1)[0].removeprefix("# ")
    return name, blocks[0]


def test_the_student_variant_validates_with_its_card(tmp_path):
    """The exercise's variant, saved where the doc says (class/ beside scenarios/), loads:
    its extends: reaches the baseline, its one change applies, and its card is complete."""
    name, text = student_variant()
    extends = yaml.safe_load(text)["extends"]
    assert (ROOT / STUDENT_FOLDER / extends).resolve() == BASELINE.resolve()
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    # the same text with extends: pointing at the same baseline from the temporary folder
    path.write_text(text.replace(f"extends: {extends}", f"extends: {BASELINE}"),
                    encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.spec.actors["VEN"].resolve == 0.85
    assert load_scenario(BASELINE).spec.actors["VEN"].resolve != 0.85  # a change indeed
    card = scenario.spec.card
    assert card is not None
    for key, _title in CARD_SECTIONS:
        assert getattr(card, key), key
    # the exercise's commands check and compare this very file
    assert any(f"validate {name}" in c for c in block_commands())
    assert any(c.startswith("escsim compare") and name in c for c in block_commands())


def test_the_inject_deck_example_loads_against_the_baseline(tmp_path):
    """The example deck is a valid deck for the baseline: real catalogue actions, actors
    of the scenario, targets of the kind each action takes (the game's own deck reader)."""
    from sim.classroom.game import load_deck
    blocks = [b for b in fenced("yaml") if b.startswith("# deck.yaml")]
    assert len(blocks) == 1
    path = tmp_path / "deck.yaml"
    path.write_text(blocks[0], encoding="utf-8")
    deck = load_deck(path, load_scenario(BASELINE))
    catalogue = cat.load()
    assert len(deck) == 4 and all(card.action in catalogue.index for card in deck)
    assert any(card.day is None for card in deck) and any(card.day for card in deck)
    assert any(f"--injects {path.name}" in c for c in block_commands())


def test_the_prediction_sheet_example_is_read_by_the_debrief(tmp_path):
    """The sample prediction file is a sheet the debrief reads (its own reader): every
    outcome class, one row per student, the percentages row read as probabilities."""
    from sim.classroom.predictions import read_sheet
    sheets = [b for b in fenced() if b.startswith("name,")]
    assert len(sheets) == 1
    path = tmp_path / "predictions.csv"
    path.write_text(sheets[0], encoding="utf-8")
    sheet = read_sheet(path)
    rows = list(csv.reader(io.StringIO(sheets[0])))
    assert sheet.names == [row[0] for row in rows[1:]]
    assert sheet.p.shape == (len(rows) - 1, len(OUTCOME_CLASSES))
    assert all(math.isclose(total, 1.0, abs_tol=1e-9) for total in sheet.p.sum(axis=1))


def test_the_lesson_plays_twenty_turns_of_three_days():
    """The 50-minute lesson's game has the 20 turns the plan times (horizon / turn days)."""
    plays = [parse(c) for c in block_commands() + inline_commands()
             if shlex.split(c)[1] == "play" and "--resume" not in c]
    lesson = next(a for a in plays if a.turn_days == 3)
    horizon = lesson.days or load_scenario(lesson.file).spec.horizon_days
    assert math.ceil(horizon / lesson.turn_days) == 20
    assert "**20 turns**" in section("A 50-minute lesson")


def test_the_uniform_brier_score_the_doc_quotes():
    """A sheet of 20% per class scores 0.8 whatever happens (Brier 1950: the sum over the
    five classes of the squared error), the number the doc and the rubric use."""
    p = 1 / len(OUTCOME_CLASSES)
    assert math.isclose((1 - p) ** 2 + (len(OUTCOME_CLASSES) - 1) * p ** 2, 0.8)
    assert "scores 0.8 whatever happens" in TEXT and "Brier above 0.8" in TEXT
