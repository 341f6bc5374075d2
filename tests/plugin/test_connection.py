"""The plugin's connection against a real daemon (tiny model): hello, jobs with callbacks,
results that fit the canvas, a re-roll that keeps other classes' pixels, and an absent
daemon described in plain words."""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np
import pytest
import torch

from clvae.model import Synthesizer
from clvae.model_io import save_synthesizer
from clvae_krita import connection, pixels, requests
from clvae_krita.connection import Connection
from clvae_krita.palette import Palette, read_label_pixels
from daemon.launch import free_port, start_daemon
from tests.conftest import tiny_config

WAIT = 60.0


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("plugin-daemon")
    torch.manual_seed(0)
    save_synthesizer(folder / "tiny.safetensors", Synthesizer(tiny_config()).eval())
    address = f"tcp://127.0.0.1:{free_port()}"
    child = start_daemon(["--model", f"tiny={folder / 'tiny.safetensors'}", "--endpoint", address,
                          "--device", "cpu"], address, folder / "daemon.log")
    yield address
    assert child.stop() == 0


def wait_for(predicate, conn: Connection) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "no answer in time"
        conn.poll()
        time.sleep(0.01)


@pytest.fixture
def conn(endpoint) -> Iterator[Connection]:
    link = Connection(endpoint)
    link.connect()
    wait_for(lambda: link.state != connection.CONNECTING, link)
    yield link
    link.close()


def run(conn: Connection, type: str, body: dict) -> tuple[bool, dict, list[float]]:
    outcome, fractions = [], []
    conn.submit(type, body, lambda ok, reply: outcome.append((ok, reply)), fractions.append)
    wait_for(lambda: outcome, conn)
    return outcome[0][0], outcome[0][1], fractions


def stripes(palette: Palette, width: int, height: int) -> bytes:
    """Vertical bands of classes 0, 1, 2 in BGRA."""
    row = b"".join(bytes(palette.by_id[min(3 * x // width, 2)].rgb[::-1]) + b"\xff" for x in range(width))
    return row * height


def test_hello_lists_the_model_and_its_palette(conn):
    assert conn.state == connection.CONNECTED
    info = conn.model_info("tiny")
    assert len(Palette.from_model_info(info)) == 5 and "coarse" in info["layer_groups"]


def test_generate_then_reroll_one_class_keeping_the_rest(conn):
    palette = Palette.from_model_info(conn.model_info("tiny"))
    width, height = 96, 40  # another size and aspect than the model's 64 x 64
    label = read_label_pixels(stripes(palette, width, height), width, height, palette)
    ok, reply, fractions = run(conn, "generate", requests.generate_body(label, 2, 10, "tiny"))
    assert ok, reply
    first, second = requests.results(reply)
    assert (first.seed, second.seed) == (10, 11) and fractions
    assert (first.image.width, first.image.height) == (width, height)
    assert len(pixels.rgb_to_bgra(first.image.rgb)) == 4 * width * height

    feather = 2
    body = requests.reroll_body(label, first.codes, [1], "all", 3, first.image, feather, "tiny")
    ok, reply, _ = run(conn, "reroll", body)
    assert ok, reply
    (rerolled,) = requests.results(reply)
    before = np.frombuffer(first.image.rgb, np.uint8).reshape(height, width, 3)
    after = np.frombuffer(rerolled.image.rgb, np.uint8).reshape(height, width, 3)
    columns = np.nonzero((before != after).any(axis=(0, 2)))[0]
    band = [x for x in range(width) if min(3 * x // width, 2) == 1]
    assert len(columns) > 0 and band[0] - feather <= columns.min() and columns.max() <= band[-1] + feather


def test_daemon_errors_come_back_in_words(conn):
    palette = Palette.from_model_info(conn.model_info("tiny"))
    label = read_label_pixels(stripes(palette, 30, 10), 30, 10, palette)
    _, reply, _ = run(conn, "generate", requests.generate_body(label, 1, 1, "tiny"))
    codes = requests.results(reply)[0].codes
    ok, reply, _ = run(conn, "reroll", requests.reroll_body(label, codes, [4], model="tiny"))
    assert not ok
    assert "class4" in connection.describe_failure(reply, conn.endpoint)


def test_cancel_stops_a_long_job(conn):
    palette = Palette.from_model_info(conn.model_info("tiny"))
    label = read_label_pixels(stripes(palette, 512, 512), 512, 512, palette)
    outcome = []
    request_id = conn.submit("generate", requests.generate_body(label, 64, 1, "tiny"),
                             lambda ok, reply: outcome.append((ok, reply)))
    conn.cancel(request_id)
    wait_for(lambda: outcome, conn)
    ok, reply = outcome[0]
    assert not ok and connection.describe_failure(reply, conn.endpoint) == "Cancelled."
    assert not conn.busy


def test_absent_daemon_goes_offline_with_a_plain_reason(monkeypatch):
    monkeypatch.setattr(connection, "HELLO_TIMEOUT", 0.3)
    link = Connection(f"tcp://127.0.0.1:{free_port()}")
    link.connect()
    wait_for(lambda: link.state == connection.OFFLINE, link)
    assert "Is clvae-daemon running?" in link.failure
    with pytest.raises(ConnectionError):
        link.submit("generate", {}, lambda ok, body: None)
    link.close()


@pytest.mark.parametrize("body, expected", [
    ({"code": "busy", "message": "queue full"}, "busy"),
    ({"message": "the queue is full"}, "busy"),
    ({"code": "class_absent", "message": "the label map has no sky"}, "the label map has no sky"),
    ({"code": "cancelled", "message": "job j1 stopped"}, "Cancelled."),
])
def test_failure_words(body, expected):
    assert expected in connection.describe_failure(body, "tcp://x")
