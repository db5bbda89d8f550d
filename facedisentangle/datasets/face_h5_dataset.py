"""``FaceH5Dataset``: photo/sketch pairs (and labels, synthetic factors) from a face HDF5 file.

The file format is described in docs/data_format.md (``h5_format.py``). The data list holds one
small dict per sample (row, name, split, seeds); pixels are read on demand from an h5py handle
that each process opens for itself, so the data set is safe in forked DataLoader workers.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

import h5py
import numpy as np
import torch
from mmengine.dataset import BaseDataset

from ..registry import DATASETS
from .h5_format import H5FormatError, _attr_str, _open_h5, check_h5_file

SEED_KEYS = ('geometry_seed', 'appearance_seed')


class SplitError(ValueError):
    """A split the file does not have, or one without samples (tools/train.py reports it in
    one line, exit code 2)."""


@DATASETS.register_module()
class FaceH5Dataset(BaseDataset):
    """Aligned photos and sketches from a ``facedisentangle-faces`` HDF5 file.

    Each sample, before the pipeline, is a dict::

        photo   uint8 tensor (3, H, W), RGB
        sketch  uint8 tensor (3, H, W), the single-channel sketch repeated
        name    str;  index  int (row in the file);  split  str;  sample_idx  int (in this set)
        label   uint8 tensor (H, W)              if load_labels
        geometry_seed, appearance_seed  int      if the file stores them

    Args:
        ann_file: the ``.h5`` file (joined with ``data_root`` when relative).
        split: 'train', 'val', 'test' (any name of the file's ``split_names``) or None for all.
        load_labels: also return the region label map (the file must have ``labels``).
        resolution: refuse a file of another resolution (None: accept any).
        pipeline: MMEngine transforms applied to the sample dict.
        indices: keep only these positions (or the first ``indices``) of the split.
        data_root, serialize_data, test_mode, lazy_init, max_refetch: as in ``BaseDataset``.
    """

    def __init__(self, ann_file: str, split: str | None = 'train', load_labels: bool = False,
                 resolution: int | None = None,
                 pipeline: Sequence[dict | Callable] = (),
                 indices: int | Sequence[int] | None = None,
                 data_root: str = '', serialize_data: bool = True, test_mode: bool = False,
                 lazy_init: bool = False, max_refetch: int = 1000):
        if not ann_file:
            raise ValueError('FaceH5Dataset: ann_file (the .h5 face file) is required')
        self.split = split
        self.load_labels = bool(load_labels)
        self.resolution = None if resolution is None else int(resolution)
        self._h5: h5py.File | None = None
        self._h5_pid: int | None = None
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=list(pipeline),
                         indices=indices, serialize_data=serialize_data, test_mode=test_mode,
                         lazy_init=lazy_init, max_refetch=max_refetch)

    # ------------------------------------------------------------------ data list
    def load_data_list(self) -> list[dict]:
        path = self.ann_file
        with _open_h5(path) as f:
            n = check_h5_file(f, path, require_complete=True, resolution=self.resolution)
            split_names = json.loads(_attr_str(f.attrs['split_names']))
            if self.split is not None and self.split not in split_names:
                raise SplitError(f'FaceH5Dataset({path}): split {self.split!r} is not one of '
                                 f'the file\'s splits {split_names}')
            if self.load_labels and 'labels' not in f:
                raise H5FormatError(f'{path}: load_labels=True, but the file has no dataset '
                                    "'labels'")
            names = f['names'].asstr()[:n]
            split = f['split'][:n]
            if n and int(split.max()) >= len(split_names):
                bad = int(np.argmax(split >= len(split_names)))
                raise H5FormatError(f'{path}: sample {bad} has split index {split[bad]}, the '
                                    f'file has {len(split_names)} split names')
            seeds = {k: f[k][:n] for k in SEED_KEYS if k in f}
            layout = f.attrs.get('layout')
            self._metainfo.update(resolution=int(f.attrs['resolution']),
                                  source=_attr_str(f.attrs['source']),
                                  layout=json.loads(_attr_str(layout)) if layout else None,
                                  split_names=split_names)
        keep = np.arange(n) if self.split is None else np.flatnonzero(
            split == split_names.index(self.split))
        if len(keep) == 0:
            counts = {name: int((split == k).sum()) for k, name in enumerate(split_names)}
            raise SplitError(f'FaceH5Dataset({path}): split {self.split!r} has no samples '
                             f'(samples per split: {counts})')
        data_list = []
        for i in keep:
            info = dict(index=int(i), name=str(names[i]), split=split_names[split[i]])
            info.update({k: int(v[i]) for k, v in seeds.items()})
            data_list.append(info)
        return data_list

    # ------------------------------------------------------------------ pixels
    def _file(self) -> h5py.File:
        """This process's handle (reopened after a fork: handles are never shared)."""
        pid = os.getpid()
        if self._h5 is None or self._h5_pid != pid:
            self._h5 = _open_h5(self.ann_file)     # the parent's handle, if any, is left alone
            self._h5_pid = pid
        return self._h5

    def _read(self, key: str, row: int, name: str, shape: tuple[int, ...]) -> np.ndarray:
        f = self._file()
        try:
            ds = f[key]
        except KeyError:
            raise H5FormatError(f'{self.ann_file}: dataset {key!r} is missing (sample {row}, '
                                f'{name!r})') from None
        if row >= ds.shape[0]:
            raise H5FormatError(f'{self.ann_file}: sample {row} ({name!r}) is beyond the end of '
                                f'dataset {key!r} ({ds.shape[0]} rows; truncated file?)')
        try:
            a = ds[row]
        except Exception as e:    # corrupt chunk, I/O error
            raise H5FormatError(f'{self.ann_file}: cannot read sample {row} ({name!r}) from '
                                f'dataset {key!r}: {e}') from e
        if a.shape != shape or a.dtype != np.uint8:
            raise H5FormatError(f'{self.ann_file}: sample {row} ({name!r}) of {key!r} is '
                                f'{a.dtype} {a.shape}, expected uint8 {shape}')
        return a

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        row, name = info['index'], info['name']
        r = int(self._metainfo['resolution'])
        photo = self._read('photos', row, name, (r, r, 3))
        sketch = self._read('sketches', row, name, (r, r))
        info['photo'] = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
        info['sketch'] = torch.from_numpy(sketch).unsqueeze(0).repeat(3, 1, 1)
        if self.load_labels:
            info['label'] = torch.from_numpy(self._read('labels', row, name, (r, r)))
        return self.pipeline(info)

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_h5'] = None
        state['_h5_pid'] = None
        return state

    def close(self) -> None:
        """Close this process's handle (it is reopened on the next read)."""
        if self._h5 is not None and self._h5_pid == os.getpid():
            self._h5.close()
        self._h5 = None
        self._h5_pid = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
