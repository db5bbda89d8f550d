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

With ``quantize='int8'`` or ``'int4'`` the weights of 2 or more dimensions are stored
quantised under ``'quantized'`` (``format_version`` 2; see :mod:`.quantize`), the rest under
``state_dict`` in ``dtype``; the reader turns them back into float weights at load.
"""
from __future__ import annotations

import datetime
import math
import os
from collections.abc import Iterable, Mapping, Sequence

import torch

from facedisentangle.engine.checkpoint import atomic_torch_save
from facedisentangle.version import __version__

from .checkpoint_reader import WeightFile, load_network_state, read_spec
from .network_build import build_empty, check_state, shapes_of
from .precision import ROLES, ExecutionForm
from .quantize import quantize_state_dict, quantized_bytes
from .spec import EXPORT_FORMAT, EXPORT_VERSION, EXPORT_VERSION_QUANTIZED, InferenceSpec


def _plain(value):
    """Config values as builtins only (tuples -> lists, ConfigDict -> dict)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f'config value {value!r} ({type(value).__name__}) is not plain data')


def collect_state(spec: InferenceSpec, names: Iterable[str] | None = None,
                  forms: Mapping[str, ExecutionForm] | None = None
                  ) -> dict[str, torch.Tensor]:
    """Every weight of the networks ``names`` (all by default), checked against its config;
    with ``forms`` (``{role: ExecutionForm}``) each converted to its network's form, one
    weight at a time (the source's pages are released as they are converted)."""
    names = list(names if names is not None else spec.networks)
    files: dict[str, WeightFile] = {}
    state: dict[str, torch.Tensor] = {}
    for name in names:
        entry = spec.entry(name)
        convert = forms[entry.role].parameter if forms is not None else (lambda t: t)
        sub = load_network_state(entry, convert, files)
        what = f'{name} in {entry.file}'
        check_state(shapes_of(build_empty(entry.config, what)), sub, what)
        state.update({f'{name}.{k}': v for k, v in sub.items()})
    return state


def write_export(out: str | os.PathLike, layout: dict, components: Sequence[str],
                 networks: dict[str, dict], state_dict: dict[str, torch.Tensor],
                 meta: dict | None = None, quantized: dict[str, dict] | None = None) -> dict:
    """Write an export file (the format above) atomically and return a summary."""
    quantized = dict(quantized or {})
    prefixes = tuple(f'{n}.' for n in networks)
    stray = [k for k in (*state_dict, *quantized) if not k.startswith(prefixes)]
    if stray:
        raise ValueError(f'export: weights {stray[:5]} belong to no listed network')
    meta = dict(meta or {})
    meta.update(facedisentangle_version=__version__,
                created=datetime.datetime.now().isoformat(timespec='seconds'))
    obj = {
        'format': EXPORT_FORMAT,
        'format_version': EXPORT_VERSION_QUANTIZED if quantized else EXPORT_VERSION,
        'layout': _plain(layout),
        'components': list(components),
        'networks': {n: _plain(cfg) for n, cfg in networks.items()},
        'state_dict': state_dict,
        'meta': _plain(meta),
    }
    if quantized:
        obj['quantized'] = quantized
    atomic_torch_save(obj, out)
    params = sum(v.numel() for v in state_dict.values()) + sum(
        math.prod(e['shape']) for e in quantized.values())
    return dict(out=str(out), networks=list(networks),
                tensors=len(state_dict) + len(quantized), quantized=len(quantized),
                quantized_bytes=sum(quantized_bytes(e) for e in quantized.values()),
                parameters=params, bytes=os.path.getsize(out))


def export_inference_checkpoint(source: str | os.PathLike | Sequence[str | os.PathLike]
                                | InferenceSpec,
                                out: str | os.PathLike,
                                names: Iterable[str] | None = None,
                                dtype: torch.dtype | None = None,
                                meta: dict | None = None,
                                forms: Mapping[str, ExecutionForm] | None = None,
                                quantize: str | None = None, group: int = 64,
                                min_numel: int = 16384,
                                int8_networks: Sequence[str] = ()) -> dict:
    """Write the export file ``out`` from ``source`` (see ``read_spec``, or an already read
    :class:`InferenceSpec`) and return a summary.

    Args:
        names: networks to keep (all the inference networks of ``source`` by default).
        dtype: store floating-point weights in this dtype (default: as trained, float32);
            ``torch.bfloat16`` also stores 4-D weights channels-last: the layout of the fast
            path, which then uses them in place (half the file, no conversion at load).
        meta: extra provenance entries for ``meta``.
        forms: instead of ``dtype``, each network's weights in the execution form of its role
            (``{role: ExecutionForm}``, :func:`~facedisentangle.inference.resolve_precision`).
        quantize: ``'int8'`` or ``'int4'``: store the weights of 2 or more dimensions
            quantised (:func:`~facedisentangle.inference.quantize.quantize_state_dict`, 4-bit
            groups of ``group``, 4 bits for weights of at least ``min_numel`` elements
            outside ``int8_networks``, e.g. ``['fusion_generator']``); the
            other weights in ``dtype``. Quantises the weights as trained (float32), not a
            ``dtype`` copy of them.
    """
    spec = source if isinstance(source, InferenceSpec) else read_spec(source)
    names = list(names if names is not None else spec.networks)
    info = {k: v for k, v in spec.meta.items() if k in ('source', 'stages', 'ema')}
    if dtype is not None and forms is not None:
        raise ValueError('export: give dtype or forms, not both')
    quantized: dict[str, dict] = {}
    if quantize is not None:
        if forms is not None:
            raise ValueError('export: give quantize or forms, not both')
        state, quantized = quantize_state_dict(collect_state(spec, names), quantize, group,
                                               min_numel, tuple(int8_networks))
        if quantize == 'int4':
            kept8 = f' except {", ".join(int8_networks)} (8 bits)' if int8_networks else ''
            info['weights'] = (f'int4 quantised (4-bit groups of {group}, weights of '
                               f'>= {min_numel} elements{kept8})')
        else:
            info['weights'] = 'int8 quantised (one scale per output channel)'
        if dtype is not None:
            state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
            info['weights'] += f', the rest {str(dtype).replace("torch.", "")}'
    else:
        if dtype is not None:
            # bfloat16 is stored as the fast path uses it (4-D weights channels-last), so
            # loading maps it in place instead of converting
            form = ExecutionForm(dtype, channels_last=dtype != torch.float32)
            forms = {role: form for role in ROLES}
            if dtype != torch.float32:
                info['weights'] = f'{str(dtype).replace("torch.", "")}, channels-last'
        state = collect_state(spec, names, forms)
    info.update(meta or {})
    summary = write_export(out, spec.layout, spec.components,
                           {n: spec.networks[n].config for n in names}, state, info,
                           quantized=quantized)
    summary['source'] = spec.meta.get('source')
    return summary
