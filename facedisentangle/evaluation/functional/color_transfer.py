"""Colour transfer baseline (Reinhard, Ashikhmin, Gooch, Shirley, IEEE CG&A 2001), in CIELAB.

Each channel c of the source image, in CIELAB, is shifted and scaled to the reference's
per-channel mean and standard deviation (statistics over the whole image or crop):

    out_c = (src_c - mean(src_c)) * std(ref_c) / std(src_c) + mean(ref_c)

then converted back to RGB and clipped. Reinhard et al. used the l-alpha-beta space; we use
CIELAB (D65 white) through OpenCV's float conversion (``cv2.COLOR_RGB2LAB`` on RGB in [0, 1]:
L in [0, 100], a, b in about [-127, 127]), which is also a decorrelated perceptual space. A
channel with zero spread in the source is only shifted.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch


def _to_lab(img: torch.Tensor) -> np.ndarray:
    rgb01 = ((img.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    return cv2.cvtColor(np.ascontiguousarray(rgb01, dtype=np.float32), cv2.COLOR_RGB2LAB)


def lab_color_transfer(source: torch.Tensor, reference: torch.Tensor, eps: float = 1e-6
                       ) -> torch.Tensor:
    """``source`` recoloured with ``reference``'s CIELAB mean and std per channel.

    Args:
        source, reference: RGB images (3, H, W) in [-1, 1] (sizes may differ).

    Returns:
        The recoloured source, (3, H, W) float32 in [-1, 1].
    """
    for name, t in (('source', source), ('reference', reference)):
        if t.dim() != 3 or t.shape[0] != 3:
            raise ValueError(f'lab_color_transfer: {name} must be an RGB image (3, H, W), got '
                             f'shape {tuple(t.shape)}.')
    src, ref = _to_lab(source).astype(np.float64), _to_lab(reference).astype(np.float64)
    mu_s, sd_s = src.mean(axis=(0, 1)), src.std(axis=(0, 1))
    mu_r, sd_r = ref.mean(axis=(0, 1)), ref.std(axis=(0, 1))
    scale = np.where(sd_s > eps, sd_r / np.maximum(sd_s, eps), 1.0)
    out = (src - mu_s) * scale + mu_r
    rgb01 = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    rgb = torch.from_numpy(np.clip(rgb01, 0.0, 1.0)).permute(2, 0, 1) * 2 - 1
    return rgb.contiguous()
