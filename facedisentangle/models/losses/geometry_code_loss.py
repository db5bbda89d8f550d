"""Stage-2 loss: the image geometry encoder E_I imitates the frozen sketch encoder E_s."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from facedisentangle.registry import LOSSES

from .utils import check_loss_name, check_reduction, check_same_shape, check_weight, l1


@LOSSES.register_module()
class GeometryCodeLoss(nn.Module):
    """Geometry-code loss for training the image geometry encoder E_I (stage 2)::

        L_E_I = latent_weight * || E_I(I) - E_s(S) ||_1
                + sum_{i=1..N} tap_weights[i] * || D_s^i(E_I(I)) - D_s^i(E_s(S)) ||_1

    with E_s and D_s frozen (the targets ``E_s(S)`` and ``D_s^i(E_s(S))`` are detached here).
    D_s^i is the i-th feature tap of the sketch decoder; with the default decoder N = 7 (latent,
    after the res block, after each of the 4 up-samplings, output), so the latent appears both
    as the code term and as tap 1, as docs/method.md section 3 writes it. Each ``||.||_1`` is the mean
    absolute difference of that term (``reduction='mean'``), so every tap counts equally
    whatever its size. The sum is multiplied by ``loss_weight``.

    Args:
        latent_weight: weight of the code term (default 1).
        tap_weights: one weight for every tap (scalar, default 1) or a list with one weight per
            tap (its length must equal the number of taps passed to ``forward``).
        loss_weight: overall weight (default 1).
        reduction: ``'mean'`` (default) or ``'sum'`` within every term.
        loss_name: logging key (default ``loss_geo_code``).
    """

    def __init__(self, latent_weight: float = 1.0, tap_weights: float | Sequence[float] = 1.0,
                 loss_weight: float = 1.0, reduction: str = 'mean',
                 loss_name: str = 'loss_geo_code') -> None:
        super().__init__()
        name = type(self).__name__
        self.latent_weight = check_weight(latent_weight, 'latent_weight', name)
        if isinstance(tap_weights, Sequence) and not isinstance(tap_weights, str):
            self.tap_weights: float | list[float] = [
                check_weight(w, f'tap_weights[{i}]', name) for i, w in enumerate(tap_weights)]
        else:
            self.tap_weights = check_weight(tap_weights, 'tap_weights', name)
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.reduction = check_reduction(reduction, name)
        self.loss_name = check_loss_name(loss_name, name)

    def forward(self, code_pred: torch.Tensor, code_target: torch.Tensor,
                taps_pred: Sequence[torch.Tensor], taps_target: Sequence[torch.Tensor]
                ) -> torch.Tensor:
        """Args:
            code_pred: ``E_I(I)``, the image geometry code (N, C, h, w).
            code_target: ``E_s(S)``, same shape (detached here).
            taps_pred: ``[D_s^1(E_I(I)), ..., D_s^N(E_I(I))]``.
            taps_target: ``[D_s^1(E_s(S)), ..., D_s^N(E_s(S))]`` (detached here).

        Returns the weighted scalar loss.
        """
        name = type(self).__name__
        check_same_shape(code_pred, code_target, 'code_pred and code_target', name)
        if len(taps_pred) != len(taps_target):
            raise ValueError(f'{name}: taps_pred has {len(taps_pred)} taps but taps_target has '
                             f'{len(taps_target)}.')
        if isinstance(self.tap_weights, list):
            if len(self.tap_weights) != len(taps_pred):
                raise ValueError(f'{name}: tap_weights has {len(self.tap_weights)} weights but '
                                 f'{len(taps_pred)} decoder taps were passed.')
            weights = self.tap_weights
        else:
            weights = [self.tap_weights] * len(taps_pred)
        loss = self.latent_weight * l1(code_pred, code_target.detach(), self.reduction)
        for i, (p, t, w) in enumerate(zip(taps_pred, taps_target, weights)):
            check_same_shape(p, t, f'taps_pred[{i}] and taps_target[{i}]', name)
            loss = loss + w * l1(p, t.detach(), self.reduction)
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return (f'latent_weight={self.latent_weight}, tap_weights={self.tap_weights}, '
                f'loss_weight={self.loss_weight}, loss_name={self.loss_name!r}')
