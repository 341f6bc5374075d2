"""LPIPS v0.1 with AlexNet (Zhang et al. 2018), the perceptual distance of the paper's
GT-similarity, Diversity and Top-1 GT-similarity.

distance(x, y) = sum over AlexNet's relu1 .. relu5 of the spatial mean of
w_l . (f_l(x) - f_l(y))^2, where f_l are the stage's maps divided by their per-pixel
channel norm and w_l the learned non-negative channel weights. Images in [-1, 1] are first
shifted and scaled per channel as LPIPS v0.1 does.

Weights come from two files: the linear layers (the lpips package's ``weights/v0.1/alex.pth``,
keys ``lin0.model.1.weight`` .. ``lin4.model.1.weight``, loaded into ``LPIPS.heads``) and
torchvision's AlexNet (loaded into ``LPIPS.net``, see ``alexnet``).
"""

from __future__ import annotations

import os
from typing import Optional

import torch
from torch import nn

from clvae.eval.backbones.alexnet import ALEXNET_WEIGHTS, STAGE_CHANNELS, AlexNetFeatures, load_alexnet
from clvae.weights import FrozenNetwork, WeightsFile, require_files

LPIPS_WEIGHTS = WeightsFile(
    what="LPIPS v0.1 AlexNet linear layers",
    env_var="CLVAE_LPIPS_ALEX",
    cache_names=("lpips_v0.1_alex.pth",),
    origin="lpips/weights/v0.1/alex.pth of the lpips package, github.com/richzhang/PerceptualSimilarity",
)

# LPIPS v0.1's input normalisation of [-1, 1] images, per RGB channel.
INPUT_SHIFT = (-0.030, -0.088, -0.188)
INPUT_SCALE = (0.458, 0.448, 0.450)
NORM_EPS = 1e-10

Features = list[torch.Tensor]  # one unit-normalised (N, K_l, h_l, w_l) map per stage


class LinearHead(nn.Module):
    """One stage's channel weights: a bias-free 1x1 convolution to one channel. Index 0 is the
    official layout's dropout, which does nothing at evaluation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, kernel_size=1, bias=False))

    def forward(self, squared_difference: torch.Tensor) -> torch.Tensor:
        return self.model(squared_difference)


class LPIPS(FrozenNetwork):
    """LPIPS v0.1 alex. ``features`` embeds images once; ``distance`` compares embeddings, so
    all pairs of a set cost one AlexNet pass per image."""

    def __init__(self) -> None:
        super().__init__()
        self.net = AlexNetFeatures()
        self.heads = nn.ModuleDict({f"lin{i}": LinearHead(c) for i, c in enumerate(STAGE_CHANNELS)})
        self.register_buffer("shift", torch.tensor(INPUT_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(INPUT_SCALE).view(1, 3, 1, 1), persistent=False)
        self.freeze()

    def features(self, images: torch.Tensor) -> Features:
        """(N, 3, H, W) in [-1, 1] -> each stage's maps divided by their channel norm."""
        maps = self.net((images - self.shift) / self.scale)
        return [m / (m.norm(dim=1, keepdim=True) + NORM_EPS) for m in maps]

    def distance(self, a: Features, b: Features) -> torch.Tensor:
        """(N,) LPIPS between row i of ``a`` and row i of ``b`` (or one row against N)."""
        total = 0.0
        for head, fa, fb in zip(self.heads.values(), a, b):
            total = total + head((fa - fb) ** 2).mean(dim=(1, 2, 3))
        return total

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(x), self.features(y))


def load_lpips(heads_path: Optional[str | os.PathLike] = None,
               alexnet_path: Optional[str | os.PathLike] = None) -> LPIPS:
    """LPIPS with the official linear layers and torchvision's AlexNet, from the given paths
    or the default places (``LPIPS_WEIGHTS``, ``ALEXNET_WEIGHTS``)."""
    require_files([(LPIPS_WEIGHTS, heads_path), (ALEXNET_WEIGHTS, alexnet_path)])
    model = LPIPS()
    LPIPS_WEIGHTS.load_into(model.heads, heads_path, ignored=("net.", "scaling_layer."))
    model.net = load_alexnet(alexnet_path)
    return model
