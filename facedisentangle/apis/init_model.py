"""Build a trained model for testing, analysis or editing: ``init_model(config, checkpoint)``.

As MMagic's ``init_model``: build the model from its config, then load the checkpoint. Building
reads no file (the earlier stages' networks and the VGG19 of the perceptual losses are read by
``init_weights``, before training, see :class:`~facedisentangle.models.editors.base.
DeepFaceEditingBase`), and a stage's checkpoint holds every network the model tests with (a
later stage saves the networks it loaded from the earlier ones). So the model of every stage
is built from its config and its own checkpoint, with no other file on the machine.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping

import torch.nn as nn
from mmengine.config import Config

from facedisentangle.utils.cfg_merge import merge_cfg_options


def init_model(config: str | os.PathLike | Config, checkpoint: str | None = None,
               device: str = 'cpu', cfg_options: Mapping | None = None,
               raw_weights: bool = False) -> nn.Module:
    """The model of ``config`` with the weights of ``checkpoint``, in eval mode on ``device``.

    Args:
        config: a config file or a loaded :class:`~mmengine.config.Config` (copied, not
            changed).
        checkpoint: a checkpoint of this stage, read with the project's restricted loader
            (``weights_only``). Every weight of the model but the discriminators' (which only
            training needs) must be in its ``state_dict``, else ``KeyError`` names the
            networks it lacks. None leaves the weights random (tests).
        device: where to put the model.
        cfg_options: ``{dotted key: value}`` merged into the config, as ``--cfg-options``.
        raw_weights: the networks that ``EMAHook`` averaged (``state_dict``) from the raw
            weights it keeps in ``ema_state_dict`` instead.

    Returns the model with ``model.cfg`` set to the config used.
    """
    from mmengine import DefaultScope

    from facedisentangle.registry import MODELS
    from facedisentangle.utils import register_all_modules

    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(config):
            raise FileNotFoundError(f'init_model: config file {str(config)!r} not found')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError(f'init_model: config must be a file name or a Config, got '
                        f'{type(config).__name__}')
    merge_cfg_options(cfg, cfg_options)  # dotted keys, hooks named by type
    if 'model' not in cfg:
        raise KeyError(f'init_model: {cfg.filename or "the config"} has no model')
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('facedisentangle'):
        model = MODELS.build(cfg.model)
    model.cfg = cfg
    if checkpoint is not None:
        load_model_weights(model, checkpoint, raw_weights, what=cfg.filename or 'the config')
    elif raw_weights:
        raise ValueError('init_model: raw_weights needs a checkpoint')
    return model.to(device).eval()


def load_model_weights(model: nn.Module, checkpoint: str, raw_weights: bool = False,
                       what: str = 'the config') -> None:
    """Load ``checkpoint``'s ``state_dict`` (with ``raw_weights``: ``ema_state_dict``'s raw
    weights over it) into ``model``; see :func:`init_model`."""
    from facedisentangle.engine.checkpoint import safe_load_checkpoint
    from facedisentangle.structures import unwrap_key

    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'init_model: checkpoint {checkpoint!r} not found')
    ckpt = safe_load_checkpoint(checkpoint)
    state = ckpt.get('state_dict') if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'checkpoint {checkpoint!r} holds no state_dict')
    state = dict(state)
    if raw_weights:
        ema = ckpt.get('ema_state_dict')
        if ema is None:
            raise KeyError(f'raw weights: {checkpoint} has no ema_state_dict (the run kept no '
                           'EMA; its state_dict already holds the raw weights)')
        # EMAHook's average wraps the averaged networks: its keys are module.<key>
        state.update({unwrap_key(k): v for k, v in ema.items() if unwrap_key(k) != k})
    wrapped = [''] + [name for name, _ in model.named_children()]
    state = {unwrap_key(k, wrapped): v for k, v in state.items()}
    missing = missing_weights(model, state)
    if missing:
        nets = sorted({'.'.join(k.split('.')[:2]) for k in missing})
        raise KeyError(f'checkpoint {checkpoint!r} lacks {len(missing)} weights of the '
                       f'{type(model).__name__} of {what} (networks {nets[:6]}): is it a '
                       'checkpoint of this stage?')
    try:
        model.load_state_dict(state, strict=False)
    except RuntimeError as e:   # a network of another size
        raise RuntimeError(f'checkpoint {checkpoint!r} does not match the '
                           f'{type(model).__name__} of {what}: {e}') from e


def missing_weights(model: nn.Module, keys: Iterable[str]) -> list[str]:
    """The state-dict keys of ``model`` that ``keys`` (a checkpoint's) lack, discriminators
    aside (only training needs them); both compared without the ``.module.`` of sub-networks
    that a distributed run wrapped (``separate_ddp``)."""
    from mmengine.model import is_model_wrapper

    from facedisentangle.structures import is_discriminator, unwrap_key

    model = model.module if is_model_wrapper(model) else model
    wrapped = [name for name, child in model.named_children() if is_model_wrapper(child)]
    have = {unwrap_key(k, wrapped) for k in keys}
    return sorted(k for k in (unwrap_key(k, wrapped) for k in model.state_dict())
                  if k not in have and not is_discriminator(k))
