import numpy as np
import pytest

from clvae.edit.feather import distance_to_region, feather_weights, preserve_outside


def brute_force_distance(region: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(region)
    yy, xx = np.mgrid[: region.shape[0], : region.shape[1]]
    return np.sqrt(((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2).min(axis=-1))


@pytest.mark.parametrize("seed", range(3))
def test_distance_is_exact_within_the_limit_and_beyond_it_outside(seed):
    region = np.random.default_rng(seed).random((40, 53)) < 0.01
    region[5, 7] = True
    limit = 9
    truth, found = brute_force_distance(region), distance_to_region(region, limit)
    near = truth <= limit
    np.testing.assert_allclose(found[near], truth[near], atol=1e-4)
    assert (found[~near] > limit).all()


def test_weights_are_one_inside_zero_beyond_the_feather_and_fall_in_between():
    region = np.zeros((30, 30), bool)
    region[10:20, 10:20] = True
    weights = feather_weights(region, 5)
    distance = brute_force_distance(region)
    assert (weights[region] == 1).all()
    assert (weights[distance >= 5] == 0).all()
    ramp = weights[15, 19:25]  # walking out of the region along a row: distance 0 .. 5
    assert (np.diff(ramp) < 0).all() and ramp[-1] == 0
    assert np.array_equal(feather_weights(region, 0), region.astype(np.float32))
    assert not feather_weights(np.zeros((4, 4), bool), 3).any()


def test_preserve_outside_keeps_the_original_exactly_where_the_weight_is_zero():
    region = np.zeros((20, 20), bool)
    region[:, :5] = True
    new, original = np.full((20, 20, 3), 200, np.uint8), np.full((20, 20, 3), 10, np.uint8)
    out = preserve_outside(new, original, region, 4)
    assert (out[:, :5] == 200).all() and (out[:, 8:] == 10).all()  # columns 8+ are 4+ pixels away
    assert (out[:, 5:8] > 10).all() and (out[:, 5:8] < 200).all()
