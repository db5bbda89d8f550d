"""Photo -> line drawing: a photocopy-style sketch extractor (XDoG with soft thresholding).

Edge detectors (Canny, HED) mark every intensity change with a 1-px line on both sides of it;
hand drawings have one stroke per contour, on its dark side, thicker where the contrast is
strong, and no texture. The photocopy filter used for DeepFaceDrawing's training sketches
gives that look; here it is the eXtended Difference of Gaussians (Winnemoeller et al.,
"XDoG: An eXtended difference-of-Gaussians compendium", Computers & Graphics 2012)::

    I   = gray(photo) in [0, 1], contrast-stretched (percentiles), smoothed edge-preservingly
          (bilateral)
    D   = G_sigma * I  -  tau * G_{k sigma} * I                       difference of Gaussians
    T   = 1                              if D >= epsilon
          1 + tanh(phi * (D - epsilon))  otherwise                    soft threshold -> [0, 1]
    strokes = T < stroke_threshold;  connected stroke pieces smaller than min_component_area
    are removed (speckles);  optionally thinned to 1 px (skeletonize) and re-dilated to
    line_width;  output = 255 * T on the kept strokes, 255 elsewhere (uint8, black on white).

Every length (sigma, bilateral sigma, line width) is given at ``reference_size`` (512) and
scaled by ``min(H, W) / reference_size``; areas by the square of that. The defaults were tuned
on FFHQ-style aligned 512 faces (scikit-image's astronaut, aligned) and its other sample
photos; docs/sketch_extraction.md shows them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .options import FromConfigMixin


@dataclass
class SketchExtractor(FromConfigMixin):
    """Extract a black-on-white line drawing (uint8 H x W) from an RGB uint8 photo.

    Args:
        normalize: contrast stretch: the ``normalize`` and ``100 - normalize`` percentiles of
            the gray image become 0 and 1 (so dark or flat photos give the same strokes as
            well exposed ones); 0 disables it.
        sigma: std of the inner Gaussian of the DoG, px at ``reference_size``; sets the
            stroke scale (larger: fewer, bolder strokes).
        k: ratio of the outer to the inner Gaussian (1.6 approximates a LoG).
        tau: weight of the outer Gaussian; 1.0 = plain DoG, < 1 adds tone to dark regions.
        epsilon: threshold on D; more negative = fewer, only strong, strokes.
        phi: steepness of the tanh soft threshold (large: hard black/white, small: grey).
        bilateral_sigma: spatial std (px at ``reference_size``) of an edge-preserving
            bilateral pre-smoothing that removes skin/hair texture; 0 disables it.
        bilateral_color: its range std (on intensities in [0, 1]).
        stroke_threshold: pixels with T below it count as stroke for the speckle clean-up.
        min_component_area: stroke pieces smaller than this (px at ``reference_size``,
            8-connected) are erased; 0 disables it.
        thin: thin strokes to 1 px (skimage skeletonize) and re-dilate them to
            ``line_width``: uniform pen-like lines instead of XDoG's variable width.
        line_width: stroke width after thinning, px at ``reference_size``.
        reference_size: the image side at which the lengths above are given.
    """
    normalize: float = 1.0
    sigma: float = 1.0
    k: float = 2.0
    tau: float = 1.0
    epsilon: float = -0.005
    phi: float = 100.0
    bilateral_sigma: float = 3.0
    bilateral_color: float = 0.1
    stroke_threshold: float = 0.5
    min_component_area: float = 30.0
    thin: bool = False
    line_width: float = 2.0
    reference_size: int = 512

    def __post_init__(self):
        checks = {
            'normalize': 0 <= self.normalize < 50, 'sigma': self.sigma > 0, 'k': self.k > 1,
            'tau': 0 < self.tau <= 1.5,
            'phi': self.phi > 0, 'bilateral_sigma': self.bilateral_sigma >= 0,
            'bilateral_color': self.bilateral_color > 0,
            'stroke_threshold': 0 < self.stroke_threshold < 1,
            'min_component_area': self.min_component_area >= 0,
            'line_width': self.line_width > 0, 'reference_size': self.reference_size > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f'SketchExtractor: bad value(s) '
                             f'{ {n: getattr(self, n) for n in bad} } (sigma, phi, '
                             'bilateral_color, line_width > 0; k > 1; 0 < tau <= 1.5; '
                             '0 < stroke_threshold < 1; areas and sigmas >= 0)')

    def to_dict(self) -> dict:
        return asdict(self)

    # ------------------------------------------------------------------ steps
    def _gray(self, photo: np.ndarray) -> np.ndarray:
        """uint8 gray (H, W) of an RGB or gray uint8 photo."""
        if not isinstance(photo, np.ndarray) or photo.dtype != np.uint8:
            what = photo.dtype if isinstance(photo, np.ndarray) else type(photo).__name__
            raise ValueError(f'SketchExtractor: expected a uint8 image, got {what}')
        if photo.ndim == 3 and photo.shape[2] == 3:
            return cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
        if photo.ndim == 2:
            return photo
        raise ValueError(f'SketchExtractor: expected (H, W, 3) RGB or (H, W) gray, got '
                         f'shape {photo.shape}')

    def _stretch_table(self, gray: np.ndarray) -> np.ndarray:
        """float32[256]: grey level -> [0, 1], the percentile contrast stretch."""
        levels = np.arange(256, dtype=np.float32)
        if self.normalize <= 0:
            return levels / 255.0
        cdf = np.cumsum(np.bincount(gray.ravel(), minlength=256)) / gray.size
        lo = int(np.searchsorted(cdf, self.normalize / 100.0))
        hi = int(np.searchsorted(cdf, 1.0 - self.normalize / 100.0))
        if hi - lo < 1:
            return levels / 255.0
        return np.clip((levels - lo) / (hi - lo), 0.0, 1.0)

    def soft_lines(self, photo: np.ndarray) -> np.ndarray:
        """The XDoG soft-thresholded image T in [0, 1] (float32), before clean-up."""
        gray8 = self._gray(photo)
        table = self._stretch_table(gray8)
        scale = min(gray8.shape[:2]) / self.reference_size
        if self.bilateral_sigma > 0:
            # on 8 bits: 2.4x faster than on float32, differences below one grey level
            g8 = cv2.LUT(gray8, np.rint(table * 255.0).astype(np.uint8))
            g8 = cv2.bilateralFilter(g8, 0, self.bilateral_color * 255.0,
                                     self.bilateral_sigma * scale)
            gray = g8.astype(np.float32) * np.float32(1.0 / 255.0)
        else:
            gray = table[gray8]
        s = self.sigma * scale
        g1 = cv2.GaussianBlur(gray, (0, 0), s, borderType=cv2.BORDER_REFLECT)
        g2 = cv2.GaussianBlur(gray, (0, 0), s * self.k, borderType=cv2.BORDER_REFLECT)
        d = g1 - np.float32(self.tau) * g2
        t = np.ones_like(d)
        below = d < self.epsilon
        t[below] = 1.0 + np.tanh(np.float32(self.phi) * (d[below] - np.float32(self.epsilon)))
        return t

    def clean(self, strokes: np.ndarray, scale: float) -> np.ndarray:
        """Remove 8-connected stroke pieces smaller than ``min_component_area`` (scaled)."""
        min_area = self.min_component_area * scale * scale
        if min_area <= 0 or not strokes.any():
            return strokes
        n, labels, stats, _ = cv2.connectedComponentsWithStats(strokes.astype(np.uint8), 8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False  # background
        return keep[labels]

    def thin_lines(self, strokes: np.ndarray, scale: float) -> np.ndarray:
        """Skeletonize the strokes and dilate them to ``line_width`` (scaled)."""
        from skimage.morphology import skeletonize

        skel = skeletonize(strokes)
        width = max(1, int(round(self.line_width * scale)))
        if width == 1:
            return skel
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
        return cv2.dilate(skel.astype(np.uint8), kernel).astype(bool)

    def __call__(self, photo: np.ndarray) -> np.ndarray:
        """The sketch of ``photo`` (RGB or gray uint8): uint8 (H, W), 0 strokes on 255."""
        t = self.soft_lines(photo)
        scale = min(t.shape[:2]) / self.reference_size
        strokes = self.clean(t < self.stroke_threshold, scale)
        if self.thin:
            strokes = self.thin_lines(strokes, scale)
            # thinned lines are drawn solid, anti-aliased by a half-pixel blur
            out = np.where(strokes, 0.0, 1.0).astype(np.float32)
            out = cv2.GaussianBlur(out, (0, 0), 0.5 * max(scale, 1.0))
        else:
            # keep the soft tanh grey levels around the kept strokes (anti-aliasing), drop
            # the grey of removed speckles and the faint values outside any stroke
            near = cv2.dilate(strokes.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            out = np.where(near, t, 1.0)
        return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def build_sketch_extractor(cfg: dict | SketchExtractor | None = None) -> SketchExtractor:
    """A :class:`SketchExtractor` from a config dict (None: the defaults); a dict with
    ``type='generator'`` gives a trained network instead (:mod:`.sketch_generator`)."""
    if isinstance(cfg, SketchExtractor) or callable(cfg):
        return cfg
    if isinstance(cfg, dict) and cfg.get('type') == 'generator':
        from .sketch_generator import GeneratorSketcher

        return GeneratorSketcher.from_config(cfg)
    return SketchExtractor.from_config(cfg)
