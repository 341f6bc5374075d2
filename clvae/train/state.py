"""The training checkpoint, ``run_dir/checkpoint.safetensors``: everything a resume needs
(and the export of the inference weights beside it, ``model.safetensors``).

Tensors: the state dicts of the Synthesizer, its EMA, D, both optimisers, both schedulers
and gradient scalers, and the global RNG states (torch, CUDA, numpy, python), packed by
``clvae.checkpoint.pack_state``. JSON metadata: the format, the iteration, the data
position, the TrainConfig and ModelConfig, and the packed state's layout. Writes are
atomic, so a crash or a full disk leaves the previous checkpoint whole.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from safetensors import SafetensorError, safe_open

from clvae.checkpoint import (META_KEY, CheckpointError, capture_rng_state, load_checkpoint, pack_state,
                              restore_rng_state, save_checkpoint, unpack_state)
from clvae.config import ModelConfig
from clvae.model import Synthesizer
from clvae.model_io import load_synthesizer, save_synthesizer
from clvae.train.config import TrainConfig
from clvae.train.data import Position
from clvae.train.errors import TrainError

CHECKPOINT_FILE = "checkpoint.safetensors"
MODEL_FILE = "model.safetensors"
TRAIN_FORMAT = "clvae-train"
TRAIN_FORMAT_VERSION = 1


@dataclass
class Saved:
    """A checkpoint as read back."""

    iteration: int
    position: Position
    train_config: dict[str, Any]
    model_config: dict[str, Any]
    state: dict[str, Any]  # name -> state dict; "rng" -> the RNG states


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_FILE


def write_checkpoint(path: Path, iteration: int, position: Position, train_config: TrainConfig,
                     model_config: ModelConfig, stateful: Mapping[str, Any]) -> None:
    """Save the state dicts of ``stateful`` (name -> object) and the RNG states."""
    state = {name: obj.state_dict() for name, obj in stateful.items()}
    state["rng"] = capture_rng_state()
    tensors, layout = pack_state(state)
    meta = {
        "format": TRAIN_FORMAT,
        "version": TRAIN_FORMAT_VERSION,
        "iteration": iteration,
        "position": dataclasses.asdict(position),
        "train_config": train_config.to_dict(),
        "model_config": model_config.to_dict(),
        "state": layout,
    }
    try:
        save_checkpoint(path, tensors, meta)
    except CheckpointError as err:
        raise TrainError(str(err)) from err


def export_model(run_dir: str | os.PathLike, model: Synthesizer) -> Path:
    """Write the inference weights, ``run_dir/model.safetensors``."""
    path = Path(run_dir) / MODEL_FILE
    try:
        save_synthesizer(path, model)
    except CheckpointError as err:
        raise TrainError(str(err)) from err
    return path


def read_checkpoint(path: Path) -> Saved:
    try:
        tensors, meta = load_checkpoint(path)
    except CheckpointError as err:
        raise TrainError(str(err)) from err
    if meta.get("format") != TRAIN_FORMAT:
        raise TrainError(f"{path} is not a clvae training checkpoint (format {meta.get('format')!r})")
    return Saved(meta["iteration"], Position(**meta["position"]), meta["train_config"], meta["model_config"],
                 unpack_state(tensors, meta["state"]))


def saved_train_config(path: Path) -> dict[str, Any]:
    """The TrainConfig values a checkpoint was written with, read from its header alone."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})[META_KEY])
        return meta["train_config"]
    except (OSError, SafetensorError, KeyError, json.JSONDecodeError) as err:
        raise TrainError(f"{path} is not a readable clvae training checkpoint: {err}") from err


def restore(saved: Saved, stateful: Mapping[str, Any]) -> list[str]:
    """Load every object of ``stateful`` that the checkpoint has and the RNG states;
    returns the names it lacked."""
    missing = [name for name in stateful if name not in saved.state]
    for name, obj in stateful.items():
        if name in saved.state:
            try:
                obj.load_state_dict(saved.state[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as err:
                raise TrainError(f"the checkpoint's {name} state does not fit this run: {err}") from err
    restore_rng_state(saved.state["rng"])
    return missing


def check_compatible(saved: Saved, model_config: ModelConfig) -> None:
    """Raise a TrainError unless the checkpoint's model is the one this run builds."""
    check_same_model(saved.model_config, model_config, "the checkpoint")


def check_same_model(saved_config: Mapping[str, Any], model_config: ModelConfig, source: str) -> None:
    """Raise a TrainError unless ``saved_config`` (a ModelConfig as a dict, read from
    ``source``) describes the model this run builds: same classes, same architecture."""
    saved_classes = [c["name"] for c in saved_config["classes"]]
    classes = [c.name for c in model_config.classes]
    if len(saved_classes) != len(classes):
        raise TrainError(f"{source} was trained on {len(saved_classes)} classes but the data set has "
                         f"{len(classes)}; use the data set it was trained on")
    if saved_classes != classes:
        first = next(i for i, (a, b) in enumerate(zip(saved_classes, classes)) if a != b)
        raise TrainError(f"{source}'s class {first} is {saved_classes[first]!r} but the data set's is "
                         f"{classes[first]!r}")
    current = model_config.to_dict()
    changed = [f"{key} {saved_config.get(key)!r} -> {value!r}" for key, value in current.items()
               if key != "classes" and saved_config.get(key) != value]
    if changed:
        raise TrainError(f"the config's model differs from {source}'s: {', '.join(changed)}")


def read_model_weights(path: str | os.PathLike, model_config: ModelConfig) -> dict[str, Any]:
    """The Synthesizer state dict in the inference file ``path``, checked to fit the model
    ``model_config`` describes (for a warm start, ``run.init_from``)."""
    if not Path(path).is_file():
        hint = f"; did you mean {Path(path) / MODEL_FILE}?" if (Path(path) / MODEL_FILE).is_file() else ""
        raise TrainError(f"run.init_from: {path} is not a file{hint}")
    try:
        model = load_synthesizer(path)
    except CheckpointError as err:
        raise TrainError(f"run.init_from: {err}") from err
    check_same_model(model.cfg.to_dict(), model_config, f"run.init_from {path}")
    return model.state_dict()
