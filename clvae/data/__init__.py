"""Data sets: the paper's loaders, the plain folder, and ``build_dataset`` to pick one by name.

Every data set follows clvae.data.base (items {"image", "label"}, a ``classes`` list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from torch.utils.data import Dataset

from clvae.data.ade20k import ade20k_dataset
from clvae.data.deepfashion import deepfashion_dataset
from clvae.data.errors import DataError
from clvae.data.folder import folder_dataset
from clvae.data.palettes import PALETTES, load_palette
from clvae.data.procedural import ProceduralScenes
from clvae.data.streets import cityscapes_dataset, gta5_dataset



def procedural_dataset(root: str | Path | None, split: str, **options: Any) -> Dataset:
    """Procedural scenes, made on the fly (``root`` is unused); options: size, length, seed."""
    return ProceduralScenes(split="validation" if split in ("val", "validation", "test") else "training", **options)


# kind -> constructor(root, split, **options).
DATASETS: dict[str, Callable[..., Dataset]] = {
    "ade20k": ade20k_dataset,
    "gta5": gta5_dataset,
    "cityscapes": cityscapes_dataset,
    "deepfashion": deepfashion_dataset,
    "folder": folder_dataset,
    "procedural": procedural_dataset,
}


def build_dataset(kind: str, root: str | Path | None, split: str, **options: Any) -> Dataset:
    """The ``kind`` data set's ``split`` under ``root``; ``options`` go to its constructor."""
    if kind not in DATASETS:
        raise ValueError(f"unknown data set kind {kind!r}; known kinds: {', '.join(DATASETS)}")
    return DATASETS[kind](root, split, **options)


__all__ = ["DATASETS", "DataError", "PALETTES", "build_dataset", "load_palette"]
