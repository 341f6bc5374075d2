"""VGG19 features for the perceptual (VGG) loss, without torchvision.

``build_vgg19_features`` lays out the convolutional stack of VGG19 (configuration 'E')
with the same module indices as torchvision's ``vgg19().features``, so torchvision's
ImageNet weights file (``vgg19-dcbb9e9d.pth``) loads key for key.

Stated deviation from SPADE: SPADE feeds its [-1, 1] images to VGG19 without ImageNet
normalisation. ``VGG19Features`` maps [-1, 1] to [0, 1] and normalises with the ImageNet
mean and std, the input distribution the weights were trained on.

No weights are downloaded: ``load_vgg19`` looks in ``$CLVAE_VGG19`` and in the torch hub
cache, and otherwise raises ``MissingWeightsError`` saying how to provide the file.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Mapping

import safetensors.torch
import torch
from torch import nn

ENV_VAR = "CLVAE_VGG19"
TORCHVISION_FILE_NAME = "vgg19-dcbb9e9d.pth"

# Configuration 'E': output channels of each 3x3 conv, "M" for a 2x2 max pool.
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

# (name, start, stop) into ``features``: the slices ending at relu1_1 .. relu5_1.
FEATURE_SLICES = (("relu1_1", 0, 2), ("relu2_1", 2, 7), ("relu3_1", 7, 12),
                  ("relu4_1", 12, 21), ("relu5_1", 21, 30))

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class MissingWeightsError(FileNotFoundError):
    """No VGG19 weights file was found; the message lists where we looked."""


class BadWeightsError(ValueError):
    """A VGG19 weights file exists but cannot be used; the message names it and says why."""


def build_vgg19_features() -> nn.Sequential:
    """VGG19's convolutional stack, indexed exactly like torchvision's ``vgg19().features``."""
    layers: list[nn.Module] = []
    in_channels = 3
    for item in VGG19_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = item
    return nn.Sequential(*layers)


class VGG19Features(nn.Module):
    """Frozen VGG19 returning [relu1_1, relu2_1, relu3_1, relu4_1, relu5_1].

    Takes images in [-1, 1] (N, 3, H, W) and normalises them to ImageNet statistics
    itself. Its state dict has torchvision's keys (``features.0.weight`` ...).
    It stays in eval mode with ``requires_grad`` off whatever its parent does; gradients
    still flow through it to the input images.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = build_vgg19_features()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGG19Features":
        return super().train(False)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        h = ((images + 1) / 2 - self.mean) / self.std
        activations = []
        for _, start, stop in FEATURE_SLICES:
            for layer in self.features[start:stop]:
                h = layer(h)
            activations.append(h)
        return activations


def load_vgg19(path: str | os.PathLike | None = None) -> VGG19Features:
    """A ``VGG19Features`` with ImageNet weights from ``path`` or, if None, from the first
    of ``$CLVAE_VGG19`` and ``<torch hub dir>/checkpoints/vgg19-dcbb9e9d.pth`` that exists.

    Accepts torchvision's ``.pth`` file (read with ``weights_only=True``; ``classifier.*``
    is ignored) or a safetensors file with the same keys, told apart by their content.
    """
    candidates = [Path(path)] if path is not None else default_weight_paths()
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise MissingWeightsError(_missing_message(candidates))
    model = VGG19Features()
    model.features.load_state_dict(_features_state(_read_state_dict(found), model, found))
    return model


def default_weight_paths() -> list[Path]:
    """Where ``load_vgg19`` looks when given no path, in order."""
    paths = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    return paths + [_hub_cache_path()]


def _hub_cache_path() -> Path:
    """Where torchvision itself would have downloaded the file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE_NAME


def _missing_message(candidates: list[Path]) -> str:
    looked = "\n".join(f"  {p}" for p in candidates)
    return (f"VGG19 weights for the perceptual loss not found. Looked in:\n{looked}\n"
            f"Provide torchvision's ImageNet VGG19 file ({TORCHVISION_FILE_NAME}, or a .safetensors "
            f"copy with the same keys): set ${ENV_VAR} or the training config's [loss] vgg_weights "
            f"to its path, or copy it to {_hub_cache_path()}. "
            f"Or turn the VGG loss off in the training config: [loss] vgg = 0.")


def _read_state_dict(path: Path) -> Mapping[str, torch.Tensor]:
    try:
        if _is_safetensors(path):
            return safetensors.torch.load_file(str(path), device="cpu")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise BadWeightsError(f"VGG19 weights file {path} holds Python objects other than tensors; "
                              f"such files are refused because loading them could run code "
                              f"(torch.load weights_only=True)") from err
    except Exception as err:
        reason = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
        raise BadWeightsError(f"VGG19 weights file {path} is neither a torch state dict nor a "
                              f".safetensors file (or it is corrupt): {reason}") from err
    if not isinstance(state, Mapping):
        raise BadWeightsError(f"VGG19 weights file {path} holds a {type(state).__name__}, not a state dict")
    return state


def _is_safetensors(path: Path) -> bool:
    """Safetensors files start with an 8-byte header length, then the JSON header's '{'."""
    with open(path, "rb") as f:
        return f.read(9)[8:] == b"{"


def _features_state(state: Mapping[str, torch.Tensor], model: VGG19Features, path: Path) -> dict:
    """The ``features.*`` entries of ``state`` keyed for ``model.features``, after checking that
    every key and shape matches (``classifier.*`` is ignored)."""
    expected = model.features.state_dict()
    given = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    problems = [f"missing features.{k}" for k in expected if k not in given]
    problems += [f"unexpected key {k}" for k in state if not k.startswith("classifier.")
                 and not (k.startswith("features.") and k.removeprefix("features.") in expected)]
    problems += [_shape_problem(k, given[k], v) for k, v in expected.items()
                 if k in given and not (isinstance(given[k], torch.Tensor) and given[k].shape == v.shape)]
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise BadWeightsError(f"VGG19 weights file {path} does not match torchvision's vgg19 "
                              f"({len(problems)} problems):\n  {shown}{more}")
    return {k: given[k].float() for k in expected}


def _shape_problem(key: str, value: object, reference: torch.Tensor) -> str:
    found = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"
    return f"features.{key}: {found}, expected shape {tuple(reference.shape)}"
