"""The plugin's link to clvae-daemon: its state, its models, and the jobs in flight.

Nothing here blocks: the docker calls ``poll()`` from a Qt timer, and each job's callbacks
run from there. While idle the daemon is pinged now and then, so the docker shows when it
went away. Failures become plain sentences (``describe_failure``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .client import Client, Event

CLIENT_NAME = "clvae-krita"
HELLO_TIMEOUT = 5.0  # seconds
JOB_TIMEOUT = 600.0  # seconds without any word (progress restarts it): a slow CPU, a big image
PING_INTERVAL = 5.0  # seconds between pings while idle
RETRY_INTERVAL = 10.0  # seconds between hellos while offline
OFFLINE, CONNECTING, CONNECTED = "offline", "connecting", "connected"

Done = Callable[[bool, dict], None]  # (succeeded, reply body)
Progress = Callable[[float], None]  # fraction done


@dataclass
class _Job:
    on_done: Done
    on_progress: Optional[Progress]


class Connection:
    """One daemon at ``endpoint``; ``key`` signs messages for a daemon run with --key-file."""

    def __init__(self, endpoint: str, key: Optional[bytes] = None,
                 client_factory: Callable[..., Client] = Client) -> None:
        self.endpoint, self.key = endpoint, key
        self.client_factory = client_factory
        self.client: Optional[Client] = None
        self.state = OFFLINE
        self.hello: Optional[dict] = None
        self.failure = ""  # why the daemon is offline, in words
        self._jobs: dict[str, _Job] = {}
        self._control: dict[str, str] = {}  # request id -> "hello" / "ping" / "cancel"
        self._last_word = 0.0

    # ---- state ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Drop any old link (its jobs fail as cancelled) and say hello anew."""
        self.close()
        self.client = self.client_factory(self.endpoint, key=self.key, timeout=JOB_TIMEOUT)
        self.state, self.failure = CONNECTING, ""
        self._send_control("hello", {"client": CLIENT_NAME}, HELLO_TIMEOUT)

    def close(self) -> None:
        for job in self._jobs.values():
            job.on_done(False, {"code": "cancelled", "message": "the connection was closed"})
        self._jobs.clear()
        self._control.clear()
        if self.client is not None:
            self.client.close()
            self.client = None
        self.state = OFFLINE

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def models(self) -> list[dict]:
        return list(self.hello["models"]) if self.hello else []

    def model_info(self, name: Optional[str]) -> Optional[dict]:
        return next((model for model in self.models() if model["model"] == name), None)

    # ---- jobs -------------------------------------------------------------------------------

    def submit(self, type: str, body: dict, on_done: Done, on_progress: Optional[Progress] = None) -> str:
        """Send a job; ``on_done`` runs once, from ``poll``."""
        if self.client is None or self.state != CONNECTED:
            raise ConnectionError(f"not connected to the daemon at {self.endpoint}")
        request_id = self.client.send(type, body)
        self._jobs[request_id] = _Job(on_done, on_progress)
        return request_id

    def cancel(self, request_id: str) -> None:
        if self.client is not None and request_id in self._jobs:
            self._control[self.client.cancel(request_id)] = "cancel"

    def poll(self) -> None:
        """Handle what arrived; ping an idle daemon now and then, and look for an absent one."""
        if self.client is None:
            return
        for event in self.client.poll(0):
            self._handle(event)
        if self._jobs or self._control:
            return
        quiet = time.monotonic() - self._last_word
        if self.state == CONNECTED and quiet > PING_INTERVAL:
            self._send_control("ping", {}, HELLO_TIMEOUT)
        elif self.state == OFFLINE and quiet > RETRY_INTERVAL:
            self._send_control("hello", {"client": CLIENT_NAME}, HELLO_TIMEOUT)

    def _send_control(self, kind: str, body: dict, timeout: float) -> None:
        request_type = "hello" if kind == "hello" else "status"
        self._control[self.client.send(request_type, body, timeout=timeout)] = kind
        self._last_word = time.monotonic()

    def _handle(self, event: Event) -> None:
        self._last_word = time.monotonic()
        if event.request_id in self._control:
            self._handle_control(self._control.pop(event.request_id), event)
            return
        job = self._jobs.get(event.request_id)
        if job is None:
            return
        if not event.final:
            if job.on_progress is not None:
                job.on_progress(float(event.body.get("fraction", 0.0)))
            return
        del self._jobs[event.request_id]
        if event.body.get("code") in ("timeout", "disconnected"):
            self._go_offline(event.body)
        job.on_done(not event.failed, event.body)

    def _handle_control(self, kind: str, event: Event) -> None:
        if event.failed:
            if kind != "cancel":
                self._go_offline(event.body)
            return
        if kind == "hello":
            self.hello, self.state = event.body, CONNECTED

    def _go_offline(self, body: dict) -> None:
        self.state = OFFLINE
        self.failure = describe_failure(body, self.endpoint)


# ---- words ----------------------------------------------------------------------------------

HINTS = {
    "timeout": "No answer from the daemon at {endpoint}. Is clvae-daemon running? Start it (see the "
               "plugin's manual), then press Reconnect.",
    "disconnected": "The connection to the daemon at {endpoint} dropped. Start clvae-daemon again, then "
                    "press Reconnect.",
    "busy": "The daemon is busy with other requests; try again in a moment.",
    "cancelled": "Cancelled.",
    "auth_failed": "The daemon refused the message: it needs the same key file as this plugin.",
    "version_mismatch": "The daemon speaks another protocol version; update the plugin or the daemon.",
    "out_of_memory": "The daemon ran out of memory; try a smaller image or fewer variants.",
    "too_large": "The image is too large for the daemon; try a smaller canvas or fewer variants.",
    "unknown_model": "The daemon does not serve that model; press Reconnect to refresh the model list.",
    "shutting_down": "The daemon is shutting down.",
}


def describe_failure(body: dict[str, Any], endpoint: str) -> str:
    """A plain sentence for a failed request's reply body, with the daemon's own words."""
    code = body.get("code", "busy")
    message = str(body.get("message", "")).strip()
    hint = HINTS.get(code)
    if hint is None:
        return message or f"The daemon reported an error ({code})."
    hint = hint.format(endpoint=endpoint)
    return hint if code in ("timeout", "disconnected", "cancelled") or not message else f"{hint} ({message})"
