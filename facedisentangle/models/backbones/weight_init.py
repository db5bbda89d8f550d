"""Weight initialisation of the DeepFaceEditing networks.

``'normal'`` (default) is pix2pixHD's ``weights_init``: convolution and transposed-convolution
weights ~ N(0, gain) with gain 0.02, affine norm weights ~ N(1, gain); biases are set to 0.
``'xavier'``, ``'kaiming'`` and ``'orthogonal'`` are the usual alternatives (gain is the
xavier/orthogonal gain) and ``'default'`` restores PyTorch's own initialisation
(``reset_parameters``). Released weights replace all of this when loaded.
"""
from __future__ import annotations

import torch.nn as nn

INIT_TYPES = ('normal', 'xavier', 'kaiming', 'orthogonal', 'default')
_CONVS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.InstanceNorm2d, nn.BatchNorm2d)


def init_weights(module: nn.Module, init_type: str = 'normal', gain: float = 0.02) -> None:
    """Initialise every convolution and affine norm inside ``module`` in place."""
    if init_type not in INIT_TYPES:
        raise ValueError(f"init_type must be one of {', '.join(INIT_TYPES)}, got {init_type!r}")
    for m in module.modules():
        if init_type == 'default':
            if isinstance(m, (*_CONVS, *_NORMS)) and hasattr(m, 'reset_parameters'):
                m.reset_parameters()
            continue
        if isinstance(m, _CONVS):
            if init_type == 'normal':
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == 'xavier':
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init_type == 'kaiming':
                nn.init.kaiming_normal_(m.weight, a=0, mode='fan_in')
            else:
                nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


class WeightInitMixin:
    """``init_weights()`` of every network here; the constructor sets ``init_type`` and
    ``init_gain`` and calls it once.

    It also sets ``is_init = True``: MMEngine's ``BaseModule.init_weights`` (run by the Runner
    before training) skips children so marked, so weights loaded into a network after it was
    built (a previous stage, released weights) are never silently re-initialised.
    """

    init_type: str = 'normal'
    init_gain: float = 0.02

    def init_weights(self, init_type: str | None = None, gain: float | None = None) -> None:
        """(Re-)initialise the weights; defaults to the constructor's ``init_type``/``gain``."""
        init_weights(self, init_type or self.init_type,
                     self.init_gain if gain is None else gain)
        self.is_init = True
