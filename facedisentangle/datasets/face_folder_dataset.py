"""``FaceFolderDataset``: photo/sketch pairs from two folders, matched by file stem.

    data_root/photos/0001.jpg   <->   data_root/sketches/0001.png

Images are read with mmcv (any mode: grayscale, RGB, RGBA over white, 16 bit). Gives the same
sample dict as ``FaceH5Dataset``, so a model trains or evaluates on either.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import mmcv
import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.fileio import get as get_bytes
from mmengine.logging import print_log

from ..registry import DATASETS

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')


def read_image(path: str, mode: str = 'rgb') -> np.ndarray:
    """Read ``path`` with mmcv as uint8 RGB (H, W, 3) or, with ``mode='gray'``, (H, W).

    Grayscale is expanded, an alpha channel composited over white, 16-bit scaled to 8 bit.
    """
    try:
        img = mmcv.imfrombytes(get_bytes(path), flag='unchanged', backend='cv2')
    except FileNotFoundError:
        raise FileNotFoundError(f'image {path} does not exist') from None
    except Exception as e:
        raise ValueError(f'cannot read image {path}: {e}') from e
    if img is None:
        raise ValueError(f'cannot decode image {path} (corrupt or not an image)')
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        gray = img
        rgb = None
    elif img.ndim == 3 and img.shape[2] in (3, 4):
        if img.shape[2] == 4:    # BGRA: composite over white
            alpha = img[..., 3:].astype(np.float32) / 255
            img = (img[..., :3].astype(np.float32) * alpha + 255 * (1 - alpha) + 0.5
                   ).astype(np.uint8)
        rgb = mmcv.bgr2rgb(img)
        gray = None
    else:
        raise ValueError(f'image {path} has unsupported shape {img.shape}')
    if mode == 'gray':
        return gray if gray is not None else mmcv.rgb2gray(rgb)
    return rgb if rgb is not None else mmcv.gray2rgb(gray)


@DATASETS.register_module()
class FaceFolderDataset(BaseDataset):
    """Photos and sketches in two folders, matched by file stem (the sample name).

    Each sample, before the pipeline: ``photo`` uint8 tensor (3, H, W) RGB, ``sketch`` uint8
    tensor (3, H, W) (gray, repeated), ``name`` (the stem), ``index`` (position in the sorted
    list), ``split`` (the ``split`` argument), ``sample_idx``.

    Args:
        data_root: folder holding ``photo_dir`` and ``sketch_dir``.
        photo_dir, sketch_dir: sub-folders (or absolute paths).
        resolution: required side of every image; None accepts any size, but a photo and its
            sketch must have the same size.
        resize: resize images of another size to ``resolution`` instead of failing.
        split: the split name every sample reports.
        extensions: image file extensions considered.
        pipeline, indices, serialize_data, test_mode, lazy_init, max_refetch: as in
            ``BaseDataset``.

    A photo without a sketch (or a stem used by two files) is an error at construction naming
    the file; a sketch without a photo is skipped with a warning.
    """

    def __init__(self, data_root: str, photo_dir: str = 'photos', sketch_dir: str = 'sketches',
                 resolution: int | None = None, resize: bool = False, split: str = 'test',
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 pipeline: Sequence[dict | Callable] = (),
                 indices: int | Sequence[int] | None = None, serialize_data: bool = True,
                 test_mode: bool = False, lazy_init: bool = False, max_refetch: int = 1000):
        if resize and resolution is None:
            raise ValueError('FaceFolderDataset: resize=True needs a resolution')
        self.resolution = None if resolution is None else int(resolution)
        self.resize = bool(resize)
        self.split = split
        self.extensions = tuple(e.lower() for e in extensions)
        super().__init__(ann_file='', data_root=data_root,
                         data_prefix=dict(photo=photo_dir, sketch=sketch_dir),
                         pipeline=list(pipeline), indices=indices,
                         serialize_data=serialize_data, test_mode=test_mode,
                         lazy_init=lazy_init, max_refetch=max_refetch)

    def _scan(self, folder: str, what: str) -> dict[str, str]:
        if not os.path.isdir(folder):
            raise FileNotFoundError(f'FaceFolderDataset: {what} folder {folder} does not exist')
        files: dict[str, str] = {}
        for fn in sorted(os.listdir(folder)):
            stem, ext = os.path.splitext(fn)
            if ext.lower() not in self.extensions:
                continue
            path = os.path.join(folder, fn)
            if stem in files:
                raise ValueError(f'FaceFolderDataset: {what} {files[stem]} and {path} have the '
                                 f'same name {stem!r}')
            files[stem] = path
        return files

    def load_data_list(self) -> list[dict]:
        photos = self._scan(self.data_prefix['photo'], 'photo')
        sketches = self._scan(self.data_prefix['sketch'], 'sketch')
        if not photos:
            raise FileNotFoundError(f'FaceFolderDataset: no images ({", ".join(self.extensions)})'
                                    f' in {self.data_prefix["photo"]}')
        missing = [photos[s] for s in photos if s not in sketches]
        if missing:
            more = f' and {len(missing) - 5} more' if len(missing) > 5 else ''
            raise FileNotFoundError(
                f'FaceFolderDataset: no sketch in {self.data_prefix["sketch"]} for photo(s) '
                f'{", ".join(missing[:5])}{more} (sketches are matched by file stem)')
        extra = sorted(set(sketches) - set(photos))
        if extra:
            print_log(f'FaceFolderDataset: {len(extra)} sketch(es) without a photo skipped, e.g. '
                      f'{sketches[extra[0]]}', logger="current", level=logging.WARNING)
        return [dict(index=i, name=stem, split=self.split, photo_path=photos[stem],
                     sketch_path=sketches[stem]) for i, stem in enumerate(photos)]

    def _fit(self, img: np.ndarray, path: str) -> np.ndarray:
        r = self.resolution
        if r is None or img.shape[:2] == (r, r):
            return img
        if not self.resize:
            raise ValueError(f'FaceFolderDataset: {path} is {img.shape[1]}x{img.shape[0]}, '
                             f'expected {r}x{r} (or set resize=True)')
        shrink = img.shape[0] > r or img.shape[1] > r
        return mmcv.imresize(img, (r, r), interpolation='area' if shrink else 'bicubic')

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        photo = self._fit(read_image(info['photo_path'], 'rgb'), info['photo_path'])
        sketch = self._fit(read_image(info['sketch_path'], 'gray'), info['sketch_path'])
        if photo.shape[:2] != sketch.shape[:2]:
            raise ValueError(f'FaceFolderDataset: photo {info["photo_path"]} is '
                             f'{photo.shape[1]}x{photo.shape[0]} but its sketch '
                             f'{info["sketch_path"]} is {sketch.shape[1]}x{sketch.shape[0]}')
        info['photo'] = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
        info['sketch'] = torch.from_numpy(np.ascontiguousarray(sketch)).unsqueeze(0).repeat(
            3, 1, 1)
        return self.pipeline(info)
