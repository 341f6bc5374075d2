"""The generator G(M, Z) of Eq. 10: GauGAN's SPADE generator fed by CSE blocks.

Blocks, in order (SPADE's names), with nearest upsampling between them:

    g_1      Linear(z_1) -> (16 ngf, sh, sw)   [gaugan: 3x3 conv of the mask at sh x sw]
    head_0   16 ngf -> 16 ngf   at sh          | up
    G_middle_0 16 -> 16                        | up only for "more" / "most"
    G_middle_1 16 -> 16                        | up
    up_0     16 -> 8 | up_1 8 -> 4 | up_2 4 -> 2 | up_3 2 -> 1   (an up before each)
    up_4     1 -> 1/2 (only "most", after one more up)
    conv_img LeakyReLU, 3x3 conv to RGB, tanh

Each block's SPADE modules are conditioned either on the plain one-hot mask or on a
CSE map s(M_l, z_l) (Eq. 12); ``block_conditioning`` decides which (section 3.2.1). On
the lookup path (``spade_conv``, clvae.model.lookup) neither map is built: the blocks get
the label map and the per-sample class vectors z_l + W, and SPADE's first convolution
becomes a per-class table lookup (gaugan's g_1, a 3x3 convolution of the mask at sh x sw,
stays dense: a few dozen pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from clvae.config import ModelConfig
from clvae.model.codes import Codes
from clvae.model.cse import CSE
from clvae.model.layers import leaky, one_hot, resize_labels
from clvae.model.lookup import ClassMap, LabelStencil, uses_lookup
from clvae.model.spade import Conditioning, SPADEResBlock

Labels = Union[torch.Tensor, LabelStencil]


@dataclass(frozen=True)
class BlockSpec:
    name: str
    fin: float  # channels as multiples of ngf
    fout: float
    upsample_before: bool


def block_specs(upsampling: str) -> list[BlockSpec]:
    """The SPADE residual blocks of G in forward order."""
    extra_up = upsampling in ("more", "most")
    specs = [
        BlockSpec("head_0", 16, 16, False),
        BlockSpec("G_middle_0", 16, 16, True),
        BlockSpec("G_middle_1", 16, 16, extra_up),
        BlockSpec("up_0", 16, 8, True),
        BlockSpec("up_1", 8, 4, True),
        BlockSpec("up_2", 4, 2, True),
        BlockSpec("up_3", 2, 1, True),
    ]
    if upsampling == "most":
        specs.append(BlockSpec("up_4", 1, 0.5, True))
    return specs


def block_scales(cfg: ModelConfig) -> list[int]:
    """log2 of each block's downsampling factor relative to the output image."""
    level = cfg.num_up_layers
    scales = []
    for spec in block_specs(cfg.upsampling):
        level -= spec.upsample_before
        scales.append(level)
    return scales


def block_conditioning(cfg: ModelConfig) -> list[Optional[int]]:
    """For each block, the encoder layer whose codes feed its CSE block (None: plain mask).

    Encoder layer l sits at scale l (its map is 2^l times smaller than the encoder
    input), so a block at scale k takes layer k's codes. Blocks without such a layer, or
    a second block at an already used scale, follow ``cfg.extra_blocks``:
    ``authors`` reuses a code (the nearest) except for blocks finer than every code
    layer, which get the mask (the published table: head_0 <- 5, G_middle_0/1 <- 4,
    up_0 <- 3, up_1 <- 2, up_2 <- 1, up_3 <- mask); ``mask`` gives them the mask;
    ``reuse`` gives them the nearest code. no_layerwise feeds its one layer everywhere.
    An explicit ``cfg.block_layers`` table overrides all of this.
    """
    if cfg.block_layers is not None:
        return explicit_conditioning(cfg)
    layers = cfg.code_layers
    scales = block_scales(cfg)
    if not layers:
        return [None] * len(scales)
    if cfg.variant == "no_layerwise":
        return [layers[0]] * len(scales)
    chosen: list[Optional[int]] = []
    used: set[int] = set()
    for scale in scales:
        nearest = min(layers, key=lambda l: (abs(l - scale), l))
        exact = scale in layers
        if exact and (scale not in used or cfg.extra_blocks != "mask"):
            chosen.append(scale)
        elif cfg.extra_blocks == "reuse" or (cfg.extra_blocks == "authors" and scale > min(layers)):
            chosen.append(nearest)
        else:
            chosen.append(None)
        used.add(scale)
    return chosen


def explicit_conditioning(cfg: ModelConfig) -> list[Optional[int]]:
    """``cfg.block_layers`` in block order; it must name exactly this generator's blocks."""
    names = [spec.name for spec in block_specs(cfg.upsampling)]
    if set(cfg.block_layers) != set(names):
        raise ValueError(f"invalid model config: block_layers must name exactly the blocks {names} of "
                         f"{cfg.upsampling!r} upsampling, got {sorted(cfg.block_layers)}")
    return [cfg.block_layers[name] for name in names]


class Generator(nn.Module):
    """G(M, Z) -> image in [-1, 1]: label (B, H, W) int64, codes -> (B, 3, H, W)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        nf = cfg.ngf
        sh, sw = cfg.start_size
        self.specs = block_specs(cfg.upsampling)
        self.conditioning = block_conditioning(cfg)
        self.lookup = uses_lookup(cfg)
        if cfg.uses_encoder:
            self.fc = nn.Linear(cfg.z_dim, 16 * nf * sh * sw)
        else:
            self.fc = nn.Conv2d(cfg.num_classes, 16 * nf, 3, padding=1)
        if any(layer is not None for layer in self.conditioning):
            self.cse = CSE(cfg.num_classes, cfg.code_channels)
        for spec, layer in zip(self.specs, self.conditioning):
            cond_channels = cfg.num_classes if layer is None else cfg.code_channels
            block = SPADEResBlock(int(spec.fin * nf), int(spec.fout * nf), cond_channels, cfg.spade_hidden, cfg.norm_G)
            self.add_module(spec.name, block)
        self.conv_img = nn.Conv2d(int(self.specs[-1].fout * nf), 3, 3, padding=1)

    def first_map(self, label: torch.Tensor, codes: Optional[Codes]) -> torch.Tensor:
        """g_1: (B, 16 ngf, sh, sw) from z_1 (Eq. 2) or from the mask (Eq. 1)."""
        sh, sw = self.cfg.start_size
        if self.cfg.uses_encoder:
            z = codes.z_global.to(label.device, self.fc.weight.dtype)
            return self.fc(z).view(label.shape[0], -1, sh, sw)
        small = resize_labels(label, (sh, sw))
        return self.fc(one_hot(small, self.cfg.num_classes, self.fc.weight.dtype))

    def labels_at(self, label: torch.Tensor, size: tuple[int, int]) -> Labels:
        """The label map at a block's size (B, h, w); on the lookup path, its stencil."""
        small = resize_labels(label, size)
        return LabelStencil.of(small, self.cfg.num_classes) if self.lookup else small

    def condition(self, labels: Labels, codes: Optional[Codes], layer: Optional[int]) -> Conditioning:
        """The block's SPADE input: one-hot M_k, or s(M_l, z_l) (Eq. 12); a ClassMap of
        either on the lookup path."""
        if self.lookup:
            values = None if layer is None else self.cse.table(codes.layers[layer].to(self.cse.weight))
            return ClassMap(labels, values)
        if layer is None:
            return one_hot(labels, self.cfg.num_classes, self.conv_img.weight.dtype)
        return self.cse(labels, codes.layers[layer].to(labels.device))

    def forward(self, label: torch.Tensor, codes: Optional[Codes] = None) -> torch.Tensor:
        if self.cfg.uses_encoder and codes is None:
            raise ValueError(f"the {self.cfg.variant} generator needs codes")
        x = self.first_map(label, codes)
        labels: dict[tuple[int, int], Labels] = {}
        conditions: dict[tuple, Conditioning] = {}
        for spec, layer in zip(self.specs, self.conditioning):
            if spec.upsample_before:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            size = tuple(x.shape[-2:])
            if size not in labels:
                labels[size] = self.labels_at(label, size)
            if (layer, size) not in conditions:
                conditions[layer, size] = self.condition(labels[size], codes, layer)
            x = getattr(self, spec.name)(x, conditions[layer, size])
        return torch.tanh(self.conv_img(leaky(x)))


def describe_conditioning(cfg: ModelConfig) -> dict[str, str]:
    """Block name -> "mask" or "layer l" (for docs and `clvae info`)."""
    return {
        spec.name: "mask" if layer is None else f"layer {layer}"
        for spec, layer in zip(block_specs(cfg.upsampling), block_conditioning(cfg))
    }

