"""The body of ``tools/train.py``: config in, trained run out."""
from __future__ import annotations

import logging
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.logging import print_log


def set_amp(cfg: Config) -> None:
    """``--amp``: MMEngine's ``AmpOptimWrapper`` (float16 autocast + dynamic loss scaling)
    on a GPU; on a CPU, :class:`~facedisentangle.engine.CPUAutocastOptimWrapper` (bfloat16
    autocast, no loss scaling needed). Applied to every optimiser of the config."""
    import torch

    on_gpu = torch.cuda.is_available()
    if not on_gpu:
        print_log('--amp on a CPU: bfloat16 autocast (CPUAutocastOptimWrapper); weights, '
                  'gradients and optimiser states stay float32.', logger='current')
    ow = cfg.optim_wrapper
    if 'optimizer' in ow:
        subs = [ow]
    else:
        subs = [v for k, v in ow.items() if isinstance(v, dict) and 'optimizer' in v]
    for sub in subs:
        if sub.get('type', 'OptimWrapper') in ('AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
            continue
        if on_gpu:
            sub['type'] = 'AmpOptimWrapper'
            sub.setdefault('loss_scale', 'dynamic')
        else:
            sub['type'] = 'CPUAutocastOptimWrapper'


def load_config(args) -> Config:
    """The config of ``args.config`` with the flags shared by train and test applied:
    ``--launcher``, ``--cfg-options`` and ``--work-dir`` (default
    ``./work_dirs/<config name>`` unless the config sets one)."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_train_cfg(args) -> Config:
    """Load the config and apply the command-line flags."""
    cfg = load_config(args)
    if args.amp and 'pipeline' not in cfg:  # a pipeline sets it per stage
        set_amp(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def build_runner(cfg: Config):
    from facedisentangle.engine import FDRunner
    from facedisentangle.registry import RUNNERS

    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return FDRunner.from_cfg(cfg)


def main(args) -> int:
    from facedisentangle.models.editors.base import NonFiniteLossError
    from facedisentangle.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = build_train_cfg(args)
    try:
        if 'pipeline' in cfg:
            from facedisentangle.apis.pipeline import run_pipeline

            run_pipeline(cfg, args)
        else:
            build_runner(cfg).train()
    except NonFiniteLossError as e:
        print_log(str(e), logger='current', level=logging.ERROR)
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0
