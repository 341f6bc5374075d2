"""The procedural scenes' classes (id = index) and their label-layer colours.

Colours are the ADE20K palette's (as SPADE and mmsegmentation use it) for the same class
("window" is ADE20K's "windowpane"). Cloud, sun and roof have no ADE20K class; their
colours are at least 100 RGB units away from every other class's.
"""

from __future__ import annotations

from clvae.config import ClassInfo

CLASSES: list[ClassInfo] = [
    ClassInfo("sky", (6, 230, 230)),
    ClassInfo("cloud", (180, 60, 255)),
    ClassInfo("sun", (255, 220, 0)),
    ClassInfo("mountain", (143, 255, 140)),
    ClassInfo("water", (61, 230, 250)),
    ClassInfo("sand", (160, 150, 20)),
    ClassInfo("grass", (4, 250, 7)),
    ClassInfo("tree", (4, 200, 3)),
    ClassInfo("wall", (120, 120, 120)),
    ClassInfo("roof", (200, 40, 40)),
    ClassInfo("window", (230, 230, 230)),
    ClassInfo("road", (140, 140, 140)),
]

CLASS_ID: dict[str, int] = {info.name: i for i, info in enumerate(CLASSES)}
