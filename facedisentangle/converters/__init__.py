"""Converters of third-party weights into facedisentangle export files.

- :mod:`.jittor_pickle`: read Jittor ``.pkl`` files (plain or ``safepickle``) without Jittor,
  through an unpickler that only rebuilds numpy arrays.
- :mod:`.official_weights`: map and check the official DeepFaceEditing release
  (``tools/convert_official_weights.py``).
- :mod:`.official_drawing`: the release's hand-drawn-sketch networks (``Drawing/``) and its
  ``.bin`` sketch banks.
"""
from .jittor_pickle import ArrayOnlyUnpickler, JittorPickleError, load_arrays, loads_arrays
from .official_drawing import (
                               OFFICIAL_DRAWING_MODEL,
                               convert_official_drawing,
                               load_official_drawing,
                               map_drawing_weights,
)
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
    'ArrayOnlyUnpickler', 'COMPONENTS', 'JittorPickleError', 'OFFICIAL_DRAWING_MODEL',
    'OFFICIAL_FILES', 'OFFICIAL_MODEL', 'convert_official_drawing', 'load_official_drawing',
    'map_drawing_weights',
    'OfficialWeightsError', 'convert_official_weights', 'load_arrays', 'loads_arrays',
    'map_official_weights', 'paper_model_config',
]
