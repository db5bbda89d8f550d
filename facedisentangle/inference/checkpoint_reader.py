"""Find the inference networks in an export file, MMEngine stage checkpoints or a work dir,
and load their weights lazily, one network at a time, straight into the wanted precision.

Accepted sources (:func:`read_spec`):

* an export file (``tools/export.py``, ``tools/convert_official_weights.py``): a dict with
  ``format == 'facedisentangle-inference'``, the layout, every network's config and the weights;
* one MMEngine checkpoint of a training stage: ``state_dict`` with the prefixes of
  :mod:`~facedisentangle.inference.spec` and the config text in ``meta['cfg']`` (read as plain
  data, never executed: :mod:`~facedisentangle.inference.config_text`). A stage-4 checkpoint
  holds every network; with EMA the averaged weights are already under ``state_dict``;
* several stage checkpoints (a list): each network is taken from the latest stage that has it;
* a work directory: the last good checkpoint of the directory and of each sub-directory.

Files are opened with ``torch.load(..., weights_only=True, mmap=True)``: nothing is executed,
and a network's weights are read from the page cache only when it is built, converted weight by
weight (:class:`WeightFile`), so the float32 copy of a checkpoint never sits in memory.
"""
from __future__ import annotations

import copy
import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch

from facedisentangle.engine.checkpoint import (
    checkpoint_safe_globals,
    find_last_good_checkpoint,
    safe_load_checkpoint,
)

from .config_text import ConfigTextError, literal_config
from .quantize import dequantize_weight
from .spec import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    EXPORT_VERSION_QUANTIZED,
    PER_COMPONENT,
    SINGLE,
    CheckpointKindError,
    InferenceSpec,
    NetworkEntry,
    network_name,
)

# stage rank of a checkpoint = the latest network group it holds
_STAGE_OF_PREFIX = {'sketch_encoders': 1, 'sketch_decoders': 1, 'image_encoders': 2,
                    'generators': 3, 'fusion_generator': 4, 'image_to_sketch': 4}


def load_file(path: str | os.PathLike) -> dict:
    """``torch.load`` with ``weights_only=True`` (MMEngine's data classes allowed) and ``mmap``.

    Falls back to a plain safe load for files in the legacy (non-zip) format.
    """
    return _load_file(path)[0]


def _load_file(path: str | os.PathLike) -> tuple[dict, bool]:
    """``(checkpoint dict, whether its tensors are memory-mapped from the file)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {str(path)!r} not found')
    mapped = True
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            obj = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception as e:
        if 'mmap can only be used' not in str(e):  # pickle errors, truncated zip, ...
            raise CheckpointKindError(f'{path}: not a loadable checkpoint ({_first_line(e)})'
                                      ) from None
        try:  # the legacy (non-zip) torch format cannot be memory-mapped
            obj, mapped = safe_load_checkpoint(path), False
        except Exception as e2:
            raise CheckpointKindError(f'{path}: not a loadable checkpoint '
                                      f'({_first_line(e2.__cause__ or e2)})') from None
    if not isinstance(obj, dict):
        raise CheckpointKindError(f'{path}: holds a {type(obj).__name__}, not a checkpoint dict')
    return obj, mapped


def _first_line(e: BaseException) -> str:
    if 'Weights only load failed' in str(e):
        return ('not a torch checkpoint, or it holds objects other than tensors and plain '
                'data, which are not loaded')
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text if len(text) <= 160 else text[:157] + '...'


# ------------------------------------------------------------------------------- sources
def read_spec(source: str | os.PathLike | Sequence[str | os.PathLike]) -> InferenceSpec:
    """The :class:`InferenceSpec` of an export file, stage checkpoint(s) or a work directory."""
    if isinstance(source, (list, tuple)):
        if not source:
            raise CheckpointKindError('no checkpoints given')
        return _merge_stage_checkpoints([Path(p) for p in source], str(list(map(str, source))))
    path = Path(source).expanduser()
    if path.is_dir():
        return _merge_stage_checkpoints(_work_dir_checkpoints(path), str(path))
    if not path.exists():
        raise FileNotFoundError(f'checkpoint {str(path)!r} not found')
    obj = load_file(path)
    if obj.get('format') == EXPORT_FORMAT:
        return _export_spec(obj, path)
    if 'state_dict' in obj:
        return _merge_stage_checkpoints([path], str(path), loaded={path: obj})
    raise CheckpointKindError(f'{path}: neither a facedisentangle export file nor an MMEngine '
                              f'checkpoint (top-level keys: {sorted(map(str, obj))[:8]})')


def _export_spec(obj: dict, path: Path) -> InferenceSpec:
    version = obj.get('format_version')
    if version not in (EXPORT_VERSION, EXPORT_VERSION_QUANTIZED):
        raise CheckpointKindError(f'{path}: export format version {version!r}, this '
                                  f'facedisentangle reads versions {EXPORT_VERSION} and '
                                  f'{EXPORT_VERSION_QUANTIZED}')
    if version == EXPORT_VERSION_QUANTIZED and not isinstance(obj.get('quantized'), Mapping):
        raise CheckpointKindError(f"{path}: export version {version} without 'quantized'")
    for key in ('layout', 'components', 'networks', 'state_dict'):
        if key not in obj:
            raise CheckpointKindError(f'{path}: export file without {key!r}')
    networks = {}
    for name, cfg in obj['networks'].items():
        networks[name] = NetworkEntry(name, dict(cfg), str(path), f'{name}.')
    meta = dict(obj.get('meta', {}))
    meta['source'] = str(path)
    return InferenceSpec(dict(obj['layout']), tuple(obj['components']), networks, meta)


def _work_dir_checkpoints(work_dir: Path) -> list[Path]:
    dirs = [work_dir] + sorted(p for p in work_dir.iterdir() if p.is_dir())
    found = []
    for d in dirs:
        ckpt = _last_checkpoint(d)
        if ckpt is not None:
            found.append(ckpt)
    if not found:
        raise CheckpointKindError(f'{work_dir}: no checkpoint in it or its sub-directories '
                                  '(expected last_checkpoint or iter_*.pth files)')
    return found


def _last_checkpoint(d: Path) -> Path | None:
    pointer = d / 'last_checkpoint'
    if pointer.is_file():
        named = Path(pointer.read_text().strip())
        if not named.is_absolute() and not named.is_file():
            named = d / named.name
        try:
            load_file(named)
            return named
        except (OSError, CheckpointKindError):
            pass
    good = find_last_good_checkpoint(d)
    return Path(good) if good else None


def _prefixes_in(state: Mapping[str, torch.Tensor]) -> dict[str, set[str]]:
    """``{prefix: {components}}`` (an empty set for single networks) present in ``state``."""
    found: dict[str, set[str]] = {}
    for key in state:
        head, _, rest = key.partition('.')
        if head in PER_COMPONENT and rest:
            found.setdefault(head, set()).add(rest.partition('.')[0])
        elif head in SINGLE and rest:
            found.setdefault(head, set())
    return found


def _model_config(obj: dict, path: Path) -> dict:
    text = (obj.get('meta') or {}).get('cfg')
    if text is None:
        raise CheckpointKindError(f'{path}: MMEngine checkpoint without its config '
                                  "(meta['cfg']); cannot tell the networks' settings")
    try:
        return literal_config(text, ('model',), source=str(path))['model']
    except ConfigTextError as e:
        raise CheckpointKindError(str(e)) from None


def _component_config(model_cfg: dict, key: str, comp: str | None, path: Path) -> dict:
    cfg = model_cfg.get(key)
    if not isinstance(cfg, Mapping):
        raise CheckpointKindError(f'{path}: its config has no model.{key} although the '
                                  f'checkpoint holds {key} weights')
    if comp is not None and 'type' not in cfg:
        if comp not in cfg:
            raise CheckpointKindError(f'{path}: model.{key} has no config for component '
                                      f'{comp!r} (keys: {list(cfg)})')
        cfg = cfg[comp]
    return copy.deepcopy(dict(cfg))


def _merge_stage_checkpoints(paths: list[Path], source: str,
                             loaded: dict[Path, dict] | None = None) -> InferenceSpec:
    loaded = dict(loaded or {})
    stages = []
    for path in paths:
        obj = loaded.get(path) or load_file(path)
        if obj.get('format') == EXPORT_FORMAT:
            raise CheckpointKindError(f'{path}: an export file cannot be merged with stage '
                                      'checkpoints; give it alone')
        state = obj.get('state_dict')
        if not isinstance(state, Mapping):
            raise CheckpointKindError(f'{path}: not an MMEngine checkpoint (no state_dict)')
        present = _prefixes_in(state)
        if not present:
            raise CheckpointKindError(
                f'{path}: holds no DeepFaceEditing networks (no keys starting with '
                f'{", ".join(p + "." for p in (*PER_COMPONENT, *SINGLE))})')
        rank = max(_STAGE_OF_PREFIX[p] for p in present)
        stages.append((rank, path, obj, present))
    stages.sort(key=lambda s: s[0])  # later stages override earlier ones
    from facedisentangle.structures import build_layout

    networks: dict[str, NetworkEntry] = {}
    layout = components = first = None
    ema = False
    for rank, path, obj, present in stages:
        model_cfg = _model_config(obj, path)
        layout = dict(model_cfg.get('layout') or {})
        components = model_cfg.get('components')
        boxes = build_layout(layout).to_dict()
        if first is None:
            first = (path, boxes)
        elif {k: v for k, v in boxes.items() if k != 'components'} != \
                {k: v for k, v in first[1].items() if k != 'components'}:
            raise CheckpointKindError(f'{path} and {first[0]} were trained with different '
                                      f'layouts ({boxes} vs {first[1]})')
        ema = ema or 'ema_state_dict' in obj
        for prefix, comps in present.items():
            key = PER_COMPONENT.get(prefix) or SINGLE[prefix]
            for comp in (sorted(comps) if prefix in PER_COMPONENT else [None]):
                name = network_name(prefix, comp)
                networks[name] = NetworkEntry(name, _component_config(model_cfg, key, comp, path),
                                              str(path), f'{name}.')
    lay = build_layout(layout)
    comps = tuple(components) if components else lay.components
    meta = dict(source=source, stages=[str(p) for _, p, _, _ in stages], ema=ema)
    return InferenceSpec(lay.to_dict(), comps, networks, meta)


# ------------------------------------------------------------------------------- weights
_MADV_DONTNEED = 4
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith('linux') else None
_PAGE = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096


def _drop_mapped_pages(t: torch.Tensor) -> None:
    """Unmap the file pages under ``t`` (a view of a private file mapping) from this process.

    ``madvise(MADV_DONTNEED)`` on a private, never-written file mapping only drops the pages
    from the process (they stay in the page cache; touching them again re-reads the file), so
    a weight that has been converted no longer counts in the process's memory.
    """
    if _LIBC is None or t.device.type != 'cpu' or t.numel() == 0:
        return
    start = t.data_ptr()
    end = start + t.numel() * t.element_size()
    first = -(-start // _PAGE) * _PAGE  # whole pages inside the tensor only
    last = end // _PAGE * _PAGE
    if last > first:
        _LIBC.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED)


class WeightFile:
    """The ``state_dict`` of one checkpoint or export file, memory-mapped once.

    :meth:`take` returns a converted copy of a weight and releases the mapped pages it read,
    so loading converts the file weight by weight without its float32 copy accumulating in the
    process's memory; a weight already stored in the wanted form is used in place (zero copy).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self._state: Mapping[str, torch.Tensor] | None = None
        self._quantized: Mapping[str, Mapping] = {}
        self._mapped = False

    @property
    def state(self) -> Mapping[str, torch.Tensor]:
        if self._state is None:
            with torch.inference_mode(False):  # normal tensors, usable as parameters
                obj, self._mapped = _load_file(self.path)
            state = obj.get('state_dict')
            if not isinstance(state, Mapping):
                raise CheckpointKindError(f'{self.path}: no state_dict')
            quantized = obj.get('quantized') or {}
            if not isinstance(quantized, Mapping):
                raise CheckpointKindError(f"{self.path}: 'quantized' is not a mapping")
            self._quantized = quantized
            self._state = state
            tensors = [v for v in state.values() if isinstance(v, torch.Tensor) and v.numel()]
            self._range = (min((t.data_ptr() for t in tensors), default=0),
                           max((t.data_ptr() + t.numel() * t.element_size() for t in tensors),
                               default=0))
        return self._state

    @property
    def mapped(self) -> bool:
        """Whether the weights are memory-mapped (zip-format file) rather than read in."""
        self.state
        return self._mapped

    def keys(self, prefix: str) -> list[str]:
        state = self.state
        return [k for k in (*state, *self._quantized) if k.startswith(prefix)]

    def stored_as(self, key: str, form) -> bool:
        """Whether the weight ``key`` is stored in ``form`` (an ExecutionForm), so it can be
        used in place: never for a quantised weight."""
        state = self.state
        return key not in self._quantized and form.matches(state[key])

    def take(self, key: str, convert: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``convert(weight)``. When that is a copy, the weight's mapped pages are released;
        when ``convert`` returns the weight itself, it stays mapped and is used in place.
        A quantised weight (export version 2) is dequantised to float32 first."""
        state = self.state
        if key in self._quantized:
            return convert(dequantize_weight(self._quantized[key], f'{self.path}: {key}'))
        t = state[key]
        out = convert(t)
        if self._mapped and out.data_ptr() != t.data_ptr():
            _drop_mapped_pages(t)
        return out

    def release(self, t: torch.Tensor) -> None:
        """Drop the mapped pages under ``t`` if it is a weight used in place from this file
        (no-op for anything else)."""
        if self._mapped and self._state is not None and t.device.type == 'cpu' and \
                self._range[0] <= t.data_ptr() < self._range[1]:
            _drop_mapped_pages(t)

    def close(self) -> None:
        self._state = None


def load_network_state(entry: NetworkEntry, convert: Callable[[torch.Tensor], torch.Tensor],
                       files: dict[str, WeightFile] | None = None) -> dict[str, torch.Tensor]:
    """The weights of one network (``entry.key_prefix`` stripped), each ``convert``-ed.

    ``files`` keeps the opened :class:`WeightFile` s between calls (one mapping per file).
    """
    files = {} if files is None else files
    wf = files.get(entry.file)
    if wf is None:
        wf = files[entry.file] = WeightFile(entry.file)
    keys = wf.keys(entry.key_prefix)
    if not keys:
        raise CheckpointKindError(f'{entry.file}: no {entry.key_prefix}* weights for '
                                  f'{entry.name}')
    return {k[len(entry.key_prefix):]: wf.take(k, convert) for k in keys}
