"""Pixel L1 reconstruction loss (sketch auto-encoder, self-reconstruction)."""
from __future__ import annotations

from facedisentangle.registry import LOSSES

from .pixel_l1_loss import PixelL1Loss


@LOSSES.register_module()
class ReconstructionLoss(PixelL1Loss):
    """Pixel L1 between a reconstruction and its original.

    Stage 1 (sketch auto-encoder, per component)::

        L_rec_sketch = || D_s(E_s(S)) - S ||_1

    Stage 3 (self-reconstruction, I1 = I2 = I), the pixel term of the "three terms"::

        L_rec = || G(E_I(I), E_A(I)) - I ||_1 = || I_rec - I ||_1

    ``||.||_1`` is the mean absolute difference over all elements (``reduction='mean'``), as
    pix2pixHD's ``nn.L1Loss``; the result is multiplied by ``loss_weight`` (lambda_L1). With a
    weight map ``w`` (``forward(pred, target, weight)``) it is ``mean_p w(p) |I_rec(p) - I(p)|``;
    stage 3 passes the region weights of I1's label map when the model has
    ``region_weights`` (ours, off by default; see :class:`PixelL1Loss`).

    Args:
        loss_weight: lambda_L1 (default 1).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'`` (element-wise map).
        loss_name: logging key the model uses (default ``loss_rec``).
    """

    DEFAULT_NAME = 'loss_rec'
