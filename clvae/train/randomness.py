"""Per-iteration random streams.

Each iteration's flips and reparameterisation noise come from generators seeded by
(seed, rank, iteration, stream), so they are the same whether or not the run was
interrupted and resumed, and differ between processes without any state to save.
"""

from __future__ import annotations

import random

import numpy as np
import torch

FLIP, NOISE = 0, 1  # stream ids


def iteration_generator(seed: int, rank: int, iteration: int, stream: int,
                        device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` for ``stream`` of ``iteration`` on process ``rank``."""
    state = np.random.SeedSequence([seed, rank, iteration, stream]).generate_state(2, dtype=np.uint32)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))


def seed_everything(seed: int) -> None:
    """Seed torch (every device), numpy's and python's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
