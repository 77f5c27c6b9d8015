"""Input limits shared by the scenario schema and the command line.

Kept in a module with no imports, so ``escsim --help`` stays fast and a CLI
flag is checked against the same number as the file field it overrides.
"""

MAX_HORIZON_DAYS = 3650
"""Longest horizon in days (ten years): ``horizon_days`` and ``--days``."""

MAX_RUNS = 100_000_000
"""Most runs of one ensemble: ``montecarlo.runs``, ``--runs`` and ``--max-runs``."""

MAX_WORKERS = 256
"""Most local worker processes for ``--workers`` (each needs about 150 MiB)."""

MAX_PANELS = 24
"""Most panels of a small-multiples chart (pairs of states, actors); past it the chart
shows the highest-ranked ones and says so, and ``escsim validate`` prints a note."""

DEFAULT_KEEP = 20
"""Runs whose day-by-day trajectories are kept by default (``--keep-trajectories``)."""
