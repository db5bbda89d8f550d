"""The ground-truth swap check of a stage-3 model on held-out synthetic faces (the body of
``tools/analysis/swap_check.py``; docs/local_disentanglement.md).

The pairs (i, j) are the project's fixed seeded held-out pairs (``SwapPairDataset``: every
face of the split in turn as the geometry source, a random other face as the appearance
source; the same pairs as ``tools/test.py --mode swap``). Per component c the model's swap and
three baselines are compared with the rendered truth ``P(g_i, a_j)`` (the synthetic renderer
draws face i's geometry with face j's appearance)::

    swap             G(E_I(I_i,c), E_A(I_j,c))
    copy_geometry    I_i,c
    copy_appearance  I_j,c
    color_transfer   I_i,c with I_j,c's per-channel mean and standard deviation (CIELAB)

by mean L1, PSNR and the error of the mean colour (``colour_L1``) over the crop and over the
detail regions of the truth's label map, with ``SwapGroundTruthMetric``; :func:`judge` says for
every component and region whether the swap beats every baseline. The model's
self-reconstruction of the geometry source (``self_reconstruction``) is a reference, not a
competitor.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import time

import torch

from facedisentangle.utils.cfg_merge import merge_cfg_options

METHODS_SHOWN = ('I_i', 'I_j', 'swap', 'truth', 'colour transfer')
# (measure, verdict key prefix, higher is better): L1 everywhere; on detail regions only, the
# mean colour's error and its correlation with the truth's over the pairs (on the whole crop,
# colour transfer matches the appearance source's mean by construction)
VERDICT_MEASURES = (('L1', '', False), ('colour_L1', 'colour_', False),
                    ('colour_corr', 'corr_', True))


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


IMAGE_KEYS = ('photo', 'sketch', 'appearance_photo', 'truth')


def pair_dataset(data: str, split: str, resolution: int, num_pairs: int | None, seed: int):
    """The held-out pairs with their rendered truth (synthetic faces only)."""
    from facedisentangle.datasets import SwapPairDataset

    ds = SwapPairDataset(data, split=split, num_pairs=num_pairs, seed=seed,
                         resolution=resolution)
    if not ds.has_truth:
        raise ValueError(f'swap_check: {data} has no synthetic factor seeds (geometry_seed, '
                         'appearance_seed): the swap check needs synthetic faces '
                         '(tools/dataset_converters/synthetic_faces.py), whose truth it renders')
    return ds


def load_stage3_model(config: str, checkpoint: str, device: str = 'cpu',
                      cfg_options: dict | None = None, raw_weights: bool = False,
                      tool: str = 'swap_check'):
    """``(cfg, model)``: the config (with ``cfg_options``) and its stage-3
    ``LocalDisentanglement`` with every network from ``checkpoint`` (no stage-2 file, no VGG;
    :func:`~facedisentangle.apis.init_model`). ``raw_weights``: the generators from
    ``ema_state_dict`` (the raw weights of a run with EMA) instead of ``state_dict`` (the
    averaged ones). ``tool`` names the caller in the errors."""
    from mmengine.config import Config

    from .init_model import init_model

    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{tool}: {what} file {path!r} not found')
    cfg = Config.fromfile(config)
    merge_cfg_options(cfg, cfg_options)  # dotted keys, hooks named by type
    model_type = cfg.model.get('type')
    if model_type != 'LocalDisentanglement':
        raise ValueError(f'{tool}: {cfg.filename} is not a stage-3 config (model type '
                         f'{model_type!r}, expected LocalDisentanglement)')
    return cfg, init_model(cfg, checkpoint, device, raw_weights=raw_weights)


def run(config: str, checkpoint: str, data: str | None = None, split: str = 'test',
        num_pairs: int | None = None, seed: int = 0, batch_size: int = 16,
        grid_samples: int = 8, out_dir: str | None = None, device: str = 'cpu',
        raw_weights: bool = False, cfg_options: dict | None = None) -> dict:
    """The check of the stage-3 ``checkpoint`` on ``num_pairs`` held-out pairs (default: one
    per face of ``split``) of the synthetic face file ``data`` (default: the config's test
    data), in batches of ``batch_size``: writes ``swap_check.json`` and the grids (the first
    ``grid_samples`` pairs) to ``out_dir`` (default: ``swap_check/`` next to the checkpoint)
    and returns the report (``metrics``, ``verdict``, ``pair_list``, ...). ``raw_weights``:
    see :func:`load_stage3_model`.
    """
    import cv2
    from mmengine.dataset import default_collate

    from facedisentangle.evaluation import SwapGroundTruthMetric
    from facedisentangle.evaluation.functional.color_transfer import lab_color_transfer
    from facedisentangle.visualization import to_uint8_grid, uint8_to_float

    cfg, model = load_stage3_model(config, checkpoint, device, cfg_options, raw_weights)
    components = model.components
    data = data or cfg.test_dataloader.dataset.ann_file
    ds = pair_dataset(data, split, model.layout.resolution, num_pairs, seed)
    n = len(ds)

    metrics = {c: SwapGroundTruthMetric(prefix=c, pred_key='swap', gt_key='swap_gt',
                                        geometry_key='geometry', appearance_key='appearance',
                                        label_key='label', reconstruction_key='reconstruction')
               for c in components}
    grids = {c: [[] for _ in METHODS_SHOWN] for c in components}
    start = time.perf_counter()
    for b0 in range(0, n, batch_size):
        batch = default_collate([ds[k] for k in range(b0, min(n, b0 + batch_size))])
        for key in IMAGE_KEYS:
            batch[key] = uint8_to_float(batch[key]).to(device)
        with torch.no_grad():
            outputs = model.predict_swap(**batch)
        for c in components:
            metrics[c].process(None, outputs)
            room = grid_samples - sum(x.shape[0] for x in grids[c][0])
            for s in outputs[:max(room, 0)]:
                geo, app = s[f'{c}/geometry'], s[f'{c}/appearance']
                for col, img in zip(grids[c], (geo, app, s[f'{c}/swap'], s[f'{c}/swap_gt'],
                                              lab_color_transfer(geo, app))):
                    col.append(img[None])
    results = {}
    for c in components:
        results.update(metrics[c].evaluate(n))
    elapsed = time.perf_counter() - start

    out_dir = out_dir or osp.join(osp.dirname(osp.abspath(checkpoint)), 'swap_check')
    os.makedirs(out_dir, exist_ok=True)
    for c in components:
        columns = [torch.cat(col) for col in grids[c]]
        grid = to_uint8_grid(columns, max_samples=grid_samples)
        cv2.imwrite(osp.join(out_dir, f'swap_grid_{c}.png'), grid[..., ::-1])
    verdict = judge(results, components)
    report = dict(config=config, checkpoint=checkpoint,
                  weights='raw (ema_state_dict)' if raw_weights else 'state_dict',
                  data=data, split=split, pairs=n, pair_seed=seed,
                  seconds=round(elapsed, 2), metrics=results, verdict=verdict,
                  pair_list=ds.pair_records())
    with open(osp.join(out_dir, 'swap_check.json'), 'w') as f:
        json.dump(report, f, indent=2)
    report['out_dir'] = out_dir
    return report


def judge(results: dict, components) -> dict:
    """Per component and region: does the swap beat every baseline by L1 and, on the detail
    regions, by the error of the region's mean colour (``colour_L1``) and by how closely that
    colour follows the truth's over the pairs (``colour_corr``, higher)? Where it does not,
    ``{measure}_bound_by_reconstruction`` lists the baselines that the model's
    self-reconstruction does not beat either (a fidelity limit, not a disentanglement one)."""
    from facedisentangle.evaluation.metrics import SWAP_BASELINES
    from facedisentangle.evaluation.table import swap_metric_table

    verdict = {}
    for prefix, regions in swap_metric_table(results).items():
        if prefix not in components:
            continue
        for region, cell in regions.items():
            if 'swap' not in cell:
                continue
            entry = {}
            measures = VERDICT_MEASURES[:1] if region == 'all' else VERDICT_MEASURES
            for measure, name, higher in measures:
                value = cell['swap'].get(measure)
                if value is None:   # colour_corr of a region in fewer than 3 pairs
                    continue
                # a baseline without the measure (colour_corr of a constant) cannot win on it
                losers = [m for m, v in cell.items() if m in SWAP_BASELINES and measure in v
                          and not _better(value, v[measure], higher)]
                entry.update({f'swap_{measure}': value, f'{name}beats_all': not losers,
                              f'{name}not_beaten': losers})
                ref = cell.get('self_reconstruction', {}).get(measure)
                if ref is not None:
                    entry[f'self_reconstruction_{measure}'] = ref
                    entry[f'{measure}_bound_by_reconstruction'] = [
                        m for m in losers if not _better(ref, cell[m][measure], higher)]
            verdict[f'{prefix}/{region}'] = entry
    return verdict
