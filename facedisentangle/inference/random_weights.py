"""Randomly initialised DeepFaceEditing models, for benchmarks and tests.

``model_cfg`` uses the keys of the training stages' model configs: ``layout``, ``components``,
``sketch_encoder``, ``sketch_decoder``, ``image_encoder``, ``generator``, ``fusion_generator``
(and ``image_to_sketch``); each network config is one backbone config for every component or a
``{component: config}`` dict, and a missing key leaves that network out.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping

import torch

from facedisentangle.registry import BACKBONES
from facedisentangle.structures import build_layout

from .export import export_inference_checkpoint
from .spec import PER_COMPONENT, SINGLE, network_name


def network_configs(model_cfg: Mapping) -> dict[str, dict]:
    """``{network name: backbone config}`` for every network ``model_cfg`` describes."""
    layout = build_layout(model_cfg.get('layout'))
    comps = list(model_cfg.get('components') or layout.components)
    out: dict[str, dict] = {}
    for prefix, key in PER_COMPONENT.items():
        cfg = model_cfg.get(key)
        if cfg is None:
            continue
        for comp in comps:
            sub = cfg if 'type' in cfg else cfg[comp]
            out[network_name(prefix, comp)] = copy.deepcopy(dict(sub))
    for prefix, key in SINGLE.items():
        if model_cfg.get(key) is not None:
            out[prefix] = copy.deepcopy(dict(model_cfg[key]))
    return out


def random_state_dict(model_cfg: Mapping, seed: int = 0, init_type: str | None = None,
                      init_gain: float | None = None) -> dict[str, torch.Tensor]:
    """Weights of every network of ``model_cfg``, initialised by the networks' own
    ``init_weights`` (pix2pixHD's N(0, 0.02) unless ``init_type``/``init_gain`` say otherwise),
    seeded per network so that each network's weights do not depend on the others."""
    import facedisentangle.models.backbones  # noqa: F401  (registers the BACKBONES)

    state: dict[str, torch.Tensor] = {}
    for i, (name, cfg) in enumerate(network_configs(model_cfg).items()):
        torch.manual_seed(seed * 1000 + i)
        cfg = dict(cfg)
        if init_type is not None:
            cfg['init_type'] = init_type
        if init_gain is not None:
            cfg['init_gain'] = init_gain
        net = BACKBONES.build(cfg)
        state.update({f'{name}.{k}': v for k, v in net.state_dict().items()})
        del net
    return state


def write_random_export(out: str | os.PathLike, model_cfg: Mapping, seed: int = 0,
                        init_type: str | None = None, init_gain: float | None = None) -> dict:
    """An export file (``tools/export.py`` format) of a randomly initialised model."""
    import tempfile

    from mmengine import Config

    state = random_state_dict(model_cfg, seed, init_type, init_gain)
    cfg_text = Config(dict(model=dict(model_cfg))).pretty_text
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as tmp:
        ckpt = os.path.join(tmp, 'random.pth')
        torch.save({'meta': {'cfg': cfg_text, 'random_seed': seed}, 'state_dict': state}, ckpt)
        del state
        summary = export_inference_checkpoint(
            ckpt, out, meta=dict(source=f'random weights (seed {seed}, init '
                                        f'{init_type or "default"}, gain {init_gain})'))
    return summary
