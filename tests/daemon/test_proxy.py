"""Two CPU daemons behind the ROUTER-DEALER proxy, driven by the same client."""

from __future__ import annotations

import time

import pytest

from clvae import edit as api
from daemon.client import Client
from daemon.launch import start, wait_until_ready
from tests.daemon.conftest import assert_clean_log, daemon_args, local_endpoint
from tests.daemon.helpers import assert_same_results, body

WORKERS = 2


@pytest.fixture
def proxied(model_file, tmp_path):
    """(frontend endpoint, daemon children) once every daemon has answered through the proxy."""
    frontend, backend = local_endpoint(), f"ipc://{tmp_path}/backend.ipc"
    proxy = start("daemon.proxy", ["--frontend", frontend, "--backend", backend], tmp_path / "proxy.log")
    daemons = [start("daemon", daemon_args(model_file, backend, where="--connect"), tmp_path / f"daemon{n}.log")
               for n in range(WORKERS)]
    for child in daemons:
        wait_until_ready(child, frontend)
    with Client(frontend, timeout=20) as client:
        deadline = time.monotonic() + 30
        seen = set()
        while len(seen) < WORKERS and time.monotonic() < deadline:
            seen.add(client.request("status").body["instance"])
        assert len(seen) == WORKERS, "not every daemon reached the proxy"
    yield frontend, daemons
    for child in daemons:
        assert child.stop() == 0
        assert_clean_log(child)
    assert proxy.stop() == 0 and "Traceback" not in proxy.log()


def test_requests_spread_over_the_daemons_and_come_back_right(proxied, model, label):
    frontend, daemons = proxied
    expected = {seed: api.generate(model, label, seed=seed) for seed in range(8)}
    clients = [Client(frontend, timeout=20) for _ in range(2)]
    sent = {clients[seed % 2].send("generate", body(label=label, seed=seed)): seed for seed in expected}
    finals = {}
    while len(finals) < len(sent):
        for client in clients:
            finals.update((e.request_id, e) for e in client.poll(50) if e.final)
    for client in clients:
        client.close()
    for request_id, seed in sent.items():
        assert_same_results(finals[request_id], expected[seed])
    assert all("job j1 " in child.log() for child in daemons), "a daemon got no job"
