"""Does manifold projection help with hand-drawn-looking sketches? Held-out synthetic pairs.

    python tools/analysis/sketch_projection_check.py [-c MODEL] --embedding CONFIG CHECKPOINT
        [--bank DIR] [--data data/synthetic-128.h5] [--split test] [--num-pairs 100]
        [--strength 0.5 1.0] [--k 15] [--out-dir DIR] [--grid docs/images/x.png]

For the project's fixed held-out pairs (i, j) (``make_swap_pairs``, as ``tools/test.py --mode
sketch``), face i's clean sketch S_i is degraded by ``SketchDegradation`` (seed = pair index)
into D_i, and the editing model MODEL (default: the shipped synthetic model) makes the
sketch-to-face swap with the appearance of photo I_j from

    clean            S_i
    degraded         D_i                                     (no projection)
    projected@s      D_i with refine_sketch = s for the embedding's components
    clean_projected  S_i with refine_sketch = max(s)         (what projection costs a clean sketch)

Each is compared with the rendered truth P(g_i, a_j) by mean L1 (images in [-1, 1], as
``SwapGroundTruthMetric``) over the whole face, over the detail regions of the truth's label
map (brows, eye whites, irises, nose, lips) and over the union of the detail boxes (eyes,
nose, mouth). Writes ``sketch_projection_check.json`` to ``--out-dir`` (default:
``sketch_projection_check/`` next to the embedding checkpoint) and, with ``--grid``, a
picture whose rows are pairs and whose columns are degraded sketch | without | with (the
largest strength) | truth. docs/sketch_projection.md.

``--sketch-space`` measures the embedding alone (no editing model): per component, the L1 of
the first ``--num-pairs`` held-out sketches' crops against their clean crops for the degraded
crop itself, the auto-encoded clean crop, and the decoded degraded crop at strength 0 (plain
auto-encoding) and at each ``--strength``; written to ``sketch_space.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

import numpy as np

DETAIL_LABELS = (3, 4, 5, 6, 7)          # brows, eye whites, irises, nose, lips


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-c', '--checkpoint', help='editing model (default: the shipped one)')
    p.add_argument('--embedding', nargs=2, required=True, metavar=('CONFIG', 'CHECKPOINT'))
    p.add_argument('--bank', help='bank folder (default: <embedding folder>/sketch_bank)')
    p.add_argument('--data', default='data/synthetic-128.h5')
    p.add_argument('--split', default='test')
    p.add_argument('--num-pairs', type=int, default=100)
    p.add_argument('--seed', type=int, default=0, help='seed of the pair list')
    p.add_argument('--strength', type=float, nargs='+', default=[0.5, 1.0])
    p.add_argument('--k', type=int, default=15)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--precision', default='float32')
    p.add_argument('--out-dir')
    p.add_argument('--grid', help='PNG of degraded | without | with | truth rows')
    p.add_argument('--grid-samples', type=int, default=6)
    p.add_argument('--sketch-space', action='store_true',
                   help='measure the embedding and projection on the sketches only')
    return p.parse_args(argv)


def sketch_space(refiner, sketches: np.ndarray, strengths, k: int) -> dict:
    """Per component: L1 ([-1, 1] units) of crops against the clean crops (module doc)."""
    import torch

    from facedisentangle.data_prep.sketch_degradation import degrade_sketch
    from facedisentangle.inference.manifold_projection import project_vectors
    from facedisentangle.visualization import uint8_to_float

    m = refiner.embedding
    deg = np.stack([degrade_sketch(s, seed=n) for n, s in enumerate(sketches)])

    def tensor(a):
        return uint8_to_float(torch.from_numpy(a))[:, None]

    clean, degraded = tensor(sketches), tensor(deg)
    out = {}
    with torch.no_grad():
        for c in m.components:
            gt = m.target(clean, c)
            r = {'degraded': float((m.target(degraded, c) - gt).abs().mean()),
                 'autoencoded_clean': float((m.decode(m.encode(clean, c), c) - gt).abs().mean())}
            v = m.encode(degraded, c)
            for s in [0.0, *strengths]:
                p = project_vectors(v, refiner.banks[c], s, k=k)
                r[f'autoencoded_degraded@{s:g}'] = float((m.decode(p, c) - gt).abs().mean())
            out[c] = r
    return out


def l1_parts(pred: np.ndarray, truth: np.ndarray, label: np.ndarray, boxes) -> dict:
    """Sums of |pred - truth| (in [-1, 1] units) and pixel counts: all, details, boxes."""
    d = np.abs(pred.astype(np.float64) - truth.astype(np.float64)).mean(-1) / 127.5
    box = np.zeros(label.shape, bool)
    for x, y, s in boxes:
        box[y:y + s, x:x + s] = True
    detail = np.isin(label, DETAIL_LABELS)
    return dict(all=(d.sum(), d.size), details=(d[detail].sum(), int(detail.sum())),
                detail_boxes=(d[box].sum(), int(box.sum())))


def main(argv=None) -> int:
    import h5py

    from facedisentangle.apis import FaceEditor
    from facedisentangle.data_prep.sketch_degradation import degrade_sketch
    from facedisentangle.datasets.h5_format import split_rows
    from facedisentangle.datasets.swap_pairs import make_swap_pairs, render_swap_truth
    from facedisentangle.inference.sketch_refiner import SketchRefiner

    args = parse_args(argv)
    if not all(0 < s <= 1 for s in args.strength):
        print('error: --strength values must be in (0, 1]', file=sys.stderr)
        return 2
    refiner = SketchRefiner.from_files(*args.embedding, banks=args.bank, k=args.k)
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.embedding[1])),
                                       'sketch_projection_check')
    os.makedirs(out_dir, exist_ok=True)
    if args.sketch_space:
        with h5py.File(args.data, 'r') as f:
            rows = split_rows(f, args.split)[:args.num_pairs]
            table = sketch_space(refiner, f['sketches'][rows], args.strength, args.k)
        with open(osp.join(out_dir, 'sketch_space.json'), 'w') as f:
            json.dump(dict(embedding=list(args.embedding), data=args.data, split=args.split,
                           num_sketches=len(rows), k=args.k, L1=table), f, indent=2)
        for c, r in table.items():
            print(c, ' '.join(f'{k}={v:.4f}' for k, v in r.items()))
        return 0
    checkpoint = args.checkpoint
    if checkpoint is None:
        from facedisentangle.model_zoo import default_checkpoint
        checkpoint = default_checkpoint()
    editor = FaceEditor.from_checkpoint(checkpoint, precision=args.precision,
                                        sketch_refiner=refiner)
    comps = [c for c in refiner.components if c in editor.components]
    with h5py.File(args.data, 'r') as f:
        rows = split_rows(f, args.split)
        sketches, photos = f['sketches'][rows], f['photos'][rows]
        gseed, aseed = f['geometry_seed'][rows], f['appearance_seed'][rows]
    pairs = make_swap_pairs(len(rows), args.num_pairs, args.seed, args.split)
    size = sketches.shape[1]
    boxes = [editor.model.layout.box(c) for c in ('eye1', 'eye2', 'nose', 'mouth')
             if c in editor.model.layout.boxes]
    top = max(args.strength)
    methods = ['clean', 'degraded'] + [f'projected@{s:g}' for s in args.strength] + \
        [f'clean_projected@{top:g}']
    sums = {m: {} for m in methods}
    grid_rows = []
    for start in range(0, len(pairs), args.batch_size):
        batch = pairs[start:start + args.batch_size]
        clean = [np.repeat(sketches[i][..., None], 3, 2) for i, _ in batch]
        degraded = [np.repeat(degrade_sketch(sketches[i], seed=start + n)[..., None], 3, 2)
                    for n, (i, _) in enumerate(batch)]
        app = [photos[j] for _, j in batch]
        truths = [render_swap_truth(gseed[i], aseed[j], size) for i, j in batch]
        out = {'clean': editor.sketch_to_face(clean, app),
               'degraded': editor.sketch_to_face(degraded, app)}
        for s in args.strength:
            out[f'projected@{s:g}'] = editor.sketch_to_face(
                degraded, app, refine_sketch={c: s for c in comps})
        out[f'clean_projected@{top:g}'] = editor.sketch_to_face(
            clean, app, refine_sketch={c: top for c in comps})
        for m in methods:
            for pred, t in zip(out[m], truths):
                for region, (s_, n_) in l1_parts(pred, t['photo'], t['label'], boxes).items():
                    acc = sums[m].setdefault(region, [0.0, 0])
                    acc[0] += s_
                    acc[1] += n_
        for n in range(len(batch)):
            if len(grid_rows) < args.grid_samples:
                grid_rows.append([degraded[n], out['degraded'][n], out[f'projected@{top:g}'][n],
                                  truths[n]['photo']])
    table = {m: {r: v[0] / max(v[1], 1) for r, v in regions.items()}
             for m, regions in sums.items()}
    result = dict(checkpoint=str(checkpoint), embedding=list(args.embedding),
                  data=args.data, split=args.split, num_pairs=len(pairs), seed=args.seed,
                  k=args.k, components=comps, strengths=args.strength, L1=table,
                  note='mean absolute error of images in [-1, 1] against P(g_i, a_j)')
    with open(osp.join(out_dir, 'sketch_projection_check.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(f'{"method":<22} {"all":>8} {"details":>8} {"boxes":>8}')
    for m, r in table.items():
        print(f'{m:<22} {r["all"]:8.4f} {r["details"]:8.4f} {r["detail_boxes"]:8.4f}')
    if args.grid and grid_rows:
        from PIL import Image
        pad = 2
        rows_img = [np.concatenate([np.pad(t, ((pad, pad), (pad, pad), (0, 0)),
                                           constant_values=255) for t in r], 1)
                    for r in grid_rows]
        os.makedirs(osp.dirname(args.grid) or '.', exist_ok=True)
        Image.fromarray(np.concatenate(rows_img, 0)).save(args.grid)
    return 0


if __name__ == '__main__':
    sys.exit(main())
