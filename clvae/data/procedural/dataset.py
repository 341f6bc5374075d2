"""Procedural scenes as a torch data set (the contract of ``clvae.data.base``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from clvae.data.procedural.classes import CLASSES
from clvae.data.procedural.factors import sample_factors
from clvae.data.procedural.render import render_scene

# Scene index of a split's item 0: validation scenes never meet training ones.
SPLIT_START = {"training": 0, "validation": 1_000_000_000}


class ProceduralScenes(Dataset):
    """``length`` scenes of size (H, W), item i being scene (seed, SPLIT_START[split] + i),
    rendered on the fly; ``factors(i)`` gives its style factors."""

    def __init__(self, size: tuple[int, int] = (128, 128), length: int = 10000, seed: int = 0, split: str = "training"):
        self.size = (int(size[0]), int(size[1]))
        self.length = int(length)
        self.seed = int(seed)
        self.start = SPLIT_START[split]
        self.classes = list(CLASSES)

    def __len__(self) -> int:
        return self.length

    def scene_index(self, index: int) -> int:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} scenes")
        return self.start + int(index)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rgb, label, _ = render_scene(self.seed, self.scene_index(index), *self.size)
        image = torch.from_numpy(rgb).permute(2, 0, 1).float() / 127.5 - 1.0
        return {"image": image, "label": torch.from_numpy(label.astype(np.int64))}

    def factors(self, index: int) -> dict[str, Any]:
        return sample_factors(self.seed, self.scene_index(index))
