"""Checks shared by the loss modules: loss names, weights, reductions, input shapes."""
from __future__ import annotations

import math

import torch

REDUCTIONS = ('mean', 'sum')


def check_loss_name(loss_name: str, cls: str) -> str:
    """A logging key MMEngine's ``parse_losses`` sums: it must contain ``loss``."""
    if not isinstance(loss_name, str) or 'loss' not in loss_name:
        raise ValueError(
            f'{cls}: loss_name={loss_name!r} must be a string containing "loss", otherwise '
            "MMEngine's parse_losses logs the value but does not add it to the total loss.")
    return loss_name


def check_weight(value, key: str, cls: str) -> float:
    """A finite, non-negative float weight."""
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{cls}: {key}={value!r} is not a number.') from None
    if not math.isfinite(w) or w < 0:
        raise ValueError(f'{cls}: {key}={value!r} must be finite and >= 0.')
    return w


def check_reduction(reduction: str, cls: str, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f'{cls}: reduction={reduction!r} is not one of {", ".join(allowed)}.')
    return reduction


def check_same_shape(pred: torch.Tensor, target: torch.Tensor, what: str, cls: str) -> None:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f'{cls}: {what} must be tensors, got {type(pred).__name__} and '
                        f'{type(target).__name__}.')
    if pred.shape != target.shape:
        raise ValueError(f'{cls}: {what} have different shapes: {tuple(pred.shape)} vs '
                         f'{tuple(target.shape)}.')


def l1(pred: torch.Tensor, target: torch.Tensor, reduction: str) -> torch.Tensor:
    """Mean (or summed, or element-wise for ``'none'``) absolute difference."""
    return torch.nn.functional.l1_loss(pred, target, reduction=reduction)
