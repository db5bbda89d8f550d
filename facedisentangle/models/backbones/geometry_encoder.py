"""Geometry encoders E_sketch and E_image (one per face component).

    z_geo = E(x),   x: (B, 3, H, W) sketch or photo in [-1, 1],
    z_geo: (B, ngf * 2^n, H / 2^n, W / 2^n)   (1024 x 8 x 8 for a 128 px eye at ngf 64, n 4)

Structure (official ``GeometryEncoder``, one flat ``model`` Sequential)::

    model.0   ReflectionPad2d(3)          model.1  Conv2d(input_nc, ngf, 7)
    model.2   InstanceNorm2d(ngf, affine)  model.3  ReLU
    model.4/5/6, 7/8/9, ...               n_downsampling x [Conv2d 3x3 s2 (C -> 2C), IN, ReLU]
    model.(4 + 3n) ...                    n_blocks x ResnetBlock(ngf * 2^n)

E_sketch has 1 ResnetBlock (``SketchEncoder``), E_image 6 (``ImageGeometryEncoder``).
"""
from __future__ import annotations

from facedisentangle.registry import BACKBONES

from .sampling import encoder_layers
from .strided_net import StridedNet


@BACKBONES.register_module()
class GeometryEncoder(StridedNet):
    """Image (or sketch) -> spatial geometry code (pix2pixHD encoder + ResnetBlocks).

    Args:
        input_nc: input channels (3: sketches are read as 3-channel images).
        ngf: channels after the stem; the code has ``ngf * 2 ** n_downsampling``.
        n_downsampling: stride-2 convolutions; the code is ``2 ** n_downsampling`` times
            smaller than the input, whose sides must be multiples of that stride.
        n_blocks: ResnetBlocks at the code resolution (1: E_sketch, 6: E_image).
        norm: ``'in'`` (official, affine instance norm), ``'bn'`` or ``'none'``.
        padding: padding inside the ResnetBlocks (``'reflect'`` official).
        init_type, init_gain: see :func:`~.weight_init.init_weights`.

    Attributes:
        out_channels: channels of the code. stride: ``2 ** n_downsampling``.
    """

    def __init__(self, input_nc: int = 3, ngf: int = 64, n_downsampling: int = 4,
                 n_blocks: int = 1, norm: str = 'in', padding: str = 'reflect',
                 init_type: str = 'normal', init_gain: float = 0.02):
        layers = encoder_layers(type(self).__name__, input_nc, ngf, n_downsampling, n_blocks,
                                norm, padding)
        super().__init__(input_nc, 2 ** n_downsampling, layers, init_type, init_gain)
        self.out_channels = ngf * 2 ** n_downsampling


@BACKBONES.register_module()
class SketchEncoder(GeometryEncoder):
    """E_sketch: :class:`GeometryEncoder` with 1 ResnetBlock (official ``sketch_encoder``)."""

    def __init__(self, input_nc: int = 3, ngf: int = 64, n_downsampling: int = 4,
                 n_blocks: int = 1, **kwargs):
        super().__init__(input_nc, ngf, n_downsampling, n_blocks, **kwargs)


@BACKBONES.register_module()
class ImageGeometryEncoder(GeometryEncoder):
    """E_image: :class:`GeometryEncoder` with 6 ResnetBlocks (official ``image_encoder``)."""

    def __init__(self, input_nc: int = 3, ngf: int = 64, n_downsampling: int = 4,
                 n_blocks: int = 6, **kwargs):
        super().__init__(input_nc, ngf, n_downsampling, n_blocks, **kwargs)
