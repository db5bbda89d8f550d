"""Single convolutions, plain against prepacked weights (a benchmark, not a test).

    python tools/benchmarks/bench_prepacked_conv.py [--threads 2] [--repeats 9]
    ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 python tools/benchmarks/bench_prepacked_conv.py

The wide bfloat16 channels-last convolutions of the 512 px networks' bottlenecks (component
generators at 8-12 px for the eyes, nose and mouth, 32 px for bg and G_fuse; the
down-sampling convolutions into them) run as ``F.conv2d`` (oneDNN reorders the weight into
its blocked layout at every call) and as ``torch.ops.mkldnn._convolution_pointwise`` with the
weight reordered once (what :class:`facedisentangle.inference.prepacked_conv.PrepackedConv2d`
does). The two alternate, ``--repeats`` times each after 1 warm-up; medians and their ratio
are printed as a markdown table, with the oneDNN ISA limit and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [  # (C_in, C_out, output side, stride)
    (1024, 1024, 8, 1), (1024, 1024, 10, 1), (1024, 1024, 32, 1), (512, 1024, 16, 2),
    (512, 1024, 64, 2)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=9)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '(unset: native)')}, "
          f'{args.threads} threads, load average {os.getloadavg()}')
    print('| convolution (bfloat16, channels-last) | plain, ms | prepacked, ms | ratio |')
    print('|---|---|---|---|')
    with torch.inference_mode():
        for ci, co, side, s in SHAPES:
            pad = [0, 0] if s == 1 else [1, 1]
            size = side + 2 if s == 1 else 2 * side
            x = torch.randn(1, ci, size, size).bfloat16().contiguous(
                memory_format=torch.channels_last)
            w = torch.randn(co, ci, 3, 3).bfloat16().contiguous(memory_format=torch.channels_last)
            b = torch.randn(co).bfloat16()
            packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                w.to_mkldnn(), pad, [s, s], [1, 1], 1, list(x.shape))

            def plain():
                return F.conv2d(x, w, b, stride=s, padding=pad)

            def prepacked():
                return torch.ops.mkldnn._convolution_pointwise(
                    x, packed, b, pad, [s, s], [1, 1], 1, 'none', [], '')

            if not torch.equal(plain(), prepacked()):
                raise SystemExit(f'{ci}->{co} @{side}: prepacked result differs')
            ta, tb = [], []
            for _ in range(args.repeats):
                for fn, out in ((plain, ta), (prepacked, tb)):
                    t0 = time.perf_counter()
                    fn()
                    out.append(time.perf_counter() - t0)
            a, p = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
            print(f'| {ci}->{co} 3x3 stride {s}, {side}x{side} out | {a:.1f} | {p:.1f} | '
                  f'{p / a:.2f} |', flush=True)
    print(f'load average after {os.getloadavg()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
