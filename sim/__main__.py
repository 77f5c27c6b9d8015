"""``python -m sim`` is the same as the ``escsim`` command."""

import sys

from sim.cli import main

sys.exit(main())
