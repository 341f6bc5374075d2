"""Anchored normalisation: class-wise edits that leave the other classes' statistics alone.

With instance norm as SPADE's parameter-free step, every pixel is normalised by its
channel's mean and variance over the whole image, so new codes for one class move those
statistics and with them the look of every other class: re-rolling a road recolours the
sky. An anchored render normalises with the statistics of the image being edited,
recorded in a first pass, as batch norm does at inference with its running statistics;
beyond the class, only the convolutions' reach carries the change. The edited codes carry
that image's codes as their ``anchor`` (``Codes.anchored_to``), and ``Synthesizer``
renders codes with an anchor this way, so they keep remaking the same image (measured
effect: docs/editing.md). Models with batch norm need no anchor: a no-op for them.

The recorded statistics live on the norm modules during the render: one anchored render
at a time per model (the daemon renders in one worker thread).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Literal, Optional

import torch
from torch import nn

if TYPE_CHECKING:
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
        return (x - mean) * torch.rsqrt(var + self.eps)


@contextmanager
def anchored(network: nn.Module, label: torch.Tensor, anchor: "Codes") -> Iterator[None]:
    """Inside, ``network`` (called as ``network(label, codes)``) normalises with the
    statistics of ``network(label, anchor)``: label (B, H, W), anchor of batch B."""
    norms = [m for m in network.modules() if isinstance(m, AnchorableInstanceNorm)]
    if not norms:
        yield
        return
    if any(norm.mode != "own" for norm in norms):
        raise RuntimeError("this model is already rendering anchored: one anchored render at a time")
    try:
        _set_mode(norms, "record")
        with torch.no_grad():
            network(label, anchor)
        _set_mode(norms, "reuse")
        yield
    finally:
        _set_mode(norms, "own")
        for norm in norms:
            norm.recorded = None


def _set_mode(norms: list[AnchorableInstanceNorm], mode: Mode) -> None:
    for norm in norms:
        norm.mode = mode
