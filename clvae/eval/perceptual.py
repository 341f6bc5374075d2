"""The paper's learned measurements (section 4.3) on uint8 images: LPIPS embeddings and
distances, the mean pairwise distance of a set, the sample closest in L1, and FID features."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from clvae.eval.backbones.inception import FIDInception
from clvae.eval.backbones.lpips import LPIPS, Features


def unit_images(images: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """B uint8 (H, W, 3) images -> (B, 3, H, W) float in [0, 1] on ``device``."""
    stacked = torch.from_numpy(np.stack(images)).to(device)
    return stacked.permute(0, 3, 1, 2).float() / 255.0


def device_of(network: torch.nn.Module) -> torch.device:
    return next(network.parameters()).device


@torch.inference_mode()
def lpips_features(lpips: LPIPS, images: Sequence[np.ndarray], batch: int) -> Features:
    """LPIPS embeddings of uint8 images, ``batch`` at a time."""
    parts = [lpips.features(unit_images(images[i:i + batch], device_of(lpips)) * 2 - 1)
             for i in range(0, len(images), batch)]
    return [torch.cat(stage) for stage in zip(*parts)]


def select(features: Features, index: int | slice) -> Features:
    """Some rows of every stage (an int keeps its row dimension)."""
    rows = slice(index, index + 1) if isinstance(index, int) else index
    return [stage[rows] for stage in features]


@torch.inference_mode()
def pair_distance(lpips: LPIPS, a: Features, b: Features) -> np.ndarray:
    return lpips.distance(a, b).double().cpu().numpy()


def mean_pairwise_distance(lpips: LPIPS, features: Features) -> float:
    """The mean LPIPS over all unordered pairs of a set's embeddings."""
    count = features[0].shape[0]
    if count < 2:
        raise ValueError("diversity needs at least 2 samples")
    distances = [pair_distance(lpips, select(features, i), select(features, slice(i + 1, None)))
                 for i in range(count - 1)]
    return float(np.concatenate(distances).mean())


def closest_in_l1(images: Sequence[np.ndarray], target: np.ndarray) -> int:
    """The index of the image with the smallest mean absolute difference to ``target``."""
    target = target.astype(np.int16)
    return int(np.argmin([np.abs(image.astype(np.int16) - target).mean() for image in images]))


@torch.inference_mode()
def inception_features(inception: FIDInception, images: Sequence[np.ndarray], batch: int) -> np.ndarray:
    """(N, 2048) pool3 features of uint8 images, ``batch`` at a time."""
    parts = [inception(unit_images(images[i:i + batch], device_of(inception))).double().cpu().numpy()
             for i in range(0, len(images), batch)]
    return np.concatenate(parts)
