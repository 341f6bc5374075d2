"""The training data: the data set, each process's share of it in a seeded order that can
restart mid-epoch, and the random horizontal flip.

The order of epoch ``e`` is a permutation seeded by (seed, e), split between processes
as ``DistributedSampler`` does; a position (epoch, batches done) is all a resume needs.
"""

from __future__ import annotations

import itertools
import math
import signal
from dataclasses import dataclass
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from clvae.data import DataError, build_dataset
from clvae.train.config import DataSettings
from clvae.train.errors import TrainError


def build_training_set(settings: DataSettings) -> Dataset:
    """The data set ``settings`` name, checked to be non-empty and of size ``data.size``."""
    try:
        dataset = _open(settings)
    except (DataError, ValueError, KeyError, TypeError, OSError) as err:
        raise TrainError(f"cannot open the {settings.kind} data set: {err}") from err
    if len(dataset) == 0:
        where = "" if settings.kind == "procedural" else f" under {settings.root!r}"
        raise TrainError(f"the {settings.kind} data set ({settings.split} split){where} is empty")
    _check_size(dataset, settings)
    return dataset


def _open(settings: DataSettings) -> Dataset:
    options = {"seed": settings.seed, **settings.options}
    if settings.kind == "procedural":
        options = {"size": settings.size, "length": settings.length, **options}
    return build_dataset(settings.kind, settings.root, settings.split, **options)


def _check_size(dataset: Dataset, settings: DataSettings) -> None:
    try:
        item = dataset[0]
    except (DataError, OSError) as err:
        raise TrainError(f"cannot read the first item of the {settings.kind} data set: {err}") from err
    found = tuple(item["image"].shape[-2:])
    if found != tuple(settings.size):
        raise TrainError(f"the {settings.kind} data set yields {found[0]} x {found[1]} (height x width) images "
                         f"but data.size is {list(settings.size)}; change data.size or the loader's "
                         f"data.options (e.g. crop_size)")


@dataclass
class Position:
    """Where the data stream is: the epoch and how many of its batches were used."""

    epoch: int = 0
    batch: int = 0

    def advance(self, batches_per_epoch: int) -> None:
        self.batch += 1
        if self.batch == batches_per_epoch:
            self.epoch, self.batch = self.epoch + 1, 0


class ResumableSampler(DistributedSampler):
    """A ``DistributedSampler`` that can start partway into an epoch."""

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self.skip = 0

    def start(self, epoch: int, skip: int) -> None:
        """Serve epoch ``epoch`` without its first ``skip`` indices."""
        self.set_epoch(epoch)
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(super().__iter__(), self.skip, None)

    def __len__(self) -> int:
        return super().__len__() - self.skip


def leave_stop_signals_to_the_trainer(worker_id: int) -> None:
    """DataLoader workers ignore Ctrl-C and SIGTERM sent to the whole process group, so the
    training process can finish its iteration and save before they are shut down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class TrainingStream:
    """Endless batches for one process, from a position that can be saved and restored.

    Iterating serves batches from ``position`` on; ``advance`` moves the position.
    """

    def __init__(self, dataset: Dataset, batch_size: int, num_workers: int, seed: int,
                 rank: int, world_size: int, pin_memory: bool) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.sampler = ResumableSampler(dataset, world_size, rank, seed)
        self.batches_per_epoch = math.ceil(len(dataset) / world_size) // batch_size
        if self.batches_per_epoch == 0:
            raise TrainError(f"the data set has {len(dataset)} images: fewer than one batch of {batch_size} "
                             f"for each of {world_size} process(es); lower optim.batch_size")
        self.loader = DataLoader(dataset, batch_size=batch_size, sampler=self.sampler, num_workers=num_workers,
                                 drop_last=True, pin_memory=pin_memory, generator=torch.Generator(),
                                 worker_init_fn=leave_stop_signals_to_the_trainer)
        self.seed = seed
        self.position = Position()

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        while True:
            epoch = self.position.epoch
            self.sampler.start(epoch, self.position.batch * self.batch_size)
            if hasattr(self.dataset, "set_epoch"):
                self.dataset.set_epoch(epoch)
            self.loader.generator.manual_seed(self.seed + epoch)  # worker seeds for this epoch
            yield from self.loader

    def advance(self) -> None:
        """Count one batch as used (call after training on it, before saving the position)."""
        self.position.advance(self.batches_per_epoch)


def random_flip(image: torch.Tensor, label: torch.Tensor,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror each pair left-right with probability 1/2; image and label together."""
    flip = torch.rand(image.shape[0], generator=generator) < 0.5
    image = torch.where(flip[:, None, None, None], image.flip(-1), image)
    label = torch.where(flip[:, None, None], label.flip(-1), label)
    return image, label
