"""Convert the released DeepFaceEditing (Jittor) weights into one facedisentangle export file.

Release layout (docs/method.md section 7), ``key`` = component name::

    sketch_encoder/sketch_encoder_{key}.pkl   -> sketch_encoders.{key}   SketchEncoder
    image_encoder/image_encoder_{key}.pkl     -> image_encoders.{key}    ImageGeometryEncoder
    generator/generator_{key}.pkl             -> generators.{key}        ComponentGenerator
    global_fuse.pkl                           -> fusion_generator        GlobalGenerator(64 in)
    sketch_generator.pkl (optional)           -> image_to_sketch         ImageToSketchGenerator

Our networks keep the official module nesting, so the key map is the identity under each
prefix. Every key is checked against the network built from :data:`OFFICIAL_MODEL` (on the
meta device): a missing, unexpected or mis-shaped key is an error naming the file and the key.
One exception: generator files saved after a forward pass also hold the per-sample AdaIN
``weight``/``bias`` that the official code assigns at run time (shape ``[B, C, 1, 1]``, under
each AdaIN layer's name, e.g. ``model.0.conv_block.0.norm.weight``, ``model.5.bias``); they are
not weights and are dropped (and listed in the summary).

The release has no sketch decoders, so the converted model supports geometry from photos and
sketches, swaps, mixing, interpolation and reconstruction; ``to_sketch`` uses the official
image-to-sketch network when ``sketch_generator.pkl`` is present (its structure is read from
its keys: width, down-samplings and block count).
"""
from __future__ import annotations

import copy
import mmap
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from facedisentangle.inference.export import write_export
from facedisentangle.inference.network_build import build_empty, check_state, shapes_of
from facedisentangle.models.backbones.adain import AdaptiveInstanceNorm2d
from facedisentangle.structures import build_layout

from .jittor_pickle import load_arrays

COMPONENTS = ('bg', 'eye1', 'eye2', 'nose', 'mouth')

# The official networks (DeepFaceEditing Combine_Model at 512; tests/data/
# official_param_names.txt) with facedisentangle's config keys.
OFFICIAL_MODEL: dict = dict(
    layout=dict(resolution=512),
    components=list(COMPONENTS),
    sketch_encoder=dict(type='SketchEncoder', input_nc=3, ngf=64, n_downsampling=4, n_blocks=1),
    image_encoder=dict(type='ImageGeometryEncoder', input_nc=3, ngf=64, n_downsampling=4,
                       n_blocks=6),
    generator=dict(type='ComponentGenerator', ngf=64, n_downsampling=4, n_blocks=4,
                   output_nc=3),
    fusion_generator=dict(type='GlobalGenerator', input_nc=64, output_nc=3, ngf=64,
                          n_downsampling=4, n_blocks=4),
)

# network prefix -> (file pattern, config key, required)
OFFICIAL_FILES: dict[str, tuple[str, str, bool]] = {
    'sketch_encoders': ('sketch_encoder/sketch_encoder_{key}.pkl', 'sketch_encoder', True),
    'image_encoders': ('image_encoder/image_encoder_{key}.pkl', 'image_encoder', True),
    'generators': ('generator/generator_{key}.pkl', 'generator', True),
    'fusion_generator': ('global_fuse.pkl', 'fusion_generator', True),
    'image_to_sketch': ('sketch_generator.pkl', 'image_to_sketch', False),
}


def paper_model_config(with_sketch_decoder: bool = True) -> dict:
    """The paper's networks at 512 (the official ones, plus our sketch decoder D_sketch)."""
    cfg = copy.deepcopy(OFFICIAL_MODEL)
    if with_sketch_decoder:
        cfg['sketch_decoder'] = dict(type='SketchDecoder', ngf=64, n_downsampling=4, n_blocks=1)
    return cfg


class OfficialWeightsError(ValueError):
    """A release directory or file that does not match the official networks."""


def official_files(src: str | os.PathLike, components: Sequence[str] = COMPONENTS
                   ) -> dict[str, Path]:
    """``{network name: path}`` of the release files in ``src`` (optional ones if present)."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f'{src}: no such directory (the unpacked official release)')
    found: dict[str, Path] = {}
    missing = []
    for prefix, (pattern, _, required) in OFFICIAL_FILES.items():
        names = ([(f'{prefix}.{c}', pattern.format(key=c)) for c in components]
                 if '{key}' in pattern else [(prefix, pattern)])
        for name, rel in names:
            path = src / rel
            if path.is_file():
                found[name] = path
            elif required:
                missing.append(rel)
    if missing:
        raise FileNotFoundError(f'{src}: missing release files {missing}')
    return found


def infer_global_generator_config(state: Mapping[str, np.ndarray], type_name: str,
                                  what: str) -> dict:
    """Width, down-samplings and blocks of a pix2pixHD global generator from its keys."""
    try:
        stem = state['model.1.weight']
    except KeyError:
        raise OfficialWeightsError(f'{what}: no model.1.weight (stem convolution)') from None
    blocks = sorted({int(m.group(1)) for k in state
                     if (m := re.match(r'model\.(\d+)\.conv_block\.', k))})
    if not blocks or (blocks[0] - 4) % 3 or blocks != list(range(blocks[0], blocks[-1] + 1)):
        raise OfficialWeightsError(f'{what}: cannot find a run of ResnetBlocks after the '
                                   f'down-samplings (block indices {blocks})')
    heads = sorted(int(m.group(1)) for k in state
                   if (m := re.match(r'model\.(\d+)\.weight$', k)))
    return dict(type=type_name, input_nc=int(stem.shape[1]), ngf=int(stem.shape[0]),
                n_downsampling=(blocks[0] - 4) // 3, n_blocks=len(blocks),
                output_nc=int(state[f'model.{heads[-1]}.weight'].shape[0]))


def runtime_adain_keys(net: torch.nn.Module) -> dict[str, int]:
    """``{'<layer>.weight' / '<layer>.bias': C}`` for every AdaIN layer of ``net``."""
    keys = {}
    for name, m in net.named_modules():
        if isinstance(m, AdaptiveInstanceNorm2d):
            keys[f'{name}.weight'] = keys[f'{name}.bias'] = m.num_features
    return keys


def _drop_runtime_adain(state: dict[str, np.ndarray], net: torch.nn.Module, what: str
                        ) -> list[str]:
    dropped = []
    for key, c in runtime_adain_keys(net).items():
        if key not in state:
            continue
        shape = tuple(state[key].shape)
        per_sample = (len(shape) == 4 and shape[1:] == (c, 1, 1)) or (
            len(shape) == 2 and shape[1] == c) or (len(shape) == 1 and shape[0] % c == 0)
        if not per_sample:
            raise OfficialWeightsError(f'{what}: {key} has shape {list(shape)}, not a '
                                       f'per-sample AdaIN parameter [B, {c}, 1, 1]')
        del state[key]
        dropped.append(key)
    return dropped


def network_config(name: str, model_cfg: Mapping, what: str,
                   arrays: Mapping[str, np.ndarray] | None = None) -> dict:
    """The config of network ``name`` (e.g. ``generators.eye1``); the image-to-sketch
    network's is read from its ``arrays`` when ``model_cfg`` has none."""
    prefix, _, comp = name.partition('.')
    if prefix not in OFFICIAL_FILES:
        raise OfficialWeightsError(f'unknown network {name!r}')
    key = OFFICIAL_FILES[prefix][1]
    if key == 'image_to_sketch' and model_cfg.get(key) is None:
        if arrays is None:
            raise OfficialWeightsError(f'{what}: its keys are needed to know its structure')
        return infer_global_generator_config(arrays, 'ImageToSketchGenerator', what)
    cfg = model_cfg.get(key)
    if cfg is None:
        raise OfficialWeightsError(f'{what}: no config for {key}')
    cfg = cfg if (not comp or 'type' in cfg) else cfg[comp]
    return copy.deepcopy(dict(cfg))


def map_official_weights(arrays: Mapping[str, Mapping[str, np.ndarray]],
                         model_cfg: Mapping | None = None,
                         files: Mapping[str, str] | None = None
                         ) -> tuple[dict[str, np.ndarray], dict[str, dict], list[str]]:
    """Map and check the release's arrays onto facedisentangle networks.

    Args:
        arrays: ``{network name: {official key: array}}`` (names as ``generators.eye1``).
        model_cfg: network settings (:data:`OFFICIAL_MODEL` by default).
        files: ``{network name: file}`` for messages.

    Returns:
        ``(state, networks, dropped)``: ``{'<name>.<key>': array}``, ``{name: config}`` and the
        dropped run-time AdaIN entries (``'<file>: <key>'``).
    """
    model_cfg = OFFICIAL_MODEL if model_cfg is None else model_cfg
    state: dict[str, np.ndarray] = {}
    networks: dict[str, dict] = {}
    dropped: list[str] = []
    for name, src in arrays.items():
        prefix = name.partition('.')[0]
        what = str((files or {}).get(name, name))
        cfg = network_config(name, model_cfg, what, src)
        net = build_empty(cfg, what)
        src = dict(src)
        if prefix == 'generators':
            dropped += [f'{what}: {k}' for k in _drop_runtime_adain(src, net, what)]
        try:
            check_state(shapes_of(net), src, what)
        except ValueError as e:
            raise OfficialWeightsError(str(e)) from None
        networks[name] = cfg
        state.update({f'{name}.{k}': v for k, v in src.items()})
    return state, networks, dropped


def _file_by_file_supported() -> bool:
    """torch can write an export's structure without its bytes and fill it in place."""
    ser = torch.serialization
    return hasattr(ser, 'skip_data') and hasattr(ser, 'set_default_mmap_options')


def _fill_in_place(path: Path, state: Mapping[str, np.ndarray]) -> None:
    """Copy ``state`` into the export file ``path`` through a shared memory mapping; the
    pages are unmapped when this returns, so only one file's weights are ever resident."""
    with torch.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        target = torch.load(path, mmap=True, weights_only=True, map_location='cpu')
    weights = target['state_dict']
    for key, value in state.items():
        weights[key].copy_(torch.from_numpy(np.require(value, np.float32, ['C'])))
    del weights, target


def _write_file_by_file(out: Path, files: Mapping[str, Path], model_cfg: Mapping,
                        layout: dict, components: list[str], meta: dict
                        ) -> tuple[dict, dict[str, dict], list[str]]:
    """Write the export with each release file read, checked and copied in turn.

    The export's structure is written first with ``torch.serialization.skip_data`` (the
    weights are allocated, never touched, and not written), then each release file is read,
    mapped, checked and copied into the file through a shared memory mapping, and freed
    before the next. Peak memory is about one release file (its bytes, its arrays and its
    pages of the export) instead of the whole model (about 4.9 GB of float32 for the
    official release). Written to a temporary file, renamed over ``out`` at the end.
    """
    what = {name: str(path) for name, path in files.items()}
    networks = {}
    for name, path in files.items():
        keys = (load_arrays(path) if name == 'image_to_sketch'
                and model_cfg.get('image_to_sketch') is None else None)
        networks[name] = network_config(name, model_cfg, what[name], keys)
        del keys
    skeleton = {f'{name}.{k}': torch.empty(shape)
                for name, cfg in networks.items()
                for k, shape in shapes_of(build_empty(cfg, what[name])).items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f'.{out.name}.converting-{os.getpid()}')
    dropped: list[str] = []
    try:
        with torch.serialization.skip_data():
            summary = write_export(tmp, layout, components, networks, skeleton, meta=meta)
        del skeleton
        for name, path in files.items():
            state, _, gone = map_official_weights({name: load_arrays(path)}, model_cfg,
                                                  {name: what[name]})
            dropped += gone
            _fill_in_place(tmp, state)
            del state
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    summary['out'] = str(out)
    return summary, networks, dropped


def convert_official_weights(src: str | os.PathLike, out: str | os.PathLike,
                             model_cfg: Mapping | None = None) -> dict:
    """Read the release in ``src``, check it, and write the export file ``out``.

    File by file (see :func:`_write_file_by_file`): one release file's weights are in memory
    at a time. With a torch older than ``torch.serialization.skip_data`` (2.5), every file is
    read first and the export written from memory (about 5.9 GB peak for the release).

    Args:
        model_cfg: network settings, layout and components (:data:`OFFICIAL_MODEL`); only
            for checkpoints of modified official models (and small-scale tests).

    Returns:
        the export summary plus ``dropped`` (run-time AdaIN entries) and ``supports``.
    """
    model_cfg = copy.deepcopy(dict(OFFICIAL_MODEL if model_cfg is None else model_cfg))
    layout = build_layout(model_cfg.get('layout'))
    components = list(model_cfg.get('components') or layout.components)
    files = official_files(src, components)
    meta = dict(source=str(src), converted_from='official Jittor release')
    if _file_by_file_supported():
        summary, networks, dropped = _write_file_by_file(Path(out), files, model_cfg,
                                                         layout.to_dict(), components, meta)
    else:
        arrays = {name: load_arrays(path) for name, path in files.items()}
        state, networks, dropped = map_official_weights(arrays, model_cfg,
                                                        {n: str(p) for n, p in files.items()})
        del arrays  # ``state`` holds the same arrays: float32 C-contiguous ones are not copied
        tensors = {k: torch.from_numpy(np.require(v, np.float32, ['C', 'W']))
                   for k, v in state.items()}
        del state
        summary = write_export(out, layout.to_dict(), components, networks, tensors, meta=meta)
    summary['dropped'] = dropped
    summary['supports'] = ['photo', 'sketch'] + (['image_to_sketch']
                                                  if 'image_to_sketch' in networks else [])
    return summary
