"""What every DeepFaceEditing training stage shares: the layout, per-component networks,
the earlier stages' networks (frozen when built, loaded by ``init_weights``), and the NaN/Inf
guard on the losses."""
from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel, is_model_wrapper

from facedisentangle.registry import BACKBONES, LOSSES
from facedisentangle.structures import ComponentLayout, build_layout, unwrap_key


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or Inf; training stops before the optimiser step."""


class DeepFaceEditingBase(BaseModel):
    """Base of the stage models.

    Building a model reads no file: networks that come from an earlier stage's checkpoint
    (``stage1_checkpoint``, ...) are frozen when built and loaded by :meth:`init_weights`,
    which MMEngine's ``Runner`` calls before training (and which also loads the VGG19 of the
    perceptual losses). A model for testing or editing is built and given its own checkpoint
    (:func:`facedisentangle.apis.init_model`), so neither the earlier stages' files nor the
    VGG19 file need to exist then.

    Args:
        layout: the component layout config (see :class:`ComponentLayout`), e.g.
            ``dict(resolution=128)``.
        components: the components to train (a subset of the layout's), e.g. ``['eye1']``
            for a quick ablation; all by default.
        data_preprocessor: config of the batch preprocessor.
        init_cfg: MMEngine weight-init config.
    """

    def __init__(self, layout: Mapping | ComponentLayout | None = None,
                 components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None,
                 init_cfg: Mapping | None = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='FaceDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.layout = build_layout(layout)
        comps = list(components) if components is not None else list(self.layout.components)
        unknown = [c for c in comps if c not in self.layout.boxes]
        if unknown:
            raise ValueError(f'components {unknown} are not in the layout '
                             f'({list(self.layout.boxes)})')
        if not comps:
            raise ValueError('components: at least one component is needed')
        self.components = tuple(comps)
        # checkpoint keys without MMSeparateDistributedDataParallel's '.module.' (see there)
        self.register_state_dict_post_hook(unwrapped_state_dict_keys)
        # {config key: (checkpoint or None, network prefixes)}, loaded by init_weights
        self.earlier_stages: dict[str, tuple[str | None, tuple[str, ...]]] = {}

    #: whether ``predict_swap`` scores (geometry i, appearance j) swaps, so that
    #: ``tools/test.py --mode swap|sketch`` applies (stages 3 and 4)
    supports_swap = False

    # ------------------------------------------------------------------ building
    def build_per_component(self, cfg: Mapping, what: str, registry=BACKBONES) -> nn.ModuleDict:
        """One network per component from ``cfg``.

        ``cfg`` is either one config used for every component (it has a ``type``), or a dict
        ``{component: config}`` giving each component its own.
        """
        if not isinstance(cfg, Mapping):
            raise TypeError(f'{what}: expected a config dict, got {cfg!r}')
        nets = nn.ModuleDict()
        for comp in self.components:
            if 'type' in cfg:
                sub = copy.deepcopy(dict(cfg))
            elif comp in cfg:
                sub = copy.deepcopy(dict(cfg[comp]))
            else:
                raise KeyError(f'{what}: no config for component {comp!r} (keys: {list(cfg)})')
            nets[comp] = registry.build(sub)
        return nets

    def check_stride(self, encoders: nn.ModuleDict) -> None:
        """Every box must be divisible by its encoder's total stride (checked before training)."""
        for comp, enc in encoders.items():
            self.layout.check_stride(int(enc.stride), [comp])

    @staticmethod
    def build_loss(cfg: Mapping | None) -> nn.Module | None:
        """A loss from the losses registry; ``None`` (or ``loss_weight=0``) switches it off."""
        if cfg is None:
            return None
        if cfg.get('loss_weight', 1.0) == 0:
            return None
        return LOSSES.build(copy.deepcopy(dict(cfg)))

    # ------------------------------------------------------------------ data
    def crop(self, img: torch.Tensor, comp: str) -> torch.Tensor:
        return self.layout.crop(img, comp)

    # ------------------------------------------------------------------ previous stage
    def load_networks(self, checkpoint: str, prefixes: Sequence[str], freeze: bool = True
                      ) -> None:
        """Load ``prefixes`` (e.g. ``sketch_encoders``) of a previous stage's checkpoint.

        Only keys of this model's components are taken; every such key must be present with
        the right shape. When the previous stage kept an EMA, MMEngine's ``EMAHook`` has already
        put the averaged weights under ``state_dict`` (the raw ones under ``ema_state_dict``), so
        the averaged weights are the ones loaded. Loaded networks are frozen (no gradients, eval mode) if ``freeze``.
        """
        from facedisentangle.engine.checkpoint import safe_load_checkpoint

        ckpt = safe_load_checkpoint(checkpoint)
        state = ckpt.get('state_dict', ckpt)
        for prefix in prefixes:
            nets = getattr(self, prefix, None)
            if not isinstance(nets, nn.ModuleDict):
                raise AttributeError(f'{type(self).__name__} has no per-component networks '
                                     f'{prefix!r}')
            for comp, net in nets.items():
                head = f'{prefix}.{comp}.'
                sub = {k[len(head):]: v for k, v in state.items() if k.startswith(head)}
                if not sub:
                    have = sorted({'.'.join(k.split('.')[:2]) for k in state})
                    raise KeyError(f'checkpoint {checkpoint!r} has no {prefix}.{comp}.* weights;'
                                   f' it has {have}')
                try:
                    net.load_state_dict(sub, strict=True)
                except RuntimeError as e:
                    raise RuntimeError(f'checkpoint {checkpoint!r}: {prefix}.{comp} does not '
                                       f'match this model: {e}') from e
        if freeze:
            self.freeze(prefixes)

    def freeze(self, names: Sequence[str]) -> None:
        """No gradients for the sub-networks ``names``; they stay in eval mode (see train)."""
        for name in names:
            getattr(self, name).requires_grad_(False).eval()
        self._frozen = set(getattr(self, '_frozen', set())) | set(names)

    def from_earlier_stage(self, key: str, checkpoint: str | None, prefixes: Sequence[str]
                           ) -> None:
        """The networks ``prefixes`` come from an earlier stage's ``checkpoint`` (the value of
        the config key ``key``): frozen now, loaded by :meth:`init_weights`."""
        self.freeze(prefixes)
        self.earlier_stages[key] = (checkpoint, tuple(prefixes))

    def init_weights(self) -> None:
        """Initialise for training (MMEngine's ``Runner.train`` calls it once, before the
        first step): MMEngine's ``init_cfg`` / children's ``init_weights`` (the perceptual
        losses load their VGG19 file), then the earlier stages' networks from their
        checkpoints (:meth:`from_earlier_stage`); without a checkpoint they stay random and
        frozen, with a warning (tests only)."""
        super().init_weights()
        for key, (checkpoint, prefixes) in self.earlier_stages.items():
            if checkpoint is not None:
                self.load_networks(checkpoint, prefixes)
            else:
                print_log(f'{type(self).__name__}: no {key}, {list(prefixes)} are random and '
                          'frozen (only meaningful in tests)', logger='current',
                          level=logging.WARNING)

    def train(self, mode: bool = True):
        super().train(mode)
        for prefix in getattr(self, '_frozen', ()):  # frozen networks stay in eval mode
            getattr(self, prefix).eval()
        return self

    # ------------------------------------------------------------------ losses
    def parse_losses(self, losses: dict):
        """MMEngine's ``parse_losses`` after checking that every term is finite.

        A NaN or Inf term raises :class:`NonFiniteLossError` naming the term and the
        iteration, before any backward pass or optimiser step; the last checkpoint stays good.
        """
        for name, value in losses.items():
            vals = value if isinstance(value, (list, tuple)) else [value]
            for v in vals:
                if torch.is_tensor(v) and not torch.isfinite(v.detach()).all():
                    it = MessageHub.get_current_instance().get_info('iter')
                    it = 'unknown' if it is None else it + 1
                    bad = v.detach().float().mean().item()
                    raise NonFiniteLossError(
                        f'loss term {name!r} is {bad if not math.isnan(bad) else "nan"} at '
                        f'iteration {it}; training stopped before the optimiser step (the last '
                        'saved checkpoint is intact). Lower the learning rate or the weight of '
                        'this term, or check the data.')
        return super().parse_losses(losses)


def unwrapped_state_dict_keys(module: nn.Module, state_dict: dict, prefix: str,
                              local_metadata) -> None:
    """State-dict post-hook: ``generators.eye1.*`` also when ``separate_ddp`` wrapped the child.

    ``MMSeparateDistributedDataParallel`` replaces the model's trainable children by DDP
    wrappers, whose keys gain ``.module.`` (``generators.module.eye1.*``). MMEngine 0.10.7
    saves ``model.state_dict()`` as is but loads by unwrapping every wrapper, and ``EMAHook``
    and :meth:`DeepFaceEditingBase.load_networks` expect the plain keys; so the keys are saved
    without the wrappers, the same with and without distributed training.
    """
    wrapped = [f'{prefix}{name}' for name, child in module.named_children()
               if is_model_wrapper(child)]
    if not wrapped:
        return
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        state_dict[unwrap_key(key, wrapped)] = value
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for key in list(meta):
            new = unwrap_key(key + '.', wrapped)[:-1]
            if new != key:
                meta[new] = meta.pop(key)
