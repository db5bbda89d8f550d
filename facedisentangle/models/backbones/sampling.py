"""pix2pixHD layer lists shared by the encoders, decoders and generators.

They return flat lists (not modules) so that a network's ``model = nn.Sequential(...)`` keeps
the official indices (``model.1`` stem conv, ``model.4`` first down-sampling conv, ...):

* stem:  ``[ReflectionPad2d(3), Conv2d(in, ngf, 7), norm(ngf), ReLU]``  (4 layers)
* down:  ``n x [Conv2d(C, 2C, 3, stride 2, zero pad 1), norm(2C), ReLU]`` (3 layers each)
* up:    ``n x [ConvTranspose2d(C, C/2, 3, stride 2, pad 1, output_padding 1), norm(C/2),
  ReLU]`` (3 layers each)
* head:  ``[ReflectionPad2d(3), Conv2d(ngf, out, 7), Tanh]`` (3 layers)

:func:`encoder_layers` (stem, down, ResnetBlocks) is pix2pixHD's encoder: the whole of the
geometry encoders and the first half of the global generator.
"""
from __future__ import annotations

import torch.nn as nn

from .conv_block import build_norm
from .resnet_block import ResnetBlock


def stem_layers(in_channels: int, ngf: int, norm: str) -> list[nn.Module]:
    """Reflect-pad 3, 7x7 conv ``in_channels -> ngf``, norm, ReLU."""
    return [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), build_norm(norm, ngf),
            nn.ReLU()]


def downsampling_layers(ngf: int, n_downsampling: int, norm: str) -> list[nn.Module]:
    """``n_downsampling`` x [3x3 conv stride 2 (C -> 2C), norm, ReLU], from C = ngf."""
    layers: list[nn.Module] = []
    for i in range(n_downsampling):
        c = ngf * 2 ** i
        layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), build_norm(norm, 2 * c),
                   nn.ReLU()]
    return layers


def encoder_layers(who: str, in_channels: int, ngf: int, n_downsampling: int, n_blocks: int,
                   norm: str, padding: str) -> list[nn.Module]:
    """Stem, ``n_downsampling`` down-samplings, ``n_blocks`` x ResnetBlock(ngf * 2^n) (sizes
    checked first, errors naming ``who``)."""
    check_sizes(who, ngf, n_downsampling, n_blocks)
    layers = stem_layers(in_channels, ngf, norm) + downsampling_layers(ngf, n_downsampling, norm)
    return layers + [ResnetBlock(ngf * 2 ** n_downsampling, norm=norm, padding=padding)
                     for _ in range(n_blocks)]


def upsampling_layers(ngf: int, n_downsampling: int, norm: str) -> list[nn.Module]:
    """``n_downsampling`` x [ConvTranspose 3x3 stride 2 (C -> C/2), norm, ReLU], down to ngf."""
    layers: list[nn.Module] = []
    for i in range(n_downsampling):
        c = ngf * 2 ** (n_downsampling - i)
        layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
                   build_norm(norm, c // 2), nn.ReLU()]
    return layers


def head_layers(ngf: int, out_channels: int) -> list[nn.Module]:
    """Reflect-pad 3, 7x7 conv ``ngf -> out_channels``, tanh."""
    return [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]


def check_sizes(who: str, ngf: int, n_downsampling: int, n_blocks: int) -> None:
    """Reject non-positive widths and negative counts with a message naming the value."""
    if ngf < 1:
        raise ValueError(f'{who}: ngf must be >= 1, got {ngf}')
    if n_downsampling < 0:
        raise ValueError(f'{who}: n_downsampling must be >= 0, got {n_downsampling}')
    if n_blocks < 0:
        raise ValueError(f'{who}: n_blocks must be >= 0, got {n_blocks}')
