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

import torch
from torch import nn

from clvae.weights import BadWeightsError, MissingWeightsError, WeightsFile

__all__ = ["VGG19_WEIGHTS", "BadWeightsError", "MissingWeightsError", "VGG19Features", "build_vgg19_features", "load_vgg19"]

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


VGG19_WEIGHTS = WeightsFile(
    what="VGG19 weights for the perceptual loss",
    env_var=ENV_VAR,
    cache_names=(TORCHVISION_FILE_NAME,),
    origin=f"torchvision's ImageNet VGG19 file ({TORCHVISION_FILE_NAME})",
    hint="The training config's [loss] vgg_weights can name the file too; or turn the VGG loss off "
         "in the training config: [loss] vgg = 0.",
)


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
    model = VGG19Features()
    VGG19_WEIGHTS.load_into(model, path, ignored=("classifier.",))
    return model
