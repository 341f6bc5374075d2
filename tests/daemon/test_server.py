"""The server as a library: a model object injected and served from a thread."""

from __future__ import annotations

import threading

import pytest

from clvae import edit as api
from daemon.client import Client
from daemon.server import Server
from tests.daemon.helpers import ask, assert_same_results


def test_an_injected_model_is_served_in_process_over_ipc(model, label, tmp_path):
    endpoint = f"ipc://{tmp_path}/daemon.ipc"
    server = Server({"injected": model}, endpoint=endpoint)
    thread = threading.Thread(target=server.serve)
    thread.start()
    try:
        with Client(endpoint, timeout=20) as client:
            assert client.request("hello").body["default_model"] == "injected"
            assert_same_results(ask(client, "generate", label=label, seed=1), api.generate(model, label, seed=1))
    finally:
        server.stop()
        thread.join(20)
    assert not thread.is_alive()


def test_a_public_endpoint_needs_a_key(model):
    with pytest.raises(ValueError, match="reachable from other machines"):
        Server({"m": model}, endpoint="tcp://0.0.0.0:5599")
