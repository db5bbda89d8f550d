"""Kernel Inception Distance (KID; Bińkowski et al., ICLR 2018).

    KID = MMD^2_u(real, generated) with k(x, y) = (x . y / d + 1)^3

on the 2048-d pool3 features of pytorch-fid's Inception, averaged over random subsets (see
``functional.kernel_inception_distance``). Lower is better; unbiased, so it can be < 0.
"""
from __future__ import annotations

import numpy as np

from facedisentangle.registry import METRICS

from ..functional.kernel_inception_distance import kernel_inception_distance
from .inception_features import InceptionFeatureMetric


@METRICS.register_module()
class KID(InceptionFeatureMetric):
    """KID between the images ``pred_key`` and the real set; reports ``KID`` and ``KID_std``.

    Measures: the unbiased squared MMD with the cubic polynomial kernel between Inception
    features of generated and real images, mean (``KID``) and standard deviation (``KID_std``)
    over ``num_subsets`` subsets of ``subset_size`` images. Unlike FID it needs the features
    themselves: only samples with data set index < ``max_samples`` keep theirs (float32, 8 KB
    per image and set), so memory is bounded and the kept samples do not depend on the number
    of processes. Real features are cached like FID's statistics (``reference``). Other
    arguments: see ``InceptionFeatureMetric``.

    Args:
        num_subsets: subsets drawn (default 100).
        subset_size: images per subset (default 1000; lowered to the smaller set's size).
        max_samples: cap on the images whose features are kept, per set.
        seed: seed of the subset sampling.
    """

    cache_kind = 'kid'

    def __init__(self, num_subsets: int = 100, subset_size: int = 1000,
                 max_samples: int = 10000, seed: int = 0, **kwargs) -> None:
        self.num_subsets, self.subset_size = num_subsets, subset_size
        self.max_samples, self.seed = max_samples, seed
        if max_samples < 2:
            raise ValueError(f'KID: max_samples must be >= 2, got {max_samples}.')
        super().__init__(**kwargs)

    def cache_metric_key(self) -> dict:
        return dict(super().cache_metric_key(), max_samples=self.max_samples)

    def process(self, data_batch, data_samples) -> None:
        samples = list(data_samples)
        if not samples:
            return
        indices = [self.sample_index(s) for s in samples]
        keep = [i for i, idx in enumerate(indices) if idx < self.max_samples]
        kept = [samples[i] for i in keep]
        fake = self.features(kept, self.pred_key).astype(np.float32) if kept else None
        real = None
        if kept and self.reference() is None:
            real = self.features(kept, self.gt_key).astype(np.float32)
        row = {i: r for r, i in enumerate(keep)}
        for i, idx in enumerate(indices):
            r = row.get(i)
            self.results.append(dict(
                index=idx,
                fake=None if r is None else fake[r],
                real=None if r is None or real is None else real[r]))

    def summarize(self, results: list) -> dict:
        rows = sorted((r for r in results if r['fake'] is not None), key=lambda r: r['index'])
        fake = np.stack([r['fake'] for r in rows]) if rows else np.zeros((0, 0))
        ref = self.reference()
        if ref is not None:
            if 'features' not in ref:
                src = self.reference_stats or self.cache.path
                raise KeyError(f"{self._name()}: reference statistics {str(src)!r} have no "
                               f"'features' array (it has {sorted(ref)}).")
            real = ref['features']
        else:
            if any(r['real'] is None for r in rows):
                raise RuntimeError(f'{self._name()}: some processes found the reference cache and '
                                   'others did not; cache_dir must be shared by all processes.')
            real = np.stack([r['real'] for r in rows]) if rows else np.zeros((0, 0))
            if self.cache is not None and len(rows) >= 2:
                self.cache.save(features=real)
        mean, std = kernel_inception_distance(fake, real, self.num_subsets, self.subset_size,
                                              self.seed)
        return {'KID': mean, 'KID_std': std}
