"""Exact per-class lookup for SPADE's first convolution, ``mlp_shared.0`` (issue 9).

That 3x3 convolution reads a map whose pixel q holds a vector fixed by q's class: the
one-hot column e_c of M (Eq. 1, GauGAN) or z_{l,c} + W_c of the CSE block (Eq. 12).
With V (C x N) the class vectors, K_k (hidden x N) the kernel slice at offset k and zero
padding, the convolution is a sum of per-class tables looked up at the shifted labels:

    out(p) = b + sum_k K_k v(class(p + k)) = sum_k T_k[class(p + k)],
    T_k = V K_k^T (+ b at the centre offset),   T_k[outside] = 0,

k over the 9 kernel offsets; for the one-hot mask V = I, so T_k is the kernel slice itself.
Where p's 3x3 neighbourhood is a single class c (region interiors), out(p) is one row of
the summed table sum_k T_k[c]; only boundary pixels need the nine terms. SPADE's ReLU
that follows is applied to the summed table and to the boundary sums, not to the map.
No dense C- or N-channel map is built; gradients reach the kernel, the bias, W and the
codes through the tables. The tables and lookups stay in the weights' dtype (float32
sums, also for their gradients); only the result is cast to autocast's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from clvae.config import ModelConfig
from clvae.model.layers import one_hot

OFFSETS = 9  # a 3x3 kernel's offsets k, row-major (dy, dx) in {-1, 0, 1}^2
CENTRE = 4


@dataclass(frozen=True)
class LabelStencil:
    """A label map (B, h, w) and its boundary pixels: those whose 3x3 neighbourhood holds
    more than one class or reaches outside the image.

    ``interior_label`` is the label map with class C (a zero table row) at boundary pixels.
    ``boundary_rows`` (n, 9) are, per boundary pixel in (b, y, x) order, the rows of the
    flattened offset tables (B, 9, C + 1, hidden) -> (B 9 (C + 1), hidden) that sum to its
    output (row C of each table: the zero "outside" row). ``boundary_index`` (n,) is each
    boundary pixel's flat index b h w + y w + x; ``boundary_pixels`` is, per sample, y w + x.
    """

    label: torch.Tensor  # (B, h, w) int64
    num_classes: int
    interior_label: torch.Tensor  # (B, h, w) int64
    boundary_rows: torch.Tensor  # (n, 9) int64
    boundary_index: torch.Tensor  # (n,) int64
    boundary_pixels: tuple[torch.Tensor, ...]  # B tensors (n_b,)

    @staticmethod
    def of(label: torch.Tensor, num_classes: int) -> "LabelStencil":
        batch, height, width = label.shape
        padded = F.pad(label, (1, 1, 1, 1), value=num_classes)  # class C: outside the image
        window = padded.unsqueeze(1).float()  # class ids are exact in float32
        boundary = (F.max_pool2d(window, 3, 1) != -F.max_pool2d(-window, 3, 1)).view(batch, height, width)
        sample, pixel = boundary.view(batch, -1).nonzero(as_tuple=True)
        padded_width = width + 2
        corner = pixel // width * padded_width + pixel % width  # 3x3 window's top-left in padded
        shifts = torch.tensor([dy * padded_width + dx for dy in range(3) for dx in range(3)], device=label.device)
        neighbours = padded.view(batch, -1)[sample.unsqueeze(-1), corner.unsqueeze(-1) + shifts]  # (n, 9)
        table = sample.unsqueeze(-1) * OFFSETS + torch.arange(OFFSETS, device=label.device)
        counts = torch.bincount(sample, minlength=batch).tolist()
        return LabelStencil(label, num_classes, label.masked_fill(boundary, num_classes),
                            table * (num_classes + 1) + neighbours, sample * (height * width) + pixel,
                            pixel.split(counts))


class BoundarySums(torch.autograd.Function):
    """sum_k tables[rows[:, k]]: tables (R, hidden), rows (n, 9) -> (n, hidden).

    ``embedding_bag`` forward; the backward is nine ``index_add_`` (embedding_bag's own
    backward sorts every index on each call).
    """

    @staticmethod
    def forward(ctx, tables: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(rows)
        ctx.table_rows = tables.shape[0]
        return F.embedding_bag(rows, tables, mode="sum")

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (rows,) = ctx.saved_tensors
        grad_tables = grad.new_zeros(ctx.table_rows, grad.shape[1])
        for offset in range(rows.shape[1]):
            grad_tables.index_add_(0, rows[:, offset], grad)
        return grad_tables, None


def offset_tables(conv: nn.Conv2d, values: Optional[torch.Tensor], batch: int) -> torch.Tensor:
    """T_k of every sample: (B, 9, C + 1, hidden), the bias in the centre table, zero last row.

    ``values`` (B, C, N) are the class vectors z_{l,c} + W_c, or None for the one-hot mask.
    """
    hidden = conv.out_channels
    kernel = conv.weight.reshape(hidden, conv.in_channels, OFFSETS)  # K: (hidden, N, 9)
    if values is None:
        tables = kernel.permute(2, 1, 0).expand(batch, -1, -1, -1)  # (B, 9, C, hidden)
    else:
        tables = torch.einsum("bcn,hnk->bkch", values.to(kernel.dtype), kernel)
    centre = torch.arange(OFFSETS, device=kernel.device) == CENTRE
    tables = tables + centre.view(OFFSETS, 1, 1) * conv.bias  # b enters once, at k = centre
    return F.pad(tables, (0, 0, 0, 1))


def result_dtype(weight: torch.Tensor) -> torch.dtype:
    """The dtype the convolution would return here: autocast's, else the weight's."""
    device = weight.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weight.dtype


@dataclass(frozen=True)
class ClassMap:
    """A conditioning map given by class: pixel p holds row label(p) of ``values``.

    ``values`` (B, C, N): the CSE block's z_{l,c} + W_c (Eq. 12); None: the one-hot mask M.
    """

    stencil: LabelStencil
    values: Optional[torch.Tensor] = None

    def conv3x3_relu(self, conv: nn.Conv2d, channels_last: bool = False) -> torch.Tensor:
        """ReLU(conv(map)) with zero padding, without the map: (B, hidden, h, w), contiguous
        or channels-last in memory."""
        batch, hidden = self.stencil.label.shape[0], conv.out_channels
        with torch.autocast(conv.weight.device.type, enabled=False):
            tables = offset_tables(conv, self.values, batch)
            summed = F.pad(tables[:, :, :-1].sum(1), (0, 0, 0, 1))  # sum_k T_k, zero row C: (B, C + 1, hidden)
            boundary = BoundarySums.apply(tables.reshape(-1, hidden), self.stencil.boundary_rows)  # (n, hidden)
            place = self.channels_last_map if channels_last else self.contiguous_map
            out = place(F.relu(summed), F.relu(boundary))
        return out.to(result_dtype(conv.weight))

    def contiguous_map(self, summed: torch.Tensor, boundary: torch.Tensor) -> torch.Tensor:
        """Interior rows (B, C + 1, hidden) and boundary rows (n, hidden) -> (B, hidden, h, w)."""
        batch, height, width = self.stencil.label.shape
        hidden = summed.shape[-1]
        by_class = summed.transpose(1, 2).contiguous()  # (B, hidden, C + 1)
        index = self.stencil.interior_label.reshape(batch, 1, -1).expand(-1, hidden, -1)
        out = torch.gather(by_class, 2, index)  # (B, hidden, h w), zero at boundary pixels
        pixels = self.stencil.boundary_pixels
        for b, sums in enumerate(boundary.split([len(p) for p in pixels])):
            out[b].index_add_(1, pixels[b], sums.t())
        return out.view(batch, hidden, height, width)

    def channels_last_map(self, summed: torch.Tensor, boundary: torch.Tensor) -> torch.Tensor:
        """Interior rows (B, C + 1, hidden) and boundary rows (n, hidden) -> (B, hidden, h, w)
        channels-last."""
        label = self.stencil.interior_label
        batch, height, width = label.shape
        hidden = summed.shape[-1]
        sample = torch.arange(batch, device=label.device).view(batch, 1, 1)
        rows = (sample * summed.shape[1] + label).reshape(-1)
        out = summed.reshape(-1, hidden).index_select(0, rows)  # (B h w, hidden), zero at boundary pixels
        out.index_add_(0, self.stencil.boundary_index, boundary)
        return out.view(batch, height, width, hidden).permute(0, 3, 1, 2)

    def dense(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The map itself, (B, C or N, h, w): the dense reference the lookup replaces."""
        mask = one_hot(self.stencil.label, self.stencil.num_classes, dtype)
        if self.values is None:
            return mask
        return torch.einsum("bchw,bcn->bnhw", mask, self.values.to(dtype))


# "auto" takes the lookup where it measured faster on the CPU (docs/benchmarks.md, "Model"):
# from 24 conditioning channels on (the dense convolution's cost grows with them, the
# lookup's does not: at ngf 12, 128 x 128 it is 10% slower at C = 4, even at 24, 1.2x
# faster at 64), and at any C in wide generators (ngf >= 32: at ngf 64 it is 1.15x faster
# even at C = 4, where the hidden maps are large and their layout counts most).
LOOKUP_FROM_CHANNELS = 24
LOOKUP_FROM_NGF = 32


def uses_lookup(cfg: ModelConfig) -> bool:
    """Whether the generator takes the lookup path (``cfg.spade_conv``)."""
    if cfg.spade_conv != "auto":
        return cfg.spade_conv == "lookup"
    channels = min(cfg.num_classes, cfg.code_channels) if cfg.uses_class_codes else cfg.num_classes
    return channels >= LOOKUP_FROM_CHANNELS or cfg.ngf >= LOOKUP_FROM_NGF
