"""``python -m firmware_sim``: the same as the ``firmware-sim`` console script."""

import sys

from firmware_sim.cli import main

sys.exit(main())
