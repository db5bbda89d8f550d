"""LPIPS networks (Zhang et al., CVPR 2018) from the ``lpips`` package, built offline.

``lpips.LPIPS(net=..., pretrained=True, pnet_rand=True)`` builds the backbone without downloading
and loads the learned linear heads, which ship inside the package (``lpips/weights/v0.1``).
The ImageNet backbone is then loaded here from torchvision's file in an explicit path or the
torch hub cache (``$TORCH_HOME/hub/checkpoints/``):

    alex -> alexnet-owt-7be5be79.pth      vgg -> vgg16-397923af.pth

lpips splits torchvision's ``features`` Sequential into ``slice1..slice5`` keeping the layer
indices, so torchvision's ``features.{i}.*`` is lpips' ``net.slice{k}.{i}.*``.
``random_backbones=True`` skips the backbone file (random ImageNet layers): only for smoke
tests, with a loud warning; the metrics then mark their names ``(random)``.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings

import lpips
import torch
from mmengine.logging import print_log

from facedisentangle.utils.pretrained import find_pretrained, load_pretrained_state_dict

LPIPS_BACKBONE_FILES = {
    'alex': ('alexnet-owt-7be5be79.pth',
             'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth'),
    'vgg': ('vgg16-397923af.pth', 'https://download.pytorch.org/models/vgg16-397923af.pth'),
}

# Smallest image side each backbone accepts (smaller inputs pool down to nothing).
LPIPS_MIN_SIZE = {'alex': 31, 'vgg': 16}

_CACHE: dict[tuple, lpips.LPIPS] = {}
_LOCK = threading.Lock()


def _check_net(net: str) -> None:
    if net not in LPIPS_BACKBONE_FILES:
        raise ValueError(f"LPIPS: net={net!r} is not supported; choose one of "
                         f"{sorted(LPIPS_BACKBONE_FILES)}.")


def check_lpips_size(net: str, shape, what: str) -> None:
    """Raise a ValueError naming ``what`` when an image is too small for the LPIPS ``net``."""
    if min(shape[-2:]) < LPIPS_MIN_SIZE[net]:
        raise ValueError(f'LPIPS ({net}): {what} is {tuple(shape[-2:])}, smaller than the '
                         f'{LPIPS_MIN_SIZE[net]} px the backbone needs.')


def find_lpips_backbone(net: str = 'alex', path: str | os.PathLike | None = None):
    """Path of torchvision's backbone weights for LPIPS ``net`` (explicit path or hub cache)."""
    _check_net(net)
    filename, url = LPIPS_BACKBONE_FILES[net]
    return find_pretrained(filename, path, what=f'LPIPS {net} backbone weights', url=url)


def backbone_state_to_lpips(tv_state: dict, lpips_net: torch.nn.Module, source: str) -> dict:
    """Map torchvision's ``features.{i}.*`` keys onto lpips' ``slice{k}.{i}.*`` keys."""
    out = {}
    for key in lpips_net.state_dict():
        _, rest = key.split('.', 1)          # 'slice2.3.weight' -> '3.weight'
        tv_key = f'features.{rest}'
        if tv_key not in tv_state:
            raise KeyError(f'LPIPS backbone file {source!r} has no key {tv_key!r} (needed for '
                           f'{key!r}); is it the torchvision file for this net?')
        out[key] = tv_state[tv_key]
    return out


def warn_random_backbones(net: str) -> None:
    """The loud warning (Python warning and log) that LPIPS uses a random backbone."""
    msg = (f'LPIPS: random_backbones=True, the {net} backbone is RANDOM, not ImageNet weights. '
           'The values are meaningless except as a smoke test; their metric names carry '
           '"(random)".')
    warnings.warn(msg, stacklevel=3)
    print_log(msg, logger='current', level=logging.WARNING)


def build_lpips(net: str = 'alex', backbone_path: str | os.PathLike | None = None,
                random_backbones: bool = False, device='cpu') -> lpips.LPIPS:
    """An ``lpips.LPIPS`` in eval mode with offline weights; shared per (net, file, device)."""
    _check_net(net)
    filename, url = LPIPS_BACKBONE_FILES[net]
    p = None if random_backbones else find_lpips_backbone(net, backbone_path)
    key = (net, str(p.resolve()) if p is not None else 'random', str(device))
    if random_backbones:
        warn_random_backbones(net)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        with warnings.catch_warnings():   # torchvision's deprecation of `pretrained=`
            warnings.simplefilter('ignore', UserWarning)
            model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
        if not random_backbones:
            tv_state = load_pretrained_state_dict(filename, p, what=f'LPIPS {net} backbone '
                                                  'weights', url=url)
            state = backbone_state_to_lpips(tv_state, model.net, str(p))
            try:
                model.net.load_state_dict(state)
            except RuntimeError as e:
                raise RuntimeError(f'LPIPS {net} backbone: {str(p)!r} does not fit: {e}') from e
        model = model.to(device).eval().requires_grad_(False)
        _CACHE[key] = model
        return model


def lpips_spatial_map(model: lpips.LPIPS, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """LPIPS distance map (N, 1, H, W) at input resolution (lpips' ``spatial=True`` output:
    each layer's map bilinearly upsampled and summed). Images in [-1, 1]."""
    old = model.spatial
    model.spatial = True
    try:
        return model(x, y)
    finally:
        model.spatial = old
