"""Procedural synthetic faces with independent geometry and appearance (exact swaps)."""
from .faces import SyntheticFaces
from .factors import (
    APPEARANCE_DIM,
    GEOMETRY_DIM,
    GEOMETRY_RANGES,
    Appearance,
    Geometry,
    derive_seed,
    sample_appearance,
    sample_geometry,
)
from .render import (
    LABEL_NAMES,
    LABEL_PALETTE,
    LABELS,
    colorize_labels,
    default_line_width,
    render_face,
    render_labels,
    render_photo,
    render_sketch,
)
from .shapes import FaceShapes, face_shapes

__all__ = [
    'APPEARANCE_DIM', 'GEOMETRY_DIM', 'GEOMETRY_RANGES', 'Appearance', 'Geometry', 'derive_seed',
    'sample_appearance', 'sample_geometry', 'SyntheticFaces', 'LABELS', 'LABEL_NAMES',
    'LABEL_PALETTE', 'colorize_labels', 'default_line_width', 'render_face', 'render_labels',
    'render_photo', 'render_sketch', 'FaceShapes', 'face_shapes',
]
