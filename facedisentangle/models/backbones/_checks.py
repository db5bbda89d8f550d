"""Input checks shared by the networks: clear errors instead of shape errors deep inside."""
from __future__ import annotations

import torch


def check_strided_input(x: torch.Tensor, net) -> None:
    """``x`` fits a fully convolutional ``net`` of ``net.input_nc`` channels and total stride
    ``net.stride``: sides multiples of the stride, at least ``max(4, stride)``."""
    check_feature_map(x, net.input_nc, net.stride, min_size=max(4, net.stride),
                      who=type(net).__name__)


def check_feature_map(x: torch.Tensor, channels: int | None, multiple: int = 1,
                      min_size: int = 1, who: str = 'network', what: str = 'input') -> None:
    """Raise ``ValueError`` unless ``x`` is ``(B, channels, H, W)`` with ``H, W`` multiples of
    ``multiple`` and at least ``min_size``."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f'{who}: {what} must be a 4-D tensor (B, C, H, W), got {shape}')
    _, c, h, w = x.shape
    if channels is not None and c != channels:
        raise ValueError(f'{who}: {what} has {c} channels, expected {channels} '
                         f'(shape {tuple(x.shape)})')
    if h < min_size or w < min_size:
        raise ValueError(f'{who}: {what} is {h}x{w}, smaller than the minimum {min_size}x'
                         f'{min_size} this configuration accepts')
    if h % multiple or w % multiple:
        raise ValueError(f'{who}: {what} is {h}x{w}, not divisible by the total stride '
                         f'{multiple}; use crops whose size is a multiple of {multiple} or '
                         'fewer down-samplings')
