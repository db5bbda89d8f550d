"""Discriminator feature matching (pix2pixHD)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from facedisentangle.registry import LOSSES

from .utils import check_loss_name, check_weight


@LOSSES.register_module()
class FeatureMatchingLoss(nn.Module):
    """pix2pixHD's discriminator feature-matching loss L_FM::

        L_FM = lambda_FM * sum_{k=1..num_D} sum_{i=1..n_layers+1}
               (4 / (n_layers + 1)) * (1 / num_D) * || D_k^i(fake) - D_k^i(real).detach() ||_1

    where ``D_k^i`` is the i-th intermediate feature of the discriminator at scale k (the final
    prediction, the last element of every scale's list, is excluded) and ``||.||_1`` is the
    mean absolute difference. The real features are detached: the gradient reaches only the
    generator through the fake branch. Used for self-reconstruction (``I_rec`` vs I), for the
    cycle (``I_cycle`` vs I2) and in the Global Fusion stage.

    Args:
        num_D: number of discriminator scales; None (default) infers it from the input
            (pix2pixHD: 3). When given it must match the input.
        n_layers: strided layers per discriminator (each scale returns ``n_layers + 1``
            features plus the prediction); None (default) infers it (pix2pixHD: 3). When given
            it must match the input.
        loss_weight: lambda_FM (default 10, pix2pixHD's ``lambda_feat``).
        loss_name: logging key (default ``loss_feat``).
    """

    def __init__(self, num_D: int | None = None, n_layers: int | None = None,
                 loss_weight: float = 10.0, loss_name: str = 'loss_feat') -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (('num_D', num_D), ('n_layers', n_layers)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'{name}: {key}={value!r} must be a positive int or None.')
        self.num_D = num_D
        self.n_layers = n_layers
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.loss_name = check_loss_name(loss_name, name)

    def _check(self, pred_fake, pred_real) -> None:
        name = type(self).__name__
        for what, pred in (('pred_fake', pred_fake), ('pred_real', pred_real)):
            if (not isinstance(pred, Sequence) or len(pred) == 0
                    or not all(isinstance(s, Sequence) for s in pred)):
                raise TypeError(f'{name}: {what} must be a non-empty list (one entry per '
                                'discriminator scale) of lists of features ending with the '
                                'prediction (a discriminator returning intermediate features).')
        if len(pred_fake) != len(pred_real):
            raise ValueError(f'{name}: pred_fake has {len(pred_fake)} scales, pred_real has '
                             f'{len(pred_real)}.')
        if self.num_D is not None and len(pred_fake) != self.num_D:
            raise ValueError(f'{name}: num_D={self.num_D} but the discriminator output has '
                             f'{len(pred_fake)} scales.')
        for k, (fake, real) in enumerate(zip(pred_fake, pred_real)):
            if len(fake) != len(real):
                raise ValueError(f'{name}: scale {k} has {len(fake)} fake and {len(real)} real '
                                 'outputs.')
            if len(fake) < 2:
                raise ValueError(f'{name}: scale {k} has no intermediate features (only '
                                 f'{len(fake)} output); build the discriminator so that it '
                                 'returns its intermediate features.')
            if self.n_layers is not None and len(fake) - 1 != self.n_layers + 1:
                raise ValueError(f'{name}: n_layers={self.n_layers} expects '
                                 f'{self.n_layers + 1} features per scale, scale {k} has '
                                 f'{len(fake) - 1} (plus the prediction).')

    def forward(self, pred_fake: Sequence[Sequence[torch.Tensor]],
                pred_real: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
        """``pred_fake = D(fake)``, ``pred_real = D(real)``: lists per scale of lists of
        features, the last element of each being the prediction. Returns the weighted scalar.
        """
        self._check(pred_fake, pred_real)
        num_D = len(pred_fake)
        loss = pred_fake[0][0].new_zeros(())
        for k, (fake, real) in enumerate(zip(pred_fake, pred_real)):
            n_feats = len(fake) - 1  # = n_layers + 1
            w = (4.0 / n_feats) * (1.0 / num_D)
            for i in range(n_feats):
                if fake[i].shape != real[i].shape:
                    raise ValueError(f'{type(self).__name__}: feature {i} of scale {k} has shape '
                                     f'{tuple(fake[i].shape)} (fake) vs {tuple(real[i].shape)} '
                                     '(real).')
                loss = loss + w * F.l1_loss(fake[i], real[i].detach())
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return (f'num_D={self.num_D}, n_layers={self.n_layers}, loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
