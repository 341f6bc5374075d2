"""The Fréchet distance, computed through singular values."""

import numpy as np
import pytest

from clvae.eval.fid import centred, fid


def test_a_set_against_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(50, 8))
    assert abs(fid(features, features)) < 1e-9


def test_more_dimensions_than_samples_against_itself_is_zero():
    features = np.random.default_rng(1).normal(size=(10, 2048))  # singular covariance, as FID on few images
    assert abs(fid(features, features)) < 1e-8


def test_a_shifted_set_is_the_squared_shift():
    features = np.random.default_rng(2).normal(size=(40, 5))
    shift = np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    assert fid(features, features + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-9)


def test_a_scaled_set_has_the_closed_form():
    """Same mean, covariance s^2 C: FID = (1 - s)^2 tr(C)."""
    features = np.random.default_rng(3).normal(size=(30, 6))
    features -= features.mean(axis=0)
    trace = np.trace(np.cov(features, rowvar=False))
    assert fid(features, 3 * features) == pytest.approx(4 * trace, rel=1e-9)


def test_matches_the_textbook_formula():
    """Against the definition with an eigen-decomposition of C_a C_b (small D, full rank)."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(40, 5)), rng.normal(size=(30, 5)) @ rng.normal(size=(5, 5)) + 1.0
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    trace_sqrt = np.sqrt(np.linalg.eigvals(cov_a @ cov_b).real).sum()  # real, non-negative eigenvalues
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    assert fid(a, b) == pytest.approx(expected, rel=1e-9)
    assert fid(a, b) == pytest.approx(fid(b, a), rel=1e-9)


def test_needs_two_rows():
    mean, rows = centred(np.array([[0.0, 0.0], [2.0, 4.0]]))
    assert np.allclose(mean, [1.0, 2.0]) and np.allclose(rows.T @ rows, [[2.0, 4.0], [4.0, 8.0]])
    with pytest.raises(ValueError, match="at least 2"):
        fid(np.zeros((1, 3)), np.zeros((4, 3)))
