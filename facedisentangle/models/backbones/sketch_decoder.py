"""Sketch decoder D_sketch (not released; the mirror of E_sketch).

    S_rec = D_sketch(z_geo),   L_AE = || D_sketch(E_sketch(S)) - S ||_1

Structure (one flat ``model`` Sequential, same layer types as the official generators)::

    model.0 .. model.(b-1)        n_blocks x ResnetBlock(ngf * 2^n, IN)
    next 3n layers                 n x [ConvTranspose 3x3 s2 p1 op1 (C -> C/2), IN, ReLU]
    last 3 layers                  ReflectionPad2d(3), Conv2d(ngf, output_nc, 7), Tanh

``forward(code, return_taps=True)`` also returns the N = n + 3 feature maps used by the
E_image loss ``sum_i || D^i(E_I(I)) - D^i(E_s(S)) ||_1``: the latent (input), the output of the
ResnetBlock(s), the output of each up-sampling (after its ReLU) and the output image —
7 maps at n = 4.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .resnet_block import ResnetBlock
from .sampling import check_sizes, head_layers, upsampling_layers
from .weight_init import WeightInitMixin


@BACKBONES.register_module()
class SketchDecoder(WeightInitMixin, nn.Module):
    """Geometry code ``(B, ngf * 2^n, h, w)`` -> sketch ``(B, output_nc, h * 2^n, w * 2^n)``.

    Args:
        ngf: channels of the last feature map before the head (the code has
            ``ngf * 2 ** n_downsampling``).
        n_downsampling: up-samplings (mirror of the encoder's down-samplings).
        n_blocks: ResnetBlocks at the code resolution (1, as E_sketch).
        output_nc: output channels (3).
        norm: ``'in'`` (affine instance norm), ``'bn'`` or ``'none'``.
        padding: padding inside the ResnetBlocks.
        init_type, init_gain: see :func:`~.weight_init.init_weights`.

    Attributes:
        in_channels: channels of the code; num_taps: ``n_downsampling + 3``.
    """

    def __init__(self, ngf: int = 64, n_downsampling: int = 4, n_blocks: int = 1,
                 output_nc: int = 3, norm: str = 'in', padding: str = 'reflect',
                 init_type: str = 'normal', init_gain: float = 0.02):
        super().__init__()
        check_sizes(type(self).__name__, ngf, n_downsampling, n_blocks)
        self.in_channels = ngf * 2 ** n_downsampling
        self.stride = 2 ** n_downsampling
        self.num_taps = n_downsampling + 3
        self.n_blocks = n_blocks
        layers: list[nn.Module] = [ResnetBlock(self.in_channels, norm=norm, padding=padding)
                                   for _ in range(n_blocks)]
        layers += upsampling_layers(ngf, n_downsampling, norm)
        layers += head_layers(ngf, output_nc)
        self.model = nn.Sequential(*layers)
        # indices of the layers whose outputs are taps (besides the input)
        ups = [n_blocks + 3 * i + 2 for i in range(n_downsampling)]
        self._tap_after = set(([n_blocks - 1] if n_blocks else []) + ups + [len(layers) - 1])
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def forward(self, code: torch.Tensor, return_taps: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the sketch in [-1, 1], or ``(sketch, taps)`` with ``num_taps`` maps
        ``[code, after ResnetBlocks, after each up-sampling, sketch]``."""
        check_feature_map(code, self.in_channels, who=type(self).__name__, what='code')
        # with n_blocks == 0 the "after the ResnetBlocks" tap is the code itself
        taps = [code] if self.n_blocks else [code, code]
        x = code
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i in self._tap_after:
                taps.append(x)
        return (x, taps) if return_taps else x
