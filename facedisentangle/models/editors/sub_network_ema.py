"""Exponential moving average of some sub-networks only (the generator side of a GAN stage).

    theta_ema <- (1 - m_t) * theta_ema + m_t * theta      after training step t (t = 0, 1, ...)
    m_t = momentum                                          (warmup=False, MMEngine's rule)
    m_t = max(momentum, 9 / (10 + t))                       (warmup=True)

for the parameters of the named sub-networks (``generators`` by default), as MMEngine's
``ExponentialMovingAverage`` does for a whole model (step 0 copies the weights). The warm-up
(TensorFlow's ``ExponentialMovingAverage(num_updates=t)`` rule) keeps the average from
carrying the random initial weights in a run shorter than the horizon ``1 / momentum``: after
t steps it spans about the last t / 10 of them, until it reaches ``1 / momentum``. Use it
through MMEngine's ``EMAHook``::

    custom_hooks = [dict(type='EMAHook', ema_type='SubNetworkEMA', sub_networks=['generators'],
                         momentum=0.001, warmup=True)]

Why not MMEngine's ``ExponentialMovingAverage`` on the whole model:

- it would also average the discriminators and the frozen encoders (memory and time for
  nothing: the discriminators are never exported, frozen weights do not move);
- with ``MMSeparateDistributedDataParallel`` (``separate_ddp=True``) every trainable child of
  the model is a DDP wrapper: a deep copy of the model copies the wrappers, and the EMA's
  ``module.generators.module.eye1...`` keys no longer match the checkpoint's
  ``generators.eye1...`` keys, which ``EMAHook`` swaps by name when it saves.

Here the copy holds the unwrapped sub-networks under their own names, so ``EMAHook`` works
unchanged: when it saves, ``state_dict`` gets the averaged ``generators.*`` weights (what the
next stage and the export load) and ``ema_state_dict`` the raw ones; it swaps them back on
resume; it validates and tests with the averaged weights.

``EMAHook`` swaps the weights for validation *by position* (``zip`` of the two models'
``parameters()``), so the averaged sub-networks must be the first sub-networks with
parameters registered in the model; this is checked when the hook builds the average.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage, is_model_wrapper

from facedisentangle.registry import MODELS


def _sub_networks(model: nn.Module, names: Sequence[str]) -> nn.Module:
    """A container holding ``model.<name>`` (DDP wrappers removed) under the same names."""
    if is_model_wrapper(model):
        model = model.module
    holder = nn.Module()
    for name in names:
        net = getattr(model, name, None)
        if not isinstance(net, nn.Module):
            children = [n for n, _ in model.named_children()]
            raise AttributeError(f'SubNetworkEMA: {type(model).__name__} has no sub-network '
                                 f'{name!r} to average; its sub-networks are {children}')
        holder.add_module(name, net.module if is_model_wrapper(net) else net)
    return holder


@MODELS.register_module()
class SubNetworkEMA(ExponentialMovingAverage):
    """EMA of ``sub_networks`` of a model, for MMEngine's ``EMAHook`` (``ema_type``).

    Args:
        model: the model being trained (``EMAHook`` passes it).
        sub_networks: attribute names of the averaged sub-networks, e.g. ``['generators']``.
        momentum: weight of the new value (MMEngine's convention; 0.001 is a decay of 0.999).
        warmup: use ``max(momentum, 9 / (10 + t))`` at step t (see the module docstring).
        interval: update every ``interval`` iterations.
        device: where to keep the averaged copy (default: with the model).
    """

    def __init__(self, model: nn.Module, sub_networks: Sequence[str] = ('generators',),
                 momentum: float = 0.001, warmup: bool = False, interval: int = 1,
                 device: torch.device | None = None, update_buffers: bool = False):
        if isinstance(sub_networks, str):
            sub_networks = [sub_networks]
        if not sub_networks:
            raise ValueError('SubNetworkEMA: sub_networks is empty')
        if update_buffers:
            raise ValueError('SubNetworkEMA: update_buffers=True is not supported (EMAHook '
                             'swaps parameters and buffers by position over the whole model)')
        self.sub_networks = tuple(sub_networks)
        holder = _sub_networks(model, self.sub_networks)
        _check_parameter_order(model, holder, self.sub_networks)
        super().__init__(holder, momentum=momentum, interval=interval, device=device,
                         update_buffers=False)
        self.warmup = bool(warmup)

    def momentum_at(self, steps) -> float:
        """``m_t`` of the update at step ``steps``."""
        if not self.warmup:
            return self.momentum
        return max(self.momentum, 9.0 / (10.0 + int(steps)))

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps) -> None:
        averaged_param.lerp_(source_param, self.momentum_at(steps))

    def update_parameters(self, model: nn.Module) -> None:
        """One EMA step from ``model``'s current weights of the averaged sub-networks."""
        super().update_parameters(_sub_networks(model, self.sub_networks))


def _check_parameter_order(model: nn.Module, holder: nn.Module, names: Sequence[str]) -> None:
    """``EMAHook._swap_ema_parameters`` zips ``model.parameters()`` with the average's."""
    src = list((model.module if is_model_wrapper(model) else model).parameters())
    ours = list(holder.parameters())
    if not ours:
        raise ValueError(f'SubNetworkEMA: {list(names)} have no parameters')
    if len(src) < len(ours) or any(a is not b for a, b in zip(src, ours)):
        raise ValueError(
            f'SubNetworkEMA: the parameters of {list(names)} must come first in '
            f'{type(model).__name__}.parameters() (EMAHook swaps the averaged weights in by '
            'position for validation); register these sub-networks before any other network '
            'with parameters')
