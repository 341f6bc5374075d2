"""The official weight files' layouts, written out from the public sources independently of
clvae's modules, filled with random values; and tiny models with the procedural classes."""

from __future__ import annotations

from pathlib import Path

import torch

from clvae.config import ModelConfig
from clvae.data.procedural import CLASSES
from clvae.model import Synthesizer
from clvae.model_io import save_synthesizer

# torchvision alexnet().features: index -> conv weight shape.
ALEXNET_CONVS = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}
# LPIPS v0.1 alex.pth: lin<i>.model.1.weight shapes.
LPIPS_HEADS = {f"lin{i}.model.1.weight": (1, c, 1, 1) for i, c in enumerate((64, 192, 384, 256, 256))}


def _block_a(cin: int, pool: int) -> dict:
    return {"branch1x1": (64, cin, 1, 1), "branch5x5_1": (48, cin, 1, 1), "branch5x5_2": (64, 48, 5, 5),
            "branch3x3dbl_1": (64, cin, 1, 1), "branch3x3dbl_2": (96, 64, 3, 3), "branch3x3dbl_3": (96, 96, 3, 3),
            "branch_pool": (pool, cin, 1, 1)}


def _block_c(cin: int, c7: int) -> dict:
    return {"branch1x1": (192, cin, 1, 1), "branch7x7_1": (c7, cin, 1, 1), "branch7x7_2": (c7, c7, 1, 7),
            "branch7x7_3": (192, c7, 7, 1), "branch7x7dbl_1": (c7, cin, 1, 1), "branch7x7dbl_2": (c7, c7, 7, 1),
            "branch7x7dbl_3": (c7, c7, 1, 7), "branch7x7dbl_4": (c7, c7, 7, 1), "branch7x7dbl_5": (192, c7, 1, 7),
            "branch_pool": (192, cin, 1, 1)}


def _block_e(cin: int) -> dict:
    return {"branch1x1": (320, cin, 1, 1), "branch3x3_1": (384, cin, 1, 1), "branch3x3_2a": (384, 384, 1, 3),
            "branch3x3_2b": (384, 384, 3, 1), "branch3x3dbl_1": (448, cin, 1, 1), "branch3x3dbl_2": (384, 448, 3, 3),
            "branch3x3dbl_3a": (384, 384, 1, 3), "branch3x3dbl_3b": (384, 384, 3, 1), "branch_pool": (192, cin, 1, 1)}


def inception_convs() -> dict[str, tuple[int, ...]]:
    """pytorch-fid's FID Inception (torchvision Inception3 layout, no aux head): conv name ->
    weight shape (out, in, kh, kw)."""
    convs = {"Conv2d_1a_3x3": (32, 3, 3, 3), "Conv2d_2a_3x3": (32, 32, 3, 3), "Conv2d_2b_3x3": (64, 32, 3, 3),
             "Conv2d_3b_1x1": (80, 64, 1, 1), "Conv2d_4a_3x3": (192, 80, 3, 3)}
    blocks = {"Mixed_5b": _block_a(192, 32), "Mixed_5c": _block_a(256, 64), "Mixed_5d": _block_a(288, 64),
              "Mixed_6a": {"branch3x3": (384, 288, 3, 3), "branch3x3dbl_1": (64, 288, 1, 1),
                           "branch3x3dbl_2": (96, 64, 3, 3), "branch3x3dbl_3": (96, 96, 3, 3)},
              "Mixed_6b": _block_c(768, 128), "Mixed_6c": _block_c(768, 160), "Mixed_6d": _block_c(768, 160),
              "Mixed_6e": _block_c(768, 192),
              "Mixed_7a": {"branch3x3_1": (192, 768, 1, 1), "branch3x3_2": (320, 192, 3, 3),
                           "branch7x7x3_1": (192, 768, 1, 1), "branch7x7x3_2": (192, 192, 1, 7),
                           "branch7x7x3_3": (192, 192, 7, 1), "branch7x7x3_4": (192, 192, 3, 3)},
              "Mixed_7b": _block_e(1280), "Mixed_7c": _block_e(2048)}
    for block, block_convs in blocks.items():
        convs.update({f"{block}.{name}": shape for name, shape in block_convs.items()})
    return convs


def inception_state(counters: bool = False) -> dict[str, torch.Tensor]:
    """A random FID Inception state dict with the official keys (He-scaled convolutions, unit
    BatchNorm statistics so activations stay finite) and its 1008-class classifier."""
    gen = torch.Generator().manual_seed(1)
    state = {}
    for name, shape in inception_convs().items():
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"{name}.conv.weight"] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        state[f"{name}.bn.weight"] = torch.ones(shape[0])
        state[f"{name}.bn.bias"] = torch.randn(shape[0], generator=gen) * 0.1
        state[f"{name}.bn.running_mean"] = torch.zeros(shape[0])
        state[f"{name}.bn.running_var"] = torch.ones(shape[0])
        if counters:
            state[f"{name}.bn.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.randn(1008, 2048, generator=gen) * 0.01
    state["fc.bias"] = torch.zeros(1008)
    return state


def alexnet_state() -> dict[str, torch.Tensor]:
    """torchvision's AlexNet keys with random features; the classifier keys are there (the
    loader must skip them) but small."""
    gen = torch.Generator().manual_seed(2)
    state = {}
    for index, shape in ALEXNET_CONVS.items():
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"features.{index}.weight"] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        state[f"features.{index}.bias"] = torch.randn(shape[0], generator=gen) * 0.01
    for index in (1, 4, 6):
        state[f"classifier.{index}.weight"] = torch.randn(4, 4, generator=gen)
        state[f"classifier.{index}.bias"] = torch.randn(4, generator=gen)
    return state


def lpips_heads_state() -> dict[str, torch.Tensor]:
    """Random non-negative channel weights, as the official ones are."""
    gen = torch.Generator().manual_seed(3)
    return {key: torch.rand(shape, generator=gen) for key, shape in LPIPS_HEADS.items()}


def tiny_procedural_model(path: Path, variant: str = "clvae") -> Path:
    """A random model for the 12 procedural classes at 64 x 64, saved to ``path``."""
    torch.manual_seed(0)
    cfg = ModelConfig(CLASSES, variant=variant, height=64, width=64, ngf=4, ndf=4, z_dim=8, encoder_size=64,
                      encoder_layers=4, spade_hidden=8)
    save_synthesizer(path, Synthesizer(cfg))
    return path
