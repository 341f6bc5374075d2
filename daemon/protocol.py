"""clvae wire protocol v1, shared by the daemon and its clients (docs/protocol.md is the spec).

Imports only the standard library, pyzmq and msgpack, so Krita's embedded Python can use it
(the plugin links to this file). A message is one ZeroMQ multipart message:

    frame 0   b""             delimiter (routing frames go before it)
    frame 1   signature       b"" without a key, else hex HMAC-SHA256 of frames 2.. (``sign``)
    frame 2   header          msgpack map {"v", "id", "type", "ts", "body"}
    frame 3.. array data      raw little-endian C-order bytes, one frame per array

An array inside a body is the map {"dtype", "shape", "frame"}: ``frame`` counts from 0 at
the first data frame. Every body is checked against the schema of its message type
(``REQUESTS``, ``REPLIES``) before anyone uses it; every failure is a ``ProtocolError``
with a short ``code``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import msgpack
import zmq

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)
DEFAULT_PORT = 5577
DEFAULT_ENDPOINT = f"tcp://127.0.0.1:{DEFAULT_PORT}"

# ---- limits ------------------------------------------------------------------------------
MAX_SIDE = 4096  # pixels, either side of a label map or image
MAX_COUNT = 64  # images per generate request
MAX_RESULT_PIXELS = 32 * MAX_SIDE * MAX_SIDE // 8  # n x H x W of one generate: 192 MiB of images
MAX_FRAME_BYTES = MAX_SIDE * MAX_SIDE * 4  # one int32 label map of the largest size (64 MiB)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # all frames of one message
MAX_FRAMES = 1024  # routing, delimiter, signature, header and arrays of one message
MAX_HEADER_BYTES = 256 * 1024
MAX_TEXT = 4096  # characters of any string
MAX_LIST = 4096  # items of any list
MAX_MAP = 256  # entries of any map
MAX_SEED = 2**63 - 1
UNPACK_LIMITS = {"max_bin_len": 0, "max_str_len": MAX_TEXT, "max_array_len": MAX_LIST,
                 "max_map_len": MAX_MAP, "max_ext_len": 0}
REPLAY_WINDOW = 300.0  # seconds: how far a signed request's "ts" may be from the daemon's clock
DTYPES = {"uint8": 1, "uint16": 2, "int32": 4, "float32": 4, "bool": 1}  # name -> bytes per element
LABEL_DTYPES = ("uint8", "uint16", "int32")
REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII without spaces

# ---- error codes -------------------------------------------------------------------------
BAD_MESSAGE = "bad_message"  # frames or header unreadable
BAD_REQUEST = "bad_request"  # a field missing, unknown, of the wrong type or out of range
UNKNOWN_TYPE = "unknown_type"
VERSION_MISMATCH = "version_mismatch"
TOO_LARGE = "too_large"
AUTH_FAILED = "auth_failed"
UNKNOWN_MODEL = "unknown_model"
BAD_CODES = "bad_codes"
CANCELLED = "cancelled"
SHUTTING_DOWN = "shutting_down"
OUT_OF_MEMORY = "out_of_memory"
INTERNAL = "internal"
TIMEOUT = "timeout"  # made by the client: no word from the daemon in time
DISCONNECTED = "disconnected"  # made by the client: the connection to the daemon dropped
BAD_REPLY = "bad_reply"  # made by the client: a reply it could not read


class ProtocolError(Exception):
    """A message that breaks the protocol. ``code`` names the failure; ``request_id`` is the
    id of the offending request where it could be read."""

    def __init__(self, code: str, message: str, request_id: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


@dataclass(frozen=True)
class Array:
    """An n-d array as plain bytes: ``data`` holds prod(shape) elements of ``dtype``,
    little-endian, C order (bytes, bytearray or memoryview)."""

    dtype: str
    shape: tuple[int, ...]
    data: Any

    @property
    def nbytes(self) -> int:
        return memoryview(self.data).nbytes


@dataclass
class Message:
    type: str
    body: dict
    id: Optional[str] = None
    version: int = PROTOCOL_VERSION
    ts: float = 0.0  # sender's clock (Unix seconds), set by ``encode``


def error_reply(request_id: Optional[str], code: str, message: str, **extra: Any) -> Message:
    """An error reply; the message is cut to what a reply may carry."""
    return Message("error", {"code": code, "message": message[:MAX_TEXT], **extra}, request_id)


# ---- signing -----------------------------------------------------------------------------


def sign(key: Optional[bytes], frames: Sequence[Any]) -> bytes:
    """Hex HMAC-SHA256 of ``frames`` (header and data), each prefixed by its 8-byte big-endian
    length so frame boundaries count; b"" without a key."""
    if key is None:
        return b""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for frame in frames:
        digest.update(memoryview(frame).nbytes.to_bytes(8, "big"))
        digest.update(frame)
    return digest.hexdigest().encode("ascii")


def verify(key: bytes, signature: Any, frames: Sequence[Any]) -> bool:
    return hmac.compare_digest(bytes(signature), sign(key, frames))


def read_key_file(path: str | Path) -> bytes:
    """The shared secret: a file's content without surrounding whitespace, at least 32 bytes."""
    key = Path(path).read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"the key file {path} holds {len(key)} bytes; a key needs at least 32 "
                         "(make one with: clvae-daemon --new-key-file PATH)")
    return key


# ---- frames ------------------------------------------------------------------------------


def receive(socket: zmq.Socket, flags: int = 0) -> tuple[list[Any], bool]:
    """One multipart message as buffers, read frame by frame: (frames, too_large). Past
    ``MAX_FRAMES`` frames or ``MAX_MESSAGE_BYTES`` bytes the rest is read and dropped, so a
    hostile message cannot fill memory; the frames kept still start with the routing."""
    frames: list[Any] = []
    total, too_large = 0, False
    frame = socket.recv(flags, copy=False)
    while True:
        total += len(frame)
        too_large = too_large or total > MAX_MESSAGE_BYTES or len(frames) >= MAX_FRAMES
        if not too_large:
            frames.append(frame.buffer)
        if not socket.getsockopt(zmq.RCVMORE):
            return frames, too_large
        frame = socket.recv(copy=False)


def split_routing(frames: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(routing frames, payload after the empty delimiter); no delimiter: ([], frames)."""
    for i, frame in enumerate(frames):
        if len(frame) == 0:
            return list(frames[:i]), list(frames[i + 1:])
    return [], list(frames)


def encode(message: Message, key: Optional[bytes] = None) -> list[Any]:
    """Frames of ``message`` from the delimiter on: [b"", signature, header, *data]."""
    data: list[Any] = []
    header = msgpack.packb({"v": message.version, "id": message.id, "type": message.type, "ts": time.time(),
                            "body": _to_wire(message.body, data)}, use_bin_type=True)
    parts = [header, *data]
    return [b"", sign(key, parts), *parts]


def _to_wire(value: Any, data: list[Any]) -> Any:
    """``value`` with every Array replaced by its reference; their bytes go to ``data``."""
    if isinstance(value, Array):
        data.append(value.data)
        return {"dtype": value.dtype, "shape": list(value.shape), "frame": len(data) - 1}
    if isinstance(value, dict):
        return {name: _to_wire(item, data) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(item, data) for item in value]
    return value


def decode(payload: Sequence[Any], role: str, key: Optional[bytes] = None) -> Message:
    """The checked message of ``payload`` ([signature, header, *data], the frames after the
    delimiter); ``role`` "request" or "reply" picks the schemas (``REQUESTS``, ``REPLIES``)."""
    if len(payload) < 2:
        raise ProtocolError(BAD_MESSAGE, f"a message needs a signature frame and a header frame after the "
                            f"delimiter, got {len(payload)} frame(s)")
    signature, header, data = payload[0], payload[1], list(payload[2:])
    if key is not None and not verify(key, signature, payload[1:]):
        raise ProtocolError(AUTH_FAILED, "the message is unsigned or its signature does not match the key",
                            peek_id(header))
    envelope = unpack_header(header)
    request_id = _envelope_id(envelope)
    try:
        return _check_envelope(envelope, data, role, request_id)
    except ProtocolError as error:
        error.request_id = request_id
        raise


def unpack_header(header: Any) -> dict:
    if len(header) > MAX_HEADER_BYTES:
        raise ProtocolError(TOO_LARGE, f"the header is {len(header)} bytes; at most {MAX_HEADER_BYTES} are read")
    try:
        envelope = msgpack.unpackb(header, raw=False, strict_map_key=True, use_list=True, **UNPACK_LIMITS)
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as error:
        raise ProtocolError(BAD_MESSAGE, f"the header is not readable msgpack: {type(error).__name__}: {error}") \
            from None
    if not isinstance(envelope, dict):
        raise ProtocolError(BAD_MESSAGE, f"the header must be a msgpack map, got {_type_name(envelope)}")
    return envelope


def peek_id(header: Any) -> Optional[str]:
    """The request id of a header where it can be read, else None."""
    try:
        return _envelope_id(unpack_header(header))
    except ProtocolError:
        return None


def _envelope_id(envelope: dict) -> Optional[str]:
    request_id = envelope.get("id")
    return request_id if isinstance(request_id, str) and REQUEST_ID.fullmatch(request_id) else None


def _check_envelope(envelope: dict, data: list[Any], role: str, request_id: Optional[str]) -> Message:
    version = envelope.get("v")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise ProtocolError(VERSION_MISMATCH, f"protocol version {_shown(version)} is not supported; this side speaks "
                            f"{', '.join(map(str, SUPPORTED_VERSIONS))}")
    checked = ENVELOPE.check(envelope, _Frames(data), "header")
    if role == "request" and checked["id"] is None:
        raise ProtocolError(BAD_REQUEST, "a request needs an id")
    schemas = REQUESTS if role == "request" else REPLIES
    if checked["type"] not in schemas:
        raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {checked['type']!r}; expected one of "
                            + ", ".join(schemas))
    frames = _Frames(data)
    body = schemas[checked["type"]].check(checked["body"], frames, "body")
    frames.require_all_used()
    for rule in CROSS_CHECKS.get(checked["type"], ()):
        rule(body)
    return Message(checked["type"], body, request_id, version, checked["ts"])


# ---- schema kinds --------------------------------------------------------------------------


class _Frames:
    """The data frames of one message and which of them a body has referenced."""

    def __init__(self, data: list[Any]) -> None:
        self.data = data
        self.used: set[int] = set()

    def take(self, index: int, path: str) -> Any:
        if not 0 <= index < len(self.data):
            raise _bad(path, f"refers to data frame {index}, but the message has {len(self.data)}")
        if index in self.used:
            raise _bad(path, f"refers to data frame {index}, which another array already uses")
        self.used.add(index)
        return self.data[index]

    def require_all_used(self) -> None:
        if len(self.used) != len(self.data):
            raise ProtocolError(BAD_MESSAGE, f"the message has {len(self.data)} data frames but its body uses "
                                f"{len(self.used)}")


def _bad(path: str, what: str) -> ProtocolError:
    return ProtocolError(BAD_REQUEST, f"{path} {what}")


def _type_name(value: Any) -> str:
    return {dict: "a map", list: "a list", str: "a string", bytes: "binary", bool: "a boolean", int: "an integer",
            float: "a float", type(None): "nil"}.get(type(value), type(value).__name__)


class Kind:
    """What one value of a message may be: ``check`` returns it (arrays resolved) or raises."""

    description = "a value"

    def check(self, value: Any, frames: _Frames, path: str) -> Any:
        raise NotImplementedError


class Text(Kind):
    def __init__(self, max_length: int = 200, choices: Sequence[str] = (), pattern: Optional[re.Pattern] = None):
        self.max_length, self.choices, self.pattern = max_length, tuple(choices), pattern
        self.description = " or ".join(map(repr, choices)) if choices else "a string"

    def check(self, value: Any, frames: _Frames, path: str) -> str:
        if not isinstance(value, str):
            raise _bad(path, f"must be {self.description}, got {_type_name(value)}")
        if self.choices and value not in self.choices:
            raise _bad(path, f"must be {self.description}, got {value[:40]!r}")
        if len(value) > self.max_length or (self.pattern is not None and not self.pattern.fullmatch(value)):
            raise _bad(path, f"is not a valid value: {value[:40]!r}")
        return value


class Integer(Kind):
    def __init__(self, low: int = 0, high: int = 2**31 - 1):
        self.low, self.high = low, high
        self.description = f"an integer in {low}..{high}"

    def check(self, value: Any, frames: _Frames, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise _bad(path, f"must be {self.description}, got {_shown(value)}")
        return value


class Number(Kind):
    def __init__(self, low: float = -math.inf, high: float = math.inf):
        self.low, self.high = low, high
        self.description = f"a finite number in [{low:g}, {high:g}]"

    def check(self, value: Any, frames: _Frames, path: str) -> float:
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or not self.low <= value <= self.high):
            raise _bad(path, f"must be {self.description}, got {_shown(value)}")
        return float(value)


class Flag(Kind):
    description = "true or false"

    def check(self, value: Any, frames: _Frames, path: str) -> bool:
        if not isinstance(value, bool):
            raise _bad(path, f"must be true or false, got {_type_name(value)}")
        return value


class Maybe(Kind):
    """nil or ``kind``."""

    def __init__(self, kind: Kind):
        self.kind = kind
        self.description = f"nil or {kind.description}"

    def check(self, value: Any, frames: _Frames, path: str) -> Any:
        return None if value is None else self.kind.check(value, frames, path)


class Either(Kind):
    """The first of ``kinds`` that ``value`` fits, tried in order."""

    def __init__(self, *kinds: Kind):
        self.kinds = kinds
        self.description = " or ".join(kind.description for kind in kinds)

    def check(self, value: Any, frames: _Frames, path: str) -> Any:
        for kind in self.kinds:
            try:
                return kind.check(value, frames, path)
            except ProtocolError:
                continue
        raise _bad(path, f"must be {self.description}, got {_shown(value)}")


class ListOf(Kind):
    def __init__(self, item: Kind, min_length: int = 0, max_length: int = MAX_LIST):
        self.item, self.min_length, self.max_length = item, min_length, max_length
        self.description = f"a list of {item.description}"

    def check(self, value: Any, frames: _Frames, path: str) -> list:
        if not isinstance(value, list) or not self.min_length <= len(value) <= self.max_length:
            raise _bad(path, f"must be a list of {self.min_length}..{self.max_length} items, got {_shown(value)}")
        return [self.item.check(item, frames, f"{path}[{i}]") for i, item in enumerate(value)]


class AnyMap(Kind):
    """A map, unchecked here (a message body before its type's schema checks it)."""

    description = "a map"

    def check(self, value: Any, frames: _Frames, path: str) -> dict:
        if not isinstance(value, dict):
            raise _bad(path, f"must be a map, got {_type_name(value)}")
        return value


class Record(Kind):
    """A map with ``required`` and ``optional`` fields (absent optional fields stay absent).
    A closed record rejects other fields; an open one drops them (forward compatibility)."""

    description = "a map"

    def __init__(self, required: dict[str, Kind], optional: Optional[dict[str, Kind]] = None, closed: bool = True):
        self.required, self.optional, self.closed = required, optional or {}, closed

    def check(self, value: Any, frames: _Frames, path: str) -> dict:
        if not isinstance(value, dict):
            raise _bad(path, f"must be a map, got {_type_name(value)}")
        missing = [name for name in self.required if name not in value]
        if missing:
            raise _bad(path, f"lacks field {', '.join(map(repr, missing))}")
        fields = {**self.required, **self.optional}
        unknown = [name for name in value if name not in fields]
        if unknown and self.closed:
            raise _bad(path, f"has unknown field {', '.join(repr(name)[:40] for name in unknown[:4])}")
        return {name: fields[name].check(item, frames, f"{path}.{name}") for name, item in value.items()
                if name in fields}


class ArrayRef(Kind):
    """An array: {"dtype", "shape", "frame"} resolved against the message's data frames."""

    def __init__(self, dtypes: Sequence[str], ndim: int, channels: Optional[int] = None):
        self.dtypes, self.ndim, self.channels = tuple(dtypes), ndim, channels
        last = f" x {channels}" if channels else ""
        self.description = f"a {ndim}-d{last} array of {'/'.join(self.dtypes)}"

    def check(self, value: Any, frames: _Frames, path: str) -> Array:
        ref = ARRAY_FIELDS.check(value, frames, path)
        if ref["dtype"] not in self.dtypes:
            raise _bad(path, f"must have dtype {' or '.join(self.dtypes)}, got {ref['dtype']}")
        shape = tuple(ref["shape"])
        if len(shape) != self.ndim or (self.channels is not None and shape[-1] != self.channels):
            raise _bad(path, f"must be {self.description}, got shape {list(shape)}")
        return array_from_bytes(frames.take(ref["frame"], path), ref["dtype"], shape, path)


def array_from_bytes(data: Any, dtype: str, shape: tuple[int, ...], what: str = "array") -> Array:
    """An Array after checking that ``data`` holds exactly ``shape`` of ``dtype`` (bools as 0/1)."""
    if dtype not in DTYPES or any(isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SIDE
                                  for n in shape):
        raise _bad(what, f"has dtype {dtype!r} and shape {list(shape)}; allowed are {', '.join(DTYPES)} with "
                   f"sides of 1..{MAX_SIDE}")
    expected = math.prod(shape) * DTYPES[dtype]
    size = memoryview(data).nbytes
    if size != expected:
        raise _bad(what, f"declares {dtype} {list(shape)} ({expected} bytes) but its data frame holds {size} bytes")
    if dtype == "bool" and bytes(data).translate(None, b"\x00\x01"):
        raise _bad(what, "is a bool array with bytes other than 0 and 1")
    return Array(dtype, shape, data)


class CodesRef(Kind):
    """One image's codes: "present" (1, C) bool, "z_global" (1, N_1) and "layer_<l>" (1, S, N)
    float32 (``Codes.to_arrays``); an edited image's anchor has the same arrays again, each
    name with "anchor_" in front."""

    description = "codes"
    NAME = re.compile(r"(anchor_)?(z_global|present|layer_[1-9])")
    MAX_ARRAYS = 20

    def check(self, value: Any, frames: _Frames, path: str) -> dict[str, Array]:
        if not isinstance(value, dict) or "present" not in value or len(value) > self.MAX_ARRAYS:
            raise _bad(path, f"must be a map of code arrays with 'present' (at most {self.MAX_ARRAYS} entries)")
        codes = {}
        for name, ref in value.items():
            match = self.NAME.fullmatch(name) if isinstance(name, str) else None
            if match is None:
                raise _bad(path, f"has an unknown code array {str(name)[:40]!r}")
            own = match.group(2)
            kind = BOOLS_2D if own == "present" else FLOATS_2D if own == "z_global" else FLOATS_3D
            codes[name] = kind.check(ref, frames, f"{path}.{name}")
        return codes


def _shown(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, (int, float, str, type(None))) else _type_name(value)


# ---- the messages ----------------------------------------------------------------------------

ARRAY_FIELDS = Record({"dtype": Text(16), "shape": ListOf(Integer(0, 2**32), 1, 4), "frame": Integer(0, MAX_FRAMES)})
BOOLS_2D = ArrayRef(["bool"], 2)
FLOATS_2D = ArrayRef(["float32"], 2)
FLOATS_3D = ArrayRef(["float32"], 3)
LABEL = ArrayRef(LABEL_DTYPES, 2)
IMAGE = ArrayRef(["uint8"], 3, channels=3)
CODES = CodesRef()
NAME = Text(200)
MODEL = {"model": NAME}  # optional everywhere: the daemon's default model
SEED = Maybe(Integer(0, MAX_SEED))
CLASS = Either(Integer(0, 65535), NAME)
LAYERS = Maybe(Either(NAME, ListOf(Either(Integer(0, 64), NAME), 1, 64)))
JOB_STATES = ("running",)

ENVELOPE = Record({"v": Integer(), "id": Maybe(Text(64, pattern=REQUEST_ID)), "type": Text(32), "ts": Number(0),
                   "body": AnyMap()})

REQUESTS: dict[str, Record] = {
    "hello": Record({}, {"client": NAME}),
    "status": Record({}),
    "cancel": Record({"target": Text(64, pattern=REQUEST_ID)}),
    "generate": Record({"label": LABEL}, {**MODEL, "n": Integer(1, MAX_COUNT), "seed": SEED}),
    "reroll": Record({"label": LABEL, "codes": CODES, "classes": ListOf(CLASS, 1, 256)},
                     {**MODEL, "layers": LAYERS, "seed": SEED, "preserve": Maybe(IMAGE), "feather": Integer(0, 1024),
                      "anchor": Flag()}),
    "transfer": Record({"label": LABEL, "ref_image": IMAGE, "ref_label": LABEL},
                       {**MODEL, "classes": Maybe(ListOf(CLASS, 1, 256)), "seed": SEED, "take_global": Flag()}),
    "reconstruct": Record({"image": IMAGE, "label": LABEL}, MODEL),
    "encode": Record({"image": IMAGE, "label": LABEL}, MODEL),
    "edit": Record({"label": LABEL, "codes": CODES, "cls": CLASS},
                   {**MODEL, "layers": LAYERS, "target": Either(Text(16, ("random", "direction")), CODES),
                    "strength": Number(0, 1e6), "seed": SEED, "anchor": Flag()}),
    "render": Record({"label": LABEL, "codes": CODES}, MODEL),
}

LAYER_GROUPS = Record({group: ListOf(Integer(0, 64), 0, 64) for group in ("coarse", "fine", "all")}, closed=False)
CLASS_INFO = Record({"id": Integer(0, 65535), "name": NAME, "color": ListOf(Integer(0, 255), 3, 3)}, closed=False)
MODEL_INFO = Record({"model": NAME, "variant": NAME,
                     "resolution": Record({"height": Integer(1), "width": Integer(1)}, closed=False),
                     "classes": ListOf(CLASS_INFO, 1),
                     "layer_groups": LAYER_GROUPS}, closed=False)
RESULT = Record({"codes": CODES, "seed": SEED}, {"image": IMAGE}, closed=False)

REPLIES: dict[str, Record] = {
    "hello": Record({"protocol": ListOf(Integer(), 1, 16), "daemon": NAME, "models": ListOf(MODEL_INFO, 1, 64),
                     "default_model": NAME, "device": NAME, "auth": Flag(),
                     "limits": Record({"max_side": Integer(1), "max_count": Integer(1),
                                       "max_frame_bytes": Integer(1, 2**63), "max_message_bytes": Integer(1, 2**63),
                                       "queue_size": Integer(1)}, closed=False)}, closed=False),
    "status": Record({"queued": Integer(), "running": Maybe(NAME), "limit": Integer(), "done": Integer(0, 2**63),
                      "uptime": Number(0), "device": NAME, "instance": NAME}, closed=False),
    "cancel": Record({"target": Text(64, pattern=REQUEST_ID), "state": Text(16, ("queued", "running", "unknown"))},
                     closed=False),
    "progress": Record({"job": NAME, "state": Text(16, JOB_STATES), "done": Integer(), "total": Integer(1),
                        "fraction": Number(0, 1)}, closed=False),
    "result": Record({"job": NAME, "results": ListOf(RESULT, 1, MAX_COUNT), "seconds": Number(0)}, closed=False),
    "busy": Record({"message": Text(MAX_TEXT), "queued": Integer(), "limit": Integer()}, closed=False),
    "error": Record({"code": Text(64), "message": Text(MAX_TEXT)}, {"supported": ListOf(Integer(), 1, 16)},
                    closed=False),
}


def _result_fits(body: dict) -> None:
    """generate's images together stay under ``MAX_RESULT_PIXELS``."""
    height, width = body["label"].shape
    if body.get("n", 1) * height * width > MAX_RESULT_PIXELS:
        raise ProtocolError(TOO_LARGE, f"{body['n']} images of {width} x {height} exceed the {MAX_RESULT_PIXELS} "
                            "pixels one reply may hold; ask for fewer at a time")


CROSS_CHECKS: dict[str, tuple[Callable[[dict], None], ...]] = {"generate": (_result_fits,)}
