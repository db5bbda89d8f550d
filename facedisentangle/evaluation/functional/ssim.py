"""Structural similarity (SSIM; Wang, Bovik, Sheikh, Simoncelli, IEEE TIP 2004), in torch.

For each channel and each position of an 11x11 Gaussian window (sigma 1.5):

    SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))

with C1 = (0.01 L)^2, C2 = (0.03 L)^2, L the data range (1 for images in [0, 1]); local moments
are Gaussian-weighted (population, not sample, covariance). The image's SSIM is the mean of the
map over the positions where the window fits entirely ("valid" positions) and over channels.
This equals ``skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=L, channel_axis=...)``, which crops the same border.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype=torch.float64) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps."""
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    w = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return w / w.sum()


def _filter(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Separable depthwise 'valid' filtering of x (N, C, H, W) with the 1-D window w."""
    c = x.shape[1]
    k = w.numel()
    x = F.conv2d(x, w.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)
    return F.conv2d(x, w.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11,
         sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Mean SSIM of each image pair.

    Args:
        x, y: images (N, C, H, W) or (C, H, W) with values in [0, data_range]; H, W >=
            ``window_size``.

    Returns:
        Tensor (N,) (a 0-d tensor for unbatched input), computed in float64.
    """
    if x.shape != y.shape:
        raise ValueError(f'ssim: images have different shapes {tuple(x.shape)} and '
                         f'{tuple(y.shape)}.')
    unbatched = x.dim() == 3
    if unbatched:
        x, y = x[None], y[None]
    if x.dim() != 4:
        raise ValueError(f'ssim: expected (N, C, H, W) or (C, H, W) images, got shape '
                         f'{tuple(x.shape)}.')
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f'ssim: image size {tuple(x.shape[-2:])} is smaller than the '
                         f'{window_size}x{window_size} window.')
    x, y = x.double(), y.double()
    w = gaussian_window(window_size, sigma).to(x.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = _filter(x, w), _filter(y, w)
    sxx = _filter(x * x, w) - mu_x ** 2
    syy = _filter(y * y, w) - mu_y ** 2
    sxy = _filter(x * y, w) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)
         / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2)))
    out = s.mean(dim=(1, 2, 3))
    return out[0] if unbatched else out
