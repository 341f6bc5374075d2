"""The encoder E(I, M): global and class-wise, layer-wise codes (Eqs. 4-6, 13-17, Figure 5).

Six (L) blocks e_l = stride-2 3x3 conv (spectral norm, no bias) -> instance norm, with
LeakyReLU between blocks (SPADE's ConvEncoder; channels ngf x 1, 2, 4, 8, 8, 8, ...).
The image and mask are first resized to ``encoder_size`` squared.

- z_1 comes from the last block: LeakyReLU, (adaptive) pool to at most 4 x 4, flatten,
  linear heads fc_mu / fc_var (Eqs. 5-6).
- For every code layer l, the block's post-norm, pre-activation map H is RoI max pooled
  over the pixels of each class (Eq. 17), then LeakyReLU, then the layer's heads
  fc_mu_l / fc_var_l, shared by all classes (Eqs. 14-15). A class with no pixel at that
  layer's resolution gets mu = logvar = 0 (its code is a prior sample) and is marked
  invalid, so the KL of Eq. 18 leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from clvae.config import ModelConfig
from clvae.model.codes import Codes
from clvae.model.layers import leaky, resize_labels, sn_conv

CHANNEL_MULTIPLIERS = (1, 2, 4, 8, 8, 8, 8, 8)
MAX_FINAL_SIZE = 4


def present_classes(label: torch.Tensor, num_classes: int) -> torch.Tensor:
    """C(M) of Eq. 18 as a (B, C) bool mask."""
    present = torch.zeros(label.shape[0], num_classes, dtype=torch.bool, device=label.device)
    return present.scatter_(1, label.flatten(1), True)


def roi_max_pool(features: torch.Tensor, label: torch.Tensor, num_slots: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 17: per class c, the channel-wise max of ``features`` over the pixels of c.

    features (B, K, h, w), label (B, h, w) in 0 .. num_slots - 1
    -> pooled (B, num_slots, K) (0 where a class has no pixel), valid (B, num_slots) bool.
    One scatter over all classes and images: no loop over classes.
    """
    batch, channels = features.shape[:2]
    flat = features.flatten(2).transpose(1, 2)  # (B, h*w, K)
    index = label.flatten(1).unsqueeze(-1).expand(-1, -1, channels)
    empty = torch.full((batch, num_slots, channels), float("-inf"), dtype=flat.dtype, device=flat.device)
    pooled = empty.scatter_reduce(1, index, flat, reduce="amax", include_self=True)
    valid = present_classes(label, num_slots)
    return torch.where(valid.unsqueeze(-1), pooled, torch.zeros_like(pooled)), valid


@dataclass
class Posterior:
    """E's output: means and log-variances as Codes, plus which class codes are real."""

    mu: Codes
    logvar: Codes
    valid: dict[int, torch.Tensor]  # layer -> (B, S) bool: the class had pixels there

    def sample(self, generator: torch.Generator | None = None) -> Codes:
        """Reparameterisation: mu + eps * exp(logvar / 2), eps ~ N(0, I)."""

        def draw(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            return mu + eps * torch.exp(0.5 * logvar)

        z = draw(self.mu.z_global, self.logvar.z_global)
        layers = {l: draw(self.mu.layers[l], self.logvar.layers[l]) for l in self.mu.layers}
        return Codes(z, layers, self.mu.present)


class Encoder(nn.Module):
    """E(I, M) -> Posterior. image (B, 3, H, W) in [-1, 1], label (B, H, W)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        nf = cfg.ngf
        channels = [3] + [nf * m for m in CHANNEL_MULTIPLIERS[: cfg.encoder_layers]]
        self.blocks = nn.ModuleList(
            nn.Sequential(sn_conv(cin, cout, 3, stride=2, padding=1, bias=False), nn.InstanceNorm2d(cout, affine=False))
            for cin, cout in zip(channels[:-1], channels[1:])
        )
        final = min(MAX_FINAL_SIZE, cfg.encoder_size // 2 ** cfg.encoder_layers)
        self.final_size = final
        self.fc_mu = nn.Linear(channels[-1] * final * final, cfg.z_dim)
        self.fc_var = nn.Linear(channels[-1] * final * final, cfg.z_dim)
        self.fc_mu_layers = nn.ModuleDict({str(l): nn.Linear(channels[l], cfg.code_channels) for l in cfg.code_layers})
        self.fc_var_layers = nn.ModuleDict({str(l): nn.Linear(channels[l], cfg.code_channels) for l in cfg.code_layers})

    def class_labels(self, label: torch.Tensor) -> torch.Tensor:
        """The pooling regions: class ids, or one region for a shared code (S = 1)."""
        return torch.zeros_like(label) if self.cfg.codes_per_layer == 1 else label

    def forward(self, image: torch.Tensor, label: torch.Tensor) -> Posterior:
        size = (self.cfg.encoder_size, self.cfg.encoder_size)
        x = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        regions = resize_labels(self.class_labels(label), size)
        mu_layers, var_layers, valid = {}, {}, {}
        for depth, block in enumerate(self.blocks, start=1):
            h = block(x if depth == 1 else leaky(x))
            key = str(depth)
            if key in self.fc_mu_layers:
                pooled, valid[depth] = roi_max_pool(h, resize_labels(regions, tuple(h.shape[-2:])), self.cfg.codes_per_layer)
                pooled = leaky(pooled)
                keep = valid[depth].unsqueeze(-1)
                mu_layers[depth] = torch.where(keep, self.fc_mu_layers[key](pooled), 0.0)
                var_layers[depth] = torch.where(keep, self.fc_var_layers[key](pooled), 0.0)
            x = h
        final = F.adaptive_avg_pool2d(leaky(x), self.final_size).flatten(1)
        present = present_classes(label, self.cfg.num_classes)
        return Posterior(
            Codes(self.fc_mu(final), mu_layers, present),
            Codes(self.fc_var(final), var_layers, present),
            valid,
        )
