"""The networks' image range: uint8 pixels ``p`` in [0, 255] <-> floats ``x`` in [-1, 1].

    x = p / 127.5 - 1            p = round((clip(x, -1, 1) + 1) * 127.5)

uint8 -> float -> uint8 gives back every pixel exactly. Every place that feeds pixels to a
network, or turns a network's output back into pixels, uses this pair.
"""
from __future__ import annotations

import torch


def uint8_to_float(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 (or float) pixels in [0, 255] -> float32 in [-1, 1], any shape."""
    return pixels.float() / 127.5 - 1.0


def float_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] (clipped) -> uint8 pixels, any shape; computed in ``images``' dtype
    (cast first, ``images.float()``, for float32 rounding of a bfloat16 output)."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
