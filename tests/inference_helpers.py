"""Tiny DeepFaceEditing models for the inference, face-editor, CLI and converter tests.

64 px faces; every network at a few channels with two down-samplings (stride 4: the 64 px
layout has 16, 20 and 24 px boxes) and an appearance encoder with two down-samplings, so a
whole edit takes milliseconds. Weights are xavier-initialised with gain 1 so that different
inputs give clearly different outputs.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from mmengine import Config

from facedisentangle.inference.random_weights import random_state_dict, write_random_export

TINY_MODEL = dict(
    layout=dict(resolution=64),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    sketch_encoder=dict(type='SketchEncoder', ngf=4, n_downsampling=2, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=4, n_downsampling=2, n_blocks=1),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=4, n_downsampling=2, n_blocks=1),
    generator=dict(type='ComponentGenerator', ngf=4, n_downsampling=2, n_blocks=1,
                   style_dim=16, app_dim=4, app_n_downsampling=2),
    fusion_generator=dict(type='GlobalGenerator', input_nc=4, ngf=8, n_downsampling=2,
                          n_blocks=1),
)
INIT = dict(init_type='xavier', init_gain=1.0)
STAGE_PREFIXES = {
    1: ('sketch_encoders', 'sketch_decoders'),
    2: ('sketch_encoders', 'sketch_decoders', 'image_encoders'),
    3: ('sketch_encoders', 'image_encoders', 'generators'),
    4: ('sketch_encoders', 'image_encoders', 'generators', 'fusion_generator'),
}


def tiny_model(**overrides) -> dict:
    cfg = copy.deepcopy(TINY_MODEL)
    cfg.update(overrides)
    return cfg


def write_tiny_export(path, seed: int = 0, model_cfg: dict | None = None) -> Path:
    write_random_export(path, model_cfg or TINY_MODEL, seed=seed, **INIT)
    return Path(path)


def write_stage_checkpoint(path, stage: int = 4, seed: int = 0, model_cfg: dict | None = None,
                           extra_state: dict | None = None) -> Path:
    """An MMEngine-like checkpoint of a training stage: ``meta['cfg']`` (config text),
    ``state_dict`` with the stage's networks (plus discriminators for stages 3-4), and the
    training-only entries inference must ignore."""
    model_cfg = copy.deepcopy(model_cfg or TINY_MODEL)
    state = random_state_dict(model_cfg, seed=seed, **INIT)
    prefixes = STAGE_PREFIXES[stage]
    state = {k: v for k, v in state.items() if k.split('.')[0] in prefixes}
    if stage >= 3:
        state['discriminators.eye1.discriminators.0.layers.0.0.weight'] = torch.randn(4, 3, 4, 4)
    if stage == 4:
        state['fusion_discriminator.discriminators.0.layers.0.0.weight'] = torch.randn(4, 3, 4, 4)
    state.update(extra_state or {})
    model_cfg['type'] = {1: 'SketchAutoEncoder', 2: 'ImageGeometryEncoderTrainer',
                         3: 'LocalDisentanglement', 4: 'GlobalFusion'}[stage]
    ckpt = {
        'meta': {'cfg': Config(dict(model=model_cfg, train_cfg=dict(max_iters=10))).pretty_text,
                 'iter': 10, 'seed': seed},
        'state_dict': state,
        'optimizer': {'generator': {'state': {}, 'param_groups': [{'lr': 2e-4}]}},
        'message_hub': {'log_scalars': {}},
    }
    if stage >= 3:
        ckpt['ema_state_dict'] = {k: v.clone() for k, v in state.items()
                                  if k.startswith('generators.')}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def random_face(seed: int, size: int = 64) -> np.ndarray:
    """A smooth random uint8 RGB image (blocky colours plus noise)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3)).astype(np.float32)
    img = np.kron(small, np.ones((size // 4, size // 4, 1), np.float32))
    img += rng.normal(0, 20, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1.0
