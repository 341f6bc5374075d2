"""``clvae-daemon``: serves clvae models over ZeroMQ (protocol v1, docs/protocol.md and
docs/daemon.md).

One thread owns the ROUTER socket: it reads each request frame by frame under the
protocol's limits, checks it (``protocol.decode``), answers hello / status / cancel itself
and puts jobs on the fair queue, or answers ``busy`` at once when the queue is full. The
model worker runs the jobs and hands replies back over an inproc socket, which the same
thread forwards. SIGTERM / SIGINT stop the running job at its next sample, answer every
queued job with an error and close the sockets.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import torch
import zmq
from torch import nn

import clvae
from daemon.auth import ReplayGuard, require_safe, write_new_key
from daemon.jobs import FairQueue, Job
from daemon.memory import keep_freed_memory
from daemon.protocol import (
    AUTH_FAILED, BAD_REQUEST, CANCELLED, DEFAULT_ENDPOINT, MAX_COUNT, MAX_FRAME_BYTES, MAX_FRAMES, MAX_MESSAGE_BYTES,
    MAX_SIDE, SHUTTING_DOWN, SUPPORTED_VERSIONS, TOO_LARGE, UNKNOWN_MODEL, VERSION_MISMATCH, Message, ProtocolError,
    decode, encode, error_reply, read_key_file, receive, split_routing,
)
from daemon.worker import REPLIES_ENDPOINT, Worker

DEFAULT_QUEUE_SIZE = 32
POLL_MS = 100  # how often the loop looks at the stop flag when idle
BURST = 64  # requests read in a row before replies are forwarded again
SHUTDOWN_WAIT = 10.0  # seconds the running job gets to stop
SHUTDOWN_LINGER_MS = 500  # last replies may take this long to leave
EXIT_ERROR = 2
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"  # which daemon answered, behind a proxy
log = logging.getLogger("clvae.daemon")


class Server:
    """The daemon around already loaded ``models`` (name -> Synthesizer; the first is the
    default). ``connect`` makes the socket connect to ``endpoint`` (a proxy's backend)
    instead of binding it."""

    def __init__(self, models: dict[str, nn.Module], *, endpoint: str = DEFAULT_ENDPOINT, connect: bool = False,
                 device: str = "cpu", key: Optional[bytes] = None, queue_size: int = DEFAULT_QUEUE_SIZE,
                 max_batch: int = 1, verbose: bool = False) -> None:
        require_safe(endpoint, key)
        if not models:
            raise ValueError("the daemon needs at least one model")
        self.models, self.default_model, self.device, self.key = models, next(iter(models)), device, key
        self.queue = FairQueue(queue_size)
        self.guard = ReplayGuard() if key is not None else None
        self.hello = self._hello_body()
        self.started = time.time()
        self.stopping = False
        self._job_ids = (f"j{i}" for i in itertools.count(1))
        self.context = zmq.Context()
        self.replies = self.context.socket(zmq.PULL)
        self.replies.bind(REPLIES_ENDPOINT)
        self.router = self._router(endpoint, connect)
        self.worker = Worker(self.queue, models, self.context, key, max_batch, verbose)

    def _router(self, endpoint: str, connect: bool) -> zmq.Socket:
        router = self.context.socket(zmq.ROUTER)
        router.setsockopt(zmq.LINGER, 0)
        router.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES + 1024)
        router.setsockopt(zmq.IPV6, 1)
        try:
            (router.connect if connect else router.bind)(endpoint)
        except zmq.ZMQError:
            router.close()
            self.replies.close()
            self.context.term()
            raise
        return router

    def _hello_body(self) -> dict[str, Any]:
        from clvae.cli import model_info  # the stable description of ``clvae info --json``

        return {"protocol": list(SUPPORTED_VERSIONS), "daemon": clvae.__version__,
                "models": [model_info(model, name) for name, model in self.models.items()],
                "default_model": self.default_model, "device": self.device, "auth": self.key is not None,
                "limits": {"max_side": MAX_SIDE, "max_count": MAX_COUNT, "max_frame_bytes": MAX_FRAME_BYTES,
                           "max_message_bytes": MAX_MESSAGE_BYTES, "queue_size": self.queue.limit}}

    # ---- the loop -----------------------------------------------------------------------

    def serve(self) -> None:
        """Answer requests until ``stop()``; then shut down cleanly."""
        self.worker.start()
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.replies, zmq.POLLIN)
        try:
            while not self.stopping:
                ready = dict(poller.poll(POLL_MS))
                if self.router in ready:
                    self._read_requests()
                if self.replies in ready:
                    self._forward_replies()
        finally:
            self._shut_down()

    def stop(self) -> None:
        self.stopping = True

    def _read_requests(self) -> None:
        for _ in range(BURST):
            try:
                frames, too_large = receive(self.router, zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                self._handle(frames, too_large)
            except Exception:  # a bug: log it and serve the others
                log.exception("a request could not be handled")

    def _forward_replies(self) -> None:
        while True:
            try:
                frames = self.replies.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self.router.send_multipart(frames, copy=False)

    # ---- one request --------------------------------------------------------------------

    def _handle(self, frames: list[Any], too_large: bool) -> None:
        routing, payload = split_routing(frames)
        if not routing:
            log.warning("dropped a message without the empty delimiter frame: its sender cannot be answered")
            return
        client = tuple(bytes(frame) for frame in routing)
        try:
            if too_large:
                raise ProtocolError(TOO_LARGE, f"the message has more than {MAX_FRAMES} frames or {MAX_MESSAGE_BYTES} "
                                    "bytes")
            message = decode(payload, "request", self.key)
            if self.guard is not None:
                self.guard.check(bytes(payload[0]), message.ts, message.id)
            reply = self._dispatch(client, message)
        except ProtocolError as error:
            log.warning("refused a message from %s: %s: %s", _who(client), error.code, error)
            extra = {"supported": list(SUPPORTED_VERSIONS)} if error.code == VERSION_MISMATCH else {}
            reply = error_reply(error.request_id, error.code, str(error), **extra)
            if error.code == AUTH_FAILED:  # not signed: no signature made over what a stranger sent
                self.router.send_multipart([*client, *encode(reply)], copy=False)
                return
        if reply is not None:
            self._send(client, reply)

    def _dispatch(self, client: tuple[bytes, ...], message: Message) -> Optional[Message]:
        """The immediate reply to ``message``, or None for a job now queued."""
        if message.type == "hello":
            log.info("hello from %s (%s)", _who(client), message.body.get("client", "unnamed client"))
            return Message("hello", self.hello, message.id)
        if message.type == "status":
            return Message("status", self._status(), message.id)
        if message.type == "cancel":
            return self._cancel(client, message)
        return self._enqueue(client, message)

    def _status(self) -> dict[str, Any]:
        running = self.queue.running
        return {"queued": len(self.queue), "running": None if running is None else running.id,
                "limit": self.queue.limit, "done": self.queue.done, "uptime": time.time() - self.started,
                "device": self.device, "instance": INSTANCE}

    def _cancel(self, client: tuple[bytes, ...], message: Message) -> Message:
        target = message.body["target"]
        state, job = self.queue.cancel(client, target, CANCELLED)
        if state == "queued":
            self._send(client, error_reply(target, CANCELLED, f"job {job.id} was cancelled before it started"))
        log.info("cancel of %s from %s: %s", target, _who(client), state)
        return Message("cancel", {"target": target, "state": state}, message.id)

    def _enqueue(self, client: tuple[bytes, ...], message: Message) -> Optional[Message]:
        name = message.body.get("model", self.default_model)
        if name not in self.models:
            raise ProtocolError(UNKNOWN_MODEL, f"no model {name!r}; this daemon serves {', '.join(self.models)}",
                                message.id)
        job = Job(next(self._job_ids), client, message.id, message.type, {**message.body, "model": name})
        refusal = self.queue.put(job)
        if refusal == "full":
            log.warning("busy: refused %s %s from %s", message.type, message.id, _who(client))
            return Message("busy", {"message": f"the queue is full ({len(self.queue)} of {self.queue.limit} jobs, "
                                    f"at most {self.queue.per_client} per client); try again shortly",
                                    "queued": len(self.queue), "limit": self.queue.limit}, message.id)
        if refusal == "closed":
            raise ProtocolError(SHUTTING_DOWN, "the daemon is shutting down", message.id)
        if refusal == "duplicate":
            raise ProtocolError(BAD_REQUEST, f"request id {message.id!r} is in use by another job of yours",
                                message.id)
        return None

    def _send(self, client: tuple[bytes, ...], message: Message) -> None:
        self.router.send_multipart([*client, *encode(message, self.key)], copy=False)

    # ---- shutdown ------------------------------------------------------------------------

    def _shut_down(self) -> None:
        """Stop the running job, answer the queued ones, let the last replies out, close."""
        queued = self.queue.close()
        log.info("shutting down: %d queued job(s) refused, %s", len(queued),
                 "stopping the running job" if self.queue.running else "no job running")
        for job in queued:
            self._send(job.client, error_reply(job.request_id, SHUTTING_DOWN, "the daemon is shutting down"))
        if self.worker.is_alive():
            self.worker.join(SHUTDOWN_WAIT)
        self._forward_replies()
        self.router.setsockopt(zmq.LINGER, SHUTDOWN_LINGER_MS)
        self.router.close()
        self.replies.close(linger=0)
        if self.worker.is_alive():
            log.warning("the running job did not stop within %.0f s; leaving it behind", SHUTDOWN_WAIT)
        else:
            self.context.term()
        log.info("stopped")


def _who(client: tuple[bytes, ...]) -> str:
    """A client in logs: its own routing id (the last routing frame), shortened."""
    return client[-1].hex()[:16]


# ---- the command -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clvae-daemon", description="Serve clvae models to the Krita plugin and "
                                     "other clients over ZeroMQ (docs/daemon.md, docs/protocol.md).")
    parser.add_argument("--model", action="append", metavar="NAME=PATH", default=[],
                        help="a model.safetensors to serve under NAME (repeatable; the first is the default; "
                             "PATH alone names it by its file name). Default: the bundled model")
    parser.add_argument("--device", default="auto", help="auto (cuda:0 if there is a GPU), cpu or cuda:N")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                       help=f"address to bind: tcp://HOST:PORT or ipc:///path (default {DEFAULT_ENDPOINT})")
    where.add_argument("--connect", metavar="ENDPOINT", help="connect to a proxy's backend instead of binding")
    parser.add_argument("--key-file", type=Path, help="shared secret to sign and check every message with "
                        "(required for addresses other machines can reach)")
    parser.add_argument("--new-key-file", type=Path, metavar="PATH", help="write a fresh key to PATH and exit")
    parser.add_argument("--queue-size", type=int, default=DEFAULT_QUEUE_SIZE,
                        help=f"jobs that may wait (default {DEFAULT_QUEUE_SIZE}); one client may hold half")
    parser.add_argument("--max-batch", type=int, default=1,
                        help="images per forward pass of generate (default 1: cancel takes effect at the next image)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice); with several "
                        "daemons on one CPU, give each its share")
    parser.add_argument("--verbose", action="store_true", help="log every job with its timings")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="clvae-daemon %(asctime)s %(levelname)s %(message)s")
    try:
        if args.new_key_file:
            write_new_key(args.new_key_file)
            log.info("wrote a new key to %s", args.new_key_file)
            return 0
        server = build_server(args)
    except (ValueError, OSError, zmq.ZMQError) as error:
        print(f"clvae-daemon: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: _on_signal(server, signum))
    log.info("serving %s on %s (%s%s), device %s", ", ".join(server.models), args.connect or args.endpoint,
             "connected" if args.connect else "bound", ", signed messages" if server.key else "", server.device)
    server.serve()
    return 0


def _on_signal(server: Server, signum: int) -> None:
    if server.stopping:
        os._exit(128 + signum)  # a second signal: do not wait for the running job
    log.info("received %s", signal.Signals(signum).name)
    server.stop()


def build_server(args: argparse.Namespace) -> Server:
    """Check the address and key before the slow part (loading models)."""
    endpoint = args.connect or args.endpoint
    key = read_key_file(args.key_file) if args.key_file else None
    require_safe(endpoint, key)
    counts = ((args.queue_size, "--queue-size"), (args.max_batch, "--max-batch"), (args.threads, "--threads"))
    for value, name in counts:
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()
    device = resolve_device(args.device)
    models = load_models(args.model, device)
    return Server(models, endpoint=endpoint, connect=bool(args.connect), device=str(device), key=key,
                  queue_size=args.queue_size, max_batch=args.max_batch, verbose=args.verbose)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"--device {name!r} is not a device: {error}") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda:N, got {name!r}")
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def load_models(specs: Sequence[str], device: torch.device) -> dict[str, nn.Module]:
    """name -> model from NAME=PATH / PATH options; the bundled model when there are none."""
    from clvae.model_io import BUNDLED_MODEL
    from clvae.model_io import ModelFileError, load_synthesizer

    if not specs and not BUNDLED_MODEL.is_file():
        raise ValueError(f"the bundled model {BUNDLED_MODEL} is not installed; give --model NAME=PATH")
    models: dict[str, nn.Module] = {}
    for spec in specs or [str(BUNDLED_MODEL)]:
        name, path = _model_spec(spec)
        if name in models:
            raise ValueError(f"two models are named {name!r}; name them with --model NAME=PATH")
        try:
            models[name] = load_synthesizer(path, device)
        except ModelFileError as error:
            raise ValueError(f"cannot load model {name!r}: {error}") from None
        log.info("loaded model %s from %s", name, path)
    return models


def _model_spec(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep:
        path = spec
        name = Path(spec).name.split(".")[0]
    if not name or not path:
        raise ValueError(f"--model {spec!r}: expected NAME=PATH or PATH")
    return name, Path(path)
