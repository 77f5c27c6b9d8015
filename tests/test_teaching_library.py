"""The teaching library: each variant validates, carries its own card, and moves the outcome
mix of the baseline the way its story says, on common random numbers; the fictional crisis
names no real country."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from sim.ensemble.montecarlo import simulate
from sim.inputs import catalogue
from sim.inputs.scenario import load_scenario
from sim.model.outcomes import OUTCOMES, THRESHOLDS
from tests.conftest import BASELINE, ROOT, run_cli

SCENARIOS = ROOT / "scenarios"
FICTION = SCENARIOS / "fictional-strait.yaml"
FICTION_SEEDS = ROOT / "seeds" / "fictional-strait.events.yaml"
FICTION_SOURCE = ROOT / "seeds" / "fictional-strait.txt"
NEW = [SCENARIOS / f"caribbean-2025-{name}.yaml" for name in
       ("russian-navy", "tankers-released", "council-mediation", "restrained-us")] + [FICTION]

RUNS = 1000
SEED = 20251222  # the baseline's own seed; run r of every variant draws the same numbers
REAL_NAMES = re.compile(r"\b(?:united states|venezuela|russia|caracas|washington|moscow)"
                        r"|\b(?:usa|ven|rus)\b", re.IGNORECASE)
"""The real crisis's countries, capitals and actor ids (prefixes catch 'Russian',
'Venezuelan'; the ids only as whole words, so 'events' or 'trust' do not match)."""


def fought(results) -> np.ndarray:
    """Per run, 1 when some state pair reached a clash (the militarized-clash threshold)."""
    return (results.first[:, THRESHOLDS.index("militarized_clash")] >= 0).astype(int)


def calm(results) -> np.ndarray:
    """Per run, 1 when the run ended de-escalated."""
    return (results.outcome == OUTCOMES.index("de-escalated")).astype(int)


def coerced(results) -> np.ndarray:
    """Per run, 1 when the coercer's aim was reached (the target yielded or fell)."""
    return (results.success[:, 0] >= 0).astype(int)


@pytest.fixture(scope="module")
def base_results():
    return simulate(load_scenario(BASELINE), runs=RUNS, seed=SEED)


def paired_shift(variant, base, measure) -> tuple[float, float]:
    """Mean paired difference (variant - baseline) of a per-run indicator and its standard
    error: run r of both used the same random numbers, so the pairs share their luck."""
    d = measure(variant) - measure(base)
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def test_every_new_scenario_validates():
    """`escsim validate` accepts every new scenario with its seeds, without the note that
    a card is missing."""
    proc = run_cli("validate", *NEW, check=0)
    assert proc.stdout.count(": ok (") == len(NEW), proc.stdout
    assert "no info card" not in proc.stdout + proc.stderr


def test_every_variant_describes_itself():
    """A card is not inherited, so each variant carries its own: no section of a variant's
    card repeats the baseline's."""
    base = load_scenario(BASELINE).spec.card
    for path in NEW:
        card = load_scenario(path).spec.card
        assert card is not None, path.name
        for key in ("what_is_it", "how_it_works", "things_to_notice"):
            assert getattr(card, key) != getattr(base, key), (path.name, key)


# (variant, measure, expected sign of variant - baseline, why)
DIRECTIONS = [
    ("russian-navy", fought, -1, "a patron's force in the theatre deters (Huth 1988)"),
    ("russian-navy", coerced, -1, "the coercer gets its way less often against a backed target"),
    ("tankers-released", calm, +1, "a concession answered in kind calms the pair (reciprocity)"),
    ("council-mediation", fought, -1, "restraint and good offices make escalation costlier"),
    ("restrained-us", fought, -1, "a coercer with less resolve and aim and more fear of war"),
    ("restrained-us", calm, +1, "the same, seen in the runs that end calm"),
]


@pytest.mark.parametrize(("name", "measure", "sign", "why"), DIRECTIONS,
                         ids=[f"{d[0]}-{d[1].__name__}" for d in DIRECTIONS])
def test_variant_moves_the_outcome_mix_as_its_story_says(base_results, name, measure, sign,
                                                         why):
    """Against the baseline on the same 1,000 runs, the variant shifts the share in the
    direction its card claims, by more than 3 standard errors of the paired difference."""
    variant = simulate(load_scenario(SCENARIOS / f"caribbean-2025-{name}.yaml"),
                       runs=RUNS, seed=SEED)
    shift, se = paired_shift(variant, base_results, measure)
    assert se > 0, "no run differs: the variant changes nothing"
    assert sign * shift > 3 * se, f"{name}: {measure.__name__} moved {shift:+.3f} (se {se:.3f})"


def test_the_fiction_names_no_real_country():
    """The fictional crisis's scenario, seed events and bulletin name none of the real
    crisis's countries, capitals or actor ids, so students cannot map it onto the news."""
    for path in (FICTION, FICTION_SEEDS, FICTION_SOURCE):
        found = REAL_NAMES.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"


def test_the_name_check_would_catch_a_real_name():
    """The pattern above finds the real names in the real baseline (so an empty result for
    the fiction means something) and ignores words that merely contain an id."""
    assert {m.lower() for m in REAL_NAMES.findall(BASELINE.read_text(encoding="utf-8"))} >= {
        "usa", "ven", "rus", "united states", "venezuela", "russia"}
    assert not REAL_NAMES.findall("seven events of trust in the usage")


def test_the_fictions_events_are_coded_from_its_bulletin():
    """Every seed quote and the scheduled meeting's quote occur verbatim in the invented
    bulletin, and every event repeats its catalogue action's codes, as the real seeds do."""
    text = FICTION_SOURCE.read_text(encoding="utf-8")
    assert "fiction" in text.splitlines()[1].lower()
    cat = catalogue.load()
    for ev in yaml.safe_load(FICTION_SEEDS.read_text(encoding="utf-8"))["events"]:
        assert ev["quote"] in text, ev["id"]
        action = cat[ev["action"]]
        assert (ev["cameo"], ev["plover"], ev["goldstein"]) == (
            action.cameo, action.plover, action.goldstein), ev["id"]
        assert ev["severity"] == {"level": action.level, **action.severity.model_dump()}, ev["id"]
    for ev in load_scenario(FICTION).spec.schedule:
        assert ev.quote in text
