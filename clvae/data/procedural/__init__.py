"""Procedural outdoor scenes with known per-class styles.

``render_scene(seed, index, H, W)`` deterministically draws a landscape or village (layout
in ``layout``), a colour and a texture for every class plus a time of day (``factors``),
and paints it (``render``). ``ProceduralScenes`` serves scenes as a torch data set,
``class_statistics`` measures per-class colour and texture in any image, and
``export_procedural`` writes an ADE20K-style folder (also ``python -m clvae.data.procedural``).
"""

from clvae.data.procedural.classes import CLASS_ID, CLASSES
from clvae.data.procedural.dataset import ProceduralScenes
from clvae.data.procedural.export import export_procedural, save_grid
from clvae.data.procedural.factors import sample_class_style, sample_factors
from clvae.data.procedural.render import render_scene
from clvae.data.procedural.statistics import ClassStatistics, class_statistics

__all__ = [
    "CLASSES",
    "CLASS_ID",
    "ClassStatistics",
    "ProceduralScenes",
    "class_statistics",
    "export_procedural",
    "render_scene",
    "sample_class_style",
    "sample_factors",
    "save_grid",
]
