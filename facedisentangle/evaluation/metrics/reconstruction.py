"""Reconstruction errors between a predicted and a true tensor: L1, PSNR, SSIM.

    L1   = mean |pred - gt|                            (values in [-1, 1])
    PSNR = 10 log10(2^2 / mean (pred - gt)^2)          (data range 2, i.e. [-1, 1])
    SSIM = mean Gaussian-window SSIM (11x11, sigma 1.5) on the images mapped to [0, 1]

each computed per sample and averaged over samples.
"""
from __future__ import annotations

import math

import torch

from facedisentangle.registry import METRICS

from ..functional.image_errors import l1_error, psnr
from ..functional.ssim import ssim
from .base import SampleMetric

RECONSTRUCTION_METRICS = ('L1', 'PSNR', 'SSIM')


@METRICS.register_module()
class ReconstructionMetric(SampleMetric):
    """Per-sample L1 / PSNR / SSIM between ``pred_key`` and ``gt_key``, averaged over samples.

    Measures (each a mean over samples):

    * ``L1``: mean absolute difference of the values (images in [-1, 1], or any tensors of
      equal shape: sketches, geometry codes);
    * ``PSNR``: ``10 log10(4 / MSE)`` dB (data range 2 of [-1, 1]); a sample with MSE 0 has
      PSNR inf, and so then has the mean;
    * ``SSIM``: SSIM with an 11x11 Gaussian window (sigma 1.5) on the images mapped to [0, 1]
      (equal to scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
      use_sample_covariance=False, data_range=1)``); needs (C, H, W) with H, W >= 11.

    Names are ``L1``, ``PSNR``, ``SSIM``, preceded by ``tag`` when given (``sketch/L1``) and by
    the prefix (``eye1/sketch/L1``). The sketch auto-encoder error is
    ``dict(type='ReconstructionMetric', pred_key='sketch_rec', gt_key='sketch', tag='sketch',
    metrics=['L1'])``; a code L1 is the same with code keys (or ``CodeConsistencyMetric``).

    Args:
        pred_key, gt_key: keys of the compared tensors.
        metrics: subset of ``('L1', 'PSNR', 'SSIM')``.
        tag: optional group name put before the metric names.
        Others: see ``SampleMetric``.
    """

    def __init__(self, pred_key: str = 'pred', gt_key: str = 'gt',
                 metrics=RECONSTRUCTION_METRICS, tag: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        bad = [m for m in metrics if m not in RECONSTRUCTION_METRICS]
        if bad or not metrics:
            raise ValueError(f'ReconstructionMetric: metrics {bad or metrics} not supported; '
                             f'choose from {RECONSTRUCTION_METRICS}.')
        self.pred_key, self.gt_key = pred_key, gt_key
        self.metrics, self.tag = metrics, tag
        self._images = any(m in ('PSNR', 'SSIM') for m in metrics)

    def _pair(self, sample: dict) -> tuple[torch.Tensor, torch.Tensor]:
        kp, kg = self.key(self.pred_key), self.key(self.gt_key)
        if self._images:
            p, g = self.get_image(sample, kp), self.get_image(sample, kg)
        else:
            p, g = self.get_tensor(sample, kp).cpu(), self.get_tensor(sample, kg).cpu()
        if p.shape != g.shape:
            raise ValueError(f'{self._name()}: {kp!r} has shape {tuple(p.shape)} but {kg!r} '
                             f'{tuple(g.shape)}.')
        return p, g

    @torch.no_grad()
    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            p, g = self._pair(s)
            rec = dict(index=self.sample_index(s))
            if 'L1' in self.metrics:
                rec['L1'] = float(l1_error(p[None], g[None])[0])
            if 'PSNR' in self.metrics:
                rec['PSNR'] = float(psnr(p[None], g[None], data_range=2.0)[0])
            if 'SSIM' in self.metrics:
                rec['SSIM'] = float(ssim((p + 1) / 2, (g + 1) / 2, data_range=1.0))
            self.results.append(rec)

    def summarize(self, results: list) -> dict:
        out = {}
        for m in self.metrics:
            values = [r[m] for r in results]
            mean = math.fsum(values) / len(values)
            out[f'{self.tag}/{m}' if self.tag else m] = mean
        return out
