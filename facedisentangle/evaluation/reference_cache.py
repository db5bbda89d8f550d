"""Cache of the real set's feature statistics (FID, KID), reused across runs.

The cache file is ``{cache_dir}/{kind}_{name}_{digest}.npz``; ``digest`` is a SHA-1 of a JSON
key made of:

* the ``reference`` dict from the metric config (e.g. ``dict(source='data/faces-512.h5',
  split='test', resolution=512)``; any extra field, e.g. ``pipeline='v2'``, is part of it);
* when ``reference['source']`` is a file: its absolute path, size and modification time, and,
  for an HDF5 file, its ``content_hash`` and ``num_samples`` attributes when present, so that a
  rewritten file gives a new key;
* what the metric adds: the feature network, the image key (component prefix included),
  quantisation, the KID sample cap.

The key is stored in the file and checked on load; a file whose key differs (a hash collision
or a hand-copied file) is ignored with a warning.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from mmengine.logging import print_log


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/facedisentangle/reference_stats`` (``~/.cache/...`` by default)."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'facedisentangle' / 'reference_stats'


def _source_identity(source) -> dict:
    p = Path(source).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"reference statistics: reference['source'] file {str(p)!r} "
                                'does not exist.')
    p = p.resolve()
    st = p.stat()
    ident = dict(path=str(p), size=st.st_size, mtime_ns=st.st_mtime_ns)
    if p.is_file() and p.suffix.lower() in ('.h5', '.hdf5'):
        import h5py
        try:
            with h5py.File(p, 'r') as f:
                for attr in ('content_hash', 'num_samples'):
                    if attr in f.attrs:
                        v = f.attrs[attr]
                        ident[attr] = v.decode() if isinstance(v, bytes) else str(v)
        except OSError as e:
            raise ValueError(f'reference statistics: {str(p)!r} is not a readable HDF5 file: '
                             f'{e}') from e
    return ident


class ReferenceCache:
    """One ``.npz`` of reference statistics, named and keyed by the data set and the metric.

    Args:
        kind: ``'fid'`` or ``'kid'`` (file name prefix).
        reference: dict describing the real set (see module doc); must not be empty.
        metric_key: what the metric itself adds to the key.
        cache_dir: folder of the cache files (default :func:`default_cache_dir`).
    """

    def __init__(self, kind: str, reference: dict, metric_key: dict,
                 cache_dir: str | os.PathLike | None = None):
        if not isinstance(reference, dict) or not reference:
            raise ValueError(f'{kind}: reference must be a non-empty dict describing the real '
                             f"set (e.g. dict(source='data/faces.h5', split='test', "
                             f'resolution=512)), got {reference!r}.')
        fields = {k: v for k, v in reference.items() if k != 'source'}
        key = dict(reference=fields, metric=metric_key)
        if 'source' in reference:
            key['source'] = _source_identity(reference['source'])
        self.key_json = json.dumps(key, sort_keys=True, default=str)
        digest = hashlib.sha1(self.key_json.encode()).hexdigest()[:16]
        parts = [Path(str(reference['source'])).stem] if 'source' in reference else []
        parts += [str(fields[k]) for k in sorted(fields)]
        name = re.sub(r'[^A-Za-z0-9_.-]+', '-', '_'.join(parts))[:80]
        self.path = Path(cache_dir or default_cache_dir()) / f'{kind}_{name}_{digest}.npz'

    def load(self) -> dict[str, np.ndarray] | None:
        """The cached arrays, or None when there is no (matching) cache file."""
        if not self.path.is_file():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except Exception as e:  # noqa: BLE001 - a broken cache is recomputed, not fatal
            print_log(f'reference statistics: cannot read {self.path} ({e}); recomputing.',
                      logger='current', level=logging.WARNING)
            return None
        stored = str(data.pop('cache_key', ''))
        if stored != self.key_json:
            print_log(f'reference statistics: {self.path} was made for another key; ignoring '
                      'it.', logger='current', level=logging.WARNING)
            return None
        return data

    def save(self, **arrays: np.ndarray) -> None:
        """Write the arrays (atomically: temp file, then rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix='.npz.tmp')
        os.close(fd)
        try:
            with open(tmp, 'wb') as f:
                np.savez(f, cache_key=np.array(self.key_json), **arrays)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        print_log(f'reference statistics saved to {self.path}', logger='current')
