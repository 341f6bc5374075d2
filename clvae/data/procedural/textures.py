"""Texture patterns: brightness fields of about unit amplitude over the image plane.

``texture_field(texture, u, v)`` evaluates a texture (a dict as in ``factors``) at the
pixel centres ``u`` (columns) x ``v`` (rows), both in image heights. Patterns are anchored
to the image plane and random values come from a hash of the texture's seed and lattice
position, so any window of the image, at any resolution, shows the same pattern.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

Texture = dict[str, Any]
MASK32 = np.uint64(0xFFFFFFFF)


def texture_field(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The (len(v), len(u)) field of ``texture`` at columns u and rows v."""
    return PATTERNS[texture["kind"]](texture, u, v)


def _flat(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.zeros((v.size, u.size))


def _gradient(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A linear ramp across the lines, rising by 1 every ``scale``."""
    _, across = _rotated(texture, u, v)
    return across / texture["scale"]


def _noise(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Two octaves of value noise, the first with lattice spacing ``scale``."""
    seed, scale = texture["seed"], texture["scale"]
    return 1.25 * (_value_noise(seed, u, v, scale) + 0.5 * _value_noise(seed + 1, u, v, scale / 2))


def _foliage(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sharp-edged light and dark blobs about ``scale`` across."""
    return np.tanh(4.0 * _value_noise(texture["seed"], u, v, texture["scale"]))


def _stripes(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    _, across = _rotated(texture, u, v)
    return np.sin(2 * np.pi * across / texture["scale"])


def _waves(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Stripes whose crests meander along their length."""
    along, across = _rotated(texture, u, v)
    scale = texture["scale"]
    meander = 0.35 * scale * np.sin(2 * np.pi * along / (3.0 * scale) + 0.7 * np.sin(2 * np.pi * along / (7.3 * scale)))
    return np.sin(2 * np.pi * (across + meander) / scale)


def _bricks(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Courses ``scale`` high of bricks twice as long, every other course shifted by half."""
    return _masonry(texture, u, v, length=2.0, stagger=0.5)


def _tiles(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A square grid of tiles ``scale`` wide."""
    return _masonry(texture, u, v, length=1.0, stagger=0.0)


def _masonry(texture: Texture, u, v, length: float, stagger: float) -> np.ndarray:
    """Blocks of a random brightness each, separated by dark joints."""
    along, across = _rotated(texture, u, v)
    rows = across / texture["scale"]
    course = np.floor(rows)
    cols = along / (length * texture["scale"]) + stagger * (course % 2)
    block = np.floor(cols)
    joint = (rows - course < 0.18) | ((cols - block) * length < 0.18)
    brightness = _hash_uniform(texture["seed"], course.astype(np.int64), block.astype(np.int64))
    return np.where(joint, -1.0, 0.4 + 0.4 * brightness)


PATTERNS: dict[str, Callable[[Texture, np.ndarray, np.ndarray], np.ndarray]] = {
    "flat": _flat,
    "gradient": _gradient,
    "noise": _noise,
    "foliage": _foliage,
    "stripes": _stripes,
    "waves": _waves,
    "bricks": _bricks,
    "tiles": _tiles,
}


def _rotated(texture: Texture, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along and across lines at ``orientation`` degrees from the horizontal."""
    angle = np.deg2rad(texture["orientation"])
    cos, sin = np.cos(angle), np.sin(angle)
    along = u[None, :] * cos + v[:, None] * sin
    across = v[:, None] * cos - u[None, :] * sin
    return along, across


def _value_noise(seed: int, u: np.ndarray, v: np.ndarray, spacing: float) -> np.ndarray:
    """Random lattice values in [-1, 1], ``spacing`` apart, smoothly interpolated."""
    weights_u, first_col = _interpolation_weights(u / spacing)
    weights_v, first_row = _interpolation_weights(v / spacing)
    rows = np.arange(first_row, first_row + weights_v.shape[1])
    cols = np.arange(first_col, first_col + weights_u.shape[1])
    return weights_v @ _hash_uniform(seed, rows[:, None], cols[None, :]) @ weights_u.T


def _interpolation_weights(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Smoothstep weights (len(x), lattice points) of x between integer lattice points,
    and the first lattice point's index."""
    cell = np.floor(x).astype(np.int64)
    first = int(cell.min())
    t = x - cell
    t = t * t * (3 - 2 * t)
    weights = np.zeros((x.size, int(cell.max()) - first + 2))
    points = np.arange(x.size)
    weights[points, cell - first] = 1 - t
    weights[points, cell - first + 1] = t
    return weights, first


def _hash_uniform(seed: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """A value in [-1, 1) for each integer pair (i, j), fixed by ``seed`` (a 32-bit mix)."""
    i, j = np.broadcast_arrays(np.asarray(i, np.int64), np.asarray(j, np.int64))
    h = (i.astype(np.uint64) * np.uint64(0x9E3779B1) + j.astype(np.uint64) * np.uint64(0x85EBCA77)) ^ np.uint64(seed)
    for shift, factor in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        h = ((h ^ (h >> np.uint64(shift))) * np.uint64(factor)) & MASK32
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 2.0**31 - 1.0
