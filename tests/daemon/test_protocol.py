"""The protocol module alone: framing, arrays, schemas, signatures, limits."""

from __future__ import annotations

import subprocess
import sys

import msgpack
import numpy as np
import pytest

from daemon import protocol
from daemon.arrays import from_numpy, to_numpy
from daemon.protocol import Array, Message, ProtocolError, decode, encode
from tests.daemon.conftest import ROOT

KEY = b"k" * 32


def round_trip(message: Message, role: str = "request", key=None, decode_key=None) -> Message:
    frames = encode(message, key)
    assert frames[0] == b""
    return decode([bytes(f) for f in frames[1:]], role, decode_key)


def error_of(frames, role: str = "request", key=None) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode(frames, role, key)
    return caught.value


def generate_frames(**changes) -> list[bytes]:
    """[signature, header, data] of a generate request, header fields replaced by ``changes``."""
    envelope = {"v": 1, "id": "r-1", "type": "generate", "ts": 1.0,
                "body": {"label": {"dtype": "uint8", "shape": [2, 3], "frame": 0}}, **changes}
    return [b"", msgpack.packb(envelope), bytes(6)]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "float32", "bool"])
def test_arrays_round_trip_through_bytes(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 2).astype(dtype)
    wire = from_numpy(np.asfortranarray(array))
    assert (wire.dtype, wire.shape, wire.nbytes) == (dtype, (2, 3, 4), array.nbytes)
    back = to_numpy(Array(wire.dtype, wire.shape, bytes(wire.data)))
    assert back.dtype == array.dtype and np.array_equal(back, array) and back.flags.writeable


def test_a_request_round_trips_with_its_arrays_and_codes():
    codes = {"present": from_numpy(np.ones((1, 5), bool)), "z_global": from_numpy(np.zeros((1, 8), np.float32)),
             "layer_1": from_numpy(np.zeros((1, 5, 5), np.float32))}
    label = from_numpy(np.arange(12, dtype=np.uint16).reshape(3, 4))
    sent = Message("edit", {"label": label, "codes": codes, "cls": "sky", "target": codes, "strength": 1}, "a-1")
    got = round_trip(sent)
    assert (got.type, got.id, got.version) == ("edit", "a-1", 1)
    assert got.body["strength"] == 1.0 and got.body["cls"] == "sky"
    assert np.array_equal(to_numpy(got.body["label"]), np.arange(12).reshape(3, 4))
    assert got.body["codes"].keys() == got.body["target"].keys() == codes.keys()


def test_codes_may_carry_an_anchor_under_prefixed_names_and_nothing_else():
    codes = {"present": from_numpy(np.ones((1, 5), bool)), "layer_1": from_numpy(np.zeros((1, 5, 5), np.float32))}
    anchored = {**codes, **{f"anchor_{name}": array for name, array in codes.items()}}
    label = from_numpy(np.zeros((3, 4), np.uint8))
    got = round_trip(Message("render", {"label": label, "codes": anchored}, "a-2"))
    assert got.body["codes"].keys() == anchored.keys()
    for name in ("anchor_layer_x", "anchor_anchor_present", "anchorpresent"):
        body = {"label": label, "codes": {**codes, name: codes["present"]}}
        assert error_of(encode(Message("render", body, "a-3"))[1:]).code == protocol.BAD_REQUEST


def test_replies_keep_unknown_fields_out_and_requests_refuse_them():
    reply = round_trip(Message("busy", {"message": "full", "queued": 3, "limit": 3, "later": 1}, "x"), "reply")
    assert reply.body == {"message": "full", "queued": 3, "limit": 3}
    assert error_of(encode(Message("status", {"later": 1}, "x"))[1:]).code == protocol.BAD_REQUEST


@pytest.mark.parametrize("changes, code", [
    ({"v": 2}, protocol.VERSION_MISMATCH),
    ({"v": True}, protocol.VERSION_MISMATCH),
    ({"v": "1"}, protocol.VERSION_MISMATCH),
    ({"type": "result"}, protocol.UNKNOWN_TYPE),
    ({"id": None}, protocol.BAD_REQUEST),
    ({"id": "has space"}, protocol.BAD_REQUEST),
    ({"ts": float("nan")}, protocol.BAD_REQUEST),
    ({"body": []}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "float64", "shape": [2, 3], "frame": 0}}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [3, 3], "frame": 0}}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [4096, 4096], "frame": 0}}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [2**31, 2], "frame": 0}}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [2, 3], "frame": 7}}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [2, 3], "frame": 0}, "n": 2.0}}, protocol.BAD_REQUEST),
    ({"body": {"label": {"dtype": "uint8", "shape": [2, 3], "frame": 0}, "seed": -1}}, protocol.BAD_REQUEST),
    ({"body": {}}, protocol.BAD_REQUEST),
])
def test_malformed_envelopes_and_bodies_are_typed_errors(changes, code):
    error = error_of(generate_frames(**changes))
    assert error.code == code
    assert error.request_id == changes.get("id", "r-1") or error.request_id is None


def test_every_data_frame_must_be_used_exactly_once():
    frames = generate_frames()
    assert error_of(frames + [b"x"]).code == protocol.BAD_MESSAGE
    reused = generate_frames(body={"label": {"dtype": "uint8", "shape": [2, 3], "frame": 0},
                                   "image": {"dtype": "uint8", "shape": [2, 1, 3], "frame": 0}}, type="encode")
    assert "already uses" in str(error_of(reused))


@pytest.mark.parametrize("header", [b"", b"\x81", b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"v": 1})[:-1],
                                    msgpack.packb({b"\x00": 1}), b"\x91" * 5000,
                                    msgpack.packb({"v": 1, "x": "y" * (protocol.MAX_TEXT + 1)}),
                                    msgpack.packb({"v": 1, "x": list(range(protocol.MAX_LIST + 1))}),
                                    msgpack.packb({"v": 1, "x": msgpack.ExtType(1, b"a")})])
def test_unreadable_headers_are_bad_messages(header):
    assert error_of([b"", header]).code in (protocol.BAD_MESSAGE, protocol.VERSION_MISMATCH)


def test_oversized_headers_and_bool_bytes_are_refused():
    assert error_of([b"", bytes(protocol.MAX_HEADER_BYTES + 1)]).code == protocol.TOO_LARGE
    frames = generate_frames(type="reroll", body={
        "label": {"dtype": "uint8", "shape": [2, 3], "frame": 0}, "classes": [0],
        "codes": {"present": {"dtype": "bool", "shape": [1, 2], "frame": 1}}})
    assert "0 and 1" in str(error_of(frames + [b"\x00\x02"]))


def test_generate_replies_are_capped_in_total_pixels():
    label = Array("uint8", (4096, 4096), bytes(4096 * 4096))
    assert error_of(encode(Message("generate", {"label": label, "n": 5}, "big"))[1:]).code == protocol.TOO_LARGE


def test_signatures_cover_every_frame_and_its_boundaries():
    label = from_numpy(np.zeros((2, 3), np.uint8))
    message = Message("generate", {"label": label}, "s-1")
    assert round_trip(message, key=KEY, decode_key=KEY).id == "s-1"
    assert error_of(encode(message)[1:], key=KEY).code == protocol.AUTH_FAILED
    assert error_of(encode(message, b"x" * 32)[1:], key=KEY).code == protocol.AUTH_FAILED
    frames = [bytes(f) for f in encode(message, KEY)[1:]]
    tampered = frames[:2] + [b"\x01" + frames[2][1:]]
    error = error_of(tampered, key=KEY)
    assert (error.code, error.request_id) == (protocol.AUTH_FAILED, "s-1")
    assert protocol.sign(KEY, [b"ab", b"c"]) != protocol.sign(KEY, [b"a", b"bc"])


def test_key_files_need_32_bytes(tmp_path):
    (tmp_path / "short").write_text("abc\n")
    (tmp_path / "good").write_text("a" * 64 + "\n")
    with pytest.raises(ValueError, match="at least 32"):
        protocol.read_key_file(tmp_path / "short")
    assert protocol.read_key_file(tmp_path / "good") == b"a" * 64


def test_routing_frames_end_at_the_delimiter():
    assert protocol.split_routing([b"id", b"client", b"", b"sig", b"h"]) == ([b"id", b"client"], [b"sig", b"h"])
    assert protocol.split_routing([b"id", b"x"]) == ([], [b"id", b"x"])


def test_protocol_and_client_import_without_numpy_or_torch():
    """As Krita's Python has them: standard library, zmq and msgpack only."""
    code = ("import sys; sys.modules['numpy'] = sys.modules['torch'] = sys.modules['clvae'] = None; "
            "import daemon.protocol, daemon.client; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_the_plugin_links_to_the_same_files():
    for name in ("protocol.py", "client.py"):
        link = ROOT / "plugin" / "clvae_krita" / name
        assert link.is_symlink() and link.resolve() == ROOT / "daemon" / name
