"""The pixel L1 the reconstruction and cycle terms share, with an optional weight map."""
from __future__ import annotations

import torch
from torch import nn

from .utils import check_loss_name, check_reduction, check_same_shape, check_weight


class PixelL1Loss(nn.Module):
    """Pixel L1 between an image and its target, each element optionally weighted::

        L = lambda * mean_p w(p) |pred(p) - target(p)|        (w = 1 without a weight map)

    ``mean`` runs over every element (``reduction='mean'``, as pix2pixHD's ``nn.L1Loss``; so a
    weight map of ones gives the plain L1), ``sum`` sums them and ``none`` returns the
    element-wise map. The weight map ``w`` is given per call by the model (e.g. the region
    weights of a label map, :func:`~facedisentangle.models.losses.utils.region_weight_map`),
    any shape that broadcasts to the images'. The paper's pixel terms are the named subclasses
    :class:`ReconstructionLoss` and :class:`CycleConsistencyLoss`.

    Args:
        loss_weight: lambda (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        loss_name: logging key the model uses (the subclasses' defaults).
        region_weights: no longer an argument of the loss; it raises and names the model's
            argument (``LocalDisentanglement(region_weights=...)``) that replaced it.
    """

    DEFAULT_NAME = 'loss_l1'

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean',
                 loss_name: str | None = None, region_weights: list | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if region_weights is not None:
            raise ValueError(f'{name}: region_weights is an argument of the model now: set '
                             'model.region_weights=[dict(labels=[...], weight=w), ...] '
                             '(LocalDisentanglement weighs loss_rec by I1\'s label map and '
                             'loss_cycle by I2\'s) and drop it from the loss config.')
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.reduction = check_reduction(reduction, name, ('mean', 'sum', 'none'))
        self.loss_name = check_loss_name(self.DEFAULT_NAME if loss_name is None else loss_name,
                                         name)

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        """``pred`` and ``target`` of the same shape; ``weight`` (optional) broadcasts to it.

        Gradients flow into both images; pass a data tensor as ``target``.
        """
        name = type(self).__name__
        check_same_shape(pred, target, 'pred and target', name)
        if weight is None:
            loss = nn.functional.l1_loss(pred, target, reduction=self.reduction)
        else:
            if not isinstance(weight, torch.Tensor):
                raise TypeError(f'{name}: weight must be a tensor, got {type(weight).__name__}.')
            try:
                shape = torch.broadcast_shapes(weight.shape, pred.shape)
            except RuntimeError:
                shape = None
            if shape != pred.shape:
                raise ValueError(f'{name}: the weight map {tuple(weight.shape)} does not '
                                 f'broadcast to the images {tuple(pred.shape)}.')
            loss = (pred - target).abs() * weight
            if self.reduction != 'none':
                loss = loss.mean() if self.reduction == 'mean' else loss.sum()
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, reduction={self.reduction!r}, '
                f'loss_name={self.loss_name!r}')
