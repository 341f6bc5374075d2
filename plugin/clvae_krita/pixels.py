"""Pixel buffers without numpy: channel shuffles by extended slicing and masks combined as
big integers, so no Python code runs per pixel.

Krita's RGBA 8-bit layers are BGRA bytes; the daemon's images are RGB bytes. A mask holds
one byte per pixel, 0 (off) or 255 (on).
"""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import compress
from typing import Iterable, Optional

ON, OFF = 255, 0
SELECTED_FROM = 128  # a soft selection counts as selected from half on


def rgb_to_bgra(rgb: bytes, alpha: int = 255) -> bytes:
    """Opaque BGRA pixels of RGB bytes."""
    count = len(rgb) // 3
    out = bytearray(4 * count)
    out[0::4], out[1::4], out[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
    out[3::4] = bytes((alpha,)) * count
    return bytes(out)


def bgra_to_rgb(bgra: bytes) -> bytes:
    """RGB bytes of BGRA pixels (alpha dropped)."""
    count = len(bgra) // 4
    out = bytearray(3 * count)
    out[0::3], out[1::3], out[2::3] = bgra[2::4], bgra[1::4], bgra[0::4]
    return bytes(out)


def class_mask(ids: array, classes: Iterable[int]) -> bytes:
    """ON where the class id is one of ``classes``."""
    chosen = set(classes)
    lookup = bytes(ON if class_id in chosen else OFF for class_id in range(1 << (8 * ids.itemsize)))
    if ids.itemsize == 1:
        return ids.tobytes().translate(lookup)
    return bytes(map(lookup.__getitem__, ids))


def selection_mask(selection: bytes) -> bytes:
    """ON where a Krita selection (one byte per pixel, 0..255) is at least half selected."""
    return selection.translate(bytes(ON if value >= SELECTED_FROM else OFF for value in range(256)))


def mask_and(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(len(a), "little")


def is_empty(mask: bytes) -> bool:
    return mask.count(ON) == 0


def splice(new: bytes, old: bytes, mask: bytes, channels: int = 4) -> bytes:
    """``new`` where ``mask`` is ON, ``old`` elsewhere; images of ``channels`` bytes per pixel."""
    if len(new) != len(old) or len(new) != channels * len(mask):
        raise ValueError(f"splice needs images of {channels} x {len(mask)} bytes, got {len(new)} and {len(old)}")
    wide = bytearray(len(new))
    for channel in range(channels):
        wide[channel::channels] = mask
    keep = int.from_bytes(wide, "little")
    merged = (int.from_bytes(new, "little") & keep) | (int.from_bytes(old, "little") & ~keep)
    return merged.to_bytes(len(new), "little")


def majority_class(ids: array, mask: bytes) -> Optional[int]:
    """The most frequent class among the pixels where ``mask`` is ON (None if none is)."""
    counts = Counter(compress(ids, mask))
    return counts.most_common(1)[0][0] if counts else None
