"""The OpenMMLab launcher flags of tools/train.py and tools/test.py."""
from __future__ import annotations

import argparse
import os


def add_launcher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--launcher none|pytorch|slurm`` and ``--local_rank`` (torch.distributed.launch)."""
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def set_local_rank(args: argparse.Namespace) -> argparse.Namespace:
    """``LOCAL_RANK`` from ``--local_rank`` unless the launcher set it; returns ``args``."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
