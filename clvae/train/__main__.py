"""``python -m clvae.train`` (and ``torchrun ... -m clvae.train``)."""

import sys

from clvae.train.cli import main

sys.exit(main())
