"""Adaptive instance normalisation (AdaIN) of the component generator G_syn.

    AdaIN(x) = w * instance_norm(x) + b,

with ``instance_norm`` without affine parameters (eps 1e-5) and per-sample ``w, b`` of shape
``(B, C)`` predicted by the appearance encoder. There is no ``1 + w`` offset.

The official layers receive their ``w, b`` at run time from one long vector per sample
(``adain_params``, 18,304 values for ngf 64) sliced in ``model.modules()`` order: for each
AdaIN layer with C channels the first C values are ``b`` (bias), the next C are ``w``
(weight). :func:`assign_adain_params` does exactly that, :func:`num_adain_params` counts the
values and :func:`clear_adain_params` drops them again.

The assigned tensors are plain attributes, never parameters or buffers, so ``state_dict()``
holds exactly the official keys (none for AdaIN: its inner ``norm`` has no affine weights).
"""
from __future__ import annotations

import torch
import torch.nn as nn


class AdaptiveInstanceNorm2d(nn.Module):
    """``instance_norm(x) * w + b`` with per-sample ``w, b`` assigned before each call.

    Args:
        num_features: channels C.
        eps: instance-norm epsilon (1e-5 as in the official layers).

    Official nesting: an inner ``norm`` (``InstanceNorm2d(C, affine=False)``) and no
    parameters. ``weight`` and ``bias`` are ``None`` until :func:`assign_adain_params` sets
    them to ``(B, C)`` (or ``(1, C)``, broadcast over the batch) tensors.
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.norm = nn.InstanceNorm2d(num_features, affine=False, eps=eps,
                                      track_running_stats=False)
        self.weight: torch.Tensor | None = None
        self.bias: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weight is None or self.bias is None:
            raise RuntimeError(
                f'AdaptiveInstanceNorm2d({self.num_features}): weight and bias are not '
                'assigned; call assign_adain_params(adain_params, model) first (or use '
                'ComponentGenerator.decode / forward, which do it)')
        b, c = x.shape[:2]
        if c != self.num_features or self.weight.shape[0] not in (1, b):
            raise ValueError(
                f'AdaptiveInstanceNorm2d({self.num_features}): input {tuple(x.shape)} does not '
                f'match the assigned parameters {tuple(self.weight.shape)} (batch must be '
                f'{b} or 1, channels {self.num_features})')
        return self.norm(x) * self.weight[:, :, None, None] + self.bias[:, :, None, None]

    def extra_repr(self) -> str:
        return f'{self.num_features}, eps={self.eps}'


def _adain_layers(model: nn.Module) -> list[AdaptiveInstanceNorm2d]:
    return [m for m in model.modules() if isinstance(m, AdaptiveInstanceNorm2d)]


def num_adain_params(model: nn.Module) -> int:
    """Number of AdaIN values ``model`` needs per sample: ``sum(2 * C)`` over its AdaIN layers."""
    return sum(2 * m.num_features for m in _adain_layers(model))


def assign_adain_params(adain_params: torch.Tensor, model: nn.Module) -> None:
    """Slice ``adain_params`` (``(B, N)`` or ``(B, N, 1, 1)``) into the AdaIN layers of ``model``.

    Layers are visited in ``model.modules()`` order; each takes C values of bias, then C values
    of weight. ``N`` must equal :func:`num_adain_params` of ``model``.
    """
    if adain_params.dim() == 4 and adain_params.shape[2:] == (1, 1):
        adain_params = adain_params.flatten(1)
    needed = num_adain_params(model)
    if adain_params.dim() != 2 or adain_params.shape[1] != needed:
        raise ValueError(f'adain_params must be (B, {needed}) for this model '
                         f'({type(model).__name__}), got {tuple(adain_params.shape)}')
    offset = 0
    for m in _adain_layers(model):
        c = m.num_features
        m.bias = adain_params[:, offset:offset + c]
        m.weight = adain_params[:, offset + c:offset + 2 * c]
        offset += 2 * c


def clear_adain_params(model: nn.Module) -> None:
    """Reset the assigned ``weight``/``bias`` of every AdaIN layer to ``None``."""
    for m in _adain_layers(model):
        m.weight = None
        m.bias = None


def unit_adain_params(model: nn.Module) -> torch.Tensor:
    """The ``(num_adain_params,)`` vector that makes every AdaIN layer of ``model`` a plain
    instance norm (``w = 1``, ``b = 0``): per layer C zeros (bias) then C ones (weight).
    Used as the initial bias of the appearance encoder's 1x1 head (``adain_init='unit'``)."""
    parts = []
    for m in _adain_layers(model):
        parts += [torch.zeros(m.num_features), torch.ones(m.num_features)]
    return torch.cat(parts) if parts else torch.zeros(0)
