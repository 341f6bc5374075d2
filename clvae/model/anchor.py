"""Anchored normalisation: class-wise edits that leave the other classes' statistics alone.

With instance norm as SPADE's parameter-free step, every pixel is normalised by its
channel's mean and variance over the whole image, so new codes for one class move those
statistics and with them the look of every other class: re-rolling a road recolours the
sky. An anchored render normalises with the statistics of the image being edited,
recorded in a first pass, as batch norm does at inference with its running statistics;
beyond the class, only the convolutions' reach carries the change. On the bundled model
this raised the share of a re-roll's change that falls inside the class from 0.32 to 0.53
(docs/editing.md). Models with batch norm need no anchor: this is a no-op for them.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Literal, Optional

import torch
from torch import nn

from clvae.model.codes import Codes

Mode = Literal["own", "record", "reuse"]


class AnchorableInstanceNorm(nn.InstanceNorm2d):
    """``nn.InstanceNorm2d`` without affine parameters (same state dict: none) that can
    record its per-image statistics and later normalise with the recorded ones."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=False)
        self.mode: Mode = "own"
        self.recorded: Optional[tuple[torch.Tensor, torch.Tensor]] = None  # mean, var: (B, C, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "own":
            return super().forward(x)
        if self.mode == "record":
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, unbiased=False)
            self.recorded = (mean, var)
        mean, var = self.recorded
        return (x - mean) * torch.rsqrt(var + self.eps)  # a recorded batch of 1 serves any batch


@contextmanager
def anchored(model: nn.Module, label: torch.Tensor, codes: Optional[Codes]) -> Iterator[None]:
    """Inside, ``model`` renders with the normalisation statistics of G(label, codes)
    (label (1, H, W), codes of batch 1 on the label's device); ``codes`` None: no anchor."""
    norms = [m for m in model.modules() if isinstance(m, AnchorableInstanceNorm)]
    if codes is None or not norms:
        yield
        return
    try:
        _set_mode(norms, "record")
        with torch.inference_mode():
            model(label, codes)
        _set_mode(norms, "reuse")
        yield
    finally:
        _set_mode(norms, "own")
        for norm in norms:
            norm.recorded = None


def _set_mode(norms: list[AnchorableInstanceNorm], mode: Mode) -> None:
    for norm in norms:
        norm.mode = mode
