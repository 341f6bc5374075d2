"""One training iteration: update G and E on Eq. 7's terms (and the optional locality
term), then D on the hinge loss.

D judges fake and real images in one call, concatenated along the batch (as SPADE does).
During G and E's update D's weights are frozen and D is called directly, not through
DistributedDataParallel, so no gradient of D is computed or exchanged there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from torch import nn
from torch.optim import Optimizer

from clvae.losses import LossWeights, VGGLoss, generator_losses, hinge_discriminator
from clvae.model import Posterior, Synthesizer
from clvae.model.discriminator import Features
from clvae.train.locality import outside_region, redraw_one_class
from clvae.train.precision import Precision

Redraw = tuple[torch.Tensor, torch.Tensor]  # (B, 3, H, W) render with one class re-drawn, (B, 1, H, W) outside mask


class SynthesisStep(nn.Module):
    """E then G in one ``forward``, so DistributedDataParallel tracks both.

    (image, label, noise generator) -> (fake, posterior, redraw): posterior None without
    encoder; redraw None unless ``locality_margin`` is set (the locality term is on), else
    (G's render with one class re-drawn per image, the pixels it must leave alone).
    """

    def __init__(self, synthesizer: Synthesizer, locality_margin: Optional[int] = None) -> None:
        super().__init__()
        self.synthesizer = synthesizer
        self.locality_margin = locality_margin

    def forward(self, image: torch.Tensor, label: torch.Tensor,
                noise: torch.Generator) -> tuple[torch.Tensor, Optional[Posterior], Optional[Redraw]]:
        if self.synthesizer.encoder is None:
            return self.synthesizer(label, None), None, None
        posterior = self.synthesizer.encode(image, label)
        codes = posterior.sample(noise)
        fake = self.synthesizer(label, codes)
        if self.locality_margin is None:
            return fake, posterior, None
        redrawn, chosen = redraw_one_class(codes, noise)
        return fake, posterior, (self.synthesizer(label, redrawn), outside_region(label, chosen, self.locality_margin))


@dataclass
class Updates:
    """What one iteration runs and updates."""

    synthesis: nn.Module  # SynthesisStep (maybe under DDP / torch.compile)
    critic: nn.Module  # D for its own update (maybe under DDP / torch.compile)
    frozen_critic: nn.Module  # D for G and E's update (never under DDP)
    optimizer_G: Optimizer
    optimizer_D: Optimizer
    scaler_G: torch.amp.GradScaler
    scaler_D: torch.amp.GradScaler
    precision: Precision
    weights: LossWeights
    vgg: Optional[VGGLoss]


def judge(critic: nn.Module, label: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> tuple[Features, Features]:
    """D's features of the fake and the real batch, from one call on both."""
    features = critic(torch.cat([label, label]), torch.cat([fake, real]))
    n = fake.shape[0]
    return [[f[:n] for f in scale] for scale in features], [[f[n:] for f in scale] for scale in features]


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """``module``'s parameters without gradients for the duration."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def apply_gradients(optimizer: Optimizer, scaler: torch.amp.GradScaler, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def train_step(u: Updates, image: torch.Tensor, label: torch.Tensor, noise: torch.Generator) -> dict[str, torch.Tensor]:
    """Both updates on one batch; returns the (weighted) losses, detached."""
    with frozen(u.frozen_critic), u.precision.autocast():
        fake, posterior, redraw = u.synthesis(image, label, noise)
        fake_features, real_features = judge(u.frozen_critic, label, fake, image)
        vgg = (u.vgg, fake, image) if u.vgg is not None else None
        locality = (redraw[0], fake, redraw[1]) if redraw is not None else None
        losses = generator_losses(fake_features, real_features, posterior, u.weights, vgg, locality)
    apply_gradients(u.optimizer_G, u.scaler_G, sum(losses.values()))
    with u.precision.autocast():
        fake_features, real_features = judge(u.critic, label, fake.detach(), image)
        loss_D = hinge_discriminator(real_features, fake_features)
    apply_gradients(u.optimizer_D, u.scaler_D, loss_D)
    named = {f"G/{name}": value.detach() for name, value in losses.items()}
    return {**named, "D/hinge": loss_D.detach()}
