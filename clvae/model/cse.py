"""Class-wise semantics embedding, the CSE block (Eq. 12, Figure 4).

    s(M_l, z_l) = T^-1( z_l T(M_l) + W T(M_l) )

Every pixel of class c gets the vector z_{l,c} + W_c. Because M_l is one-hot, both
matrix products are a row lookup: we gather rows of the per-sample table (z_l + W^T)
at the label map instead of multiplying a dense C-channel mask ("exploiting the
sparsity", section 3.2.1). ``dense_cse`` is the literal formula, kept for tests.
"""

from __future__ import annotations

import torch
from torch import nn

from clvae.model.layers import one_hot


class CSE(nn.Module):
    """One embedding W (stored as W^T, shape C x N), shared by every generator block."""

    def __init__(self, num_classes: int, code_channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, code_channels))

    def table(self, codes: torch.Tensor) -> torch.Tensor:
        """Per-sample class vectors z_{l,c} + W_c: (B, S, N) -> (B, C, N).

        S is C for class-wise codes, or 1 for one code shared by all classes.
        """
        return self.weight.unsqueeze(0) + codes

    def forward(self, label: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """label (B, h, w) class ids, codes (B, S, N) -> feature map (B, N, h, w)."""
        table = self.table(codes.to(self.weight.dtype))
        batch, num_classes, channels = table.shape
        offsets = torch.arange(batch, device=label.device).view(batch, 1, 1) * num_classes
        rows = torch.nn.functional.embedding(label + offsets, table.reshape(batch * num_classes, channels))
        return rows.permute(0, 3, 1, 2)  # (B, h, w, N) viewed as (B, N, h, w), channels-last in memory


def dense_cse(label: torch.Tensor, codes: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Eq. 12 literally: (z_l + W) @ T(M_l), with the one-hot mask as a dense matrix."""
    batch, height, width = label.shape
    num_classes = weight.shape[0]
    flat_mask = one_hot(label, num_classes, weight.dtype).reshape(batch, num_classes, height * width)
    z = codes.expand(batch, num_classes, -1).transpose(1, 2)  # (B, N, C)
    w = weight.t().unsqueeze(0)  # (1, N, C)
    out = z @ flat_mask + w @ flat_mask  # (B, N, H*W)
    return out.reshape(batch, -1, height, width)
