"""PatchGAN discriminator of one scale (pix2pixHD ``NLayerDiscriminator``; not released).

    D(x) = [f_1(x), f_2(f_1(x)), ..., f_{L+2}(...)],   the last map is the real/fake prediction

Structure (``layers`` is a ModuleList of Sequentials, one per returned feature map; 4x4
convolutions with zero padding 2, LeakyReLU 0.2)::

    layers.0            Conv 4x4 s2, input_nc -> ndf, LeakyReLU            (no norm)
    layers.1..L-1       Conv 4x4 s2, C -> min(2C, 512), norm, LeakyReLU
    layers.L            Conv 4x4 s1, C -> min(2C, 512), norm, LeakyReLU
    layers.L+1          Conv 4x4 s1, C -> 1 (+ Sigmoid if use_sigmoid)

With padding 2 a 4x4 stride-2 convolution maps s to floor(s/2) + 1 and a stride-1 one to
s + 1; an input of ``2 ** n_layers`` pixels keeps every map at least 2x2 (instance norm needs
more than one pixel), which is the minimum :attr:`min_size`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .weight_init import WeightInitMixin

DISCRIMINATOR_NORMS = ('in', 'bn', 'none')


def discriminator_norm(norm: str, num_features: int) -> nn.Module:
    """pix2pixHD's discriminator norms: ``'in'`` InstanceNorm2d without affine parameters,
    ``'bn'`` BatchNorm2d, ``'none'`` Identity."""
    if norm == 'in':
        return nn.InstanceNorm2d(num_features, affine=False)
    if norm == 'bn':
        return nn.BatchNorm2d(num_features)
    if norm == 'none':
        return nn.Identity()
    raise ValueError(f"discriminator norm must be one of {', '.join(DISCRIMINATOR_NORMS)}, "
                     f'got {norm!r}')


@BACKBONES.register_module()
class NLayerDiscriminator(WeightInitMixin, nn.Module):
    """One-scale PatchGAN returning its ``n_layers + 2`` intermediate feature maps.

    Args:
        input_nc: input channels (3).
        ndf: channels of the first layer (64); doubled per layer, capped at 512.
        n_layers: stride-2 layers (3).
        norm: ``'in'`` (default, ours), ``'bn'`` or ``'none'``.
        use_sigmoid: end with a sigmoid (vanilla GAN with BCE); False for LSGAN / hinge.
        init_type, init_gain: see :func:`~.weight_init.init_weights`.
    """

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = 'in',
                 use_sigmoid: bool = False, init_type: str = 'normal', init_gain: float = 0.02):
        super().__init__()
        if n_layers < 1 or ndf < 1:
            raise ValueError(f'{type(self).__name__}: n_layers and ndf must be >= 1, got '
                             f'n_layers={n_layers}, ndf={ndf}')
        self.input_nc = input_nc
        self.min_size = 2 ** n_layers
        groups = [[nn.Conv2d(input_nc, ndf, 4, 2, 2), nn.LeakyReLU(0.2)]]
        c = ndf
        for i in range(1, n_layers + 1):
            c_out = min(2 * c, 512)
            stride = 2 if i < n_layers else 1
            groups.append([nn.Conv2d(c, c_out, 4, stride, 2), discriminator_norm(norm, c_out),
                           nn.LeakyReLU(0.2)])
            c = c_out
        groups.append([nn.Conv2d(c, 1, 4, 1, 2)] + ([nn.Sigmoid()] if use_sigmoid else []))
        self.layers = nn.ModuleList(nn.Sequential(*g) for g in groups)
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``(B, input_nc, H, W)`` -> list of ``n_layers + 2`` maps, the prediction last."""
        check_feature_map(x, self.input_nc, min_size=self.min_size, who=type(self).__name__)
        feats = []
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats
