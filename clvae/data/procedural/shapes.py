"""Resolution-free shapes and the layouts painted from them.

Coordinates are in image heights: ``v = y / H`` runs from 0 (top) to 1 (bottom) and
``u = x / H`` from 0 to ``W / H``, so a layout looks the same at every size of one aspect
ratio. A shape's ``covers(u, v)`` takes broadcastable arrays (a pixel grid or a list of
points) and says which points it covers; ``box`` bounds it (``None``: anywhere).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Protocol

import numpy as np

Box = tuple[float, float, float, float]  # u0, v0, u1, v1


class Shape(Protocol):
    box: Optional[Box]

    def covers(self, u: np.ndarray, v: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class Below:
    """Everything below a polyline ``v = curve(u)`` through the knots (us, vs)."""

    us: np.ndarray
    vs: np.ndarray
    box: Optional[Box] = None

    def covers(self, u, v):
        return v >= np.interp(u, self.us, self.vs)


@dataclass(frozen=True, eq=False)
class Rect:
    u0: float
    v0: float
    u1: float
    v1: float

    @property
    def box(self) -> Box:
        return (self.u0, self.v0, self.u1, self.v1)

    def covers(self, u, v):
        return (u >= self.u0) & (u <= self.u1) & (v >= self.v0) & (v <= self.v1)


@dataclass(frozen=True, eq=False)
class Ellipse:
    cu: float
    cv: float
    ru: float
    rv: float

    @property
    def box(self) -> Box:
        return (self.cu - self.ru, self.cv - self.rv, self.cu + self.ru, self.cv + self.rv)

    def covers(self, u, v):
        return ((u - self.cu) / self.ru) ** 2 + ((v - self.cv) / self.rv) ** 2 <= 1.0


@dataclass(frozen=True, eq=False)
class Polygon:
    """A convex polygon, corners (u, v) in either winding order."""

    corners: tuple[tuple[float, float], ...]

    @property
    def box(self) -> Box:
        us, vs = zip(*self.corners)
        return (min(us), min(vs), max(us), max(vs))

    def covers(self, u, v):
        inside_left = inside_right = True
        for (ua, va), (ub, vb) in zip(self.corners, self.corners[1:] + self.corners[:1]):
            side = (ub - ua) * (v - va) - (vb - va) * (u - ua)
            inside_left = inside_left & (side >= 0)
            inside_right = inside_right & (side <= 0)
        return inside_left | inside_right


@dataclass(frozen=True, eq=False)
class Road:
    """A road seen in perspective: zero width at its far end (u_far, v_far), widening by
    ``spread`` per unit of v, its centre drifting and bending sideways on the way down."""

    u_far: float
    v_far: float
    spread: float
    drift: float
    bend: float
    box: Optional[Box] = None

    def covers(self, u, v):
        depth = v - self.v_far
        centre = self.u_far + self.drift * depth + self.bend * depth**2
        return (depth >= 0) & (np.abs(u - centre) <= self.spread * depth)


@dataclass
class Layout:
    """A background class and the (class id, shape) layers painted over it in order."""

    background: int
    layers: list[tuple[int, Shape]] = field(default_factory=list)

    def label_at(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The class painted last at each point (u, v)."""
        label = np.full(np.broadcast(u, v).shape, self.background, np.uint8)
        for class_id, shape in self.layers:
            label[shape.covers(u, v)] = class_id
        return label

    def rasterise(self, height: int, width: int) -> np.ndarray:
        """The uint8 label map at pixel centres, each shape evaluated inside its box only."""
        label = np.full((height, width), self.background, np.uint8)
        u = (np.arange(width) + 0.5) / height
        v = (np.arange(height) + 0.5) / height
        for class_id, shape in self.layers:
            cols, rows = _pixel_span(shape.box, height, width)
            if cols.start < cols.stop and rows.start < rows.stop:
                window = label[rows, cols]
                window[shape.covers(u[None, cols], v[rows, None])] = class_id
        return label


def _pixel_span(box: Optional[Box], height: int, width: int) -> tuple[slice, slice]:
    """Column and row slices of the pixels whose centres may lie in ``box``."""
    if box is None:
        return slice(0, width), slice(0, height)
    u0, v0, u1, v1 = box
    return _index_range(u0, u1, height, width), _index_range(v0, v1, height, height)


def _index_range(start: float, stop: float, height: int, count: int) -> slice:
    """Indices 0 .. count - 1 whose pixel centres, (i + 0.5) / height, lie in [start, stop]."""
    first = min(max(math.ceil(start * height - 0.5), 0), count)
    last = min(max(math.floor(stop * height - 0.5) + 1, 0), count)
    return slice(first, last)
