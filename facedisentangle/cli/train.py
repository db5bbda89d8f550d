"""Train a facedisentangle model: ``python tools/train.py CONFIG [options]``.

OpenMMLab-style flags: ``--work-dir``, ``--resume [auto|PATH]``, ``--amp``,
``--cfg-options k=v ...``, ``--launcher none|pytorch|slurm``. Multi-process training:
``torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch`` (GPUs with NCCL, or
CPU processes with gloo) or ``tools/dist_train.sh`` / ``tools/slurm_train.sh``.

``--cfg-options`` keys are checked before anything runs: a key the config cannot take (a typo
such as ``train_cfg.max_iterz``) stops with the closest valid key named; ``--allow-new-keys``
adds keys on purpose. The console shows the progress and the iteration logs; MMEngine's
environment, config and hook listings go to the log file only (``--verbose``: also the
console). A missing config file, an unknown ``--cfg-options`` key, a missing data file or a
data set split without samples: one ``error:`` line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys

from mmengine.config import DictAction as _DictAction

from facedisentangle.apis.train import main as train

from .launcher import add_launcher_arguments, set_local_rank


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a facedisentangle model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from PATH, or (no value / "auto") from the newest good '
                             'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 AMP on a GPU, bfloat16 autocast on a '
                             'CPU')
    parser.add_argument('--cfg-options', nargs='+', action=_DictAction, default={},
                        help='override config keys, e.g. train_cfg.max_iters=100 (checked: a '
                             'key the config cannot take is refused, with the closest one)')
    parser.add_argument('--allow-new-keys', action='store_true',
                        help='let --cfg-options add keys the config does not have')
    parser.add_argument('--verbose', action='store_true',
                        help="also print MMEngine's environment, config and hook listings "
                             '(always in the log file)')
    add_launcher_arguments(parser)
    return set_local_rank(parser.parse_args(argv))


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line) and train; the exit status."""
    return train(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
