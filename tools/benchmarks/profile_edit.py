"""Where the time of one 512 px edit goes: per network and per operation kind (torch.profiler).

    python tools/benchmarks/profile_edit.py --precisions float32 bfloat16 --modes photo sketch \
        [--threads 2] [--runs 2] [--label "..."] [--write-doc docs/benchmarks.md --tag native]

The official-size networks with the random official-layout weights of ``tools/benchmark.py``
(its export file, written once), built the way that benchmark builds its variants
(``bfloat16``: the default path, the conversion cache memory-mapped; ``float32``: the exact
path). One warm-up edit, then ``--runs`` profiled edits, each on new inputs (so no cached
result is reused); the tables give the mean CPU time per edit.

Attribution: the model's methods are wrapped in ``torch.profiler.record_function`` scopes
(geometry encoders = ``encode_geometry``, appearance encoders = ``encode_appearance``,
component generators = ``component_features`` (G_syn's decoder and its AdaIN head), fuse =
the layout's paste, fusion generator = ``synthesize``, and network (re)builds, which the
low-memory default does for the geometry encoders of every new input), and so is every leaf
module (``Conv2d``, ``ConvTranspose2d``, the instance norms, AdaIN with its inner norm,
``ReflectionPad2d``, activations). Each profiled operator's *self* time goes to the innermost
network scope and the outermost module scope around it; operators outside any module are
copies and dtype conversions (``aten::to``, ``copy_``, ``contiguous``, ...) or other glue.
The "copies / conversions" column is the part of a kind's time spent in such operators.

A measurement tool, not a test. The CPU matters: on a CPU with AMX oneDNN runs bfloat16
convolutions on AMX tiles; ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16`` restricts it to the
AVX-512 BF16 instructions of a CPU without AMX (``--label`` records which).
"""
from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

from facedisentangle.cli import benchmark as bench  # export, inputs, conv peaks

REPO = Path(__file__).resolve().parents[2]

NETWORK_SCOPES = {  # model method -> network group
    'encode_geometry': 'geometry encoders',
    'encode_appearance': 'appearance encoders',
    'component_features': 'component generators (G_syn)',
    'fuse': 'fuse (layout paste)',
    'synthesize': 'fusion generator (G_fuse)',
    '_build': 'network (re)build from the weights file',
}
COPY_OPS = {'aten::to', 'aten::_to_copy', 'aten::copy_', 'aten::contiguous', 'aten::clone',
            'aten::empty_like', 'aten::empty', 'aten::empty_strided', 'aten::cat',
            'aten::_to_dense', 'aten::to_dense', 'aten::resize_', 'aten::expand',
            'aten::as_strided', 'aten::slice', 'aten::view', 'aten::reshape', 'aten::permute',
            'aten::narrow', 'aten::select', 'aten::unsqueeze'}
NET, MOD = 'net::', 'mod::'


def module_kind(m: nn.Module) -> str | None:
    """The operation kind a module is reported under (None: not a leaf of interest)."""
    from facedisentangle.models.backbones.adain import AdaptiveInstanceNorm2d

    if isinstance(m, AdaptiveInstanceNorm2d):
        return 'AdaIN (instance norm + per-sample affine)'
    if isinstance(m, nn.ConvTranspose2d):
        return 'transposed convolution'
    if isinstance(m, nn.Conv2d):
        return 'convolution'
    if isinstance(m, (nn.InstanceNorm2d, nn.GroupNorm, nn.BatchNorm2d)):
        return 'instance norm'
    if isinstance(m, (nn.ReflectionPad2d, nn.ReplicationPad2d, nn.ZeroPad2d)):
        return 'padding'
    if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)):
        return 'activation'
    if isinstance(m, (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Upsample)):
        return 'pooling / resampling'
    if isinstance(m, nn.Linear):
        return 'linear'
    return None


def instrument_module(net: nn.Module) -> nn.Module:
    """record_function scopes around every leaf module (and AdaIN, its norm inside)."""
    for m in net.modules():
        kind = module_kind(m)
        if kind is None or getattr(m, '_profile_hooked', False):
            continue
        stack = []

        def pre(mod, args, kind=kind, stack=stack):
            rf = torch.profiler.record_function(MOD + kind)
            rf.__enter__()
            stack.append(rf)

        def post(mod, args, out, stack=stack):
            stack.pop().__exit__(None, None, None)

        m.register_forward_pre_hook(pre)
        m.register_forward_hook(post)
        m._profile_hooked = True
    return net


def instrument_model(model) -> None:
    """Scopes around the model's per-network methods; hooks on every network it builds."""
    for method, group in NETWORK_SCOPES.items():
        orig = getattr(model, method)

        @functools.wraps(orig)
        def wrapped(*a, _orig=orig, _group=group, _method=method, **k):
            with torch.profiler.record_function(NET + _group):
                out = _orig(*a, **k)
            return instrument_module(out) if _method == '_build' else out

        setattr(model, method, wrapped)
    for name in model.built():
        instrument_module(model.network(name))


def attribute(events) -> tuple[dict, dict, float]:
    """Self CPU time (us) per (network group, kind) and per (kind, operator)."""
    by_net: dict = collections.defaultdict(float)
    by_op: dict = collections.defaultdict(float)
    total = 0.0
    for e in events:
        if e.name.startswith((NET, MOD)) or e.name.startswith('ProfilerStep'):
            continue
        self_us = e.self_cpu_time_total
        net, kind, p = 'other (outside the networks)', None, e.cpu_parent
        found_net = False
        while p is not None:
            if p.name.startswith(MOD):
                kind = p.name[len(MOD):]  # keeps the outermost
            elif p.name.startswith(NET) and not found_net:
                net, found_net = p.name[len(NET):], True
            p = p.cpu_parent
        if kind is None:
            kind = ('copies / dtype conversions (outside modules)' if e.name in COPY_OPS
                    else 'other operators (outside modules)')
        by_net[(net, kind)] += self_us
        by_op[(kind, e.name)] += self_us
        total += self_us
    return by_net, by_op, total


def profile_variant(precision: str, mode: str, export: Path, threads: int, runs: int) -> dict:
    from facedisentangle.inference import DeepFaceEditingInference

    torch.set_num_threads(threads)
    variant = 'bfloat16 (default)' if precision == 'bfloat16' else precision
    spec = bench.VARIANTS[variant]
    cache = bench.convert_cache_dir(export) if spec.get('convert_cache') else False
    model = DeepFaceEditingInference.from_checkpoint(
        export, precision=spec['precision'], low_memory=spec.get('low_memory'),
        convert_cache=cache)
    model.preload([mode])
    instrument_model(model)
    res = model.resolution
    g, a = bench.make_inputs(100, res, mode)
    model(g, a, mode)  # warm-up (oneDNN primitive creation, first-touch of the weights)
    inputs = [bench.make_inputs(i, res, mode) for i in range(runs)]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for g, a in inputs:
            model(g, a, mode)
        wall = (time.perf_counter() - t0) / runs
    by_net, by_op, total = attribute(prof.events())
    scale = 1e-3 / runs  # us over all runs -> ms per edit
    return dict(precision=precision, mode=mode, wall_ms=wall * 1e3, total_ms=total * scale,
                by_net={k: v * scale for k, v in by_net.items()},
                by_op={k: v * scale for k, v in by_op.items()},
                low_memory=model.low_memory)


def tables(results: list[dict], top_ops: int) -> list[str]:
    out = []
    for r in results:
        total = r['total_ms']
        nets: dict = collections.defaultdict(float)
        kinds: dict = collections.defaultdict(float)
        copies: dict = collections.defaultdict(float)
        for (net, kind), ms in r['by_net'].items():
            nets[net] += ms
            kinds[kind] += ms
        for (kind, op), ms in r['by_op'].items():
            if op in COPY_OPS:
                copies[kind] += ms
        head = (f"**{r['precision']}, {r['mode']} geometry** (low_memory "
                f"{r['low_memory']}): {r['wall_ms']:.0f} ms per profiled edit (wall, "
                f"profiler on), {total:.0f} ms of operator CPU time attributed.")
        out += [head, '', '| network | ms | share | convolution | transposed conv | '
                'instance norm | AdaIN | padding | activation | copies / conversions '
                '(outside modules) | other |', '|---|---|---|---|---|---|---|---|---|---|---|']
        cols = ['convolution', 'transposed convolution', 'instance norm',
                'AdaIN (instance norm + per-sample affine)', 'padding', 'activation',
                'copies / dtype conversions (outside modules)']
        for net in sorted(nets, key=lambda n: -nets[n]):
            cells = [r['by_net'].get((net, c), 0.0) for c in cols]
            rest = nets[net] - sum(cells)
            out.append(f'| {net} | {nets[net]:.0f} | {nets[net] / total:.0%} | '
                       + ' | '.join(f'{c:.0f}' for c in cells) + f' | {rest:.0f} |')
        out += ['', '| operation kind | ms | share | of which copies / conversions |',
                '|---|---|---|---|']
        for kind in sorted(kinds, key=lambda k: -kinds[k]):
            out.append(f'| {kind} | {kinds[kind]:.0f} | {kinds[kind] / total:.0%} | '
                       f'{copies.get(kind, 0.0):.0f} |')
        ops = sorted(r['by_op'].items(), key=lambda kv: -kv[1])[:top_ops]
        out += ['', f'Top {top_ops} operators by self time: ' + '; '.join(
            f'{op} in {kind} {ms:.0f} ms' for (kind, op), ms in ops) + '.', '']
    return out


def write_doc(path: Path, tag: str, block: str) -> None:
    """Put ``block`` between this tag's markers (appended under "## Profile" when missing)."""
    bench.write_marked_block(path, f'<!-- profile-{tag}:begin -->',
                             f'<!-- profile-{tag}:end -->', block)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--export', type=Path, default=bench.DEFAULT_EXPORT)
    ap.add_argument('--precisions', nargs='+', default=['float32', 'bfloat16'],
                    choices=['float32', 'bfloat16'])
    ap.add_argument('--modes', nargs='+', default=['photo', 'sketch'], choices=bench.MODES)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--runs', type=int, default=2, help='profiled edits per variant')
    ap.add_argument('--top-ops', type=int, default=8)
    ap.add_argument('--label', default='', help='what this run is (e.g. the ISA limit)')
    ap.add_argument('--write-doc', type=Path, help='put the tables into this markdown file')
    ap.add_argument('--tag', default='native', help='marker name of the block in --write-doc')
    args = ap.parse_args(argv)
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    os.chdir(REPO)
    bench.ensure_export(args.export, False)
    if 'bfloat16' in args.precisions:
        bench.ensure_converted_copy(args.export, ['bfloat16'])
    load_before = bench.load_snapshot()
    peak = bench.conv_peak('bfloat16', args.threads)['best']
    peak32 = bench.conv_peak('float32', args.threads)['best']
    results = []
    for precision in args.precisions:
        for mode in args.modes:
            r = profile_variant(precision, mode, args.export, args.threads, args.runs)
            print(f"{precision:>9} {mode:>6}: {r['wall_ms']:.0f} ms wall per edit", flush=True)
            results.append(r)
    cpu = next((ln.split(':', 1)[1].strip() for ln in
                Path('/proc/cpuinfo').read_text().splitlines()
                if ln.startswith('model name')), 'unknown CPU')
    isa = os.environ.get('ONEDNN_MAX_CPU_ISA')
    cmd = ' '.join(
        ([f'ONEDNN_MAX_CPU_ISA={isa}'] if isa else [])
        + ['python tools/benchmarks/profile_edit.py']
        + (argv if argv is not None else sys.argv[1:]))
    block = [f'Command: `{cmd}`', '',
             f'{cpu}, {os.cpu_count()} CPUs, {args.threads} threads, torch '
             f'{torch.__version__}, oneDNN ISA limit: {isa or "none (native)"}'
             + (f' ({args.label})' if args.label else '')
             + f'; convolution peaks measured in the same run: bfloat16 {peak:.0f} GFLOPS, '
             f'float32 {peak32:.0f} GFLOPS; load average before {load_before}, after '
             f'{bench.load_snapshot()}; mean of {args.runs} profiled edits after one '
             'warm-up.', '', *tables(results, args.top_ops)]
    text = '\n'.join(block)
    print(text)
    if args.write_doc:
        write_doc(args.write_doc, args.tag, text)
        print(f'wrote the profile-{args.tag} block of {args.write_doc}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
