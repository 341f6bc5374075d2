"""Small building blocks shared by the generator, encoder and discriminator."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from clvae.model.anchor import AnchorableInstanceNorm

LEAKY_SLOPE = 0.2


def leaky(x: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(0.2), the activation SPADE uses everywhere."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def sn_conv(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True) -> nn.Module:
    """A convolution with spectral normalisation of its weight."""
    return spectral_norm(nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias))


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """Instance or batch norm without affine parameters (SPADE's first step)."""
    if kind == "instance":
        return AnchorableInstanceNorm(channels)
    if kind in ("batch", "syncbatch"):  # syncbatch: converted by the trainer under DDP
        return nn.BatchNorm2d(channels, affine=False)
    raise ValueError(f"unknown norm {kind!r}")


def resize_labels(label: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of an integer label map (B, H, W) -> (B, h, w).

    Picks the same source pixels as SPADE's nearest interpolation of the one-hot mask.
    """
    if tuple(label.shape[-2:]) == tuple(size):
        return label
    resized = F.interpolate(label[:, None].float(), size=size, mode="nearest")
    return resized[:, 0].long()


def one_hot(label: torch.Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, H, W) class ids -> (B, C, H, W) one-hot mask M."""
    return F.one_hot(label, num_classes).permute(0, 3, 1, 2).to(dtype)
