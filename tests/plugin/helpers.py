"""Label layers as Krita hands them over: BGRA bytes, painted with palette colours."""

from __future__ import annotations

from typing import Sequence

from clvae_krita.palette import ClassColour, Palette

SKY, GRASS, TREE, ROCK = 0, 1, 2, 3
PALETTE = Palette([ClassColour(SKY, "sky", (90, 170, 250)), ClassColour(GRASS, "grass", (40, 160, 40)),
                   ClassColour(TREE, "tree", (10, 80, 20)), ClassColour(ROCK, "rock", (130, 120, 110))])


def bgra(rgb: Sequence[int], alpha: int = 255) -> bytes:
    r, g, b = rgb
    return bytes((b, g, r, alpha))


def painted(rows: Sequence[Sequence[int]], palette: Palette = PALETTE) -> bytes:
    """BGRA pixels of a grid of class ids."""
    return b"".join(bgra(palette.by_id[class_id].rgb) for row in rows for class_id in row)


def blend(a: Sequence[int], b: Sequence[int], t: float) -> tuple[int, int, int]:
    """The colour a fraction ``t`` of the way from ``a`` to ``b``, rounded as 8-bit painting does."""
    return tuple(round(x + t * (y - x)) for x, y in zip(a, b))
