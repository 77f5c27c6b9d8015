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
