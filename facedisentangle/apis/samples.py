"""Sample edits written at the end of a training pipeline (a first look at the model)."""
from __future__ import annotations

import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

from facedisentangle.visualization import to_uint8_grid, uint8_to_float


@torch.no_grad()
def write_sample_edits(cfg: Config, checkpoint: str, out_dir: str, num: int = 8,
                       split: str = 'test') -> str:
    """Swap grid of ``num`` held-out faces: pair k is (face k, face k-1).

    Columns: geometry source | appearance source | fused swap | sketch of the geometry source
    | sketch-to-face (that sketch with the appearance source) | rendered truth P(g_k, a_{k-1})
    when the data are synthetic (their factor seeds are stored). Returns the PNG's path.
    """
    import cv2

    from facedisentangle.datasets.face_h5_dataset import FaceH5Dataset

    from .init_model import init_model

    if cfg.model.get('type') != 'GlobalFusion':
        raise ValueError(f'{cfg.filename}: expected a GlobalFusion (stage 4) config, got '
                         f"{cfg.model.get('type')!r}")
    model = init_model(cfg, checkpoint)
    ds_cfg = cfg.test_dataloader.dataset
    ds = FaceH5Dataset(ds_cfg.ann_file, split=split, resolution=model.layout.resolution)
    samples = [ds[i] for i in range(min(num, len(ds)))]
    if len(samples) < 2:
        raise ValueError(f'{ds_cfg.ann_file}: split {split!r} needs at least 2 faces')
    photo = uint8_to_float(torch.stack([s['photo'] for s in samples]))
    sketch = uint8_to_float(torch.stack([s['sketch'] for s in samples]))
    app = photo.roll(1, dims=0)
    columns = [photo, app, model.swap(photo, app), sketch,
               model.swap(sketch, app, geometry_from='sketch')]
    if all('geometry_seed' in s for s in samples):
        from facedisentangle.datasets.swap_pairs import render_swap_truth

        truth = [render_swap_truth(samples[k]['geometry_seed'], samples[k - 1]['appearance_seed'],
                                   model.layout.resolution)['photo']
                 for k in range(len(samples))]
        columns.append(uint8_to_float(torch.from_numpy(np.stack(truth)).permute(0, 3, 1, 2)))
    grid = to_uint8_grid(columns, max_samples=len(samples))
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, 'sample_swaps.png')
    cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return path
