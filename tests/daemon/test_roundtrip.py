"""Every request type through a real daemon process gives what the editing API gives."""

from __future__ import annotations

import time

import numpy as np
import pytest
import zmq

from clvae import edit as api
from daemon import protocol
from daemon.client import Client, DaemonError
from tests.daemon.conftest import MODEL_NAME, label_map
from tests.daemon.helpers import ask, assert_same_codes, assert_same_results, body, results


@pytest.fixture(scope="module")
def client(daemon):
    with Client(daemon.endpoint, timeout=20) as client:
        yield client


@pytest.fixture(scope="module")
def made(model):
    """A generated picture of a scene and its codes, to edit further."""
    return api.generate(model, label_map(), n=1, seed=4, max_batch=1)[0]


def test_hello_describes_the_models_classes_and_limits(client, model):
    hello = client.request("hello", {"client": "tests"}).body
    assert hello["protocol"] == [protocol.PROTOCOL_VERSION] and hello["default_model"] == MODEL_NAME
    (info,) = hello["models"]
    assert info["model"] == MODEL_NAME and info["variant"] == model.cfg.variant
    assert info["resolution"] == {"height": model.cfg.height, "width": model.cfg.width}
    assert [(c["name"], tuple(c["color"])) for c in info["classes"]] == [(c.name, c.color) for c in model.cfg.classes]
    assert info["layer_groups"] == api.layer_groups(model)
    assert hello["device"] == "cpu" and hello["auth"] is False
    assert hello["limits"]["max_side"] == protocol.MAX_SIDE


def test_status_and_cancel_of_an_unknown_job(client):
    status = client.request("status").body
    assert status["device"] == "cpu" and status["limit"] >= 1 and status["queued"] >= 0
    assert client.request("cancel", {"target": "nothing-1"}).body == {"target": "nothing-1", "state": "unknown"}


def test_generate_matches_the_api_image_for_image(client, model, label):
    seen = []
    event = client.request("generate", body(label=label, n=3, seed=11), progress=seen.append)
    assert_same_results(event, api.generate(model, label, n=3, seed=11, max_batch=1))
    assert [p["done"] for p in seen] == [0, 1, 2] and all(p["job"] == event.body["job"] for p in seen)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_labels_of_every_allowed_dtype(client, model, label, dtype):
    event = ask(client, "generate", label=label.astype(dtype), seed=2)
    assert_same_results(event, api.generate(model, label, seed=2))


def test_reroll_with_preserved_pixels(client, model, label, made):
    args = dict(label=label, codes=made.codes, classes=[1, "class2"], layers="coarse", seed=3, preserve=made.image,
                feather=4)
    assert_same_results(ask(client, "reroll", **args), [api.reroll(model, **args)])


def test_transfer_from_a_reference(client, model, label, made):
    args = dict(label=label_map(seed=1), ref_image=made.image, ref_label=label, seed=5, take_global=False)
    assert_same_results(ask(client, "transfer", **args), [api.transfer(model, **args)])


def test_reconstruct_and_encode(client, model, label, made):
    expected = api.reconstruct(model, made.image, label)
    assert_same_results(ask(client, "reconstruct", image=made.image, label=label), [expected])
    assert_same_results(ask(client, "encode", image=made.image, label=label), [expected], images=False)


@pytest.mark.parametrize("target", ["random", "direction", "codes"])
def test_edit_towards_every_kind_of_target(client, model, label, made, target):
    other = api.generate(model, label, seed=8)[0].codes
    args = dict(label=label, codes=made.codes, cls=2, layers=[1, 2], strength=0.7, seed=9,
                target=other if target == "codes" else target)
    assert_same_results(ask(client, "edit", **args), [api.edit(model, **args)])


def test_results_hand_back_for_a_later_reroll(client, model, label):
    first = ask(client, "generate", label=label, seed=21)
    (_, codes, _), = results(first)
    again = ask(client, "reroll", label=label, codes=codes, classes=[0], seed=1)
    made = api.generate(model, label, seed=21)[0]
    assert_same_codes(codes, made.codes)
    assert_same_results(again, [api.reroll(model, label, made.codes, [0], seed=1)])


@pytest.mark.parametrize("type, fields, code", [
    ("generate", dict(label=np.full((64, 64), 9, np.uint8)), "bad_class_id"),
    ("generate", dict(label=np.zeros((1, 64), np.uint8)), "mask_too_small"),
    ("generate", dict(label=np.zeros((8, 8), np.uint8), model="nope"), protocol.UNKNOWN_MODEL),
    ("generate", dict(label=np.zeros((8, 8), np.float32)), protocol.BAD_REQUEST),
    ("generate", dict(label=np.zeros((8, 8), np.uint8), n=65), protocol.BAD_REQUEST),
    ("generate", dict(label=np.zeros((4096, 4096), np.uint8), n=5), protocol.TOO_LARGE),
    ("generate", dict(label=np.zeros((8, 8), np.uint8), colour="red"), protocol.BAD_REQUEST),
    ("reroll", dict(label=np.zeros((8, 8), np.uint8), codes={}, classes=[0]), protocol.BAD_REQUEST),
    ("reconstruct", dict(image=np.zeros((8, 9, 3), np.uint8), label=np.zeros((8, 8), np.uint8)), "size_mismatch"),
    ("paint", {}, protocol.UNKNOWN_TYPE),
])
def test_bad_requests_get_typed_errors(client, type, fields, code):
    with pytest.raises(DaemonError) as caught:
        client.request(type, body(**fields))
    assert caught.value.code == code, str(caught.value)


def test_a_request_in_another_protocol_version_is_told_which_the_daemon_speaks(daemon):
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(daemon.endpoint)
    dealer.send_multipart(protocol.encode(protocol.Message("hello", {}, "v2-1", version=2)))
    assert dealer.poll(10_000)
    reply = protocol.decode(dealer.recv_multipart()[1:], "reply")
    dealer.close()
    assert (reply.type, reply.id, reply.body["code"]) == ("error", "v2-1", protocol.VERSION_MISMATCH)
    assert reply.body["supported"] == [protocol.PROTOCOL_VERSION]


def wait_until_idle(client: Client) -> None:
    while True:
        status = client.request("status").body
        if not status["queued"] and status["running"] is None:
            return
        time.sleep(0.05)


def test_a_full_queue_answers_busy_and_cancel_stops_queued_and_running_jobs(daemon, label):
    with Client(daemon.endpoint, timeout=20) as client:
        wait_until_idle(client)  # jobs of earlier tests' clients would take part of the queue
        share = client.request("hello").body["limits"]["queue_size"] // 2  # one client's part of the queue
        wire = body(label=label, n=protocol.MAX_COUNT, seed=0)
        running = client.send("generate", wire)
        while not any(e.type == "progress" for e in client.poll(1000)):
            pass
        queued = [client.send("generate", wire) for _ in range(share + 5)]
        finals = {}
        while len(finals) < 5:
            finals.update((e.request_id, e) for e in client.poll(1000) if e.final)
        cancels = [client.cancel(request_id) for request_id in [running, *queued] if request_id not in finals]
        while client.pending:
            finals.update((e.request_id, e) for e in client.poll(1000) if e.final)
    assert [finals[q].type for q in queued] == ["error"] * share + ["busy"] * 5
    assert sorted(finals[c].body["state"] for c in cancels) == ["queued"] * share + ["running"]
    assert {finals[q].body.get("code") for q in [running, *queued[:share]]} == {protocol.CANCELLED}
