"""The training objective, Eqs. 7, 8 and 18.

    L(G, D, E) = L_GAN + lambda_FM L_FM + lambda_VGG L_VGG + lambda_KL L_KL

with SPADE's choices: hinge GAN loss averaged over D's scales, feature matching as the
L1 between D's intermediate features of fake and real (x 1/num_D), VGG19 L1 on
relu1_1 .. relu5_1 weighted 1/32 .. 1, and the KL of Eq. 18 summed over code
dimensions and images, its class-wise part divided by each image's number of classes.

Not in the paper: an optional locality term (``LossWeights.locality``, off by default)
for class-wise editing, ``locality_loss``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from clvae.model.discriminator import Features
from clvae.model.encoder import Posterior

VGG_LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


@dataclass
class LossWeights:
    fm: float = 10.0  # lambda_FM
    vgg: float = 10.0  # lambda_VGG (0 turns the VGG term off)
    kl: float = 0.05  # lambda_KL
    locality: float = 0.0  # our locality term (0: off, as in the paper): keep a class re-draw's change inside the class
    locality_margin: int = 2  # pixels around the re-drawn class that the locality term leaves free


def hinge_discriminator(real: Features, fake: Features) -> torch.Tensor:
    """D's hinge loss: mean over scales of E[relu(1 - D(real))] + E[relu(1 + D(fake))]."""
    terms = [F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake)]
    return torch.stack(terms).mean()


def hinge_generator(fake: Features) -> torch.Tensor:
    """G's hinge loss: -E[D(fake)], averaged over scales."""
    return torch.stack([-f[-1].mean() for f in fake]).mean()


def feature_matching(fake: Features, real: Features) -> torch.Tensor:
    """L_FM: L1 between intermediate D features (real ones detached), / num_D."""
    total = sum(
        F.l1_loss(f, r.detach()) for fake_scale, real_scale in zip(fake, real) for f, r in zip(fake_scale[:-1], real_scale[:-1])
    )
    return total / len(fake)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last dimension."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def kl_divergence(posterior: Posterior) -> torch.Tensor:
    """Eq. 18 (unweighted), summed over the batch.

    sum_b KL(z_1) + sum_l sum_b (1 / |C(M_b)|) sum_{c in C(M_b)} KL(z_{l,c}); class codes
    that had no pixel at layer l (mu = logvar = 0) are left out.
    """
    total = gaussian_kl(posterior.mu.z_global, posterior.logvar.z_global).sum()
    classes_per_image = posterior.mu.present.sum(dim=1).clamp(min=1).to(total.dtype)
    for layer, mu in posterior.mu.layers.items():
        per_class = gaussian_kl(mu, posterior.logvar.layers[layer])  # (B, S)
        per_class = torch.where(posterior.valid[layer], per_class, 0.0)
        slots = per_class.shape[1]
        norm = classes_per_image if slots > 1 else torch.ones_like(classes_per_image)
        total = total + (per_class.sum(dim=1) / norm).sum()
    return total


class VGGLoss(nn.Module):
    """Perceptual loss: sum_i w_i |VGG_i(fake) - VGG_i(real)|_1 (real detached)."""

    def __init__(self, features: nn.Module) -> None:
        super().__init__()
        self.features = features

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        fake_feats, real_feats = self.features(fake), self.features(real)
        return sum(w * F.l1_loss(f, r.detach()) for w, f, r in zip(VGG_LAYER_WEIGHTS, fake_feats, real_feats))


def locality_loss(redrawn: torch.Tensor, fake: torch.Tensor, outside: torch.Tensor) -> torch.Tensor:
    """Mean |G(M, z') - G(M, z)| over the ``outside`` pixels, where z' re-draws one class's
    codes: a re-roll should not change the rest of the image (docs/training.md).

    redrawn, fake (B, 3, H, W); outside (B, 1, H, W) in {0, 1}, the pixels beyond the margin
    around the re-drawn class. G(M, z) is the target, so only the re-drawn render is pulled.
    """
    change = (redrawn - fake.detach()).abs().mean(dim=1, keepdim=True)
    return (change * outside).sum() / outside.sum().clamp(min=1.0)


def generator_losses(
    fake_features: Features,
    real_features: Features,
    posterior: Optional[Posterior],
    weights: LossWeights,
    vgg: Optional[tuple[VGGLoss, torch.Tensor, torch.Tensor]] = None,
    locality: Optional[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = None,
) -> dict[str, torch.Tensor]:
    """The G/E terms of Eq. 7, weighted; ``vgg`` is (loss, fake, real) when the VGG term is
    on, ``locality`` (redrawn, fake, outside) when the locality term is."""
    losses = {
        "gan": hinge_generator(fake_features),
        "fm": weights.fm * feature_matching(fake_features, real_features),
    }
    if posterior is not None:
        losses["kl"] = weights.kl * kl_divergence(posterior)
    if vgg is not None and weights.vgg > 0:
        loss, fake, real = vgg
        losses["vgg"] = weights.vgg * loss(fake, real)
    if locality is not None:
        losses["locality"] = weights.locality * locality_loss(*locality)
    return losses
