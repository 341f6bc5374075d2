"""One process of a (possibly) distributed run: set-up from torchrun's environment,
DistributedDataParallel wrapping, SyncBatchNorm, and agreeing on a stop.

Under ``torchrun`` (RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR set) the process group
uses NCCL on CUDA and gloo on the CPU; otherwise the run is a single process.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from clvae.train.errors import TrainError


@dataclass(frozen=True)
class Process:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return dist.is_available() and dist.is_initialized()


def launched_by_torchrun() -> bool:
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR"))


def pick_device(choice: str, local_rank: int) -> torch.device:
    """``auto``: this process's GPU when CUDA is available, else the CPU."""
    if choice == "cuda" and not torch.cuda.is_available():
        raise TrainError("run.device is cuda but no CUDA device is available (set run.device = \"cpu\")")
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def start(device_choice: str) -> Process:
    """This process's rank and device; joins the process group under torchrun."""
    if not launched_by_torchrun():
        return Process(0, 1, pick_device(device_choice, 0))
    device = pick_device(device_choice, int(os.environ["LOCAL_RANK"]))
    if device.type == "cuda":
        dist.init_process_group(backend="nccl", device_id=device)
    else:
        dist.init_process_group(backend="gloo")
    return Process(dist.get_rank(), dist.get_world_size(), device)


def stop(process: Process) -> None:
    """Wait for every process, then leave the process group."""
    if process.distributed:
        dist.barrier()
        dist.destroy_process_group()


def wrap(module: nn.Module, process: Process) -> nn.Module:
    """``module`` under DistributedDataParallel when the run is distributed."""
    if not process.distributed:
        return module
    device_ids = [process.device.index] if process.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def sync_batch_norms(module: nn.Module, process: Process) -> nn.Module:
    """Batch norms that share statistics across processes (norm_G = "syncbatch")."""
    if not process.distributed:
        return module
    if process.device.type != "cuda":
        if process.is_main:
            warnings.warn("SyncBatchNorm needs GPUs; on the CPU each process normalises with its own batch",
                          stacklevel=2)
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def any_process(flag: bool, process: Process) -> bool:
    """True on every process when ``flag`` is true on any."""
    if not process.distributed:
        return flag
    value = torch.tensor([int(flag)], device=process.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
