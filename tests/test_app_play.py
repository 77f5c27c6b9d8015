"""The Play page in a real browser, offline: a role played day by day with the terminal game's
menu, undo, resolve, save, the model finishing, and the debrief page.

Uses tests/app_harness.py: a real ``escsim app`` process and headless Chromium with every
request to another host aborted (a loud skip without a browser, a failure in CI).
"""

from __future__ import annotations

import re

import pytest

from sim.classroom.game import Game
from sim.model.story import outcome_lines
from tests.app_harness import browser, offline_context, open_page, serve, stop  # noqa: F401

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms


def test_a_game_played_on_the_page_is_the_game_its_file_replays(browser, tmp_path):  # noqa: F811
    """Start a 4-day game, choose a move from a folded rung, undo it, choose it again and
    resolve; leave day 2 to the model's rule; save; let the model finish. The saved game
    file holds exactly the page's one decision, replays to the outcome the page shows, and
    the debrief page is made through the queue and shown."""
    url, proc = serve(tmp_path)
    context, external = offline_context(browser)
    page = open_page(context, url + "play")
    page.fill(".escsim-days input", "4")
    page.click(".escsim-start")
    page.wait_for_selector("text=Your moves for day 1", timeout=WAIT)

    moves = page.locator(".escsim-move")
    assert moves.count() == 1  # only holding is in view: every rung starts folded
    page.locator(".escsim-rung").first.click()
    chosen = moves.nth(1)
    chosen.wait_for(timeout=WAIT)
    text = re.sub(r"^\d+\. ", "", chosen.inner_text().strip())
    chosen.click()
    page.wait_for_selector(".escsim-chosen", timeout=WAIT)
    page.click(".escsim-undo")
    page.wait_for_selector(".escsim-chosen", state="detached", timeout=WAIT)
    page.locator(".escsim-move").nth(1).click()
    page.wait_for_selector(f".escsim-chosen:has-text('{text}')", timeout=WAIT)
    page.click(".escsim-resolve")
    page.wait_for_selector("text=Your moves for day 2", timeout=WAIT)
    page.click(".escsim-resolve")  # no choice: the model's rule moves the role
    page.wait_for_selector("text=Your moves for day 3", timeout=WAIT)
    page.click(".escsim-save")
    page.wait_for_selector("text=end of day 2", timeout=WAIT)
    page.click(".escsim-finish")
    page.wait_for_selector(".escsim-ending", timeout=WAIT)
    shown = page.inner_text(".escsim-ending")

    (path,) = (tmp_path / "outputs" / "app" / "games").glob("*.yaml")
    game = Game.load(path)
    assert game.finished and game.day == 4
    (decision,) = game.human_decisions()
    model = game.model
    assert decision.day == 1 and decision.actor == game.humans[0]
    assert text == model.catalogue[decision.action].name + (
        f" -> {decision.target}" if decision.target else "")
    for line in outcome_lines(model, model.summary()):
        assert line.strip() in shown

    page.fill(".escsim-debrief-runs input", "20")
    page.click(".escsim-debrief")
    frame = page.wait_for_selector(".escsim-debrief-page", timeout=60_000)
    assert "Debrief" in frame.get_attribute("srcdoc")
    assert external == [] and page.errors == []
    context.close()
    stop(proc)
