"""The installed package's version, written into manifests and reports.

It sits at the bottom of the stack, beside :mod:`sim.errors`, so the results
layer can stamp its files without importing the package's public surface
(``sim/__init__.py``, which loads the ensemble on demand).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escsim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
