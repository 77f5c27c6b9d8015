"""Experiments over parameter sets: sweeps, global sensitivity analysis, scenario discovery.

Each runs thousands of parameter sets as one ensemble on the same engine as
``escsim run --sets`` (per-run parameters, common random numbers), locally or
on Dask, and can be resumed after an interruption.
"""
