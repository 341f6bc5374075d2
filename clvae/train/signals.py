"""Ctrl-C and SIGTERM (e.g. a cluster's pre-emption notice) stop a run cleanly: the
current iteration finishes and a checkpoint is written. A second Ctrl-C stops at once."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Callable, Optional


class StopRequests:
    """While entered, SIGINT and SIGTERM set ``requested`` instead of killing the process."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, notify: Callable[[str], None]) -> None:
        self.requested = False
        self.notify = notify
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self.handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.notify(f"{signal.Signals(signum).name}: stopping after this iteration and saving a checkpoint "
                    f"(Ctrl-C again to stop at once)")
