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
        for name in model.model_fields:
            pattern = rf"`([\w\[\]]+\.)*{name}[`.]"  # `name`, `parent.name` or `name.child`
            assert re.search(pattern, doc), f"{model.__name__}.{name}"
