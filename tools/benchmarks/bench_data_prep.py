"""Throughput of the data preparation and of reading its output (a benchmark, not a test).

    python tools/benchmarks/bench_data_prep.py [--num 36] [--size 512] [--workers 2]
        [--align-num 12] [--work-dir /tmp/bench_data_prep]

1. Makes ``--num`` 1024x1024 PNG inputs from scikit-image's sample photos (random crops,
   flips, brightness; FFHQ's files are 1024 PNGs too).
2. Sketch extraction alone at ``--size`` (one process): images/s.
3. The whole preparation (read, resize, sketch, HDF5 write) at ``--size``: images/s in the
   main process and with ``--workers`` processes; with ``--align``, on ``--align-num``
   jittered copies of the astronaut (the only face among the samples).
4. Training-style reading of the result: the project's ``FaceH5Dataset`` on the HDF5 file
   against ``FaceFolderDataset`` on the same images saved as PNG files, in a torch DataLoader
   (batch 8, 0 and 2 loader workers, shuffled; 3 epochs, the first one not timed): images/s
   and bytes on disk.

Prints a Markdown table (the numbers of docs/benchmarks.md). Everything runs on the CPU with
one thread per process; the whole run takes about a minute on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time

import cv2
import numpy as np
import torch


def make_inputs(folder: str, num: int, seed: int = 0) -> list[str]:
    """``num`` jittered 1024x1024 PNGs from scikit-image's sample photos."""
    from skimage import data

    sources = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(),
               np.repeat(data.camera()[..., None], 3, 2), data.immunohistochemistry()]
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(num):
        img = sources[i % len(sources)]
        h, w = img.shape[:2]
        s = int(min(h, w) * rng.uniform(0.75, 1.0))
        y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
        crop = img[y:y + s, x:x + s]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.clip(crop.astype(np.float32) * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
        big = cv2.resize(crop, (1024, 1024), interpolation=cv2.INTER_CUBIC)
        p = os.path.join(folder, f'{i:05d}.png')
        cv2.imwrite(p, big[..., ::-1])
        paths.append(p)
    return paths


def make_faces(folder: str, num: int, seed: int = 1) -> None:
    """``num`` jittered (rotation, scale, shift) 1024 copies of the astronaut."""
    from skimage import data

    img = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(num):
        m = cv2.getRotationMatrix2D((440 + rng.uniform(-40, 40), 250 + rng.uniform(-40, 40)),
                                    rng.uniform(-15, 15), rng.uniform(0.9, 1.2))
        out = cv2.warpAffine(img, m, (1024, 1024), borderMode=cv2.BORDER_REFLECT)
        cv2.imwrite(os.path.join(folder, f'face{i:03d}.png'), out[..., ::-1])


def bench_sketch(paths: list[str], size: int) -> float:
    from facedisentangle.data_prep import SketchExtractor

    photos = [cv2.resize(cv2.imread(p)[..., ::-1], (size, size), interpolation=cv2.INTER_AREA)
              for p in paths]
    extractor = SketchExtractor()
    extractor(photos[0])  # warm-up
    t = time.perf_counter()
    for p in photos:
        extractor(p)
    return len(photos) / (time.perf_counter() - t)


def bench_prepare(src: str, out: str, size: int, workers: int, align: bool = False) -> dict:
    """One fresh preparation run: overall rate and steady rate (first to last result)."""
    from facedisentangle.data_prep import prepare_dataset

    for p in (out, out + '.skipped.tsv'):
        if os.path.exists(p):
            os.remove(p)
    stamps = []
    s = prepare_dataset(src, out, progress=False, size=size, workers=workers, align=align,
                        on_result=lambda res: stamps.append(time.perf_counter()))
    assert s.complete, f'{out} is not complete'
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float('nan')
    return dict(rate=s.rate, steady=steady, seconds=s.seconds, written=s.written,
                skipped=len(s.skipped))


def export_pngs(h5_path: str, folder: str) -> int:
    """Write the photos and sketches of a face file as PNGs (photos/, sketches/)."""
    import h5py

    os.makedirs(os.path.join(folder, 'photos'), exist_ok=True)
    os.makedirs(os.path.join(folder, 'sketches'), exist_ok=True)
    total = 0
    with h5py.File(h5_path, 'r') as f:
        n = int(f.attrs['num_samples'])
        for i, name in enumerate(f['names'].asstr()[:n]):
            for key, sub, img in (('photos', 'photos', f['photos'][i][..., ::-1]),
                                  ('sketches', 'sketches', f['sketches'][i])):
                p = os.path.join(folder, sub, f'{name}.png')
                cv2.imwrite(p, img)
                total += os.path.getsize(p)
    return total


def bench_loader(dataset, num_workers: int, batch_size: int = 8, epochs: int = 3) -> float:
    """Images/s of a shuffled DataLoader over ``dataset``, the first epoch not counted."""
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                        shuffle=True, collate_fn=torch.utils.data.default_collate,
                        persistent_workers=num_workers > 0)
    n = 0
    for epoch in range(epochs):
        if epoch == 1:  # worker start-up and first file opens are not counted
            t = time.perf_counter()
        for batch in loader:
            if epoch >= 1:
                n += batch['photo'].shape[0]
    return n / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--num', type=int, default=36, help='input images (default 36)')
    p.add_argument('--size', type=int, default=512, help='output resolution (default 512)')
    p.add_argument('--workers', type=int, default=2, help='worker processes (default 2)')
    p.add_argument('--align-num', type=int, default=12,
                   help='photos for the --align run, 0 to skip it (default 12)')
    p.add_argument('--work-dir', default='/tmp/bench_data_prep', help='scratch folder (removed)')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    from facedisentangle.datasets import FaceFolderDataset, FaceH5Dataset

    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    rows = []
    try:
        t = time.perf_counter()
        paths = make_inputs(os.path.join(work, 'inputs'), args.num)
        print(f'made {len(paths)} 1024x1024 PNG inputs in {time.perf_counter() - t:.1f} s',
              file=sys.stderr)
        rows.append((f'sketch extraction alone, {args.size}px, 1 process',
                     f'{bench_sketch(paths, args.size):.1f}'))
        h5 = os.path.join(work, f'bench-{args.size}.h5')
        for w in (0, args.workers):
            r = bench_prepare(os.path.join(work, 'inputs'), h5, args.size, w)
            rows.append((f'prepare_data 1024 PNG -> {args.size}, workers={w} '
                         f'({r["written"]} images, {r["seconds"]:.1f} s)',
                         f'{r["rate"]:.1f} / {r["steady"]:.1f}'))
        if args.align_num > 0:
            try:
                import dlib  # noqa: F401
                have_dlib = True
            except ImportError:
                have_dlib = False
                print('dlib not installed: no --align run', file=sys.stderr)
            if have_dlib:
                make_faces(os.path.join(work, 'faces'), args.align_num)
                r = bench_prepare(os.path.join(work, 'faces'), os.path.join(work, 'al.h5'),
                                  args.size, args.workers, align=True)
                rows.append((f'prepare_data --align 1024 PNG -> {args.size}, '
                             f'workers={args.workers} ({r["written"]} faces, '
                             f'{r["seconds"]:.1f} s)', f'{r["rate"]:.1f} / {r["steady"]:.1f}'))
        png_bytes = export_pngs(h5, os.path.join(work, 'png'))
        h5_bytes = os.path.getsize(h5)
        h5_set = FaceH5Dataset(ann_file=h5, split=None, resolution=args.size)
        png_set = FaceFolderDataset(data_root=os.path.join(work, 'png'),
                                    resolution=args.size)
        for nw in (0, 2):
            rows.append((f'DataLoader FaceH5Dataset (HDF5, lzf), {nw} loader workers',
                         f'{bench_loader(h5_set, nw):.1f}'))
            rows.append((f'DataLoader FaceFolderDataset (PNG files), {nw} loader workers',
                         f'{bench_loader(png_set, nw):.1f}'))
        rows.append((f'bytes per sample on disk: HDF5 {h5_bytes / len(paths) / 1e3:.0f} kB, '
                     f'PNG photo+sketch {png_bytes / len(paths) / 1e3:.0f} kB', ''))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = ', '.join(f'{x:.1f}' for x in os.getloadavg())
    print(f'\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
          f'torch {torch.__version__}, 1 thread per process; load average at the end '
          f'{load} (other jobs share the CPUs: compare rows of one run only)\n')
    print('| what | images/s |\n|---|---|')
    for what, rate in rows:
        print(f'| {what} | {rate} |')
    print('\nprepare_data rows: overall rate (start-up of the worker processes and the dlib '
          'models included) / steady rate (first to last image).')


if __name__ == '__main__':
    main()
