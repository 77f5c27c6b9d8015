"""The Explore page: its numbers are escsim's, its export is a variant escsim runs.

The model-side tests call the functions the page calls and compare with the
command line; the browser tests (slow) drive a real ``escsim app`` in Chromium
with the network cut (tests/app_harness.py).
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
import yaml

from sim.app import explore
from sim.app.export import PROVENANCE, variant_yaml
from sim.cli import main
from sim.inputs.scenario import load_scenario
from sim.inputs.shipped import shipped_dir
from sim.model.story import tell
from tests.app_harness import browser, offline_context, open_page, serve  # noqa: F401

NAME = "caribbean-2025"
SEED = 11
CHANGES = {"actors.USA.resolve": 0.9, "actors.RUS.commitments.VEN": 0.75}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(shipped_dir() / f"{NAME}.yaml")


@pytest.fixture(scope="module")
def panel(scenario):
    return explore.run_panel(scenario, NAME, CHANGES, SEED)


def cli_summary(tmp_path, *args) -> dict:
    """summary.json of ``escsim run ARGS`` into a fresh folder under ``tmp_path``."""
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    assert main(["run", *map(str, args), "--quiet", "--out", str(out)]) == 0
    (summary,) = out.glob("*/*/summary.json")
    return json.loads(summary.read_text())


def test_panel_numbers_are_escsim_runs(tmp_path, panel):
    """"Run 1,000" gives, for the page's settings and for the scenario as written, the
    summary.json of `escsim run --runs 1000 --seed S [--set PATH=VALUE ...]`, every number."""
    sets = [w for path, v in CHANGES.items() for w in ("--set", f"{path}={v!r}")]
    assert panel["summary"] == cli_summary(tmp_path, NAME, "--runs", 1000, "--seed", SEED,
                                           *sets)
    assert panel["original"] == cli_summary(tmp_path, NAME, "--runs", 1000, "--seed", SEED)
    assert panel["command"].split()[:2] == ["escsim", "run"]


def test_exported_variant_runs_and_compares_like_the_panel(tmp_path, scenario, panel):
    """The page's settings saved as a variant beside its original load, run to the panel's
    numbers, and `escsim compare original variant` finds the panel's paired differences."""
    shutil.copytree(shipped_dir(), tmp_path / "scenarios")
    shutil.copytree(shipped_dir().parent / "seeds", tmp_path / "seeds")
    text = variant_yaml(scenario, {**CHANGES, "montecarlo.seed": SEED})
    path = tmp_path / "scenarios" / "explored.yaml"
    path.write_text(text)
    variant = load_scenario(path)
    assert variant.spec.actors["USA"].resolve == 0.9
    assert variant.spec.actors["RUS"].commitments["VEN"] == 0.75
    assert variant.spec.montecarlo.seed == SEED
    # the seed is in the file: no --seed needed
    got = cli_summary(tmp_path, path, "--runs", 1000)
    assert {k: v for k, v in got.items() if k != "scenario"} == {
        k: v for k, v in panel["summary"].items() if k != "scenario"}
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "scenarios" / f"{NAME}.yaml"), str(path), "--runs",
                 "1000", "--seed", str(SEED), "--quiet", "--out", str(out)]) == 0
    (cmp,) = out.glob("compare/*/comparison.json")
    cmp = json.loads(cmp.read_text())
    for outcome, row in cmp["outcomes"].items():
        assert row["difference"][1] == panel["comparison"]["outcomes"][outcome]["difference"][1]


def test_export_names_only_what_changed(scenario):
    """An unchanged page exports `extends:` and `title` only; a changed value comes with the
    page's provenance comment, nested under its path."""
    assert explore.changed(scenario, explore.scenario_values(scenario)) == {}
    plain = yaml.safe_load(variant_yaml(scenario, {}))
    assert set(plain) == {"extends", "title"}
    assert plain["extends"] == f"{NAME}.yaml"
    text = variant_yaml(scenario, {"actors.VEN.pressure.USA": 0.25})
    assert yaml.safe_load(text)["actors"] == {"VEN": {"pressure": {"USA": 0.25}}}
    (line,) = [x for x in text.splitlines() if "USA: 0.25" in x]
    assert line.endswith(PROVENANCE)


def test_sliders_start_at_the_file_values(scenario):
    """Each state's sliders start at the values written in caribbean-2025.yaml (USA resolve
    0.7, VEN resolve 0.6, rationality 4.0) within the documented ranges; the Council gets none."""
    knobs = {k.path: k for k in explore.knobs(scenario)}
    assert knobs["actors.USA.resolve"].value == 0.7
    assert knobs["actors.VEN.resolve"].value == 0.6
    assert knobs["actors.USA.rationality"].value == 4.0
    assert (knobs["actors.USA.rationality"].lo, knobs["actors.USA.rationality"].hi) == (0, 100)
    assert (knobs["actors.USA.resolve"].lo, knobs["actors.USA.resolve"].hi) == (0, 1)
    assert not any(k.startswith("actors.UNSC.") for k in knobs)
    assert "actors.RUS.commitments.VEN" in knobs and "actors.USA.pressure.VEN" in knobs


def test_crisis_tells_the_story_of_escsim_story(scenario):
    """Stepping the page's crisis to the horizon tells run K as `escsim story` tells it."""
    crisis = explore.Crisis(scenario, {}, SEED, run=3)
    while crisis.step():
        pass
    told = tell(scenario, 3, seed=SEED)
    expected = [line.strip() for line in told.splitlines() if line.startswith("    ")]
    assert [line.strip() for _, lines in crisis.story for line in lines] == expected
    assert crisis.day == scenario.spec.horizon_days


# ------------------------------------------------------------------ in a browser ------

def _image(page, selector: str) -> str:
    return page.locator(f"img{selector}, {selector} img").first.get_attribute("src")


@pytest.mark.slow
def test_page_in_a_browser(tmp_path, browser):  # noqa: F811
    """Offline, on the real server: a slider redraws the chart, Step advances the day and
    the story, and "Run 1,000" shows both charts and escsim run's numbers."""
    url, _ = serve(tmp_path)
    context, external = offline_context(browser, viewport={"width": 1280, "height": 800})
    page = open_page(context, url + "explore", drawn=".escsim-day", timeout=60)
    assert page.inner_text(".escsim-day").startswith("day 0 of 60")
    page.click(".escsim-step")
    page.wait_for_function("document.querySelector('.escsim-day').textContent"
                           ".startsWith('day 1 ')", timeout=20_000)
    assert "day 1" in page.inner_text(".escsim-story")
    before = _image(page, ".escsim-levels")
    # USA's resolve slider: a click near its right end moves it towards the maximum (1.0)
    card = page.locator(".escsim-actor").filter(
        has=page.get_by_text(re.compile(r"^\s*USA\s*$")))
    slider = card.locator(".v-slider").first
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    deadline = time.monotonic() + 20
    while _image(page, ".escsim-levels") == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _image(page, ".escsim-levels") != before
    assert "1 parameters changed" in page.inner_text(".escsim-changed")
    page.click(".escsim-run-panel")
    page.wait_for_selector(".escsim-numbers", timeout=60_000)
    assert page.locator(".escsim-fan img, img.escsim-fan").count() >= 1
    assert page.locator(".escsim-outcomes img, img.escsim-outcomes").count() >= 1
    # the command shown names the slider's new value; escsim run of it is the reference
    command = page.inner_text(".escsim-command").split()
    (setting,) = [w for w in command if w.startswith("actors.USA.resolve=")]
    assert float(setting.partition("=")[2]) > 0.9  # clicked near the slider's end (1.0)
    seed = command[command.index("--seed") + 1]
    want = cli_summary(tmp_path, NAME, "--runs", 1000, "--seed", seed,
                       "--set", setting)["outcomes"]
    for outcome, row in want.items():
        lo, hi = row["ci95"]
        shown = page.inner_text(f'tr[data-outcome="{outcome}"] td[data-col="page"]')
        assert shown == f"{row['probability']:.1%} [{lo:.1%}, {hi:.1%}]"
    assert external == []
    context.close()
