"""Sketch embedding of one component: DrawingEncoder / DrawingDecoder (DeepFaceDrawing's
component embedding, the official release's ``Drawing/sketch_encoder_*`` and ``sketch_DE_*``).

    v = E_draw(S_c) in R^latent_dim,   S_c: (B, input_nc, s, s) sketch crop (channel 0 only)
    D_draw(v): (B, output_nc, s, s)

Official nesting at the defaults (``channels = (32, 64, 128, 256, 512)``, s a multiple of 32)::

    DrawingEncoder.conv.0            EncoderBlock  in -> 32   (conv 4x4 s2 p1, BN, LeakyReLU)
    conv.1, conv.3, conv.5, conv.7   ResnetBlock(C, BN, reflect)
    conv.2, conv.4, conv.6, conv.8   EncoderBlock C -> 2C
    conv.9                           ResnetBlock(512)
    fc_mu.0                          Linear(512 (s/32)^2 -> latent_dim)
    EncoderBlock children            conv, bn (BatchNorm2d, momentum 0.9), relu

    DrawingDecoder.fc.0              Linear(latent_dim -> 512 (s/32)^2), viewed (512, s/32, s/32)
    conv.0                           ResnetBlock(512)
    conv.(2i+1), conv.(2i+2)         DecoderBlock C_i -> C_{i+1}, ResnetBlock(C_{i+1}),
                                     C = 512, 256, 256, 128, 64, 64
    conv.11, conv.12                 ReflectionPad2d(2), Conv2d(64, output_nc, 5)
    DecoderBlock children            conv.0 ConvTranspose 4x4 s2 p1, conv.1 BN (momentum 0.9),
                                     conv.2 LeakyReLU

The release builds its LeakyReLUs as ``LeakyReLU(True)``: a slope of True = 1.0, which is the
identity (in Jittor and in PyTorch alike), so apart from the ReLUs inside the ResnetBlocks its
encoder and decoder are affine maps. ``leaky_relu_slope=1.0`` reproduces that (required for the
official weights); ours defaults to 0.2. The release's decoder ends without an activation and
emits a 32-channel map for its own geometry encoder; ours reconstructs the sketch itself
(``output_nc=1``, ``out_activation='tanh'``) so that a projected vector can be decoded to a
sketch for any E_sketch.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .resnet_block import ResnetBlock
from .weight_init import WeightInitMixin

OUT_ACTIVATIONS = ('none', 'tanh')


def _check_channels(who: str, channels: Sequence[int], image_size: int, latent_dim: int
                    ) -> tuple[int, ...]:
    channels = tuple(int(c) for c in channels)
    if not channels or min(channels) < 1:
        raise ValueError(f'{who}: channels must be a non-empty list of positive ints, got '
                         f'{channels}')
    if latent_dim < 1:
        raise ValueError(f'{who}: latent_dim must be >= 1, got {latent_dim}')
    return channels


def _latent_side(who: str, image_size: int, stride: int) -> int:
    if image_size < stride or image_size % stride:
        raise ValueError(f'{who}: image_size {image_size} must be a positive multiple of the '
                         f'total stride {stride} (fewer channels entries = fewer '
                         'down-samplings)')
    return image_size // stride


class EncoderBlock(nn.Module):
    """``LeakyReLU(BN(conv 4x4 s2 p1 (x)))``; children ``conv``, ``bn``, ``relu``."""

    def __init__(self, in_ch: int, out_ch: int, slope: float):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(out_ch, momentum=0.9)
        self.relu = nn.LeakyReLU(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class DecoderBlock(nn.Module):
    """``conv = [ConvTranspose 4x4 s2 p1, BN (momentum 0.9), LeakyReLU]``: doubles the side."""

    def __init__(self, in_ch: int, out_ch: int, slope: float):
        super().__init__()
        self.conv = nn.Sequential(nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1),
                                  nn.BatchNorm2d(out_ch, momentum=0.9), nn.LeakyReLU(slope))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


@BACKBONES.register_module()
class DrawingEncoder(WeightInitMixin, nn.Module):
    """Component sketch crop -> a ``latent_dim`` vector (official ``DrawingEncoder``).

    Args:
        image_size: side s of the (square) crop; a multiple of ``2 ** len(channels)``.
        input_nc: input channels (1 officially: only channel 0 of the sketch is read; a
            3-channel input is cut to its first ``input_nc`` channels).
        channels: output channels of the EncoderBlocks; one stride-2 block per entry
            (official ``(32, 64, 128, 256, 512)``: total stride 32).
        latent_dim: size of the vector (512).
        leaky_relu_slope: negative slope of the EncoderBlocks' LeakyReLUs (1.0 = identity,
            as the official weights were trained; ours 0.2).
        norm: norm of the ResnetBlocks (``'bn'`` officially).
        init_type, init_gain: see :func:`~.weight_init.init_weights`.

    Attributes: ``stride`` (total), ``latent_side`` (s / stride), ``latent_dim``.
    """

    def __init__(self, image_size: int, input_nc: int = 1,
                 channels: Sequence[int] = (32, 64, 128, 256, 512), latent_dim: int = 512,
                 leaky_relu_slope: float = 0.2, norm: str = 'bn', init_type: str = 'normal',
                 init_gain: float = 0.02):
        super().__init__()
        who = type(self).__name__
        channels = _check_channels(who, channels, image_size, latent_dim)
        self.input_nc, self.image_size, self.latent_dim = input_nc, int(image_size), latent_dim
        self.stride = 2 ** len(channels)
        self.latent_side = _latent_side(who, self.image_size, self.stride)
        layers: list[nn.Module] = [EncoderBlock(input_nc, channels[0], leaky_relu_slope)]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [ResnetBlock(c_in, norm=norm, padding='reflect'),
                       EncoderBlock(c_in, c_out, leaky_relu_slope)]
        layers.append(ResnetBlock(channels[-1], norm=norm, padding='reflect'))
        self.conv = nn.Sequential(*layers)
        self.fc_mu = nn.Sequential(nn.Linear(channels[-1] * self.latent_side ** 2, latent_dim))
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, >= input_nc, s, s) -> (B, latent_dim)``."""
        check_feature_map(x, None, self.stride, min_size=self.image_size, who=type(self).__name__)
        if x.shape[1] < self.input_nc:
            raise ValueError(f'{type(self).__name__}: input has {x.shape[1]} channels, expected '
                             f'at least {self.input_nc}')
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f'{type(self).__name__}: input is {tuple(x.shape[-2:])}, built for '
                             f'{self.image_size}x{self.image_size} crops')
        return self.fc_mu(self.conv(x[:, :self.input_nc]).flatten(1))


@BACKBONES.register_module()
class DrawingDecoder(WeightInitMixin, nn.Module):
    """A ``latent_dim`` vector -> a component map (official ``DrawingDecoder``).

    Args:
        image_size: side s of the output; a multiple of ``2 ** (len(channels) - 1)``.
        output_nc: output channels (1: the sketch, ours; 32 officially: a feature map).
        channels: channels at the latent side and after each up-sampling (official
            ``(512, 256, 256, 128, 64, 64)``: 5 up-samplings).
        latent_dim: size of the vector (512).
        leaky_relu_slope: slope of the DecoderBlocks' LeakyReLUs (1.0 officially).
        out_activation: ``'tanh'`` (ours: a sketch in [-1, 1]) or ``'none'`` (official).
        norm, init_type, init_gain: as :class:`DrawingEncoder`.
    """

    def __init__(self, image_size: int, output_nc: int = 1,
                 channels: Sequence[int] = (512, 256, 256, 128, 64, 64), latent_dim: int = 512,
                 leaky_relu_slope: float = 0.2, out_activation: str = 'tanh', norm: str = 'bn',
                 init_type: str = 'normal', init_gain: float = 0.02):
        super().__init__()
        who = type(self).__name__
        channels = _check_channels(who, channels, image_size, latent_dim)
        if out_activation not in OUT_ACTIVATIONS:
            raise ValueError(f'{who}: out_activation must be one of {OUT_ACTIVATIONS}, got '
                             f'{out_activation!r}')
        self.image_size, self.latent_dim, self.output_nc = int(image_size), latent_dim, output_nc
        self.stride = 2 ** (len(channels) - 1)
        self.latent_side = _latent_side(who, self.image_size, self.stride)
        self.latent_channels = channels[0]
        self.fc = nn.Sequential(nn.Linear(latent_dim, channels[0] * self.latent_side ** 2))
        layers: list[nn.Module] = [ResnetBlock(channels[0], norm=norm, padding='reflect')]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [DecoderBlock(c_in, c_out, leaky_relu_slope),
                       ResnetBlock(c_out, norm=norm, padding='reflect')]
        layers += [nn.ReflectionPad2d(2), nn.Conv2d(channels[-1], output_nc, 5)]
        self.conv = nn.Sequential(*layers)
        self.out = nn.Tanh() if out_activation == 'tanh' else nn.Identity()
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """``(B, latent_dim) -> (B, output_nc, s, s)``."""
        if v.ndim != 2 or v.shape[1] != self.latent_dim:
            raise ValueError(f'{type(self).__name__}: input must be (B, {self.latent_dim}), got '
                             f'{tuple(v.shape)}')
        x = self.fc(v).view(v.shape[0], self.latent_channels, self.latent_side,
                            self.latent_side)
        return self.out(self.conv(x))
