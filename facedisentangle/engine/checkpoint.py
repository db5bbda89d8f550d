"""Safe checkpoint I/O for MMEngine 0.10 on torch >= 2.6.

* Loading never unpickles arbitrary code: ``torch.load(..., weights_only=True)`` with an
  allow-list of the plain data classes MMEngine writes into its own checkpoints (its
  ``HistoryBuffer``, numpy arrays and scalars). This fixes ``--resume`` ("Weights only load
  failed") without switching torch's protection off for the process
  (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``), so other people's checkpoints stay untrusted.
* Saving is atomic: written to a temporary file in the same directory, fsynced, renamed.
* ``find_last_good_checkpoint`` finds the newest checkpoint that actually loads, so a
  ``kill -9`` during saving or a truncated ``last_checkpoint`` file never blocks a resume.
"""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import torch


def _numpy_safe_globals() -> list:
    core = getattr(np, '_core', None)
    if core is None:  # numpy 1.x
        core = np.core
    reconstruct, scalar = core.multiarray._reconstruct, core.multiarray.scalar
    allowed: list = [np.ndarray, np.dtype, reconstruct, scalar,
                     # files pickled by numpy 1.x name numpy.core.*, numpy 2 names numpy._core.*
                     (reconstruct, 'numpy.core.multiarray._reconstruct'),
                     (scalar, 'numpy.core.multiarray.scalar'),
                     (reconstruct, 'numpy._core.multiarray._reconstruct'),
                     (scalar, 'numpy._core.multiarray.scalar')]
    try:  # numpy >= 1.25: dtype classes live in numpy.dtypes
        import numpy.dtypes as npd
        allowed += [getattr(npd, n) for n in dir(npd) if n.endswith('DType')]
    except ImportError:  # pragma: no cover
        pass
    return allowed


_BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """Stands in for ``getattr`` while unpickling: only ``HistoryBuffer.<statistic>``.

    MMEngine pickles each ``HistoryBuffer``'s ``_statistics_methods`` as
    ``getattr(HistoryBuffer, 'mean')`` etc. Allowing the real ``getattr`` would let a crafted
    file reach any attribute of any object; this accepts exactly those look-ups.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and isinstance(name, str):
        if name in _BUILTIN_STATISTICS:  # registered lazily, by the first HistoryBuffer()
            return getattr(HistoryBuffer, name)
        if name in HistoryBuffer._statistics_methods:
            return HistoryBuffer._statistics_methods[name]
    raise pickle.UnpicklingError(f'refused getattr({obj!r}, {name!r}) in a checkpoint')


def checkpoint_safe_globals() -> list:
    """Classes, beyond tensors and builtins, that MMEngine checkpoints are allowed to hold."""
    from mmengine.logging.history_buffer import HistoryBuffer

    return [HistoryBuffer, *_numpy_safe_globals(),
            (_history_buffer_getattr, 'builtins.getattr'),
            (_history_buffer_getattr, '__builtin__.getattr')]


def safe_load_checkpoint(path: str | os.PathLike, map_location='cpu'):
    """``torch.load`` with ``weights_only=True`` and MMEngine's data classes allowed.

    Raises a ``RuntimeError`` naming the file when it is truncated, corrupt or asks for
    anything but tensors and plain data (an untrusted pickle is refused, never executed).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {str(path)!r} not found')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise RuntimeError(f'could not load checkpoint {str(path)!r} safely '
                           f'(weights_only=True): {e}') from e


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file next to ``path``, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.tmp-{os.getpid()}')
    try:
        with open(tmp, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.tmp-{os.getpid()}')
    tmp.write_text(text)
    os.replace(tmp, path)


_CKPT_RE = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def _loads(path: Path) -> bool:
    try:
        ckpt = safe_load_checkpoint(path)
    except Exception:
        return False
    return isinstance(ckpt, dict) and 'state_dict' in ckpt and 'meta' in ckpt


def find_last_good_checkpoint(work_dir: str | os.PathLike) -> str | None:
    """The newest loadable checkpoint in ``work_dir``, or ``None``.

    Tries the path named in ``work_dir/last_checkpoint`` first, then ``iter_N.pth`` /
    ``epoch_N.pth`` files from the highest N down, skipping files that do not load.
    """
    work_dir = Path(work_dir)
    candidates: list[Path] = []
    pointer = work_dir / 'last_checkpoint'
    if pointer.is_file():
        named = pointer.read_text().strip()
        if named:
            candidates.append(Path(named))
    numbered = sorted(((int(m.group(1)), p) for p in work_dir.glob('*.pth')
                       if (m := _CKPT_RE.match(p.name))), reverse=True)
    candidates += [p for _, p in numbered]
    seen = set()
    for cand in candidates:
        if cand in seen or not cand.is_file():
            continue
        seen.add(cand)
        if _loads(cand):
            return str(cand)
    return None
