"""Common base of facedisentangle's metrics: reading the per-sample dicts of ``val_step``.

A model's ``val_step`` / ``test_step`` returns one dict per sample; images are float tensors
(3, H, W) in [-1, 1]. Per-component outputs use prefixed keys (``eye1/pred``); a metric built
with ``prefix='eye1'`` reads ``eye1/<key>`` for its image keys (``prefix_keys=True``) and
reports ``eye1/<name>``. ``index_key`` (never prefixed) is the sample's data set index; it is
used to check that no sample is counted twice across processes (see ``running_moments``).

Padding of distributed samplers: results are kept per sample in ``self.results`` and
MMEngine's ``BaseMetric.evaluate(size)`` interleaves the processes' lists and cuts them to the
data set size, dropping ``DefaultSampler``'s padded duplicates; ``compute_metrics`` then checks
that the remaining indices are unique. Metrics that keep running sums (``FID``) override
``evaluate`` with the same rule (``running_moments.kept_last_samples``).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Sequence

import torch
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric

from ..running_moments import check_unique


class SampleMetric(BaseMetric):
    """Base class: prefixed key look-up, image checks, per-sample index bookkeeping.

    Args:
        prefix: component prefix (``'eye1'``) of the image keys and of the reported names.
        prefix_keys: read image keys as ``{prefix}/{key}``; False applies the prefix to the
            reported names only.
        index_key: key of the sample's data set index (None: use the position the
            ``DefaultSampler`` gives, ``rank + k * world_size``).
        collect_device, collect_dir: as in MMEngine's ``BaseMetric``.
    """

    default_prefix = ''   # no prefix unless configured (and no MMEngine warning about it)

    def __init__(self, prefix: str | None = None, prefix_keys: bool = True,
                 index_key: str | None = 'index', collect_device: str = 'cpu',
                 collect_dir: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.prefix_keys = prefix_keys
        self.index_key = index_key
        self._num_seen = 0

    # ----------------------------------------------------------------------------- keys
    def key(self, name: str) -> str:
        """The sample key actually read for image key ``name``."""
        if self.prefix and self.prefix_keys:
            return f'{self.prefix}/{name}'
        return name

    def _name(self) -> str:
        return type(self).__name__ + (f"(prefix='{self.prefix}')" if self.prefix else '')

    def get(self, sample: dict, key: str) -> Any:
        """``sample[key]``, or a KeyError naming the key and the keys the sample has."""
        try:
            return sample[key]
        except (KeyError, TypeError):
            keys = sorted(sample.keys()) if hasattr(sample, 'keys') else type(sample).__name__
            raise KeyError(f'{self._name()}: the sample has no key {key!r}; it has {keys}. '
                           'Set the metric\'s *_key arguments to what val_step returns.') from None

    def get_tensor(self, sample: dict, key: str) -> torch.Tensor:
        value = self.get(sample, key)
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'{self._name()}: sample[{key!r}] is a {type(value).__name__}, '
                            'expected a torch.Tensor.')
        return value.detach()

    def get_image(self, sample: dict, key: str, tol: float = 1e-3) -> torch.Tensor:
        """A float image (3, H, W) in [-1, 1] (checked), on CPU."""
        img = self.get_tensor(sample, key)
        if img.dim() != 3 or img.shape[0] != 3:
            raise ValueError(f'{self._name()}: sample[{key!r}] has shape {tuple(img.shape)}, '
                             'expected an RGB image (3, H, W).')
        if not img.is_floating_point():
            raise TypeError(f'{self._name()}: sample[{key!r}] has dtype {img.dtype}, expected a '
                            'float image in [-1, 1].')
        lo, hi = float(img.min()), float(img.max())
        if lo < -1 - tol or hi > 1 + tol or img.isnan().any():
            raise ValueError(f'{self._name()}: sample[{key!r}] has values in [{lo:.4g}, '
                             f'{hi:.4g}], expected [-1, 1] (images in [0, 255]?).')
        return img.cpu()

    def stack_images(self, samples: Sequence[dict], key: str) -> torch.Tensor:
        imgs = [self.get_image(s, key) for s in samples]
        shapes = {tuple(i.shape) for i in imgs}
        if len(shapes) > 1:
            raise ValueError(f'{self._name()}: images {key!r} of one batch have different '
                             f'shapes {sorted(shapes)}.')
        return torch.stack(imgs)

    # --------------------------------------------------------------------------- indices
    def sample_index(self, sample: dict) -> int:
        """The sample's data set index (``index_key``), else its DefaultSampler position."""
        rank, world = get_dist_info()
        pos = rank + self._num_seen * world
        self._num_seen += 1
        if self.index_key is not None and hasattr(sample, 'keys') and self.index_key in sample:
            value = sample[self.index_key]
            try:
                return int(value)
            except (TypeError, ValueError):
                raise TypeError(f'{self._name()}: sample[{self.index_key!r}] = {value!r} is not '
                                'an integer index.') from None
        return pos

    def evaluate(self, size: int) -> dict:
        try:
            return super().evaluate(size)
        finally:
            self._num_seen = 0

    def compute_metrics(self, results: list) -> dict:
        check_unique([r['index'] for r in results], self._name())
        return self.summarize(results)

    @abstractmethod
    def summarize(self, results: list) -> dict:
        """Metrics from the per-sample results of the whole data set (padding removed)."""
