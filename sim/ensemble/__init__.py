"""Ensemble layer: many runs of a scenario, in chunks, on processes or Dask, and their tallies.

Holds ``engine`` (a chunk of runs stepped together), ``montecarlo`` (the
ensemble and its resource checks), ``aggregate`` (mergeable counts and
trajectories), ``backends``, ``dask_backend`` and ``runorder`` (where chunks
run, and how far ahead they may start) and ``progress`` (the progress display).

Layers, lowest first: bottom <- inputs <- model <- ensemble <- results <- cli,
where the bottom modules are ``sim.errors``, ``sim.limits``, ``sim.stats`` and
``sim.version``. Modules here import only this layer, the model, the
inputs and the bottom. This file imports nothing (tests/test_layout.py).
"""
