"""Class mode in a real browser, offline: two teams join one class game from two browser
contexts (two students' phones), each sees only its own brief, both commit three days and
the projector shows the moves; a wrong join code is refused.

Uses tests/app_harness.py: a real ``escsim app`` process and headless Chromium with every
request to another host aborted (a loud skip without a browser, a failure in CI).
"""

from __future__ import annotations

import re

import pytest

from tests.app_harness import browser, offline_context, open_page, serve  # noqa: F401

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 390, "height": 844}}
LAPTOP = {"viewport": {"width": 1280, "height": 900}}
WAIT = 30_000  # ms for a page to follow the room (it polls every 0.5 s)


def join(browser, url: str, code: str):  # noqa: F811
    """A team's phone joins with ``code``: (page, external requests)."""
    context, external = offline_context(browser, **PHONE)
    page = open_page(context, url + "class")
    page.fill(".escsim-code input", code)
    page.click(".escsim-join")
    return page, external


def commit_first(page, day: int):
    """Commit the first move of the first rung (hold comes before) for ``day``; its words.
    The page then says the move is committed, or (the last team's commit) shows the next day."""
    page.wait_for_selector(f"text=Your moves for day {day}", timeout=WAIT)
    move = page.locator(".escsim-move").nth(1)
    if not move.is_visible():  # rungs start folded: open the first
        page.locator(".escsim-rung").first.click()
    text = re.sub(r"^\d+\. ", "", move.inner_text().strip())
    move.click()
    page.locator(".escsim-committed").or_(
        page.get_by_text(f"Your moves for day {day + 1}")).wait_for(timeout=WAIT)
    return text


def test_two_teams_play_three_days_and_the_projector_shows_only_public_things(
        browser, tmp_path):  # noqa: F811
    """Each team sees its own brief and never the other's; the count of who is deciding
    follows the commits; after three days the projector tells both teams' moves (days
    told) and shows no brief; no request left the machine."""
    url, proc = serve(tmp_path)
    instructor, external = offline_context(browser, **LAPTOP)
    page = open_page(instructor, proc.banner["instructor"])
    code = re.search(r"Join code: (\w+)", page.inner_text(".escsim-join-code")).group(1)
    page.click(".escsim-roles")
    for role in ("VEN", "USA"):
        page.click(f"div.v-list-item:has-text('{role}')")
    page.keyboard.press("Escape")
    page.click(".escsim-open")
    page.wait_for_selector("text=2 of 2 still deciding", timeout=WAIT)

    ven, ven_external = join(browser, url, code)
    ven.wait_for_selector(".escsim-team", timeout=WAIT)
    usa, usa_external = join(browser, url, code)
    usa.wait_for_selector(".escsim-team", timeout=WAIT)
    assert "VEN" in ven.inner_text(".escsim-team") and "USA" in usa.inner_text(".escsim-team")
    assert ven.inner_text(".escsim-brief").startswith("Your brief (VEN")
    assert usa.inner_text(".escsim-brief").startswith("Your brief (USA")
    assert "Your brief (USA" not in ven.inner_text("body")
    assert "Your brief (VEN" not in usa.inner_text("body")

    projector, projector_external = offline_context(browser, **LAPTOP)
    screen = open_page(projector, url + "projector")
    moves = []
    for day in (1, 2, 3):
        story = screen.inner_text(".escsim-story")
        moves.append(commit_first(ven, day))
        screen.wait_for_selector("text=1 of 2 still deciding", timeout=WAIT)
        assert "VEN: committed" in screen.inner_text(".escsim-deciding")
        assert screen.inner_text(".escsim-story") == story  # VEN's move waits for the day
        moves.append(commit_first(usa, day))
        screen.wait_for_selector(f"text=day {day} of", timeout=WAIT)
    ven.screenshot(path=tmp_path / "ven-phone.png", full_page=True)
    screen.screenshot(path=tmp_path / "projector.png", full_page=True)
    told = screen.inner_text(".escsim-story")
    for move in moves:
        action = move.split(" -> ")[0]
        assert action in told or "hold" in move, (move, told)
    text = screen.inner_text("body")
    assert "Your brief" not in text and "escsim-brief" not in screen.content()
    assert external == ven_external == usa_external == projector_external == []


def test_a_wrong_join_code_is_refused_and_nothing_is_joined(browser, tmp_path):  # noqa: F811
    """A wrong code is refused with a message and the team gets no role; the instructor's
    page still lists every role as free."""
    url, proc = serve(tmp_path)
    instructor, _ = offline_context(browser, **LAPTOP)
    page = open_page(instructor, proc.banner["instructor"])
    page.click(".escsim-roles")
    page.click("div.v-list-item:has-text('VEN')")
    page.keyboard.press("Escape")
    page.click(".escsim-open")
    page.wait_for_selector(".escsim-joined", timeout=WAIT)
    team, _ = join(browser, url, "WRONG7")
    team.wait_for_selector("text=wrong join code", timeout=WAIT)
    assert team.locator(".escsim-team").count() == 0
    assert "free roles: VEN" in page.inner_text(".escsim-joined")
