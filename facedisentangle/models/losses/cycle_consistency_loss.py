"""L_Cycle, pixel part: swapping the appearance back gives back I2."""
from __future__ import annotations

from facedisentangle.registry import LOSSES

from .pixel_l1_loss import PixelL1Loss


@LOSSES.register_module()
class CycleConsistencyLoss(PixelL1Loss):
    """Cycle consistency L_Cycle of cyclic swapping (stage 3, I1 != I2), pixel term::

        I_mix   = G(E_I(I1), E_A(I2))
        I_cycle = G(E_I(I2), E_A(I_mix))
        L_Cycle_L1 = || I_cycle - I2 ||_1

    (mean absolute difference, times ``loss_weight``). The paper compares ``I_cycle`` with I2
    by "the same three terms" as self-reconstruction; this module is only the pixel L1 term. The
    model applies the other two itself, with the other loss modules on the same pair:
    :class:`FeatureMatchingLoss` on ``D(I_cycle)`` vs ``D(I2)`` and :class:`PerceptualLoss` on
    ``(I_cycle, I2)``, logged under their own names (e.g. ``loss_cycle_feat``,
    ``loss_cycle_vgg``). With the model's ``region_weights`` (ours, off by default) it passes the
    weight map of I2's label map, ``mean_p w(p) |I_cycle(p) - I2(p)|`` (see
    :class:`PixelL1Loss`).

    Args:
        loss_weight: lambda_L1 for the cycle (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        loss_name: logging key (default ``loss_cycle``).
    """

    DEFAULT_NAME = 'loss_cycle'
