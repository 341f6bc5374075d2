"""The Fréchet distance between two sets of Inception features (FID, Heusel et al. 2017).

FID = |mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^(1/2)), with the sample means and
unbiased covariances of the features, as pytorch-fid defines it.

No matrix square root is formed (so no scipy). With A = the centred features of set a
divided by sqrt(n_a - 1), C_a = A^T A and tr(C_a) = |A|_F^2, and likewise for b. The non-zero
eigenvalues of C_a C_b = A^T (A B^T B) are those of (A B^T)(A B^T)^T, the squared singular
values of A B^T, so tr((C_a C_b)^(1/2)) is the sum of the singular values of A B^T. With the
thin SVDs A = U_a S_a V_a^T and B = U_b S_b V_b^T that sum equals the one of the small matrix
S_a V_a^T V_b S_b (at most min(n, D) square). This is exactly the quantity scipy's ``sqrtm``
approximates, computed in float64 without its complex round-off and without the diagonal
offset pytorch-fid adds when ``sqrtm`` fails on singular covariances (fewer images than the
2048 feature dimensions): every eigenvalue involved is a singular value, never negative.
"""

from __future__ import annotations

import numpy as np


def centred(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> their mean (D,) and (X - mean) / sqrt(N - 1), in float64."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"FID needs at least 2 feature vectors, got shape {features.shape}")
    mean = features.mean(axis=0)
    return mean, (features - mean) / np.sqrt(features.shape[0] - 1)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two (N, D) feature sets."""
    mean_a, a = centred(features_a)
    mean_b, b = centred(features_b)
    _, sv_a, basis_a = np.linalg.svd(a, full_matrices=False)
    _, sv_b, basis_b = np.linalg.svd(b, full_matrices=False)
    core = (sv_a[:, None] * basis_a) @ (basis_b.T * sv_b[None, :])
    trace_sqrt = np.linalg.svd(core, compute_uv=False).sum()
    shift = np.sum((mean_a - mean_b) ** 2)
    return float(shift + np.sum(sv_a ** 2) + np.sum(sv_b ** 2) - 2 * trace_sqrt)
