"""Tests of the Krita plugin's logic, without Krita. Importing this package puts ``plugin/``
on sys.path, so ``clvae_krita`` imports as Krita imports it (its __init__ registers nothing
when the ``krita`` module is missing); tests/e2e imports it for the same reason."""

import sys
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugin"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))
