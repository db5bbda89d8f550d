"""Write one inference checkpoint: only the networks inference needs, their settings and the
layout, as plain data that ``torch.load(path, weights_only=True)`` reads.

Layout of the file (format ``facedisentangle-inference``, version 1)::

    {'format': 'facedisentangle-inference', 'format_version': 1,
     'layout': {'resolution', 'boxes', 'paste_order', 'trim', ...},   # ComponentLayout.to_dict
     'components': ['bg', 'eye1', 'eye2', 'nose', 'mouth'],
     'networks': {'image_encoders.eye1': {'type': 'ImageGeometryEncoder', 'ngf': 64, ...}, ...},
     'state_dict': {'image_encoders.eye1.model.1.weight': tensor, ...},
     'meta': {'source': ..., 'stages': [...], 'ema': bool, 'facedisentangle_version': ...}}

Discriminators, optimiser states and training bookkeeping are left out; with EMA the averaged
weights are the ones written (MMEngine keeps them under ``state_dict``).
"""
from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Sequence

import torch

from facedisentangle.engine.checkpoint import atomic_torch_save
from facedisentangle.version import __version__

from .checkpoint_reader import load_file, read_spec
from .network_build import build_empty, check_state, shapes_of
from .spec import EXPORT_FORMAT, EXPORT_VERSION, InferenceSpec


def _plain(value):
    """Config values as builtins only (tuples -> lists, ConfigDict -> dict)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f'config value {value!r} ({type(value).__name__}) is not plain data')


def collect_state(spec: InferenceSpec, names: Iterable[str] | None = None
                  ) -> dict[str, torch.Tensor]:
    """Every weight of the networks ``names`` (all by default), checked against its config."""
    names = list(names if names is not None else spec.networks)
    files: dict[str, dict] = {}
    state: dict[str, torch.Tensor] = {}
    for name in names:
        entry = spec.entry(name)
        if entry.file not in files:
            files[entry.file] = load_file(entry.file)['state_dict']
        src = files[entry.file]
        sub = {k[len(entry.key_prefix):]: v for k, v in src.items()
               if k.startswith(entry.key_prefix)}
        what = f'{name} in {entry.file}'
        check_state(shapes_of(build_empty(entry.config, what)), sub, what)
        state.update({f'{name}.{k}': v for k, v in sub.items()})
    return state


def write_export(out: str | os.PathLike, layout: dict, components: Sequence[str],
                 networks: dict[str, dict], state_dict: dict[str, torch.Tensor],
                 meta: dict | None = None) -> dict:
    """Write an export file (the format above) atomically and return a summary."""
    prefixes = tuple(f'{n}.' for n in networks)
    stray = [k for k in state_dict if not k.startswith(prefixes)]
    if stray:
        raise ValueError(f'export: weights {stray[:5]} belong to no listed network')
    meta = dict(meta or {})
    meta.update(facedisentangle_version=__version__,
                created=datetime.datetime.now().isoformat(timespec='seconds'))
    obj = {
        'format': EXPORT_FORMAT,
        'format_version': EXPORT_VERSION,
        'layout': _plain(layout),
        'components': list(components),
        'networks': {n: _plain(cfg) for n, cfg in networks.items()},
        'state_dict': state_dict,
        'meta': _plain(meta),
    }
    atomic_torch_save(obj, out)
    return dict(out=str(out), networks=list(networks), tensors=len(state_dict),
                parameters=sum(v.numel() for v in state_dict.values()),
                bytes=os.path.getsize(out))


def export_inference_checkpoint(source: str | os.PathLike | Sequence[str | os.PathLike],
                                out: str | os.PathLike,
                                names: Iterable[str] | None = None,
                                dtype: torch.dtype | None = None,
                                meta: dict | None = None) -> dict:
    """Write the export file ``out`` from ``source`` (see ``read_spec``) and return a summary.

    Args:
        names: networks to keep (all the inference networks of ``source`` by default).
        dtype: store floating-point weights in this dtype (default: as trained, float32);
            ``torch.bfloat16`` also stores 4-D weights channels-last: the layout of the fast
            path, which then uses them in place (half the file, no conversion at load).
        meta: extra provenance entries for ``meta``.
    """
    spec = read_spec(source)
    names = list(names if names is not None else spec.networks)
    state = collect_state(spec, names)
    info = {k: v for k, v in spec.meta.items() if k in ('source', 'stages', 'ema')}
    if dtype is not None and dtype != torch.float32:
        # stored as the fast path uses them (bfloat16, 4-D weights channels-last), so loading
        # maps them in place instead of converting
        state = {k: (v.to(dtype).contiguous(memory_format=torch.channels_last) if v.dim() == 4
                     else v.to(dtype)) if v.is_floating_point() else v
                 for k, v in state.items()}
        info['weights'] = f'{str(dtype).replace("torch.", "")}, channels-last'
    elif dtype is not None:
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    info.update(meta or {})
    summary = write_export(out, spec.layout, spec.components,
                           {n: spec.networks[n].config for n in names}, state, info)
    summary['source'] = spec.meta.get('source')
    return summary
