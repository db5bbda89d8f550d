"""Pixel errors of images in [-1, 1]: L1 and PSNR with data range 2.

    L1(x, y)   = mean |x - y|                         (over pixels and channels)
    PSNR(x, y) = 10 log10(R^2 / mean (x - y)^2),  R = 2 (the width of [-1, 1])

PSNR with R = 2 on [-1, 1] equals PSNR with R = 1 on the same images mapped to [0, 1]
(and R = 255 on 8-bit images). Identical images have PSNR = inf.
"""
from __future__ import annotations

import math

import torch


def l1_error(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per sample: (N, ...) -> (N,), computed in float64."""
    return (x.double() - y.double()).abs().flatten(1).mean(1)


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per sample: (N, ...) -> (N,), computed in float64."""
    return (x.double() - y.double()).pow(2).flatten(1).mean(1)


def psnr_from_mse(mse_value: float, data_range: float = 2.0) -> float:
    """``10 log10(data_range^2 / mse)``; inf when mse is 0."""
    if mse_value <= 0:
        return math.inf
    return 10.0 * math.log10(data_range ** 2 / mse_value)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """PSNR per sample in dB: (N, ...) -> (N,) (inf for identical samples)."""
    m = mse(x, y)
    return 10.0 * torch.log10(data_range ** 2 / m)
