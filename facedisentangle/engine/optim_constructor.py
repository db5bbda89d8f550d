"""One optimiser per sub-network, from a config dict (absent from MMEngine 0.10.7).

A GAN stage needs a generator optimiser and a discriminator optimiser. With::

    optim_wrapper = dict(
        constructor='PerNetworkOptimWrapperConstructor',
        generator=dict(modules=['generators'],
                       optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
        discriminator=dict(modules=['discriminators'],
                           optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))

the constructor builds an ``OptimWrapperDict`` with one ``OptimWrapper`` per key, each over the
trainable parameters of the model attributes listed in ``modules`` (default: the key itself).
Any other key of a sub-config (``type``, ``clip_grad``, ``paramwise_cfg``, ``accumulative_counts``,
``loss_scale`` for ``AmpOptimWrapper`` ...) is passed on to MMEngine's
``DefaultOptimWrapperConstructor``. A single-network config (``optimizer=...`` at the top level)
is also accepted and gives a plain ``OptimWrapper``.
"""
from __future__ import annotations

import copy

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from facedisentangle.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS


class _ParamsOf(nn.Module):
    """A throw-away container so MMEngine's constructor sees exactly these sub-networks."""

    def __init__(self, modules: dict[str, nn.Module]):
        super().__init__()
        for name, mod in modules.items():
            self.add_module(name.replace('.', '_'), mod)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PerNetworkOptimWrapperConstructor:
    """Build an ``OptimWrapperDict``: one optimiser per named group of sub-networks."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict | None = None):
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError(f'optim_wrapper must be a dict, got {type(optim_wrapper_cfg)}')
        self.cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module):
        if is_model_wrapper(model):
            model = model.module
        if 'optimizer' in self.cfg:  # one optimiser for the whole model
            if self.paramwise_cfg:
                return DefaultOptimWrapperConstructor(self.cfg, self.paramwise_cfg)(model)
            return _build_wrapper(self.cfg, model)
        wrappers = {}
        for key, sub in self.cfg.items():
            if not isinstance(sub, dict) or 'optimizer' not in sub:
                raise ValueError(f"optim_wrapper.{key}: expected dict(optimizer=..., "
                                 f"modules=[...]), got {sub!r}")
            sub = copy.deepcopy(sub)
            names = sub.pop('modules', [key])
            if isinstance(names, str):
                names = [names]
            modules = {}
            for name in names:
                mod = model
                for part in name.split('.'):
                    if not hasattr(mod, part):
                        children = [n for n, _ in model.named_children()]
                        raise KeyError(f"optim_wrapper.{key}: the model has no sub-network "
                                       f"{name!r}; its sub-networks are {children}")
                    mod = getattr(mod, part)
                modules[name] = mod
            holder = _ParamsOf(modules)
            if not any(p.requires_grad for p in holder.parameters()):
                raise ValueError(f'optim_wrapper.{key}: {names} have no trainable parameters')
            paramwise = sub.pop('paramwise_cfg', None)
            if paramwise:  # MMEngine's constructor skips frozen parameters itself
                wrappers[key] = DefaultOptimWrapperConstructor(sub, paramwise)(holder)
            else:
                wrappers[key] = _build_wrapper(sub, holder)
        return OptimWrapperDict(**wrappers)


def _build_wrapper(cfg: dict, holder: nn.Module):
    """An optimiser over the trainable parameters only (frozen networks get no state)."""
    cfg = copy.deepcopy(cfg)
    optimizer_cfg = cfg.pop('optimizer')
    cfg.setdefault('type', 'OptimWrapper')
    optimizer_cfg['params'] = [p for p in holder.parameters() if p.requires_grad]
    optimizer = OPTIMIZERS.build(optimizer_cfg)
    return OPTIM_WRAPPERS.build(cfg, default_args=dict(optimizer=optimizer))
