"""How much does an export's storage (float32, bfloat16, int8, int4) change the edits?

    python tools/analysis/export_check.py REFERENCE CANDIDATE [CANDIDATE ...]
        [--data data/synthetic-128.h5] [--split test] [--num-pairs 100] [--precision float32]
        [--out FILE.json]

On the project's fixed held-out pairs (i, j) (``make_swap_pairs``, as ``tools/test.py --mode
swap``), every checkpoint (an export file, a stage checkpoint or a work directory) makes the
photo swap (geometry of photo i, appearance of photo j) and the sketch-to-face swap (sketch i,
appearance j), all in the same ``--precision`` (default float32, so the numbers measure the
stored weights alone). For each it reports the mean L1 against the rendered truth P(g_i, a_j)
(images in [-1, 1]; whole face and the detail regions: brows, eye whites, irises, nose, lips)
and the PSNR of its outputs against REFERENCE's outputs (uint8 images, peak 255), with the
file size. docs/model_zoo.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

DETAIL_LABELS = (3, 4, 5, 6, 7)          # brows, eye whites, irises, nose, lips


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('reference', help='the checkpoint the others are compared with')
    p.add_argument('candidates', nargs='+')
    p.add_argument('--data', default='data/synthetic-128.h5')
    p.add_argument('--split', default='test')
    p.add_argument('--num-pairs', type=int, default=100)
    p.add_argument('--seed', type=int, default=0, help='seed of the pair list')
    p.add_argument('--batch-size', type=int, default=20)
    p.add_argument('--precision', default='float32')
    p.add_argument('--out', help='write the results as JSON here')
    return p.parse_args(argv)


def size_of(path: str) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path)
                   for f in fs if f.endswith('.pth'))
    return os.path.getsize(path)


def main(argv=None) -> int:
    import h5py

    from facedisentangle.apis import FaceEditor
    from facedisentangle.datasets.h5_format import split_rows
    from facedisentangle.datasets.swap_pairs import make_swap_pairs, render_swap_truth

    args = parse_args(argv)
    for path in [args.reference, *args.candidates]:
        if not os.path.exists(path):
            print(f'export_check.py: error: checkpoint {path!r} not found', file=sys.stderr)
            return 2
    if not os.path.isfile(args.data):
        print(f'export_check.py: error: data set {args.data!r} not found', file=sys.stderr)
        return 2
    with h5py.File(args.data, 'r') as f:
        try:
            rows = split_rows(f, args.split)
        except ValueError as e:
            print(f'export_check.py: error: {e}', file=sys.stderr)
            return 2
        sketches, photos = f['sketches'][rows], f['photos'][rows]
        gseed, aseed = f['geometry_seed'][rows], f['appearance_seed'][rows]
    pairs = make_swap_pairs(len(rows), args.num_pairs, args.seed, args.split)
    size = photos.shape[1]
    truths = [render_swap_truth(gseed[i], aseed[j], size) for i, j in pairs]

    outputs = {}
    for path in [args.reference, *args.candidates]:
        editor = FaceEditor.from_checkpoint(path, precision=args.precision,
                                            convert_cache=False)
        swaps, sketch_swaps = [], []
        for start in range(0, len(pairs), args.batch_size):
            batch = pairs[start:start + args.batch_size]
            geo = [photos[i] for i, _ in batch]
            app = [photos[j] for _, j in batch]
            sk = [np.repeat(sketches[i][..., None], 3, 2) for i, _ in batch]
            swaps += list(editor.swap(geo, app))
            sketch_swaps += list(editor.sketch_to_face(sk, app))
        outputs[path] = dict(swap=np.stack(swaps), sketch=np.stack(sketch_swaps))
        del editor

    def l1(pred: np.ndarray) -> dict:
        tot = dict(all=[0.0, 0], details=[0.0, 0])
        for p, t in zip(pred, truths):
            d = np.abs(p.astype(np.float64) - t['photo'].astype(np.float64)).mean(-1) / 127.5
            detail = np.isin(t['label'], DETAIL_LABELS)
            tot['all'][0] += d.sum()
            tot['all'][1] += d.size
            tot['details'][0] += d[detail].sum()
            tot['details'][1] += int(detail.sum())
        return {k: s / max(n, 1) for k, (s, n) in tot.items()}

    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
        return float('inf') if mse == 0 else 10 * math.log10(255 ** 2 / mse)

    ref = outputs[args.reference]
    table = {}
    for path, out in outputs.items():
        table[path] = dict(
            bytes=size_of(path),
            swap_L1=l1(out['swap']), sketch_swap_L1=l1(out['sketch']),
            swap_psnr_vs_reference=psnr(out['swap'], ref['swap']),
            sketch_swap_psnr_vs_reference=psnr(out['sketch'], ref['sketch']))
    result = dict(reference=args.reference, data=args.data, split=args.split,
                  num_pairs=len(pairs), seed=args.seed, precision=args.precision,
                  results=table,
                  note='L1: mean absolute error of images in [-1, 1] against P(g_i, a_j); '
                       'PSNR: uint8 outputs against the reference checkpoint\'s')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    print(f'{"checkpoint":<48} {"MB":>6} {"swap L1":>8} {"details":>8} {"sketch L1":>9} '
          f'{"PSNR swap":>9} {"PSNR sketch":>11}')
    for path, r in table.items():
        print(f'{path[-48:]:<48} {r["bytes"] / 1e6:6.1f} {r["swap_L1"]["all"]:8.4f} '
              f'{r["swap_L1"]["details"]:8.4f} {r["sketch_swap_L1"]["all"]:9.4f} '
              f'{r["swap_psnr_vs_reference"]:9.1f} {r["sketch_swap_psnr_vs_reference"]:11.1f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
