"""Loopback by default; a shared key for anything else, checked on every message."""

from __future__ import annotations

import stat
import time

import msgpack
import pytest
import zmq

from clvae import edit as api
from daemon import protocol, proxy, server
from daemon.auth import is_local, write_new_key
from daemon.client import Client, DaemonError
from daemon.launch import free_port, start_daemon
from tests.daemon.conftest import assert_clean_log, daemon_args
from tests.daemon.helpers import assert_same_results, body


@pytest.mark.parametrize("endpoint, local", [
    ("tcp://127.0.0.1:5577", True), ("tcp://127.3.4.5:1", True), ("tcp://localhost:5577", True),
    ("tcp://[::1]:5577", True), ("ipc:///tmp/clvae.ipc", True), ("inproc://x", True),
    ("tcp://0.0.0.0:5577", False), ("tcp://*:5577", False), ("tcp://eth0:5577", False),
    ("tcp://192.168.1.2:5577", False), ("tcp://[::]:5577", False), ("ws://127.0.0.1:1", False), ("tcp://", False),
])
def test_which_endpoints_stay_on_this_machine(endpoint, local):
    assert is_local(endpoint) is local


@pytest.mark.parametrize("main, args", [
    (server.main, ["--endpoint", "tcp://0.0.0.0:5599"]),
    (server.main, ["--connect", "tcp://10.0.0.7:5578"]),
    (proxy.main, ["--frontend", "tcp://*:5599"]),
])
def test_an_address_other_machines_reach_is_refused_without_a_key(main, args, capsys):
    assert main(args) == 2
    assert "reachable from other machines" in capsys.readouterr().err


def test_new_key_files_are_private_and_never_overwritten(tmp_path, capsys):
    path = tmp_path / "key"
    assert server.main(["--new-key-file", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(protocol.read_key_file(path)) == 64
    assert server.main(["--new-key-file", str(path)]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.fixture(scope="module")
def signed(model_file, tmp_path_factory):
    """A daemon on all interfaces with a key; (endpoint to reach it, key)."""
    folder = tmp_path_factory.mktemp("signed")
    write_new_key(folder / "key")
    key = protocol.read_key_file(folder / "key")
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    child = start_daemon(daemon_args(model_file, f"tcp://0.0.0.0:{port}", "--key-file", str(folder / "key")), endpoint,
                         folder / "daemon.log", key=key)
    yield endpoint, key
    assert child.stop() == 0
    assert_clean_log(child)


def test_signed_requests_are_served(signed, model, label):
    endpoint, key = signed
    with Client(endpoint, key=key, timeout=20) as client:
        assert client.request("hello").body["auth"] is True
        assert_same_results(client.request("generate", body(label=label, seed=6)), api.generate(model, label, seed=6))


@pytest.mark.parametrize("key", [None, b"w" * 32])
def test_unsigned_or_wrongly_signed_requests_are_rejected(signed, label, key):
    with Client(signed[0], key=key, timeout=20) as client:
        with pytest.raises(DaemonError) as caught:
            client.request("generate", body(label=label, seed=6))
    assert caught.value.code == protocol.AUTH_FAILED


def exchange(endpoint: str, frames: list) -> protocol.Message:
    """Send raw frames, return the reply (its signature unchecked)."""
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(endpoint)
    try:
        dealer.send_multipart(frames)
        assert dealer.poll(10_000), "no reply"
        return protocol.decode(dealer.recv_multipart()[1:], "reply")
    finally:
        dealer.close()


def signed_frames(key: bytes, **envelope_changes) -> list[bytes]:
    envelope = {"v": 1, "id": "raw-1", "type": "status", "ts": time.time(), "body": {}, **envelope_changes}
    header = msgpack.packb(envelope)
    return [b"", protocol.sign(key, [header]), header]


def test_replayed_stale_and_tampered_requests_are_rejected(signed):
    endpoint, key = signed
    frames = signed_frames(key)
    assert exchange(endpoint, frames).type == "status"
    for bad in (frames, signed_frames(key, ts=time.time() - 3600), frames[:2] + [frames[2].replace(b"raw", b"wow")]):
        reply = exchange(endpoint, bad)
        assert (reply.type, reply.body["code"]) == ("error", protocol.AUTH_FAILED)


def test_replies_are_signed_with_the_key(signed):
    endpoint, key = signed
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(endpoint)
    dealer.send_multipart(signed_frames(key, id="raw-2"))
    assert dealer.poll(10_000)
    _, signature, *rest = dealer.recv_multipart()
    dealer.close()
    assert protocol.verify(key, signature, rest)
