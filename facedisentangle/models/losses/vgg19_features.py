"""Frozen, truncated torchvision VGG19 ``features`` that returns named activations."""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torchvision.models import vgg as tv_vgg


def vgg19_layer_names() -> list[str]:
    """Names of the 37 modules of torchvision's ``vgg19().features``, in order:
    ``conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..., relu5_4, pool5``."""
    names, block, idx = [], 1, 1
    for v in tv_vgg.cfgs['E']:
        if v == 'M':
            names.append(f'pool{block}')
            block, idx = block + 1, 1
        else:
            names += [f'conv{block}_{idx}', f'relu{block}_{idx}']
            idx += 1
    return names


VGG19_LAYER_NAMES = vgg19_layer_names()


class VGG19Features(nn.Module):
    """torchvision's VGG19 convolutional part, cut after the deepest requested layer.

    Built with ``torchvision.models.vgg.make_layers(cfgs['E'])``, the same modules (and state
    dict keys ``features.<i>.*``) as ``torchvision.models.vgg19().features``, without building
    the 120M-parameter classifier. ReLUs are made out-of-place so that a captured activation is
    not overwritten by the next layer. Frozen: every parameter has ``requires_grad=False`` and
    the module stays in eval mode.

    Args:
        layers: names from :data:`VGG19_LAYER_NAMES` (e.g. ``relu3_1``).
        state_dict: torchvision VGG19 weights (``features.<i>.*`` keys, or ``<i>.*`` for a
            saved ``features`` module); None keeps random weights.
        source: where ``state_dict`` came from, for error messages.
    """

    def __init__(self, layers: Sequence[str], state_dict: Mapping[str, torch.Tensor] | None = None,
                 source: str = 'state_dict') -> None:
        super().__init__()
        unknown = [n for n in layers if n not in VGG19_LAYER_NAMES]
        if unknown or not layers:
            close = {n: difflib.get_close_matches(n, VGG19_LAYER_NAMES, n=3) for n in unknown}
            raise ValueError(f'VGG19 layers {unknown or list(layers)} are not valid VGG19 layer '
                             f'names (close names: {close}); valid names: '
                             f'{", ".join(VGG19_LAYER_NAMES)}.')
        self.layers = list(layers)
        self.indices = {n: VGG19_LAYER_NAMES.index(n) for n in self.layers}
        last = max(self.indices.values())
        body = tv_vgg.make_layers(tv_vgg.cfgs['E'], batch_norm=False)[:last + 1]
        for m in body:
            if isinstance(m, nn.ReLU):
                m.inplace = False
        self.body = body
        if state_dict is not None:
            self.load(state_dict, source)
        self.requires_grad_(False)
        self.eval()

    def load(self, state_dict: Mapping[str, torch.Tensor], source: str = 'state_dict') -> None:
        """Copy torchvision VGG19 weights (``features.<i>.*`` or ``<i>.*`` keys) into the
        layers kept; a missing key or a wrong shape raises ``ValueError`` naming ``source``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f'{source}: expected a state dict, got {type(state_dict).__name__}.')
        prefix = '' if '0.weight' in state_dict else 'features.'
        own = self.body.state_dict()
        missing = [prefix + k for k in own if prefix + k not in state_dict]
        if missing:
            raise ValueError(f'{source}: not a torchvision VGG19 state dict, missing keys '
                           f'{missing[:6]}{" ..." if len(missing) > 6 else ""}.')
        selected = {}
        for k, v in own.items():
            w = state_dict[prefix + k]
            if not isinstance(w, torch.Tensor) or w.shape != v.shape:
                shape = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
                raise ValueError(f'{source}: key {prefix + k!r} has shape {shape}, VGG19 '
                                 f'expects {tuple(v.shape)}.')
            selected[k] = w
        self.body.load_state_dict(selected, strict=True)

    def train(self, mode: bool = True) -> VGG19Features:
        """Always stays in eval mode (frozen feature extractor)."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Returns ``{layer name: activation}`` for every requested layer."""
        wanted = {i: n for n, i in self.indices.items()}
        out = {}
        for i, m in enumerate(self.body):
            x = m(x)
            if i in wanted:
                out[wanted[i]] = x
        return out
