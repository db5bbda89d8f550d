"""Residual block of every DeepFaceEditing network.

    ResnetBlock(x) = x + [pad 1, conv 3x3, norm] ( ReLU( [pad 1, conv 3x3, norm] (x) ) )

No activation after the addition. Official nesting: ``conv_block.0`` and ``conv_block.1`` are
:class:`~.conv_block.ConvBlock` s, so keys read ``conv_block.0.conv.weight``,
``conv_block.0.norm.weight`` (no norm keys with AdaIN or ``'none'``).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .conv_block import ConvBlock


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection, C -> C channels, same size.

    Args:
        dim: channels C.
        norm: ``'in'`` (affine instance norm, the encoders and G_fuse), ``'adain'``
            (G_syn), ``'bn'`` or ``'none'``.
        padding: ``'reflect'`` (official), ``'replicate'`` or ``'zero'``.
    """

    def __init__(self, dim: int, norm: str = 'in', padding: str = 'reflect'):
        super().__init__()
        self.conv_block = nn.Sequential(
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation='relu', pad_type=padding),
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation='none', pad_type=padding),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)
