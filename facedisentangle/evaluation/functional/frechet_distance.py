"""Fréchet distance between two Gaussians, the formula behind FID (Heusel et al., NeurIPS 2017).

    d^2 = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})

``Tr((S1 S2)^{1/2})`` is computed without ``scipy.linalg.sqrtm``: S1 S2 is similar to the
symmetric positive semi-definite matrix ``M = S1^{1/2} S2 S1^{1/2}`` (same eigenvalues), so the
trace is the sum of the square roots of M's eigenvalues, obtained with two symmetric
eigendecompositions (``numpy.linalg.eigh``). Tiny negative eigenvalues from rounding or from a
rank-deficient covariance (fewer samples than feature dimensions) are clipped to zero, so the
result is finite for singular covariances and does not depend on SciPy's version (pytorch-fid
0.3.0 calls ``sqrtm(..., disp=False)``, deprecated in SciPy 1.16 and removed in 1.18).
"""
from __future__ import annotations

import numpy as np


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negatives clipped)."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((sigma1 sigma2)^{1/2})`` for covariance matrices, via ``eigvalsh(S1^1/2 S2 S1^1/2)``."""
    r = _psd_sqrt(sigma1)
    m = r @ sigma2 @ r
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(ev, 0, None)).sum())


def _check(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if ndim == 1:
        a = np.atleast_1d(a)
    if a.ndim != ndim:
        raise ValueError(f'frechet_distance: {name} must have {ndim} dimension(s), got shape '
                         f'{a.shape}.')
    if not np.all(np.isfinite(a)):
        raise ValueError(f'frechet_distance: {name} contains NaN or infinite values.')
    return a


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein) distance ``d^2`` between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: mean vectors, shape (D,).
        sigma1, sigma2: covariance matrices, shape (D, D); may be singular.

    Returns:
        ``||mu1 - mu2||^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^{1/2})`` as a float,
        clipped at 0 (it is a squared distance; rounding can make it -1e-12).
    """
    mu1, mu2 = _check('mu1', mu1, 1), _check('mu2', mu2, 1)
    sigma1, sigma2 = _check('sigma1', sigma1, 2), _check('sigma2', sigma2, 2)
    d = mu1.shape[0]
    for name, s in (('sigma1', sigma1), ('sigma2', sigma2)):
        if s.shape != (d, d):
            raise ValueError(f'frechet_distance: {name} has shape {s.shape}, expected ({d}, {d}) '
                             f'for means of length {d}.')
    if mu2.shape != mu1.shape:
        raise ValueError(f'frechet_distance: mu1 has shape {mu1.shape} but mu2 {mu2.shape}.')
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2.0 * trace_sqrt_product(sigma1, sigma2))
    return max(float(value), 0.0)
