"""Evaluate a trained facedisentangle model: ``python tools/test.py CONFIG CHECKPOINT``.

Runs the config's ``test_dataloader``/``test_evaluator`` (OpenMMLab flags ``--work-dir``,
``--cfg-options``, ``--launcher``), prints the metrics as a table and writes them, with the
config and the checkpoint's SHA-256, to ``<work_dir>/test_results.json`` (or ``--out``).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone

from mmengine.config import DictAction  # noqa: E402

from facedisentangle.apis.test import main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a facedisentangle model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results are written')
    parser.add_argument('--out', help='JSON file for the results '
                                      '(default: <work_dir>/test_results.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


if __name__ == '__main__':
    sys.exit(main(parse_args()))
