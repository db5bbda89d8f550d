from .base import DeepFaceEditingBase, NonFiniteLossError
from .sketch_autoencoder import SketchAutoEncoder

__all__ = ['DeepFaceEditingBase', 'NonFiniteLossError', 'SketchAutoEncoder']
