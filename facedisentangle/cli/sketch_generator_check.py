"""Photo -> sketch on synthetic faces: the image-to-sketch generator against the extraction
pipeline, both compared with the faces' true sketches.

    python tools/analysis/sketch_generator_check.py [-c GENERATOR_CHECKPOINT]
        [--data data/synthetic-128.h5] [--split test] [--num 100] [--out-dir DIR]
        [--grid PNG]

For each of the first ``--num`` faces of the split, the sketch of its photo is made by

    extraction   ``SketchExtractor()`` (XDoG, docs/sketch_extraction.md; tools/prepare_data.py)
    generator    ``FaceEditor.from_checkpoint(GENERATOR_CHECKPOINT).to_sketch(method=
                 'generator')`` (an ``ImageToSketch`` stage checkpoint or a converted release)

and compared with the rendered true sketch S(g) by mean L1 (sketches in [-1, 1]) and by a
symmetric stroke chamfer distance: strokes are the pixels darker than 128; for each stroke
pixel of one sketch the distance (px) to the nearest stroke pixel of the other, averaged, and
the two directions averaged (an empty sketch counts as the image diagonal). Writes
``sketch_generator_check.json``; ``--grid``: rows photo | true | extraction | generator.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

import numpy as np


def stroke_chamfer(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric mean distance (px) between the stroke pixels (< 128) of two uint8 sketches."""
    import cv2

    sa, sb = a < 128, b < 128
    diag = float(np.hypot(*a.shape))
    if not sa.any() or not sb.any():
        return diag if sa.any() != sb.any() else 0.0
    da = cv2.distanceTransform((~sa).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    db = cv2.distanceTransform((~sb).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    return 0.5 * (float(db[sa].mean()) + float(da[sb].mean()))


def l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 127.5)


def main(argv=None) -> int:
    import h5py

    from facedisentangle.data_prep.sketch import SketchExtractor
    from facedisentangle.datasets.h5_format import split_rows

    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-c', '--checkpoint', help='image-to-sketch checkpoint (omit: extraction only)')
    p.add_argument('--data', default='data/synthetic-128.h5')
    p.add_argument('--split', default='test')
    p.add_argument('--num', type=int, default=100)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--out-dir', default='.')
    p.add_argument('--grid')
    p.add_argument('--grid-samples', type=int, default=6)
    args = p.parse_args(argv)

    with h5py.File(args.data, 'r') as f:
        rows = split_rows(f, args.split)[:args.num]
        photos, truth = f['photos'][rows], f['sketches'][rows]
    made = {'extraction': np.stack([SketchExtractor()(ph) for ph in photos])}
    if args.checkpoint:
        from facedisentangle.apis import FaceEditor

        editor = FaceEditor.from_checkpoint(args.checkpoint, precision='float32')
        out = []
        for s in range(0, len(photos), args.batch_size):
            out += [r[..., 0] for r in editor.to_sketch(list(photos[s:s + args.batch_size]),
                                                        method='generator')]
        made['generator'] = np.stack(out)
    table = {m: dict(L1=float(np.mean([l1(x, t) for x, t in zip(sk, truth)])),
                     chamfer_px=float(np.mean([stroke_chamfer(x, t) for x, t in zip(sk, truth)])))
             for m, sk in made.items()}
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'sketch_generator_check.json'), 'w') as f:
        json.dump(dict(data=args.data, split=args.split, num=len(rows),
                       checkpoint=args.checkpoint, results=table), f, indent=2)
    for m, r in table.items():
        print(f'{m:<12} L1 {r["L1"]:.4f}  chamfer {r["chamfer_px"]:.2f} px')
    if args.grid:
        from PIL import Image

        cols = [photos] + [np.repeat(a[..., None], 3, 3) for a in (truth, *made.values())]
        rows_img = [np.concatenate([np.pad(c[i], ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                    for c in cols], 1)
                    for i in range(min(args.grid_samples, len(rows)))]
        Image.fromarray(np.concatenate(rows_img, 0)).save(args.grid)
    return 0


if __name__ == '__main__':
    sys.exit(main())
