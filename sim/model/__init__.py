"""Model layer: one crisis as a Mesa model, its agents, outcomes, random streams and rules.

Holds ``model`` (``EscalationModel``), ``agents`` (states and the Council),
``decision`` (the logit rule), ``kernels`` (the compiled day), ``rng`` (random
streams), ``outcomes`` (thresholds and outcome tracking) and ``story`` (one
run told day by day).

Layers, lowest first: inputs <- model <- ensemble <- results <- cli. Modules here
import only this layer, ``sim.inputs`` and the bottom modules (``sim.errors``,
``sim.limits``, ``sim.stats``). This file imports nothing: the results layer
reads constants from ``sim.model.outcomes`` without loading Mesa or numba.
"""
