from .base import DeepFaceEditingBase, NonFiniteLossError
from .image_geometry_encoder import ImageGeometryEncoderTrainer
from .sketch_autoencoder import SketchAutoEncoder

__all__ = ['DeepFaceEditingBase', 'ImageGeometryEncoderTrainer', 'NonFiniteLossError',
           'SketchAutoEncoder']
