"""``SwapPairDataset``: held-out pairs (i, j), i != j, for geometry/appearance swap evaluation.

Pair k of a split with n faces is::

    i_k = k mod n                      (the geometry source; every face in turn)
    j_k = (i_k + d_k) mod n,  d_k ~ U{1, ..., n-1}   (the appearance source, never i_k)

with the offsets d_k drawn from ``numpy.random.default_rng(SeedSequence([seed, crc32(split)]))``
in order, so the list depends only on (n, seed, split) and the first N pairs are the same for any
``num_pairs`` >= N. On synthetic faces (files with ``geometry_seed`` and ``appearance_seed``)
each pair also carries the rendered truth of the swap, ``P(g_i, a_j)``, and its label map
``L(g_i)`` (docs/synthetic_faces.md): the renderer draws face i's geometry with face j's
appearance exactly.
"""
from __future__ import annotations

import zlib

import numpy as np
import torch
from mmengine.dataset import BaseDataset

from ..registry import DATASETS
from .face_h5_dataset import SEED_KEYS, FaceH5Dataset


class RendererMismatchError(RuntimeError):
    """The synthetic renderer no longer reproduces the faces stored in a file."""


def make_swap_pairs(num_faces: int, num_pairs: int | None = None, seed: int = 0,
                    split: str | None = 'test') -> list[tuple[int, int]]:
    """The fixed list of pairs ``(i, j)``, ``i != j``, of positions in a split of
    ``num_faces`` faces (see the module docstring); ``num_pairs`` defaults to ``num_faces``."""
    if num_faces < 2:
        raise ValueError(f'make_swap_pairs: a pair needs two different faces, the split has '
                         f'{num_faces}')
    n_pairs = num_faces if num_pairs is None else int(num_pairs)
    if n_pairs < 1:
        raise ValueError(f'make_swap_pairs: num_pairs must be >= 1, got {num_pairs!r}')
    entropy = [int(seed), zlib.crc32(str(split).encode())]
    offsets = np.random.default_rng(np.random.SeedSequence(entropy)).integers(
        1, num_faces, size=n_pairs)
    return [(k % num_faces, (k % num_faces + int(d)) % num_faces)
            for k, d in enumerate(offsets)]


def render_swap_truth(geometry_seed: int, appearance_seed: int, size: int
                      ) -> dict[str, np.ndarray]:
    """``P(g, a)`` (uint8 (size, size, 3) RGB) and ``L(g)`` (uint8 (size, size)) of the
    synthetic factors drawn from ``geometry_seed`` and ``appearance_seed``."""
    from .synthetic import render_face, sample_appearance, sample_geometry

    out = render_face(sample_geometry(int(geometry_seed)),
                      sample_appearance(int(appearance_seed)), size)
    return dict(photo=out['photo'], label=out['label'])


def check_renderer(photo: np.ndarray, geometry_seed: int, appearance_seed: int, where: str,
                   tol: int = 2) -> None:
    """Raise :class:`RendererMismatchError` unless re-rendering a stored face from its seeds
    gives its stored photo (uint8 (H, W, 3)) within ``tol`` grey levels; ``where`` names the
    face and the file in the message."""
    again = render_swap_truth(geometry_seed, appearance_seed, photo.shape[0])['photo']
    diff = int(np.abs(again.astype(np.int16) - photo.astype(np.int16)).max())
    if diff > tol:
        raise RendererMismatchError(
            f'{where}: re-rendering it from its seeds (geometry {geometry_seed}, appearance '
            f'{appearance_seed}) differs from the stored photo by up to {diff}/255: the '
            'synthetic renderer changed since the file was written, so its swap truth would be '
            'wrong; regenerate the file (tools/dataset_converters/synthetic_faces.py)')


@DATASETS.register_module()
class SwapPairDataset(BaseDataset):
    """Pairs (geometry source i, appearance source j) of one split of a face HDF5 file.

    Sample k (before the pipeline)::

        photo, sketch      uint8 (3, H, W)   face i (the geometry source) and its sketch
        appearance_photo   uint8 (3, H, W)   face j (the appearance source)
        truth              uint8 (3, H, W)   P(g_i, a_j)   } synthetic files with factor seeds,
        truth_label        uint8 (H, W)      L(g_i)        } when render_truth
        index              int               k (the pair's position: unique per sample)
        pair               int64 (2,)        (i, j), positions in the split
        name, appearance_name   str          the two faces' names
        geometry_seed, appearance_seed  int  of i and of j, when the file stores them

    ``truth`` and ``appearance_photo`` are images: give them to the model's
    ``FaceDataPreprocessor(image_keys=(..., 'appearance_photo', 'truth'))``. The first time the
    pairs are built, face 0 of the split is re-rendered from its seeds and compared with the
    stored photo (:class:`RendererMismatchError` if the renderer changed).

    Args:
        ann_file: the face ``.h5`` file.
        split: which split the faces come from ('test', 'val', ...; None: all faces).
        num_pairs: how many pairs (default: one per face of the split).
        seed: seed of the pair list.
        resolution: refuse a file of another resolution (None: accept any).
        render_truth: render ``truth``/``truth_label`` (when the file has factor seeds).
        pipeline, data_root, serialize_data, lazy_init: as in ``BaseDataset``.
    """

    def __init__(self, ann_file: str, split: str | None = 'test', num_pairs: int | None = None,
                 seed: int = 0, resolution: int | None = None, render_truth: bool = True,
                 pipeline=(), data_root: str = '', serialize_data: bool = True,
                 lazy_init: bool = False):
        if num_pairs is not None and int(num_pairs) < 1:
            raise ValueError(f'SwapPairDataset: num_pairs must be >= 1 or None, got '
                             f'{num_pairs!r}')
        self.split = split
        self.num_pairs = None if num_pairs is None else int(num_pairs)
        self.seed = int(seed)
        self.resolution = None if resolution is None else int(resolution)
        self.render_truth = bool(render_truth)
        self.faces: FaceH5Dataset | None = None
        self.has_truth = False
        self._pairs: list[tuple[int, int]] = []
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=list(pipeline),
                         serialize_data=serialize_data, test_mode=True, lazy_init=lazy_init)

    def load_data_list(self) -> list[dict]:
        # not serialised: its list is small, and MMEngine cannot serialise an empty split
        self.faces = FaceH5Dataset(self.ann_file, split=self.split, resolution=self.resolution,
                                   serialize_data=False)
        n = len(self.faces)
        if n < 2:
            raise ValueError(f'SwapPairDataset({self.ann_file}): split {self.split!r} has {n} '
                             'face(s); a pair needs two different faces')
        infos = [self.faces.get_data_info(i) for i in range(n)]
        seeded = all(k in infos[0] for k in SEED_KEYS)
        self.has_truth = self.render_truth and seeded
        if self.has_truth:
            face0 = self.faces[0]
            check_renderer(face0['photo'].permute(1, 2, 0).numpy(), infos[0]['geometry_seed'],
                           infos[0]['appearance_seed'],
                           f'face {infos[0]["name"]!r} of {self.ann_file}')
        self._pairs = make_swap_pairs(n, self.num_pairs, self.seed, self.split)
        self._metainfo.update(self.faces.metainfo, split=self.split, pair_seed=self.seed,
                              num_faces=n, has_truth=self.has_truth)
        data_list = []
        for k, (i, j) in enumerate(self._pairs):
            info = dict(index=k, geometry=i, appearance=j, name=infos[i]['name'],
                        appearance_name=infos[j]['name'])
            if seeded:
                info.update(geometry_seed=infos[i]['geometry_seed'],
                            appearance_seed=infos[j]['appearance_seed'])
            data_list.append(info)
        return data_list

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The pairs ``(i, j)`` (positions in the split), in sample order."""
        self.full_init()
        return list(self._pairs)

    def pair_records(self) -> list[dict]:
        """One dict per pair (for saving with results): ``index``, ``geometry`` /
        ``appearance`` (positions in the split), their names and file rows."""
        self.full_init()
        records = []
        for k in range(len(self)):
            info = self.get_data_info(k)
            i, j = info['geometry'], info['appearance']
            records.append(dict(index=k, geometry=i, appearance=j, geometry_name=info['name'],
                                appearance_name=info['appearance_name'],
                                geometry_row=self.faces.get_data_info(i)['index'],
                                appearance_row=self.faces.get_data_info(j)['index']))
        return records

    def prepare_data(self, idx: int) -> dict:
        info = self.get_data_info(idx)
        geo, app = self.faces[info['geometry']], self.faces[info['appearance']]
        out = dict(photo=geo['photo'], sketch=geo['sketch'], appearance_photo=app['photo'],
                   index=info['index'], pair=torch.tensor([info['geometry'],
                                                           info['appearance']]),
                   name=info['name'], appearance_name=info['appearance_name'])
        for key in SEED_KEYS:
            if key in info:
                out[key] = info[key]
        if self.has_truth:
            truth = render_swap_truth(info['geometry_seed'], info['appearance_seed'],
                                      int(geo['photo'].shape[-1]))
            out['truth'] = torch.from_numpy(np.ascontiguousarray(
                truth['photo'].transpose(2, 0, 1)))
            out['truth_label'] = torch.from_numpy(truth['label'])
        return self.pipeline(out)
