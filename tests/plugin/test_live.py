"""Live mode without Krita: the latest-wins session (coalescing, stale replies dropped,
cancel on stop, code changes), the change watcher (fingerprints off the UI thread, the
working size), code splicing, and one session against a real daemon."""

from __future__ import annotations

import time
from array import array
from typing import Optional

import pytest

from clvae_krita import live, requests
from clvae_krita.palette import LabelMap, Palette, read_label_pixels
from clvae_krita.placement import (
    GROUP_NAME, PREVIEW_NAME, LayerInfo, label_candidates, pick_label_layer, preview_anchor, preview_layer, result_name,
)
from clvae_krita.protocol import Array, Message, decode, encode
from clvae_krita.sidecar import StoredArray
from tests.plugin.helpers import GRASS, PALETTE, ROCK, SKY, TREE, painted
from tests.plugin.test_connection import conn, endpoint, stripes, wait_for  # noqa: F401  (fixtures)

MODEL = "tiny"
CODES = {"present": StoredArray("bool", (1, 4), bytes([1, 1, 0, 0])),
         "z_global": StoredArray("float32", (1, 2), bytes(8)),
         "layer_1": StoredArray("float32", (1, 4, 2), bytes(32))}


def label_of(*row: int) -> LabelMap:
    return read_label_pixels(painted([row]), len(row), 1, PALETTE)


def codes_with(fill: int) -> dict[str, StoredArray]:
    """CODES with every code byte set to ``fill``."""
    return {name: stored if name == "present" else StoredArray(stored.dtype, stored.shape,
                                                               bytes([fill]) * len(stored.data))
            for name, stored in CODES.items()}


def reply_body(label: LabelMap, codes: dict[str, StoredArray], seed: Optional[int] = None,
               image: bool = True) -> dict:
    """A "result" reply as the connection hands it over: one picture whose first byte says
    which label map it was made for (its first class id)."""
    entry = {"codes": requests.codes_array(codes), "seed": seed}
    if image:
        entry["image"] = Array("uint8", (label.height, label.width, 3), bytes([label.ids[0]]) * (3 * len(label.ids)))
    return {"job": "j", "results": [entry], "seconds": 0.1}


class FakeConnection:
    """What the session uses of ``connection.Connection``; the test answers the requests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict, object]] = []  # (id, type, body, on_done)
        self.cancelled: list[str] = []
        self.offline = False

    def submit(self, type: str, body: dict, on_done) -> str:
        if self.offline:
            raise ConnectionError("not connected to the daemon at tcp://x")
        request_id = f"r{len(self.sent) + 1}"
        self.sent.append((request_id, type, body, on_done))
        return request_id

    def cancel(self, request_id: str) -> None:
        self.cancelled.append(request_id)

    def answer(self, index: int, codes: Optional[dict] = None, seed: Optional[int] = None) -> None:
        """Answer request ``index`` (0-based) with a picture of the label it was sent for."""
        _, type, body, on_done = self.sent[index]
        label = LabelMap(array("B", bytes(body["label"].data)), body["label"].shape[1], body["label"].shape[0])
        on_done(True, reply_body(label, codes or CODES, seed, image=type != "encode"))

    def fail(self, index: int, code: str = "internal") -> None:
        self.sent[index][3](False, {"code": code, "message": "it broke"})


@pytest.fixture
def fake() -> FakeConnection:
    return FakeConnection()


def session_of(fake: FakeConnection, codes: Optional[dict] = CODES) -> tuple[live.LiveSession, list[live.Shown]]:
    shown: list[live.Shown] = []
    return live.LiveSession(fake, MODEL, shown.append, codes), shown


def sent_label(fake: FakeConnection, index: int) -> list[int]:
    return list(bytes(fake.sent[index][2]["label"].data))


# ---- the session ---------------------------------------------------------------------------------


def test_a_burst_of_changes_gives_at_most_two_requests_and_ends_on_the_last(fake):
    session, shown = session_of(fake)
    labels = [label_of(SKY, GRASS if i % 2 else TREE, i % 4) for i in range(20)]
    for i, label in enumerate(labels):
        session.label_changed(label, float(i))
        assert session.state == live.WORKING
    assert len(fake.sent) == 1 and fake.sent[0][1] == "render"
    fake.answer(0)
    assert len(fake.sent) == 2 and sent_label(fake, 1) == list(labels[-1].ids)
    fake.answer(1)
    assert len(fake.sent) == 2 and session.sent == 2
    assert [list(s.label.ids) for s in shown] == [list(labels[0].ids), list(labels[-1].ids)]
    assert shown[-1].read_at == 19.0 and shown[-1].round_trip >= 0
    assert session.state == live.UP_TO_DATE


def test_renders_send_the_live_codes_for_the_model(fake):
    session, _ = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    _, type, body, _ = fake.sent[0]
    assert type == "render" and body["model"] == MODEL
    assert bytes(body["codes"]["layer_1"].data) == CODES["layer_1"].data


def test_stop_cancels_at_once_and_a_late_reply_is_never_shown(fake):
    session, shown = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    session.label_changed(label_of(GRASS, GRASS), 1.0)
    session.stop()
    assert fake.cancelled == ["r1"] and session.state == live.IDLE
    fake.answer(0)
    session.label_changed(label_of(TREE, TREE), 2.0)
    assert shown == [] and len(fake.sent) == 1


def test_a_reply_to_a_request_nobody_waits_for_is_dropped(fake):
    session, shown = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    session.stop()
    fresh, fresh_shown = session_of(fake)
    fresh.label_changed(label_of(TREE, TREE), 1.0)
    fake.answer(1)
    fake.answer(0)  # the stopped session's reply comes last: it shows nowhere
    assert shown == [] and [list(s.label.ids) for s in fresh_shown] == [[TREE, TREE]]


def test_without_codes_the_first_request_draws_them_and_other_changes_wait(fake):
    session, shown = session_of(fake, codes=None)
    session.change_codes(live.class_edit(GRASS, "coarse", 3, None, MODEL))
    session.label_changed(label_of(SKY, GRASS), 0.0)
    assert fake.sent[0][1] == "generate" and fake.sent[0][2]["n"] == 1
    fake.answer(0, codes_with(7), seed=42)
    assert session.codes["layer_1"].data == codes_with(7)["layer_1"].data and session.seed == 42
    _, type, body, _ = fake.sent[1]
    assert type == "reroll" and body["classes"] == [GRASS] and body["layers"] == "coarse"
    assert bytes(body["codes"]["layer_1"].data) == codes_with(7)["layer_1"].data and "preserve" not in body


def test_code_changes_act_on_the_newest_label_and_later_renders_use_their_codes(fake):
    session, shown = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    session.change_codes(live.class_edit(SKY, "fine", 5, 0.5, MODEL))
    session.label_changed(label_of(SKY, TREE), 1.0)
    fake.answer(0)
    _, type, body, _ = fake.sent[1]
    assert type == "edit" and body["strength"] == 0.5 and sent_label(fake, 1) == [SKY, TREE]
    fake.answer(1, codes_with(9), seed=5)
    session.label_changed(label_of(TREE, TREE), 2.0)
    assert fake.sent[2][1] == "render" and bytes(fake.sent[2][2]["codes"]["z_global"].data) == bytes([9]) * 8
    assert len(shown) == 2 and session.seed == 5


def test_shuffle_draws_new_codes_with_a_fresh_seed(fake):
    session, _ = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    session.shuffle()
    session.shuffle()
    fake.answer(0)
    assert [s[1] for s in fake.sent] == ["render", "generate"] and "seed" not in fake.sent[1][2]


def test_style_takes_the_references_codes_for_the_classes_then_renders_them(fake):
    session, shown = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    fake.answer(0)
    reference = requests.Image(bytes(6), 2, 1)
    session.change_codes(live.style_edit(reference, label_of(GRASS, GRASS), [GRASS], False, MODEL))
    assert fake.sent[1][1] == "encode" and bytes(fake.sent[1][2]["image"].data) == bytes(6)
    fake.answer(1, codes_with(1))
    assert fake.sent[2][1] == "render" and len(shown) == 1
    layer = bytes(fake.sent[2][2]["codes"]["layer_1"].data)
    assert layer == bytes(8) + bytes([1]) * 8 + bytes(16)  # only row GRASS (1) of 4 rows of 2 floats
    assert bytes(fake.sent[2][2]["codes"]["z_global"].data) == bytes(8)


def test_a_failure_is_reported_and_the_next_change_renders_again(fake):
    session, shown = session_of(fake)
    session.label_changed(label_of(SKY, GRASS), 0.0)
    fake.fail(0)
    assert session.failure["code"] == "internal" and session.state == live.IDLE
    session.label_changed(label_of(SKY, TREE), 1.0)
    fake.answer(1)
    assert session.failure is None and session.state == live.UP_TO_DATE and len(shown) == 1


def test_an_offline_daemon_is_reported_and_the_change_waits(fake):
    session, _ = session_of(fake)
    fake.offline = True
    session.label_changed(label_of(SKY, GRASS), 0.0)
    assert session.failure["code"] == "disconnected" and fake.sent == []
    fake.offline = False
    session.label_changed(label_of(SKY, TREE), 1.0)
    assert len(fake.sent) == 1 and session.state == live.WORKING


def test_splice_codes_swaps_rows_and_shared_layers():
    other = codes_with(3) | {"layer_2": StoredArray("float32", (1, 1, 2), bytes([3]) * 8)}
    mine = codes_with(0) | {"layer_2": StoredArray("float32", (1, 1, 2), bytes(8))}
    spliced = live.splice_codes(mine, other, [SKY, ROCK], take_global=True)
    assert spliced["layer_1"].data == bytes([3]) * 8 + bytes(16) + bytes([3]) * 8
    assert spliced["layer_2"].data == bytes([3]) * 8 and spliced["z_global"].data == bytes([3]) * 8
    assert spliced["present"] is mine["present"]


# ---- the watcher --------------------------------------------------------------------------------


def settle(watcher: live.LabelWatcher) -> Optional[live.Reading]:
    """Wait for the check at work; what it found."""
    deadline = time.monotonic() + 10
    while watcher.busy:
        assert time.monotonic() < deadline
        reading = watcher.collect()
        if reading is not None:
            return reading
        time.sleep(0.001)
    return None


def check(watcher: live.LabelWatcher, layer: bytes, width: int, read_at: float = 0.0) -> Optional[live.Reading]:
    """Read the next band of ``layer`` (BGRA, ``width`` pixels a row) as the docker does,
    hand it over, and wait for the outcome."""
    height = len(layer) // (4 * width)
    top, rows = watcher.next_band(width, height)
    watcher.check(live.Pixels(bytearray(layer[4 * width * top: 4 * width * (top + rows)]), width, height, top,
                              read_at))
    return settle(watcher)


def test_watcher_reports_changes_once_and_unreadable_pixels_in_words():
    watcher = live.LabelWatcher(PALETTE, None, max_side=64)
    first = check(watcher, painted([[SKY, GRASS]]), 2, 1.0)
    assert list(first.label.ids) == [SKY, GRASS] and first.read_at == 1.0
    assert check(watcher, painted([[SKY, GRASS]]), 2) is None
    stray = check(watcher, painted([[SKY]]) + bytes((255, 0, 255, 255)), 2)
    assert "far from every class colour" in stray.error and stray.label is None
    watcher.close()


def test_watcher_reads_transparent_pixels_anew_when_their_class_changes():
    watcher = live.LabelWatcher(PALETTE, None, max_side=64)
    layer = painted([[SKY]]) + bytes(4)
    assert "transparent" in check(watcher, layer, 2).error
    assert check(watcher, layer, 2) is None
    watcher.transparent = GRASS
    assert list(check(watcher, layer, 2).label.ids) == [SKY, GRASS]
    watcher.close()


def test_large_layers_are_read_at_the_working_size_nearest():
    rows = [[(x // 3 + y) % 4 for x in range(10)] for y in range(7)]
    watcher = live.LabelWatcher(PALETTE, None, max_side=4)
    reading = check(watcher, painted(rows), 10)
    assert (reading.label.width, reading.label.height) == (4, 3)  # every 3rd pixel of every 3rd row
    assert list(reading.label.ids) == [rows[y][x] for y in (0, 3, 6) for x in (0, 3, 6, 9)]
    assert live.working_step(2048, 1024, 256) == 8 and live.working_step(200, 100, 256) == 1
    assert live.working_side({"resolution": {"height": 128, "width": 64}}) == 256
    watcher.close()


def test_bands_take_turns_and_the_map_waits_for_all_of_them(monkeypatch):
    monkeypatch.setattr(live, "BAND_PIXELS", 8)  # 2 rows of 4 pixels a band
    layer = bytearray(painted([[SKY, SKY, GRASS, GRASS]] * 5))
    watcher = live.LabelWatcher(PALETTE, None, max_side=64)
    assert [watcher.next_band(4, 5) for _ in range(4)] == [(0, 2), (2, 2), (4, 1), (0, 2)]
    watcher = live.LabelWatcher(PALETTE, None, max_side=64)
    assert check(watcher, bytes(layer), 4, 1.0) is None and check(watcher, bytes(layer), 4, 2.0) is None
    first = check(watcher, bytes(layer), 4, 3.0)
    assert first.read_at == 1.0 and list(first.label.ids) == [SKY, SKY, GRASS, GRASS] * 5
    layer[4 * 4 * 3: 4 * 4 * 3 + 4] = painted([[TREE]])  # row 3, in the second band
    assert check(watcher, bytes(layer), 4, 4.0) is None  # the first band: unchanged
    second = check(watcher, bytes(layer), 4, 5.0)
    assert second.read_at == 3.0 and second.label.ids[12] == TREE
    watcher.close()


def test_the_fingerprint_sees_a_one_pixel_change_and_another_place():
    base = painted([[SKY] * 64] * 64)
    dab = bytearray(base)
    dab[4 * 2080] = 0
    prints = {live.fingerprint(live.Pixels(data, w, h, top, 0)) for data, w, h, top in
              ((base, 64, 64, 0), (bytes(dab), 64, 64, 0), (base, 32, 128, 0), (base, 64, 128, 64))}
    assert len(prints) == 4


def test_closing_the_watcher_drops_the_check_at_work():
    watcher = live.LabelWatcher(PALETTE, None, max_side=64)
    watcher.check(live.Pixels(painted([[SKY, GRASS]]), 2, 1, 0, 0.0))
    watcher.close()
    assert not watcher.busy and watcher.collect() is None


# ---- requests and placement ------------------------------------------------------------------------


def as_daemon_reads(type: str, body: dict) -> dict:
    return decode(encode(Message(type, body, "t-1"))[1:], "request").body


def test_render_and_encode_bodies_pass_the_daemons_checks():
    label = label_of(SKY, GRASS)
    body = as_daemon_reads("render", requests.render_body(label, CODES, MODEL))
    assert body["model"] == MODEL and set(body["codes"]) == set(CODES)
    body = as_daemon_reads("encode", requests.encode_body(requests.Image(bytes(6), 2, 1), label, MODEL))
    assert body["image"].shape == (1, 2, 3)


def test_results_without_pictures_have_codes_only():
    (result,) = requests.results(reply_body(label_of(SKY, SKY), CODES, image=False))
    assert result.image is None and result.codes["layer_1"].data == CODES["layer_1"].data


def test_the_preview_goes_above_the_results_and_is_never_a_label_layer():
    layers = [LayerInfo("p", PREVIEW_NAME, "paintlayer"), LayerInfo("g", GROUP_NAME, "grouplayer"),
              LayerInfo("r", "seed 1", "paintlayer", "g"), LayerInfo("l", "labels", "paintlayer")]
    assert preview_layer(layers, "l") == "p" and preview_anchor(layers, "l") == "g"
    assert preview_anchor(layers[3:], "l") == "l" and preview_layer(layers[3:], "l") is None
    assert [layer.uid for layer in label_candidates(layers)] == ["l"]
    assert pick_label_layer(layers[:1], "p") is None
    assert result_name("live", 7) == "live, seed 7"


# ---- against a real daemon -----------------------------------------------------------------------


def test_a_burst_against_the_daemon_ends_on_the_last_label(conn):  # noqa: F811
    palette = Palette.from_model_info(conn.model_info(MODEL))
    shown: list[live.Shown] = []
    session = live.LiveSession(conn, MODEL, shown.append, seed=3)
    labels = [read_label_pixels(stripes(palette, 24 + i, 16), 24 + i, 16, palette) for i in range(20)]
    for i, label in enumerate(labels):
        session.label_changed(label, float(i))
    wait_for(lambda: session.state != live.WORKING, conn)
    assert session.failure is None and session.sent == 2  # the first draws the codes, the second renders the last
    assert shown[-1].label is labels[-1] and (shown[-1].image.width, shown[-1].image.height) == (43, 16)
    again = live.LiveSession(conn, MODEL, shown.append, session.codes)
    again.label_changed(labels[-1], 0.0)
    wait_for(lambda: again.state != live.WORKING, conn)
    assert shown[-1].image.rgb == shown[-2].image.rgb  # the same codes and label: the same picture
