"""Peak memory of ``convert_official_weights``: file by file against all in memory (a
benchmark, not a test).

    python tools/benchmarks/bench_converter_memory.py [--ngf 64] [--dir /tmp/release]

Writes a random release in the official layout (``sketch_encoder/``, ``image_encoder/``,
``generator/``, ``global_fuse.pkl``, ``sketch_generator.pkl``; plain pickles of float32 numpy
arrays, N(0, 0.02)) with the official networks at width ``--ngf`` (64 = the official sizes,
1.23 G parameters, 4.9 GB), then converts it in a fresh process per route and prints each
process's peak resident memory (VmHWM: imports, arrays, export) and time:

- ``file by file``: the converter's route on torch >= 2.5 (one release file in memory at a
  time, the export's structure written first and filled in place);
- ``all in memory``: the route for older torch (every file read, then the export written);
- ``imports only``: the floor (``import facedisentangle.converters``).

The release and the exports are deleted at the end unless ``--keep``.
"""
from __future__ import annotations

import argparse
import copy
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the official image-to-sketch network (sketch_generator.pkl): pix2pixHD's global generator
# with 3 input channels, ngf 32, 9 ResnetBlocks (docs/networks.md)
SKETCH_GENERATOR = dict(type='ImageToSketchGenerator', ngf=32, n_downsampling=4, n_blocks=9)

RUN = '''
import sys, time
from facedisentangle.converters import official_weights as ow
route = {route!r}
if route != 'imports only':
    if route == 'all in memory':
        ow._file_by_file_supported = lambda: False
    t = time.perf_counter()
    ow.convert_official_weights({src!r}, {out!r}, {cfg!r})
    print('seconds', time.perf_counter() - t)
for line in open('/proc/self/status'):
    if line.startswith('VmHWM:'):
        print('peak_kb', line.split()[1])
'''


def model_config(ngf: int) -> dict:
    from facedisentangle.converters import OFFICIAL_MODEL

    cfg = copy.deepcopy(OFFICIAL_MODEL)
    for key in ('sketch_encoder', 'image_encoder', 'generator'):
        cfg[key]['ngf'] = ngf
    cfg['fusion_generator'].update(ngf=ngf, input_nc=ngf)
    cfg['image_to_sketch'] = dict(SKETCH_GENERATOR, ngf=max(1, ngf // 2))
    return cfg


def write_release(root: str, cfg: dict) -> int:
    """One plain pickle per official file, random N(0, 0.02) float32; returns the bytes."""
    from facedisentangle.converters.official_weights import OFFICIAL_FILES
    from facedisentangle.inference.network_build import build_empty, shapes_of

    rng = np.random.default_rng(0)
    total = 0
    for prefix, (pattern, key, _) in OFFICIAL_FILES.items():
        names = [pattern.format(key=c) for c in cfg['components']] if '{key}' in pattern \
            else [pattern]
        for rel in names:
            shapes = shapes_of(build_empty(cfg[key], rel))
            state = {k: (rng.standard_normal(s, dtype=np.float32) * 0.02) for k, s in
                     shapes.items()}
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                pickle.dump(state, f, protocol=4)
            total += sum(v.nbytes for v in state.values())
            del state
    return total


def run(route: str, src: str, out: str, cfg: dict) -> dict:
    code = RUN.format(route=route, src=src, out=out, cfg=cfg)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                          check=False)
    if proc.returncode:
        raise SystemExit(f'{route}: failed\n{proc.stderr[-3000:]}')
    vals = dict(line.split() for line in proc.stdout.splitlines() if ' ' in line)
    if os.path.exists(out):
        os.remove(out)
    return dict(peak_gb=int(vals['peak_kb']) * 1024 / 1e9,
                seconds=float(vals['seconds']) if 'seconds' in vals else None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ngf', type=int, default=64, help='network width (64 = official)')
    ap.add_argument('--dir', default=None, help='work folder (default: a temporary one)')
    ap.add_argument('--keep', action='store_true', help='keep the release and the exports')
    args = ap.parse_args(argv)
    work = args.dir or tempfile.mkdtemp(prefix='bench_converter_')
    src = os.path.join(work, 'release')
    cfg = model_config(args.ngf)
    t = time.perf_counter()
    nbytes = write_release(src, cfg)
    print(f'random release at ngf {args.ngf}: {nbytes / 1e9:.2f} GB of float32 '
          f'({nbytes / 4e9:.3f} G parameters), written in {time.perf_counter() - t:.0f} s')
    print(f'machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
          f'load average {os.getloadavg()}')
    print('| route | peak RSS, GB | seconds |\n|---|---|---|')
    try:
        for route in ('imports only', 'file by file', 'all in memory'):
            r = run(route, src, os.path.join(work, 'converted.pth'), cfg)
            secs = '-' if r['seconds'] is None else f"{r['seconds']:.1f}"
            print(f"| {route} | {r['peak_gb']:.2f} | {secs} |", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(src, ignore_errors=True)
            if not args.dir:
                shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
