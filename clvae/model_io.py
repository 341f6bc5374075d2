"""Inference weights: a ``Synthesizer`` in one safetensors file that rebuilds it alone.

The file holds the Synthesizer's state dict (float32) and, in the metadata, its
``ModelConfig`` (classes, colours, size): nothing about training. The trainer writes it as
``run_dir/model.safetensors``; the daemon and the CLI load it with ``load_synthesizer``.
"""

from __future__ import annotations

import os

import torch

from pathlib import Path

from clvae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from clvae.config import ModelConfig
from clvae.model import Synthesizer

MODEL_FORMAT = "clvae-model"
BUNDLED_MODEL = Path(__file__).resolve().parent / "assets" / "procedural.safetensors"  # docs/models/procedural.md
# Its baselines at the same budget (docs/results.md): variant -> file.
BASELINE_MODELS = {variant: BUNDLED_MODEL.with_name(f"procedural_{variant}.safetensors") for variant in ("gaugan_vae", "gaugan")}
MODEL_FORMAT_VERSION = 1


class ModelFileError(CheckpointError):
    """A file that is not clvae inference weights, or whose weights do not fit its config."""


def save_synthesizer(path: str | os.PathLike, model: Synthesizer) -> None:
    """Write ``model``'s weights (as float32 on the CPU) and config, atomically."""
    tensors = {name: t.detach().float().cpu() for name, t in model.state_dict().items()}
    meta = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, "model_config": model.cfg.to_dict()}
    save_checkpoint(path, tensors, meta)


def load_synthesizer(path: str | os.PathLike, device: str | torch.device = "cpu") -> Synthesizer:
    """The Synthesizer saved in ``path``, in eval mode on ``device``."""
    try:
        tensors, meta = load_checkpoint(path, device)
    except CheckpointError as err:
        raise ModelFileError(f"{err}; expected clvae inference weights (a model.safetensors)") from err
    if meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(_wrong_format(path, meta))
    try:
        cfg = ModelConfig.from_dict(meta["model_config"])
        model = Synthesizer(cfg)
        model.load_state_dict(tensors)
        model.layer_groups = meta.get("layer_groups")  # measured by clvae.eval.layers, if at all
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"{path}: the weights do not fit the model config saved with them: {err}") from err
    return model.to(device).eval()


def _wrong_format(path: str | os.PathLike, meta: dict) -> str:
    if "train_config" in meta:
        return (f"{path} is a training checkpoint, not inference weights; use the model.safetensors "
                f"written beside it")
    return f"{path} is a clvae file of format {meta.get('format')!r}, not {MODEL_FORMAT!r} inference weights"
