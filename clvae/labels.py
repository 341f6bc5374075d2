"""Label maps as files: class-index PNGs and colour pictures in a model's palette.

A label file is either
- a class-index image (PNG modes L, I, I;16, 1, or P whose palette is not the model's):
  each pixel value is a class id;
- a colour picture (RGB, RGBA, or P whose used colours are all class colours): each pixel
  is mapped to a class by colour. Antialiased edges are blends of the colours of the
  regions they separate: a pixel within ``threshold`` (RGB distance) of the colour segment
  between two exact-coloured neighbours (within ``BLEND_RADIUS`` pixels) takes the nearer
  of the two; one within ``threshold`` of a palette colour takes that colour's class.
  Pixels neither explains are "far": an error naming how many and where, unless ``snap``
  (then they take the nearest palette colour's class). Alpha is ignored.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from clvae.config import ClassInfo
from clvae.edit.errors import EditError

DEFAULT_THRESHOLD = 40.0  # RGB distance; the bundled palette's closest colours are 34.6 apart
BLEND_RADIUS = 3  # pixels: how far an antialiased edge pixel looks for the regions it blends
BLEND_CANDIDATES = 4  # of its neighbours' classes, the ones nearest in colour that may form the blend
CHUNK = 1 << 17  # off-palette pixels examined at once (bounds memory)
EXAMPLES = 5  # far pixels named in a report
INDEX_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N")
COLOUR_MODES = ("RGB", "RGBA", "RGBX")


@dataclass
class LabelReport:
    """How a label file was read. Coordinates are (x, y), boxes (x0, y0, x1, y1) inclusive."""

    kind: str  # "index" or "colour"
    snapped: int = 0  # off-palette pixels given a class (antialiased edges, noise)
    far: int = 0  # pixels farther than ``threshold`` from every palette colour and blend
    far_box: Optional[tuple[int, int, int, int]] = None
    far_examples: list[tuple[int, int]] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD

    def describe(self) -> str:
        if not self.far:
            return f"{self.kind} label map, {self.snapped} off-palette pixels snapped"
        return (f"{self.far} pixels are farther than {self.threshold:g} from every palette colour and every blend "
                f"of neighbouring ones, within x {self.far_box[0]}..{self.far_box[2]}, y {self.far_box[1]}.."
                f"{self.far_box[3]} (first at {', '.join(f'({x}, {y})' for x, y in self.far_examples)})")


def read_label(path: str | os.PathLike, classes: Sequence[ClassInfo], threshold: float = DEFAULT_THRESHOLD,
               snap: bool = False) -> tuple[np.ndarray, LabelReport]:
    """(H, W) int64 class ids from a label file, and how it was read."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, UnidentifiedImageError) as error:
        raise EditError("bad_file", f"cannot read label map {path}: {error}") from error
    if image.mode == "P" and _palette_is_classes(image, classes):
        image = image.convert("RGB")
    if image.mode in COLOUR_MODES:
        return label_from_picture(np.asarray(image.convert("RGB")), classes, threshold, snap)
    if image.mode == "P" or image.mode in INDEX_MODES:
        return _index_array(image), LabelReport("index", threshold=threshold)
    raise EditError("bad_file", f"label map {path} has PIL mode {image.mode}; use a class-index PNG "
                    "(L, P, I) or an RGB picture in the model's palette")


def _index_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("P", "1", "L"):
        return np.asarray(image).astype(np.int64)
    return np.asarray(image.convert("L" if image.mode == "LA" else "I")).astype(np.int64)


def _palette_is_classes(image: Image.Image, classes: Sequence[ClassInfo]) -> bool:
    """Whether a palette image is a colour picture: every colour it uses is a class colour."""
    palette = np.asarray(image.getpalette() or [], dtype=np.int64).reshape(-1, 3)
    used = np.unique(np.asarray(image))
    if used.max() >= len(palette):
        return False
    class_colours = {tuple(info.color) for info in classes}
    return all(tuple(palette[i]) in class_colours for i in used)


def label_from_picture(picture: np.ndarray, classes: Sequence[ClassInfo], threshold: float = DEFAULT_THRESHOLD,
                       snap: bool = False) -> tuple[np.ndarray, LabelReport]:
    """(H, W, 3) uint8 colour picture -> (H, W) int64 class ids by palette colour."""
    picture = np.asarray(picture)
    if picture.dtype != np.uint8 or picture.ndim != 3 or picture.shape[2] != 3:
        raise EditError("bad_image", f"a label picture must be (H, W, 3) uint8, got {picture.dtype} {picture.shape}")
    palette = np.array([info.color for info in classes], dtype=np.float32)  # (C, 3)
    keys = (picture[..., 0].astype(np.int64) << 16) | (picture[..., 1].astype(np.int64) << 8) | picture[..., 2]
    unique, inverse = np.unique(keys.ravel(), return_inverse=True)
    colours = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], axis=1).astype(np.float32)  # (K, 3)
    nearest, distance = _nearest_colours(colours, palette)
    label = nearest[inverse].reshape(keys.shape)
    exact = (distance == 0)[inverse].reshape(keys.shape)
    ys, xs = np.nonzero(~exact)
    far = np.zeros(len(ys), dtype=bool)
    for start in range(0, len(ys), CHUNK):
        part = slice(start, start + CHUNK)
        label[ys[part], xs[part]], far[part] = _off_palette(picture, label, exact, palette, ys[part], xs[part], threshold)
    report = _report(xs[far], ys[far], len(ys), threshold)
    if report.far and not snap:
        raise EditError("off_palette", f"{report.describe()}; raise the threshold or snap them to the nearest colour")
    return label, report


def _nearest_colours(colours: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each colour (K, 3), its nearest palette entry's index and distance, (K,) each."""
    ids, distances = np.empty(len(colours), dtype=np.int64), np.empty(len(colours), dtype=np.float32)
    for start in range(0, len(colours), CHUNK // 8):
        part = slice(start, start + CHUNK // 8)
        d = np.linalg.norm(colours[part, None] - palette[None], axis=-1)  # (k, C)
        ids[part], distances[part] = d.argmin(axis=1), d.min(axis=1)
    return ids, distances


def _off_palette(picture: np.ndarray, label: np.ndarray, exact: np.ndarray, palette: np.ndarray, ys: np.ndarray,
                 xs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Classes of off-palette pixels (M,) and which of them are far (M,) bool: a blend of two
    exact-coloured neighbours takes the nearer one, else the nearest palette colour stands."""
    pixels = picture[ys, xs].astype(np.float32)  # (M, 3)
    nearest = label[ys, xs]
    blend_class, blend_distance = _nearest_blend(pixels, _exact_neighbours(label, exact, ys, xs), palette)
    to_palette = np.linalg.norm(pixels - palette[nearest], axis=-1)
    is_blend = blend_distance <= threshold
    return np.where(is_blend, blend_class, nearest), ~is_blend & (to_palette > threshold)


def _exact_neighbours(label: np.ndarray, exact: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(M, K) classes of the exact-coloured pixels around each (y, x) within BLEND_RADIUS; -1 elsewhere."""
    r = BLEND_RADIUS
    padded = np.pad(np.where(exact, label, -1), r, constant_values=-1)
    offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dy or dx]
    return np.stack([padded[ys + r + dy, xs + r + dx] for dy, dx in offsets], axis=1)


def _nearest_blend(pixels: np.ndarray, neighbours: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel (M, 3), the colour segment between two of its neighbour classes (M, K) that
    passes nearest: (M,) the nearer end's class (-1: no neighbour) and the distance."""
    ids = np.sort(neighbours, axis=1)
    ids[:, 1:][ids[:, 1:] == ids[:, :-1]] = -1  # each class once
    distance = np.linalg.norm(pixels[:, None] - palette[np.maximum(ids, 0)], axis=-1)  # (M, K)
    distance[ids < 0] = np.inf
    order = np.argsort(distance, axis=1)[:, :BLEND_CANDIDATES]  # the few nearest classes
    ids, distance = np.take_along_axis(ids, order, axis=1), np.take_along_axis(distance, order, axis=1)
    best_class, best = ids[:, 0].copy(), distance[:, 0].copy()
    for i, j in itertools.combinations(range(ids.shape[1]), 2):
        a, b = ids[:, i], ids[:, j]
        segment = _segment_distance(pixels, palette[np.maximum(a, 0)], palette[np.maximum(b, 0)])
        segment[(a < 0) | (b < 0)] = np.inf
        better = segment < best
        best_class[better] = a[better]  # a is the nearer end: columns are sorted by distance
        best[better] = segment[better]
    return best_class, best


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point (M, 3) to the segment from a to b (M, 3 each)."""
    ab = b - a
    length2 = np.maximum((ab * ab).sum(axis=1), 1e-12)
    t = np.clip(((points - a) * ab).sum(axis=1) / length2, 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=-1)


def _report(far_x: np.ndarray, far_y: np.ndarray, off_palette: int, threshold: float) -> LabelReport:
    report = LabelReport("colour", snapped=off_palette - len(far_x), far=len(far_x), threshold=threshold)
    if len(far_x):
        order = np.lexsort((far_x, far_y))[:EXAMPLES]
        report.far_box = (int(far_x.min()), int(far_y.min()), int(far_x.max()), int(far_y.max()))
        report.far_examples = [(int(far_x[i]), int(far_y[i])) for i in order]
    return report


def label_to_picture(label: np.ndarray, classes: Sequence[ClassInfo]) -> np.ndarray:
    """(H, W) class ids -> (H, W, 3) uint8 in the classes' colours."""
    palette = np.array([info.color for info in classes], dtype=np.uint8)
    return palette[label]


def write_label(path: str | os.PathLike, label: np.ndarray) -> None:
    """A class-index PNG: 8-bit for up to 256 classes, 16-bit beyond."""
    label = np.asarray(label)
    array = label.astype(np.uint8) if label.max() < 256 else label.astype(np.uint16)
    Image.fromarray(array).save(path)
