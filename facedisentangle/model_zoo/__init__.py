"""Models shipped inside the package, so that editing works right after the install.

``synthetic-128``: DeepFaceEditing trained on the embedded synthetic faces at 128x128, stored
as a quantised export (``tools/export.py --quantize int4 --int8-networks fusion_generator
generators``: 4-bit encoders and sketch decoders, 8-bit generators, 21.9 MB; the weights are
float again at load); how it was made and its swap numbers are in docs/model_zoo.md. Load it with ``FaceEditor.from_checkpoint(default_checkpoint())``.
"""
from __future__ import annotations

import os.path as osp

HERE = osp.dirname(osp.abspath(__file__))

MODELS = {
    'synthetic-128': 'deepfaceediting_synthetic-128_int4.pth',
}
DEFAULT_MODEL = 'synthetic-128'


def default_checkpoint(name: str = DEFAULT_MODEL) -> str:
    """Path of a shipped model file; a clear error if the name or the file is unknown."""
    if name not in MODELS:
        raise KeyError(f'unknown shipped model {name!r}; shipped: {sorted(MODELS)}')
    path = osp.join(HERE, MODELS[name])
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'the shipped model file {path} is missing: reinstall the package from a full '
            'clone of the repository (it is tracked in git), or pass a checkpoint path')
    return path
