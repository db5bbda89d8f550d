"""L_Geo: the geometry of I1 survives the appearance swap."""
from __future__ import annotations

import torch
from torch import nn

from facedisentangle.registry import LOSSES

from .utils import check_loss_name, check_reduction, check_same_shape, check_weight, l1


@LOSSES.register_module()
class GeometryConsistencyLoss(nn.Module):
    """Geometry consistency L_Geo of cyclic swapping (stage 3, I1 != I2)::

        I_mix = G(E_I(I1), E_A(I2))
        L_Geo = || E_I(I_mix) - E_I(I1) ||_1

    computed on the geometry codes (spatial maps from the frozen E_I), mean absolute difference
    (``reduction='mean'``), times ``loss_weight`` (lambda_Geo, default 1). The gradient reaches
    the generator and appearance encoder through ``E_I(I_mix)``; the reference code ``E_I(I1)``
    is detached (``detach_target=True``) since E_I is frozen in this stage.

    Args:
        loss_weight: lambda_Geo (default 1).
        reduction: ``'mean'`` (default) or ``'sum'``.
        detach_target: detach ``E_I(I1)`` (default True).
        loss_name: logging key (default ``loss_geo``).
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean',
                 detach_target: bool = True, loss_name: str = 'loss_geo') -> None:
        super().__init__()
        name = type(self).__name__
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.reduction = check_reduction(reduction, name)
        self.detach_target = bool(detach_target)
        self.loss_name = check_loss_name(loss_name, name)

    def forward(self, code_mix: torch.Tensor, code_ref: torch.Tensor) -> torch.Tensor:
        """``code_mix``: ``E_I(I_mix)``; ``code_ref``: ``E_I(I1)``, same shape."""
        check_same_shape(code_mix, code_ref, 'code_mix and code_ref', type(self).__name__)
        if self.detach_target:
            code_ref = code_ref.detach()
        return l1(code_mix, code_ref, self.reduction) * self.loss_weight

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, reduction={self.reduction!r}, '
                f'detach_target={self.detach_target}, loss_name={self.loss_name!r}')
