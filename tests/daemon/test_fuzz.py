"""Thousands of malformed and hostile messages: each one the daemon can answer gets a typed
reply, none crashes it, and it still serves a valid request correctly afterwards."""

from __future__ import annotations

import collections
import random
from typing import Callable

import msgpack
import numpy as np
import zmq

from clvae import edit as api
from daemon import protocol
from daemon.client import Client
from tests.daemon.conftest import assert_clean_log
from tests.daemon.helpers import ask, assert_same_results, body

MESSAGES = 3000
ODD_VALUES = [None, True, -1, 0, 2**64 - 1, -(2**63), 1.5, float("nan"), float("inf"), "", "x" * 300, b"\x00",
              [], [1] * 9, {}, {"dtype": "uint8"}, {"a": {"b": [None]}}]


def valid_requests() -> list[list[bytes]]:
    """Frames (from the delimiter on) of small valid requests of every kind."""
    label = np.zeros((8, 8), np.uint8)
    label[4:] = 1
    image = np.zeros((8, 8, 3), np.uint8)
    codes = {"present": np.ones((1, 5), bool), "z_global": np.zeros((1, 8), np.float32),
             "layer_1": np.zeros((1, 5, 5), np.float32)}
    requests = [("hello", {}), ("status", {}), ("cancel", {"target": "x-1"}),
                ("generate", body(label=label, n=2, seed=1)),
                ("reroll", {**body(label=label, classes=[1], seed=2), "codes": body(**codes)}),
                ("transfer", body(label=label, ref_image=image, ref_label=label)),
                ("encode", body(image=image, label=label)),
                ("edit", {**body(label=label, cls=1, target="direction"), "codes": body(**codes)})]
    return [[bytes(f) for f in protocol.encode(protocol.Message(t, b, f"f-{i}"))] for i, (t, b) in enumerate(requests)]


def with_header(frames: list[bytes], change: Callable[[dict], None]) -> list[bytes]:
    envelope = msgpack.unpackb(frames[2])
    change(envelope)
    return [frames[0], frames[1], msgpack.packb(envelope), *frames[3:]]


def replace_somewhere(rng: random.Random, envelope: dict) -> None:
    """One field of the envelope or its body (or an array reference in it) gets an odd value."""
    target = envelope if rng.random() < 0.3 or not envelope["body"] else envelope["body"]
    name = rng.choice(sorted(target))
    if isinstance(target[name], dict) and target[name] and rng.random() < 0.5:
        target, name = target[name], rng.choice(sorted(target[name]))
    target[name] = rng.choice(ODD_VALUES)


def hostile(rng: random.Random, valid: list[list[bytes]]) -> list[bytes]:
    """One hostile message as the DEALER sends it."""
    frames = list(rng.choice(valid))
    kind = rng.randrange(10)
    if kind == 0:  # random bytes, with or without a delimiter
        return [b""] * rng.randrange(2) + [rng.randbytes(rng.randrange(64)) for _ in range(rng.randrange(1, 6))]
    if kind == 1:  # truncated msgpack
        return [frames[0], frames[1], frames[2][: rng.randrange(len(frames[2]))], *frames[3:]]
    if kind == 2:  # flipped bits in the header
        header = bytearray(frames[2])
        for _ in range(rng.randrange(1, 4)):
            header[rng.randrange(len(header))] ^= 1 << rng.randrange(8)
        return [frames[0], frames[1], bytes(header), *frames[3:]]
    if kind == 3:  # wrong types anywhere
        return with_header(frames, lambda envelope: replace_somewhere(rng, envelope))
    if kind == 4:  # wrong protocol versions
        return with_header(frames, lambda envelope: envelope.update(v=rng.choice([0, 2, 99, "1", 1.0, None, []])))
    if kind == 5:  # huge or lying array declarations
        shape = rng.choice([[4096, 4096], [2**31, 2], [-1, 8], [8], [8, 8, 8, 8, 8], [0, 0], [2**64 - 1, 1]])
        ref = {"dtype": rng.choice(["uint8", "int64", "float32", "bool", ""]), "shape": shape,
               "frame": rng.choice([0, 1, 5, 10**6, -1])}
        return with_header(valid[3], lambda envelope: envelope["body"].update(label=ref))
    if kind == 6:  # too few or too many data frames
        return frames[:3] + [rng.randbytes(rng.randrange(100)) for _ in range(rng.randrange(4))]
    if kind == 7:  # deep nesting
        return [b"", b"", b"\x91" * rng.randrange(1, 3000) + b"\xc0"]
    if kind == 8:  # huge strings, lists and maps
        return with_header(frames, lambda envelope: envelope["body"].update(
            junk=rng.choice(["y" * 5000, list(range(5000)), {str(i): i for i in range(300)}])))
    return [rng.randbytes(rng.randrange(40))] + frames  # junk before the delimiter


def test_hostile_messages_get_typed_replies_and_the_daemon_keeps_serving(daemon, model, label):
    rng = random.Random(1234)
    valid = valid_requests()
    context = zmq.Context.instance()
    sockets = [context.socket(zmq.DEALER) for _ in range(4)]
    replies: collections.Counter = collections.Counter()
    for sock in sockets:
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(daemon.endpoint)
    try:
        for number in range(MESSAGES):
            sockets[number % len(sockets)].send_multipart(hostile(rng, valid))
            for sock in sockets:
                drain(sock, replies)
        sockets[0].send_multipart([b"", b"", *[b"x"] * 1500])  # too many frames
        sockets[1].send_multipart([b"", b"", bytes(protocol.MAX_FRAME_BYTES + 2048)])  # past MAXMSGSIZE: cut off
        for sock in sockets:
            while sock.poll(500):
                drain(sock, replies)
    finally:
        for sock in sockets:
            sock.close()
    assert daemon.child.alive()
    assert replies["error:bad_message"] and replies["error:bad_request"] and replies["error:version_mismatch"]
    assert replies["error:too_large"] and replies["result"] and replies["hello"]
    assert sum(replies.values()) > MESSAGES // 2
    with Client(daemon.endpoint, timeout=20) as client:
        assert_same_results(ask(client, "generate", label=label, seed=77), api.generate(model, label, seed=77))
    assert_clean_log(daemon.child)


def drain(sock: zmq.Socket, replies: collections.Counter) -> None:
    """Read every reply waiting on ``sock``; each must be a valid protocol reply (after the
    frames a hostile message put before its delimiter, which came back as its routing)."""
    while sock.poll(0):
        _, payload = protocol.split_routing(sock.recv_multipart())
        reply = protocol.decode(payload, "reply")
        replies[reply.type + (":" + reply.body["code"] if reply.type == "error" else "")] += 1
