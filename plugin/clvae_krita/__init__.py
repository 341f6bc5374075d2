"""clvae's Krita plugin: semantic image synthesis and editing from a painted label layer,
served by clvae-daemon over ZeroMQ (see Manual.html).

It runs in Krita's own Python: PyQt5, the ``krita`` module, pyzmq, msgpack and the standard
library only. The logic modules (palette, pixels, requests, placement, sidecar, kpl,
connection) import without Krita, for the tests and the installer.
"""

try:
    from krita import Krita
except ImportError:  # outside Krita: only the logic modules are used
    Krita = None

if Krita is not None:
    from .extension import register

    register(Krita.instance())
