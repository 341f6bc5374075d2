"""``python -m daemon``: the same as ``clvae-daemon``."""

import sys

from daemon.server import main

sys.exit(main())
