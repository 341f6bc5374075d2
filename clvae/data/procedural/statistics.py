"""Per-class measurements of an image: mean colour and a texture statistic.

They let tests and metrics check styles against their factors, e.g. that re-drawing one
class's style changes that class's colour and no other's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class ClassStatistics:
    """Arrays indexed by class id; NaN where a class has no pixels (or no pixel pairs)."""

    pixels: np.ndarray  # (C,) pixel count
    mean_color: np.ndarray  # (C, 3) mean RGB in [0, 1]
    texture: np.ndarray  # (C,) mean |luma difference| between neighbouring pixels of the class


def class_statistics(image: np.ndarray, label: np.ndarray, num_classes: int) -> ClassStatistics:
    """Measure ``image`` (H, W, 3: uint8, or floats in [0, 1]) per class of ``label`` (H, W).

    The texture statistic is the mean absolute luma difference between horizontally or
    vertically adjacent pixels that both belong to the class (so class borders do not
    count): 0 for a flat colour, larger for finer or stronger texture.
    """
    rgb = np.asarray(image, np.float64)
    if np.asarray(image).dtype == np.uint8:
        rgb = rgb / 255.0
    label = np.asarray(label, np.int64)
    pixels = np.bincount(label.ravel(), minlength=num_classes)
    sums = np.stack([np.bincount(label.ravel(), rgb[..., c].ravel(), num_classes) for c in range(3)], axis=1)
    luma = rgb @ LUMA
    steps, pairs = np.zeros(num_classes), np.zeros(num_classes)
    for axis in (0, 1):
        step = np.abs(np.diff(luma, axis=axis))
        same = np.diff(label, axis=axis) == 0
        owner = label[1:] if axis == 0 else label[:, 1:]
        steps += np.bincount(owner[same], step[same], num_classes)
        pairs += np.bincount(owner[same], minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ClassStatistics(pixels, sums / pixels[:, None], steps / pairs)
