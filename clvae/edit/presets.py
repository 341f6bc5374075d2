"""Styles as data: one class's codes at every layer, saved as a small preset file.

A preset holds the class name, the codes (N,) of each code layer and the identity of the
model it came from. It applies to any mask with that class, in the same model or in one
with the same code layers and N that names a class the same. A library of presets is a
folder of such files (``list_presets``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from clvae.config import ModelConfig
from clvae.edit.checks import ClassRef, check_codes, require_class_codes, resolve_classes
from clvae.edit.errors import EditError
from clvae.edit.files import model_identity, read_arrays, write_arrays
from clvae.model.codes import LAYER_PREFIX, Codes

PRESET_KEY = "clvae_preset"
PRESET_SUFFIX = ".safetensors"
MAX_NAME_LENGTH = 200


@dataclass
class Preset:
    name: str
    class_name: str
    layers: dict[int, np.ndarray]  # encoder layer -> (N,) float32
    model: dict[str, Any]  # ``model_identity`` of the model it came from


@dataclass
class PresetEntry:
    path: Path
    preset: Optional[Preset]  # None when the file cannot be read
    problem: Optional[str]  # why not


def export_preset(model: nn.Module, codes: Codes, cls: ClassRef, name: str) -> Preset:
    """Class ``cls``'s codes at every layer of one result's ``codes``."""
    cfg = model.cfg
    require_class_codes(cfg)
    check_codes(codes, cfg)
    (class_id,) = resolve_classes(cfg, [cls])
    if not codes.present[0, class_id]:
        raise EditError("class_absent", f"these codes were not made for a mask with {cfg.classes[class_id].name}")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise EditError("bad_preset_name", f"a preset name must be 1..{MAX_NAME_LENGTH} characters, got {name!r}")
    layers = {l: code[0, class_id].float().cpu().numpy().copy() for l, code in codes.layers.items()}
    return Preset(name.strip(), cfg.classes[class_id].name, layers, model_identity(cfg))


def save_preset(preset: Preset, path: str | os.PathLike) -> None:
    arrays = {f"{LAYER_PREFIX}{l}": row for l, row in preset.layers.items()}
    write_arrays(path, arrays, PRESET_KEY, {"name": preset.name, "class_name": preset.class_name, "model": preset.model})


def load_preset(path: str | os.PathLike) -> Preset:
    arrays, document = read_arrays(path, PRESET_KEY, "preset")
    try:
        layers = {int(name[len(LAYER_PREFIX):]): np.asarray(row, dtype=np.float32).reshape(-1)
                  for name, row in arrays.items()}
        preset = Preset(str(document["name"]), str(document["class_name"]), dict(sorted(layers.items())),
                        dict(document["model"]))
    except (KeyError, ValueError, TypeError) as error:
        raise EditError("bad_file", f"{path}: malformed preset ({error})") from error
    if not all(np.isfinite(row).all() for row in preset.layers.values()):
        raise EditError("bad_file", f"{path}: the preset holds NaN or infinite values")
    return preset


def list_presets(folder: str | os.PathLike) -> list[PresetEntry]:
    """Every ``*.safetensors`` preset in ``folder`` (sorted by file name); unreadable ones
    are listed with their problem instead of stopping the listing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EditError("bad_file", f"preset folder {folder} does not exist")
    entries = []
    for path in sorted(folder.glob(f"*{PRESET_SUFFIX}")):
        try:
            entries.append(PresetEntry(path, load_preset(path), None))
        except EditError as error:
            entries.append(PresetEntry(path, None, str(error)))
    return entries


def preset_codes(cfg: ModelConfig, codes: Codes, preset: Preset, cls: Optional[ClassRef] = None) -> Codes:
    """``codes`` with the preset's style for class ``cls`` (None: the class of the same name)."""
    require_class_codes(cfg)
    check_codes(codes, cfg)
    sizes = sorted({row.shape[0] for row in preset.layers.values()})
    if sizes != [cfg.code_channels] or sorted(preset.layers) != list(cfg.code_layers):
        raise EditError("preset_mismatch", f"preset {preset.name!r} has codes of size {sizes} at layers "
                        f"{sorted(preset.layers)}; this model needs {cfg.code_channels} at {list(cfg.code_layers)}")
    class_id = preset_class(cfg, preset, cls)
    out = codes.clone()
    for layer, row in preset.layers.items():
        out.layers[layer][0, class_id] = torch.from_numpy(row).to(out.layers[layer])
    return out


def preset_class(cfg: ModelConfig, preset: Preset, cls: Optional[ClassRef] = None) -> int:
    """The class a preset goes to: ``cls``, or else this model's class of the preset's class name."""
    if cls is None and preset.class_name not in (info.name for info in cfg.classes):
        raise EditError("preset_class_unknown", f"this model has no class named {preset.class_name!r} "
                        f"(preset {preset.name!r}); name the class to apply it to")
    (class_id,) = resolve_classes(cfg, [preset.class_name if cls is None else cls])
    return class_id
