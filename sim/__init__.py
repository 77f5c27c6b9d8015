"""escsim: agent-based escalation scenario simulator.

The public surface is small: :func:`load_scenario`, :func:`simulate`, and the
``escsim`` command line. Everything else may change between releases.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escsim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from sim.montecarlo import simulate  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

__all__ = ["__version__", "load_scenario", "simulate"]
