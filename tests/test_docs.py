"""The docs say what the code does: parameter paths and their ranges, capabilities blocks."""

from __future__ import annotations

import re

import pytest

from sim.errors import InputError
from sim.inputs.scenario import load_scenario
from sim.model.params import parameter_paths
from tests.conftest import BASELINE, ROOT, SCENARIOS

FORMAT = ROOT / "docs" / "scenario-format.md"


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next one."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def documented_paths() -> dict[str, tuple]:
    """Pattern -> (lo, hi, lo_open, hi_open, integer) from the table in "Parameter paths"."""
    rows = {}
    table = section(FORMAT.read_text(encoding="utf-8"), "Parameter paths")
    for line in table.splitlines():
        match = re.match(r"\| `([^`]+)` \| ([\[(])([\d.]+), ([\d.]+)([\])]) \| (yes|no) \|", line)
        if match:
            path, left, lo, hi, right, whole = match.groups()
            assert path not in rows, f"{path} listed twice"
            rows[path] = (float(lo), float(hi), left == "(", right == ")", whole == "yes")
    return rows


def generalised(scenario) -> dict[str, tuple]:
    """The scenario's parameter paths with actor ids as ``<ID>`` and seat ids as ``<SEAT>``."""
    ids = set(scenario.actor_ids)
    out: dict[str, tuple] = {}
    for name, where in parameter_paths(scenario).items():
        parts = name.split(".")
        pattern = ".".join("<SEAT>" if k and parts[k - 1] == "members" else
                           "<ID>" if part in ids else part for k, part in enumerate(parts))
        bounds = (float(where.lo), float(where.hi), where.lo_open, where.hi_open, where.integer)
        assert out.setdefault(pattern, bounds) == bounds, f"{name}: bounds differ by actor"
        out[pattern] = bounds
    return out


def test_parameter_path_table_is_exactly_the_baselines_paths():
    """docs/scenario-format.md lists every parameter path pattern of the baseline, no other,
    each with the range and whole-number rule that ParameterSets enforces."""
    documented = documented_paths()
    actual = generalised(load_scenario(BASELINE))
    assert set(documented) == set(actual), (set(documented) ^ set(actual))
    for pattern, bounds in actual.items():
        assert documented[pattern] == bounds, pattern


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenarios_paths_are_documented(path):
    """No shipped scenario has a parameter path the table does not list with its range."""
    documented = documented_paths()
    for pattern, bounds in generalised(load_scenario(path)).items():
        assert documented.get(pattern) == bounds, pattern


def test_partial_capabilities_block_is_rejected_as_documented(variant):
    """A capabilities block without naval and economic is refused with one message per
    missing field, the message docs/scenario-format.md quotes; without a block all are 0."""
    partial = variant("actors:\n  CUB: {name: Cuba, kind: state, capabilities: {military: 0.1}}\n")
    with pytest.raises(InputError) as err:
        load_scenario(partial)
    text = str(err.value)
    quoted = "actors.CUB.capabilities.naval: required field is missing"
    assert quoted in text and "actors.CUB.capabilities.economic: required field" in text
    assert "capabilities.military" not in text
    assert quoted in FORMAT.read_text(encoding="utf-8")
    none = load_scenario(variant("actors:\n  CUB: {name: Cuba, kind: state}\n", "none.yaml"))
    caps = none.spec.actors["CUB"].capabilities
    assert (caps.military, caps.naval, caps.economic) == (0.0, 0.0, 0.0)
