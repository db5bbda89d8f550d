"""Time of one training step in float32 and with ``--amp`` (a benchmark, not a test).

    python tools/benchmarks/bench_train_step.py [CONFIG] [--components bg eye1 ...]
        [--batch 16] [--threads 2] [--steps 5] [--warmup 1]

Builds the model of a stage config (random weights; the earlier stages' checkpoints are not
needed, ``stage*_checkpoint`` is set to ``None``) and times ``model.train_step`` on random
uint8 photos and sketches at the config's resolution, once with plain ``OptimWrapper`` s
(float32) and once with the wrappers ``tools/train.py --amp`` selects (on a CPU:
``CPUAutocastOptimWrapper``, bfloat16 autocast). Both run in the same process, alternating
per step, so machine load hits both alike. Prints the median seconds per step, the ratio,
and the losses of the first step of each (they should agree to about 1%).
Default CONFIG: the synthetic stage-3 config.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = 'configs/deepfaceediting/stage3_local-disentanglement_synthetic-128.py'


def build(cfg_path: str, components: list[str] | None):
    from mmengine.config import Config

    from facedisentangle.registry import MODELS
    from facedisentangle.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(cfg_path)
    for key in ('stage1_checkpoint', 'stage2_checkpoint', 'stage3_checkpoint',
                'sketch_decoder_checkpoint'):
        if key in cfg.model:
            cfg.model[key] = None
    if components:
        cfg.model.components = components
    return cfg, MODELS.build(cfg.model)


def wrappers(cfg, model, amp: bool):
    import copy

    from mmengine.config import Config

    from facedisentangle.apis.train import set_amp
    from facedisentangle.registry import OPTIM_WRAPPER_CONSTRUCTORS

    c = Config(dict(optim_wrapper=copy.deepcopy(cfg.optim_wrapper.to_dict())))
    if amp:
        set_amp(c)
    ow = c.optim_wrapper
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=ow.pop('constructor', 'DefaultOptimWrapperConstructor'), optim_wrapper_cfg=ow))
    return constructor(model)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('config', nargs='?', default=DEFAULT)
    ap.add_argument('--components', nargs='+', default=None)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    args = ap.parse_args(argv)
    os.chdir(REPO)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg, model = build(args.config, args.components)
    res = model.layout.resolution
    data = dict(photo=torch.randint(0, 256, (args.batch, 3, res, res), dtype=torch.uint8),
                sketch=torch.randint(0, 256, (args.batch, 3, res, res), dtype=torch.uint8))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    runs = {name: dict(ow=wrappers(cfg, model, amp), times=[], first=None)
            for name, amp in (('float32', False), ('amp', True))}
    for step in range(args.warmup + args.steps):
        for r in runs.values():
            model.load_state_dict(state)  # same weights for both: only the step is timed
            torch.manual_seed(step)
            t = time.perf_counter()
            logs = model.train_step(dict(data), r['ow'])
            dt = time.perf_counter() - t
            if step == 0:
                r['first'] = {k: float(v) for k, v in logs.items()}
            if step >= args.warmup:
                r['times'].append(dt)
    f32, amp = (statistics.median(runs[n]['times']) for n in ('float32', 'amp'))
    amp_ow = runs['amp']['ow']
    wtype = type(next(iter(amp_ow.values())) if hasattr(amp_ow, 'values') else amp_ow).__name__
    print(f'config {args.config}, components {list(model.components)}, batch {args.batch}, '
          f'{args.threads} threads, {args.steps} timed steps after {args.warmup} warm-up; '
          f'{platform.processor() or platform.machine()}, torch {torch.__version__}, '
          f'load average {os.getloadavg()}')
    print('| precision | s/step (median) | x float32 |')
    print('|---|---|---|')
    print(f'| float32 | {f32:.3f} | 1.00 |')
    print(f'| --amp ({wtype}) | {amp:.3f} | {amp / f32:.2f} |')
    a, b = runs['float32']['first'], runs['amp']['first']
    worst = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-8) for k in a)
    print(f'first-step losses, largest relative difference float32 vs amp: {worst:.3%}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
