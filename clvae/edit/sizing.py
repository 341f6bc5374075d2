"""Any input size in, the same size out.

The generator's first block is a linear layer that makes a map of a fixed size (g_1 of
Eq. 10), so a model draws at exactly its training size H_m x W_m. An input label map of
another size or aspect is resized to H_m x W_m (nearest: ids stay ids), the result is
drawn there and resized back to the input's size (Lanczos). Reference images go to
H_m x W_m the same way (Lanczos), their label maps nearest. docs/editing.md explains why
resizing beats padding.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from clvae.config import ModelConfig
from clvae.model.layers import resize_labels

RESAMPLE = Image.Resampling.LANCZOS


def model_size(cfg: ModelConfig) -> tuple[int, int]:
    return cfg.height, cfg.width


def label_to_model(label: np.ndarray, cfg: ModelConfig, device: torch.device) -> torch.Tensor:
    """(H, W) int64 -> (1, H_m, W_m) on ``device``, nearest neighbour as SPADE resizes masks."""
    tensor = torch.from_numpy(label).to(device)[None]
    return resize_labels(tensor, model_size(cfg))


def image_to_model(image: np.ndarray, cfg: ModelConfig, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H_m, W_m) in [-1, 1] on ``device``."""
    height, width = model_size(cfg)
    if image.shape[:2] != (height, width):
        image = np.asarray(Image.fromarray(image).resize((width, height), RESAMPLE))
    tensor = torch.from_numpy(np.array(image)).to(device).permute(2, 0, 1)[None]  # a writable copy
    return tensor.float() / 127.5 - 1.0


def images_from_model(images: torch.Tensor, size: tuple[int, int]) -> list[np.ndarray]:
    """(B, 3, H_m, W_m) in [-1, 1] -> B arrays (H, W, 3) uint8 at ``size`` = (H, W)."""
    pixels = ((images.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    arrays = pixels.permute(0, 2, 3, 1).numpy()
    height, width = size
    if arrays.shape[1:3] == (height, width):
        return list(arrays)
    return [np.asarray(Image.fromarray(a).resize((width, height), RESAMPLE)) for a in arrays]
