"""`escsim handout`: role briefs, prediction sheet, debrief worksheet and info card, derived
from the scenario file, printed to PDF by a real headless Chromium.

The browser test finds Chromium as the report tests do (tests/conftest.py): ESCSIM_CHROMIUM,
one on PATH, Playwright's own, or a skip saying why (a failure with ESCSIM_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.classroom import handout
from sim.inputs.scenario import CARD_SECTIONS, load_scenario
from tests.conftest import BASELINE, ROOT, find_browser, launch_browser, no_browser, run_cli

FINLAND = ROOT / "scenarios" / "history" / "finland-1961.yaml"

CARD = """
card:
  what_is_it: A test crisis about seized tankers.
  how_it_works: Every actor weighs its aims against the cost of escalation.
  how_to_use_it: Hand out the briefs, predict, play, debrief.
  things_to_notice: Watch the Council's vetoes.
  things_to_try:
    - What if Russia stayed home?
    - What if the tankers were released?
  extending_the_model: Add Colombia as a neighbour.
"""


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces folded."""
    blocks = re.sub(r"</?(p|li|h\d|td|th|tr|br|div|pre|ul|ol|section)\b[^>]*>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def brief_text(page: str, aid: str) -> str:
    """The text of actor ``aid``'s role brief."""
    match = re.search(rf'<section class="page brief" id="brief-{aid}".*?</section>', page, re.S)
    assert match, aid
    return text_of(match.group(0))


def render(path: Path) -> str:
    return handout.render(load_scenario(path))


def handout_cli(scenario, out: Path, *args, env=None):
    """Run `escsim handout` with ``env`` added to the environment; return the process."""
    return subprocess.run([sys.executable, "-m", "sim", "handout", str(scenario), "--out",
                           str(out), *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def printed_path(proc, what: str = "handout") -> Path:
    match = re.search(rf"^{what}: (.+)$", proc.stdout, re.M)
    assert match, proc.stdout + proc.stderr
    return Path(match.group(1))


def test_the_page_holds_every_brief_the_prediction_sheet_the_worksheet_and_the_card(
        variant, tmp_path):
    """One command writes one HTML page with a brief per actor, the prediction sheet, the
    Thiagarajan worksheet and the scenario's own card, plus a manifest hashing the inputs."""
    path = variant(CARD)
    proc = handout_cli(path, tmp_path / "out", "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    page_path = printed_path(proc)
    assert page_path.name == "handout.html" and page_path.parent.name.startswith("handout-")
    assert page_path.parent.parent == tmp_path / "out" / "variant"
    assert sorted(p.name for p in page_path.parent.iterdir()) == ["handout.html",
                                                                   "manifest.json"]
    page = page_path.read_text(encoding="utf-8")
    scenario = load_scenario(path)
    for aid, actor in scenario.spec.actors.items():
        assert f"Role brief: {actor.name} ({aid})" in brief_text(page, aid)
    text = text_of(page)
    assert "Prediction sheet" in text and "Debrief worksheet" in text
    for phase in ("How do you feel?", "What happened?", "What did you learn?",
                  "How does it relate?", "What if?", "What next?"):
        assert phase in text
    assert "Thiagarajan, S. (1992). Using games for debriefing." in text
    card = text_of(re.search(r'<section class="page" id="info-card">.*?</section>', page,
                             re.S).group(0))
    for _, title in CARD_SECTIONS:
        assert title in card
    for line in ("A test crisis about seized tankers.", "What if Russia stayed home?",
                 "What if the tankers were released?", "Add Colombia as a neighbour."):
        assert line in card
    # self-contained: no script, no stylesheet or image fetched from anywhere
    assert "<script" not in page and "<link" not in page and "<img" not in page
    manifest = json.loads((page_path.parent / "manifest.json").read_text())
    assert manifest["scenario_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["pdf"] == {"file": None, "reason": "--no-pdf"}
    assert manifest["command"][-1] == "--no-pdf"


def test_a_file_without_a_card_says_so(variant):
    """A user's scenario may have no card (a variant does not inherit its parent's): the
    handout says so instead of an empty section."""
    page = render(variant("title: No card\n"))
    card = text_of(re.search(r'id="info-card">.*?</section>', page, re.S).group(0))
    assert "has no info card (card:)" in card
    assert not any(title in card for _, title in CARD_SECTIONS)


def test_decision_parameters_are_put_into_words_that_follow_them(variant):
    """Change resolve, risk aversion or reach and the brief's words change with the number
    (bands: low below 0.4, high from 0.6 for resolve; docs/handout.md)."""
    base = brief_text(render(BASELINE), "USA")
    assert "Resolve: high (0.7): the costs of escalation weigh little on you" in base
    changed = brief_text(render(variant("actors: {USA: {resolve: 0.2, risk_aversion: 2.0}, "
                                        "RUS: {capabilities: {reach: 0.9}}}")), "USA")
    assert "Resolve: low (0.2): the costs of escalation weigh heavily on you" in changed
    assert "Risk aversion: high (2): you fear war" in changed
    assert "Risk aversion: moderate (0.6)" in base
    rus = brief_text(render(variant("actors: {RUS: {capabilities: {reach: 0.9}}}")), "RUS")
    assert "Reach: high (0.9): 90% of your military strength counts" in rus
    assert "Reach: low (0.15): 15% of your military strength counts" in brief_text(
        render(BASELINE), "RUS")


def test_roles_come_from_aims_and_commitments_not_from_ids(variant):
    """Roles follow pressure and commitments: with the aims turned round (Russia presses the
    US, the US presses no one), Russia's brief is a coercer's and the US's a target's; a state
    with a commitment to no pressed state is a bystander."""
    base = render(BASELINE)
    assert "Your role: coercer (pressing Venezuela)" in brief_text(base, "USA")
    assert "Your role: target (pressed by United States)" in brief_text(base, "VEN")
    assert "Your role: patron (backing Venezuela)" in brief_text(base, "RUS")
    assert "Your role: the Council" in brief_text(base, "UNSC")
    page = render(variant("actors: {USA: {pressure: {VEN: null}}, RUS: {pressure: {USA: 0.8}}}"))
    rus, usa, ven = (brief_text(page, a) for a in ("RUS", "USA", "VEN"))
    assert "Your role: coercer (pressing United States)" in rus
    assert "You demand that United States change course: your pressure on it is strong (0.8" \
        in rus
    assert "Your role: target (pressed by Russia)" in usa
    assert "Target: your government still stands at the end and you have not yielded to " \
        "Russia" in usa
    assert "Do not yield to Russia" in usa
    assert "Your role: bystander" in ven  # its commitment is to Russia, which no one presses


def test_commitments_give_aims_red_lines_and_the_patrons_win(variant):
    """A commitment is a promise to back the ally, a red line against harming it, and, for
    the patron of a pressed state, a win defined as the ally holding out without a
    great-power confrontation (the scenario's pair includes the patron)."""
    rus = brief_text(render(BASELINE), "RUS")
    assert "You promised to back Venezuela, moderately (commitment 0.5)" in rus
    assert "it is pressed by United States" in rus
    assert "Never act against Venezuela" in rus
    assert "Patron: Venezuela keeps its government and does not yield, without a great-power " \
        "confrontation" in rus
    firm = brief_text(render(variant("actors: {RUS: {commitments: {VEN: 0.9}}}")), "RUS")
    assert "You promised to back Venezuela, strongly (commitment 0.9)" in firm


def test_a_threat_made_before_day_0_binds_for_the_scenarios_threat_days(tmp_path):
    """The Soviet note of day 0 is a threat: it binds until day 30 under the default 30
    threat days, and until day 10 when the scenario's memory says 10."""
    page = render(FINLAND)
    assert "Your public threat against Finland (day 0) binds until day 30" in brief_text(
        page, "USSR")
    assert "Soviet Union's public threat against you (day 0) binds until day 30" in brief_text(
        page, "FIN")
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {FINLAND}\nmemory: {{threat_days: 10}}\n")
    assert "binds until day 10" in brief_text(render(short), "USSR")


def test_moves_follow_the_catalogue_and_the_actors_means(variant):
    """Moves come from the catalogue: a weak navy cannot blockade (listed as beyond its
    means, with the capability needed), only a target may yield, only a permanent member
    may veto, and a stronger navy brings the blockade into the menu."""
    page = render(BASELINE)
    ven, usa, unsc = (brief_text(page, a) for a in ("VEN", "USA", "UNSC"))
    moves = re.compile(r"Your moves(.*?)(Beyond your means|$)")
    assert "impose a naval blockade → a state" in moves.search(usa).group(1)
    assert "impose a naval blockade (naval 0.6)" in ven  # Venezuela's navy is 0.05
    assert "comply with the target's demands (yield)" in ven
    assert "comply with the target's demands" not in usa
    assert "veto a Security Council draft resolution" in usa
    assert "veto a Security Council draft resolution" not in ven
    assert "convene a Security Council meeting → no one" in unsc
    assert "airstrike" not in moves.search(unsc).group(1)
    navy = brief_text(render(variant("actors: {VEN: {capabilities: {naval: 0.7}}}")), "VEN")
    assert "impose a naval blockade → a state" in moves.search(navy).group(1)


def test_the_council_brief_names_its_vetoes(variant):
    """The Council's brief gives the votes a draft needs and each permanent member's veto:
    an agent vetoes for itself and its allies, another seat with its stated chance."""
    unsc = brief_text(render(BASELINE), "UNSC")
    assert "adopted with 9 yes votes of the 15 members sitting on day 1 and no veto" in unsc
    assert "Russia votes by its own decision rule: vetoes a draft against itself or its ally " \
        "Venezuela" in unsc
    assert "CHN vetoes a draft it does not vote for with chance 0% (80% if the draft targets " \
        "Venezuela)" in unsc
    changed = brief_text(render(variant(
        "actors: {UNSC: {council: {votes_to_pass: 7, members: {CHN: "
        "{veto_probability_by_target: {VEN: 0.25}}}}}}")), "UNSC")
    assert "adopted with 7 yes votes" in changed
    assert "(25% if the draft targets Venezuela)" in changed


def test_the_prediction_sheet_states_the_thresholds_and_its_csv_reads_back(variant, tmp_path):
    """The outcome classes are described with the scenario's thresholds, and the CSV the
    sheet tells the teacher to type is one `escsim debrief --predictions` accepts."""
    from sim.classroom.predictions import read_sheet
    page = render(variant("outcomes: {war: {casualties: 500}, militarized_clash: "
                          "{min_level: 5}}"))
    sheet = re.search(r'id="prediction-sheet">.*?</section>', page, re.S).group(0)
    text = text_of(sheet)
    assert "rung 7 (war) against another, or 500 deaths in all" in text
    assert "some state reaches rung 5 (coercive use of force short of combat with state " \
        "forces) or above" in text
    assert "United States and Russia reach rung 4 (display of force)" in text
    csv_text = html.unescape(re.search(r"<pre>(.*?)</pre>", sheet, re.S).group(1))
    (tmp_path / "class.csv").write_text(csv_text + "\n", encoding="utf-8")
    read = read_sheet(tmp_path / "class.csv")
    assert read.names == ["Ana"] and read.p.sum() == pytest.approx(1.0)
    assert "cannot happen here" in text_of(render(variant(
        "outcomes: {great_power_confrontation: null}")))


def test_a_bad_scenario_is_refused_and_writes_nothing(tmp_path):
    """A scenario with an error gives FILE:LINE: field: message, exit 2 and no folder."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nactors: {{USA: {{resolve: 7}}}}\n")
    proc = run_cli("handout", bad, "--out", tmp_path / "out", "--no-pdf")
    assert proc.returncode == 2
    assert re.search(r"bad\.yaml:2: actors\.USA\.resolve: ", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_pdf_without_a_browser_is_an_error_and_auto_mode_says_why(tmp_path):
    """--pdf with no usable Chromium: exit 2, one clear line, nothing written; without
    --pdf the HTML is written and stderr says why there is no PDF."""
    missing = {"ESCSIM_CHROMIUM": str(tmp_path / "no-such-chromium")}
    proc = handout_cli(BASELINE, tmp_path / "out", "--pdf", env=missing)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"escsim: --pdf: ESCSIM_CHROMIUM={tmp_path}/no-such-chromium "
                                   "is not an executable file; nothing was written")
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty-path"
    empty.mkdir()
    proc = handout_cli(BASELINE, tmp_path / "out", env={"PATH": str(empty),
                                                        "ESCSIM_CHROMIUM": ""})
    assert proc.returncode == 0, proc.stderr
    assert "note: no PDF was made: no headless Chromium found" in proc.stderr
    folder = printed_path(proc).parent
    assert sorted(p.name for p in folder.iterdir()) == ["handout.html", "manifest.json"]
    assert "no headless Chromium found" in json.loads(
        (folder / "manifest.json").read_text())["pdf"]["reason"]


def test_a_browser_that_fails_to_print_leaves_nothing_with_pdf(tmp_path):
    """A Chromium that exits with an error: with --pdf, exit 2 and no folder; in auto mode,
    the HTML alone, and the note names the browser's exit status."""
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    broken.chmod(0o755)
    env = {"ESCSIM_CHROMIUM": str(broken)}
    proc = handout_cli(BASELINE, tmp_path / "out", "--pdf", env=env)
    assert proc.returncode == 2
    assert f"{broken} exited with status 3: cannot open display" in proc.stderr
    assert not (tmp_path / "out").exists()
    proc = handout_cli(BASELINE, tmp_path / "out", env=env)
    assert proc.returncode == 0
    assert "exited with status 3" in proc.stderr
    assert not (printed_path(proc).parent / "handout.pdf").exists()


def test_a_browser_that_hangs_is_stopped_with_its_children(tmp_path):
    """A Chromium that does not finish within the timeout is stopped, its child processes
    too (the whole process group), and the print reports the timeout."""
    pidfile = tmp_path / "child.pid"
    hang = tmp_path / "chromium"
    hang.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pidfile}\nwait\n")
    hang.chmod(0o755)
    (tmp_path / "page.html").write_text("<p>x</p>")
    why = handout.print_pdf(str(hang), tmp_path / "page.html", tmp_path / "page.pdf",
                            timeout=2)
    assert why == f"{hang} did not print within 2 s"
    child = int(pidfile.read_text())
    for _ in range(50):  # the child is killed; init reaps it a moment later
        status = Path(f"/proc/{child}/status")
        if not status.exists() or "State:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child {child} of the hung browser still runs")
    assert not (tmp_path / "page.pdf").exists()


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is missing (python -m pip install -e '.[dev]')")
    with sync_playwright() as p:
        path = find_browser(p)
        browser = launch_browser(p)  # skips (fails in CI) when no browser starts
        yield path, browser
        browser.close()


def test_handouts_render_in_headless_chromium_and_print_every_brief(chromium, tmp_path):
    """The issue's check: the page opens in Chromium with no error and no request outside
    it, fits the screen, and the PDF escsim prints holds every role's brief, each starting
    on a new page."""
    from pypdf import PdfReader
    path, browser = chromium
    proc = handout_cli(BASELINE, tmp_path, "--pdf", env={"ESCSIM_CHROMIUM": path})
    assert proc.returncode == 0, proc.stderr
    page_path, pdf = printed_path(proc), printed_path(proc, "pdf")
    page = browser.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: errors.append(req.url)
            if not req.url.startswith("file:") else None)
    page.goto(page_path.absolute().as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.close()
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages]
    scenario = load_scenario(BASELINE)
    starts = [text.split(" Your role")[0] for text in pages]
    for aid, actor in scenario.spec.actors.items():
        assert f"Role brief: {actor.name} ({aid})" in starts, (aid, starts)
    assert any(text.startswith("Prediction sheet") for text in pages)
    assert any(text.startswith("Debrief worksheet") for text in pages)

