"""escsim: agent-based escalation scenario simulator.

The public surface is small: :func:`load_scenario`, :func:`simulate`, and the
``escsim`` command line. Everything else may change between releases.
"""

from sim.version import __version__

__all__ = ["__version__", "load_scenario", "simulate"]


def __getattr__(name):
    # Imported lazily so that `escsim validate` does not pay for Mesa and matplotlib.
    if name == "simulate":
        from sim.ensemble.montecarlo import simulate
        return simulate
    if name == "load_scenario":
        from sim.inputs.scenario import load_scenario
        return load_scenario
    raise AttributeError(name)
