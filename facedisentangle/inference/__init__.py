"""DeepFaceEditing inference: the full model built from checkpoints or an export file,
precision/layout choices, partial recompute, and the export format.

The user-facing API is :class:`facedisentangle.apis.FaceEditor`; this package holds the parts.
"""
from .checkpoint_reader import load_network_state, read_spec
from .config_text import ConfigTextError, literal_config
from .export import export_inference_checkpoint
from .images import InputImageError, load_images
from .incremental_fusion import IncrementalFusion
from .manifold_projection import barycentric_weights, nearest_neighbours, project_vectors
from .model import DeepFaceEditingInference
from .precision import AUTO_PRECISION, ExecutionForm, parse_form, resolve_precision
from .result_cache import ResultCache, tensor_digest
from .spec import EXPORT_FORMAT, EXPORT_VERSION, CheckpointKindError, InferenceSpec, NetworkEntry

__all__ = [
    'AUTO_PRECISION', 'CheckpointKindError', 'ConfigTextError', 'DeepFaceEditingInference',
    'EXPORT_FORMAT', 'EXPORT_VERSION', 'ExecutionForm', 'IncrementalFusion', 'InferenceSpec',
    'InputImageError', 'NetworkEntry', 'ResultCache', 'export_inference_checkpoint',
    'literal_config', 'load_images', 'load_network_state', 'parse_form', 'read_spec',
    'barycentric_weights', 'nearest_neighbours', 'project_vectors',
    'resolve_precision', 'tensor_digest',
]
