"""Update latency of the web editor: one stroke inside one component against a full edit
from scratch (a benchmark, not a test).

    python tools/benchmarks/bench_web_editor.py --threads 2 --runs 5 \\
        [--sizes 512 128] [--write-doc docs/benchmarks.md]

Each size runs in its own process, through the web editor's own code
(:func:`facedisentangle.web.session.render` on an :class:`EditSession`, sketch geometry, two
reference photos, every component's appearance from the first):

* **512**: the paper's networks at official sizes with random weights, the export file
  ``tools/benchmark.py`` writes (``$TMPDIR/facedisentangle-bench/random-official-512.pth``,
  written here too when missing), loaded as ``FaceEditor.from_checkpoint`` does by default on
  a CPU (bfloat16, conversion cache, low memory);
* **128**: the model shipped in the package (facedisentangle/model_zoo), or, while it is not
  there, random weights of its architecture (configs/_base_/models/global_fusion_128.py);
  plus the latency of the same stroke through the HTTP server on loopback (PNG upload,
  render, PNG answer).

Interleaved, ``--runs`` times after one warm-up round: **full** (the result cache and G_fuse's
kept stem emptied, so every network runs: what an editor without partial recompute does for
every change), then **stroke** (a new pen stroke inside the mouth box of that sketch: the
mouth's E_sketch and G_syn and G_fuse run again, the stem only around the mouth box), then
**eyes** (the eyes' appearance from the second photo: their E_app and G_syn, and G_fuse).
Medians, and the medians of the per-round ratios to the full edit of the same round. The
machine's name, its load and the bfloat16 / float32 convolution peaks
(``facedisentangle/cli/benchmark.py:conv_peak``) are printed with the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(os.environ.get('TMPDIR', '/tmp')) / 'facedisentangle-bench'
RANDOM_128 = BENCH_DIR / 'random-synthetic-128.pth'
DOC_BEGIN, DOC_END = '<!-- web-editor-benchmark:begin -->', '<!-- web-editor-benchmark:end -->'


def model_128() -> tuple[str, str]:
    """(path, description) of the 128 px model: the shipped one, else random weights."""
    from facedisentangle.model_zoo import default_checkpoint

    try:
        return default_checkpoint(), 'the shipped synthetic-128 model (quantised export)'
    except FileNotFoundError:
        pass
    if not RANDOM_128.is_file():
        from mmengine import Config

        from facedisentangle.inference.random_weights import write_random_export

        cfg = Config.fromfile(str(REPO / 'configs/_base_/models/global_fusion_128.py')).model
        keys = ('layout', 'components', 'sketch_encoder', 'sketch_decoder', 'image_encoder',
                'generator', 'fusion_generator')
        RANDOM_128.parent.mkdir(parents=True, exist_ok=True)
        write_random_export(RANDOM_128, {k: cfg[k] for k in keys}, seed=0)
    return str(RANDOM_128), ('random weights of the shipped model\'s architecture '
                             '(configs/_base_/models/global_fusion_128.py; the shipped file '
                             'was not there yet)')


def model_512() -> tuple[str, str]:
    from facedisentangle.cli.benchmark import DEFAULT_EXPORT, ensure_export

    ensure_export(DEFAULT_EXPORT, bf16=False)
    return str(DEFAULT_EXPORT), 'the official-size networks, random weights N(0, 0.02)'


def photo(rng, size: int):
    import cv2
    import numpy as np

    small = rng.uniform(0, 255, (16, 16, 3)).astype(np.float32)
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def sketch(rng, size: int):
    import cv2
    import numpy as np

    img = np.full((size, size, 3), 255, np.uint8)
    for _ in range(40):
        pts = rng.integers(0, size, (4, 2)).astype(np.int32)
        cv2.polylines(img, [pts], False, (0, 0, 0), max(1, size // 256), cv2.LINE_AA)
    return img


def add_stroke(img, box, rng, avoid=()):
    """A short black line at a random place inside ``box`` (x, y, size) whose bounding box
    (with the line width) touches none of the boxes in ``avoid``: it changes one component."""
    import cv2

    x, y, s = box
    width = max(1, img.shape[0] // 256)
    m = max(2, s // 8)
    for _ in range(1000):
        p0 = (int(x + rng.integers(m, s - m)), int(y + rng.integers(m, s - m)))
        p1 = (int(min(x + s - m, p0[0] + s // 4)),
              int(min(max(p0[1] + rng.integers(-s // 8, s // 8 + 1), y + m), y + s - m)))
        lo_x, hi_x = min(p0[0], p1[0]) - width - 1, max(p0[0], p1[0]) + width + 1
        lo_y, hi_y = min(p0[1], p1[1]) - width - 1, max(p0[1], p1[1]) + width + 1
        if not any(lo_x < bx + bs and hi_x >= bx and lo_y < by + bs and hi_y >= by
                   for bx, by, bs in avoid):
            break
    else:
        raise ValueError(f'no place in box {box} outside {avoid}')
    out = img.copy()
    cv2.line(out, p0, p1, (0, 0, 0), width, cv2.LINE_AA)
    return out


def worker(size: int, runs: int, threads: int, low_memory: str = 'auto') -> dict:
    import numpy as np
    import torch

    from facedisentangle.apis import FaceEditor
    from facedisentangle.web.session import EditSession, parse_choices, render

    torch.set_num_threads(threads)
    path, what = model_512() if size == 512 else model_128()
    kwargs = {'low_memory': None if low_memory == 'auto' else low_memory == 'on'}
    if not path.endswith('_bf16.pth'):  # a float32 file: its bfloat16 copy next to it
        kwargs['convert_cache'] = str(BENCH_DIR / 'converted')
    t0 = time.perf_counter()
    editor = FaceEditor.from_checkpoint(path, **kwargs)
    load_s = time.perf_counter() - t0
    model = editor.model
    res = editor.resolution
    mouth = model.layout.box('mouth')
    others = [model.layout.box(c) for c in editor.components
              if c not in ('mouth', model.layout.base)]
    rng = np.random.default_rng(0)
    fusion_s = []
    synthesize = model.synthesize

    def timed_synthesize(fused):  # G_fuse's share of each update
        t = time.perf_counter()
        out = synthesize(fused)
        fusion_s.append(time.perf_counter() - t)
        return out

    model.synthesize = timed_synthesize
    session = EditSession(res)
    session.add_reference(photo(rng, res))
    session.add_reference(photo(rng, res))
    base = parse_choices({}, editor.components, 2)
    eyes = parse_choices({'appearance': {'eye1': 1, 'eye2': 1}}, editor.components, 2)
    out = {'size': size, 'model': what, 'path': path, 'load_s': load_s, 'full_s': [],
           'stroke_s': [], 'eyes_s': [], 'stroke_misses': [], 'stroke_stem_region': [],
           'stroke_fusion_s': [], 'full_fusion_s': [],
           'precision': str(model.forms['generator'].dtype), 'low_memory': model.low_memory}

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    for r in range(runs + 1):  # round 0: warm-up (networks built, memory touched)
        start = sketch(rng, res)
        session.set_base(start)
        model.cache.clear()
        if model._fusion is not None:
            model._fusion.reset()
        full = timed(lambda: render(editor, session, base))
        full_fusion = fusion_s[-1]
        session.sketch = add_stroke(start, mouth, rng, others)
        misses = model.cache.misses
        stroke = timed(lambda: render(editor, session, base))
        stroke_fusion = fusion_s[-1]
        stroke_misses = model.cache.misses - misses
        region = model._fusion.last_region if model._fusion is not None else None
        eye = timed(lambda: render(editor, session, eyes))
        if r == 0:
            continue
        out['full_s'].append(full)
        out['stroke_s'].append(stroke)
        out['eyes_s'].append(eye)
        out['stroke_misses'].append(stroke_misses)
        out['stroke_stem_region'].append(region)
        out['full_fusion_s'].append(full_fusion)
        out['stroke_fusion_s'].append(stroke_fusion)
        print(f'{size}: round {r}: full {full:.3f} s, stroke {stroke:.3f} s, eyes {eye:.3f} s',
              flush=True)
    if size <= 256:
        out['http_s'] = http_latency(editor, session, runs * 4, rng)
    return out


def http_latency(editor, session, n: int, rng) -> list[float]:
    """Seconds per stroke update through the HTTP server on loopback (upload, render, PNG)."""
    import io
    import urllib.request
    import uuid

    from PIL import Image

    from facedisentangle.web.server import create_app, serve_in_background

    def png(a):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format='PNG')
        return buf.getvalue()

    def post(url, fields=(), files=()):
        b = uuid.uuid4().hex
        body = b''.join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                        .encode() for k, v in fields)
        for k, name, data in files:
            body += (f'--{b}\r\nContent-Disposition: form-data; name="{k}"; '
                     f'filename="{name}"\r\n\r\n').encode() + data + b'\r\n'
        body += f'--{b}--\r\n'.encode()
        req = urllib.request.Request(url, data=body, method='POST', headers={
            'Content-Type': f'multipart/form-data; boundary={b}'})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    times = []
    with serve_in_background(create_app(editor)) as url:
        sid = json.loads(post(f'{url}/api/session'))['session']
        for i, ref in enumerate(session.references):
            post(f'{url}/api/{sid}/reference', files=[('file', f'{i}.png', png(ref))])
        current = session.base
        layout = editor.model.layout
        mouth = layout.box('mouth')
        others = [layout.box(c) for c in editor.components if c not in ('mouth', layout.base)]
        post(f'{url}/api/{sid}/edit', files=[('sketch', 'c.png', png(current))])
        for _ in range(n):
            current = add_stroke(current, mouth, rng, others)
            t = time.perf_counter()
            Image.open(io.BytesIO(post(f'{url}/api/{sid}/edit',
                                       files=[('sketch', 'c.png', png(current))]))).load()
            times.append(time.perf_counter() - t)
    return times


def cpu_name() -> str:
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    import platform
    return platform.processor() or 'unknown CPU'


def load() -> str:
    la = os.getloadavg()
    return f'{la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f}'


def report(results: list[dict], meta: dict) -> list[str]:
    med = statistics.median
    lines = [
        'One update of the web editor (`facedisentangle.web.session.render`, sketch geometry, '
        'two reference photos): **full** = every network runs (result cache and G_fuse\'s '
        'kept stem emptied: what an editor without partial recompute does on every change); '
        '**stroke** = a new pen stroke inside the mouth box (the mouth\'s E_sketch and G_syn, '
        'G_fuse with its stem only around the box); **eyes** = the eyes\' appearance from the '
        'other photo. Rounds interleaved (full, stroke, eyes), medians; "x full": median of '
        'the per-round ratios to the same round\'s full edit.',
        '',
        f"Command: `python tools/benchmarks/bench_web_editor.py --threads {meta['threads']} "
        f"--runs {meta['runs']} --sizes {' '.join(str(s) for s in meta['sizes'])} "
        f"--low-memory {' '.join(meta['low_memory'])} "
        '--write-doc docs/benchmarks.md`',
        '',
        f"Machine: {meta['cpu']}, {meta['cpus']} CPUs, {meta['threads']} threads, torch "
        f"{meta['torch']}, OMP_WAIT_POLICY=PASSIVE; run {meta['date']}, load average (1/5/15 min) before "
        f"{meta['load_before']}, after {meta['load_after']} (other engineers' jobs share "
        'the 2 cores when it is above ~2: absolute times are noisy, same-run ratios are what '
        f"counts). Convolution peaks measured at the start: bfloat16 {meta['bf16_peak']:.0f}, "
        f"float32 {meta['fp32_peak']:.0f} GFLOPS (`facedisentangle/cli/benchmark.py:conv_peak`).",
        '',
        '| size | model | precision, low memory | full, s | of which G_fuse, s | stroke, s | '
        'of which G_fuse, s | stroke x full | eyes, s | eyes x full | recomputed on a stroke '
        '| HTTP stroke update, s |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in results:
        ratio = med([s / f for s, f in zip(r['stroke_s'], r['full_s'])])
        eratio = med([s / f for s, f in zip(r['eyes_s'], r['full_s'])])
        miss = sorted(set(r['stroke_misses']))
        top, bottom, left, right = r['stroke_stem_region'][0]
        http = f"{med(r['http_s']):.3f}" if r.get('http_s') else '-'
        lines.append(
            f"| {r['size']} | {r['model']} | {r['precision'].replace('torch.', '')}, "
            f"{'on' if r['low_memory'] else 'off'} | {med(r['full_s']):.3f} | "
            f"{med(r['full_fusion_s']):.3f} | {med(r['stroke_s']):.3f} | "
            f"{med(r['stroke_fusion_s']):.3f} | {ratio:.2f} | {med(r['eyes_s']):.3f} | "
            f"{eratio:.2f} | {'/'.join(map(str, miss))} cache misses (mouth code + feature "
            f'map); G_fuse stem on rows {top}-{bottom}, cols {left}-{right} (first round) | '
            f'{http} |')
    return lines


def write_doc(path: Path, lines: list[str]) -> None:
    from facedisentangle.cli.benchmark import write_marked_block

    write_marked_block(path, DOC_BEGIN, DOC_END, '\n'.join(lines),
                       heading='## Web editor: update latency\n\n')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[512, 128])
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--write-doc', type=Path, default=None)
    p.add_argument('--json', type=Path, default=None)
    p.add_argument('--low-memory', nargs='+', default=['auto', 'off'],
                   choices=['auto', 'on', 'off'],
                   help='low_memory settings measured at 512 (each in its own process; 128 '
                        'runs with auto)')
    p.add_argument('--worker', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--worker-low-memory', default='auto', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        print('RESULT ' + json.dumps(worker(args.worker, args.runs, args.threads,
                                                     args.worker_low_memory)), flush=True)
        return 0
    import torch

    from facedisentangle.cli.benchmark import conv_peak

    meta = dict(cpu=cpu_name(), cpus=os.cpu_count(), threads=args.threads, runs=args.runs,
                low_memory=args.low_memory,
                sizes=args.sizes, torch=torch.__version__,
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), load_before=load())
    meta['bf16_peak'] = conv_peak('bfloat16', args.threads)['best']
    meta['fp32_peak'] = conv_peak('float32', args.threads)['best']
    results = []
    jobs = [(size, lm) for size in args.sizes for lm in (args.low_memory if size > 256
                                                           else ['auto'])]
    for size, lm in jobs:
        proc = subprocess.run([sys.executable, __file__, '--worker', str(size), '--runs',
                               str(args.runs), '--threads', str(args.threads),
                               '--worker-low-memory', lm],
                              capture_output=True, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                                       OMP_WAIT_POLICY=os.environ.get('OMP_WAIT_POLICY',
                                                                      'PASSIVE')))
        sys.stdout.write(proc.stdout.replace('RESULT ', '# ', 0))
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            return 1
        results.append(json.loads(proc.stdout.split('RESULT ', 1)[1]))
    meta['load_after'] = load()
    lines = report(results, meta)
    print('\n'.join(lines))
    if args.json:
        args.json.write_text(json.dumps(dict(meta=meta, results=results), indent=1))
    if args.write_doc:
        write_doc(args.write_doc, lines)
    return 0


if __name__ == '__main__':
    sys.exit(main())
