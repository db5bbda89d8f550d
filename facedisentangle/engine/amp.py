"""``--amp`` (and ``pipeline.amp``): the mixed-precision optimiser wrappers of a config."""
from __future__ import annotations

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
