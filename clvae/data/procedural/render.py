"""Scene (seed, index) at any size: its label map, its style factors and its RGB image."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from clvae.data.procedural.classes import CLASSES
from clvae.data.procedural.factors import layout_rng, sample_factors
from clvae.data.procedural.layout import sample_layout
from clvae.data.procedural.textures import texture_field


def render_scene(
    seed: int, index: int, height: int, width: int, factors: Optional[dict[str, Any]] = None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(RGB uint8 (H, W, 3), label uint8 (H, W), factors) of scene (seed, index).

    The same arguments always give the same arrays. ``factors`` (as ``sample_factors``
    returns them, perhaps edited) replace the scene's own styles; its layout stays.
    """
    label = sample_layout(layout_rng(seed, index), width / height).rasterise(height, width)
    if factors is None:
        factors = sample_factors(seed, index)
    return paint(label, factors), label, factors


def paint(label: np.ndarray, factors: dict[str, Any]) -> np.ndarray:
    """Each class region in its colour plus its texture (centred on the region, so the
    region's mean is the class colour), then the whole image tinted by the time of day."""
    height, width = label.shape
    u = (np.arange(width) + 0.5) / height
    v = (np.arange(height) + 0.5) / height
    image = np.empty((height, width, 3), np.float32)
    for class_id in np.unique(label):
        style = factors["classes"][CLASSES[class_id].name]
        rows, cols = _bounds(label == class_id)
        region = label[rows, cols] == class_id
        field = texture_field(style["texture"], u[cols], v[rows])[region]
        shade = style["texture"]["contrast"] * (field - field.mean())
        image[rows, cols][region] = np.asarray(style["color"]) + shade[:, None]
    lighting = np.asarray(factors["global"]["tint"]) * factors["global"]["brightness"]
    return np.round(np.clip(image * lighting, 0.0, 1.0) * 255).astype(np.uint8)


def _bounds(mask: np.ndarray) -> tuple[slice, slice]:
    """Row and column slices of the bounding box of a non-empty mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
