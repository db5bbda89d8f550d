"""One photo file -> one training sample: read, check, align or crop, resize, sketch.

    read (any depth / channels, converted)  ->  reject if min(H, W) < min_size
    -> FFHQ alignment (``align``)  or  centre square crop
    -> resize to ``size`` (area interpolation down, bicubic up)
    -> sketch = SketchExtractor(photo)

Nothing raises for a bad input: a :class:`SampleResult` carries either the sample or the
reason it was skipped (``'<category>: <detail>'``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .image_io import ImageReadError, read_image
from .sketch import SketchExtractor, build_sketch_extractor


@dataclass
class SampleResult:
    """The outcome for one input: ``photo`` and ``sketch`` (uint8) or a skip ``reason``."""
    name: str
    path: str
    split: str
    photo: np.ndarray | None = None
    sketch: np.ndarray | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None


def resize_square(img: np.ndarray, size: int) -> np.ndarray:
    """Resize a square image to ``size`` (area interpolation down, bicubic up)."""
    h = img.shape[0]
    if h == size:
        return img
    interp = cv2.INTER_AREA if h > size else cv2.INTER_CUBIC
    return cv2.resize(img, (size, size), interpolation=interp)


def center_square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return img[y:y + s, x:x + s]


class SampleProcessor:
    """Turn photo files into (photo, sketch) samples at ``size`` (see the module docstring).

    Args:
        size: output resolution.
        sketch: a :class:`SketchExtractor` or its config dict.
        align: a ``FaceAligner`` config dict (``{}`` for the defaults) to align faces, or None
            to centre-crop instead (photos that are aligned already, e.g. FFHQ).
        min_size: inputs whose shorter side is below this are skipped.
        alpha: ``'white'`` composites transparent images on white, ``'drop'`` drops alpha.
    """

    def __init__(self, size: int = 512, sketch: dict | SketchExtractor | None = None,
                 align: dict | None = None, min_size: int = 128, alpha: str = 'white'):
        self.size = int(size)
        self.min_size = int(min_size)
        self.alpha = alpha
        self.extractor = build_sketch_extractor(sketch)
        if hasattr(self.extractor, 'check_size'):  # a sketch network has one resolution
            self.extractor.check_size(self.size)
        self.aligner = None
        if align is not None:
            from .alignment import FaceAligner

            self.aligner = FaceAligner.from_config(align, size=self.size)
            self.aligner.load_models()  # fail now (missing dlib), not once per photo

    def __call__(self, name: str, path: str, split: str = 'train') -> SampleResult:
        res = SampleResult(name=name, path=path, split=split)
        try:
            img, res.notes = read_image(path, alpha=self.alpha)
            h, w = img.shape[:2]
            if min(h, w) < self.min_size:
                res.reason = f'too small: {w}x{h} px (--min-size {self.min_size})'
                return res
            if self.aligner is not None:
                from .alignment import FaceNotFoundError

                try:
                    img = self.aligner.align(img, strict=True).image
                except FaceNotFoundError as e:
                    res.reason = e.reason
                    return res
            else:
                if h != w:
                    res.notes.append('centre-cropped to a square')
                    img = center_square(img)
                if img.shape[0] < self.size:
                    res.notes.append('upscaled')
                img = resize_square(img, self.size)
            res.photo = np.ascontiguousarray(img)
            res.sketch = self.extractor(res.photo)
        except ImageReadError as e:
            res.reason = e.reason
        except Exception as e:  # one bad file must not stop the run: record it
            res.reason = f'error: {type(e).__name__}: {e}'
        if res.reason is not None:
            res.photo = res.sketch = None
        return res
