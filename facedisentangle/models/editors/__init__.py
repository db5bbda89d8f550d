from .base import DeepFaceEditingBase, NonFiniteLossError
from .global_fusion import GlobalFusion
from .image_geometry_encoder import ImageGeometryEncoderTrainer
from .image_to_sketch import ImageToSketch
from .local_disentanglement import LocalDisentanglement, SubNetworkEMA
from .sketch_autoencoder import SketchAutoEncoder
from .sketch_embedding import SketchEmbedding

__all__ = ['DeepFaceEditingBase', 'GlobalFusion', 'ImageGeometryEncoderTrainer', 'ImageToSketch',
           'LocalDisentanglement', 'NonFiniteLossError', 'SketchAutoEncoder', 'SketchEmbedding',
           'SubNetworkEMA']
