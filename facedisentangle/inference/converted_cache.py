"""A copy of a checkpoint's weights in the form the inference networks run in, kept on disk.

The CPU fast path runs every network in bfloat16, channels-last. Weights stored in another
form (a float32 training checkpoint or export) are converted when a network is built, and then
either everything stays resident (a 512 photo edit peaks at about 3.5 GB, 2.2 GB of it
bfloat16 weights) or the geometry encoders are converted again for every new input
(``low_memory``: 2.35 GB, but about 1.4 s more per edit; docs/benchmarks.md). Weights stored
in the execution form are used in place, memory-mapped: a network is then freed after use and
rebuilt for the price of a page-cache mapping, so ``low_memory`` costs almost nothing.

:func:`converted_spec` gives that to every source: the first load writes an export file (the
format of :mod:`~facedisentangle.inference.export`) whose weights are already in each
network's execution form, and every load after that maps it. Files live in
``$FACEDISENTANGLE_CACHE_DIR`` or ``$XDG_CACHE_HOME/facedisentangle/converted`` (default
``~/.cache/facedisentangle/converted``), one per (source files with their size and
modification time, precision, export format version), so a retrained checkpoint gets a new
one. Deleting the folder is always safe; ``tools/edit.py cache`` reports its size and
``tools/edit.py cache --clear`` empties it (:func:`report`, :func:`clear_cache`). A cache
that cannot be written (read-only or full disk) is reported with a warning and the source is
used as before. A checkpoint the model refuses (its layout, its encoders' strides) is refused
before anything is written (``model.check_spec``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from .checkpoint_reader import WeightFile, read_spec
from .precision import ExecutionForm, describe_precision
from .spec import EXPORT_VERSION, InferenceSpec

logger = logging.getLogger('facedisentangle.inference')


def default_cache_dir() -> Path:
    """``$FACEDISENTANGLE_CACHE_DIR``, else ``$XDG_CACHE_HOME/facedisentangle/converted``,
    else ``~/.cache/facedisentangle/converted``."""
    if os.environ.get('FACEDISENTANGLE_CACHE_DIR'):
        return Path(os.environ['FACEDISENTANGLE_CACHE_DIR']).expanduser()
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache')
    return Path(base).expanduser() / 'facedisentangle' / 'converted'


def needs_conversion(spec: InferenceSpec, forms: Mapping[str, ExecutionForm]) -> bool:
    """Whether any weight of ``spec`` is stored in another form than its network runs in."""
    files: dict[str, WeightFile] = {}
    for entry in spec.networks.values():
        wf = files.setdefault(entry.file, WeightFile(entry.file))
        form = forms[entry.role]
        if not wf.mapped or not all(wf.stored_as(k, form) for k in wf.keys(entry.key_prefix)):
            return True
    return False


def cache_file(spec: InferenceSpec, forms: Mapping[str, ExecutionForm],
               directory: str | os.PathLike | None = None) -> Path:
    """Where the converted copy of ``spec`` for ``forms`` is (or will be) kept."""
    sources = sorted({e.file for e in spec.networks.values()})
    key = []
    for f in sources:
        st = os.stat(f)
        key.append([os.path.abspath(f), st.st_size, st.st_mtime_ns])
    text = json.dumps(dict(files=key, networks=sorted(spec.networks),
                           precision={r: forms[r].name for r in sorted(forms)},
                           export_version=EXPORT_VERSION))
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    stem = Path(sources[0]).stem if len(sources) == 1 else 'stages'
    name = f"{stem}-{digest}-{describe_precision(forms).replace(', ', '_').replace('=', '-')}.pth"
    return Path(directory if directory is not None else default_cache_dir()) / name


def converted_spec(spec: InferenceSpec, forms: Mapping[str, ExecutionForm],
                   directory: str | os.PathLike | None = None) -> InferenceSpec:
    """The spec of the converted copy of ``spec`` (written on first use), or ``spec`` itself
    when its weights are already in their execution form or the copy cannot be written."""
    if not needs_conversion(spec, forms):
        return spec
    path = cache_file(spec, forms, directory)
    if not path.is_file():
        from .export import export_inference_checkpoint  # the writer (imports this module)

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            info = export_inference_checkpoint(spec, path, forms=forms,
                                               meta=dict(converted_for=describe_precision(forms)))
        except OSError as e:
            logger.warning('could not write the converted weights of %s to %s (%s); using '
                           'the source (slower or more memory, docs/editing.md)',
                           spec.meta.get('source'), path, e)
            return spec
        except ValueError:  # a network whose weights do not fit its config: no copy, and
            # the source's own error names it when (and only if) that network is used
            return spec
        logger.info('converted the weights of %s to %s once: %s (%.2f GB)',
                    spec.meta.get('source'), describe_precision(forms), path,
                    info['bytes'] / 1e9)
    converted = read_spec(path)
    # messages keep naming what the user gave; the copy is recorded next to it
    converted.meta.update(source=spec.meta.get('source'), converted_copy=str(path))
    return converted


# ------------------------------------------------------------------ size report and cleanup
def _is_cache_entry(path: Path) -> bool:
    """A file this module writes: ``<stem>-<24 hex>-<precision>.pth``, or its temporary file
    (``.<name>.tmp-<pid>``, left by a killed conversion)."""
    name = path.name
    if name.startswith('.') and '.pth.tmp-' in name:
        name = name[1:name.index('.tmp-')]
    parts = name.split('-')
    return (name.endswith('.pth') and path.is_file() and
            any(len(p) == 24 and all(c in '0123456789abcdef' for c in p) for p in parts))


def cache_entries(directory: str | os.PathLike | None = None) -> list[tuple[Path, int]]:
    """``[(file, bytes)]`` of the converted copies in ``directory`` (default
    :func:`default_cache_dir`), largest first; other files there are not listed."""
    folder = Path(directory if directory is not None else default_cache_dir())
    if not folder.is_dir():
        return []
    entries = [(p, p.stat().st_size) for p in folder.iterdir() if _is_cache_entry(p)]
    return sorted(entries, key=lambda e: (-e[1], e[0].name))


def clear_cache(directory: str | os.PathLike | None = None) -> tuple[int, int]:
    """Delete the converted copies (and only them); returns (files, bytes) removed. Always
    safe: a later load converts again."""
    removed = freed = 0
    for path, size in cache_entries(directory):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed, freed = removed + 1, freed + size
    return removed, freed


def _gb(n: int) -> str:
    return f'{n / 1e9:.2f} GB' if n >= 1e8 else f'{n / 1e6:.1f} MB'


def report(directory: str | os.PathLike | None = None, clear: bool = False) -> str:
    """The text of the size report (or, with ``clear``, of the cleanup)."""
    folder = Path(directory if directory is not None else default_cache_dir())
    if clear:
        n, freed = clear_cache(folder)
        return f'{folder}: removed {n} converted file(s), {_gb(freed)} freed'
    entries = cache_entries(folder)
    lines = [f'{folder}: {len(entries)} converted file(s), {_gb(sum(s for _, s in entries))}']
    lines += [f'  {_gb(size):>9}  {path.name}' for path, size in entries]
    return '\n'.join(lines)

