"""A model's class palette and label-layer pixels -> class ids, in pure Python.

Krita's Python has no numpy, so a label layer (RGBA 8-bit, BGRA byte order) is read as one
32-bit value per pixel and each *distinct* colour is classified once; the per-pixel step is
a C-level ``map`` over a dict (about 35 ms for 512 x 512 on one core).

A colour is classified as
- transparent: alpha below half; it takes the class chosen for transparent pixels, or is
  reported;
- a class: its palette colour, or an antialiased edge between two palette colours (a point
  near the straight line between them: the nearer end wins), or, failing that, the nearest
  palette colour within ``threshold`` (RGB distance);
- far: nothing within ``threshold``; reported with how many pixels and where, never guessed.
"""

from __future__ import annotations

import itertools
import math
import sys
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

DEFAULT_THRESHOLD = 40.0  # RGB distance, as clvae.labels (the bundled palette's colours are 34.6+ apart)
BLEND_TOLERANCE = 6.0  # RGB distance from the line between two palette colours that still counts as their blend
BLEND_CANDIDATES = 6  # nearest palette colours whose pairs are tried as blend ends
ALPHA_MIN = 128  # pixels less opaque than this are transparent
PROBLEM_COLOURS = 5  # problem colours named in a report
TRANSPARENT = -1
FAR = -2


@dataclass(frozen=True)
class ClassColour:
    id: int
    name: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#" + bytes(self.rgb).hex()


class Palette:
    """The classes of one model, in id order."""

    def __init__(self, classes: Sequence[ClassColour]) -> None:
        self.classes = list(classes)
        self.by_id = {entry.id: entry for entry in self.classes}
        self.by_rgb = {entry.rgb: entry for entry in self.classes}

    @classmethod
    def from_model_info(cls, info: dict) -> "Palette":
        """From a model entry of the daemon's hello reply."""
        return cls([ClassColour(int(c["id"]), str(c["name"]), tuple(int(v) for v in c["color"]))
                    for c in info["classes"]])

    def __len__(self) -> int:
        return len(self.classes)

    def nearest(self, rgb: Sequence[int], count: int = 1) -> list[tuple[float, ClassColour]]:
        """The ``count`` palette colours nearest to ``rgb``, with their distances."""
        ranked = sorted((math.dist(rgb, entry.rgb), entry.id) for entry in self.classes)
        return [(distance, self.by_id[class_id]) for distance, class_id in ranked[:count]]

    def classify(self, rgb: tuple[int, int, int], threshold: float = DEFAULT_THRESHOLD) -> int:
        """The class id of an opaque colour, or ``FAR``."""
        exact = self.by_rgb.get(rgb)
        if exact is not None:
            return exact.id
        candidates = self.nearest(rgb, BLEND_CANDIDATES)
        distance, nearest = candidates[0]
        if distance <= BLEND_TOLERANCE:
            return nearest.id
        blend = self._blend_end(rgb, [entry for _, entry in candidates])
        if blend is not None:
            return blend
        return nearest.id if distance <= threshold else FAR

    @staticmethod
    def _blend_end(rgb: Sequence[int], candidates: Sequence[ClassColour]) -> Optional[int]:
        """The nearer end of the palette pair whose blend line passes closest to ``rgb``
        (within ``BLEND_TOLERANCE``), or None."""
        best: Optional[tuple[float, int]] = None
        for a, b in itertools.combinations(candidates, 2):
            t, distance = _on_segment(rgb, a.rgb, b.rgb)
            if distance <= BLEND_TOLERANCE and (best is None or distance < best[0]):
                best = (distance, a.id if t < 0.5 else b.id)
        return None if best is None else best[1]


def _on_segment(p: Sequence[int], a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    """(t, distance): where ``p`` projects on segment a-b (0 at a, 1 at b, clamped) and how far it is."""
    ab = [y - x for x, y in zip(a, b)]
    length2 = sum(v * v for v in ab)
    t = max(0.0, min(1.0, sum((q - x) * v for q, x, v in zip(p, a, ab)) / length2))
    return t, math.dist(p, [x + t * v for x, v in zip(a, ab)])


# ---- label layers ------------------------------------------------------------------------


@dataclass
class LabelMap:
    """Class ids of a label layer, one per pixel, row-major; ``ids`` is an array of
    ``dtype`` ("uint8" or "uint16") in native byte order."""

    ids: array
    width: int
    height: int

    @property
    def dtype(self) -> str:
        return "uint8" if self.ids.typecode == "B" else "uint16"

    def little_endian_bytes(self) -> bytes:
        if sys.byteorder == "little" or self.ids.itemsize == 1:
            return self.ids.tobytes()
        swapped = array(self.ids.typecode, self.ids)
        swapped.byteswap()
        return swapped.tobytes()

    def classes(self) -> list[int]:
        """The class ids present, ascending."""
        return sorted(set(self.ids))


@dataclass(frozen=True)
class Problem:
    """Pixels of one colour the palette does not explain: ``kind`` "far" or "transparent"."""

    kind: str
    bgra: tuple[int, int, int, int]
    count: int
    first: tuple[int, int]  # (x, y) in reading order
    last: tuple[int, int]

    def describe(self) -> str:
        b, g, r, a = self.bgra
        what = "transparent" if self.kind == "transparent" else f"colour #{bytes((r, g, b)).hex()}"
        where = f"at {self.first}" if self.count == 1 else f"from {self.first} to {self.last}"
        return f"{self.count} {what} pixel{'s' if self.count != 1 else ''} {where}"


class LabelError(ValueError):
    """A label layer that cannot be read as classes; the message says what and where."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def read_label_pixels(bgra: bytes, width: int, height: int, palette: Palette, transparent: Optional[int] = None,
                      threshold: float = DEFAULT_THRESHOLD) -> LabelMap:
    """Class ids of RGBA 8-bit pixels in Krita's BGRA order. ``transparent``: the class of
    transparent pixels (None: they are an error). Raises ``LabelError`` naming the problem
    pixels if any colour is far from the palette or transparent without a class for it."""
    if len(bgra) != 4 * width * height:
        raise LabelError(f"expected {4 * width * height} bytes for {width} x {height} RGBA pixels, got {len(bgra)}")
    if transparent is not None and transparent not in palette.by_id:
        raise LabelError(f"the class for transparent pixels, {transparent}, is not in the model's palette")
    pixels = array("I")
    pixels.frombytes(bgra)
    table = {value: _class_of(value, palette, transparent, threshold) for value in set(pixels)}
    problems = [value for value, class_id in table.items() if class_id < 0]
    if problems:
        raise _problem_error(pixels, width, problems, table)
    return LabelMap(array("B" if max(table.values()) < 256 else "H", map(table.__getitem__, pixels)), width, height)


def _class_of(value: int, palette: Palette, transparent: Optional[int], threshold: float) -> int:
    b, g, r, a = value.to_bytes(4, sys.byteorder)
    if a < ALPHA_MIN:
        return TRANSPARENT if transparent is None else transparent
    return palette.classify((r, g, b), threshold)


def _problem_error(pixels: array, width: int, values: Iterable[int], table: dict[int, int]) -> LabelError:
    counts = Counter(pixels)
    ranked = sorted(values, key=counts.__getitem__, reverse=True)
    far = sum(counts[value] for value in ranked if table[value] == FAR)
    clear = sum(counts[value] for value in ranked if table[value] == TRANSPARENT)
    backwards = pixels[::-1]
    problems = []
    for value in ranked[:PROBLEM_COLOURS]:
        first, last = pixels.index(value), len(pixels) - 1 - backwards.index(value)
        problems.append(Problem("transparent" if table[value] == TRANSPARENT else "far",
                                tuple(value.to_bytes(4, sys.byteorder)), counts[value],
                                (first % width, first // width), (last % width, last // width)))
    parts = []
    if far:
        parts.append(f"{far} pixels have colours far from every class colour (paint them with the class swatches)")
    if clear:
        parts.append(f"{clear} pixels are transparent (paint them, or choose a class for transparent pixels)")
    listed = "; ".join(problem.describe() for problem in problems)
    more = f"; and {len(ranked) - PROBLEM_COLOURS} more colours" if len(ranked) > PROBLEM_COLOURS else ""
    return LabelError(f"{' and '.join(parts)}: {listed}{more}", problems)
