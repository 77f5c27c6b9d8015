"""Model layer: one crisis as a Mesa model, its agents, outcomes, random streams and rules.

Holds ``day`` (the crisis day, defined once and compiled), ``model``
(``EscalationModel``, the Mesa model over a batch of runs), ``agents`` (one
Mesa agent per actor), ``params`` (the scenario as arrays; parameter sets),
``rules`` (decision rules: logit, scheduled, external), ``state`` (saved
world states), ``rng`` (random streams), ``outcomes`` (thresholds, state
pairs, classification) and ``story`` (one run told day by day).

Layers, lowest first: bottom <- inputs <- model <- ensemble <- results <- cli,
where the bottom modules are ``sim.errors``, ``sim.limits``, ``sim.stats`` and
``sim.version``. Modules here import only this layer, the inputs and the
bottom. This file imports nothing: the results layer reads constants from
``sim.model.outcomes`` without loading Mesa or numba (tests/test_layout.py).
"""
