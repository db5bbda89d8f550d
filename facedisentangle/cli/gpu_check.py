"""GPU check: training steps of the four stages at 512 and the editing benchmark, one script.

    python tools/benchmarks/gpu_check.py --out work_dirs/gpu_check [--time-budget 420]
        [--peak-tflops 989] [--iters 20] [--warmup 5] [--stages 1 2 3 4]
        [--train-precisions amp float32] [--dry-run]

A measurement tool, not a test (a speed is never read off a test). On one GPU, in a few
minutes:

* **Training** (parts ``train/<precision>/stage<N>``): the model of each stage config
  ``configs/deepfaceediting/stage{1..4}_*_faces-512.py`` (the paper's networks, ngf 64) is
  built through MMEngine's ``Config`` and the project's ``MODELS`` registry, with random
  weights (the earlier stages' checkpoints are set to ``None``), and ``model.train_step`` is
  run on random uint8 photos and sketches held on the GPU (no data file): ``--warmup`` steps,
  then ``--iters`` timed steps, each timed with ``torch.cuda.synchronize`` around it; the median
  is reported. ``amp`` uses the optimiser wrappers ``tools/train.py --amp`` selects
  (MMEngine's ``AmpOptimWrapper``, float16 autocast with dynamic loss scaling, on a GPU;
  ``CPUAutocastOptimWrapper``, bfloat16, on a CPU); ``float32`` the config's plain wrappers.
* **Editing** (parts ``edit/<variant>/<mode>``): one full edit (geometry of one image,
  appearance of another; ``photo`` and ``sketch`` geometry) with the official-size networks and
  random weights (the layout of ``tools/benchmark.py``: N(0, 0.02) everywhere), through
  :class:`~facedisentangle.inference.DeepFaceEditingInference` on the GPU with the result cache
  off: ``float32``, ``bfloat16`` (bfloat16 weights, channels-last), and the float32 networks
  under ``torch.autocast`` in float16 and bfloat16. PSNR (range 2) against float32 on the
  same inputs.

For every part: the median step (edit) time, peak GPU memory
(``torch.cuda.max_memory_allocated`` since the part began, weights included), the model FLOPs
of one step counted by ``torch.utils.flop_counter.FlopCounterMode`` (forward, backward and
the frozen networks; convolutions and matrix products), and the model FLOPs utilisation
``FLOPs / median time / peak``. The peak is ``--peak-tflops`` (default: the datasheet's dense
bfloat16/float16 tensor-core rate of an H200 SXM, 989 TFLOP/s) and the bfloat16 matrix-product
rate measured at the start is recorded beside it (``mfu_vs_measured``).

The VGG19 perceptual loss of stages 3 and 4 needs torchvision's pretrained
``vgg19-dcbb9e9d.pth``, which is not on the benchmark machines: a randomly initialised VGG19 is
used instead. Its cost is the same, its loss values are meaningless, so the losses printed
are for timing only (the JSON says so under ``vgg19``).

Every part runs inside ``try``: a failure is recorded in the JSON (``status: failed`` with the
error) and the next part runs. After ``--time-budget`` seconds the remaining parts are skipped
(``status: skipped``); a part running when the budget ends stops after its current step. The
JSON (``gpu_check.json``) and the markdown tables (``gpu_check.md``) under ``--out`` are
rewritten after every part, so a killed run leaves what it measured.

``--dry-run``: on the CPU, tiny networks (ngf 4, 128 px: the eye crops are then 32 px, the appearance
encoder's minimum; two down-samplings), one iteration
per stage, one run per edit: the same JSON keys, for the test suite
(tests/test_tools/test_gpu_check.py). Its times mean nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
STAGE_CONFIGS = {
    1: 'configs/deepfaceediting/stage1_sketch-ae_faces-512.py',
    2: 'configs/deepfaceediting/stage2_image-encoder_faces-512.py',
    3: 'configs/deepfaceediting/stage3_local-disentanglement_faces-512.py',
    4: 'configs/deepfaceediting/stage4_global-fusion_faces-512.py',
}
H200_DENSE_BF16_TFLOPS = 989.0  # NVIDIA's datasheet, H200 SXM, dense bf16/fp16 tensor cores
EDIT_VARIANTS = ('float32', 'bfloat16', 'float16-autocast', 'bfloat16-autocast')
EDIT_MODES = ('photo', 'sketch')
# 128 px: the smallest at which the eye crops (32 px) reach the appearance encoder's minimum
DRY = dict(ngf=4, resolution=128, n_downsampling=2, num_D=2)
VGG_NOTE = ('random init (torchvision vgg19-dcbb9e9d.pth is not on this machine): the '
            'perceptual loss costs the same, its values are meaningless; for timing only')


def log(msg: str) -> None:
    print(f'[gpu_check {time.strftime("%H:%M:%S")}] {msg}', flush=True)


# ----------------------------------------------------------------------------- helpers
class Clock:
    """Seconds since the start, against the time budget."""

    def __init__(self, budget: float):
        self.t0 = time.perf_counter()
        self.budget = budget

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def over(self) -> bool:
        return self.elapsed() > self.budget


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gb(device: torch.device) -> float | None:
    """Peak allocated GPU memory since the last reset (None on a CPU)."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 1e9
    return None


def count_flops(fn) -> int:
    """Model FLOPs of one call of ``fn`` (FlopCounterMode: convolutions, matrix products)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def matmul_tflops(device: torch.device, dtype: torch.dtype, n: int, reps: int) -> float:
    """Measured rate of an n x n x n matrix product (mean of ``reps`` after 3 warm-ups)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12


def shrink(cfg, dry: dict) -> None:
    """Dry run: every network of a model config at tiny widths and 64 px (in place)."""
    def walk(node):
        if isinstance(node, dict):
            for key in ('ngf', 'ndf'):
                if key in node:
                    node[key] = dry['ngf']
            if 'n_downsampling' in node:
                node['n_downsampling'] = dry['n_downsampling']
            if 'num_D' in node:
                node['num_D'] = dry['num_D']
            if node.get('type') == 'GlobalGenerator':
                node['input_nc'] = dry['ngf']  # the component generators' feature channels
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(cfg.model)
    cfg.model.layout = dict(resolution=dry['resolution'])


def no_pretrained_vgg(node) -> int:
    """Set ``pretrained=False`` on every PerceptualLoss config under ``node``; returns how many."""
    n = 0
    if isinstance(node, dict):
        if node.get('type') == 'PerceptualLoss':
            node['pretrained'] = False
            n += 1
        for v in node.values():
            n += no_pretrained_vgg(v)
    elif isinstance(node, list):
        for v in node:
            n += no_pretrained_vgg(v)
    return n


def build_stage(stage: int, dry_run: bool):
    """The stage's config and model (random weights, no earlier-stage checkpoints)."""
    import warnings

    from mmengine.config import Config

    from facedisentangle.registry import MODELS
    from facedisentangle.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(str(REPO / STAGE_CONFIGS[stage]))
    # building reads no earlier stage's checkpoint (init_weights would; not called here)
    n_vgg = no_pretrained_vgg(cfg.model)
    if dry_run:
        shrink(cfg, DRY)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*pretrained=False.*')
        model = MODELS.build(cfg.model)
    return cfg, model, n_vgg


def optim_wrappers(cfg, model, amp: bool, amp_dtype: str):
    """The wrappers ``tools/train.py`` builds (``--amp``: set_amp's choice for the device)."""
    from mmengine.config import Config

    from facedisentangle.engine import set_amp
    from facedisentangle.registry import OPTIM_WRAPPER_CONSTRUCTORS

    c = Config(dict(optim_wrapper=copy.deepcopy(cfg.optim_wrapper.to_dict())))
    if amp:
        set_amp(c)
        if torch.cuda.is_available():
            ow = c.optim_wrapper
            subs = [ow] if 'optimizer' in ow else [
                v for v in ow.values() if isinstance(v, dict) and 'optimizer' in v]
            for sub in subs:
                if sub.get('type') == 'AmpOptimWrapper':
                    sub['dtype'] = amp_dtype
    ow = c.optim_wrapper
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=ow.pop('constructor', 'DefaultOptimWrapperConstructor'), optim_wrapper_cfg=ow))
    return constructor(model)


def wrapper_names(ow) -> str:
    items = ow.values() if hasattr(ow, 'values') else [ow]
    return ', '.join(sorted({type(w).__name__ for w in items}))


# ----------------------------------------------------------------------------- training
def train_part(stage: int, precision: str, args, device, clock: Clock) -> dict:
    rec = dict(stage=stage, config=STAGE_CONFIGS[stage], precision=precision)
    torch.manual_seed(0)
    reset_peak(device)
    cfg, model, n_vgg = build_stage(stage, args.dry_run)
    model.to(device).train()
    ow = optim_wrappers(cfg, model, precision == 'amp', args.amp_dtype)
    res = model.layout.resolution
    batch = args.batch or (2 if args.dry_run else int(cfg.train_dataloader.batch_size))
    gen = torch.Generator(device='cpu').manual_seed(0)
    data = {k: torch.randint(0, 256, (batch, 3, res, res), dtype=torch.uint8,
                             generator=gen).to(device) for k in ('photo', 'sketch')}
    ngf = [m.get('ngf') for m in cfg.model.values() if isinstance(m, dict) and 'ngf' in m]
    rec.update(model=type(model).__name__, optim_wrapper=wrapper_names(ow), batch=batch,
               resolution=res, ngf=ngf[0] if ngf else None, vgg19_losses=n_vgg,
               params_m=sum(p.numel() for p in model.parameters()) / 1e6)
    losses, times = None, []
    for i in range(args.warmup + args.iters):
        sync(device)
        t0 = time.perf_counter()
        logs = model.train_step(dict(data), ow)
        sync(device)
        dt = time.perf_counter() - t0
        if losses is None:
            losses = {k: float(v.detach()) for k, v in logs.items()}
        if i >= args.warmup:
            times.append(dt)
        if clock.over():
            rec['truncated'] = f'time budget reached after {i + 1} steps'
            break
    rec['warmup'] = min(args.warmup, i + 1)
    rec['iters'] = len(times)
    rec['first_losses'] = losses
    rec['peak_mem_gb'] = peak_gb(device)
    if times:
        med = statistics.median(times)
        rec.update(step_s_median=med, step_s_all=times, it_per_s=1 / med,
                   images_per_s=batch / med)
    else:  # the budget ran out during the warm-up steps: nothing timed
        rec.update(step_s_median=None, step_s_all=[], it_per_s=None, images_per_s=None)
    rec['flops_per_step'] = count_flops(lambda: model.train_step(dict(data), ow))
    return rec


# ----------------------------------------------------------------------------- editing
def write_export(path: Path, dry_run: bool) -> None:
    from facedisentangle.converters import OFFICIAL_MODEL
    from facedisentangle.inference.random_weights import write_random_export

    model = copy.deepcopy(OFFICIAL_MODEL)
    # pix2pixHD's N(0, 0.02) in every network, as tools/benchmark.py
    model['generator'] = dict(model['generator'], adain_init='zero', appearance_init=None)
    if dry_run:
        for key in ('sketch_encoder', 'image_encoder', 'generator', 'fusion_generator'):
            model[key] = dict(model[key], ngf=DRY['ngf'], n_downsampling=DRY['n_downsampling'])
        model['fusion_generator']['input_nc'] = DRY['ngf']
        model['layout'] = dict(resolution=DRY['resolution'])
    write_random_export(path, model, seed=0)


def edit_part(variant: str, mode: str, export: Path, args, device, clock: Clock,
              reference: dict) -> dict:
    from facedisentangle.inference import DeepFaceEditingInference

    rec = dict(variant=variant, mode=mode)
    reset_peak(device)
    native = variant in ('float32', 'bfloat16')
    model = DeepFaceEditingInference.from_checkpoint(
        export, precision=variant if native else 'float32', device=device, cache_bytes=0,
        convert_cache=False)
    model.preload([mode])
    res = model.resolution
    if native:
        ctx = contextlib.nullcontext
    else:
        dtype = torch.float16 if variant.startswith('float16') else torch.bfloat16

        def ctx():
            return torch.autocast(device.type, dtype=dtype)

    def inputs(i):
        g = torch.Generator(device='cpu').manual_seed(10_000 + i)
        geo, app = (torch.rand(1, 3, res, res, generator=g) * 2 - 1 for _ in range(2))
        return geo.to(device), app.to(device)

    def edit(geo, app):
        with ctx():
            return model(geo, app, mode)

    n_warm, n_runs = (1, 1) if args.dry_run else (args.edit_warmup, args.edit_runs)
    for w in range(n_warm):
        edit(*inputs(100 + w))
    times = []
    for i in range(n_runs):
        geo, app = inputs(i)  # new inputs every run
        sync(device)
        t0 = time.perf_counter()
        out = edit(geo, app)
        sync(device)
        times.append(time.perf_counter() - t0)
        if i == 0:
            first = out.float().cpu()
        if clock.over():
            rec['truncated'] = f'time budget reached after {i + 1} runs'
            break
    rec['peak_mem_gb'] = peak_gb(device)
    med = statistics.median(times)
    rec.update(runs=len(times), warmup=n_warm, resolution=res, edit_s_median=med,
               edit_s_all=times, weight_gb=model.weight_bytes() / 1e9)
    if variant == 'float32':
        reference[mode] = first
    ref = reference.get(mode)
    if ref is not None:
        mse = float(((first.double() - ref.double()) ** 2).mean())
        rec['psnr_vs_float32'] = float('inf') if mse == 0 else float(
            10 * torch.log10(torch.tensor(4.0 / mse)))
    else:
        rec['psnr_vs_float32'] = None
    rec['flops_per_step'] = count_flops(lambda: edit(*inputs(0)))
    return rec


# ----------------------------------------------------------------------------- report
def mfu(rec: dict, key: str, peak_tflops: float | None) -> float | None:
    t, f = rec.get(key), rec.get('flops_per_step')
    if not t or not f or not peak_tflops:
        return None
    return f / t / (peak_tflops * 1e12)


def fmt(x, spec='.3f', none='-'):
    if x is None:
        return none
    if isinstance(x, float) and x == float('inf'):
        return 'inf'
    return format(x, spec)


def markdown(report: dict) -> str:
    env = report['environment']
    lines = [
        '# GPU check' + (' (dry run: CPU, tiny networks; times mean nothing)'
                         if report['dry_run'] else ''), '',
        f"Device: {env['device_name']}; torch {env['torch']}, CUDA {env['cuda']}, "
        f"Python {env['python']}; started {report['started']}, "
        f"{report['elapsed_s']:.0f} s of a {report['time_budget_s']:.0f} s budget.", '',
        f"Peak for MFU: {fmt(report['peak_tflops'], '.0f')} TFLOP/s ({report['peak_source']}); "
        f"measured bf16 matrix product: {fmt(report['measured_matmul_tflops'], '.0f')} TFLOP/s. "
        f"VGG19 perceptual loss: {report['vgg19']}.", '',
        f"Command: `{report['command']}`", '',
        '## Training steps', '',
        '| stage | precision (wrappers) | batch @ px | s/step (median) | it/s | images/s '
        '| peak GB | GFLOP/step | MFU | MFU vs measured | status |',
        '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in report['train']:
        lines.append(
            f"| {r['stage']} | {r['precision']} ({r.get('optim_wrapper', '-')}) | "
            f"{r.get('batch', '-')} @ {r.get('resolution', '-')} | "
            f"{fmt(r.get('step_s_median'))} | {fmt(r.get('it_per_s'), '.2f')} | "
            f"{fmt(r.get('images_per_s'), '.1f')} | {fmt(r.get('peak_mem_gb'), '.2f')} | "
            f"{fmt(r['flops_per_step'] / 1e9 if r.get('flops_per_step') else None, '.0f')} | "
            f"{fmt(r.get('mfu'), '.1%')} | {fmt(r.get('mfu_vs_measured'), '.1%')} | "
            f"{r['status']}{': ' + r['error'].splitlines()[-1] if r.get('error') else ''} |")
    lines += ['', '## Editing (one full edit, batch 1, official sizes, random weights)', '',
              '| variant | mode | s/edit (median) | x float32 | peak GB | GFLOP/edit | MFU '
              '| PSNR vs float32, dB | status |', '|---|---|---|---|---|---|---|---|---|']
    base = {r['mode']: r.get('edit_s_median') for r in report['edit']
            if r['variant'] == 'float32'}
    for r in report['edit']:
        t, b = r.get('edit_s_median'), base.get(r['mode'])
        lines.append(
            f"| {r['variant']} | {r['mode']} | {fmt(t, '.4f')} | "
            f"{fmt(t / b if t and b else None, '.2f')} | {fmt(r.get('peak_mem_gb'), '.2f')} | "
            f"{fmt(r['flops_per_step'] / 1e9 if r.get('flops_per_step') else None, '.0f')} | "
            f"{fmt(r.get('mfu'), '.1%')} | {fmt(r.get('psnr_vs_float32'), '.1f')} | "
            f"{r['status']}{': ' + r['error'].splitlines()[-1] if r.get('error') else ''} |")
    return '\n'.join(lines) + '\n'


def save(report: dict, out: Path, clock: Clock) -> None:
    report['elapsed_s'] = clock.elapsed()
    (out / 'gpu_check.json').write_text(json.dumps(report, indent=1))
    (out / 'gpu_check.md').write_text(markdown(report))


def run_part(report: dict, kind: str, name: str, meta: dict, fn, out: Path, clock: Clock,
             device, peaks: tuple) -> None:
    """Run one part; record its result, its failure, or its skip (time budget)."""
    base = dict(part=name, **meta)
    if clock.over():
        rec = dict(base, status='skipped', error=None,
                   reason=f'time budget of {clock.budget:.0f} s exceeded')
        log(f'{name}: skipped (time budget)')
    else:
        log(f'{name} ...')
        t0 = time.perf_counter()
        try:
            rec = dict(base, **fn(), status='ok', error=None)  # fn's keys win
            key = 'step_s_median' if kind == 'train' else 'edit_s_median'
            rec['mfu'] = mfu(rec, key, peaks[0])
            rec['mfu_vs_measured'] = mfu(rec, key, peaks[1])
            log(f"{name}: {fmt(rec.get(key), '.4f')} s median, peak "
                f"{fmt(rec.get('peak_mem_gb'), '.2f')} GB, "
                f"{fmt((rec.get('flops_per_step') or 0) / 1e9, '.1f')} GFLOP, MFU "
                f"{fmt(rec.get('mfu'), '.1%')}"
                + (f", PSNR {fmt(rec.get('psnr_vs_float32'), '.1f')} dB"
                   if 'psnr_vs_float32' in rec else ''))
        except Exception as e:  # recorded; the next part runs
            rec = dict(base, status='failed', error=f'{type(e).__name__}: {e}',
                       traceback=traceback.format_exc())
            log(f'{name}: FAILED {type(e).__name__}: {e}')
        rec['part_s'] = time.perf_counter() - t0
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    report[kind].append(rec)
    save(report, out, clock)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', type=Path, default=REPO / 'work_dirs' / 'gpu_check',
                    help='folder for gpu_check.json and gpu_check.md')
    ap.add_argument('--dry-run', action='store_true',
                    help='CPU, tiny networks, one iteration per part (for the tests)')
    ap.add_argument('--time-budget', type=float, default=420.0,
                    help='seconds; parts not started by then are skipped (default 420)')
    ap.add_argument('--stages', type=int, nargs='+', default=[1, 2, 3, 4], choices=[1, 2, 3, 4])
    ap.add_argument('--train-precisions', nargs='+', default=['amp', 'float32'],
                    choices=['amp', 'float32'],
                    help='amp parts run first, then the editing parts, then float32 parts')
    ap.add_argument('--amp-dtype', default='float16', choices=['float16', 'bfloat16'],
                    help="AmpOptimWrapper's autocast dtype on a GPU (tools/train.py --amp: "
                         'float16)')
    ap.add_argument('--batch', type=int, default=None,
                    help="training batch (default: the config's, 4; 2 in a dry run)")
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--edit-variants', nargs='+', default=list(EDIT_VARIANTS),
                    choices=EDIT_VARIANTS)
    ap.add_argument('--edit-modes', nargs='+', default=list(EDIT_MODES), choices=EDIT_MODES)
    ap.add_argument('--edit-warmup', type=int, default=3)
    ap.add_argument('--edit-runs', type=int, default=20)
    ap.add_argument('--no-edit', action='store_true', help='skip the editing benchmark')
    ap.add_argument('--peak-tflops', type=float, default=None,
                    help='peak for MFU (default: 989, the H200 SXM dense bf16/fp16 datasheet '
                         'rate, on a GPU; the measured bf16 matrix-product rate on a CPU)')
    ap.add_argument('--cudnn-benchmark', action='store_true',
                    help='torch.backends.cudnn.benchmark = True (the configs keep it off)')
    ap.add_argument('--work-dir', type=Path, default=None,
                    help='where the random-weights export is written (default: a temporary '
                         'folder, removed at the end)')
    args = ap.parse_args(argv)
    if args.dry_run:
        args.warmup, args.iters = 0, 1
    clock = Clock(args.time_budget)
    os.chdir(REPO)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.dry_run:
        device = torch.device('cpu')
    elif torch.cuda.is_available():
        device = torch.device('cuda')
    else:
        raise SystemExit('gpu_check: no CUDA device (torch.cuda.is_available() is False); '
                         'use --dry-run for the CPU smoke mode')
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)
    log(f'device {device}, dry run {args.dry_run}, budget {args.time_budget:.0f} s, '
        f'out {args.out}')
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
        measured = matmul_tflops(device, torch.bfloat16, 8192, 10)
    else:
        name = platform.processor() or platform.machine()
        measured = matmul_tflops(device, torch.bfloat16, 256, 3)
    if args.peak_tflops:
        peak, source = args.peak_tflops, 'given (--peak-tflops)'
    elif device.type == 'cuda':
        peak, source = H200_DENSE_BF16_TFLOPS, ('H200 SXM datasheet, dense bf16/fp16 tensor '
                                                'cores (float32 parts: the same peak)')
    else:
        peak, source = measured, 'measured bf16 matrix product (CPU dry run)'
    log(f'{name}: bf16 matrix product {measured:.1f} TFLOP/s; MFU against {peak:.0f}')
    report = dict(
        dry_run=bool(args.dry_run), started=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
        command='python tools/benchmarks/gpu_check.py ' + ' '.join(
            argv if argv is not None else sys.argv[1:]),
        environment=dict(device=str(device), device_name=name, torch=torch.__version__,
                         cuda=torch.version.cuda, python=platform.python_version(),
                         cudnn_benchmark=bool(args.cudnn_benchmark),
                         cpu_threads=torch.get_num_threads()),
        time_budget_s=args.time_budget, elapsed_s=0.0, peak_tflops=peak, peak_source=source,
        measured_matmul_tflops=measured, vgg19=VGG_NOTE,
        settings=dict(warmup=args.warmup, iters=args.iters, amp_dtype=args.amp_dtype,
                      batch=args.batch, edit_runs=args.edit_runs,
                      edit_warmup=args.edit_warmup),
        train=[], edit=[])
    log(f'VGG19: {VGG_NOTE}')
    save(report, args.out, clock)
    peaks = (peak, measured)

    def train_parts(precision):
        for stage in args.stages:
            run_part(report, 'train', f'train/{precision}/stage{stage}',
                     dict(stage=stage, precision=precision),
                     lambda s=stage: train_part(s, precision, args, device, clock),
                     args.out, clock, device, peaks)

    if 'amp' in args.train_precisions:
        train_parts('amp')
    if not args.no_edit:
        with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
            export = Path(tmp) / 'random-official.pth'
            reference: dict = {}
            setup_error = None
            if not clock.over():
                try:
                    log('writing the random official-size export ...')
                    write_export(export, args.dry_run)
                except Exception as e:  # every editing part then records it
                    setup_error = f'writing the random export failed: {type(e).__name__}: {e}'
                    log(setup_error)

            def edit(v, m):
                if setup_error:
                    raise RuntimeError(setup_error)
                return edit_part(v, m, export, args, device, clock, reference)

            variants = ['float32'] + [v for v in args.edit_variants if v != 'float32']
            for variant in variants:
                for mode in args.edit_modes:
                    run_part(report, 'edit', f'edit/{variant}/{mode}',
                             dict(variant=variant, mode=mode),
                             lambda v=variant, m=mode: edit(v, m),
                             args.out, clock, device, peaks)
    if 'float32' in args.train_precisions:
        train_parts('float32')
    save(report, args.out, clock)
    print(markdown(report), flush=True)
    failed = [r['part'] for r in report['train'] + report['edit'] if r['status'] == 'failed']
    log(f'done in {clock.elapsed():.0f} s; wrote {args.out / "gpu_check.json"} and '
        f'{args.out / "gpu_check.md"}' + (f'; FAILED parts: {failed}' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
