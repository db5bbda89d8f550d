"""DeepFaceEditing losses, one per file, all registered in ``LOSSES`` (see docs/losses.md)."""
from .cycle_consistency_loss import CycleConsistencyLoss
from .feature_matching_loss import FeatureMatchingLoss
from .gan_loss import GANLoss
from .geometry_code_loss import GeometryCodeLoss
from .geometry_consistency_loss import GeometryConsistencyLoss
from .perceptual_loss import PerceptualLoss
from .reconstruction_loss import ReconstructionLoss
from .vgg19_features import VGG19_LAYER_NAMES, VGG19Features

__all__ = [
    'CycleConsistencyLoss', 'FeatureMatchingLoss', 'GANLoss', 'GeometryCodeLoss',
    'GeometryConsistencyLoss', 'PerceptualLoss', 'ReconstructionLoss', 'VGG19Features',
    'VGG19_LAYER_NAMES',
]
