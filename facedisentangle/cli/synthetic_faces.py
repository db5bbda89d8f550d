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
See docs/synthetic_faces.md and docs/data_format.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import cv2

from facedisentangle.datasets.h5_format import H5FaceWriter, read_h5_info
from facedisentangle.datasets.synthetic import APPEARANCE_DIM, GEOMETRY_DIM, SyntheticFaces
from facedisentangle.structures.layout import ComponentLayout

_faces: SyntheticFaces | None = None


def _init_worker(size: int, seed: int, line_width: float | None) -> None:
    global _faces
    cv2.setNumThreads(1)
    _faces = SyntheticFaces(size, seed, line_width=line_width)


def _render(i: int) -> tuple[int, dict]:
    return i, _faces[i]


def split_of(i: int, num: int, val: int, test: int) -> str:
    n_train = num - val - test
    return 'train' if i < n_train else 'val' if i < n_train + val else 'test'


def source_string(args) -> str:
    return (f'facedisentangle synthetic faces: seed={args.seed} num={args.num} val={args.val} '
            f'test={args.test} size={args.size} line_width={args.line_width}')


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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
    faces = SyntheticFaces(args.size, args.seed, args.num, args.line_width)
    source = source_string(args)
    if os.path.exists(args.out):
        info = read_h5_info(args.out)
        if info['source'] != source:
            print(f'error: {args.out} was written with other arguments:\n  {info["source"]}\n'
                  f'this command would write:\n  {source}\nUse another --out or delete the file.',
                  file=sys.stderr)
            return 2
        if info['complete'] and info['num_samples'] == args.num:
            # checked read-only: a complete file may be open in a training run right now
            print(f'{args.out} is complete ({info["num_samples"]} faces); nothing to do.')
            return 0
    factor_dims = dict(geometry_seed=0, appearance_seed=0, geometry=GEOMETRY_DIM,
                       appearance=APPEARANCE_DIM)
    start = time.perf_counter()
    with H5FaceWriter(args.out, args.size, layout=ComponentLayout(args.size), source=source,
                      with_labels=True, factor_dims=factor_dims,
                      chunk_flush=args.chunk) as writer:
        done = writer.names_done()
        todo = [i for i in range(args.num) if faces.name(i) not in done]
        if not todo and writer.complete:
            print(f'{args.out} is complete ({len(done)} faces); nothing to do.')
            return 0
        if done:
            print(f'resuming {args.out}: {len(done)} faces already written, {len(todo)} to go')

        def add(i: int, s: dict) -> None:
            writer.append(s['photo'], s['sketch'], s['name'],
                          split_of(i, args.num, args.val, args.test), label=s['label'],
                          geometry_seed=s['geometry_seed'], appearance_seed=s['appearance_seed'],
                          geometry=s['geometry'], appearance=s['appearance'])

        columns = (TextColumn('[bold]synthetic faces'), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns) as progress:
            task = progress.add_task('render', total=len(todo))
            if args.workers == 1:
                for i in todo:
                    add(i, faces[i])
                    progress.advance(task)
            else:
                import multiprocessing as mp
                ctx = mp.get_context('fork' if sys.platform.startswith('linux') else 'spawn')
                with ctx.Pool(args.workers, _init_worker,
                              (args.size, args.seed, args.line_width)) as pool:
                    for i, s in pool.imap(_render, todo, chunksize=8):
                        add(i, s)
                        progress.advance(task)
        writer.finalize()
    elapsed = time.perf_counter() - start
    info = read_h5_info(args.out)
    print(f'wrote {len(todo)} faces in {elapsed:.1f} s ({1000 * elapsed / max(len(todo), 1):.1f} '
          f'ms/face) -> {args.out}: {info["num_samples"]} faces {info["split_counts"]}, '
          f'{os.path.getsize(args.out) / 2 ** 20:.1f} MiB, complete={info["complete"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
