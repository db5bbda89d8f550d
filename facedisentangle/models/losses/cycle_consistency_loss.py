"""L_Cycle, pixel part: swapping the appearance back gives back I2."""
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
class CycleConsistencyLoss(nn.Module):
    """Cycle consistency L_Cycle of cyclic swapping (stage 3, I1 != I2), pixel term::

        I_mix   = G(E_I(I1), E_A(I2))
        I_cycle = G(E_I(I2), E_A(I_mix))
        L_Cycle_L1 = || I_cycle - I2 ||_1

    (mean absolute difference, times ``loss_weight``). The paper compares ``I_cycle`` with I2
    by "the same three terms" as self-reconstruction; this module is only the pixel L1 term. The
    model applies the other two itself, with the other loss modules on the same pair:
    :class:`FeatureMatchingLoss` on ``D(I_cycle)`` vs ``D(I2)`` and :class:`PerceptualLoss` on
    ``(I_cycle, I2)``, logged under their own names (e.g. ``loss_cycle_feat``,
    ``loss_cycle_vgg``).

    ``region_weights`` (ours, off by default) weighs each pixel by its region in I2's label map,
    as in :class:`ReconstructionLoss`.

    Args:
        loss_weight: lambda_L1 for the cycle (default 1).
        reduction: ``'mean'`` (default) or ``'sum'``.
        loss_name: logging key (default ``loss_cycle``).
        region_weights: ``[dict(labels=[...], weight=w), ...]`` or None (default).
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean',
                 loss_name: str = 'loss_cycle', region_weights: list | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.reduction = check_reduction(reduction, name)
        self.loss_name = check_loss_name(loss_name, name)
        self.region_weights = check_region_weights(region_weights, name)

    def forward(self, cycle: torch.Tensor, target: torch.Tensor,
                label: torch.Tensor | None = None) -> torch.Tensor:
        """``cycle``: ``G(E_I(I2), E_A(I_mix))``; ``target``: I2, same shape, in [-1, 1];
        ``label``: I2's label map ``(B, H, W)``, needed with ``region_weights`` only."""
        name = type(self).__name__
        check_same_shape(cycle, target, 'cycle and target', name)
        return weighted_l1(cycle, target, self.reduction, self.region_weights, label,
                           name) * self.loss_weight

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, reduction={self.reduction!r}, '
                f'loss_name={self.loss_name!r}, region_weights={self.region_weights}')
