"""Converters of third-party weights into facedisentangle export files.

- :mod:`.jittor_pickle`: read Jittor ``.pkl`` files (plain or ``safepickle``) without Jittor,
  through an unpickler that only rebuilds numpy arrays.
- :mod:`.official_weights`: map and check the official DeepFaceEditing release
  (``tools/convert_official_weights.py``).
"""
from .jittor_pickle import ArrayOnlyUnpickler, JittorPickleError, load_arrays, loads_arrays
from .official_weights import (
                               COMPONENTS,
                               OFFICIAL_FILES,
                               OFFICIAL_MODEL,
                               OfficialWeightsError,
                               convert_official_weights,
                               map_official_weights,
                               paper_model_config,
)

__all__ = [
    'ArrayOnlyUnpickler', 'COMPONENTS', 'JittorPickleError', 'OFFICIAL_FILES', 'OFFICIAL_MODEL',
    'OfficialWeightsError', 'convert_official_weights', 'load_arrays', 'loads_arrays',
    'map_official_weights', 'paper_model_config',
]
