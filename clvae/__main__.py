"""``python -m clvae``: the ``clvae`` command."""

import sys

from clvae.cli import main

sys.exit(main())
