"""Image grids: columns of image batches -> one picture, a row per sample."""
from __future__ import annotations

import numpy as np
import torch

from .image_range import float_to_uint8


def to_uint8_grid(columns: list[torch.Tensor], max_samples: int,
                  padding: int = 2) -> np.ndarray:
    """Columns of (B, C, H, W) images in [-1, 1] -> one HxWx3 uint8 grid, a row per sample
    (at most ``max_samples`` rows; one-channel columns are drawn grey; white padding)."""
    from torchvision.utils import make_grid  # not at import: data-prep workers skip torchvision

    b = min(max_samples, *(c.shape[0] for c in columns))
    cols = []
    for c in columns:
        c = c[:b].detach().float().cpu()
        if c.shape[1] == 1:
            c = c.expand(-1, 3, -1, -1)
        cols.append(c)
    tiles = torch.stack(cols, dim=1).flatten(0, 1)  # sample-major: row = one sample
    grid = make_grid(tiles, nrow=len(cols), padding=padding, pad_value=1.0)
    return float_to_uint8(grid).permute(1, 2, 0).numpy()
