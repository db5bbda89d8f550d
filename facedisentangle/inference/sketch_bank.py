"""Sketch banks: the training sketches' embedding vectors of one component, for projection.

Ours: one HDF5 file per component, written by ``tools/build_sketch_bank.py``::

    attrs   format = 'facedisentangle-sketch-bank', version = 1, component, latent_dim,
            dataset (JSON: path, size, resolution, source, num_samples, split, sketches_sha1 =
            SHA-1 of the encoded uint8 sketches in file order), checkpoint (JSON: path, sha256)
    vectors float32 (N, latent_dim)
    names   UTF-8 str (N,), the samples' names

Also read: a ``.npy`` of shape (N, D), and the official release's ``.bin`` banks
(``checkpoints/bin/{man,female}_{component}_feature.bin``): raw little-endian float32, N x 512
row-major, no header (6,247 male and 11,456 female vectors per component).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BANK_FORMAT = 'facedisentangle-sketch-bank'
BANK_VERSION = 1
OFFICIAL_BIN = re.compile(r'^(man|female)_(\w+?)_feature\.bin$')


class SketchBankError(ValueError):
    """A bank file that cannot be used; the message names the file and the problem."""


@dataclass
class SketchBank:
    """The vectors ``(N, D)`` float32 of one component and where they came from."""
    vectors: np.ndarray
    component: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def latent_dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


def save_bank(path: str | os.PathLike, vectors: np.ndarray, component: str,
              names=None, dataset: dict | None = None, checkpoint: dict | None = None) -> Path:
    """Write one component's bank (atomically: a temporary file renamed into place)."""
    import h5py

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or not len(vectors):
        raise SketchBankError(f'sketch bank {component!r}: vectors must be a non-empty (N, D) '
                              f'array, got {vectors.shape}')
    if not np.isfinite(vectors).all():
        raise SketchBankError(f'sketch bank {component!r}: vectors contain NaN or Inf')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.tmp-{os.getpid()}')
    with h5py.File(tmp, 'w') as f:
        f.attrs.update(format=BANK_FORMAT, version=BANK_VERSION, component=component,
                       latent_dim=vectors.shape[1], dataset=json.dumps(dataset or {}),
                       checkpoint=json.dumps(checkpoint or {}))
        f.create_dataset('vectors', data=vectors)
        if names is not None:
            names = [str(n) for n in names]
            if len(names) != len(vectors):
                raise SketchBankError(f'sketch bank {component!r}: {len(names)} names for '
                                      f'{len(vectors)} vectors')
            f.create_dataset('names', data=names, dtype=h5py.string_dtype())
    os.replace(tmp, path)
    return path


def _attr(v):
    return v.decode() if isinstance(v, bytes) else v


def load_bank(path: str | os.PathLike, latent_dim: int | None = None,
              component: str | None = None) -> SketchBank:
    """Read an ``.h5`` bank (ours), a ``.npy`` (N, D) array or an official ``.bin`` bank.

    ``latent_dim`` is required for ``.bin`` files (512 for the release) and checked for the
    others; ``component`` is checked against the file's when both are known.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f'sketch bank {str(p)!r} not found')
    suffix = p.suffix.lower()
    meta: dict = {'path': str(p)}
    if suffix in ('.h5', '.hdf5'):
        import h5py
        try:
            with h5py.File(p, 'r') as f:
                if _attr(f.attrs.get('format')) != BANK_FORMAT:
                    raise SketchBankError(f'{str(p)!r} is not a sketch bank (format attribute '
                                          f'{_attr(f.attrs.get("format"))!r}, expected '
                                          f'{BANK_FORMAT!r})')
                if int(f.attrs.get('version', -1)) != BANK_VERSION:
                    raise SketchBankError(f'{str(p)!r}: sketch bank version '
                                          f'{f.attrs.get("version")!r}, this reader knows '
                                          f'{BANK_VERSION}')
                if 'vectors' not in f:
                    raise SketchBankError(f'{str(p)!r}: no "vectors" dataset')
                vectors = np.asarray(f['vectors'], dtype=np.float32)
                file_comp = _attr(f.attrs.get('component'))
                meta.update(dataset=json.loads(_attr(f.attrs.get('dataset', '{}'))),
                            checkpoint=json.loads(_attr(f.attrs.get('checkpoint', '{}'))))
                if 'names' in f:
                    meta['names'] = [_attr(n) for n in f['names'][()]]
        except OSError as e:
            raise SketchBankError(f'{str(p)!r} is not a readable HDF5 file: {e}') from e
    elif suffix == '.npy':
        vectors = np.load(p, allow_pickle=False).astype(np.float32, copy=False)
        file_comp = None
    elif suffix == '.bin':
        if latent_dim is None:
            raise SketchBankError(f'{str(p)!r}: an official .bin bank has no header; give '
                                  'latent_dim (512 for the release)')
        nbytes = p.stat().st_size
        if nbytes == 0 or nbytes % (4 * latent_dim):
            raise SketchBankError(f'{str(p)!r}: {nbytes} bytes is not a whole number of '
                                  f'float32 rows of {latent_dim}')
        vectors = np.fromfile(p, dtype='<f4').reshape(-1, latent_dim)
        m = OFFICIAL_BIN.match(p.name)
        file_comp = m.group(2) if m else None
        meta['official'] = dict(set=m.group(1)) if m else {}
    else:
        raise SketchBankError(f'{str(p)!r}: unknown sketch bank type {suffix!r} (.h5, .npy or '
                              'the official .bin)')
    if vectors.ndim != 2 or not len(vectors):
        raise SketchBankError(f'{str(p)!r}: expected a non-empty (N, D) array, got '
                              f'{vectors.shape}')
    if latent_dim is not None and vectors.shape[1] != latent_dim:
        raise SketchBankError(f'{str(p)!r}: vectors have {vectors.shape[1]} dimensions, the '
                              f'sketch embedding has {latent_dim}')
    if not np.isfinite(vectors).all():
        raise SketchBankError(f'{str(p)!r}: vectors contain NaN or Inf')
    if component is not None and file_comp is not None and file_comp != component:
        raise SketchBankError(f'{str(p)!r} is the bank of {file_comp!r}, not {component!r}')
    return SketchBank(vectors, file_comp or component, meta)


def find_banks(folder: str | os.PathLike, components, official_set: str = 'female'
               ) -> dict[str, Path]:
    """``{component: file}`` in ``folder``: ``{c}.h5`` (ours), else ``{c}.npy``, else the
    official ``{official_set}_{c}_feature.bin``; a missing component raises naming the files
    looked for."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f'sketch bank folder {str(folder)!r} not found')
    if official_set not in ('man', 'female'):
        raise ValueError(f"official_set must be 'man' or 'female', got {official_set!r}")
    found = {}
    for c in components:
        names = [f'{c}.h5', f'{c}.npy', f'{official_set}_{c}_feature.bin']
        hit = next((folder / n for n in names if (folder / n).is_file()), None)
        if hit is None:
            raise FileNotFoundError(f'sketch bank folder {str(folder)!r} has no bank for '
                                    f'{c!r} (looked for {names})')
        found[c] = hit
    return found
