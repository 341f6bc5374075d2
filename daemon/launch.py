"""Start a daemon (or proxy) as a child process and wait until it answers; for tests and
benchmarks. Only the processes started here are ever signalled, by their pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from daemon.client import Client, DaemonError

READY_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Child:
    """A started process with its stderr in ``log_path``."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; SIGKILL if it does not end in ``timeout``. Returns its status."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait()


def start(module: str, args: Sequence[str], log_path: Path) -> Child:
    """``python -m module args`` with stderr (and stdout) to ``log_path``."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return Child(process, log_path)


def start_daemon(args: Sequence[str], endpoint: str, log_path: Path, key: Optional[bytes] = None,
                 wait_endpoint: Optional[str] = None) -> Child:
    """A daemon with ``args`` (``--endpoint`` / ``--connect`` included), once it answers hello
    at ``wait_endpoint`` (default ``endpoint``)."""
    child = start("daemon", args, log_path)
    wait_until_ready(child, wait_endpoint or endpoint, key)
    return child


def wait_until_ready(child: Child, endpoint: str, key: Optional[bytes] = None) -> None:
    """Ask for hello until an answer comes; raise with the log if the process ends first."""
    deadline = time.monotonic() + READY_TIMEOUT
    with Client(endpoint, key=key, timeout=0.5) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(f"the daemon exited with status {child.process.returncode}:\n{child.log()}")
            try:
                client.request("hello")
                return
            except DaemonError:
                continue
    child.kill()
    raise RuntimeError(f"the daemon did not answer within {READY_TIMEOUT:.0f} s:\n{child.log()}")
