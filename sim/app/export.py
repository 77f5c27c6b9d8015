"""The Explore page's settings as a scenario file: a variant that ``extends:`` the original.

The file names only what the page changed, each value with the comment
``# set on the escsim page``, so a reader sees at once which numbers are the
original's and which were tried; ``escsim run`` and ``escsim compare`` read it
like any variant (docs/scenario-format.md, "Variants"). ``extends:`` names the
original by its file name, relative to the variant as every ``extends:`` is:
the file belongs beside its original.
"""

from __future__ import annotations

import json

from sim.inputs.scenario import Scenario

PROVENANCE = "# set on the escsim page"
"""The comment after every value the page set."""
SEED = "montecarlo.seed"
"""The seed's path: a scenario field, though not a parameter of the model."""


def variant_title(scenario: Scenario) -> str:
    """The exported variant's title: the original's, marked as explored on the page."""
    return f"{scenario.spec.title} (explored on the escsim page)"


def _number(value: float, integer: bool = False) -> str:
    # repr keeps every digit, so the file gives back exactly the value the page ran
    return str(int(value)) if integer else repr(float(value))


def variant_yaml(scenario: Scenario, changes: dict[str, float]) -> str:
    """A scenario file that ``extends:`` ``scenario`` and sets only ``changes``.

    ``changes`` maps parameter paths (``actors.USA.resolve``,
    ``actors.RUS.commitments.VEN``, as ``escsim run --set`` takes them) and
    ``montecarlo.seed`` to their new values; values are nested under their
    path's fields, in the order given. Without changes the file holds only
    ``extends:`` and ``title``.
    """
    tree: dict = {}
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = _number(value, integer=path == SEED)
    # titles are the user's text: a JSON string is a valid YAML double-quoted scalar
    lines = [f"# A variant of {scenario.path.name} saved from escsim's Explore page.",
             "# Everything not named here is inherited from the original.",
             f"extends: {json.dumps(scenario.path.name)}",
             f"title: {json.dumps(variant_title(scenario))}"]

    def emit(node: dict, depth: int):
        for key, value in node.items():
            if isinstance(value, dict):
                lines.append(f"{'  ' * depth}{key}:")
                emit(value, depth + 1)
            else:
                lines.append(f"{'  ' * depth}{key}: {value}  {PROVENANCE}")

    emit(tree, 0)
    return "\n".join(lines) + "\n"
