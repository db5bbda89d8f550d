"""Untrusted image uploads of the web editor: capped in bytes and pixels, refused with a message.

An upload is only ever bytes: never a server path, never a pickle. It is decoded by Pillow
after three checks, each refused with an :class:`UploadError` whose message the page shows:

1. **bytes**: more than ``max_bytes`` is refused (the server also refuses a request whose body
   is larger before reading it, :mod:`facedisentangle.web.server`);
2. **pixels**: the header's width x height above ``max_pixels`` is refused *before* the pixels
   are decoded (a decompression bomb: a few kB of PNG that would inflate to gigabytes);
   Pillow's own ``DecompressionBombWarning`` is turned into a refusal too;
3. **format**: anything Pillow cannot identify (a text file renamed ``.png``), or whose pixel
   data ends early (a truncated PNG), is refused.

The decoded image goes through the editor's own input path
(:func:`facedisentangle.inference.images.pil_to_rgb`: alpha on white, 16-bit scaled) and is
resized to the model's resolution.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facedisentangle.inference.images import fit_resolution, pil_to_rgb

MAX_UPLOAD_BYTES = 8 << 20  # 8 MiB
MAX_UPLOAD_PIXELS = 4096 * 4096  # 16.8 MP


class UploadError(ValueError):
    """An upload refused; the message is shown in the page."""


def decode_upload(data: bytes, name: str, resolution: int | None,
                  max_bytes: int = MAX_UPLOAD_BYTES,
                  max_pixels: int = MAX_UPLOAD_PIXELS) -> np.ndarray:
    """Bytes of an uploaded image -> uint8 ``RxRx3`` RGB (``resolution=None``: its own size),
    or :class:`UploadError`."""
    if not data:
        raise UploadError(f'{name}: the file is empty')
    if len(data) > max_bytes:
        raise UploadError(f'{name}: {len(data) / 2**20:.1f} MB is more than the '
                          f'{max_bytes / 2**20:.0f} MB upload limit')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > max_pixels:
                raise UploadError(f'{name}: {w}x{h} pixels is more than the limit of '
                                  f'{max_pixels:,} pixels (refused before decoding)')
            im.load()
            im = ImageOps.exif_transpose(im)
    except UploadError:
        raise
    except UnidentifiedImageError:
        raise UploadError(f'{name}: not an image (Pillow cannot identify the format)') from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise UploadError(f'{name}: refused as a decompression bomb ({e})') from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt pixel data
        raise UploadError(f'{name}: the image data is broken or truncated ({e})') from None
    rgb = pil_to_rgb(im, name)
    return rgb if resolution is None else fit_resolution(rgb, resolution, name)
