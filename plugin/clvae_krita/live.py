"""Live mode: the picture follows the label layer while the artist paints, always with the
same codes, so a stroke changes the picture where the labels changed and the rest keeps
its style.

Krita has no signal for pixel changes, so the label layer is polled while Live is on.
``LabelWatcher``: the UI thread only reads pixels (``check``), one band of rows at a time
so that a read stays short on large canvases; a worker thread fingerprints the band
(zlib.crc32 releases the GIL) and, only when it changed, samples it down to the working
size and reads the whole working map as classes. The model draws at its own small size,
so the working size is a few times that, not the canvas's.

``LiveSession``: the label maps that come out become daemon requests, latest wins. One
request at a time; changes while it runs are coalesced into one next request for the
newest label map; a reply to anything but the request in flight is dropped, so a stale
picture never follows a newer one; ``stop`` cancels what is in flight at once. Code
changes (shuffle, re-roll, nudge, style) are requests too: their replies' codes become the
live codes that every later render uses.
"""

from __future__ import annotations

import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from . import requests
from .palette import LabelMap, Palette, read_label_pixels
from .requests import Image, Result
from .sidecar import StoredArray

WORKING_SCALE = 2  # the working label map has at most this many times the model's side
BAND_PIXELS = 1024 * 1024  # pixels one check reads at most (4 MB)
IDLE, WORKING, UP_TO_DATE = "idle", "working", "up to date"
Codes = dict[str, StoredArray]


# ---- change detection -----------------------------------------------------------------------


def working_side(model_info: dict) -> int:
    """The longest side of live label maps for a model (its hello entry)."""
    resolution = model_info["resolution"]
    return WORKING_SCALE * max(resolution["height"], resolution["width"])


def working_step(width: int, height: int, max_side: int) -> int:
    """Every how many pixels the working label map samples the layer (1: all of them)."""
    return -(-max(width, height) // max_side)


def band_rows(width: int, step: int) -> int:
    """Rows per band: at most ``BAND_PIXELS`` pixels, a multiple of ``step``."""
    return max(step, BAND_PIXELS // width // step * step)


@dataclass
class Pixels:
    """Rows ``top`` .. of a ``width`` x ``height`` label layer, BGRA as Krita handed them over
    (any buffer: a QByteArray is not copied), and when they were read (time.perf_counter)."""

    data: Any
    width: int
    height: int
    top: int
    read_at: float


@dataclass
class Reading:
    """A new label map at the working size (or why the layer cannot be read as one); it
    shows every change made before ``read_at``."""

    read_at: float
    label: Optional[LabelMap] = None
    error: Optional[str] = None


@dataclass
class _Band:
    fingerprint: int
    rows: bytes  # its working-size rows, BGRA
    read_at: float


def fingerprint(pixels: Pixels) -> int:
    """A checksum of the rows and where they are (zlib.crc32 runs without the GIL)."""
    return zlib.crc32(pixels.data, zlib.crc32(f"{pixels.width}x{pixels.height}+{pixels.top}".encode()))


def downsample(pixels: Pixels, step: int) -> bytes:
    """Every ``step``-th pixel of every ``step``-th row (nearest), BGRA; ``pixels.top`` is a
    multiple of ``step``."""
    words = memoryview(pixels.data).cast("I")
    width, count = pixels.width, len(words) // pixels.width
    return b"".join(words[y * width:(y + 1) * width:step].tobytes() for y in range(0, count, step))


class LabelWatcher:
    """Polls one label layer: ``next_band`` says which rows to read, ``check`` (UI thread)
    hands them over, ``collect`` later returns a new label map (None: nothing new, or still
    at work). One check at a time, so checks never queue up; the worker thread alone keeps
    the bands' state."""

    def __init__(self, palette: Palette, transparent: Optional[int], max_side: int) -> None:
        self.palette, self.transparent, self.max_side = palette, transparent, max_side
        self._next_top = 0
        self._check: Optional[Future] = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="clvae-live")
        self._bands: dict[int, _Band] = {}  # worker thread only: top row -> band
        self._size = (0, 0)
        self._read_with: Optional[int] = None  # the class of transparent pixels of the last label map

    @property
    def busy(self) -> bool:
        return self._check is not None

    def next_band(self, width: int, height: int) -> tuple[int, int]:
        """(top row, rows) of the band to read next; bands take turns."""
        rows = band_rows(width, working_step(width, height, self.max_side))
        top = self._next_top if self._next_top < height and self._next_top % rows == 0 else 0
        self._next_top = top + rows
        return top, min(rows, height - top)

    def check(self, pixels: Pixels) -> None:
        self._check = self._worker.submit(self._examine, pixels, self.transparent)

    def collect(self) -> Optional[Reading]:
        if self._check is None or not self._check.done():
            return None
        future, self._check = self._check, None
        return future.result()

    def close(self) -> None:
        """Drop the check at work; the watcher is done."""
        self._check = None
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _examine(self, pixels: Pixels, transparent: Optional[int]) -> Optional[Reading]:
        """Worker thread: keep the band if it changed; the label map once every band is known."""
        if (pixels.width, pixels.height) != self._size:
            self._size, self._bands = (pixels.width, pixels.height), {}
        step = working_step(pixels.width, pixels.height, self.max_side)
        mark = fingerprint(pixels)
        band = self._bands.get(pixels.top)
        if band is not None and band.fingerprint == mark:
            band.read_at = pixels.read_at
            if transparent == self._read_with:
                return None
        else:
            self._bands[pixels.top] = _Band(mark, downsample(pixels, step), pixels.read_at)
        if len(self._bands) * band_rows(pixels.width, step) < pixels.height:
            return None  # not every band read yet
        self._read_with = transparent
        return self._read(step, transparent)

    def _read(self, step: int, transparent: Optional[int]) -> Reading:
        width, height = self._size
        bands = [self._bands[top] for top in sorted(self._bands)]
        reading = Reading(min(band.read_at for band in bands))
        try:
            reading.label = read_label_pixels(b"".join(band.rows for band in bands), -(-width // step),
                                              -(-height // step), self.palette, transparent)
        except ValueError as error:  # LabelError: far colours, unclassed transparent pixels
            reading.error = str(error)
        return reading


# ---- the session ------------------------------------------------------------------------------


@dataclass
class Edit:
    """A change of the live codes: the request for the current label map and codes, and how
    its reply's codes become the live codes (``merge`` None: they are the new codes, and the
    reply's picture shows them)."""

    operation: str
    body: Callable[[LabelMap, Optional[Codes]], dict]
    merge: Optional[Callable[[Codes, Codes], Codes]] = None


@dataclass
class Shown:
    """A picture for the preview: made for ``label`` from pixels read at ``read_at``."""

    image: Image
    label: LabelMap
    read_at: float
    round_trip: float  # seconds from sending its request to the reply


@dataclass
class _Sent:
    edit: Optional[Edit]  # None: a render
    label: LabelMap
    read_at: float
    sent_at: float
    request_id: str = ""


class LiveSession:
    """Latest-wins rendering of one label layer. ``connection`` is a
    ``connection.Connection`` (``submit``, ``cancel``); ``show`` puts a picture in the
    preview. Without ``codes`` the first request draws new ones (seed ``seed``)."""

    def __init__(self, connection: Any, model: str, show: Callable[[Shown], None], codes: Optional[Codes] = None,
                 seed: Optional[int] = None) -> None:
        self.connection, self.model, self.show = connection, model, show
        self.codes, self.seed = codes, seed
        self.label: Optional[LabelMap] = None
        self.shown: Optional[Shown] = None
        self.failure: Optional[dict] = None  # the reply body of the last failed request
        self.sent = 0  # requests sent
        self.running = True
        self._read_at = 0.0
        self._dirty = False  # the label or codes changed since the last render was sent
        self._edit: Optional[Edit] = None
        self._in_flight: Optional[_Sent] = None

    @property
    def state(self) -> str:
        if self._in_flight is not None:
            return WORKING
        fresh = self.shown is not None and not self._dirty and self._edit is None and self.failure is None
        return UP_TO_DATE if fresh else IDLE

    def label_changed(self, label: LabelMap, read_at: float) -> None:
        self.label, self._read_at, self._dirty = label, read_at, True
        self._next()

    def change_codes(self, edit: Edit) -> None:
        """Apply ``edit`` next (it replaces one that has not started yet)."""
        self._edit = edit
        self._next()

    def shuffle(self, seed: Optional[int] = None) -> None:
        """New codes for everything."""
        self.change_codes(draw(seed, self.model))

    def stop(self) -> None:
        """Cancel the request in flight and forget what was waiting; later replies are dropped."""
        if self._in_flight is not None:
            self.connection.cancel(self._in_flight.request_id)
        self._in_flight, self._edit, self._dirty, self.running = None, None, False, False

    def _next(self) -> None:
        """Send the next request if none is in flight: new codes while there are none (other
        code changes wait for them), else a code change, else a render of a changed label."""
        if self._in_flight is not None or self.label is None or not self.running:
            return
        edit = self._edit
        if self.codes is None and (edit is None or edit.operation != "generate"):
            edit = draw(self.seed, self.model)
        if edit is None and not self._dirty:
            return
        body = edit.body(self.label, self.codes) if edit else requests.render_body(self.label, self.codes, self.model)
        sent = _Sent(edit, self.label, self._read_at, time.perf_counter())
        try:
            sent.request_id = self.connection.submit(edit.operation if edit else "render", body,
                                                     lambda ok, reply: self._done(sent, ok, reply))
        except ConnectionError as error:
            self.failure = {"code": "disconnected", "message": str(error)}
            return
        if edit is self._edit:
            self._edit = None
        self._in_flight, self._dirty = sent, False
        self.sent += 1

    def _done(self, sent: _Sent, ok: bool, reply: dict) -> None:
        if sent is not self._in_flight:
            return  # stopped, or superseded: nobody waits for this one
        self._in_flight = None
        if ok:
            self._take(sent, requests.results(reply)[0])
        else:
            self.failure = reply
        self._next()

    def _take(self, sent: _Sent, result: Result) -> None:
        self.failure = None
        if sent.edit is not None:
            self.seed = result.seed
            if sent.edit.merge is not None:  # codes only: render them next
                self.codes, self._dirty = sent.edit.merge(self.codes, result.codes), True
                return
        self.codes = result.codes
        self.shown = Shown(result.image, sent.label, sent.read_at, time.perf_counter() - sent.sent_at)
        self.show(self.shown)


def draw(seed: Optional[int], model: str) -> Edit:
    """New codes for everything (``generate`` of one image)."""
    return Edit("generate", lambda label, codes: requests.generate_body(label, 1, seed, model))


def class_edit(class_id: int, layers: str, seed: Optional[int], strength: Optional[float], model: str) -> Edit:
    """Re-roll (``strength`` None) or nudge one class's live codes at ``layers``."""
    if strength is None:
        return Edit("reroll", lambda label, codes: requests.reroll_body(label, codes, [class_id], layers, seed,
                                                                         model=model))
    return Edit("edit", lambda label, codes: requests.edit_body(label, codes, class_id, layers, strength, seed, model))


def style_edit(ref_image: Image, ref_label: LabelMap, classes: Sequence[int], take_global: bool, model: str) -> Edit:
    """The reference's codes (the encoder's) for ``classes`` at every layer, and its z_1 with
    ``take_global``; every other live code stays (as ``transfer`` mixes them)."""
    return Edit("encode", lambda label, codes: requests.encode_body(ref_image, ref_label, model),
                lambda codes, style: splice_codes(codes, style, classes, take_global))


def splice_codes(codes: Codes, other: Codes, classes: Sequence[int], take_global: bool) -> Codes:
    """``codes`` with ``other``'s rows of ``classes`` in every code layer (a layer of one shared
    row: all of it), and ``other``'s z_1 with ``take_global``."""
    spliced = dict(codes)
    for name, array in codes.items():
        if name.startswith("layer_"):
            spliced[name] = _rows_from(array, other[name], classes)
    if take_global and "z_global" in codes:
        spliced["z_global"] = other["z_global"]
    return spliced


def _rows_from(array: StoredArray, other: StoredArray, rows: Sequence[int]) -> StoredArray:
    """``array`` (1, S, N) with ``other``'s ``rows`` (S = 1: ``other`` itself)."""
    _, count, channels = array.shape
    if count == 1:
        return other
    data = bytearray(array.data)
    row_bytes = channels * 4  # float32
    for row in rows:
        data[row * row_bytes:(row + 1) * row_bytes] = other.data[row * row_bytes:(row + 1) * row_bytes]
    return StoredArray(array.dtype, array.shape, bytes(data))
