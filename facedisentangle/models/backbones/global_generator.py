"""Global Fusion generator G_fuse and the image-to-sketch net (pix2pixHD global generator).

    I = G_fuse(F_fused),   F_fused: (B, 64, 512, 512) fused component features -> (B, 3, 512, 512)

Structure (official ``GlobalGenerator``, one flat ``model`` Sequential)::

    model.0..3     ReflectionPad2d(3), Conv2d(input_nc, ngf, 7), norm, ReLU
    model.4..      n x [Conv2d 3x3 s2 (C -> 2C), norm, ReLU]
    model.(4+3n).. b x ResnetBlock(ngf * 2^n)
    next 3n        n x [ConvTranspose 3x3 s2 p1 op1 (C -> C/2), norm, ReLU]
    last 3         ReflectionPad2d(3), Conv2d(ngf, output_nc, 7), Tanh

At input_nc 64, ngf 64, n 4, b 4: ``model.1`` stem conv, ``model.16..19`` ResnetBlocks,
``model.20/21`` first ConvTranspose/IN, ``model.33`` head conv. The official
``sketch_generator`` is the same network with input_nc 3, ngf 32 and 9 ResnetBlocks.
"""
from __future__ import annotations

from facedisentangle.registry import BACKBONES

from .sampling import encoder_layers, head_layers, upsampling_layers
from .strided_net import StridedNet


@BACKBONES.register_module(name=['GlobalGenerator', 'GlobalFusionGenerator'])
class GlobalGenerator(StridedNet):
    """pix2pixHD global generator: encoder, ResnetBlocks, decoder, same size in and out.

    Args:
        input_nc: input channels (64: the fused component feature maps).
        output_nc: output channels (3).
        ngf, n_downsampling, n_blocks: width, down/up-samplings, ResnetBlocks (64, 4, 4).
        norm: ``'in'`` (official: affine instance norm), ``'bn'`` or ``'none'``.
        padding: padding inside the ResnetBlocks.
        init_type, init_gain: see :func:`~.weight_init.init_weights`.

    Input sides must be multiples of ``stride = 2 ** n_downsampling``.
    """

    def __init__(self, input_nc: int = 64, output_nc: int = 3, ngf: int = 64,
                 n_downsampling: int = 4, n_blocks: int = 4, norm: str = 'in',
                 padding: str = 'reflect', init_type: str = 'normal', init_gain: float = 0.02):
        layers = encoder_layers(type(self).__name__, input_nc, ngf, n_downsampling, n_blocks,
                                norm, padding)
        layers += upsampling_layers(ngf, n_downsampling, norm) + head_layers(ngf, output_nc)
        super().__init__(input_nc, 2 ** n_downsampling, layers, init_type, init_gain)


@BACKBONES.register_module()
class ImageToSketchGenerator(GlobalGenerator):
    """Photo -> sketch (official ``sketch_generator``): :class:`GlobalGenerator` with
    ``input_nc=3, ngf=32, n_blocks=9`` (n_downsampling 4 by default, as G_fuse)."""

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 32,
                 n_downsampling: int = 4, n_blocks: int = 9, **kwargs):
        super().__init__(input_nc, output_nc, ngf, n_downsampling, n_blocks, **kwargs)
