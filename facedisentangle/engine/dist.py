"""Distributed start-up that also works without GPUs.

MMEngine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` for the ``pytorch`` and
``slurm`` launchers and dies on a CPU-only machine. When no GPU is available we initialise a
``gloo`` process group ourselves, before the Runner (which then skips its own ``init_dist``);
with GPUs MMEngine's NCCL path is used unchanged.
"""
from __future__ import annotations

import os
import subprocess

import torch
import torch.distributed as dist


def _slurm_env() -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR from Slurm's variables (as MMEngine does)."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        addr = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
        os.environ['MASTER_ADDR'] = addr or '127.0.0.1'
    os.environ.setdefault('MASTER_PORT', '29500')


def init_cpu_distributed(launcher: str) -> bool:
    """Initialise a gloo process group for ``launcher`` when there is no GPU.

    Returns True when this function initialised the group (CPU run), False when nothing was
    done (no launcher, already initialised, or GPUs available: MMEngine handles those).
    """
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    if launcher == 'slurm':
        _slurm_env()
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported on CPU; use pytorch or slurm')
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(f'launcher {launcher!r}: environment variable {key} is not set; '
                               'start with torchrun (or srun for slurm)')
    dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']))
    return True
