"""Who may talk to the daemon: loopback endpoints, shared-secret keys, replayed requests.

Without a key the daemon only binds (or connects to) loopback TCP addresses and ipc/inproc
paths. With a key (``--key-file``), every message is signed (``protocol.sign``) and a
request whose signature was already seen, or whose "ts" is more than ``REPLAY_WINDOW``
seconds from the daemon's clock, is refused.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from daemon.protocol import AUTH_FAILED, REPLAY_WINDOW, ProtocolError

LOCAL_TRANSPORTS = ("ipc", "inproc")


def is_local(endpoint: str) -> bool:
    """Whether ``endpoint`` stays on this machine: tcp:// on a loopback address or
    "localhost", or ipc:// / inproc://. Interface names and wildcards are not."""
    transport, _, rest = endpoint.partition("://")
    if transport in LOCAL_TRANSPORTS:
        return True
    if transport != "tcp" or not rest:
        return False
    host = urlsplit(f"//{rest}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_safe(endpoint: str, key: bytes | None) -> None:
    """Refuse (ValueError) an endpoint other machines can reach unless messages are signed."""
    if key is None and not is_local(endpoint):
        raise ValueError(f"{endpoint} is reachable from other machines: give a key file (--key-file, see "
                         "docs/daemon.md) or use a loopback address such as tcp://127.0.0.1:PORT")


def write_new_key(path: str | Path) -> None:
    """A fresh 256-bit key as hex text, readable by its owner only; never overwrites."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32) + "\n")


class ReplayGuard:
    """Refuses signed requests seen before or stamped too far from now."""

    def __init__(self, window: float = REPLAY_WINDOW) -> None:
        self.window = window
        self._seen: set[bytes] = set()
        self._expiry: deque[tuple[float, bytes]] = deque()

    def check(self, signature: bytes, stamped: float, request_id: str) -> None:
        now = time.time()
        while self._expiry and self._expiry[0][0] < now:
            self._seen.discard(self._expiry.popleft()[1])
        if abs(now - stamped) > self.window:
            raise ProtocolError(AUTH_FAILED, f"the request is stamped {now - stamped:+.0f} s from the daemon's clock; "
                                f"at most {self.window:.0f} s are accepted", request_id)
        if signature in self._seen:
            raise ProtocolError(AUTH_FAILED, "this signed request was seen before (a replay)", request_id)
        self._seen.add(signature)
        self._expiry.append((now + 2 * self.window, signature))
