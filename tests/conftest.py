"""Shared fixtures: tiny model configs that run in milliseconds on a CPU."""

from __future__ import annotations

import pytest
import torch

from clvae.config import ClassInfo, ModelConfig

# The tests' models are tiny: one thread is faster than two fighting over small convolutions.
torch.set_num_threads(1)


def tiny_classes(n: int) -> list[ClassInfo]:
    return [ClassInfo(f"class{i}", (i * 20 % 256, i * 50 % 256, i * 90 % 256)) for i in range(n)]


def tiny_config(variant: str = "clvae", height: int = 64, width: int = 64, classes: int = 5, **changes) -> ModelConfig:
    base = dict(height=height, width=width, ngf=4, ndf=4, z_dim=8, encoder_size=128, spade_hidden=8)
    base.update(changes)
    return ModelConfig(tiny_classes(classes), variant=variant, **base)


def blocky_labels(batch: int, height: int, width: int, classes: int, seed: int = 0, block: int = 8) -> torch.Tensor:
    """Label maps made of constant blocks (like painted regions), (B, H, W) int64."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, classes, (batch, 1, -(-height // block), -(-width // block)), generator=g)
    big = torch.nn.functional.interpolate(coarse.float(), scale_factor=block, mode="nearest").long()
    return big[:, 0, :height, :width]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
