"""Pixel preservation with a feathered edge (section 4.4.2: the paper copies the input's
pixels back outside the edited objects to keep a person's identity).

The blend weight is 1 on the edited region and falls smoothly to 0 over ``feather``
pixels outside it, from the exact Euclidean distance to the region (two separable
passes in numpy, truncated at the feather width), so no pixel farther than ``feather``
from the region can change.
"""

from __future__ import annotations

import numpy as np


def distance_to_region(region: np.ndarray, limit: int) -> np.ndarray:
    """Euclidean distance in pixels from every pixel to the nearest True pixel of ``region``
    (H, W) bool; exact up to ``limit``, some value above ``limit`` beyond it."""
    height, width = region.shape
    far = float(limit + 1)
    rows = np.arange(height)[:, None]
    above = np.maximum.accumulate(np.where(region, rows, -height - limit - 1), axis=0)
    below = np.minimum.accumulate(np.where(region, rows, 2 * height + limit + 1)[::-1], axis=0)[::-1]
    vertical = np.minimum(np.minimum(rows - above, below - rows), far).astype(np.float32)  # (H, W)
    padded = np.pad(vertical**2, ((0, 0), (limit, limit)), constant_values=far**2)
    squared = np.full((height, width), far**2, dtype=np.float32)
    for shift in range(-limit, limit + 1):  # columns within reach: d^2 = min over x' of g(x')^2 + (x - x')^2
        squared = np.minimum(squared, padded[:, limit + shift: limit + shift + width] + shift**2)
    return np.sqrt(squared)


def feather_weights(region: np.ndarray, feather: int) -> np.ndarray:
    """(H, W) float32 in [0, 1]: 1 on ``region``, a smoothstep down to 0 at ``feather``
    pixels away, 0 from there on."""
    weights = region.astype(np.float32)
    if feather == 0 or not region.any():
        return weights
    window = _reach(region, feather)  # only pixels this close to the region can get a weight
    ramp = np.clip(1.0 - distance_to_region(region[window], feather) / feather, 0.0, 1.0)
    weights[window] = ramp * ramp * (3.0 - 2.0 * ramp)
    return weights


def _reach(region: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box of ``region`` grown by ``margin`` pixels, clipped to the map."""
    rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
    return (slice(max(rows[0] - margin, 0), rows[-1] + margin + 1),
            slice(max(cols[0] - margin, 0), cols[-1] + margin + 1))


def preserve_outside(new: np.ndarray, original: np.ndarray, region: np.ndarray, feather: int) -> np.ndarray:
    """``new`` (H, W, 3) uint8 inside ``region``, ``original`` outside its feathered edge."""
    weight = feather_weights(region, feather)[..., None]
    blended = weight * new.astype(np.float32) + (1.0 - weight) * original.astype(np.float32)
    return np.rint(blended).astype(np.uint8)
