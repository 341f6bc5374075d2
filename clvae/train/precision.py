"""Mixed precision: which autocast dtype a run uses and whether its losses are scaled."""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Optional

import torch

from clvae.train.errors import TrainError


@dataclass(frozen=True)
class Precision:
    dtype: Optional[torch.dtype]  # autocast dtype; None: float32 throughout
    device_type: str

    @property
    def name(self) -> str:
        return {None: "float32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaling, on only for fp16 (bf16 has float32's range)."""
        return torch.amp.GradScaler(self.device_type, enabled=self.dtype == torch.float16)


def choose_precision(amp: str, device: torch.device) -> Precision:
    """``run.amp`` on ``device``: CUDA gets bf16 when supported (auto), else fp16; the CPU float32."""
    if device.type != "cuda":
        if amp in ("bf16", "fp16"):
            warnings.warn(f"run.amp = {amp!r} applies to CUDA only; training on the CPU in float32", stacklevel=2)
        return Precision(None, device.type)
    if amp == "off":
        return Precision(None, "cuda")
    bf16 = torch.cuda.is_bf16_supported()
    if amp == "bf16" and not bf16:
        raise TrainError("run.amp = \"bf16\" but this GPU has no bfloat16 support; use \"fp16\" or \"auto\"")
    return Precision(torch.bfloat16 if amp == "bf16" or (amp == "auto" and bf16) else torch.float16, "cuda")
