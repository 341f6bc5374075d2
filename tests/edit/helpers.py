"""A tiny random model and label maps for the editing API's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from clvae.data.procedural import CLASSES
from clvae.model import Synthesizer
from clvae.model_io import BUNDLED_MODEL, load_synthesizer
from clvae.train.config import load_config, read_toml
from tests.conftest import blocky_labels, tiny_config

BUNDLED_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "procedural.toml"


def make_model(**changes) -> Synthesizer:
    torch.manual_seed(0)
    return Synthesizer(tiny_config(**changes)).eval()


def scene(height: int = 64, width: int = 64, seed: int = 0, classes: int = 5) -> np.ndarray:
    """A (H, W) label map of blocks with every class present."""
    label = blocky_labels(1, height, width, classes, seed=seed)[0].numpy()
    label[: min(height, 8), : classes * 2] = np.repeat(np.arange(classes), 2)[None]
    return label


def bundled_model() -> Synthesizer:
    """The bundled model, or a random-weight model of its architecture (configs/procedural.toml)."""
    if BUNDLED_MODEL.is_file():
        return load_synthesizer(BUNDLED_MODEL)
    cfg = load_config(read_toml(BUNDLED_CONFIG), source=str(BUNDLED_CONFIG)).model_config(CLASSES)
    torch.manual_seed(0)
    return Synthesizer(cfg).eval()
