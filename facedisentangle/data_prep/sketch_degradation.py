"""Clean sketch -> hand-drawn-looking sketch: a seeded degradation of line drawings.

The networks are trained on clean lines (rendered or extracted from photos); a person drawing
by hand misplaces strokes by a few pixels, leaves some out, breaks others, presses harder or
lighter, and never draws a perfectly straight line. :class:`SketchDegradation` imitates those
differences so that what hand drawing does to a model can be measured on data with a known
truth (docs/sketch_projection.md). Per call, with ``rng = numpy.random.default_rng(seed)``::

    ink      = 1 - sketch / 255, up-sampled by ss so the thinnest line is >= 6 px wide
    strokes  = 8-connected pieces of ink > 0.5;  skeleton = skeletonize(ink > 0.5)
    w0       = ink area / skeleton length, rescaled once so that the whole skeleton redrawn
               at w0 has the clean ink area                         (the clean line width)
    for each stroke c:
        dropped                      with probability drop_prob, unless longer than
                                     drop_max_fraction of all strokes (the face outline)
        n_gaps ~ Poisson(length_c * break_rate / 100); each gap erases the skeleton within
                 gap_length / 2 of a random skeleton point          (broken strokes)
        w_c    = w0 * exp(U(-log width_range, log width_range))     (thicker / thinner)
        ink_c  = clip(w_c / 2 + 1/2 - dist(skeleton_c), 0, 1)       (redrawn, anti-aliased)
        ink_c  shifted by (dx, dy) ~ U(-offset, offset)^2           (stroke jitter)
    ink      = max over c of ink_c
    ink      = ink(p + wobble * u(p)),  u = unit-RMS Gaussian-smoothed noise field with
               correlation length wobble_scale                       (small wobble)
    ink      shifted as a whole by U(-shift, shift)^2                (overall offset)
    sketch   = 255 * (1 - area-down-sampled ink), uint8

Lengths are in px at ``reference_size`` (default 128, the synthetic faces) and scale with
``min(H, W) / reference_size``. The same sketch and seed give the same result, bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .options import FromConfigMixin


@dataclass
class SketchDegradation(FromConfigMixin):
    """Seeded hand-drawing degradation of a black-on-white uint8 sketch.

    Args:
        offset: per-stroke random translation, up to this many px in x and in y.
        shift: translation of the whole drawing, up to this many px in x and in y.
        drop_prob: probability that a stroke is left out (one stroke always stays).
        drop_max_fraction: strokes longer than this fraction of all strokes' length (the
            face outline) are never left out.
        break_rate: gaps per 100 px of stroke (skeleton) length.
        gap_length: length of one gap, px.
        width_range: a stroke's width is the clean width times a factor in
            ``[1 / width_range, width_range]`` (log-uniform); 1 keeps the width.
        wobble: RMS displacement of the smooth wobble field, px.
        wobble_scale: correlation length (Gaussian sigma) of the wobble field, px.
        reference_size: the image side at which the lengths above are given.
    """
    offset: float = 1.5
    shift: float = 1.0
    drop_prob: float = 0.1
    drop_max_fraction: float = 0.25
    break_rate: float = 2.0
    gap_length: float = 3.0
    width_range: float = 1.6
    wobble: float = 0.75
    wobble_scale: float = 6.0
    reference_size: int = 128

    def __post_init__(self):
        checks = {
            'offset': self.offset >= 0, 'shift': self.shift >= 0,
            'drop_prob': 0 <= self.drop_prob < 1,
            'drop_max_fraction': 0 <= self.drop_max_fraction <= 1, 'break_rate': self.break_rate >= 0,
            'gap_length': self.gap_length >= 0, 'width_range': self.width_range >= 1,
            'wobble': self.wobble >= 0, 'wobble_scale': self.wobble_scale > 0,
            'reference_size': self.reference_size > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f'SketchDegradation: bad value(s) '
                             f'{ {n: getattr(self, n) for n in bad} } (lengths and rates >= 0, '
                             '0 <= drop_prob < 1, width_range >= 1, wobble_scale > 0)')

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
        if dx == 0 and dy == 0:
            return img
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _wobble(self, ink: np.ndarray, amp: float, sigma: float,
                rng: np.random.Generator) -> np.ndarray:
        h, w = ink.shape
        field = rng.standard_normal((2, h, w)).astype(np.float32)
        for k in range(2):
            field[k] = cv2.GaussianBlur(field[k], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
            rms = float(np.sqrt(np.mean(field[k] ** 2)))
            field[k] *= amp / max(rms, 1e-12)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        return cv2.remap(ink, xx + field[0], yy + field[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    # ------------------------------------------------------------------ call
    def __call__(self, sketch: np.ndarray, seed: int = 0) -> np.ndarray:
        """The degraded ``sketch`` (uint8 (H, W), 0 strokes on 255), reproducible by ``seed``."""
        from skimage.morphology import skeletonize

        sketch = np.asarray(sketch)
        if sketch.ndim == 3 and sketch.shape[2] in (1, 3):
            sketch = sketch[..., 0]
        if sketch.ndim != 2 or sketch.dtype != np.uint8:
            raise ValueError(f'SketchDegradation: expected a uint8 (H, W) sketch, got '
                             f'{sketch.dtype} {sketch.shape}')
        rng = np.random.default_rng(seed)
        h, w = sketch.shape
        ink0 = 1.0 - sketch.astype(np.float32) / 255.0
        if not (ink0 > 0.5).any():
            return sketch.copy()
        # clean width at native size, then a super-sampling that makes lines >= 6 px
        native_skel = skeletonize(ink0 > 0.5)
        w_native = float(ink0.sum()) / max(int(native_skel.sum()), 1)
        ss = int(min(4, max(1, math.ceil(6.0 / max(w_native, 0.5)))))
        scale = min(h, w) / self.reference_size * ss      # px at reference -> px on the grid
        ink = cv2.resize(ink0, (w * ss, h * ss), interpolation=cv2.INTER_LINEAR) if ss > 1 \
            else ink0
        mask = ink > 0.5
        skel = skeletonize(mask)
        w0 = float(ink.sum()) / max(int(skel.sum()), 1)
        # one calibration step: redrawing the whole skeleton at w0 gives the clean ink
        dist = cv2.distanceTransform(1 - skel.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        redrawn = float(np.clip(w0 / 2 + 0.5 - dist, 0, 1).sum())
        w0 *= float(ink.sum()) / max(redrawn, 1e-6)
        n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        keep = rng.random(n) >= self.drop_prob
        lengths = np.bincount(labels[skel], minlength=n)
        keep |= lengths > self.drop_max_fraction * max(int(lengths[1:].sum()), 1)
        keep[0] = False
        if n > 1 and not keep[1:].any():
            keep[1 + int(rng.integers(n - 1))] = True
        out = np.zeros_like(ink)
        gap_r = self.gap_length * scale / 2
        pad = int(math.ceil(w0 * self.width_range + self.offset * scale)) + 2
        log_wr = math.log(self.width_range)
        for c in range(1, n):
            # draw every random number of a stroke, kept or not: results stay aligned
            dx, dy = rng.uniform(-self.offset, self.offset, 2) * scale
            width = w0 * math.exp(rng.uniform(-log_wr, log_wr))
            ys, xs = np.nonzero(skel & (labels == c))
            n_gaps = rng.poisson(len(ys) / scale * self.break_rate / 100.0) if len(ys) else 0
            gap_at = rng.integers(0, max(len(ys), 1), n_gaps)
            if not keep[c] or not len(ys):
                continue
            y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, ink.shape[0])
            x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, ink.shape[1])
            sk = np.zeros((y1 - y0, x1 - x0), np.uint8)
            sk[ys - y0, xs - x0] = 1
            for g in gap_at:
                cv2.circle(sk, (int(xs[g] - x0), int(ys[g] - y0)), int(round(gap_r)), 0, -1)
            if not sk.any():
                continue
            dist = cv2.distanceTransform(1 - sk, cv2.DIST_L2, cv2.DIST_MASK_5)
            piece = np.clip(width / 2 + 0.5 - dist, 0, 1).astype(np.float32)
            # the crop's margin holds the shift (the image border clips as it would)
            piece = self._shifted(piece, float(dx), float(dy))
            np.maximum(out[y0:y1, x0:x1], piece, out=out[y0:y1, x0:x1])
        if self.wobble > 0:
            out = self._wobble(out, self.wobble * scale, self.wobble_scale * scale, rng)
        sx, sy = rng.uniform(-self.shift, self.shift, 2) * scale
        out = self._shifted(out, float(sx), float(sy))
        if ss > 1:
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
        return np.clip(np.rint(255.0 * (1.0 - out)), 0, 255).astype(np.uint8)


def degrade_sketch(sketch: np.ndarray, seed: int = 0, **options) -> np.ndarray:
    """``SketchDegradation(**options)(sketch, seed)``: a hand-drawn-looking copy of ``sketch``."""
    return SketchDegradation.from_config(options)(sketch, seed)
