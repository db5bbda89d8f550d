"""Appearance encoder E_app (official ``enc_style``, nested in each component generator).

    a = GAP(E_conv(x))          the appearance vector, (B, style_dim) = (B, 64)
    p = W a + c                 all AdaIN parameters of G_syn, (B, num_adain_params)

Structure (official MUNIT-style ``StyleEncoder``, one ``model`` Sequential)::

    model.0   ConvBlock 7x7 s1, input_nc -> dim        (reflect pad 3, ReLU, no norm)
    model.1   ConvBlock 4x4 s2, dim -> 2 dim            (reflect pad 1, ReLU)
    model.2   ConvBlock 4x4 s2, 2 dim -> 4 dim = style_dim
    model.3 .. model.(n)  ConvBlock 4x4 s2, style_dim -> style_dim   (n_downsampling - 2 of them)
    model.(n+1)  AdaptiveAvgPool2d(1)                 -> appearance vector
    model.(n+2)  Conv2d 1x1, style_dim -> num_adain_params

At the official sizes (dim 16, style_dim 64, n_downsampling 5) the keys are
``model.0.conv.weight`` ... ``model.5.conv.weight`` and ``model.7.weight``.
``style_dim / dim`` must be a power of two ``2^k`` (k channel-doubling convolutions, 2 in the
official network) with ``k <= n_downsampling``.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .conv_block import ConvBlock
from .weight_init import WeightInitMixin


@BACKBONES.register_module()
class AppearanceEncoder(WeightInitMixin, nn.Module):
    """Component image -> appearance vector -> AdaIN parameters.

    Args:
        num_adain_params: output size of the 1x1 head (18,304 for the official G_syn; use
            :func:`~.adain.num_adain_params` of the generator).
        input_nc: input channels.
        dim: channels after the 7x7 stem (16).
        n_downsampling: 4x4 stride-2 convolutions (5); inputs must be at least
            ``2 ** n_downsampling`` pixels (and 4) on each side.
        style_dim: size of the appearance vector (64).
        padding: ``'reflect'`` (official), ``'replicate'`` or ``'zero'``.
        init_type, init_gain: see :func:`~.weight_init.init_weights`.
    """

    def __init__(self, num_adain_params: int, input_nc: int = 3, dim: int = 16,
                 n_downsampling: int = 5, style_dim: int = 64, padding: str = 'reflect',
                 init_type: str = 'normal', init_gain: float = 0.02):
        super().__init__()
        name = type(self).__name__
        if num_adain_params < 1:
            raise ValueError(f'{name}: num_adain_params must be >= 1, got {num_adain_params}')
        ratio = style_dim / dim if dim > 0 else 0
        n_doubling = round(math.log2(ratio)) if ratio >= 1 else -1
        if n_doubling < 0 or dim * 2 ** n_doubling != style_dim or n_doubling > n_downsampling:
            raise ValueError(
                f'{name}: style_dim ({style_dim}) must be dim ({dim}) times 2^k with '
                f'0 <= k <= n_downsampling ({n_downsampling})')
        self.input_nc = input_nc
        self.style_dim = style_dim
        self.num_adain_params = num_adain_params
        self.min_size = max(4, 2 ** n_downsampling)
        layers: list[nn.Module] = [ConvBlock(input_nc, dim, 7, 1, 3, norm='none',
                                             activation='relu', pad_type=padding)]
        c = dim
        for i in range(n_downsampling):
            c_out = 2 * c if i < n_doubling else c
            layers.append(ConvBlock(c, c_out, 4, 2, 1, norm='none', activation='relu',
                                    pad_type=padding))
            c = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(style_dim, num_adain_params, 1, 1, 0)]
        self.model = nn.Sequential(*layers)
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    @property
    def trunk(self) -> nn.Sequential:
        """Image -> pooled appearance vector: every layer but the AdaIN head."""
        return self.model[:-1]

    @property
    def adain_head(self) -> nn.Conv2d:
        """The 1x1 convolution mapping the appearance vector to the AdaIN parameters
        (``p = W a + beta``; key ``model.<last>``)."""
        return self.model[-1]

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, input_nc, H, W) -> (B, style_dim)`` appearance vector (after pooling)."""
        check_feature_map(image, self.input_nc, min_size=self.min_size,
                          who=type(self).__name__)
        return self.trunk(image).flatten(1)

    def adain_params(self, vector: torch.Tensor) -> torch.Tensor:
        """``(B, style_dim) -> (B, num_adain_params)``; works on interpolated vectors too."""
        if vector.dim() == 4 and vector.shape[2:] == (1, 1):
            vector = vector.flatten(1)
        if vector.dim() != 2 or vector.shape[1] != self.style_dim:
            raise ValueError(f'{type(self).__name__}: appearance vector must be '
                             f'(B, {self.style_dim}), got {tuple(vector.shape)}')
        return self.adain_head(vector[:, :, None, None]).flatten(1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, input_nc, H, W) -> (B, num_adain_params)`` AdaIN parameters."""
        return self.adain_params(self.encode(image))
