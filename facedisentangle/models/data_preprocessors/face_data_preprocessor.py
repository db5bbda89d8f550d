"""Batch preparation: uint8 [0, 255] images to float [-1, 1] on the model's device."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from facedisentangle.registry import MODELS
from facedisentangle.visualization import float_to_uint8, uint8_to_float


@MODELS.register_module()
class FaceDataPreprocessor(BaseDataPreprocessor):
    """Move a collated batch to the device and map the image keys to [-1, 1].

    ``x -> x / 127.5 - 1`` for every key in ``image_keys`` (uint8 tensors, N x C x H x W), the
    inverse of :meth:`to_uint8`. Other entries (names, indices, label maps) are only moved.

    Args:
        image_keys: batch keys holding uint8 images.
        non_blocking: passed to ``Tensor.to``.
    """

    def __init__(self, image_keys: Sequence[str] = ('photo', 'sketch'), non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        self.image_keys = tuple(image_keys)

    def forward(self, data: dict, training: bool = False) -> dict:
        if not isinstance(data, dict):
            raise TypeError('FaceDataPreprocessor expects a dict batch (use '
                            "collate_fn=dict(type='default_collate')), got "
                            f'{type(data).__name__}')
        data = self.cast_data(data)
        out = dict(data)
        for key in self.image_keys:
            if key not in data:
                continue
            img = data[key]
            if not torch.is_tensor(img) or img.dim() != 4:
                raise ValueError(f'batch[{key!r}] must be an N x C x H x W tensor, got '
                                 f'{getattr(img, "shape", type(img))}')
            out[key] = uint8_to_float(img) if img.dtype == torch.uint8 else img.float()
        return out

    @staticmethod
    def to_uint8(img: torch.Tensor) -> torch.Tensor:
        """[-1, 1] float -> [0, 255] uint8."""
        return float_to_uint8(img.detach())
