"""The ``render`` request (live painting): fixed codes and a label map in, one image out,
the editing API's own pixels; malformed codes and fields are refused."""

from __future__ import annotations

import numpy as np
import pytest

from clvae import edit as api
from daemon.arrays import from_numpy
from daemon.client import Client, DaemonError
from tests.daemon.helpers import ask, assert_same_results, body


@pytest.fixture(scope="module")
def client(daemon):
    with Client(daemon.endpoint, timeout=20) as client:
        yield client


def test_render_of_a_changed_label_matches_the_api(client, model, label):
    made = api.generate(model, label, n=1, seed=4)[0]
    stroke = label.copy()
    stroke[20:40, 10:30] = 2
    event = ask(client, "render", label=stroke, codes=made.codes)
    assert_same_results(event, [api.render(model, stroke, made.codes)])
    assert event.body["results"][0]["seed"] is None


def test_render_of_a_results_own_label_and_codes_remakes_it(client, model, label):
    made = api.generate(model, label, n=1, seed=9)[0]
    (result,) = ask(client, "render", label=label, codes=made.codes).body["results"]
    assert np.array_equal(np.frombuffer(result["image"].data, np.uint8).reshape(made.image.shape), made.image)


def test_render_refuses_codes_of_another_model_and_unknown_fields(client, label):
    with pytest.raises(DaemonError) as error:
        client.request("render", body(label=label, codes={"present": from_numpy(np.ones((1, 3), bool))}))
    assert error.value.code == "codes_mismatch"
    with pytest.raises(DaemonError) as error:
        client.request("render", body(label=label, seed=1))
    assert error.value.code == "bad_request"
