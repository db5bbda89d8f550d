"""Adversarial loss (LSGAN, hinge or vanilla) on a single or multi-scale discriminator."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from facedisentangle.registry import LOSSES

from .utils import check_choice, check_loss_name, check_weight

GAN_TYPES = ('lsgan', 'hinge', 'vanilla')
SCALE_REDUCTIONS = ('mean', 'sum')


@LOSSES.register_module()
class GANLoss(nn.Module):
    """Adversarial loss L_GAN on the discriminator's predictions ``p = D(x)``.

    Per discriminator scale, with labels ``r = real_label`` and ``f = fake_label``:

    - ``lsgan`` (default (ours), as the authors' DeepFaceDrawing code)::

          D side: mean((p_real - r)^2) and mean((p_fake - f)^2), one call each
          G side: mean((D(G(.)) - r)^2)

    - ``vanilla`` (non-saturating, on logits)::

          BCEWithLogits(p, r) for real targets, BCEWithLogits(p, f) for fake targets

    - ``hinge``::

          D side: mean(relu(1 - p_real)) and mean(relu(1 + p_fake))
          G side: -mean(D(G(.)))             (labels are not used)

    A multi-scale discriminator returns a list with one entry per scale, each entry a list of
    features whose last element is the prediction (pix2pixHD's ``getIntermFeat`` layout); the
    per-scale losses are **averaged** (``scale_reduction='mean'``, default (ours), so the value
    does not grow with the number of scales). pix2pixHD **sums** them: set
    ``scale_reduction='sum'`` to reproduce it. A single tensor, or a list with one tensor per
    scale, is accepted too.

    The generator side (``is_disc=False``) is multiplied by ``loss_weight`` (lambda_GAN), the
    discriminator side (``is_disc=True``) by ``disc_loss_weight``; pix2pixHD's discriminator
    objective is ``0.5 * (real + fake)``, which the model forms from the two calls.

    Args:
        gan_type: ``'lsgan'`` (default), ``'hinge'`` or ``'vanilla'``.
        real_label: target value for real (default 1.0); lsgan and vanilla only.
        fake_label: target value for fake (default 0.0); lsgan and vanilla only.
        loss_weight: lambda_GAN, generator side (default 1).
        disc_loss_weight: weight of the discriminator side (default 1).
        scale_reduction: ``'mean'`` (default) or ``'sum'`` over discriminator scales.
        loss_name: logging key of the generator side (default ``loss_gan``).
    """

    def __init__(self, gan_type: str = 'lsgan', real_label: float = 1.0, fake_label: float = 0.0,
                 loss_weight: float = 1.0, disc_loss_weight: float = 1.0,
                 scale_reduction: str = 'mean', loss_name: str = 'loss_gan') -> None:
        super().__init__()
        name = type(self).__name__
        self.gan_type = check_choice(gan_type, 'gan_type', GAN_TYPES, name)
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.disc_loss_weight = check_weight(disc_loss_weight, 'disc_loss_weight', name)
        self.scale_reduction = check_choice(scale_reduction, 'scale_reduction',
                                            SCALE_REDUCTIONS, name)
        self.loss_name = check_loss_name(loss_name, name)

    @staticmethod
    def predictions(pred) -> list[torch.Tensor]:
        """The prediction map of every scale: ``pred`` itself, or ``pred[k][-1]`` per scale."""
        if isinstance(pred, torch.Tensor):
            return [pred]
        if not isinstance(pred, Sequence) or len(pred) == 0:
            raise TypeError('GANLoss: pred must be a tensor or a non-empty list (one entry per '
                            f'discriminator scale), got {type(pred).__name__} {pred!r:.80}.')
        out = []
        for k, scale in enumerate(pred):
            if isinstance(scale, Sequence) and not isinstance(scale, torch.Tensor):
                if len(scale) == 0:
                    raise ValueError(f'GANLoss: pred[{k}] is an empty list.')
                scale = scale[-1]
            if not isinstance(scale, torch.Tensor):
                raise TypeError(f'GANLoss: the prediction of scale {k} is a '
                                f'{type(scale).__name__}, expected a tensor.')
            out.append(scale)
        return out

    def _one_scale(self, p: torch.Tensor, target_is_real: bool, is_disc: bool) -> torch.Tensor:
        if self.gan_type == 'hinge':
            if is_disc:
                return F.relu(1.0 - p).mean() if target_is_real else F.relu(1.0 + p).mean()
            if not target_is_real:
                raise ValueError('GANLoss: the hinge generator loss is -mean(D(fake)); call it '
                                 'with target_is_real=True (is_disc=False).')
            return -p.mean()
        label = torch.full_like(p, self.real_label if target_is_real else self.fake_label)
        if self.gan_type == 'lsgan':
            return F.mse_loss(p, label)
        return F.binary_cross_entropy_with_logits(p, label)

    def forward(self, pred, target_is_real: bool, is_disc: bool = False) -> torch.Tensor:
        """Args:
            pred: discriminator output (tensor, or list per scale of lists of features whose
                last element is the prediction, or list per scale of prediction tensors).
            target_is_real: whether ``pred`` should be judged real.
            is_disc: True when computing the discriminator's loss.

        Returns the weighted scalar loss.
        """
        losses = [self._one_scale(p, bool(target_is_real), is_disc)
                  for p in self.predictions(pred)]
        loss = torch.stack(losses).sum()
        if self.scale_reduction == 'mean':
            loss = loss / len(losses)
        return loss * (self.disc_loss_weight if is_disc else self.loss_weight)

    def extra_repr(self) -> str:
        return (f'gan_type={self.gan_type!r}, real_label={self.real_label}, '
                f'fake_label={self.fake_label}, loss_weight={self.loss_weight}, '
                f'disc_loss_weight={self.disc_loss_weight}, '
                f'scale_reduction={self.scale_reduction!r}, loss_name={self.loss_name!r}')
