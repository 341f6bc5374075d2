"""Request bodies pass the daemon's own schema checks (encoded and decoded with the protocol
module), and result replies come back as RGB images with storable codes."""

from __future__ import annotations

import pytest

from clvae_krita import requests
from clvae_krita.palette import read_label_pixels
from clvae_krita.protocol import Array, Message, decode, encode
from clvae_krita.requests import Image
from clvae_krita.sidecar import StoredArray
from tests.plugin.helpers import GRASS, PALETTE, SKY, painted

WIDTH, HEIGHT = 3, 2
LABEL = read_label_pixels(painted([[SKY, SKY, GRASS], [GRASS, GRASS, SKY]]), WIDTH, HEIGHT, PALETTE)
CODES = {"present": StoredArray("bool", (1, 4), bytes([1, 1, 0, 0])),
         "z_global": StoredArray("float32", (1, 8), bytes(32)),
         "layer_1": StoredArray("float32", (1, 4, 4), bytes(64))}
IMAGE = Image(bytes(range(WIDTH * HEIGHT * 3)), WIDTH, HEIGHT)


def as_daemon_reads(type: str, body: dict) -> dict:
    """``body`` after the wire and the daemon's checks."""
    frames = encode(Message(type, body, "t-1"))
    return decode(frames[1:], "request").body


def test_generate_body():
    body = as_daemon_reads("generate", requests.generate_body(LABEL, 4, 99, "tiny"))
    assert (body["n"], body["seed"], body["model"]) == (4, 99, "tiny")
    assert (body["label"].dtype, body["label"].shape) == ("uint8", (HEIGHT, WIDTH))
    assert bytes(body["label"].data) == bytes([SKY, SKY, GRASS, GRASS, GRASS, SKY])


def test_generate_without_seed_or_model_leaves_them_to_the_daemon():
    body = as_daemon_reads("generate", requests.generate_body(LABEL, 1))
    assert "seed" not in body and "model" not in body


def test_reroll_body_with_preservation():
    body = as_daemon_reads("reroll", requests.reroll_body(LABEL, CODES, [GRASS], "coarse", 5, IMAGE, 4))
    assert (body["classes"], body["layers"], body["feather"], body["seed"]) == ([GRASS], "coarse", 4, 5)
    assert body["preserve"].shape == (HEIGHT, WIDTH, 3) and bytes(body["preserve"].data) == IMAGE.rgb
    assert set(body["codes"]) == set(CODES)
    assert bytes(body["codes"]["layer_1"].data) == CODES["layer_1"].data


def test_reroll_refuses_a_preserve_image_of_another_size():
    with pytest.raises(ValueError, match="the image to preserve is 1 x 1"):
        requests.reroll_body(LABEL, CODES, [GRASS], preserve=Image(bytes(3), 1, 1))


def test_edit_body():
    body = as_daemon_reads("edit", requests.edit_body(LABEL, CODES, SKY, "fine", 0.3, 11))
    assert (body["cls"], body["layers"], body["strength"], body["target"]) == (SKY, "fine", 0.3, "random")


def test_unknown_layer_choice_is_refused():
    with pytest.raises(ValueError, match="layers must be"):
        requests.edit_body(LABEL, CODES, SKY, "middle")


def test_transfer_body():
    body = as_daemon_reads("transfer", requests.transfer_body(LABEL, IMAGE, LABEL, [SKY], 3, False))
    assert body["classes"] == [SKY] and body["take_global"] is False
    assert bytes(body["ref_image"].data) == IMAGE.rgb
    assert "classes" not in as_daemon_reads("transfer", requests.transfer_body(LABEL, IMAGE, LABEL))


def test_results_of_a_reply():
    reply = {"job": "j1", "seconds": 0.1, "results": [
        {"image": IMAGE.to_array(), "seed": 8,
         "codes": {name: Array(a.dtype, a.shape, a.data) for name, a in CODES.items()}}]}
    frames = encode(Message("result", reply, "t-1"))
    (result,) = requests.results(decode(frames[1:], "reply").body)
    assert (result.image, result.seed, result.codes) == (IMAGE, 8, CODES)
