"""Evaluate a trained facedisentangle model: ``python tools/test.py CONFIG CHECKPOINT``.

Modes (``--mode``, see docs/metrics.md):

* ``reconstruction`` (default): the config's ``test_dataloader``/``test_evaluator`` (stage 1
  sketch L1, stage 2 code L1, stage 3 per component, stage 4 the fused face);
* ``swap`` (stages 3 and 4): held-out pairs from a fixed seeded list; the swap against the
  rendered truth beside the copy_geometry / copy_appearance / color_transfer baselines (synthetic
  faces), and geometry/appearance code consistency;
* ``sketch`` (stages 3 and 4): the same with the geometry from the sketch (sketch-to-face).

Prints the metrics as rich tables and writes them, with the config, the checkpoint's SHA-256,
the sample or pair list and grid pictures, to ``<work_dir>/test_results[_<mode>].json`` (or
``--out``). OpenMMLab flags ``--work-dir``, ``--cfg-options`` (applied to CONFIG before the
mode), ``--launcher``. Missing files and modes that do not apply: one ``error:`` line, exit 2.
"""
from __future__ import annotations

import argparse
import sys

from mmengine.config import DictAction

from facedisentangle.apis.test import MODES
from facedisentangle.apis.test import main as test

from .launcher import add_launcher_arguments, set_local_rank


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a facedisentangle model')
    parser.add_argument('config', help='the config the checkpoint was trained with (a run\'s '
                                       'work dir holds it with every override applied)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--mode', choices=MODES, default='reconstruction',
                        help='what to evaluate (default: reconstruction)')
    parser.add_argument('--work-dir', help='where logs and results are written')
    parser.add_argument('--out', help='JSON file for the results (default: <work_dir>/'
                                      'test_results.json, test_results_<mode>.json); the grids '
                                      'are written next to it')
    parser.add_argument('--num-pairs', type=int, default=None,
                        help='swap/sketch: number of pairs (default: one per test face)')
    parser.add_argument('--pair-seed', type=int, default=None,
                        help='swap/sketch: seed of the pair list (default: 0)')
    parser.add_argument('--lpips', choices=['alex', 'vgg', 'none'], default='alex',
                        help='swap/sketch: LPIPS network of the swap table (default: alex; '
                             'needs its torchvision weights file)')
    parser.add_argument('--fid', action='store_true',
                        help='stage 4: also FID and KID of the faces (needs the Inception '
                             'weights file)')
    parser.add_argument('--weights-dir',
                        help='folder holding the metrics\' weight files (default: the torch hub '
                             'cache $TORCH_HOME/hub/checkpoints)')
    parser.add_argument('--random-backbones', action='store_true',
                        help='SMOKE TESTS ONLY: random LPIPS backbones, FID/KID skipped; every '
                             'number is marked not comparable')
    parser.add_argument('--grid-samples', type=int, default=8,
                        help='rows of the result grids (0: no grid)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys')
    add_launcher_arguments(parser)
    args = parser.parse_args(argv)
    if args.num_pairs is not None and args.num_pairs < 1:
        parser.error('--num-pairs must be >= 1')
    if args.mode == 'reconstruction' and (args.num_pairs is not None
                                          or args.pair_seed is not None):
        parser.error('--num-pairs/--pair-seed apply to --mode swap and sketch')
    return set_local_rank(args)


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line) and evaluate; the exit status."""
    return test(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
