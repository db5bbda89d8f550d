"""The picture of docs/sketch_projection.md: clean synthetic sketches and degraded copies.

    python tools/analysis/sketch_degradation_picture.py [--out docs/images/sketch_degradation.png]

Row 1: one sketch (synthetic geometry seed 900001, 128 px, shown at 2x) clean and with each
effect of ``SketchDegradation`` alone (offset, drop, break, width, wobble); rows 2-4: three
sketches clean and with the default degradation at seeds 0, 1, 2.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np

OFF = dict(offset=0, shift=0, drop_prob=0, break_rate=0, width_range=1, wobble=0)
ALONE = [('offset 2', dict(offset=2.0)), ('drop 0.3', dict(drop_prob=0.3)),
         ('break 6', dict(break_rate=6.0)), ('width 2', dict(width_range=2.0)),
         ('wobble 1', dict(wobble=1.0))]


def tile(sketch: np.ndarray, text: str) -> np.ndarray:
    img = cv2.resize(sketch, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    bar = np.full((18, img.shape[1]), 255, np.uint8)
    cv2.putText(bar, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 0, 1, cv2.LINE_AA)
    return cv2.copyMakeBorder(np.concatenate([bar, img], 0), 2, 2, 2, 2,
                              cv2.BORDER_CONSTANT, value=160)


def main(argv=None) -> int:
    from facedisentangle.data_prep.sketch_degradation import degrade_sketch
    from facedisentangle.datasets.synthetic import render_sketch, sample_geometry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='docs/images/sketch_degradation.png')
    args = ap.parse_args(argv)
    sketches = [render_sketch(sample_geometry(900001 + k), 128) for k in range(3)]
    rows = [[tile(sketches[0], 'clean')]
            + [tile(degrade_sketch(sketches[0], 0, **{**OFF, **o}), t) for t, o in ALONE]]
    for s in sketches:
        rows.append([tile(s, 'clean')] + [tile(degrade_sketch(s, k), f'seed {k}')
                                          for k in range(3)]
                    + [np.full_like(rows[0][0], 255)] * 2)
    os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
    cv2.imwrite(args.out, np.concatenate([np.concatenate(r, 1) for r in rows], 0))
    print(args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
