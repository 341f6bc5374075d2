"""The locality term's inputs: per image, one present class re-drawn, and where it must not
show (``clvae.losses.locality_loss``; not in the paper).

The re-drawn codes are anchored to the original ones (``clvae.model.anchor``), as the
editing API renders re-rolls, so the term trains the render that artists get.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from clvae.model.codes import Codes


def redraw_one_class(codes: Codes, noise: torch.Generator) -> tuple[Codes, torch.Tensor]:
    """Per image, one class of ``codes.present`` chosen uniformly, its codes at every code
    layer replaced by prior draws; returns (the new codes anchored to ``codes``, the chosen
    class ids (B,))."""
    present = codes.present.to(noise.device)
    chosen = torch.multinomial(present.float(), 1, generator=noise).squeeze(1)  # (B,)
    layers = {}
    for layer, code in codes.layers.items():
        rows = F.one_hot(chosen, code.shape[1]).bool().to(code.device).unsqueeze(-1)  # (B, S, 1)
        fresh = torch.randn(code.shape, generator=noise, device=noise.device, dtype=code.dtype).to(code.device)
        layers[layer] = torch.where(rows, fresh, code)
    redrawn = Codes(codes.z_global, layers, codes.present)
    return redrawn.anchored_to(codes), chosen.to(codes.present.device)


def outside_region(label: torch.Tensor, chosen: torch.Tensor, margin: int) -> torch.Tensor:
    """(B, 1, H, W) float: 1 where a pixel is more than ``margin`` pixels (in the max norm)
    from class ``chosen[b]`` of ``label`` (B, H, W), else 0."""
    region = (label == chosen.to(label.device).view(-1, 1, 1)).unsqueeze(1).float()
    if margin > 0:
        region = F.max_pool2d(region, 2 * margin + 1, stride=1, padding=margin)
    return 1.0 - region
