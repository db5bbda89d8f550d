"""Kernel Inception Distance (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018).

KID is the unbiased estimate of the squared maximum mean discrepancy between the feature
distributions of two sets, with the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3            (d = feature dimension)

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
              - 2/(m n) sum_{i, j} k(x_i, y_j)

averaged over ``num_subsets`` random subsets of ``subset_size`` samples of each set (drawn
without replacement, the default 100 subsets of 1000 follow the reference implementation);
the standard deviation over subsets is reported with it. Being unbiased, it can be slightly
negative when the two sets come from the same distribution.
"""
from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0
                      ) -> np.ndarray:
    """``(x y^T / d + coef0) ** degree`` for feature rows x (m, d) and y (n, d)."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 between the samples x (m, d) and y (n, d) with the polynomial kernel."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(f'mmd2_unbiased needs at least 2 samples per set, got {m} and {n}.')
    kxx = polynomial_kernel(x, x, degree, coef0)
    kyy = polynomial_kernel(y, y, degree, coef0)
    kxy = polynomial_kernel(x, y, degree, coef0)
    term_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    term_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(term_x + term_y - 2.0 * kxy.mean())


def kernel_inception_distance(feats1, feats2, num_subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0, degree: int = 3, coef0: float = 1.0
                              ) -> tuple[float, float]:
    """KID between two feature sets: mean and standard deviation of MMD^2_u over subsets.

    Args:
        feats1, feats2: features, shapes (m, d) and (n, d).
        num_subsets: number of random subset pairs.
        subset_size: samples per subset; lowered to ``min(m, n)`` when a set is smaller.
        seed: seed of the subset sampling (results are reproducible).

    Returns:
        ``(mean, std)`` over the subsets.
    """
    x = np.asarray(feats1, dtype=np.float64)
    y = np.asarray(feats2, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f'kernel_inception_distance: expected features (m, d) and (n, d), got '
                         f'{x.shape} and {y.shape}.')
    if num_subsets < 1:
        raise ValueError(f'kernel_inception_distance: num_subsets must be >= 1, got {num_subsets}.')
    size = min(subset_size, x.shape[0], y.shape[0])
    if size < 2:
        raise ValueError(f'kernel_inception_distance needs at least 2 samples per set, got '
                         f'{x.shape[0]} and {y.shape[0]}.')
    rng = np.random.RandomState(seed)
    values = np.empty(num_subsets)
    for s in range(num_subsets):
        ix = rng.choice(x.shape[0], size, replace=False)
        iy = rng.choice(y.shape[0], size, replace=False)
        values[s] = mmd2_unbiased(x[ix], y[iy], degree, coef0)
    return float(values.mean()), float(values.std())
