"""Write a synthetic face data set (photos, sketches, labels, factors) to a face HDF5 file.

    python tools/dataset_converters/synthetic_faces.py --num 2000 --size 128 \
        --out data/synthetic-128.h5 [--seed 0] [--val 200] [--test 200] [--workers N]
    python tools/dataset_converters/synthetic_faces.py --preview docs/images/synthetic_pairs.png
    python tools/dataset_converters/synthetic_faces.py --size 512 \
        --preview-layout docs/images/synthetic_layout_512.png

Sample i (0-based) is ``SyntheticFaces(size, seed)[i]``; the last ``val + test`` samples are
the val then test split, the rest train. The file stores labels and the factors (seeds and
vectors) and is finalised at the end. Rerunning the same command resumes an interrupted file
(or does nothing for a complete one); a file written with other arguments is refused.
The writer is :func:`facedisentangle.datasets.synthetic.writer.write_synthetic_faces`.
See docs/synthetic_faces.md and docs/data_format.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import cv2

from facedisentangle.datasets.h5_format import read_h5_info
from facedisentangle.datasets.synthetic.writer import (
    SyntheticFileMismatch,
    write_synthetic_faces,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--num', type=int, help='number of faces')
    p.add_argument('--size', type=int, default=128, help='resolution (64..512)')
    p.add_argument('--out', help='output .h5 file')
    p.add_argument('--seed', type=int, default=0, help='data-set seed')
    p.add_argument('--val', type=int, default=0, help='faces in the val split')
    p.add_argument('--test', type=int, default=0, help='faces in the test split')
    p.add_argument('--workers', type=int, default=1, help='rendering processes')
    p.add_argument('--line-width', type=float, default=None,
                   help='sketch line width in px (default 1.5 px at 128, scaled with size)')
    p.add_argument('--chunk', type=int, default=64, help='samples per flush to disk')
    p.add_argument('--preview', metavar='PNG',
                   help='only write a picture of faces 0..3 (triples and swap matrix) to PNG')
    p.add_argument('--preview-layout', metavar='PNG',
                   help='only write face 0 with the component boxes at --size to PNG')
    args = p.parse_args(argv)
    if args.preview or args.preview_layout:
        return args
    if args.num is None or args.out is None:
        p.error('--num and --out are required (unless --preview)')
    if args.num < 1 or args.val < 0 or args.test < 0 or args.val + args.test > args.num:
        p.error(f'need num >= 1 and 0 <= val + test <= num, got num={args.num} val={args.val} '
                f'test={args.test}')
    if args.workers < 1:
        p.error('--workers must be >= 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cv2.setNumThreads(1)
    if args.preview or args.preview_layout:
        from facedisentangle.datasets.synthetic.preview import layout_figure, pairs_figure
        path = args.preview or args.preview_layout
        img = pairs_figure(args.size, args.seed, 4) if args.preview else layout_figure(
            args.size, args.seed)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if not cv2.imwrite(path, img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            print(f'error: could not write {path}', file=sys.stderr)
            return 1
        print(f'wrote {path} ({img.shape[1]}x{img.shape[0]})')
        return 0
    start = time.perf_counter()
    try:
        written = write_synthetic_faces(args.out, args.num, args.size, args.seed, args.val,
                                        args.test, args.workers, args.line_width, args.chunk)
    except SyntheticFileMismatch as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if written is None:
        return 0
    elapsed = time.perf_counter() - start
    info = read_h5_info(args.out)
    print(f'wrote {written} faces in {elapsed:.1f} s ({1000 * elapsed / max(written, 1):.1f} '
          f'ms/face) -> {args.out}: {info["num_samples"]} faces {info["split_counts"]}, '
          f'{os.path.getsize(args.out) / 2 ** 20:.1f} MiB, complete={info["complete"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
