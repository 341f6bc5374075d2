"""SPADE's multi-scale PatchGAN discriminator (pix2pixHD / GauGAN).

Each scale is an N-layer PatchGAN on the mask and image concatenated: kernel 4,
padding 2, channels ndf, 2 ndf, 4 ndf, 8 ndf (capped at 512; the last at stride 1),
then a 1-channel map. Spectral norm + instance norm on the middle layers only. The
next scale sees the input average-pooled (k3, s2, p1, count_include_pad=False).
Every layer's output is returned, for feature matching; the last is the prediction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from clvae.config import ModelConfig
from clvae.model.layers import LEAKY_SLOPE, one_hot, sn_conv

KERNEL, PADDING, MAX_CHANNELS = 4, 2, 512

Features = list[list[torch.Tensor]]  # [scale][layer] -> (B, K, h, w); [scale][-1] is the prediction


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int, ndf: int, n_layers: int) -> None:
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(in_channels, ndf, KERNEL, 2, PADDING), nn.LeakyReLU(LEAKY_SLOPE))]
        channels = ndf
        for n in range(1, n_layers):
            previous, channels = channels, min(channels * 2, MAX_CHANNELS)
            stride = 1 if n == n_layers - 1 else 2
            layers.append(nn.Sequential(
                sn_conv(previous, channels, KERNEL, stride, PADDING, bias=False),
                nn.InstanceNorm2d(channels, affine=False),
                nn.LeakyReLU(LEAKY_SLOPE),
            ))
        layers.append(nn.Sequential(nn.Conv2d(channels, 1, KERNEL, 1, PADDING)))
        for i, layer in enumerate(layers):
            self.add_module(f"model{i}", layer)
        self.num_layers = len(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for i in range(self.num_layers):
            x = getattr(self, f"model{i}")(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    """D(M, I) over ``num_D`` scales. label (B, H, W), image (B, 3, H, W) -> Features."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.num_classes = cfg.num_classes
        for i in range(cfg.num_D):
            self.add_module(f"discriminator_{i}", PatchDiscriminator(cfg.num_classes + 3, cfg.ndf, cfg.n_layers_D))
        self.num_D = cfg.num_D

    def forward(self, label: torch.Tensor, image: torch.Tensor) -> Features:
        x = torch.cat([one_hot(label, self.num_classes, image.dtype), image], dim=1)
        results = []
        for i in range(self.num_D):
            results.append(getattr(self, f"discriminator_{i}")(x))
            if i + 1 < self.num_D:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        return results
