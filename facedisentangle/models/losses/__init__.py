"""DeepFaceEditing losses, one per file, registered in ``LOSSES`` (see docs/losses.md); the two
pixel terms share :class:`PixelL1Loss`."""
from .cycle_consistency_loss import CycleConsistencyLoss
from .feature_matching_loss import FeatureMatchingLoss
from .gan_loss import GANLoss
from .geometry_code_loss import GeometryCodeLoss
from .geometry_consistency_loss import GeometryConsistencyLoss
from .perceptual_loss import PerceptualLoss
from .pixel_l1_loss import PixelL1Loss
from .reconstruction_loss import ReconstructionLoss
from .vgg19_features import VGG19_LAYER_NAMES, VGG19Features

__all__ = [
    'CycleConsistencyLoss', 'FeatureMatchingLoss', 'GANLoss', 'GeometryCodeLoss',
    'GeometryConsistencyLoss', 'PerceptualLoss', 'PixelL1Loss', 'ReconstructionLoss',
    'VGG19Features', 'VGG19_LAYER_NAMES',
]
