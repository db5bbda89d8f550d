"""Convert the release's hand-drawn-sketch files (``Combine_Model_Projection``) and its banks.

Release layout under the checkpoint directory, ``key`` = component name, ``s`` = its box side
at 512 (bg 512, eyes 128, nose 160, mouth 192)::

    Drawing/sketch_encoder_{key}.pkl -> drawing_encoders.{key}          DrawingEncoder(s, 1 -> 512-d)
    Drawing/sketch_DE_{key}.pkl      -> drawing_decoders.{key}          DrawingDecoder(s, 512-d -> 32 ch)
    Drawing/geo_encoder_{key}.pkl    -> drawing_geometry_encoders.{key} GeometryEncoder(32 in, ngf 32,
                                                                          4 down, 0 blocks)
    Drawing/part_gen_{key}.pkl       -> drawing_generators.{key}        ComponentGenerator(ngf 32,
                                                                          4 up, 4 blocks, up_norm 'in')
    Drawing/global_fuse.pkl          -> drawing_fusion_generator        GlobalGenerator(32 in, ngf 32,
                                                                          4 down, 9 blocks, BN)
    bin/{man,female}_{key}_feature.bin -> banks/{man,female}/{key}.h5   512-d vectors

The encoder and decoder LeakyReLUs are built with slope 1.0 (the release's ``LeakyReLU(True)``:
the identity). Jittor's BatchNorm has no ``num_batches_tracked``; it is added (0), everything
else must match key for key and shape for shape. Files are read with the array-only unpickler
(:mod:`.jittor_pickle`). Present files are converted and missing ones listed; the converted
networks are written to one ``weights_only``-loadable file, read back by
:func:`load_official_drawing`.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from facedisentangle.inference.network_build import build_empty, check_state, shapes_of
from facedisentangle.inference.sketch_bank import load_bank, save_bank
from facedisentangle.structures import build_layout

from .jittor_pickle import load_arrays
from .official_weights import COMPONENTS, OfficialWeightsError, _drop_runtime_adain

DRAWING_FORMAT = 'facedisentangle-official-drawing'
BANK_SETS = ('man', 'female')

OFFICIAL_DRAWING_MODEL: dict = dict(
    layout=dict(resolution=512),
    components=list(COMPONENTS),
    drawing_encoder=dict(type='DrawingEncoder', input_nc=1, channels=(32, 64, 128, 256, 512),
                         latent_dim=512, leaky_relu_slope=1.0),
    drawing_decoder=dict(type='DrawingDecoder', output_nc=32,
                         channels=(512, 256, 256, 128, 64, 64), latent_dim=512,
                         leaky_relu_slope=1.0, out_activation='none'),
    drawing_geometry_encoder=dict(type='GeometryEncoder', input_nc=32, ngf=32,
                                  n_downsampling=4, n_blocks=0),
    drawing_generator=dict(type='ComponentGenerator', ngf=32, n_downsampling=4, n_blocks=4,
                           output_nc=3, up_norm='in'),
    drawing_fusion_generator=dict(type='GlobalGenerator', input_nc=32, output_nc=3, ngf=32,
                                  n_downsampling=4, n_blocks=9, norm='bn'),
)

# network prefix -> (file pattern, config key, per component)
DRAWING_FILES: dict[str, tuple[str, str]] = {
    'drawing_encoders': ('Drawing/sketch_encoder_{key}.pkl', 'drawing_encoder'),
    'drawing_decoders': ('Drawing/sketch_DE_{key}.pkl', 'drawing_decoder'),
    'drawing_geometry_encoders': ('Drawing/geo_encoder_{key}.pkl', 'drawing_geometry_encoder'),
    'drawing_generators': ('Drawing/part_gen_{key}.pkl', 'drawing_generator'),
    'drawing_fusion_generator': ('Drawing/global_fuse.pkl', 'drawing_fusion_generator'),
}
BANK_FILE = 'bin/{set}_{key}_feature.bin'


def drawing_files(src: str | os.PathLike, components: Sequence[str] = COMPONENTS
                  ) -> tuple[dict[str, Path], list[str]]:
    """``({network name: path} of the present files, [missing relative paths])``."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f'{src}: no such directory (the unpacked official release)')
    found, missing = {}, []
    for prefix, (pattern, _) in DRAWING_FILES.items():
        names = ([(f'{prefix}.{c}', pattern.format(key=c)) for c in components]
                 if '{key}' in pattern else [(prefix, pattern)])
        for name, rel in names:
            if (src / rel).is_file():
                found[name] = src / rel
            else:
                missing.append(rel)
    return found, missing


def bank_files(src: str | os.PathLike, components: Sequence[str] = COMPONENTS
               ) -> tuple[dict[str, dict[str, Path]], list[str]]:
    """``({set: {component: path}}, [missing relative paths])`` of the ``.bin`` banks."""
    found: dict[str, dict[str, Path]] = {}
    missing = []
    for s in BANK_SETS:
        for c in components:
            rel = BANK_FILE.format(set=s, key=c)
            if (Path(src) / rel).is_file():
                found.setdefault(s, {})[c] = Path(src) / rel
            else:
                missing.append(rel)
    return found, missing


def drawing_network_config(name: str, model_cfg: Mapping) -> dict:
    """The config of ``name`` (e.g. ``drawing_encoders.eye1``); the encoder's and decoder's
    ``image_size`` is the component's box side."""
    prefix, _, comp = name.partition('.')
    if prefix not in DRAWING_FILES:
        raise OfficialWeightsError(f'unknown Drawing network {name!r}')
    cfg = model_cfg.get(DRAWING_FILES[prefix][1])
    if cfg is None:
        raise OfficialWeightsError(f'{name}: no config {DRAWING_FILES[prefix][1]!r}')
    cfg = copy.deepcopy(dict(cfg if (not comp or 'type' in cfg) else cfg[comp]))
    if prefix in ('drawing_encoders', 'drawing_decoders'):
        cfg.setdefault('image_size', build_layout(model_cfg.get('layout')).size(comp))
    return cfg


def map_drawing_weights(arrays: Mapping[str, Mapping[str, np.ndarray]],
                        model_cfg: Mapping | None = None, files: Mapping[str, str] | None = None
                        ) -> tuple[dict[str, torch.Tensor], dict[str, dict], list[str]]:
    """Check the release's arrays against our networks; ``(state, networks, dropped)`` with
    ``state`` = ``{'<name>.<key>': tensor}`` including the added ``num_batches_tracked``."""
    model_cfg = OFFICIAL_DRAWING_MODEL if model_cfg is None else model_cfg
    state: dict[str, torch.Tensor] = {}
    networks: dict[str, dict] = {}
    dropped: list[str] = []
    for name, src in arrays.items():
        what = str((files or {}).get(name, name))
        cfg = drawing_network_config(name, model_cfg)
        net = build_empty(cfg, what)
        src = dict(src)
        if name.startswith('drawing_generators.'):
            dropped += [f'{what}: {k}' for k in _drop_runtime_adain(src, net, what)]
        expected = shapes_of(net)
        counters = [k for k in expected if k.endswith('num_batches_tracked')]
        try:
            check_state({k: v for k, v in expected.items() if k not in counters}, src, what)
        except ValueError as e:
            raise OfficialWeightsError(str(e)) from None
        networks[name] = cfg
        state.update({f'{name}.{k}': torch.from_numpy(np.require(v, np.float32, ['C', 'W']))
                      for k, v in src.items()})
        state.update({f'{name}.{k}': torch.zeros((), dtype=torch.long) for k in counters})
    return state, networks, dropped


def convert_official_drawing(src: str | os.PathLike, out: str | os.PathLike,
                             banks_out: str | os.PathLike | None = None,
                             model_cfg: Mapping | None = None) -> dict:
    """Convert the ``Drawing/`` networks present in ``src`` into ``out`` and the ``.bin``
    banks into ``banks_out/{man,female}/{component}.h5`` (default: ``<out>`` without its
    suffix + ``_banks``). Returns what was found, converted and missing."""
    model_cfg = copy.deepcopy(dict(OFFICIAL_DRAWING_MODEL if model_cfg is None else model_cfg))
    components = list(model_cfg.get('components') or COMPONENTS)
    files, missing = drawing_files(src, components)
    bins, missing_bins = bank_files(src, components)
    summary = dict(networks=sorted(files), missing=missing, banks={}, missing_banks=missing_bins,
                   dropped=[], out=None, banks_out=None)
    if files:
        state, networks, dropped = {}, {}, []
        for name, path in files.items():
            s, n, d = map_drawing_weights({name: load_arrays(path)}, model_cfg,
                                          {name: str(path)})
            state.update(s)
            networks.update(n)
            dropped += d
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f'.{out.name}.converting-{os.getpid()}')
        torch.save(dict(format=DRAWING_FORMAT, format_version=1,
                        layout=build_layout(model_cfg.get('layout')).to_dict(),
                        components=components, networks=networks, state_dict=state,
                        meta=dict(source=str(src), converted_from='official Jittor release '
                                  '(Drawing/)')), tmp)
        os.replace(tmp, out)
        summary.update(out=str(out), dropped=dropped)
    if bins:
        root = Path(banks_out) if banks_out is not None else \
            Path(out).with_name(Path(out).stem + '_banks')
        dim = int(model_cfg['drawing_encoder'].get('latent_dim', 512))
        for s, per_comp in bins.items():
            for c, path in per_comp.items():
                bank = load_bank(path, latent_dim=dim, component=c)
                save_bank(root / s / f'{c}.h5', bank.vectors, c,
                          dataset=dict(source=f'official release bank ({s})', path=str(path),
                                       num_samples=len(bank)))
                summary['banks'].setdefault(s, {})[c] = len(bank)
        summary['banks_out'] = str(root)
    return summary


def load_official_drawing(path: str | os.PathLike, names: Sequence[str] | None = None
                          ) -> dict[str, torch.nn.Module]:
    """The converted ``Drawing/`` networks of ``path`` (``weights_only`` load, every key
    checked by ``load_state_dict(strict=True)``), in eval mode."""
    import facedisentangle.models.backbones  # noqa: F401  (registers the BACKBONES)
    from facedisentangle.registry import BACKBONES

    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise OfficialWeightsError(f'{path}: not a loadable converted Drawing/ file '
                                   f'(weights_only: {first})') from None
    if not isinstance(obj, dict) or obj.get('format') != DRAWING_FORMAT:
        raise OfficialWeightsError(f'{path}: not a converted Drawing/ file (format '
                                   f'{obj.get("format") if isinstance(obj, dict) else None!r})')
    nets = {}
    for name in names or obj['networks']:
        if name not in obj['networks']:
            raise OfficialWeightsError(f'{path}: no network {name!r} (it has '
                                       f'{sorted(obj["networks"])})')
        net = BACKBONES.build(copy.deepcopy(obj['networks'][name]))
        head = f'{name}.'
        net.load_state_dict({k[len(head):]: v for k, v in obj['state_dict'].items()
                             if k.startswith(head)}, strict=True)
        nets[name] = net.eval()
    return nets
