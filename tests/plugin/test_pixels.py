"""Channel shuffles, masks and splicing without numpy, checked against numpy."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from clvae_krita import pixels


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_rgb_bgra_round_trip(rng):
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = np.frombuffer(pixels.rgb_to_bgra(rgb.tobytes()), np.uint8).reshape(5, 7, 4)
    assert (out[..., :3] == rgb[..., ::-1]).all() and (out[..., 3] == 255).all()
    assert pixels.bgra_to_rgb(out.tobytes()) == rgb.tobytes()


@pytest.mark.parametrize("typecode", ["B", "H"])
def test_class_mask(rng, typecode):
    ids = rng.integers(0, 5, 40)
    mask = pixels.class_mask(array(typecode, ids.tolist()), [1, 3])
    assert np.frombuffer(mask, np.uint8).tolist() == np.where(np.isin(ids, [1, 3]), 255, 0).tolist()


def test_selection_counts_from_half():
    assert pixels.selection_mask(bytes([0, 127, 128, 255])) == bytes([0, 0, 255, 255])


def test_mask_and_and_empty():
    assert pixels.mask_and(bytes([255, 255, 0]), bytes([255, 0, 255])) == bytes([255, 0, 0])
    assert pixels.is_empty(bytes(3)) and not pixels.is_empty(bytes([0, 255]))


def test_splice_takes_new_inside_the_mask_and_old_outside(rng):
    new = rng.integers(0, 256, (6, 4), dtype=np.uint8)
    old = rng.integers(0, 256, (6, 4), dtype=np.uint8)
    inside = rng.random(6) < 0.5
    mask = np.where(inside, 255, 0).astype(np.uint8).tobytes()
    out = np.frombuffer(pixels.splice(new.tobytes(), old.tobytes(), mask), np.uint8).reshape(6, 4)
    assert (out == np.where(inside[:, None], new, old)).all()


def test_splice_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="splice needs"):
        pixels.splice(bytes(8), bytes(8), bytes(3))


def test_majority_class_under_a_mask():
    ids = array("B", [0, 1, 1, 2, 2, 2])
    assert pixels.majority_class(ids, bytes([255, 255, 255, 0, 0, 255])) == 1
    assert pixels.majority_class(ids, bytes(6)) is None
