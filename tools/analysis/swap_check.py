"""Ground-truth swap check of a stage-3 model on held-out synthetic faces.

    python tools/analysis/swap_check.py CONFIG CHECKPOINT [--data FILE] [--split test]
        [--num-pairs N] [--seed S] [--batch-size B] [--out-dir DIR] [--raw-weights]
        [--require-win]

Compares the model's swaps of the project's fixed held-out pairs, per component and
region, with the rendered truth P(g_i, a_j) and three baselines (copy geometry, copy
appearance, colour transfer), and the self-reconstruction beside them as a reference; what
is measured and how it is judged: :mod:`facedisentangle.apis.swap_check`.
``--require-win`` asks for the L1 wins. Writes
``swap_check.json`` (all numbers, the pairs) and, per component, a grid ``swap_grid_<c>.png``
(rows: pairs; columns: I_i | I_j | swap | truth | colour transfer) to ``--out-dir`` (default:
``swap_check/`` next to the checkpoint). The checkpoint's ``state_dict`` is used: the EMA
weights when the run kept an EMA (``--raw-weights`` takes the raw ones). The check itself is
:mod:`facedisentangle.apis.swap_check`; the model is built with ``facedisentangle.apis.init_model``.
"""
from __future__ import annotations

import argparse
import sys

import torch
from mmengine.config import DictAction

from facedisentangle.apis.swap_check import VERDICT_MEASURES, run


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
    torch.set_num_threads(args.threads)
    report = run(args.config, args.checkpoint, data=args.data, split=args.split,
                 num_pairs=args.num_pairs, seed=args.seed, batch_size=args.batch_size,
                 grid_samples=args.grid_samples, out_dir=args.out_dir, device=args.device,
                 raw_weights=args.raw_weights, cfg_options=args.cfg_options)
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
