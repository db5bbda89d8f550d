"""The facedisentangle HDF5 face file: one file holds aligned photos, their sketches and splits.

Layout (version 1; docs/data_format.md has the full description)::

    attrs   format='facedisentangle-faces', version=1, resolution (int), layout (JSON of
            ComponentLayout.to_dict(), optional), complete (bool), source (str),
            split_names (JSON list, ["train", "val", "test"]), num_samples (int)
    photos          uint8 (N, H, W, 3)  RGB
    sketches        uint8 (N, H, W)     black strokes (0) on white (255)
    names           utf-8 str (N,)      unique sample names
    split           uint8 (N,)          index into split_names
    labels          uint8 (N, H, W)     region label map (optional)
    geometry_seed   int64 (N,)          synthetic factors (optional; any name, see factor_dims)
    appearance_seed int64 (N,)
    geometry        float32 (N, Dg)
    appearance      float32 (N, Da)

Every per-sample dataset is chunked one sample per chunk and resizable along axis 0.
``num_samples`` is written after the data of each flush, so a file whose writer was interrupted
reopens with every sample of its last complete flush, and ``complete`` is True only after
:meth:`H5FaceWriter.finalize`.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence

import h5py
import numpy as np

FORMAT = 'facedisentangle-faces'
VERSION = 1
SPLIT_NAMES = ('train', 'val', 'test')
REQUIRED_ATTRS = ('format', 'version', 'resolution', 'complete', 'source', 'split_names')
REQUIRED_DATASETS = ('photos', 'sketches', 'names', 'split')
#: datasets that are not synthetic factors
CORE_DATASETS = REQUIRED_DATASETS + ('labels',)


class H5FormatError(ValueError):
    """A file that is not a (valid) facedisentangle face file, or a bad sample in it."""


def _attr_str(value) -> str:
    return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def factor_dims_of(f: h5py.File) -> dict[str, int]:
    """``{name: width}`` of the synthetic-factor datasets of an open file (0 = scalar int)."""
    dims = {}
    for key, ds in f.items():
        if key in CORE_DATASETS or not isinstance(ds, h5py.Dataset):
            continue
        dims[key] = int(ds.shape[1]) if ds.ndim == 2 else 0
    return dims


def check_h5_file(f: h5py.File, path: str | os.PathLike, require_complete: bool = False,
                  resolution: int | None = None) -> int:
    """Check attrs and datasets of an open face file; return the number of samples.

    Raises :class:`H5FormatError` naming ``path`` and the missing/bad key or value.
    """
    path = os.fspath(path)
    fmt = _attr_str(f.attrs.get('format', ''))
    if fmt != FORMAT:
        raise H5FormatError(f'{path}: not a facedisentangle face file (attribute format='
                            f'{fmt!r}, expected {FORMAT!r})')
    missing = [k for k in REQUIRED_ATTRS if k not in f.attrs]
    if missing:
        raise H5FormatError(f'{path}: missing file attribute(s) {missing}')
    version = int(f.attrs['version'])
    if version != VERSION:
        raise H5FormatError(f'{path}: format version {version}, this code reads {VERSION}')
    missing = [k for k in REQUIRED_DATASETS if k not in f]
    if missing:
        raise H5FormatError(f'{path}: missing dataset(s) {missing}')
    res = int(f.attrs['resolution'])
    if resolution is not None and res != int(resolution):
        raise H5FormatError(f'{path}: resolution is {res}, expected {int(resolution)}')
    if require_complete and not bool(f.attrs['complete']):
        raise H5FormatError(f'{path}: the file is incomplete (its writer was not finalised; '
                            'rerun the converter to resume it)')
    n = int(f.attrs.get('num_samples', f['names'].shape[0]))
    image_shapes = {'photos': (res, res, 3), 'sketches': (res, res), 'labels': (res, res)}
    for key, ds in f.items():
        if not isinstance(ds, h5py.Dataset):
            continue
        if ds.shape[0] < n:
            raise H5FormatError(f'{path}: dataset {key!r} holds {ds.shape[0]} samples, the '
                                f'file has {n} (truncated)')
        if key in image_shapes and tuple(ds.shape[1:]) != image_shapes[key]:
            raise H5FormatError(f'{path}: dataset {key!r} has sample shape {ds.shape[1:]}, '
                                f'expected {image_shapes[key]} for resolution {res}')
        if key in image_shapes and ds.dtype != np.uint8:
            raise H5FormatError(f'{path}: dataset {key!r} has dtype {ds.dtype}, expected uint8')
    return n


def _open_h5(path: str | os.PathLike, mode: str = 'r') -> h5py.File:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f'face file {path} does not exist')
    try:
        return h5py.File(path, mode)
    except OSError as e:
        if 'already open' in str(e):
            raise OSError(f'{path}: cannot open it with mode {mode!r}, this process holds it '
                          f'open already (close that handle or data set first): {e}') from e
        raise H5FormatError(f'{path}: cannot be opened as an HDF5 file ({e})') from e


def split_rows(f: h5py.File, split: str) -> np.ndarray:
    """Row indices of the samples of ``split`` in an open face file, in file order
    (``ValueError`` naming the file's splits for another name)."""
    names = json.loads(_attr_str(f.attrs['split_names']))
    if split not in names:
        raise ValueError(f'{f.filename}: no split {split!r} (its splits: {names})')
    return np.flatnonzero(f['split'][()] == names.index(split))


def read_h5_info(path: str | os.PathLike) -> dict:
    """Attributes and counts of a face file.

    Returns a dict with ``format, version, resolution, layout`` (dict or None), ``complete,
    source, split_names, num_samples, split_counts`` ({split: n}), ``has_labels`` and
    ``factors`` ({name: width}, 0 for a scalar seed).
    """
    with _open_h5(path) as f:
        n = check_h5_file(f, path)
        split_names = json.loads(_attr_str(f.attrs['split_names']))
        split = f['split'][:n]
        counts = np.bincount(split, minlength=len(split_names)) if n else np.zeros(
            len(split_names), dtype=np.int64)
        layout = f.attrs.get('layout')
        return dict(
            path=os.fspath(path),
            format=_attr_str(f.attrs['format']),
            version=int(f.attrs['version']),
            resolution=int(f.attrs['resolution']),
            layout=json.loads(_attr_str(layout)) if layout else None,
            complete=bool(f.attrs['complete']),
            source=_attr_str(f.attrs['source']),
            split_names=split_names,
            num_samples=n,
            split_counts={s: int(c) for s, c in zip(split_names, counts)},
            has_labels='labels' in f,
            factors=factor_dims_of(f),
        )


class H5FaceWriter:
    """Write (or resume writing) a face file, sample by sample.

    Samples are buffered and written ``chunk_flush`` at a time; after each flush the file on disk
    is consistent (``num_samples`` counts the flushed samples), so an interrupted run loses at
    most the unflushed buffer and a new writer on the same path continues it.

    Args:
        path: the ``.h5`` file; created if missing, resumed if it exists.
        resolution: side of the square images.
        layout: a ``ComponentLayout`` (or its ``to_dict()``) stored as JSON, optional.
        source: free text saying where the samples come from.
        with_labels: store a ``labels`` (N, H, W) uint8 region map; ``append`` then needs
            ``label``.
        factor_dims: ``{name: width}`` of per-sample factors; width 0 stores an int64 scalar
            (e.g. ``geometry_seed``), width > 0 a float32 vector (e.g. ``geometry``). ``append``
            then needs every one of them as a keyword.
        chunk_flush: samples per flush.
        compression: h5py compression of the image datasets (``'lzf'`` or None).

    Use as a context manager; call :meth:`finalize` when every sample is written.
    """

    def __init__(self, path: str | os.PathLike, resolution: int,
                 layout=None, source: str = '', with_labels: bool = False,
                 factor_dims: Mapping[str, int] | None = None, chunk_flush: int = 64,
                 compression: str | None = 'lzf',
                 split_names: Sequence[str] = SPLIT_NAMES):
        self.path = os.fspath(path)
        self.resolution = int(resolution)
        if self.resolution <= 0:
            raise ValueError(f'H5FaceWriter({self.path}): resolution must be positive')
        self.with_labels = bool(with_labels)
        self.factor_dims = {str(k): int(v) for k, v in (factor_dims or {}).items()}
        for name, dim in self.factor_dims.items():
            if name in CORE_DATASETS or dim < 0:
                raise ValueError(f'H5FaceWriter({self.path}): bad factor {name!r}: {dim} '
                                 '(names must differ from the image datasets, widths >= 0)')
        if chunk_flush < 1:
            raise ValueError(f'H5FaceWriter({self.path}): chunk_flush must be >= 1')
        self.chunk_flush = int(chunk_flush)
        self.split_names = list(split_names)
        self._buffer: list[dict] = []
        self._pending_names: set[str] = set()
        if hasattr(layout, 'to_dict'):
            layout = layout.to_dict()
        if layout is not None and int(layout.get('resolution', self.resolution)) != \
                self.resolution:
            raise ValueError(f'H5FaceWriter({self.path}): layout is for resolution '
                             f'{layout["resolution"]}, the file for {self.resolution}')

        if os.path.exists(self.path):
            self._f = _open_h5(self.path, 'r+')
            try:
                self._check_resume()
            except Exception:
                self._f.close()
                raise
        else:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._f = h5py.File(self.path, 'w')
            self._create(layout, source, compression)
        self._n = int(self._f.attrs['num_samples'])
        self._names = set(self._f['names'].asstr()[:self._n])

    # ------------------------------------------------------------------ setup
    def _create(self, layout, source: str, compression: str | None) -> None:
        f, r = self._f, self.resolution
        f.attrs['format'] = FORMAT
        f.attrs['version'] = VERSION
        f.attrs['resolution'] = r
        if layout is not None:
            f.attrs['layout'] = json.dumps(layout)
        f.attrs['complete'] = False
        f.attrs['source'] = str(source)
        f.attrs['split_names'] = json.dumps(self.split_names)
        f.attrs['num_samples'] = 0

        def make(name, shape, dtype, compress=False):
            f.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                             chunks=(1, *shape) if shape else (1024,),
                             compression=compression if compress else None)

        make('photos', (r, r, 3), np.uint8, True)
        make('sketches', (r, r), np.uint8, True)
        make('names', (), h5py.string_dtype('utf-8'))
        make('split', (), np.uint8)
        if self.with_labels:
            make('labels', (r, r), np.uint8, True)
        for name, dim in self.factor_dims.items():
            make(name, (dim,) if dim else (), np.float32 if dim else np.int64)
        f.flush()

    def _check_resume(self) -> None:
        f, path = self._f, self.path
        if 'num_samples' not in f.attrs and _attr_str(f.attrs.get('format', '')) == FORMAT:
            f.attrs['num_samples'] = int(min(f[k].shape[0] for k in REQUIRED_DATASETS
                                             if k in f))
        check_h5_file(f, path, resolution=self.resolution)
        has_labels = 'labels' in f
        if has_labels != self.with_labels:
            raise H5FormatError(f'{path}: resuming with with_labels={self.with_labels}, but the '
                                f'file {"has" if has_labels else "has no"} labels')
        dims = factor_dims_of(f)
        if dims != self.factor_dims:
            raise H5FormatError(f'{path}: resuming with factor_dims={self.factor_dims}, but the '
                                f'file holds {dims}')
        names = json.loads(_attr_str(f.attrs['split_names']))
        if names != self.split_names:
            raise H5FormatError(f'{path}: resuming with split_names={self.split_names}, the '
                                f'file has {names}')
        # drop anything written after the last complete flush
        n = int(f.attrs['num_samples'])
        for ds in f.values():
            if isinstance(ds, h5py.Dataset) and ds.shape[0] != n:
                ds.resize(n, axis=0)

    # ------------------------------------------------------------------ writing
    def __len__(self) -> int:
        return self._n + len(self._buffer)

    @property
    def complete(self) -> bool:
        return bool(self._f.attrs['complete'])

    def names_done(self) -> set[str]:
        """Names already written (flushed or buffered)."""
        return self._names | self._pending_names

    def append(self, photo: np.ndarray, sketch: np.ndarray, name: str, split: str = 'train',
               label: np.ndarray | None = None, **factors) -> None:
        """Add one sample; validates shapes and dtypes, naming the sample in every error."""
        if self._f is None:
            raise RuntimeError(f'H5FaceWriter({self.path}) is closed')
        if not isinstance(name, str) or not name:
            raise ValueError(f'{self.path}: sample name must be a non-empty str, got {name!r}')
        where = f'{self.path}: sample {name!r}'
        if name in self._names or name in self._pending_names:
            raise ValueError(f'{where} is already in the file (use names_done() to skip it)')
        r = self.resolution
        self._check_array(photo, (r, r, 3), 'photo', where)
        self._check_array(sketch, (r, r), 'sketch', where)
        if self.with_labels:
            if label is None:
                raise ValueError(f'{where}: the file stores labels, label is missing')
            self._check_array(label, (r, r), 'label', where)
        elif label is not None:
            raise ValueError(f'{where}: got a label, but the writer was made with '
                             'with_labels=False')
        if split not in self.split_names:
            raise ValueError(f'{where}: split {split!r} is not one of {self.split_names}')
        missing = set(self.factor_dims) - set(factors)
        extra = set(factors) - set(self.factor_dims)
        if missing or extra:
            raise ValueError(f'{where}: factors must be exactly {sorted(self.factor_dims)}; '
                             f'missing {sorted(missing)}, unexpected {sorted(extra)}')
        values = {}
        for key, dim in self.factor_dims.items():
            v = np.asarray(factors[key])
            if dim == 0:
                if v.ndim != 0 or not np.issubdtype(v.dtype, np.integer):
                    raise ValueError(f'{where}: factor {key!r} must be an int, got {v!r}')
                values[key] = np.int64(v)
            else:
                if v.shape != (dim,):
                    raise ValueError(f'{where}: factor {key!r} must have shape ({dim},), got '
                                     f'{v.shape}')
                values[key] = v.astype(np.float32)
        if self.complete:
            self._f.attrs['complete'] = False
        self._buffer.append(dict(photos=photo, sketches=sketch, names=name,
                                 split=self.split_names.index(split),
                                 **({'labels': label} if self.with_labels else {}), **values))
        self._pending_names.add(name)
        if len(self._buffer) >= self.chunk_flush:
            self.flush()

    @staticmethod
    def _check_array(a, shape, what: str, where: str) -> None:
        if not isinstance(a, np.ndarray):
            raise TypeError(f'{where}: {what} must be a numpy array, got {type(a).__name__}')
        if a.dtype != np.uint8:
            raise TypeError(f'{where}: {what} must be uint8, got {a.dtype}')
        if a.shape != shape:
            raise ValueError(f'{where}: {what} has shape {a.shape}, expected {shape}')

    def flush(self) -> None:
        """Write the buffered samples, then count them in ``num_samples`` and flush the file."""
        if not self._buffer or self._f is None:
            return
        f, n0, k = self._f, self._n, len(self._buffer)
        for key in self._buffer[0]:
            ds = f[key]
            ds.resize(n0 + k, axis=0)
            ds[n0:n0 + k] = np.stack([np.asarray(s[key]) for s in self._buffer]) \
                if key != 'names' else np.array([s[key] for s in self._buffer], dtype=object)
        f.attrs['num_samples'] = n0 + k
        f.flush()
        self._n += k
        self._names |= self._pending_names
        self._pending_names = set()
        self._buffer = []

    def finalize(self) -> None:
        """Flush and mark the file complete (readers refuse incomplete files)."""
        self.flush()
        self._f.attrs['complete'] = True
        self._f.flush()

    def close(self) -> None:
        """Flush what is buffered and close, without marking the file complete."""
        if self._f is not None:
            self.flush()
            self._f.close()
            self._f = None

    def __enter__(self) -> H5FaceWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __del__(self):
        try:
            if getattr(self, '_f', None) is not None:
                self._f.close()
        except Exception:
            pass


def iter_h5_names(path: str | os.PathLike) -> Iterable[str]:
    """The sample names of a face file, in file order."""
    with _open_h5(path) as f:
        n = check_h5_file(f, path)
        yield from f['names'].asstr()[:n]
