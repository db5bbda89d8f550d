"""The FID Inception network (pytorch-fid's ``InceptionV3([3])``), built offline.

pytorch-fid's ``InceptionV3`` constructor downloads its weights from GitHub when they are not
cached; here the same network (torchvision's Inception v3 with pytorch-fid's patched
``FIDInceptionA/C/E`` blocks, i.e. the TensorFlow FID graph) is built without weights and
``pt_inception-2015-12-05-6726825d.pth`` is loaded from an explicit path or the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``); a missing file raises ``FileNotFoundError`` naming it.

Forward: RGB images in [0, 1], any size -> bilinear resize to 299x299 -> scale to [-1, 1] ->
blocks up to the final average pool -> (N, 2048) features, exactly as ``InceptionV3([3])``.
"""
from __future__ import annotations

import os
import threading

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2

from facedisentangle.utils.pretrained import find_pretrained, load_pretrained_state_dict

FID_WEIGHTS_FILE = 'pt_inception-2015-12-05-6726825d.pth'
FID_WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/'
                   + FID_WEIGHTS_FILE)
FID_FEATURE_NAME = 'pytorch-fid-inception-2015-12-05-pool3'


def _fid_inception_v3_without_weights() -> nn.Module:
    """pytorch-fid's ``fid_inception_v3()`` up to, not including, its download."""
    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None,
                                          init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class FIDInceptionPool3(nn.Module):
    """2048-d pool3 features of the FID Inception; same blocks as pytorch-fid's InceptionV3([3]).

    Args:
        state_dict: weights of pytorch-fid's inception (``pt_inception-2015-12-05-6726825d.pth``);
            None leaves the network randomly initialised (only for tests).
    """

    def __init__(self, state_dict: dict | None = None):
        super().__init__()
        net = _fid_inception_v3_without_weights()
        if state_dict is not None:
            net.load_state_dict(state_dict)
        self.blocks = nn.ModuleList([
            nn.Sequential(net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
                          nn.MaxPool2d(kernel_size=3, stride=2)),
            nn.Sequential(net.Conv2d_3b_1x1, net.Conv2d_4a_3x3,
                          nn.MaxPool2d(kernel_size=3, stride=2)),
            nn.Sequential(net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b,
                          net.Mixed_6c, net.Mixed_6d, net.Mixed_6e),
            nn.Sequential(net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
                          nn.AdaptiveAvgPool2d(output_size=(1, 1))),
        ])
        self.requires_grad_(False)
        self.eval()

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) in [0, 1] -> features (N, 2048)."""
        x = F.interpolate(x01, size=(299, 299), mode='bilinear', align_corners=False)
        x = 2 * x - 1
        for block in self.blocks:
            x = block(x)
        return x.flatten(1)


_CACHE: dict[tuple, FIDInceptionPool3] = {}
_LOCK = threading.Lock()


def find_fid_inception(path: str | os.PathLike | None = None):
    """Path of the FID Inception weights (explicit ``path`` or the torch hub cache)."""
    return find_pretrained(FID_WEIGHTS_FILE, path, what='FID Inception weights',
                           url=FID_WEIGHTS_URL)


def build_fid_inception(path: str | os.PathLike | None = None, device='cpu'
                        ) -> FIDInceptionPool3:
    """Load the FID Inception once per (file, device) and process; later calls share it."""
    p = find_fid_inception(path)
    key = (str(p.resolve()), str(device))
    with _LOCK:
        if key not in _CACHE:
            state = load_pretrained_state_dict(FID_WEIGHTS_FILE, p, what='FID Inception weights',
                                               url=FID_WEIGHTS_URL)
            try:
                net = FIDInceptionPool3(state)
            except RuntimeError as e:
                raise RuntimeError(f'FID Inception weights: {str(p)!r} does not match pytorch-fid'
                                   f"'s Inception ({FID_WEIGHTS_FILE}): {e}") from e
            _CACHE[key] = net.to(device)
        return _CACHE[key]
