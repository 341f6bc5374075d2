"""SPADE normalisation and the SPADE residual block (GauGAN, Park et al. 2019).

Parameter names follow SPADE's published modules (``mlp_shared``, ``mlp_gamma``,
``mlp_beta``, ``conv_0``, ``conv_1``, ``conv_s``, ``norm_0`` ...) so published
checkpoints map onto ours one to one.
"""

from __future__ import annotations

from typing import Union

import torch
from torch import nn

from clvae.model.layers import leaky, param_free_norm, sn_conv
from clvae.model.lookup import ClassMap

Conditioning = Union[torch.Tensor, ClassMap]

# On the lookup path, a SPADE module's hidden map comes out channels-last when it modulates
# fewer than this many channels (oneDNN's 3x3 convolutions of a contiguous map into few
# channels are up to 2x slower), contiguous otherwise (the modulation mixes gamma and beta
# with the contiguous normalised x, and mixed layouts cost more there). Measured on the
# CPU (docs/benchmarks.md).
CHANNELS_LAST_BELOW = 32


class SPADE(nn.Module):
    """x -> norm(x) * (1 + gamma(cond)) + beta(cond).

    ``cond`` is the block's conditioning map at x's size: the one-hot mask (C channels)
    or a CSE feature map (N channels), either dense, shape (B, cond_channels, h, w), or as
    a ``ClassMap`` (labels and class vectors), whose first convolution is a table lookup.
    """

    def __init__(self, channels: int, cond_channels: int, hidden: int, norm: str) -> None:
        super().__init__()
        self.param_free_norm = param_free_norm(norm, channels)
        self.mlp_shared = nn.Sequential(nn.Conv2d(cond_channels, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, channels, 3, padding=1)
        self.hidden_channels_last = channels < CHANNELS_LAST_BELOW

    def shared(self, cond: Conditioning) -> torch.Tensor:
        """mlp_shared(cond) = ReLU(conv3x3(cond)): (B, hidden, h, w)."""
        if isinstance(cond, torch.Tensor):
            return self.mlp_shared(cond)
        return cond.conv3x3_relu(self.mlp_shared[0], self.hidden_channels_last)

    def forward(self, x: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        hidden = self.shared(cond)
        return normalized * (1 + self.mlp_gamma(hidden)) + self.mlp_beta(hidden)


class SPADEResBlock(nn.Module):
    """SPADE ResNet block: two SPADE-LReLU-conv steps plus a (learned) shortcut.

    (B, fin, h, w) -> (B, fout, h, w); spectral norm on conv_0, conv_1 and conv_s.
    """

    def __init__(self, fin: int, fout: int, cond_channels: int, hidden: int, norm: str) -> None:
        super().__init__()
        fmiddle = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = sn_conv(fin, fmiddle, 3, padding=1)
        self.conv_1 = sn_conv(fmiddle, fout, 3, padding=1)
        self.norm_0 = SPADE(fin, cond_channels, hidden, norm)
        self.norm_1 = SPADE(fmiddle, cond_channels, hidden, norm)
        if self.learned_shortcut:
            self.conv_s = sn_conv(fin, fout, 1, bias=False)
            self.norm_s = SPADE(fin, cond_channels, hidden, norm)

    def forward(self, x: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, cond)) if self.learned_shortcut else x
        dx = self.conv_0(leaky(self.norm_0(x, cond)))
        dx = self.conv_1(leaky(self.norm_1(dx, cond)))
        return shortcut + dx
