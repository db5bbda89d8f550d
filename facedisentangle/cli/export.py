"""Write one inference checkpoint from a trained DeepFaceEditing model.

    python tools/export.py --src work_dirs/pipeline_synthetic-128 --out deepfaceediting.pth

``--src`` is a stage-4 checkpoint, a work directory (the last good checkpoint of it and of
each stage sub-directory; every network is taken from the latest stage that has it), or
several stage checkpoints. The output holds only what inference needs (no discriminators, no
optimiser state; the EMA weights when training kept them), with the layout and every network's
settings as plain data, and loads with ``torch.load(path, weights_only=True)``. See
docs/editing.md.

Exit code 2 with a one-line message when the source is missing or of the wrong kind.
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description='Export a DeepFaceEditing model for inference')
    ap.add_argument('--src', required=True, nargs='+',
                    help='stage-4 checkpoint, work directory, or several stage checkpoints')
    ap.add_argument('--out', required=True, help='the export file to write')
    ap.add_argument('--dtype', choices=['float32', 'bfloat16'],
                    help='store the weights in this dtype (default: as trained)')
    ap.add_argument('--quantize', choices=['int8', 'int4'],
                    help='store the weights of 2 or more dimensions quantised (weight-only, '
                         'round to nearest): int8 one scale per output channel; int4 4-bit '
                         'groups for the large weights, int8 for the others (docs/model_zoo.md)')
    ap.add_argument('--group-size', type=int, default=64,
                    help='--quantize int4: input weights per 4-bit scale (default 64)')
    ap.add_argument('--int4-min-numel', type=int, default=16384,
                    help='--quantize int4: weights of at least this many elements get 4 bits '
                         '(default 16384), smaller ones 8')
    ap.add_argument('--int8-networks', nargs='+', default=[],
                    help='--quantize int4: these networks (names or prefixes, e.g. '
                         'fusion_generator generators) get 8 bits throughout')
    ap.add_argument('--networks', nargs='+',
                    help='keep only these networks (e.g. generators.eye1 fusion_generator)')
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from facedisentangle.inference import CheckpointKindError, export_inference_checkpoint

    src = args.src[0] if len(args.src) == 1 else args.src
    try:
        summary = export_inference_checkpoint(
            src, args.out, names=args.networks,
            dtype=getattr(torch, args.dtype) if args.dtype else None,
            quantize=args.quantize, group=args.group_size, min_numel=args.int4_min_numel,
            int8_networks=args.int8_networks)
    except (FileNotFoundError, CheckpointKindError, ValueError) as e:
        print(f'export.py: error: {e}', file=sys.stderr)
        return 2
    print(f"wrote {summary['out']}: {len(summary['networks'])} networks, "
          f"{summary['parameters'] / 1e6:.1f} M parameters"
          + (f" ({summary['quantized']} weights quantised)" if summary.get('quantized') else '')
          + f", {summary['bytes'] / 1e6:.1f} MB "
          f"(from {summary['source']})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
