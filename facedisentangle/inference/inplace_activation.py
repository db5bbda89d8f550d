"""ReLUs applied in place where their input is a fresh intermediate result.

In the DeepFaceEditing networks every ReLU follows a convolution, a transposed convolution
or a normalisation (in an ``nn.Sequential`` or a ``ConvBlock``), whose output nothing else
reads. ``relu(x)`` then only allocates a second map of the same size and writes it;
``relu_(x)`` overwrites ``x``: the same values, one large allocation (and its first-touch page
faults) fewer per layer. On the bfloat16 path at 512 px the activations were 10-11% of the
edit's operator time in the profile (docs/benchmarks.md, "Where the time goes").
``FACEDISENTANGLE_INPLACE_RELU=0`` leaves them as they are.
"""
from __future__ import annotations

import os

import torch.nn as nn

from facedisentangle.models.backbones.adain import AdaptiveInstanceNorm2d

ENV = 'FACEDISENTANGLE_INPLACE_RELU'
PRODUCERS = (nn.Conv2d, nn.ConvTranspose2d, nn.InstanceNorm2d, nn.GroupNorm,
             AdaptiveInstanceNorm2d)


def inplace_relu_enabled() -> bool:
    value = os.environ.get(ENV, '').strip()
    if value not in ('', '0', '1'):
        raise ValueError(f'{ENV} must be 0 or 1, got {value!r}')
    return value != '0'


def inplace_relus(net: nn.Module) -> int:
    """Set ``inplace=True`` on every ``nn.ReLU`` of ``net`` that directly follows a
    convolution or normalisation in an ``nn.Sequential``, or is a ``ConvBlock``'s activation
    (``activation(norm(conv(pad(x))))``). Returns how many."""
    from facedisentangle.models.backbones.conv_block import ConvBlock

    n = 0
    for parent in net.modules():
        if isinstance(parent, nn.Sequential):
            children = list(parent)
            for prev, child in zip(children, children[1:]):
                if type(child) is nn.ReLU and isinstance(prev, PRODUCERS):
                    child.inplace = True
                    n += 1
        elif isinstance(parent, ConvBlock) and type(parent.activation) is nn.ReLU:
            parent.activation.inplace = True
            n += 1
    return n
