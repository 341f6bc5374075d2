"""Procedural scenes written to disk: an ADE20K-style folder, and a contact sheet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from clvae.data.procedural.classes import CLASSES
from clvae.data.procedural.dataset import ProceduralScenes
from clvae.data.procedural.render import render_scene

LABELS_NOTE = "annotation pixel = index into classes; no 'other' class (unlike ADE20K's 0)"


def export_procedural(out_dir, n_train: int, n_val: int, size: tuple[int, int] = (128, 128), seed: int = 0) -> Path:
    """Write images/{training,validation}/scene_NNNNNNN.png (RGB), annotations/<split>/
    scene_NNNNNNN.png (8-bit class ids), factors/<split>.jsonl (one scene's factors a line)
    and classes.json ({"classes": [{"name", "color"}, ...], ...}) under ``out_dir``."""
    out = Path(out_dir)
    for split, count in (("training", n_train), ("validation", n_val)):
        scenes = ProceduralScenes(size, count, seed, split)
        for folder in ("images", "annotations"):
            (out / folder / split).mkdir(parents=True, exist_ok=True)
        (out / "factors").mkdir(exist_ok=True)
        with open(out / "factors" / f"{split}.jsonl", "w") as factor_lines:
            for i in tqdm(range(count), desc=f"procedural {split}", unit="img"):
                rgb, label, factors = render_scene(seed, scenes.scene_index(i), *scenes.size)
                name = f"scene_{i:07d}"
                Image.fromarray(rgb).save(out / "images" / split / f"{name}.png")
                Image.fromarray(label, mode="L").save(out / "annotations" / split / f"{name}.png")
                factor_lines.write(json.dumps({"name": name, "factors": factors}) + "\n")
    classes = {"classes": [c.to_dict() for c in CLASSES], "labels": LABELS_NOTE, "seed": seed, "size": list(size)}
    (out / "classes.json").write_text(json.dumps(classes, indent=1) + "\n")
    return out


def colour_labels(label: np.ndarray) -> np.ndarray:
    """The label map painted in the classes' label-layer colours (H, W, 3 uint8)."""
    return np.array([c.color for c in CLASSES], np.uint8)[label]


def save_grid(
    path, rows: int = 4, cols: int = 4, size: tuple[int, int] = (128, 128), seed: int = 0, gap: int = 4
) -> Path:
    """A contact sheet of scenes 0 .. rows * cols - 1, each image beside its colour labels."""
    height, width = size
    sheet = np.full((rows * (height + gap) - gap, cols * (2 * width + gap) - gap, 3), 255, np.uint8)
    for i in range(rows * cols):
        rgb, label, _ = render_scene(seed, i, height, width)
        top, left = (i // cols) * (height + gap), (i % cols) * (2 * width + gap)
        sheet[top : top + height, left : left + 2 * width] = np.concatenate([rgb, colour_labels(label)], axis=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(path)
    return path
