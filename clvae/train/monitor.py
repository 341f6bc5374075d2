"""What rank 0 shows of a run: a tqdm bar with it/s and ETA, loss lines every
``log_every`` iterations, and TensorBoard scalars and image grids in the run directory."""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from pathlib import Path

import torch
from tqdm import tqdm


def open_tensorboard(run_dir: Path):
    """A SummaryWriter for ``run_dir``, or None (with one warning) without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        warnings.warn("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)", stacklevel=2)
        return None
    return SummaryWriter(log_dir=str(run_dir))


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Monitor:
    def __init__(self, run_dir: Path, start: int, total: int, log_every: int) -> None:
        self.total = total
        self.log_every = log_every
        self.bar = tqdm(total=total, initial=start, unit="it", dynamic_ncols=True, smoothing=0.1)
        self.writer = open_tensorboard(run_dir)
        self.sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros(()))
        self.count = 0
        self.last_time, self.last_iteration = time.perf_counter(), start

    def step(self, iteration: int, epoch: int, losses: dict[str, torch.Tensor], lrs: dict[str, float]) -> None:
        """Record one iteration's losses; print and log their means every ``log_every``."""
        for name, value in losses.items():
            self.sums[name] = self.sums[name].to(value.device) + value.detach().float()
        self.count += 1
        self.bar.update(1)
        if iteration % self.log_every == 0 or iteration == self.total:
            self.flush(iteration, epoch, lrs)

    def flush(self, iteration: int, epoch: int, lrs: dict[str, float]) -> None:
        now = time.perf_counter()
        speed = (iteration - self.last_iteration) / max(now - self.last_time, 1e-9)
        means = {name: float(total) / self.count for name, total in self.sums.items()}
        eta = format_duration((self.total - iteration) / max(speed, 1e-9))
        losses = " ".join(f"{name} {value:.4g}" for name, value in means.items())
        rates = " ".join(f"lr_{name} {value:.2e}" for name, value in lrs.items())
        self.bar.write(f"iteration {iteration}/{self.total} epoch {epoch} | {losses} | {rates} | "
                       f"{speed:.2f} it/s | ETA {eta}")
        if self.writer is not None:
            for name, value in means.items():
                self.writer.add_scalar(f"loss/{name}", value, iteration)
            for name, value in lrs.items():
                self.writer.add_scalar(f"lr/{name}", value, iteration)
            self.writer.add_scalar("speed/it_per_s", speed, iteration)
        self.sums.clear()
        self.count = 0
        self.last_time, self.last_iteration = now, iteration

    def image(self, iteration: int, grid: torch.Tensor) -> None:
        if self.writer is not None:
            self.writer.add_image("samples/mask_prior-sample_real", grid, iteration)

    def note(self, message: str) -> None:
        self.bar.write(message)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
