"""The clvae daemon (``clvae-daemon``), its wire protocol and its client.

``protocol`` and ``client`` need only the standard library, pyzmq and msgpack (the Krita
plugin links to them); the rest of the package runs the models. See docs/daemon.md.
"""
