"""The clvae networks. ``Synthesizer`` (G and E) is what a checkpoint holds and what
inference uses; the discriminator only matters for training."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from clvae.config import ModelConfig
from clvae.model.anchor import anchored
from clvae.model.codes import Codes, CodesError
from clvae.model.discriminator import MultiscaleDiscriminator
from clvae.model.encoder import Encoder, Posterior, present_classes
from clvae.model.generator import Generator

__all__ = ["Codes", "CodesError", "Encoder", "Generator", "MultiscaleDiscriminator", "Posterior", "Synthesizer"]


class Synthesizer(nn.Module):
    """G(M, Z) with its encoder E(I, M) (none for gaugan) and config."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(cfg)
        self.encoder = Encoder(cfg) if cfg.uses_encoder else None

    def encode(self, image: torch.Tensor, label: torch.Tensor) -> Posterior:
        """E(I, M): the posterior of every code (style extraction)."""
        if self.encoder is None:
            raise ValueError(f"a {self.cfg.variant} model has no encoder")
        return self.encoder(image, label)

    def prior(self, label: torch.Tensor, generator: Optional[torch.Generator] = None) -> Codes:
        """Codes drawn from N(0, I) for every image of ``label`` (Eqs. 3, 11)."""
        return Codes.prior(self.cfg, present_classes(label, self.cfg.num_classes), generator)

    def forward(self, label: torch.Tensor, codes: Optional[Codes] = None) -> torch.Tensor:
        """label (B, H, W) -> image (B, 3, H, W) in [-1, 1]; codes with an anchor are
        normalised with the statistics of the anchor's image (``clvae.model.anchor``)."""
        if codes is None or codes.anchor is None:
            return self.generator(label, codes)
        with anchored(self.generator, label, codes.anchor):
            return self.generator(label, codes)
