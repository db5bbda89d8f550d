"""Real photos in: sketch extraction, face alignment, photo folder -> HDF5 face file.

- :class:`SketchExtractor` (sketch.py): photo -> black-on-white line drawing (XDoG).
- :class:`SketchDegradation` (sketch_degradation.py): clean sketch -> hand-drawn-looking one.
- :class:`FaceAligner` (alignment.py): dlib landmarks + FFHQ alignment into the layout.
- :func:`prepare_dataset` (pipeline.py): the resumable, multi-process preparation behind
  ``tools/prepare_data.py``.

dlib (for alignment only) is imported lazily: ``pip install -e .[align]``.
"""
from .alignment import AlignedFace, FaceAligner, FaceNotFoundError, ffhq_quad
from .image_io import ImageReadError, decode_image, read_image
from .pipeline import PrepareOptions, PrepareSummary, prepare_dataset
from .processor import SampleProcessor, SampleResult
from .sketch import SketchExtractor, build_sketch_extractor
from .sketch_degradation import SketchDegradation, degrade_sketch
from .skip_log import SkipLog, skip_log_path
from .sources import LAYOUTS, SourceImage, find_sources
from .split import split_of

__all__ = [
    'AlignedFace', 'FaceAligner', 'FaceNotFoundError', 'ffhq_quad', 'ImageReadError',
    'decode_image', 'read_image', 'PrepareOptions', 'PrepareSummary', 'prepare_dataset',
    'SampleProcessor', 'SampleResult', 'SkipLog', 'skip_log_path', 'SketchExtractor',
    'build_sketch_extractor', 'SketchDegradation', 'degrade_sketch', 'LAYOUTS', 'SourceImage', 'find_sources', 'split_of',
]
