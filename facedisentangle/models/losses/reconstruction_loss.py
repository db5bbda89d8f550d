"""Pixel L1 reconstruction loss (sketch auto-encoder, self-reconstruction)."""
from __future__ import annotations

import torch
from torch import nn

from facedisentangle.registry import LOSSES

from .utils import (
    check_loss_name,
    check_reduction,
    check_region_weights,
    check_same_shape,
    check_weight,
    weighted_l1,
)


@LOSSES.register_module()
class ReconstructionLoss(nn.Module):
    """Pixel L1 between a reconstruction and its original.

    Stage 1 (sketch auto-encoder, per component)::

        L_rec_sketch = || D_s(E_s(S)) - S ||_1

    Stage 3 (self-reconstruction, I1 = I2 = I), the pixel term of the "three terms"::

        L_rec = || G(E_I(I), E_A(I)) - I ||_1 = || I_rec - I ||_1

    ``||.||_1`` is the mean absolute difference over all elements (``reduction='mean'``), as
    pix2pixHD's ``nn.L1Loss``; the result is multiplied by ``loss_weight`` (lambda_L1).

    Region weights (ours, not in the paper; off by default): with ``region_weights`` each
    pixel's difference is multiplied by the weight of its region in the target's label map,
    ``mean_p w(L(p)) |I_rec(p) - I(p)|`` (w = 1 outside the listed regions), e.g.
    ``[dict(labels=[5], weight=10.0)]`` for the irises of the synthetic faces, a few dozen
    pixels of an eye crop whose colour a plain L1 barely asks for. The model then passes the
    label map of the target (the data set needs ``load_labels=True``).

    Args:
        loss_weight: lambda_L1 (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (element-wise map).
        loss_name: logging key the model uses (default ``loss_rec``).
        region_weights: ``[dict(labels=[...], weight=w), ...]`` or None (default).
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean',
                 loss_name: str = 'loss_rec', region_weights: list | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.reduction = check_reduction(reduction, name, ('mean', 'sum', 'none'))
        self.loss_name = check_loss_name(loss_name, name)
        self.region_weights = check_region_weights(region_weights, name)

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                label: torch.Tensor | None = None) -> torch.Tensor:
        """``pred``: the reconstruction (D_s(E_s(S)) or I_rec); ``target``: S or I, same shape;
        ``label``: the target's label map ``(B, H, W)``, needed with ``region_weights`` only.

        Gradients flow into both arguments; pass a data tensor as ``target``.
        """
        name = type(self).__name__
        check_same_shape(pred, target, 'pred and target', name)
        return weighted_l1(pred, target, self.reduction, self.region_weights, label,
                           name) * self.loss_weight

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, reduction={self.reduction!r}, '
                f'loss_name={self.loss_name!r}, region_weights={self.region_weights}')
