"""The body of ``tools/test.py``: evaluate one checkpoint in one of three modes.

``reconstruction``  the stage config's own ``test_dataloader`` / ``test_evaluator`` (stage 1:
                    sketch L1; stage 2: code L1; stage 3: per-component reconstruction and
                    L_Geo as a measure; stage 4: the fused face's L1/PSNR/SSIM).
``swap``            stages 3 and 4: held-out pairs (i, j) of the test split from a fixed seeded
                    list (``SwapPairDataset``), the model's ``G(E_I(I_i), E_A(I_j))`` scored
                    against the rendered truth ``P(g_i, a_j)`` beside the baselines
                    copy_geometry, copy_appearance and color_transfer (synthetic faces), and
                    geometry/appearance code consistency (any faces).
``sketch``          the same pairs with the geometry from the sketch: ``G(E_s(S_i), E_A(I_j))``.

Stage 3 is scored per component crop, stage 4 on the fused face. Results: a rich table
(``format_swap_table`` for swap metrics, ``format_metrics_table`` for the others), a JSON file
with every number, the config, the checkpoint's SHA-256 and the sample or pair list, and PNG
grids of the first test batch. User errors (missing config, checkpoint or weights file, a
mode that does not apply) end with one ``error:`` line on stderr and exit code 2.
"""
from __future__ import annotations

import copy
import json
import numbers
import os
import os.path as osp
import sys
import time

from mmengine.config import Config
from mmengine.dist import is_main_process

from facedisentangle.utils.files import sha256_of
from facedisentangle.utils.messages import one_line

MODES = ('reconstruction', 'swap', 'sketch')
# the model's output scored in each pair mode (see the models' ``predict_swap``)
MODE_OUTPUT = {'swap': 'swap', 'sketch': 'sketch_swap'}
INCEPTION_METRICS = ('FID', 'KID')
NOT_COMPARABLE_MARK = '*'


class TestToolError(Exception):
    """A user error: reported as one line with exit code 2."""


def _jsonable(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)   # pixel counts stay integers
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------- the model
# The config's model is built as it is: building reads no file (earlier stages' checkpoints and
# the VGG19 are read by init_weights, which only training calls), and the tested checkpoint
# holds every network the model tests with (checked by check_checkpoint_covers).
def checkpoint_state_keys(path: str) -> set[str]:
    """The ``state_dict`` keys of a checkpoint (memory-mapped, weights-only)."""
    import torch

    from facedisentangle.engine.checkpoint import checkpoint_safe_globals, safe_load_checkpoint

    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            ckpt = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:   # not a zip checkpoint (no mmap) or unsafe: the named error
        try:
            ckpt = safe_load_checkpoint(path)
        except RuntimeError as e:
            raise TestToolError(str(e)) from e
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise TestToolError(f'checkpoint {path!r} holds no state_dict')
    return set(state)


def check_checkpoint_covers(model, keys: set[str], checkpoint: str, config: str) -> None:
    """Every weight of the model, discriminators aside, must be in the checkpoint (the
    Runner loads non-strictly and would leave missing networks random)."""
    from mmengine.model import is_model_wrapper

    from .init_model import missing_weights

    missing = missing_weights(model, keys)
    model = model.module if is_model_wrapper(model) else model
    if missing:
        nets = sorted({'.'.join(k.split('.')[:2]) for k in missing})
        raise TestToolError(f'checkpoint {checkpoint!r} lacks {len(missing)} weights of the '
                            f'{type(model).__name__} of {config} (networks {nets[:6]}): is it a '
                            'checkpoint of this stage?')


# ---------------------------------------------------------------------------- the modes
def _min_crop(cfg: Config) -> tuple[str, int]:
    from facedisentangle.structures import build_layout

    model = cfg.model
    layout = build_layout(model.get('layout'))
    comps = model.get('components') or list(layout.components)
    return min(((c, layout.size(c)) for c in comps), key=lambda t: t[1])


def pair_dataset_cfg(cfg: Config, args) -> dict:
    """``SwapPairDataset`` on the file, split and resolution of the config's test data."""
    ds = cfg.test_dataloader.dataset
    if ds.get('type') == 'SwapPairDataset':
        out = copy.deepcopy(dict(ds))
    elif ds.get('type') == 'FaceH5Dataset':
        out = dict(type='SwapPairDataset', ann_file=ds.ann_file, split=ds.get('split', 'test'),
                   resolution=ds.get('resolution'), data_root=ds.get('data_root', ''))
    else:
        raise TestToolError(f'--mode {args.mode}: pairs are drawn from a face HDF5 file, but '
                            f'test_dataloader.dataset is a {ds.get("type")!r}')
    if args.num_pairs is not None:
        out['num_pairs'] = args.num_pairs
    if args.pair_seed is not None:
        out['seed'] = args.pair_seed
    return out


def pair_evaluator(model_type: str, components, mode: str, has_truth: bool, lpips: dict | None,
                   fid: bool, weights_dir: str | None) -> list[dict]:
    """The metrics of ``--mode swap|sketch`` (see the module docstring)."""
    out = MODE_OUTPUT[mode]
    per_component = model_type == 'LocalDisentanglement'
    metrics = []
    if has_truth:
        # swap mode: also the self-reconstruction of the geometry source, a reference
        common = dict(type='SwapGroundTruthMetric', pred_key=out, gt_key='swap_gt',
                      geometry_key='geometry', appearance_key='appearance', label_key='label',
                      reconstruction_key='reconstruction' if out == 'swap' else None,
                      lpips=lpips)
        if per_component:
            metrics += [dict(common, prefix=c) for c in components]
        else:   # the fused face: unprefixed keys, reported as face/...
            metrics.append(dict(common, prefix='face', prefix_keys=False))
    for c in components:
        metrics += [
            dict(type='CodeConsistencyMetric', prefix=c, pred_code_key=f'{out}_code',
                 source_code_key='geometry_code', name='geometry_consistency'),
            dict(type='CodeConsistencyMetric', prefix=c, pred_code_key=f'{out}_appearance_code',
                 source_code_key='appearance_code', name='appearance_consistency'),
        ]
    if fid:   # the generated faces against the real geometry sources
        metrics += [dict(type=t, prefix='face', prefix_keys=False, pred_key=out,
                         gt_key='geometry', inception_path=weights_dir)
                    for t in INCEPTION_METRICS]
    return metrics


def apply_mode(cfg: Config, args) -> dict:
    """Rewrite ``cfg``'s test data and metrics for ``args.mode``; returns what the JSON
    records about it (``has_truth``, notes)."""
    from facedisentangle.registry import DATASETS, MODELS

    model_type = cfg.model.get('type')
    info: dict = dict(notes=[])
    lpips = None
    if args.lpips != 'none':
        lpips = dict(net=args.lpips, backbone_path=args.weights_dir,
                     random_backbones=bool(args.random_backbones))
    if args.fid and model_type != 'GlobalFusion':
        raise TestToolError(f'--fid: FID/KID are computed on whole faces (stage 4, '
                            f'GlobalFusion); {args.config} is a {model_type}')
    if args.mode == 'reconstruction':
        if args.fid:
            ds = cfg.test_dataloader.dataset
            reference = None
            if ds.get('type') == 'FaceH5Dataset':
                reference = dict(source=osp.abspath(osp.join(ds.get('data_root', ''),
                                                             ds.ann_file)),
                                 split=ds.get('split'), resolution=ds.get('resolution'))
            evaluator = cfg.test_evaluator
            evaluator = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
            cfg.test_evaluator = evaluator + [
                dict(type=t, prefix='face', prefix_keys=False, pred_key='pred', gt_key='gt',
                     inception_path=args.weights_dir, reference=reference)
                for t in INCEPTION_METRICS]
        return info

    swap_models = [name for name, cls in MODELS.module_dict.items()
                   if getattr(cls, 'supports_swap', False)]
    if model_type not in swap_models:
        raise TestToolError(f'--mode {args.mode} scores geometry/appearance swaps, which stages '
                            f'3 and 4 ({", ".join(swap_models)}) make; {args.config} is a '
                            f'{model_type}: use --mode reconstruction')
    if lpips is not None and model_type == 'LocalDisentanglement':
        from facedisentangle.evaluation.networks import LPIPS_MIN_SIZE

        comp, size = _min_crop(cfg)
        if size < LPIPS_MIN_SIZE[args.lpips]:
            raise TestToolError(f'LPIPS ({args.lpips}) needs images of at least '
                                f'{LPIPS_MIN_SIZE[args.lpips]} px; the {comp} crop is {size} px:'
                                ' use --lpips vgg or --lpips none')
    ds_cfg = pair_dataset_cfg(cfg, args)
    dataset = DATASETS.build(copy.deepcopy(ds_cfg))   # checks the file and the renderer now
    info.update(has_truth=bool(dataset.has_truth), num_faces=int(dataset.metainfo['num_faces']))
    if not dataset.has_truth:
        info['notes'].append(f'{ds_cfg["ann_file"]} has no synthetic factor seeds (or '
                             'render_truth=False): no rendered truth, only code consistency')
    cfg.test_dataloader.dataset = ds_cfg
    cfg.test_dataloader.sampler = dict(type='DefaultSampler', shuffle=False, round_up=False)
    pre = dict(cfg.model.get('data_preprocessor') or dict(type='FaceDataPreprocessor'))
    keys = list(pre.get('image_keys', ('photo', 'sketch')))
    pre['image_keys'] = keys + [k for k in ('appearance_photo', 'truth') if k not in keys]
    cfg.model.data_preprocessor = pre
    components = cfg.model.get('components')
    if not components:
        from facedisentangle.structures import build_layout

        components = list(build_layout(cfg.model.get('layout')).components)
    cfg.test_evaluator = pair_evaluator(model_type, components, args.mode,
                                        dataset.has_truth, lpips, args.fid, args.weights_dir)
    return info


def apply_backbone_options(cfg: Config, args) -> list[str]:
    """``--weights-dir`` and ``--random-backbones`` on every metric of ``test_evaluator``.

    Random backbones: LPIPS-using metrics get ``random_backbones=True``; FID and KID have no
    random form and are dropped. Returns notes (printed and saved)."""
    evaluator = cfg.test_evaluator
    evaluator = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
    notes, kept = [], []
    for m in evaluator:
        m = dict(m)
        t = m.get('type')
        if t in INCEPTION_METRICS:
            if args.random_backbones:
                notes.append(f'{t} SKIPPED: --random-backbones has no random Inception '
                             f'(a {t} of random features would not be {t})')
                continue
            if args.weights_dir and m.get('inception_path') is None:
                m['inception_path'] = args.weights_dir
        elif t == 'LPIPS':
            if args.random_backbones:
                m['random_backbones'] = True
                notes.append('LPIPS: RANDOM backbone (--random-backbones)')
            elif args.weights_dir and m.get('backbone_path') is None:
                m['backbone_path'] = args.weights_dir
        elif t == 'SwapGroundTruthMetric' and m.get('lpips') is not None:
            lp = dict(m['lpips'])
            if args.random_backbones:
                lp['random_backbones'] = True
                if not any('swap LPIPS' in n for n in notes):
                    notes.append('swap LPIPS: RANDOM backbone (--random-backbones)')
            elif args.weights_dir and lp.get('backbone_path') is None:
                lp['backbone_path'] = args.weights_dir
            m['lpips'] = lp
        kept.append(m)
    if not kept:
        raise TestToolError('no metric is left to compute (--random-backbones drops FID/KID)')
    cfg.test_evaluator = kept
    return notes


def check_metrics(cfg: Config) -> None:
    """Build every metric once, so a missing weights file stops before any model runs."""
    import warnings

    from mmengine import DefaultScope

    from facedisentangle.registry import METRICS

    with DefaultScope.overwrite_default_scope('facedisentangle'), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for m in cfg.test_evaluator:
            try:
                METRICS.build(copy.deepcopy(dict(m)))
            except FileNotFoundError as e:
                raise FileNotFoundError(
                    f'{one_line(e)} tools/test.py: --weights-dir DIR reads it from DIR; '
                    '--lpips none leaves LPIPS out; --random-backbones only for smoke '
                    'tests.') from e


# ---------------------------------------------------------------------------- outputs
def split_swap_metrics(metrics: dict) -> tuple[dict, dict]:
    """(swap-table metrics, the others)."""
    from facedisentangle.evaluation.metrics import SWAP_METHODS

    swap, other = {}, {}
    for k, v in metrics.items():
        parts = k.split('/')
        (swap if any(p in SWAP_METHODS for p in parts) or parts[-1] == 'pixels'
         else other)[k] = v
    return swap, other


def print_results(metrics: dict, title: str, comparable: bool, notes: list[str]) -> None:
    from rich.console import Console

    from facedisentangle.evaluation import format_metrics_table, format_swap_table
    from facedisentangle.evaluation.table import _fmt

    console = Console()
    if not console.is_terminal and console.width < 140:   # a log file: do not cut names
        console = Console(width=140)
    shown = metrics
    if not comparable:
        shown = {k: f'{_fmt(v)}{NOT_COMPARABLE_MARK}' for k, v in metrics.items()}
        title = f'{title} - NOT COMPARABLE ({NOT_COMPARABLE_MARK})'
    swap, other = split_swap_metrics(shown)
    if swap:
        console.print(format_swap_table(swap, title=f'Swap vs rendered truth: {title} (L1, '
                                                    'LPIPS lower is better; PSNR higher)'))
    if other or not swap:
        console.print(format_metrics_table(other, title=title))
    if not comparable:
        console.print(f'[bold red]{NOT_COMPARABLE_MARK} NOT COMPARABLE: --random-backbones '
                      'was given (smoke test); no number above may be reported or compared.'
                      '[/bold red]')
    for note in notes:
        console.print(f'note: {note}')


def write_grids(runner, stem: str, max_samples: int) -> dict[str, list[str]]:
    """PNG grids of the first test batch: one per group of outputs (a component, or the
    face), a row per sample, a column per RGB output in the order the model returns them."""
    import cv2
    import torch

    from facedisentangle.visualization import to_uint8_grid

    if max_samples <= 0:
        return {}
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        outputs = runner.model.test_step(batch)[:max_samples]
    groups: dict[str, dict[str, list]] = {}
    for sample in outputs:
        for key, v in sample.items():
            if torch.is_tensor(v) and v.dim() == 3 and v.shape[0] == 3 and v.is_floating_point():
                group, _, name = key.rpartition('/')
                groups.setdefault(group, {}).setdefault(name, []).append(v)
    written = {}
    for group, columns in groups.items():
        path = f'{stem}_grid_{group}.png' if group else f'{stem}_grid.png'
        grid = to_uint8_grid([torch.stack(c) for c in columns.values()], max_samples)
        cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        written[path] = list(columns)
    return written


def sample_list(dataset) -> tuple[str, list]:
    """('pairs', records) for a pair data set, ('samples', records) otherwise."""
    if hasattr(dataset, 'pair_records'):
        return 'pairs', dataset.pair_records()
    records = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        records.append({k: info[k] for k in ('index', 'name') if k in info} or {'index': i})
    return 'samples', records


# ---------------------------------------------------------------------------- main
def build_test_cfg(args) -> tuple[Config, dict]:
    from facedisentangle.apis.train import load_config

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    info = apply_mode(cfg, args)
    info['notes'] = info['notes'] + apply_backbone_options(cfg, args)
    check_metrics(cfg)
    return cfg, info


def run(args) -> int:
    from facedisentangle.engine import build_runner
    from facedisentangle.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg, info = build_test_cfg(args)
    keys = checkpoint_state_keys(args.checkpoint)
    try:
        runner = build_runner(cfg)
    except KeyError as e:   # a network missing from the checkpoint, an unknown type
        raise TestToolError(one_line(e)) from e
    check_checkpoint_covers(runner.model, keys, args.checkpoint, args.config)
    start = time.perf_counter()
    metrics = runner.test()
    seconds = time.perf_counter() - start
    if not is_main_process():
        return 0
    metrics = {k: _jsonable(v) for k, v in (metrics or {}).items()}
    comparable = not args.random_backbones
    print_results(metrics, f'{osp.basename(args.config)} @ {osp.basename(args.checkpoint)}, '
                           f'mode {args.mode}', comparable, info['notes'])
    default = 'test_results.json' if args.mode == 'reconstruction' \
        else f'test_results_{args.mode}.json'
    out = args.out or osp.join(cfg.work_dir, default)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    grids = write_grids(runner, osp.splitext(out)[0], args.grid_samples)
    dataset = runner.test_dataloader.dataset
    list_name, records = sample_list(dataset)
    from facedisentangle.evaluation import swap_metric_table

    swap_metrics, _ = split_swap_metrics(metrics)
    result = dict(
        mode=args.mode, config=args.config, checkpoint=args.checkpoint,
        checkpoint_sha256=sha256_of(args.checkpoint), model_type=cfg.model.get('type'),
        comparable=comparable, notes=info['notes'], metrics=metrics,
        swap_table=swap_metric_table(swap_metrics) if swap_metrics else None,
        data=dict(ann_file=cfg.test_dataloader.dataset.get('ann_file'),
                  split=cfg.test_dataloader.dataset.get('split'), num_samples=len(dataset),
                  has_truth=info.get('has_truth')),
        grids=grids, seconds=round(seconds, 3), config_text=cfg.pretty_text)
    if list_name == 'pairs':
        result.update(pair_seed=dataset.seed, pair_rule=(
            'pair k: geometry source i = k mod n, appearance source j = (i + d_k) mod n, '
            'd_k ~ U{1..n-1} from numpy default_rng(SeedSequence([seed, crc32(split)]))'))
    result[list_name] = records
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    for path, columns in grids.items():
        print(f'grid {path}: columns {" | ".join(columns)}')
    print(f'results written to {out}')
    return 0


def main(args) -> int:
    from facedisentangle.datasets import H5FormatError, RendererMismatchError

    try:
        return run(args)
    except (FileNotFoundError, TestToolError, RendererMismatchError, H5FormatError) as e:
        print(f'error: {one_line(e)}', file=sys.stderr)
        return 2
