"""Weight-free measurements built on per-class colour and texture statistics
(``clvae.data.procedural.class_statistics``): on procedural scenes these are the known style
factors, a class's base colour (coarse) and its texture (fine).

Distances: a class's colour moves by the Euclidean distance between mean RGB colours in
[0, 1]; its texture by the absolute difference of the texture statistic. Every function
averages over the given classes, ignoring classes whose statistic is undefined (NaN).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from clvae.data.procedural import ClassStatistics, class_statistics
from clvae.eval.fid import fid

MIN_REAL_MASKS = 5  # a class joins the style realism measure once it is in this many masks


def finite_mean(values: Sequence[float] | np.ndarray) -> float:
    """The mean of the finite values; NaN when there are none."""
    values = np.asarray(values, np.float64).ravel()
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def measured_classes(label: np.ndarray, num_classes: int, min_pixels: int) -> np.ndarray:
    """Ids of the classes covering at least ``min_pixels`` pixels of ``label``."""
    counts = np.bincount(np.asarray(label).ravel(), minlength=num_classes)
    return np.flatnonzero(counts >= min_pixels)


def statistics(images: Sequence[np.ndarray], label: np.ndarray, num_classes: int) -> list[ClassStatistics]:
    return [class_statistics(image, label, num_classes) for image in images]


def style_distance(a: ClassStatistics, b: ClassStatistics, classes: np.ndarray) -> tuple[float, float]:
    """How far ``classes``' styles are apart in ``a`` and ``b``: (colour, texture)."""
    color = np.linalg.norm(a.mean_color[classes] - b.mean_color[classes], axis=-1)
    texture = np.abs(a.texture[classes] - b.texture[classes])
    return finite_mean(color), finite_mean(texture)


def style_spread(samples: Sequence[ClassStatistics], classes: np.ndarray) -> tuple[float, float]:
    """How much ``classes``' styles vary over samples of one mask: (colour, texture).

    Colour: the root mean square distance of a class's mean colour from its average over the
    samples (the standard deviation of the colour vector); texture: the standard deviation.
    Both are taken relative to the first sample, so identical samples give exactly 0.
    """
    colors = np.stack([s.mean_color[classes] for s in samples])  # (S, K, 3)
    textures = np.stack([s.texture[classes] for s in samples])  # (S, K)
    colors, textures = colors - colors[0], textures - textures[0]
    color = np.sqrt(((colors - colors.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0))
    return finite_mean(color), finite_mean(textures.std(axis=0))


def change_inside(before: np.ndarray, after: np.ndarray, region: np.ndarray) -> float:
    """The share of the total absolute pixel change from ``before`` to ``after`` (H, W, 3)
    that falls inside ``region`` (H, W) bool; NaN when nothing changed."""
    change = np.abs(after.astype(np.float64) - before.astype(np.float64)).sum(axis=-1)
    total = change.sum()
    return float(change[region].sum() / total) if total > 0 else math.nan


def pixel_l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 images, in [0, 1] units."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 255.0)


@dataclass
class StylePool:
    """Per class, the styles of the real images and of the prior samples over many masks:
    rows of (mean R, G, B, texture)."""

    real: dict[int, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    made: dict[int, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))

    def add(self, real: ClassStatistics, samples: Sequence[ClassStatistics], classes: np.ndarray) -> None:
        for cls in classes.tolist():
            self.real[cls].append(_style_row(real, cls))
            self.made[cls].extend(_style_row(sample, cls) for sample in samples)

    def frechet(self) -> tuple[float, float]:
        """(colour, texture): per class the Fréchet distance between the Gaussians fitted to
        its real and its generated styles, averaged over the classes with at least
        ``MIN_REAL_MASKS`` real ones. NaN when no class has."""
        colour, texture = [], []
        for cls, real in self.real.items():
            real_rows, made_rows = _finite_rows(real), _finite_rows(self.made[cls])
            if len(real_rows) >= MIN_REAL_MASKS and len(made_rows) >= 2:
                colour.append(fid(made_rows[:, :3], real_rows[:, :3]))
                texture.append(fid(made_rows[:, 3:], real_rows[:, 3:]))
        return finite_mean(colour), finite_mean(texture)


def _finite_rows(rows: list[np.ndarray]) -> np.ndarray:
    stacked = np.stack(rows)
    return stacked[np.isfinite(stacked).all(axis=1)]


def _style_row(stats: ClassStatistics, cls: int) -> np.ndarray:
    return np.append(stats.mean_color[cls], stats.texture[cls])
