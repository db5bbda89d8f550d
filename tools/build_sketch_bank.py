"""Encode a face file's training sketches into one sketch bank per component.

    python tools/build_sketch_bank.py CONFIG CHECKPOINT [--data FILE.h5] [--split train]
        [--out DIR] [--batch-size 32] [--device cpu]

CONFIG and CHECKPOINT are a trained sketch embedding
(``configs/deepfaceediting/sketch-embedding_*.py``). ``--data`` defaults to the config's
training face file. Writes ``DIR/{component}.h5`` (vectors, sample names, the data set's
identity, the checkpoint's SHA-256) and ``DIR/bank.json``; DIR defaults to
``<checkpoint folder>/sketch_bank``. docs/sketch_projection.md.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('config')
    ap.add_argument('checkpoint')
    ap.add_argument('--data', help='face file (default: the config\'s training data)')
    ap.add_argument('--split', default='train')
    ap.add_argument('--out', help='output folder (default: <checkpoint folder>/sketch_bank)')
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--device', default='cpu')
    args = ap.parse_args(argv)

    from mmengine.config import Config

    from facedisentangle.apis.sketch_bank import build_sketch_banks, load_sketch_embedding

    try:
        cfg = Config.fromfile(args.config)
        data = args.data or cfg.train_dataloader.dataset.ann_file
        model = load_sketch_embedding(cfg, args.checkpoint).to(args.device)
        out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'sketch_bank')
        files = build_sketch_banks(model, data, out, split=args.split,
                                   batch_size=args.batch_size, checkpoint=args.checkpoint)
    except (FileNotFoundError, ValueError, RuntimeError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    for c, p in files.items():
        print(f'{c}: {p}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
