"""Shipped scenarios: installed with the package, named without a path, listed, each with a
complete info card; the card's schema and its errors."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.inputs.library import first_sentence, resolve
from sim.inputs.scenario import CARD_SECTIONS, load_scenario
from sim.inputs.shipped import shipped, shipped_dir
from tests.conftest import BASELINE, ROOT, line_of

SECTIONS = ("what_is_it", "how_it_works", "how_to_use_it", "things_to_notice",
            "things_to_try", "extending_the_model")
# every shipped scenario file, found by globbing the repository (not through the code under
# test): the teaching scenarios and the history case files (not their seed events)
SHIPPED_FILES = sorted([*(ROOT / "scenarios").glob("*.yaml"),
                        *(p for p in (ROOT / "scenarios" / "history").glob("*.yaml")
                          if not p.name.endswith(".events.yaml"))])
CARD = """card:
  what_is_it: A test crisis. It has two sentences.
  how_it_works: Agents choose moves.
  how_to_use_it: Run it.
  things_to_notice: The fan chart.
  things_to_try:
    - What if Russia backs off?
  extending_the_model: Add a navy.
"""


def test_shipped_files_are_found_in_the_checkout():
    """Run from the checkout (an editable install), the shipped folder is the repository's
    scenarios/, and its names are exactly the files there: teaching scenarios by stem,
    history cases as history/STEM."""
    assert shipped_dir() == ROOT / "scenarios"
    expected = {p.stem if p.parent.name == "scenarios" else f"history/{p.stem}": p
                for p in SHIPPED_FILES}
    assert shipped() == expected


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_by_its_name(path, tmp_path, monkeypatch):
    """From a folder that holds no scenarios, each shipped name (NAME or history/NAME)
    resolves to its file in the repository, and that file loads."""
    monkeypatch.chdir(tmp_path)
    name = path.stem if path.parent.name == "scenarios" else f"history/{path.stem}"
    assert resolve(name) == path
    assert load_scenario(resolve(name)).path == path


def test_the_other_spellings_of_a_shipped_name(tmp_path, monkeypatch):
    """NAME.yaml and the repository-relative scenarios/NAME.yaml also name a shipped
    scenario from anywhere; a text that names nothing comes back unchanged."""
    monkeypatch.chdir(tmp_path)
    assert resolve("caribbean-2025.yaml") == BASELINE
    assert resolve("scenarios/caribbean-2025.yaml") == BASELINE
    assert resolve("history/pueblo-1968.yaml") == ROOT / "scenarios/history/pueblo-1968.yaml"
    assert resolve("no-such-scenario") == Path("no-such-scenario")
    assert resolve("bad\0name") == Path("bad\0name")  # refused later, when it is read


def test_an_existing_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    """A file in the current folder named like a shipped scenario is the one used."""
    monkeypatch.chdir(tmp_path)
    for name in ("caribbean-2025", "caribbean-2025.yaml"):
        (tmp_path / name).write_text("title: mine\n", encoding="utf-8")
        assert resolve(name) == Path(name)


def test_run_by_name_from_another_folder(tmp_path, monkeypatch, capsys):
    """`escsim run caribbean-2025` works from a folder without the scenario: the results
    folder is named after it and its manifest hashes the repository's baseline and seed
    events (hashed here from the files themselves)."""
    monkeypatch.chdir(tmp_path)
    status = main(["run", "caribbean-2025", "--runs", "20", "--days", "5", "--out", "out",
                   "--workers", "1", "--quiet"])
    assert status == 0, capsys.readouterr().err
    folder = Path(re.search(r"^results: (.+)$", capsys.readouterr().out, re.M).group(1))
    assert folder.parent == Path("out") / "caribbean-2025"
    files = json.loads((folder / "manifest.json").read_text())["files"]
    seeds = ROOT / "seeds" / "caribbean-2025.events.yaml"
    assert files == {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in (BASELINE, seeds)}


@pytest.mark.parametrize("typed, near", [("caribean-2025", "caribbean-2025"),
                                         ("history/pueblo-1986", "history/pueblo-1968"),
                                         ("scenarios/caribbean-2025-chnia.yaml",
                                          "caribbean-2025-china")])
def test_a_near_miss_name_gets_a_hint(typed, near, tmp_path, monkeypatch, capsys):
    """A misspelt shipped name is "file not found" with the shipped name it is close to,
    exit 2, no traceback, nothing written."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", typed, "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert err == f"{typed}: file not found (did you mean '{near}'?)\n"
    assert list(tmp_path.iterdir()) == []


def test_a_name_like_no_shipped_one_gets_no_hint(tmp_path, monkeypatch, capsys):
    """A name close to no shipped scenario is a plain "file not found"."""
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "zzzz"]) == 2
    assert capsys.readouterr().err == "zzzz: file not found\n"


# ------------------------------------------------------------------- card ---

def test_a_complete_card_is_read(variant):
    """Each section is available by name, things_to_try as a tuple of questions; the
    display titles follow the NetLogo info tab's order."""
    card = load_scenario(variant(CARD)).spec.card
    assert card.what_is_it == "A test crisis. It has two sentences."
    assert card.things_to_try == ("What if Russia backs off?",)
    assert [key for key, _ in CARD_SECTIONS] == list(SECTIONS)
    assert dict(CARD_SECTIONS)["what_is_it"] == "What is it?"


def problems_of(path: Path, capsys) -> list[str]:
    """The lines `escsim validate` prints for ``path`` (and that it exits 2)."""
    assert main(["validate", str(path)]) == 2
    return capsys.readouterr().err.splitlines()


def test_card_errors_name_file_line_and_section(variant, capsys):
    """A missing section, an empty one, a blank one, a misspelt one (with a hint), a lone
    string for things_to_try and an empty question are each reported at their line."""
    body = """card:
  what_is_it: ""
  how_it_works: "   "
  how_to_use_itt: Run it.
  things_to_notice:
  things_to_try: What if?
  extending_the_model: Add a navy.
"""
    path = variant(body)
    text = path.read_text()
    lines = problems_of(path, capsys)
    at = {name: f"{path}:{line_of(text, name + ':')}: card.{name}: "
          for name in ("what_is_it", "how_it_works", "how_to_use_itt", "things_to_notice",
                       "things_to_try")}
    assert sorted(lines) == sorted([
        f"{path}:{line_of(text, 'card:')}: card.how_to_use_it: required field is missing",
        at["what_is_it"] + "must not be empty",
        at["how_it_works"] + "must not be empty",
        at["how_to_use_itt"] + "unknown field (did you mean 'how_to_use_it'?)",
        at["things_to_notice"] + "must not be empty",
        at["things_to_try"] + "must be a list of questions, one '- ' line each"])


@pytest.mark.parametrize("questions, message", [
    ("[]", "card.things_to_try: needs at least one question (a list, one '- ' line each)"),
    ('["Why?", " "]', "card.things_to_try[1]: must not be empty"),
    ('["Why?", 3]', "card.things_to_try[1]: must be a valid string, got int 3"),
])
def test_things_to_try_needs_questions(questions, message, variant, capsys):
    """things_to_try is a list of at least one question, none empty, each a text."""
    path = variant(CARD.replace("    - What if Russia backs off?\n", "")
                   .replace("things_to_try:", f"things_to_try: {questions}"))
    line = line_of(path.read_text(), "things_to_try")
    assert problems_of(path, capsys) == [f"{path}:{line}: {message}"]


def test_a_card_is_not_inherited(tmp_path, variant):
    """A variant of a scenario with a card has no card unless it writes its own (an
    inherited card would describe the parent), and its own is the one read."""
    parent = variant(CARD, "parent.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\ntitle: child\n", encoding="utf-8")
    assert load_scenario(parent).spec.card is not None
    assert load_scenario(child).spec.card is None
    child.write_text("extends: parent.yaml\n" + CARD.replace("A test crisis.", "The child."),
                     encoding="utf-8")
    assert load_scenario(child).spec.card.what_is_it == "The child. It has two sentences."


def test_a_card_is_no_parameter(variant):
    """The card's prose is not dumped with the spec, so results folders do not list it
    among the scenario's assumptions."""
    spec = load_scenario(variant(CARD)).spec
    assert spec.card is not None
    assert "card" not in spec.model_dump()


def test_validate_notes_a_missing_card(variant, capsys):
    """`escsim validate` passes a file without a card (exit 0) and says so on stdout; with a
    card there is no note."""
    bare = variant("card: null\n", "bare.yaml")  # whatever the baseline holds
    with_card = variant(CARD, "carded.yaml")
    assert main(["validate", str(bare), str(with_card)]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if "info card" in ln]
    assert notes == [f"note: {bare} has no info card (card:), see docs/teaching.md"]


# --------------------------------------------------------------- listing ---

def own_yaml(path: Path) -> dict:
    """A scenario file read as plain YAML (independently of the loader under test)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_listing_names_titles_and_first_sentences(capsys):
    """`escsim scenarios` lists every teaching scenario once, with its title and the first
    sentence of its card's what_is_it (its description when it has no card), and no
    history case; --all adds each case under its own heading."""
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    teaching = [p for p in SHIPPED_FILES if p.parent.name == "scenarios"]
    for path in teaching:
        data = own_yaml(path)
        assert len(re.findall(rf"^  {re.escape(path.stem)} ", out, re.M)) == 1, path.stem
        if "title" in data:
            assert data["title"] in out
        text = (data.get("card") or {}).get("what_is_it") or data.get("description")
        if text:
            assert first_sentence(text) in flat, path.stem
    assert "history/" not in out
    assert main(["scenarios", "--all"]) == 0
    out_all = capsys.readouterr().out
    head, cases = out_all.split("\nHistorical cases", 1)
    assert "history/" not in head
    for path in SHIPPED_FILES:
        if path.parent.name == "history":
            assert len(re.findall(rf"^  history/{path.stem} ", cases, re.M)) == 1, path.stem
            assert own_yaml(path)["title"] in cases


def test_first_sentence():
    """The first sentence ends at the first full stop, question or exclamation mark
    followed by a space; a text without one is whole; line breaks become spaces."""
    assert first_sentence("A crisis in 2025.\nIt grows. More.") == "A crisis in 2025."
    assert first_sentence("Is it war? Maybe.") == "Is it war?"
    assert first_sentence("version 1.5 of it") == "version 1.5 of it"


# ------------------------------------------------- every shipped card ---

@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_has_a_complete_card(path):
    """Every shipped scenario (teaching scenarios and history cases) carries its own info
    card: the six sections, none empty, each thing to try asking a question. Read as plain YAML, so
    the check does not rest on the schema, and then through the loader."""
    card = own_yaml(path).get("card")
    assert isinstance(card, dict), f"{path.name} has no card"
    assert set(card) == set(SECTIONS), path.name
    for key in SECTIONS:
        values = card[key] if key == "things_to_try" else [card[key]]
        assert isinstance(values, list) and values, (path.name, key)
        assert all(isinstance(v, str) and v.strip() for v in values), (path.name, key)
    assert all("?" in q for q in card["things_to_try"]), path.name  # each asks something
    assert load_scenario(path).spec.card is not None


# ------------------------------------------------------------ packaging ---

def copy_source(dest: Path) -> Path:
    """The files a build reads, copied aside so that building writes nothing in the
    repository (and caches, bytecode and build leftovers stay out)."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc", "*.egg-info")
    for folder in ("sim", "scenarios", "seeds"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    return dest


def build(src: Path, out: Path, editable: bool = False) -> Path:
    """Build a wheel of ``src`` with this environment's setuptools, offline."""
    code = (f"from setuptools import build_meta as b; print(b.build_"
            f"{'editable' if editable else 'wheel'}({str(out)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / proc.stdout.split()[-1]


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_wheel_holds_the_shipped_scenarios_and_they_load_from_it(tmp_path):
    """The wheel holds every module and data file of sim/, and scenarios/ and seeds/ as
    sim/scenarios/ and sim/seeds/ (the baseline with its seed events, every history case
    with its events). Unpacked and used from another folder, with nothing else of the
    package importable, every shipped name loads from the unpacked copy."""
    src = copy_source(tmp_path / "src")
    wheel = build(src, tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = ({f"sim/{f}" for f in files_under(src / "sim")}
                | {f"sim/scenarios/{f}" for f in files_under(src / "scenarios")}
                | {f"sim/seeds/{f}" for f in files_under(src / "seeds")})
    assert expected <= names, sorted(expected - names)
    assert {"sim/scenarios/caribbean-2025.yaml", "sim/seeds/caribbean-2025.events.yaml",
            "sim/scenarios/history/pueblo-1968.yaml",
            "sim/scenarios/history/pueblo-1968.events.yaml"} <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = """
import json, sim
from sim.inputs.library import resolve
from sim.inputs.scenario import load_scenario
from sim.inputs.shipped import shipped
loaded = {n: [str(f) for f in load_scenario(resolve(n)).files] for n in shipped()}
print(json.dumps({"sim": sim.__file__, "loaded": loaded}))
"""
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)
    assert Path(got["sim"]).is_relative_to(site)
    shipped_names = {p.stem if p.parent.name == "scenarios" else f"history/{p.stem}"
                     for p in SHIPPED_FILES}
    assert set(got["loaded"]) == shipped_names
    for files in got["loaded"].values():
        assert all(Path(f).is_relative_to(site / "sim") for f in files), files
    assert set(got["loaded"]["caribbean-2025"]) == {
        str(site / "sim/scenarios/caribbean-2025.yaml"),
        str(site / "sim/seeds/caribbean-2025.events.yaml")}


def test_an_editable_install_finds_the_checkouts_scenarios(tmp_path):
    """Installed editable (what `make` does), the package finds the shipped scenarios in the
    checkout it runs from: the editable wheel is unpacked into a bare site folder, which a
    Python without any other site folder (-S) then imports sim from."""
    src = copy_source(tmp_path / "src")
    wheel = build(src, tmp_path, editable=True)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = f"""
import json, site
site.addsitedir({str(site)!r})
import sim
from sim.inputs.library import resolve
from sim.inputs.shipped import shipped_dir
print(json.dumps([sim.__file__, str(shipped_dir()), str(resolve("history/pueblo-1968"))]))
"""
    proc = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    init, folder, case = json.loads(proc.stdout)
    assert (Path(init), Path(folder), Path(case)) == (
        src / "sim" / "__init__.py", src / "scenarios",
        src / "scenarios" / "history" / "pueblo-1968.yaml")
