"""A tiny random model and label maps for the editing API's tests."""

from __future__ import annotations

import numpy as np
import torch

from clvae.model import Synthesizer
from tests.conftest import blocky_labels, tiny_config


def make_model(**changes) -> Synthesizer:
    torch.manual_seed(0)
    return Synthesizer(tiny_config(**changes)).eval()


def scene(height: int = 64, width: int = 64, seed: int = 0, classes: int = 5) -> np.ndarray:
    """A (H, W) label map of blocks with every class present."""
    label = blocky_labels(1, height, width, classes, seed=seed)[0].numpy()
    label[: min(height, 8), : classes * 2] = np.repeat(np.arange(classes), 2)[None]
    return label
