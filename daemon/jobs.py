"""The bounded job queue: fair across clients, cancellable, shared by the socket thread and
the model worker.

Jobs wait in one queue per client; ``take`` serves the clients round-robin, so one client's
flood does not delay the others by more than one job each. The queue holds at most
``limit`` jobs, one client at most half of them (at least one): past that ``put`` refuses
and the daemon answers ``busy`` at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Optional

from daemon.protocol import SHUTTING_DOWN

Client = tuple[bytes, ...]  # the routing frames that lead back to a client


@dataclass
class Job:
    id: str  # the daemon's name for it, in logs and progress events
    client: Client
    request_id: str
    type: str
    body: dict[str, Any]  # the checked request body
    received: float = field(default_factory=time.perf_counter)
    started: Optional[float] = None
    cancel_code: Optional[str] = None  # the error code to stop it with (protocol CANCELLED, SHUTTING_DOWN)

    def should_cancel(self) -> bool:
        return self.cancel_code is not None


class FairQueue:
    """Queued jobs per client, served round-robin; tracks the one job running."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.per_client = max(1, limit // 2)
        self.running: Optional[Job] = None
        self.done = 0
        self._clients: OrderedDict[Client, deque[Job]] = OrderedDict()
        self._size = 0
        self._closed = False
        self._changed = threading.Condition()

    def __len__(self) -> int:
        return self._size

    def put(self, job: Job) -> Optional[str]:
        """Queue ``job``; else say why not: "full" (the queue or this client's share of it),
        "closed" (shutting down) or "duplicate" (this client has a job of the same request id)."""
        with self._changed:
            waiting = self._clients.get(job.client, ())
            running = self.running
            if self._closed:
                return "closed"
            if any(other.request_id == job.request_id for other in waiting) or (
                    running is not None and (running.client, running.request_id) == (job.client, job.request_id)):
                return "duplicate"
            if self._size >= self.limit or len(waiting) >= self.per_client:
                return "full"
            self._clients.setdefault(job.client, deque()).append(job)
            self._size += 1
            self._changed.notify()
            return None

    def take(self) -> Optional[Job]:
        """The next client's oldest job, now running (waits for one); None once closed."""
        with self._changed:
            while not self._clients and not self._closed:
                self._changed.wait()
            if self._closed:
                return None
            client, waiting = self._clients.popitem(last=False)
            job = waiting.popleft()
            if waiting:
                self._clients[client] = waiting  # back of the line
            self._size -= 1
            job.started = time.perf_counter()
            self.running = job
            return job

    def finish(self, job: Job) -> None:
        """``job`` has been answered."""
        with self._changed:
            self.running = None
            self.done += 1

    def cancel(self, client: Client, request_id: str, code: str) -> tuple[str, Optional[Job]]:
        """Stop ``client``'s job of ``request_id``: ("queued", job) taken out of the queue,
        ("running", job) told to stop at its next check, or ("unknown", None)."""
        with self._changed:
            running = self.running
            if running is not None and running.client == client and running.request_id == request_id:
                running.cancel_code = code
                return "running", running
            for job in self._clients.get(client, ()):
                if job.request_id == request_id:
                    self._remove(job)
                    return "queued", job
            return "unknown", None

    def close(self) -> list[Job]:
        """Refuse new jobs, tell the running one to stop, and return the queued ones."""
        with self._changed:
            self._closed = True
            if self.running is not None:
                self.running.cancel_code = SHUTTING_DOWN
            queued = [job for waiting in self._clients.values() for job in waiting]
            self._clients.clear()
            self._size = 0
            self._changed.notify_all()
            return queued

    def _remove(self, job: Job) -> None:
        waiting = self._clients[job.client]
        waiting.remove(job)
        if not waiting:
            del self._clients[job.client]
        self._size -= 1
