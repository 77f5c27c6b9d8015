"""The seed events are faithful to the article and to the catalogue."""

from __future__ import annotations

import pytest
import yaml

from sim.errors import InputError
from sim.inputs import catalogue, events
from tests.conftest import ROOT

SEEDS = ROOT / "seeds" / "caribbean-2025.events.yaml"
ARTICLE = (ROOT / "seeds" / "article.txt").read_text(encoding="utf-8")


def raw_events():
    return yaml.safe_load(SEEDS.read_text(encoding="utf-8"))["events"]


def test_every_quote_occurs_verbatim_in_the_article():
    for ev in raw_events():
        assert ev["quote"] in ARTICLE, ev["id"]


def test_schedule_quotes_occur_in_the_article(baseline):
    for ev in baseline.spec.schedule:
        assert ev.quote and ev.quote in ARTICLE


def test_codes_and_weights_agree_with_the_catalogue():
    cat = catalogue.load()
    for ev in raw_events():
        action = cat[ev["action"]]
        assert ev["cameo"] == action.cameo, ev["id"]
        assert ev["plover"] == action.plover, ev["id"]
        assert ev["goldstein"] == action.goldstein, ev["id"]
        assert ev["severity"] == {"level": action.level, **action.severity.model_dump()}, ev["id"]


def test_loader_reports_a_code_that_disagrees(tmp_path):
    bad = tmp_path / "events.yaml"
    bad.write_text(SEEDS.read_text(encoding="utf-8").replace('cameo: "1711"', 'cameo: "171"', 1),
                   encoding="utf-8")
    _, problems, _ = events.load(bad)
    assert len(problems) == 1
    assert "events[1].cameo" in str(problems[0]) and "'1711'" in str(problems[0])


def test_the_articles_events_are_all_coded():
    """Every event seeds/article.txt reports (listed below by hand from the text) is in the
    seeds or the schedule."""
    coded = {(ev["actor"], ev["action"]) for ev in raw_events()}
    expected = {
        ("USA", "strike_suspected_traffickers"), ("USA", "seize_tanker"),
        ("USA", "demonstrate_military_power"), ("USA", "make_statement"),
        ("VEN", "criticize_or_denounce"), ("RUS", "consult_by_phone"),
        ("VEN", "consult_by_phone"), ("RUS", "praise_or_endorse"),
        ("RUS", "intent_diplomatic_cooperation"), ("VEN", "intent_diplomatic_cooperation"),
        ("RUS", "criticize_or_denounce"), ("VEN", "request_council_meeting"),
    }
    assert expected <= coded
    seizures = [ev for ev in raw_events() if ev["action"] == "seize_tanker"]
    assert sum(ev.get("count", 1) for ev in seizures) == 2  # "two oil tankers"


def _historical(tmp_path, event_lines):
    """A seed file without a source text whose one event has the given extra lines."""
    path = tmp_path / "case.events.yaml"
    path.write_text("events:\n  - id: e1\n    day: 0\n    actor: USA\n    target: VEN\n"
                    "    action: threaten\n    cameo: \"130\"\n    plover: THREATEN\n"
                    "    goldstein: -4.4\n    severity: {level: 3, mid: 2, ladder: 3, rivera: 4}\n"
                    + "".join(f"    {line}\n" for line in event_lines), encoding="utf-8")
    seeds, problems, doc = events.load(path)
    return problems + events.check_quotes(seeds, doc, tmp_path)


def test_a_file_without_source_needs_a_url_not_a_quote(tmp_path):
    """Historical cases have no article: an event with a url and no quote is accepted."""
    assert _historical(tmp_path, ["url: https://digitallibrary.un.org/record/1"]) == []


def test_a_file_without_source_reports_an_event_without_url(tmp_path):
    """Without a source text, an event with neither url nor quote is one problem at its line."""
    problems = _historical(tmp_path, [])
    assert len(problems) == 1
    assert ":2: events[0]: an event needs a 'url'" in str(problems[0])


def test_a_url_must_be_a_web_address(tmp_path):
    """A url that is not an http(s) address is refused with the field's path."""
    with pytest.raises(InputError) as exc:
        _historical(tmp_path, ["url: digitallibrary.un.org"])
    assert "events[0].url" in str(exc.value)


def test_a_file_with_source_still_needs_a_quote(tmp_path):
    """The article's checks stay: with a source text, an event without a quote is reported."""
    bad = tmp_path / "events.yaml"
    text = SEEDS.read_text(encoding="utf-8")
    first = text.index("    quote: ")
    bad.write_text(text[:first] + text[text.index("\n", first) + 1:], encoding="utf-8")
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    seeds, problems, doc = events.load(bad)
    problems += events.check_quotes(seeds, doc, tmp_path)
    assert len(problems) == 1 and "events[0]: an event needs a 'quote'" in str(problems[0])
