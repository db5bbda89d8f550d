"""Ground-truth swap check of a stage-3 model on held-out synthetic faces.

    python tools/analysis/swap_check.py CONFIG CHECKPOINT [--data FILE] [--split test]
        [--num-pairs N] [--seed S] [--batch-size B] [--out-dir DIR] [--raw-weights]
        [--require-win]

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
detail regions of the truth's label map (brows, irises, lips, hair), with
``SwapGroundTruthMetric``, and says for every component and region whether the swap beats
every baseline by L1 and by colour (a model that disentangles does; on regions a few pixels
across, L1 mostly measures edge placement, colour_L1 whether the appearance came across and
colour_corr whether it came from the appearance source rather than the data set's average).
Beside them, as a reference and not a competitor, the model's self-reconstruction of the
geometry source against its own photo (``self_reconstruction``: G(E_I(I_i,c), E_A(I_i,c))
vs I_i,c, the same regions): where even that loses to a baseline, the model cannot draw the
region sharply enough, whatever its disentanglement.
``--require-win`` asks for the L1 wins. Writes
``swap_check.json`` (all numbers, the pairs) and, per component, a grid ``swap_grid_<c>.png``
(rows: pairs; columns: I_i | I_j | swap | truth | colour transfer) to ``--out-dir`` (default:
``swap_check/`` next to the checkpoint). The checkpoint's ``state_dict`` is used: the EMA
weights when the run kept an EMA (``--raw-weights`` takes the raw ones).
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
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

METHODS_SHOWN = ('I_i', 'I_j', 'swap', 'truth', 'colour transfer')
# (measure, verdict key prefix, higher is better): L1 everywhere; on detail regions only, the
# mean colour's error and its correlation with the truth's over the pairs (on the whole crop,
# colour transfer matches the appearance source's mean by construction)
VERDICT_MEASURES = (('L1', '', False), ('colour_L1', 'colour_', False),
                    ('colour_corr', 'corr_', True))


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the stage-3 config the checkpoint was trained with')
    p.add_argument('checkpoint', help='a stage-3 checkpoint (LocalDisentanglement)')
    p.add_argument('--data', help='synthetic face file (default: the config\'s test data)')
    p.add_argument('--split', default='test', help='held-out split (default: test)')
    p.add_argument('--num-pairs', type=int, default=None,
                   help='number of pairs (default: one per face of the split)')
    p.add_argument('--seed', type=int, default=0, help='seed of the pair list')
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
    if args.num_pairs is not None and args.num_pairs < 1:
        p.error('--num-pairs must be >= 1')
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


def load_config_and_model(args, tool: str, device: str = 'cpu', raw_weights: bool = False):
    """Register the modules, check ``args.config`` / ``args.checkpoint`` exist, load the config
    (with ``args.cfg_options``) and build the stage-3 model from the checkpoint."""
    from mmengine.registry import init_default_scope

    from facedisentangle.utils import register_all_modules

    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    init_default_scope('facedisentangle')
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{tool}: {what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg, build_model(cfg, args.checkpoint, device, raw_weights)


def run(args) -> dict:
    from mmengine.dataset import default_collate

    from facedisentangle.engine.hooks.visualization_hook import to_uint8_grid
    from facedisentangle.evaluation import SwapGroundTruthMetric
    from facedisentangle.evaluation.functional.color_transfer import lab_color_transfer

    cfg, model = load_config_and_model(args, 'swap_check', args.device, args.raw_weights)
    components = model.components
    data = args.data or cfg.test_dataloader.dataset.ann_file
    ds = pair_dataset(data, args.split, model.layout.resolution, args.num_pairs, args.seed)
    n = len(ds)

    metrics = {c: SwapGroundTruthMetric(prefix=c, pred_key='swap', gt_key='swap_gt',
                                        geometry_key='geometry', appearance_key='appearance',
                                        label_key='label', reconstruction_key='reconstruction')
               for c in components}
    grids = {c: [[] for _ in METHODS_SHOWN] for c in components}
    start = time.perf_counter()
    for b0 in range(0, n, args.batch_size):
        batch = default_collate([ds[k] for k in range(b0, min(n, b0 + args.batch_size))])
        for key in IMAGE_KEYS:
            batch[key] = (batch[key].float() / 127.5 - 1.0).to(args.device)
        with torch.no_grad():
            outputs = model.predict_swap(**batch)
        for c in components:
            metrics[c].process(None, outputs)
            room = args.grid_samples - sum(x.shape[0] for x in grids[c][0])
            for s in outputs[:max(room, 0)]:
                geo, app = s[f'{c}/geometry'], s[f'{c}/appearance']
                for col, img in zip(grids[c], (geo, app, s[f'{c}/swap'], s[f'{c}/swap_gt'],
                                              lab_color_transfer(geo, app))):
                    col.append(img[None])
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
                  data=data, split=args.split, pairs=n, pair_seed=args.seed,
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


def _bound_note(entry: dict, measure: str) -> str:
    bound = entry.get(f'{measure}_bound_by_reconstruction')
    if not bound:
        return ''
    return (f' (nor is the self-reconstruction, {entry[f"self_reconstruction_{measure}"]:.4f}, '
            f'than {bound})')


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
        marks = [f'swap {measure} {v[f"swap_{measure}"]:.4f} '
                 + ('beats every baseline' if v[f'{name}beats_all']
                    else f'NOT better than {v[f"{name}not_beaten"]}'
                    + _bound_note(v, measure))
                 for measure, name, _ in VERDICT_MEASURES if f'swap_{measure}' in v]
        console.print(f'{key}: ' + '; '.join(marks))
    console.print(f'{report["pairs"]} pairs in {report["seconds"]} s; written to '
                  f'{report["out_dir"]}')
    return 1 if args.require_win and failed else 0


if __name__ == '__main__':
    sys.exit(main())
