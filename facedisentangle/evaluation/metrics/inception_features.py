"""Shared part of FID and KID: Inception features of predicted and real images, and the cache.

Images (3, H, W) in [-1, 1] are mapped to [0, 1], optionally quantised to 8 bits as if saved
to PNG (``quantize=True``, the default, so numbers match FID computed from image files), and
fed to the FID Inception (pytorch-fid's ``InceptionV3([3])``; it resizes to 299x299), giving
2048-d pool3 features in float64.

The real set's statistics come from, in this order: ``reference_stats`` (an ``.npz`` with
``mu`` and ``sigma`` for FID, as pytorch-fid's ``--save-stats`` writes, or ``features`` for
KID); the cache file keyed by ``reference`` (see ``reference_cache``); otherwise the
``gt_key`` images of the evaluated samples, whose statistics are then written to the cache
(when ``reference`` is given) for the next run.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from ..networks.fid_inception import FID_FEATURE_NAME, build_fid_inception, find_fid_inception
from ..reference_cache import ReferenceCache
from .base import SampleMetric


class InceptionFeatureMetric(SampleMetric):
    """Base of FID and KID (see module doc).

    Args:
        pred_key: key of the generated image.
        gt_key: key of the real image (read only when real statistics must be computed).
        inception_path: explicit ``pt_inception-2015-12-05-6726825d.pth`` (file or folder);
            default: the torch hub cache.
        reference: dict naming the real set for the statistics cache, e.g.
            ``dict(source='data/faces-512.h5', split='test', resolution=512)``; None: no cache.
        reference_stats: explicit ``.npz`` of precomputed real statistics.
        cache_dir: folder of the cache files.
        quantize: round images to 8 bits before the network.
        device: where the network runs (``'cpu'``, ``'cuda'``).
        feature_extractor: replaces the Inception by another module mapping (N, 3, H, W) in
            [0, 1] to (N, D) (tests and research only: the number is then not FID/KID);
            needs ``feature_extractor_name`` (part of the cache key).
    """

    cache_kind = ''

    def __init__(self, pred_key: str = 'pred', gt_key: str = 'gt',
                 inception_path: str | os.PathLike | None = None,
                 reference: dict | None = None, reference_stats: str | None = None,
                 cache_dir: str | None = None, quantize: bool = True, device: str = 'cpu',
                 feature_extractor: torch.nn.Module | None = None,
                 feature_extractor_name: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_key, self.gt_key = pred_key, gt_key
        self.inception_path = inception_path
        self.quantize = quantize
        self.device = device
        self.reference_stats = reference_stats
        if reference_stats is not None and not os.path.isfile(reference_stats):
            raise FileNotFoundError(f'{self._name()}: reference_stats file {reference_stats!r} '
                                    'does not exist.')
        if feature_extractor is not None:
            if not feature_extractor_name:
                raise ValueError(f'{self._name()}: a custom feature_extractor needs a '
                                 'feature_extractor_name (it is part of the cache key).')
            self._extractor = feature_extractor
            self.feature_name = feature_extractor_name
        else:
            find_fid_inception(inception_path)   # fail now, not after an epoch, if missing
            self._extractor = None
            self.feature_name = FID_FEATURE_NAME
        self.cache = None
        if reference is not None and reference_stats is None:
            self.cache = ReferenceCache(self.cache_kind, reference, self.cache_metric_key(),
                                        cache_dir)
        self._reference: dict | None = None
        self._reference_loaded = False

    def cache_metric_key(self) -> dict:
        """What this metric adds to the cache key (subclasses extend it)."""
        return dict(features=self.feature_name, image_key=self.key(self.gt_key),
                    quantize=self.quantize)

    @property
    def extractor(self) -> torch.nn.Module:
        if self._extractor is None:
            self._extractor = build_fid_inception(self.inception_path, self.device)
        return self._extractor

    def reference(self) -> dict | None:
        """Real statistics from ``reference_stats`` or the cache (None: compute them)."""
        if not self._reference_loaded:
            if self.reference_stats is not None:
                with np.load(self.reference_stats, allow_pickle=False) as z:
                    self._reference = {k: z[k] for k in z.files}
            elif self.cache is not None:
                self._reference = self.cache.load()
            self._reference_loaded = True
        return self._reference

    def forget_reference(self) -> None:
        """Re-read the reference statistics at the next use (the cache may have been written)."""
        self._reference, self._reference_loaded = None, False

    def evaluate(self, size: int) -> dict:
        try:
            return super().evaluate(size)
        finally:
            self.forget_reference()

    @torch.no_grad()
    def features(self, samples, key: str) -> np.ndarray:
        """Features (B, D) float64 of the images ``key`` of a batch of samples."""
        x = (self.stack_images(samples, self.key(key)) + 1) / 2
        x = x.clamp(0, 1)
        if self.quantize:
            x = torch.round(x * 255) / 255
        net = self.extractor
        param = next(net.parameters(), None)
        f = net(x.to(param.device if param is not None else self.device))
        if f.dim() != 2 or f.shape[0] != x.shape[0]:
            raise ValueError(f'{self._name()}: the feature extractor returned shape '
                             f'{tuple(f.shape)}, expected ({x.shape[0]}, D).')
        return f.double().cpu().numpy()
