"""Inference benchmark: one full 512 px DeepFaceEditing edit per geometry mode (photo, sketch).

    python tools/benchmark.py --threads 2 --write-doc docs/benchmarks.md

Random weights at the paper's setting (the official networks: E_sketch, E_image, G_syn with
E_app, G_fuse at ngf 64, four down-samplings, 512 px layout), written once to an export file.
Every variant runs in a fresh subprocess (its peak memory is that process's RSS high-water
mark, VmHWM, imports included): load, one warm-up edit, then ``--runs`` timed edits, each with
new input images (so no cached result is reused); the median is reported. Then, for our
variants, edits where only eye1's geometry input changes (partial recompute).

Variants:

* ``baseline``: plain float32 eager PyTorch, all 16 official networks built (as the official
  release does), ``torch.no_grad``, straight calls of the backbones.
* ``float32``, ``bfloat16``, ... : :class:`DeepFaceEditingInference` with that precision
  (only the networks of the mode built; see facedisentangle/inference/precision.py).

PSNR (range 2, images in [-1, 1]) is against our float32 output on the same inputs. The
fusion generator's GFLOPS are compared with the best bfloat16 convolution rate measured on
this machine in the same run (channels-last oneDNN convolutions of the shapes G_fuse uses).
This is a measurement tool, not a test.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_EXPORT = Path(os.environ.get('TMPDIR', '/tmp')) / 'facedisentangle-bench' / (
    'random-official-512.pth')
VARIANTS: dict[str, dict] = {
    'baseline': dict(baseline=True),
    'float32': dict(precision='float32'),
    'bfloat16-nchw': dict(precision='bfloat16-nchw'),
    # what FaceEditor.from_checkpoint does by default on a CPU: the float32 file converted
    # once into a cached bfloat16 copy (made before the timed processes), mapped, low memory
    'bfloat16 (default)': dict(precision='bfloat16', convert_cache=True),
    # the default without the prepacked wide convolutions (facedisentangle/inference/
    # prepacked_conv.py): weights reordered by oneDNN at every call, as before
    'bfloat16 (default), no prepacking': dict(precision='bfloat16', convert_cache=True,
                                              env={'FACEDISENTANGLE_PREPACK': '0'}),
    # the default as it was before both (no prepacking, ReLUs not in place)
    'bfloat16, previous default': dict(precision='bfloat16', convert_cache=True,
                                       env={'FACEDISENTANGLE_PREPACK': '0',
                                            'FACEDISENTANGLE_INPLACE_RELU': '0'}),
    'bfloat16, all resident, float32 file': dict(precision='bfloat16'),
    'bfloat16, low memory, float32 file': dict(precision='bfloat16', low_memory=True),
    'bfloat16, generator=float32': dict(precision={'default': 'bfloat16',
                                                   'generator': 'float32'}),
    'bfloat16, low memory, bf16 export': dict(precision='bfloat16', low_memory=True,
                                              export='bfloat16'),
}
MODES = ('photo', 'sketch')


# ----------------------------------------------------------------------------- helpers
def vm_hwm_bytes() -> int:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
    return 0


def conv_macs(net, *inputs, call=None) -> int:
    """Multiply-accumulates of the convolutions of one forward pass (run on the meta device)."""
    import torch
    import torch.nn as nn

    total = 0

    def hook(m, args, out):
        nonlocal total
        if isinstance(m, nn.ConvTranspose2d):
            total += args[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
        else:
            total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * \
                m.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        (call or net)(*inputs)
    for h in handles:
        h.remove()
    return total


def edit_macs(spec, mode: str) -> dict[str, int]:
    """MACs of one full edit (geometry encoders, appearance encoders, G_syn features, G_fuse)."""
    import torch

    from facedisentangle.inference.network_build import build_empty
    from facedisentangle.structures import build_layout

    layout = build_layout(spec.layout)
    prefix = 'image_encoders' if mode == 'photo' else 'sketch_encoders'
    macs = {'encoders': 0, 'appearance': 0, 'generators': 0, 'fusion': 0}
    for comp in spec.components:
        s = layout.size(comp)
        x = torch.empty(1, 3, s, s, device='meta')
        enc = build_empty(spec.networks[f'{prefix}.{comp}'].config)
        macs['encoders'] += conv_macs(enc, x)
        gen = build_empty(spec.networks[f'generators.{comp}'].config)
        macs['appearance'] += conv_macs(gen.enc_style, x)
        code = torch.empty(1, gen.in_channels, s // enc.stride, s // enc.stride, device='meta')
        params = torch.empty(1, gen.num_adain_params, device='meta')
        macs['generators'] += conv_macs(gen, code, params, call=gen.decode_feature)
    fuse = build_empty(spec.networks['fusion_generator'].config)
    r = layout.resolution
    macs['fusion'] = conv_macs(fuse, torch.empty(1, fuse.input_nc, r, r, device='meta'))
    return macs


def make_inputs(index: int, resolution: int, mode: str):
    """Deterministic inputs: a smooth random photo pair, or a stroke sketch and a photo."""
    import cv2
    import numpy as np
    import torch

    from facedisentangle.visualization import uint8_to_float

    rng = np.random.default_rng(1000 + index)

    def photo():
        small = rng.uniform(0, 255, (16, 16, 3)).astype(np.float32)
        img = cv2.resize(small, (resolution, resolution), interpolation=cv2.INTER_CUBIC)
        img += rng.normal(0, 8, img.shape).astype(np.float32)
        return np.clip(img, 0, 255)

    def sketch():
        img = np.full((resolution, resolution, 3), 255, np.uint8)
        for _ in range(40):
            pts = rng.integers(0, resolution, (4, 2)).astype(np.int32)
            cv2.polylines(img, [pts], False, (0, 0, 0), 2, cv2.LINE_AA)
        return img.astype(np.float32)

    def tensor(a):
        return uint8_to_float(torch.from_numpy(a).permute(2, 0, 1)[None])

    geometry = sketch() if mode == 'sketch' else photo()
    return tensor(geometry), tensor(photo())


def timed(fn, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out


# ----------------------------------------------------------------------------- worker
class BaselineModel:
    """Plain float32 eager PyTorch of the official networks, all built."""

    def __init__(self, export: str):
        import torch

        from facedisentangle.inference import read_spec
        from facedisentangle.inference.network_build import build_empty
        from facedisentangle.structures import build_layout

        spec = read_spec(export)
        self.layout = build_layout(spec.layout)
        self.components = spec.components
        # every weight read into memory, as the official release loads every network
        state = torch.load(export, map_location='cpu', weights_only=True)['state_dict']
        self.nets = {}
        for name, entry in spec.networks.items():
            if name.startswith('sketch_decoders') or name == 'image_to_sketch':
                continue  # not in the official release
            net = build_empty(entry.config)
            sub = {k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + '.')}
            net.load_state_dict(sub, strict=True, assign=True)
            self.nets[name] = net.eval()
        self.fusion = self.nets['fusion_generator']

    def edit(self, geometry, appearance, mode):
        import torch

        prefix = 'image_encoders' if mode == 'photo' else 'sketch_encoders'
        with torch.no_grad():
            feats = {}
            for c in self.components:
                code = self.nets[f'{prefix}.{c}'](self.layout.crop(geometry, c))
                gen = self.nets[f'generators.{c}']
                params = gen.enc_style(self.layout.crop(appearance, c))
                feats[c] = gen.decode_feature(code, params)
            return self.fusion(self.layout.fuse(feats))


def worker(args) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    t_load = time.perf_counter()
    variant = VARIANTS[args.variant]
    precision = variant.get('precision')
    if variant.get('baseline'):
        model = BaselineModel(args.export)
        resolution = model.layout.resolution

        def edit(i, geometry_from=args.mode):
            g, a = make_inputs(i, resolution, geometry_from)
            return model.edit(g, a, geometry_from)

        fusion, fusion_form = model.fusion, None
        weight_bytes = sum(p.numel() * p.element_size() for n in model.nets.values()
                           for p in n.parameters())
    else:
        from facedisentangle.inference import DeepFaceEditingInference

        export = bf16_export_path(args.export) if variant.get('export') else args.export
        # the conversion cache only where the variant says so (the others measure in-memory
        # conversion or an export)
        cache = convert_cache_dir(args.export) if variant.get('convert_cache') else False
        model = DeepFaceEditingInference.from_checkpoint(
            export, precision=precision, low_memory=variant.get('low_memory'),
            convert_cache=cache)
        model.preload([args.mode])
        resolution = model.resolution

        def edit(i, geometry_from=args.mode):
            g, a = make_inputs(i, resolution, geometry_from)
            return model(g, a, geometry_from)

        fusion, fusion_form = model.fusion_generator, model.forms['fusion_generator']
        weight_bytes = model.weight_bytes()
    load_s = time.perf_counter() - t_load
    for w in range(args.warmup):
        edit(100 + w)
    outputs = {}

    def run(i):
        out = edit(i)
        if i == 0:
            outputs['full'] = out.float().numpy()

    full = timed(run, args.runs)
    result = dict(variant=args.variant, mode=args.mode, load_s=load_s, full_s=full,
                  weight_bytes=weight_bytes)
    if precision is not None:  # one component's input changes: eye1 geometry
        g0, a0 = make_inputs(0, resolution, args.mode)
        codes = model.encode_geometry(g0, args.mode)
        vectors = model.encode_appearance(a0)
        model.compose(codes, vectors)

        changed = []

        def partial(i):  # a new eye1 geometry source every time, all else unchanged
            g, _ = make_inputs(200 + i, resolution, args.mode)
            eye = model.encode_geometry(g, args.mode, ['eye1'])
            out = model.compose({**codes, **eye}, vectors)
            changed.append(model._fusion.last_region is not None)
            return out

        partial(-1)  # warm-up
        changed.clear()
        result['partial_s'] = timed(partial, args.runs)
        result['partial_fused_changed'] = all(changed)
    # G_fuse alone, for its GFLOPS
    x = torch.randn(1, fusion.input_nc, resolution, resolution)
    if fusion_form is not None:
        x = fusion_form.tensor(x)
    with torch.inference_mode():
        fusion(x)
        result['fusion_s'] = timed(lambda i: fusion(x), min(2, args.runs))
    result['peak_rss'] = vm_hwm_bytes()
    # the machine's bfloat16 convolution rate, measured in this process right after
    result['conv_peak'] = conv_peak('bfloat16', args.threads, repeats=3)['best']
    np.save(args.output, outputs['full'])
    return result


# ----------------------------------------------------------------------------- parent
def conv_peak(dtype_name: str, threads: int, repeats: int = 5) -> dict:
    """Best GFLOPS of single convolutions of the shapes G_fuse uses (channels-last for bf16)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    dtype = getattr(torch, dtype_name)
    cl = dtype == torch.bfloat16
    shapes = [  # (C_in, C_out, k, stride, input side)
        (1024, 1024, 3, 1, 34), (512, 1024, 3, 2, 64), (64, 128, 3, 2, 512),
        (64, 64, 7, 1, 518)]
    best = {}
    with torch.inference_mode():
        for ci, co, k, s, side in shapes:
            x = torch.randn(1, ci, side, side).to(dtype)
            w = torch.randn(co, ci, k, k).to(dtype)
            if cl:
                x = x.contiguous(memory_format=torch.channels_last)
                w = w.contiguous(memory_format=torch.channels_last)
            pad = 1 if s == 2 else 0
            out = F.conv2d(x, w, stride=s, padding=pad)
            macs = out.numel() * ci * k * k
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                F.conv2d(x, w, stride=s, padding=pad)
                ts.append(time.perf_counter() - t0)
            best[f'{ci}->{co} k{k} s{s} @{side}'] = 2 * macs / min(ts) / 1e9
    return dict(best=max(best.values()), per_shape=best)


def psnr(a, b) -> float:
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float('inf') if mse == 0 else 10 * np.log10(4.0 / mse)


def bf16_export_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).stem + '-bf16.pth')


def convert_cache_dir(path: Path) -> Path:
    return Path(path).parent / 'converted'


def ensure_converted_copy(path: Path, precisions) -> None:
    """Make the conversion cache's copies for ``precisions`` now, in this (untimed) process:
    the timed processes then measure every later start, not the one-off conversion."""
    from facedisentangle.inference import DeepFaceEditingInference

    for precision in precisions:
        t0 = time.perf_counter()
        model = DeepFaceEditingInference.from_checkpoint(
            path, precision=precision, convert_cache=convert_cache_dir(path))
        print(f"conversion cache for {precision}: {model.spec.meta.get('converted_copy')} "
              f'({time.perf_counter() - t0:.1f} s; instant when it already existed)',
              flush=True)
        del model


def ensure_export(path: Path, bf16: bool) -> None:
    import torch

    from facedisentangle.converters import OFFICIAL_MODEL
    from facedisentangle.inference import export_inference_checkpoint
    from facedisentangle.inference.random_weights import write_random_export

    torch.set_num_threads(2)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f'writing random official-size weights to {path} (once) ...', flush=True)
        # pix2pixHD's N(0, 0.02) in every network, as the reference measurements:
        # the training start's unit AdaIN head bias and kaiming appearance encoder are off
        model = copy.deepcopy(OFFICIAL_MODEL)
        model['generator'] = dict(model['generator'], adain_init='zero', appearance_init=None)
        write_random_export(path, model, seed=0)
    if bf16 and not bf16_export_path(path).is_file():
        export_inference_checkpoint(path, bf16_export_path(path), dtype=torch.bfloat16)


def load_snapshot() -> str:
    la = os.getloadavg()
    return f'{la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f}'


def table(results: list[dict], macs: dict) -> list[str]:
    import numpy as np

    base: dict[str, float] = {}
    for r in results:  # the faster baseline run of each mode (conservative ratios)
        if r['variant'] == 'baseline':
            t = statistics.median(r['full_s'])
            base[r['mode']] = min(base.get(r['mode'], t), t)
    ref = {r['mode']: r['out'] for r in results if r['variant'] == 'float32'}
    rows = ['| variant (precision) | mode | full edit, s | x baseline | eye1 only, s | '
            'x baseline full | peak RSS, GB | weights, GB | PSNR vs float32, dB | G_fuse GFLOPS '
            '| bf16 conv peak, GFLOPS | G_fuse share of peak |',
            '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in results:
        full = statistics.median(r['full_s'])
        part = statistics.median(r['partial_s']) if 'partial_s' in r else None
        gflops = 2 * macs[r['mode']]['fusion'] / min(r['fusion_s']) / 1e9
        p = psnr(np.load(r['out']), np.load(ref[r['mode']])) if r['mode'] in ref else float('nan')
        b = base.get(r['mode'])

        def ratio(x, b=b):
            return f'{x / b:.2f}' if b else '-'

        flag = '' if r.get('partial_fused_changed', True) else ' (a)'
        name = r['variant'] + (' (run again at the end)' if r.get('repeat') else '')
        rows.append(
            f"| {name} | {r['mode']} | {full:.2f} | {ratio(full)} | "
            + (f'{part:.2f}{flag} | {ratio(part)}' if part is not None else '- | -')
            + f" | {r['peak_rss'] / 1e9:.2f} | {r['weight_bytes'] / 1e9:.2f} | "
            f"{'inf' if p == float('inf') else f'{p:.1f}'} | {gflops:.0f} | "
            f"{r['conv_peak']:.0f} | {gflops / r['conv_peak']:.0%} |")
    if any(not r.get('partial_fused_changed', True) for r in results):
        rows += ['', '(a) the new eye1 input did not change the fused map once rounded to '
                 "G_fuse's precision (random weights: the feature map barely depends on the "
                 'geometry code), so the kept image was returned: not a real partial edit.']
    return rows


BEGIN, END = '<!-- inference-benchmark:begin -->', '<!-- inference-benchmark:end -->'


def write_marked_block(path: Path, begin: str, end: str, block: str, heading: str = '') -> None:
    """Put ``block`` between the markers ``begin`` and ``end`` of the markdown file ``path``
    (the text around them kept); without the markers, append them (after ``heading``)."""
    text = path.read_text() if path.is_file() else '# Benchmarks\n'
    generated = f'{begin}\n{block.rstrip()}\n{end}'
    if begin in text and end in text:
        text = text[:text.index(begin)] + generated + text[text.index(end) + len(end):]
    else:
        text = text.rstrip('\n') + '\n\n' + heading + generated + '\n'
    path.write_text(text)


def write_doc(path: Path, block: str) -> None:
    """Put ``block`` between the benchmark markers of the "## Inference" section (created at
    the end of the file if missing); the text around the markers is kept."""
    write_marked_block(path, BEGIN, END, block, heading='## Inference\n\n')


def trained_psnr(checkpoint: str, inputs: Path, precision: str = 'auto') -> dict[str, float]:
    """PSNR of ``precision`` against float32 on a trained model: every photo of ``inputs``
    with the appearance of the next one (photo geometry), and every ``<name>_sketch.png``
    with the next photo's appearance (sketch geometry)."""
    import numpy as np
    import torch

    from facedisentangle.inference import DeepFaceEditingInference, load_images

    photos = sorted(p for p in inputs.glob('*.png') if not p.stem.endswith('_sketch'))
    if len(photos) < 2:
        raise SystemExit(f'{inputs}: needs at least two photos (*.png)')
    nxt = photos[1:] + photos[:1]
    sketches = [p.with_name(f'{p.stem}_sketch.png') for p in photos]
    ref = DeepFaceEditingInference.from_checkpoint(checkpoint, precision='float32')
    fast = DeepFaceEditingInference.from_checkpoint(checkpoint, precision=precision)
    out = {}
    for mode, geometry in (('photo', photos), ('sketch', sketches)):
        if not all(p.is_file() for p in geometry) or not ref.spec.supports(mode):
            continue
        g, _ = load_images([str(p) for p in geometry], ref.resolution)
        a, _ = load_images([str(p) for p in nxt], ref.resolution)
        with torch.inference_mode():
            out[mode] = psnr(fast(g, a, mode).numpy(), ref(g, a, mode).numpy())
    return {k: float(np.round(v, 2)) for k, v in out.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--export', type=Path, default=DEFAULT_EXPORT,
                    help='random-weights export file (created if missing)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--runs', type=int, default=3, help='timed edits per variant and mode')
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    ap.add_argument('--write-doc', type=Path, help='replace the "## Inference" section there')
    ap.add_argument('--json', type=Path, help='also write the raw results here')
    ap.add_argument('--omp-wait-policy', default='PASSIVE', choices=['PASSIVE', 'ACTIVE'],
                    help='OMP_WAIT_POLICY of every process (unless already set)')
    ap.add_argument('--trained', metavar='CHECKPOINT',
                    help='instead: PSNR of the default precision against float32 on this '
                         'trained model, over the faces of --inputs')
    ap.add_argument('--inputs', type=Path, default=REPO / 'demo' / 'faces',
                    help='photos (and <name>_sketch.png) for --trained')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--variant', help=argparse.SUPPRESS)
    ap.add_argument('--mode', help=argparse.SUPPRESS)
    ap.add_argument('--output', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print('RESULT ' + json.dumps(worker(args)), flush=True)
        return 0
    if args.trained:
        import torch

        torch.set_num_threads(args.threads)
        for mode, value in trained_psnr(args.trained, args.inputs).items():
            print(f'{mode} geometry: PSNR of the default precision against float32 '
                  f'{value:.2f} dB ({args.trained}, {args.inputs})')
        return 0
    # GNU OpenMP spins while waiting for a peer thread; on a shared machine whose cores are
    # busy with other processes, a preempted peer stalls every small operation (measured 2.4x
    # slower for the bfloat16 path at load 4 on 2 cores). Every variant gets the same setting.
    os.environ.setdefault('OMP_WAIT_POLICY', args.omp_wait_policy)

    if 'float32' not in args.variants:
        args.variants = ['float32', *args.variants]  # the PSNR reference
    started = time.strftime('%Y-%m-%d %H:%M')
    load_before = load_snapshot()
    ensure_export(args.export, any(VARIANTS[v].get('export') for v in args.variants))
    ensure_converted_copy(args.export, [VARIANTS[v]['precision'] for v in args.variants
                                        if VARIANTS[v].get('convert_cache')])
    from facedisentangle.inference import read_spec

    spec = read_spec(args.export)
    macs = {m: edit_macs(spec, m) for m in args.modes}
    peak = conv_peak('bfloat16', args.threads)
    peak32 = conv_peak('float32', args.threads)
    print(f'bf16 conv peak {peak["best"]:.0f} GFLOPS, float32 {peak32["best"]:.0f} GFLOPS; '
          f'ONEDNN_MAX_CPU_ISA={os.environ.get("ONEDNN_MAX_CPU_ISA", "(unset: native)")}; '
          f'load average {load_before}', flush=True)
    outdir = args.export.parent / 'outputs'
    outdir.mkdir(exist_ok=True)
    results = []
    t_all = time.perf_counter()
    jobs = [(v, m, 0) for v in args.variants for m in args.modes]
    if 'baseline' in args.variants:  # again at the end: the load of a shared machine drifts
        jobs += [('baseline', m, 1) for m in args.modes]
    for variant, mode, repeat in jobs:
        out = outdir / (f"{re.sub(r'[^A-Za-z0-9]+', '_', variant).strip('_')}_{mode}"
                        f"{'_again' if repeat else ''}.npy")
        cmd = [sys.executable, '-m', 'facedisentangle.cli.benchmark', '--worker',
               '--variant', variant, '--mode', mode,
               '--export', str(args.export), '--threads', str(args.threads),
               '--runs', str(args.runs), '--warmup', str(args.warmup), '--output', str(out)]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),  # + OMP_WAIT_POLICY
                   **VARIANTS[variant].get('env', {}))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
        if proc.returncode != 0 or not lines:
            print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f'benchmark worker {variant}/{mode} failed')
        r = json.loads(lines[-1][7:])
        r['out'], r['repeat'] = str(out), repeat
        results.append(r)
        print(f"{variant:>30} {mode:>6}: full {statistics.median(r['full_s']):.2f} s"
              + (f", eye1 only {statistics.median(r['partial_s']):.2f} s"
                 if 'partial_s' in r else '')
              + f", peak {r['peak_rss'] / 1e9:.2f} GB", flush=True)
    order = {v: i for i, v in enumerate(VARIANTS)}
    results.sort(key=lambda r: (order[r['variant']], r['repeat'], r['mode']))
    rows = table(results, macs)
    total_min = (time.perf_counter() - t_all) / 60
    print('\n'.join(rows))
    if args.json:
        args.json.write_text(json.dumps(dict(results=results, macs=macs, peak=peak,
                                             peak32=peak32), indent=1))
    if args.write_doc:
        import platform

        import torch
        cpu = next((ln.split(':', 1)[1].strip() for ln in
                    Path('/proc/cpuinfo').read_text().splitlines()
                    if ln.startswith('model name')), platform.processor())
        cmd = 'python tools/benchmark.py ' + ' '.join(
            (argv if argv is not None else sys.argv[1:]))
        gmac = {m: {k: v / 1e9 for k, v in macs[m].items()} for m in macs}
        section = '\n'.join([
            'One full 512 px edit (geometry of one image, appearance of another) with the '
            "paper's networks (official sizes, random weights N(0, 0.02), pix2pixHD's init), "
            f'batch 1, {args.threads} threads, median of {args.runs} runs after '
            f'{args.warmup} warm-up (each run on new inputs, so nothing cached is reused). '
            '"eye1 only": an edit where only eye1\'s geometry input changed to a new image '
            '(partial recompute: eye1 and Global Fusion). "x baseline": against the faster '
            'of the two baseline runs (first and last), the conservative choice. Peak RSS: '
            'the VmHWM of a fresh process per row (imports, weights, activations, cached '
            'results). PSNR: range 2 ([-1, 1] images) against our float32 output on the same '
            'inputs. G_fuse share of peak: G_fuse alone on a 64 x 512 x 512 input against the '
            'best bfloat16 convolution rate measured in the same process right after it.', '',
            f'Command: `{cmd}`', '',
            f'Machine: {cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, '
            f'OMP_WAIT_POLICY={os.environ["OMP_WAIT_POLICY"]}, ONEDNN_MAX_CPU_ISA='
            f'{os.environ.get("ONEDNN_MAX_CPU_ISA", "unset (native)")}; run {started}, '
            f'{total_min:.1f} min. Load average (1/5/15 min) before: {load_before}, after: '
            f'{load_snapshot()} — other engineers\' processes were running on the same 2 '
            'cores when the load is above ~2, so absolute times are noisy; ratios within '
            'one run are what counts.', '',
            'Convolution rates measured at the start (GFLOPS, best of single channels-last '
            'bfloat16 convolutions of the shapes G_fuse uses: '
            + ', '.join(f'{k}: {v:.0f}' for k, v in peak['per_shape'].items())
            + f"; float32: {peak32['best']:.0f}).", '',
            'Work per edit (GMAC): ' + '; '.join(
                f"{m}: " + ', '.join(f'{k} {v:.1f}' for k, v in gmac[m].items())
                for m in gmac) + '.', '',
            *rows, ''])
        write_doc(args.write_doc, section)
        print(f'wrote the Inference section of {args.write_doc}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
