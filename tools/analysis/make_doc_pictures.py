"""The editing pictures of README.md and docs/editing.md, from a trained synthetic model.

    python tools/analysis/make_doc_pictures.py MODEL [--faces demo/faces] [--out docs/images]

MODEL is anything ``FaceEditor.from_checkpoint`` takes (a pipeline work dir, an export).
Uses the bundled held-out faces ``demo/faces/face<k>.png`` (synthetic geometry seed
900001 + k, appearance seed 910001 + k, see demo/README.md), so the rendered truth of every
swap is known. Writes (each a grid of 128 px tiles):

- ``editing_swaps.png``: per face k, geometry face k, appearance face k+1: geometry |
  appearance | swap | rendered truth P(g_k, a_k+1) | sketch of face k | sketch-to-face;
- ``editing_mix.png``: face0 | face1 | face2 | face0 with the eyes of face1, mouth of face2;
- ``editing_interpolate.png``: appearance from face0 to face2 in 5 steps;
- ``editing_to_sketch.png``: per face, photo | to_sketch | true sketch;
- ``readme_swap_grid.png``: geometry face0 | appearance face1 | swap | truth.

and prints the mean L1 of each swap against its truth next to the appearance source's.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

import numpy as np
from PIL import Image

GEOMETRY_SEED, APPEARANCE_SEED = 900001, 910001


def read(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert('RGB'))


def grid(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Rows of equal-length lists of uint8 HxWx3 (or HxW) tiles -> one padded uint8 grid
    (the training hooks' :func:`to_uint8_grid`; uint8 -> [-1, 1] -> uint8 is exact)."""
    import torch

    from facedisentangle.visualization import to_uint8_grid, uint8_to_float

    def tensor(tile):
        tile = tile if tile.ndim == 3 else np.repeat(tile[..., None], 3, 2)
        return uint8_to_float(torch.from_numpy(np.ascontiguousarray(tile)).permute(2, 0, 1))

    columns = [torch.stack([tensor(row[j]) for row in rows]) for j in range(len(rows[0]))]
    return to_uint8_grid(columns, max_samples=len(rows))


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in [-1, 1] units (as the swap metrics)."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 127.5)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--faces', default='demo/faces')
    ap.add_argument('--out', default='docs/images')
    ap.add_argument('--num', type=int, default=4)
    args = ap.parse_args(argv)

    from facedisentangle.apis import FaceEditor
    from facedisentangle.datasets.swap_pairs import render_swap_truth

    editor = FaceEditor.from_checkpoint(args.model)
    res = editor.resolution
    n = args.num
    faces = [read(osp.join(args.faces, f'face{k}.png')) for k in range(n)]
    sketches = [read(osp.join(args.faces, f'face{k}_sketch.png')) for k in range(n)]
    os.makedirs(args.out, exist_ok=True)

    def save(name, image):
        Image.fromarray(image).save(osp.join(args.out, name))
        print('wrote', osp.join(args.out, name))

    swap_rows = []
    for k in range(n):
        j = (k + 1) % n
        swap = editor.swap(faces[k], faces[j])
        sketch_face = editor.swap(sketches[k], faces[j], geometry_from='sketch')
        truth = render_swap_truth(GEOMETRY_SEED + k, APPEARANCE_SEED + j, res)['photo']
        print(f'face{k} geometry + face{j} appearance: L1 to the truth: swap {l1(swap, truth):.3f}'
              f', sketch-to-face {l1(sketch_face, truth):.3f}, appearance source '
              f'{l1(faces[j], truth):.3f}, geometry source {l1(faces[k], truth):.3f}')
        swap_rows.append([faces[k], faces[j], swap, truth, sketches[k], sketch_face])
    save('editing_swaps.png', grid(swap_rows))
    save('readme_swap_grid.png', grid([swap_rows[0][:4]]))
    mix = editor.mix({'eye1': (faces[1], faces[1]), 'eye2': (faces[1], faces[1]),
                      'mouth': (faces[2], faces[2])}, base=faces[0])
    save('editing_mix.png', grid([[faces[0], faces[1], faces[2], mix]]))
    frames = editor.interpolate(faces[0], faces[2], steps=5, what='appearance')
    save('editing_interpolate.png', grid([list(frames)]))
    save('editing_to_sketch.png',
         grid([[faces[k], editor.to_sketch(faces[k]), sketches[k]] for k in range(n)]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
