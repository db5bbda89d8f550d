"""Global Fusion with the stem convolution recomputed only where the fused input changed.

G_fuse starts with ``ReflectionPad2d(3)`` and a 7x7 convolution (``model.0``, ``model.1``):
a linear, local map whose output pixel (i, j) depends only on input pixels within 3 px. At
512 px this one layer (64 -> 64 channels, 52.6 GMAC) is about a third of G_fuse's work. Every
layer after it depends on global instance-norm statistics, so it has to be recomputed in full.

:class:`IncrementalFusion` keeps the last fused input and its stem output. When a new fused
input differs only inside a rectangle (one component changed), the stem is recomputed on that
rectangle plus a 3 px margin and written into the kept output; the rest of G_fuse then runs as
usual. The result equals a full recompute up to the summation order of the convolution. An
unchanged input returns the kept image.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class IncrementalFusion:
    """Run a ``GlobalGenerator`` on fused feature maps, reusing its stem output.

    Args:
        generator: G_fuse (``model.0`` must be a ``ReflectionPad2d`` and ``model.1`` a
            ``Conv2d``; otherwise every call is a full forward).
    """

    def __init__(self, generator: nn.Module):
        self.generator = generator
        model = getattr(generator, 'model', None)
        self.enabled = (isinstance(model, nn.Sequential) and len(model) > 2
                        and isinstance(model[0], nn.ReflectionPad2d)
                        and isinstance(model[1], nn.Conv2d) and model[1].stride == (1, 1)
                        and model[1].padding == (0, 0) and model[1].dilation == (1, 1))
        if self.enabled:
            self.pad, self.conv, self.rest = model[0], model[1], model[2:]
            self.margin = self.pad.padding[0]
            self.enabled = (tuple(self.pad.padding) == (self.margin,) * 4
                            and self.conv.kernel_size == (2 * self.margin + 1,) * 2)
        self.reset()
        self.last_region: tuple[int, int, int, int] | None = None

    def reset(self) -> None:
        self._input = self._stem = self._output = None

    def _changed_box(self, x: torch.Tensor) -> tuple[int, int, int, int] | None:
        """``(top, bottom, left, right)`` of the pixels where ``x`` differs from the last input,
        ``None`` if nothing changed; the whole image when the last input is not comparable."""
        h, w = x.shape[-2:]
        last = self._input
        if (last is None or last.shape != x.shape or last.dtype != x.dtype
                or last.device != x.device):
            return 0, h, 0, w
        # channels first: innermost in the channels-last layout the fused map has on the
        # bfloat16 path (2.3x faster than reducing the width first, measured at 512)
        plane = (x != last).any(dim=1).any(dim=0)
        rows = plane.any(dim=1).nonzero()
        if rows.numel() == 0:
            return None
        cols = plane.any(dim=0).nonzero()
        return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            self.last_region = (0, x.shape[-2], 0, x.shape[-1])
            return self.generator(x)
        box = self._changed_box(x)
        if box is None and self._output is not None:
            self.last_region = None
            return self._output
        h, w = x.shape[-2:]
        m = self.margin
        top, bottom, left, right = box or (0, h, 0, w)
        if (top, bottom, left, right) == (0, h, 0, w) or self._stem is None:
            stem = self.conv(self.pad(x))
        else:
            # output rows [t, b) need padded input rows [t, b + 2m): the 7x7 window
            t, b = max(top - m, 0), min(bottom + m, h)
            lf, r = max(left - m, 0), min(right + m, w)
            if t >= m and b + m <= h and lf >= m and r + m <= w:  # window inside the image
                window = x[:, :, t - m:b + m, lf - m:r + m]
            else:  # touches the border: take it from the reflection-padded input
                window = self.pad(x)[:, :, t:b + 2 * m, lf:r + 2 * m]
            stem = self._stem
            stem[:, :, t:b, lf:r] = self.conv(window)
        self.last_region = (top, bottom, left, right)
        out = self.rest(stem)
        self._input, self._stem, self._output = x, stem, out
        return out
