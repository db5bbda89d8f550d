"""Multi-scale PatchGAN discriminator (pix2pixHD ``MultiscaleDiscriminator``; not released).

    D(x) = [D_1(x), D_2(down(x)), ..., D_K(down^{K-1}(x))],
    down = AvgPool2d(3, stride 2, padding 1, count_include_pad=False)

Each ``D_k`` is an :class:`~.nlayer_discriminator.NLayerDiscriminator` returning its
intermediate feature maps (for feature matching), prediction last. Sub-networks live in
``discriminators`` (``discriminators.0`` sees the full resolution).

Minimum input: the coarsest scale must still be ``2 ** n_layers`` pixels, so the input must
be at least ``2 ** (n_layers + num_D - 1)`` on each side (32 px with 3 scales and 3 layers,
8 px with 2 scales and 2 layers).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .nlayer_discriminator import NLayerDiscriminator
from .weight_init import WeightInitMixin


@BACKBONES.register_module()
class MultiScaleDiscriminator(WeightInitMixin, nn.Module):
    """``num_D`` PatchGANs on the input and its 2x, 4x, ... average-pooled copies.

    Args:
        input_nc: input channels (3).
        ndf: channels of each discriminator's first layer (64).
        n_layers: stride-2 layers per discriminator (3).
        num_D: number of scales (3).
        norm: ``'in'`` (default, ours), ``'bn'`` or ``'none'``.
        use_sigmoid: end each discriminator with a sigmoid (vanilla GAN).
        init_type, init_gain: see :func:`~.weight_init.init_weights`.
    """

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, num_D: int = 3,
                 norm: str = 'in', use_sigmoid: bool = False, init_type: str = 'normal',
                 init_gain: float = 0.02):
        super().__init__()
        if num_D < 1:
            raise ValueError(f'{type(self).__name__}: num_D must be >= 1, got {num_D}')
        self.input_nc = input_nc
        self.num_D = num_D
        self.min_size = 2 ** (n_layers + num_D - 1)
        self.discriminators = nn.ModuleList(
            NLayerDiscriminator(input_nc, ndf, n_layers, norm, use_sigmoid, init_type, init_gain)
            for _ in range(num_D))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.init_type, self.init_gain = init_type, init_gain
        self.is_init = True  # every scale initialised itself

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """``(B, input_nc, H, W)`` -> ``num_D`` lists (full resolution first) of
        ``n_layers + 2`` feature maps each; the last map of each list is the prediction."""
        check_feature_map(x, self.input_nc, min_size=self.min_size, who=type(self).__name__)
        outs = []
        for k, d in enumerate(self.discriminators):
            if k:
                x = self.downsample(x)
            outs.append(d(x))
        return outs
