"""Fréchet Inception Distance (FID; Heusel et al., NeurIPS 2017).

    FID = ||mu_r - mu_g||^2 + Tr(S_r) + Tr(S_g) - 2 Tr((S_r S_g)^{1/2})

with (mu, S) the mean and covariance of the 2048-d pool3 features of pytorch-fid's Inception
for the real images (r) and the generated images (g). Lower is better.
"""
from __future__ import annotations

import logging

import numpy as np
from mmengine.dist import broadcast_object_list, collect_results, get_dist_info, is_main_process
from mmengine.logging import print_log

from facedisentangle.registry import METRICS

from ..functional.frechet_distance import frechet_distance
from ..running_moments import HeldBackMoments, RunningMoments, check_unique, kept_last_samples
from .inception_features import InceptionFeatureMetric


@METRICS.register_module()
class FID(InceptionFeatureMetric):
    """FID between the images ``pred_key`` and the real set (``gt_key`` or cached statistics).

    Measures: the Fréchet distance between Gaussians fitted to the Inception pool3 features
    (2048-d, pytorch-fid's ``InceptionV3([3])``, images resized to 299x299, quantised to 8 bits
    by default) of the generated and of the real images. Reported as ``FID`` (``eye1/FID``
    with ``prefix='eye1'``).

    Features are accumulated as float64 running sums (sum, sum of outer products, count), so
    memory does not grow with the number of images; each process holds its last sample apart
    so a sample padded in by ``DefaultSampler(round_up=True)`` is left out (every sample counts
    once with any number of processes). The real set's mean and covariance are cached in an
    ``.npz`` keyed by ``reference`` and reused across runs (see ``InceptionFeatureMetric`` for
    the arguments).
    """

    cache_kind = 'fid'

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._reset()

    def _reset(self) -> None:
        self._fake = HeldBackMoments()
        self._real = HeldBackMoments()
        self._indices: list[int] = []
        self._num_seen = 0
        self.forget_reference()

    def process(self, data_batch, data_samples) -> None:
        samples = list(data_samples)
        if not samples:
            return
        self._fake.add(self.features(samples, self.pred_key))
        if self.reference() is None:
            self._real.add(self.features(samples, self.gt_key))
        self._indices.extend(self.sample_index(s) for s in samples)

    def _state(self) -> dict:
        return dict(count=len(self._indices), indices=self._indices, fake=self._fake,
                    real=self._real if self.reference() is None else None)

    def evaluate(self, size: int) -> dict:
        """Gather every process's running sums, drop padded samples, compute FID on rank 0."""
        _, world = get_dist_info()
        if self.collect_device == 'cpu':
            states = collect_results([self._state()], world, 'cpu', tmpdir=self.collect_dir)
        else:
            states = collect_results([self._state()], world, self.collect_device)
        metrics = [None]
        if is_main_process():
            result = self.compute_metrics(states, size)
            metrics = [{f'{self.prefix}/{k}' if self.prefix else k: v for k, v in result.items()}]
        broadcast_object_list(metrics)
        self._reset()
        return metrics[0]

    def compute_metrics(self, results: list[dict], size: int | None = None) -> dict:
        return self.summarize(results, size)

    def summarize(self, results: list[dict], size: int | None = None) -> dict:
        """FID from the processes' states (``size``: data set size, to drop padding)."""
        counts = [s['count'] for s in results]
        keep = kept_last_samples(counts, sum(counts) if size is None else size)
        check_unique([i for s, k in zip(results, keep)
                      for i in (s['indices'] if k else s['indices'][:-1])], self._name())
        fake = RunningMoments()
        for s, k in zip(results, keep):
            fake.merge(s['fake'].result(k))
        if fake.count < 2:
            raise ValueError(f'{self._name()}: FID needs at least 2 images, got {fake.count}.')
        mu_g, sigma_g = fake.mean_cov()

        ref = self.reference()
        if ref is not None:
            for k in ('mu', 'sigma'):
                if k not in ref:
                    src = self.reference_stats or self.cache.path
                    raise KeyError(f'{self._name()}: reference statistics {str(src)!r} have no '
                                   f'{k!r} array (it has {sorted(ref)}).')
            mu_r, sigma_r = ref['mu'], ref['sigma']
            if 'count' in ref and int(ref['count']) != fake.count:
                print_log(f'{self._name()}: the cached real statistics are of {int(ref["count"])}'
                          f' images, this evaluation has {fake.count}; if the data set changed, '
                          'change `reference` or delete the cache file '
                          f'{self.cache.path if self.cache else self.reference_stats}.',
                          logger='current', level=logging.WARNING)
        else:
            if any(s['real'] is None for s in results):
                raise RuntimeError(f'{self._name()}: some processes found the reference cache and '
                                   'others did not; cache_dir must be shared by all processes.')
            real = RunningMoments()
            for s, k in zip(results, keep):
                real.merge(s['real'].result(k))
            mu_r, sigma_r = real.mean_cov()
            if self.cache is not None:
                self.cache.save(mu=mu_r, sigma=sigma_r, count=np.array(real.count))
        return {'FID': frechet_distance(mu_g, sigma_g, mu_r, sigma_r)}
