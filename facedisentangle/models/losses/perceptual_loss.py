"""VGG19 perceptual loss (pix2pixHD's VGGLoss), offline weights."""
from __future__ import annotations

import warnings
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from facedisentangle.registry import LOSSES
from facedisentangle.utils.pretrained import find_pretrained, load_pretrained_state_dict

from .utils import check_choice, check_loss_name, check_same_shape, check_weight
from .vgg19_features import VGG19Features

VGG19_FILENAME = 'vgg19-dcbb9e9d.pth'
VGG19_URL = 'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth'
DEFAULT_LAYER_WEIGHTS = {'relu1_1': 1 / 32, 'relu2_1': 1 / 16, 'relu3_1': 1 / 8,
                         'relu4_1': 1 / 4, 'relu5_1': 1.0}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CRITERIA = ('l1', 'mse')


@LOSSES.register_module()
class PerceptualLoss(nn.Module):
    """VGG19 perceptual loss L_VGG (pix2pixHD)::

        L_VGG = lambda_VGG * sum_l w_l * || phi_l(x) - phi_l(y).detach() ||_1

    with ``phi_l`` the activation of VGG19 layer l (default relu1_1, relu2_1, relu3_1, relu4_1,
    relu5_1 with w_l = 1/32, 1/16, 1/8, 1/4, 1) and ``||.||_1`` the mean absolute difference
    (``criterion='l1'``; ``'mse'`` for a squared error). ``x`` is the generated image, ``y`` the
    target; gradients reach ``x`` only. Used for self-reconstruction (I_rec vs I), the cycle
    (I_cycle vs I2) and Global Fusion.

    Input normalisation: images in [-1, 1] are mapped to [0, 1] and ImageNet-normalised
    (``normalize_input=True``, default (ours): the statistics the VGG19 weights were trained
    with). pix2pixHD feeds its [-1, 1] images to VGG19 unnormalised: ``normalize_input=False``
    reproduces that.

    Weights: torchvision's ``vgg19-dcbb9e9d.pth`` from ``pretrained_path`` (a file, or a folder
    holding it) or the torch hub cache ``$TORCH_HOME/hub/checkpoints``; nothing is downloaded,
    a missing file raises ``FileNotFoundError`` naming it. The file is read on first use (the
    first ``vgg`` access or loss, or ``init_weights``, which MMEngine's ``Runner`` calls
    through the model before training), so that a model holding this loss can be built for
    testing or editing without it. ``pretrained=False`` (tests only) keeps random weights and
    warns.

    The VGG19 is frozen and kept **out of the module tree** (a plain attribute, ``self.vgg``):
    it is not in ``parameters()`` (so no optimiser or DDP wrapper sees it), not in
    ``state_dict()`` (checkpoints stay small and loading them does not expect it), and a parent
    model's ``train()`` or ``requires_grad_()`` does not touch it. ``_apply`` is overridden so
    that ``.to()``, ``.cuda()``, ``.half()`` still move it with the loss.

    Args:
        layer_weights: ``{VGG19 layer name: weight}`` (default above); names like
            ``conv3_2``, ``relu4_1``, ``pool2`` (see ``VGG19_LAYER_NAMES``).
        criterion: ``'l1'`` (default) or ``'mse'``.
        normalize_input: map [-1, 1] to ImageNet-normalised input (default True).
        pretrained: load the VGG19 weights (default True); False only for tests.
        pretrained_path: explicit weights file or folder; None looks in the torch hub cache.
        loss_weight: lambda_VGG (default 10, pix2pixHD's ``lambda_feat``).
        loss_name: logging key (default ``loss_vgg``).
    """

    def __init__(self, layer_weights: Mapping[str, float] | None = None, criterion: str = 'l1',
                 normalize_input: bool = True, pretrained: bool = True,
                 pretrained_path: str | None = None, loss_weight: float = 10.0,
                 loss_name: str = 'loss_vgg') -> None:
        super().__init__()
        name = type(self).__name__
        if layer_weights is None:
            layer_weights = DEFAULT_LAYER_WEIGHTS
        if not isinstance(layer_weights, Mapping) or not layer_weights:
            raise ValueError(f'{name}: layer_weights must be a non-empty dict '
                             f'{{layer name: weight}}, got {layer_weights!r}.')
        self.layer_weights = {str(k): check_weight(v, f'layer_weights[{k!r}]', name)
                              for k, v in layer_weights.items()}
        self.criterion = check_choice(criterion, 'criterion', CRITERIA, name)
        self.normalize_input = bool(normalize_input)
        self.pretrained = bool(pretrained)
        self.pretrained_path = pretrained_path
        self.loss_weight = check_weight(loss_weight, 'loss_weight', name)
        self.loss_name = check_loss_name(loss_name, name)

        if not self.pretrained:
            warnings.warn(f'{name}(pretrained=False): VGG19 has random weights, the loss values '
                          'are not meaningful (use this for tests only).', UserWarning,
                          stacklevel=2)
        # Built now (random; the same random draws as when the file was read here), its
        # weights read from the file on first use (see ``vgg``). A plain attribute, not a
        # submodule: out of parameters(), state_dict() and train().
        object.__setattr__(self, '_vgg', VGG19Features(list(self.layer_weights)))
        self._vgg_loaded = not self.pretrained
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)

    @property
    def vgg(self) -> VGG19Features:
        """The frozen VGG19, its weights read from the file on first access."""
        if not self._vgg_loaded:
            self.init_weights()
        return self._vgg

    def init_weights(self) -> None:
        """Read the VGG19 weights file (once); ``FileNotFoundError`` names a missing file."""
        if self._vgg_loaded:
            return
        what = 'VGG19 for the perceptual loss'
        path = find_pretrained(VGG19_FILENAME, self.pretrained_path, what=what, url=VGG19_URL)
        state = load_pretrained_state_dict(VGG19_FILENAME, path, what=what, url=VGG19_URL)
        self._vgg.load(state, source=f'{what}: {path}')
        self._vgg_loaded = True

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        self._vgg._apply(fn, recurse)
        return self

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize_input:
            x = ((x + 1) / 2 - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        return x

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``pred``: generated images (N, 3, H, W) in [-1, 1]; ``target``: real images, same
        shape (its features are computed without gradient). Returns the weighted scalar."""
        name = type(self).__name__
        check_same_shape(pred, target, 'pred and target', name)
        if pred.dim() != 4 or pred.shape[1] != 3:
            raise ValueError(f'{name}: expects RGB images (N, 3, H, W), got shape '
                             f'{tuple(pred.shape)}.')
        feats_pred = self.vgg(self._prepare(pred))
        with torch.no_grad():
            feats_target = self.vgg(self._prepare(target))
        crit = F.l1_loss if self.criterion == 'l1' else F.mse_loss
        loss = pred.new_zeros(())
        for layer, w in self.layer_weights.items():
            loss = loss + w * crit(feats_pred[layer], feats_target[layer].detach())
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return (f'layer_weights={self.layer_weights}, criterion={self.criterion!r}, '
                f'normalize_input={self.normalize_input}, pretrained={self.pretrained}, '
                f'loss_weight={self.loss_weight}, loss_name={self.loss_name!r}, '
                f'vgg=VGG19Features(up to {self._vgg.layers}, frozen, not in state_dict)')
