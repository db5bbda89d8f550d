"""Photo -> sketch with a trained image-to-sketch network, as an alternative to the XDoG
extraction pipeline in ``tools/prepare_data.py``.

``--sketch-config '{"type": "generator", "checkpoint": "PATH"}'`` (or the ``sketch`` dict of a
config file) makes every sample's sketch with the ``image_to_sketch`` network of ``PATH``: an
``ImageToSketch`` stage checkpoint (configs/deepfaceediting/image-to-sketch_*.py) or a
converted release with ``sketch_generator.pkl`` (tools/convert_official_weights.py). The
network is loaded with ``weights_only`` reading; it runs on the CPU in float32, one photo at a
time, and its sketch (channel 0) is stored. Photos must have the network's resolution.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from facedisentangle.utils.files import sha256_of
from facedisentangle.visualization.image_range import float_to_uint8, uint8_to_float


@dataclass
class GeneratorSketcher:
    """``sketcher(photo) -> uint8 (H, W)`` sketch (0 strokes on 255) from a trained network.

    Args:
        checkpoint: file with an ``image_to_sketch`` network (see the module docstring).
        threads: torch CPU threads while sketching (1: one per worker process).
    """
    checkpoint: str
    threads: int = 1
    _model: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if not os.path.isfile(self.checkpoint):
            raise FileNotFoundError(f'sketch generator checkpoint {self.checkpoint!r} not found')
        from facedisentangle.inference import DeepFaceEditingInference

        self._model = DeepFaceEditingInference.from_checkpoint(self.checkpoint,
                                                               precision='float32')
        if not self._model.spec.supports('image_to_sketch'):
            raise ValueError(f'{self.checkpoint}: no image_to_sketch network (an ImageToSketch '
                             'stage checkpoint or a converted release with sketch_generator.pkl)')

    @classmethod
    def from_config(cls, cfg: dict) -> GeneratorSketcher:
        """From ``{'type': 'generator', 'checkpoint': ..., 'threads': ...}``; the recorded
        ``sha256`` and ``resolution`` of :meth:`to_dict` are checked when present."""
        cfg = {k: v for k, v in cfg.items() if k != 'type'}
        recorded = {k: cfg.pop(k) for k in ('sha256', 'resolution') if k in cfg}
        unknown = sorted(set(cfg) - {'checkpoint', 'threads'})
        if unknown or 'checkpoint' not in cfg:
            raise ValueError(f'sketch generator: options are checkpoint (required) and threads, '
                             f'got {sorted(cfg)}')
        sketcher = cls(**cfg)
        if 'sha256' in recorded and recorded['sha256'] != sha256_of(sketcher.checkpoint):
            raise ValueError(f'sketch generator {sketcher.checkpoint}: the file changed since its '
                             'SHA-256 was recorded')
        if 'resolution' in recorded:
            sketcher.check_size(recorded['resolution'])
        return sketcher

    @property
    def resolution(self) -> int:
        return int(self._model.resolution)

    def check_size(self, size: int) -> None:
        if int(size) != self.resolution:
            raise ValueError(f'sketch generator {self.checkpoint}: it makes {self.resolution} px '
                             f'sketches, the data set is {size} px (--size)')

    def to_dict(self) -> dict:
        """What is stored in the face file (and compared on resume)."""
        return dict(type='generator', checkpoint=os.path.abspath(self.checkpoint),
                    sha256=sha256_of(self.checkpoint), resolution=self.resolution)

    def __call__(self, photo: np.ndarray) -> np.ndarray:
        if photo.ndim != 3 or photo.shape[:2] != (self.resolution, self.resolution):
            raise ValueError(f'sketch generator: photo is {photo.shape}, it needs '
                             f'({self.resolution}, {self.resolution}, 3)')
        old = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            x = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
            out = self._model.photo_to_sketch(uint8_to_float(x), 'generator')[0, 0]
        finally:
            torch.set_num_threads(old)
        return float_to_uint8(out).numpy()

    def __getstate__(self):                      # worker processes load their own copy
        return dict(checkpoint=self.checkpoint, threads=self.threads)

    def __setstate__(self, state):
        self.checkpoint, self.threads, self._model = state['checkpoint'], state['threads'], None
        self.__post_init__()
