"""The learning-rate schedule: constant, then a linear decay to zero (SPADE's niter and
niter_decay), stepped every iteration."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class LinearDecay:
    """LR factor of iteration i: 1 for i < constant, then 1 - (i - constant) / decay.

    A plain object (not a lambda) so LambdaLR saves its two numbers in checkpoints.
    """

    def __init__(self, constant: int, decay: int) -> None:
        self.constant = constant
        self.decay = decay

    def __call__(self, iteration: int) -> float:
        if iteration < self.constant:
            return 1.0
        return max(0.0, 1.0 - (iteration - self.constant) / max(self.decay, 1))


def linear_decay_scheduler(optimizer: Optimizer, constant: int, decay: int) -> LambdaLR:
    return LambdaLR(optimizer, LinearDecay(constant, decay))


def schedule_iterations(unit: str, niter: int, niter_decay: int, batches_per_epoch: int) -> tuple[int, int]:
    """(constant, decay) in iterations; ``unit`` "epochs" scales by the epoch's length."""
    scale = batches_per_epoch if unit == "epochs" else 1
    return niter * scale, niter_decay * scale
