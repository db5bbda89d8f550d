"""Training-step throughput of one stage config, per variant (a benchmark, not a test).

    python tools/benchmarks/bench_train_step.py [CONFIG] [--components bg eye1 ...]
        [--batch 16] [--threads 2] [--steps 5] [--warmup 1]
        [--variants float32 amp channels_last compile fused_adam best] [--json FILE]

Builds the model of a stage config (random weights; the earlier stages' checkpoints are not
needed, ``stage*_checkpoint`` is set to ``None``) and times ``model.train_step`` on random
uint8 photos and sketches at the config's resolution. Variants (each its own copy of the
model, built from the same seed, with its own optimisers):

* ``float32``: the config's plain ``OptimWrapper`` s, eager, contiguous layout (the baseline);
* ``amp``: the wrappers ``tools/train.py --amp`` selects (on a CPU:
  ``CPUAutocastOptimWrapper``, bfloat16 autocast; on a GPU: ``AmpOptimWrapper``);
* ``channels_last``: model and batch in the channels-last memory format;
* ``compile``: ``torch.compile`` (inductor) of every backbone's entry points (``forward``,
  ``decode_feature``, ``encode_appearance``, ``to_image``, ``encode``); the first steps compile
  (their time is reported separately and not in the median);
* ``fused_adam``: ``Adam(fused=True)``;
* combinations joined by ``+`` (``amp+channels_last``), and ``best``: the combination of every
  option that was faster than ``float32`` by at least 3% in the first round, measured in a
  second round against ``float32`` again.

Steps alternate between the variants (step 1 of every variant, then step 2, ...), so machine
load hits all alike; the median of ``--steps`` timed steps after ``--warmup`` is reported with
the ratio to ``float32`` of the same round. FLOPs per step are counted once on the float32
model by ``torch.utils.flop_counter.FlopCounterMode`` (forward and backward of every network,
the frozen ones included); the table gives the achieved GFLOPS. The first-step losses of each
variant are compared with float32's (they should agree to about 1%).
Default CONFIG: the synthetic stage-3 config.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = 'configs/deepfaceediting/stage3_local-disentanglement_synthetic-128.py'
OPTIONS = ('amp', 'channels_last', 'compile', 'fused_adam')
COMPILED_METHODS = ('forward', 'decode_feature', 'encode_appearance', 'to_image', 'encode')


def build(cfg_path: str, components: list[str] | None):
    from mmengine.config import Config

    from facedisentangle.registry import MODELS
    from facedisentangle.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(cfg_path)
    # building reads no earlier stage's checkpoint (init_weights would; not called here)
    if components:
        cfg.model.components = components
    return cfg, MODELS.build(cfg.model)


def wrappers(cfg, model, amp: bool, fused: bool = False):
    from mmengine.config import Config

    from facedisentangle.engine import set_amp
    from facedisentangle.registry import OPTIM_WRAPPER_CONSTRUCTORS

    c = Config(dict(optim_wrapper=copy.deepcopy(cfg.optim_wrapper.to_dict())))
    if amp:
        set_amp(c)
    ow = c.optim_wrapper
    if fused:
        subs = [ow] if 'optimizer' in ow else [
            v for v in ow.values() if isinstance(v, dict) and 'optimizer' in v]
        for sub in subs:
            sub['optimizer']['fused'] = True
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=ow.pop('constructor', 'DefaultOptimWrapperConstructor'), optim_wrapper_cfg=ow))
    return constructor(model)


def compile_backbones(model) -> int:
    """``torch.compile`` the entry points of every backbone of ``model``; returns how many."""
    from facedisentangle.registry import BACKBONES

    classes = tuple(BACKBONES.module_dict.values())
    n = 0
    for m in model.modules():
        if not isinstance(m, classes):
            continue
        for name in COMPILED_METHODS:
            fn = getattr(m, name, None)
            if fn is not None and callable(fn) and not hasattr(fn, '_torchdynamo_orig_callable'):
                setattr(m, name, torch.compile(fn))
                n += 1
    return n


def options_of(variant: str) -> set[str]:
    opts = set() if variant == 'float32' else set(variant.split('+'))
    unknown = opts - set(OPTIONS)
    if unknown:
        raise SystemExit(f'bench_train_step: unknown variant option(s) {sorted(unknown)} in '
                         f'{variant!r}; options are {list(OPTIONS)} (joined by +) or float32')
    return opts


def make_variant(variant: str, args, data: dict) -> dict:
    opts = options_of(variant)
    torch.manual_seed(0)  # the same initial weights in every variant
    cfg, model = build(args.config, args.components)
    model.train()
    batch = dict(data)
    if 'channels_last' in opts:
        model.to(memory_format=torch.channels_last)
        batch = {k: v.contiguous(memory_format=torch.channels_last) for k, v in batch.items()}
    ow = wrappers(cfg, model, 'amp' in opts, 'fused_adam' in opts)
    compiled = compile_backbones(model) if 'compile' in opts else 0
    return dict(name=variant, opts=opts, model=model, ow=ow, data=batch, times=[],
                first=None, compile_s=None, compiled=compiled, cfg=cfg)


def run_round(variants: list[str], args, data: dict) -> list[dict]:
    runs = [make_variant(v, args, data) for v in variants]
    # compiled variants: the first step compiles; it and the next one are extra warm-ups
    extra = {id(r): (2 if 'compile' in r['opts'] else 0) for r in runs}
    total = args.warmup + args.steps + max(extra.values(), default=0)
    for step in range(total):
        for r in runs:
            first_timed = args.warmup + extra[id(r)]
            if step >= first_timed + args.steps:
                continue
            torch.manual_seed(step)
            t = time.perf_counter()
            logs = r['model'].train_step(dict(r['data']), r['ow'])
            dt = time.perf_counter() - t
            if step == 0:
                r['first'] = {k: float(v.detach()) for k, v in logs.items()}
                if 'compile' in r['opts']:
                    r['compile_s'] = dt
            if step >= first_timed:
                r['times'].append(dt)
        print(f'  step {step + 1}/{total} done', flush=True)
    return runs


def count_step_flops(args, data: dict) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    v = make_variant('float32', args, data)
    counter = FlopCounterMode(display=False)
    with counter:
        v['model'].train_step(dict(v['data']), v['ow'])
    return int(counter.get_total_flops())


def rows_of(runs: list[dict], batch: int, flops: int) -> list[dict]:
    base = next(r for r in runs if r['name'] == 'float32')
    f32 = statistics.median(base['times'])
    out = []
    for r in runs:
        med = statistics.median(r['times'])
        worst = max(abs(base['first'][k] - r['first'][k]) / max(abs(base['first'][k]), 1e-8)
                    for k in base['first'])
        ow = r['ow']
        wtype = type(next(iter(ow.values())) if hasattr(ow, 'values') else ow).__name__
        out.append(dict(variant=r['name'], wrapper=wtype, s_per_step=med, steps=r['times'],
                        it_per_s=1 / med, images_per_s=batch / med, x_float32=med / f32,
                        gflops=flops / med / 1e9, first_loss_rel_diff=worst,
                        compile_s=r['compile_s'], compiled_entry_points=r['compiled']))
    return out


def table(rows: list[dict]) -> list[str]:
    lines = ['| variant (optimiser wrapper) | s/step (median) | it/s | images/s | x float32 | '
             'achieved GFLOPS | first-step losses vs float32 | first (compiling) step, s |',
             '|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {r['variant']} ({r['wrapper']}) | {r['s_per_step']:.3f} | {r['it_per_s']:.2f} | "
            f"{r['images_per_s']:.1f} | {r['x_float32']:.2f} | {r['gflops']:.0f} | "
            f"{r['first_loss_rel_diff']:.2%} | "
            + (f"{r['compile_s']:.0f}" if r['compile_s'] is not None else '-') + ' |')
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('config', nargs='?', default=DEFAULT)
    ap.add_argument('--components', nargs='+', default=None)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--variants', nargs='+', default=['float32', 'amp'],
                    help="float32, amp, channels_last, compile, fused_adam, '+' combinations, "
                         'best (default: float32 amp)')
    ap.add_argument('--json', type=Path, help='also write the results here')
    args = ap.parse_args(argv)
    os.chdir(REPO)
    torch.set_num_threads(args.threads)
    variants = [v for v in args.variants if v != 'best']
    if 'float32' not in variants:
        variants.insert(0, 'float32')
    for v in variants:
        options_of(v)
    cfg, model = build(args.config, args.components)
    res = model.layout.resolution
    comps = list(model.components)
    del model
    gen = torch.Generator().manual_seed(0)
    data = {k: torch.randint(0, 256, (args.batch, 3, res, res), dtype=torch.uint8,
                             generator=gen) for k in ('photo', 'sketch')}
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    flops = count_step_flops(args, data)
    print(f'{flops / 1e9:.1f} GFLOP per step (FlopCounterMode, float32)', flush=True)
    rounds = [rows_of(run_round(variants, args, data), args.batch, flops)]
    if 'best' in args.variants:
        faster = [r['variant'] for r in rounds[0]
                  if r['variant'] in OPTIONS and r['x_float32'] < 0.97]
        best = '+'.join(o for o in OPTIONS if o in faster)
        if not best:
            print('best: no single option was 3% faster than float32; no second round')
        else:
            print(f'best combination: {best}; second round against float32', flush=True)
            rounds.append(rows_of(run_round(['float32', best], args, data), args.batch, flops))
    print(f'config {args.config}, components {comps}, batch {args.batch} at {res} px, '
          f'{args.threads} threads, {args.steps} timed steps after {args.warmup} warm-up '
          f'(compiled variants: 2 more); {platform.processor() or platform.machine()}, torch '
          f'{torch.__version__}; load average before {load_before}, after {os.getloadavg()}; '
          f'{(time.perf_counter() - t0) / 60:.1f} min')
    print(f'FLOPs per step: {flops / 1e9:.1f} GFLOP')
    for i, rows in enumerate(rounds):
        print(f'\nround {i + 1}:')
        print('\n'.join(table(rows)))
    if args.json:
        args.json.write_text(json.dumps(dict(
            config=args.config, components=comps, batch=args.batch, resolution=res,
            threads=args.threads, steps=args.steps, warmup=args.warmup, flops_per_step=flops,
            load_before=load_before, load_after=os.getloadavg(), rounds=rounds), indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
