"""Read any photo file as RGB uint8, converting what can be converted, naming what cannot.

Pillow decodes (and detects truncated files, which OpenCV silently decodes half-grey); what
it reads in a lossy way or not at all is decoded with OpenCV:

========================  ===========================================================
file                      result
========================  ===========================================================
RGB, 8 bit                as is (EXIF orientation applied)
grayscale, 1-bit, palette converted to 3 channels
RGBA, LA, palette+alpha   composited on white (``alpha='white'``) or alpha dropped
CMYK (JPEG, TIFF)         Pillow's CMYK -> RGB conversion
16-bit PNG / gray TIFF    scaled to 8 bit (``round(v / 257)``)
truncated, corrupt        :class:`ImageReadError` ``corrupt: ...``
not an image, empty       :class:`ImageReadError` ``not an image: ...``
========================  ===========================================================
"""
from __future__ import annotations

import io
import os
import struct
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageReadError(ValueError):
    """A file that cannot be read as a photo; ``reason`` is ``'<category>: <detail>'``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _png_bit_depth(data: bytes) -> int:
    # IHDR is the first chunk: 8-byte signature, 4 length, 4 type, 4 width, 4 height, 1 depth
    return data[24] if len(data) > 24 and data[12:16] == b'IHDR' else 8


def _to_uint8(arr: np.ndarray, notes: list[str]) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16 or (np.issubdtype(arr.dtype, np.integer) and arr.max() > 255):
        notes.append('16-bit -> 8-bit')
        top = 65535.0 if arr.max() <= 65535 else float(arr.max())
        return np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        notes.append('float -> 8-bit')
        top = 1.0 if np.nanmax(arr) <= 1.0 else 255.0
        arr = np.nan_to_num(arr.astype(np.float64))
        return np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def _composite(rgb: np.ndarray, alpha: np.ndarray, mode: str, notes: list[str]) -> np.ndarray:
    if mode == 'drop':
        notes.append('alpha dropped')
        return rgb
    notes.append('alpha composited on white')
    a = alpha.astype(np.float32)[..., None] / 255.0
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _from_array(arr: np.ndarray, alpha: str, notes: list[str], bgr: bool) -> np.ndarray:
    """An image array of any depth/channels (OpenCV order if ``bgr``) -> RGB uint8."""
    arr = _to_uint8(arr, notes)
    if arr.ndim == 2:
        notes.append('grayscale -> RGB')
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageReadError(f'unsupported: image array of shape {arr.shape}')
    c = arr.shape[2]
    if c == 1:
        notes.append('grayscale -> RGB')
        return np.repeat(arr, 3, axis=2)
    if c == 2:
        notes.append('grayscale -> RGB')
        return _composite(np.repeat(arr[..., :1], 3, axis=2), arr[..., 1], alpha, notes)
    rgb = arr[..., 2::-1] if bgr else arr[..., :3]
    rgb = np.ascontiguousarray(rgb)
    return _composite(rgb, arr[..., 3], alpha, notes) if c == 4 else rgb


def decode_image(data: bytes, alpha: str = 'white') -> tuple[np.ndarray, list[str]]:
    """Decode file bytes to an RGB uint8 (H, W, 3) array.

    Returns the image and the list of conversions made (e.g. ``['CMYK -> RGB']``). Raises
    :class:`ImageReadError` with a ``'<category>: <detail>'`` reason otherwise.
    """
    if alpha not in ('white', 'drop'):
        raise ValueError(f"alpha must be 'white' or 'drop', got {alpha!r}")
    notes: list[str] = []
    if not data:
        raise ImageReadError('not an image: empty file')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            im.load()
    except UnidentifiedImageError:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise ImageReadError('not an image: unrecognised file format') from None
        return _from_array(arr, alpha, notes, bgr=True), notes
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageReadError(f'too large: {e}') from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as e:
        raise ImageReadError(f'corrupt: {type(e).__name__}: {e}') from None

    if im.format == 'PNG' and _png_bit_depth(data) == 16:
        # Pillow keeps only the high byte of 16-bit colour PNGs: decode them with OpenCV
        arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
        if arr is None:
            raise ImageReadError('corrupt: 16-bit PNG that OpenCV cannot decode')
        return _from_array(arr, alpha, notes, bgr=True), notes

    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block must not lose the photo
        notes.append('EXIF orientation unreadable')
    mode = im.mode
    if mode == 'RGB':
        return np.asarray(im, dtype=np.uint8).copy(), notes
    if mode == 'CMYK':
        notes.append('CMYK -> RGB')
        return np.asarray(im.convert('RGB'), dtype=np.uint8).copy(), notes
    if mode in ('P', 'PA'):
        im = im.convert('RGBA' if ('transparency' in im.info or mode == 'PA') else 'RGB')
        notes.append('palette -> RGB')
        mode = im.mode
        if mode == 'RGB':
            return np.asarray(im, dtype=np.uint8).copy(), notes
    if mode in ('RGBA', 'RGBa', 'LA', 'La'):
        if mode != 'RGBA':
            if mode in ('LA', 'La'):
                notes.append('grayscale -> RGB')
            im = im.convert('RGBA')
        arr = np.asarray(im, dtype=np.uint8)
        return _composite(np.ascontiguousarray(arr[..., :3]), arr[..., 3], alpha, notes), notes
    if mode == '1':
        im = im.convert('L')
        mode = 'L'
    if mode in ('L', 'I', 'F') or mode.startswith('I;'):
        return _from_array(np.asarray(im), alpha, notes, bgr=False), notes
    try:  # YCbCr, LAB, HSV, RGBX, ...
        notes.append(f'{mode} -> RGB')
        return np.asarray(im.convert('RGB'), dtype=np.uint8).copy(), notes
    except Exception as e:
        raise ImageReadError(f'unsupported: image mode {mode} ({e})') from None


def read_image(path: str | os.PathLike, alpha: str = 'white') -> tuple[np.ndarray, list[str]]:
    """Read a photo file as RGB uint8; see :func:`decode_image`."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise ImageReadError(f'unreadable: {e.strerror or e}') from None
    return decode_image(data, alpha=alpha)
