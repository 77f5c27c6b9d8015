"""Ensemble layer: many runs of a scenario, in chunks, on processes or Dask, and their tallies.

Holds ``engine`` (a chunk of runs stepped together), ``montecarlo`` (the
ensemble and its resource checks), ``aggregate`` (mergeable counts and
trajectories), ``backends`` and ``dask_backend`` (where chunks run) and
``progress`` (the progress display).

Layers, lowest first: inputs <- model <- ensemble <- results <- cli. Modules here
import only this layer, ``sim.model``, ``sim.inputs`` and the bottom modules
(``sim.errors``, ``sim.limits``, ``sim.stats``). This file imports nothing.
"""
