"""Random scene layouts: sky, sun, clouds, mountains, land, water, a road, houses, trees.

Everything is placed in image heights (see ``shapes``). Objects stand on the land in
perspective: an object whose base is at ``v`` has ``depth = (v - horizon) / (1 - horizon)``
(0 at the horizon, 1 at the bottom edge) and is drawn ``depth`` times its near size;
nearer objects are painted over farther ones.
"""

from __future__ import annotations

import numpy as np

from clvae.data.procedural.classes import CLASS_ID
from clvae.data.procedural.shapes import Below, Ellipse, Layout, Polygon, Rect, Road, Shape

SKY, CLOUD, SUN, MOUNTAIN, WATER, SAND, GRASS, TREE, WALL, ROOF, WINDOW, ROAD = (
    CLASS_ID[name]
    for name in ("sky", "cloud", "sun", "mountain", "water", "sand", "grass", "tree", "wall", "roof", "window", "road")
)

Layer = tuple[int, Shape]
CURVE_KNOTS = 48  # knots of smooth curves (shores, hills)


def sample_layout(rng: np.random.Generator, aspect: float) -> Layout:
    """A random scene ``aspect`` (width / height) image heights wide."""
    horizon = rng.uniform(0.32, 0.62)
    layout = Layout(background=SKY)
    if rng.random() < 0.55:
        layout.layers.append((SUN, _sun(rng, aspect, horizon)))
    for _ in range(rng.integers(0, 6)):
        layout.layers += [(CLOUD, puff) for puff in _cloud(rng, aspect, horizon)]
    if rng.random() < 0.65:
        layout.layers.append((MOUNTAIN, _ridge(rng, aspect, horizon)))
    land_top = _add_land_and_water(rng, aspect, horizon, layout)
    if rng.random() < 0.5:
        layout.layers.append((ROAD, _road(rng, aspect, land_top)))
    objects = _houses(rng, aspect, horizon, layout) + _trees(rng, aspect, horizon, layout)
    for _, layers in sorted(objects, key=lambda item: item[0]):
        layout.layers += layers
    return layout


def _sun(rng, aspect, horizon) -> Ellipse:
    radius = rng.uniform(0.03, 0.08)
    return Ellipse(rng.uniform(0.1, 0.9) * aspect, rng.uniform(0.06, horizon + 0.02), radius, radius)


def _cloud(rng, aspect, horizon) -> list[Ellipse]:
    """Overlapping puffs over a roughly flat bottom."""
    width = rng.uniform(0.1, 0.4)
    centre = rng.uniform(-0.1, aspect + 0.1)
    bottom = rng.uniform(0.06, max(0.08, horizon - 0.08))
    puffs = rng.integers(3, 7)
    rv = width * rng.uniform(0.12, 0.3, puffs)
    us = centre + width * rng.uniform(-0.5, 0.5, puffs)
    vs = bottom - rv * rng.uniform(0.2, 0.7, puffs)
    ru = rv * rng.uniform(1.2, 2.0, puffs)
    return [Ellipse(*params) for params in zip(us, vs, ru, rv)]


def _ridge(rng, aspect, horizon) -> Below:
    """A mountain range: random peaks and valleys roughened by midpoint displacement."""
    peaks = int(rng.integers(2, 6))
    us = np.linspace(-0.1, aspect + 0.1, 2 * peaks + 1)
    heights = rng.uniform(0.5, 1.0, us.size)
    heights[::2] *= rng.uniform(0.1, 0.6, heights[::2].size)  # valleys
    vs = horizon - min(0.3, horizon - 0.05) * rng.uniform(0.4, 1.0) * heights
    for _ in range(4):
        mid_u = (us[:-1] + us[1:]) / 2
        mid_v = (vs[:-1] + vs[1:]) / 2 + rng.uniform(-0.2, 0.2, mid_u.size) * np.diff(us)
        us = np.insert(us, np.arange(1, us.size), mid_u)
        vs = np.insert(vs, np.arange(1, vs.size), mid_v)
    return Below(us, np.clip(vs, 0.02, None))


def _wavy_curve(rng, aspect, level, amplitude) -> tuple[np.ndarray, np.ndarray]:
    """Knots of ``level + amplitude * s(u)``, s a smooth random profile in [-1, 1]."""
    us = np.linspace(-0.05, aspect + 0.05, CURVE_KNOTS)
    frequencies = rng.uniform(0.3, 1.5, 3) * np.arange(1, 4)
    weights = rng.uniform(0.2, 1.0, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    profile = weights @ np.sin(2 * np.pi * frequencies[:, None] * us + phases[:, None])
    return us, level + amplitude * profile / weights.sum()


def _add_land_and_water(rng, aspect, horizon, layout) -> Below:
    """Sea with a beach, or land (with hills, maybe a lake); returns the land's top edge."""
    land = SAND if rng.random() < 0.15 else GRASS
    water = rng.choice(("none", "sea", "lake"), p=(0.4, 0.3, 0.3))
    if water == "sea":
        layout.layers.append((WATER, Below(np.array([0.0, aspect]), np.array([horizon, horizon]))))
        us, shore = _wavy_curve(rng, aspect, horizon + rng.uniform(0.05, 0.3), rng.uniform(0.0, 0.04))
        layout.layers.append((SAND, Below(us, shore)))
        beach = rng.uniform(0.03, 0.2) if rng.random() < 0.8 else 0.0
        top = Below(us, shore + beach + rng.uniform(0, 0.02) * np.sin(us * rng.uniform(3, 9)))
    else:
        us, hills = _wavy_curve(rng, aspect, horizon, rng.uniform(0.0, 0.05))
        top = Below(us, np.minimum(hills, horizon))
    layout.layers.append((land, top))
    if water == "lake":
        layout.layers += _lake(rng, aspect, horizon)
    return top


def _lake(rng, aspect, horizon) -> list[Layer]:
    """One to three overlapping ellipses of water, maybe inside a sandy rim."""
    depth = rng.uniform(0.15, 0.7)
    cv = horizon + depth * (1 - horizon)
    rv = depth * rng.uniform(0.05, 0.12)
    ru = rv * rng.uniform(3.0, 7.0)
    cu = rng.uniform(0.1, 0.9) * aspect
    extra_scales = rng.uniform(0.5, 1.0, rng.integers(0, 3))
    parts = [Ellipse(cu, cv, ru, rv)] + [
        Ellipse(cu + ru * rng.uniform(-0.7, 0.7), cv + rv * rng.uniform(-0.3, 0.3), ru * scale, rv * scale)
        for scale in extra_scales
    ]
    layers = [(WATER, part) for part in parts]
    if rng.random() < 0.6:
        rim = rv * rng.uniform(0.2, 0.5)
        layers = [(SAND, Ellipse(p.cu, p.cv, p.ru + 2 * rim, p.rv + rim)) for p in parts] + layers
    return layers


def _road(rng, aspect, land_top: Below) -> Road:
    """A road from a point on the land's top edge, widening and bending towards the viewer."""
    u_far = rng.uniform(0.15, 0.85) * aspect
    v_far = float(np.interp(u_far, land_top.us, land_top.vs)) + 0.005
    length = max(1.0 - v_far, 0.05)
    u_near = rng.uniform(0.1, 0.9) * aspect
    return Road(u_far, v_far, rng.uniform(0.12, 0.45) / length, (u_near - u_far) / length, rng.uniform(-1.0, 1.0))


def _base_points(rng, aspect, horizon, layout, count, grounds) -> list[tuple[float, float, float]]:
    """Up to ``count`` random (u, v, depth) on classes ``grounds``, far ones more likely."""
    candidates = 4 * count
    depth = 0.12 + 0.88 * rng.random(candidates) ** 1.3
    us = rng.uniform(-0.05, aspect + 0.05, candidates)
    vs = horizon + depth * (1 - horizon)
    ok = np.isin(layout.label_at(us, vs), grounds)
    return list(zip(us[ok], vs[ok], depth[ok]))[:count]


def _houses(rng, aspect, horizon, layout) -> list[tuple[float, list[Layer]]]:
    """Houses standing on grass or sand, none both overlapping and level with another."""
    count = 0 if rng.random() < 0.45 else int(rng.integers(1, 6))
    houses, spans = [], []
    for u, v, depth in _base_points(rng, aspect, horizon, layout, count, (GRASS, SAND)):
        wall_height = depth * rng.uniform(0.2, 0.4)
        half_width = wall_height * rng.uniform(0.45, 1.1)
        corners = layout.label_at(np.array([u - half_width, u + half_width]), np.array([v, v]))
        crowded = any(abs(u - u2) < half_width + w2 and abs(v - v2) < 0.1 for u2, v2, w2 in spans)
        if np.isin(corners, (GRASS, SAND)).all() and not crowded:
            spans.append((u, v, half_width))
            houses.append((v, _house(rng, u - half_width, u + half_width, v - wall_height, v)))
    return houses


def _house(rng, u0, u1, top, bottom) -> list[Layer]:
    """A wall with a roof on top and a grid of windows."""
    return [(WALL, Rect(u0, top, u1, bottom)), (ROOF, _roof(rng, u0, u1, top))] + [
        (WINDOW, window) for window in _windows(rng, u0, u1, top, bottom)
    ]


def _roof(rng, u0, u1, top) -> Shape:
    """A gabled, hipped or flat roof over the wall [u0, u1] whose top is at ``top``."""
    width = u1 - u0
    eave = width * rng.uniform(0.03, 0.12)
    rise = width * rng.uniform(0.2, 0.45)
    eaves = ((u0 - eave, top + 0.002), (u1 + eave, top + 0.002))
    kind = rng.choice(("gable", "hip", "flat"), p=(0.5, 0.3, 0.2))
    if kind == "gable":
        return Polygon((*eaves, ((u0 + u1) / 2, top - rise)))
    if kind == "hip":
        inset = width * rng.uniform(0.15, 0.4)
        return Polygon((*eaves, (u1 - inset, top - rise), (u0 + inset, top - rise)))
    return Rect(u0 - eave, top - rise * 0.3, u1 + eave, top + 0.002)


def _windows(rng, u0, u1, top, bottom) -> list[Rect]:
    """Rows x columns of equal windows centred in equal cells of the wall's upper 85 %."""
    width, height = u1 - u0, bottom - top
    rows = int(rng.integers(1, 3))
    cols = max(1, round(width / height * rng.uniform(0.8, 1.6)))
    cell_w, cell_h = width / cols, 0.85 * height / rows
    half_w, half_h = cell_w * rng.uniform(0.18, 0.3), cell_h * rng.uniform(0.2, 0.33)
    centres = [(u0 + (c + 0.5) * cell_w, top + (r + 0.5) * cell_h) for r in range(rows) for c in range(cols)]
    return [Rect(cu - half_w, cv - half_h, cu + half_w, cv + half_h) for cu, cv in centres]


def _trees(rng, aspect, horizon, layout) -> list[tuple[float, list[Layer]]]:
    count = 0 if rng.random() < 0.15 else int(rng.integers(1, 16))
    points = _base_points(rng, aspect, horizon, layout, count, (GRASS,))
    return [(v, [(TREE, shape) for shape in _tree(rng, u, v, depth)]) for u, v, depth in points]


def _tree(rng, u, v, depth) -> list[Shape]:
    """A round, conical, columnar tree on a trunk, or a bush."""
    kind = rng.choice(("round", "conifer", "poplar", "bush"))
    height = depth * rng.uniform(0.2, 0.5)
    trunk = height * rng.uniform(0.03, 0.05)
    if kind == "bush":
        height *= 0.3
        return [
            Ellipse(u + height * du, v - height * 0.45, height * rng.uniform(0.5, 1.0), height * 0.55)
            for du in rng.uniform(-0.8, 0.8, rng.integers(1, 4))
        ]
    if kind == "conifer":
        tiers = int(rng.integers(1, 4))
        half_width = height * rng.uniform(0.18, 0.3)
        bases = v - height * (0.15 + 0.85 * np.arange(tiers) / (tiers + 1))
        apexes = bases - height * 0.85 * 2 / (tiers + 1)
        cones = [
            Polygon(((u - half_width * s, b), (u + half_width * s, b), (u, a)))
            for s, b, a in zip(np.linspace(1.0, 0.6, tiers), bases, apexes)
        ]
        return [Rect(u - trunk, bases[0], u + trunk, v), *cones]
    radius = height * 0.4 if kind == "round" else height * 0.45
    crown = Ellipse(u, v - height + radius, radius * (rng.uniform(0.8, 1.2) if kind == "round" else 0.35), radius)
    return [Rect(u - trunk, crown.cv, u + trunk, v), crown]
