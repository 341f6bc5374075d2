"""An exponential moving average of a model's weights (its buffers are copied as they are)."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, average: nn.Module, decay: float) -> None:
        """``average``: a model of the same architecture, to hold the average."""
        average.load_state_dict(model.state_dict())
        self.model = average.eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for mean, param in zip(self.model.parameters(), model.parameters()):
            mean.lerp_(param.detach(), 1.0 - self.decay)
        for mine, theirs in zip(self.model.buffers(), model.buffers()):
            mine.copy_(theirs)
