"""Diversity, Top-1 selection and FID features on uint8 images."""

import numpy as np
import pytest
import torch

from clvae.eval.backbones import load_fid_inception, load_lpips
from clvae.eval.perceptual import (
    closest_in_l1, inception_features, lpips_features, mean_pairwise_distance, pair_distance, select, unit_images,
)


@pytest.fixture(scope="module")
def lpips(weight_files):
    return load_lpips(weight_files["lpips"], weight_files["alexnet"])


def random_images(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(count)]


def test_diversity_of_identical_samples_is_zero(lpips):
    features = lpips_features(lpips, random_images(1) * 4, batch=3)
    assert mean_pairwise_distance(lpips, features) == pytest.approx(0.0, abs=1e-9)  # batches round apart


def test_diversity_is_the_mean_over_all_pairs(lpips):
    images = random_images(4)
    features = lpips_features(lpips, images, batch=3)
    tensors = unit_images(images, torch.device("cpu")) * 2 - 1
    with torch.inference_mode():
        pairs = [lpips(tensors[i:i + 1], tensors[j:j + 1]).item() for i in range(4) for j in range(i + 1, 4)]
    assert mean_pairwise_distance(lpips, features) == pytest.approx(np.mean(pairs), rel=1e-5)
    assert pair_distance(lpips, select(features, 1), select(features, 3))[0] == pytest.approx(pairs[4], rel=1e-5)


def test_closest_in_l1():
    target = np.full((4, 4, 3), 100, np.uint8)
    images = [np.full((4, 4, 3), v, np.uint8) for v in (0, 255, 90, 120)]
    assert closest_in_l1(images, target) == 2


def test_inception_features_batch_independently(weight_files):
    inception = load_fid_inception(weight_files["inception"])
    images = random_images(3, seed=1)
    together = inception_features(inception, images, batch=3)
    apart = inception_features(inception, images, batch=1)
    assert together.shape == (3, 2048) and np.allclose(together, apart, atol=1e-4)
