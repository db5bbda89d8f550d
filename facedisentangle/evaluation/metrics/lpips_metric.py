"""LPIPS (Zhang, Isola, Efros, Shechtman, Wang, CVPR 2018) between predicted and true images.

    LPIPS(x, y) = sum_l 1/(H_l W_l) sum_{h,w} || w_l * (f_l(x)_{hw} - f_l(y)_{hw}) ||_2^2

with f_l the unit-normalised activations of layer l of an ImageNet network (AlexNet by
default, VGG16 selectable) and w_l the learned linear heads of the ``lpips`` package (v0.1).
"""
from __future__ import annotations

import os

import torch

from facedisentangle.registry import METRICS

from ..networks.lpips_network import (
    build_lpips,
    check_lpips_size,
    find_lpips_backbone,
    warn_random_backbones,
)
from .base import SampleMetric


def lpips_metric_name(net: str, random_backbones: bool) -> str:
    """``LPIPS`` (alex), ``LPIPS-vgg``; with ``(random)`` appended for random backbones."""
    return ('LPIPS' if net == 'alex' else f'LPIPS-{net}') + ('(random)' if random_backbones
                                                              else '')


@METRICS.register_module()
class LPIPS(SampleMetric):
    """Mean LPIPS distance between ``pred_key`` and ``gt_key`` images (lower is better).

    Measures: the ``lpips`` package's LPIPS v0.1 (``net='alex'`` default, ``'vgg'``) of each
    pair of images in [-1, 1], averaged over samples. Reported as ``LPIPS`` (``LPIPS-vgg``).
    Offline: the ImageNet backbone is torchvision's ``alexnet-owt-7be5be79.pth`` /
    ``vgg16-397923af.pth`` from ``backbone_path`` or ``$TORCH_HOME/hub/checkpoints``; a
    missing file raises ``FileNotFoundError``. ``random_backbones=True`` (smoke tests only)
    uses a random backbone, warns, and reports ``LPIPS(random)``.

    Args:
        pred_key, gt_key: keys of the two images.
        net: ``'alex'`` or ``'vgg'``.
        backbone_path: explicit backbone weights file (or folder).
        random_backbones: random backbone (see above).
        device: where the network runs.
        Others: see ``SampleMetric`` (``prefix``, ``index_key``, ...).
    """

    def __init__(self, pred_key: str = 'pred', gt_key: str = 'gt', net: str = 'alex',
                 backbone_path: str | os.PathLike | None = None, random_backbones: bool = False,
                 device: str = 'cpu', **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_key, self.gt_key = pred_key, gt_key
        self.net, self.backbone_path = net, backbone_path
        self.random_backbones, self.device = random_backbones, device
        if random_backbones:
            warn_random_backbones(net)
        else:
            find_lpips_backbone(net, backbone_path)   # fail at build time if missing
        self.metric_name = lpips_metric_name(net, random_backbones)
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = build_lpips(self.net, self.backbone_path, self.random_backbones,
                                      self.device)
        return self._model

    @torch.no_grad()
    def process(self, data_batch, data_samples) -> None:
        samples = list(data_samples)
        if not samples:
            return
        pred = self.stack_images(samples, self.key(self.pred_key))
        gt = self.stack_images(samples, self.key(self.gt_key))
        if pred.shape != gt.shape:
            raise ValueError(f'{self._name()}: {self.key(self.pred_key)!r} has shape '
                             f'{tuple(pred.shape[1:])} but {self.key(self.gt_key)!r} '
                             f'{tuple(gt.shape[1:])}.')
        check_lpips_size(self.net, pred.shape, f'image {self.key(self.pred_key)!r}')
        d = self.model(pred.to(self.device), gt.to(self.device)).flatten().double().cpu()
        for s, v in zip(samples, d.tolist()):
            self.results.append(dict(index=self.sample_index(s), value=v))

    def summarize(self, results: list) -> dict:
        return {self.metric_name: sum(r['value'] for r in results) / len(results)}
