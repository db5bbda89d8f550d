"""Pieces shared by the GAN stages (3: Local Disentanglement, 4: Global Fusion)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapperDict


class PerComponentNetworks(nn.ModuleDict):
    """One network per component, called through ``forward(component, ...)``.

    ``MMSeparateDistributedDataParallel`` replaces every trainable child of the model by a
    DDP wrapper, and DDP synchronises gradients only for calls that go through the wrapper's
    ``forward``: ``self.generators['eye1'](...)`` would fail on the wrapper, and
    ``self.generators.module['eye1'](...)`` would silently skip the all-reduce. So the
    per-component networks are called as ``self.generators('eye1', *args, **kwargs)``;
    ``method='name'`` calls another method (or sub-module) of that component's network
    instead of its ``forward``. State-dict keys are those of a plain ``nn.ModuleDict``
    (``generators.eye1.*``).
    """

    def forward(self, component: str, *args, method: str | None = None, **kwargs):
        if component not in self:
            raise KeyError(f'no network for component {component!r}; have {list(self)}')
        net = self[component]
        fn = net if method is None else getattr(net, method)
        return fn(*args, **kwargs)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Parameters of ``module`` do not require gradients inside the block (restored after)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def split_scales(pred: list, start: int, stop: int) -> list[list[torch.Tensor]]:
    """Samples ``start:stop`` of a multi-scale discriminator output (per scale, per layer)."""
    return [[f[start:stop] for f in scale] for scale in pred]


def roll_scales(pred: list) -> list[list[torch.Tensor]]:
    return [[f.roll(1, dims=0) for f in scale] for scale in pred]


def build_image_discriminator(model: nn.Module, attr: str, discriminator) -> nn.Module | None:
    """The discriminator ``attr`` of a single-image GAN stage (Global Fusion, image-to-sketch),
    checked against the model's ``loss_gan`` / ``loss_feat`` / ``loss_vgg`` / ``loss_rec``
    (built before): None when ``loss_gan`` is off, which then allows no discriminator and no
    feature matching; at least one generator loss must be on."""
    from facedisentangle.registry import BACKBONES

    name = type(model).__name__
    if model.loss_gan is None:
        if discriminator is not None or model.loss_feat is not None:
            raise ValueError(f'{name}: loss_gan is off: set {attr}=None and '
                             'loss_feat=None too (nothing would train the discriminator)')
        built = None
    else:
        if discriminator is None:
            raise ValueError(f'{name}: loss_gan is on but {attr} is None')
        built = BACKBONES.build(dict(discriminator))
    if not any(x is not None for x in (model.loss_gan, model.loss_vgg, model.loss_rec)):
        raise ValueError(f'{name}: every generator loss is off')
    return built


def check_gan_optim_wrapper(model: nn.Module, optim_wrapper, has_discriminator: bool) -> bool:
    """The optimisers a GAN stage needs: ``generator``, and ``discriminator`` exactly when the
    model has one. Returns whether there is a discriminator step."""
    name = type(model).__name__
    if not isinstance(optim_wrapper, OptimWrapperDict) or \
            'generator' not in optim_wrapper.keys():
        raise KeyError(f"{name}.train_step needs optim_wrapper['generator'] (and "
                       "['discriminator'] when loss_gan is on): build optim_wrapper with "
                       "constructor='PerNetworkOptimWrapperConstructor'")
    has_d = 'discriminator' in optim_wrapper.keys()
    if has_d != has_discriminator:
        raise KeyError(f"{name}: optim_wrapper {'has' if has_d else 'lacks'} a "
                       f"'discriminator' optimiser but the model "
                       f"{'has no' if has_d else 'has a'} discriminator (loss_gan "
                       f"{'off' if has_d else 'on'})")
    return has_d


def update_generator_and_discriminator(model, optim_wrapper: OptimWrapperDict, g_losses: dict,
                                       d_losses: dict | None) -> dict[str, torch.Tensor]:
    """Check every term (``model.parse_losses``: NaN/Inf stops training before any step),
    then step the generator, then the discriminator. Returns the detached log values, with
    the sums logged as ``loss_g`` and ``loss_d``."""
    g_loss, log_vars = model.parse_losses(g_losses)
    log_vars['loss_g'] = log_vars.pop('loss')
    if d_losses is not None:
        d_loss, d_log = model.parse_losses(d_losses)
        d_log['loss_d'] = d_log.pop('loss')
        log_vars.update(d_log)
    optim_wrapper['generator'].update_params(g_loss)
    if d_losses is not None:
        optim_wrapper['discriminator'].update_params(d_loss)
    return {k: v.detach() for k, v in log_vars.items()}
