"""Smoke test over every shipped scenario: it validates and a few runs complete."""

from __future__ import annotations

import datetime
import re

import pytest
import yaml

from sim.ensemble.montecarlo import simulate
from sim.inputs.scenario import load_scenario
from sim.model.outcomes import OUTCOMES
from tests.conftest import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_loads_and_runs(path):
    scenario = load_scenario(path)
    results = simulate(scenario, runs=20, seed=0, days=15)
    assert results.n_runs == 20
    assert results.index_by_day.shape == (20, 16)
    assert set(results.outcome_counts()) == set(OUTCOMES)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_parameter_line_says_where_it_comes_from(path):
    """Each line setting a number carries a comment (a source, or 'assumption'),
    unless it inherits the comment of the baseline it extends."""
    def numeric(value) -> bool:
        if isinstance(value, dict):
            return any(numeric(v) for v in value.values())
        if isinstance(value, list):
            return any(numeric(v) for v in value)
        return isinstance(value, int | float | datetime.date) and not isinstance(value, bool)

    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        code = line.split("#", 1)[0]
        if ":" not in code or code.strip().startswith("- "):
            continue
        try:
            value = yaml.safe_load(code.split(":", 1)[1])
        except yaml.YAMLError:
            continue
        if numeric(value):
            assert "#" in line, f"{path.name}:{n} has no comment: {line.strip()}"


def test_adding_an_actor_is_a_yaml_change():
    scenario = load_scenario(next(p for p in SCENARIOS if p.name == "caribbean-2025-china.yaml"))
    assert "CHN" in scenario.spec.actors
    results = simulate(scenario, runs=50, seed=0, days=20)
    assert ("CHN" in results.actor_ids) and results.peak.shape[1] == 5


def test_scenario_format_doc_covers_every_field():
    """docs/scenario-format.md names every field a scenario may hold (docs cannot drift)."""
    import typing

    from pydantic import BaseModel

    from sim.inputs.scenario import ScenarioSpec
    doc = (SCENARIOS[0].parent.parent / "docs" / "scenario-format.md").read_text()

    def models(tp, seen):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                seen.add(tp)
                for field in tp.model_fields.values():
                    models(field.annotation, seen)
        for arg in typing.get_args(tp):
            models(arg, seen)
        return seen

    for model in models(ScenarioSpec, set()):
        for field_name, field in model.model_fields.items():
            name = field.alias or field_name  # `from`, not the attribute from_
            pattern = rf"`([\w\[\]]+\.)*{name}[`.]"  # `name`, `parent.name` or `name.child`
            assert re.search(pattern, doc), f"{model.__name__}.{name}"


def _preset_values() -> dict:
    """The presets file read as plain YAML (independently of the loader under test)."""
    path = SCENARIOS[0].parent.parent / "sim" / "inputs" / "data" / "presets.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["presets"]


def test_presets_cover_the_roles_and_say_where_each_value_comes_from():
    """Each of the four roles sets all six decision parameters, each on a line that says
    whether it is fitted on the historical cases or an assumption (with its reason)."""
    presets = _preset_values()
    assert set(presets) == {"coercer", "target", "patron", "bystander"}
    fields = {"resolve", "reciprocity", "risk_aversion", "rationality", "audience_cost",
              "inertia"}
    assert all(set(values) == fields for values in presets.values())
    path = SCENARIOS[0].parent.parent / "sim" / "inputs" / "data" / "presets.yaml"
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s+\w+: [0-9.]+", line):
            assert "# assumption" in line or "# fitted" in line, line


def test_explicit_values_beat_the_preset_and_the_preset_beats_the_default(tmp_path):
    """Precedence (docs/scenario-format.md): a value any file of the extends chain sets,
    then the preset, then the built-in default. The parent sets Russia's resolve; the
    variant names the preset and sets its inertia; the other four come from the preset."""
    from sim.inputs.scenario import load_scenario
    from tests.conftest import BASELINE
    parent = tmp_path / "parent.yaml"
    text = BASELINE.read_text(encoding="utf-8")
    rus = text[text.index("  RUS:"):text.index("  UNSC:")]
    kept = [ln for ln in rus.splitlines(keepends=True)
            if not re.match(r"    (reciprocity|risk_aversion|rationality|audience_cost|"
                            r"inertia|resolve):", ln)]
    kept.insert(3, "    resolve: 0.05          # set by the parent\n")
    parent.write_text(text.replace(rus, "".join(kept)).replace(
        "seed_events: ../", f"seed_events: {BASELINE.parent.parent}/"), encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nactors:\n  RUS:\n    preset: patron\n"
                     "    inertia: 3.5\n", encoding="utf-8")
    scenario = load_scenario(child)
    rus = scenario.spec.actors["RUS"]
    patron = _preset_values()["patron"]
    assert (rus.resolve, rus.inertia) == (0.05, 3.5)
    for field in ("reciprocity", "risk_aversion", "rationality", "audience_cost"):
        assert getattr(rus, field) == patron[field], field
    presets_file = SCENARIOS[0].parent.parent / "sim" / "inputs" / "data" / "presets.yaml"
    file, line = scenario.where[("actors", "RUS", "risk_aversion")]
    assert file.resolve() == presets_file.resolve()
    assert "risk_aversion" in presets_file.read_text(encoding="utf-8").splitlines()[line - 1]
    # the same file without the preset keeps the built-in defaults
    child.write_text("extends: parent.yaml\nactors:\n  RUS:\n    inertia: 3.5\n",
                     encoding="utf-8")
    assert load_scenario(child).spec.actors["RUS"].risk_aversion == 0.5


def test_baseline_council_seats_change_on_1_january():
    """The baseline's roster (UN elections of June 2024 and June 2025): five elected seats
    leave after 31 December 2025 (day 9) and five join on 1 January 2026 (day 10), so fifteen
    members sit every day; seat_days() gives the terms in the order of the seat ids."""
    from sim.inputs.scenario import load_scenario
    scenario = load_scenario(SCENARIOS[0].parent / "caribbean-2025.yaml")
    members = scenario.spec.actors["UNSC"].council.members
    days = dict(zip(sorted(members), scenario.seat_days(), strict=True))
    assert {m for m, (_, until) in days.items() if until == 9} == {
        "DZA", "GUY", "KOR", "SLE", "SVN"}
    assert {m for m, (start, _) in days.items() if start == 10} == {
        "BHR", "COL", "COD", "LVA", "LBR"}
    assert all(days[m] == (None, None) for m in ("CHN", "FRA", "GBR", "RUS", "USA"))
    for day in (1, 9, 10, scenario.spec.horizon_days):
        sitting = sum((a is None or a <= day) and (b is None or day <= b)
                      for a, b in days.values())
        assert sitting == 15, day


def test_patrons_far_from_the_theatre_have_little_reach():
    """Russia (and China in its variant) can bring little of their strength to bear in the
    Caribbean; the others keep the default reach of 1."""
    from sim.inputs.scenario import load_scenario
    actors = load_scenario(SCENARIOS[0].parent / "caribbean-2025-china.yaml").spec.actors
    assert actors["RUS"].capabilities.reach <= 0.2 and actors["CHN"].capabilities.reach <= 0.2
    assert actors["USA"].capabilities.reach == actors["VEN"].capabilities.reach == 1.0


def test_old_scenario_files_validate_unchanged(tmp_path):
    """A file in the format before issue 10 (no reach, preset, targets or terms of office)
    still validates, with the defaults that keep the old behaviour: reach 1, targets None,
    every seat open."""
    from sim.inputs.scenario import load_scenario
    from tests.conftest import BASELINE
    text = BASELINE.read_text(encoding="utf-8")
    text = re.sub(r"\n      reach: .*", "", text)
    text = re.sub(r", (from|until): \d{4}-\d{2}-\d{2}", "", text)
    text = re.sub(r"\n        (BHR|COL|COD|LVA|LBR): .*", "", text)
    assert "reach" not in text and "until" not in text
    old = tmp_path / "old.yaml"
    old.write_text(text.replace("seed_events: ../", f"seed_events: {BASELINE.parent.parent}/"),
                   encoding="utf-8")
    scenario = load_scenario(old)
    assert all(a.capabilities.reach == 1.0 and a.targets is None and a.preset is None
               for a in scenario.spec.actors.values())
    assert scenario.seat_days() == [(None, None)] * 15
