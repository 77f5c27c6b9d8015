"""The reports in a real browser: headless Chromium opens them, every chart loads, and
printing to PDF gives a readable document.

Needs the ``playwright`` package (a dev dependency) and a Chromium, found as a user's
machine has one: ``ESCSIM_CHROMIUM``, a ``chromium``/``chromium-browser``/``google-chrome``
on PATH, Playwright's own browser, or one ``python -m playwright install chromium`` fetches.
Without one the tests are skipped with the reason in the summary; ``ESCSIM_REQUIRE_BROWSER=1``
(set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import (
    BASELINE,
    SCENARIOS,
    launch_browser,
    no_browser,
    results_folder,
    run_cli,
)

pytestmark = pytest.mark.slow

STRONG = next(p for p in SCENARIOS if p.name == "caribbean-2025-strong-russia.yaml")
CALM = next(p for p in SCENARIOS if p.name == "caribbean-2025-no-airstrikes.yaml")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is missing (python -m pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    run = run_cli("run", BASELINE, "--runs", 200, "--days", 30, "--seed", 3, "--out", out,
                  "--quiet", check=0)
    cmp = run_cli("compare", BASELINE, STRONG, CALM, "--runs", 200, "--days", 30, "--seed", 3,
                  "--out", out, "--quiet", check=0)
    return {"report": results_folder(run) / "report.html",
            "compare": results_folder(cmp) / "compare.html"}


def open_page(browser, path: Path):
    page = browser.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: errors.append(f"failed: {req.url}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


@pytest.mark.parametrize("which, charts", [("report", 6), ("compare", 3)])
def test_every_chart_loads_in_a_real_browser(browser, folders, which, charts):
    page, errors = open_page(browser, folders[which])
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) == charts
    assert all(done and w > 500 and h > 300 for done, w, h in sizes), sizes
    assert errors == []
    # the page fits a screen: no element wider than the viewport forces sideways scrolling
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.close()


@pytest.mark.parametrize("which", ["report", "compare"])
def test_printing_to_pdf_gives_a_readable_document(browser, folders, which, tmp_path):
    from pypdf import PdfReader
    page, _ = open_page(browser, folders[which])
    pdf = tmp_path / f"{which}.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    page.close()
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 3
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    if which == "report":
        for needle in ("US-Venezuela confrontation", "Headline numbers", "How to read this",
                       "Assumptions", "escsim run"):
            assert needle in text, needle
    else:
        for needle in ("Comparison of 3 scenarios", "Robustness", "escsim compare"):
            assert needle in text, needle
