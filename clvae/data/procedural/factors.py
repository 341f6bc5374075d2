"""The random factors of scene (seed, index): its layout's random stream and its styles.

Every class gets a style of its own in every scene, drawn from its own random stream,
whether or not it appears: a base colour (the coarse factor) and a texture (the fine one).
One global factor, the time of day, tints and brightens the whole image. Styles are plain
data (JSON-serialisable), so they can be stored, compared, and edited before rendering:

    {"global": {"time_of_day": "dusk", "tint": [r, g, b], "brightness": b},
     "classes": {"roof": {"hsv": [h (degrees), s, v], "color": [r, g, b] (in [0, 1]),
                          "texture": {"kind": "tiles", "scale": ..., "orientation": ...,
                                      "contrast": ..., "seed": ...}}, ...}}

``scale`` is the texture's period (or blob size) in image heights, ``orientation`` the
angle of its lines from the horizontal in degrees, ``contrast`` its amplitude in [0, 1]
colour units, and ``seed`` fixes its random lattice.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Any

import numpy as np

from clvae.data.procedural.classes import CLASSES

LAYOUT_STREAM, GLOBAL_STREAM, CLASS_STREAM = 0, 1, 2

Intervals = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class StyleRange:
    """Where a class's style is drawn from. Hues and orientations: one of the intervals
    (repeat one to make it likelier), then uniformly inside it; textures: one kind."""

    hues: Intervals  # degrees
    saturation: tuple[float, float]
    value: tuple[float, float]
    textures: tuple[str, ...]
    scale: tuple[float, float]
    orientations: Intervals
    contrast: tuple[float, float]


ANY_HUE: Intervals = ((0.0, 360.0),)
LEVEL: Intervals = ((-8.0, 8.0),)
LEVEL_OR_UPRIGHT: Intervals = ((-5.0, 5.0), (85.0, 95.0))

STYLE_RANGES: dict[str, StyleRange] = {
    "sky": StyleRange(
        hues=((180, 240),) * 4 + ((15, 45),), saturation=(0.15, 0.7), value=(0.7, 1.0),
        textures=("flat", "gradient", "gradient", "noise"), scale=(0.3, 0.8), orientations=LEVEL, contrast=(0.06, 0.2),
    ),
    "cloud": StyleRange(
        hues=ANY_HUE, saturation=(0.0, 0.15), value=(0.72, 1.0),
        textures=("flat", "noise", "gradient"), scale=(0.06, 0.15), orientations=LEVEL, contrast=(0.06, 0.2),
    ),
    "sun": StyleRange(
        hues=((40, 60), (40, 60), (10, 40)), saturation=(0.2, 0.9), value=(0.9, 1.0),
        textures=("flat", "gradient"), scale=(0.05, 0.1), orientations=LEVEL, contrast=(0.05, 0.2),
    ),
    "mountain": StyleRange(
        hues=((15, 40), (80, 150), (200, 260)), saturation=(0.1, 0.5), value=(0.3, 0.75),
        textures=("noise", "noise", "stripes", "foliage"), scale=(0.04, 0.12), orientations=((-40, 40),),
        contrast=(0.1, 0.3),
    ),
    "water": StyleRange(
        hues=((185, 230), (185, 230), (150, 185), (120, 150)), saturation=(0.1, 0.7), value=(0.3, 0.85),
        textures=("waves", "waves", "flat", "noise"), scale=(0.035, 0.09), orientations=LEVEL, contrast=(0.08, 0.25),
    ),
    "sand": StyleRange(
        hues=((30, 55),), saturation=(0.2, 0.6), value=(0.6, 0.95),
        textures=("noise", "waves", "flat"), scale=(0.035, 0.1), orientations=LEVEL, contrast=(0.08, 0.2),
    ),
    "grass": StyleRange(
        hues=((70, 140), (70, 140), (45, 70)), saturation=(0.35, 0.9), value=(0.35, 0.8),
        textures=("noise", "stripes", "foliage", "flat"), scale=(0.035, 0.08), orientations=((-60, 60),),
        contrast=(0.04, 0.14),
    ),
    "tree": StyleRange(
        hues=((75, 150), (75, 150), (10, 45)), saturation=(0.4, 0.9), value=(0.2, 0.6),
        textures=("foliage", "foliage", "noise", "flat"), scale=(0.02, 0.045), orientations=LEVEL, contrast=(0.06, 0.2),
    ),
    "wall": StyleRange(
        hues=ANY_HUE, saturation=(0.0, 0.6), value=(0.45, 0.95),
        textures=("flat", "bricks", "bricks", "stripes", "noise"), scale=(0.03, 0.06), orientations=LEVEL_OR_UPRIGHT,
        contrast=(0.1, 0.3),
    ),
    "roof": StyleRange(
        hues=((0, 20), (0, 20), (20, 35), (195, 230)), saturation=(0.15, 0.8), value=(0.25, 0.7),
        textures=("tiles", "bricks", "stripes", "flat"), scale=(0.03, 0.06), orientations=LEVEL_OR_UPRIGHT,
        contrast=(0.1, 0.3),
    ),
    "window": StyleRange(
        hues=((180, 230), (180, 230), (40, 55)), saturation=(0.1, 0.5), value=(0.3, 0.95),
        textures=("flat", "gradient"), scale=(0.03, 0.06), orientations=((-60, 60),), contrast=(0.05, 0.25),
    ),
    "road": StyleRange(
        hues=ANY_HUE, saturation=(0.0, 0.15), value=(0.2, 0.55),
        textures=("flat", "noise", "noise"), scale=(0.02, 0.06), orientations=LEVEL, contrast=(0.05, 0.18),
    ),
}

# time of day: (probability, tint, brightness)
TIMES_OF_DAY: dict[str, tuple[float, tuple[float, float, float], float]] = {
    "day": (0.4, (1.0, 1.0, 1.0), 1.05),
    "morning": (0.2, (1.0, 0.97, 0.9), 1.0),
    "golden hour": (0.15, (1.05, 0.92, 0.72), 1.0),
    "dusk": (0.15, (0.95, 0.8, 0.92), 0.85),
    "night": (0.1, (0.65, 0.75, 1.0), 0.7),
}


def layout_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng((seed, index, LAYOUT_STREAM))


def sample_factors(seed: int, index: int) -> dict[str, Any]:
    """The global factor and every class's style of scene (seed, index)."""
    return {
        "global": sample_global(np.random.default_rng((seed, index, GLOBAL_STREAM))),
        "classes": {
            info.name: sample_class_style(info.name, np.random.default_rng((seed, index, CLASS_STREAM, class_id)))
            for class_id, info in enumerate(CLASSES)
        },
    }


def sample_global(rng: np.random.Generator) -> dict[str, Any]:
    """A time of day, its tint jittered a little, and its brightness jittered by +-10 %."""
    names = list(TIMES_OF_DAY)
    name = str(rng.choice(names, p=[TIMES_OF_DAY[n][0] for n in names]))
    _, tint, brightness = TIMES_OF_DAY[name]
    return {
        "time_of_day": name,
        "tint": [float(c) for c in np.asarray(tint) * rng.uniform(0.97, 1.03, 3)],
        "brightness": float(brightness * rng.uniform(0.9, 1.1)),
    }


def sample_class_style(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """A random base colour and texture for class ``name``."""
    ranges = STYLE_RANGES[name]
    hsv = [_from_intervals(rng, ranges.hues) % 360.0, rng.uniform(*ranges.saturation), rng.uniform(*ranges.value)]
    return {
        "hsv": [float(x) for x in hsv],
        "color": [float(c) for c in colorsys.hsv_to_rgb(hsv[0] / 360.0, hsv[1], hsv[2])],
        "texture": {
            "kind": str(rng.choice(ranges.textures)),
            "scale": float(rng.uniform(*ranges.scale)),
            "orientation": _from_intervals(rng, ranges.orientations),
            "contrast": float(rng.uniform(*ranges.contrast)),
            "seed": int(rng.integers(2**31)),
        },
    }


def _from_intervals(rng: np.random.Generator, intervals: Intervals) -> float:
    low, high = intervals[rng.integers(len(intervals))]
    return float(rng.uniform(low, high))

