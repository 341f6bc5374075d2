"""The Inception v3 of FID (pytorch-fid's network and weights), without torchvision.

FID's Inception is TensorFlow's 2015-12-05 graph ported to PyTorch. Its layout is
torchvision's ``Inception3`` (the same module names, so ``pt_inception-2015-12-05-6726825d.pth``
loads key for key) with the blocks where TensorFlow differs:

- every average pool inside a mixed block leaves the zero padding out of its average;
- the last block (``Mixed_7c``) pools its fourth branch with a 3x3 max pool, not an average.

``FIDInception`` returns the 2048 pool3 features of images in [0, 1], resized (bilinear) to
299 x 299 and mapped to [-1, 1] as pytorch-fid does. The file's classifier (``fc.*``, 1008
classes) is not used; BatchNorm's ``num_batches_tracked`` may be present or not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from clvae.weights import FrozenNetwork, WeightsFile

INCEPTION_WEIGHTS = WeightsFile(
    what="FID Inception v3 weights (pytorch-fid's)",
    env_var="CLVAE_FID_INCEPTION",
    cache_names=("pt_inception-2015-12-05-6726825d.pth",),
    origin="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
)

INPUT_SIZE = 299
FEATURES = 2048
BN_EPS = 1e-3


@dataclass(frozen=True)
class Conv:
    """A conv + BatchNorm + ReLU unit: its module name, channels, kernel, stride, padding."""

    name: str
    cin: int
    cout: int
    kernel: int | tuple[int, int]
    stride: int = 1
    padding: int | tuple[int, int] = 0


@dataclass(frozen=True)
class Branch:
    """One path of a mixed block: an optional pool, a chain of convs, and optionally a final
    fork of two convs on the same input whose outputs are concatenated."""

    chain: tuple[Conv, ...] = ()
    pool: Optional[str] = None  # "avg", "max" (3x3, stride 1) or "reduce" (3x3 max, stride 2)
    fork: tuple[Conv, ...] = ()


class ConvUnit(nn.Module):
    """Bias-free convolution, BatchNorm (eps 1e-3), ReLU: keys ``conv.weight``, ``bn.*``."""

    def __init__(self, spec: Conv) -> None:
        super().__init__()
        self.conv = nn.Conv2d(spec.cin, spec.cout, spec.kernel, spec.stride, spec.padding, bias=False)
        self.bn = nn.BatchNorm2d(spec.cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def pool(x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "avg":
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
    if kind == "max":
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    return F.max_pool2d(x, kernel_size=3, stride=2)


class Mixed(nn.Module):
    """A mixed (inception) block: its branches run on the same input, outputs concatenated."""

    def __init__(self, branches: list[Branch]) -> None:
        super().__init__()
        self.branches = branches
        for branch in branches:
            for spec in branch.chain + branch.fork:
                self.add_module(spec.name, ConvUnit(spec))

    def run(self, branch: Branch, x: torch.Tensor) -> torch.Tensor:
        if branch.pool is not None:
            x = pool(x, branch.pool)
        for spec in branch.chain:
            x = getattr(self, spec.name)(x)
        if branch.fork:
            x = torch.cat([getattr(self, spec.name)(x) for spec in branch.fork], dim=1)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.run(branch, x) for branch in self.branches], dim=1)


def mixed_a(cin: int, pool_features: int) -> list[Branch]:
    """35 x 35 block: 1x1, 5x5, double 3x3 and pooled paths (Mixed_5b .. 5d)."""
    return [
        Branch((Conv("branch1x1", cin, 64, 1),)),
        Branch((Conv("branch5x5_1", cin, 48, 1), Conv("branch5x5_2", 48, 64, 5, padding=2))),
        Branch((Conv("branch3x3dbl_1", cin, 64, 1), Conv("branch3x3dbl_2", 64, 96, 3, padding=1),
                Conv("branch3x3dbl_3", 96, 96, 3, padding=1))),
        Branch((Conv("branch_pool", cin, pool_features, 1),), pool="avg"),
    ]


def mixed_b(cin: int) -> list[Branch]:
    """35 -> 17 reduction (Mixed_6a)."""
    return [
        Branch((Conv("branch3x3", cin, 384, 3, stride=2),)),
        Branch((Conv("branch3x3dbl_1", cin, 64, 1), Conv("branch3x3dbl_2", 64, 96, 3, padding=1),
                Conv("branch3x3dbl_3", 96, 96, 3, stride=2))),
        Branch(pool="reduce"),
    ]


def mixed_c(cin: int, c7: int) -> list[Branch]:
    """17 x 17 block with factorised 7x7 convolutions (Mixed_6b .. 6e)."""
    row, col = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
    return [
        Branch((Conv("branch1x1", cin, 192, 1),)),
        Branch((Conv("branch7x7_1", cin, c7, 1), Conv("branch7x7_2", c7, c7, **row),
                Conv("branch7x7_3", c7, 192, **col))),
        Branch((Conv("branch7x7dbl_1", cin, c7, 1), Conv("branch7x7dbl_2", c7, c7, **col),
                Conv("branch7x7dbl_3", c7, c7, **row), Conv("branch7x7dbl_4", c7, c7, **col),
                Conv("branch7x7dbl_5", c7, 192, **row))),
        Branch((Conv("branch_pool", cin, 192, 1),), pool="avg"),
    ]


def mixed_d(cin: int) -> list[Branch]:
    """17 -> 8 reduction (Mixed_7a)."""
    return [
        Branch((Conv("branch3x3_1", cin, 192, 1), Conv("branch3x3_2", 192, 320, 3, stride=2))),
        Branch((Conv("branch7x7x3_1", cin, 192, 1), Conv("branch7x7x3_2", 192, 192, (1, 7), padding=(0, 3)),
                Conv("branch7x7x3_3", 192, 192, (7, 1), padding=(3, 0)),
                Conv("branch7x7x3_4", 192, 192, 3, stride=2))),
        Branch(pool="reduce"),
    ]


def mixed_e(cin: int, pool_kind: str) -> list[Branch]:
    """8 x 8 block whose 3x3 paths end in a fork of 1x3 and 3x1 (Mixed_7b, 7c)."""
    def fork(prefix: str) -> tuple[Conv, ...]:
        return (Conv(f"{prefix}a", 384, 384, (1, 3), padding=(0, 1)),
                Conv(f"{prefix}b", 384, 384, (3, 1), padding=(1, 0)))

    return [
        Branch((Conv("branch1x1", cin, 320, 1),)),
        Branch((Conv("branch3x3_1", cin, 384, 1),), fork=fork("branch3x3_2")),
        Branch((Conv("branch3x3dbl_1", cin, 448, 1), Conv("branch3x3dbl_2", 448, 384, 3, padding=1)),
               fork=fork("branch3x3dbl_3")),
        Branch((Conv("branch_pool", cin, 192, 1),), pool=pool_kind),
    ]


STEM = (Conv("Conv2d_1a_3x3", 3, 32, 3, stride=2), Conv("Conv2d_2a_3x3", 32, 32, 3),
        Conv("Conv2d_2b_3x3", 32, 64, 3, padding=1), "pool",
        Conv("Conv2d_3b_1x1", 64, 80, 1), Conv("Conv2d_4a_3x3", 80, 192, 3), "pool")

MIXED = {
    "Mixed_5b": mixed_a(192, 32), "Mixed_5c": mixed_a(256, 64), "Mixed_5d": mixed_a(288, 64),
    "Mixed_6a": mixed_b(288),
    "Mixed_6b": mixed_c(768, 128), "Mixed_6c": mixed_c(768, 160), "Mixed_6d": mixed_c(768, 160),
    "Mixed_6e": mixed_c(768, 192),
    "Mixed_7a": mixed_d(768),
    "Mixed_7b": mixed_e(1280, "avg"), "Mixed_7c": mixed_e(2048, "max"),
}


class FIDInception(FrozenNetwork):
    """images (N, 3, H, W) in [0, 1] -> (N, 2048) pool3 features."""

    def __init__(self) -> None:
        super().__init__()
        for spec in STEM:
            if isinstance(spec, Conv):
                self.add_module(spec.name, ConvUnit(spec))
        for name, branches in MIXED.items():
            self.add_module(name, Mixed(branches))
        self.freeze()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        for spec in STEM:
            x = F.max_pool2d(x, kernel_size=3, stride=2) if spec == "pool" else getattr(self, spec.name)(x)
        for name in MIXED:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))


def load_fid_inception(path: Optional[str | os.PathLike] = None) -> FIDInception:
    """``FIDInception`` with pytorch-fid's weights from ``path`` or the default places."""
    model = FIDInception()
    INCEPTION_WEIGHTS.load_into(model, path, ignored=("fc.", "AuxLogits."), optional=("num_batches_tracked",))
    return model
