"""The DeepFaceEditing networks, as plain ``torch.nn`` in the official layer nesting.

Registered in ``facedisentangle.registry.BACKBONES``: GeometryEncoder, SketchEncoder,
ImageGeometryEncoder, SketchDecoder, DrawingEncoder, DrawingDecoder, AppearanceEncoder, ComponentGenerator, GlobalGenerator
(also GlobalFusionGenerator), ImageToSketchGenerator, NLayerDiscriminator,
MultiScaleDiscriminator. See docs/networks.md.
"""
from .adain import AdaptiveInstanceNorm2d, assign_adain_params, clear_adain_params, num_adain_params
from .appearance_encoder import AppearanceEncoder
from .component_generator import ComponentGenerator
from .conv_block import ConvBlock, build_activation, build_norm, build_pad
from .drawing_autoencoder import DrawingDecoder, DrawingEncoder
from .geometry_encoder import GeometryEncoder, ImageGeometryEncoder, SketchEncoder
from .global_generator import GlobalGenerator, ImageToSketchGenerator
from .multiscale_discriminator import MultiScaleDiscriminator
from .nlayer_discriminator import NLayerDiscriminator
from .resnet_block import ResnetBlock
from .sketch_decoder import SketchDecoder
from .weight_init import WeightInitMixin, init_weights

__all__ = [
    'AdaptiveInstanceNorm2d', 'assign_adain_params', 'clear_adain_params', 'num_adain_params',
    'AppearanceEncoder', 'ComponentGenerator', 'ConvBlock', 'build_activation', 'build_norm',
    'build_pad', 'DrawingDecoder', 'DrawingEncoder', 'GeometryEncoder', 'ImageGeometryEncoder', 'SketchEncoder', 'GlobalGenerator',
    'ImageToSketchGenerator', 'MultiScaleDiscriminator', 'NLayerDiscriminator', 'ResnetBlock',
    'SketchDecoder', 'WeightInitMixin', 'init_weights',
]
