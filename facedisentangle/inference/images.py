"""Inputs and outputs of the face editor: any image in, uint8 RGB (or PIL) out.

Inputs may be file paths, PIL images or numpy arrays, one or a list (a batch):

=================================  ===========================================================
input                              read as
=================================  ===========================================================
file path                          :func:`facedisentangle.data_prep.image_io.read_image`
                                   (any format Pillow/OpenCV read; 16-bit, palette, CMYK, EXIF)
PIL image                          RGB; alpha (RGBA, LA, palette with transparency)
                                   composited on white; 16-bit and float modes scaled to 8 bit
numpy array ``HxW``, ``HxWx1..4``  uint8 as is; uint16 scaled by 1/257; bool x 255; floats are
                                   taken as [0, 1]; 2 or 4 channels: last one is alpha (white)
=================================  ===========================================================

Sketches are read the same way (black strokes on white, 3 channels). An image whose size is
not the model's resolution is resized (area filter down, bicubic up; non-square images are
stretched) and a warning naming it is logged on the ``facedisentangle.inference`` logger.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from facedisentangle.visualization import float_to_uint8, uint8_to_float

logger = logging.getLogger('facedisentangle.inference')

ImageInput = str | os.PathLike | Image.Image | np.ndarray


class InputImageError(ValueError):
    """An input that cannot be read as an image; the message names it."""


def _composite_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[..., None] / 255.0
    return np.clip(np.rint(rgb.astype(np.float32) * a + 255.0 * (1.0 - a)), 0, 255).astype(
        np.uint8)


def _array_to_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.byteorder not in ('=', '|'):  # e.g. big-endian 16-bit (PIL 'I;16B')
        arr = arr.astype(arr.dtype.newbyteorder('='))
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        return np.rint(arr.astype(np.float32) / 257.0).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if lo < 0 or hi > 65535:
            raise InputImageError(f'{name}: integer values {lo}..{hi} are neither 8- nor 16-bit')
        scale = 1.0 if hi <= 255 else 1.0 / 257.0
        return np.rint(arr.astype(np.float32) * scale).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise InputImageError(f'{name}: the array has NaN or infinite values')
        return np.clip(np.rint(arr.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    raise InputImageError(f'{name}: unsupported array dtype {arr.dtype}')


def array_to_rgb(arr: np.ndarray, name: str = 'array') -> np.ndarray:
    """An ``HxW`` / ``HxWxC`` (C = 1..4) array of any supported dtype -> uint8 ``HxWx3``."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise InputImageError(f'{name}: expected an HxW or HxWxC (C = 1..4) image array, got '
                              f'shape {arr.shape}')
    if min(arr.shape[:2]) < 1:
        raise InputImageError(f'{name}: empty image of shape {arr.shape}')
    arr = _array_to_uint8(arr, name)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.shape[2] == 2:
        return _composite_white(np.repeat(arr[..., :1], 3, axis=2), arr[..., 1])
    if arr.shape[2] == 4:
        return _composite_white(arr[..., :3], arr[..., 3])
    return np.ascontiguousarray(arr)


def pil_to_rgb(im: Image.Image, name: str = 'PIL image') -> np.ndarray:
    """Any PIL mode -> uint8 ``HxWx3`` (alpha on white, 16-bit and float modes scaled)."""
    mode = im.mode
    if mode == 'RGB':
        return np.asarray(im, dtype=np.uint8).copy()
    if mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La') or (
            mode == 'P' and 'transparency' in im.info):
        return array_to_rgb(np.asarray(im.convert('RGBA')), name)
    if mode.startswith('I;16') or mode in ('I', 'F'):
        arr = np.asarray(im)
        if mode == 'I' and arr.size and arr.max() > 255:
            arr = arr.astype(np.uint16) if arr.max() <= 65535 else arr
        if mode == 'F' and arr.size and arr.max() > 1.0:
            arr = arr / 255.0
        return array_to_rgb(arr, name)
    return np.asarray(im.convert('RGB'), dtype=np.uint8).copy()


def read_rgb(item: ImageInput, name: str | None = None) -> tuple[np.ndarray, str]:
    """One input -> (uint8 ``HxWx3``, a name for messages)."""
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        name = name or str(path)
        if not path.is_file():
            raise FileNotFoundError(f'{name}: no such file')
        from facedisentangle.data_prep.image_io import ImageReadError, read_image

        try:
            rgb, _ = read_image(path)
        except ImageReadError as e:
            raise InputImageError(f'{name}: cannot read the image ({e.reason})') from None
        return rgb, name
    if isinstance(item, Image.Image):
        return pil_to_rgb(item, name or 'PIL image'), name or 'PIL image'
    if isinstance(item, np.ndarray):
        return array_to_rgb(item, name or 'array'), name or 'array'
    raise InputImageError(f'{name or "input"}: expected a path, a PIL image or a numpy array, '
                          f'got {type(item).__name__}')


def fit_resolution(rgb: np.ndarray, resolution: int, name: str) -> np.ndarray:
    """Resize to ``resolution`` x ``resolution`` if needed, with a logged warning."""
    h, w = rgb.shape[:2]
    if (h, w) == (resolution, resolution):
        return rgb
    import mmcv  # only when resizing (its import is slow)

    shrink = h * w > resolution * resolution
    logger.warning('%s is %dx%d, resized to %dx%d (the model resolution)%s', name, w, h,
                   resolution, resolution, '' if h == w else
                   '; not square: stretched (align=True / --align aligns a photo instead)')
    return mmcv.imresize(rgb, (resolution, resolution),
                         interpolation='area' if shrink else 'bicubic')


def is_batch(inputs) -> bool:
    return isinstance(inputs, (list, tuple))


def load_images(inputs: ImageInput | Sequence[ImageInput], resolution: int,
                what: str = 'image') -> tuple[torch.Tensor, bool]:
    """One input or a list -> ``((B, 3, R, R)`` float32 in [-1, 1], whether it was a list)."""
    batch = is_batch(inputs)
    items = list(inputs) if batch else [inputs]
    if not items:
        raise InputImageError(f'{what}: empty list of images')
    arrays = []
    for i, item in enumerate(items):
        label = None if isinstance(item, (str, os.PathLike)) else (
            f'{what} #{i}' if batch else what)
        rgb, name = read_rgb(item, label)
        arrays.append(fit_resolution(rgb, resolution, name))
    return uint8_to_float(torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)), batch


def to_uint8(images: torch.Tensor) -> list[np.ndarray]:
    """``(B, 3, H, W)`` in [-1, 1] -> list of uint8 ``HxWx3`` arrays."""
    x = float_to_uint8(images.detach().float().cpu())
    return [a for a in x.permute(0, 2, 3, 1).numpy()]


def format_outputs(images: torch.Tensor, batch: bool, output: str = 'numpy'):
    """uint8 arrays (``output='numpy'``) or PIL images; a list iff the input was a list."""
    if output not in ('numpy', 'pil'):
        raise ValueError(f"output must be 'numpy' or 'pil', got {output!r}")
    arrays = to_uint8(images)
    out = [Image.fromarray(a) for a in arrays] if output == 'pil' else arrays
    return out if batch else out[0]
