"""Many clients at once, cancels among them, and daemons that die or stop under load."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from clvae import edit as api
from daemon import protocol
from daemon.client import Client, Event
from daemon.launch import start_daemon
from tests.daemon.conftest import assert_clean_log, daemon_args, label_map, local_endpoint
from tests.daemon.helpers import assert_same_results, body

CLIENTS = 8
REQUESTS = 50
IN_FLIGHT = 3  # per client; 8 x 3 stays under the queue's 32, so nothing is busy
SEEDS = range(4)


def plan(model, label) -> dict[tuple, tuple[str, dict[str, Any], Any]]:
    """Request kinds: key -> (type, wire body, the API's results or None for hello/status)."""
    made = api.generate(model, label, seed=50)[0]
    other = label_map(seed=3)
    kinds: dict[tuple, tuple[str, dict[str, Any], Any]] = {("hello",): ("hello", {}, None),
                                                          ("status",): ("status", {}, None)}
    for seed in SEEDS:
        kinds["generate", seed] = ("generate", body(label=label, n=2, seed=seed),
                                   api.generate(model, label, n=2, seed=seed, max_batch=1))
        args = dict(label=label, codes=made.codes, classes=[seed], seed=seed)
        kinds["reroll", seed] = ("reroll", body(**args), [api.reroll(model, **args)])
        args = dict(label=other, ref_image=made.image, ref_label=label, seed=seed)
        kinds["transfer", seed] = ("transfer", body(**args), [api.transfer(model, **args)])
        args = dict(label=label, codes=made.codes, cls=seed, target="random", strength=0.5, seed=seed)
        kinds["edit", seed] = ("edit", body(**args), [api.edit(model, **args)])
    kinds["reconstruct",] = ("reconstruct", body(image=made.image, label=label), [api.reconstruct(model, made.image,
                                                                                                   label)])
    kinds["long",] = ("generate", body(label=label, n=8, seed=9), api.generate(model, label, n=8, seed=9, max_batch=1))
    return kinds


def run_client(endpoint: str, kinds: dict, number: int, outcome: dict) -> None:
    """Send REQUESTS requests with at most IN_FLIGHT open, cancelling some long ones; record
    every final event per request id."""
    rng = random.Random(number)
    sent: dict[str, tuple] = {}
    finals: dict[str, list[Event]] = {}
    cancelled: set[str] = set()
    with Client(endpoint, timeout=30) as client:
        while len(sent) < REQUESTS or client.pending:
            if len(sent) < REQUESTS and len(client.pending) < IN_FLIGHT:
                key = rng.choice(list(kinds))
                request_id = client.send(kinds[key][0], kinds[key][1])
                sent[request_id] = key
                if key == ("long",) and rng.random() < 0.7:
                    cancelled.add(request_id)
                    sent[client.cancel(request_id)] = ("cancel",)
            for event in client.poll(10):
                if event.final:
                    finals.setdefault(event.request_id, []).append(event)
    outcome[number] = (sent, finals, cancelled)


def test_eight_clients_get_every_answer_exactly_once(daemon, model, label):
    kinds = plan(model, label)
    outcome: dict[int, Any] = {}
    threads = [threading.Thread(target=run_client, args=(daemon.endpoint, kinds, n, outcome)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcome) == CLIENTS, "a client thread failed"
    counts = {"cancelled": 0, "results": 0}
    for sent, finals, cancelled in outcome.values():
        assert finals.keys() == sent.keys()
        assert all(len(events) == 1 for events in finals.values()), "an answer came twice"
        for request_id, key in sent.items():
            (event,) = finals[request_id]
            check_answer(event, key, kinds, request_id in cancelled, counts)
    assert counts["cancelled"] and counts["results"]


def check_answer(event: Event, key: tuple, kinds: dict, cancelled: bool, counts: dict) -> None:
    if key == ("cancel",):
        assert event.type == "cancel" and event.body["state"] in ("queued", "running", "unknown")
    elif cancelled and event.type == "error":
        assert event.body["code"] == protocol.CANCELLED
        counts["cancelled"] += 1
    elif kinds[key][2] is None:
        assert event.type == kinds[key][0]
    else:
        assert_same_results(event, kinds[key][2])
        counts["results"] += 1


def wait_for_finals(client: Client, request_ids: list[str], limit: float) -> dict[str, tuple[Event, float]]:
    """request id -> (its final event, the seconds it took to come)."""
    start = time.monotonic()
    finals: dict[str, tuple[Event, float]] = {}
    while len(finals) < len(request_ids) and time.monotonic() - start < limit:
        finals.update((e.request_id, (e, time.monotonic() - start)) for e in client.poll(100) if e.final)
    assert finals.keys() == set(request_ids), f"no final event within {limit} s"
    return finals


def start_busy_daemon(model_file, endpoint, log_path, label):
    """A daemon, a client whose long job is under way (a sample done), and that job's id."""
    child = start_daemon(daemon_args(model_file, endpoint), endpoint, log_path)
    runner = Client(endpoint, timeout=10)
    running = runner.send("generate", body(label=label, n=protocol.MAX_COUNT, seed=0))
    while not any(e.type == "progress" and e.body["done"] for e in runner.poll(1000)):
        pass
    return child, runner, running


def test_a_killed_daemon_fails_every_waiting_request_and_clients_reconnect(model_file, model, label, tmp_path):
    endpoint = local_endpoint()
    child, runner, running = start_busy_daemon(model_file, endpoint, tmp_path / "first.log", label)
    waiters = [Client(endpoint, timeout=10) for _ in range(2)]
    waiting = [client.send("generate", body(label=label, seed=1)) for client in waiters]
    child.process.kill()
    child.process.wait()
    for client, request_id in zip([runner, *waiters], [running, *waiting]):
        event, seconds = wait_for_finals(client, [request_id], 12)[request_id]
        assert event.type == "error" and event.body["code"] in (protocol.DISCONNECTED, protocol.TIMEOUT)
        assert seconds < 10.5 and "daemon" in event.body["message"]
    child = start_daemon(daemon_args(model_file, endpoint), endpoint, tmp_path / "second.log")
    try:
        for client in [runner, *waiters]:
            event = client.request("generate", body(label=label, seed=3))
            assert_same_results(event, api.generate(model, label, seed=3))
            client.close()
    finally:
        assert child.stop() == 0
    assert_clean_log(child)


def test_sigterm_stops_the_running_job_and_answers_the_queued_ones(model_file, label, tmp_path):
    endpoint = local_endpoint()
    child, runner, running = start_busy_daemon(model_file, endpoint, tmp_path / "daemon.log", label)
    queued = [runner.send("generate", body(label=label, seed=s)) for s in range(3)]
    time.sleep(0.2)  # let them reach the queue
    assert child.stop() == 0
    for event, _ in wait_for_finals(runner, [running, *queued], 5).values():
        assert (event.type, event.body["code"]) == ("error", protocol.SHUTTING_DOWN)
    runner.close()
    assert "stopped" in child.log()
    assert_clean_log(child)

