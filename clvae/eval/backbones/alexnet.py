"""AlexNet's convolutional features, as LPIPS uses them, without torchvision.

``AlexNetFeatures.features`` has the module indices of torchvision's ``alexnet().features``
(convolutions at 0, 3, 6, 8, 10), so torchvision's ImageNet file
(``alexnet-owt-7be5be79.pth``, or the older ``alexnet-owt-4df8aa71.pth``) loads key for key;
its ``classifier.*`` entries are ignored.
"""

from __future__ import annotations

import os
from typing import Optional

import torch
from torch import nn

from clvae.weights import FrozenNetwork, WeightsFile

ALEXNET_WEIGHTS = WeightsFile(
    what="AlexNet ImageNet weights (torchvision's, the LPIPS backbone)",
    env_var="CLVAE_ALEXNET",
    cache_names=("alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth"),
    origin="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
)

# (out_channels, kernel, stride, padding) of each convolution; "M" a 3x3 stride-2 max pool.
ALEXNET_LAYOUT = ((64, 11, 4, 2), "M", (192, 5, 1, 2), "M", (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1))

# [start, stop) into ``features`` of the stages ending at relu1 .. relu5 (LPIPS's taps).
STAGES = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))
STAGE_CHANNELS = (64, 192, 384, 256, 256)


def build_alexnet_features() -> nn.Sequential:
    """AlexNet's convolutional stack up to relu5, indexed like torchvision's ``features``."""
    layers: list[nn.Module] = []
    in_channels = 3
    for item in ALEXNET_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            continue
        out_channels, kernel, stride, padding = item
        layers += [nn.Conv2d(in_channels, out_channels, kernel, stride, padding), nn.ReLU(inplace=True)]
        in_channels = out_channels
    return nn.Sequential(*layers)


class AlexNetFeatures(FrozenNetwork):
    """Frozen AlexNet returning its relu1 .. relu5 maps for an already normalised input."""

    def __init__(self) -> None:
        super().__init__()
        self.features = build_alexnet_features()
        self.freeze()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for start, stop in STAGES:
            for layer in self.features[start:stop]:
                x = layer(x)
            outputs.append(x)
        return outputs


def load_alexnet(path: Optional[str | os.PathLike] = None) -> AlexNetFeatures:
    """``AlexNetFeatures`` with torchvision's ImageNet weights from ``path`` or the default places."""
    model = AlexNetFeatures()
    ALEXNET_WEIGHTS.load_into(model, path, ignored=("classifier.",))
    return model
