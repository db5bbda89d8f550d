"""How :class:`~facedisentangle.apis.FaceEditor` reads its images: as is, or face-aligned.

Every input (a path, a PIL image or a numpy array; :mod:`facedisentangle.inference.images`)
becomes a uint8 ``R x R x 3`` RGB array at the model's resolution R:

* ``align=False`` (default): read, then resized to R x R when its size differs (area filter
  down, bicubic up; a non-square image is stretched), with one warning naming it;
* ``align=True`` (photos only; sketches are always read as they are): the photo goes through
  the same :class:`~facedisentangle.data_prep.alignment.FaceAligner` as
  ``tools/prepare_data.py --align`` (dlib's 68 landmarks, FFHQ's oriented square, checked
  against the model's own layout boxes), cut straight to R x R: any photo size and aspect
  ratio, never stretched. A photo without a usable face raises :class:`NoFaceError` naming it.

Path inputs are remembered (by path, size and modification time, the last ``memo_size`` of
them), so that an image used twice by one edit, or shown again in a grid, is read, aligned and
warned about once.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch

from facedisentangle.inference.images import ImageInput, InputImageError, fit_resolution, read_rgb
from facedisentangle.visualization import uint8_to_float


class NoFaceError(InputImageError):
    """``align=True`` and the photo has no usable face; the message names the photo."""


class InputReader:
    """Images in, model-ready arrays out (see the module docstring).

    Args:
        resolution: the model's resolution R.
        layout: the model's ``ComponentLayout`` (the aligner rejects faces whose eyes or mouth
            fall outside its boxes).
        align: align photos with ``FaceAligner``.
        align_config: ``FaceAligner`` options (``size`` and ``layout`` are the model's).
        memo_size: path inputs remembered.
    """

    def __init__(self, resolution: int, layout=None, align: bool = False,
                 align_config: dict | None = None, memo_size: int = 16):
        self.resolution = int(resolution)
        self.layout = layout
        self.align = bool(align)
        self.align_config = dict(align_config or {})
        self.memo_size = int(memo_size)
        self._memo: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._aligner = None
        if self.align:
            self.aligner()  # a missing dlib or a bad option fails now, not at the first photo

    def aligner(self):
        """The ``FaceAligner`` (built once; ImportError naming the ``align`` extra)."""
        if self._aligner is None:
            from facedisentangle.data_prep.alignment import FaceAligner

            cfg = dict(self.align_config)
            if self.layout is not None:
                cfg.setdefault('layout', self.layout)
            aligner = FaceAligner.from_config(cfg, size=self.resolution)
            aligner.load_models()
            self._aligner = aligner
        return self._aligner

    def _key(self, item, photo: bool) -> tuple | None:
        if not isinstance(item, (str, os.PathLike)):
            return None
        try:
            st = os.stat(item)
        except OSError:
            return None
        return (os.path.abspath(item), st.st_size, st.st_mtime_ns, photo and self.align)

    def read(self, item: ImageInput, what: str = 'image', photo: bool = True) -> np.ndarray:
        """One input -> uint8 ``R x R x 3``: aligned when ``photo`` and ``align``, else
        resized if needed. ``what`` names a non-path input in messages."""
        key = self._key(item, photo)
        if key is not None and key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        rgb, name = read_rgb(item, None if isinstance(item, (str, os.PathLike)) else what)
        if photo and self.align:
            from facedisentangle.data_prep.alignment import FaceNotFoundError

            try:
                rgb = self.aligner().align(rgb, strict=True).image
            except FaceNotFoundError as e:
                raise NoFaceError(f'{name}: no usable face to align ({e.reason})') from None
        else:
            rgb = fit_resolution(rgb, self.resolution, name)
        if key is not None and self.memo_size > 0:
            self._memo[key] = rgb
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        return rgb

    def load(self, inputs: ImageInput | Sequence[ImageInput], what: str = 'image',
             photo: bool = True) -> tuple[torch.Tensor, bool]:
        """One input or a list -> (``(B, 3, R, R)`` float32 in [-1, 1], whether a list)."""
        batch = isinstance(inputs, (list, tuple))
        items = list(inputs) if batch else [inputs]
        if not items:
            raise InputImageError(f'{what}: empty list of images')
        arrays = [self.read(item, f'{what} #{i}' if batch else what, photo)
                  for i, item in enumerate(items)]
        return uint8_to_float(torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)), batch

