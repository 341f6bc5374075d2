"""Image grids of training progress: per example, its mask in the palette colours, a
sample with codes from the prior, and the real image."""

from __future__ import annotations

from typing import Sequence

import torch

from clvae.config import ClassInfo
from clvae.model import Synthesizer


def colorize(label: torch.Tensor, classes: Sequence[ClassInfo]) -> torch.Tensor:
    """(B, H, W) class ids -> (B, 3, H, W) palette colours in [0, 1]."""
    palette = torch.tensor([c.color for c in classes], dtype=torch.float32, device=label.device) / 255.0
    return palette[label].permute(0, 3, 1, 2)


@torch.no_grad()
def sample_grid(model: Synthesizer, image: torch.Tensor, label: torch.Tensor, seed: int) -> torch.Tensor:
    """(3, B H, 3 W) in [0, 1]: one row per example, mask | prior sample | real.

    The codes come from a generator seeded with ``seed``, so successive grids show how
    the same draws evolve. The model is used in eval mode and left as it was.
    """
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    codes = model.prior(label, generator) if model.cfg.uses_encoder else None
    fake = model(label, codes).float()
    model.train(was_training)
    columns = [colorize(label, model.cfg.classes), (fake + 1) / 2, (image.float() + 1) / 2]
    rows = torch.cat(columns, dim=3)  # (B, 3, H, 3 W)
    return torch.cat(list(rows), dim=1).clamp(0, 1).cpu()
