"""A client of clvae-daemon: a DEALER socket, standard library + pyzmq + msgpack only (the
Krita plugin links to this file beside ``protocol.py``).

Two ways to use it, from one thread:

- blocking: ``client.request("generate", {"label": array, "n": 4}, progress=callback)``
  returns the final reply ``Event`` or raises ``DaemonError``;
- polling (a Qt timer): ``request_id = client.send(...)``, then ``client.poll(0)`` now and
  then returns the ``Event``s that arrived: progress, then exactly one final event per
  request (its reply, or an error the client made: timeout, disconnected, bad_reply).

It never waits forever. When the daemon says nothing about a request for its ``timeout``
seconds (progress events restart the clock), or the connection drops, every open request
fails at once ("timeout", "disconnected") and the socket is made anew: replies to the old
one could no longer arrive, and nothing sent before reaches the daemon later. ZeroMQ
connects the new socket whenever the daemon is back.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import zmq
from zmq.utils.monitor import recv_monitor_message

from .protocol import (
    AUTH_FAILED, BAD_REPLY, DEFAULT_ENDPOINT, DISCONNECTED, MAX_FRAME_BYTES, TIMEOUT, Message, ProtocolError, decode,
    encode, peek_id, receive,
)

DEFAULT_TIMEOUT = 30.0
log = logging.getLogger("clvae.client")


@dataclass
class Event:
    """A reply or progress event for request ``request_id``; ``type`` is the reply type
    (docs/protocol.md): "progress" is not final, every other type is."""

    request_id: str
    type: str
    body: dict[str, Any]

    @property
    def final(self) -> bool:
        return self.type != "progress"

    @property
    def failed(self) -> bool:
        return self.type in ("error", "busy")


class DaemonError(Exception):
    """A request that failed: the daemon's error (or "busy"), or one the client made."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Client:
    """Requests to one daemon (or proxy) at ``endpoint``; ``key`` signs them (and checks the
    replies) when the daemon runs with a key file (``protocol.read_key_file``)."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, key: Optional[bytes] = None,
                 timeout: float = DEFAULT_TIMEOUT, context: Optional[zmq.Context] = None) -> None:
        self.endpoint, self.key, self.timeout = endpoint, key, timeout
        self.context = context or zmq.Context.instance()
        self._prefix = secrets.token_hex(4)
        self._count = 0
        self._silence: dict[str, float] = {}  # request id -> seconds of silence it accepts
        self._deadlines: dict[str, float] = {}  # request id -> when its silence has lasted too long
        self._held: list[Event] = []  # events ``request`` read that belong to other requests
        self._open()

    def _open(self) -> None:
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES + 1024)
        self.socket.setsockopt(zmq.IPV6, 1)
        self.monitor = self.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.socket.connect(self.endpoint)

    def _reopen(self) -> None:
        self._close_sockets()
        self._open()

    def _close_sockets(self) -> None:
        self.socket.disable_monitor()
        self.monitor.close(linger=0)
        self.socket.close(linger=0)

    def close(self) -> None:
        self._close_sockets()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def pending(self) -> list[str]:
        """Ids of the requests still waiting for their final event."""
        return list(self._deadlines)

    # ---- non-blocking -------------------------------------------------------------------

    def send(self, type: str, body: Optional[dict[str, Any]] = None, *, timeout: Optional[float] = None) -> str:
        """Send one request (arrays as ``protocol.Array``); returns its id at once."""
        self._count += 1
        request_id = f"{self._prefix}-{self._count}"
        self._silence[request_id] = self.timeout if timeout is None else timeout
        self._deadlines[request_id] = time.monotonic() + self._silence[request_id]
        try:
            self.socket.send_multipart(encode(Message(type, body or {}, request_id), self.key), zmq.NOBLOCK,
                                       copy=False)
        except zmq.Again:
            self._held.append(self._fail(request_id, DISCONNECTED, f"cannot send to {self.endpoint}: its queue "
                                         "is full"))
        return request_id

    def cancel(self, request_id: str) -> str:
        """Ask the daemon to stop ``request_id``; its own final event still comes (an error
        "cancelled", or its result if it was done first). Returns the cancel request's id."""
        return self.send("cancel", {"target": request_id})

    def poll(self, timeout_ms: int = 0) -> list[Event]:
        """The events that arrive within ``timeout_ms`` (0: only those already here), plus
        the failures of requests whose time ran out."""
        events, self._held = self._held, []
        wait = 0 if events else timeout_ms
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        ready = dict(poller.poll(min(wait, self._ms_to_next_deadline())))
        events += self._read_all()  # replies that came before a disconnection count
        if self.monitor in ready and self._disconnected():
            return events + self._fail_all(DISCONNECTED, f"the connection to the daemon at {self.endpoint} "
                                           "dropped (did it stop?)")
        return events + self._expired()

    def _ms_to_next_deadline(self) -> int:
        if not self._deadlines:
            return 2**31 - 1
        return max(0, int((min(self._deadlines.values()) - time.monotonic()) * 1000) + 1)

    def _disconnected(self) -> bool:
        try:
            return recv_monitor_message(self.monitor, zmq.NOBLOCK)["event"] == zmq.EVENT_DISCONNECTED
        except zmq.Again:
            return False

    def _read_all(self) -> list[Event]:
        events = []
        while True:
            try:
                frames, too_large = receive(self.socket, zmq.NOBLOCK)
            except zmq.Again:
                return events
            event = self._event(frames, too_large)
            if event is not None:
                events.append(event)

    def _event(self, frames: list[Any], too_large: bool) -> Optional[Event]:
        """The event of one reply, if it belongs to an open request."""
        if not frames or len(frames[0]) != 0:
            log.warning("dropped a reply without the empty delimiter frame")
            return None
        try:
            if too_large:
                raise ProtocolError(BAD_REPLY, "the reply is larger than the protocol allows",
                                    peek_id(frames[2]) if len(frames) > 2 else None)
            message = decode(frames[1:], "reply", self.key)
        except ProtocolError as error:
            return self._unreadable(error)
        if message.id not in self._deadlines:
            return None  # a late reply to a request that timed out or was never ours
        if message.type == "progress":
            self._deadlines[message.id] = time.monotonic() + self._silence[message.id]
        else:
            self._forget(message.id)
        return Event(message.id, message.type, message.body)

    def _unreadable(self, error: ProtocolError) -> Optional[Event]:
        """An error event for a reply that broke the protocol, where it names an open request."""
        log.warning("unreadable reply: %s: %s", error.code, error)
        if error.request_id not in self._deadlines:
            return None
        code = AUTH_FAILED if error.code == AUTH_FAILED else BAD_REPLY
        return self._fail(error.request_id, code, f"the daemon's reply could not be used: {error}"
                          + (" (do the daemon and this client use the same key?)" if code == AUTH_FAILED else ""))

    def _expired(self) -> list[Event]:
        now = time.monotonic()
        if all(deadline > now for deadline in self._deadlines.values()):
            return []
        return self._fail_all(TIMEOUT, f"no word from the daemon at {self.endpoint} within the timeout; "
                              "is clvae-daemon running there?")

    def _fail(self, request_id: str, code: str, message: str) -> Event:
        self._forget(request_id)
        return Event(request_id, "error", {"code": code, "message": message})

    def _forget(self, request_id: str) -> None:
        self._silence.pop(request_id, None)
        self._deadlines.pop(request_id, None)

    def _fail_all(self, code: str, message: str) -> list[Event]:
        """Fail every open request and make the socket anew: their replies can no longer come."""
        events = [self._fail(request_id, code, message) for request_id in list(self._deadlines)]
        self._reopen()
        return events

    # ---- blocking -----------------------------------------------------------------------

    def request(self, type: str, body: Optional[dict[str, Any]] = None, *,
                progress: Optional[Callable[[dict[str, Any]], None]] = None,
                timeout: Optional[float] = None) -> Event:
        """Send a request and wait for its final event; ``progress(body)`` sees its progress
        events. Raises ``DaemonError`` for an error or busy reply."""
        request_id = self.send(type, body, timeout=timeout)
        others: list[Event] = []
        try:
            while True:
                for event in self.poll(1000):
                    if event.request_id != request_id:
                        others.append(event)
                    elif not event.final:
                        if progress is not None:
                            progress(event.body)
                    elif event.failed:
                        raise DaemonError(event.body.get("code", "busy"), event.body["message"])
                    else:
                        return event
        finally:
            self._held = others + self._held
