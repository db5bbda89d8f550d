"""Build one DeepFaceEditing network from its config without initialising it, and check a
state dict against it key by key and shape by shape."""
from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES


def build_empty(config: Mapping, what: str = 'network') -> nn.Module:
    """The backbone of ``config`` on the meta device: structure only, no memory, no init."""
    import facedisentangle.models.backbones  # noqa: F401  (registers the BACKBONES)

    cfg = copy.deepcopy(dict(config))
    if 'type' not in cfg:
        raise ValueError(f'{what}: config without "type": {cfg}')
    try:
        with torch.device('meta'):
            return BACKBONES.build(cfg)
    except Exception as e:
        raise ValueError(f'{what}: cannot build {cfg}: {e}') from e


def shapes_of(net: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def check_state(expected: Mapping[str, tuple[int, ...]], got: Mapping[str, object],
                what: str) -> None:
    """Raise ``ValueError`` naming every missing, unexpected or mis-shaped key.

    ``got`` maps names to anything with a ``.shape`` (tensors, numpy arrays).
    """
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    shapes = [f'{k}: {tuple(got[k].shape)} (expected {tuple(expected[k])})'
              for k in expected if k in got and tuple(got[k].shape) != tuple(expected[k])]
    problems = []
    if missing:
        problems.append(f'missing keys {missing}')
    if extra:
        problems.append(f'unexpected keys {extra}')
    if shapes:
        problems.append(f'wrong shapes {shapes}')
    if problems:
        raise ValueError(f'{what}: ' + '; '.join(problems))
