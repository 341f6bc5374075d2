"""Shared pre-processing: resizing, cropping, squaring, tensor conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from clvae.data.transforms import (
    PadToSquare,
    ResizeCrop,
    crop_pair,
    image_to_tensor,
    label_to_tensor,
    pad_pair,
    random_crop_origin,
    resize_image,
    resize_label,
    square_padding,
)


def coordinate_pair(width: int, height: int) -> tuple[Image.Image, np.ndarray]:
    """An image whose red = x, green = y, and a label whose id = y * width + x."""
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs, ys, np.zeros_like(xs)], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb), (ys * width + xs).astype(np.int64)


def test_resize_label_upsampling_repeats_pixels() -> None:
    label = np.array([[1, 2], [3, 4]])
    assert resize_label(label, (4, 4)).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_resize_label_introduces_no_new_ids() -> None:
    rng = np.random.default_rng(0)
    label = rng.choice([0, 3, 7, 150], size=(37, 53))
    for size in [(11, 7), (53, 37), (120, 90), (256, 256)]:
        out = resize_label(label, size)
        assert out.shape == (size[1], size[0])
        assert set(np.unique(out)) <= {0, 3, 7, 150}


def test_resize_label_downsampling_picks_nearest_centres() -> None:
    label = np.arange(16).reshape(4, 4)
    assert resize_label(label, (2, 2)).tolist() == [[5, 7], [13, 15]]


def test_resize_image_area_averages_when_shrinking() -> None:
    checker = np.indices((8, 8)).sum(axis=0) % 2 * 255
    image = Image.fromarray(np.repeat(checker[..., None], 3, axis=-1).astype(np.uint8))
    small = np.asarray(resize_image(image, (2, 2)))
    assert np.all(np.abs(small.astype(int) - 127) <= 1)


def test_resize_image_enlarges_to_requested_size() -> None:
    image = Image.new("RGB", (10, 5), (10, 200, 30))
    big = resize_image(image, (40, 20))
    assert big.size == (40, 20)
    assert np.all(np.asarray(big) == (10, 200, 30))


def test_random_crop_origin_is_reproducible_and_in_bounds() -> None:
    origins = [random_crop_origin((40, 30), (32, 24), torch.Generator().manual_seed(s)) for s in range(30)]
    again = [random_crop_origin((40, 30), (32, 24), torch.Generator().manual_seed(s)) for s in range(30)]
    assert origins == again
    assert all(0 <= left <= 8 and 0 <= top <= 6 for left, top in origins)
    assert len(set(origins)) > 5


def test_random_crop_origin_rejects_a_crop_larger_than_the_image() -> None:
    with pytest.raises(ValueError, match="larger"):
        random_crop_origin((20, 20), (32, 16), None)


def test_crop_pair_cuts_the_same_window() -> None:
    image, label = coordinate_pair(20, 10)
    cropped_image, cropped_label = crop_pair(image, label, (5, 3), (8, 4))
    rgb = np.asarray(cropped_image)
    assert cropped_image.size == (8, 4) and cropped_label.shape == (4, 8)
    assert rgb[0, 0, 0] == 5 and rgb[0, 0, 1] == 3
    assert cropped_label[0, 0] == 3 * 20 + 5 and cropped_label[3, 7] == 6 * 20 + 12


@pytest.mark.parametrize(
    "size, padding",
    [((100, 200), (50, 0, 50, 0)), ((101, 200), (49, 0, 50, 0)), ((200, 120), (0, 40, 0, 40)), ((64, 64), (0, 0, 0, 0))],
)
def test_square_padding(size, padding) -> None:
    assert square_padding(size) == padding


def test_pad_pair_fills_image_white_and_label_with_fill() -> None:
    image = Image.new("RGB", (4, 6), (0, 0, 0))
    padded, label = pad_pair(image, np.full((6, 4), 5), (1, 0, 1, 0), label_fill=0)
    rgb = np.asarray(padded)
    assert padded.size == (6, 6) and label.shape == (6, 6)
    assert np.all(rgb[:, 0] == 255) and np.all(rgb[:, 5] == 255) and np.all(rgb[:, 1:5] == 0)
    assert np.all(label[:, 0] == 0) and np.all(label[:, 5] == 0) and np.all(label[:, 1:5] == 5)


def test_image_to_tensor_maps_0_255_to_minus_one_one() -> None:
    image = Image.fromarray(np.array([[[0, 255, 127]]], dtype=np.uint8))
    tensor = image_to_tensor(image)
    assert tensor.dtype == torch.float32 and tensor.shape == (3, 1, 1)
    assert tensor.flatten().tolist() == pytest.approx([-1.0, 1.0, 127 / 127.5 - 1])


def test_label_to_tensor_is_int64() -> None:
    tensor = label_to_tensor(np.array([[1, 2]], dtype=np.uint8))
    assert tensor.dtype == torch.int64 and tensor.tolist() == [[1, 2]]


def test_resize_crop_random_crop_is_reproducible_per_generator() -> None:
    image, label = coordinate_pair(50, 40)
    step = ResizeCrop((48, 48), (32, 32), random_crop=True)
    first = step(image, label, torch.Generator().manual_seed(3))
    second = step(image, label, torch.Generator().manual_seed(3))
    assert first[0].size == (32, 32) and first[1].shape == (32, 32)
    assert np.array_equal(first[1], second[1])
    assert np.array_equal(np.asarray(first[0]), np.asarray(second[0]))


def test_resize_crop_without_random_crop_is_centred() -> None:
    image, label = coordinate_pair(40, 40)
    _, cropped, _ = ResizeCrop(None, (20, 20))(image, label, None)
    assert cropped[0, 0] == 10 * 40 + 10


def test_pad_to_square_reports_bars_in_output_pixels() -> None:
    image = Image.new("RGB", (50, 100), (0, 0, 0))
    out_image, out_label, extras = PadToSquare(20)(image, np.full((100, 50), 3), None)
    assert out_image.size == (20, 20) and out_label.shape == (20, 20)
    assert extras["pad"].tolist() == [5, 0, 5, 0]
    rgb = np.asarray(out_image)
    assert np.all(rgb[:, :5] == 255) and np.all(rgb[:, 15:] == 255) and np.all(rgb[:, 6:14] == 0)
    assert np.all(out_label[:, :5] == 0) and np.all(out_label[:, 15:] == 0) and np.all(out_label[:, 5:15] == 3)
