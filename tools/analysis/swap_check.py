"""Ground-truth swap check of a stage-3 model on held-out synthetic faces.

    python tools/analysis/swap_check.py CONFIG CHECKPOINT [--data FILE] [--split test]
        [--num-pairs N] [--batch-size B] [--out-dir DIR] [--require-win]

Pair k of the split is (I1, I2) = (sample k, sample k-1), cyclically. Per component c the
model's swap and three baselines are compared with the rendered truth ``P(g1, a2)`` (the
synthetic renderer draws face k's geometry with face k-1's appearance)::

    swap             G(E_I(I1_c), E_A(I2_c))
    copy_geometry    I1_c
    copy_appearance  I2_c
    color_transfer   I1_c with I2_c's per-channel mean and standard deviation (CIELAB)

by mean L1 and PSNR over the crop and over the detail regions of the truth's label map
(brows, irises, lips, hair), with ``SwapGroundTruthMetric``. A model that disentangles beats
every baseline everywhere. Writes ``swap_check.json`` (all numbers) and, per component, a grid
``swap_grid_<c>.png`` (rows: pairs; columns: I1 | I2 | swap | truth | colour transfer) to
``--out-dir`` (default: ``swap_check/`` next to the checkpoint). The checkpoint's
``state_dict`` is used: the EMA weights when the run kept an EMA (``--raw-weights`` takes the
raw ones).
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

SEED_KEYS = ('geometry_seed', 'appearance_seed')
METHODS_SHOWN = ('I1', 'I2', 'swap', 'truth', 'colour transfer')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the stage-3 config the checkpoint was trained with')
    p.add_argument('checkpoint', help='a stage-3 checkpoint (LocalDisentanglement)')
    p.add_argument('--data', help='synthetic face file (default: the config\'s test data)')
    p.add_argument('--split', default='test', help='held-out split (default: test)')
    p.add_argument('--num-pairs', type=int, default=None,
                   help='use the first N samples of the split (default: all)')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--grid-samples', type=int, default=8, help='rows of the swap grids')
    p.add_argument('--out-dir', help='where to write swap_check.json and the grids')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--threads', type=int, default=1, help='CPU threads (torch)')
    p.add_argument('--raw-weights', action='store_true',
                   help='use the raw generator weights (ema_state_dict of a run with EMA) '
                        'instead of the averaged ones (state_dict)')
    p.add_argument('--require-win', action='store_true',
                   help='exit with status 1 unless the swap beats every baseline everywhere')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. model.components=[eye1]')
    args = p.parse_args(argv)
    if args.num_pairs is not None and args.num_pairs < 2:
        p.error('--num-pairs must be >= 2 (a pair needs two faces)')
    if args.batch_size < 1:
        p.error('--batch-size must be >= 1')
    return args


def build_model(cfg: Config, checkpoint: str, device: str, raw_weights: bool = False):
    """The stage-3 model with every network from ``checkpoint`` (no stage-2 file, no VGG).

    ``raw_weights``: the generators from ``ema_state_dict`` (where ``EMAHook`` keeps the raw
    weights of a run with EMA) instead of ``state_dict`` (the averaged ones).
    """
    from facedisentangle.engine.checkpoint import safe_load_checkpoint
    from facedisentangle.registry import MODELS

    model_cfg = cfg.model.copy()
    if model_cfg.get('type') != 'LocalDisentanglement':
        raise ValueError(f'swap_check: {cfg.filename} is not a stage-3 config (model type '
                         f'{model_cfg.get("type")!r}, expected LocalDisentanglement)')
    # the stage-3 checkpoint holds E_I and E_sketch too; the perceptual terms are not needed
    model_cfg.update(stage2_checkpoint=checkpoint, loss_vgg=None, loss_cycle_vgg=None)
    model = MODELS.build(model_cfg)
    if not raw_weights:
        model.load_networks(checkpoint, ['generators'])
        return model.to(device).eval()
    ema = safe_load_checkpoint(checkpoint).get('ema_state_dict')
    if ema is None:
        raise KeyError(f'swap_check --raw-weights: {checkpoint} has no ema_state_dict (the run '
                       'kept no EMA; its state_dict already holds the raw weights)')
    for c in model.components:
        head = f'module.generators.{c}.'
        model.generators[c].load_state_dict({k[len(head):]: v for k, v in ema.items()
                                             if k.startswith(head)})
    model.generators.requires_grad_(False)
    return model.to(device).eval()


def load_pairs(data: str, split: str, resolution: int, num: int | None):
    """Photos (N, 3, H, W) uint8 and seeds of the first ``num`` faces of ``split``."""
    from facedisentangle.datasets.face_h5_dataset import FaceH5Dataset

    ds = FaceH5Dataset(data, split=split, resolution=resolution)
    n = len(ds) if num is None else min(num, len(ds))
    if n < 2:
        raise ValueError(f'swap_check: {data} has {len(ds)} faces in split {split!r}; at least '
                         '2 are needed')
    missing = [k for k in SEED_KEYS if k not in ds.get_data_info(0)]
    if missing:
        raise ValueError(f'swap_check: {data} has no {missing}: the swap check needs synthetic '
                         'faces (tools/dataset_converters/synthetic_faces.py), whose factors '
                         'let it render the true swap')
    samples = [ds[i] for i in range(n)]
    photos = torch.stack([s['photo'] for s in samples])
    seeds = {k: [int(s[k]) for s in samples] for k in SEED_KEYS}
    return photos, seeds, [s['name'] for s in samples]


def render_truth(seeds: dict, k: int, j: int, size: int) -> dict[str, np.ndarray]:
    """``P(g_k, a_j)`` and ``L(g_k)`` from the stored factor seeds."""
    from facedisentangle.datasets.synthetic import render_face, sample_appearance, sample_geometry

    return render_face(sample_geometry(seeds['geometry_seed'][k]),
                       sample_appearance(seeds['appearance_seed'][j]), size)


def check_renderer(photos: torch.Tensor, seeds: dict, data: str, names: list[str]) -> None:
    """The renderer must still reproduce the file's faces, otherwise the truth is wrong."""
    size = photos.shape[-1]
    again = render_truth(seeds, 0, 0, size)['photo']
    stored = photos[0].permute(1, 2, 0).numpy()
    diff = int(np.abs(again.astype(np.int16) - stored.astype(np.int16)).max())
    if diff > 2:
        raise RuntimeError(f'swap_check: re-rendering face {names[0]!r} of {data} from its '
                           f'seeds differs from the stored photo by up to {diff}/255: the '
                           'synthetic renderer changed since the file was written; regenerate '
                           'the file')


def to_float(img_uint8: torch.Tensor) -> torch.Tensor:
    return img_uint8.float() / 127.5 - 1.0


def run(args) -> dict:
    from mmengine.registry import init_default_scope

    from facedisentangle.engine.hooks.visualization_hook import to_uint8_grid
    from facedisentangle.evaluation import SwapGroundTruthMetric
    from facedisentangle.evaluation.functional.color_transfer import lab_color_transfer
    from facedisentangle.utils import register_all_modules

    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    init_default_scope('facedisentangle')
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'swap_check: {what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg, args.checkpoint, args.device, args.raw_weights)
    layout, components = model.layout, model.components
    data = args.data or cfg.test_dataloader.dataset.ann_file
    photos, seeds, names = load_pairs(data, args.split, layout.resolution, args.num_pairs)
    check_renderer(photos, seeds, data, names)
    n, size = photos.shape[0], photos.shape[-1]
    partner = [(k - 1) % n for k in range(n)]

    metrics = {c: SwapGroundTruthMetric(prefix=c, pred_key='swap', gt_key='truth',
                                        geometry_key='geometry', appearance_key='appearance',
                                        label_key='label') for c in components}
    grids = {c: [[] for _ in METHODS_SHOWN] for c in components}
    start = time.perf_counter()
    for b0 in range(0, n, args.batch_size):
        ks = list(range(b0, min(n, b0 + args.batch_size)))
        js = [partner[k] for k in ks]
        truths = [render_truth(seeds, k, j, size) for k, j in zip(ks, js)]
        truth = to_float(torch.from_numpy(np.stack([t['photo'] for t in truths]))
                         .permute(0, 3, 1, 2))
        label = torch.from_numpy(np.stack([t['label'] for t in truths]))
        i1, i2 = to_float(photos[ks]), to_float(photos[js])
        with torch.no_grad():
            swaps = {c: model.swap(i1.to(args.device), i2.to(args.device), c).float().cpu()
                     for c in components}
        for c in components:
            crop = {'swap': swaps[c], 'truth': layout.crop(truth, c),
                    'geometry': layout.crop(i1, c), 'appearance': layout.crop(i2, c),
                    'label': layout.crop(label, c)}
            samples = [{**{f'{c}/{key}': v[b] for key, v in crop.items()}, 'index': k}
                       for b, k in enumerate(ks)]
            metrics[c].process(None, samples)
            room = args.grid_samples - sum(x.shape[0] for x in grids[c][0])
            if room > 0:
                sel = slice(0, room)
                transfer = torch.stack([lab_color_transfer(g, a) for g, a in
                                        zip(crop['geometry'][sel], crop['appearance'][sel])])
                for col, img in zip(grids[c], (crop['geometry'][sel], crop['appearance'][sel],
                                              crop['swap'][sel], crop['truth'][sel], transfer)):
                    col.append(img)
    results = {}
    for c in components:
        results.update(metrics[c].evaluate(n))
    elapsed = time.perf_counter() - start

    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'swap_check')
    os.makedirs(out_dir, exist_ok=True)
    for c in components:
        columns = [torch.cat(col) for col in grids[c]]
        grid = to_uint8_grid(columns, max_samples=args.grid_samples)
        cv2.imwrite(osp.join(out_dir, f'swap_grid_{c}.png'), grid[..., ::-1])
    verdict = judge(results, components)
    report = dict(config=args.config, checkpoint=args.checkpoint,
                  weights='raw (ema_state_dict)' if args.raw_weights else 'state_dict',
                  data=data, split=args.split,
                  pairs=n, pairing='I1 = sample k, I2 = sample k-1 (cyclic)',
                  seconds=round(elapsed, 2), metrics=results, verdict=verdict)
    with open(osp.join(out_dir, 'swap_check.json'), 'w') as f:
        json.dump(report, f, indent=2)
    report['out_dir'] = out_dir
    return report


def judge(results: dict, components) -> dict:
    """Per component and region: does the swap's L1 beat every baseline's?"""
    from facedisentangle.evaluation.table import swap_metric_table

    verdict = {}
    for prefix, regions in swap_metric_table(results).items():
        if prefix not in components:
            continue
        for region, cell in regions.items():
            if 'swap' not in cell:
                continue
            swap_l1 = cell['swap']['L1']
            losers = [m for m, v in cell.items()
                      if m not in ('pixels', 'swap') and not swap_l1 < v['L1']]
            verdict[f'{prefix}/{region}'] = dict(swap_L1=swap_l1, beats_all=not losers,
                                                 not_beaten=losers)
    return verdict


def main(argv=None) -> int:
    from rich.console import Console

    from facedisentangle.evaluation.table import format_swap_table

    args = parse_args(argv)
    report = run(args)
    console = Console()
    console.print(format_swap_table(report['metrics'],
                                    title=f'Swap vs rendered truth, {report["pairs"]} held-out '
                                          f'pairs ({report["split"]}); L1 and PSNR'))
    failed = [k for k, v in report['verdict'].items() if not v['beats_all']]
    for key, v in report['verdict'].items():
        mark = 'beats every baseline' if v['beats_all'] else f'NOT better than {v["not_beaten"]}'
        console.print(f'{key}: swap L1 {v["swap_L1"]:.4f} {mark}')
    console.print(f'{report["pairs"]} pairs in {report["seconds"]} s; written to '
                  f'{report["out_dir"]}')
    return 1 if args.require_win and failed else 0


if __name__ == '__main__':
    sys.exit(main())
