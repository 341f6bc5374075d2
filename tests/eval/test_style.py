"""The weight-free measurements on hand-made images whose answers are known."""

import math

import numpy as np
import pytest

from clvae.data.procedural import ClassStatistics, class_statistics
from clvae.eval.style import (
    MIN_REAL_MASKS, StylePool, change_inside, finite_mean, measured_classes, pixel_l1, statistics, style_distance,
    style_spread,
)

LABEL = np.repeat([[0] * 4 + [1] * 4], 8, axis=0)  # left half class 0, right half class 1
CLASSES = np.array([0, 1])


def flat(left, right) -> np.ndarray:
    """An 8 x 8 image: the left half one colour, the right half another."""
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :4], image[:, 4:] = left, right
    return image


def test_finite_mean_skips_nan_and_is_nan_when_empty():
    assert finite_mean([1.0, math.nan, 3.0]) == 2.0
    assert math.isnan(finite_mean([])) and math.isnan(finite_mean([math.nan]))


def test_measured_classes_need_enough_pixels():
    label = np.zeros((4, 4), np.int64)
    label[0, :3] = 2
    assert measured_classes(label, 4, 3).tolist() == [0, 2]
    assert measured_classes(label, 4, 4).tolist() == [0]


def test_style_distance_of_known_colours():
    a = class_statistics(flat((255, 0, 0), (0, 0, 0)), LABEL, 2)
    b = class_statistics(flat((0, 0, 0), (0, 0, 0)), LABEL, 2)
    color, texture = style_distance(a, b, CLASSES)
    assert color == pytest.approx(0.5)  # class 0 moved by 1 (red), class 1 by 0
    assert texture == 0.0  # flat colours have no texture


def test_style_distance_of_texture():
    stripes = flat(0, 0)
    stripes[::2, :4] = 255  # class 0: rows alternate black and white
    color, texture = style_distance(class_statistics(stripes, LABEL, 2), class_statistics(flat(0, 0), LABEL, 2),
                                    np.array([0]))
    assert texture == pytest.approx(28 / 52)  # its 28 vertical pairs differ by 1, its 24 horizontal ones by 0
    assert color == pytest.approx(np.sqrt(3) / 2)


def test_identical_samples_have_no_spread():
    samples = statistics([flat((10, 200, 30), (90, 90, 90))] * 5, LABEL, 2)
    assert style_spread(samples, CLASSES) == (0.0, 0.0)


def test_spread_is_the_standard_deviation():
    samples = statistics([flat(0, 0), flat(255, 0)], LABEL, 2)  # class 0: black or white, class 1: fixed
    color, texture = style_spread(samples, CLASSES)
    assert color == pytest.approx((np.sqrt(3) / 2 + 0) / 2)  # each sample sqrt(3)/2 from the mean grey
    assert texture == 0.0


def test_a_change_only_inside_the_region_is_fully_local():
    before, after = flat(0, 0), flat(0, 0)
    after[2:5, 1:3] = 200
    region = LABEL == 0
    assert change_inside(before, after, region) == 1.0
    assert change_inside(before, after, ~region) == 0.0


def test_a_change_split_evenly_is_half_local():
    assert change_inside(flat(0, 0), flat(50, 50), LABEL == 1) == pytest.approx(0.5)
    assert math.isnan(change_inside(flat(7, 7), flat(7, 7), LABEL == 1))


def test_pixel_l1_in_unit_range():
    assert pixel_l1(flat(0, 0), flat(255, 0)) == pytest.approx(0.5)
    assert pixel_l1(flat(3, 4), flat(3, 4)) == 0.0


def one_class_style(color, texture) -> ClassStatistics:
    """Statistics with class 0 of ``color`` and ``texture``, class 1 absent."""
    return ClassStatistics(np.array([10, 0]), np.array([color, [np.nan] * 3]), np.array([texture, np.nan]))


@pytest.mark.parametrize("shift, expected", [(0.0, (0.0, 0.0)), (0.1, (3 * 0.1**2, 0.1**2))])
def test_style_realism_is_the_frechet_distance_of_class_styles(shift, expected):
    rng = np.random.default_rng(0)
    pool = StylePool()
    for _ in range(MIN_REAL_MASKS + 1):
        color, texture = rng.uniform(0, 0.8, 3), rng.uniform(0, 0.5)
        pool.add(one_class_style(color, texture), [one_class_style(color + shift, texture + shift)], np.array([0]))
    assert pool.frechet() == pytest.approx(expected, abs=1e-9)


def test_style_realism_needs_a_class_in_enough_masks():
    pool = StylePool()
    for value in np.linspace(0, 1, MIN_REAL_MASKS - 1):
        pool.add(one_class_style([value] * 3, value), [one_class_style([value] * 3, value)] * 2, np.array([0]))
    assert all(math.isnan(v) for v in pool.frechet())
