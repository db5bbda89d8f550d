"""The official ``ConvBlock``: padding, convolution, optional norm and activation.

    y = activation(norm(conv(pad(x))))

Child names and registration order follow the official code (``pad``, ``norm``,
``activation``, ``conv``), so keys read ``<prefix>.norm.weight`` and ``<prefix>.conv.weight``.
A missing norm or activation is an ``nn.Identity`` (no keys, same nesting).

Also the small factories every network uses: :func:`build_norm`, :func:`build_pad`,
:func:`build_activation`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .adain import AdaptiveInstanceNorm2d

NORMS = ('in', 'bn', 'adain', 'none')
PADS = ('reflect', 'replicate', 'zero')
ACTIVATIONS = ('relu', 'lrelu', 'tanh', 'none')


def build_norm(norm: str, num_features: int) -> nn.Module:
    """``'in'``: affine InstanceNorm2d (eps 1e-5, no running stats, as the official weights);
    ``'bn'``: BatchNorm2d; ``'adain'``: :class:`AdaptiveInstanceNorm2d`; ``'none'``: Identity."""
    if norm == 'in':
        return nn.InstanceNorm2d(num_features, affine=True, eps=1e-5, track_running_stats=False)
    if norm == 'bn':
        return nn.BatchNorm2d(num_features)
    if norm == 'adain':
        return AdaptiveInstanceNorm2d(num_features)
    if norm == 'none':
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


def build_pad(pad_type: str, padding: int) -> nn.Module:
    """Reflection, replication or zero padding of ``padding`` pixels on each side."""
    if pad_type == 'reflect':
        return nn.ReflectionPad2d(padding)
    if pad_type == 'replicate':
        return nn.ReplicationPad2d(padding)
    if pad_type == 'zero':
        return nn.ZeroPad2d(padding)
    raise ValueError(f"padding must be one of {', '.join(PADS)}, got {pad_type!r}")


def build_activation(activation: str) -> nn.Module:
    """ReLU, LeakyReLU(0.2), Tanh or Identity."""
    if activation == 'relu':
        return nn.ReLU()
    if activation == 'lrelu':
        return nn.LeakyReLU(0.2)
    if activation == 'tanh':
        return nn.Tanh()
    if activation == 'none':
        return nn.Identity()
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")


class ConvBlock(nn.Module):
    """``pad -> conv -> norm -> activation`` (official ``ConvBlock``).

    Args:
        in_channels, out_channels, kernel_size, stride: of the convolution (with bias).
        padding: pixels padded on each side by ``pad_type`` before the convolution.
        norm: ``'in'``, ``'bn'``, ``'adain'`` or ``'none'`` (see :func:`build_norm`).
        activation: ``'relu'``, ``'lrelu'``, ``'tanh'`` or ``'none'``.
        pad_type: ``'reflect'``, ``'replicate'`` or ``'zero'``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, norm: str = 'none', activation: str = 'relu',
                 pad_type: str = 'zero'):
        super().__init__()
        self.pad = build_pad(pad_type, padding)
        self.norm = build_norm(norm, out_channels)
        self.activation = build_activation(activation)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.norm(self.conv(self.pad(x))))
