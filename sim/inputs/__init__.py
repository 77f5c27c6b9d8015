"""Input layer: the YAML reader, the schema, scenarios, seed events and the action catalogue.

Holds ``yamlio`` (YAML with line numbers), ``schema`` (typed records and their
errors), ``scenario`` (scenario files, ``extends:`` variants), ``events`` (coded
news events that seed a scenario) and ``catalogue`` (``data/actions.yaml``).

Layers, lowest first: bottom <- inputs <- model <- ensemble <- results <- cli,
where the bottom modules are ``sim.errors``, ``sim.limits``, ``sim.stats`` and
``sim.version``. Modules here import only this layer and the bottom. This
file imports nothing, so importing one module of the layer loads no other
(tests/test_layout.py checks all of this).
"""
